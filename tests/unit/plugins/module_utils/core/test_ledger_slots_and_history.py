# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger's parts the sync uses: history, non-blocking slots and model locks, dead and reused process ids."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import (
    DOWNLOADING,
    FAILED,
    PAUSED,
    QUEUED,
    Ledger,
    boot_id,
    pid_alive,
    process_start,
    record_process_alive,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


def test_history_newest_first_and_trimmed(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path), clock=Clock())
    assert ledger.history(5) == []
    for index in range(7):
        ledger.append_history({"kind": "sync", "summary": {"added": index}}, keep=3)
    entries = ledger.history(2)
    assert [entry["summary"]["added"] for entry in entries] == [6, 5]
    assert entries[0]["pid"] == os.getpid() and entries[0]["host"] == ledger.host and entries[0]["time"].startswith("1970-01-01T00:")
    assert len(Path(ledger.history_path()).read_text().splitlines()) <= 6, "trimmed to the last runs"
    assert [entry["summary"]["added"] for entry in ledger.history()][:3] == [6, 5, 4]
    with open(ledger.history_path(), "a") as handle:
        handle.write("not json\n")
    assert ledger.history(1)[0]["summary"]["added"] == 6
    assert Ledger(None, "off").history(3) == []
    Ledger(None, "off").append_history({"kind": "sync"})


def test_slots_and_model_locks_are_taken_without_waiting(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    first = ledger.try_pull_slot(2)
    second = ledger.try_pull_slot(2)
    assert (first.index, second.index) == (0, 1)
    assert ledger.try_pull_slot(2) is None
    first.release()
    first.release()  # twice is harmless
    third = ledger.try_pull_slot(2)
    assert third is not None and third.index == 0
    unlimited = ledger.try_pull_slot(0)
    assert unlimited is not None and unlimited.index is None
    with ledger.pull_slot(3, lambda: None) as index:
        assert index == 2, "the blocking slot shares the same files"
    lock = ledger.try_model_lock("llama3.2")
    assert lock is not None
    assert ledger.try_model_lock("llama3.2:latest") is None, "one lock per model, whatever the spelling"
    assert Ledger.open(str(tmp_path)).try_model_lock("llama3.2") is None
    assert ledger.try_model_lock("other") is not None
    lock.release()
    assert ledger.try_model_lock("llama3.2") is not None
    assert Ledger(None).try_model_lock("x") is not None


def test_a_zombie_is_not_alive(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with open("/proc/%d/stat" % child.pid) as handle:
            if handle.read().rsplit(")", 1)[1].split()[0] == "Z":
                break
        time.sleep(0.01)
    try:
        assert not pid_alive(child.pid), "exited but not reaped yet: a zombie"
        ledger = Ledger.open(str(tmp_path))
        ledger.set_status("m", DOWNLOADING, operation="pull", pid=child.pid)
        assert ledger.read("m")["status"] == PAUSED
    finally:
        child.wait()


def test_a_reused_pid_or_another_boot_is_not_the_same_process(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    record = ledger.set_status("m", QUEUED, operation="pull")
    assert record["pid"] == os.getpid() and record["pid_start"] == process_start(os.getpid()) and record["boot_id"] == (boot_id() or None)
    assert record_process_alive(record)
    assert not record_process_alive(dict(record, pid_start=record["pid_start"] - 1))
    assert not record_process_alive(dict(record, boot_id="another-boot"))
    assert record_process_alive({"pid": os.getpid()}), "older records without them: the pid alone"
    done = ledger.set_status("m", FAILED, "x")
    assert "pid_start" not in done and "boot_id" not in done


def test_recover_interrupted_marks_only_dead_processes_of_this_host(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True).stdout)
    ledger.set_status("gone", DOWNLOADING, operation="pull", pid=dead, started_at="2026-01-01T00:00:00+00:00", progress={"completed": 5, "total": 10})
    ledger.set_status("live", DOWNLOADING, operation="pull")
    ledger.set_status("elsewhere", DOWNLOADING, operation="pull", pid=dead, host="another-host")
    found = ledger.recover_interrupted()
    assert found == [
        {"name": "gone:latest", "pid": dead, "operation": "pull", "status": DOWNLOADING, "started_at": "2026-01-01T00:00:00+00:00", "completed": 5, "total": 10}
    ]
    raw = json.loads(Path(ledger.record_path("gone")).read_text())
    assert (raw["status"], raw["interrupted"], raw["interrupted_pid"], raw["progress"]["completed"]) == (PAUSED, True, dead, 5)
    assert "pid" not in raw and "interrupted_at" in raw
    assert "(interrupted)" in raw["message"]
    assert ledger.log_entries("gone")[-1]["event"] == "interrupted"
    assert ledger.read("live")["status"] == DOWNLOADING
    assert ledger.read("elsewhere")["status"] == DOWNLOADING
    assert ledger.recover_interrupted() == [], "marked once"
    assert Ledger(None).recover_interrupted() == []
