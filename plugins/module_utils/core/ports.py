# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who listens on a TCP port of this host, read from /proc (Linux), with no other tool.

A standalone nginx whose port another process holds does not fail at start: it
starts, and its reload later fails to bind in the background while the other
process keeps answering. Naming the holder before anything is applied turns that
into a clear error.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Any, Dict, Iterable, List, Optional, Set

_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's st column


class InvalidPort(ValueError):
    """A number that is not a TCP port; the message names the option."""


def _address(hex_address: str) -> str:
    """The text form of /proc/net/tcp{,6}'s address column (little-endian 32-bit words)."""
    raw = bytes.fromhex(hex_address)
    words = b"".join(raw[i : i + 4][::-1] for i in range(0, len(raw), 4))
    return str(ipaddress.ip_address(words))


def listening_sockets(proc: str = "/proc") -> List[Dict[str, object]]:
    """Every listening TCP socket: address, port, inode. Unreadable tables give nothing."""
    sockets = []
    for table in ("net/tcp", "net/tcp6"):
        try:
            with open(os.path.join(proc, table), encoding="ascii") as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != _LISTEN:
                continue
            local, _sep, port = fields[1].partition(":")
            try:
                sockets.append({"address": _address(local), "port": int(port, 16), "inode": int(fields[9])})
            except ValueError:
                continue
    return sockets


def _covers(bound: str, wanted: Optional[str]) -> bool:
    """Whether a socket bound to ``bound`` takes connections meant for ``wanted`` (None: any address)."""
    if wanted is None:
        return True
    bound_ip = ipaddress.ip_address(bound)
    if bound_ip.is_unspecified:
        return True
    try:
        wanted_ip = ipaddress.ip_address(wanted.strip("[]"))
    except ValueError:
        return True  # a name: assume it may resolve to the bound address
    if wanted_ip.is_unspecified:
        return True
    mapped = getattr(bound_ip, "ipv4_mapped", None)
    return bound_ip == wanted_ip or (mapped is not None and mapped == wanted_ip)


def _socket_owners(inodes: Set[int], proc: str) -> Dict[int, List[int]]:
    """inode -> pids whose open files include that socket (processes we may not read are skipped)."""
    owners: Dict[int, List[int]] = {}
    try:
        pids = [int(name) for name in os.listdir(proc) if name.isdigit()]
    except OSError:
        return owners
    for pid in pids:
        fd_dir = os.path.join(proc, str(pid), "fd")
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(os.path.join(fd_dir, fd))
            except OSError:
                continue
            if target.startswith("socket:[") and target.endswith("]"):
                inode = int(target[8:-1])
                if inode in inodes:
                    owners.setdefault(inode, []).append(pid)
    return owners


def command_line(pid: int, proc: str = "/proc") -> str:
    """A process's command line, spaces between the arguments ('' when it cannot be read)."""
    try:
        with open(os.path.join(proc, str(pid), "cmdline"), "rb") as handle:
            return handle.read(400).replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        return ""


def port_holders(port: int, address: Optional[str] = None, proc: str = "/proc") -> List[Dict[str, object]]:
    """The processes listening where a server on ``address:port`` would listen: [{pid, command, address}]."""
    sockets = [s for s in listening_sockets(proc) if s["port"] == port and _covers(str(s["address"]), address)]
    if not sockets:
        return []
    owners = _socket_owners({int(str(s["inode"])) for s in sockets}, proc)
    holders = []
    for sock in sockets:
        pids = owners.get(int(str(sock["inode"])))
        for pid in pids or [None]:
            holders.append({"pid": pid, "command": command_line(pid, proc) if pid else "", "address": sock["address"]})
    return holders


def foreign_holders(port: int, address: Optional[str], own_pids: Iterable[int], proc: str = "/proc") -> List[Dict[str, object]]:
    """Holders of the port that are not among ``own_pids`` (say, the managed nginx master and its workers)."""
    own = set(own_pids)
    return [h for h in port_holders(port, address, proc) if h["pid"] not in own]


def family_of(pid: int, proc: str = "/proc") -> Set[int]:
    """A process and its direct children (an nginx master and its workers)."""
    family = {pid}
    try:
        entries = [name for name in os.listdir(proc) if name.isdigit()]
    except OSError:
        return family
    for name in entries:
        try:
            with open(os.path.join(proc, name, "stat"), encoding="utf-8", errors="replace") as handle:
                stat = handle.read()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and fields[1] == str(pid):
            family.add(int(name))
    return family


def describe(holders: List[Dict[str, object]]) -> str:
    """``pid 123 (nginx: master process nginx -c /x/nginx.conf)``; the unknown when we may not see it."""
    parts = []
    for holder in holders:
        if holder["pid"] is None:
            parts.append("a process this user cannot see (on %s)" % holder["address"])
        else:
            parts.append("pid %s (%s)" % (holder["pid"], holder["command"] or "command unknown"))
    return ", ".join(parts)


def check_ports(ports: Iterable[int], option: str) -> None:
    """InvalidPort for the first number that is not a TCP port (1 to 65535), named as the option ``option``."""
    for port in ports:
        if not 1 <= port <= 65535:
            raise InvalidPort("%s: %d is not a TCP port (1 to 65535)" % (option, port))


def port_report(ports: Iterable[int], address: Optional[str] = None, option: str = "ports", proc: str = "/proc") -> Dict[str, Any]:
    """Who listens on each port where a server on ``address`` would: what ollama_port_info returns, and ollama_info reads for its port.

    ``{"listeners": [{"port", "holders", "summary"}], "busy": [port...], "free": [port...]}``, in the order asked; an empty
    address is any address. InvalidPort (naming ``option``) before anything is read when a number is not a TCP port.
    """
    ports = list(ports)
    check_ports(ports, option)
    listeners, free = [], []
    for port in ports:
        holders = port_holders(port, address or None, proc)
        if holders:
            listeners.append({"port": port, "holders": holders, "summary": "port %d: %s" % (port, describe(holders))})
        else:
            free.append(port)
    return {"listeners": listeners, "busy": [item["port"] for item in listeners], "free": free}
