# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_server preflight and a published port that another process holds (a workstation's own Ollama)."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path
from typing import Iterator

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from tests.integration.docker_support import SIM_IMAGE, build_sim_image, docker, inspect, remove, require_engine, volume_exists
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import run_playbook
from tests.integration.test_ollama_server_role import changed_tasks

pytestmark = pytest.mark.integration


@pytest.fixture
def server_vars() -> Iterator[dict]:
    require_engine()
    if docker("image", "inspect", SIM_IMAGE, check=False).returncode != 0:
        build_sim_image()
    name = "llmops-operator-ports-" + uuid.uuid4().hex[:8]
    yield {
        "ollama_server_container_name": name,
        "ollama_server_models_volume": name,
        "ollama_server_image": SIM_IMAGE,
        "ollama_server_image_pull": "never",
        "ollama_server_port": free_port(),
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "256 MB",
        "ollama_server_health_timeout": 60,
    }
    remove(name, name)


def test_a_taken_port_fails_in_preflight_naming_its_holder_and_leaves_nothing(server_vars: dict) -> None:
    name = server_vars["ollama_server_container_name"]
    with socket.socket() as listener:  # someone else's server on the port (this test's own process)
        listener.bind(("127.0.0.1", server_vars["ollama_server_port"]))
        listener.listen()
        run = run_playbook("server.yml", server_vars)
    assert run.rc == 2
    failure = run.results("Check that the published port is free")
    assert failure["failed"] is True
    message = failure["msg"]
    expected = "Preflight failed: port %d on 127.0.0.1 (ollama_server_port) is taken by pid %d (" % (server_vars["ollama_server_port"], os.getpid())
    assert message.startswith(expected), message
    own_command = Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()
    assert own_command in message, "the holder's command line"
    assert message.endswith("Nothing was changed.") and "ollama_server_port" in message
    assert inspect(name) is None, "no container was created"
    assert not volume_exists(name)

    # the port free again: deployed; and a second run finds its own container on the port
    deployed = run_playbook("server.yml", server_vars)
    assert deployed.rc == 0, deployed.stdout[-3000:]
    # one line for the role's settings check, and sizes in the collection's one convention (decimal units)
    checked = deployed.results("Check values the argument spec cannot")
    assert "results" not in checked and checked["msg"].startswith("The settings of ollama_server passed "), checked
    resources = deployed.results("Record the resources, the GPU facts and the container settings")["ansible_facts"]["ollama_server_resources"]
    free = format_size(int(resources["disk_free_bytes"]))
    assert "%s free at %s" % (free, resources["disk_path"]) in deployed.results("Check disk and memory")["msg"]
    again = run_playbook("server.yml", server_vars)
    assert again.rc == 0 and changed_tasks(again) == [], again.stdout[-3000:]
    assert again.results("Find out who listens on the published port").get("skipped") is True, "its own container holds the port"


def test_every_wrong_setting_is_named_in_one_failure(server_vars: dict) -> None:
    run = run_playbook("server.yml", dict(server_vars, ollama_server_max_queue=0, ollama_server_health_timeout=0))
    assert run.rc == 2
    message = run.results("Check values the argument spec cannot")["msg"]
    assert "ollama_server_max_queue must be at least 1" in message and "ollama_server_health_timeout must be at least 1 second" in message
    assert message.endswith("Fix the variables and run again; nothing was changed.")
    assert inspect(server_vars["ollama_server_container_name"]) is None
