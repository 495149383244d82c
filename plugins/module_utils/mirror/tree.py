# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A mirror directory: a static tree of Docker Registry v2 read paths that Ollama pulls from, and bundles.

Layout under the mirror ``path`` (nginx serves only ``/v2/`` with ``root <path>``)::

    v2/<namespace>/<model>/manifests/<tag>          the manifest bytes as served upstream (digest kept)
    v2/<namespace>/<model>/manifests/sha256:<hex>   the same manifest by its digest
    v2/<namespace>/<model>/blobs/sha256:<hex>       a hard link to the one stored copy
    blobs/sha256-<hex>                              each blob stored once, however many models use it
    mirror.json                                     the index: models, sources, digests, sizes
    .partial/sha256-<hex>.partial                   downloads in progress (resumed with Range)

A blob enters ``blobs/`` only complete and verified (size and sha256), and a manifest or link
enters ``v2/`` only through a temporary name and a rename, after every blob it names is stored.

Bundles (a mirror's models as one tar file) are written and read with mirror.bundles; the models and manifests are mirror.entries.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.answers import MAX_MANIFEST
from ansible_collections.llmops.ollama.plugins.module_utils.core.files import atomic_write
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import (
    DEFAULT_HOST,
    InvalidModelName,
    ModelName,
    parse_name,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import RegistryError
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import BlobClient
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.entries import Entry, MirrorError, Wanted, blob_digest, read_json, source_url
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.locks import LOCK_SUFFIX, MirrorLocks, remove_stale_lock
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.served import records_by_repository, served

INDEX_FILE = "mirror.json"
MAX_INDEX = 64 << 20  # mirror.json of thousands of models is a few MB


# --------------------------------------------------------------------------- the tree
class Tree:
    """Paths of one mirror directory and the reads and writes on it."""

    def __init__(self, root: str) -> None:
        self.root = root

    def repo_dir(self, name: ModelName) -> str:
        return os.path.join(self.root, "v2", name.namespace, name.model)

    def manifest_file(self, name: ModelName, reference: Optional[str] = None) -> str:
        return os.path.join(self.repo_dir(name), "manifests", reference or name.tag)

    def repo_blob(self, name: ModelName, digest: str) -> str:
        return os.path.join(self.repo_dir(name), "blobs", digest)

    def store_blob(self, digest: str) -> str:
        return os.path.join(self.root, "blobs", digest.replace(":", "-"))

    def partial(self, digest: str) -> str:
        return os.path.join(self.root, ".partial", digest.replace(":", "-") + ".partial")

    @property
    def index_file(self) -> str:
        return os.path.join(self.root, INDEX_FILE)

    def load_index(self) -> Dict[str, Dict[str, Any]]:
        """The models recorded in mirror.json, by model key ({} when there is none).

        Every record is checked (see check_index): a file of any other shape is a MirrorError naming the file
        and the field, never a traceback, and nothing is written over it.
        """
        try:
            with open(self.index_file, "rb") as handle:
                raw = handle.read(MAX_INDEX + 1)
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise MirrorError("the mirror index %s cannot be read (%s); move it away to rebuild the mirror" % (self.index_file, exc)) from None
        try:
            data = read_json(raw, "the mirror index %s" % self.index_file, MAX_INDEX)
        except MirrorError as exc:
            raise MirrorError("%s; move it away to rebuild the mirror" % exc) from None
        models = data.get("models") if isinstance(data, dict) else None
        if not isinstance(models, dict):
            raise MirrorError("the mirror index %s has no models object; move it away to rebuild the mirror" % self.index_file)
        check_index(models, self.index_file)
        return models

    def save_index(self, models: Dict[str, Dict[str, Any]]) -> None:
        data = {"format": "llmops.ollama mirror", "version": 1, "models": models}
        atomic_write(self.index_file, json.dumps(data, sort_keys=True, indent=1).encode("utf-8"))

    def stored_size(self, digest: str) -> int:
        """Size of the stored blob, -1 when it is not stored."""
        try:
            return os.path.getsize(self.store_blob(digest))
        except OSError:
            return -1

    def partial_size(self, digest: str) -> int:
        try:
            return os.path.getsize(self.partial(digest))
        except OSError:
            return 0

    def manifest_matches(self, name: ModelName, raw: bytes) -> bool:
        for path in (self.manifest_file(name), self.manifest_file(name, "sha256:" + hashlib.sha256(raw).hexdigest())):
            try:
                with open(path, "rb") as handle:
                    if handle.read(len(raw) + 1) != raw:
                        return False
            except OSError:
                return False
        return True

    def link_ok(self, name: ModelName, digest: str) -> bool:
        try:
            return os.path.samefile(self.repo_blob(name, digest), self.store_blob(digest))
        except OSError:
            return False

    # ----------------------------------------------------------------- writes
    def link(self, name: ModelName, digest: str) -> None:
        """Hard-link the stored blob into the model's repository (temporary name, then rename)."""
        target = self.repo_blob(name, digest)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = "%s.%d.tmp" % (target, os.getpid())
        with suppress(OSError):
            os.unlink(tmp)
        os.link(self.store_blob(digest), tmp)
        os.replace(tmp, target)

    def write_manifest(self, entry: Entry) -> None:
        os.makedirs(os.path.dirname(self.manifest_file(entry.name)), exist_ok=True)
        atomic_write(self.manifest_file(entry.name, entry.digest), entry.raw)
        atomic_write(self.manifest_file(entry.name), entry.raw)

    def remove_empty_dirs(self, name: ModelName) -> None:
        repo = self.repo_dir(name)
        for path in (os.path.join(repo, "manifests"), os.path.join(repo, "blobs"), repo, os.path.dirname(repo)):
            with suppress(OSError):
                os.rmdir(path)


# --------------------------------------------------------------------------- checks
_RECORD_TEXT = ("display", "host", "repository", "tag", "source")


def check_index(models: Dict[Any, Any], path: str) -> None:
    """Every record of mirror.json as the mirror writes it; else MirrorError naming the file, the record and the field."""

    def bad(key: Any, field: str, value: Any, wanted: str) -> MirrorError:
        text = repr(value)
        return MirrorError(
            "the mirror index %s: models[%s]%s is %s, not %s; move the file away to rebuild the mirror"
            % (path, json.dumps(str(key))[:120], field, text if len(text) <= 80 else text[:80] + "...", wanted)
        )

    for key, record in models.items():
        if not isinstance(record, dict):
            raise bad(key, "", record, "an object")
        name = record.get("name")
        if not isinstance(name, str):
            raise bad(key, ".name", name, "a model name")
        try:
            parse_name(name)
        except InvalidModelName:
            raise bad(key, ".name", name, "a model name") from None
        for field in _RECORD_TEXT:
            if field in record and not isinstance(record[field], str):
                raise bad(key, "." + field, record[field], "a string")
        try:
            blob_digest(record.get("digest"), "x")
        except MirrorError:
            raise bad(key, ".digest", record.get("digest"), "sha256:<64 hex>") from None
        size = record.get("size", 0)
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise bad(key, ".size", size, "a byte count")
        blobs = record.get("blobs")
        if not isinstance(blobs, list):
            raise bad(key, ".blobs", blobs, "a list")
        for index, blob in enumerate(blobs):
            where = ".blobs[%d]" % index
            if not isinstance(blob, dict):
                raise bad(key, where, blob, "an object")
            try:
                blob_digest(blob.get("digest"), "x")
            except MirrorError:
                raise bad(key, where + ".digest", blob.get("digest"), "sha256:<64 hex>") from None
            blob_size = blob.get("size")
            if isinstance(blob_size, bool) or not isinstance(blob_size, int) or blob_size < 0:
                raise bad(key, where + ".size", blob_size, "a byte count")


def check_path(path: str) -> str:
    """The mirror directory as an absolute path; refuse ``/`` and anything that is not a directory."""
    if not path or not path.strip():
        raise MirrorError("path is empty; give the mirror directory")
    real = os.path.realpath(os.path.abspath(os.path.expanduser(path)))
    if real == os.path.sep:
        raise MirrorError("path %s is the root directory '/'; give a directory of its own for the mirror, e.g. /srv/ollama-mirror" % path)
    if os.path.exists(real) and not os.path.isdir(real):
        raise MirrorError("path %s exists and is not a directory; give a directory for the mirror" % path)
    if not os.path.exists(real):
        parent = os.path.dirname(real)
        if not os.path.isdir(parent):
            raise MirrorError("path %s does not exist and neither does its parent %s; create the parent first" % (path, parent))
    return real


def check_collisions(entries: Iterable[Tuple[ModelName, str]]) -> None:
    """Refuse two registries' models that would share one ``v2/<namespace>/<model>`` repository.

    ``entries`` are (name, where) pairs: the mirror's models and the ones asked for.
    """
    owner: Dict[str, Tuple[ModelName, str]] = {}
    for name, where in entries:
        repo = name.registry_path.lower()
        if repo in owner and owner[repo][0].host.lower() != name.host.lower():
            other, other_where = owner[repo]
            raise MirrorError(
                "%s (%s) and %s (%s) come from different registries but would share v2/%s in the mirror; "
                "a mirror serves one registry's namespace/model once: use another mirror directory for one of them"
                % (other.full, other_where, name.full, where, name.registry_path)
            )
        owner.setdefault(repo, (name, where))


def free_bytes(path: str) -> int:
    stat = os.statvfs(path)
    return stat.f_bavail * stat.f_frsize


def check_space(tree: Tree, needed: int, min_free: int) -> None:
    probe = tree.root if os.path.isdir(tree.root) else os.path.dirname(tree.root)
    try:
        free = free_bytes(probe)
    except OSError as exc:
        raise MirrorError("the free space at %s cannot be read: %s" % (probe, exc.strerror or exc)) from None
    if needed + min_free > free:
        raise MirrorError(
            "the mirror at %s needs %s more (%s to fetch%s) but its disk has %s free; free some space or use another directory"
            % (
                tree.root,
                format_size(needed + min_free),
                format_size(needed),
                ", plus min_free_space %s" % format_size(min_free) if min_free else "",
                format_size(free),
            )
        )


# --------------------------------------------------------------------------- progress
class Progress:
    """Bytes per model (a blob counts for every model that uses it), written through per-model ledger writers."""

    def __init__(self, writers: Dict[str, Any], totals: Dict[str, int], users: Dict[str, List[str]]) -> None:
        self._lock = threading.Lock()
        self._writers = writers
        self._totals = totals
        self._users = users
        self.done: Dict[str, int] = {key: 0 for key in totals}

    def add(self, digest: str, count: int) -> None:
        with self._lock:
            for key in self._users.get(digest, []):
                self.done[key] += count
                writer = self._writers.get(key)
                if writer is not None:
                    writer.update(min(self.done[key], self._totals[key]), self._totals[key], status="pulling %s" % digest[7:19])


# --------------------------------------------------------------------------- the mirror
class Mirror:
    """Fills and keeps one mirror directory. Every method that writes is skipped in check mode by the caller."""

    def __init__(self, path: str, check_mode: bool = False, warn: Callable[[str], None] = lambda _msg: None) -> None:
        self.tree = Tree(check_path(path))
        self.locks = MirrorLocks(self.tree.root)
        self._fill_stack: Optional[ExitStack] = None
        self.check_mode = check_mode
        self.warn = warn
        self.index = self.tree.load_index() if os.path.isdir(self.tree.root) else {}
        self.fetched: List[Dict[str, Any]] = []
        self.removed: List[Dict[str, Any]] = []
        self.models: List[Dict[str, Any]] = []
        self.transferred = 0
        self._gone: set = set()  # models removed in check mode (still in the index)
        self.before = self._digests(self.index)

    @contextmanager
    def filling(self) -> Iterator[None]:
        """A fill: the shared fill lock, taken by the first write (a download, a stored blob, a manifest) and held to the end.

        Nothing is created before something is written: a refused run leaves the directory as it was.
        """
        with ExitStack() as stack:
            self._fill_stack = stack
            try:
                yield
            finally:
                self._fill_stack = None

    def hold_fill(self) -> None:
        """Before the first write of a fill: the directories, and the shared fill lock (a prune waits for it)."""
        self._dirs()
        if self._fill_stack is not None and not self.check_mode:
            self._fill_stack.enter_context(self.locks.fill())
            self._fill_stack = None  # held until filling() ends

    def reload(self) -> None:
        """Read mirror.json again (inside the index lock): another run may have changed it."""
        self.index = self.tree.load_index()

    # ----------------------------------------------------------------- plan
    def up_to_date(self, entry: Entry) -> bool:
        tree = self.tree
        if not tree.manifest_matches(entry.name, entry.raw):
            return False
        return all(tree.stored_size(blob["digest"]) == blob["size"] and tree.link_ok(entry.name, blob["digest"]) for blob in entry.blobs)

    def stored_entry(self, wanted: Wanted) -> Optional[Entry]:
        """The model as the mirror holds it, when its record and manifest are there (else None)."""
        record = self.index.get(wanted.name.key)
        if not record:
            return None
        try:
            with open(self.tree.manifest_file(wanted.name), "rb") as handle:
                raw = handle.read(MAX_MANIFEST + 1)
            return Entry(wanted.name, raw, str(record.get("source", "")))
        except (OSError, MirrorError):
            return None

    def missing_blobs(self, entries: List[Entry]) -> List[Dict[str, Any]]:
        """The blobs to fetch (each once): not stored with their full size."""
        missing: Dict[str, Dict[str, Any]] = {}
        for entry in entries:
            for blob in entry.blobs:
                if blob["digest"] not in missing and self.tree.stored_size(blob["digest"]) != blob["size"]:
                    missing[blob["digest"]] = {
                        "digest": blob["digest"],
                        "size": blob["size"],
                        "partial": self.tree.partial_size(blob["digest"]),
                        "repository": entry.name.registry_path,
                        "source": entry.source,
                    }
        return list(missing.values())

    def collisions(self, names: Iterable[Tuple[ModelName, str]]) -> None:
        known = [(parse_name(rec["name"]), "in the mirror") for rec in self.index.values() if isinstance(rec, dict) and rec.get("name")]
        check_collisions(known + list(names))

    # ----------------------------------------------------------------- fetch from registries
    def resolve(self, wanted: List[Wanted], source: str, insecure: bool, client_for: Callable[[str], BlobClient]) -> List[Entry]:
        """Read each model's manifest (a pinned model already in the mirror needs no request)."""
        self.collisions((w.name, source_url(w.name, source, insecure)) for w in wanted)
        entries = []
        for item in wanted:
            stored = self.stored_entry(item) if item.pin else None
            if stored is not None and stored.digest == "sha256:" + item.pin and self.up_to_date(stored):
                entries.append(stored)
                continue
            base = source_url(item.name, source, insecure)
            try:
                raw = client_for(base).manifest(item.name.registry_path, item.name.tag)
            except RegistryError as exc:
                raise MirrorError("%s cannot be mirrored: %s" % (item.name.display, exc)) from None
            entry = Entry(item.name, raw, base)
            if item.pin and entry.digest != "sha256:" + item.pin:
                raise MirrorError(
                    "%s is pinned to sha256:%s but %s serves %s; nothing was fetched (update the pin, or wait for the registry)"
                    % (item.name.display, item.pin, base, entry.digest)
                )
            entries.append(entry)
        return entries

    def plan_fetch(self, entries: List[Entry], min_free: int) -> List[Dict[str, Any]]:
        """The blobs to download (each once), after the free-space check; also kept in ``fetched``."""
        missing = self.missing_blobs(entries)
        check_space(self.tree, sum(blob["size"] - blob["partial"] for blob in missing), min_free)
        self.fetched = [{"digest": b["digest"], "size": b["size"], "resumed_from": b["partial"]} for b in missing]
        return missing

    def download(
        self,
        missing: List[Dict[str, Any]],
        client_for: Callable[[str], BlobClient],
        parallel: int,
        progress: Optional[Progress] = None,
    ) -> None:
        """Download the missing blobs, a few at once; each enters the store only verified. Nothing in check mode."""
        if self.check_mode or not missing:
            return
        self.hold_fill()

        def one(blob: Dict[str, Any]) -> int:
            digest = blob["digest"]
            partial = self.tree.partial(digest)
            # one writer per partial file: another run that fetches the same blob waits, then reuses it
            with self.locks.blob(partial):
                if self.tree.stored_size(digest) == blob["size"]:
                    return 0
                count = client_for(blob["source"]).fetch_blob(
                    blob["repository"], digest, blob["size"], partial, (lambda n: progress.add(digest, n)) if progress else None
                )
                os.replace(partial, self.tree.store_blob(digest))
            return count

        errors: List[BaseException] = []
        transferred = 0
        with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
            futures = [pool.submit(one, blob) for blob in missing]
            for future in futures:
                if future.cancelled():
                    continue
                try:
                    transferred += future.result()
                except (RegistryError, OSError) as exc:
                    errors.append(exc)
                    for other in futures:
                        other.cancel()
        if errors:
            raise MirrorError("no manifest was placed in the mirror: %s" % "; ".join(str(exc) for exc in errors))
        self.transferred = transferred

    # ----------------------------------------------------------------- place
    def _dirs(self) -> None:
        for sub in ("", "blobs", ".partial", "v2"):
            os.makedirs(os.path.join(self.tree.root, sub), exist_ok=True)

    def place(self, entries: List[Entry]) -> List[Entry]:
        """Link the blobs and write the manifests of the models that are not up to date; return those.

        Outside check mode, under the index lock, with mirror.json read again: another run's models stay.
        """
        if self.check_mode or not entries or not [entry for entry in entries if self._changed(entry)]:
            return self._place(entries)
        self.hold_fill()
        with self.locks.index():
            self.reload()
            return self._place(entries)

    def _changed(self, entry: Entry) -> bool:
        return not self.up_to_date(entry) or self.index.get(entry.name.key, {}).get("digest") != entry.digest

    def _place(self, entries: List[Entry]) -> List[Entry]:
        changed = [entry for entry in entries if self._changed(entry)]
        for entry in entries:
            self.models.append(dict(entry.record(), changed=entry in changed))
        if self.check_mode:
            return changed
        for entry in changed:
            for blob in entry.blobs:
                if self.tree.stored_size(blob["digest"]) != blob["size"]:
                    raise MirrorError("blob %s of %s is not stored; nothing of it was placed" % (blob["digest"], entry.name.display))
        for entry in changed:
            old = self.index.get(entry.name.key)
            for blob in entry.blobs:
                if not self.tree.link_ok(entry.name, blob["digest"]):
                    self.tree.link(entry.name, blob["digest"])
            self.tree.write_manifest(entry)
            self.index[entry.name.key] = entry.record()
            if old and old.get("digest") != entry.digest:
                self._unlink_unused(entry.name, old)
        if changed:
            self.tree.save_index(self.index)
        return changed

    # ----------------------------------------------------------------- absent and prune
    def _repo_records(self, name: ModelName) -> List[Dict[str, Any]]:
        repo = name.registry_path.lower()
        return [rec for rec in self.index.values() if str(rec.get("repository", "")).lower() == repo]

    def _unlink_unused(self, name: ModelName, old: Dict[str, Any]) -> None:
        """Remove the repository links and the by-digest manifest of ``old`` that no model of the repository uses now."""
        others = self._repo_records(name)
        used = {blob["digest"] for rec in others for blob in rec.get("blobs", [])}
        digests = {rec.get("digest") for rec in others}
        for blob in old.get("blobs", []):
            if blob["digest"] not in used:
                with suppress(OSError):
                    os.unlink(self.tree.repo_blob(name, blob["digest"]))
        if old.get("digest") not in digests:
            with suppress(OSError):
                os.unlink(self.tree.manifest_file(name, str(old.get("digest"))))

    def remove(self, wanted: List[Wanted]) -> List[Dict[str, Any]]:
        """Take models out of the mirror (their manifests and repository links; blobs stay for prune), under the index lock."""
        if self.check_mode or not os.path.isdir(self.tree.root):
            return self._remove(wanted)
        with self.locks.index():
            self.reload()
            return self._remove(wanted)

    def _remove(self, wanted: List[Wanted]) -> List[Dict[str, Any]]:
        removed = []
        for item in wanted:
            record = self.index.get(item.name.key)
            present = record is not None or os.path.exists(self.tree.manifest_file(item.name))
            if not present:
                continue
            removed.append({"name": item.name.display, "digest": (record or {}).get("digest")})
            if self.check_mode:
                self._gone.add(item.name.key)
                continue
            with suppress(OSError):
                os.unlink(self.tree.manifest_file(item.name))
            self.index.pop(item.name.key, None)
            if record:
                self._unlink_unused(item.name, record)
            self.tree.remove_empty_dirs(item.name)
        if removed and not self.check_mode:
            self.tree.save_index(self.index)
        self.removed = removed
        return removed

    def prune(self) -> List[Dict[str, Any]]:
        """Remove stored blobs (and leftover partial files) that no model of the mirror uses.

        "Used" is what ``v2/`` serves (every manifest there) and what mirror.json records; outside check mode
        it runs while no fill runs (the exclusive fill lock) and under the index lock.
        """
        if self.check_mode or not os.path.isdir(self.tree.root):
            return self._prune()
        with self.locks.prune(), self.locks.index():
            self.reload()
            return self._prune()

    def _prune(self) -> List[Dict[str, Any]]:
        used = {blob.get("digest") for key, rec in self.index.items() if key not in self._gone for blob in _blob_list(rec)}
        now = served(self.tree.root)
        used |= now.blobs - self._gone_blobs(now)
        gone = []
        for sub, suffix in (("blobs", ""), (".partial", ".partial")):
            directory = os.path.join(self.tree.root, sub)
            try:
                names = sorted(os.listdir(directory))
            except OSError:
                continue
            for file_name in names:
                if not file_name.startswith("sha256-") or not file_name.endswith(suffix):
                    continue
                digest = "sha256:" + file_name[7 : len(file_name) - len(suffix)]
                if digest in used and sub == "blobs":
                    continue
                path = os.path.join(directory, file_name)
                try:
                    size = os.path.getsize(path)
                except OSError:
                    continue
                gone.append({"digest": digest, "size": size, "partial": sub == ".partial"})
                if not self.check_mode:
                    with suppress(OSError):
                        os.unlink(path)
        if not self.check_mode:
            with suppress(OSError):
                for file_name in os.listdir(os.path.join(self.tree.root, ".partial")):
                    if file_name.endswith(LOCK_SUFFIX):
                        remove_stale_lock(os.path.join(self.tree.root, ".partial", file_name))
        return gone

    def _gone_blobs(self, now: Any) -> set:
        """Blobs that only the models removed in this check-mode run serve (a prediction: they would go)."""
        if not self._gone:
            return set()
        kept = {blob.get("digest") for key, rec in self.index.items() if key not in self._gone for blob in _blob_list(rec)}
        removed = {blob.get("digest") for key, rec in self.index.items() if key in self._gone for blob in _blob_list(rec)}
        return removed - kept

    def served_records(self) -> List[Dict[str, Any]]:
        """A record for every tag ``v2/`` serves (the index's when it matches the bytes served), for a bundle of all models."""
        known = records_by_repository(self.tree.load_index() if os.path.isfile(self.tree.index_file) else self.index)
        records = []
        for namespace, model, tag, raw in served(self.tree.root).tags:
            repository = ("%s/%s" % (namespace, model)).lower()
            record = known.get((repository, tag.lower()))
            if record is not None and record.get("digest") == "sha256:" + hashlib.sha256(raw).hexdigest():
                records.append(record)
                continue
            host = next((str(r.get("host")) for (repo, _tag), r in known.items() if repo == repository and r.get("host")), DEFAULT_HOST)
            try:
                entry = Entry(ModelName(host, namespace, model, tag), raw, str((record or {}).get("source", "")))
            except MirrorError as exc:
                self.warn("%s/%s:%s is served but left out of the bundle: %s" % (namespace, model, tag, exc))
                continue
            records.append(entry.record())
        return records

    @staticmethod
    def _digests(index: Dict[str, Dict[str, Any]]) -> Dict[str, Optional[str]]:
        return {str(rec.get("display") or key): rec.get("digest") for key, rec in index.items()}

    def after(self) -> Dict[str, Optional[str]]:
        """The models and digests after the run (predicted in check mode)."""
        after = self._digests(self.index)
        if self.check_mode:
            for model in self.models:
                after[model["display"]] = model["digest"]
            for model in self.removed:
                after.pop(model["name"], None)
        return after


def _blob_list(record: Any) -> List[Dict[str, Any]]:
    """The blobs of an index record, skipping what is not a blob object (a damaged index is read, not trusted)."""
    blobs = record.get("blobs") if isinstance(record, dict) else None
    return [blob for blob in blobs if isinstance(blob, dict)] if isinstance(blobs, list) else []
