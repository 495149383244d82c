# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The models directory, laid out like Ollama's ``OLLAMA_MODELS``.

::

    DATA/manifests/{host}/{namespace}/{model}/{tag}   manifest JSON
    DATA/blobs/sha256-<hex>                           layers and configs
    DATA/blobs/sha256-<hex>-partial                   an interrupted download

A model's digest (``/api/tags``) is the sha256 of its manifest file's bytes; its size is
the sum of its layer and config sizes; its ``modified_at`` is the manifest's mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Set, Tuple

from .names import ModelName

_DIGEST = re.compile(r"^sha256[:-]([0-9a-fA-F]{64})$")


class InvalidDigest(ValueError):
    """Not a ``sha256:<64 hex>`` digest ("invalid digest format")."""

    def __init__(self) -> None:
        super().__init__("invalid digest format")


class DiskFull(OSError):
    """The disk_full fault: a write fails as Go reports ENOSPC."""

    def __init__(self, path: Path) -> None:
        super().__init__("write %s: no space left on device" % path)
        self.message = "write %s: no space left on device" % path


def digest_hex(digest: str) -> str:
    match = _DIGEST.match(digest)
    if not match:
        raise InvalidDigest()
    return match.group(1).lower()


@dataclass
class Manifest:
    """A manifest file as read from disk."""

    name: ModelName
    path: Path
    raw: bytes
    data: Dict[str, Any]
    mtime_ns: int

    @property
    def digest(self) -> str:
        """The bare hex sha256 of the manifest bytes (the /api/tags digest)."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def layers(self) -> List[Dict[str, Any]]:
        return list(self.data.get("layers") or [])

    @property
    def config(self) -> Dict[str, Any]:
        return dict(self.data.get("config") or {})

    def all_layers(self) -> List[Dict[str, Any]]:
        """Layers, then the config (the order Ollama pulls them in)."""
        config = self.config
        return self.layers + ([config] if config.get("digest") else [])

    def digests(self) -> Set[str]:
        return {layer["digest"] for layer in self.all_layers() if layer.get("digest")}

    @property
    def size(self) -> int:
        return sum(int(layer.get("size", 0)) for layer in self.all_layers())


# server/images.go layerPruneGracePeriod: a blob modified within the last hour survives the start-up prune
PRUNE_GRACE_SECONDS = 3600.0


class Store:
    """Blobs and manifests under one data directory (thread-safe)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.blobs = self.root / "blobs"
        self.manifests = self.root / "manifests"
        self.blobs.mkdir(parents=True, exist_ok=True)
        self.manifests.mkdir(parents=True, exist_ok=True)
        self.lock = threading.RLock()

    # ------------------------------------------------------------------ blobs
    def blob_path(self, digest: str) -> Path:
        return self.blobs / ("sha256-" + digest_hex(digest))

    def partial_path(self, digest: str) -> Path:
        return self.blobs / ("sha256-%s-partial" % digest_hex(digest))

    def has_blob(self, digest: str) -> bool:
        return self.blob_path(digest).is_file()

    def blob_size(self, digest: str) -> int:
        return self.blob_path(digest).stat().st_size

    def read_blob(self, digest: str, limit: int = -1) -> bytes:
        with open(self.blob_path(digest), "rb") as handle:
            return handle.read(limit)

    def write_blob(self, data: bytes, disk_full: bool = False) -> Tuple[str, bool]:
        """Store bytes as a blob (Ollama's NewLayer); returns the digest and whether it is new."""
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        path = self.blob_path(digest)
        if path.exists():
            return digest, False
        if disk_full:
            raise DiskFull(self.blobs / ("sha256-%d" % (secrets.randbelow(900_000_000) + 100_000_000)))
        with self.lock:
            fd, tmp = tempfile.mkstemp(prefix="sha256-", dir=str(self.blobs))
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, path)
        return digest, True

    def write_blob_rewritten(self, source: str, tail: bytes, disk_full: bool = False) -> Tuple[str, int, bool]:
        """A new blob made of blob ``source`` followed by ``tail``, streamed (a model may be large):
        what llama-quantize's COPY writes, as a new file with a new digest (server/create.go
        rewriteLayerWithLlamaQuantize). Returns (digest, size, created)."""
        if disk_full:
            raise DiskFull(self.blobs / ("sha256-%d" % (secrets.randbelow(900_000_000) + 100_000_000)))
        hasher = hashlib.sha256()
        fd, tmp = tempfile.mkstemp(prefix="COPY", dir=str(self.blobs))
        size = 0
        try:
            with os.fdopen(fd, "wb") as out, open(self.blob_path(source), "rb") as handle:
                while True:
                    chunk = handle.read(1 << 20)
                    if not chunk:
                        break
                    hasher.update(chunk)
                    out.write(chunk)
                    size += len(chunk)
                hasher.update(tail)
                out.write(tail)
                size += len(tail)
            digest = "sha256:" + hasher.hexdigest()
            path = self.blob_path(digest)
            if path.exists():
                return digest, size, False
            with self.lock:
                os.replace(tmp, path)
            return digest, size, True
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -------------------------------------------------------------- manifests
    def manifest_path(self, name: ModelName) -> Path:
        return self.manifests.joinpath(*name.parts())

    def names(self) -> List[ModelName]:
        """Every model with a manifest file (host/namespace/model/tag)."""
        found = []
        if not self.manifests.is_dir():
            return found
        for path in self.manifests.glob("*/*/*/*"):
            if path.is_file():
                rel = path.relative_to(self.manifests).parts
                name = ModelName(*rel)
                if name.is_valid():
                    found.append(name)
        return found

    def canonical(self, name: ModelName) -> ModelName:
        """Adopt the case of existing parts (getExistingName)."""
        host, namespace, model, tag = name.parts()
        for existing in self.names():
            if existing.host.lower() == host.lower():
                host = existing.host
            if existing.namespace.lower() == namespace.lower():
                namespace = existing.namespace
            if existing.model.lower() == model.lower():
                model = existing.model
            if existing.tag.lower() == tag.lower():
                tag = existing.tag
        return ModelName(host, namespace, model, tag)

    def find(self, name: ModelName) -> Optional[ModelName]:
        """The stored model equal to the name ignoring case, if any."""
        for existing in self.names():
            if existing.equal_fold(name):
                return existing
        return None

    def read_manifest(self, name: ModelName) -> Optional[Manifest]:
        stored = self.find(name)
        if stored is None:
            return None
        return self._read_stored(stored)

    def _read_stored(self, stored: ModelName) -> Optional[Manifest]:
        """The manifest of a model under its stored name (no case-insensitive search)."""
        path = self.manifest_path(stored)
        try:
            raw = path.read_bytes()
            stat = path.stat()
            data = json.loads(raw)
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        return Manifest(stored, path, raw, data, stat.st_mtime_ns)

    def manifests_list(self) -> List[Manifest]:
        out = []
        for name in self.names():  # stored names already: one directory walk, not one per model
            manifest = self._read_stored(name)
            if manifest is not None:
                out.append(manifest)
        return out

    def write_manifest(self, name: ModelName, raw: bytes) -> Path:
        with self.lock:
            stored = self.find(name) or name
            path = self.manifest_path(stored)
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".manifest-", dir=str(path.parent))
            with os.fdopen(fd, "wb") as handle:
                handle.write(raw)
            os.replace(tmp, path)
            return path

    def remove_manifest(self, name: ModelName) -> Optional[Manifest]:
        with self.lock:
            manifest = self.read_manifest(name)
            if manifest is None:
                return None
            manifest.path.unlink()
            self._prune_directories()
            return manifest

    def _prune_directories(self) -> None:
        for directory in sorted(self.manifests.glob("**/"), key=lambda p: len(p.parts), reverse=True):
            if directory != self.manifests and directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()

    # ---------------------------------------------------------------- pruning
    def used_digests(self) -> Set[str]:
        used: Set[str] = set()
        for manifest in self.manifests_list():
            used |= manifest.digests()
        return used

    def delete_unused(self, digests: Iterable[str]) -> List[str]:
        """Remove the blobs among ``digests`` that no manifest uses (deleteUnusedLayers)."""
        with self.lock:
            used = self.used_digests()
            removed = []
            for digest in sorted(set(digests) - used):
                try:
                    self.blob_path(digest).unlink()
                    removed.append(digest)
                except (OSError, InvalidDigest):
                    continue
            return removed

    def prune(self, grace: float = PRUNE_GRACE_SECONDS) -> None:
        """At start (server/images.go PruneLayers): drop partial downloads and blobs no manifest uses,
        except files modified within the last ``grace`` seconds (layerPruneGracePeriod, one hour)."""
        now = time.time()
        with self.lock:
            candidates = []
            for path in self.blobs.iterdir():
                if not path.is_file():
                    continue
                try:
                    if now - path.stat().st_mtime < grace:
                        continue
                except OSError:
                    continue
                name = path.name.replace("-", ":", 1)
                if _DIGEST.match(name):
                    candidates.append(name)
                else:
                    path.unlink()
            self.delete_unused(candidates)
            self._prune_directories()
