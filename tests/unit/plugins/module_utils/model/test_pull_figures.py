# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Honest figures: a pull reports the bytes it moved in this run, never the bytes that were already there.

A table of progress streams (one list of lines per attempt), with what an earlier run left in the
ledger, and the bytes the run must report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
from ansible.module_utils.six.moves.http_client import IncompleteRead

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import FAILED, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import OperationFailed, Transfer
from tests.unit.fakes.streams import Clock, Script

A = "sha256:" + "a" * 64
B = "sha256:" + "b" * 64
NAME = parse_name("m:1b")


def at(completed: Optional[int], total: int = 1000, digest: str = A) -> Dict[str, Any]:
    line: Dict[str, Any] = {"status": "pulling %s" % digest[7:19], "digest": digest, "total": total}
    if completed is not None:
        line["completed"] = completed
    return line


CUT = IncompleteRead(b"")
START = {"status": "pulling manifest"}
END = [{"status": "verifying sha256 digest"}, {"status": "success"}]

# (case, attempts, what the ledger knows from an earlier run {digest: bytes}, bytes this run moved)
CASES = [
    ("a fresh pull", [[START, at(0), at(400), at(1000), *END]], None, 1000),
    ("a fresh pull whose first line has no count", [[START, at(None), at(300), at(1000), *END]], None, 1000),
    ("a resume whose first line shows the bytes on disk", [[START, at(600), at(800), at(1000), *END]], None, 400),
    ("a resume that reports 0, then jumps to the bytes on disk", [[START, at(0), at(600), at(1000), *END]], {A: 600}, 400),
    ("a resume that reports nothing, then jumps", [[START, at(None), at(650), at(1000), *END]], {A: 600}, 400),
    ("a resume whose jump already holds new bytes", [[START, at(0), at(700), at(1000), *END]], {A: 600}, 400),
    ("the partial file was removed since", [[START, at(0), at(50), at(1000), *END]], {A: 600}, 950),
    ("a layer already there (cache hit)", [[START, at(1000), *END]], None, 0),
    ("a layer already there, known to the ledger", [[START, at(1000), *END]], {A: 1000}, 0),
    ("a cut retried in the same run, the retry starting at 0", [[START, at(0), at(300), CUT], [START, at(0), at(300), at(1000), *END]], None, 1000),
    ("a cut retried in the same run, the retry showing the bytes", [[START, at(0), at(300), CUT], [START, at(300), at(1000), *END]], None, 1000),
    ("two cuts in one run", [[START, at(0), at(200), CUT], [START, at(0), at(500), CUT], [START, at(0), at(500), at(1000), *END]], None, 1000),
    (
        "two layers: one there, one resumed",
        [[START, at(500, 500, B), at(0), at(600), at(1000), *END]],
        {A: 600, B: 500},
        400,
    ),
    (
        "two layers: both fresh",
        [[START, at(0, 500, B), at(500, 500, B), at(0), at(1000), *END]],
        None,
        1500,
    ),
    ("a known layer of another version does not count", [[START, at(0), at(300), at(1000), *END]], {B: 900}, 1000),
]


def transfer(client: Script, tmp_path: Path, **kwargs: Any) -> Transfer:
    return Transfer(client, Ledger.open(str(tmp_path)), sleep=lambda _: None, clock=Clock(step=0.25), progress_interval=0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("case", "attempts", "known", "moved"), CASES, ids=[c[0] for c in CASES])
def test_a_pull_reports_only_the_bytes_it_moved(tmp_path: Path, case: str, attempts: List[List[Any]], known: Optional[Dict[str, int]], moved: int) -> None:
    if known is not None:
        Ledger.open(str(tmp_path)).update(NAME, status=FAILED, pull_layers=known)
    stats = transfer(Script(*attempts), tmp_path, retries=3).pull(NAME)
    assert stats.bytes == moved, case
    figures = stats.as_dict()
    assert figures["speed"] == round(moved / stats.seconds), case
    record = Ledger.open(str(tmp_path)).read(NAME)
    assert "pull_layers" not in record, "a finished pull leaves nothing to resume"


@pytest.mark.parametrize(("source"), ["pull_layers", "progress"])
def test_an_interrupted_run_leaves_what_the_next_one_needs(tmp_path: Path, source: str) -> None:
    # the first run: cut, no retry left (pull_layers); or killed, only its last progress write (progress.layers)
    if source == "pull_layers":
        with pytest.raises(OperationFailed) as failed:
            transfer(Script([START, at(0), at(300), at(600), CUT]), tmp_path, retries=0).pull(NAME)
        assert failed.value.stats.bytes == 600
        assert Ledger.open(str(tmp_path)).read(NAME)["pull_layers"] == {A: 600}
    else:
        Ledger.open(str(tmp_path)).update(NAME, status=FAILED, progress={"completed": 600, "total": 1000, "layers": {A: 600}})
    stats = transfer(Script([START, at(0), at(600), at(1000), *END]), tmp_path).pull(NAME)
    assert stats.bytes == 400


def test_the_live_speed_ignores_the_jump_to_the_bytes_on_disk(tmp_path: Path) -> None:
    Ledger.open(str(tmp_path)).update(NAME, status=FAILED, pull_layers={A: 900_000})
    lines = [START, at(0, 1_000_000), at(900_000, 1_000_000), at(950_000, 1_000_000), at(1_000_000, 1_000_000), *END]
    pull = transfer(Script(lines), tmp_path)
    speeds: List[int] = []
    original = Ledger.update

    def spy(self: Ledger, name: Any, **fields: Any) -> Any:
        if isinstance(fields.get("progress"), dict):
            speeds.append(fields["progress"]["speed"])
        return original(self, name, **fields)

    Ledger.update = spy  # type: ignore[method-assign]
    try:
        stats = pull.pull(NAME)
    finally:
        Ledger.update = original  # type: ignore[method-assign]
    assert stats.bytes == 100_000
    # 0.25 s per clock tick: 100 KB in about a second at most, never 900 KB in a tick
    assert speeds and max(speeds) <= 400_000, speeds
