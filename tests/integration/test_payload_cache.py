# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core/payload_loader.py's byte-code cache, in real ansible-playbook runs of ollama_model_sync on this host."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import model_vars

pytestmark = pytest.mark.integration

MODULE_UTILS = Path(__file__).resolve().parents[2] / "plugins" / "module_utils"


def _sync(sim, tmp_path: Path, cache: str, check: bool = False) -> dict:
    variables = dict(model_vars(sim, tmp_path), steps=[{"models": ["smollm2:135m"]}])
    run = run_playbook("sync.yml", variables, check=check, env={"LLMOPS_OLLAMA_BYTECODE_CACHE": cache})
    assert run.rc == 0, run.stdout[-3000:]
    result = run.results("Sync")["results"][0]
    assert not result.get("failed"), result
    return result


def _entries(cache: Path) -> dict[str, tuple[int, int]]:
    """Each entry with its inode and modification time: a rewritten entry gets a new inode (a rename over it)."""
    return {path.name: (path.stat().st_ino, path.stat().st_mtime_ns) for path in cache.glob("*.code")}


def test_a_converged_sync_loads_what_the_first_run_compiled(sim, tmp_path: Path) -> None:
    cache = tmp_path / "home-cache" / "bytecode"
    first = _sync(sim, tmp_path, str(cache))
    assert first["changed"] is True
    entries = _entries(cache)
    # every file of core/ and model/ that the sync imports (not the packages' __init__.py, which zipimport loads)
    shipped = [path for package in ("core", "model") for path in (MODULE_UTILS / package).glob("*.py") if path.name != "__init__.py"]
    assert 30 <= len(entries) <= len(shipped), sorted(entries)
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert all(stat.S_IMODE((cache / name).stat().st_mode) == 0o600 for name in entries)

    # a miss compiles and replaces the entry: unchanged entries mean that the next runs loaded every file from the cache
    again = _sync(sim, tmp_path, str(cache))
    assert again["changed"] is False
    checked = _sync(sim, tmp_path, str(cache), check=True)
    assert checked["changed"] is False
    assert _entries(cache) == entries
