# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What ollama_mirror keeps in the per-host ledger while it fetches: each model's live progress, then ``ok`` or ``failed``.

The same ledger as the pulls (core/ledger.py), so M(ollama_model_info) shows a
mirror fetch as it shows a pull. A ledger that cannot be used is a warning:
the fetch goes on without progress.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import FAILED, OK, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.entries import Entry
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.tree import Progress


def progress_for(ledger: Ledger, entries: List[Entry], missing: List[Dict[str, Any]]) -> Progress:
    """Start a ``mirror`` operation for every model that needs one of the ``missing`` blobs; their progress writers."""
    digests = {blob["digest"] for blob in missing}
    users: Dict[str, List[str]] = {}
    writers: Dict[str, Any] = {}
    totals: Dict[str, int] = {}
    for entry in entries:
        needed = [blob for blob in entry.blobs if blob["digest"] in digests]
        if not needed:
            continue
        key = entry.name.key
        totals[key] = sum(blob["size"] for blob in needed)
        writers[key] = ledger.progress(entry.name) if ledger.enabled else None
        for blob in needed:
            users.setdefault(blob["digest"], []).append(key)
        ledger.start(entry.name, "mirror", message="fetching into the mirror")
    return Progress({k: v for k, v in writers.items() if v is not None}, totals, users)


class FetchRecords:
    """The ledger records of one fetch into the mirror at ``root``."""

    def __init__(self, ledger: Ledger, entries: List[Entry], missing: List[Dict[str, Any]], root: str) -> None:
        self.ledger = ledger
        self.entries = {entry.name.key: entry for entry in entries}
        self.root = root
        self.progress: Optional[Progress] = progress_for(ledger, entries, missing) if ledger.enabled else None

    @classmethod
    def open(cls, state_dir: Optional[str], root: str, entries: List[Entry], missing: List[Dict[str, Any]], warn: Callable[[str], None]) -> FetchRecords:
        """The ledger of ``state_dir`` (default ``<root>/.state``); a ledger that cannot be used is a warning."""
        ledger = Ledger.open(state_dir or os.path.join(root, ".state"), warn=warn)
        if ledger.error:
            warn("no progress is recorded: %s" % ledger.error)
        return cls(ledger, entries, missing, root)

    @property
    def error(self) -> str:
        return self.ledger.error

    def _fetched(self) -> Dict[str, int]:
        return self.progress.done if self.progress is not None else {}

    def failed(self, message: str) -> None:
        """Every model of the fetch failed with ``message``."""
        for key in self._fetched():
            name = self.entries[key].name
            self.ledger.set_status(name, FAILED, message, operation="mirror")
            self.ledger.log(name, "mirror failed", message=message)

    def done(self) -> None:
        """Every model of the fetch is in the mirror."""
        for key, count in self._fetched().items():
            entry = self.entries[key]
            self.ledger.set_status(entry.name, OK, "in the mirror at %s" % self.root, operation="mirror", digest=entry.digest)
            self.ledger.log(entry.name, "mirrored", digest=entry.digest, bytes=count)


__all__ = ["FetchRecords", "progress_for"]
