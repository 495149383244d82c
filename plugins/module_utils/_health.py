# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Health and facts of one Ollama server: what ollama_info returns and the roles probe."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ansible_collections.llmops.ollama.plugins.module_utils._api import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils._registry import disk_space
from ansible_collections.llmops.ollama.plugins.module_utils._units import format_size

BANNER = "Ollama is running"
# The shortest timeout a probe request gets once the wait deadline has passed.
MIN_REQUEST_TIMEOUT = 0.5
LOADED_FIELDS = ("name", "model", "size", "size_vram", "digest", "expires_at", "context_length", "details")


def request_timeout(client: OllamaClient, deadline: Optional[float]) -> Optional[float]:
    """The timeout of one probe request: the client's, but never past ``deadline`` (a time.monotonic() value).

    None (the client's own timeout) without a deadline. Once the deadline has
    passed a request still gets MIN_REQUEST_TIMEOUT, so that a last probe can
    be made at all (a socket timeout of 0 would not even connect).
    """
    if deadline is None:
        return None
    return min(client.timeout, round(max(deadline - time.monotonic(), MIN_REQUEST_TIMEOUT), 1))


def probe(client: OllamaClient, deadline: Optional[float] = None) -> Dict[str, Any]:
    """Ask the server once; return the facts, with ``healthy`` and ``reason``.

    Never raises for a server that is down or answers wrongly: that is a fact
    (``healthy: false``) with the reason in the server's or the socket's words.
    With a ``deadline`` (time.monotonic()), each request waits at most until
    then (see request_timeout), so a server that accepts connections but never
    answers cannot hold a probe past it.
    """
    facts: Dict[str, Any] = {
        "api_url": client.api_url,
        "healthy": False,
        "reason": "",
        "version": "",
        "models": [],
        "models_count": 0,
        "models_total_size": 0,
        "models_total_size_human": format_size(0),
        "loaded": [],
        "loaded_count": 0,
    }
    try:
        banner = client.ping(timeout=request_timeout(client, deadline))
        if BANNER.lower() not in banner.lower():
            facts["reason"] = "GET / answered %r instead of %r: is %s an Ollama server?" % (banner[:80], BANNER, client.api_url)
            return facts
        facts["version"] = client.version(timeout=request_timeout(client, deadline))
        models = client.tags(timeout=request_timeout(client, deadline))
        loaded = client.ps(timeout=request_timeout(client, deadline))
    except OllamaError as exc:
        facts["reason"] = str(exc)
        return facts

    total = sum(int(m.get("size") or 0) for m in models)
    facts.update(
        healthy=True,
        models=sorted(str(m.get("name") or m.get("model")) for m in models),
        models_count=len(models),
        models_total_size=total,
        models_total_size_human=format_size(total),
        loaded=[{key: m.get(key) for key in LOADED_FIELDS if key in m} for m in loaded],
        loaded_count=len(loaded),
    )
    return facts


def disk_facts(path: Optional[str]) -> Optional[Dict[str, Any]]:
    """Free and total bytes of the filesystem that holds ``path`` (None when no path is asked).

    A path that cannot be read is a fact too: ``free`` is None and ``error`` says why.
    """
    if not path:
        return None
    try:
        free, total = disk_space(path)
    except OSError as exc:
        return {"path": path, "free": None, "free_human": None, "total": None, "total_human": None, "error": "%s: %s" % (path, exc.strerror or exc)}
    return {"path": path, "free": free, "free_human": format_size(free), "total": total, "total_human": format_size(total), "error": ""}
