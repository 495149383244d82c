# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make demo's ports and names (tools/demo_settings.py): ports given or free ones, a taken port refused naming its holder."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, ensure_collection_link

pytestmark = pytest.mark.integration

TOOL = REPO / "tools" / "demo_settings.py"


def settings(demo: Path, checkout: str, ollama: str = "", proxy: str = "", http: str = "") -> subprocess.CompletedProcess:
    ensure_collection_link()
    return subprocess.run([sys.executable, str(TOOL), "up", str(demo), checkout, ollama, proxy, http], capture_output=True, text=True, timeout=60, check=False)


def test_taken_ports_are_refused_naming_both_holders_and_nothing_is_left(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    with socket.socket() as first, socket.socket() as second:  # a workstation's own Ollama and another proxy
        first.bind(("127.0.0.1", 0))
        first.listen()
        second.bind(("0.0.0.0", 0))
        second.listen()
        ollama, proxy = first.getsockname()[1], second.getsockname()[1]
        refused = settings(demo, "/checkout/one", str(ollama), str(proxy))
    assert refused.returncode == 1
    message = refused.stderr
    assert "port %d (OLLAMA_PORT) is taken by pid %d (" % (ollama, os.getpid()) in message, message
    assert "port %d (PROXY_PORT) is taken by pid %d (" % (proxy, os.getpid()) in message, message
    own_command = Path("/proc/self/cmdline").read_bytes().split(b"\0")[0].decode()  # an xdist worker is not "pytest"
    assert own_command in message and "Nothing was started." in message
    assert not demo.exists(), "nothing written"


def test_free_ports_are_picked_kept_for_the_next_run_and_belong_to_the_checkout(tmp_path: Path) -> None:
    demo_one, demo_two = tmp_path / "one", tmp_path / "two"
    picked = settings(demo_one, "/checkout/one")
    assert picked.returncode == 0, picked.stderr
    first = json.loads((demo_one / "settings.yml").read_text())
    ports = [first["ollama_demo_ollama_port"], first["ollama_demo_https_port"], first["ollama_demo_http_port"]]
    assert len(set(ports)) == 3 and 11434 not in ports
    assert "Ollama on 127.0.0.1:%d, proxy https://localhost:%d" % (ports[0], ports[1]) in picked.stdout
    again = settings(demo_one, "/checkout/one")
    assert again.returncode == 0 and json.loads((demo_one / "settings.yml").read_text()) == first, "a second run keeps its ports"

    other = settings(demo_two, "/checkout/two")
    assert other.returncode == 0
    second = json.loads((demo_two / "settings.yml").read_text())
    assert second["ollama_demo_name"] != first["ollama_demo_name"], "each checkout names its own container"

    given = free_port()
    chosen = settings(demo_one, "/checkout/one", str(given))
    assert chosen.returncode == 0 and json.loads((demo_one / "settings.yml").read_text())["ollama_demo_ollama_port"] == given
