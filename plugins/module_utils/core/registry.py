# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A Docker Registry HTTP API v2 manifest reader, over core.transport (the standard library).

The one manifest reader of the collection: the model modules (core.manifest, before a pull) and the
mirror both read manifests here, with one Accept header and one size bound. Requests never read
``~/.netrc`` and carry no credential across a redirect (core.urls.request_factory); every body is read
only up to the size it is expected to have. The mirror's blob downloads extend this client
(mirror.blob_download).

* :meth:`RegistryClient.manifest` GETs ``/v2/<namespace>/<model>/manifests/<reference>`` and returns
  the bytes exactly as served (their sha256 is the model's digest).
"""

from __future__ import annotations

import http.client
import time
from typing import Any, Callable, Optional
from urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers, transport, urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.urls import redact

MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json;q=0.9"
MAX_MANIFEST = answers.MAX_MANIFEST


class RegistryError(Exception):
    """The registry could not be read; the message says where and why.

    ``status`` is the HTTP status when one came, ``reason`` the failure in a few words, ``url`` the URL read
    (without credentials).
    """

    def __init__(self, message: str, status: Optional[int] = None, reason: str = "", url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.url = url


class NotFound(RegistryError):
    """The registry answered 404 (no such manifest or blob)."""


class BodyTooLong(RegistryError):
    """A body ran past the size it was announced to have (never retried: the registry serves something else)."""


class RegistryClient:
    """Reads one registry (``base_url`` such as ``https://registry.ollama.ai``)."""

    def __init__(
        self,
        base_url: str,
        validate_certs: bool = True,
        timeout: float = 60,
        retries: int = 3,
        retry_delay: float = 1.0,
        request_factory: Optional[Callable[..., Any]] = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retries = max(0, retries)
        self.retry_delay = retry_delay
        self._request_factory = request_factory or urls.request_factory(transport.Request)
        self._sleep = sleep

    def url(self, repository: str, kind: str, reference: str) -> str:
        return "%s/v2/%s/%s/%s" % (self.base_url, repository, kind, reference)

    def _open(self, url: str, headers: dict) -> Any:
        request = self._request_factory(headers=headers, validate_certs=self.validate_certs, timeout=self.timeout, follow_redirects="safe")
        return request.open("GET", url)

    def manifest(self, repository: str, reference: str) -> bytes:
        """The manifest bytes as served; NotFound on 404, RegistryError otherwise."""
        url = self.url(repository, "manifests", reference)
        last = ""
        status: Optional[int] = None
        for attempt in range(self.retries + 1):
            try:
                response = self._open(url, {"Accept": MANIFEST_ACCEPT})
                try:
                    raw = response.read(MAX_MANIFEST + 1)
                finally:
                    response.close()
                if len(raw) > MAX_MANIFEST:
                    raise BodyTooLong(
                        "the manifest at %s is larger than %d bytes; it is not a model manifest" % (redact(url), MAX_MANIFEST),
                        reason="too long",
                        url=redact(url),
                    )
                try:
                    # the shape of every field read from it (layers, config, digest, size), before anything is fetched
                    answers.parse(raw, answers.MANIFEST, "GET %s" % redact(url), MAX_MANIFEST)
                except answers.AnswerError as exc:
                    raise RegistryError(
                        "the registry answered a manifest that cannot be read: %s" % exc, status=200, reason=str(exc), url=redact(url)
                    ) from None
                return raw
            except HTTPError as exc:
                if exc.code == 404:
                    raise NotFound("the registry has no manifest at %s (HTTP 404)" % redact(url), status=404, reason="HTTP 404", url=redact(url)) from None
                last, status = "HTTP %s" % exc.code, exc.code
                if exc.code < 500 and exc.code != 429:
                    break
            except (URLError, OSError, ValueError, http.client.HTTPException) as exc:
                last, status = str(getattr(exc, "reason", exc)) or type(exc).__name__, None
            if attempt < self.retries:
                self._sleep(self.retry_delay)
        raise RegistryError("the registry answered GET %s with %s" % (redact(url), last), status=status, reason=last, url=redact(url))
