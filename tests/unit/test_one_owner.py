# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One owner per concern (issue 18): a concern is defined once in plugins/ and roles/, and used from there."""

from __future__ import annotations

import ast
import re
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
    # the model options: boolean() itself; the sync entries: Ansible's ArgumentSpecValidator (type: bool is boolean())
    assert "from ansible.module_utils.parsing.convert_bool import boolean" in (ROOT / "plugins/module_utils/model/spec.py").read_text()
    assert "from ansible.module_utils.common.arg_spec import ArgumentSpecValidator" in (ROOT / "plugins/module_utils/model/sync_input.py").read_text()


def test_sync_entries_are_validated_by_ansible_from_the_model_argument_spec() -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import model_argument_spec
    from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import ENTRY_SPEC, SyncError, parse_models

    assert set(model_argument_spec()) <= set(ENTRY_SPEC), "one declaration of a model's options for ollama_model and the sync entries"
    # the validator's own checks reach the nested options of the declaration
    for entry, words in [
        ({"name": "bot", "from": "a:1b", "messages": [{"role": "bot", "content": "hi"}]}, "value of role must be one of: system, user, assistant"),
        ({"name": "bot", "from": "a:1b", "files": [{"path": "/x", "size": 3}]}, "files has an unknown key 'size'; its keys are: name, path"),
        ({"name": "a", "require_capabilities": ["flying"]}, "require_capabilities must be one or more of: completion, tools"),
    ]:
        try:
            parse_models([entry])
        except SyncError as exc:
            assert words in str(exc), str(exc)
        else:
            raise AssertionError("accepted %r" % entry)


def test_sync_entries_and_model_options_take_ansibles_boolean_words() -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import check_options
    from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import parse_models

    declared, _warnings = parse_models([{"name": "x", "update": "y", "force": "off", "insecure": 1, "check_memory": "True"}])
    assert (declared[0].spec.update, declared[0].spec.force, declared[0].spec.insecure) == (True, False, True)
    options, _warnings = check_options({"use_mmap": "no", "numa": "t"})
    assert options == {"use_mmap": False, "numa": True}


def _check_mode_reads(path: Path) -> List[int]:
    """Lines that read ``check_mode`` for anything but handing it on as ``check_mode=`` (to the executor that decides)."""
    tree = ast.parse(path.read_text())
    handed_on = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.keyword) and node.arg == "check_mode"}
    lines = []
    for node in ast.walk(tree):
        reads = (isinstance(node, ast.Name) and node.id == "check_mode") or (isinstance(node, ast.Attribute) and node.attr == "check_mode")
        if reads and isinstance(getattr(node, "ctx", None), ast.Load) and id(node) not in handed_on:
            lines.append(node.lineno)
    return sorted(set(lines))


def test_check_mode_is_decided_only_in_the_executor() -> None:
    """In the model code only model/apply.py (the executor) decides on check mode; the sync follows the executor's schedule."""
    decided = {}
    for path in sorted((ROOT / "plugins" / "module_utils" / "model").glob("*.py")):
        lines = _check_mode_reads(path)
        if lines:
            decided[path.name] = lines
    assert set(decided) == {"apply.py"}, "check-mode decisions outside the executor: %s" % {k: v for k, v in decided.items() if k != "apply.py"}


def test_the_sync_module_writes_its_lock_file_and_history_through_the_executor() -> None:
    for name in ("sync_module.py", "lock_file.py", "sync.py", "sync_output.py"):
        text = (ROOT / "plugins" / "module_utils" / "model" / name).read_text()
        assert not re.search(r"\bcheck_mode\b", text) and "atomic_write" not in text and "append_history(" not in text, name


def test_the_inference_probe_is_defined_once() -> None:
    """What to ask a model and how to judge its answer: core/probe.py only (the watchdog imports that file, installed beside it)."""
    defined = {}
    for path in _python_files():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Assign):
                names = [target.id for target in node.targets if isinstance(target, ast.Name)]
            elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                names = [node.name]
            for name in names:
                if name in ("EMBEDDING_FAMILIES", "PROBE_PROMPT", "is_embedding_model", "smallest_model", "probe_request", "answer_problem", "_embeds"):
                    defined.setdefault(name, []).append(str(path.relative_to(ROOT)))
    assert defined == {
        name: ["plugins/module_utils/core/probe.py"]
        for name in ("EMBEDDING_FAMILIES", "PROBE_PROMPT", "is_embedding_model", "smallest_model", "probe_request", "answer_problem")
    }


def test_the_url_credential_rule_is_defined_once() -> None:
    """Finding and masking credentials in a URL: core/urls.py only (the watchdog logs a webhook's origin, never a redacted URL)."""
    defined = {}
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name in ("userinfo", "query_secrets", "has_credentials", "secrets", "redact", "mask_params"):
                defined.setdefault(node.name, []).append(str(path.relative_to(ROOT)))
    assert defined == {
        name: ["plugins/module_utils/core/urls.py"] for name in ("userinfo", "query_secrets", "has_credentials", "secrets", "redact", "mask_params")
    }
