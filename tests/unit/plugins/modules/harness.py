# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a module in-process, and checking its documentation against its argument spec."""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from ansible.module_utils.testing import patch_module_args

CONNECTION_OPTIONS = ("api_url", "api_key", "validate_certs", "timeout")


def run_module(module: Any, args: dict, capsys: pytest.CaptureFixture, check_mode: bool = False, diff: bool = False) -> dict:
    """module.main() with these arguments; the JSON it printed."""
    args = dict(args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit):
        module.main()
    return json.loads(capsys.readouterr().out)


def run_model_module(module: Any, args: dict, capsys: pytest.CaptureFixture, tmp_path: Path, check_mode: bool = False, diff: bool = False) -> dict:
    """A model module with its ledger (and, for the ones that pull, its models directory) under tmp_path."""
    args = dict(args)
    args.setdefault("state_dir", str(tmp_path / "state"))
    if "models_path" in module.argument_spec():
        args.setdefault("models_path", str(tmp_path / "models"))
    return run_module(module, args, capsys, check_mode, diff)


def assert_documented(module: Any) -> None:
    """Every option of the argument spec (but the shared connection ones) documented with its type, default, choices, elements."""
    documentation = yaml.safe_load(module.DOCUMENTATION)
    documented = dict(fragment_options(documentation), **documentation["options"])
    documented = {key: option for key, option in documented.items() if key not in CONNECTION_OPTIONS}
    spec = module.argument_spec()
    assert set(documented) == {k for k in spec if k not in CONNECTION_OPTIONS}, module.__name__
    for key, option in documented.items():
        assert option.get("type", "str") == spec[key]["type"], key
        assert option.get("default") == spec[key].get("default"), key
        assert option.get("choices") == spec[key].get("choices"), key
        assert option.get("elements") == spec[key].get("elements"), key
    yaml.safe_load(module.EXAMPLES)
    assert_descriptions_are_text(documentation)
    assert_descriptions_are_text(yaml.safe_load(module.RETURN))


def fragment_options(documentation: dict) -> dict:
    """The options the module's own doc fragments (llmops.ollama._name, or llmops.ollama._name.VARIABLE) add to its documentation."""
    options: dict = {}
    for fragment in documentation.get("extends_documentation_fragment") or []:
        parts = fragment.split(".")
        if parts[:2] != ["llmops", "ollama"] or len(parts) not in (3, 4):
            continue
        source = importlib.import_module("ansible_collections.llmops.ollama.plugins.doc_fragments.%s" % parts[2])
        variable = parts[3] if len(parts) == 4 else "DOCUMENTATION"
        options.update(yaml.safe_load(getattr(source.ModuleDocFragment, variable)).get("options") or {})
    return options


def documented_options(module: Any) -> dict:
    """A module's options as ansible-doc shows them: its doc fragments', each replaced whole by the module's own of that name."""
    documentation = yaml.safe_load(module.DOCUMENTATION)
    return dict(fragment_options(documentation), **documentation["options"])


def assert_documented_exactly(module: Any) -> None:
    """Every option of the argument spec, the connection ones too, documented (fragments included) with its type, default,
    choices, elements; and nothing documented that the spec lacks."""
    documented = documented_options(module)
    spec = module.argument_spec()
    assert set(documented) == set(spec), module.__name__
    for key, option in documented.items():
        assert option.get("type", "str") == spec[key]["type"], key
        assert option.get("default") == spec[key].get("default"), key
        assert option.get("choices") == spec[key].get("choices"), key
        assert option.get("elements") == spec[key].get("elements"), key


def assert_descriptions_are_text(node: Any, path: str = "") -> None:
    """A 'word: text' line in a plain YAML scalar silently becomes a dict; ansible-doc then refuses the page."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description":
                for item in value if isinstance(value, list) else [value]:
                    assert isinstance(item, str), "%s.description: %r" % (path, item)
            assert_descriptions_are_text(value, "%s.%s" % (path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            assert_descriptions_are_text(value, "%s[%d]" % (path, index))
