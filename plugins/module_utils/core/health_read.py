# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The health facts of ollama_info, read from the server: GET /, /api/version, /api/tags, /api/ps.

Each request waits at most until a deadline when one is given; the facts are core.health.health_facts.
"""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import MIN_REQUEST_TIMEOUT, health_facts

BANNER = "Ollama is running"


def request_timeout(client: OllamaClient, deadline: Optional[float]) -> Optional[float]:
    """The timeout of one probe request: the client's, but never past ``deadline`` (a time.monotonic() value).

    None (the client's own timeout) without a deadline. Once the deadline has
    passed a request still gets MIN_REQUEST_TIMEOUT, so that a last probe can
    be made at all (a socket timeout of 0 would not even connect).
    """
    if deadline is None:
        return None
    return min(client.timeout, round(max(deadline - time.monotonic(), MIN_REQUEST_TIMEOUT), 1))


def probe(client: OllamaClient, deadline: Optional[float] = None, disk_path: Optional[str] = None) -> Dict[str, Any]:
    """Ask the server once; return the facts (health_facts), with ``healthy`` and ``reason``.

    Never raises for a server that is down or answers wrongly: that is a fact
    (``healthy: false``) with the reason in the server's or the socket's words.
    With a ``deadline`` (time.monotonic()), each request waits at most until
    then (see request_timeout), so a server that accepts connections but never
    answers cannot hold a probe past it.
    """
    version = ""
    try:
        banner = client.ping(timeout=request_timeout(client, deadline))
        if BANNER.lower() not in banner.lower():
            reason = "GET / answered %r instead of %r: is %s an Ollama server?" % (banner[:80], BANNER, client.api_url)
            return health_facts(client.api_url, healthy=False, reason=reason, disk_path=disk_path)
        version = client.version(timeout=request_timeout(client, deadline))
        models = client.tags(timeout=request_timeout(client, deadline))
        loaded = client.ps(timeout=request_timeout(client, deadline))
    except OllamaError as exc:
        return health_facts(client.api_url, version=version, healthy=False, reason=str(exc), disk_path=disk_path)
    return health_facts(client.api_url, version=version, models=models, loaded=loaded, disk_path=disk_path)
