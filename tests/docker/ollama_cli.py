# Copyright: (c) 2026, llmops.ollama contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The `ollama` command of the simulator image: `serve`, `list` and `--version`.

`serve` runs the Ollama API simulator where the real image runs Ollama, with
the same environment (OLLAMA_HOST, OLLAMA_MODELS); `list` is what the
container health check runs, as with the real image, which has no curl.
"""

import json
import os
import sys
import urllib.request

SIM_ROOT = "/opt/ollama-sim"


def listen_address() -> str:
    host = os.environ.get("OLLAMA_HOST", "127.0.0.1:11434").split("://")[-1].rstrip("/")
    if ":" not in host:
        host += ":11434"
    return host


def api(path: str) -> dict:
    host, port = listen_address().rsplit(":", 1)
    if host in ("0.0.0.0", ""):  # a listen-on-all server is reached over loopback
        host = "127.0.0.1"
    with urllib.request.urlopen("http://%s:%s%s" % (host, port, path), timeout=10) as resp:
        return json.load(resp)


def main(argv: list) -> int:
    command = argv[1] if len(argv) > 1 else "serve"
    if command == "serve":
        data = os.environ.get("OLLAMA_MODELS", "/root/.ollama/models")
        os.chdir(SIM_ROOT)
        server_argv = [sys.executable, "-m", "tests.ollama_sim", "--listen", listen_address(), "--data", data]
        os.execv(sys.executable, server_argv)  # noqa: S606 - this process becomes the simulator, as `ollama serve` does
    try:
        if command == "list":
            models = api("/api/tags")["models"]
            print("%-40s %-14s %-10s %s" % ("NAME", "ID", "SIZE", "MODIFIED"))
            for model in models:
                print("%-40s %-14s %-10s %s" % (model["name"], model["digest"][:12], model["size"], model["modified_at"]))
            return 0
        if command in ("-v", "--version", "version"):
            print("ollama version is %s" % api("/api/version")["version"])
            return 0
    except OSError as exc:
        print("Error: could not connect to ollama app, is it running? (%s)" % exc, file=sys.stderr)
        return 1
    print("Error: the simulator image supports only serve, list and --version", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
