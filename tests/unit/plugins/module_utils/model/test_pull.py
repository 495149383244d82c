# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of streaming pulls and creates: error kinds, retries that resume, live progress."""

from __future__ import annotations

from http.client import IncompleteRead
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import FAILED, NOT_FOUND, PAUSED, OperationFailed, Transfer, classify
from tests.unit.fakes.streams import Clock, Script

LAYER = "sha256:" + "e" * 64


def err(message: str, status: Any = 200) -> OllamaError:
    return OllamaError("POST /api/pull: " + message, status=status, server_message=message if status is not None else None)


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (err("pull model manifest: file does not exist"), NOT_FOUND),
        (err("write /x: no space left on device"), PAUSED),
        (err("write /x: no space left on device", 500), PAUSED),
        (err("insecure protocol http"), FAILED),
        (err("max retries exceeded: unexpected EOF"), "retry"),
        (err("the stream stalled", None), "retry"),
        (err("server busy", 503), "retry"),
        (err("internal", 500), "retry"),
        (err("too many", 429), "retry"),
        (err("invalid model name", 400), FAILED),
        (err("nope", 404), NOT_FOUND),
    ],
)
def test_classify(error: OllamaError, kind: str) -> None:
    assert classify(error) == kind


def line(completed: int, total: int = 1000) -> Dict[str, Any]:
    return {"status": "pulling eeeeeeeeeeee", "digest": LAYER, "total": total, "completed": completed}


def transfer(client: Script, tmp_path: Path, **kwargs: Any) -> Transfer:
    sleeps: List[float] = []
    kwargs.setdefault("retry_delay", 1.5)
    made = Transfer(client, Ledger.open(str(tmp_path)), sleep=sleeps.append, clock=Clock(), progress_interval=0, **kwargs)  # type: ignore[arg-type]
    made.sleeps = sleeps  # type: ignore[attr-defined]
    return made


def test_a_cut_is_retried_and_resumes(tmp_path: Path) -> None:
    client = Script(
        [{"status": "pulling manifest"}, line(0), line(500), IncompleteRead(b"")],
        [{"status": "pulling manifest"}, line(500), line(1000), {"status": "verifying sha256 digest"}, {"status": "success"}],
    )
    pull = transfer(client, tmp_path, stall_timeout=7)
    stats = pull.pull(parse_name("m:1b"), insecure=True, expected_total=1100)
    assert (stats.attempts, stats.bytes, stats.total) == (2, 1000, 1100)
    # the socket timeout is only the fallback for a silent connection: the larger of stall_timeout and the request timeout (30)
    assert client.calls[0] == {"path": "/api/pull", "payload": {"model": "m:1b", "insecure": True, "stream": True}, "timeout": 30}
    assert pull.sleeps == [1.5]  # type: ignore[attr-defined]
    ledger = Ledger.open(str(tmp_path))
    retry = ledger.log_entries("m:1b")[0]
    assert retry["event"] == "retry" and retry["completed"] == 500 and "IncompleteRead" in retry["error"]
    progress = ledger.read("m:1b")["progress"]
    assert progress["completed"] == 1100 and progress["percent"] == 100.0 and progress["status"] == "success"
    as_dict = stats.as_dict()
    assert as_dict["bytes_human"] == "1.0 KB" and as_dict["attempts"] == 2 and as_dict["speed"] > 0


CONFIG = "sha256:" + "c" * 64
PRESENT = "sha256:" + "a" * 64


def test_missing_blobs_count_in_full_however_late_the_stream_reports_them(tmp_path: Path) -> None:
    """A fast download (a mirror, a registry over HTTP on the LAN): the first line of the weights already says done,
    the config blob gets no line at all, a blob the server had says done too (not moved): the count is the missing sizes."""
    client = Script(
        [
            {"status": "pulling manifest"},
            line(1000),
            {"status": "pulling aaaaaaaaaaaa", "digest": PRESENT, "total": 300, "completed": 300},
            {"status": "verifying sha256 digest"},
            {"status": "success"},
        ]
    )
    stats = transfer(client, tmp_path).pull(parse_name("m"), expected_total=1410, missing={LAYER: 1000, CONFIG: 110})
    assert (stats.attempts, stats.bytes) == (1, 1110)
    # without knowing what the server lacked, the progress lines alone: nothing seen moving
    again = transfer(Script(list(client_lines())), tmp_path / "other").pull(parse_name("m"), expected_total=1410)
    assert again.bytes == 0


def client_lines() -> List[Any]:
    return [{"status": "pulling manifest"}, line(1000), {"status": "success"}]


def test_a_missing_blob_resumed_after_a_cut_counts_each_byte_once(tmp_path: Path) -> None:
    client = Script(
        [{"status": "pulling manifest"}, line(400), IncompleteRead(b"")],  # the first line came late: 400 B already there
        [{"status": "pulling manifest"}, line(400), line(1000), {"status": "success"}],
    )
    stats = transfer(client, tmp_path).pull(parse_name("m"), missing={LAYER: 1000})
    assert (stats.attempts, stats.bytes) == (2, 1000)


def test_missing_blobs_asks_the_server_for_each_blob_and_gives_up_on_an_error(tmp_path: Path) -> None:
    class Heads(Script):
        def __init__(self, present: set, broken: bool = False) -> None:
            super().__init__()
            self.present, self.broken, self.heads = present, broken, []

        def blob_exists(self, digest: str) -> bool:
            self.heads.append(digest)
            if self.broken:
                raise OllamaError("HEAD /api/blobs: 500", status=500)
            return digest in self.present

    client = Heads({LAYER})
    assert transfer(client, tmp_path).missing_blobs({LAYER: 1000, CONFIG: 110}) == {CONFIG: 110}
    assert client.heads == [LAYER, CONFIG]
    assert transfer(Heads(set(), broken=True), tmp_path).missing_blobs({LAYER: 1000}) is None, "unknown: the lines alone count"
    assert transfer(Heads(set()), tmp_path).missing_blobs({}) is None


def test_a_stream_that_ends_without_success_is_retried(tmp_path: Path) -> None:
    client = Script([{"status": "pulling manifest"}, line(0), line(100)], [line(100), line(1000), {"status": "success"}])
    stats = transfer(client, tmp_path).pull(parse_name("m"))
    assert stats.attempts == 2 and stats.bytes == 1000


def test_retries_run_out_with_a_plain_message(tmp_path: Path) -> None:
    stalled = OllamaError("POST /api/pull: the stream stalled: no data for 60 seconds")
    client = Script([line(10), stalled], [line(10), stalled])
    with pytest.raises(OperationFailed) as failure:
        transfer(client, tmp_path, retries=1).pull(parse_name("m"))
    assert str(failure.value) == "the pull of 'm:latest' failed after 2 attempts: POST /api/pull: the stream stalled: no data for 60 seconds"
    assert failure.value.kind == FAILED and failure.value.stats.attempts == 2


def test_not_found_and_disk_full_are_not_retried(tmp_path: Path) -> None:
    client = Script([{"status": "pulling manifest"}, err("pull model manifest: file does not exist")])
    with pytest.raises(OperationFailed) as failure:
        transfer(client, tmp_path).pull(parse_name("hf.co/a/b:Q4"))
    assert str(failure.value) == "model 'hf.co/a/b:Q4' not found in hf.co/a: pull model manifest: file does not exist"
    assert failure.value.kind == NOT_FOUND

    client = Script([line(10), err("write /m/blobs/x: no space left on device")])
    with pytest.raises(OperationFailed) as failure:
        transfer(client, tmp_path).pull(parse_name("m"))
    assert failure.value.kind == PAUSED
    assert str(failure.value) == "the server ran out of disk space during the pull of 'm:latest': write /m/blobs/x: no space left on device"
    assert len(client.calls) == 1


def test_create_streams_the_definition(tmp_path: Path) -> None:
    client = Script([{"status": "using existing layer"}, {"status": "success"}])
    stats = transfer(client, tmp_path).create(parse_name("helper"), {"from": "m", "system": "s"})
    assert stats.attempts == 1
    assert client.calls[0]["payload"] == {"from": "m", "system": "s", "model": "helper:latest", "stream": True}
    client = Script([err("pull model manifest: file does not exist")])
    with pytest.raises(OperationFailed, match="cannot create 'helper:latest': the base model given in 'from' was not found"):
        transfer(client, tmp_path).create(parse_name("helper"), {"from": "nope"})


class Timeline:
    """A client whose stream plays scripted attempts on a fake clock: ``(second, line or exception)``,
    the seconds counted from the attempt's start. Retry delays (``sleep``) move the clock too.

    Like the real NDJSON reader, it raises the socket-timeout stall when the gap to the next
    line is longer than the read timeout the stream was opened with. It records how many
    lines each attempt handed out, and when (on the fake clock) the caller closed it early.
    """

    api_url = "http://127.0.0.1:11434"
    timeout = 30.0
    pull_stream = OllamaClient.pull_stream  # the client's typed streams, over stream() below
    create_stream = OllamaClient.create_stream

    def __init__(self, *attempts: List[Any]) -> None:
        self.now = 0.0
        self.attempts = list(attempts)
        self.calls: List[Dict[str, Any]] = []
        self.sleeps: List[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def stream(self, method: str, path: str, payload: Any = None, timeout: Any = None) -> Iterator[Dict[str, Any]]:
        call: Dict[str, Any] = {"timeout": timeout, "sent": 0, "closed": None, "started": self.now}
        self.calls.append(call)
        try:
            for offset, item in self.attempts.pop(0):
                at = call["started"] + offset
                if at - self.now > timeout:
                    self.now += timeout
                    raise OllamaError("%s %s: the stream stalled: no data for %s seconds" % (method, path, timeout))
                self.now = max(self.now, at)
                if isinstance(item, BaseException):
                    raise item
                call["sent"] += 1
                yield item
        except GeneratorExit:
            call["closed"] = self.now - call["started"]
            raise


def timeline_transfer(client: Timeline, tmp_path: Path, **kwargs: Any) -> Transfer:
    return Transfer(client, Ledger.open(str(tmp_path)), sleep=client.sleep, clock=client.clock, progress_interval=0, **kwargs)  # type: ignore[arg-type]


def ticking(start: float, end: float, completed: int, total: int = 1000) -> List[Any]:
    """Ollama's ticker while a download is stuck: the same ``completed`` every 60 ms."""
    count = round((end - start) / 0.06)
    return [(start + index * 0.06, line(completed, total)) for index in range(count + 1)]


def test_unchanged_progress_lines_are_a_stall_and_the_retry_resumes(tmp_path: Path) -> None:
    first = [(0.0, {"status": "pulling manifest"}), (0.1, line(0)), (1.0, line(500)), *ticking(1.06, 100.0, 500)]
    second = [(0.0, {"status": "pulling manifest"}), (0.1, line(500)), (1.0, line(1000))]
    second += [(1.1, {"status": "verifying sha256 digest"}), (1.2, {"status": "writing manifest"}), (1.3, {"status": "success"})]
    client = Timeline(first, second)
    pull = timeline_transfer(client, tmp_path, stall_timeout=5, retries=1)
    stats = pull.pull(parse_name("m"), expected_total=1000)
    assert (stats.attempts, stats.bytes) == (2, 1000)
    # the lines never stopped, so only the progress rule could see it: 5 s after the last growth (at 1.0 s)
    assert 6.0 <= client.calls[0]["closed"] < 6.1
    assert client.calls[0]["timeout"] == 30.0 and client.calls[0]["sent"] > 80  # dozens of lines, never a silent gap
    retry = Ledger.open(str(tmp_path)).log_entries("m")[0]
    assert retry["event"] == "retry" and retry["completed"] == 500
    assert retry["error"] == "POST /api/pull: the stream stalled: no progress for 5 seconds (pulling eeeeeeeeeeee: still 500 B of 1.0 KB)"
    assert client.sleeps == [2.0]


def test_unchanged_progress_fails_when_the_retries_run_out(tmp_path: Path) -> None:
    stuck = [(0.0, line(0)), *ticking(0.06, 50.0, 0)]
    client = Timeline(stuck, list(stuck))
    with pytest.raises(OperationFailed) as failure:
        timeline_transfer(client, tmp_path, stall_timeout=10, retries=1).pull(parse_name("m"))
    assert str(failure.value) == (
        "the pull of 'm:latest' failed after 2 attempts: "
        "POST /api/pull: the stream stalled: no progress for 10 seconds (pulling eeeeeeeeeeee: still 0 B of 1.0 KB)"
    )
    assert failure.value.kind == FAILED
    assert [round(call["closed"]) for call in client.calls] == [10, 10]


def test_a_silent_verify_shorter_than_the_fallback_is_not_a_stall(tmp_path: Path) -> None:
    # stall_timeout 5, request timeout 30: the connection may be silent for 30 s; the hash takes 25 s
    done = [(0.0, {"status": "pulling manifest"}), (0.1, line(0)), (1.0, line(1000)), (1.1, {"status": "verifying sha256 digest"})]
    done += [(26.1, {"status": "writing manifest"}), (26.2, {"status": "success"})]
    client = Timeline(done)
    stats = timeline_transfer(client, tmp_path, stall_timeout=5).pull(parse_name("m"))
    assert stats.attempts == 1 and client.calls[0]["timeout"] == 30.0

    # a big model: 20 s per GB for the hash, so 10 GB may be silent for 200 s
    big = 10 * 1000**3
    done = [(0.0, line(big, big)), (0.1, {"status": "verifying sha256 digest"}), (150.0, {"status": "writing manifest"}), (150.1, {"status": "success"})]
    client = Timeline(done)
    stats = timeline_transfer(client, tmp_path, stall_timeout=5).pull(parse_name("big"), expected_total=big)
    assert stats.attempts == 1 and client.calls[0]["timeout"] == 200.0


def test_a_connection_silent_for_longer_than_the_fallback_is_a_stall(tmp_path: Path) -> None:
    silent = [(0.0, {"status": "pulling manifest"}), (0.1, line(100)), (45.0, line(200))]
    client = Timeline(silent, [(0.0, line(100)), (1.0, line(1000)), (1.1, {"status": "success"})])
    pull = timeline_transfer(client, tmp_path, stall_timeout=40, retries=1)
    stats = pull.pull(parse_name("m"))
    assert stats.attempts == 2 and client.calls[0]["timeout"] == 40.0  # max(stall_timeout 40, request timeout 30)
    retry = Ledger.open(str(tmp_path)).log_entries("m")[0]
    assert retry["error"] == "POST /api/pull: the stream stalled: no data for 40.0 seconds" and retry["completed"] == 100


def test_phases_without_byte_counts_and_new_layers_are_progress(tmp_path: Path) -> None:
    # each phase is shorter than the stall timeout, though the bytes stop growing for longer in all
    other = "sha256:" + "f" * 64
    lines = [(0.0, {"status": "pulling manifest"}), (0.1, line(1000)), (4.0, line(1000))]
    lines += [(4.5, {"status": "pulling ffffffffffff", "digest": other, "total": 10, "completed": 10})]
    lines += [(8.0, {"status": "pulling ffffffffffff", "digest": other, "total": 10, "completed": 10})]
    lines += [(8.5, {"status": "verifying sha256 digest"}), (20.0, {"status": "writing manifest"}), (24.0, {"status": "writing manifest"})]
    lines += [(24.5, {"status": "success"})]
    client = Timeline(lines)
    stats = timeline_transfer(client, tmp_path, stall_timeout=5).pull(parse_name("m"))
    assert stats.attempts == 1
