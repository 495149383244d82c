# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""model.model_module: ollama_model's parameters as specs (one or several models, names deduplicated)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.model.model_module import specs_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec


def test_specs_from_params_normalise_and_deduplicate() -> None:
    params = {"name": ["llama3.2", "Llama3.2:latest", "qwen2.5:0.5b"], "state": "loaded", "keep_alive": "600", "options": {"num_ctx": 2048}}
    specs, warnings = specs_from_params(params)
    assert [s.name.display for s in specs] == ["llama3.2:latest", "qwen2.5:0.5b"]
    assert specs[0].keep_alive == 600 and specs[0].options == {"num_ctx": 2048}
    assert warnings == []
    _specs, warnings = specs_from_params({"name": ["x"], "state": "present", "keep_alive": 5})
    assert warnings == ["keep_alive and options apply to state loaded; with state present they are not used"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"name": []}, "name is empty"),
        ({"name": ["bad name"]}, "invalid model name 'bad name'"),
        ({"name": ["a", "b"], "digest": "a" * 64}, "digest pins one model"),
        ({"name": ["x"], "digest": "sha256:12"}, "not 64"),
        ({"name": ["x"], "state": "absent", "force": True}, "force re-creates a model"),
        ({"name": ["x"], "system": "hi"}, "system describe a custom model, which needs from"),
        ({"name": ["x", "y"], "from": "a"}, "give a single name"),
        ({"name": ["x"], "from": "a", "update": True}, "update applies to models pulled from a registry"),
        ({"name": ["x"], "from": "a", "quantize": "q2"}, "invalid quantize 'q2'"),
        ({"name": ["x"], "from": "a", "messages": [{"role": "bot", "content": "x"}]}, "messages[0] has the role 'bot'"),
        ({"name": ["x"], "from": "a", "messages": "hi"}, "messages must be a list"),
        ({"name": ["x"], "from": "a", "license": 3}, "license must be a string or a list of strings, got int"),
        ({"name": ["x"], "from": "a", "system": 3}, "system must be a string, got int"),
        ({"name": ["x"], "state": "sleeping"}, "invalid state 'sleeping'"),
    ],
)
def test_specs_from_params_reject(params: Dict[str, Any], fragment: str) -> None:
    with pytest.raises(InvalidSpec) as error:
        specs_from_params(params)
    assert fragment in str(error.value)
