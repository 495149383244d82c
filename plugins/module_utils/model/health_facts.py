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

import contextlib
from typing import Any, Dict, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import health_facts, probe_inference
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState


def read_health(
    client: OllamaClient,
    state: ServerState,
    disk_path: Optional[str] = None,
    probe: str = "version",
    probe_model: Optional[str] = None,
    probe_timeout: float = 60,
) -> Dict[str, Any]:
    """One GET /api/version, then _health.health_facts over the state already read; a server that does not answer is unhealthy, never an error.

    ``probe="inference"`` adds ollama_info's inference probe (``inference``; healthy only when it answered within
    ``probe_timeout``), over the model list already read, and reads /api/ps again when it answered (it may have loaded the model).
    """
    try:
        version, reason = client.version(), ""
    except OllamaError as exc:
        version, reason = "", str(exc)
    models, loaded = list(state.models.values()), list(state.loaded.values())
    inference = None
    if not reason and probe == "inference":
        inference = probe_inference(client, probe_model, probe_timeout, models=models)
        if not inference["healthy"]:
            reason = inference["reason"]
        else:
            with contextlib.suppress(OllamaError):  # else the loaded models as read before the probe
                loaded = client.ps()
    facts = health_facts(client.api_url, version=version, models=models, loaded=loaded, healthy=not reason, reason=reason, disk_path=disk_path)
    facts["inference"] = inference
    return facts


def unread_health(client: OllamaClient, reason: str, disk_path: Optional[str] = None) -> Dict[str, Any]:
    """The health facts of a server whose models could not be read."""
    facts = health_facts(client.api_url, healthy=False, reason=reason, disk_path=disk_path)
    facts["inference"] = None
    return facts


__all__ = ["read_health", "unread_health"]
