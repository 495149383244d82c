# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for plugins/module_utils/_ports.py: real sockets of this process, and a fake /proc."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Iterator

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import ports as _ports


@pytest.fixture
def listener() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


def test_a_listening_socket_of_this_process_is_found(listener: int) -> None:
    holders = _ports.port_holders(listener, "127.0.0.1")
    assert [h["pid"] for h in holders] == [os.getpid()]
    assert "python" in str(holders[0]["command"]) or "pytest" in str(holders[0]["command"])
    assert "pid %d" % os.getpid() in _ports.describe(holders)


@pytest.mark.parametrize(
    ("wanted", "found"),
    [("127.0.0.1", True), (None, True), ("0.0.0.0", True), ("[::]", True), ("127.0.0.2", False), ("::1", False), ("localhost", True)],
)
def test_which_addresses_a_loopback_listener_covers(listener: int, wanted: str, found: bool) -> None:
    assert bool(_ports.port_holders(listener, wanted)) is found


def test_own_processes_are_not_foreign(listener: int) -> None:
    assert _ports.foreign_holders(listener, "127.0.0.1", _ports.family_of(os.getpid())) == []
    assert len(_ports.foreign_holders(listener, "127.0.0.1", [1])) == 1


def test_a_free_port_has_no_holder() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert _ports.port_holders(port, "127.0.0.1") == []


def test_an_ipv6_wildcard_listener_covers_ipv4() -> None:
    sock = socket.socket(socket.AF_INET6)
    sock.bind(("::", 0))
    sock.listen()
    try:
        assert _ports.port_holders(sock.getsockname()[1], "127.0.0.1")
    finally:
        sock.close()


def fake_proc(tmp_path: Path, tcp: str) -> str:
    (tmp_path / "net").mkdir()
    (tmp_path / "net" / "tcp").write_text(tcp)
    return str(tmp_path)


HEADER = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"


def test_a_socket_whose_owner_cannot_be_seen_is_still_named(tmp_path: Path) -> None:
    # 127.0.0.1:8443 listening (0A), inode 4242, no process directory that holds it
    proc = fake_proc(tmp_path, HEADER + "   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n")
    holders = _ports.port_holders(8443, "127.0.0.1", proc)
    assert holders == [{"pid": None, "command": "", "address": "127.0.0.1"}]
    assert "cannot see" in _ports.describe(holders)


def test_connected_and_garbled_lines_are_skipped(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        HEADER
        + "   0: 0100007F:20FB 0100007F:9999 01 00000000:00000000 00:00000000 00000000     0        0 4242 1\n"
        + "   1: zz:yy\n"
        + "   2: XYZ:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1\n",
    )
    assert _ports.port_holders(8443, None, proc) == []


def test_no_proc_gives_no_holder(tmp_path: Path) -> None:
    assert _ports.port_holders(80, None, str(tmp_path / "missing")) == []


def test_the_port_report_lists_busy_and_free_ports_in_the_order_asked(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, HEADER + "   0: 0100007F:20FB 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n")
    report = _ports.port_report([8444, 8443, 8445], "127.0.0.1", proc=proc)
    holders = [{"pid": None, "command": "", "address": "127.0.0.1"}]
    assert report == {
        "listeners": [{"port": 8443, "holders": holders, "summary": "port 8443: %s" % _ports.describe(holders)}],
        "busy": [8443],
        "free": [8444, 8445],
    }
    # an empty address is any address, as not setting it
    assert _ports.port_report([8443], "", proc=proc) == _ports.port_report([8443], None, proc=proc)


@pytest.mark.parametrize("port", [0, -1, 65536, 70000])
def test_a_number_that_is_not_a_port_is_refused_before_anything_is_read(port: int) -> None:
    with pytest.raises(_ports.InvalidPort, match=r"^port: %d is not a TCP port \(1 to 65535\)$" % port):
        _ports.port_report([80, port], None, option="port", proc="/nonexistent-must-not-be-read")
