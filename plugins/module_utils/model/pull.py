# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Streaming operations (pull, create) with live progress, retries that resume, and plain errors.

Ollama keeps partial downloads, so asking for the same pull again after a
cut or a stall resumes it: a retry is simply the same request once more.

A stall is caught two ways:

- by progress: Ollama sends a progress line about every 60 ms while a layer
  downloads, even when the download is stuck (the line then repeats the same
  ``completed``). So lines that keep coming prove nothing: the pull is stalled
  when the completed bytes of all its layers have not grown for
  ``stall_timeout`` seconds. A line without a digest (``pulling manifest``,
  ``verifying sha256 digest``, ``writing manifest``, ...) starts a phase with
  no byte counts, and so does the first line of a layer: each restarts the
  count, so those phases never stall by this rule.
- by silence: a connection on which nothing arrives at all for
  ``silent_timeout`` seconds (the socket read timeout). It must outlast the
  silent phases: Ollama hashes every downloaded layer before it writes the
  manifest, without a line, so it is the largest of ``stall_timeout``, the
  client's request ``timeout`` and 20 seconds per GB of the model.
"""

from __future__ import annotations

import math
import time
from http.client import HTTPException
from typing import Any, Callable, Dict, Iterator, Optional, Set

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import RETRY_STATUSES, MalformedAnswer, OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DOWNLOADING, FAILED, PAUSED, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import registry_label
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import ModelName
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_rate, format_size

# Kinds of failure: what the ledger records (FAILED, PAUSED: the ledger's statuses) and whether a retry can help.
NOT_FOUND = "not_found"

DISK_FULL_MARKERS = ("no space left on device", "disk full", "not enough space", "insufficient disk space", "not enough disk space", "disk quota exceeded")
NOT_FOUND_MARKERS = ("file does not exist", "manifest unknown", "not found")
PERMANENT_MARKERS = (
    "insecure protocol",
    "invalid model name",
    "unauthorized",
    "forbidden",
    "neither 'from' or 'files'",
    "quantiz",
    "template error",  # server/create.go errBadTemplate
    "failed to validate gguf",  # copyLayerWithLlamaQuantize: the file cannot be loaded; asking again rewrites it again
    "cannot run this remote model",  # OLLAMA_REMOTES
)

# How fast the server is assumed to hash a downloaded model ("verifying sha256 digest", a silent
# phase), for the silent-connection limit: 50 MB/s, a slow disk's speed, is 20 seconds per GB.
VERIFY_BYTES_PER_SECOND = 50 * 1000 * 1000
# How fast the server is assumed to rewrite a GGUF given in ``files`` (Ollama >= 0.30 copies it through
# llama-quantize, then hashes and copies the output without a line: server/create.go
# rewriteLayerWithLlamaQuantize): read, write, read and write again, on a slow disk: 10 MB/s, 100 s per GB.
REWRITE_BYTES_PER_SECOND = 10 * 1000 * 1000


class OperationFailed(Exception):
    """A pull or create that did not succeed (after its retries).

    ``kind`` is ``failed``, ``paused`` (the disk is full) or ``not_found``;
    ``stats`` holds what was transferred before it gave up.
    """

    def __init__(self, message: str, kind: str = FAILED, server_message: Optional[str] = None, stats: Optional[TransferStats] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.server_message = server_message
        self.stats = stats or TransferStats()


class LayerProgress:
    """One layer of one attempt: the completed bytes first seen, the most seen since, and the layer's total.

    ``known`` is what an earlier attempt or run saw of the layer (the bytes already on the server's
    disk, at most). A line may report 0 before the server has looked at its partial file and then
    jump to the bytes on disk: those bytes did not move in this attempt, so when the first line says
    0 the start is the smaller of ``known`` and the first count above 0.

    ``fresh``: the server lacked the blob when the pull began (HEAD /api/blobs). Its first line
    proves nothing then: over a fast link Ollama's first progress line (60 ms after the download
    starts) may already report most or all of the layer. Its start is what earlier attempts saw.
    """

    __slots__ = ("completed", "first", "first_positive", "fresh", "known", "total")

    def __init__(self, first: int, completed: int, total: int, known: int = 0, fresh: bool = False) -> None:
        self.first = first
        self.completed = completed
        self.total = total
        self.known = known
        self.fresh = fresh
        self.first_positive = first if first > 0 else 0

    def see(self, completed: int, total: int) -> None:
        if not self.first_positive and completed > 0:
            self.first_positive = completed
        self.completed = max(self.completed, completed)
        self.total = total or self.total

    @property
    def start(self) -> int:
        """The bytes of the layer that were there when this attempt began."""
        if self.fresh:
            return min(self.known, self.first if self.first > 0 else (self.first_positive or self.completed))
        if self.first > 0 or not self.known:
            return self.first
        return min(self.known, self.first_positive or self.completed)

    @property
    def moved(self) -> int:
        """Bytes that arrived in this attempt."""
        return max(0, self.completed - self.start)


Layers = Dict[str, LayerProgress]


class TransferStats:
    """Bytes moved, seconds taken and attempts made by one operation."""

    def __init__(self) -> None:
        self.bytes = 0
        self.seconds = 0.0
        self.attempts = 0
        self.total = 0

    def as_dict(self) -> Dict[str, Any]:
        speed = self.bytes / self.seconds if self.seconds > 0 else 0.0
        return {
            "bytes": self.bytes,
            "bytes_human": format_size(self.bytes),
            "total": self.total,
            "seconds": round(self.seconds, 3),
            "speed": round(speed),
            "speed_human": format_rate(speed),
            "attempts": self.attempts,
        }


def classify(error: OllamaError) -> str:
    """``paused`` (disk full), ``not_found``, ``failed`` (permanent) or ``retry``."""
    if isinstance(error, MalformedAnswer):
        return FAILED  # an answer of a shape the collection cannot read: asking again gets the same
    text = (error.server_message or str(error)).lower()
    if any(marker in text for marker in DISK_FULL_MARKERS):
        return PAUSED
    if error.status is None:
        return "retry"
    if error.status in RETRY_STATUSES:
        return "retry"
    if error.status == 200:
        if any(marker in text for marker in NOT_FOUND_MARKERS):
            return NOT_FOUND
        if any(marker in text for marker in PERMANENT_MARKERS):
            return FAILED
        return "retry"
    if error.status == 404:
        return NOT_FOUND
    return FAILED


class Transfer:
    """Runs pulls and creates for one server, writing progress into the ledger."""

    def __init__(
        self,
        client: OllamaClient,
        ledger: Ledger,
        retries: int = 3,
        retry_delay: float = 2.0,
        stall_timeout: float = 60.0,
        progress_interval: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.ledger = ledger
        self.retries = max(0, int(retries))
        self.retry_delay = max(0.0, float(retry_delay))
        self.stall_timeout = stall_timeout
        self.progress_interval = progress_interval
        self._sleep = sleep
        self._clock = clock

    def silent_timeout(self, total: int = 0, rate: float = VERIFY_BYTES_PER_SECOND) -> float:
        """The socket read timeout of a stream: how long a connection may send nothing at all.

        The largest of ``stall_timeout``, the client's request timeout and the time
        the server may take to hash ``total`` bytes in silence (VERIFY_BYTES_PER_SECOND).
        """
        request_timeout = float(getattr(self.client, "timeout", 0) or 0)
        return max(float(self.stall_timeout), request_timeout, max(0, int(total or 0)) / float(rate))

    def pull(
        self,
        name: ModelName,
        insecure: bool = False,
        expected_total: int = 0,
        source: Optional[ModelName] = None,
        missing: Optional[Dict[str, int]] = None,
    ) -> TransferStats:
        """POST /api/pull until it reports success; raise OperationFailed.

        ``source``: the name the server pulls when it is not ``name`` (a mirror's); progress stays under ``name``.
        ``missing``: the blobs (digest: size) the server lacked before the pull, when known (see missing_blobs):
        their bytes count as moved however late the stream first reports them, and in full when it never does.
        """

        def open_stream(timeout: float) -> Iterator[Dict[str, Any]]:
            return self.client.pull_stream((source or name).display, insecure, timeout=timeout)

        return self._run(name, "pull", "/api/pull", open_stream, expected_total, missing=missing)

    def missing_blobs(self, blobs: Dict[str, int]) -> Optional[Dict[str, int]]:
        """The blobs (digest: size, from the registry manifest) the server lacks (HEAD /api/blobs each); None when unknown."""
        if not blobs:
            return None
        try:
            return {digest: int(size) for digest, size in blobs.items() if not self.client.blob_exists(digest)}
        except OllamaError:
            return None  # the byte count falls back to the progress lines alone

    def create(self, name: ModelName, payload: Dict[str, Any], rewrite_bytes: int = 0) -> TransferStats:
        """POST /api/create until it reports success; raise OperationFailed.

        ``rewrite_bytes``: the size of what the server rewrites (the model files of ``files``): its
        silent phase after ``verifying conversion`` lasts as long as hashing and copying them, so the
        connection may stay silent for ``rewrite_bytes`` at REWRITE_BYTES_PER_SECOND: not a stall.
        """

        def open_stream(timeout: float) -> Iterator[Dict[str, Any]]:
            return self.client.create_stream(name.display, payload, timeout=timeout)

        return self._run(name, "create", "/api/create", open_stream, 0, silent_bytes=rewrite_bytes)

    # ---------------------------------------------------------------- internals
    def _known_layers(self, name: ModelName) -> Dict[str, int]:
        """Completed bytes per layer an earlier run saw (``pull_layers`` and the last progress of the ledger record)."""
        record = self.ledger.read(name) or {}
        known: Dict[str, int] = {}
        progress = record.get("progress") if isinstance(record.get("progress"), dict) else {}
        for source in (record.get("pull_layers"), progress.get("layers")):
            if isinstance(source, dict):
                for digest, completed in source.items():
                    known[str(digest)] = max(known.get(str(digest), 0), _count(completed))
        return known

    def _run(
        self,
        name: ModelName,
        operation: str,
        path: str,
        open_stream: Callable[[float], Iterator[Dict[str, Any]]],
        expected_total: int,
        silent_bytes: int = 0,
        missing: Optional[Dict[str, int]] = None,
    ) -> TransferStats:
        stats = TransferStats()
        stats.total = expected_total
        started = self._clock()
        writer = self.ledger.progress(name, self.progress_interval, self._clock)
        known = self._known_layers(name) if operation == "pull" else {}
        while True:
            stats.attempts += 1
            layers: Layers = {}
            try:
                self._attempt(path, open_stream, layers, writer, expected_total, stats, known, silent_bytes, missing)
                stats.bytes += _moved(layers)
                # a missing blob the stream never reported (its download ended before the first progress line)
                stats.bytes += sum(max(0, size - known.get(digest, 0)) for digest, size in (missing or {}).items() if digest not in layers)
                stats.seconds = self._clock() - started
                if known:
                    self.ledger.update(name, pull_layers=None)
                return stats
            except OllamaError as exc:
                stats.bytes += _moved(layers)
                stats.seconds = self._clock() - started
                for digest, layer in layers.items():
                    known[digest] = max(known.get(digest, 0), layer.completed)
                if known and operation == "pull":
                    # what is on the server's disk now, so that the next run counts only the bytes it moves
                    self.ledger.update(name, pull_layers=dict(known))
                kind = classify(exc)
                if kind != "retry" or stats.attempts > self.retries:
                    raise self._failure(name, operation, exc, kind, stats) from None
                done = sum(layer.completed for layer in layers.values())
                message = "attempt %d of %d failed: %s; retrying in %s s (resuming from %s)" % (
                    stats.attempts,
                    self.retries + 1,
                    exc.server_message or exc,
                    _seconds(self.retry_delay),
                    format_size(done),
                )
                self.ledger.set_status(name, DOWNLOADING, message, operation=operation)
                self.ledger.log(name, "retry", operation=operation, attempt=stats.attempts, error=str(exc), completed=done)
                self._sleep(self.retry_delay)

    def _attempt(
        self,
        path: str,
        open_stream: Callable[[float], Iterator[Dict[str, Any]]],
        layers: Layers,
        writer: Any,
        expected_total: int,
        stats: TransferStats,
        known: Optional[Dict[str, int]] = None,
        silent_bytes: int = 0,
        missing: Optional[Dict[str, int]] = None,
    ) -> None:
        last_status = ""
        watch = _StallWatch(self.stall_timeout, self._clock)
        silent = self.silent_timeout(max(expected_total, stats.total))
        if silent_bytes:
            silent = max(silent, self.silent_timeout(silent_bytes, REWRITE_BYTES_PER_SECOND))
        lines = open_stream(silent)
        try:
            for item in lines:
                last_status = str(item.get("status") or "")
                digest = item.get("digest") if isinstance(item.get("digest"), str) else None
                if digest and ("total" in item or "completed" in item):
                    total = _count(item.get("total"))
                    completed = _count(item.get("completed"))
                    layer = layers.get(digest)
                    if layer is None:
                        layers[digest] = LayerProgress(completed, completed, total, (known or {}).get(digest, 0), digest in (missing or {}))
                    else:
                        layer.see(completed, total)
                    seen_total = sum(layer.total for layer in layers.values())
                    overall = max(expected_total, seen_total)
                    stats.total = overall
                    writer.update(
                        sum(layer.completed for layer in layers.values()),
                        overall,
                        last_status,
                        moved=stats.bytes + _moved(layers),
                        attempt=stats.attempts,
                        layers={key: value.completed for key, value in layers.items()},
                    )
                if watch.stalled(digest, layers):
                    of = (" of %s" % format_size(stats.total)) if stats.total else ""
                    raise OllamaError(
                        "POST %s: the stream stalled: no progress for %s seconds (%s: still %s%s)"
                        % (path, _seconds(self.stall_timeout), last_status, format_size(watch.best), of),
                        url=self.client.api_url + path,
                    )
        except HTTPException as exc:
            raise OllamaError("POST %s: the connection broke mid-stream: %r" % (path, exc), url=self.client.api_url + path) from None
        finally:
            close = getattr(lines, "close", None)
            if close is not None:
                close()  # leave the stream at once: the server cancels a download nobody waits for, and a retry resumes it
        if last_status != "success":
            raise OllamaError("POST %s: the stream ended before 'success' (last status %r)" % (path, last_status), url=self.client.api_url + path)
        if writer.last:
            writer.update(writer.last["total"], writer.last["total"], "success", force=True, moved=stats.bytes + _moved(layers), attempt=stats.attempts)

    def _failure(self, name: ModelName, operation: str, exc: OllamaError, kind: str, stats: TransferStats) -> OperationFailed:
        server = exc.server_message or str(exc)
        tries = " after %d attempts" % stats.attempts if stats.attempts > 1 else ""
        if kind == NOT_FOUND:
            if operation == "pull":
                message = "model '%s' not found in %s: %s" % (name.display, registry_label(name), server)
            else:
                message = "cannot create '%s': the base model given in 'from' was not found: %s" % (name.display, server)
        elif kind == PAUSED:
            message = "the server ran out of disk space during the %s of '%s'%s: %s" % (operation, name.display, tries, server)
        elif exc.status is None:
            message = "the %s of '%s' failed%s: %s" % (operation, name.display, tries, exc)
        else:
            message = "the %s of '%s' failed%s: %s" % (operation, name.display, tries, server)
        return OperationFailed(message, kind=kind if kind != "retry" else FAILED, server_message=exc.server_message, stats=stats)


class _StallWatch:
    """The progress rule of one attempt: have the completed bytes grown in the last ``limit`` seconds?"""

    def __init__(self, limit: float, clock: Callable[[], float]) -> None:
        self.limit = float(limit)
        self.best = 0
        self._clock = clock
        self._since = clock()
        self._digests: Set[str] = set()

    def stalled(self, digest: Any, layers: Layers) -> bool:
        """Note one line (after it is counted into ``layers``); True when the pull has stalled."""
        now = self._clock()
        done = sum(layer.completed for layer in layers.values())
        if not digest or digest not in self._digests or done > self.best:
            # growth; or a new phase (a line without byte counts, a layer's first line), progress by itself
            if digest:
                self._digests.add(digest)
            self.best = max(self.best, done)
            self._since = now
            return False
        return now - self._since >= self.limit


def _count(value: Any) -> int:
    """A byte count of a progress line; anything but a finite number of 0 or more counts as 0 (unknown)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return 0
    return max(0, int(value))


def _moved(layers: Layers) -> int:
    """Bytes that arrived in one attempt: per layer, the last completed count less the first one seen."""
    return sum(layer.moved for layer in layers.values())


def _seconds(value: float) -> str:
    return ("%d" % value) if float(value).is_integer() else ("%.1f" % value)
