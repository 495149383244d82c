# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Sync: make a host's models match a declared list, pulling several at once.

:func:`parse_models` turns the declared list (names, or dicts with the keys of
``ollama_model`` plus ``priority``) into :class:`Declared` models, refusing bad
input before any request. :class:`Sync` then runs them through the same
:class:`ModelManager` as ``ollama_model`` (no second copy of the pull logic):

1. stale ``downloading``/``queued`` ledger records of dead processes are marked
   interrupted (their pulls resume below: the server kept the partial layers);
2. the server is read once (``GET /api/tags``, ``GET /api/ps``) and every model is
   planned (model.plan); the plans are scheduled by their steps:
3. removals first (``state: absent``, and with ``exclusive`` the undeclared
   models not matched by ``protect``), so a pull finds the disk space they free;
4. unloads; 5. pulls, ``concurrency`` at a time, started in order of priority and
   then declaration, each holding a host-wide pull slot and the model's pull lock
   in the ledger (a second sync on the host waits its turn: ``queued``, with its
   position); 6. everything else (loads of present models, custom models, which
   may be built on a model pulled in step 5; a custom model whose base is not on
   the server holds a host pull slot too, since Ollama pulls the base).

The executor (model.apply) runs each plan, or in check mode reports it (no
mutating request, no ledger write): that gives the ``plan``. A plan's transfer
runs in a host pull slot that the sync takes in the order above and hands to
the executor.

With ``transfers=False`` (a real run only) the sync applies what moves no model
bytes (removals, unloads, loads, copies, creates on a present base) and leaves
pending the models whose plan has a transfer step, and the custom models built on
one of them: their action is ``pending`` and ``pending`` lists them, for a second
run (with transfers) that can be watched while it pulls.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
import re
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import (
    InvalidDigest,
    InvalidModelName,
    ModelName,
    bare_digest,
    normalize_digest,
    parse_name,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import ModelResult
from ansible_collections.llmops.ollama.plugins.module_utils.model.ledger import (
    ACTIVE_STATUSES,
    FAILED,
    OK,
    QUEUED,
    FileLock,
    Ledger,
    now_iso,
    record_process_alive,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.lifecycle import ModelManager
from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import InvalidMirror, parse_mirror
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import UNKNOWN_DIGEST, Plan, base_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import DEFINITION_FIELDS, STATES, InvalidSpec, ModelSpec, model_argument_spec

PRIORITIES = ("high", "normal", "low")
# the keys of a models entry: ollama_model's options of one model (one declaration: _model_spec.model_argument_spec), and priority
ENTRY_KEYS = ("name", "state", "priority", *(key for key in model_argument_spec() if key != "state"))
# a models entry may pull through another mirror than the module's (or none: mirror: false)
MIRROR_KEYS = ("mirror", "mirror_insecure", "mirror_fallback")
ENTRY_KEYS = (*ENTRY_KEYS, *MIRROR_KEYS)
MAX_CONCURRENCY = 16
COUNTS = ("added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped")
ACTIONS = ("pulled", "created", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "skipped", "pending")
LOCK_MODES = ("write", "read")
LOCK_HEADER = (
    "# Model lock written by llmops.ollama.ollama_model_sync: the name, digest and size of each declared model.\n"
    "# Give it back with lock_mode: read to pin every model to these digests (the same bytes on every host).\n"
)

_SHA256_HEX_RE = re.compile(r"[0-9a-f]{64}")
_GLOB_CHARS_RE = re.compile(r"^[A-Za-z0-9_.:/*?\[\]!-]+$")
_BOOL_WORDS = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}


class SyncError(ValueError):
    """Input the sync cannot act on; the message names the entry, the key and the problem."""


class Declared:
    """One model the sync handles: declared in ``models``, or an undeclared one that ``exclusive`` removes."""

    def __init__(self, spec: ModelSpec, priority: str = "normal", index: int = 0, label: str = "", declared: bool = True) -> None:
        self.spec = spec
        self.priority = priority
        self.index = index
        self.label = label or spec.name.display
        self.declared = declared

    @property
    def rank(self) -> Tuple[int, int]:
        """Start order of pulls: priority, then declaration (first in, first out)."""
        return (PRIORITIES.index(self.priority), self.index)


# ---------------------------------------------------------------------------- input


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _boolean(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _BOOL_WORDS:
        return _BOOL_WORDS[value.strip().lower()]
    raise SyncError("%s must be a boolean (true or false), got %r (%s)" % (where, value, _type_name(value)))


def _unknown_key_message(where: str, key: Any) -> str:
    hint = ""
    if isinstance(key, str):
        close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
        if close:
            hint = " (did you mean %r?)" % close[0]
    return "%s has an unknown key %r%s; the keys of a model are: %s" % (where, key, hint, ", ".join(ENTRY_KEYS))


def parse_models(models: Any, lock: Optional[Dict[str, Dict[str, Any]]] = None, lock_file: str = "", mirror: Any = None) -> Tuple[List[Declared], List[str]]:
    """The declared models, validated; (models, warnings). Raises SyncError before anything is asked of the server.

    ``mirror`` (a _model_mirror.MirrorSource, the module's) is each model's unless its entry sets
    ``mirror`` (a URL, or false for none), ``mirror_insecure`` or ``mirror_fallback``.

    ``lock`` (from :func:`read_lock`) pins every model that should be present to its
    digest; a declared model the lock does not list is an error.
    """
    if not isinstance(models, list):
        raise SyncError("models must be a list of model names or dictionaries, got %s" % _type_name(models))
    declared: List[Declared] = []
    warnings: List[str] = []
    seen: Dict[str, Tuple[int, str]] = {}
    missing_from_lock: List[str] = []
    for index, item in enumerate(models):
        where = "models[%d]" % index
        if isinstance(item, str):
            entry: Dict[str, Any] = {"name": item}
        elif isinstance(item, dict):
            entry = dict(item)
        else:
            raise SyncError("%s must be a model name or a dictionary with a name, got %r (%s)" % (where, item, _type_name(item)))
        for key in entry:
            if key not in ENTRY_KEYS:
                raise SyncError(_unknown_key_message(where, key))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SyncError("%s has no name: every model needs a non-empty name string, got %r" % (where, name))
        label = "%s (%s)" % (where, name)
        priority = entry.get("priority")
        if priority is None:
            priority = "normal"
        if priority not in PRIORITIES:
            raise SyncError("%s: invalid priority %r: choose one of %s" % (label, priority, ", ".join(PRIORITIES)))
        state = entry.get("state")
        if state is None:
            state = "present"
        if state not in STATES:
            raise SyncError("%s: invalid state %r: choose one of %s" % (label, state, ", ".join(STATES)))
        flags = {}
        for key in ("update", "force", "insecure", "check_memory"):
            flags[key] = _boolean(entry[key], "%s: %s" % (label, key)) if entry.get(key) is not None else False
        definition = {key: entry.get(key) for key in DEFINITION_FIELDS}
        has_definition = any(value is not None for value in definition.values())
        digest = entry.get("digest")
        if digest is not None and not isinstance(digest, str):
            raise SyncError("%s: digest must be a string such as sha256:<64 hex>, got %s" % (label, _type_name(digest)))
        if lock is not None and state in ("present", "loaded"):
            try:
                key = parse_name(name).key
            except InvalidModelName as exc:
                raise SyncError("%s: %s" % (label, exc)) from None
            pinned = lock.get(key)
            if pinned is None:
                missing_from_lock.append(name)
            else:
                if digest:
                    try:
                        own = normalize_digest(digest)
                    except InvalidDigest as exc:
                        raise SyncError("%s: %s" % (label, exc)) from None
                    if own != pinned["digest"]:
                        raise SyncError(
                            "%s: digest sha256:%s differs from sha256:%s in the lock file %s; remove one of the two pins"
                            % (label, own, pinned["digest"], lock_file)
                        )
                digest = pinned["digest"]
                if not has_definition:
                    # a host with another digest is brought to the pinned one; a registry that no longer serves it fails the model
                    flags["update"] = True
        try:
            spec, spec_warnings = ModelSpec.build(
                name,
                state=state,
                update=flags["update"],
                force=flags["force"],
                digest=digest,
                insecure=flags["insecure"],
                keep_alive=entry.get("keep_alive"),
                options=entry.get("options"),
                definition=definition if has_definition else None,
                check_memory=flags["check_memory"],
                require_capabilities=entry.get("require_capabilities"),
            )
        except InvalidSpec as exc:
            raise SyncError("%s: %s" % (label, exc)) from None
        for warning in spec_warnings:
            text = "%s: %s" % (label, warning)
            if text not in warnings:
                warnings.append(text)
        spec.mirror = mirror
        if any(entry.get(key) is not None for key in MIRROR_KEYS):
            own = {key: entry.get(key) for key in MIRROR_KEYS}
            if own["mirror"] is None and mirror is not None:
                own["mirror"] = mirror.url
            for key, default in (("mirror_insecure", mirror.insecure if mirror else False), ("mirror_fallback", mirror.fallback if mirror else False)):
                own[key] = _boolean(own[key], "%s: %s" % (label, key)) if own[key] is not None else default
            try:
                spec.mirror = parse_mirror(own["mirror"], own["mirror_insecure"], own["mirror_fallback"])
            except InvalidMirror as exc:
                raise SyncError("%s: %s" % (label, exc)) from None
        if spec.name.key in seen:
            first_index, first_name = seen[spec.name.key]
            raise SyncError("models[%d] (%s) and %s are the same model, %s: declare each model once" % (first_index, first_name, label, spec.name.display))
        seen[spec.name.key] = (index, name)
        declared.append(Declared(spec, priority, index, label))
    if missing_from_lock:
        raise SyncError(
            "the lock file %s pins no digest for %s; run the sync once with lock_mode: write to record them, or remove them from models"
            % (lock_file, ", ".join(missing_from_lock))
        )
    return declared, warnings


def check_protect(globs: Any) -> List[str]:
    """Validate the ``protect`` globs; return them in lower case (names match case-insensitively)."""
    if globs is None:
        return []
    if not isinstance(globs, list):
        raise SyncError("protect must be a list of globs, got %s" % _type_name(globs))
    checked = []
    for index, glob in enumerate(globs):
        where = "protect[%d]" % index
        if not isinstance(glob, str) or not glob.strip():
            raise SyncError("%s is empty: give a model name or a glob such as 'llama3.2:*' or 'hf.co/*'" % where)
        if not _GLOB_CHARS_RE.fullmatch(glob):
            bad = next(char for char in glob if not _GLOB_CHARS_RE.fullmatch(char))
            raise SyncError("%s %r is not a valid glob: %r cannot be part of a model name (globs use * ? [] over model names)" % (where, glob, bad))
        position = 0
        while position < len(glob):
            char = glob[position]
            if char == "]":
                raise SyncError("%s %r is not a valid glob: ']' at position %d closes no '['" % (where, glob, position))
            if char == "[":
                start = position + 1
                if start < len(glob) and glob[start] == "!":
                    start += 1
                close = glob.find("]", start + 1) if start < len(glob) and glob[start] == "]" else glob.find("]", start)
                if close < 0 or close == start:
                    raise SyncError("%s %r is not a valid glob: the '[' at position %d is never closed (or its set is empty)" % (where, glob, position))
                position = close + 1
                continue
            position += 1
        checked.append(glob.lower())
    return checked


def protected_by(name: ModelName, globs: List[str]) -> Optional[str]:
    """The first glob that protects the model (matched on its display name, its full name, or without ``:latest``)."""
    display = name.display.lower()
    candidates = [display, name.key.lower()]
    if display.endswith(":latest"):
        candidates.append(display[: -len(":latest")])
    for glob in globs:
        if any(fnmatch.fnmatchcase(candidate, glob) for candidate in candidates):
            return glob
    return None


# ---------------------------------------------------------------------------- lock file


def _raw_digest(item: Any) -> str:
    """The digest a model's result holds (the ledger record's, else the predicted one), as read: '' when there is none."""
    result = item.result
    if result is None:
        return ""
    record = result.record or {}
    after = result.after or {}
    digest = record.get("digest") or (after.get("digest") if isinstance(after.get("digest"), str) else "") or ""
    return digest if isinstance(digest, str) else str(digest)


def render_lock(entries: List[Dict[str, Any]]) -> str:
    """The lock file text (YAML; strings written as JSON strings, which YAML reads as they are)."""
    lines = [LOCK_HEADER.rstrip("\n"), "models:" if entries else "models: []"]
    for entry in entries:
        lines.append("  - name: %s" % json.dumps(entry["name"]))
        lines.append("    digest: %s" % json.dumps(entry["digest"]))
        lines.append("    size: %d" % int(entry.get("size") or 0))
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text[0] == '"':
        return json.loads(text)
    if text[0] == "'" and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _parse_simple_yaml(text: str) -> Any:
    """The block YAML of a lock file (``models:`` and a list of flat mappings, comments allowed); stdlib only, no PyYAML on the host."""
    models: Optional[List[Dict[str, Any]]] = None
    current: Optional[Dict[str, Any]] = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() or line.strip() == "---":
            continue
        stripped = line.strip()
        if models is None:
            key, sep, rest = stripped.partition(":")
            if key != "models" or not sep:
                raise ValueError("line %d: expected 'models:'" % number)
            if rest.strip() == "[]":
                models = []
                continue
            if rest.strip():
                raise ValueError("line %d: expected the list of models on the next lines" % number)
            models = []
            continue
        if stripped.startswith("- "):
            current = {}
            models.append(current)
            stripped = stripped[2:].strip()
        if current is None:
            raise ValueError("line %d: expected '- name: ...'" % number)
        key, sep, rest = stripped.partition(":")
        if not sep:
            raise ValueError("line %d: expected 'key: value'" % number)
        try:
            current[key.strip()] = _scalar(rest)
        except ValueError:
            raise ValueError("line %d: cannot read the value %r" % (number, rest.strip())) from None
    return {"models": models if models is not None else []}


def parse_lock(text: str, path: str) -> Dict[str, Dict[str, Any]]:
    """Lock file text -> {model key: {name, digest (bare hex), size}}. Raises SyncError naming the problem."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else _parse_simple_yaml(text)
    except ValueError as exc:
        raise SyncError("the lock file %s cannot be read: %s (write it with lock_mode: write; JSON works too)" % (path, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise SyncError("the lock file %s has no 'models' list; it is written by ollama_model_sync with lock_mode: write" % path)
    pins: Dict[str, Dict[str, Any]] = {}
    for index, item in enumerate(data["models"]):
        where = "%s: models[%d]" % (path, index)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("digest"), str):
            raise SyncError("%s needs a name and a digest" % where)
        try:
            name = parse_name(item["name"])
            digest = normalize_digest(item["digest"])
        except (InvalidModelName, InvalidDigest) as exc:
            raise SyncError("%s: %s" % (where, exc)) from None
        if name.key in pins:
            raise SyncError("%s: %s is listed twice" % (where, name.display))
        size = item.get("size")
        pins[name.key] = {"name": name.display, "digest": digest, "size": size if isinstance(size, int) and not isinstance(size, bool) else 0}
    return pins


def read_lock(path: str) -> Dict[str, Dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise SyncError(
            "lock_mode is read but the lock file %s does not exist; write it first with lock_mode: write (on one host, then copy it to the others)" % path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SyncError("the lock file %s cannot be read: %s" % (path, exc)) from None
    return parse_lock(text, path)


# ---------------------------------------------------------------------------- the sync


class Item:
    """One model during a sync: its declaration, its result, and notes for its message."""

    def __init__(self, declared: Declared) -> None:
        self.declared = declared
        self.spec = declared.spec
        self.plan: Optional[Plan] = None
        self.phase = ""
        self.result: Optional[ModelResult] = None
        self.skipped = False
        self.waited_for: Optional[int] = None
        self.queue_position = 0
        self.notes: List[str] = []
        self.pending = False  # its transfer waits for a run with transfers (Sync(transfers=False))


class Sync:
    """Runs one sync; :meth:`run` returns the outcome as a dict (see the module's RETURN)."""

    def __init__(
        self,
        manager: ModelManager,
        ledger: Ledger,
        declared: List[Declared],
        exclusive: bool = False,
        protect: Optional[List[str]] = None,
        concurrency: int = 3,
        host_limit: int = 3,
        fail_fast: bool = False,
        poll: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        transfers: bool = True,
    ) -> None:
        self.manager = manager
        self.ledger = ledger
        self.declared = declared
        self.exclusive = exclusive
        self.protect = protect or []
        self.concurrency = max(1, int(concurrency))
        self.host_limit = max(0, int(host_limit))
        self.fail_fast = fail_fast
        self.poll = poll
        self._clock = clock
        self.executor = manager.executor
        # the executor decides what check mode means; the sync only schedules: pulls one after the other, without slots or locks
        self.dry_run = manager.executor.check_mode
        # False: apply what moves no model bytes and leave the models with a transfer pending (check mode predicts them all)
        self.transfers = transfers or self.dry_run
        self.items: List[Item] = []
        self.failures: List[Item] = []
        self.protected: List[Dict[str, str]] = []
        self.interrupted: List[Dict[str, Any]] = []
        self._lock = threading.Lock()
        self._queued_at = ""

    # ---------------------------------------------------------------- entry point
    def run(self) -> Dict[str, Any]:
        started = self._clock()
        self.interrupted = self.executor.recover_interrupted()
        before = self.manager.table()  # GET /api/tags + GET /api/ps; OllamaError goes to the caller
        items = [Item(declared) for declared in self.declared]
        items.extend(Item(declared) for declared in self._removals())
        self.items = items
        for item in items:
            self._plan(item)
        interrupted_keys = {}
        for entry in self.interrupted:
            try:
                interrupted_keys[parse_name(str(entry.get("name") or "")).key] = entry
            except InvalidModelName:
                continue
        for item in items:
            entry = interrupted_keys.get(item.spec.name.key)
            if entry and item.plan is not None and item.plan.pulls:
                done, total = format_size(int(entry.get("completed") or 0)), format_size(int(entry.get("total") or 0))
                what = entry.get("operation") or "pull"
                item.notes.append("the earlier %s by process %s stopped at %s of %s (interrupted); resumed" % (what, entry.get("pid"), done, total))

        removals = [item for item in items if item.spec.state == "absent"]
        unloads = [item for item in items if item.spec.state == "unloaded"]
        pulls = sorted((item for item in items if item.plan is not None and item.plan.pulls), key=lambda item: item.declared.rank)
        chosen = {id(item) for item in removals + unloads + pulls}
        others = [item for item in items if id(item) not in chosen]
        for phase, group in (("remove", removals), ("unload", unloads), ("pull", pulls), ("other", others)):
            for item in group:
                item.phase = phase
        order = removals + unloads + pulls + others
        if not self.transfers:
            self._defer(pulls + others)
            pulls = [item for item in pulls if not item.pending]
            others = [item for item in others if not item.pending]

        self._serial(removals)
        self._serial(unloads)
        if self.dry_run:
            self._serial(pulls)
        else:
            self._concurrent(pulls)
        self._serial(others, again=not self.dry_run)
        self.manager.finish([item.result for item in items if item.result is not None])
        return self._outcome(order, before, self._clock() - started)

    def _defer(self, items: List[Item]) -> None:
        """Leave pending the models whose plan moves model bytes, and the custom models built on one of them."""
        waiting = set()
        for item in items:
            if item.result is None and item.plan is not None and item.plan.transfers:
                waiting.add(item.spec.name.key)
        for item in items:
            base = base_name(item.spec)
            if item.result is not None or (item.spec.name.key not in waiting and (base is None or base.key not in waiting)):
                continue
            result = ModelResult(item.spec)
            result.before = dict(item.plan.before) if item.plan is not None else {}
            result.after = dict(result.before)
            result.status = "pending"
            result.msg = "its transfer is pending" if item.spec.name.key in waiting else "waits for the transfer of its base %s" % base.display
            item.result = result
            item.pending = True

    # ---------------------------------------------------------------- what to remove
    def _plan(self, item: Item, again: bool = False) -> None:
        """Plan one model (again: with the server as it is now, after the models before it); a read that fails is its result."""
        if again:
            self.manager.refresh_tags()
        try:
            item.plan = self.manager.plan(item.spec)
        except OllamaError as exc:
            item.plan = None
            item.result = self.manager.executor.failed(item.spec, "%s: %s" % (item.spec.name.display, exc), self.manager.describe(item.spec.name))

    def _removals(self) -> List[Declared]:
        if not self.exclusive:
            return []
        declared = {declared.spec.name.key for declared in self.declared}
        bases: Dict[str, str] = {}
        for declared_model in self.declared:
            base = base_name(declared_model.spec)
            if base is not None:
                bases[base.key] = declared_model.spec.name.display
        removals = []
        names = sorted(self.manager.names(), key=lambda name: name.display.lower())
        for position, name in enumerate(names):
            key = name.key
            if key in declared:
                continue
            glob = protected_by(name, self.protect)
            if glob is not None:
                self.protected.append({"name": name.display, "reason": "protect %r" % glob})
                continue
            if key in bases:
                self.protected.append({"name": name.display, "reason": "the base of the custom model %s" % bases[key]})
                continue
            spec = ModelSpec(name, "absent")
            removals.append(Declared(spec, "normal", len(self.declared) + position, "%s (not declared)" % name.display, declared=False))
        return removals

    # ---------------------------------------------------------------- running
    def _stopped(self) -> bool:
        with self._lock:
            return self.fail_fast and bool(self.failures)

    def _done(self, item: Item) -> None:
        if item.result is not None and item.result.failed:
            with self._lock:
                self.failures.append(item)

    def _serial(self, items: List[Item], again: bool = False) -> None:
        """Run models one after the other; ``again``: plan each again first (the models before it may have changed the server)."""
        for item in items:
            if self._stopped():
                self._skip(item)
                continue
            if item.result is None:  # not already failed while planning
                if again:
                    self._plan(item, again=False)
                if item.plan is not None:
                    # a transfer here (a create whose base Ollama pulls) waits for a host pull slot in the executor
                    item.result = self.manager.apply(item.plan)
            self._done(item)

    def _skip(self, item: Item) -> None:
        first = self.failures[0].spec.name.display if self.failures else "another model"
        result = ModelResult(item.spec)
        present = self.manager.present(item.spec.name)
        result.before = {"state": "present"} if present else {"state": "absent"}
        result.after = dict(result.before)
        result.status = "skipped"
        result.msg = "not started: fail_fast is on and %s failed" % first
        item.result = result
        item.skipped = True
        self.manager.executor.mark_not_started(item.spec.name, present, result.msg, os.getpid())

    def _concurrent(self, jobs: List[Item]) -> None:
        """Start the pulls in order, at most ``concurrency`` at once and each with a host pull slot and the model's pull lock."""
        if not jobs:
            return
        pending = list(jobs)
        running: Dict[threading.Thread, Item] = {}
        wake = threading.Event()
        self._queued_at = now_iso()
        while pending or running:
            wake.clear()
            for thread in [thread for thread in running if not thread.is_alive()]:
                thread.join()
                self._done(running.pop(thread))
            if pending and self._stopped():
                for item in pending:
                    self._skip(item)
                pending = []
            if not pending:
                if running:
                    wake.wait(self.poll)
                continue
            started = None
            if len(running) < self.concurrency:
                for item in pending:
                    model_lock = self.ledger.try_model_lock(item.spec.name)
                    if model_lock is None:
                        self._note_other_process(item)
                        continue
                    slot = self.ledger.try_pull_slot(self.host_limit)
                    if slot is None:
                        model_lock.release()
                        break  # strict order: the next pull waits for a host slot too
                    started = item
                    thread = threading.Thread(target=self._pull, args=(item, slot, model_lock, wake), name="pull-%s" % item.spec.name.display)
                    thread.daemon = True
                    running[thread] = item
                    thread.start()
                    break
            if started is not None:
                pending.remove(started)
                self._mark_queued(pending)
                continue
            self._mark_queued(pending)
            wake.wait(self.poll)

    def _pull(self, item: Item, slot: FileLock, model_lock: FileLock, wake: threading.Event) -> None:
        name = item.spec.name
        try:
            self.manager.executor.mark_started(name)
            # another process may have pulled it meanwhile: look again (one GET) and plan again before pulling
            self._plan(item, again=True)
            if item.result is None and item.plan is not None:
                item.result = self.manager.apply(item.plan, slot_held=True)
            if item.waited_for is not None and not item.result.failed and not item.result.changed:
                item.notes.append("pulled by process %s on this host while this sync waited for it" % item.waited_for)
        except Exception as exc:  # a thread must leave a result, whatever went wrong
            result = ModelResult(item.spec)
            result.failed = True
            result.status = FAILED
            result.msg = "%s: unexpected error: %s" % (name.display, exc)
            item.result = result
        finally:
            slot.release()
            model_lock.release()
            wake.set()

    def _note_other_process(self, item: Item) -> None:
        record = self.ledger.read(item.spec.name) or {}
        pid = record.get("pid")
        if isinstance(pid, int) and pid != os.getpid():
            item.waited_for = pid
        elif item.waited_for is None:
            item.waited_for = 0

    def _queue_offset(self) -> int:
        """Models queued by other live processes on this host before this sync queued its own."""
        count = 0
        for record in self.ledger.records().values():
            if record.get("status") != QUEUED or record.get("pid") == os.getpid():
                continue
            since = record.get("queued_at")
            if not isinstance(since, str) or since <= self._queued_at:
                count += 1
        return count

    def _mark_queued(self, pending: List[Item]) -> None:
        """Record ``queued`` with its position for the pulls that have not started (positions count from 1, host-wide)."""
        if not self.ledger.enabled or not pending:
            return
        offset = self._queue_offset()
        for index, item in enumerate(pending):
            position = offset + index + 1
            if item.queue_position == position:
                continue
            record = self.ledger.read(item.spec.name) or {}
            pid = record.get("pid")
            if record.get("status") in ACTIVE_STATUSES and pid != os.getpid() and record_process_alive(record):
                continue  # another process pulls or queued it; its record is its own
            item.queue_position = position
            why = "a pull slot on this host (at most %d at once)" % self.host_limit if self.host_limit else "its turn"
            self.manager.executor.mark_queued(item.spec.name, position, why, self._queued_at)

    # ---------------------------------------------------------------- the outcome
    def _outcome(self, order: List[Item], before: List[Dict[str, Any]], seconds: float) -> Dict[str, Any]:
        results = []
        for item in self.items:
            results.append(self._result_entry(item))
        counts = {key: 0 for key in COUNTS}
        for entry in results:
            action = entry["action"]
            if action in ("pulled", "created"):
                counts["added"] += 1
            elif action in ("updated", "removed", "unchanged", "failed", "skipped"):
                counts[action] += 1
            elif action == "unloaded":
                counts["unloaded"] += 1
            if "loaded" in entry["actions"]:
                counts["loaded"] += 1
        unavailable = self._unavailable(results)
        counts["unavailable"] = len(unavailable)
        after = self._after_table(before) if self.dry_run else self.manager.table()
        plan = []
        for item in order:
            result = item.result
            if result is None or not (result.actions or result.failed or item.skipped or item.pending):
                continue
            entry = next(e for e, i in zip(results, self.items) if i is item)
            plan.append(
                {
                    "name": entry["name"],
                    "action": entry["action"],
                    "actions": list(result.actions),
                    "phase": item.phase,
                    "priority": item.declared.priority,
                    "declared": item.declared.declared,
                    "message": entry["message"],
                    "steps": [step.as_dict() for step in result.plan.steps] if result.plan is not None else [],
                }
            )
        lock = []
        lock_errors = []
        for entry, item in zip(results, self.items):
            if not item.declared.declared or item.spec.state not in ("present", "loaded") or entry["action"] in ("failed", "skipped", "pending"):
                continue
            digest = entry["digest"]
            if not _SHA256_HEX_RE.fullmatch(digest):
                raw = _raw_digest(item)
                if self.dry_run and raw == UNKNOWN_DIGEST:
                    continue  # check mode: a model still to be pulled has no digest yet
                # a lock file is memory: never written with less than the run knows because an answer could not be read
                lock_errors.append(
                    "%s: the server lists the field digest as %s, not sha256:<64 hex> (GET /api/tags)" % (entry["name"], json.dumps(raw) if raw else "missing")
                )
                continue
            lock.append({"name": entry["name"], "digest": "sha256:" + digest, "size": int(entry["size_bytes"] or 0)})
        lock.sort(key=lambda pin: pin["name"].lower())
        return {
            "results": results,
            "summary": counts,
            "plan": plan,
            "before": before,
            "after": after,
            "lock": lock,
            "lock_errors": lock_errors,
            "protected": list(self.protected),
            "interrupted": list(self.interrupted),
            "unavailable": unavailable,
            "failures": [item for item in self.items if item.result is not None and item.result.failed],
            "skipped": [item for item in self.items if item.skipped],
            "seconds": round(seconds, 3),
            "pending": [entry["name"] for entry, item in zip(results, self.items) if item.pending],
            "changed": any(item.result is not None and item.result.changed for item in self.items),
        }

    def _result_entry(self, item: Item) -> Dict[str, Any]:
        result = item.result
        if result is None:  # cannot happen: every item is run or skipped
            result = ModelResult(item.spec)
            result.failed = True
            result.msg = "%s was not handled" % item.spec.name.display
        record = result.record or {}
        action = _action(item, result)
        transfer = result.transfer
        if action in ("failed", "skipped", "pending"):
            status = result.status or action
            message = result.msg
        else:
            status = record.get("status") or ""
            message = "; ".join([", ".join(result.actions) or "unchanged", *item.notes])
        digest = _raw_digest(item)
        size = int(record.get("size_bytes") or 0)
        if not size and self.dry_run:
            size = result.expected_size
        return {
            "name": record.get("name") or item.spec.name.display,
            "action": action,
            "actions": list(result.actions),
            "status": status,
            "message": message,
            "bytes": transfer.bytes if transfer is not None else 0,
            "seconds": round(transfer.seconds, 3) if transfer is not None else 0.0,
            "priority": item.declared.priority,
            "declared": item.declared.declared,
            "changed": result.changed,
            "failed": result.failed,
            "digest": digest if _SHA256_HEX_RE.fullmatch(digest) else "",
            "size": format_size(size),
            "size_bytes": size,
        }

    def _unavailable(self, results: List[Dict[str, Any]]) -> List[str]:
        """Declared models that should be there and are not, and models the ledger knew that the server no longer holds."""
        names = []
        handled = set()
        for entry, item in zip(results, self.items):
            handled.add(item.spec.name.key)
            if not item.declared.declared or item.spec.state not in ("present", "loaded"):
                continue
            after_state = (item.result.after or {}).get("state") if item.result is not None else None
            if entry["action"] in ("failed", "skipped") or after_state in (None, "absent"):
                names.append(entry["name"])
        for key, record in self.ledger.records().items():
            if key in handled or record.get("status") != OK:
                continue
            try:
                name = parse_name(str(record.get("name") or ""))
            except InvalidModelName:
                continue
            if not self.manager.present(name):
                names.append(name.display)
        return names

    def _after_table(self, before: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The predicted model list after a check-mode run: the list before, with each result's ``after`` applied."""
        table = {}
        for row in before:
            try:
                table[parse_name(row["name"]).key] = dict(row)
            except InvalidModelName:
                continue
        for item in self.items:
            result = item.result
            if result is None or result.failed or item.skipped:
                continue
            after = result.after or {}
            key = item.spec.name.key
            if after.get("state") == "absent":
                table.pop(key, None)
            elif after.get("state") in ("present", "loaded"):
                digest = after.get("digest") if isinstance(after.get("digest"), str) else ""
                table[key] = {"name": item.spec.name.display, "digest": bare_digest(digest) or digest, "state": after["state"]}
        return sorted(table.values(), key=lambda row: row["name"].lower())


def _action(item: Item, result: ModelResult) -> str:
    if item.skipped:
        return "skipped"
    if item.pending:
        return "pending"
    if result.failed:
        return "failed"
    actions = result.actions
    if item.spec.state == "absent":
        return "removed" if "deleted" in actions else "unchanged"
    if "created" in actions:
        return "created"
    if "pulled" in actions:
        return "pulled"
    if any(action in actions for action in ("updated", "re-pulled", "re-created")):
        return "updated"
    if "loaded" in actions:
        return "loaded"
    if "unloaded" in actions:
        return "unloaded"
    return "unchanged"


def table_text(rows: List[Dict[str, Any]]) -> str:
    """A model list as diff text: one line per model, ``name  id  state``."""
    return "".join("%s  %s  %s\n" % (row["name"], (row.get("digest") or "-")[:12], row["state"]) for row in rows)


def failure_text(failures: List[Item], skipped: List[Item], total: int) -> str:
    """The task's message when models failed: each failed model and its reason, and what fail_fast did not start."""
    if not failures and not skipped:
        return ""
    parts = []
    if failures:
        reasons = "; ".join("%s: %s" % (item.spec.name.display, item.result.msg if item.result is not None else "failed") for item in failures)
        parts.append("%d of %d models failed: %s" % (len(failures), total, reasons))
    if skipped:
        parts.append("not started because fail_fast is on: %s" % ", ".join(item.spec.name.display for item in skipped))
    return ". ".join(parts)


def summary_line(counts: Dict[str, int]) -> str:
    return ", ".join("%d %s" % (counts.get(key, 0), key) for key in COUNTS if key != "skipped" or counts.get(key))


__all__ = [
    "ACTIONS",
    "COUNTS",
    "LOCK_MODES",
    "MAX_CONCURRENCY",
    "PRIORITIES",
    "Declared",
    "Sync",
    "SyncError",
    "check_protect",
    "failure_text",
    "parse_lock",
    "parse_models",
    "protected_by",
    "read_lock",
    "render_lock",
    "summary_line",
    "table_text",
]
