# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_port_info: who listens on the ports, read from this host's /proc."""

from __future__ import annotations

import os
import socket

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_domain, ollama_port_info
from tests.unit.plugins.modules.harness import assert_documented, run_module


def test_documentation_matches_the_argument_spec() -> None:
    assert_documented(ollama_port_info)
    assert_documented(ollama_domain)


def test_a_listener_is_named_and_a_free_port_is_free(capsys: pytest.CaptureFixture) -> None:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    busy_port, free_port = holder.getsockname()[1], free.getsockname()[1]
    free.close()
    try:
        result = run_module(ollama_port_info, {"ports": [busy_port, free_port], "address": "127.0.0.1"}, capsys, check_mode=True)
    finally:
        holder.close()
    assert result["changed"] is False
    assert (result["busy"], result["free"]) == ([busy_port], [free_port])
    assert result["listeners"][0]["summary"].startswith("port %d: pid %d (" % (busy_port, os.getpid()))


def test_a_port_out_of_range_fails(capsys: pytest.CaptureFixture) -> None:
    result = run_module(ollama_port_info, {"ports": [70000]}, capsys)
    assert result["failed"] is True and "70000 is not a TCP port" in result["msg"]
