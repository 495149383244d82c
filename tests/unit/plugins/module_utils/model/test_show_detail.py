# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""model.show_detail: the detail of one model from /api/show, with its parameters parsed."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import parse_parameters
from ansible_collections.llmops.ollama.plugins.module_utils.model.show_detail import model_info_summary, show_detail


def test_parse_parameters_and_show_detail() -> None:
    text = (
        "num_ctx                        4096\n"
        'stop                           "<|eot_id|>"\n'
        "temperature                    0.7\n"
        "use_mmap                       false\n"
    )
    assert parse_parameters(text) == {"num_ctx": 4096, "stop": ["<|eot_id|>"], "temperature": 0.7, "use_mmap": False}
    assert parse_parameters(None) == {}
    show = {
        "modelfile": "FROM x",
        "parameters": text,
        "license": ["MIT", "Apache"],
        "capabilities": ["completion"],
        "model_info": {"general.architecture": "llama", "llama.context_length": 131072, "general.parameter_count": 1, "tokenizer.ggml.tokens": ["a"] * 5},
    }
    detail = show_detail(show)
    assert detail["license"] == "MIT\nApache"
    assert detail["model_info"] == {"architecture": "llama", "parameter_count": 1, "context_length": 131072}
    assert detail["parameters"]["num_ctx"] == 4096 and detail["system"] == "" and detail["messages"] == []
    assert model_info_summary(None) == {}
