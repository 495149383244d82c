# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ports and names of `make demo` for this checkout, written to .build/demo/settings.yml (JSON, which YAML reads).

A port given (OLLAMA_PORT=, PROXY_PORT=, PROXY_HTTP_PORT=) wins; else the one this checkout's demo used last time
(so a second run changes nothing); else a free one. A port that another process holds is refused before anything
runs, naming every holder (pid and command line); the demo's own container and nginx are not "another process".
The container and volume are named after the checkout's path, so two checkouts' demos live side by side.

    demo_settings.py up   DEMO_DIR CHECKOUT OLLAMA_PORT PROXY_PORT PROXY_HTTP_PORT    (an empty port: pick)
    demo_settings.py show DEMO_DIR KEY                                                 (one value, for the Makefile)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / ".build" / "collections"))

from ansible_collections.llmops.ollama.plugins.module_utils.core.ports import describe, family_of, port_holders  # noqa: E402

PORTS = (("ollama_port", "OLLAMA_PORT"), ("https_port", "PROXY_PORT"), ("http_port", "PROXY_HTTP_PORT"))


def free_port(taken: set) -> int:
    while True:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in taken:
            return port


def demo_name(checkout: str) -> str:
    return "llmops-demo-" + hashlib.sha256(checkout.encode()).hexdigest()[:8]


def own_pids(demo_dir: Path, name: str) -> set:
    """The processes of this checkout's demo: its nginx (master and workers) and its container's port proxies."""
    pids: set = set()
    with contextlib.suppress(OSError, ValueError):
        pids |= family_of(int((demo_dir / "nginx" / "nginx.pid").read_text().strip()))
    try:
        inspected = subprocess.run(["docker", "inspect", "--format", "{{.NetworkSettings.IPAddress}}", name], capture_output=True, text=True, check=False)
    except OSError:
        return pids
    address = inspected.stdout.strip() if inspected.returncode == 0 else ""
    if address:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                command = Path("/proc", entry, "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if command and command[0].endswith(b"docker-proxy") and address.encode() in command:
                pids.add(int(entry))
    return pids


def up(demo_dir: Path, checkout: str, given: list) -> int:
    settings_file = demo_dir / "settings.yml"
    try:
        saved = json.loads(settings_file.read_text())
    except (OSError, ValueError):
        saved = {}
    name = demo_name(checkout)
    chosen: dict = {}
    for (key, variable), value in zip(PORTS, given):
        if value.strip():
            if not value.strip().isdigit() or not 1 <= int(value) <= 65535:
                print("demo: %s=%s is not a port (1-65535)" % (variable, value), file=sys.stderr)
                return 2
            chosen[key] = int(value)
    if len(set(chosen.values())) != len(chosen):
        print("demo: OLLAMA_PORT, PROXY_PORT and PROXY_HTTP_PORT must differ", file=sys.stderr)
        return 2
    own = own_pids(demo_dir, name)
    problems = []
    for key, variable in PORTS:
        if key not in chosen:
            continue
        holders = [h for h in port_holders(chosen[key], "127.0.0.1") if h["pid"] not in own]
        if holders:
            problems.append("port %d (%s) is taken by %s" % (chosen[key], variable, describe(holders)))
    if problems:
        print(
            "demo: " + "; ".join(problems) + ". Stop them, or choose other ports (make demo OLLAMA_PORT=... PROXY_PORT=...), or leave the "
            "ports out to get free ones. Nothing was started.",
            file=sys.stderr,
        )
        return 1
    for key, _variable in PORTS:
        if key in chosen:
            continue
        previous = saved.get("ollama_demo_" + key)
        if isinstance(previous, int) and previous not in chosen.values():
            holders = [h for h in port_holders(previous, "127.0.0.1") if h["pid"] not in own]
            if not holders:
                chosen[key] = previous
                continue
        chosen[key] = free_port(set(chosen.values()))
    settings = {"ollama_demo_name": name, **{"ollama_demo_" + key: chosen[key] for key, _variable in PORTS}}
    demo_dir.mkdir(parents=True, exist_ok=True)
    settings_file.write_text(json.dumps(settings, indent=2) + "\n")
    print(
        "demo: container %s, Ollama on 127.0.0.1:%d, proxy https://localhost:%d (http %d); ports from %s"
        % (name, chosen["ollama_port"], chosen["https_port"], chosen["http_port"], settings_file)
    )
    return 0


def main(argv: list) -> int:
    if len(argv) == 7 and argv[1] == "up":
        return up(Path(argv[2]), argv[3], argv[4:7])
    if len(argv) == 4 and argv[1] == "show":
        try:
            print(json.loads((Path(argv[2]) / "settings.yml").read_text())[argv[3]])
        except (OSError, ValueError, KeyError):
            return 1
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
