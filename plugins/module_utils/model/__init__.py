# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The model lifecycle: spec, plan, apply, sync, records, ledger use, pull, blobs, definition."""

from __future__ import annotations

# the modules of this package load from a module's payload with one compile each (core.payload_loader)
from ansible_collections.llmops.ollama.plugins.module_utils.core.payload_loader import install

install(__path__)
