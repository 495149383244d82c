# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A request factory for OllamaClient: it records every request and plays scripted outcomes in order."""

from __future__ import annotations

import io
import json
from typing import Any, Optional
from urllib.parse import urlsplit


class FakeResponse(io.BytesIO):
    """What Request.open returns: a readable body."""


def _json(data: Optional[bytes]) -> Any:
    try:
        return json.loads(data) if data else None
    except ValueError:
        return None


class Transport:
    """Each outcome in turn: an exception is raised; bytes are the body; an object that reads is the response itself;
    anything else is the JSON body. Each call is recorded with its method, url, path (with the query), data, body (the
    data read as JSON; None when it is none), headers and timeout."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[dict] = []
        self.kwargs: dict = {}

    def __call__(self, **kwargs: object) -> Transport:
        self.kwargs = kwargs
        return self

    def open(self, method: str, url: str, data: bytes | None = None) -> object:
        parts = urlsplit(url)
        self.calls.append(
            {
                "method": method,
                "url": url,
                "path": parts.path + ("?" + parts.query if parts.query else ""),
                "data": data,
                "body": _json(data),
                "headers": dict(self.kwargs.get("headers") or {}),
                "timeout": self.kwargs.get("timeout"),
            }
        )
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, bytes):
            return FakeResponse(outcome)
        if hasattr(outcome, "read") or hasattr(outcome, "readline"):
            return outcome
        return FakeResponse(json.dumps(outcome).encode())
