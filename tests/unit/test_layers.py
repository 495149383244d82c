# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The layer rule of docs/architecture.md, checked on the imports of every module_utils file."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, Set

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
PREFIX = "ansible_collections.llmops.ollama.plugins."
ALLOWED = {"core": {"core"}, "model": {"core", "model"}, "proxy": {"core", "proxy"}, "mirror": {"core", "mirror"}}
# what does I/O: the planner may reach none of these, at module level, however indirectly
IO_FILES = {"core.client", "core.registry", "core.manifest", "core.files", "core.host", "core.health", "core.ledger", "model.blobs", "model.pull"}
IO_STDLIB = {"os", "socket", "subprocess", "fcntl", "urllib", "http", "shutil", "tempfile", "threading"}


def _imports(path: Path, top_level_only: bool) -> Set[str]:
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: Set[str] = set()
    for node in nodes:
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module.startswith(PREFIX):
                for alias in node.names:
                    found.add(node.module + "." + alias.name)
            else:
                found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def _collection_targets(imports: Set[str]) -> Set[str]:
    """'model.plan' for every module_utils file an import reaches (a module or a name in it)."""
    targets = set()
    for name in imports:
        if not name.startswith(PREFIX + "module_utils."):
            continue
        parts = name[len(PREFIX + "module_utils.") :].split(".")
        if len(parts) >= 2 and (MODULE_UTILS / parts[0] / (parts[1] + ".py")).is_file():
            targets.add(parts[0] + "." + parts[1])
        elif (MODULE_UTILS / (parts[0] + ".py")).is_file():
            targets.add(parts[0])
    return targets


def _files() -> Dict[str, Path]:
    return {"%s.%s" % (path.parent.name, path.stem): path for path in MODULE_UTILS.glob("*/*.py") if path.stem != "__init__"}


def test_module_utils_is_packages_only() -> None:
    loose = sorted(path.name for path in MODULE_UTILS.glob("*.py"))
    assert loose == [], "module_utils files belong in a package (core, model, proxy, mirror): %s" % loose
    assert {path.name for path in MODULE_UTILS.iterdir() if path.is_dir() and path.name != "__pycache__"} == set(ALLOWED)


@pytest.mark.parametrize("name", sorted(_files()))
def test_layer_rule(name: str) -> None:
    package = name.split(".", maxsplit=1)[0]
    imports = _imports(_files()[name], top_level_only=False)
    assert not any(item.startswith(PREFIX + "modules") for item in imports), "%s imports a module" % name
    reached = {target.split(".")[0] for target in _collection_targets(imports)}
    assert reached <= ALLOWED[package], "%s (package %s) imports %s; allowed: %s" % (
        name,
        package,
        sorted(reached - ALLOWED[package]),
        sorted(ALLOWED[package]),
    )


def test_planner_imports_no_io() -> None:
    files = _files()
    seen: Set[str] = set()
    todo = ["model.plan"]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        imports = _imports(files[current], top_level_only=True)
        stdlib = {item.split(".")[0] for item in imports if not item.startswith(PREFIX)}
        assert not stdlib & IO_STDLIB, "%s, reached from the planner, imports %s" % (current, sorted(stdlib & IO_STDLIB))
        todo.extend(_collection_targets(imports))
    assert not seen & IO_FILES, "the planner reaches files that do I/O: %s" % sorted(seen & IO_FILES)
    assert {"model.plan", "model.spec", "model.definition", "core.names"} <= seen
