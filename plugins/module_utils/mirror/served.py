# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What a mirror serves: the manifests under ``v2/``, read from the tree itself, never from ``mirror.json``.

A prune keeps every blob that a served manifest names, and a bundle of "all models" takes every served
tag: the index may be stale (an older run, a crash between a rename and the index write), the tree is
what Ollama pulls. Each manifest is read with a size bound; one that cannot be read keeps its blobs
safe only through the index (a prune never removes what it cannot prove unused: see ``unreadable``).
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Optional, Set, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.answers import MAX_MANIFEST

DIGEST_REF = "sha256:"


class Served:
    """The manifests found under ``<root>/v2``: ``tags`` as (namespace, model, tag, raw bytes), ``blobs`` they name."""

    def __init__(self) -> None:
        self.tags: List[Tuple[str, str, str, bytes]] = []
        self.blobs: Set[str] = set()
        self.unreadable: List[str] = []


def _read(path: str) -> Optional[bytes]:
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as handle:
        raw = handle.read(MAX_MANIFEST + 1)
    return raw if len(raw) <= MAX_MANIFEST else None


def _blobs_of(raw: bytes) -> Optional[Set[str]]:
    try:
        data = answers.parse(raw, None, "a manifest", MAX_MANIFEST)
    except answers.AnswerError:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        return None
    found = set()
    for item in [data.get("config"), *data["layers"]]:
        if isinstance(item, dict) and isinstance(item.get("digest"), str):
            found.add(item["digest"].lower())
    return found


def served(root: str) -> Served:
    """Every manifest under ``<root>/v2/<namespace>/<model>/manifests/`` (tags and digests) and the blobs they name."""
    result = Served()
    top = os.path.join(root, "v2")
    for namespace in _dirs(top):
        for model in _dirs(os.path.join(top, namespace)):
            directory = os.path.join(top, namespace, model, "manifests")
            for reference in _files(directory):
                if reference.startswith("."):
                    continue  # a temporary name of a write in progress
                path = os.path.join(directory, reference)
                raw = _read(path)
                blobs = _blobs_of(raw) if raw is not None else None
                if blobs is None:
                    result.unreadable.append(path)
                    continue
                result.blobs |= blobs
                if not reference.startswith(DIGEST_REF):
                    result.tags.append((namespace, model, reference, raw or b""))
    return result


def _dirs(path: str) -> List[str]:
    try:
        return sorted(name for name in os.listdir(path) if os.path.isdir(os.path.join(path, name)) and not os.path.islink(os.path.join(path, name)))
    except OSError:
        return []


def _files(path: str) -> List[str]:
    try:
        return sorted(name for name in os.listdir(path) if os.path.isfile(os.path.join(path, name)) and not os.path.islink(os.path.join(path, name)))
    except OSError:
        return []


def records_by_repository(index: Dict[str, Dict[str, Any]]) -> Dict[Tuple[str, str], Dict[str, Any]]:
    """Index records by (repository, tag), lower-cased, for naming what v2/ serves."""
    found = {}
    for record in index.values():
        if isinstance(record, dict):
            found[(str(record.get("repository", "")).lower(), str(record.get("tag", "")).lower())] = record
    return found


__all__ = ["Served", "records_by_repository", "served"]
