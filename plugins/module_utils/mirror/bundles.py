# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bundles of a mirror: one uncompressed tar file to carry models across an air gap.

``index.json`` first (models with digests, and every blob's digest and size), then
``manifests/<host>/<namespace>/<model>/<tag>`` and ``blobs/sha256-<hex>`` (each blob once).
Every read is bounded by the size the index announces; an index of any other shape is refused
naming the bundle.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
import tempfile
from contextlib import suppress
from typing import IO, Any, Dict, Iterator, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.answers import MAX_MANIFEST
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import CHUNK
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.entries import Entry, MirrorError, Wanted, blob_digest, manifest_blobs, read_json
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.tree import Mirror, check_space, free_bytes

BUNDLE_INDEX = "index.json"
BUNDLE_FORMAT = "llmops.ollama mirror bundle"
MAX_BUNDLE_INDEX = 16 << 20


def bundle_index(records: List[Dict[str, Any]]) -> Dict[str, Any]:
    """index.json of a bundle of ``records``: the models, and every blob once with its size."""
    models = []
    blobs: Dict[str, int] = {}
    for record in records:
        models.append({name: record[name] for name in ("name", "repository", "tag", "digest", "size", "blobs")})
        for blob in record["blobs"]:
            blobs[blob["digest"]] = blob["size"]
    return {
        "format": BUNDLE_FORMAT,
        "version": 1,
        "models": models,
        "blobs": [{"digest": digest, "size": size} for digest, size in sorted(blobs.items())],
    }


def chunks(handle: Any, limit: Optional[int] = None) -> Iterator[bytes]:
    """The bytes of ``handle`` in chunks; with ``limit``, never more than one byte past it (the caller sees "too long")."""
    done = 0
    while True:
        data = handle.read(CHUNK if limit is None else min(CHUNK, limit + 1 - done))
        if not data:
            return
        done += len(data)
        yield data


def member_blob(name: str) -> Optional[str]:
    if name.startswith("blobs/sha256-") and "/" not in name[6:]:
        return "sha256:" + name[13:]
    return None


def add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def read_bundle_index(bundle: str) -> Optional[Dict[str, Any]]:
    """index.json of a bundle (its first member), or None when the file is no bundle.

    An index.json that is not JSON, too large or nested too deep raises MirrorError naming the bundle.
    """
    try:
        with tarfile.open(bundle, "r:") as tar:
            member = tar.next()
            if member is None or member.name != BUNDLE_INDEX:
                return None
            handle = tar.extractfile(member)
            raw = handle.read(MAX_BUNDLE_INDEX + 1) if handle else b""
    except (OSError, tarfile.TarError, ValueError):
        return None
    data = read_json(raw, "the index of bundle %s" % bundle, MAX_BUNDLE_INDEX)
    return data if isinstance(data, dict) and data.get("format") == BUNDLE_FORMAT else None


def _index_sizes(bundle: str, blob_list: List[Any]) -> Dict[str, int]:
    """The size of each blob of the index, by digest."""
    sizes: Dict[str, int] = {}
    for blob in blob_list:
        if not isinstance(blob, dict):
            raise MirrorError("the index of bundle %s has a blob entry that is not an object" % bundle)
        digest = blob_digest(blob.get("digest"), "the index of bundle %s" % bundle)
        size = blob.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise MirrorError("the index of bundle %s lists blob %s with size %s, not a byte count" % (bundle, digest, repr(size)[:80]))
        sizes[digest] = size
    return sizes


def _index_manifests(bundle: str, models: List[Any]) -> Dict[str, Tuple[str, str]]:
    """(model key, digest) of each manifest of the index, by member name."""
    expected: Dict[str, Tuple[str, str]] = {}
    for model in models:
        if not isinstance(model, dict) or not isinstance(model.get("name"), str):
            raise MirrorError("the index of bundle %s has a model entry without a name" % bundle)
        try:
            name = parse_name(model["name"])
        except InvalidModelName as exc:
            raise MirrorError("the index of bundle %s: %s" % (bundle, exc)) from None
        member = "manifests/%s/%s/%s/%s" % (name.host, name.namespace, name.model, name.tag)
        expected[member] = (name.key, blob_digest(model.get("digest"), "the index of bundle %s" % bundle))
    return expected


def _check_blob(bundle: str, member: tarfile.TarInfo, handle: IO[bytes], sizes: Dict[str, int]) -> str:
    """The digest of a blob member, once its size and sha256 match the index (streaming)."""
    digest = member_blob(member.name)
    if digest is None or digest not in sizes:
        raise MirrorError("bundle %s holds %s, which its index does not list; the bundle is refused" % (bundle, member.name))
    if member.size != sizes[digest]:
        # read nothing of a member whose size is not the one announced
        raise MirrorError(
            "bundle %s: blob %s has %d bytes, its index says %d bytes; the bundle is corrupt and nothing was placed"
            % (bundle, digest, member.size, sizes[digest])
        )
    hasher = hashlib.sha256()
    count = 0
    for data in chunks(handle, sizes[digest]):
        hasher.update(data)
        count += len(data)
    actual = "sha256:" + hasher.hexdigest()
    if count != sizes[digest] or actual != digest:
        raise MirrorError(
            "bundle %s: blob %s has %d bytes and %s, its index says %d bytes; the bundle is corrupt and nothing was placed"
            % (bundle, digest, count, actual, sizes[digest])
        )
    return digest


def _check_members(bundle: str, expected: Dict[str, Tuple[str, str]], sizes: Dict[str, int]) -> Tuple[Dict[str, bytes], Dict[str, bool]]:
    """Read each member once; (manifests by model key, blobs seen)."""
    seen_blobs: Dict[str, bool] = {}
    manifests: Dict[str, bytes] = {}
    try:
        with tarfile.open(bundle, "r:") as tar:
            for member in tar:
                if member.name == BUNDLE_INDEX:
                    continue
                if not member.isfile():
                    raise MirrorError("the bundle member %s is not a regular file; the bundle is refused" % member.name)
                handle = tar.extractfile(member)
                if handle is None:
                    raise MirrorError("the bundle member %s cannot be read" % member.name)
                if member.name not in expected:
                    seen_blobs[_check_blob(bundle, member, handle, sizes)] = True
                    continue
                key, digest = expected[member.name]
                raw = handle.read(8 << 20)
                actual = "sha256:" + hashlib.sha256(raw).hexdigest()
                if actual != digest:
                    raise MirrorError("bundle %s: the manifest %s has %s, its index says %s; nothing was placed" % (bundle, member.name, actual, digest))
                manifests[key] = raw
    except (OSError, tarfile.TarError) as exc:
        raise MirrorError("bundle %s cannot be read: %s; nothing was placed" % (bundle, exc)) from None
    return manifests, seen_blobs


def verify_bundle(bundle: str) -> Tuple[Dict[str, Any], Dict[str, bytes]]:
    """Check every manifest and blob of a bundle against its index (streaming); (index, manifests by model key).

    Raises MirrorError naming the first member that does not match; nothing is written.
    """
    if not os.path.isfile(bundle):
        raise MirrorError("bundle %s is not a file; give the tar file written by bundle_dest" % bundle)
    index = read_bundle_index(bundle)
    if index is None:
        raise MirrorError("%s is not a mirror bundle (no %s first in a tar file); give a file written by ollama_mirror bundle_dest" % (bundle, BUNDLE_INDEX))
    models = index.get("models")
    blob_list = index.get("blobs")
    if not isinstance(models, list) or not isinstance(blob_list, list):
        raise MirrorError("the index of bundle %s has no models or blobs list" % bundle)
    sizes = _index_sizes(bundle, blob_list)
    expected = _index_manifests(bundle, models)
    manifests, seen_blobs = _check_members(bundle, expected, sizes)
    for member, (key, _digest) in expected.items():
        if key not in manifests:
            raise MirrorError("bundle %s lacks the manifest %s that its index lists; nothing was placed" % (bundle, member))
        for blob in manifest_blobs(manifests[key], "the manifest %s in bundle %s" % (member, bundle)):
            if blob["digest"] not in seen_blobs or sizes.get(blob["digest"]) != blob["size"]:
                raise MirrorError("bundle %s lacks blob %s of %s; nothing was placed" % (bundle, blob["digest"], member))
    return index, manifests


def write_bundle(mirror: Mirror, records: List[Dict[str, Any]], dest: str) -> Tuple[bool, Dict[str, Any]]:
    """Write the models (manifests, blobs once, index.json first) as one tar file; (changed, index)."""
    index = bundle_index(records)
    try:
        existing = read_bundle_index(dest) if os.path.exists(dest) else None
    except MirrorError:
        existing = None  # a damaged file at bundle_dest is written anew
    if existing is not None and existing.get("models") == index["models"] and existing.get("blobs") == index["blobs"]:
        return False, index
    if mirror.check_mode:
        return True, index
    directory = os.path.dirname(os.path.abspath(dest))
    if not os.path.isdir(directory):
        raise MirrorError("bundle_dest %s: the directory %s does not exist; create it first" % (dest, directory))
    need = sum(blob["size"] for blob in index["blobs"])
    try:
        free = free_bytes(directory)
    except OSError:
        free = need
    if need > free:
        raise MirrorError("bundle_dest %s needs %s but its disk has %s free" % (dest, format_size(need), format_size(free)))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(dest), suffix=".tmp")
    os.close(fd)
    try:
        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            add_bytes(tar, BUNDLE_INDEX, json.dumps(index, sort_keys=True, indent=1).encode("utf-8"))
            for record in records:
                name = parse_name(record["name"])
                with open(mirror.tree.manifest_file(name), "rb") as handle:
                    raw = handle.read(MAX_MANIFEST + 1)
                if "sha256:" + hashlib.sha256(raw).hexdigest() != record["digest"]:
                    raise MirrorError("the manifest of %s in the mirror does not match its recorded digest; fill the mirror again" % name.display)
                add_bytes(tar, "manifests/%s/%s/%s/%s" % (name.host, name.namespace, name.model, name.tag), raw)
            for blob in index["blobs"]:
                path = mirror.tree.store_blob(blob["digest"])
                info = tar.gettarinfo(path, arcname="blobs/" + blob["digest"].replace(":", "-"))
                if info.size != blob["size"]:
                    raise MirrorError("blob %s in the mirror has %d bytes, not %d; fill the mirror again" % (blob["digest"], info.size, blob["size"]))
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o644, 0, 0, "", ""
                with open(path, "rb") as handle:
                    tar.addfile(info, handle)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise
    return True, index


def _bundle_entries(bundle: str, index: Dict[str, Any], manifests: Dict[str, bytes], wanted: List[Wanted]) -> List[Entry]:
    """The entries of the wanted models (every model when none is named), checked against their pins."""
    by_key = {parse_name(model["name"]).key: model for model in index["models"]}
    if wanted:
        missing = [item.name.display for item in wanted if item.name.key not in by_key]
        if missing:
            held = ", ".join(sorted(parse_name(model["name"]).display for model in index["models"])) or "nothing"
            raise MirrorError("the bundle %s has no %s; it holds: %s" % (bundle, ", ".join(missing), held))
        keys = [item.name.key for item in wanted]
    else:
        keys = list(by_key)
    entries = []
    for key in keys:
        model = by_key[key]
        name = parse_name(model["name"])
        entry = Entry(name, manifests[key], "bundle:%s" % bundle)
        pin = next((item.pin for item in wanted if item.name.key == key and item.pin), None)
        if pin and entry.digest != "sha256:" + pin:
            raise MirrorError("%s is pinned to sha256:%s but the bundle holds %s; nothing was placed" % (name.display, pin, entry.digest))
        entries.append(entry)
    return entries


def _store_bundle_blob(mirror: Mirror, bundle: str, source: IO[bytes], digest: str, size: int) -> None:
    """Copy one blob out of the bundle into the store, through its partial file, unless another run stored it."""
    partial = mirror.tree.partial(digest)
    with mirror.locks.blob(partial):
        if mirror.tree.stored_size(digest) == size:
            return  # another run stored it meanwhile
        hasher = hashlib.sha256()
        with open(partial, "wb") as handle:
            for data in chunks(source, size):
                handle.write(data)
                hasher.update(data)
        if "sha256:" + hasher.hexdigest() != digest or os.path.getsize(partial) != size:
            os.unlink(partial)
            raise MirrorError("the bundle %s changed while it was read (blob %s); nothing more was placed" % (bundle, digest))
        os.replace(partial, mirror.tree.store_blob(digest))


def load_bundle(mirror: Mirror, bundle: str, wanted: List[Wanted], min_free: int) -> List[Entry]:
    """Verify every digest in the bundle, then store the missing blobs; return the entries to place."""
    index, manifests = verify_bundle(bundle)
    entries = _bundle_entries(bundle, index, manifests, wanted)
    mirror.collisions((entry.name, "from the bundle") for entry in entries)
    missing_blobs = mirror.missing_blobs(entries)
    check_space(mirror.tree, sum(blob["size"] for blob in missing_blobs), min_free)
    mirror.fetched = [{"digest": b["digest"], "size": b["size"], "resumed_from": 0} for b in missing_blobs]
    if mirror.check_mode or not missing_blobs:
        return entries
    mirror.hold_fill()
    wanted_blobs = {blob["digest"]: blob["size"] for blob in missing_blobs}
    with tarfile.open(bundle, "r:") as tar:
        for member in tar:
            digest = member_blob(member.name)
            if digest not in wanted_blobs:
                continue
            source = tar.extractfile(member)
            if source is None:
                raise MirrorError("the bundle member %s is not a file" % member.name)
            _store_bundle_blob(mirror, bundle, source, digest, wanted_blobs[digest])
    return entries
