# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/remove.yml on a host laid out as `make demo` lays it out: a standalone nginx, a container; twice."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.integration.nginx_fixture import NGINX, free_port
from tests.integration.playbook import REPO, run_playbook

pytestmark = pytest.mark.integration

SIM_IMAGE = "llmops/ollama-sim:test"


def alive(pid_file: Path) -> bool:
    """Whether the process of the pid file runs."""
    if not pid_file.is_file():
        return False
    return Path("/proc/%s" % pid_file.read_text().strip()).exists()


def container_exists(name: str) -> bool:
    return subprocess.run(["docker", "container", "inspect", name], capture_output=True, check=False).returncode == 0


def test_remove_twice_changes_nothing_the_second_time_and_starts_no_nginx(sim, tmp_path: Path) -> None:
    if subprocess.run(["docker", "image", "inspect", SIM_IMAGE], capture_output=True, check=False).returncode != 0:
        subprocess.run(["bash", str(REPO / "tests" / "docker" / "build_sim_image.sh"), SIM_IMAGE], check=True)
    name = "llmops-operator-remove-" + uuid.uuid4().hex[:8]
    root = tmp_path / "demo"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ollama_api_url": sim.url,
        "ollama_server_container_name": name,
        "ollama_server_models_volume": name,
        "ollama_proxy_install": False,
        "ollama_proxy_service_manager": "binary",
        "ollama_proxy_standalone": True,
        "ollama_proxy_nginx_binary": NGINX,
        "ollama_proxy_nginx_prefix": str(root / "nginx"),
        "ollama_proxy_nginx_conf": str(root / "nginx" / "nginx.conf"),
        "ollama_proxy_pid_file": str(root / "nginx" / "nginx.pid"),
        "ollama_proxy_config_dir": str(root / "nginx" / "conf.d"),
        "ollama_proxy_tls_dir": str(root / "tls"),
        "ollama_proxy_domains": [
            {
                "domain": "remove.ollama.test",
                "tls": "selfsigned",
                "listen_address": "127.0.0.1",
                "http_port": free_port(),
                "https_port": free_port(),
                "upstream": sim.url,
                "allow": ["127.0.0.1/32"],
            }
        ],
    }
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": {"demo-host": host}}}}}))
    pid_file = root / "nginx" / "nginx.pid"
    binding = root / "nginx" / "conf.d" / "remove.ollama.test.conf"
    try:
        built = run_playbook(REPO / "playbooks" / "proxy.yml", {}, inventory=str(inventory))
        assert built.rc == 0, built.stdout[-3000:]
        assert alive(pid_file) and binding.is_file()
        subprocess.run(["docker", "create", "--name", name, SIM_IMAGE], check=True, capture_output=True)

        first = run_playbook(REPO / "playbooks" / "remove.yml", {"ollama_remove_confirm": "yes"}, inventory=str(inventory))
        assert first.rc == 0, first.stdout[-3000:]
        assert first.data["stats"]["demo-host"]["changed"] >= 3, "the binding, the container and the nginx"
        assert not binding.exists() and not alive(pid_file) and not container_exists(name)

        second = run_playbook(REPO / "playbooks" / "remove.yml", {"ollama_remove_confirm": "yes"}, inventory=str(inventory))
        assert second.rc == 0, second.stdout[-3000:]
        assert second.data["stats"]["demo-host"]["changed"] == 0, [
            task["task"]["name"] for play in second.data["plays"] for task in play["tasks"] if task["hosts"].get("demo-host", {}).get("changed")
        ]
        assert not alive(pid_file), "the second run started no nginx"
        assert not pid_file.exists()
    finally:
        if alive(pid_file):
            os.kill(int(pid_file.read_text().strip()), 15)
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", name], capture_output=True, check=False)
