# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Make sure something answers as an Ollama server at a URL (used by ``make demo``).

``python -m tests.ollama_sim.ensure --api-url URL --data DIR``: when a server already
answers ``GET /`` at URL, say so and exit 0; otherwise start the Ollama API simulator
detached on that URL's host and port (log in DIR/sim.log, pid in DIR/sim.pid), wait
until it answers, and say plainly that the simulator, not Ollama, is running there.
"""

from __future__ import annotations

import argparse
import http.client
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import List, Optional, Tuple
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]


def probe(host: str, port: int, timeout: float = 2.0) -> Optional[Tuple[int, str]]:
    """(status, start of body) of GET / at host:port, or None when nothing answers."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", "/")
        response = conn.getresponse()
        return response.status, response.read(200).decode("utf-8", errors="replace").strip()
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.ollama_sim.ensure", description=__doc__.splitlines()[0])
    parser.add_argument("--api-url", required=True, help="e.g. http://127.0.0.1:11434")
    parser.add_argument("--data", required=True, help="models directory for the simulator (also holds sim.log, sim.pid)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for the simulator to answer")
    parser.add_argument("--registry", help="passed to the simulator: download registry.ollama.ai names over HTTP from this registry URL")
    args = parser.parse_args(argv)

    url = urlsplit(args.api_url)
    if url.scheme != "http" or not url.hostname:
        parser.error("--api-url must be an http:// URL with a host, got %r" % args.api_url)
    host, port = url.hostname, url.port or 11434
    found = probe(host, port)
    if found is not None:
        print("A server already answers at %s (HTTP %d: %r); leaving it as it is." % (args.api_url, found[0], found[1]))
        return 0

    data = Path(args.data).resolve()
    data.mkdir(parents=True, exist_ok=True)
    listen = "[%s]:%d" % (host, port) if ":" in host else "%s:%d" % (host, port)
    with open(data / "sim.log", "ab") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.ollama_sim", "--listen", listen, "--data", str(data)] + (["--registry", args.registry] if args.registry else []),
            cwd=str(REPO),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    (data / "sim.pid").write_text("%d\n" % proc.pid)
    deadline = time.monotonic() + args.timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        found = probe(host, port, timeout=1.0)
        if found is not None and found[0] == 200:
            print(
                "No Ollama server answered at %s: started the Ollama API simulator (tests/ollama_sim) there, pid %d; stop it with kill %d"
                % (args.api_url, proc.pid, proc.pid)
            )
            return 0
        time.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
    tail = (data / "sim.log").read_text(errors="replace").splitlines()[-10:]
    sys.stderr.write("The Ollama API simulator did not start at %s; its log (%s):\n%s\n" % (args.api_url, data / "sim.log", "\n".join(tail)))
    with_pid = data / "sim.pid"
    if with_pid.exists():
        os.unlink(with_pid)
    return 1


if __name__ == "__main__":
    sys.exit(main())
