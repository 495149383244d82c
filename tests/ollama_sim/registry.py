# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The catalogue served as a Docker Registry HTTP API v2 (what ``ollama pull`` reads).

- ``GET /v2/`` -> ``{}``
- ``GET|HEAD /v2/<namespace>/<model>/manifests/<tag or digest>``
- ``GET|HEAD /v2/<namespace>/<model>/blobs/sha256:<hex>`` (``Range: bytes=a-b`` honoured)

Library models live under namespace ``library``; the hf.co model under
``bartowski/Llama-3.2-1B-Instruct-GGUF``. Unknown names answer 404 with a registry
error document. Bytes served are counted in the simulator's stats.
"""

from __future__ import annotations

import re
import time
from typing import Dict, Iterator, List, Mapping, Optional, Tuple

from .api import Reply
from .catalog import MEDIA_MANIFEST, Blob, Catalog
from .pull import Stats

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _error(status: int, code: str, message: str, detail: Dict[str, str]) -> Reply:
    return Reply(status, {"errors": [{"code": code, "message": message, "detail": detail}]})


def _parse_range(header: Optional[str], size: int) -> Optional[Tuple[int, int]]:
    """(start, end inclusive) of a single byte range; None for the whole blob."""
    if not header:
        return None
    match = _RANGE.match(header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        raise ValueError(header)
    first, last = match.group(1), match.group(2)
    if not first:
        length = int(last)
        return max(0, size - length), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if start >= size or end < start:
        raise ValueError(header)
    return start, end


class Registry:
    """Registry v2 endpoints over the catalogue."""

    redirect_blobs = False  # --blob-redirect

    def __init__(self, catalog: Catalog, stats: Stats, rate: float) -> None:
        self.catalog = catalog
        self.stats = stats
        self.rate = rate

    def root(self, **_: object) -> Reply:
        return Reply(body={}, headers={"Docker-Distribution-Api-Version": "registry/2.0"})

    def manifest(self, repo: str, reference: str, **_: object) -> Reply:
        built = None
        if reference.startswith("sha256:"):
            for candidate in self.catalog.describe():
                if candidate["manifest_digest"] == reference:
                    built = self.catalog.lookup_repository(repo, candidate["name"].rpartition(":")[2])
                    break
        else:
            built = self.catalog.lookup_repository(repo, reference)
        if built is None:
            return _error(404, "MANIFEST_UNKNOWN", "manifest unknown", {"Name": repo, "Tag": reference})
        return Reply(
            content=iter([built.manifest]),
            length=len(built.manifest),
            headers={
                "Content-Type": MEDIA_MANIFEST,
                "Docker-Content-Digest": built.manifest_digest,
                "Docker-Distribution-Api-Version": "registry/2.0",
            },
        )

    def blob(self, repo: str, digest: str, headers: Optional[Mapping[str, str]] = None, cdn: Optional[str] = None, **_: object) -> Reply:
        blob = self.catalog.find_blob(repo, digest)
        range_header = headers.get("Range") if headers is not None else None
        if blob is None:
            return _error(404, "BLOB_UNKNOWN", "blob unknown to registry", {"Digest": digest})
        if self.redirect_blobs and not cdn and not range_header:
            # --blob-redirect, as registry.ollama.ai sends blobs to its CDN: another host name, same port
            host, _colon, port = (headers.get("Host", "") if headers is not None else "").rpartition(":")
            other = "localhost" if host != "localhost" else "127.0.0.1"
            return Reply(307, headers={"Location": "http://%s:%s/cdn/v2/%s/blobs/%s" % (other, port, repo, digest)})
        headers = {
            "Content-Type": "application/octet-stream",
            "Docker-Content-Digest": blob.digest,
            "Accept-Ranges": "bytes",
        }
        try:
            selected = _parse_range(range_header, blob.size)
        except ValueError:
            headers["Content-Range"] = "bytes */%d" % blob.size
            return Reply(416, {"errors": [{"code": "RANGE_INVALID", "message": "invalid content range", "detail": {}}]}, headers=headers)
        start, end = selected if selected else (0, blob.size - 1)
        status = 200
        if selected:
            status = 206
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, blob.size)
        return Reply(status, content=self._serve(blob, start, end + 1), length=end + 1 - start, headers=headers)

    def _serve(self, blob: Blob, start: int, end: int) -> Iterator[bytes]:
        clock, offset = time.monotonic(), start
        while offset < end:
            data = blob.read(offset, min(1 << 16, end - offset))
            yield data
            offset += len(data)
            self.stats.add("served", blob.digest, len(data))
            if self.rate:
                delay = clock + (offset - start) / self.rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def routes(self) -> List[tuple]:
        return [
            (("GET", "HEAD"), r"/v2/?", self.root),
            (("GET", "HEAD"), r"/v2/(?P<repo>.+)/manifests/(?P<reference>[^/]+)", self.manifest),
            (("GET", "HEAD"), r"/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})", self.blob),
            (("GET", "HEAD"), r"/(?P<cdn>cdn)/v2/(?P<repo>.+)/blobs/(?P<digest>sha256:[0-9a-f]{64})", self.blob),
        ]
