# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The registry manifest of a model: what a pull brings, read before it starts.

:func:`fetch_manifest` reads ``/v2/<namespace>/<model>/manifests/<tag>``
(Docker Registry HTTP API v2) so the bytes a pull needs are known first. It
raises :class:`ResourceError` (from core.host) with a plain reason, so the caller
can warn: a check that cannot be made is never a pass. The host's disk and
memory are read by _host.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Dict, List, Optional

from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError
from ansible.module_utils.six.moves.urllib.parse import urlsplit
from ansible.module_utils.urls import Request

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.host import ResourceError
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import DEFAULT_HOST, ModelName

__all__ = ["Manifest", "ManifestNotFound", "ResourceError", "fetch_manifest", "registry_base", "registry_label"]

OLLAMA_REGISTRY = "https://registry.ollama.ai"
MANIFEST_ACCEPT = "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json;q=0.9"
MODEL_MEDIA_TYPE = "application/vnd.ollama.image.model"


class ManifestNotFound(ResourceError):
    """The registry answered that it has no such model (HTTP 404): a pull of it fails too."""


def redact_url(url: str) -> str:
    """A URL without the credentials it may carry (``user:secret@``), for messages."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()


class Manifest:
    """A registry manifest: its layers (with the config blob), their total size, and its digest."""

    def __init__(self, raw: bytes, url: str) -> None:
        self.raw = raw
        self.url = url
        try:
            data = answers.parse(raw, answers.MANIFEST, "GET %s" % url, answers.MAX_MANIFEST)
        except answers.AnswerError as exc:
            if not exc.field and exc.problem.startswith("is not JSON"):
                raise ResourceError("the registry answered %s with something that is not a JSON manifest" % url) from None
            if exc.field in ("", "layers") and ("missing" in exc.problem or "expected" in exc.problem):
                raise ResourceError("the manifest at %s has no layers list (%s)" % (url, exc)) from None
            raise ResourceError("the registry answered a manifest the collection cannot read: %s" % exc) from None
        self.data = data
        blobs: List[Dict[str, Any]] = []
        for item in [data.get("config"), *list(data["layers"])]:
            if isinstance(item, dict) and isinstance(item.get("digest"), str):
                blobs.append({"digest": item["digest"], "size": int(item.get("size") or 0), "mediaType": item.get("mediaType", "")})
        self.blobs = blobs
        # The digest Ollama lists in /api/tags is the sha256 of the manifest it stores.
        self.digest = hashlib.sha256(raw).hexdigest()

    @property
    def total(self) -> int:
        return sum(blob["size"] for blob in self.blobs)

    @property
    def model_size(self) -> int:
        """Bytes of the model weights layer(s), what a load brings into memory."""
        return sum(blob["size"] for blob in self.blobs if blob["mediaType"] == MODEL_MEDIA_TYPE)


def registry_base(name: ModelName, registry_url: Optional[str] = None, insecure: bool = False) -> str:
    """The registry base URL for a model: registry_url when given, else from the name."""
    if registry_url:
        return registry_url.rstrip("/")
    if name.host.lower() == DEFAULT_HOST:
        return OLLAMA_REGISTRY
    scheme = name.scheme or ("http" if insecure else "https")
    return "%s://%s" % (scheme, name.host)


def registry_label(name: ModelName) -> str:
    """``registry.ollama.ai/library``: where a model name says the model lives."""
    return "%s/%s" % (name.host, name.namespace)


def fetch_manifest(
    name: ModelName,
    registry_url: Optional[str] = None,
    insecure: bool = False,
    validate_certs: bool = True,
    timeout: float = 15,
    request_factory: Callable[..., Any] = Request,
) -> Manifest:
    """GET the model's manifest from its registry; raise ResourceError saying why it cannot be read."""
    url = "%s/v2/%s/manifests/%s" % (registry_base(name, registry_url, insecure), name.registry_path, name.tag)
    request = request_factory(
        headers={"Accept": MANIFEST_ACCEPT},
        validate_certs=validate_certs and not insecure,
        timeout=timeout,
        follow_redirects="safe",
    )
    try:
        response = request.open("GET", url)
        try:
            raw = response.read()
        finally:
            response.close()
    except HTTPError as exc:
        if exc.code == 404:
            raise ManifestNotFound("the registry has no manifest for %s at %s (HTTP 404)" % (name.display, redact_url(url))) from None
        raise ResourceError("the registry answered GET %s with HTTP %s" % (redact_url(url), exc.code)) from None
    except (URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ResourceError("the registry at %s cannot be reached: %s" % (redact_url(url), reason)) from None
    return Manifest(raw, redact_url(url))
