# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The search of ollama_model_info: every model's record, filtered, sorted and cut into pages."""

from __future__ import annotations

import fnmatch
import math
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import ACTIVE_STATUSES, PROBLEM_STATUSES, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import ModelName
from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import safe_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import STATUSES, ServerState, build_record, parse_time

SORT_KEYS = ("name", "size", "modified_at", "status")


_GLOB_CHARS = frozenset("*?[")


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def all_records(state: ServerState, ledger: Ledger, declared: Iterable[ModelName] = ()) -> List[Dict[str, Any]]:
    """Records of every model the server holds, the ledger follows, or the caller declares."""
    ledger_records = ledger.records()
    names: Dict[str, ModelName] = dict(state.names)
    for key, record in ledger_records.items():
        if key in names:
            continue
        if record.get("status") in ACTIVE_STATUSES or record.get("status") in PROBLEM_STATUSES or record.get("status") == "ok":
            parsed = safe_name(str(record.get("name") or ""))
            if parsed is not None:
                names[key] = parsed
    for name in declared:
        names.setdefault(name.key, name)
    return [build_record(name, state, ledger, ledger_records.get(key)) for key, name in names.items()]


def matches_query(record: Dict[str, Any], query: str) -> bool:
    """Case-insensitive substring, or a glob when the query holds * ? or [."""
    name = str(record.get("name") or "").lower()
    text = query.lower()
    if any(char in _GLOB_CHARS for char in text):
        return fnmatch.fnmatchcase(name, text)
    return text in name


def _sort_key(record: Dict[str, Any], sort_by: str) -> Tuple[Any, ...]:
    name = str(record.get("name") or "").lower()
    if sort_by == "size":
        return (int(record.get("size_bytes") or 0), name)
    if sort_by == "modified_at":
        moment = parse_time(record.get("modified_at")) or _EPOCH
        return (moment, name)
    if sort_by == "status":
        status = record.get("status")
        return (STATUSES.index(status) if status in STATUSES else len(STATUSES), name)
    return (name,)


def search(
    records: List[Dict[str, Any]],
    query: Optional[str] = None,
    statuses: Optional[List[str]] = None,
    sources: Optional[List[str]] = None,
    capabilities: Optional[List[str]] = None,
    min_size: Optional[int] = None,
    max_size: Optional[int] = None,
    sort_by: str = "name",
    sort_desc: bool = False,
    page: int = 1,
    page_size: int = 0,
) -> Dict[str, Any]:
    """Filter (all filters AND), sort, and cut one page: models, total, page, pages, page_size."""
    found = []
    for record in records:
        if query and not matches_query(record, query):
            continue
        if statuses and record.get("status") not in statuses:
            continue
        if sources and record.get("from") not in sources:
            continue
        if capabilities and not set(capabilities) <= set(record.get("capabilities") or []):
            continue
        size = int(record.get("size_bytes") or 0)
        if min_size is not None and size < min_size:
            continue
        if max_size is not None and size > max_size:
            continue
        found.append(record)
    found.sort(key=lambda r: _sort_key(r, sort_by), reverse=sort_desc)
    total = len(found)
    if page_size > 0:
        pages = math.ceil(total / float(page_size))
        start = (page - 1) * page_size
        chosen = found[start : start + page_size]
    else:
        pages = 1 if total else 0
        chosen = found if page == 1 else []
    return {"models": chosen, "total": total, "page": page, "pages": pages, "page_size": page_size}
