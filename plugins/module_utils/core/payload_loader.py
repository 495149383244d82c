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
"""

from __future__ import annotations

import sys
import zipimport
from importlib.machinery import ModuleSpec
from importlib.util import spec_from_loader
from typing import Iterable, Optional


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
        return self.importer.get_code(fullname)

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
