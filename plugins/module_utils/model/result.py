# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What happened to one model in a run (ModelResult), and the failure of one of its steps (StepFailed)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.statuses import FAILED
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import Plan
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import TransferStats
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import ModelSpec


class StepFailed(Exception):
    """One model's operation failed; ``kind`` is what the ledger records (failed or paused)."""

    def __init__(self, message: str, kind: str = FAILED, cleanup: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.cleanup = cleanup or []


class ModelResult:
    """What happened to one model: changed, failed, actions, diff, pull statistics and the record."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.changed = False
        self.failed = False
        self.msg = ""
        self.status = ""
        self.actions: List[str] = []
        self.before: Dict[str, Any] = {}
        self.after: Dict[str, Any] = {}
        self.differences: List[str] = []
        self.transfer: Optional[TransferStats] = None
        self.record: Dict[str, Any] = {}
        self.cleanup: List[Dict[str, Any]] = []
        self.space: Optional[Dict[str, Any]] = None
        self.plan: Optional[Plan] = None
        self.expected_size = 0
        self.unconfirmed = False  # pulled, and its digest taken from the plan until the server's list is read again
        # a pull through a mirror, its three steps: pulled from the mirror as its mirror name (bytes), copied to the
        # model's own name, the mirror name removed (None: no pull through a mirror ran)
        self.mirror: Optional[Dict[str, Any]] = None

    def act(self, verb: str) -> None:
        self.actions.append(verb)
        self.changed = True

    def as_dict(self) -> Dict[str, Any]:
        """The model record with this run's ``changed``, ``failed``, ``msg``, ``actions``, ``differences`` and ``pull``."""
        data = dict(self.record)
        data.update(
            changed=self.changed,
            failed=self.failed,
            msg=self.msg,
            actions=list(self.actions),
            differences=list(self.differences),
            pull=self.transfer.as_dict() if self.transfer is not None else None,
        )
        if self.cleanup:
            data["cleanup_candidates"] = list(self.cleanup)
        if self.space is not None:
            data["space"] = dict(self.space)
        return data


__all__ = ["ModelResult", "StepFailed"]
