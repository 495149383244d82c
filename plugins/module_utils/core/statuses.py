# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The statuses of a model operation, as the ledger records them (pure constants: the planner reads them too)."""

from __future__ import annotations

# Statuses the ledger records. The first four are what a model record shows;
# ``ok`` and ``absent`` say the last operation left the server authoritative.
QUEUED = "queued"
DOWNLOADING = "downloading"
PAUSED = "paused"
FAILED = "failed"
OK = "ok"
ABSENT = "absent"
ACTIVE_STATUSES = (QUEUED, DOWNLOADING)
PROBLEM_STATUSES = (PAUSED, FAILED)
