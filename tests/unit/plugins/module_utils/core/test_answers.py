# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for plugins/module_utils/_answers.py: every answer shape, good and bad, as tables."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.answers import AnswerError

TAG = {
    "name": "llama3.2:latest",
    "model": "llama3.2:latest",
    "modified_at": "2026-01-01T00:00:00Z",
    "size": 2019393189,
    "digest": "a80c4f17acd55265feec403c7aef86be0c25983ab279d83f3bcd3abbcb5b8b72",
    "details": {"format": "gguf", "family": "llama", "families": None, "parameter_size": "3.2B", "quantization_level": "Q4_K_M"},
    "capabilities": ["completion", "tools"],
}
LOADED = dict(TAG, size_vram=100, expires_at="2026-01-01T00:05:00Z", context_length=4096)


@pytest.mark.parametrize(
    ("shape", "value"),
    [
        (answers.TAGS, {"models": []}),
        (answers.TAGS, {"models": None}),
        (answers.TAGS, {"models": [TAG]}),
        (answers.TAGS, {"models": [dict(TAG, extra={"deep": [1, 2, {"x": None}]})]}),
        (answers.TAGS, {"models": [{"name": "x:latest"}]}),
        (answers.PS, {"models": [LOADED]}),
        (answers.VERSION, {"version": "0.32.15"}),
        (answers.SHOW, {}),
        (answers.SHOW, {"modelfile": "FROM x", "license": ["a", "b"], "capabilities": ["vision"], "model_info": {"general.architecture": "llama"}}),
        (answers.SHOW, {"license": "MIT", "capabilities": None, "details": None}),
        (answers.PROGRESS, {"status": "pulling abc", "digest": "sha256:00", "total": 10, "completed": 3}),
        (answers.PROGRESS, {"error": "pull model manifest: file does not exist"}),
        (
            answers.MANIFEST,
            {"schemaVersion": 2, "config": {"digest": "sha256:00", "size": 1}, "layers": [{"digest": "sha256:11", "size": 2, "mediaType": "m"}]},
        ),
        (answers.GENERATE, {"response": "", "done": True, "done_reason": "load"}),
        (answers.EMBED, {"embeddings": [[0.1, 2, -3e-5]]}),
    ],
)
def test_good_answers_pass_unchanged(shape: Any, value: Any) -> None:
    assert answers.check(value, shape, "GET /x") is value


@pytest.mark.parametrize(
    ("shape", "value", "field", "problem"),
    [
        (answers.TAGS, {"models": [1]}, "models[0]", "is an integer, expected an object"),
        (answers.TAGS, {"models": ["x"]}, "models[0]", "is a string, expected an object"),
        (answers.TAGS, {"models": {}}, "models", "is an object, expected a list"),
        (answers.TAGS, {"models": "all"}, "models", "is a string, expected a list"),
        (answers.TAGS, {}, "models", "is missing"),
        (answers.TAGS, [], "", "is a list, expected an object"),
        (answers.TAGS, None, "", "is null, expected an object"),
        (answers.TAGS, {"models": [{"model": "x"}]}, "models[0].name", "is missing"),
        (answers.TAGS, {"models": [{"name": None}]}, "models[0].name", "is missing"),
        (answers.TAGS, {"models": [{"name": 7}]}, "models[0].name", "is an integer, expected a string"),
        (answers.TAGS, {"models": [dict(TAG, size="2 GB")]}, "models[0].size", "is a string, expected an integer"),
        (answers.TAGS, {"models": [dict(TAG, size=True)]}, "models[0].size", "is a boolean, expected an integer"),
        (answers.TAGS, {"models": [dict(TAG, size=1.5)]}, "models[0].size", "is a number, expected an integer"),
        (answers.TAGS, {"models": [dict(TAG, size=2**70)]}, "models[0].size", "is out of range"),
        (answers.TAGS, {"models": [dict(TAG, details=[])]}, "models[0].details", "is a list, expected an object"),
        (answers.TAGS, {"models": [dict(TAG, details={"families": "llama"})]}, "models[0].details.families", "is a string, expected a list"),
        (answers.TAGS, {"models": [dict(TAG, capabilities=[1])]}, "models[0].capabilities[0]", "is an integer, expected a string"),
        (answers.PS, {"models": [dict(LOADED, size_vram="1")]}, "models[0].size_vram", "is a string, expected an integer"),
        (answers.PS, {"models": [dict(LOADED, expires_at=5)]}, "models[0].expires_at", "is an integer, expected a string"),
        (answers.VERSION, {"version": 32}, "version", "is an integer, expected a string"),
        (answers.VERSION, {}, "version", "is missing"),
        (answers.SHOW, {"modelfile": ["FROM x"]}, "modelfile", "is a list, expected a string"),
        (answers.SHOW, {"model_info": []}, "model_info", "is a list, expected an object"),
        (answers.SHOW, {"capabilities": "vision"}, "capabilities", "is a string, expected a list"),
        (answers.PROGRESS, {"completed": "3"}, "completed", "is a string, expected an integer"),
        (answers.PROGRESS, {"status": {"x": 1}}, "status", "is an object, expected a string"),
        (answers.PROGRESS, "success", "", "is a string, expected an object"),
        (answers.MANIFEST, {"layers": [{"digest": "sha256:1"}]}, "layers[0].size", "is missing"),
        (answers.MANIFEST, {"layers": [{"digest": 5, "size": 1}]}, "layers[0].digest", "is an integer, expected a string"),
        (answers.MANIFEST, {"config": {}}, "layers", "is missing"),
        (answers.EMBED, {"embeddings": [["a"]]}, "embeddings[0][0]", "is a string, expected a number"),
        (answers.GENERATE, {"done": "yes"}, "done", "is a string, expected a boolean"),
    ],
)
def test_bad_answers_name_the_endpoint_and_the_field(shape: Any, value: Any, field: str, problem: str) -> None:
    with pytest.raises(AnswerError) as caught:
        answers.check(value, shape, "GET /api/tags")
    assert caught.value.field == field
    assert caught.value.problem.startswith(problem)
    assert str(caught.value).startswith("unexpected answer from GET /api/tags")


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "is not JSON"),
        (b"", "is not JSON"),
        (b'{"models": [', "is not JSON"),
        (('{"models": [], "x": %s}' % nested(5000)).encode(), "is nested deeper"),
        (('{"models": [{"name": "a", "details": {"x": %s}}]}' % nested(40)).encode(), "is nested deeper"),
    ],
)
def test_unreadable_or_too_deep_bodies_are_refused(body: bytes, problem: str) -> None:
    with pytest.raises(AnswerError) as caught:
        answers.parse(body, answers.TAGS, "GET /api/tags")
    assert problem in str(caught.value)


def test_nesting_inside_strings_is_not_counted() -> None:
    text = json.dumps({"models": [{"name": "[" * 100 + '\\"{'}]})
    assert answers.parse(text.encode(), answers.TAGS, "GET /api/tags")["models"][0]["name"].startswith("[[")


def test_size_bound() -> None:
    with pytest.raises(AnswerError, match="larger than 10 bytes"):
        answers.parse(b'{"models": []}', answers.TAGS, "GET /api/tags", max_bytes=10)


def test_models_of_reads_null_as_empty() -> None:
    assert answers.models_of({"models": None}, "GET /api/ps", answers.PS) == []
    assert answers.models_of({"models": [LOADED]}, "GET /api/ps", answers.PS) == [LOADED]
