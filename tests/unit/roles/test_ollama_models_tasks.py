# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_models role sets the connection options of its module calls once: module_defaults for the action group."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

import yaml

TASKS = Path(__file__).resolve().parents[3] / "roles" / "ollama_models" / "tasks"
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
