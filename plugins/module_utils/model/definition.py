# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a custom model on the server matches its desired definition (pure: /api/show in, differences out)."""

from __future__ import annotations

import json
import math
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, ModelName, parse_name


def _same_name(a: Any, b: Any) -> bool:
    first, second = safe_name(str(a or "")), safe_name(str(b or ""))
    if first is None or second is None:
        return str(a or "").strip().lower() == str(b or "").strip().lower()
    return first == second


def _same_value(desired: Any, current: Any) -> bool:
    if isinstance(desired, list) or isinstance(current, list):
        desired_list = desired if isinstance(desired, list) else [desired]
        current_list = current if isinstance(current, list) else [current]
        return len(desired_list) == len(current_list) and all(_same_value(d, c) for d, c in zip(desired_list, current_list))
    if isinstance(desired, bool) or isinstance(current, bool):
        return desired is current or desired == current
    if isinstance(desired, (int, float)) and isinstance(current, (int, float)):
        return math.isclose(float(desired), float(current), rel_tol=1e-6, abs_tol=1e-9)
    return desired == current


def compare_definition(definition: Dict[str, Any], show: Dict[str, Any], recorded: Optional[Dict[str, Any]] = None) -> List[Tuple[str, Any, Any]]:
    """The fields of a desired definition that differ from /api/show: (field, current, desired).

    Only the fields given are compared; for parameters, only the names given.
    ``from`` is compared with the parent model the server reports, or else
    with what the ledger recorded at creation (``recorded``).
    """
    differences: List[Tuple[str, Any, Any]] = []
    details = show.get("details") if isinstance(show.get("details"), dict) else {}
    for key, compare in _COMPARERS:
        if key in definition:
            difference = compare(definition[key], show, details, recorded)
            if difference is not None:
                differences.append((key, *difference))
    for kind in ("files", "adapters"):
        # /api/show does not name the blobs a model was made from: the ledger keeps the digests of the last create
        if kind in definition:
            current = recorded.get(kind) if recorded else None
            if current != definition[kind]:
                differences.append((kind, current if current is not None else "(not recorded)", definition[kind]))
    return differences


def _from(desired: Any, show: Dict[str, Any], details: Dict[str, Any], recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
    parent = details.get("parent_model")
    if not parent and recorded:
        parent = recorded.get("from")
    return (parent, desired) if parent and not _same_name(parent, desired) else None


def _text(key: str) -> Any:
    def compare(desired: Any, show: Dict[str, Any], _details: Dict[str, Any], _recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
        return (show.get(key) or "", desired) if (show.get(key) or "") != desired else None

    return compare


def _license(desired: Any, show: Dict[str, Any], _details: Dict[str, Any], _recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
    """Ollama appends licenses (server/create.go setLicense): a model built on a base that has its own
    shows the base's first, then the ones given; so the given ones must be the last."""
    desired_text = "\n".join(desired) if isinstance(desired, list) else desired
    current = show.get("license") or ""
    current_text = "\n".join(current) if isinstance(current, list) else current
    return (current_text, desired_text) if not current_text.strip().endswith(desired_text.strip()) else None


def _parameters(desired: Any, show: Dict[str, Any], _details: Dict[str, Any], _recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
    current_params = parse_parameters(show.get("parameters"))
    changed_current = {}
    changed_desired = {}
    for key, value in sorted(desired.items()):
        if key not in current_params or not _same_value(value, current_params[key]):
            changed_current[key] = current_params.get(key)
            changed_desired[key] = value
    return (changed_current, changed_desired) if changed_desired else None


def _messages(desired: Any, show: Dict[str, Any], _details: Dict[str, Any], _recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
    current = [{"role": m.get("role"), "content": m.get("content")} for m in (show.get("messages") or []) if isinstance(m, dict)]
    return (current, desired) if current != desired else None


def _quantize(desired: Any, _show: Dict[str, Any], details: Dict[str, Any], _recorded: Optional[Dict[str, Any]]) -> Optional[Tuple[Any, Any]]:
    level = str(details.get("quantization_level") or "")
    wanted = desired.upper()
    return (level, desired) if level.upper() != _QUANTIZE_ALIASES.get(wanted, wanted) else None


# the definition fields compared with /api/show, in the order their differences are reported
_COMPARERS = (
    ("from", _from),
    ("system", _text("system")),
    ("template", _text("template")),
    ("license", _license),
    ("parameters", _parameters),
    ("messages", _messages),
    ("quantize", _quantize),
)


# ParseFileType: Q4_K is Q4_K_M.
_QUANTIZE_ALIASES = {"Q4_K": "Q4_K_M"}


__all__ = ["compare_definition"]


# ---------------------------------------------------------------------------- /api/show text


def safe_name(text: str) -> Optional[ModelName]:
    try:
        return parse_name(text)
    except InvalidModelName:
        return None


def _go_value(text: str) -> Any:
    """A parameter value as ``ollama show`` prints it (%v, or %#v for strings)."""
    text = text.strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        try:
            return json.loads(text)
        except ValueError:
            return text[1:-1]
    if text in ("true", "false"):
        return text == "true"
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def parse_parameters(text: Any) -> Dict[str, Any]:
    """The ``parameters`` text of /api/show as a dict; a repeated name (``stop``) becomes a list."""
    found: Dict[str, Any] = {}
    if not isinstance(text, str):
        return found
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        key, _sep, rest = line.partition(" ")
        value = _go_value(rest)
        if key in _LIST_PARAMETERS:
            found.setdefault(key, []).append(value)
        elif key in found:
            existing = found[key]
            found[key] = (existing if isinstance(existing, list) else [existing]) + [value]
        else:
            found[key] = value
    return found


_LIST_PARAMETERS = frozenset(("stop",))
