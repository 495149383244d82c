# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""This collection's module_utils, loaded from a module's AnsiballZ payload with one compile each.

A module runs on the host from a zip file (the AnsiballZ payload), where Python's ``zipimport`` loads
the sources, and no byte-code is cached between runs. ``zipimport`` compiles every source it loads
twice: once to answer ``get_filename`` (which the import system asks for the module's location) and
once more to run it (CPython issue 141276, open for 3.13 to 3.15; the same in 3.11). That second
compile was a sixth of the host's time for a converged ``ollama_model_sync`` (0.37 s -> 0.31 s).

``install(__path__)``, called by the ``__init__.py`` of each package of this collection's module_utils, sets the
importer of that package's directory when it sits in a zip: it names a module's location without compiling, and
compiles once, in ``exec_module``, with ``zipimport``'s own ``get_code``. Nothing else changes: no finder on
``sys.meta_path``, and a package loaded from a directory (a checkout, the tests, ``ansible-test``) keeps Python's
own importer.

The byte-code of those files is kept between runs on the host, as Python keeps it in ``__pycache__`` for files on
disk (a zip has no such place): a converged fleet runs the same payload again and again, and compiling was two
thirds of the time a converged ``ollama_model_sync`` spent importing this collection (57 ms of 85 ms). The cache:

- is a directory of the effective user (``~/.cache/llmops-ollama/bytecode`` of that user's home, or the directory in
  ``LLMOPS_OLLAMA_BYTECODE_CACHE``), created 0700, one file (0600) per source, named by the SHA-256 of the Python
  version's magic number, the file's path in the payload and its source: a changed file is another entry;
- is read only when the directory and the file belong to the effective user and no one else can write them; an
  unreadable or damaged entry is compiled again and replaced, and a cache that cannot be written costs nothing but the
  compile;
- is off with ``LLMOPS_OLLAMA_BYTECODE_CACHE=off`` or Python's own ``PYTHONDONTWRITEBYTECODE``;
- keeps at most ``CACHE_ENTRIES`` files: a write past that removes the oldest half.

The code is compiled with the file's path in the payload as its file name (``ansible_collections/...``), so that a
cached entry names the same file in a traceback whichever temporary directory held the payload; ``__file__`` stays
the path in the zip. It is not state the collection manages: a run in check mode may write it, as Python writes
``__pycache__``.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import os
import sys
import tempfile
import types
import zipimport
from importlib.machinery import ModuleSpec
from importlib.util import MAGIC_NUMBER, spec_from_loader
from typing import Any, Iterable, Optional

CACHE_ENTRIES = 1024
_INNER = "ansible_collections/"


@functools.lru_cache(maxsize=None)
def cache_dir() -> Optional[str]:
    """The byte-code cache directory of the effective user, created 0700; None when off or not safe to use.

    Looked up once per process."""
    setting = os.environ.get("LLMOPS_OLLAMA_BYTECODE_CACHE")
    if sys.flags.dont_write_bytecode or setting == "off":
        return None
    try:
        if setting:
            path = setting
        else:
            # POSIX only, like the modules
            import pwd  # noqa: PLC0415  # pylint: disable=import-outside-toplevel

            path = os.path.join(pwd.getpwuid(os.geteuid()).pw_dir, ".cache", "llmops-ollama", "bytecode")
        os.makedirs(path, mode=0o700, exist_ok=True)
        status = os.stat(path)
    except (OSError, KeyError, ImportError):
        return None
    return path if _private(status) else None


def _private(status: os.stat_result) -> bool:
    """Owned by the effective user, and writable by no one else."""
    return status.st_uid == os.geteuid() and not status.st_mode & 0o022


def _read(path: str) -> Optional[Any]:
    """A cached code object; None when missing, damaged, or not private to the effective user."""
    try:
        with open(path, "rb", opener=lambda name, flags: os.open(name, flags | getattr(os, "O_NOFOLLOW", 0))) as handle:
            if not _private(os.fstat(handle.fileno())):
                return None
            # the same trust as Python's own __pycache__: a file of the effective user that no one else can write
            code = marshal.loads(handle.read())  # noqa: S302  # nosec B302
    except (OSError, EOFError, ValueError, TypeError):
        return None
    return code if isinstance(code, types.CodeType) else None


def _write(directory: str, path: str, code: Any) -> None:
    try:
        fd, temporary = tempfile.mkstemp(dir=directory, prefix=".tmp-")  # 0600
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(marshal.dumps(code))
            os.replace(temporary, path)
        except BaseException:
            os.unlink(temporary)
            raise
        entries = [entry for entry in os.scandir(directory) if entry.name.endswith(".code")]
        if len(entries) > CACHE_ENTRIES:
            for entry in sorted(entries, key=lambda entry: entry.stat().st_mtime)[: len(entries) // 2]:
                os.unlink(entry.path)
    except OSError:
        pass  # a cache that cannot be written costs the compile, nothing else


class _CompileOnceImporter:
    """The path entry finder of one package directory in a zip, and the loader of its plain modules."""

    def __init__(self, importer: zipimport.zipimporter, location: str) -> None:
        self.importer = importer
        self.location = location

    def find_spec(self, fullname: str, target: object = None) -> Optional[ModuleSpec]:
        try:
            package = self.importer.is_package(fullname)
        except zipimport.ZipImportError:
            return None  # not in this directory
        if package:
            return spec_from_loader(fullname, self.importer)  # a package below this one: zipimport's own spec, as before
        spec = ModuleSpec(fullname, self, origin="%s/%s.py" % (self.location, fullname.rpartition(".")[2]))
        spec.has_location = True
        return spec

    def invalidate_caches(self) -> None:
        if hasattr(self.importer, "invalidate_caches"):  # Python 3.10 and later
            self.importer.invalidate_caches()

    def create_module(self, spec: ModuleSpec) -> None:
        return None  # the default module object

    def exec_module(self, module: object) -> None:
        exec(self.get_code(module.__name__), module.__dict__)  # noqa: S102  # nosec B102: the payload's own source

    def get_code(self, fullname: str) -> object:
        """The module's code: from the byte-code cache, else compiled once (and kept there)."""
        directory = cache_dir()
        source = self.importer.get_source(fullname) if directory is not None else None
        if source is None:
            return self.importer.get_code(fullname)
        origin = "%s/%s.py" % (self.location, fullname.rpartition(".")[2])
        name = origin[origin.rfind(_INNER) :] if _INNER in origin else origin
        digest = hashlib.sha256(MAGIC_NUMBER + name.encode("utf-8") + b"\0" + source.encode("utf-8")).hexdigest()
        path = os.path.join(directory, digest + ".code")
        code = _read(path)
        if code is None:
            code = compile(source, name, "exec", dont_inherit=True)
            _write(directory, path, code)
        return code

    def get_source(self, fullname: str) -> Optional[str]:
        return self.importer.get_source(fullname)  # what a traceback shows

    def is_package(self, fullname: str) -> bool:
        return False


def install(package_path: Iterable[str]) -> None:
    """Set the importer of each directory of a package (its ``__path__``) that lies in a zip."""
    for location in package_path:
        if isinstance(sys.path_importer_cache.get(location), _CompileOnceImporter):
            continue
        try:
            importer = zipimport.zipimporter(location)
        except (zipimport.ZipImportError, OSError):
            continue  # a directory: Python's own importer
        sys.path_importer_cache[location] = _CompileOnceImporter(importer, location)
