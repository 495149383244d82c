# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Ollama model names, after types/model/name.go.

``[scheme://]host/namespace/model:tag`` with the defaults ``registry.ollama.ai``,
``library`` and ``latest``. The tag is split off only when the last ``:`` comes after
the last ``/``. Parts are validated separately:

- host: ``[A-Za-z0-9_][A-Za-z0-9_.:-]*``, 1 to 350 characters
- namespace: ``[A-Za-z0-9_][A-Za-z0-9_-]*``, 1 to 80 (no dots)
- model, tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]*``, 1 to 80

Matching is case-insensitive; the display form drops the default host and namespace
but always keeps the tag (``llama3.2:latest``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
MISSING_PART = "!MISSING!"

_MAX_LEN = {"host": 350, "namespace": 80, "model": 80, "tag": 80}


def _is_word_char(char: str) -> bool:
    return char == "_" or ("a" <= char <= "z") or ("A" <= char <= "Z") or ("0" <= char <= "9")


def is_valid_part(kind: str, value: str) -> bool:
    """One part of a name is valid (kind: host, namespace, model or tag)."""
    if not 1 <= len(value) <= _MAX_LEN[kind]:
        return False
    if not _is_word_char(value[0]):
        return False
    for char in value[1:]:
        if char in "_-":
            continue
        if char == ".":
            if kind == "namespace":
                return False
            continue
        if char == ":":
            if kind != "host":
                return False
            continue
        if not _is_word_char(char):
            return False
    return True


@dataclass(frozen=True)
class ModelName:
    """A model name; parts keep the case they were written with."""

    host: str
    namespace: str
    model: str
    tag: str

    def is_valid(self) -> bool:
        return (
            is_valid_part("host", self.host)
            and is_valid_part("namespace", self.namespace)
            and is_valid_part("model", self.model)
            and is_valid_part("tag", self.tag)
        )

    @property
    def key(self) -> tuple[str, str, str, str]:
        """The case-insensitive identity of the name."""
        return (self.host.lower(), self.namespace.lower(), self.model.lower(), self.tag.lower())

    def equal_fold(self, other: ModelName) -> bool:
        return self.key == other.key

    def display(self) -> str:
        """DisplayShortest: ``llama3.2:latest``, ``user/model:tag``, ``hf.co/org/repo:tag``."""
        prefix = ""
        if self.host.lower() != DEFAULT_HOST:
            prefix = "%s/%s/" % (self.host, self.namespace)
        elif self.namespace.lower() != DEFAULT_NAMESPACE:
            prefix = "%s/" % self.namespace
        return "%s%s:%s" % (prefix, self.model, self.tag)

    def full(self) -> str:
        """The fully qualified form ``host/namespace/model:tag``."""
        return "%s/%s/%s:%s" % (self.host, self.namespace, self.model, self.tag)

    def parts(self) -> tuple[str, str, str, str]:
        """The four path components of the manifest file, in order."""
        return (self.host, self.namespace, self.model, self.tag)

    def repository(self) -> str:
        """The registry repository ``namespace/model``."""
        return "%s/%s" % (self.namespace, self.model)

    def __str__(self) -> str:
        return self.full()


def _cut_promised(text: str, sep: str) -> tuple[str, str, bool]:
    index = text.rfind(sep)
    if index < 0:
        return text, "", False
    before, after = text[:index], text[index + len(sep) :]
    return before or MISSING_PART, after or MISSING_PART, True


def parse_bare(text: str) -> ModelName:
    """Split a name into its parts without defaults (ParseNameBare)."""
    host = namespace = tag = ""
    if text.rfind(":") > text.rfind("/"):
        text, tag, _found = _cut_promised(text, ":")
    text, model, promised = _cut_promised(text, "/")
    if not promised:
        return ModelName(host, namespace, text, tag)
    text, namespace, promised = _cut_promised(text, "/")
    if not promised:
        return ModelName(host, text, model, tag)
    scheme, sep, rest = text.partition("://")
    host = rest if sep else scheme
    return ModelName(host, namespace, model, tag)


def parse_name(text: str) -> ModelName:
    """Parse a name and fill in the default host, namespace and tag (ParseName)."""
    bare = parse_bare(text)
    return ModelName(
        bare.host or DEFAULT_HOST,
        bare.namespace or DEFAULT_NAMESPACE,
        bare.model,
        bare.tag or DEFAULT_TAG,
    )


# ------------------------------------------------------------------ source suffixes
SOURCE_UNSPECIFIED = ""
SOURCE_LOCAL = "local"
SOURCE_CLOUD = "cloud"


class RefError(ValueError):
    """A model reference modelref.ParseRef refuses (the text is Ollama's)."""


def _source_suffix(raw: str) -> tuple[str, str, bool]:
    """parseSourceSuffix: ``x:cloud``, ``x:local`` and the ``x:tag-cloud`` tag form."""
    index = raw.rfind(":")
    if index >= 0:
        suffix_raw = raw[index + 1 :].strip()
        suffix = suffix_raw.lower()
        if suffix == "cloud":
            return raw[:index], SOURCE_CLOUD, True
        if suffix == "local":
            return raw[:index], SOURCE_LOCAL, True
        if "/" not in suffix_raw and suffix.endswith("-cloud"):
            return raw[: index + 1] + suffix_raw[: -len("-cloud")], SOURCE_CLOUD, True
    return raw, SOURCE_UNSPECIFIED, False


def parse_ref(raw: str) -> tuple[str, str]:
    """modelref.ParseRef: (base reference, source) with the ``:cloud``/``:local`` suffix stripped.

    ``gpt-oss:120b:cloud`` and ``gpt-oss:120b-cloud`` -> (``gpt-oss:120b``, cloud);
    ``qwen3:8b:local`` -> (``qwen3:8b``, local). Raises RefError for an empty reference
    (``model is required``) or two suffixes.
    """
    raw = raw.strip()
    if not raw:
        raise RefError("model is required")
    base, source, explicit = _source_suffix(raw)
    if explicit and _source_suffix(base)[2]:
        raise RefError("use either :local or :cloud, not both: %s" % json_quote(raw))
    return base, source


def has_explicit_tag(name: str) -> bool:
    return name.rfind(":") > name.rfind("/")


def normalize_pull_name(raw: str) -> tuple[str, bool]:
    """modelref.NormalizePullName: ``x:8b:cloud`` -> ``x:8b-cloud``, ``x:cloud`` stays, ``x:local`` -> ``x``."""
    base, source = parse_ref(raw)
    if source != SOURCE_CLOUD:
        return base, False
    return (base + "-cloud" if has_explicit_tag(base) else base + ":cloud"), True


def json_quote(text: str) -> str:
    """Go's %q for plain text."""
    return json.dumps(text, ensure_ascii=False)
