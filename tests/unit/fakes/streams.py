# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A client whose pull and create streams play scripted attempts, and a clock that ticks on every read: for the pull tests."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient


class Script:
    """A client whose stream plays scripted attempts: lists of lines, ending in an exception or not. ``calls`` records them."""

    api_url = "http://127.0.0.1:11434"
    timeout = 30.0
    pull_stream = OllamaClient.pull_stream  # the client's typed streams, over stream() below
    create_stream = OllamaClient.create_stream

    def __init__(self, *attempts: List[Any]) -> None:
        self.attempts = list(attempts)
        self.calls: List[Dict[str, Any]] = []

    def stream(self, method: str, path: str, payload: Any = None, timeout: Any = None) -> Iterator[Dict[str, Any]]:
        self.calls.append({"path": path, "payload": payload, "timeout": timeout})
        for item in self.attempts.pop(0):
            if isinstance(item, BaseException):
                raise item
            yield item


class Clock:
    """Seconds that advance by ``step`` at every read."""

    def __init__(self, step: float = 0.5) -> None:
        self.now = 0.0
        self.step = step

    def __call__(self) -> float:
        self.now += self.step
        return self.now
