# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_audit callback in a real ansible-playbook run: one JSON line per task of the collection, no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.playbook import run_playbook

pytestmark = pytest.mark.integration

KEY = "sk-audit-7f3c9e1b5d2a4c6e8f0a"


def test_audit_trail_lines_and_no_secret(sim, tmp_path: Path) -> None:
    audit = tmp_path / "audit" / "trail.jsonl"
    run = run_playbook(
        "audit.yml",
        {"audit_api_url": sim.url, "audit_api_key": KEY, "awx_job_id": 4242},
        env={"LLMOPS_OLLAMA_AUDIT_FILE": str(audit), "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default"},
    )
    assert run.rc == 0, run.stdout[-2000:]
    lines = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [line["task"] for line in lines[:3]] == ["Probe with a key", "Probe with no_log", "Probe a server that is not there"]
    first, hidden, failed = lines[:3]
    # the role's tasks: its module calls, and of the tasks that only work on the controller (the check of its
    # arguments, the print of the report, the gate) only the one that failed
    role = [(line["task"].split(" : ", 1)[-1], line["module"], line["result"]) for line in lines[3:]]
    assert role == [
        ("Probe the Ollama API", "llmops.ollama.ollama_info", "ok"),
        ("Read the proxy bindings", "llmops.ollama.ollama_domain_info", "skipped"),
        ("Probe the Ollama API", "llmops.ollama.ollama_info", "ok"),
        ("Read the proxy bindings", "llmops.ollama.ollama_domain_info", "skipped"),
        ("Print the health report", "ansible.builtin.debug", "failed"),
    ], role
    assert first["module"] == "llmops.ollama.ollama_info"
    assert first["host"] == "localhost"
    assert first["playbook"] == "audit.yml"
    assert first["job_id"] == "4242"
    assert first["result"] == "ok"
    assert first["changed"] is False
    assert first["user"]
    assert isinstance(first["duration"], float)
    assert first["timestamp"].endswith("+00:00")
    assert hidden["msg"] == "the output has been hidden due to no_log"
    assert failed["result"] == "failed"
    assert "did not become healthy within 1 seconds" in failed["msg"]
    assert KEY not in audit.read_text()
    assert KEY not in run.stdout + run.stderr
