# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one executor of model plans (see model.plan).

:class:`Executor` is the only code of the model modules that looks at check mode
and the only one that writes a model's status into the ledger. It runs a plan's
steps in order; in check mode it runs only the steps that look (disk, memory),
stops at the first failure the plan foresees, and reports the plan's actions and
``after``: the same steps, without a second code path. Every transfer (a pull,
a create whose base must be pulled) runs inside one host pull slot. A pinned
update is copy -> pull -> verify, and a verification that fails restores the copy.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.files import atomic_write
from ansible_collections.llmops.ollama.plugins.module_utils.core.host import HostChecks
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import (
    ABSENT,
    FAILED,
    OK,
    PAUSED,
    PROBLEM_STATUSES,
    QUEUED,
    Ledger,
    now_iso,
    unusable_message,
    unwritable_reason,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import registry_label
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import ModelName, bare_digest
from ansible_collections.llmops.ollama.plugins.module_utils.model.blobs import remove_unused_blob, upload_missing
from ansible_collections.llmops.ollama.plugins.module_utils.model.host_checks import candidates_text, check_memory, check_space
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import (
    CHECK_CAPABILITIES,
    CHECK_MEMORY,
    CHECK_SPACE,
    COPY,
    CREATE,
    DELETE,
    LOAD,
    PULL,
    RESTORE,
    UNLOAD,
    VERIFY,
    Plan,
    Step,
    capabilities_message,
    missing_capabilities,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import OperationFailed, Transfer, TransferStats
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import CUSTOM, ServerState
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult, StepFailed
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import FILE_KINDS, ModelSpec

LOAD_TIMEOUT = 330.0  # Ollama's own OLLAMA_LOAD_TIMEOUT is 5 minutes
# Ledger fields of a recorded failure, dropped when a later operation succeeds (see _records.failure_is_current).
_NO_FAILURE: Dict[str, Any] = {"failed_at": None, "failed_digest": None, "failed_modified_at": None}


class Schedule:
    r"""How the sync schedules many plans, decided by the executor from check mode. A real run pulls ``concurrent``\ ly
    (host pull slots, model pull locks), plans a model ``again`` after earlier changes, ``may_defer`` transfers to a second
    run and reads the server after; check mode (``predicted``) reports every plan in turn: sizes and the list after come from the plans."""

    def __init__(self, real: bool) -> None:
        self.concurrent = self.again = self.may_defer = real
        self.predicted = not real


def open_ledger(state_dir: str, check_mode: bool, warn: Callable[[str], None]) -> Ledger:
    """The ledger of a model module: created when missing by a real run only (check mode writes nothing)."""
    return Ledger.open(state_dir, create=not check_mode, warn=warn)


class _Run:
    """What the steps of one plan pass on to the next ones while it runs."""

    def __init__(self) -> None:
        self.digest = ""  # the model's digest after the last pull or create
        self.backup: Optional[ModelName] = None  # the copy of a pinned update, while it is still needed
        self.temporary: Optional[ModelName] = None  # the mirror-named model of a pull through a mirror, until deleted


class Executor:
    """Applies plans to one Ollama server (see the module docstring)."""

    def __init__(
        self,
        client: OllamaClient,
        ledger: Ledger,
        state: Callable[[], Optional[ServerState]],
        transfer: Transfer,
        host: HostChecks,
        check_mode: bool = False,
        max_concurrent_pulls: int = 3,
        warn: Optional[Callable[[str], None]] = None,
        sleep: Callable[[float], None] = time.sleep,
        others: Sequence[OllamaClient] = (),
    ) -> None:
        self.client = client
        self.others = list(others)  # the host's other instances, which share the models directory
        self.ledger = ledger
        self._state = state
        self.transfer = transfer
        self.host = host
        self.check_mode = check_mode
        self.max_concurrent_pulls = max_concurrent_pulls
        self._warn = warn or (lambda _text: None)
        self._sleep = sleep
        self.mutated = False

    @property
    def state(self) -> ServerState:
        """The server state the plans were made from (read before any plan, so never None here)."""
        state = self._state()
        if state is None:  # cannot happen: a plan is made from the state
            raise StepFailed("the server's models were not read before the plan was applied")
        return state

    # ---------------------------------------------------------------- entry points
    def apply(self, plan: Plan, slot_held: bool = False) -> ModelResult:
        """Run (or, in check mode, report) one plan; its failure is in the result, never raised.

        ``slot_held``: the caller already holds a host pull slot for this model's transfer
        (the sync starts its pulls in priority order that way); otherwise one is taken here.
        """
        result = ModelResult(plan.spec)
        result.plan = plan
        result.before = dict(plan.before)
        result.after = dict(plan.before)
        result.expected_size = plan.expected_size
        result.differences = [field for field, _current, _desired in plan.differences]
        try:
            if plan.refusal is not None:
                raise StepFailed(*plan.refusal)
            if self.check_mode:
                self._predict(plan, result)
            else:
                self._run(plan, result, slot_held)
                self._settle(plan, result)
        except StepFailed as exc:
            self._fail(result, str(exc), exc.kind, exc.cleanup)
        except OllamaError as exc:
            self._fail(result, "%s: %s" % (plan.name.display, exc), FAILED)
        return result

    def failed(self, spec: ModelSpec, message: str, before: Optional[Dict[str, Any]] = None) -> ModelResult:
        """The result of a model that could not even be planned (the server did not answer a read)."""
        result = ModelResult(spec)
        result.before = dict(before or {})
        result.after = dict(result.before)
        self._fail(result, message, FAILED)
        return result

    # ---------------------------------------------------------------- check mode: the plan, reported
    def _predict(self, plan: Plan, result: ModelResult) -> None:
        for note in plan.notes:
            self._warn(note)
        verbs: List[str] = []
        for step in plan.steps:
            if step.when_changed and not verbs:
                continue
            if step.kind == CHECK_SPACE:
                self._check_space(plan, step, result)
            elif step.kind == CHECK_MEMORY:
                self._check_memory(plan, step)
            elif step.kind == CHECK_CAPABILITIES:
                self._check_capabilities(plan, step, bool(verbs))
            if step.data.get("warning"):
                self._warn(step.data["warning"])
            if step.error:
                raise StepFailed(step.error, FAILED)
            if step.kind == PULL and step.data.get("update") and not step.data.get("changes"):
                continue  # the registry serves the present version: the pull changes nothing
            if step.verb and step.target == plan.name:
                verbs.append(step.verb)
        for verb in verbs:
            result.act(verb)
        result.after = dict(plan.after)

    # ---------------------------------------------------------------- the real run
    def _run(self, plan: Plan, result: ModelResult, slot_held: bool) -> None:
        for field, _current, desired in plan.differences:
            result.after[field] = desired
        run = _Run()
        try:
            for step in plan.steps:
                if step.when_changed and not result.changed:
                    continue
                self._step(plan, step, result, run, slot_held)
        finally:
            if run.backup is not None:
                self._drop_backup(run.backup)
            if run.temporary is not None:
                removed = self._drop_mirror_name(run.temporary)
                if result.mirror is not None:
                    result.mirror["removed"] = removed

    def _step(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        """Run one step of a plan: the method named for its kind (RESTORE runs only as the undo of a verification)."""
        handler = _STEP_HANDLERS.get(step.kind)
        if handler is None:
            raise StepFailed("%s: a %s step cannot run on its own" % (plan.name.display, step.kind))
        handler(self, plan, step, result, run, slot_held)

    def _step_unload(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        self._unload(step.target, result)
        if plan.spec.state == "unloaded":
            result.after["state"] = "present"

    def _step_delete(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        if step.data.get("mirror"):  # the mirror-named model, once copied to its own name
            removed = self._drop_mirror_name(step.target)
            run.temporary = None
            if result.mirror is not None:
                result.mirror["removed"] = removed
            return
        if step.target != plan.name:  # the backup copy, no longer needed
            removed = run.backup is not None and self._drop_backup(step.target)
            run.backup = None
            if step.data.get("previous") and result.mirror is not None:
                result.mirror["previous_removed"] = removed
            return
        self._delete(step.target, result, step.verb)
        result.after = {"state": "absent"}

    def _step_copy(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        if step.data.get("mirror"):
            self._mirror_copy(plan, step, run)
            if result.mirror is not None:
                result.mirror["copied"] = True
        elif step.data.get("previous"):
            self._keep_previous(plan, step, run)
        else:
            self._backup(plan, step, run)

    def _step_pull(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        if step.data.get("warning"):
            self._warn(step.data["warning"])
        with self._slot(plan.name, slot_held):
            stats = self._pull(plan, step, result)
        if step.source is not None and step.source != plan.name and step.data.get("temporary"):
            run.temporary = step.source  # a mirror name this run created: copied below, then removed
        run.digest = self._pulled_digest(plan, step, result)
        if step.data.get("update"):
            if not any(later.kind == VERIFY for later in plan.steps):
                self._updated(plan, step, result, run.digest, stats)
            return
        result.act(step.verb or "pulled")
        if not run.digest:
            raise StepFailed("the pull of %s reported success, but the server does not list the model afterwards" % plan.name.display)
        result.after = {"state": "present", "digest": run.digest}
        self.ledger.log(plan.name, step.verb or "pulled", digest=run.digest, **_stats_fields(stats))

    def _step_create(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        if step.transfer:
            with self._slot(plan.name, slot_held):
                self._create(plan, step, result, run)
        else:
            self._create(plan, step, result, run)

    def _step_load(self, plan: Plan, step: Step, result: ModelResult, run: _Run, slot_held: bool) -> None:
        self._load(plan.name, step.data.get("keep_alive"), step.data.get("options") or {})
        result.act(step.verb or "loaded")
        result.after["state"] = "loaded"
        self.ledger.log(plan.name, "loaded", keep_alive=step.data.get("keep_alive"), options=step.data.get("options") or None)

    def _settle(self, plan: Plan, result: ModelResult) -> None:
        """The ledger status a model ends in after its plan succeeded."""
        name, state = plan.name, plan.spec.state
        earlier_problem = plan.recorded.get("status") in PROBLEM_STATUSES
        if state == "absent":
            if result.changed:
                self.ledger.set_status(name, ABSENT, "deleted", operation="delete", **_NO_FAILURE)
            elif earlier_problem:
                self.ledger.set_status(name, ABSENT, "not on the server (state absent)", **_NO_FAILURE)
            return
        if state == "unloaded":
            if result.changed:
                self.ledger.set_status(name, OK, "unloaded at %s" % time.strftime("%Y-%m-%d %H:%M:%S"), **_NO_FAILURE)
            return
        if result.changed:
            self.ledger.set_status(name, OK, "%s at %s" % (", ".join(result.actions), time.strftime("%Y-%m-%d %H:%M:%S")), **_NO_FAILURE)
        elif earlier_problem:
            recorded = self.ledger.read(name) or {}
            if recorded.get("status") in PROBLEM_STATUSES:
                self.ledger.set_status(name, OK, "present (the earlier problem is resolved: %s)" % recorded.get("message", ""), **_NO_FAILURE)

    def _fail(self, result: ModelResult, message: str, kind: str, cleanup: Optional[List[Dict[str, Any]]] = None) -> None:
        result.failed = True
        result.msg = message
        result.status = kind
        result.cleanup = cleanup or []
        if self.check_mode:
            return
        extra: Dict[str, Any] = {}
        if result.cleanup:
            extra["cleanup_candidates"] = result.cleanup
        # what the server showed of the model when it failed: a later change of it (by anyone) ends the failure
        state = self._state()
        entry = state.model(result.name) if state is not None else None
        extra["failed_at"] = now_iso()
        extra["failed_digest"] = bare_digest(entry.get("digest")) if entry else ("" if state is not None else None)
        extra["failed_modified_at"] = str(entry.get("modified_at") or "") if entry else ("" if state is not None else None)
        self.ledger.set_status(result.name, kind if kind in PROBLEM_STATUSES else FAILED, message, **extra)
        self.ledger.log(result.name, "failed" if kind != PAUSED else "paused", message=message, actions=result.actions or None)

    # ---------------------------------------------------------------- a run of many plans (the sync)
    @property
    def schedule(self) -> Schedule:
        """How the sync schedules the plans it hands to this executor (see Schedule)."""
        return Schedule(real=not self.check_mode)

    def write_file(self, path: str, data: bytes, option: str, mode: int = 0o644) -> None:
        """Write a file the run produces (the sync's lock file, named by ``option``), atomically; nothing in check mode."""
        if self.check_mode:
            return
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            raise OSError("the directory %s of %s does not exist" % (directory, option))
        atomic_write(path, data, mode)

    def record_history(self, entry: Dict[str, Any]) -> None:
        """Append a run's entry to the ledger's history; nothing in check mode."""
        if not self.check_mode:
            self.ledger.append_history(entry)

    def ledger_prediction(self, state_dir: str) -> str:
        """In check mode (which creates no ledger): why a real run could not use the ledger in ``state_dir`` ('' when it could, or in a real run)."""
        if not self.check_mode:
            return ""
        reason = unwritable_reason(state_dir)
        return unusable_message(state_dir, reason) if reason else ""

    # ---------------------------------------------------------------- queue status (the sync's scheduler)
    def mark_queued(self, name: ModelName, position: int, why: str, queued_at: str) -> None:
        self.ledger.set_status(
            name,
            QUEUED,
            "queued: number %d in line for a pull on this host, waiting for %s" % (position, why),
            operation="pull",
            queue_position=position,
            queued_at=queued_at,
        )

    def mark_started(self, name: ModelName) -> None:
        self.ledger.update(name, queue_position=None, queued_at=None, interrupted=None)

    def mark_not_started(self, name: ModelName, present: bool, message: str, pid: int) -> None:
        """A model this process queued and then did not start (fail_fast): back to what it is on the server."""
        if self.check_mode:
            return
        record = self.ledger.read(name) or {}
        if record.get("status") == QUEUED and record.get("pid") == pid:
            self.ledger.set_status(name, OK if present else ABSENT, message, queue_position=None, queued_at=None)

    def recover_interrupted(self) -> List[Dict[str, Any]]:
        """Pulls of dead processes that the ledger still shows active: marked interrupted (a preview in check mode, nothing written)."""
        if not self.check_mode:
            return self.ledger.recover_interrupted()
        found = []
        for record in self.ledger.records().values():
            if record.get("interrupted") and "interrupted_pid" not in record:
                progress = record.get("progress") if isinstance(record.get("progress"), dict) else {}
                found.append(
                    {
                        "name": record.get("name"),
                        "pid": record.get("pid"),
                        "operation": record.get("operation") or "",
                        "status": "(interrupted)",
                        "started_at": record.get("started_at"),
                        "completed": progress.get("completed"),
                        "total": progress.get("total"),
                    }
                )
        return found

    # ---------------------------------------------------------------- transfers
    @contextmanager
    def _slot(self, name: ModelName, held: bool) -> Iterator[None]:
        """One host pull slot around a transfer (unless the caller holds one for it already)."""
        if held:
            yield
            return

        def queued() -> None:
            self.ledger.set_status(name, QUEUED, "waiting for one of %d pull slots on this host" % self.max_concurrent_pulls, operation="pull")

        with self.ledger.pull_slot(self.max_concurrent_pulls, queued, self._sleep):
            yield

    def _pull(self, plan: Plan, step: Step, result: ModelResult) -> TransferStats:
        name = plan.name
        expected = int(step.data.get("total") or 0)
        self.ledger.start(name, "pull")
        mirror = step.data.get("mirror")
        where: Dict[str, Any] = {"registry": registry_label(name)}
        if mirror:
            where.update(mirror=mirror, source=(step.source or name).display)
        self.ledger.log(name, "pull-started", total=expected or None, **where)
        self.mutated = True
        missing = self.transfer.missing_blobs(step.data.get("blobs") or {})
        if mirror:
            result.mirror = {"mirror": mirror, "source": (step.source or name).display, "bytes": 0, "pulled": False, "copied": False, "removed": False}
        try:
            stats = self.transfer.pull(name, bool(step.data.get("insecure")), expected, source=step.source, missing=missing)
        except OperationFailed as exc:
            result.transfer = exc.stats
            if result.mirror is not None:
                result.mirror["bytes"] = exc.stats.bytes
            failure = self._transfer_failure(name, exc)
            if mirror:
                failure.args = ("%s (pulled through the mirror %s as %s)" % (failure, mirror, (step.source or name).display),)
            raise failure from None
        result.transfer = stats
        if result.mirror is not None:
            result.mirror.update(bytes=stats.bytes, pulled=True)
        return stats

    def _create(self, plan: Plan, step: Step, result: ModelResult, run: _Run) -> None:
        name = plan.name
        definition = dict(step.data.get("definition") or {})
        self.ledger.start(name, "create")
        # the files' digests are recorded once the create succeeded: they are what the next run compares with
        self.ledger.update(name, source=CUSTOM, definition={key: value for key, value in definition.items() if key not in FILE_KINDS})
        self.ledger.log(name, "create-started", definition=definition)
        self.mutated = True
        sent = self._upload(name, step.data.get("blobs") or [])
        try:
            stats = self.transfer.create(name, definition, rewrite_bytes=_rewrite_bytes(definition, step.data.get("blobs") or []))
        except OperationFailed as exc:
            result.transfer = exc.stats
            self._drop_uploaded(name, sent)
            raise self._transfer_failure(name, exc) from None
        except BaseException:
            self._drop_uploaded(name, sent)
            raise
        result.transfer = stats
        verb = step.verb or "created"
        result.act(verb)
        run.digest = self._digest_after(name)
        result.after["state"] = "present"
        result.after["digest"] = run.digest
        if any(key in definition for key in FILE_KINDS):
            self.ledger.update(name, definition=definition)
        self.ledger.log(name, verb, digest=run.digest, differences=result.differences or None)

    def _upload(self, name: ModelName, blobs: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """The files and adapters of a create: each blob the server lacks (HEAD), streamed from its file; those sent."""
        if not blobs:
            return []
        try:
            sent = upload_missing(self.client, blobs, timeout=max(self.client.timeout, LOAD_TIMEOUT))
        except OllamaError as exc:
            raise StepFailed("%s: uploading its files failed, nothing was created: %s" % (name.display, exc.server_message or exc)) from None
        if sent:
            self.ledger.log(name, "uploaded", files=[item["name"] for item in sent], bytes=sum(int(item["size"]) for item in sent))
        return sent

    def _drop_uploaded(self, name: ModelName, sent: List[Dict[str, Any]]) -> None:
        """After a create that failed: remove the blobs this run uploaded (the server lacked them) that no manifest uses.

        Ollama's API deletes no blob, so they are removed from the models directory when it is on this host
        (``models_path``); otherwise a warning names them (Ollama prunes unused blobs when it next starts).
        """
        if not sent:
            return
        left = []
        for item in sent:
            if not remove_unused_blob(self.host.models_path, item["digest"]):
                left.append(item["digest"])
        removed = [item["digest"] for item in sent if item["digest"] not in left]
        if removed:
            self.ledger.log(name, "uploads-removed", digests=removed)
        if left:
            self._warn(
                "%s: the create failed; the blob(s) %s uploaded for it stay on the server until Ollama next starts (it removes "
                "unused blobs then): the models directory is not on this host (models_path)" % (name.display, ", ".join(left))
            )

    def _check_capabilities(self, plan: Plan, step: Step, changed: bool) -> None:
        """require_capabilities: fail the model when it lacks one, naming what it has (/api/tags, else /api/show)."""
        name = plan.name
        required = list(step.data.get("required") or [])
        capabilities = step.data.get("capabilities")
        if changed or capabilities is None:
            if self.check_mode:
                self._warn("%s: require_capabilities (%s) is checked once the model is on the server" % (name.display, ", ".join(required)))
                return
            capabilities = self._capabilities(name)
        if missing_capabilities(required, capabilities):
            raise StepFailed(capabilities_message(name, required, capabilities))

    def _capabilities(self, name: ModelName) -> List[str]:
        entry = self.state.model(name) or {}
        found = entry.get("capabilities")
        if not isinstance(found, list) or not found:
            found = self.client.show(name.display).get("capabilities")
        return [str(item) for item in found] if isinstance(found, list) else []

    def _transfer_failure(self, name: ModelName, exc: OperationFailed) -> StepFailed:
        if exc.kind == PAUSED:
            candidates = self.state.cleanup_candidates(exclude=name)
            return StepFailed("%s%s" % (exc, candidates_text(candidates)), PAUSED, candidates)
        return StepFailed(str(exc), FAILED)

    def _pulled_digest(self, plan: Plan, step: Step, result: ModelResult) -> str:
        """The digest of a model just pulled. A plain pull (no pin to verify, no update, not through a mirror) has the
        digest the registry served for the plan: the server's list is read once after the batch (ModelManager.finish),
        which confirms it (``result.unconfirmed``). Otherwise GET /api/tags now."""
        served = (step.after or {}).get("digest") or ""
        plain = step.source in (None, plan.name) and not step.data.get("update") and not any(later.kind == VERIFY for later in plan.steps)
        if plain and len(served) == 64:
            result.unconfirmed = True
            return served
        return self._digest_after(step.source or plan.name)

    def confirm(self, result: ModelResult, listed: bool) -> None:
        """After the batch: a model pulled without a read of the list must be on it (else it failed, as the pull did)."""
        result.unconfirmed = False
        if not listed:
            self._fail(result, "the pull of %s reported success, but the server does not list the model afterwards" % result.name.display, FAILED)

    def _digest_after(self, name: ModelName) -> str:
        """GET /api/tags after a pull or create: the model's digest now ('' if it is not listed)."""
        tags = self.client.tags()
        state = self.state
        state.set_tags(tags)
        return state.digest(name)

    # ---------------------------------------------------------------- pins, backups, restores
    def _updated(self, plan: Plan, step: Step, result: ModelResult, new: str, stats: Optional[TransferStats]) -> None:
        current = step.data.get("current") or ""
        if new != current:
            result.act(step.verb or "updated")
            self.ledger.log(plan.name, "updated", digest_before=current, digest_after=new, **_stats_fields(stats))
        else:
            self.ledger.log(plan.name, "up-to-date", digest=new, **_stats_fields(stats))
        result.after["digest"] = new

    def _verify(self, plan: Plan, step: Step, result: ModelResult, run: _Run) -> None:
        name, pin, new = plan.name, step.data["pin"], run.digest
        if step.undo is not None and step.undo.kind == RESTORE:
            self._verify_update(plan, step, result, run)
            return
        if new == pin:
            return
        removed = ""
        if step.undo is not None:  # the model this task added goes again
            self._delete(name, result, None)
            result.after = {"state": "absent"}
            removed = step.data.get("removed") or ""
        raise StepFailed("digest mismatch for %s: the pin is sha256:%s but %s sha256:%s%s" % (name.display, pin, step.data.get("source"), new, removed))

    def _verify_update(self, plan: Plan, step: Step, result: ModelResult, run: _Run) -> None:
        name, pin, new = plan.name, step.data["pin"], run.digest
        current = step.data.get("current") or ""
        pull = next(other for other in plan.steps if other.kind == PULL)
        stats = result.transfer
        if new == pin:
            self._updated(plan, pull, result, new, stats)
            return
        self.ledger.log(name, "digest-mismatch", digest_before=current, digest_after=new, pin=pin, **_stats_fields(stats))
        if new == current:
            raise StepFailed(
                "digest mismatch for %s after the update: the pin is sha256:%s but the registry still serves sha256:%s, "
                "the version that was already present; nothing changed" % (name.display, pin, new)
            )
        outcome = self._restore(plan, result, run, current, new)
        text = "digest mismatch for %s after the update: the pin is sha256:%s but the registry served sha256:%s" % (name.display, pin, new)
        raise StepFailed(text + outcome)

    def _backup(self, plan: Plan, step: Step, run: _Run) -> None:
        """Copy a model to its backup name (POST /api/copy: the manifest only, the blobs are shared); no copy, no update."""
        name, backup = plan.name, step.target
        self.mutated = True
        try:
            self.client.copy((step.source or name).display, backup.display)
        except OllamaError as exc:
            why = "the copy to keep it, %s, could not be made: %s" % (backup.display, exc.server_message or exc)
            raise StepFailed(
                "%s was not updated: %s; without that copy a pulled version that does not match the pin could not be undone, "
                "so nothing was pulled and %s stays at sha256:%s" % (name.display, why, name.display, plan.before.get("digest") or "")
            ) from None
        run.backup = backup
        self.ledger.log(name, "backup", backup=backup.display)

    def _keep_previous(self, plan: Plan, step: Step, run: _Run) -> None:
        """A second name for the version an update through the mirror replaces: deleted after the update, it takes the
        layers only that version used with it. Without it the update goes on; those layers wait for the start-up prune."""
        name, keep = plan.name, step.target
        self.mutated = True
        try:
            self.client.copy(name.display, keep.display)
        except OllamaError as exc:
            why, previous = exc.server_message or exc, step.data["previous"]
            self._warn(
                "%s: the previous version sha256:%s could not be kept as %s (%s), so the layers only it used stay on the server "
                "until its next start an hour or more later (Ollama prunes unused layers at start-up)" % (name.display, previous, keep.display, why)
            )
            return
        run.backup = keep
        self.ledger.log(name, "backup", backup=keep.display)

    def _mirror_copy(self, plan: Plan, step: Step, run: _Run) -> None:
        """Copy the model pulled from a mirror to its own name (POST /api/copy: the manifest, so the digest, is kept)."""
        name, source = plan.name, step.source or plan.name
        self.mutated = True
        try:
            self.client.copy(source.display, name.display)
        except OllamaError as exc:
            raise StepFailed(
                "%s was pulled from the mirror as %s, but could not be copied to its own name: %s" % (name.display, source.display, exc.server_message or exc)
            ) from None
        pulled = run.digest
        run.digest = self._digest_after(name)
        if not run.digest:
            raise StepFailed("%s was copied from %s, but the server does not list it afterwards" % (name.display, source.display))
        if pulled and run.digest != pulled:
            raise StepFailed("%s was copied from %s (sha256:%s), but the server lists it with sha256:%s" % (name.display, source.display, pulled, run.digest))
        self.ledger.log(name, "copied", source=source.display, digest=run.digest)

    def _drop_mirror_name(self, name: ModelName) -> bool:
        """Delete the mirror-named model (Ollama keeps every blob another manifest still uses); whether it is gone."""
        try:
            self.client.delete(name.display)
        except OllamaError as exc:
            if exc.status != 404:
                self._warn("the mirror-named model %s could not be removed: %s; delete it with state: absent" % (name.display, exc.server_message or exc))
                return False
        return True

    def _drop_backup(self, backup: ModelName) -> bool:
        """Delete the backup copy (Ollama then removes the layers no other model uses); whether it is gone."""
        try:
            self.client.delete(backup.display)
        except OllamaError as exc:
            if exc.status != 404:
                self._warn("the backup copy %s could not be removed: %s; delete it with state: absent" % (backup.display, exc.server_message or exc))
                return False
        return True

    def _restore(self, plan: Plan, result: ModelResult, run: _Run, previous: str, new: str) -> str:
        """Remove an unverified update and put the previous version back from its copy; return what happened, for the message."""
        name = plan.name
        backup = run.backup
        if backup is None:  # cannot happen: a pinned update always has its copy (see _backup)
            return "; the previous version sha256:%s has no copy to restore" % previous
        try:
            self._delete(name, result, None)
        except StepFailed as exc:
            run.backup = None  # keep the copy: it is the only manifest left of the verified version
            return (
                "; removing that unverified version failed (%s), so %s holds sha256:%s now: delete it (state: absent) or pin that digest; "
                "the previous version sha256:%s is kept as %s: copy it back once that one is gone" % (exc, name.display, new, previous, backup.display)
            )
        try:
            self.client.copy(backup.display, name.display)
        except OllamaError as exc:
            run.backup = None
            self._digest_after(name)
            result.act("deleted")
            result.after = {"state": "absent"}
            return (
                "; that unverified version was removed, but the previous version sha256:%s could not be restored (%s); "
                "it is kept as %s: copy it back, or delete it" % (previous, exc.server_message or exc, backup.display)
            )
        self._drop_backup(backup)
        run.backup = None
        restored = self._digest_after(name)
        result.after["digest"] = restored
        self.ledger.log(name, "restored", digest=restored)
        if restored != previous:
            return "; that unverified version was removed, and the previous version put back, but the server lists it as sha256:%s, not sha256:%s" % (
                restored,
                previous,
            )
        return "; that unverified version was removed and the previous version sha256:%s restored, so nothing unverified stays on the server" % previous

    # ---------------------------------------------------------------- load, unload, delete
    def _load(self, name: ModelName, keep_alive: Any, options: Dict[str, Any]) -> None:
        self.mutated = True
        timeout = max(self.client.timeout, LOAD_TIMEOUT)
        try:
            self.client.load(name.display, keep_alive, options, timeout=timeout)
        except OllamaError as exc:
            text = (exc.server_message or "").lower()
            if exc.status == 400 and "does not support" in text:
                try:
                    self.client.load_embedding(name.display, keep_alive, options, timeout=timeout)
                except OllamaError as embed_exc:
                    raise StepFailed("cannot load %s: %s" % (name.display, embed_exc.server_message or embed_exc)) from None
                return
            raise StepFailed("cannot load %s: %s" % (name.display, exc.server_message or exc)) from None

    def _unload(self, name: ModelName, result: ModelResult) -> None:
        result.act("unloaded")
        self.mutated = True
        try:
            self.client.unload(name.display)
        except OllamaError as exc:
            raise StepFailed("cannot unload %s: %s" % (name.display, exc.server_message or exc)) from None
        self.ledger.log(name, "unloaded")

    def _delete(self, name: ModelName, result: ModelResult, verb: Optional[str] = "deleted") -> None:
        if verb:
            result.act(verb)
        self.mutated = True
        for other in self.others:
            # the other instances first: once the manifest is gone, no server can unload the model any more
            try:
                other.unload(name.display)
            except OllamaError as exc:
                if exc.status != 404:
                    raise StepFailed("cannot unload %s on %s before deleting it: %s" % (name.display, other.api_url, exc.server_message or exc)) from None
        try:
            self.client.delete(name.display)
        except OllamaError as exc:
            if exc.status != 404:
                raise StepFailed("cannot delete %s: %s" % (name.display, exc.server_message or exc)) from None
        self.ledger.log(name, "deleted")

    # ---------------------------------------------------------------- host checks (read only: they run in check mode too)
    def _check_space(self, plan: Plan, step: Step, result: ModelResult) -> None:
        # check mode fails on a model missing from the registry instead of warning that the check was skipped
        check_space(self.host, self.state, plan, step, result, self._warn, quiet_missing=self.check_mode)

    def _check_memory(self, plan: Plan, step: Step) -> None:
        check_memory(self.host, self.state, plan, step, self._warn)


def _stats_fields(stats: Optional[TransferStats]) -> Dict[str, Any]:
    if stats is None:
        return {}
    data = stats.as_dict()
    return {"bytes": data["bytes"], "seconds": data["seconds"], "speed": data["speed"], "attempts": data["attempts"]}


# Each kind of step and the Executor method that runs it (Executor._step).
_STEP_HANDLERS = {
    CHECK_SPACE: lambda executor, plan, step, result, _run, _held: executor._check_space(plan, step, result),
    CHECK_MEMORY: lambda executor, plan, step, _result, _run, _held: executor._check_memory(plan, step),
    CHECK_CAPABILITIES: lambda executor, plan, step, result, _run, _held: executor._check_capabilities(plan, step, result.changed),
    UNLOAD: Executor._step_unload,
    DELETE: Executor._step_delete,
    COPY: Executor._step_copy,
    PULL: Executor._step_pull,
    CREATE: Executor._step_create,
    VERIFY: lambda executor, plan, step, result, run, _held: executor._verify(plan, step, result, run),
    LOAD: Executor._step_load,
}


__all__ = ["LOAD_TIMEOUT", "Executor", "HostChecks", "ModelResult", "StepFailed"]


def _rewrite_bytes(definition: Dict[str, Any], blobs: List[Dict[str, Any]]) -> int:
    """The bytes Ollama rewrites for a create: the model files of ``files`` (llama-quantize's COPY; adapters are kept)."""
    files = definition.get("files") if isinstance(definition.get("files"), dict) else {}
    return sum(int(blob.get("size") or 0) for blob in blobs if files.get(blob.get("name")) == blob.get("digest"))
