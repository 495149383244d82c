# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The models of a mirror: the names a task asks for, and a model's manifest with its blobs (no I/O)."""

from __future__ import annotations

import hashlib
from typing import Any, Dict, Iterable, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import (
    DEFAULT_HOST,
    InvalidDigest,
    InvalidModelName,
    ModelName,
    normalize_digest,
    parse_name,
)

OLLAMA_REGISTRY = "https://registry.ollama.ai"
HF_HOST = "hf.co"


class MirrorError(Exception):
    """The mirror cannot do what was asked; the message says what is wrong and what to do."""


# --------------------------------------------------------------------------- wanted models
class Wanted:
    """A model the task names, with an optional digest pin (bare hex)."""

    __slots__ = ("name", "pin")

    def __init__(self, name: ModelName, pin: Optional[str] = None) -> None:
        self.name = name
        self.pin = pin


def parse_models(items: Iterable[Any]) -> List[Wanted]:
    """Entries as ``name``, ``name@sha256:<hex>`` or ``{name, digest}``; the same model twice is one entry."""
    found: Dict[str, Wanted] = {}
    order: List[str] = []
    for item in items:
        if isinstance(item, dict):
            unknown = sorted(set(item) - {"name", "digest"})
            if unknown:
                raise MirrorError("models entry %r has unknown key(s) %s; an entry is a name or {name, digest}" % (item, ", ".join(unknown)))
            text, digest = item.get("name"), item.get("digest")
        else:
            text, digest = item, None
        if not isinstance(text, str):
            raise MirrorError("models entry %r has no name; give a model name such as 'llama3.2:1b'" % (item,))
        if "@" in text:
            text, _at, pinned = text.partition("@")
            if digest is not None and digest != pinned:
                raise MirrorError("models entry %r pins two digests (after '@' and in digest); give one" % (item,))
            digest = pinned
        try:
            name = parse_name(text)
            pin = normalize_digest(digest) if digest is not None else None
        except (InvalidModelName, InvalidDigest) as exc:
            raise MirrorError(str(exc)) from None
        if name.key in found:
            other = found[name.key].pin
            if pin and other and pin != other:
                raise MirrorError("%s is listed twice with different digests (sha256:%s and sha256:%s); keep one" % (name.display, other, pin))
            found[name.key].pin = other or pin
            continue
        found[name.key] = Wanted(name, pin)
        order.append(name.key)
    return [found[key] for key in order]


def source_url(name: ModelName, source: str, insecure: bool = False) -> str:
    """The registry a model is read from: ``source`` for registry.ollama.ai names, ``https://<host>`` for others."""
    if name.host.lower() == DEFAULT_HOST:
        return source.rstrip("/")
    scheme = name.scheme or ("http" if insecure else "https")
    return "%s://%s" % (scheme, name.host)


# --------------------------------------------------------------------------- manifests
def blob_digest(value: Any, where: str) -> str:
    """``sha256:<hex>`` from a manifest or bundle entry; anything else is refused (it becomes a file name)."""
    if not isinstance(value, str) or not value.startswith("sha256:"):
        raise MirrorError("%s lists a blob digest %s that is not sha256:<64 hex>" % (where, _excerpt(value)))
    try:
        return "sha256:" + normalize_digest(value)
    except InvalidDigest as exc:
        raise MirrorError("%s: %s" % (where, exc)) from None


def read_json(raw: bytes, where: str, max_bytes: int = answers.MAX_MANIFEST) -> Any:
    """JSON bytes of a file or an answer, bounded in size and depth (core.answers.parse); MirrorError naming ``where``."""
    try:
        return answers.parse(raw, None, where, max_bytes)
    except answers.AnswerError as exc:
        if exc.problem.startswith("is not JSON"):
            raise MirrorError("%s is not a JSON manifest or index: %s" % (where, exc.problem[len("is not JSON ") :])) from None
        raise MirrorError("%s %s" % (where, exc.problem)) from None


def manifest_blobs(raw: bytes, where: str) -> List[Dict[str, Any]]:
    """The config and layer blobs of a manifest (digest, size, mediaType), each digest once.

    A layer (or a config) that is not an object, a digest that is not sha256:<64 hex>, a size that is not a
    byte count: refused, naming ``where`` (a manifest is never read as one with fewer blobs than it lists).
    """
    data = read_json(raw, where)
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        raise MirrorError("%s is not a model manifest (no layers list)" % where)
    blobs: List[Dict[str, Any]] = []
    seen = set()
    config = data.get("config")
    if config is not None and not isinstance(config, dict):
        raise MirrorError("%s has a config that is not an object: %s" % (where, _excerpt(config)))
    for index, item in enumerate(data["layers"]):
        if not isinstance(item, dict):
            raise MirrorError("%s has layers[%d] that is not an object: %s" % (where, index, _excerpt(item)))
    for item in [config, *data["layers"]]:
        if item is None:
            continue
        digest = blob_digest(item.get("digest"), where)
        size = item.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MirrorError("%s lists blob %s with size %s, not a byte count" % (where, digest, _excerpt(size)))
        media = item.get("mediaType", "")
        if digest not in seen:
            seen.add(digest)
            blobs.append({"digest": digest, "size": size, "mediaType": media if isinstance(media, str) else ""})
    return blobs


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:80] + "..."


class Entry:
    """One model as it is (or will be) in the mirror: its manifest bytes and blobs."""

    def __init__(self, name: ModelName, raw: bytes, source: str) -> None:
        self.name = name
        self.raw = raw
        self.source = source
        self.digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        self.blobs = manifest_blobs(raw, "the manifest of %s from %s" % (name.display, source))

    @property
    def size(self) -> int:
        return sum(blob["size"] for blob in self.blobs)

    def record(self) -> Dict[str, Any]:
        return {
            "name": self.name.full,
            "display": self.name.display,
            "host": self.name.host,
            "repository": self.name.registry_path,
            "tag": self.name.tag,
            "source": self.source,
            "digest": self.digest,
            "size": self.size,
            "blobs": self.blobs,
        }
