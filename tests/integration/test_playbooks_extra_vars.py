# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The part playbooks (server, models, proxy, health, remove) run from --extra-vars alone, as an AWX job template runs them.

Inventory: inventory/local (this host, nothing else set). Every setting comes
from -e, scalars as key=value strings; stdin is closed, so a prompt would fail the run. The server is the
simulator image in the real Docker engine, the proxy a private real nginx.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.docker_support import build_sim_image, inspect, own_name, remove, require_engine
from tests.integration.nginx_fixture import NginxServer, free_port, request, request_until
from tests.integration.playbook import REPO, PlaybookRun, run_playbook
from tests.integration.test_ollama_proxy import role_vars as proxy_vars

pytestmark = pytest.mark.integration

CONTAINER = own_name("llmops-test-xvars")
VOLUME = own_name("llmops-test-xvars-models")
KEY = "xvars-key-0123456789abcdefghijklmnopq"
DOMAIN = "xvars.ollama.test"
LOCAL = str(REPO / "inventory" / "local")


@pytest.fixture
def container() -> Iterator[str]:
    require_engine()
    image = build_sim_image()
    remove(CONTAINER, VOLUME)
    yield image
    remove(CONTAINER, VOLUME)


PRINTED: list[str] = []


def play(name: str, variables: dict) -> PlaybookRun:
    """Run a playbook with lists and dicts as JSON and every scalar as ``-e key=value`` (a string, as typed or from a survey)."""
    scalars = {k: v for k, v in variables.items() if isinstance(v, (str, int, float, bool))}
    structured = {k: v for k, v in variables.items() if k not in scalars}
    run = run_playbook(REPO / "playbooks" / name, structured, inventory=LOCAL, timeout=300, cli_vars=scalars)
    PRINTED.append(run.stdout + run.stderr)
    assert run.rc == 0, "%s: %s" % (name, run.stdout[-3000:])
    return run


def changes(run: PlaybookRun) -> int:
    return sum(host["changed"] for host in run.data["stats"].values())


@pytest.mark.long
def test_part_playbooks_run_from_extra_vars_alone(container: str, nginx: NginxServer, tmp_path: Path) -> None:
    PRINTED.clear()
    port = free_port()
    api_url = "http://127.0.0.1:%d" % port
    binding = {"domain": DOMAIN, "upstream": api_url, "tls": "selfsigned", "allow": ["127.0.0.1"], "api_keys": [KEY]}
    variables = {
        "ansible_become": False,  # the proxy playbook becomes root on real hosts; the tests already run as root, without sudo
        "ollama_api_url": api_url,
        "ollama_server_container_name": CONTAINER,
        "ollama_server_models_volume": VOLUME,
        "ollama_server_image": container,
        "ollama_server_image_pull": "never",
        "ollama_server_port": port,
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "512 MB",
        "ollama_models_list": ["smollm2:135m"],
        "ollama_models_state_dir": str(tmp_path / "ledger"),
        "ollama_health_models_path": str(tmp_path),
        # the role defaults of the boolean switches, given as strings the way -e key=value passes them
        "ollama_server_host_network": False,
        "ollama_server_preflight": True,
        "ollama_server_watchdog": False,
        "ollama_server_flash_attention": False,
        "ollama_server_noprune": True,
        "ollama_server_purge_data": False,
        "ollama_models_exclusive": False,
        "ollama_models_fail_fast": False,
        "ollama_models_validate_certs": True,
        "ollama_proxy_standalone": False,
        # numbers too, as strings
        "ollama_server_health_timeout": 60,
        "ollama_server_watchdog_interval": 30,
        "ollama_server_watchdog_failures": 3,
        "ollama_server_watchdog_timeout": 5,
        "ollama_server_log_max_file": 3,
        "ollama_server_max_loaded_models": 2,
        "ollama_server_num_parallel": 4,
        "ollama_server_cpus": 1.5,
        "ollama_models_concurrency": 3,
        "ollama_models_max_concurrent_pulls": 3,
        "ollama_models_timeout": 30,
        "ollama_models_retries": 3,
        "ollama_models_stall_timeout": 60,
        "ollama_models_progress_interval": 10,
        "ollama_models_timeout_total": 600,
        "ollama_proxy_backups": 5,
        **proxy_vars(nginx, [binding]),
    }

    for name in ("server.yml", "models.yml", "proxy.yml"):
        assert changes(play(name, variables)) > 0, "%s changed nothing on a fresh host" % name
    state = inspect(CONTAINER)
    assert state["State"]["Running"] is True
    assert state["HostConfig"]["NetworkMode"] != "host", "ollama_server_host_network=false (a string) must not mean true"
    environment = dict(item.split("=", 1) for item in state["Config"]["Env"])
    assert (environment.get("OLLAMA_FLASH_ATTENTION"), environment.get("OLLAMA_NOPRUNE")) == ("0", "1")
    assert (environment.get("OLLAMA_MAX_LOADED_MODELS"), environment.get("OLLAMA_NUM_PARALLEL")) == ("2", "4")
    assert state["HostConfig"]["NanoCpus"] == 1_500_000_000
    cert = nginx.root / "tls" / (DOMAIN + ".crt")
    answer = request_until(
        lambda a: a.status == 200,
        port=nginx.https_port,
        path="/api/tags",
        host=DOMAIN,
        tls=True,
        ca_file=cert,
        headers={"Authorization": "Bearer " + KEY},
    )
    assert [m["name"] for m in json.loads(answer.body)["models"]] == ["smollm2:135m"]
    assert request(nginx.https_port, "/api/tags", host=DOMAIN, tls=True, ca_file=cert).status == 401

    for name in ("server.yml", "models.yml", "proxy.yml"):
        assert changes(play(name, variables)) == 0, "%s is not idempotent" % name
    report = play("health.yml", variables).results("Print the health report")["msg"]
    assert report[1] == "healthy: True" and report[3].endswith("smollm2:135m")
    assert report[5].startswith("proxy: https://%s:%d (" % (DOMAIN, nginx.https_port)) and "days of certificate left" in report[5]

    removed = play("remove.yml", {**variables, "ollama_remove_confirm": "yes"})
    assert changes(removed) > 0
    assert inspect(CONTAINER) is None
    assert not (nginx.conf_d / (DOMAIN + ".conf")).exists()
    assert subprocess.run(["docker", "volume", "inspect", VOLUME], capture_output=True, check=False).returncode == 0, "models are kept without purge"
    assert len(PRINTED) == 8 and not any(KEY in printed for printed in PRINTED), "the API key was printed"
