# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model_sync in real ansible-playbook runs against the Ollama API simulator."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.integration.playbook import REPO, PlaybookRun, playbook_command, run_playbook
from tests.ollama_sim.testing import model_vars as env
from tests.ollama_sim.testing import mutating

pytestmark = pytest.mark.integration


def run_steps(sim, tmp_path: Path, steps: list[dict], check: bool = False, diff: bool = False) -> list[dict]:
    """One playbook run; one ollama_model_sync result per step (failures included)."""
    variables = env(sim, tmp_path)
    variables["steps"] = steps
    run = run_playbook("sync.yml", variables, check=check, diff=diff)
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:] + run.stderr
    task = run.results("Sync")
    results = task["results"]
    assert len(results) == len(steps)
    return results


def one(sim, tmp_path: Path, check: bool = False, diff: bool = False, **step: Any) -> dict:
    return run_steps(sim, tmp_path, [step], check=check, diff=diff)[0]


def tags(sim) -> dict[str, str]:
    return {m["name"]: m["digest"] for m in sim.call("GET", "/api/tags")[1]["models"]}


def by_name(result: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in result["results"]}


def raw_records(state_dir: Path) -> dict[str, dict]:
    """The ledger's model records as written (not as read through the Ledger, which reports dead pids as paused)."""
    found = {}
    for path in (state_dir / "models").glob("*.json"):
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found[record["name"]] = record
    return found


def size_of(sim, name: str) -> int:
    return next(m["size"] for m in sim.catalog_models() if m["name"] == name)


def wait_for(condition: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out waiting for %s" % what)


class LedgerWatch:
    """Samples the raw ledger records in the background: every (name, status, queue_position, pid) seen."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.seen: list[tuple] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            for name, record in raw_records(self.state_dir).items():
                sample = (name, record.get("status"), record.get("queue_position"), record.get("pid"))
                if sample not in self.seen:
                    self.seen.append(sample)
            time.sleep(0.03)

    def __enter__(self) -> LedgerWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(5)


def pulling_at_a_third(record: dict | None) -> dict | None:
    if record and record.get("status") == "downloading" and 25 <= (record.get("progress") or {}).get("percent", 0) <= 70:
        return record
    return None


def start_playbook(playbook: str, extra_vars: dict[str, Any]) -> subprocess.Popen:
    """ansible-playbook in the background, in its own process group (so a test can kill it and its module)."""
    args, run_env = playbook_command(playbook, extra_vars)
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=run_env, cwd=str(REPO), start_new_session=True)


def descendants(pid: int) -> list[int]:
    """Every process below pid (from /proc), children first found first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """SIGKILL ansible-playbook and every process it started (its worker runs in a session of its own, so a process group is not enough)."""
    tree = [proc.pid, *descendants(proc.pid)]
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def finish_playbook(proc: subprocess.Popen, timeout: float = 120) -> PlaybookRun:
    stdout, stderr = proc.communicate(timeout=timeout)
    return PlaybookRun(proc.returncode, json.loads(stdout), stderr, stdout)


# ---------------------------------------------------------------------------- basics


def test_check_then_add_then_unchanged_with_diff_and_history(sim, tmp_path: Path) -> None:
    models = ["smollm2:135m", {"name": "all-minilm", "priority": "high"}, {"name": "qwen2.5:0.5b", "state": "loaded"}]
    planned = one(sim, tmp_path, check=True, diff=True, models=models)
    assert planned["changed"] is True and not planned.get("failed"), planned.get("msg")
    assert mutating(sim.requests()) == []
    assert not (tmp_path / "state").exists(), "check mode wrote the ledger"
    assert [(step["name"], step["action"], step["actions"]) for step in planned["plan"]] == [
        ("all-minilm:latest", "pulled", ["pulled"]),
        ("smollm2:135m", "pulled", ["pulled"]),
        ("qwen2.5:0.5b", "pulled", ["pulled", "loaded"]),
    ]
    assert planned["diff"]["before"] == ""
    assert [line.split()[0] for line in planned["diff"]["after"].splitlines()] == ["all-minilm:latest", "qwen2.5:0.5b", "smollm2:135m"]
    assert tags(sim) == {}

    sim.clear_requests()
    first = one(sim, tmp_path, diff=True, models=models)
    assert first["changed"] is True and not first.get("failed"), first.get("msg")
    # a first pull of 3 models reads the server's list once before the batch and once after it
    assert [r["path"] for r in sim.requests() if (r["method"], r["path"]) == ("GET", "/api/tags")] == ["/api/tags"] * 2
    assert first["summary"] == {"added": 3, "updated": 0, "removed": 0, "loaded": 1, "unloaded": 0, "unchanged": 0, "failed": 0, "unavailable": 0, "skipped": 0}
    assert [(r["name"], r["action"], r["status"]) for r in first["results"]] == [
        ("smollm2:135m", "pulled", "stopped"),
        ("all-minilm:latest", "pulled", "stopped"),
        ("qwen2.5:0.5b", "pulled", "running"),
    ]
    assert all(r["bytes"] > 0 and r["seconds"] > 0 for r in first["results"])
    assert [(step["name"], step["actions"]) for step in first["plan"]] == [(step["name"], step["actions"]) for step in planned["plan"]]
    assert first["diff"]["after"] == planned["diff"]["after"], "check mode predicted the digests the run got"
    assert first["lock"] == sorted(first["lock"], key=lambda pin: pin["name"]) and len(first["lock"]) == 3

    sim.clear_requests()
    second = one(sim, tmp_path, diff=True, models=models)
    assert (second["changed"], second["summary"]["unchanged"], second["plan"]) == (False, 3, [])
    # a converged host: the two reads, and the one GET /api/version of the health facts
    assert [(r["method"], r["path"]) for r in sim.requests()] == [("GET", "/api/tags"), ("GET", "/api/ps"), ("GET", "/api/version")]
    assert second["diff"]["before"] == second["diff"]["after"] == first["diff"]["after"]
    # the health facts are ollama_info's, key for key
    health = second["health"]
    probe = run_playbook("info.yml", {"info_api_url": sim.url}).results("Probe")
    for key in ("api_url", "healthy", "reason", "version", "models", "models_count", "models_total_size", "models_total_size_human", "loaded_count"):
        assert health[key] == probe[key], key
    # expires_at is read at another moment by each; every other field of a loaded model is the same
    assert [dict(entry, expires_at="") for entry in health["loaded"]] == [dict(entry, expires_at="") for entry in probe["loaded"]]
    assert [sorted(entry) for entry in health["loaded"]] == [sorted(entry) for entry in probe["loaded"]]
    assert (health["healthy"], health["models_count"], [entry["name"] for entry in health["loaded"]]) == (True, 3, ["qwen2.5:0.5b"])
    assert health["disk"]["path"] == str(sim.data) and health["disk"]["free"] > 0 and health["disk"]["error"] == ""

    info = run_playbook("sync_info.yml", dict(env(sim, tmp_path), history=5)).results("Info")
    history = info["history"]
    assert [entry["summary"]["added"] for entry in history] == [0, 3], "newest first; check mode is not recorded"
    assert history[1]["changed"] is True and history[1]["models"] == 3 and history[1]["bytes"] > 7_000_000
    assert history[0]["kind"] == "sync" and history[0]["failed"] == []


def test_exclusive_removes_only_the_undeclared_and_protect_holds(sim, tmp_path: Path) -> None:
    for model in ("smollm2:135m", "all-minilm", "qwen2.5:0.5b", "nomic-embed-text", "llama3.2:1b"):
        sim.pull(model)
    sim.call("POST", "/api/generate", {"model": "llama3.2:1b", "prompt": "", "stream": False})
    step = {
        "models": ["smollm2:135m", {"name": "helper", "from": "qwen2.5:0.5b", "system": "Be brief."}],
        "exclusive": True,
        "protect": ["*EMBED*"],
    }
    sim.clear_requests()
    planned = one(sim, tmp_path, check=True, **step)
    assert mutating(sim.requests()) == []
    removals = [(s["name"], s["actions"], s["declared"]) for s in planned["plan"] if s["phase"] == "remove"]
    assert removals == [("all-minilm:latest", ["deleted"], False), ("llama3.2:1b", ["unloaded", "deleted"], False)]
    assert planned["protected"] == [
        {"name": "nomic-embed-text:latest", "reason": "protect '*embed*'"},
        {"name": "qwen2.5:0.5b", "reason": "the base of the custom model helper:latest"},
    ]
    assert set(tags(sim)) == {"smollm2:135m", "all-minilm:latest", "qwen2.5:0.5b", "nomic-embed-text:latest", "llama3.2:1b"}

    done = one(sim, tmp_path, **step)
    assert not done.get("failed"), done.get("msg")
    assert [(s["name"], s["action"]) for s in done["plan"]] == [(s["name"], s["action"]) for s in planned["plan"]]
    assert set(tags(sim)) == {"smollm2:135m", "helper:latest", "qwen2.5:0.5b", "nomic-embed-text:latest"}
    assert (done["summary"]["removed"], done["summary"]["added"], done["summary"]["unchanged"]) == (2, 1, 1)
    assert by_name(done)["helper:latest"]["action"] == "created"

    again = one(sim, tmp_path, **step)
    assert (again["changed"], again["summary"]["removed"], again["plan"]) == (False, 0, [])


# ---------------------------------------------------------------------------- order and limits


def test_priority_order_queue_positions_and_the_concurrency_limit(make_sim, tmp_path: Path) -> None:
    slow = make_sim("slow", rate=4_000_000)
    models = [
        {"name": "smollm2:135m", "priority": "low"},
        {"name": "all-minilm", "priority": "high"},
        "qwen2.5:0.5b",
        {"name": "nomic-embed-text", "priority": "high"},
    ]
    with LedgerWatch(tmp_path / "state") as watch:
        ordered = one(slow, tmp_path, models=models, concurrency=1)
    assert not ordered.get("failed"), ordered.get("msg")
    pulls = slow.pulls()
    assert [p["model"] for p in pulls["pulls"]] == ["all-minilm:latest", "nomic-embed-text:latest", "qwen2.5:0.5b", "smollm2:135m"]
    assert pulls["max_active"] == 1
    positions = [position for name, status, position, _pid in watch.seen if name == "smollm2:135m" and status == "queued" and position]
    assert positions == [3, 2, 1], watch.seen  # all-minilm starts at once; the others wait their turn, in line
    assert [name for name, status, position, _pid in watch.seen if status == "queued" and position == 1] == [
        "nomic-embed-text:latest",
        "qwen2.5:0.5b",
        "smollm2:135m",
    ]
    assert raw_records(tmp_path / "state")["smollm2:135m"]["status"] == "ok"

    slow.clear_pulls()
    wide = one(slow, tmp_path, models=["llama3.2:1b", "llama3.2:latest", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"], concurrency=2)
    assert not wide.get("failed"), wide.get("msg")
    assert slow.pulls()["max_active"] == 2, "two at once, never three"
    assert wide["summary"]["added"] == 3


# ---------------------------------------------------------------------------- failures


def test_one_unknown_model_others_complete_and_fail_fast_stops_new_pulls(sim, tmp_path: Path) -> None:
    result = one(sim, tmp_path, models=["smollm2:135m", "no-such-model:7b", "all-minilm"])
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 3 models failed: no-such-model:7b: model 'no-such-model:7b' not found in registry.ollama.ai/library")
    assert set(tags(sim)) == {"smollm2:135m", "all-minilm:latest"}
    assert [(r["name"], r["action"], r["status"]) for r in result["results"]] == [
        ("smollm2:135m", "pulled", "stopped"),
        ("no-such-model:7b", "failed", "failed"),
        ("all-minilm:latest", "pulled", "stopped"),
    ]
    assert (result["summary"]["failed"], result["summary"]["added"], result["unavailable"]) == (1, 2, ["no-such-model:7b"])

    sim.clear_pulls()
    stopped = one(sim, tmp_path, models=["qwen2.5:0.5b", {"name": "nope:1b", "priority": "high"}, "llama3.2:1b"], concurrency=1, fail_fast=True)
    assert stopped["failed"] is True
    assert stopped["msg"] == (
        "1 of 3 models failed: nope:1b: model 'nope:1b' not found in registry.ollama.ai/library: pull model manifest: file does not exist. "
        "not started because fail_fast is on: qwen2.5:0.5b, llama3.2:1b"
    )
    assert [p["model"] for p in sim.pulls()["pulls"]] == ["nope:1b"], "no pull after the failure"
    assert [r["action"] for r in stopped["results"]] == ["skipped", "failed", "skipped"]
    assert stopped["summary"]["skipped"] == 2
    records = raw_records(tmp_path / "state")
    assert records["qwen2.5:0.5b"]["status"] == "absent" and "fail_fast" in records["qwen2.5:0.5b"]["message"], "no stale queued"


# ---------------------------------------------------------------------------- lock file


def test_lock_file_round_trip_pins_a_second_host(make_sim, tmp_path: Path) -> None:
    first = make_sim("first")
    second = make_sim("second")
    lock = tmp_path / "models.lock.yml"
    models = ["smollm2:135m", {"name": "all-minilm", "state": "loaded"}]
    written = one(first, tmp_path, models=models, lock_file=str(lock), state_dir=str(tmp_path / "state1"))
    assert written["changed"] is True and written["lock_file_changed"] is True, written.get("msg")
    data = json.loads(lock.read_text())  # JSON, which YAML tools read as it is
    assert data["comment"].startswith("Model lock written by llmops.ollama.ollama_model_sync")
    digests = tags(first)
    assert {"name": "smollm2:135m", "digest": "sha256:%s" % digests["smollm2:135m"], "size": size_of(first, "smollm2:135m")} in data["models"]
    again = one(first, tmp_path, models=models, lock_file=str(lock), state_dir=str(tmp_path / "state1"))
    assert (again["changed"], again["lock_file_changed"]) == (False, False)

    # upstream moves on after the lock was written: the second host still gets the locked bytes... when the registry serves them
    pinned = one(second, tmp_path, models=models, lock_file=str(lock), lock_mode="read", state_dir=str(tmp_path / "state2"))
    assert not pinned.get("failed"), pinned.get("msg")
    assert tags(second) == digests
    second.bump("smollm2:135m", version=2)
    held = one(second, tmp_path, models=models, lock_file=str(lock), lock_mode="read", state_dir=str(tmp_path / "state2"))
    assert (held["changed"], held["summary"]["unchanged"]) == (False, 2), "a pinned model that matches is not updated"
    assert tags(second) == digests

    updated = one(second, tmp_path, models=[{"name": "smollm2:135m", "update": True}], state_dir=str(tmp_path / "state2"))
    assert updated["results"][0]["action"] == "updated"
    back = one(second, tmp_path, models=models, lock_file=str(lock), lock_mode="read", state_dir=str(tmp_path / "state2"))
    assert back["failed"] is True
    assert "digest mismatch for smollm2:135m: the pin is sha256:%s but the registry serves sha256:" % digests["smollm2:135m"] in back["msg"]
    assert "the update was refused" in back["msg"]

    second.clear_requests()
    missing = one(second, tmp_path, models=[*models, "qwen2.5:0.5b"], lock_file=str(lock), lock_mode="read", state_dir=str(tmp_path / "state2"))
    assert missing["failed"] is True
    assert missing["msg"] == (
        "the lock file %s pins no digest for qwen2.5:0.5b; run the sync once with lock_mode: write to record them, or remove them from models" % lock
    )
    assert second.requests() == []


# ---------------------------------------------------------------------------- interruptions


def test_sigkill_mid_pull_leaves_an_honest_ledger_and_the_rerun_resumes(make_sim, tmp_path: Path) -> None:
    """SIGKILL of ansible-playbook and its module mid-pull.

    (SIGKILL of ansible-playbook alone leaves the module running in the worker's session: it finishes the
    pull, and the ledger shows it downloading by a live process meanwhile, which is just as honest.)
    """
    slow = make_sim("slow", rate=1_500_000)
    big = "llama3.2:latest"
    size = size_of(slow, big)
    variables = dict(env(slow, tmp_path), steps=[{"models": [big, "smollm2:135m"], "concurrency": 1}])
    state = tmp_path / "state"
    proc = start_playbook("sync.yml", variables)
    try:
        record = wait_for(lambda: pulling_at_a_third(raw_records(state).get(big)), what="the pull at a third")
        kill_tree(proc)  # as a job cancel in AWX does: the playbook, its worker and the module all die at once
        proc.wait(10)
    finally:
        if proc.poll() is None:
            kill_tree(proc)
        proc.communicate()
    pid = record["pid"]
    wait_for(lambda: slow.pulls()["active"] == 0, 10, "the server to notice the client is gone")
    left = raw_records(state)
    assert (left[big]["status"], left[big]["pid"]) == ("downloading", pid), "SIGKILL leaves the record as it was"
    assert left["smollm2:135m"]["status"] == "queued"
    done_before = slow.stats()["pulled"]
    assert 0.2 * size < done_before < 0.9 * size

    info = run_playbook("sync_info.yml", dict(env(slow, tmp_path), info_name=big)).results("Info")["model"]
    assert info["status"] == "paused" and "(interrupted)" in info["message"] and info["progress"]["completed"] > 0

    rerun = one(slow, tmp_path, models=[big, "smollm2:135m"])
    assert not rerun.get("failed"), rerun.get("msg")
    assert sorted((entry["name"], entry["pid"], entry["status"]) for entry in rerun["interrupted"]) == [
        (big, pid, "downloading"),
        ("smollm2:135m", pid, "queued"),
    ]
    assert by_name(rerun)[big]["action"] == "pulled"
    assert "(interrupted); resumed" in by_name(rerun)[big]["message"]
    total = size + size_of(slow, "smollm2:135m")
    assert slow.stats()["pulled"] <= 1.05 * total, "the partial layer was not fetched again"
    after = raw_records(state)
    assert {record["status"] for record in after.values()} == {"ok"}
    events = [json.loads(line)["event"] for line in (state / "logs").glob("*llama3.2%3Alatest.jsonl").__next__().read_text().splitlines()]
    assert events == ["pull-started", "interrupted", "pull-started", "pulled"]


# ---------------------------------------------------------------------------- two playbooks at once


# serial: the second playbook must start while the first still downloads, which CPU taken by tests beside it can delay
@pytest.mark.serial
@pytest.mark.parametrize(
    ("slots", "rate"),
    [(1, 1_000_000), (None, 500_000)],  # one pull slot on the host (7.3 MB of pulls: 7 s for the second playbook to queue); the default slots (3), slower
    ids=["one-slot", "default-slots"],
)
def test_two_concurrent_playbooks_download_each_model_once(make_sim, tmp_path: Path, slots: int | None, rate: int) -> None:
    slow = make_sim("slow", rate=rate)
    base = env(slow, tmp_path)
    limit = {} if slots is None else {"max_concurrent_pulls": slots}
    first_models = ["llama3.2:1b", "qwen2.5:0.5b"]
    second_models = ["llama3.2:1b", "qwen2.5:0.5b", "smollm2:135m"]
    with LedgerWatch(tmp_path / "state") as watch:
        first = start_playbook("sync.yml", dict(base, steps=[{"models": first_models, **limit}]))
        wait_for(lambda: raw_records(tmp_path / "state").get("llama3.2:1b", {}).get("status") == "downloading", what="the first pull")
        first_pid = raw_records(tmp_path / "state")["llama3.2:1b"]["pid"]
        second = start_playbook("sync.yml", dict(base, steps=[{"models": second_models, **limit}]))
        runs = [finish_playbook(first), finish_playbook(second)]
    results = [run.results("Sync")["results"][0] for run in runs]
    for result in results:
        assert not result.get("failed"), result.get("msg")
    # the simulator joins concurrent downloads of a blob and never fetches one it has, so its byte counts cannot tell
    # whether both syncs pulled a model: its request log can (one POST /api/pull stream per model)
    pull_streams = [r.get("model") for r in slow.requests() if (r["method"], r["path"]) == ("POST", "/api/pull")]
    assert sorted(pull_streams) == sorted(second_models), "each model downloaded once: one POST /api/pull per model"
    pulled = [entry["name"] for result in results for entry in result["results"] if entry["action"] == "pulled"]
    assert sorted(pulled) == ["llama3.2:1b", "qwen2.5:0.5b", "smollm2:135m"], "each model pulled by one of the two"
    sizes = sum(size_of(slow, name) for name in second_models)
    assert slow.stats()["pulled"] <= 1.01 * sizes, "each model downloaded once"
    if slots == 1:
        assert slow.pulls()["max_active"] == 1, "one pull at a time on the host, across both playbooks"
        queued_by_second = [(name, position) for name, status, position, pid in watch.seen if status == "queued" and position and pid != first_pid]
        assert queued_by_second, watch.seen  # the second playbook's models wait their turn, with their place in line
    else:
        assert 2 <= slow.pulls()["max_active"] <= 3, slow.pulls()  # the pulls of both playbooks overlap, within the host's 3 slots
    notes = [entry["message"] for result in results for entry in result["results"] if entry["action"] == "unchanged"]
    assert any("while this sync waited for it" in note for note in notes), notes


# ---------------------------------------------------------------------------- bad input

BAD_INPUT = [
    ({"models": ["llama3.2", "llama3.2:latest"]}, "models[0] (llama3.2) and models[1] (llama3.2:latest) are the same model, llama3.2:latest"),
    ({"models": [{"name": "llama3.2", "prority": "high"}]}, "models[0] has an unknown key 'prority' (did you mean 'priority'?)"),
    ({"models": [{"name": "llama3.2", "priority": "urgent"}]}, "models[0] (llama3.2): invalid priority 'urgent': choose one of high, normal, low"),
    ({"models": ["llama3.2"], "concurrency": 0}, "concurrency must be from 1 to 16, got 0"),
    ({"models": ["llama3.2"], "concurrency": 17}, "concurrency must be from 1 to 16, got 17"),
    ({"models": ["llama3.2"], "exclusive": True, "protect": ["llama[3"]}, "protect[0] 'llama[3' is not a valid glob: the '[' at position 5 is never closed"),
    ({"models": ["llama3.2"], "exclusive": True, "protect": ["my model"]}, "protect[0] 'my model' is not a valid glob: ' ' cannot be part of a model name"),
    ({"models": ["llama3.2"], "protect": ["qwen]"]}, "']' at position 4 closes no '['"),
    ({"models": ["llama3.2"], "protect": [""]}, "protect[0] is empty"),
    ({"models": [5]}, "models[0] must be a model name or a dictionary with a name, got 5 (int)"),
    ({"models": [{"state": "present"}]}, "models[0] has no name"),
    ({"models": ["bad name"]}, "models[0] (bad name): invalid model name 'bad name'"),
    ({"models": [{"name": "llama3.2", "state": "running"}]}, "invalid state 'running': choose one of present, loaded, absent, unloaded"),
    ({"models": [{"name": "llama3.2", "state": "loaded", "keep_alive": "5 minutes"}]}, "invalid keep_alive '5 minutes'"),
    ({"models": [{"name": "llama3.2", "update": "maybe"}]}, "models[0] (llama3.2): update must be a boolean (true or false), got 'maybe'"),
    ({"models": [{"name": "x", "system": "hi"}]}, "system describe a custom model, which needs from"),
    ({"models": [], "exclusive": True}, "exclusive with an empty models list would remove every model from the server"),
    ({"models": ["llama3.2"], "lock_mode": "read"}, "lock_mode is read but no lock_file is given"),
    ({"models": ["llama3.2"], "lock_mode": "read", "lock_file": "/nonexistent/models.lock.yml"}, "the lock file /nonexistent/models.lock.yml does not exist"),
    ({"models": ["llama3.2"], "max_concurrent_pulls": -1}, "max_concurrent_pulls must be 0 (no limit) or more"),
    ({"models": ["llama3.2"], "lock_mode": "sometimes"}, "value of lock_mode must be one of: write, read, got: sometimes"),
    ({"models": ["llama3.2"], "probe": "inference", "probe_timeout": 0}, "probe_timeout must be more than 0 seconds (got 0"),
    ({"models": ["llama3.2"], "probe": "inference", "probe_model": " "}, "probe_model must name a model (got an empty string)"),
]


def test_bad_input_fails_naming_the_problem_before_any_request(sim, tmp_path: Path) -> None:
    steps = [dict(step, label="case %d" % index) for index, (step, _fragment) in enumerate(BAD_INPUT)]
    results = run_steps(sim, tmp_path, steps)
    for (step, fragment), result in zip(BAD_INPUT, results):
        assert result.get("failed") is True, (step, result)
        assert fragment in result["msg"], (step, result["msg"])
    assert sim.requests() == [], "bad input was caught before any request"
    assert not (tmp_path / "state").exists()


# ---------------------------------------------------------------------------- transfers: false, and the inference probe


def test_without_transfers_applies_the_rest_leaves_the_pulls_pending_then_a_run_with_transfers_does_them(sim, tmp_path: Path) -> None:
    for model in ("smollm2:135m", "all-minilm"):
        sim.pull(model)
    lock = tmp_path / "models.lock.yml"
    models = [{"name": "smollm2:135m", "state": "loaded"}, "qwen2.5:0.5b", {"name": "helper", "from": "qwen2.5:0.5b", "system": "Be brief."}]
    step = {"models": models, "exclusive": True, "lock_file": str(lock), "transfers": False}
    sim.clear_requests()
    first = one(sim, tmp_path, **step)
    assert not first.get("failed"), first.get("msg")
    assert first["changed"] is True and first["pending"] == ["qwen2.5:0.5b", "helper:latest"]
    assert [(r["name"], r["action"], r["status"]) for r in first["results"]] == [
        ("smollm2:135m", "loaded", "running"),
        ("qwen2.5:0.5b", "pending", "pending"),
        ("helper:latest", "pending", "pending"),
        ("all-minilm:latest", "removed", "unavailable"),
    ]
    assert by_name(first)["helper:latest"]["message"] == "its transfer is pending"  # its create pulls the base
    assert [(r["method"], r["path"]) for r in mutating(sim.requests())] == [("DELETE", "/api/delete"), ("POST", "/api/generate")], "no pull, no create"
    assert set(tags(sim)) == {"smollm2:135m"}
    assert not lock.exists(), "no lock file while transfers are pending"
    assert sync_history(sim, tmp_path) == [], "no history entry while transfers are pending"
    assert first["health"]["healthy"] is True and first["health"]["models"] == ["smollm2:135m"] and first["health"]["inference"] is None

    second = one(sim, tmp_path, **{**step, "transfers": True})
    assert not second.get("failed"), second.get("msg")
    assert (second["pending"], by_name(second)["qwen2.5:0.5b"]["action"], by_name(second)["helper:latest"]["action"]) == ([], "pulled", "created")
    assert lock.exists() and len(sync_history(sim, tmp_path)) == 1

    sim.clear_requests()
    third = one(sim, tmp_path, **step)
    assert (third["changed"], third["pending"], third["plan"], third["summary"]["unchanged"]) == (False, [], [], 3)
    assert mutating(sim.requests()) == []
    assert len(sync_history(sim, tmp_path)) == 2, "a converged host's run without transfers records its counts"


def test_without_transfers_refuses_to_start_when_the_ledger_cannot_be_used(sim, tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("not a directory\n")
    state_dir = str(tmp_path / "file.txt" / "state")
    for check in (False, True):
        result = one(sim, tmp_path, check=check, models=["smollm2:135m"], transfers=False, state_dir=state_dir)
        assert result.get("failed") is True and "results" not in result, result
        assert result["msg"].startswith("transfers is false, and the run after this one needs its ledger: the ledger directory %s" % state_dir)
    assert sim.requests() == [], "refused before any request"


def test_the_inference_probe_is_in_the_health_of_the_same_call(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.clear_requests()
    probed = one(sim, tmp_path, models=["smollm2:135m"], transfers=False, probe="inference", probe_timeout=20)
    inference = probed["health"]["inference"]
    assert (probed["changed"], probed["health"]["healthy"], inference["healthy"], inference["model"], inference["kind"]) == (
        False,
        True,
        True,
        "smollm2:135m",
        "generate",
    )
    assert inference["latency"] > 0 and inference["timeout"] == 20
    assert [r["name"] for r in probed["health"]["loaded"]] == ["smollm2:135m"], "the loaded models as read after the probe"
    assert [(r["method"], r["path"]) for r in mutating(sim.requests())] == [("POST", "/api/generate")]

    missing = one(sim, tmp_path, models=["smollm2:135m"], probe="inference", probe_model="no-such-model:1b")
    assert not missing.get("failed"), "an unhealthy server is a fact of the result, not a failure of the sync"
    assert missing["health"]["healthy"] is False and missing["health"]["inference"]["healthy"] is False
    assert missing["health"]["reason"] == missing["health"]["inference"]["reason"] and "no-such-model:1b" in missing["health"]["reason"]


def sync_history(sim, tmp_path: Path) -> list[dict]:
    return run_playbook("sync_info.yml", dict(env(sim, tmp_path), history=20)).results("Info")["history"]
