# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The part playbooks (server, models, proxy, health, remove) run from --extra-vars alone, as an AWX job template runs them.

Inventory: inventory/local (this host, nothing else set). Every setting comes
from -e; stdin is closed, so a prompt would fail the run. The server is the
simulator image in the real Docker engine, the proxy a private real nginx.
"""

from __future__ import annotations

import json
import socket
import subprocess
from pathlib import Path
from typing import Iterator

import pytest

from tests.integration.docker_support import build_sim_image, inspect, remove, require_engine
from tests.integration.nginx_fixture import NginxServer, request, request_until
from tests.integration.playbook import REPO, PlaybookRun, run_playbook
from tests.integration.test_ollama_proxy import role_vars as proxy_vars

pytestmark = pytest.mark.integration

CONTAINER = "llmops-test-xvars"
VOLUME = "llmops-test-xvars-models"
KEY = "xvars-key-0123456789abcdefghijklmnopq"
DOMAIN = "xvars.ollama.test"
LOCAL = str(REPO / "inventory" / "local")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[NginxServer]:
    server = NginxServer(tmp_path / "nginx")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def container() -> Iterator[str]:
    require_engine()
    image = build_sim_image()
    remove(CONTAINER, VOLUME)
    yield image
    remove(CONTAINER, VOLUME)


PRINTED: list[str] = []


def play(name: str, variables: dict) -> PlaybookRun:
    run = run_playbook(REPO / "playbooks" / name, variables, inventory=LOCAL, timeout=300)
    PRINTED.append(run.stdout + run.stderr)
    assert run.rc == 0, "%s: %s" % (name, run.stdout[-3000:])
    return run


def changes(run: PlaybookRun) -> int:
    return sum(host["changed"] for host in run.data["stats"].values())


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
        **proxy_vars(nginx, [binding]),
    }

    for name in ("server.yml", "models.yml", "proxy.yml"):
        assert changes(play(name, variables)) > 0, "%s changed nothing on a fresh host" % name
    assert inspect(CONTAINER)["State"]["Running"] is True
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
