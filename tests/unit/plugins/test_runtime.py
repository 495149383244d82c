# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""meta/runtime.yml: every module is in the ``ollama`` action group, so module_defaults reach it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
MODULES = sorted(path.stem for path in (REPO / "plugins" / "modules").glob("*.py") if not path.name.startswith("_"))


def action_group() -> list:
    runtime = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return runtime["action_groups"]["ollama"]


def test_the_modules_are_found() -> None:
    assert "ollama_info" in MODULES
    assert len(MODULES) >= 2


def test_every_module_is_in_the_action_group_and_nothing_else() -> None:
    group = action_group()
    assert all(isinstance(entry, str) for entry in group), group
    assert len(group) == len(set(group)), "a module is listed twice: %s" % group
    missing = sorted(set(MODULES) - set(group))
    unknown = sorted(set(group) - set(MODULES))
    assert (missing, unknown) == ([], []), "add the missing modules to action_groups.ollama in meta/runtime.yml; remove the unknown ones"


def test_every_module_documents_its_action_group() -> None:
    """The doc fragment that tells ansible-doc users about group/llmops.ollama.ollama."""
    for module in MODULES:
        text = (REPO / "plugins" / "modules" / (module + ".py")).read_text(encoding="utf-8")
        assert re.search(r"^\s*- llmops\.ollama\._attributes\.ACTIONGROUP_OLLAMA\s*$", text, re.MULTILINE), module
