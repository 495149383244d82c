# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Registry blob downloads for the mirror: core.registry's client, plus :meth:`BlobClient.fetch_blob`.

:meth:`BlobClient.fetch_blob` streams ``/v2/<namespace>/<model>/blobs/sha256:<hex>`` into a partial file,
hashing while it writes (never a whole blob in memory). A partial file left by an earlier attempt is
resumed with ``Range: bytes=<n>-``; a connection that breaks is resumed the same way up to ``retries``
times. The size and the sha256 are checked at the end: a mismatch removes the partial file and raises
:class:`BlobMismatch`. Redirects (registry.ollama.ai answers 307 to a CDN) are followed. Every body is
read only up to the size the manifest lists, plus a small margin.
"""

from __future__ import annotations

import hashlib
import http.client
import os
from contextlib import suppress
from typing import Any, Callable, Optional, Tuple
from urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import BodyTooLong, NotFound, RegistryClient, RegistryError
from ansible_collections.llmops.ollama.plugins.module_utils.core.urls import redact

CHUNK = 1 << 20


# What a blob body may run past its announced size before the read stops (a registry that sends more is refused).
OVERRUN_MARGIN = 64 << 10


class BlobMismatch(RegistryError):
    """A blob's bytes do not have the size or the sha256 the manifest lists (the partial file is removed)."""


def hash_file(path: str, hasher: Any, limit: Optional[int] = None) -> int:
    """Feed a file (its first ``limit`` bytes) into hasher in chunks; return the bytes read."""
    done = 0
    with open(path, "rb") as handle:
        while limit is None or done < limit:
            want = CHUNK if limit is None else min(CHUNK, limit - done)
            data = handle.read(want)
            if not data:
                break
            hasher.update(data)
            done += len(data)
    return done


class BlobClient(RegistryClient):
    """A registry client that also downloads blobs (the mirror's fetch)."""

    def fetch_blob(
        self,
        repository: str,
        digest: str,
        size: int,
        partial: str,
        on_bytes: Optional[Callable[[int], None]] = None,
    ) -> int:
        """Download a blob into ``partial`` (resuming what is there), verify size and sha256; return the bytes transferred.

        ``on_bytes(n)`` is called with each chunk's length (progress). On BlobMismatch the partial file is
        removed; on a RegistryError after the retries it is kept, so the next run resumes it.
        """
        url = self.url(repository, "blobs", digest)
        expected = digest.split(":", 1)[1].lower()
        transferred = 0
        last = ""

        def counted(count: int) -> None:
            nonlocal transferred
            transferred += count
            if on_bytes is not None:
                on_bytes(count)

        for attempt in range(self.retries + 1):
            hasher = hashlib.sha256()
            have = 0
            if os.path.exists(partial):
                have = hash_file(partial, hasher)
                if have > size:
                    _remove(partial)
                    hasher, have = hashlib.sha256(), 0
            if on_bytes is not None and attempt == 0 and have:
                on_bytes(have)
            if have < size:
                headers = {"Range": "bytes=%d-" % have} if have else {}
                try:
                    hasher, complete = self._stream(url, headers, partial, have, hasher, counted, size)
                except HTTPError as exc:
                    if exc.code == 404:
                        raise NotFound("the registry has no blob %s at %s (HTTP 404)" % (digest, redact(url))) from None
                    if exc.code == 416:
                        # the partial file is not a prefix the registry can continue: start afresh
                        _remove(partial)
                    last = "HTTP %s" % exc.code
                    if attempt < self.retries:
                        self._sleep(self.retry_delay)
                    continue
                except BodyTooLong:
                    _remove(partial)
                    raise
                except (URLError, OSError, ValueError, http.client.HTTPException) as exc:
                    last = str(getattr(exc, "reason", exc)) or type(exc).__name__
                    if attempt < self.retries:
                        self._sleep(self.retry_delay)
                    continue
                have = os.path.getsize(partial)
                if have < size and not complete:
                    # the body ended early (a connection closed without an error): resume it like a cut
                    last = "the answer ended after %d of %d bytes" % (have, size)
                    if attempt < self.retries:
                        self._sleep(self.retry_delay)
                    continue
            if have != size:
                _remove(partial)
                raise BlobMismatch("blob %s from %s has %d bytes, the manifest lists %d; the partial file was removed" % (digest, redact(url), have, size))
            actual = hasher.hexdigest()
            if actual != expected:
                _remove(partial)
                raise BlobMismatch("blob %s from %s has sha256:%s; the partial file was removed" % (digest, redact(url), actual))
            return transferred
        raise RegistryError(
            "the download of blob %s from %s broke off (%s) after %d attempt(s); the partial file is kept, run the task again to resume"
            % (digest, redact(url), last, self.retries + 1)
        )

    def _stream(self, url: str, headers: dict, partial: str, have: int, hasher: Any, on_bytes: Callable[[int], None], size: int) -> Tuple[Any, bool]:
        """Append the response body to partial (on_bytes counts each chunk); (the hasher of the whole file, whether the body was complete)."""
        response = self._open(url, headers)
        received = 0
        try:
            status = getattr(response, "status", None) or response.getcode()
            declared = _content_length(response)
            mode = "ab"
            if have and status != 206:
                # the registry ignored the Range header and sends the whole blob: start the file afresh
                mode, hasher, have = "wb", hashlib.sha256(), 0
            # never more than the manifest announced: one byte past it tells "too long" from "exact"
            remaining = size - have
            if declared is not None and declared > remaining + OVERRUN_MARGIN:
                raise BodyTooLong(
                    "GET %s: the registry announces %d bytes, the manifest lists %d for this blob; nothing more was read" % (redact(url), declared, size),
                    status=status,
                    reason="too long",
                    url=redact(url),
                )
            with open(partial, mode) as handle:
                while True:
                    data = response.read(min(CHUNK, remaining - received + 1))
                    if not data:
                        break
                    if received + len(data) > remaining:
                        raise BodyTooLong(
                            "GET %s: the registry sent more than the %d bytes the manifest lists for this blob; the read stopped, the partial file was removed"
                            % (redact(url), size),
                            status=status,
                            reason="too long",
                            url=redact(url),
                        )
                    handle.write(data)
                    hasher.update(data)
                    received += len(data)
                    on_bytes(len(data))
        finally:
            response.close()
        # a body shorter than its Content-Length is a cut; a complete one that is too short is the registry's size
        return hasher, declared is None or received >= declared


def _content_length(response: Any) -> Optional[int]:
    headers = getattr(response, "headers", None)
    value = headers.get("Content-Length") if headers is not None else None
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _remove(path: str) -> None:
    with suppress(OSError):
        os.unlink(path)
