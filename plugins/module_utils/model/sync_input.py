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

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidDigest, InvalidModelName, ModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import InvalidMirror, parse_mirror
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import DEFINITION_FIELDS, STATES, InvalidSpec, ModelSpec, model_argument_spec

PRIORITIES = ("high", "normal", "low")
# the keys of a models entry: ollama_model's options of one model (one declaration: _model_spec.model_argument_spec), and priority
ENTRY_KEYS = ("name", "state", "priority", *(key for key in model_argument_spec() if key != "state"))
# a models entry may pull through another mirror than the module's (or none: mirror: false)
MIRROR_KEYS = ("mirror", "mirror_insecure", "mirror_fallback")
ENTRY_KEYS = (*ENTRY_KEYS, *MIRROR_KEYS)
MAX_CONCURRENCY = 16
_GLOB_CHARS_RE = re.compile(r"^[A-Za-z0-9_.:/*?\[\]!-]+$")


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


def _boolean(value: Any, where: str) -> bool:
    try:
        return boolean(value)
    except TypeError:
        pass
    raise SyncError("%s must be a boolean (true or false), got %r (%s)" % (where, value, _type_name(value)))


def _unknown_key_message(where: str, key: Any) -> str:
    hint = ""
    if isinstance(key, str):
        close = difflib.get_close_matches(key, ENTRY_KEYS, n=1)
        if close:
            hint = " (did you mean %r?)" % close[0]
    return "%s has an unknown key %r%s; the keys of a model are: %s" % (where, key, hint, ", ".join(ENTRY_KEYS))


def parse_models(models: Any, lock: Optional[Dict[str, Dict[str, Any]]] = None, lock_file: str = "", mirror: Any = None) -> Tuple[List[Declared], List[str]]:
    """The declared models, validated; (models, warnings). Raises SyncError before anything is asked of the server.

    ``mirror`` (a _model_mirror.MirrorSource, the module's) is each model's unless its entry sets
    ``mirror`` (a URL, or false for none), ``mirror_insecure`` or ``mirror_fallback``.

    ``lock`` (from :func:`read_lock`) pins every model that should be present to its
    digest; a declared model the lock does not list is an error.
    """
    if not isinstance(models, list):
        raise SyncError("models must be a list of model names or dictionaries, got %s" % _type_name(models))
    declared: List[Declared] = []
    warnings: List[str] = []
    seen: Dict[str, Tuple[int, str]] = {}
    missing_from_lock: List[str] = []
    for index, item in enumerate(models):
        where = "models[%d]" % index
        if isinstance(item, str):
            entry: Dict[str, Any] = {"name": item}
        elif isinstance(item, dict):
            entry = dict(item)
        else:
            raise SyncError("%s must be a model name or a dictionary with a name, got %r (%s)" % (where, item, _type_name(item)))
        for key in entry:
            if key not in ENTRY_KEYS:
                raise SyncError(_unknown_key_message(where, key))
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise SyncError("%s has no name: every model needs a non-empty name string, got %r" % (where, name))
        label = "%s (%s)" % (where, name)
        priority = entry.get("priority")
        if priority is None:
            priority = "normal"
        if priority not in PRIORITIES:
            raise SyncError("%s: invalid priority %r: choose one of %s" % (label, priority, ", ".join(PRIORITIES)))
        state = entry.get("state")
        if state is None:
            state = "present"
        if state not in STATES:
            raise SyncError("%s: invalid state %r: choose one of %s" % (label, state, ", ".join(STATES)))
        flags = {}
        for key in ("update", "force", "insecure", "check_memory"):
            flags[key] = _boolean(entry[key], "%s: %s" % (label, key)) if entry.get(key) is not None else False
        definition = {key: entry.get(key) for key in DEFINITION_FIELDS}
        has_definition = any(value is not None for value in definition.values())
        digest = entry.get("digest")
        if digest is not None and not isinstance(digest, str):
            raise SyncError("%s: digest must be a string such as sha256:<64 hex>, got %s" % (label, _type_name(digest)))
        if lock is not None and state in ("present", "loaded"):
            try:
                key = parse_name(name).key
            except InvalidModelName as exc:
                raise SyncError("%s: %s" % (label, exc)) from None
            pinned = lock.get(key)
            if pinned is None:
                missing_from_lock.append(name)
            else:
                if digest:
                    try:
                        own = normalize_digest(digest)
                    except InvalidDigest as exc:
                        raise SyncError("%s: %s" % (label, exc)) from None
                    if own != pinned["digest"]:
                        raise SyncError(
                            "%s: digest sha256:%s differs from sha256:%s in the lock file %s; remove one of the two pins"
                            % (label, own, pinned["digest"], lock_file)
                        )
                digest = pinned["digest"]
                if not has_definition:
                    # a host with another digest is brought to the pinned one; a registry that no longer serves it fails the model
                    flags["update"] = True
        try:
            spec, spec_warnings = ModelSpec.build(
                name,
                state=state,
                update=flags["update"],
                force=flags["force"],
                digest=digest,
                insecure=flags["insecure"],
                keep_alive=entry.get("keep_alive"),
                options=entry.get("options"),
                definition=definition if has_definition else None,
                check_memory=flags["check_memory"],
                require_capabilities=entry.get("require_capabilities"),
            )
        except InvalidSpec as exc:
            raise SyncError("%s: %s" % (label, exc)) from None
        for warning in spec_warnings:
            text = "%s: %s" % (label, warning)
            if text not in warnings:
                warnings.append(text)
        spec.mirror = mirror
        if any(entry.get(key) is not None for key in MIRROR_KEYS):
            own = {key: entry.get(key) for key in MIRROR_KEYS}
            if own["mirror"] is None and mirror is not None:
                own["mirror"] = mirror.url
            for key, default in (("mirror_insecure", mirror.insecure if mirror else False), ("mirror_fallback", mirror.fallback if mirror else False)):
                own[key] = _boolean(own[key], "%s: %s" % (label, key)) if own[key] is not None else default
            try:
                spec.mirror = parse_mirror(own["mirror"], own["mirror_insecure"], own["mirror_fallback"])
            except InvalidMirror as exc:
                raise SyncError("%s: %s" % (label, exc)) from None
        if spec.name.key in seen:
            first_index, first_name = seen[spec.name.key]
            raise SyncError("models[%d] (%s) and %s are the same model, %s: declare each model once" % (first_index, first_name, label, spec.name.display))
        seen[spec.name.key] = (index, name)
        declared.append(Declared(spec, priority, index, label))
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


__all__ = ["ENTRY_KEYS", "MAX_CONCURRENCY", "PRIORITIES", "Declared", "SyncError", "check_protect", "parse_models", "protected_by"]
