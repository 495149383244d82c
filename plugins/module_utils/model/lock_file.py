# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lock file of ollama_model_sync: the name, digest and size of each declared model, written and read back."""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidDigest, InvalidModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import Executor
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import SyncError

LOCK_MODES = ("write", "read")
LOCK_HEADER = (
    "# Model lock written by llmops.ollama.ollama_model_sync: the name, digest and size of each declared model.\n"
    "# Give it back with lock_mode: read to pin every model to these digests (the same bytes on every host).\n"
)


def render_lock(entries: List[Dict[str, Any]]) -> str:
    """The lock file text (YAML; strings written as JSON strings, which YAML reads as they are)."""
    lines = [LOCK_HEADER.rstrip("\n"), "models:" if entries else "models: []"]
    for entry in entries:
        lines.append("  - name: %s" % json.dumps(entry["name"]))
        lines.append("    digest: %s" % json.dumps(entry["digest"]))
        lines.append("    size: %d" % int(entry.get("size") or 0))
    return "\n".join(lines) + "\n"


def _scalar(text: str) -> Any:
    text = text.strip()
    if not text:
        return None
    if text[0] == '"':
        return json.loads(text)
    if text[0] == "'" and text.endswith("'") and len(text) >= 2:
        return text[1:-1].replace("''", "'")
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    return text


def _parse_simple_yaml(text: str) -> Any:
    """The block YAML of a lock file (``models:`` and a list of flat mappings, comments allowed); stdlib only, no PyYAML on the host."""
    models: Optional[List[Dict[str, Any]]] = None
    current: Optional[Dict[str, Any]] = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #", 1)[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip() or line.strip() == "---":
            continue
        stripped = line.strip()
        if models is None:
            key, sep, rest = stripped.partition(":")
            if key != "models" or not sep:
                raise ValueError("line %d: expected 'models:'" % number)
            if rest.strip() == "[]":
                models = []
                continue
            if rest.strip():
                raise ValueError("line %d: expected the list of models on the next lines" % number)
            models = []
            continue
        if stripped.startswith("- "):
            current = {}
            models.append(current)
            stripped = stripped[2:].strip()
        if current is None:
            raise ValueError("line %d: expected '- name: ...'" % number)
        key, sep, rest = stripped.partition(":")
        if not sep:
            raise ValueError("line %d: expected 'key: value'" % number)
        try:
            current[key.strip()] = _scalar(rest)
        except ValueError:
            raise ValueError("line %d: cannot read the value %r" % (number, rest.strip())) from None
    return {"models": models if models is not None else []}


def parse_lock(text: str, path: str) -> Dict[str, Dict[str, Any]]:
    """Lock file text -> {model key: {name, digest (bare hex), size}}. Raises SyncError naming the problem."""
    try:
        data = json.loads(text) if text.lstrip().startswith("{") else _parse_simple_yaml(text)
    except ValueError as exc:
        raise SyncError("the lock file %s cannot be read: %s (write it with lock_mode: write; JSON works too)" % (path, exc)) from None
    if not isinstance(data, dict) or not isinstance(data.get("models"), list):
        raise SyncError("the lock file %s has no 'models' list; it is written by ollama_model_sync with lock_mode: write" % path)
    pins: Dict[str, Dict[str, Any]] = {}
    for index, item in enumerate(data["models"]):
        where = "%s: models[%d]" % (path, index)
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not isinstance(item.get("digest"), str):
            raise SyncError("%s needs a name and a digest" % where)
        try:
            name = parse_name(item["name"])
            digest = normalize_digest(item["digest"])
        except (InvalidModelName, InvalidDigest) as exc:
            raise SyncError("%s: %s" % (where, exc)) from None
        if name.key in pins:
            raise SyncError("%s: %s is listed twice" % (where, name.display))
        size = item.get("size")
        pins[name.key] = {"name": name.display, "digest": digest, "size": size if isinstance(size, int) and not isinstance(size, bool) else 0}
    return pins


def read_lock(path: str) -> Dict[str, Dict[str, Any]]:
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8")
    except FileNotFoundError:
        raise SyncError(
            "lock_mode is read but the lock file %s does not exist; write it first with lock_mode: write (on one host, then copy it to the others)" % path
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SyncError("the lock file %s cannot be read: %s" % (path, exc)) from None
    return parse_lock(text, path)


def write_lock(path: str, text: str, executor: Executor, warn: Callable[[str], None]) -> bool:
    """Write the lock file through the executor when its content differs; whether it changed (would change in check mode)."""
    try:
        with open(path, "rb") as handle:
            current = handle.read().decode("utf-8", "replace")
    except FileNotFoundError:
        current = None
    except OSError as exc:
        warn("the lock file %s cannot be read (%s); it is written again" % (path, exc))
        current = None
    if current == text:
        return False
    executor.write_file(path, text.encode("utf-8"), "lock_file")
    return True


__all__ = ["LOCK_MODES", "parse_lock", "read_lock", "render_lock", "write_lock"]
