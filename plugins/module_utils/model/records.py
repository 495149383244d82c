# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Model records (design.md's "model record") and the server's state.

A record joins three sources: ``/api/tags`` (what is on the server),
``/api/ps`` (what is loaded) and the ledger (what the last operation did).
The search over records is model.record_search; the detail of one model's /api/show, model.show_detail.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import ACTIVE_STATUSES, FAILED, PROBLEM_STATUSES, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import (
    DEFAULT_HOST,
    DEFAULT_NAMESPACE,
    ModelName,
    bare_digest,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import safe_name

OFFICIAL = "official"
REMOTE = "remote"
CUSTOM = "custom"
CLOUD = "cloud"
SOURCES = (OFFICIAL, REMOTE, CUSTOM, CLOUD)

RUNNING = "running"
STOPPED = "stopped"
UNAVAILABLE = "unavailable"
STATUSES = (RUNNING, STOPPED, "downloading", "queued", "paused", "failed", UNAVAILABLE)

LOADED_FIELDS = ("size", "size_vram", "expires_at", "context_length")
_TIME_RE = re.compile(r"^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:?\d{2})?$")
# Operation-log events that say an operation on the model succeeded: one logged after a recorded failure ends it.
SUCCESS_EVENTS = frozenset(("pulled", "re-pulled", "updated", "up-to-date", "created", "re-created", "loaded", "unloaded"))


def parse_time(value: Any) -> Optional[datetime]:
    """An RFC 3339 time as Go writes it (nanoseconds, Z or an offset); None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _TIME_RE.match(value.strip())
    if not match:
        return None
    day, clock, fraction, zone = match.groups()
    try:
        moment = datetime.strptime("%s %s" % (day, clock), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    if fraction:
        moment = moment.replace(microsecond=int((fraction + "000000")[:6]))
    offset = timezone.utc
    if zone and zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        digits = zone[1:].replace(":", "")
        offset = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return moment.replace(tzinfo=offset)


class ServerState:
    """What one GET /api/tags and one GET /api/ps said, indexed by model key."""

    def __init__(self, tags: Iterable[Dict[str, Any]], ps: Iterable[Dict[str, Any]]) -> None:
        self.models: Dict[str, Dict[str, Any]] = {}
        self.names: Dict[str, ModelName] = {}
        for entry in tags:
            name = safe_name(str(entry.get("name") or entry.get("model") or ""))
            if name is not None:
                self.models[name.key] = entry
                self.names[name.key] = name
        self.loaded: Dict[str, Dict[str, Any]] = {}
        for entry in ps:
            name = safe_name(str(entry.get("name") or entry.get("model") or ""))
            if name is not None:
                self.loaded[name.key] = entry

    @classmethod
    def read(cls, client: OllamaClient) -> ServerState:
        """One GET /api/tags and one GET /api/ps (OllamaError when the server cannot be read)."""
        return cls(client.tags(), client.ps())

    def model(self, name: ModelName) -> Optional[Dict[str, Any]]:
        return self.models.get(name.key)

    def loaded_entry(self, name: ModelName) -> Optional[Dict[str, Any]]:
        return self.loaded.get(name.key)

    def digest(self, name: ModelName) -> str:
        entry = self.model(name)
        return bare_digest(entry.get("digest")) if entry else ""

    def set_tags(self, tags: Iterable[Dict[str, Any]]) -> None:
        """Replace the tags part (after a pull or a delete), keep the loaded part."""
        fresh = ServerState(tags, [])
        self.models, self.names = fresh.models, fresh.names

    def cleanup_candidates(self, exclude: Optional[ModelName] = None, limit: int = 5) -> List[Dict[str, Any]]:
        """The largest models that are not loaded: what to remove to make room."""
        found = []
        for key, entry in self.models.items():
            if key in self.loaded or (exclude is not None and key == exclude.key):
                continue
            size = int(entry.get("size") or 0)
            found.append({"name": self.names[key].display, "size": format_size(size), "size_bytes": size})
        found.sort(key=lambda item: (-item["size_bytes"], item["name"]))
        return found[:limit]


def source_of(name: ModelName, tags_entry: Optional[Dict[str, Any]] = None, ledger_record: Optional[Dict[str, Any]] = None) -> str:
    """official (registry.ollama.ai/library), remote (another registry or namespace), custom (made by /api/create),
    cloud (runs on a remote host: /api/tags names its ``remote_host``, or its name ends in ``:cloud``/``-cloud``).

    A model is custom when the ledger saw it created, or when the server
    names a parent model for it (``details.parent_model``).
    """
    if ledger_record and ledger_record.get("source") == CUSTOM:
        return CUSTOM
    details = (tags_entry or {}).get("details") or {}
    if isinstance(details, dict) and details.get("parent_model"):
        return CUSTOM
    if (tags_entry or {}).get("remote_host") or (tags_entry is None and name.cloud):
        return CLOUD
    if name.host.lower() == DEFAULT_HOST and name.namespace.lower() == DEFAULT_NAMESPACE:
        return OFFICIAL
    return REMOTE


def failure_is_current(name: ModelName, entry: Dict[str, Any], ledger: Ledger, ledger_record: Dict[str, Any]) -> bool:
    """Whether a ledger ``failed`` still holds for a model that is on the server.

    It holds until something succeeded after it: the server changed the model
    later (for example a pull from the command line), or the operation log has
    a successful operation after it. The failure record keeps the digest and
    ``modified_at`` the server showed then (``failed_digest``,
    ``failed_modified_at``), so no clocks of two hosts are compared; a record
    without them compares the server's ``modified_at`` with ``failed_at``.
    A failure with no time on record holds.
    """
    failed_at = parse_time(ledger_record.get("failed_at")) or parse_time(ledger_record.get("updated_at"))
    if "failed_digest" in ledger_record or "failed_modified_at" in ledger_record:
        if bare_digest(entry.get("digest")) != bare_digest(ledger_record.get("failed_digest")):
            return False
        seen, now = str(ledger_record.get("failed_modified_at") or ""), str(entry.get("modified_at") or "")
        if seen != now and (parse_time(seen) is None or parse_time(seen) != parse_time(now)):
            return False
    elif failed_at is not None:
        modified = parse_time(entry.get("modified_at"))
        if modified is not None and modified > failed_at:
            return False
    if failed_at is None:
        return True
    for logged in reversed(ledger.log_entries(name, limit=50)):
        moment = parse_time(logged.get("time"))
        if moment is None:
            continue
        if moment <= failed_at:
            break
        if logged.get("event") in SUCCESS_EVENTS:
            return False
    return True


def _status(name: ModelName, entry: Optional[Dict[str, Any]], loaded: Any, ledger: Ledger, ledger_record: Dict[str, Any]) -> str:
    """A model's status: an active ledger status, a current failure, running or stopped on the server, a problem, or unavailable."""
    ledger_status = ledger_record.get("status")
    if ledger_status in ACTIVE_STATUSES:
        return ledger_status
    if entry is not None and ledger_status == FAILED and failure_is_current(name, entry, ledger, ledger_record):
        return FAILED
    if entry is not None:
        return RUNNING if loaded else STOPPED
    if ledger_status in PROBLEM_STATUSES:
        return ledger_status
    return UNAVAILABLE


def _server_fields(entry: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The fields of a record read from the model's /api/tags entry (empty ones for a model not on the server)."""
    entry = entry or {}
    return {
        "details": entry.get("details") or {},
        "capabilities": [str(item) for item in (entry.get("capabilities") or [])],
        "remote_host": str(entry.get("remote_host") or ""),
        "remote_model": str(entry.get("remote_model") or ""),
    }


def build_record(
    name: ModelName,
    state: ServerState,
    ledger: Ledger,
    ledger_record: Optional[Dict[str, Any]] = None,
) -> Dict[str, Any]:
    """The model record for one model (present on the server or not)."""
    entry = state.model(name)
    loaded = state.loaded_entry(name)
    if ledger_record is None:
        ledger_record = ledger.read(name)
    ledger_record = ledger_record or {}
    digest = bare_digest(entry.get("digest")) if entry else ""
    size = int(entry.get("size") or 0) if entry else 0
    status = _status(name, entry, loaded, ledger, ledger_record)
    progress = ledger_record.get("progress") if status in ACTIVE_STATUSES or status in PROBLEM_STATUSES else None
    if not size and isinstance(progress, dict):
        size = int(progress.get("total") or 0)
    log_file = ledger.log_path(name) if ledger.enabled else ""
    modified = entry.get("modified_at") if entry else None
    record: Dict[str, Any] = {
        "name": state.names.get(name.key, name).display,
        "id": digest[:12],
        "digest": digest,
        "size": format_size(size),
        "size_bytes": size,
        "from": source_of(name, entry, ledger_record),
        "status": status,
        "message": str(ledger_record.get("message") or ""),
        "progress": progress if isinstance(progress, dict) else None,
        "log_file": log_file,
        "log_file_exists": bool(log_file) and os.path.isfile(log_file),
        "created_at": modified,
        "modified_at": modified,
        "loaded": {key: loaded.get(key) for key in LOADED_FIELDS if key in loaded} if loaded else None,
        **_server_fields(entry),
    }
    return record
