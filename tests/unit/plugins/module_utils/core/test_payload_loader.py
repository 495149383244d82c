# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core/payload_loader.py: this collection's module_utils load from a zip (an AnsiballZ payload) with one compile each."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import payload_loader, probe

ROOT = Path(__file__).resolve().parents[5]
CORE = "ansible_collections/llmops/ollama/plugins/module_utils/core/"

# Run in a fresh interpreter with only the zip on the path: count the compiles of probe.py (the audit event
# "compile" names the file), and say which loader ran it and whether a traceback can show its source.
CHILD = r"""
import json, linecache, sys
compiled = []
sys.addaudithook(lambda event, args: compiled.append(args[1]) if event == "compile" and str(args[1]).endswith("probe.py") else None)
sys.path.insert(0, sys.argv[1])
import ansible_collections.llmops.ollama.plugins.module_utils.core as core
if sys.argv[2] == "without":
    for location, importer in list(sys.path_importer_cache.items()):
        if type(importer).__name__ == "_CompileOnceImporter":
            del sys.path_importer_cache[location]
from ansible_collections.llmops.ollama.plugins.module_utils.core import probe
from ansible_collections.llmops.ollama.plugins.module_utils.core.below import leaf
print(json.dumps({
    "below": leaf.ANSWER,
    "compiles": len(compiled),
    "loader": type(probe.__spec__.loader).__name__,
    "file": probe.__file__,
    "first_line": linecache.getline(probe.__file__, 1, probe.__dict__),
    "works": probe.is_embedding_model({"details": {"family": "gte"}}) and not probe.is_embedding_model({"details": {"family": "llama"}}),
}))
"""


@pytest.fixture(name="payload")
def fixture_payload(tmp_path: Path) -> Path:
    """A zip laid out as AnsiballZ lays out a module's payload: empty namespace packages, then the real files."""
    path = tmp_path / "payload.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as payload:
        for package in ("ansible_collections", "ansible_collections/llmops", "ansible_collections/llmops/ollama", "ansible_collections/llmops/ollama/plugins"):
            payload.writestr(package + "/__init__.py", "")
        payload.writestr("ansible_collections/llmops/ollama/plugins/module_utils/__init__.py", "")
        for name in ("__init__.py", "payload_loader.py", "probe.py"):
            payload.write(ROOT / "plugins" / "module_utils" / "core" / name, CORE + name)
        # a package below one of ours (the collection has none today): zipimport's own spec, and its modules load
        payload.writestr(CORE + "below/__init__.py", "")
        payload.writestr(CORE + "below/leaf.py", "ANSWER = 42\n")
    return path


def _child(payload: Path, mode: str) -> dict:
    run = subprocess.run([sys.executable, "-I", "-c", CHILD, str(payload), mode], capture_output=True, text=True, check=False, timeout=60)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def test_a_module_in_a_payload_is_compiled_once(payload: Path) -> None:
    loaded = _child(payload, "with")
    assert loaded["compiles"] == 1
    assert loaded["loader"] == "_CompileOnceImporter"
    assert loaded["file"] == "%s/%sprobe.py" % (payload, CORE)
    assert loaded["first_line"].startswith("#"), "a traceback could not show the source"
    assert loaded["works"]
    assert loaded["below"] == 42


def test_without_the_finder_zipimport_compiles_it_again(payload: Path) -> None:
    """The reason for the finder, on this Python: the control run, with Python's own zipimport alone."""
    loaded = _child(payload, "without")
    assert loaded["loader"] == "zipimporter"
    assert loaded["works"]
    if sys.version_info < (3, 14):
        assert loaded["compiles"] == 2


def test_a_checkout_is_left_to_python(tmp_path: Path) -> None:
    """From a directory (a checkout, the tests, ansible-test), Python's own importer stays."""
    assert type(probe.__spec__.loader).__name__ != "_CompileOnceImporter"
    before = dict(sys.path_importer_cache)
    payload_loader.install([str(Path(probe.__file__).parent), str(tmp_path / "missing.zip")])
    assert not any(isinstance(importer, payload_loader._CompileOnceImporter) for importer in sys.path_importer_cache.values())
    assert sys.path_importer_cache == before


def test_install_once(payload: Path) -> None:
    location = str(payload) + "/" + CORE.rstrip("/")
    try:
        payload_loader.install([location])
        first = sys.path_importer_cache[location]
        payload_loader.install([location])
        assert isinstance(first, payload_loader._CompileOnceImporter)
        assert sys.path_importer_cache[location] is first
        assert first.find_spec("anything.missing") is None
    finally:
        sys.path_importer_cache.pop(location, None)
