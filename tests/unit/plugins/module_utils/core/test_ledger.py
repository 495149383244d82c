# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the per-host ledger: atomic records, locks, progress, the log, pull slots."""

from __future__ import annotations

import json
import multiprocessing
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import (
    DOWNLOADING,
    FAILED,
    PAUSED,
    QUEUED,
    Ledger,
    file_key,
    pid_alive,
    unwritable_reason,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_file_key_is_one_safe_unambiguous_file_name() -> None:
    assert file_key("llama3.2") == "registry.ollama.ai%2Flibrary%2Fllama3.2%3Alatest"
    assert file_key("Llama3.2:latest") == file_key("llama3.2")
    assert file_key("hf.co/bartowski/Model-GGUF:Q4_K_M") == "hf.co%2Fbartowski%2Fmodel-gguf%3Aq4_k_m"
    assert file_key("a_b/c") != file_key("a/b_c")
    long_name = "h" * 300 + "/ns/model:tag"
    key = file_key(long_name)
    assert len(key) <= 180 and "/" not in key
    assert key != file_key("h" * 299 + "x/ns/model:tag")


def test_open_creates_directories_and_reports_unusable_ones(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "state"))
    assert ledger.enabled and ledger.error == ""
    assert sorted(p.name for p in (tmp_path / "state").iterdir()) == ["locks", "logs", "models", "slots"]

    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    broken = Ledger.open(str(blocker / "state"))
    assert not broken.enabled
    assert broken.error.startswith("the ledger directory %s cannot be used (" % (blocker / "state"))
    assert "set state_dir to a writable directory" in broken.error
    # a disabled ledger ignores writes and reads nothing
    assert broken.update("llama3.2", status=FAILED) is None
    broken.log("llama3.2", "pulled")
    assert broken.read("llama3.2") is None and broken.records() == {} and broken.log_entries("llama3.2") == []


def test_unwritable_reason_tells_without_writing_whether_a_ledger_could_be_made(tmp_path: Path) -> None:
    assert unwritable_reason(str(tmp_path / "state")) == "", "a missing directory under a writable one can be created"
    assert not (tmp_path / "state").exists(), "nothing was created"
    assert unwritable_reason(str(tmp_path / "a" / "b" / "c")) == ""
    Ledger.open(str(tmp_path / "state"))
    assert unwritable_reason(str(tmp_path / "state")) == ""

    blocker = tmp_path / "file.txt"
    blocker.write_text("not a directory")
    assert unwritable_reason(str(blocker / "sub")) == "%s is not a directory" % blocker
    assert unwritable_reason(str(blocker)) == "%s is not a directory" % blocker
    assert unwritable_reason("") == "no state_dir was given"

    (tmp_path / "state" / "slots").rmdir()
    (tmp_path / "state" / "slots").write_text("")
    assert unwritable_reason(str(tmp_path / "state")) == "%s is not a directory" % (tmp_path / "state" / "slots")


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes in read-only directories")
def test_unwritable_reason_of_a_read_only_directory(tmp_path: Path) -> None:
    read_only = tmp_path / "ro"
    read_only.mkdir(mode=0o500)
    try:
        assert unwritable_reason(str(read_only)) == "%s cannot be written (permission denied)" % read_only
        assert unwritable_reason(str(read_only / "state")) == "%s cannot be written (permission denied)" % read_only
        assert not Ledger.open(str(read_only / "state")).enabled, "the real open agrees"
    finally:
        read_only.chmod(0o700)


def test_open_without_create_reads_a_missing_directory_as_empty(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "nothing"), create=False)
    assert ledger.enabled and ledger.records() == {} and ledger.read("x") is None
    assert not (tmp_path / "nothing").exists()
    assert Ledger.open("", create=False).error == "no state_dir was given"


def test_update_merges_atomically_and_none_removes(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    ledger.update("llama3.2:1b", status=DOWNLOADING, progress={"completed": 1}, source="custom")
    record = ledger.update("llama3.2:1b", progress=None, message="half way")
    assert record is not None
    assert record["name"] == "llama3.2:1b"
    assert record["key"] == "registry.ollama.ai/library/llama3.2:1b"
    assert record["status"] == DOWNLOADING and record["source"] == "custom" and "progress" not in record
    path = Path(ledger.record_path("llama3.2:1b"))
    assert json.loads(path.read_text()) == record
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == [path.name], "no temporary file is left behind"
    assert record["log_file"] == ledger.log_path("llama3.2:1b")


def test_set_status_active_carries_pid_and_others_drop_progress(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    record = ledger.start("qwen2.5:0.5b", "pull")
    assert record["status"] == DOWNLOADING and record["pid"] == os.getpid() and record["operation"] == "pull"
    ledger.update("qwen2.5:0.5b", progress={"completed": 5, "total": 10})
    done = ledger.set_status("qwen2.5:0.5b", FAILED, "boom")
    assert done["status"] == FAILED and done["message"] == "boom"
    assert "pid" not in done and "progress" not in done


def test_an_active_record_of_a_dead_process_reads_as_paused(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    dead = int(proc.stdout)
    assert not pid_alive(dead)
    ledger.set_status("smollm2:135m", DOWNLOADING, operation="pull", pid=dead, started_at="2026-01-01T00:00:00+00:00")
    record = ledger.read("smollm2:135m")
    assert record["status"] == PAUSED and record["interrupted"] is True
    assert record["message"] == (
        "the pull started at 2026-01-01T00:00:00+00:00 by process %d stopped before it finished (interrupted); run the task again to resume" % dead
    )
    # a live one stays as it is
    ledger.set_status("smollm2:135m", QUEUED, operation="pull")
    assert ledger.read("smollm2:135m")["status"] == QUEUED
    assert ledger.records()["registry.ollama.ai/library/smollm2:135m"]["status"] == QUEUED


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    assert not pid_alive(None) and not pid_alive(True) and not pid_alive(-3)


def test_log_appends_json_lines(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path), clock=Clock())
    ledger.log("llama3.2", "pull-started", total=10, registry=None)
    ledger.log("llama3.2:latest", "pulled", digest="ab" * 32)
    lines = Path(ledger.log_path("llama3.2")).read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert first == {"event": "pull-started", "model": "llama3.2:latest", "pid": os.getpid(), "time": "1970-01-01T00:16:40+00:00", "total": 10}
    assert [e["event"] for e in ledger.log_entries("llama3.2")] == ["pull-started", "pulled"]
    assert [e["event"] for e in ledger.log_entries("llama3.2", limit=1)] == ["pulled"]
    with open(ledger.log_path("llama3.2"), "a") as handle:
        handle.write("not json\n")
    assert len(ledger.log_entries("llama3.2")) == 2


def _writer(state_dir: str, index: int) -> None:
    ledger = Ledger.open(state_dir)
    for step in range(25):
        ledger.update("shared", **{"w%d" % index: step})
        ledger.log("shared", "step", writer=index, step=step)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    processes = [multiprocessing.Process(target=_writer, args=(str(tmp_path), index)) for index in range(4)]
    for proc in processes:
        proc.start()
    for proc in processes:
        proc.join(30)
        assert proc.exitcode == 0
    ledger = Ledger.open(str(tmp_path))
    record = ledger.read("shared")
    assert {record["w%d" % index] for index in range(4)} == {24}
    assert len(ledger.log_entries("shared")) == 100


def test_progress_is_written_at_most_once_per_interval(tmp_path: Path) -> None:
    clock = Clock()
    ledger = Ledger.open(str(tmp_path))
    writer = ledger.progress("llama3.2", min_interval=1.0, clock=clock)
    writer.update(0, 1000, "pulling")
    for step in range(1, 10):
        clock.now += 0.1
        writer.update(step * 10, 1000, "pulling")
    assert writer.writes == 0, "no record before one interval of samples measures a speed"
    assert ledger.read("llama3.2") is None, "nothing written yet"
    clock.now += 0.2
    progress = writer.update(200, 1000, "pulling")
    assert writer.writes == 1
    assert progress["percent"] == 20.0
    assert progress["speed"] == 182  # 200 bytes in 1.1 s
    assert progress["eta"] == pytest.approx(800 / 181.818, rel=0.01)
    assert progress["eta_human"] == "4s"
    assert progress["speed_human"] == "182 B/s"
    clock.now += 0.5
    writer.update(250, 1000, "pulling")
    assert writer.writes == 1, "at most one write per interval"
    stored = ledger.read("llama3.2")["progress"]
    assert stored["completed"] == 200 and stored["total"] == 1000
    writer.update(1000, 1000, "success", force=True)
    assert ledger.read("llama3.2")["progress"]["percent"] == 100.0
    assert writer.update(999_999, 1_000_000)["percent"] == 99.9, "100 % only when complete"


def test_pull_slots_queue_beyond_the_limit(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    waited: list[str] = []
    sleeps: list[float] = []
    with ledger.pull_slot(1, lambda: waited.append("queued")) as first:
        assert first == 0
        other = Ledger.open(str(tmp_path))

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            if len(sleeps) >= 3:
                raise RuntimeError("still waiting")

        with pytest.raises(RuntimeError), other.pull_slot(1, lambda: waited.append("queued"), sleep=sleep):
            pass
    assert waited == ["queued"] and sleeps == [1.0, 1.0, 1.0]
    with ledger.pull_slot(1, lambda: waited.append("again")) as slot:
        assert slot == 0
    with Ledger(None).pull_slot(3, lambda: None) as none:
        assert none is None


# ---------------------------------------------------------------------------- no symbolic link is followed (issue 19 class 5)
@pytest.mark.parametrize("which", ["log", "record", "lock", "history"])
def test_ledger_files_that_are_symlinks_are_not_followed(tmp_path: Path, which: str) -> None:
    ledger = Ledger.open(str(tmp_path / "state"), clock=Clock())
    ledger.log("llama3.2", "seed")  # the directories exist
    target = tmp_path / "victim"
    target.write_text("precious\n")
    paths = {
        "log": ledger.log_path("llama3.2"),
        "lock": ledger._lock_path("llama3.2"),
        "history": ledger.history_path(),
        "record": str(Path(ledger.log_path("llama3.2")).parent.parent / "models" / (Path(ledger.log_path("llama3.2")).stem + ".json")),
    }
    path = Path(paths[which])
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)
    warnings: list = []
    ledger = Ledger.open(str(tmp_path / "state"), clock=Clock(), warn=warnings.append)
    ledger.log("llama3.2", "pulled", digest="ab" * 32)
    ledger.append_history({"kind": "sync"})
    ledger.read("llama3.2")
    assert target.read_text() == "precious\n", "%s: written through a symbolic link" % which
    if which in ("log", "history", "lock"):
        assert any("symbolic link" in str(w) for w in warnings), (which, warnings)
