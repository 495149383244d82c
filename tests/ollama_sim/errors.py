# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Exceptions that carry an HTTP outcome from the simulator's logic to the server."""

from __future__ import annotations


class ApiError(Exception):
    """An Ollama error answer: ``{"error": message}`` with an HTTP status.

    Raised before a stream starts, it becomes the response status and body; raised
    after, it becomes the last NDJSON line (the status stays 200), as in Ollama.
    """

    def __init__(self, status: int, message: str, **extra: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra  # more fields of the error body (``signin_url`` of a 401)

    def body(self) -> dict:
        return dict({"error": self.message}, **self.extra)


class StreamCut(Exception):
    """The cut_at_percent fault: close the connection abruptly, mid-stream."""
