# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A custom model's own weights: the ``files`` and ``adapters`` of a definition.

Each is a list of ``{path, name}``: ``path`` a GGUF or safetensors file (or a file
that goes with safetensors weights: ``config.json``, ``tokenizer.json``, ...) on the
host where the module runs, ``name`` the file name in the model (the file's base
name by default). :func:`check_model_files` validates them and computes each
file's sha256 while reading it in chunks (never the whole file in memory);
:func:`upload_missing` sends the blobs the server lacks (``HEAD /api/blobs/sha256:...``
first, then a streamed ``POST``).
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.client import MAX_LINE, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.files import NotRegularFile, open_regular

CHUNK = 1 << 20

_cache: Dict[Tuple[int, int, int, float], str] = {}


class InvalidFiles(ValueError):
    """A files or adapters entry that cannot be used; the message names the entry and what to do."""


class ModelFile:
    """One file of a custom model: its name in the model, its path on this host, its digest and size."""

    def __init__(self, name: str, path: str, digest: str, size: int) -> None:
        self.name = name
        self.path = path
        self.digest = digest  # 'sha256:<hex>'
        self.size = size

    def as_dict(self) -> Dict[str, Any]:
        return {"name": self.name, "path": self.path, "digest": self.digest, "size": self.size}


def digest_and_size(path: str) -> Tuple[str, int]:
    """('sha256:<hex>', size) of a regular file, both from one open descriptor.

    Opened with core.files.open_regular: a symbolic link, a FIFO or a device raises NotRegularFile (an OSError),
    and a file that grows while it is read raises OSError (never read past the size it had when opened).
    """
    with open(open_regular(path), "rb") as handle:
        status = os.fstat(handle.fileno())
        key = (status.st_dev, status.st_ino, status.st_size, status.st_mtime)
        if key not in _cache:
            digest = hashlib.sha256()
            done = 0
            while True:
                chunk = handle.read(CHUNK)
                if not chunk:
                    break
                done += len(chunk)
                if done > status.st_size:
                    raise OSError("the file grew while it was read (past its %d bytes)" % status.st_size)
                digest.update(chunk)
            if done != status.st_size:
                raise OSError("the file changed while it was read (%d of %d bytes)" % (done, status.st_size))
            _cache[key] = "sha256:" + digest.hexdigest()
        return _cache[key], status.st_size


def _check_name(where: str, name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidFiles("%s: name must be a non-empty file name such as model.gguf, got %r" % (where, name))
    parts = name.split("/")
    if name.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in name or ":" in name:
        raise InvalidFiles(
            "%s: name %r must be a relative file name inside the model (no leading '/', no '..', '\\\\' or ':'), e.g. model.gguf" % (where, name)
        )
    return name


def check_model_files(value: Any, option: str) -> List[ModelFile]:
    """Validate ``files`` or ``adapters`` (a list of {path, name}); read each file once for its digest.

    Raises InvalidFiles naming the entry: not a list, no path, a path that is not a
    readable regular file on this host, a bad or repeated name.
    """
    if value is None:
        return []
    if not isinstance(value, list) or not value:
        raise InvalidFiles(
            "%s must be a non-empty list of {path, name} dictionaries (path: a GGUF or safetensors file on the host the module runs on)" % option
        )
    found: List[ModelFile] = []
    names = set()
    for index, item in enumerate(value):
        where = "%s[%d]" % (option, index)
        if isinstance(item, str):
            item = {"path": item}  # noqa: PLW2901 - a bare path is {path}
        if not isinstance(item, dict):
            raise InvalidFiles("%s must be a dictionary with path (and optionally name), got %s" % (where, type(item).__name__))
        unknown = sorted(str(key) for key in item if key not in ("path", "name"))
        if unknown:
            raise InvalidFiles("%s has the unknown key(s) %s; an entry has path and name" % (where, ", ".join(unknown)))
        path = item.get("path")
        if not isinstance(path, str) or not path.strip():
            raise InvalidFiles("%s has no path: give the path of a GGUF or safetensors file on the host the module runs on" % where)
        path = os.path.expanduser(path)
        if not os.path.isabs(path):
            raise InvalidFiles("%s: path %r must be absolute" % (where, path))
        if os.path.islink(path):
            raise InvalidFiles(
                "%s: %s is a symbolic link; give the path of the file itself (a link is never followed, so nothing the task "
                "does not name is uploaded)" % (where, path)
            )
        if os.path.exists(path) and not os.path.isfile(path):
            raise InvalidFiles("%s: %s is not a regular file (a directory, FIFO or device); give a GGUF or safetensors file" % (where, path))
        if not os.path.isfile(path):
            raise InvalidFiles(
                "%s: %s is not a file on the host the module runs on; for a file on the controller, copy it to the host first "
                "(ansible.builtin.copy) and give that path" % (where, path)
            )
        if not os.access(path, os.R_OK):
            raise InvalidFiles("%s: %s cannot be read by the user the module runs as" % (where, path))
        name = _check_name(where, item.get("name") if item.get("name") is not None else os.path.basename(path))
        if name in names:
            raise InvalidFiles("%s: the name %r is given twice; each file of the model needs its own name" % (where, name))
        names.add(name)
        try:
            digest, size = digest_and_size(path)
        except NotRegularFile as exc:
            raise InvalidFiles("%s: %s %s" % (where, path, exc.strerror)) from None
        except OSError as exc:
            raise InvalidFiles("%s: %s cannot be read: %s" % (where, path, exc)) from None
        found.append(ModelFile(name, path, digest, size))
    return found


def upload_missing(client: Any, files: List[Dict[str, Any]], timeout: Optional[float] = None) -> List[Dict[str, Any]]:
    """Send the blobs the server lacks (HEAD first, then a streamed POST); return those sent.

    ``files`` are :meth:`ModelFile.as_dict` entries. A file that changed since its digest
    was taken makes the server refuse the upload (digest mismatch): an OllamaError.
    """
    sent: List[Dict[str, Any]] = []
    seen = set()
    for item in files:
        digest = item["digest"]
        if digest in seen:
            continue
        seen.add(digest)
        if client.blob_exists(digest):
            continue
        push_blob_file(client, digest, item["path"], int(item["size"]), timeout=timeout)
        sent.append(item)
    return sent


def push_blob_file(client: Any, digest: str, path: str, size: int, timeout: Optional[float] = None) -> None:
    """POST /api/blobs/sha256:<hex> with a file's bytes, streamed from disk in chunks (never whole in memory).

    Retried like a read, the file opened anew each time; the server checks the digest of what it received
    (400 digest mismatch when the file changed)."""

    def action() -> bytes:
        # never through a symbolic link, never a FIFO or a device: only the regular file the task named
        with open(open_regular(path), "rb") as handle:
            response = client._open("POST", "/api/blobs/%s" % digest, FileUpload(handle, size), timeout)
            try:
                return response.read(MAX_LINE)
            finally:
                response.close()

    try:
        client._with_retries(action, True)
    except OSError as exc:
        raise OllamaError("POST /api/blobs/%s: cannot read %s: %s" % (digest, path, exc)) from None


class FileUpload:
    """A file object for a streamed upload: http.client reads it in blocks (8 KiB) while sending."""

    def __init__(self, handle: Any, size: int) -> None:
        self.handle = handle
        self.size = size

    def read(self, amount: int = -1) -> bytes:
        return self.handle.read(amount)


def remove_unused_blob(models_path: Optional[str], digest: str) -> bool:
    """Remove ``<models_path>/blobs/sha256-<hex>`` when no manifest under ``<models_path>/manifests`` names it.

    True when the blob is gone (removed, or not there); False when it is still used or cannot be removed.
    """
    if not models_path or not isinstance(digest, str) or not digest.startswith("sha256:"):
        return False
    hexdigest = digest[7:]
    if len(hexdigest) != 64 or any(c not in "0123456789abcdef" for c in hexdigest):
        return False
    path = os.path.join(models_path, "blobs", "sha256-" + hexdigest)
    if not os.path.lexists(path):
        return False  # not here: the server's models directory is elsewhere, nothing is proven
    needle = digest.encode("ascii")
    for directory, _subdirs, names in os.walk(os.path.join(models_path, "manifests")):
        for file_name in names:
            try:
                with open(open_regular(os.path.join(directory, file_name)), "rb") as handle:
                    if needle in handle.read(answers.MAX_MANIFEST):
                        return False
            except OSError:
                return False  # a manifest that cannot be read may use it: keep it
    try:
        os.unlink(path)
    except OSError:
        return False
    return True


__all__ = ["CHUNK", "InvalidFiles", "ModelFile", "check_model_files", "digest_and_size", "remove_unused_blob", "upload_missing"]
