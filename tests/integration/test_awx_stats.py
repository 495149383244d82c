# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""set_stats artifacts of the playbooks, as ansible-runner (AWX's job runner) records them, for a run with one failed host."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import COLLECTIONS, REPO, ensure_collection_link

pytestmark = pytest.mark.integration


def run_job(private: Path, playbook: str, cmdline: str = "") -> Path:
    """ansible-runner on this host (no container): the job events and the stats event are the same as in AWX."""
    ensure_collection_link()
    shutil.copytree(REPO / "playbooks", private / "project", dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "ansible.cfg", private / "project" / "ansible.cfg")
    envvars = {
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "LLMOPS_OLLAMA_AUDIT_FILE": str(private / "artifacts" / "audit.jsonl"),
    }
    (private / "env").mkdir(exist_ok=True)
    (private / "env" / "envvars").write_text(json.dumps(envvars))
    argv = [str(Path(sys.executable).parent / "ansible-runner"), "run", str(private), "--playbook", playbook, "--ident", "job"]
    if cmdline:
        argv.append("--cmdline=" + cmdline)
    job = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False)
    assert (private / "artifacts" / "job" / "status").is_file(), job.stdout[-2000:] + job.stderr[-2000:]
    return private / "artifacts" / "job"


def events(artifacts: Path) -> List[Dict[str, Any]]:
    files = sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    return [json.loads(path.read_text()) for path in files]


def stats_event(artifacts: Path) -> Dict[str, Any]:
    found = [event for event in events(artifacts) if event["event"] == "playbook_on_stats"]
    assert len(found) == 1, [event["event"] for event in events(artifacts)][-10:]
    return found[0]["event_data"]


def fleet(path: Path, hosts: Dict[str, Dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    base = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ollama_site_manage_server": False}
    inventory = {"all": {"children": {"ollama_servers": {"hosts": {name: dict(base, **values) for name, values in hosts.items()}}}}}
    path.write_text(json.dumps(inventory))


def test_site_and_health_publish_their_statistics_with_one_failed_host(make_sim, tmp_path: Path) -> None:
    one, two = make_sim("one"), make_sim("two")
    two.call("POST", "/api/pull", {"model": "smollm2:135m", "stream": False})
    dead = "http://127.0.0.1:%d" % free_port()
    common = {"ollama_models_progress_interval": 1, "ollama_health_models_path": str(tmp_path), "ollama_site_health_timeout": 3}
    hosts = {
        "host-1": dict(common, ollama_api_url=one.url, ollama_models_registry_url=one.url, ollama_models_list=["smollm2:135m", "llama3.2:latest"]),
        "host-2": dict(common, ollama_api_url=two.url, ollama_models_registry_url=two.url, ollama_models_list=["smollm2:135m"]),
        "host-3": dict(common, ollama_api_url=dead, ollama_models_registry_url=dead, ollama_models_list=["smollm2:135m"]),
    }
    for name, values in hosts.items():
        values["ollama_models_state_dir"] = str(tmp_path / "state" / name)
    private = tmp_path / "site"
    fleet(private / "inventory" / "hosts.json", hosts)
    artifacts = run_job(private, "site.yml")
    assert (artifacts / "status").read_text() == "failed", (artifacts / "stdout").read_text()[-3000:]

    data = stats_event(artifacts)
    assert data["failures"] == {"host-3": 1}, data
    stats = data["artifact_data"]["ollama_stats_site"]
    assert stats["playbook"] == "site" and stats["check_mode"] is False
    assert stats["hosts"] == {"total": 3, "ok": 2, "failed": 1, "unreachable": 0, "not_reached": 0}
    assert stats["counts"] == {"added": 2, "updated": 0, "removed": 0, "failed": 0, "unavailable": 0}, stats
    assert [row["host"] for row in stats["failed_hosts"]] == ["host-3"]
    reason = stats["failed_hosts"][0]["reason"]
    assert "127.0.0.1" in reason and len(reason) <= 300, reason
    assert stats["failed_hosts_truncated"] == 0 and stats["unhealthy"] == 1  # host-3: its server does not answer
    digests = {m["name"]: m["digest"] for m in one.call("GET", "/api/tags")[1]["models"]}
    assert stats["served"] == [
        {"name": "llama3.2:latest", "digest": "sha256:" + digests["llama3.2:latest"], "hosts": 1},
        {"name": "smollm2:135m", "digest": "sha256:" + digests["smollm2:135m"], "hosts": 2},
    ], stats["served"]
    # the failed host failed with its reason, at the end of the play
    failed = [e for e in events(artifacts) if e["event"] == "runner_on_failed" and not e["event_data"].get("ignore_errors")]
    assert [e["event_data"]["task"] for e in failed if e["event_data"].get("res", {}).get("_ansible_no_log") is not True][-1] == (
        "Fail the hosts that failed, with their reason"
    )
    assert len(json.dumps(data["artifact_data"])) < 4000, "the artifact stays small"

    # health.yml on the same fleet, as the next node of an AWX workflow: the site job's artifact comes as an extra var
    # and opens the report; the unhealthy host fails, and is counted with its reason
    private = tmp_path / "health"
    fleet(private / "inventory" / "hosts.json", hosts)
    (private / "env").mkdir()
    (private / "env" / "extravars").write_text(json.dumps(data["artifact_data"]))
    artifacts = run_job(private, "health.yml")
    earlier = [e for e in events(artifacts) if e["event"] == "runner_on_ok" and e["event_data"]["task"] == "Report the earlier nodes of the workflow"]
    assert [e["event_data"]["res"]["msg"] for e in earlier] == [
        ["site: 2 of 3 host(s) ok, 1 failed (host-3); added 2, updated 0, removed 0, failed 0, unavailable 0"]
    ]
    data = stats_event(artifacts)
    stats = data["artifact_data"]["ollama_stats_health"]
    assert stats["hosts"] == {"total": 3, "ok": 2, "failed": 1, "unreachable": 0, "not_reached": 0}, stats
    assert stats["unhealthy"] == 1 and [row["host"] for row in stats["failed_hosts"]] == ["host-3"]
    assert {(m["name"], m["hosts"]) for m in stats["served"]} == {("smollm2:135m", 2), ("llama3.2:latest", 1)}


def test_models_and_mirror_publish_their_statistics(make_sim, tmp_path: Path) -> None:
    upstream = make_sim("upstream")
    host = make_sim("host")
    dead = "http://127.0.0.1:%d" % free_port()
    hosts = {
        "host-1": {"ollama_api_url": host.url, "ollama_models_registry_url": upstream.url, "ollama_models_list": ["smollm2:135m"]},
        "host-2": {"ollama_api_url": dead, "ollama_models_registry_url": dead, "ollama_models_list": ["smollm2:135m"]},
    }
    for name, values in hosts.items():
        values["ollama_models_state_dir"] = str(tmp_path / "state" / name)
    private = tmp_path / "models"
    fleet(private / "inventory" / "hosts.json", hosts)
    # check mode first: the artifact says so, and counts what would be added
    artifacts = run_job(private, "models.yml", cmdline="--check")
    stats = stats_event(artifacts)["artifact_data"]["ollama_stats_models"]
    assert stats["check_mode"] is True and stats["counts"]["added"] == 1 and stats["hosts"]["failed"] == 1, stats
    assert host.call("GET", "/api/tags")[1]["models"] == []

    mirror = tmp_path / "mirror-tree"
    private = tmp_path / "mirror"
    (private / "inventory").mkdir(parents=True)
    (private / "inventory" / "hosts.json").write_text(
        json.dumps({"all": {"children": {"mirror": {"hosts": {"mirror-1": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}}})
    )
    (private / "env").mkdir()
    (private / "env" / "extravars").write_text(
        json.dumps(
            {"ollama_mirror_path": str(mirror), "ollama_mirror_source": upstream.url, "ollama_mirror_models": ["smollm2:135m"], "ollama_mirror_serve": False}
        )
    )
    artifacts = run_job(private, "mirror.yml")
    assert (artifacts / "status").read_text() == "successful", (artifacts / "stdout").read_text()[-3000:]
    stats = stats_event(artifacts)["artifact_data"]["ollama_stats_mirror"]
    assert stats["hosts"]["ok"] == 1 and stats["counts"]["added"] == 1
    contents = stats["mirror"]["contents"]
    assert [row["name"] for row in contents] == ["registry.ollama.ai/library/smollm2:135m"] and contents[0]["size"] > 0
    assert contents[0]["digest"].startswith("sha256:") and stats["mirror"]["fetched_bytes"] == contents[0]["size"]
