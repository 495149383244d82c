# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lock file of ollama_model_sync: the name, digest and size of each declared model, written and read back."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidDigest, InvalidModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import Executor
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import SyncError

LOCK_MODES = ("write", "read")
LOCK_COMMENT = (
    "Model lock written by llmops.ollama.ollama_model_sync: the name, digest and size of each declared model. "
    "Give it back with lock_mode: read to pin every model to these digests (the same bytes on every host)."
)


def render_lock(entries: List[Dict[str, Any]]) -> str:
    """The lock file text: JSON, one model a line.

    JSON because the module reads it with the standard library on any host (a
    managed host need not have PyYAML), and JSON is YAML too, so tools that read
    the lock file as YAML read it unchanged.
    """
    models = [json.dumps({"name": entry["name"], "digest": entry["digest"], "size": int(entry.get("size") or 0)}, sort_keys=False) for entry in entries]
    body = "[\n    " + ",\n    ".join(models) + "\n  ]" if models else "[]"
    return '{\n  "comment": %s,\n  "models": %s\n}\n' % (json.dumps(LOCK_COMMENT), body)


def _load(text: str) -> Any:
    """The data of a lock file: JSON; a YAML lock file of earlier versions is read with PyYAML where the host has it. Raises ValueError."""
    try:
        return json.loads(text)
    except ValueError as exc:
        problem = exc
    try:
        # only for the YAML lock files of earlier versions: the module does not import PyYAML otherwise
        import yaml  # noqa: PLC0415  # pylint: disable=import-outside-toplevel
    except ImportError:
        raise ValueError(
            "it is not JSON (%s); a YAML lock file of an earlier version needs PyYAML on the host: write it again with lock_mode: write, "
            "or convert it to JSON (for example with the from_yaml and to_json filters)" % problem
        ) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError("it is neither JSON (%s) nor YAML (%s)" % (problem, str(exc).replace("\n", " "))) from None


def parse_lock(text: str, path: str) -> Dict[str, Dict[str, Any]]:
    """Lock file text -> {model key: {name, digest (bare hex), size}}. Raises SyncError naming the problem."""
    try:
        data = _load(text)
    except ValueError as exc:
        raise SyncError("the lock file %s cannot be read: %s (write it with lock_mode: write)" % (path, exc)) from None
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
