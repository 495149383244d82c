# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ollama model names and digests: parse, validate, compare, display.

A model name is ``[scheme://][host/][namespace/]model[:tag]`` with the
defaults ``registry.ollama.ai``, ``library`` and ``latest``, as in Ollama's
``types/model/name.go``:

* 1 path part is the model, 2 parts are namespace/model, 3 parts are
  host/namespace/model; more are rejected.
* The tag is split off at the last ``:`` only when it comes after the last
  ``/`` (so ``localhost:5000/ns/model`` has a port, not a tag).
* host: ``[A-Za-z0-9_][A-Za-z0-9_.:-]*``, 1-350 characters (may hold a port);
  namespace: ``[A-Za-z0-9_][A-Za-z0-9_-]*``, 1-80 (no dots);
  model and tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]*``, 1-80.
* A scheme (``http://`` or ``https://``) may only precede a full
  host/namespace/model name; it is kept apart and is not part of the
  identity of the model.
* This module is stricter than Ollama in one point: ``..`` is rejected
  anywhere, so a name can never climb out of the manifests directory.

Names compare case-insensitively (as Ollama's ``EqualFold``), but keep the
case the user wrote.

A name may end in a source suffix, as in Ollama's ``internal/modelref``
(``ParseRef``, ``NormalizePullName``): ``gpt-oss:120b:cloud`` is the cloud model
``gpt-oss:120b-cloud`` (``gpt-oss:cloud`` without a tag), ``qwen3:8b:local`` is the
local model ``qwen3:8b``; both suffixes at once are refused. A tag ending in
``-cloud`` names a cloud model too (:attr:`ModelName.cloud`). The suffix is kept in
:attr:`ModelName.source` and is not part of the identity of the model.
"""

from __future__ import annotations

import re
import string
from typing import Any, Optional, Tuple

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"
SOURCE_CLOUD = "cloud"
SOURCE_LOCAL = "local"
CLOUD_TAG_SUFFIX = "-cloud"

_ALNUM_ = frozenset(string.ascii_letters + string.digits + "_")

# Characters allowed after the first one, and the longest length, per part.
_ALLOWED = {
    "host": _ALNUM_ | frozenset(".-:"),
    "namespace": _ALNUM_ | frozenset("-"),
    "model": _ALNUM_ | frozenset(".-"),
    "tag": _ALNUM_ | frozenset(".-"),
}
_MAX_LEN = {"host": 350, "namespace": 80, "model": 80, "tag": 80}
_RULES = {
    "host": "a host may contain only ASCII letters, digits, '_', '-', '.' and ':' (before a port), and must start with a letter, digit or '_'",
    "namespace": "a namespace may contain only ASCII letters, digits, '_' and '-' (no '.'), and must start with a letter, digit or '_'",
    "model": "a model may contain only ASCII letters, digits, '_', '-' and '.', and must start with a letter, digit or '_'",
    "tag": "a tag may contain only ASCII letters, digits, '_', '-' and '.', and must start with a letter, digit or '_'",
}
_SCHEMES = ("http", "https")
_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_FORM = "write it as [host/][namespace/]model[:tag], e.g. 'llama3.2', 'llama3.2:1b', 'myuser/mymodel' or 'hf.co/<user>/<repo>:<quant>'"

_CHAR_NAMES = {" ": "space", "\t": "tab", "\n": "newline", "\r": "carriage return"}

_HEX = frozenset(string.hexdigits)


class InvalidModelName(ValueError):
    """A model name Ollama would not accept; the message says which part is wrong and why."""


class InvalidDigest(ValueError):
    """A digest that is not ``sha256:<64 hex>`` or 64 bare hex characters."""


def describe_char(char: str) -> str:
    """Show one character safely: its repr, plus a word for invisible or unusual ones.

    >>> describe_char(' ')
    "' ' (space)"
    """
    shown = repr(char)
    if char in _CHAR_NAMES:
        return "%s (%s)" % (shown, _CHAR_NAMES[char])
    code = ord(char)
    if code < 32 or code == 127:
        return "%s (control character)" % shown
    if code > 127:
        return "%s (non-ASCII character)" % shown
    return shown


def _shorten(text: str, limit: int = 120) -> str:
    """repr() of text, cut after limit characters when it is longer."""
    if len(text) <= limit:
        return repr(text)
    return "%r... (%d characters)" % (text[:limit], len(text))


class ModelName:
    """A parsed Ollama model name; its parts are read-only properties.

    Build it with :func:`parse_name`; the constructor does not validate.
    Equality and hashing ignore case and the scheme, so a ``ModelName`` can
    be used as a dict key for "the same model".
    """

    __slots__ = ("_host", "_model", "_namespace", "_scheme", "_source", "_tag")

    def __init__(self, host: str, namespace: str, model: str, tag: str, scheme: Optional[str] = None, source: Optional[str] = None) -> None:
        self._scheme = scheme
        self._source = source
        self._host = host
        self._namespace = namespace
        self._model = model
        self._tag = tag

    @property
    def scheme(self) -> Optional[str]:
        """``'http'`` or ``'https'`` when the name was written with one, else None."""
        return self._scheme

    @property
    def source(self) -> Optional[str]:
        """``'cloud'`` or ``'local'`` when the name was written with that source suffix, else None."""
        return self._source

    @property
    def cloud(self) -> bool:
        """Whether the name is a cloud model's: a ``:cloud`` suffix, or a tag ``cloud`` or ending in ``-cloud``."""
        tag = self._tag.lower()
        return SOURCE_CLOUD in (self._source, tag) or tag.endswith(CLOUD_TAG_SUFFIX)

    @property
    def host(self) -> str:
        """Registry host, possibly with a port; ``registry.ollama.ai`` by default."""
        return self._host

    @property
    def namespace(self) -> str:
        """Namespace (user or organisation); ``library`` by default."""
        return self._namespace

    @property
    def model(self) -> str:
        """The model part; always given."""
        return self._model

    @property
    def tag(self) -> str:
        """The tag; ``latest`` by default."""
        return self._tag

    @property
    def full(self) -> str:
        """Canonical ``host/namespace/model:tag``, in the case the user wrote (no scheme)."""
        return "%s/%s/%s:%s" % (self._host, self._namespace, self._model, self._tag)

    @property
    def key(self) -> str:
        """Lower-cased :attr:`full`: what equality and hashing use."""
        return self.full.lower()

    @property
    def display(self) -> str:
        """Short form as ``ollama list`` shows it; always keeps the tag.

        The default host is dropped, and then the ``library`` namespace too:
        ``llama3.2:latest``, ``myuser/mymodel:latest``,
        ``hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M``.
        """
        if self._host.lower() != DEFAULT_HOST:
            return self.full
        if self._namespace.lower() != DEFAULT_NAMESPACE:
            return "%s/%s:%s" % (self._namespace, self._model, self._tag)
        return "%s:%s" % (self._model, self._tag)

    @property
    def registry_path(self) -> str:
        """Repository path for the registry API: ``/v2/{registry_path}/manifests/{tag}``."""
        return "%s/%s" % (self._namespace, self._model)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ModelName):
            return NotImplemented
        return self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.full

    def __repr__(self) -> str:
        return "ModelName(%r)" % self.full


def _error(text: str, reason: str) -> InvalidModelName:
    return InvalidModelName("invalid model name %s: %s" % (_shorten(text), reason))


def _check_part(text: str, kind: str, part: str, hint: str = "") -> None:
    """Raise InvalidModelName unless part is a valid host, namespace, model or tag.

    hint, when given, is appended to a message about a bad character.
    """
    if not part:
        if kind == "tag":
            reason = "the tag part is empty (nothing follows ':'); drop the ':' to use the default tag 'latest', or give a tag after it"
        else:
            reason = "the %s part is empty; %s" % (kind, _FORM)
        raise _error(text, reason)
    first = part[0]
    if first not in _ALNUM_:
        raise _error(text, "the %s part %s starts with %s; %s" % (kind, _shorten(part), describe_char(first), _RULES[kind]))
    allowed = _ALLOWED[kind]
    for index, char in enumerate(part):
        if char not in allowed:
            reason = "the %s part %s contains %s at position %d; %s%s" % (kind, _shorten(part), describe_char(char), index, _RULES[kind], hint)
            raise _error(text, reason)
    if ".." in part:
        raise _error(text, "the %s part %s contains '..' at position %d; '..' is not allowed in a model name" % (kind, _shorten(part), part.index("..")))
    if len(part) > _MAX_LEN[kind]:
        reason = "the %s part is %d characters long; a %s may be at most %d characters" % (kind, len(part), kind, _MAX_LEN[kind])
        raise _error(text, reason)


def parse_name(text: str) -> ModelName:
    """Parse and validate an Ollama model name, filling in the defaults.

    Raises InvalidModelName (a ValueError) with a message naming the input,
    the part at fault (scheme, host, namespace, model or tag), the offending
    character (position counted from 0 within that part) and the rule.
    """
    if not isinstance(text, str):
        raise InvalidModelName("invalid model name %r: a model name must be a string, got %s; %s" % (text, type(text).__name__, _FORM))
    if not text:
        raise InvalidModelName("invalid model name '': the name is empty; %s" % _FORM)

    rest, source = _strip_source(text)
    scheme = None
    match = _SCHEME_RE.match(rest)
    if match:
        scheme = match.group(1).lower()
        if scheme not in _SCHEMES:
            raise _error(text, "unsupported scheme %r; only 'http://' and 'https://' may precede a registry host" % match.group(1))
        rest = rest[match.end() :]

    tag = DEFAULT_TAG
    colon = rest.rfind(":")
    if colon > rest.rfind("/"):
        rest, tag = rest[:colon], rest[colon + 1 :]
        _check_part(text, "tag", tag)

    parts = rest.split("/")
    if len(parts) > 3:
        raise _error(text, "it has %d '/'-separated parts; a model name has at most 3 (host/namespace/model)" % len(parts))
    if scheme is not None and len(parts) != 3:
        raise _error(text, "a scheme ('%s://') may only precede a full host/namespace/model name, e.g. '%s://hf.co/<user>/<repo>'" % (scheme, scheme))

    host, namespace, model = DEFAULT_HOST, DEFAULT_NAMESPACE, parts[-1]
    if len(parts) == 3:
        host, namespace = parts[0], parts[1]
        _check_part(text, "host", host)
        _check_part(text, "namespace", namespace)
    elif len(parts) == 2:
        namespace = parts[0]
        # 'hf.co/model' is most likely a registry host written without a namespace.
        hint = " (if %s is a registry host, add a namespace: host/namespace/model)" % _shorten(namespace) if "." in namespace else ""
        _check_part(text, "namespace", namespace, hint)
    _check_part(text, "model", model)
    return ModelName(host, namespace, model, tag, scheme, source)


def _strip_source(text: str) -> Tuple[str, Optional[str]]:
    """(the name without a ``:cloud``/``:local`` suffix, the source); as modelref.NormalizePullName.

    ``x:8b:cloud`` -> (``x:8b-cloud``, cloud), ``x:cloud`` -> (``x:cloud``, cloud),
    ``x:8b:local`` -> (``x:8b``, local); a tag ending in ``-cloud`` stays as it is.
    """
    colon = text.rfind(":")
    if colon < 0 or colon < text.rfind("/"):
        return text, None
    suffix = text[colon + 1 :].strip().lower()
    if suffix not in (SOURCE_CLOUD, SOURCE_LOCAL):
        if suffix.endswith(CLOUD_TAG_SUFFIX):
            return text, SOURCE_CLOUD
        return text, None
    base = text[:colon]
    inner = base.rfind(":")
    nested = base[inner + 1 :].strip().lower()
    if inner > base.rfind("/") and (nested in (SOURCE_CLOUD, SOURCE_LOCAL) or nested.endswith(CLOUD_TAG_SUFFIX)):
        raise _error(text, "use either :local or :cloud, not both")
    if suffix == SOURCE_LOCAL:
        return base, SOURCE_LOCAL
    if not base:
        return text, None  # ':cloud' alone: the model part is empty (reported by the parser)
    if inner > base.rfind("/"):  # an explicit tag: x:8b -> x:8b-cloud
        return base + CLOUD_TAG_SUFFIX, SOURCE_CLOUD
    return base + ":" + SOURCE_CLOUD, SOURCE_CLOUD


def normalize_digest(text: str) -> str:
    """Return the bare lower-case hex of a sha256 digest.

    Accepts ``sha256:<64 hex>`` or the 64 hex characters alone, in any case.
    Anything else raises InvalidDigest.
    """
    expected = "expected 'sha256:' followed by 64 hexadecimal characters, or the 64 hexadecimal characters alone"
    if not isinstance(text, str):
        raise InvalidDigest("invalid digest %r: a digest must be a string, got %s; %s" % (text, type(text).__name__, expected))
    hex_part = text
    if ":" in text:
        algorithm, hex_part = text.split(":", 1)
        if algorithm.lower() != "sha256":
            raise InvalidDigest("invalid digest %s: unsupported algorithm %s; %s" % (_shorten(text), _shorten(algorithm), expected))
    offset = len(text) - len(hex_part)
    for index, char in enumerate(hex_part):
        if char not in _HEX:
            position = offset + index
            raise InvalidDigest(
                "invalid digest %s: %s at position %d is not a hexadecimal digit; %s" % (_shorten(text), describe_char(char), position, expected)
            )
    if len(hex_part) != 64:
        raise InvalidDigest("invalid digest %s: it has %d hexadecimal characters, not 64; %s" % (_shorten(text), len(hex_part), expected))
    return hex_part.lower()


def bare_digest(value: Any) -> str:
    """A digest from the server as bare lower-case hex ('' when it is missing or odd)."""
    if not isinstance(value, str) or not value:
        return ""
    try:
        return normalize_digest(value)
    except InvalidDigest:
        return value.lower()
