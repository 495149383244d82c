# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pulling through a mirror: the ``mirror`` options of the model modules, and the names a mirror serves.

A mirror (filled by ``ollama_mirror``, served by ``ollama_domain`` with ``mirror_path``) holds a model
``<host>/<namespace>/<model>:<tag>`` of any registry under ``v2/<namespace>/<model>`` (one registry per
namespace/model: ollama_mirror refuses collisions), so the server pulls
``<mirror host[:port]>/<namespace>/<model>:<tag>`` and the collection copies it to the canonical name.
``hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M`` is pulled as
``<mirror>/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M``, as ollama_mirror stores it.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, ModelName, parse_name


class InvalidMirror(ValueError):
    """A ``mirror`` option that cannot be pulled through; the message says what to write instead."""


class MirrorSource:
    """A mirror to pull through: ``url`` (scheme://host[:port]), ``host`` (host[:port], the host part of the names
    pulled), ``insecure`` (Ollama's ``insecure``: plain http) and ``fallback`` (pull from the model's own registry,
    with a warning, when the mirror does not have it)."""

    def __init__(self, url: str, host: str, insecure: bool = False, fallback: bool = False) -> None:
        self.url = url
        self.host = host
        self.insecure = insecure
        self.fallback = fallback

    def applies(self, name: ModelName) -> bool:
        """Whether ``name`` is pulled through this mirror (not when it already names the mirror host)."""
        return name.host.lower() != self.host.lower()

    def name_for(self, name: ModelName) -> ModelName:
        """The name the server pulls: ``<mirror host>/<namespace>/<model>:<tag>``."""
        return ModelName(self.host, name.namespace, name.model, name.tag)

    def as_dict(self) -> dict:
        return {"url": self.url, "insecure": self.insecure, "fallback": self.fallback}

    def __repr__(self) -> str:
        return "MirrorSource(%r, insecure=%r, fallback=%r)" % (self.url, self.insecure, self.fallback)


def parse_mirror(url: Any, insecure: Any = False, fallback: Any = False, option: str = "mirror") -> Optional[MirrorSource]:
    """The mirror of ``url`` (None for an empty or missing one); raise InvalidMirror naming ``option``.

    ``https://mirror.example:8443`` or ``http://127.0.0.1:8080`` (with ``insecure``); a URL without
    a scheme takes https, or http with ``insecure``. Ollama takes a registry by host name only, so
    a path, a query or credentials are refused, as is a scheme that contradicts ``insecure``.
    """
    if url is None or url is False or url == "":
        return None
    if not isinstance(url, str):
        raise InvalidMirror("%s must be a URL string such as https://mirror.example:8443, got %r" % (option, url))
    text = url.strip()
    insecure = bool(insecure)
    example = "for example https://mirror.example:8443, or http://mirror.example:8080 with %s_insecure: true" % option
    if urls.has_credentials(text):
        # before any message that could repeat the URL: it holds a secret
        raise InvalidMirror("%s must not carry credentials (user:password@); Ollama pulls from a mirror without them: %s" % (option, example))
    if not urls.has_scheme(text):
        text = ("http://" if insecure else "https://") + text
    try:
        parts = urlsplit(text)
        if parts.port is not None and not 0 < parts.port < 65536:  # .port raises ValueError for one that is not a number
            raise ValueError("port %d out of range" % parts.port)
    except ValueError as exc:
        raise InvalidMirror("%s %r is not a URL (%s); %s" % (option, url, exc, example)) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidMirror("%s %r must start with https:// or http://; %s" % (option, url, example))
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidMirror(
            "%s %r has a path; Ollama reads a registry at the root of its host (/v2/...), so give only scheme, host and port; %s" % (option, url, example)
        )
    if not parts.hostname:
        raise InvalidMirror("%s %r has no host name; %s" % (option, url, example))
    if parts.scheme == "http" and not insecure:
        raise InvalidMirror(
            "%s %r is plain http: set %s_insecure: true to pull from it over http (Ollama's insecure), or serve the mirror over https" % (option, url, option)
        )
    if parts.scheme == "https" and insecure:
        raise InvalidMirror(
            "%s %r is https, but %s_insecure: true makes Ollama pull over plain http; write http://... or drop %s_insecure "
            "(for a private CA, trust it in the server: ollama_server_ca_certificates)" % (option, url, option, option)
        )
    host = parts.netloc.rstrip("/")
    try:
        parse_name("%s/library/probe:latest" % host)
    except InvalidModelName:
        raise InvalidMirror("%s %r: %r cannot be the host part of an Ollama model name; %s" % (option, url, host, example)) from None
    base = "%s://%s" % (parts.scheme, host)
    return MirrorSource(base, host, insecure, bool(fallback))


__all__ = ["InvalidMirror", "MirrorSource", "parse_mirror"]
