# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The outcome of a sync, shaped for ollama_model_sync's return: per-model results, counts, plan, lock entries, tables, messages."""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import OK
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, bare_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import UNKNOWN_DIGEST
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult

COUNTS = ("added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped")

_SHA256_HEX_RE = re.compile(r"[0-9a-f]{64}")


def _counts(results: List[Dict[str, Any]]) -> Dict[str, int]:
    counts = {key: 0 for key in COUNTS}
    for entry in results:
        action = entry["action"]
        if action in ("pulled", "created"):
            counts["added"] += 1
        elif action in ("updated", "removed", "unchanged", "failed", "skipped", "unloaded"):
            counts[action] += 1
        if "loaded" in entry["actions"]:
            counts["loaded"] += 1
    return counts


def _plan(order: List[Any], results: List[Dict[str, Any]], items: List[Any]) -> List[Dict[str, Any]]:
    """The ``plan``: each model that acted, failed, was skipped or left pending, in the order scheduled."""
    plan = []
    for item in order:
        result = item.result
        if result is None or not (result.actions or result.failed or item.skipped or item.pending):
            continue
        entry = next(e for e, i in zip(results, items) if i is item)
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
    return plan


def _raw_digest(item: Any) -> str:
    """The digest a model's result holds (the ledger record's, else the predicted one), as read: '' when there is none."""
    result = item.result
    if result is None:
        return ""
    record = result.record or {}
    after = result.after or {}
    digest = record.get("digest") or (after.get("digest") if isinstance(after.get("digest"), str) else "") or ""
    return digest if isinstance(digest, str) else str(digest)


def _lock(results: List[Dict[str, Any]], items: List[Any], predicted: bool) -> Tuple[List[Dict[str, Any]], List[str]]:
    """The lock entries: each declared model that should be present and is, with its digest and size, by name; and the
    models whose digest could not be read (the lock file is then not written: it keeps what it held)."""
    lock = []
    lock_errors = []
    for entry, item in zip(results, items):
        if not item.declared.declared or item.spec.state not in ("present", "loaded") or entry["action"] in ("failed", "skipped", "pending"):
            continue
        digest = entry["digest"]
        if not _SHA256_HEX_RE.fullmatch(digest):
            raw = _raw_digest(item)
            if predicted and raw == UNKNOWN_DIGEST:
                continue  # check mode: a model still to be pulled has no digest yet
            # a lock file is memory: never written with less than the run knows because an answer could not be read
            lock_errors.append(
                "%s: the server lists the field digest as %s, not sha256:<64 hex> (GET /api/tags)" % (entry["name"], json.dumps(raw) if raw else "missing")
            )
            continue
        lock.append({"name": entry["name"], "digest": "sha256:" + digest, "size": int(entry["size_bytes"] or 0)})
    lock.sort(key=lambda pin: pin["name"].lower())
    return lock, lock_errors


def outcome(sync: Any, order: List[Any], before: List[Dict[str, Any]], seconds: float) -> Dict[str, Any]:
    """What Sync.run returns (see ollama_model_sync's RETURN); ``order`` is the items in the order they were scheduled."""
    results = [result_entry(item, sync.schedule.predicted) for item in sync.items]
    counts = _counts(results)
    missing = unavailable(sync, results)
    counts["unavailable"] = len(missing)
    after = after_table(sync.items, before) if sync.schedule.predicted else sync.manager.table()
    lock, lock_errors = _lock(results, sync.items, sync.schedule.predicted)
    return {
        "results": results,
        "summary": counts,
        "plan": _plan(order, results, sync.items),
        "before": before,
        "after": after,
        "lock": lock,
        "lock_errors": lock_errors,
        "protected": list(sync.protected),
        "interrupted": list(sync.interrupted),
        "unavailable": missing,
        "failures": [item for item in sync.items if item.result is not None and item.result.failed],
        "skipped": [item for item in sync.items if item.skipped],
        "seconds": round(seconds, 3),
        "pending": [entry["name"] for entry, item in zip(results, sync.items) if item.pending],
        "changed": any(item.result is not None and item.result.changed for item in sync.items),
    }


def result_entry(item: Any, predicted: bool) -> Dict[str, Any]:
    """One model's entry of ``results``; ``predicted``: check mode (the size comes from the plan)."""
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
    if not size and predicted:
        size = result.expected_size
    entry = {
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
    if result.mirror is not None:
        entry["mirror"] = dict(result.mirror)
    return entry


def unavailable(sync: Any, results: List[Dict[str, Any]]) -> List[str]:
    """Declared models that should be there and are not on the server, and models the ledger knew that the server no longer holds."""
    names = []
    handled = set()
    for entry, item in zip(results, sync.items):
        handled.add(item.spec.name.key)
        if not item.declared.declared or item.spec.state not in ("present", "loaded"):
            continue
        after_state = (item.result.after or {}).get("state") if item.result is not None else None
        if entry["action"] in ("failed", "skipped") and sync.manager.present(item.spec.name):
            continue  # on the server, with another digest or definition than declared: failed, not unavailable
        if entry["action"] in ("failed", "skipped") or after_state in (None, "absent"):
            names.append(entry["name"])
    for key, record in sync.ledger.records().items():
        if key in handled or record.get("status") != OK:
            continue
        try:
            name = parse_name(str(record.get("name") or ""))
        except InvalidModelName:
            continue
        if not sync.manager.present(name):
            names.append(name.display)
    return names


def after_table(items: List[Any], before: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The predicted model list after a check-mode run: the list before, with each result's ``after`` applied."""
    table = {}
    for row in before:
        try:
            table[parse_name(row["name"]).key] = dict(row)
        except InvalidModelName:
            continue
    for item in items:
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


def _action(item: Any, result: ModelResult) -> str:
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


def failure_text(failures: List[Any], skipped: List[Any], total: int) -> str:
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


__all__ = ["COUNTS", "failure_text", "outcome", "table_text"]
