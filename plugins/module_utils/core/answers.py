# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The shapes of the answers the collection reads, from Ollama and from a registry, and their check.

Every JSON answer is checked against the shape of what the modules read before any
of it is used: the type of every field used (a field may be absent or null where
Ollama omits it, never of another type), a bound on nesting depth and on the number
of entries. Fields the collection does not read are let through unchecked, within
the depth bound. A failed check is an ``AnswerError`` that names the endpoint and
the field, so a module fails with a clear message instead of a traceback.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple, Union

MAX_DEPTH = 32
MAX_ITEMS = 100000
MAX_TEXT = 16 * 1024 * 1024
# A model manifest lists a few layers: anything larger is not one.
MAX_MANIFEST = 4 * 1024 * 1024


class AnswerError(ValueError):
    """An answer whose shape is not what the collection reads."""

    def __init__(self, endpoint: str, field: str, problem: str) -> None:
        self.endpoint = endpoint
        self.field = field
        self.problem = problem
        where = " field %s" % field if field else ""
        super().__init__("unexpected answer from %s:%s %s" % (endpoint, where, problem))


# A shape is one of: a type name ("str", "int", "num", "bool", "any"), ("list", shape),
# ("map", shape) (a JSON object of any keys with values of one shape), or a dict of
# field -> shape (a JSON object; fields listed in REQUIRED[...] must be present).
Shape = Union[str, Tuple[str, Any], Dict[str, Any]]

_REQUIRED = "__required__"
_NULLABLE = "__nullable__"

_DETAILS: Dict[str, Any] = {
    "parent_model": "str",
    "format": "str",
    "family": "str",
    "families": ("list", "str"),
    "parameter_size": "str",
    "quantization_level": "str",
    "context_length": "int",
    "embedding_length": "int",
}

_TAG: Dict[str, Any] = {
    _REQUIRED: ("name",),
    "name": "str",
    "model": "str",
    "modified_at": "str",
    "size": "int",
    "digest": "str",
    "details": _DETAILS,
    "capabilities": ("list", "str"),
    "remote_host": "str",
    "remote_model": "str",
}

_LOADED: Dict[str, Any] = {
    _REQUIRED: ("name",),
    "name": "str",
    "model": "str",
    "size": "int",
    "size_vram": "int",
    "digest": "str",
    "details": _DETAILS,
    "expires_at": "str",
    "context_length": "int",
}

# "models" must be there; null reads as an empty list (a nil slice in Go).
TAGS: Dict[str, Any] = {_REQUIRED: ("models",), _NULLABLE: ("models",), "models": ("list", _TAG)}
PS: Dict[str, Any] = {_REQUIRED: ("models",), _NULLABLE: ("models",), "models": ("list", _LOADED)}
VERSION: Dict[str, Any] = {_REQUIRED: ("version",), "version": "str"}
SHOW: Dict[str, Any] = {
    "modelfile": "str",
    "parameters": "str",
    "template": "str",
    "system": "str",
    "license": "any",
    "details": _DETAILS,
    "model_info": ("map", "any"),
    "capabilities": ("list", "str"),
    "modified_at": "str",
    "remote_host": "str",
    "remote_model": "str",
    "messages": ("list", {"role": "str", "content": "str", "images": ("list", "str")}),
    "tensors": ("list", "any"),
}
# A line of a pull, push or create stream.
PROGRESS: Dict[str, Any] = {"status": "str", "digest": "str", "total": "int", "completed": "int", "error": "str"}
# A generate or embed answer (the inference probe, loads and unloads).
GENERATE: Dict[str, Any] = {
    "response": "str",
    "done": "bool",
    "done_reason": "str",
    "model": "str",
    "error": "str",
    "load_duration": "num",
    "total_duration": "num",
}
EMBED: Dict[str, Any] = {"embeddings": ("list", ("list", "num")), "model": "str", "error": "str", "load_duration": "num", "total_duration": "num"}
_LAYER: Dict[str, Any] = {_REQUIRED: ("digest", "size"), "mediaType": "str", "digest": "str", "size": "int", "urls": ("list", "str")}
# A Docker Registry v2 image manifest as Ollama's registry serves it.
MANIFEST: Dict[str, Any] = {
    _REQUIRED: ("layers",),
    "schemaVersion": "int",
    "mediaType": "str",
    "config": _LAYER,
    "layers": ("list", _LAYER),
}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


_EXPECTED = {"str": "a string", "int": "an integer", "num": "a number", "bool": "a boolean"}


def _check_any(value: Any, endpoint: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise AnswerError(endpoint, path, "is nested deeper than %d levels" % MAX_DEPTH)
    if isinstance(value, dict):
        if len(value) > MAX_ITEMS:
            raise AnswerError(endpoint, path, "has more than %d entries" % MAX_ITEMS)
        for key, item in value.items():
            _check_any(item, endpoint, "%s.%s" % (path, key) if path else str(key), depth + 1)
    elif isinstance(value, list):
        if len(value) > MAX_ITEMS:
            raise AnswerError(endpoint, path, "has more than %d entries" % MAX_ITEMS)
        for index, item in enumerate(value):
            _check_any(item, endpoint, "%s[%d]" % (path, index), depth + 1)
    elif isinstance(value, str) and len(value) > MAX_TEXT:
        raise AnswerError(endpoint, path, "is longer than %d characters" % MAX_TEXT)


def _check(value: Any, shape: Any, endpoint: str, path: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise AnswerError(endpoint, path, "is nested deeper than %d levels" % MAX_DEPTH)
    if shape == "any":
        _check_any(value, endpoint, path, depth)
    elif isinstance(shape, str):
        _check_scalar(value, shape, endpoint, path)
    elif isinstance(shape, tuple):
        _check_collection(value, shape, endpoint, path, depth)
    else:
        _check_object(value, shape, endpoint, path, depth)


def _check_scalar(value: Any, shape: str, endpoint: str, path: str) -> None:
    ok = {
        "str": isinstance(value, str),
        "int": isinstance(value, int) and not isinstance(value, bool),
        "num": isinstance(value, (int, float)) and not isinstance(value, bool),
        "bool": isinstance(value, bool),
    }[shape]
    if not ok:
        raise AnswerError(endpoint, path, "is %s, expected %s" % (_type_name(value), _EXPECTED[shape]))
    if shape == "int" and not -(2**63) <= value < 2**64:
        raise AnswerError(endpoint, path, "is out of range (%s)" % value)
    if shape == "str" and len(value) > MAX_TEXT:
        raise AnswerError(endpoint, path, "is longer than %d characters" % MAX_TEXT)


def _check_collection(value: Any, shape: Tuple[str, Any], endpoint: str, path: str, depth: int) -> None:
    """("list", inner): a list of inner; ("map", inner) or any other kind: an object of inner values."""
    kind, inner = shape
    if kind == "list":
        if not isinstance(value, list):
            raise AnswerError(endpoint, path, "is %s, expected a list" % _type_name(value))
        if len(value) > MAX_ITEMS:
            raise AnswerError(endpoint, path, "has more than %d entries" % MAX_ITEMS)
        for index, item in enumerate(value):
            _check(item, inner, endpoint, "%s[%d]" % (path, index), depth + 1)
        return
    if not isinstance(value, dict):
        raise AnswerError(endpoint, path, "is %s, expected an object" % _type_name(value))
    for key, item in value.items():
        _check(item, inner, endpoint, "%s.%s" % (path, key) if path else str(key), depth + 1)


def _check_object(value: Any, shape: Dict[str, Any], endpoint: str, path: str, depth: int) -> None:
    if not isinstance(value, dict):
        raise AnswerError(endpoint, path, "is %s, expected an object" % _type_name(value))
    if len(value) > MAX_ITEMS:
        raise AnswerError(endpoint, path, "has more than %d entries" % MAX_ITEMS)
    for key in shape.get(_REQUIRED, ()):
        if key not in value or (value[key] is None and key not in shape.get(_NULLABLE, ())):
            raise AnswerError(endpoint, "%s.%s" % (path, key) if path else key, "is missing")
    for key, item in value.items():
        where = "%s.%s" % (path, key) if path else str(key)
        inner = shape.get(key, "any") if key not in (_REQUIRED, _NULLABLE) else "any"
        if item is None and inner != "any":
            continue  # Ollama writes null for an empty list or an absent object: read as absent
        _check(item, inner, endpoint, where, depth + 1)


def check(value: Any, shape: Shape, endpoint: str) -> Any:
    """``value`` when it has ``shape``; else AnswerError naming ``endpoint`` and the field."""
    _check(value, shape, endpoint, "", 0)
    return value


def _nesting(text: str) -> int:
    """The deepest nesting of brackets outside strings (checked before json.loads recurses)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def parse(body: Union[bytes, str], shape: Optional[Shape], endpoint: str, max_bytes: int = 64 * 1024 * 1024) -> Any:
    """Decode a JSON answer and check its shape (None: only depth and size are bounded)."""
    if len(body) > max_bytes:
        raise AnswerError(endpoint, "", "is larger than %d bytes" % max_bytes)
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    if ("[" in text or "{" in text) and _nesting(text) > MAX_DEPTH:
        raise AnswerError(endpoint, "", "is nested deeper than %d levels" % MAX_DEPTH)
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise AnswerError(endpoint, "", "is not JSON (%s): %r" % (exc, text[:120])) from None
    return check(value, shape if shape is not None else "any", endpoint)


def models_of(answer: Any, endpoint: str, shape: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The checked ``models`` list of a tags or ps answer."""
    return list(check(answer, shape, endpoint).get("models") or [])
