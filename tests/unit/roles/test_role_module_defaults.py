# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Arguments that several module calls of a role share are set once (module_defaults), not copied into each call."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

ROLES = Path(__file__).resolve().parents[3] / "roles"
TASKS = ROLES / "ollama_models" / "tasks"
ACME = ROLES / "ollama_proxy" / "tasks" / "acme.yml"
ACME_MODULE = "community.crypto.acme_certificate"
CONNECTION = ("api_url", "api_key", "url_username", "url_password", "validate_certs", "ca_path", "timeout")


def _tasks(node: Any) -> Iterator[dict]:
    for task in node or []:
        yield task
        for section in ("block", "rescue", "always"):
            yield from _tasks(task.get(section))


def test_the_connection_options_are_set_once_for_the_action_group() -> None:
    main = yaml.safe_load((TASKS / "main.yml").read_text())
    defaults = main[0]["module_defaults"]
    assert {option: defaults["group/llmops.ollama.ollama"][option] for option in CONNECTION} == {
        option: "{{ ollama_models_%s }}" % option
        if option in ("api_url", "validate_certs", "timeout")
        else "{{ ollama_models_%s | default(omit, true) }}" % option
        for option in CONNECTION
    }
    assert not set(CONNECTION) & set(defaults["llmops.ollama.ollama_model_sync"])
    repeated = []
    for path in sorted(TASKS.glob("*.yml")):
        for task in _tasks(yaml.safe_load(path.read_text())):
            for action, args in task.items():
                if action.startswith("llmops.ollama.") and isinstance(args, dict):
                    # another instance of the host: its own api_url, the rest from the group's defaults
                    given = {option: value for option, value in args.items() if option in CONNECTION}
                    if given and given != {"api_url": "{{ item.0 }}"}:
                        repeated.append("%s: %s %s" % (path.name, task.get("name"), sorted(given)))
    assert repeated == [], "connection options given again (module_defaults for group/llmops.ollama.ollama in main.yml has them)"
    # every module call of the role is below that block (the task files are imported or included from it)
    assert [task for task in main[1:] if any(key.startswith("llmops.ollama.") for key in task)] == []


# The ollama_proxy role's ACME order and its finish: a two-step order whose arguments must not drift apart.
def test_the_order_and_its_finish_share_their_arguments() -> None:
    tasks = yaml.safe_load(ACME.read_text())
    owners = [task for task in tasks if ACME_MODULE in (task.get("module_defaults") or {})]
    assert len(owners) == 1, "one module_defaults for %s" % ACME_MODULE
    shared = owners[0]["module_defaults"][ACME_MODULE]
    assert {"acme_directory", "account_key_src", "csr", "dest", "fullchain_dest", "challenge", "remaining_days", "force"} <= set(shared)
    calls = [task[ACME_MODULE] or {} for task in _tasks(tasks) if ACME_MODULE in task]
    assert len(calls) == 2, "the order and its finish"
    assert [call for call in calls if call and set(call) != {"data"}] == [], "only the finish adds its own argument, the order's data"
    assert [task for task in tasks if ACME_MODULE in task] == [], "every call is inside the block that sets the arguments"


# The ollama_server role's single container and its instance containers: one definition of how an Ollama container runs.
SERVER = ROLES / "ollama_server"
DOCKER = "community.docker.docker_container"


def test_the_single_and_the_instance_containers_run_alike() -> None:
    shared = yaml.safe_load((SERVER / "vars" / "main.yml").read_text())["__ollama_server_container_run"]
    assert {"image", "restart_policy", "volumes", "healthcheck", "log_options", "comparisons"} <= set(shared)
    runs = []
    for name in ("container.yml", "instances.yml"):
        for task in _tasks(yaml.safe_load((SERVER / "tasks" / name).read_text())):
            if DOCKER in task and (task[DOCKER] or {}).get("state", "started") == "started" and "module_defaults" in task:
                runs.append((name, task))
    assert [name for name, _task in runs] == ["container.yml", "instances.yml"]
    for name, task in runs:
        assert task["module_defaults"] == {DOCKER: "{{ __ollama_server_container_run }}"}, name
        own = set(task[DOCKER])
        assert own == {"name", "published_ports", "env", "device_requests", "labels"}, name
        assert not own & set(shared), "%s gives again what the containers share: %s" % (name, sorted(own & set(shared)))
