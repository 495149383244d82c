# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake Docker Registry v2 (manifests and blobs, Range, cuts, corrupt bytes, errors) for the registry, blob and mirror tests."""

from __future__ import annotations

import hashlib
import io
import json
from http.client import IncompleteRead
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import MANIFEST_ACCEPT

# one model of one 5 MB layer (several chunks): what the registry fixture of tests/unit/plugins/module_utils/conftest.py serves
BLOB = bytes(range(256)) * 20000


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


class FakeResponse:
    """A response body read in pieces; ``cut_at`` raises IncompleteRead after that many bytes, as a dropped connection does."""

    def __init__(self, body: bytes, status: int = 200, cut_at: Optional[int] = None) -> None:
        self._body = io.BytesIO(body)
        self.status = status
        self._cut_at = cut_at
        self._sent = 0
        self.closed = False
        self.largest_read = 0
        self.headers = {"Content-Length": str(len(body))}

    def getcode(self) -> int:
        return self.status

    def read(self, amount: int = -1) -> bytes:
        self.largest_read = max(self.largest_read, amount)
        if self._cut_at is not None and self._sent >= self._cut_at:
            raise IncompleteRead(b"")
        if self._cut_at is not None:
            amount = min(amount if amount > 0 else self._cut_at, self._cut_at - self._sent)
        data = self._body.read(amount)
        self._sent += len(data)
        return data

    def close(self) -> None:
        self.closed = True


class FakeRegistry:
    """Registry v2 read paths over dicts, as a ``request_factory`` for RegistryClient.

    ``cuts``: digest -> list of byte counts after which successive GETs of the blob break.
    ``ignore_range``: answer 200 with the whole blob even to a Range request.
    ``corrupt``: digests served with one byte flipped. ``errors``: URL suffix -> list of HTTP statuses to answer first.
    """

    def __init__(self) -> None:
        self.manifests: Dict[Tuple[str, str], bytes] = {}
        self.blobs: Dict[str, bytes] = {}
        self.cuts: Dict[str, List[int]] = {}
        self.ignore_range = False
        self.corrupt: set = set()
        self.errors: Dict[str, List[int]] = {}
        self.requests: List[Tuple[str, str, Dict[str, str]]] = []
        self.served = 0
        self.down = False

    def add_model(self, repository: str, tag: str, layers: List[bytes], config: bytes = b'{"model_format":"gguf"}') -> bytes:
        for data in [config, *layers]:
            self.blobs[digest_of(data)] = data
        manifest = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": MANIFEST_ACCEPT,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": digest_of(config), "size": len(config)},
                "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": digest_of(data), "size": len(data)} for data in layers],
            }
        ).encode()
        self.manifests[(repository, tag)] = manifest
        return manifest

    def __call__(self, headers: Optional[Dict[str, str]] = None, **_kwargs: Any) -> FakeRegistry.Request:
        return FakeRegistry.Request(self, dict(headers or {}))

    class Request:
        def __init__(self, registry: FakeRegistry, headers: Dict[str, str]) -> None:
            self.registry = registry
            self.headers = headers

        def open(self, method: str, url: str) -> FakeResponse:
            return self.registry.answer(method, url, self.headers)

    def answer(self, method: str, url: str, headers: Dict[str, str]) -> FakeResponse:
        self.requests.append((method, url, headers))
        if self.down:
            raise URLError("connection refused")
        for suffix, statuses in self.errors.items():
            if url.endswith(suffix) and statuses:
                raise HTTPError(url, statuses.pop(0), "error", {}, None)  # type: ignore[arg-type]
        path = url.split("/v2/", 1)[1]
        repository, kind, reference = path.rsplit("/", 2)
        if kind == "manifests":
            if (repository, reference) not in self.manifests:
                raise HTTPError(url, 404, "not found", {}, None)  # type: ignore[arg-type]
            return FakeResponse(self.manifests[(repository, reference)])
        data = self.blobs.get(reference)
        if data is None:
            raise HTTPError(url, 404, "not found", {}, None)  # type: ignore[arg-type]
        if reference in self.corrupt:
            data = data[:-1] + bytes([data[-1] ^ 1])
        status, start = 200, 0
        if "Range" in headers and not self.ignore_range:
            start = int(headers["Range"].split("=", 1)[1].rstrip("-"))
            if start >= len(data):
                raise HTTPError(url, 416, "range", {}, None)  # type: ignore[arg-type]
            status = 206
        body = data[start:]
        cuts = self.cuts.get(reference)
        cut_at = cuts.pop(0) if cuts else None
        self.served += len(body) if cut_at is None else min(cut_at, len(body))
        return FakeResponse(body, status, cut_at)
