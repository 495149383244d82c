# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Pulls: shared, rate-limited, resumable blob downloads and the pull progress stream.

As in Ollama (server/download.go), one download runs per blob however many pulls wait
for it; each waiter reports ``{"status": "pulling <12 hex>", "digest", "total",
"completed"}`` about every 60 ms, also while the download is stuck (the same
``completed`` again and again: a stall shows in the numbers, never as silence); the
download is cancelled when its last waiter goes away, and the ``sha256-<hex>-partial``
file it leaves is resumed by the next pull.
Bytes come from the catalogue at ``--rate`` bytes per second, or, for a name whose model
comes from a registry (``--registry URL`` for names of registry.ollama.ai; the name's own
host for any other host the catalogue does not hold), over HTTP as Ollama fetches them
(see download.py): the manifest, then each blob in Range parts; the digests are checked
after the downloads, and the manifest is stored under the name as pulled.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

from .catalog import Blob, Catalog
from .download import FetchError, RemoteDownload, base_url, blob_url, fetch_manifest
from .errors import ApiError, StreamCut
from .faults import Faults
from .names import DEFAULT_HOST, ModelName, parse_name
from .store import DiskFull, InvalidDigest, Store, digest_hex

TICK = 0.06


class Stats:
    """Bytes moved per blob: into the store by pulls, and out of the /v2 registry."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.pulled: Dict[str, int] = {}
        self.served: Dict[str, int] = {}

    def add(self, kind: str, digest: str, count: int) -> None:
        with self._lock:
            table = self.pulled if kind == "pulled" else self.served
            table[digest] = table.get(digest, 0) + count

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            blobs: Dict[str, int] = {}
            for table in (self.pulled, self.served):
                for digest, count in table.items():
                    blobs[digest] = blobs.get(digest, 0) + count
            return {
                "blobs": blobs,
                "total": sum(blobs.values()),
                "pulled": sum(self.pulled.values()),
                "served": sum(self.served.values()),
            }

    def clear(self) -> None:
        with self._lock:
            self.pulled.clear()
            self.served.clear()


class PullLog:
    """Every ``POST /api/pull`` stream in the order it started, and how many ran at once (at most).

    ``GET /_sim/pulls`` shows it: ``{"active", "max_active", "pulls": [{"model", "started",
    "finished", "outcome"}]}`` (times in seconds since the log was cleared); ``DELETE`` clears it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._origin = time.monotonic()
        self._pulls: List[Dict[str, Any]] = []
        self._active = 0
        self._max_active = 0

    def track(self, model: str, lines: Iterator[Dict[str, Any]]) -> Iterator[Dict[str, Any]]:
        """Wrap a pull stream: it counts as running from its first line until it ends or is dropped."""
        with self._lock:
            entry: Dict[str, Any] = {"model": model, "started": round(time.monotonic() - self._origin, 3), "finished": None, "outcome": "running"}
            self._pulls.append(entry)
            self._active += 1
            self._max_active = max(self._max_active, self._active)
        outcome = "dropped"
        try:
            for line in lines:
                yield line
                if line.get("status") == "success":
                    outcome = "success"
        except ApiError as exc:
            outcome = "error: %s" % exc.message
            raise
        except StreamCut:
            outcome = "cut"
            raise
        finally:
            close = getattr(lines, "close", None)
            if close is not None:
                close()  # at once: the pull leaves its download, which is cancelled when it was the last one waiting
            with self._lock:
                self._active -= 1
                entry["finished"] = round(time.monotonic() - self._origin, 3)
                entry["outcome"] = outcome

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return {"active": self._active, "max_active": self._max_active, "pulls": [dict(entry) for entry in self._pulls]}

    def clear(self) -> None:
        with self._lock:
            self._pulls = [entry for entry in self._pulls if entry["finished"] is None]
            self._max_active = self._active
            self._origin = time.monotonic()


class Download:
    """One blob being written to ``sha256-<hex>-partial``, resumed from its current size."""

    def __init__(self, manager: Downloads, blob: Blob) -> None:
        self.manager = manager
        self.blob = blob
        self.digest = blob.digest
        self.total = blob.size
        # the bytes a partial file already holds count from the first line on, as Prepare loads them
        # before blobDownload.Wait reports (a resumed layer never starts at 0 and then jumps)
        partial = manager.store.partial_path(blob.digest)
        self.completed = partial.stat().st_size if partial.is_file() and partial.stat().st_size <= blob.size else 0
        # the first line of the pull that starts the download reports what was on disk then, as Prepare does,
        # however far the download thread has got before the line is written
        self.initial: Optional[int] = self.completed
        self.refs = 0
        self.error: Optional[str] = None
        self.cut = False
        self.stalled = False
        self.done = threading.Event()
        self.cancelled = threading.Event()
        self._stop_at: Optional[int] = None
        self._pause: Optional[Tuple[int, float]] = None
        self._lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="download-" + self.digest[7:19], daemon=True)

    def stop_at(self, offset: int) -> None:
        """Stop writing at this offset and report a cut (the cut_at_percent fault)."""
        with self._lock:
            self._stop_at = offset

    def pause_at(self, offset: int, seconds: float) -> None:
        """Stall for some seconds at this offset (the stall fault); its waiters keep reporting that offset."""
        with self._lock:
            self._pause = (offset, seconds)

    def progress(self) -> Dict[str, Any]:
        line: Dict[str, Any] = {"status": "pulling %s" % self.digest[7:19], "digest": self.digest, "total": self.total}
        if self.completed:
            line["completed"] = self.completed
        return line

    def first_progress(self) -> Dict[str, Any]:
        """The first line of a pull on this download: for the pull that started it, the bytes on disk when it started."""
        with self._lock:
            initial, self.initial = self.initial, None
        line = self.progress()
        if initial is not None:
            line.pop("completed", None)
            if initial:
                line["completed"] = initial
        return line

    def _run(self) -> None:
        try:
            self._download()
        except DiskFull as exc:
            self.error = exc.message
        except OSError as exc:
            self.error = str(exc)
        finally:
            self.manager.finished(self)
            self.done.set()

    def _download(self) -> None:
        store, rate = self.manager.store, self.manager.rate
        if store.has_blob(self.digest):
            # another download finished it after this pull looked (downloadBlob's cache hit in Ollama): nothing to fetch
            self.completed = self.total
            return
        partial = store.partial_path(self.digest)
        offset = partial.stat().st_size if partial.exists() else 0
        if offset > self.total:
            partial.unlink()
            offset = 0
        self.completed = offset
        chunk = max(4096, min(1 << 16, int(rate / 20))) if rate else 1 << 16
        clock, base = time.monotonic(), offset
        with open(partial, "ab") as handle:
            while offset < self.total:
                if self.cancelled.is_set():
                    return
                with self._lock:
                    stop_at, pause = self._stop_at, self._pause
                if stop_at is not None and offset >= stop_at:
                    self.cut = True
                    return
                if pause is not None and offset >= pause[0]:
                    with self._lock:
                        self._pause = None
                    self.stalled = True
                    self.cancelled.wait(pause[1])
                    self.stalled = False
                    clock, base = time.monotonic(), offset
                    continue
                if self.manager.faults.disk_full:
                    raise DiskFull(partial)
                size = min(chunk, self.total - offset)
                if stop_at is not None:
                    size = min(size, stop_at - offset)
                if pause is not None:
                    size = min(size, pause[0] - offset)
                data = self.blob.read(offset, size)
                handle.write(data)
                handle.flush()
                offset += len(data)
                self.completed = offset
                self.manager.stats.add("pulled", self.digest, len(data))
                if rate:
                    delay = clock + (offset - base) / rate - time.monotonic()
                    if delay > 0:
                        self.cancelled.wait(delay)
        hasher = hashlib.sha256()
        with open(partial, "rb") as handle:
            for piece in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(piece)
        got = "sha256:" + hasher.hexdigest()
        if got != self.digest:
            partial.unlink()
            self.error = "digest mismatch, file must be downloaded again: want %s, got %s" % (self.digest, got)
            return
        os.replace(partial, store.blob_path(self.digest))


class Downloads:
    """The running downloads, one per digest (blobDownloadManager)."""

    def __init__(self, store: Store, faults: Faults, stats: Stats, rate: float, registry: Optional[str] = None) -> None:
        self.store = store
        self.faults = faults
        self.stats = stats
        self.rate = rate
        # --registry: the base URL names of registry.ollama.ai are downloaded from (None: the catalogue)
        self.registry = registry
        self._lock = threading.Lock()
        self._active: Dict[str, Any] = {}

    def source(self, catalog: Catalog, name: ModelName, insecure: bool) -> Optional[str]:
        """The registry base URL the model is downloaded from, or None for the built-in catalogue."""
        if name.host.lower() == DEFAULT_HOST:
            return base_url(self.registry, insecure) if self.registry else None
        if catalog.lookup(name) is not None:
            return None  # hf.co and the like: no internet here, the catalogue stands in
        return base_url("https://" + name.host, insecure)

    def acquire(self, blob: Blob) -> Download:
        """Join the running download of the blob, or start one."""
        return self._join(blob.digest, lambda: Download(self, blob))

    def acquire_remote(self, digest: str, url: str) -> RemoteDownload:
        """Join the running download of the blob, or prepare one (its HEAD) and start it; FetchError when preparing fails."""
        with self._lock:
            running = self._active.get(digest)
        if running is None:
            candidate = RemoteDownload(self, digest, url, self.store.blob_path(digest))
            candidate.prepare()
        else:
            candidate = None
        return self._join(digest, lambda: candidate or RemoteDownload(self, digest, url, self.store.blob_path(digest)), prepare=candidate is None)

    def _join(self, digest: str, make: Any, prepare: bool = False) -> Any:
        while True:
            with self._lock:
                running = self._active.get(digest)
                if running is None:
                    download = make()
                    if prepare:
                        download.prepare()
                    download.refs = 1
                    self._active[digest] = download
                    download.thread.start()
                    return download
                if not running.cancelled.is_set() and not running.cut:
                    running.refs += 1
                    return running
            running.done.wait()

    def release(self, download: Any) -> None:
        """Leave a download; the last one to leave cancels it (the partial stays)."""
        with self._lock:
            download.refs -= 1
            if download.refs <= 0 and not download.done.is_set():
                download.cancelled.set()

    def finished(self, download: Any) -> None:
        with self._lock:
            if self._active.get(download.digest) is download:
                del self._active[download.digest]


def pull_stream(
    catalog: Catalog, store: Store, downloads: Downloads, faults: Faults, model: str, noprune: bool, insecure: bool = False
) -> Iterator[Dict[str, Any]]:
    """The NDJSON lines of ``POST /api/pull`` (PullModel); errors raise ApiError."""
    name = parse_name(model)
    if not name.is_valid():
        raise ApiError(400, "invalid model name")
    name = store.canonical(name)
    old = store.read_manifest(name)
    unused: Set[str] = old.digests() if old else set()

    yield {"status": "pulling manifest"}
    source = downloads.source(catalog, name, insecure)
    if source is not None:
        yield from _remote_pull(store, downloads, faults, name, source, unused, noprune)
        return
    built = catalog.lookup(name)
    if built is None:
        raise ApiError(500, "pull model manifest: file does not exist")
    blobs = built.blobs()
    missing = [blob for blob in blobs if not store.has_blob(blob.digest)]
    cut = faults.take_cut() if missing else None
    stall = faults.take_stall() if missing else None
    cut_byte = None if cut is None else int(built.total_size * cut / 100)
    stall_byte = None if stall is None else int(built.total_size * stall[0] / 100)

    before = 0
    for blob in blobs:
        if store.has_blob(blob.digest):
            size = store.blob_size(blob.digest)
            yield {"status": "pulling %s" % blob.digest[7:19], "digest": blob.digest, "total": size, "completed": size}
            before += blob.size
            continue
        download = downloads.acquire(blob)
        try:
            if cut_byte is not None and cut_byte < before + blob.size:
                download.stop_at(max(0, cut_byte - before))
                cut_byte = None
            if stall is not None and stall_byte is not None and stall_byte < before + blob.size:
                download.pause_at(max(0, stall_byte - before), stall[1])
                stall_byte = None
            yield download.first_progress()
            while not download.done.wait(TICK):
                # stalled or not, a line every tick: blobDownload.Wait reports the current Completed on a ticker
                yield download.progress()
            if download.cut:
                raise StreamCut()
            if download.error:
                raise ApiError(500, download.error)
            if not store.has_blob(blob.digest):
                raise ApiError(500, "context canceled")
            yield download.progress()
        finally:
            downloads.release(download)
        before += blob.size

    yield {"status": "verifying sha256 digest"}
    yield {"status": "writing manifest"}
    store.write_manifest(name, built.manifest)
    unused -= {blob.digest for blob in blobs}
    if unused and not noprune:
        yield {"status": "removing unused layers"}
        store.delete_unused(unused)
    yield {"status": "success"}


def _remote_pull(store: Store, downloads: Downloads, faults: Faults, name: ModelName, base: str, unused: Set[str], noprune: bool) -> Iterator[Dict[str, Any]]:
    """PullModel against a registry over HTTP (after "pulling manifest")."""
    repository = "%s/%s" % (name.namespace, name.model)
    try:
        raw, manifest = fetch_manifest(base, repository, name.tag)
    except FetchError as exc:
        raise ApiError(500, "pull model manifest: %s" % exc.message) from None
    layers = [dict(layer) for layer in manifest.get("layers") or [] if isinstance(layer, dict)]
    config = manifest.get("config")
    if isinstance(config, dict) and config.get("digest"):
        layers.append(dict(config))
    for layer in layers:
        if not isinstance(layer.get("digest"), str) or not layer["digest"]:
            raise ApiError(500, "%s: digest is empty" % repository)
        try:
            digest_hex(layer["digest"])
        except InvalidDigest as exc:
            raise ApiError(500, str(exc)) from None
    total = sum(int(layer.get("size") or 0) for layer in layers)
    missing = [layer for layer in layers if not store.has_blob(layer["digest"])]
    cut = faults.take_cut() if missing else None
    cut_byte = None if cut is None else int(total * cut / 100)

    verify: Dict[str, bool] = {}
    before = 0
    for layer in layers:
        digest, size = layer["digest"], int(layer.get("size") or 0)
        if store.has_blob(digest):
            on_disk = store.blob_size(digest)
            yield {"status": "pulling %s" % digest[7:19], "digest": digest, "total": on_disk, "completed": on_disk}
            verify.setdefault(digest, False)
            before += size
            continue
        try:
            download = downloads.acquire_remote(digest, blob_url(base, repository, digest))
        except FetchError as exc:
            raise ApiError(500, exc.message) from None
        verify[digest] = True
        try:
            if cut_byte is not None and cut_byte < before + size:
                download.stop_at(max(0, cut_byte - before))
                cut_byte = None
            while not download.done.wait(TICK):
                yield download.progress()  # blobDownload.Wait: the first line after a tick
            if download.cut:
                raise StreamCut()
            if download.error:
                raise ApiError(500, download.error)
            if not store.has_blob(digest):
                raise ApiError(500, "context canceled")
            yield download.progress()
        finally:
            downloads.release(download)
        before += size

    yield {"status": "verifying sha256 digest"}
    for digest, needed in verify.items():
        if not needed:
            continue
        hasher = hashlib.sha256()
        with open(store.blob_path(digest), "rb") as handle:
            for piece in iter(lambda: handle.read(1 << 20), b""):
                hasher.update(piece)
        got = "sha256:" + hasher.hexdigest()
        if got != digest:
            with contextlib.suppress(OSError):
                store.blob_path(digest).unlink()
            raise ApiError(500, "digest mismatch, file must be downloaded again: want %s, got %s" % (digest, got))

    yield {"status": "writing manifest"}
    store.write_manifest(name, raw)
    unused -= {layer["digest"] for layer in layers}
    if unused and not noprune:
        yield {"status": "removing unused layers"}
        store.delete_unused(unused)
    yield {"status": "success"}
