# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The registry manifest of a model: what a pull brings, read before it starts.

:func:`fetch_manifest` reads ``/v2/<namespace>/<model>/manifests/<tag>``
(Docker Registry HTTP API v2) through core.registry's RegistryClient, the one manifest reader, so the bytes a pull needs are known first. It
raises :class:`ResourceError` (from core.host) with a plain reason, so the caller
can warn: a check that cannot be made is never a pass. The host's disk and
memory are read by _host.
"""

from __future__ import annotations

import hashlib
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.host import ResourceError
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import DEFAULT_HOST, ModelName
from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import NotFound, RegistryClient, RegistryError
from ansible_collections.llmops.ollama.plugins.module_utils.core.urls import redact

__all__ = ["Manifest", "ManifestNotFound", "ResourceError", "fetch_manifest", "registry_base", "registry_label"]

OLLAMA_REGISTRY = "https://registry.ollama.ai"


class ManifestNotFound(ResourceError):
    """The registry answered that it has no such model (HTTP 404): a pull of it fails too."""


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
    request_factory: Optional[Callable[..., Any]] = None,
) -> Manifest:
    """GET the model's manifest from its registry (core.registry, the one reader); raise ResourceError saying why it cannot be read."""
    client = RegistryClient(
        registry_base(name, registry_url, insecure), validate_certs=validate_certs and not insecure, timeout=timeout, retries=0, request_factory=request_factory
    )
    url = redact(client.url(name.registry_path, "manifests", name.tag))
    try:
        raw = client.manifest(name.registry_path, name.tag)
    except NotFound:
        raise ManifestNotFound("the registry has no manifest for %s at %s (HTTP 404)" % (name.display, url)) from None
    except RegistryError as exc:
        if exc.status is None and exc.reason != "too long":
            raise ResourceError("the registry at %s cannot be reached: %s" % (url, exc.reason)) from None
        if exc.status is not None and exc.status != 200:
            raise ResourceError("the registry answered GET %s with HTTP %s" % (url, exc.status)) from None
        raise ResourceError(str(exc)) from None
    return Manifest(raw, url)
