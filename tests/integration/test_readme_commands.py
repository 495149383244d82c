# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The README's command blocks (```bash), in order, as an operator runs them on this machine.

A block that cannot run here says so in the README, on the line before it:
``<!-- readme-test: skip: <why> -->`` (a real fleet, the internet, or another test that runs it).
Every other block runs, with this changes only: fixed port numbers become free ones (tests run in
parallel). Then a second make demo (converged) prints at most 60 lines, the demo's printed client
examples run as printed, and make demo-down leaves no container, nginx or port of the demo, and
other listeners untouched.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from tests.integration.docker_support import docker
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO

pytestmark = pytest.mark.integration

BLOCK = re.compile(r"(?:<!-- readme-test: skip: (?P<why>[^>]+?) -->\n)?```bash\n(?P<body>.*?)```", re.S)
PORT = re.compile(r"\b(OLLAMA_PORT|PROXY_PORT|PROXY_HTTP_PORT)=(\d+)")


def readme_blocks() -> list[tuple[str, str | None]]:
    return [(m.group("body"), m.group("why")) for m in BLOCK.finditer((REPO / "README.md").read_text())]


def test_every_block_runs_here_or_says_why_not() -> None:
    blocks = readme_blocks()
    assert len(blocks) == len(re.findall(r"^```bash$", (REPO / "README.md").read_text(), flags=re.M)), "a block the pattern missed"
    for body, why in blocks:
        assert why is None or len(why.strip()) > 10, body


def run_block(body: str, env: dict[str, str]) -> str:
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", body], cwd=str(REPO), env=env, capture_output=True, text=True, timeout=1200, check=False)
    assert done.returncode == 0, "README block failed:\n%s\n%s\n%s" % (body, done.stdout[-3000:], done.stderr[-3000:])
    return done.stdout


@pytest.mark.long
def test_the_readme_blocks_in_order_then_the_printed_examples_then_demo_down(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "VIRTUAL_ENV"))}
    env["PATH"] = "/work/main/.venv/bin:" + env["PATH"] if Path("/work/main/.venv/bin/openai").exists() else env["PATH"]
    settings = REPO / ".build" / "demo" / "settings.yml"
    before_settings = settings.read_text() if settings.exists() else None
    with socket.socket() as own:  # a workstation's own Ollama on a port: left alone
        own.bind(("127.0.0.1", 0))
        own.listen()
        printed = ""
        ran = 0
        for body, why in readme_blocks():
            if why is not None:
                continue
            out = run_block(PORT.sub(lambda m: "%s=%d" % (m.group(1), free_port()), body), env)
            printed += out
            ran += 1
        assert ran >= 2, "make demo with its ports, make env with the health report"
        # make demo again: converged, it prints at most 60 lines (both streams), the health report and the client examples
        # among them, what changed (nothing) and the recap (issue 21)
        again = subprocess.run(["make", "demo"], cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1200, check=False)
        assert again.returncode == 0, again.stdout[-3000:]
        assert len(again.stdout.splitlines()) <= 60, "a converged make demo prints %d lines:\n%s" % (len(again.stdout.splitlines()), again.stdout)
        for line in ("healthy: True", "Print the health report", "changed=0", "failed=0", "  curl --cacert ", "  OPENAI_API_KEY="):
            assert line in again.stdout, (line, again.stdout)
        assert "skipping:" not in again.stdout and "ok: [localhost] => (item=" not in again.stdout, "no line per skipped task or checked item"
        printed += again.stdout
        # the last make demo printed its client examples: they work as printed
        curl = re.search(r"^  (curl .*?\\\n.*?/api/tags)$", printed, flags=re.M | re.S)
        assert curl, printed[-3000:]
        tags = json.loads(run_block(curl.group(1), env))
        assert {m["name"] for m in tags["models"]} == {"smollm2:135m", "all-minilm:latest"}
        sdk = printed[printed.rindex("  OPENAI_API_KEY=") :].split("\nRun the collection", 1)[0]
        answer = run_block("\n".join(line[2:] for line in sdk.splitlines()), env)
        assert answer.strip(), "the OpenAI SDK streamed an answer through the demo's endpoint"
        name = json.loads(settings.read_text())["ollama_demo_name"]
        ports = [v for k, v in json.loads(settings.read_text()).items() if k.endswith("_port")]

        run_block("make demo-down", env)
        assert docker("container", "inspect", name, check=False).returncode != 0, "no demo container left (its models volume is kept)"
        assert not (REPO / ".build" / "demo" / "nginx" / "nginx.pid").exists(), "no demo nginx left"
        for port in ports:
            with socket.socket() as probe:
                assert probe.connect_ex(("127.0.0.1", port)) != 0, "port %d of the demo still answers" % port
        own.settimeout(1)
        with socket.create_connection(own.getsockname(), timeout=5):
            pass  # the other listener still takes connections
    if before_settings is None:
        settings.unlink(missing_ok=True)
    shutil.rmtree(tmp_path, ignore_errors=True)
