# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Faults a test can inject (``POST /_sim/faults`` with a JSON object; several at once).

- ``{"stall": {"at_percent": 50, "seconds": 30}}``: the next pull that downloads stops
  downloading for ``seconds`` once it reaches that share of the model's bytes. As in
  Ollama, its progress lines keep coming every 60 ms meanwhile, with the same
  ``completed``. The stall ends early when the pull's client goes away (the download is
  cancelled; the next pull resumes the partial blob without a stall). Fires once.
- ``{"cut_at_percent": 50}``: the next pull that downloads is cut abruptly at that share
  of the model's bytes: the connection closes mid-body, the partial blob stays, the next
  pull resumes from it. Fires once.
- ``{"status": 500, "count": 2}``: the next ``count`` (default 1) API requests answer
  that status with ``{"error": ...}``; ``"error"`` sets the text (503 defaults to
  Ollama's queue-full "server busy" message). Fires ``count`` times. With
  ``"path": "/api/pull"`` only requests to that exact path (any method) answer it;
  the others pass untouched and do not use up the count.
- ``{"disk_full": true}``: blob writes (pull, create, blob upload) fail with Go's ENOSPC
  text, ``write <path>: no space left on device``. Until cleared.
- ``{"slow_ms": 300}``: every API response is delayed that long. Until cleared.
- ``{"hang_inference": true}``: inference (``/api/generate``, ``/api/chat``, ``/api/embed``,
  ``/api/embeddings`` and the ``/v1`` inference endpoints) never answers, as a hung runner:
  the request waits until the fault is cleared or the client goes away, while ``/``,
  ``/api/version``, ``/api/tags``, ``/api/ps`` and the rest still answer. Until cleared.
- ``{"vram_fraction": 0.3}``: loaded models report ``size_vram = 0.3 * size`` in ``/api/ps``
  (a partial CPU fallback; 0 is all on the CPU, 1.0 all in VRAM, what ``--gpu`` gives).
  Until cleared.
- ``{"respond": {"path": "/api/tags", "status": 200, "body": ANY}}``: requests to that path
  (any method, or only ``"method"``) answer that status and body instead of the endpoint:
  ``body`` is any JSON value, sent as JSON; ``"raw": "text"`` sends the text as it is
  (``"content_type"`` sets its type, default ``application/json``). ``"count": N`` answers
  N times, otherwise until cleared. A list of such objects arms several paths at once;
  ``{"respond": null}`` disarms them all.
- ``{"crash": true}``: the process exits at once (status 2, no answer) on the next API
  request; ``{"crash": "now"}``: right after answering this request.

A value of ``null`` (or ``false``/``0``) disarms one fault; ``DELETE /_sim/faults``
clears them all; ``GET /_sim/faults`` shows what is armed.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Optional, Tuple

DEFAULT_ERRORS = {
    429: "too many requests",
    500: "internal server error",
    502: "bad gateway",
    503: "server busy, please try again.  maximum pending requests exceeded",
}
KNOWN = ("stall", "cut_at_percent", "status", "count", "error", "path", "disk_full", "slow_ms", "crash", "hang_inference", "vram_fraction", "respond")


class FaultError(ValueError):
    """A fault request the simulator does not understand."""


def _number(value: Any, key: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise FaultError("%s must be a number between %s and %s" % (key, low, high))
    return float(value)


def _respond(value: Any) -> Optional[list]:
    """Validate the respond fault: a list of {path, status, body|raw, method, count, content_type}."""
    if value is None or value is False:
        return None
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if not isinstance(item, dict):
            raise FaultError('respond must be {"path": "/api/tags", "status": 200, "body": ...} or a list of them')
        unknown = sorted(set(item) - {"path", "status", "body", "raw", "method", "count", "content_type"})
        if unknown:
            raise FaultError("respond: unknown key(s) %s" % ", ".join(unknown))
        path = item.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise FaultError('respond.path must be a request path such as "/api/tags"')
        status = item.get("status", 200)
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise FaultError("respond.status must be an HTTP status (100-599)")
        if "raw" in item and not isinstance(item["raw"], str):
            raise FaultError("respond.raw must be a string")
        count = item.get("count")
        if count is not None and (isinstance(count, bool) or not isinstance(count, int) or count < 1):
            raise FaultError("respond.count must be a positive integer")
        method = item.get("method")
        if method is not None and not isinstance(method, str):
            raise FaultError("respond.method must be a string such as GET")
        entry = {"path": path, "status": status, "content_type": str(item.get("content_type") or "application/json")}
        if "raw" in item:
            entry["raw"] = item["raw"]
        else:
            entry["body"] = item.get("body")
        if count is not None:
            entry["count"] = count
        if method is not None:
            entry["method"] = method.upper()
        out.append(entry)
    return out or None


class Faults:
    """The armed faults; thread-safe; the one-shot ones disarm when they fire."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state: Dict[str, Any] = {}

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return dict(self._state)

    def clear(self) -> None:
        with self._lock:
            self._state.clear()

    def update(self, request: Dict[str, Any]) -> Dict[str, Any]:
        """Validate and arm the faults in ``request`` (others stay as they are)."""
        unknown = sorted(set(request) - set(KNOWN))
        if unknown:
            raise FaultError("unknown fault(s): %s; known: %s" % (", ".join(unknown), ", ".join(KNOWN)))
        new: Dict[str, Any] = {}
        if "stall" in request:
            stall = request["stall"]
            if stall is None:
                new["stall"] = None
            else:
                if not isinstance(stall, dict):
                    raise FaultError('stall must be {"at_percent": N, "seconds": S}')
                new["stall"] = {
                    "at_percent": _number(stall.get("at_percent", 50), "stall.at_percent", 0, 100),
                    "seconds": _number(stall.get("seconds", 30), "stall.seconds", 0, 3600),
                }
        if "cut_at_percent" in request:
            value = request["cut_at_percent"]
            new["cut_at_percent"] = None if value is None else _number(value, "cut_at_percent", 0, 100)
        if "status" in request:
            status = request["status"]
            if status is None:
                new["status"] = None
            else:
                if isinstance(status, bool) or not isinstance(status, int) or not 400 <= status <= 599:
                    raise FaultError("status must be an HTTP error status (400-599)")
                count = request.get("count", 1)
                if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                    raise FaultError("count must be a positive integer")
                error = request.get("error", DEFAULT_ERRORS.get(status, "simulated HTTP %d" % status))
                if not isinstance(error, str):
                    raise FaultError("error must be a string")
                path = request.get("path")
                if path is not None and (not isinstance(path, str) or not path.startswith("/")):
                    raise FaultError('path must be a request path such as "/api/pull"')
                new["status"] = {"status": status, "count": count, "error": error}
                if path is not None:
                    new["status"]["path"] = path
        elif "count" in request or "error" in request or "path" in request:
            raise FaultError("count, error and path go with status")
        if "disk_full" in request:
            new["disk_full"] = bool(request["disk_full"]) or None
        if "slow_ms" in request:
            value = request["slow_ms"]
            new["slow_ms"] = None if not value else int(_number(value, "slow_ms", 0, 600_000))
        if "crash" in request:
            crash = request["crash"]
            if crash not in (True, False, None, "now", "next"):
                raise FaultError('crash must be true (next API request) or "now"')
            new["crash"] = None if not crash else ("now" if crash == "now" else "next")
        if "hang_inference" in request:
            new["hang_inference"] = bool(request["hang_inference"]) or None
        if "vram_fraction" in request:
            value = request["vram_fraction"]
            new["vram_fraction"] = None if value is None or value is False else _number(value, "vram_fraction", 0, 1)
        if "respond" in request:
            new["respond"] = _respond(request["respond"])
        with self._lock:
            for key, value in new.items():
                if value is None:
                    self._state.pop(key, None)
                else:
                    self._state[key] = value
            return dict(self._state)

    def take_status(self, path: Optional[str] = None) -> Optional[Tuple[int, str]]:
        """The status fault for a request to ``path``, if one is armed for it (a fault with a path fires only there)."""
        with self._lock:
            armed = self._state.get("status")
            if not armed:
                return None
            if armed.get("path") is not None and armed["path"] != path:
                return None
            armed["count"] -= 1
            if armed["count"] <= 0:
                del self._state["status"]
            return armed["status"], armed["error"]

    def take_cut(self) -> Optional[float]:
        with self._lock:
            return self._state.pop("cut_at_percent", None)

    def take_stall(self) -> Optional[Tuple[float, float]]:
        with self._lock:
            stall = self._state.pop("stall", None)
        return (stall["at_percent"], stall["seconds"]) if stall else None

    def take_crash(self) -> bool:
        with self._lock:
            return self._state.pop("crash", None) is not None

    def take_respond(self, method: str, path: str) -> Optional[Dict[str, Any]]:
        """The respond fault armed for this request, if any (counted ones disarm when used up)."""
        with self._lock:
            armed = self._state.get("respond")
            if not armed:
                return None
            for entry in armed:
                if entry["path"] != path or entry.get("method", method) != method:
                    continue
                if "count" in entry:
                    entry["count"] -= 1
                    if entry["count"] <= 0:
                        armed.remove(entry)
                        if not armed:
                            del self._state["respond"]
                return dict(entry)
            return None

    @property
    def hang_inference(self) -> bool:
        with self._lock:
            return bool(self._state.get("hang_inference"))

    @property
    def vram_fraction(self) -> Optional[float]:
        with self._lock:
            value = self._state.get("vram_fraction")
            return None if value is None else float(value)

    @property
    def disk_full(self) -> bool:
        with self._lock:
            return bool(self._state.get("disk_full"))

    @property
    def slow_ms(self) -> int:
        with self._lock:
            return int(self._state.get("slow_ms") or 0)
