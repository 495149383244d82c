# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model and ollama_model_info in-process, with the fake Ollama of test_models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.llmops.ollama.plugins.modules import ollama_model, ollama_model_info
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama
from tests.unit.plugins.modules.harness import assert_documented
from tests.unit.plugins.modules.harness import run_model_module as run


def test_documentation_matches_the_argument_spec() -> None:
    for module in (ollama_model, ollama_model_info):
        assert_documented(module)


def test_pull_then_unchanged_with_record_actions_and_diff(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    digest = fake.publish("llama3.2:1b")
    result = run(ollama_model, {"name": ["llama3.2:1b"]}, capsys, tmp_path, diff=True)
    assert result["changed"] is True
    assert result["actions"] == ["pulled llama3.2:1b"]
    assert result["model"]["digest"] == digest and result["model"]["actions"] == ["pulled"]
    assert result["models"] == [result["model"]]
    assert result["diff"] == {"before": {"llama3.2:1b": {"state": "absent"}}, "after": {"llama3.2:1b": {"state": "present", "digest": digest}}}
    assert result["pull"]["models"] == 1 and result["pull"]["bytes"] == 1110  # the layer and the config blob (1000 B + 110 B)
    again = run(ollama_model, {"name": ["llama3.2:1b"]}, capsys, tmp_path)
    assert again["changed"] is False and again["actions"] == []


def test_check_mode(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("llama3.2:1b")
    result = run(ollama_model, {"name": ["llama3.2:1b"], "state": "loaded"}, capsys, tmp_path, check_mode=True)
    assert result["changed"] is True and result["actions"] == ["pulled llama3.2:1b", "loaded llama3.2:1b"]
    assert fake.mutations() == []
    assert not (tmp_path / "state").exists()


def test_check_mode_fails_for_a_model_the_registry_lacks_as_the_real_run_does(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("ok:1b")
    predicted = run(ollama_model, {"name": ["ok:1b", "nope:1b"]}, capsys, tmp_path, check_mode=True)
    actual = run(ollama_model, {"name": ["ok:1b", "nope:1b"]}, capsys, tmp_path)
    prefix = "1 of 2 models failed: model 'nope:1b' not found in registry.ollama.ai/library: "
    assert predicted["failed"] is True and predicted["msg"].startswith(prefix + "the registry has no manifest for nope:1b")
    assert actual["failed"] is True and actual["msg"].startswith(prefix)
    assert [m["actions"] for m in predicted["models"]] == [m["actions"] for m in actual["models"]] == [["pulled"], []]
    assert "warnings" not in predicted


def test_failure_carries_the_records(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("ok:1b")
    result = run(ollama_model, {"name": ["ok:1b", "nope:1b"]}, capsys, tmp_path)
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 2 models failed: model 'nope:1b' not found in registry.ollama.ai/library")
    assert [m["status"] for m in result["models"]] == ["stopped", "failed"]
    assert "model" not in result


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"name": ["x"], "keep_alive": "soon", "state": "loaded"}, "invalid keep_alive 'soon'"),
        ({"name": ["x"], "min_free_space": "1,5 GB"}, "min_free_space: invalid size '1,5 GB'"),
        ({"name": ["x"], "max_concurrent_pulls": -1}, "max_concurrent_pulls must be 0 (no limit) or more"),
        ({"name": ["x"], "retry_delay": -1}, "retry_delay must be 0 or more seconds"),
        ({"name": ["x"], "state_dir": ""}, "state_dir is empty"),
        ({"name": ["x"], "registry_url": "https://user:s3cret@reg.example.com"}, "registry_url must not carry credentials (user:password@"),
        ({"name": ["x"], "registry_url": "tok3n@reg.example.com/v2"}, "registry_url must not carry credentials"),
    ],
)
def test_bad_input_before_any_request(fake: FakeOllama, capsys, tmp_path: Path, args: dict, fragment: str) -> None:
    result = run(ollama_model, args, capsys, tmp_path) if "state_dir" not in args else _raw(args, capsys)
    assert result["failed"] is True and fragment in result["msg"]
    assert "s3cret" not in result["msg"] and "tok3n" not in result["msg"], "a secret in registry_url is never repeated"
    assert fake.requests == []


def _raw(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        ollama_model.main()
    return json.loads(capsys.readouterr().out)


def test_info_search_and_detail(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    for name, size in (("a:1b", 100), ("b:1b", 5000), ("c:1b", 300)):
        fake.put(name, size=size)
    fake.shows["registry.ollama.ai/library/b:1b"] = {"system": "hi", "capabilities": ["completion"], "parameters": "num_ctx 4096"}
    result = run(ollama_model_info, {"sort_by": "size", "sort_desc": True, "page_size": 2}, capsys, tmp_path)
    assert [m["name"] for m in result["models"]] == ["b:1b", "c:1b"]
    assert (result["total"], result["pages"], result["changed"]) == (3, 2, False)
    detail = run(ollama_model_info, {"name": "b:1b", "detail": True}, capsys, tmp_path)
    assert detail["model"]["detail"]["system"] == "hi"
    assert detail["model"]["detail"]["parameters"] == {"num_ctx": 4096}
    assert fake.mutations() == []
    bad = run(ollama_model_info, {"detail": True}, capsys, tmp_path)
    assert bad["failed"] is True and bad["msg"] == "detail: true needs name: the model whose /api/show detail to return"
