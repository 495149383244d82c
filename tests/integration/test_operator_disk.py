# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The free-space check before a pull in the default deployment: site.yml with the server in Docker on a named volume.

Nothing tells the models role where the models are: it learns it from the ollama_server role (the volume's
directory on this host). The server is the simulator image in the real Docker engine.
"""

from __future__ import annotations

import json
import sys
import urllib.request
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.docker_support import SIM_IMAGE, build_sim_image, docker, remove, require_engine
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, PlaybookRun, run_playbook

pytestmark = pytest.mark.integration


@pytest.fixture
def deployment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    require_engine()
    if docker("image", "inspect", SIM_IMAGE, check=False).returncode != 0:
        build_sim_image()
    name = "llmops-operator-disk-" + uuid.uuid4().hex[:8]
    port = free_port()
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ollama_api_url": "http://127.0.0.1:%d" % port,
        "ollama_models_api_url": "http://127.0.0.1:%d" % port,
        # the simulator serves the registry paths itself: the manifests the check reads
        "ollama_models_registry_url": "http://127.0.0.1:%d" % port,
        "ollama_server_container_name": name,
        "ollama_server_models_volume": name,
        "ollama_server_image": SIM_IMAGE,
        "ollama_server_image_pull": "never",
        "ollama_server_port": port,
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "256 MB",
        "ollama_models_list": ["smollm2:135m"],
        "ollama_models_state_dir": str(tmp_path / "ledger"),
        "ollama_models_progress_interval": 1,
        "ollama_health_models_path": str(tmp_path),
    }
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": {"docker-host": host}}}}}))
    try:
        yield {"inventory": str(inventory), "name": name, "url": host["ollama_api_url"]}
    finally:
        remove(name, name)


def sim_call(url: str, method: str, path: str, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        payload = answer.read()
    return json.loads(payload) if payload else None


def failed_messages(run: PlaybookRun) -> list[str]:
    return [str(r.get("msg")) for play in run.data["plays"] for task in play["tasks"] for r in task["hosts"].values() if r.get("failed")]


def warnings(run: PlaybookRun) -> list[str]:
    return [w for play in run.data["plays"] for task in play["tasks"] for r in task["hosts"].values() for w in r.get("warnings", [])]


def test_the_default_deployment_checks_the_disk_before_every_pull(deployment: dict[str, Any]) -> None:
    site = REPO / "playbooks" / "site.yml"

    small = run_playbook(site, {"ollama_models_min_free_space": "100 TB"}, inventory=deployment["inventory"], timeout=300)
    assert small.rc != 0
    volume_dir = json.loads(docker("volume", "inspect", deployment["name"]).stdout)[0]["Mountpoint"]
    messages = failed_messages(small)
    assert any(
        "not enough disk space to pull smollm2:135m" in m and "min_free_space keeps 100.0 TB free" in m and "is free at %s/models" % volume_dir in m
        for m in messages
    ), messages
    assert not [w for w in warnings(small) if "free-space check" in w], warnings(small)
    requests = sim_call(deployment["url"], "GET", "/_sim/requests")["requests"]
    assert [r for r in requests if r["path"] == "/api/pull"] == [], "refused before any pull"
    assert sim_call(deployment["url"], "GET", "/api/tags")["models"] == []

    # the disk fills while the server writes: the pull fails as paused, with what Ollama said, and nothing is left
    sim_call(deployment["url"], "POST", "/_sim/faults", {"disk_full": True})
    full = run_playbook(site, {}, inventory=deployment["inventory"], timeout=300)
    assert full.rc != 0
    assert not [w for w in warnings(full) if "free-space check" in w], warnings(full)
    messages = failed_messages(full)
    assert any("smollm2:135m" in m and "no space left on device" in m for m in messages), messages
    # the summary of the failed sync, printed by site.yml's rescue (the health report never came)
    summary = full.results("Print the summary of the sync of this host", host="docker-host")["msg"]
    assert summary[4].split()[:3] == ["smollm2:135m", "failed", "paused"], summary
    assert sim_call(deployment["url"], "GET", "/api/tags")["models"] == []
