# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_port_info: who listens on the ports, read from this host's /proc."""

from __future__ import annotations

import os
import socket
from typing import Iterator

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_domain, ollama_info, ollama_port_info
from tests.unit.plugins.modules.harness import assert_documented, run_module


def test_documentation_matches_the_argument_spec() -> None:
    assert_documented(ollama_port_info)
    assert_documented(ollama_domain)


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A port this process listens on (127.0.0.1) while the test runs."""
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    try:
        yield holder.getsockname()[1]
    finally:
        holder.close()


def closed_port() -> int:
    """A port nothing listens on (127.0.0.1), as far as can be known."""
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()
    return port


def test_a_listener_is_named_and_a_free_port_is_free(capsys: pytest.CaptureFixture, busy_port: int) -> None:
    free_port = closed_port()
    result = run_module(ollama_port_info, {"ports": [busy_port, free_port], "address": "127.0.0.1"}, capsys, check_mode=True)
    assert result["changed"] is False
    assert (result["busy"], result["free"]) == ([busy_port], [free_port])
    assert result["listeners"][0]["summary"].startswith("port %d: pid %d (" % (busy_port, os.getpid()))


def test_a_port_out_of_range_fails(capsys: pytest.CaptureFixture) -> None:
    result = run_module(ollama_port_info, {"ports": [70000]}, capsys)
    assert result["failed"] is True and "70000 is not a TCP port" in result["msg"]


def test_ollama_info_and_ollama_port_info_read_a_port_the_same_way(capsys: pytest.CaptureFixture, busy_port: int) -> None:
    """One reading of a port (core.ports.port_report): the same holders, the same words, the same refusals."""
    no_server = "http://127.0.0.1:%d" % closed_port()
    port = busy_port
    info = run_module(ollama_info, {"api_url": no_server, "port": port, "port_address": "127.0.0.1"}, capsys)
    listed = run_module(ollama_port_info, {"ports": [port], "address": "127.0.0.1"}, capsys)
    assert info["port_holders"] and info["port_holders"] == listed["listeners"][0]["holders"]
    assert listed["listeners"][0]["summary"] == "port %d: %s" % (port, info["port_holders_text"])
    for bad in (0, 70000):
        info = run_module(ollama_info, {"api_url": no_server, "port": bad}, capsys)
        listed = run_module(ollama_port_info, {"ports": [bad]}, capsys)
        assert info["failed"] is True and listed["failed"] is True
        assert info["msg"] == "port: %d is not a TCP port (1 to 65535)" % bad
        assert listed["msg"] == "ports: %d is not a TCP port (1 to 65535)" % bad


def test_both_modules_document_a_holder_alike() -> None:
    """A RETURN block takes no doc fragment: the holders of a port are documented twice, field for field the same."""
    import yaml

    listed = yaml.safe_load(ollama_port_info.RETURN)["listeners"]["contains"]["holders"]
    read = yaml.safe_load(ollama_info.RETURN)["port_holders"]
    assert listed["contains"] == read["contains"] and set(listed["contains"]) == {"pid", "command", "address"}
    assert (listed["type"], listed["elements"]) == (read["type"], read["elements"])
