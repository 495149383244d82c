# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The server's health facts from what a model module has already read.

``ollama_model_sync`` reads ``GET /api/tags`` and ``GET /api/ps`` anyway; with
one ``GET /api/version`` and the free space of the models disk it returns the
same facts as ``ollama_info`` (same keys, same meaning), so a converged host
needs no second module call for its health report.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from ansible_collections.llmops.ollama.plugins.module_utils._api import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils._health import health_facts
from ansible_collections.llmops.ollama.plugins.module_utils._records import ServerState


def read_health(client: OllamaClient, state: ServerState, disk_path: Optional[str] = None) -> Dict[str, Any]:
    """One GET /api/version, then _health.health_facts over the state already read; a server that does not answer is unhealthy, never an error."""
    try:
        version, reason = client.version(), ""
    except OllamaError as exc:
        version, reason = "", str(exc)
    models, loaded = list(state.models.values()), list(state.loaded.values())
    return health_facts(client.api_url, version=version, models=models, loaded=loaded, healthy=not reason, reason=reason, disk_path=disk_path)


def unread_health(client: OllamaClient, reason: str, disk_path: Optional[str] = None) -> Dict[str, Any]:
    """The health facts of a server whose models could not be read."""
    return health_facts(client.api_url, healthy=False, reason=reason, disk_path=disk_path)


__all__ = ["read_health", "unread_health"]
