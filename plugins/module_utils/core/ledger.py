# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The per-host ledger: what the Ollama API does not remember.

For every model it keeps the status of the last operation (``queued``,
``downloading``, ``paused``, ``failed``, ``ok``, ``absent``) with a message,
the live progress of a pull (completed, total, percent, speed, ETA) for
``async`` polling, and a JSON-lines operation log.

Layout under ``state_dir`` (default ``/var/lib/llmops-ollama``)::

    models/<model>.json    the status record, rewritten atomically (tempfile + rename)
    logs/<model>.jsonl     the operation log, one JSON object per line (appended)
    locks/<model>.lock     an fcntl lock taken around every read-modify-write
    locks/<model>.pull     held while a sync pulls the model (one pull per model on the host)
    slots/pull-<n>.lock    the pull slots (at most N pulls at once on the host)
    history.jsonl          one JSON line per sync run: its counts (the last 500 runs)

``<model>`` is the model's canonical key (``host/namespace/model:tag``, lower
case), percent-encoded so that it is one safe file name.

A ledger that cannot be created or written is *disabled*: its ``error`` says
why, callers warn with it and carry on; a read never raises.

The ledger is memory, not truth: an entry of the wrong kind or permission (a
record that is a directory or not a JSON object, a log, lock or slot file that
cannot be opened, a history that is a directory) never stops an operation. It is
a warning that names the path (``warnings``, and the ``warn`` callback given to
:meth:`Ledger.open`), and the operation goes on without that entry.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import socket
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Callable, Dict, Iterator, List, Optional, Union

from ansible_collections.llmops.ollama.plugins.module_utils.core.files import atomic_write, open_regular
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import ModelName, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.statuses import (  # noqa: F401 - the ledger's vocabulary, re-exported  # pylint: disable=unused-import
    ABSENT,
    ACTIVE_STATUSES,
    DOWNLOADING,
    FAILED,
    OK,
    PAUSED,
    PROBLEM_STATUSES,
    QUEUED,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_duration, format_rate

DEFAULT_STATE_DIR = "/var/lib/llmops-ollama"


# The host's run history (one JSON line per sync), trimmed to the last HISTORY_KEEP runs.
HISTORY_FILE = "history.jsonl"
HISTORY_KEEP = 500

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")
_MAX_FILE_NAME = 180


def now_iso(clock: Callable[[], float] = time.time) -> str:
    """The time as RFC 3339 in UTC with microseconds, like the other dates the collection returns."""
    return datetime.fromtimestamp(clock(), timezone.utc).isoformat()


def file_key(name: Union[str, ModelName]) -> str:
    """A model's key as one safe file name (percent-encoded; long keys end in a hash)."""
    key = (name if isinstance(name, ModelName) else parse_name(name)).key
    encoded = "".join(c if c in _SAFE else "%%%02X" % ord(c) for c in key)
    if len(encoded) > _MAX_FILE_NAME:
        encoded = encoded[:150] + "~" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
    return encoded


def pid_alive(pid: Any) -> bool:
    """Whether a process with this id runs on this host (True when that cannot be told); a zombie does not run."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return False
    stat = _proc_stat(pid)
    return stat is None or stat[0] not in ("Z", "X")


def _proc_stat(pid: int) -> Optional[List[str]]:
    """The fields of /proc/<pid>/stat after the command name (state first); None when they cannot be read."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields or None


def process_start(pid: int) -> Optional[int]:
    """When the process started, in clock ticks since boot (/proc/<pid>/stat field 22); None when unknown."""
    stat = _proc_stat(pid)
    if stat is None or len(stat) < 20 or not stat[19].isdigit():
        return None
    return int(stat[19])


def boot_id() -> str:
    """This boot of the host ('' when unknown): a pid from another boot names another process."""
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as handle:
            return handle.read().decode("ascii", "replace").strip()
    except OSError:
        return ""


def record_process_alive(record: Dict[str, Any]) -> bool:
    """Whether the process that wrote an active record still runs: same pid, not a zombie, same boot and start time when recorded."""
    pid = record.get("pid")
    if not pid_alive(pid):
        return False
    recorded_boot = record.get("boot_id")
    current_boot = boot_id()
    if recorded_boot and current_boot and recorded_boot != current_boot:
        return False
    started = record.get("pid_start")
    if isinstance(started, int) and not isinstance(started, bool):
        now = process_start(pid)
        if now is not None and now != started:
            return False
    return True


def unusable_message(state_dir: str, reason: str) -> str:
    """The warning (or error) for a ledger directory that cannot be used: what is lost, and how to fix it."""
    return (
        "the ledger directory %s cannot be used (%s): progress, statuses and the operation log are not recorded; "
        "set state_dir to a writable directory, or run with become: true" % (state_dir, reason)
    )


def unwritable_reason(state_dir: Optional[str]) -> str:
    """Why a ledger in state_dir could not be created or written, found without writing anything ('' when it can).

    For check mode: the directory, or its nearest existing parent when it does not exist yet,
    must be a directory this process may write in, and so must the ledger's subdirectories that exist.
    """
    if not state_dir:
        return "no state_dir was given"
    path = os.path.abspath(os.path.expanduser(state_dir))
    probe = path
    while not os.path.lexists(probe) and os.path.dirname(probe) != probe:
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        return "%s is not a directory" % probe
    targets = [probe]
    if probe == path:
        targets += [os.path.join(path, sub) for sub in ("models", "logs", "locks", "slots") if os.path.lexists(os.path.join(path, sub))]
    for target in targets:
        if not os.path.isdir(target):
            return "%s is not a directory" % target
        if not os.access(target, os.W_OK | os.X_OK):
            return "%s cannot be written (permission denied)" % target
    return ""


# The fields of a record the collection reads, with their types: a field of another type reads as absent.
RECORD_FIELDS: Dict[str, Any] = {
    "name": str,
    "key": str,
    "status": str,
    "message": str,
    "operation": str,
    "started_at": str,
    "updated_at": str,
    "host": str,
    "boot_id": str,
    "log_file": str,
    "pid": int,
    "pid_start": int,
    "progress": dict,
    "pull_layers": dict,
    "interrupted": bool,
}


def _is(value: Any, kind: Any) -> bool:
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


class Ledger:
    """The ledger in one state directory. Build it with :meth:`open`."""

    def __init__(self, state_dir: Optional[str], error: str = "", clock: Callable[[], float] = time.time, warn: Optional[Callable[[str], None]] = None) -> None:
        self.state_dir = state_dir
        self.error = error
        self._clock = clock
        self.host = socket.gethostname()
        self.warnings: List[str] = []
        self.on_warning = warn

    def _trouble(self, path: str, doing: str, reason: Any) -> None:
        """Warn once per path and action that a ledger entry cannot be used; the operation goes on without it."""
        if isinstance(reason, OSError):
            reason = reason.strerror or str(reason)
            if os.path.isdir(path):
                reason = "it is a directory"
        message = "ledger entry %s cannot be %s (%s): it is skipped and the operation goes on; remove or repair it" % (path, doing, reason)
        if message in self.warnings:
            return
        self.warnings.append(message)
        if self.on_warning is not None:
            self.on_warning(message)

    # ---------------------------------------------------------------- set-up
    @classmethod
    def open(
        cls, state_dir: Optional[str], create: bool = True, clock: Callable[[], float] = time.time, warn: Optional[Callable[[str], None]] = None
    ) -> Ledger:
        """The ledger in state_dir; disabled (with ``error``) when it cannot be used.

        With ``create`` the directories are made (mode 0755); without it (the
        read-only info module) a missing directory is an empty ledger. ``warn``
        is called with each warning about an entry that cannot be used.
        """
        if not state_dir:
            return cls(None, "no state_dir was given", clock, warn)
        state_dir = os.path.abspath(os.path.expanduser(state_dir))
        if not create:
            if os.path.lexists(state_dir) and not os.path.isdir(state_dir):
                return cls(None, unusable_message(state_dir, "it is not a directory"), clock, warn)
            if os.path.isdir(state_dir) and not os.access(state_dir, os.R_OK | os.X_OK):
                return cls(None, "the ledger at %s cannot be read (permission denied)" % state_dir, clock, warn)
            return cls(state_dir, "", clock, warn)
        try:
            if os.path.lexists(state_dir) and not os.path.isdir(state_dir):
                raise NotADirectoryError(errno.ENOTDIR, "it is not a directory", state_dir)
            for sub in ("models", "logs", "locks", "slots"):
                target = os.path.join(state_dir, sub)
                if os.path.lexists(target) and not os.path.isdir(target):
                    raise NotADirectoryError(errno.ENOTDIR, "%s is not a directory" % target, target)
                os.makedirs(target, mode=0o755, exist_ok=True)
            if not os.access(os.path.join(state_dir, "models"), os.W_OK):
                raise PermissionError(errno.EACCES, "permission denied", state_dir)
        except OSError as exc:
            return cls(None, unusable_message(state_dir, exc.strerror or str(exc)), clock, warn)
        return cls(state_dir, "", clock, warn)

    @property
    def enabled(self) -> bool:
        return self.state_dir is not None

    # ---------------------------------------------------------------- paths
    def record_path(self, name: Union[str, ModelName]) -> str:
        return os.path.join(self.state_dir or "", "models", file_key(name) + ".json")

    def log_path(self, name: Union[str, ModelName]) -> str:
        return os.path.join(self.state_dir or "", "logs", file_key(name) + ".jsonl")

    def _lock_path(self, name: Union[str, ModelName]) -> str:
        return os.path.join(self.state_dir or "", "locks", file_key(name) + ".lock")

    @contextmanager
    def _locked(self, name: Union[str, ModelName]) -> Iterator[None]:
        """The model's lock around a read-modify-write; a lock file that cannot be opened is a warning (the block runs unlocked)."""
        path = self._lock_path(name)
        try:
            fd = open_regular(path, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            self._trouble(path, "opened as a lock", exc)
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    # ---------------------------------------------------------------- read
    def _load(self, path: str) -> Optional[Dict[str, Any]]:
        """A record file's JSON object; None when there is none, or (with a warning) when it cannot be read or is not one."""
        try:
            with open(open_regular(path), "rb") as handle:
                data = json.loads(handle.read().decode("utf-8"))
        except FileNotFoundError:
            return None
        except OSError as exc:
            self._trouble(path, "read", exc)
            return None
        except (ValueError, RecursionError) as exc:
            self._trouble(path, "read", "it is not JSON: %s" % exc)
            return None
        if not isinstance(data, dict):
            self._trouble(path, "read", "it is not a JSON object")
            return None
        wrong = sorted(key for key, kind in RECORD_FIELDS.items() if key in data and data[key] is not None and not _is(data[key], kind))
        if wrong:
            self._trouble(path, "read as it is", "field(s) %s of the wrong type, read as absent" % ", ".join(wrong))
            data = {key: value for key, value in data.items() if key not in wrong}
        return data

    def _write(self, path: str, record: Dict[str, Any]) -> bool:
        """Write a record atomically; False (with a warning) when it cannot be written."""
        try:
            atomic_write(path, json.dumps(record, sort_keys=True).encode("utf-8"))
        except OSError as exc:
            self._trouble(path, "written", exc)
            return False
        return True

    def _lines(self, path: str) -> List[Dict[str, Any]]:
        """The JSON objects of a JSON-lines file ([] with a warning when it exists but cannot be read)."""
        try:
            return _json_lines(path, strict=True)
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._trouble(path, "read", exc)
            return []

    def read(self, name: Union[str, ModelName]) -> Optional[Dict[str, Any]]:
        """The status record of one model, or None. Never raises."""
        if not self.enabled:
            return None
        return self._checked(self._load(self.record_path(name)))

    def _record_paths(self) -> List[str]:
        """The status record files of the ledger, sorted; none when there is no ledger or it cannot be read."""
        if not self.enabled:
            return []
        directory = os.path.join(self.state_dir or "", "models")
        try:
            entries = sorted(os.listdir(directory))
        except FileNotFoundError:
            return []
        except OSError as exc:
            self._trouble(directory, "listed", exc)
            return []
        return [os.path.join(directory, entry) for entry in entries if entry.endswith(".json") and not entry.startswith(".")]

    def records(self) -> Dict[str, Dict[str, Any]]:
        """Every status record, by model key. Never raises."""
        found: Dict[str, Dict[str, Any]] = {}
        for path in self._record_paths():
            record = self._checked(self._load(path))
            if record and isinstance(record.get("key"), str):
                found[record["key"]] = record
        return found

    def _checked(self, record: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
        """An active record whose process is gone reads as ``paused`` (interrupted)."""
        if not record:
            return record
        if record.get("status") in ACTIVE_STATUSES and record.get("host") == self.host and not record_process_alive(record):
            record = dict(record)
            record["status"] = PAUSED
            record["message"] = "the %s started at %s by process %s stopped before it finished (interrupted); run the task again to resume" % (
                record.get("operation") or "operation",
                record.get("started_at") or "?",
                record.get("pid"),
            )
            record["interrupted"] = True
        return record

    def log_entries(self, name: Union[str, ModelName], limit: int = 0) -> List[Dict[str, Any]]:
        """The operation log of a model (the last ``limit`` entries when limit > 0)."""
        if not self.enabled:
            return []
        entries = self._lines(self.log_path(name))
        return entries[-limit:] if limit > 0 else entries

    # ---------------------------------------------------------------- write
    def update(self, name: Union[str, ModelName], **fields: Any) -> Optional[Dict[str, Any]]:
        """Merge fields into a model's record (a None value removes the key); return the record.

        Locked and atomic. A disabled ledger ignores the call (returns None).
        """
        if not self.enabled:
            return None
        parsed = name if isinstance(name, ModelName) else parse_name(name)
        path = self.record_path(parsed)
        with self._locked(parsed):
            record = self._load(path) or {}
            record.update(name=parsed.display, key=parsed.key, log_file=self.log_path(parsed))
            for key, value in fields.items():
                if value is None:
                    record.pop(key, None)
                else:
                    record[key] = value
            record["updated_at"] = now_iso(self._clock)
            self._write(path, record)
        return record

    def set_status(
        self, name: Union[str, ModelName], status: str, message: str = "", operation: Optional[str] = None, **fields: Any
    ) -> Optional[Dict[str, Any]]:
        """Record a status; active ones carry this process's id and host; ok, failed and absent drop the progress."""
        fields.update(status=status, message=message)
        if operation is not None:
            fields["operation"] = operation
        if status in ACTIVE_STATUSES:
            fields.setdefault("pid", os.getpid())
            fields.setdefault("host", self.host)
            if fields["pid"] == os.getpid():
                # with the pid: this boot and the process's start time, so that a reused pid is not taken for it
                fields.setdefault("pid_start", process_start(os.getpid()))
                fields.setdefault("boot_id", boot_id() or None)
        else:
            fields.setdefault("pid", None)
            fields.setdefault("pid_start", None)
            fields.setdefault("boot_id", None)
            if status != PAUSED:
                # a paused pull keeps its progress: how far it got, and how much it will take
                fields.setdefault("progress", None)
        return self.update(name, **fields)

    def start(self, name: Union[str, ModelName], operation: str, status: str = DOWNLOADING, message: str = "") -> Optional[Dict[str, Any]]:
        """Record the start of an operation (resets the progress)."""
        return self.set_status(name, status, message, operation=operation, started_at=now_iso(self._clock), progress=None)

    def log(self, name: Union[str, ModelName], event: str, **fields: Any) -> None:
        """Append one entry to the model's operation log: time, event, process, and the fields."""
        if not self.enabled:
            return
        parsed = name if isinstance(name, ModelName) else parse_name(name)
        entry: Dict[str, Any] = {"time": now_iso(self._clock), "model": parsed.display, "event": event, "pid": os.getpid()}
        entry.update({k: v for k, v in fields.items() if v is not None})
        line = (json.dumps(entry, sort_keys=True) + "\n").encode("utf-8")
        path = self.log_path(parsed)
        with self._locked(parsed):
            try:
                fd = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
                try:
                    os.write(fd, line)
                finally:
                    os.close(fd)
            except OSError as exc:
                self._trouble(path, "appended to", exc)

    # ---------------------------------------------------------------- progress and slots
    def progress(self, name: Union[str, ModelName], min_interval: float = 1.0, clock: Callable[[], float] = time.monotonic) -> ProgressWriter:
        """A writer of live pull progress for one model (at most one write per ``min_interval``)."""
        return ProgressWriter(self, name, min_interval, clock)

    @contextmanager
    def pull_slot(self, limit: int, on_wait: Callable[[], None], sleep: Callable[[float], None] = time.sleep, poll: float = 1.0) -> Iterator[Optional[int]]:
        """Hold one of ``limit`` host-wide pull slots while the block runs.

        While every slot is taken, ``on_wait`` is called once (to record
        ``queued``) and the slots are tried again every ``poll`` seconds.
        A disabled ledger, or a limit of 0, gives no limit.
        """
        waited = False
        while True:
            slot = self.try_pull_slot(limit)
            if slot is not None:
                try:
                    yield slot.index
                finally:
                    slot.release()
                return
            if not waited:
                on_wait()
                waited = True
            sleep(poll)

    def try_pull_slot(self, limit: int) -> Optional[FileLock]:
        """One of ``limit`` host-wide pull slots if one is free now (None when all are taken); release it when done.

        A disabled ledger, or a limit of 0, gives a slot that holds nothing (index None).
        """
        if not self.enabled or limit <= 0:
            return FileLock(None)
        unusable = 0
        for index in range(limit):
            path = os.path.join(self.state_dir or "", "slots", "pull-%d.lock" % index)
            try:
                held = FileLock.try_take(path, index)
            except OSError as exc:
                self._trouble(path, "opened as a pull slot", exc)
                unusable += 1
                continue
            if held is not None:
                return held
        if unusable == limit:
            return FileLock(None)  # no slot file can be used: the limit cannot be kept, the pull goes on
        return None

    def try_model_lock(self, name: Union[str, ModelName]) -> Optional[FileLock]:
        """The pull lock of one model if no other process (or thread) holds it; None when one does.

        Held while a sync pulls the model, so that two syncs on the host never pull the same model at once.
        A disabled ledger gives a lock that holds nothing.
        """
        if not self.enabled:
            return FileLock(None)
        path = os.path.join(self.state_dir or "", "locks", file_key(name) + ".pull")
        try:
            return FileLock.try_take(path)
        except OSError as exc:
            self._trouble(path, "opened as a pull lock", exc)
            return FileLock(None)

    # ---------------------------------------------------------------- interrupted operations
    def recover_interrupted(self) -> List[Dict[str, Any]]:
        """Mark the active records whose process is gone as interrupted, for good; return what was marked.

        A record left ``downloading`` or ``queued`` by a process that no longer
        runs on this host (killed, host rebooted) is rewritten as ``paused``
        with ``interrupted: true``, the pid (``interrupted_pid``) and the
        progress it had reached (its bytes per layer also as ``pull_layers``, what
        the next pull resumes from), and an ``interrupted`` event is logged.
        Records of live processes, and of other hosts, are left alone.
        """
        found: List[Dict[str, Any]] = []
        for listed in self._record_paths():
            raw = self._load(listed)
            if not raw or not self._stale(raw) or not isinstance(raw.get("name"), str):
                continue
            try:
                name = parse_name(raw["name"])
            except ValueError:
                continue
            path = self.record_path(name)
            with self._locked(name):
                raw = self._load(path)
                if not raw or not self._stale(raw):
                    continue
                record = dict(self._checked(raw) or raw)
                record["interrupted_pid"] = raw.get("pid")
                record["interrupted_at"] = now_iso(self._clock)
                for key in ("pid", "pid_start", "boot_id"):
                    record.pop(key, None)
                # the bytes per layer it had seen are on the server's disk: the next pull counts only what it moves
                seen = (record.get("progress") or {}).get("layers") if isinstance(record.get("progress"), dict) else None
                if isinstance(seen, dict) and seen:
                    layers = dict(record.get("pull_layers") or {})
                    for digest, completed in seen.items():
                        if isinstance(completed, int) and not isinstance(completed, bool):
                            layers[str(digest)] = max(int(layers.get(str(digest)) or 0), completed)
                    record["pull_layers"] = layers
                record["updated_at"] = record["interrupted_at"]
                if not self._write(path, record):
                    continue
            progress = record.get("progress") if isinstance(record.get("progress"), dict) else {}
            item = {
                "name": record.get("name"),
                "pid": raw.get("pid"),
                "operation": raw.get("operation") or "",
                "status": raw.get("status"),
                "started_at": raw.get("started_at"),
                "completed": progress.get("completed"),
                "total": progress.get("total"),
            }
            self.log(name, "interrupted", interrupted_pid=raw.get("pid"), operation=item["operation"], completed=item["completed"], total=item["total"])
            found.append(item)
        return found

    def _stale(self, record: Dict[str, Any]) -> bool:
        return record.get("status") in ACTIVE_STATUSES and record.get("host") == self.host and not record_process_alive(record)

    # ---------------------------------------------------------------- history
    def history_path(self) -> str:
        return os.path.join(self.state_dir or "", HISTORY_FILE)

    def append_history(self, entry: Dict[str, Any], keep: int = HISTORY_KEEP) -> None:
        """Append one run (for example a sync's counts) to the host's history; keep the last ``keep`` entries."""
        if not self.enabled:
            return
        item = {"time": now_iso(self._clock), "pid": os.getpid(), "host": self.host}
        item.update(entry)
        line = (json.dumps(item, sort_keys=True) + "\n").encode("utf-8")
        path = self.history_path()
        lock = os.path.join(self.state_dir or "", "locks", HISTORY_FILE + ".lock")
        try:
            fd: Optional[int] = open_regular(lock, os.O_RDWR | os.O_CREAT)
        except OSError as exc:
            self._trouble(lock, "opened as a lock", exc)
            fd = None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            out = open_regular(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
            try:
                os.write(out, line)
            finally:
                os.close(out)
            try:
                with open(open_regular(path), "rb") as handle:
                    lines = handle.read().splitlines(True)
            except OSError:
                lines = []
            if keep > 0 and len(lines) > keep * 2:
                atomic_write(path, b"".join(lines[-keep:]))
        except OSError as exc:
            self._trouble(path, "appended to", exc)
        finally:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def history(self, limit: int = 0) -> List[Dict[str, Any]]:
        """The recorded runs, newest first (the last ``limit`` when limit > 0). Never raises."""
        if not self.enabled:
            return []
        entries = self._lines(self.history_path())[::-1]
        return entries[:limit] if limit > 0 else entries


def _json_lines(path: str, strict: bool = False) -> List[Dict[str, Any]]:
    """The JSON objects of a JSON-lines file, in file order; [] when it cannot be read (OSError with ``strict``); other lines are skipped."""
    try:
        with open(open_regular(path), "rb") as handle:
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        if strict:
            raise
        return []
    entries = []
    for line in lines:
        try:
            item = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(item, dict):
            entries.append(item)
    return entries


class FileLock:
    """An exclusive ``flock`` on one file, held until :meth:`release` (a lock on no file holds nothing)."""

    def __init__(self, fd: Optional[int], index: Optional[int] = None) -> None:
        self._fd = fd
        self.index = index

    @classmethod
    def try_take(cls, path: str, index: Optional[int] = None) -> Optional[FileLock]:
        """The lock if it is free now; None when another holder has it (in any process or thread)."""
        fd = open_regular(path, os.O_RDWR | os.O_CREAT)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        return cls(fd, index)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class ProgressWriter:
    """Live progress of one pull: speed over the last seconds, ETA, written at most once per interval.

    Nothing is written before one interval of samples exists (unless forced), so the
    first record a reader sees carries a measured speed, never a placeholder 0 B/s.
    """

    WINDOW = 5.0

    def __init__(self, ledger: Ledger, name: Union[str, ModelName], min_interval: float, clock: Callable[[], float]) -> None:
        self.ledger = ledger
        self.name = name
        self.min_interval = min_interval
        self._clock = clock
        self._last_write: Optional[float] = None
        self._first_sample: Optional[float] = None
        self._samples: List[tuple] = []
        self.writes = 0
        self.last: Dict[str, Any] = {}

    def _speed(self, now: float, completed: int) -> float:
        self._samples.append((now, completed))
        while len(self._samples) > 2 and now - self._samples[0][0] > self.WINDOW:
            self._samples.pop(0)
        first_time, first_done = self._samples[0]
        elapsed = now - first_time
        if elapsed <= 0 or completed < first_done:
            return 0.0
        return (completed - first_done) / elapsed

    def update(self, completed: int, total: int, status: str = "", force: bool = False, moved: Optional[int] = None, **extra: Any) -> Dict[str, Any]:
        """Note the bytes done so far; write them to the ledger when the interval has passed (or ``force``).

        ``moved``: the bytes that arrived in this run, when ``completed`` also counts bytes that were
        already there (a resumed pull); the speed is measured on them, never on a jump to the bytes on disk.
        """
        now = self._clock()
        if self._first_sample is None:
            self._first_sample = now
        speed = self._speed(now, completed if moved is None else moved)
        percent = round(100.0 * completed / total, 1) if total > 0 else 0.0
        if total > 0 and completed < total and percent >= 100.0:
            percent = 99.9
        eta = (total - completed) / speed if speed > 0 and total > completed else (0.0 if total and completed >= total else None)
        progress = {
            "completed": completed,
            "total": total,
            "percent": percent,
            "speed": round(speed),
            "speed_human": format_rate(speed),
            "eta": None if eta is None else round(eta, 1),
            "eta_human": None if eta is None else format_duration(eta),
            "status": status,
            "updated_at": now_iso(),
        }
        progress.update(extra)
        self.last = progress
        measured = now - self._first_sample >= self.min_interval
        due = self._last_write is None or now - self._last_write >= self.min_interval
        if force or (measured and due):
            self._last_write = now
            self.writes += 1
            self.ledger.update(self.name, progress=progress)
        return progress
