# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One owner per concern (issue 18): a concern is defined once in plugins/ and roles/, and used from there."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
# the words of a hand-written boolean parse (true/false alone are JSON and Go literals, not a parse of user words)
USER_BOOLEAN_WORDS = {"yes", "no", "on", "off", "y", "n"}


def _python_files() -> Iterator[Path]:
    for top in ("plugins", "roles"):
        yield from sorted((ROOT / top).rglob("*.py"))


def _literal_word_sets(path: Path) -> Iterator[Tuple[int, set]]:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, (ast.Set, ast.Tuple, ast.List)):
            items = node.elts
        elif isinstance(node, ast.Dict):
            items = [key for key in node.keys if key is not None]
        else:
            continue
        words = {item.value.strip().lower() for item in items if isinstance(item, ast.Constant) and isinstance(item.value, str)}
        yield node.lineno, words


def test_the_boolean_parse_is_ansibles_own() -> None:
    """No file words its own boolean parse: every one is ansible.module_utils.parsing.convert_bool.boolean (or type: bool)."""
    own: List[str] = []
    for path in _python_files():
        for line, words in _literal_word_sets(path):
            if len(words & USER_BOOLEAN_WORDS) >= 2:
                own.append("%s:%d" % (path.relative_to(ROOT), line))
    assert own == [], "hand-written boolean parses (use ansible.module_utils.parsing.convert_bool.boolean): %s" % own


def test_the_boolean_parsers_use_it() -> None:
    for name in ("plugins/module_utils/model/sync.py", "plugins/module_utils/model/spec.py"):
        assert "from ansible.module_utils.parsing.convert_bool import boolean" in (ROOT / name).read_text(), name


def test_sync_entries_and_model_options_take_ansibles_boolean_words() -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import check_options
    from ansible_collections.llmops.ollama.plugins.module_utils.model.sync import parse_models

    declared, _warnings = parse_models([{"name": "x", "update": "y", "force": "off", "insecure": 1, "check_memory": "True"}])
    assert (declared[0].spec.update, declared[0].spec.force, declared[0].spec.insecure) == (True, False, True)
    options, _warnings = check_options({"use_mmap": "no", "numa": "t"})
    assert options == {"use_mmap": False, "numa": True}
