# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ledger is memory, not truth: every entry of the wrong kind or permission is a warning naming its path.

Each case breaks one entry of a real ledger on disk (a record that is a directory, not JSON,
not an object; a log, lock, slot or history file that cannot be opened; a state_dir that is a
file), then runs an operation: it must not raise, it must keep its result, and the warning
(``Ledger.warnings``, also passed to the ``warn`` callback) must name the broken path.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DOWNLOADING, OK, PAUSED, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name

NAME = "smollm2:135m"
OTHER = "qwen2.5:0.5b"
ROOT = os.geteuid() == 0


def _dir(path: Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    path.mkdir()


def _text(content: bytes) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        path.write_bytes(content)

    return write


def _loop(path: Path) -> None:
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(path.name)  # a symlink to itself: ELOOP for everyone, root included


def _into_file(path: Path) -> None:
    """A symlink whose target lies below a regular file (ENOTDIR)."""
    blocker = path.parent / ("blocker-" + path.name)
    blocker.write_text("x")
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(blocker.name + "/inside")


def _no_access(path: Path) -> None:
    if not path.exists():
        path.write_text("{}")
    path.chmod(0)


# Where each kind of entry lives, from a ledger and a model name.
ENTRIES: Dict[str, Callable[[Ledger], str]] = {
    "record": lambda ledger: ledger.record_path(NAME),
    "log": lambda ledger: ledger.log_path(NAME),
    "lock": lambda ledger: ledger._lock_path(NAME),
    "pull_lock": lambda ledger: os.path.join(str(ledger.state_dir), "locks", os.path.basename(ledger.record_path(NAME))[:-5] + ".pull"),
    "slot0": lambda ledger: os.path.join(str(ledger.state_dir), "slots", "pull-0.lock"),
    "history": lambda ledger: ledger.history_path(),
    "history_lock": lambda ledger: os.path.join(str(ledger.state_dir), "locks", "history.jsonl.lock"),
}

# (case id, entry, how it is broken, whether a warning naming it is expected)
BREAKS: List[Tuple[str, str, Callable[[Path], None], bool]] = [
    ("record is a directory", "record", _dir, True),
    ("record is not JSON", "record", _text(b"{not json"), True),
    ("record is binary", "record", _text(b"\xff\xfe\x00\x01"), True),
    ("record is a list", "record", _text(b"[1, 2]"), True),
    ("record is a string", "record", _text(b'"downloading"'), True),
    ("record is null", "record", _text(b"null"), True),
    ("record is empty", "record", _text(b""), True),
    ("record nests too deep", "record", _text(b"[" * 200000), True),
    ("record has fields of the wrong type", "record", _text(json.dumps({"status": 5, "progress": "x", "pid": "1", "message": []}).encode()), True),
    ("record is a symlink loop", "record", _loop, True),
    ("record is a symlink below a file", "record", _into_file, True),
    ("log is a directory", "log", _dir, True),
    ("log is a symlink loop", "log", _loop, True),
    ("log holds garbage lines", "log", _text(b"not json\n[1]\n" + b"[" * 100000 + b"\n"), False),
    ("lock is a directory", "lock", _dir, True),
    ("lock is a symlink loop", "lock", _loop, True),
    ("pull lock is a directory", "pull_lock", _dir, True),
    ("pull lock is a symlink loop", "pull_lock", _loop, True),
    ("a pull slot is a directory", "slot0", _dir, True),
    ("a pull slot is a symlink loop", "slot0", _loop, True),
    ("history is a directory", "history", _dir, True),
    ("history is a symlink loop", "history", _loop, True),
    ("history holds garbage lines", "history", _text(b"garbage\n{}\n" + b"{" * 100000 + b"\n"), False),
    ("history lock is a directory", "history_lock", _dir, True),
    ("history lock is a symlink loop", "history_lock", _loop, True),
]
if not ROOT:  # root reads and writes whatever the mode says
    BREAKS += [
        ("record cannot be read", "record", _no_access, True),
        ("log cannot be opened", "log", _no_access, True),
        ("lock cannot be opened", "lock", _no_access, True),
        ("pull slot cannot be opened", "slot0", _no_access, True),
        ("history cannot be opened", "history", _no_access, True),
    ]


def broken(tmp_path: Path, entry: str, breaker: Callable[[Path], None]) -> Tuple[Ledger, List[str], str]:
    """A ledger with one entry broken; the warnings it gives; the broken path."""
    seen: List[str] = []
    ledger = Ledger.open(str(tmp_path / "state"), warn=seen.append)
    assert ledger.enabled, ledger.error
    path = ENTRIES[entry](ledger)
    breaker(Path(path))
    return ledger, seen, path


# Every operation a module runs on the ledger: (id, the call, a check of its result).
def _pull_like(ledger: Ledger) -> Any:
    ledger.start(NAME, "pull")
    writer = ledger.progress(NAME, min_interval=0.0)
    writer.update(10, 100, "pulling", force=True)
    ledger.log(NAME, "retry", attempt=1)
    return ledger.set_status(NAME, OK, "pulled", operation="pull", digest="abc")


def _slot(ledger: Ledger) -> Any:
    slot = ledger.try_pull_slot(2)
    assert slot is not None
    index = slot.index
    slot.release()
    return index


def _slots_in_a_block(ledger: Ledger) -> Any:
    with ledger.pull_slot(1, on_wait=lambda: None, sleep=lambda _: None) as index:
        return ("held", index)


def _model_lock(ledger: Ledger) -> Any:
    lock = ledger.try_model_lock(NAME)
    assert lock is not None
    lock.release()
    return "released"


def _history(ledger: Ledger) -> Any:
    ledger.append_history({"added": 1})
    return [entry.get("added") for entry in ledger.history()]


def _recover(ledger: Ledger) -> Any:
    ledger.update(OTHER, status=DOWNLOADING, pid=2**22 + 7, host=ledger.host, operation="pull")
    return [item["name"] for item in ledger.recover_interrupted()]


OPERATIONS: List[Tuple[str, Callable[[Ledger], Any], Callable[[Any], bool]]] = [
    ("a pull's record, progress, log and status", _pull_like, lambda result: result["status"] == OK and result["digest"] == "abc"),
    ("read", lambda ledger: ledger.read(NAME), lambda result: result is None or isinstance(result, dict)),
    ("records", lambda ledger: ledger.records(), lambda result: isinstance(result, dict)),
    ("log entries", lambda ledger: (ledger.log(NAME, "pulled"), ledger.log_entries(NAME))[1], lambda result: isinstance(result, list)),
    ("set_status paused", lambda ledger: ledger.set_status(NAME, PAUSED, "disk full"), lambda result: result["status"] == PAUSED),
    ("a pull slot", _slot, lambda result: result in (0, 1, None)),
    ("a pull slot around a block", _slots_in_a_block, lambda result: result[0] == "held"),
    ("the model's pull lock", _model_lock, lambda result: result == "released"),
    ("history", _history, lambda result: isinstance(result, list)),
    ("recover interrupted", _recover, lambda result: OTHER in [parse_name(n).display for n in result]),
]


@pytest.mark.parametrize(("case", "entry", "breaker", "warns"), BREAKS, ids=[b[0] for b in BREAKS])
@pytest.mark.parametrize(("operation", "call", "check"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_a_broken_entry_never_stops_an_operation(
    tmp_path: Path,
    case: str,
    entry: str,
    breaker: Callable[[Path], None],
    warns: bool,
    operation: str,
    call: Callable[[Ledger], Any],
    check: Callable[[Any], bool],
) -> None:
    ledger, seen, _path = broken(tmp_path, entry, breaker)
    result = call(ledger)
    assert check(result), (case, operation, result)
    assert seen == ledger.warnings
    for warning in seen:
        assert warning.startswith("ledger entry /") and "the operation goes on" in warning, warning


def _everything(ledger: Ledger) -> None:
    for _label, call, check in OPERATIONS:
        assert check(call(ledger))


@pytest.mark.parametrize(("case", "entry", "breaker", "warns"), BREAKS, ids=[b[0] for b in BREAKS])
def test_the_warning_names_the_broken_path(tmp_path: Path, case: str, entry: str, breaker: Callable[[Path], None], warns: bool) -> None:
    ledger, seen, path = broken(tmp_path, entry, breaker)
    _everything(ledger)
    named = [warning for warning in seen if path in warning]
    if warns:
        assert named, (case, seen)
        assert len(seen) == len(set(seen)), "each warning once"
    else:
        assert not named, (case, seen)


def test_a_record_of_the_wrong_kind_is_replaced_by_the_next_write(tmp_path: Path) -> None:
    for content in (b"{not json", b"[1]", b"null"):
        ledger, seen, path = broken(tmp_path / content.hex(), "record", _text(content))
        ledger.set_status(NAME, OK, "pulled")
        assert json.loads(Path(path).read_text())["status"] == OK
        assert ledger.read(NAME)["status"] == OK
        assert any(path in warning for warning in seen)


def test_a_record_directory_keeps_the_result_of_the_write(tmp_path: Path) -> None:
    ledger, seen, path = broken(tmp_path, "record", _dir)
    record = ledger.set_status(NAME, OK, "pulled", digest="abc")
    assert (record["status"], record["digest"]) == (OK, "abc")
    assert os.path.isdir(path) and ledger.read(NAME) is None
    assert any("cannot be written (it is a directory)" in warning and path in warning for warning in seen), seen


def test_every_slot_unusable_means_no_limit_not_a_wait(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "state"))
    for index in range(3):
        _dir(Path(tmp_path / "state" / "slots" / ("pull-%d.lock" % index)))
    waits: List[int] = []
    with ledger.pull_slot(3, on_wait=lambda: waits.append(1), sleep=lambda _: None) as index:
        assert index is None
    assert waits == []
    assert len([w for w in ledger.warnings if "pull slot" in w]) == 3


def test_one_unusable_slot_leaves_the_others(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path / "state"))
    _dir(tmp_path / "state" / "slots" / "pull-0.lock")
    held = ledger.try_pull_slot(2)
    assert held is not None and held.index == 1
    assert ledger.try_pull_slot(2) is None, "slot 1 is held and slot 0 cannot be used: the limit still holds"
    held.release()


def test_wrongly_typed_fields_read_as_absent(tmp_path: Path) -> None:
    ledger, seen, _path = broken(tmp_path, "record", _text(json.dumps({"status": 5, "progress": "x", "message": "m", "pid": True}).encode()))
    record = ledger.read(NAME)
    assert record == {"message": "m"}
    assert any("progress, pid, status" in warning or "pid, progress, status" in warning for warning in seen), seen


# A state_dir (or one of its directories) of the wrong kind: the ledger is disabled with a message naming it.
STATE_BREAKS: List[Tuple[str, Optional[str], bool]] = [
    ("state_dir is a file", None, True),
    ("state_dir is a file (read only)", None, False),
    ("models is a file", "models", True),
    ("logs is a file", "logs", True),
    ("locks is a file", "locks", True),
    ("slots is a file", "slots", True),
    ("state_dir is a symlink loop", "", True),
    ("state_dir is a symlink loop (read only)", "", False),
]


@pytest.mark.parametrize(("case", "sub", "create"), STATE_BREAKS, ids=[b[0] for b in STATE_BREAKS])
def test_a_state_dir_of_the_wrong_kind_disables_the_ledger_with_its_path(tmp_path: Path, case: str, sub: Optional[str], create: bool) -> None:
    state = tmp_path / "state"
    if sub is None:
        state.write_text("not a directory")
        named = str(state)
    elif sub == "":
        state.symlink_to("state")
        named = str(state)
    else:
        state.mkdir()
        (state / sub).write_text("not a directory")
        named = str(state / sub) if create else str(state)
    ledger = Ledger.open(str(state), create=create)
    if create or sub in (None, ""):
        assert not ledger.enabled
        assert str(state) in ledger.error, ledger.error
        if sub:
            assert named in ledger.error, ledger.error
    _everything_disabled(ledger)


def _everything_disabled(ledger: Ledger) -> None:
    """A disabled (or half-usable) ledger: every call returns, none raises."""
    ledger.set_status(NAME, OK, "pulled")
    ledger.log(NAME, "pulled")
    assert isinstance(ledger.records(), dict)
    assert isinstance(ledger.history(), list)
    ledger.append_history({"added": 1})
    slot = ledger.try_pull_slot(2)
    if slot is not None:
        slot.release()
    lock = ledger.try_model_lock(NAME)
    if lock is not None:
        lock.release()
    assert isinstance(ledger.recover_interrupted(), list)
