# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core/payload_loader.py: this collection's module_utils load from a zip (an AnsiballZ payload) with one compile each."""

from __future__ import annotations

import json
import os
import stat
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
compiled, unmarshalled = [], []
def hook(event, args):
    if event == "compile" and str(args[1]).endswith("probe.py"):
        compiled.append(args[1])
    elif event == "marshal.loads":
        unmarshalled.append(1)
sys.addaudithook(hook)
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
    "unmarshalled": len(unmarshalled),
    "code_file": probe.is_embedding_model.__code__.co_filename,
    "loader": type(probe.__spec__.loader).__name__,
    "file": probe.__file__,
    "first_line": linecache.getline(probe.__file__, 1, probe.__dict__),
    "works": probe.is_embedding_model({"details": {"family": "gte"}}) and not probe.is_embedding_model({"details": {"family": "llama"}}),
}))
"""


def _build(path: Path, probe_source: str) -> Path:
    """A zip laid out as AnsiballZ lays out a module's payload: empty namespace packages, then the real files."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as payload:
        for package in ("ansible_collections", "ansible_collections/llmops", "ansible_collections/llmops/ollama", "ansible_collections/llmops/ollama/plugins"):
            payload.writestr(package + "/__init__.py", "")
        payload.writestr("ansible_collections/llmops/ollama/plugins/module_utils/__init__.py", "")
        for name in ("__init__.py", "payload_loader.py"):
            payload.write(ROOT / "plugins" / "module_utils" / "core" / name, CORE + name)
        payload.writestr(CORE + "probe.py", probe_source)
        # a package below one of ours (the collection has none today): zipimport's own spec, and its modules load
        payload.writestr(CORE + "below/__init__.py", "")
        payload.writestr(CORE + "below/leaf.py", "ANSWER = 42\n")
    return path


PROBE = (ROOT / "plugins" / "module_utils" / "core" / "probe.py").read_text()


@pytest.fixture(name="payload")
def fixture_payload(tmp_path: Path) -> Path:
    return _build(tmp_path / "payload.zip", PROBE)


def _child(payload: Path, mode: str, cache: str = "off", flags: tuple = ()) -> dict:
    """Import probe.py from the payload in a fresh interpreter, with the byte-code cache in ``cache`` (or off)."""
    env = dict(os.environ, LLMOPS_OLLAMA_BYTECODE_CACHE=cache)
    run = subprocess.run([sys.executable, "-I", *flags, "-c", CHILD, str(payload), mode], capture_output=True, text=True, check=False, timeout=60, env=env)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _entries(cache: Path) -> list:
    return sorted(cache.glob("*.code"))


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


def test_the_second_run_loads_the_byte_code_kept_by_the_first(payload: Path, tmp_path: Path) -> None:
    """A converged fleet runs the same payload again and again: the first run compiles and keeps, the next ones load."""
    cache = tmp_path / "cache" / "bytecode"
    first = _child(payload, "with", str(cache))
    assert first["compiles"] == 1 and first["works"]
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    entries = _entries(cache)
    # probe.py; the package files (__init__.py, and payload_loader.py that __init__.py imports before it installs the
    # importer) and the package below are zipimport's, as before
    assert len(entries) == 1, entries
    assert all(stat.S_IMODE(entry.stat().st_mode) == 0o600 for entry in entries)

    second = _child(payload, "with", str(cache))
    assert second["compiles"] == 0, "the second run compiled probe.py again"
    assert second["unmarshalled"] >= 1
    assert second["works"] and second["below"] == 42
    assert second["file"] == "%s/%sprobe.py" % (payload, CORE)
    assert second["first_line"].startswith("#"), "a traceback could not show the source"
    # the code names the file by its path in the payload, whichever temporary directory held the zip
    assert first["code_file"] == second["code_file"] == CORE + "probe.py"
    assert _entries(cache) == entries


def test_a_changed_file_is_compiled_again(payload: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _child(payload, "with", str(cache))
    before = set(_entries(cache))
    changed = _child(_build(tmp_path / "changed.zip", PROBE + "\nCHANGED = True\n"), "with", str(cache))
    assert changed["compiles"] == 1 and changed["works"]
    assert len(set(_entries(cache)) - before) == 1
    assert _child(payload, "with", str(cache))["compiles"] == 0, "the first payload's entry is still there"


@pytest.mark.parametrize("damage", [b"", b"not marshal data", b"\xe9\x00\x00\x00\x00"])
def test_a_damaged_entry_is_compiled_again_and_replaced(payload: Path, tmp_path: Path, damage: bytes) -> None:
    cache = tmp_path / "cache"
    _child(payload, "with", str(cache))
    for entry in _entries(cache):
        entry.write_bytes(damage)
    again = _child(payload, "with", str(cache))
    assert again["compiles"] == 1 and again["works"]
    assert _child(payload, "with", str(cache))["compiles"] == 0, "the damaged entry was not replaced"


def test_a_cache_others_can_write_is_not_used(payload: Path, tmp_path: Path) -> None:
    """Byte-code is code: a directory or an entry that someone else could have written is never loaded."""
    cache = tmp_path / "shared"
    _child(payload, "with", str(cache))
    for entry in _entries(cache):
        entry.chmod(0o666)
    assert _child(payload, "with", str(cache))["compiles"] == 1, "an entry others can write was loaded"

    cache.chmod(0o777)
    for entry in _entries(cache):
        entry.unlink()
    run = _child(payload, "with", str(cache))
    assert run["compiles"] == 1 and run["works"]
    assert _entries(cache) == [], "a directory others can write was written"


def test_the_cache_is_off_when_asked(payload: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    for _run in range(2):
        assert _child(payload, "with", "off")["compiles"] == 1
        # Python's own switch for byte-code files (python -B, PYTHONDONTWRITEBYTECODE)
        assert _child(payload, "with", str(cache), flags=("-B",))["compiles"] == 1
    assert not cache.exists()


def test_an_unusable_cache_costs_only_the_compile(payload: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the directory would be")
    run = _child(payload, "with", str(blocked / "bytecode"))
    assert run["compiles"] == 1 and run["works"]


def test_the_cache_keeps_at_most_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write past CACHE_ENTRIES removes the oldest half (entries of payloads long replaced)."""
    monkeypatch.setattr(payload_loader, "CACHE_ENTRIES", 4)
    code = compile("X = 1", "x.py", "exec")
    for index in range(4):
        path = tmp_path / ("%02d.code" % index)
        payload_loader._write(str(tmp_path), str(path), code)
        os.utime(path, (index, index))
    assert [entry.name for entry in _entries(tmp_path)] == ["00.code", "01.code", "02.code", "03.code"]
    payload_loader._write(str(tmp_path), str(tmp_path / "04.code"), code)
    assert [entry.name for entry in _entries(tmp_path)] == ["02.code", "03.code", "04.code"]
    assert payload_loader._read(str(tmp_path / "04.code")).co_filename == "x.py"
    assert not list(tmp_path.glob(".tmp-*")), "a temporary file was left"
