# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The input of ollama_model_sync: the declared ``models`` (and ``protect``) checked and turned into :class:`Declared` models.

Everything here is refused before any request is made; a message names the
entry, the key and the problem.
"""

from __future__ import annotations

import difflib
import fnmatch
import re
from typing import Any, Dict, List, Optional, Tuple

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.validation import check_type_str
from ansible.module_utils.errors import ArgumentTypeError, ArgumentValueError

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidDigest, InvalidModelName, ModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import InvalidMirror, parse_mirror
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import DEFINITION_FIELDS, STATES, InvalidSpec, ModelSpec, model_argument_spec

PRIORITIES = ("high", "normal", "low")
# a models entry may pull through another mirror than the module's (or none: mirror: false)
MIRROR_KEYS = ("mirror", "mirror_insecure", "mirror_fallback")
MAX_CONCURRENCY = 16
_GLOB_CHARS_RE = re.compile(r"^[A-Za-z0-9_.:/*?\[\]!-]+$")
# what a value of an entry must be, in words (an entry's type error names the key, the value and this)
_TYPE_WORDS = {"str": "a string", "bool": "a boolean (true or false)", "dict": "a dictionary", "list": "a list", "raw": "a value"}
_TYPE_HINTS = {"digest": " such as sha256:<64 hex>"}


def _string(value: Any) -> str:
    """A string, never a number turned into one: an entry's digest of 5 is a mistake, not '5'."""
    return check_type_str(value, allow_conversion=False)


def entry_argument_spec() -> Dict[str, Dict[str, Any]]:
    """The keys of a ``models`` entry: name, priority, ollama_model's options of one model
    (model.spec.model_argument_spec: one declaration for both) and the mirror keys."""
    model = model_argument_spec()
    spec: Dict[str, Dict[str, Any]] = {"name": {"type": "str", "required": True}, "state": dict(model.pop("state"), choices=list(STATES))}
    spec["priority"] = {"type": "str", "default": "normal", "choices": list(PRIORITIES)}
    spec.update(model)
    spec.update(mirror={"type": "raw"}, mirror_insecure={"type": "bool"}, mirror_fallback={"type": "bool"})
    for option in spec.values():
        if option["type"] == "str":
            option["type"] = _string
    return spec


ENTRY_SPEC = entry_argument_spec()
ENTRY_KEYS = tuple(ENTRY_SPEC)
_VALIDATOR = ArgumentSpecValidator(ENTRY_SPEC)


class SyncError(ValueError):
    """Input the sync cannot act on; the message names the entry, the key and the problem."""


class Declared:
    """One model the sync handles: declared in ``models``, or an undeclared one that ``exclusive`` removes."""

    def __init__(self, spec: ModelSpec, priority: str = "normal", index: int = 0, label: str = "", declared: bool = True) -> None:
        self.spec = spec
        self.priority = priority
        self.index = index
        self.label = label or spec.name.display
        self.declared = declared

    @property
    def rank(self) -> Tuple[int, int]:
        """Start order of pulls: priority, then declaration (first in, first out)."""
        return (PRIORITIES.index(self.priority), self.index)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _unknown_key_message(where: str, key: Any) -> str:
    hint = ""
    if isinstance(key, str):
        close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
        if close:
            hint = " (did you mean %r?)" % close[0]
    return "%s has an unknown key %r%s; the keys of a model are: %s" % (where, key, hint, ", ".join(ENTRY_KEYS))


def _unknown_nested_key_message(path: Tuple[str, ...]) -> str:
    """An unknown key in a nested option (``files``, ``adapters``, ``messages``): where, with a "did you mean"."""
    options = ENTRY_SPEC[path[0]].get("options") or {}
    known = sorted(options)
    close = difflib.get_close_matches(path[-1], known, n=1)
    hint = " (did you mean %r?)" % close[0] if close else ""
    return "%s has an unknown key %r%s; its keys are: %s" % (".".join(path[:-1]), path[-1], hint, ", ".join(known))


def _type_error(key: str, value: Any) -> str:
    kind = ENTRY_SPEC[key]["type"]
    kind = "str" if kind is _string else kind
    if kind == "str":
        return "%s must be a string%s, got %s" % (key, _TYPE_HINTS.get(key, ""), _type_name(value))
    return "%s must be %s, got %r (%s)" % (key, _TYPE_WORDS.get(kind, "of type %s" % kind), value, _type_name(value))


def _reworded(error: Exception, entry: Dict[str, Any]) -> str:
    """A validator error about a key of the entry itself, in the words of the sync (others as the validator says them)."""
    text = str(error)
    if " found in " not in text:
        wrong_type = re.match(r"argument '([^']+)' is of type ", text)
        if isinstance(error, ArgumentTypeError) and wrong_type and wrong_type.group(1) in entry:
            return _type_error(wrong_type.group(1), entry[wrong_type.group(1)])
        wrong_value = re.match(r"value of (\S+) must be one of: ", text)
        if isinstance(error, ArgumentValueError) and wrong_value and wrong_value.group(1) in entry:
            key = wrong_value.group(1)
            return "invalid %s %r: choose one of %s" % (key, entry[key], ", ".join(ENTRY_SPEC[key]["choices"]))
    return text


def _validated(item: Any, where: str) -> Tuple[Dict[str, Any], str]:
    """One entry checked against ENTRY_SPEC by Ansible's ArgumentSpecValidator; (its values, its label). Raises SyncError."""
    if isinstance(item, str):
        item = {"name": item}
    elif not isinstance(item, dict):
        raise SyncError("%s must be a model name or a dictionary with a name, got %r (%s)" % (where, item, _type_name(item)))
    unknown = [key for key in item if key not in ENTRY_SPEC]
    if unknown:
        raise SyncError(_unknown_key_message(where, unknown[0]))
    name = item.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SyncError("%s has no name: every model needs a non-empty name string, got %r" % (where, name))
    label = "%s (%s)" % (where, name)
    entry = {key: value for key, value in item.items() if value is not None}  # null is "not given", as a default
    result = _VALIDATOR.validate(entry)
    nested = sorted(key for key in result.unsupported_parameters if isinstance(key, tuple))
    if nested:
        raise SyncError("%s: %s" % (label, _unknown_nested_key_message(nested[0])))
    if result.errors.errors:
        raise SyncError("%s: %s" % (label, "; ".join(_reworded(error, entry) for error in result.errors.errors)))
    return result.validated_parameters, label


def _pinned_digest(entry: Dict[str, Any], label: str, lock: Dict[str, Dict[str, Any]], lock_file: str) -> Optional[str]:
    """The digest the lock file pins for the entry's model (None when it lists none); its own digest must agree. Raises SyncError."""
    try:
        pinned = lock.get(parse_name(entry["name"]).key)
        own = normalize_digest(entry["digest"]) if entry.get("digest") else None
    except (InvalidModelName, InvalidDigest) as exc:
        raise SyncError("%s: %s" % (label, exc)) from None
    if pinned is None:
        return None
    if own is not None and own != pinned["digest"]:
        raise SyncError(
            "%s: digest sha256:%s differs from sha256:%s in the lock file %s; remove one of the two pins" % (label, own, pinned["digest"], lock_file)
        )
    return pinned["digest"]


def _entry_mirror(entry: Dict[str, Any], label: str, mirror: Any) -> Any:
    """The mirror a model pulls through: the module's, unless its entry says otherwise. Raises SyncError."""
    if all(entry.get(key) is None for key in MIRROR_KEYS):
        return mirror
    url = entry.get("mirror")
    if url is None and mirror is not None:
        url = mirror.url
    insecure = entry["mirror_insecure"] if entry.get("mirror_insecure") is not None else (mirror.insecure if mirror else False)
    fallback = entry["mirror_fallback"] if entry.get("mirror_fallback") is not None else (mirror.fallback if mirror else False)
    try:
        return parse_mirror(url, insecure, fallback)
    except InvalidMirror as exc:
        raise SyncError("%s: %s" % (label, exc)) from None


def _spec(entry: Dict[str, Any], label: str, digest: Optional[str], update: bool) -> Tuple[ModelSpec, List[str]]:
    definition = {key: entry.get(key) for key in DEFINITION_FIELDS}
    has_definition = any(value is not None for value in definition.values())
    try:
        return ModelSpec.build(
            entry["name"],
            state=entry["state"],
            update=update,
            force=entry["force"],
            digest=digest,
            insecure=entry["insecure"],
            keep_alive=entry.get("keep_alive"),
            options=entry.get("options"),
            definition=definition if has_definition else None,
            check_memory=entry["check_memory"],
            require_capabilities=entry.get("require_capabilities"),
        )
    except InvalidSpec as exc:
        raise SyncError("%s: %s" % (label, exc)) from None


def parse_models(models: Any, lock: Optional[Dict[str, Dict[str, Any]]] = None, lock_file: str = "", mirror: Any = None) -> Tuple[List[Declared], List[str]]:
    """The declared models, validated; (models, warnings). Raises SyncError before anything is asked of the server.

    Each entry is checked against :func:`entry_argument_spec` by Ansible's own
    ArgumentSpecValidator (types, choices, nested options), with the sync's words
    for its own keys and a "did you mean" for an unknown one.

    ``mirror`` (a model.mirror_source.MirrorSource, the module's) is each model's unless its entry sets
    ``mirror`` (a URL, or false for none), ``mirror_insecure`` or ``mirror_fallback``.

    ``lock`` (from lock_file.read_lock) pins every model that should be present to its
    digest; a declared model the lock does not list is an error.
    """
    if not isinstance(models, list):
        raise SyncError("models must be a list of model names or dictionaries, got %s" % _type_name(models))
    declared: List[Declared] = []
    warnings: List[str] = []
    seen: Dict[str, Tuple[int, str]] = {}
    missing_from_lock: List[str] = []
    for index, item in enumerate(models):
        entry, label = _validated(item, "models[%d]" % index)
        digest, update = entry.get("digest"), entry["update"]
        if lock is not None and entry["state"] in ("present", "loaded"):
            pinned = _pinned_digest(entry, label, lock, lock_file)
            if pinned is None:
                missing_from_lock.append(entry["name"])
            else:
                # a host with another digest is brought to the pinned one; a registry that no longer serves it fails the model
                digest, update = pinned, update or not any(entry.get(key) is not None for key in DEFINITION_FIELDS)
        spec, spec_warnings = _spec(entry, label, digest, update)
        warnings.extend(text for text in ("%s: %s" % (label, warning) for warning in spec_warnings) if text not in warnings)
        spec.mirror = _entry_mirror(entry, label, mirror)
        if spec.name.key in seen:
            first_index, first_name = seen[spec.name.key]
            raise SyncError("models[%d] (%s) and %s are the same model, %s: declare each model once" % (first_index, first_name, label, spec.name.display))
        seen[spec.name.key] = (index, entry["name"])
        declared.append(Declared(spec, entry["priority"], index, label))
    if missing_from_lock:
        raise SyncError(
            "the lock file %s pins no digest for %s; run the sync once with lock_mode: write to record them, or remove them from models"
            % (lock_file, ", ".join(missing_from_lock))
        )
    return declared, warnings


def check_protect(globs: Any) -> List[str]:
    """Validate the ``protect`` globs; return them in lower case (names match case-insensitively)."""
    if globs is None:
        return []
    if not isinstance(globs, list):
        raise SyncError("protect must be a list of globs, got %s" % _type_name(globs))
    checked = []
    for index, glob in enumerate(globs):
        where = "protect[%d]" % index
        if not isinstance(glob, str) or not glob.strip():
            raise SyncError("%s is empty: give a model name or a glob such as 'llama3.2:*' or 'hf.co/*'" % where)
        if not _GLOB_CHARS_RE.fullmatch(glob):
            bad = next(char for char in glob if not _GLOB_CHARS_RE.fullmatch(char))
            raise SyncError("%s %r is not a valid glob: %r cannot be part of a model name (globs use * ? [] over model names)" % (where, glob, bad))
        position = 0
        while position < len(glob):
            char = glob[position]
            if char == "]":
                raise SyncError("%s %r is not a valid glob: ']' at position %d closes no '['" % (where, glob, position))
            if char == "[":
                start = position + 1
                if start < len(glob) and glob[start] == "!":
                    start += 1
                close = glob.find("]", start + 1) if start < len(glob) and glob[start] == "]" else glob.find("]", start)
                if close < 0 or close == start:
                    raise SyncError("%s %r is not a valid glob: the '[' at position %d is never closed (or its set is empty)" % (where, glob, position))
                position = close + 1
                continue
            position += 1
        checked.append(glob.lower())
    return checked


def protected_by(name: ModelName, globs: List[str]) -> Optional[str]:
    """The first glob that protects the model (matched on its display name, its full name, or without ``:latest``)."""
    display = name.display.lower()
    candidates = [display, name.key.lower()]
    if display.endswith(":latest"):
        candidates.append(display[: -len(":latest")])
    for glob in globs:
        if any(fnmatch.fnmatchcase(candidate, glob) for candidate in candidates):
            return glob
    return None


__all__ = [
    "ENTRY_KEYS",
    "ENTRY_SPEC",
    "MAX_CONCURRENCY",
    "PRIORITIES",
    "Declared",
    "SyncError",
    "check_protect",
    "entry_argument_spec",
    "parse_models",
    "protected_by",
]
