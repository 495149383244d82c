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

import os
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import ACTIVE_STATUSES, FAILED, QUEUED, FileLock, Ledger, now_iso, record_process_alive
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.lifecycle import ModelManager
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import Plan, base_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import ModelSpec
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import Declared, protected_by
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_output import outcome


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
        self.waited = False  # its pull waited (a host slot, another process): the server is read again before it starts


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
        # the executor decides what check mode means (model.apply.Schedule); the sync follows its schedule
        self.schedule = manager.executor.schedule
        # False: apply what moves no model bytes and leave the models with a transfer pending (when the schedule may defer)
        self.transfers = transfers or not self.schedule.may_defer
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
        self._note_resumed(items)
        removals, unloads, pulls, others = self._phases(items)
        order = removals + unloads + pulls + others
        if not self.transfers:
            self._defer(pulls + others)
            pulls = [item for item in pulls if not item.pending]
            others = [item for item in others if not item.pending]

        self._serial(removals)
        self._serial(unloads)
        if self.schedule.concurrent:
            self._concurrent(pulls)
        else:
            self._serial(pulls)
        if self.schedule.again and others and self.manager.mutated:
            self.manager.refresh_tags()  # the server as the pulls left it (one GET), for the loads and creates after them
        self._serial(others, again=self.schedule.again)
        self.manager.finish([item.result for item in items if item.result is not None])
        return outcome(self, order, before, self._clock() - started)

    def _note_resumed(self, items: List[Item]) -> None:
        """A note on each model whose pull resumes one that an earlier, interrupted process left."""
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

    @staticmethod
    def _phases(items: List[Item]) -> Tuple[List[Item], List[Item], List[Item], List[Item]]:
        """The items by phase, in the order they run: removals, unloads, pulls (by priority, then declaration), the others."""
        removals = [item for item in items if item.spec.state == "absent"]
        unloads = [item for item in items if item.spec.state == "unloaded"]
        pulls = sorted((item for item in items if item.plan is not None and item.plan.pulls), key=lambda item: item.declared.rank)
        chosen = {id(item) for item in removals + unloads + pulls}
        others = [item for item in items if id(item) not in chosen]
        for phase, group in (("remove", removals), ("unload", unloads), ("pull", pulls), ("other", others)):
            for item in group:
                item.phase = phase
        return removals, unloads, pulls, others

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
            for item in pending:
                item.waited = True
            wake.wait(self.poll)

    def _pull(self, item: Item, slot: FileLock, model_lock: FileLock, wake: threading.Event) -> None:
        name = item.spec.name
        try:
            self.manager.executor.mark_started(name)
            # after a wait (for a slot, or for another process's pull of it), the server may hold it now: look again
            # (one GET) and plan again; a pull that starts at once goes by the state read before the batch
            self._plan(item, again=item.waited or item.waited_for is not None)
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


__all__ = ["Item", "Sync"]
