# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model_sync in-process, with the fake Ollama of test_models."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_model_info, ollama_model_sync
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama
from tests.unit.plugins.modules.harness import assert_documented
from tests.unit.plugins.modules.harness import run_model_module as run


def test_documentation_matches_the_argument_spec() -> None:
    assert_documented(ollama_model_sync)


def test_sync_then_unchanged_with_diff_history_and_lock_file(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("a")
    fake.publish("b")
    lock = tmp_path / "lock.yml"
    first = run(ollama_model_sync, {"models": ["a", {"name": "b", "state": "loaded"}], "lock_file": str(lock)}, capsys, tmp_path, diff=True)
    assert first["changed"] is True and first["lock_file_changed"] is True
    assert first["summary"]["added"] == 2 and first["summary"]["loaded"] == 1
    assert first["diff"]["before"] == "" and first["diff"]["after"].splitlines()[1].startswith("b:latest  ")
    assert first["pull"]["models"] == 2
    assert [model["name"] for model in json.loads(lock.read_text())["models"]] == ["a:latest", "b:latest"]
    again = run(ollama_model_sync, {"models": ["a", {"name": "b", "state": "loaded"}], "lock_file": str(lock)}, capsys, tmp_path)
    assert (again["changed"], again["lock_file_changed"], again["summary"]["unchanged"]) == (False, False, 2)
    info = run(ollama_model_info, {"history": 1}, capsys, tmp_path)
    assert [entry["summary"]["unchanged"] for entry in info["history"]] == [2]
    assert "history" not in run(ollama_model_info, {}, capsys, tmp_path)

    fake.requests.clear()
    pinned = run(ollama_model_sync, {"models": ["a", "b"], "lock_file": str(lock), "lock_mode": "read"}, capsys, tmp_path)
    assert pinned["changed"] is False and [path for _m, path, _p in fake.requests] == ["/api/tags", "/api/ps", "/api/version"]
    # the same pins given as text (a lock file kept on the controller): the same result, and a pin that differs fails before any request
    fake.requests.clear()
    given = run(ollama_model_sync, {"models": ["a", "b"], "lock_content": lock.read_text(), "lock_mode": "read"}, capsys, tmp_path)
    assert given["changed"] is False and [path for _m, path, _p in fake.requests] == ["/api/tags", "/api/ps", "/api/version"]
    assert "lock_file_changed" not in given
    fake.requests.clear()
    other = run(ollama_model_sync, {"models": [{"name": "a", "digest": "1" * 64}], "lock_content": lock.read_text(), "lock_mode": "read"}, capsys, tmp_path)
    assert other["failed"] is True and "differs from sha256:" in other["msg"] and "in the lock file given as lock_content" in other["msg"]
    assert fake.requests == []


def test_check_mode_writes_nothing(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("a")
    lock = tmp_path / "lock.yml"
    result = run(ollama_model_sync, {"models": ["a"], "lock_file": str(lock)}, capsys, tmp_path, check_mode=True)
    assert result["changed"] is True and result["lock_file_changed"] is True
    assert [step["actions"] for step in result["plan"]] == [["pulled"]]
    assert fake.mutations() == []
    assert not lock.exists() and not (tmp_path / "state").exists()


def test_failure_lists_each_model_and_keeps_the_lock_file(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("a")
    lock = tmp_path / "lock.yml"
    result = run(ollama_model_sync, {"models": ["a", "nope"], "lock_file": str(lock)}, capsys, tmp_path)
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 2 models failed: nope:latest: model 'nope:latest' not found")
    assert result["lock_file_changed"] is False and not lock.exists()
    assert [r["action"] for r in result["results"]] == ["pulled", "failed"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"models": ["x"], "concurrency": 0}, "concurrency must be from 1 to 16, got 0"),
        ({"models": ["x"], "concurrency": 99}, "concurrency must be from 1 to 16, got 99"),
        ({"models": ["x", "x:latest"]}, "are the same model"),
        ({"models": [{"name": "x", "prio": "high"}]}, "unknown key 'prio'"),
        ({"models": ["x"], "protect": ["a b"]}, "protect[0] 'a b' is not a valid glob"),
        ({"models": [], "exclusive": True}, "exclusive with an empty models list"),
        ({"models": ["x"], "min_free_space": "lots"}, "min_free_space: invalid size 'lots'"),
        ({"models": ["x"], "stall_timeout": 0}, "stall_timeout must be more than 0 seconds"),
        ({"models": ["x"], "retries": -1}, "retries must be 0 or more"),
        ({"models": ["x"], "retry_delay": -1}, "retry_delay must be 0 or more seconds"),
        ({"models": ["x"], "registry_url": "example.com"}, "registry_url 'example.com' must start with http:// or https://"),
        ({"models": ["x"], "state_dir": ""}, "state_dir is empty"),
        ({"models": ["x"], "lock_mode": "read"}, "lock_mode is read but no lock_file is given"),
        ({"models": ["x"], "lock_content": "models: []\n"}, "lock_content is only read, with lock_mode: read"),
        ({"models": ["x"], "lock_mode": "read", "lock_content": "models: []\n", "lock_file": "/x.yml"}, "give lock_file (a file on the host) or lock_content"),
        ({"models": ["x"], "lock_mode": "read", "lock_content": "nothing"}, "the lock file given as lock_content has no 'models' list"),
        ({"models": ["x"], "lock_mode": "read", "lock_content": "models: []\n"}, "the lock file given as lock_content pins no digest for x;"),
    ],
)
def test_bad_input_before_any_request(fake: FakeOllama, capsys, tmp_path: Path, args: dict, fragment: str) -> None:
    result = run(ollama_model_sync, args, capsys, tmp_path)
    assert result["failed"] is True and fragment in result["msg"], result["msg"]
    assert fake.requests == []


def test_lock_file_in_a_missing_directory_fails_plainly(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    fake.publish("a")
    result = run(ollama_model_sync, {"models": ["a"], "lock_file": str(tmp_path / "nowhere" / "lock.yml")}, capsys, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "cannot write the lock file %s: the directory %s of lock_file does not exist" % (
        tmp_path / "nowhere" / "lock.yml",
        tmp_path / "nowhere",
    )


def test_server_down_fails_plainly(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError

    def down() -> list:
        raise OllamaError("GET /api/tags: cannot reach the Ollama server at http://127.0.0.1:11434: refused")

    fake.tags = down  # type: ignore[method-assign]
    result = run(ollama_model_sync, {"models": ["a"]}, capsys, tmp_path)
    assert result["failed"] is True
    assert result["msg"] == "cannot read the models on the Ollama server: GET /api/tags: cannot reach the Ollama server at http://127.0.0.1:11434: refused"
    assert (result["health"]["healthy"], result["health"]["models"]) == (False, [])
    assert result["health"]["reason"].startswith("GET /api/tags: cannot reach the Ollama server")


HEALTH_KEYS = {
    "api_url",
    "healthy",
    "reason",
    "version",
    "models",
    "models_count",
    "models_total_size",
    "models_total_size_human",
    "loaded",
    "loaded_count",
    "disk",
    "inference",  # ollama_info's inference probe result (null with probe: version), issue 14
}


def test_health_is_what_ollama_info_returns(fake: FakeOllama, capsys, tmp_path: Path) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError

    fake.put("a", size=4000)
    fake.put("b")
    fake.call("POST", "/api/generate", {"model": "b:latest"})
    result = run(ollama_model_sync, {"models": ["a", {"name": "b", "state": "loaded"}]}, capsys, tmp_path)
    health = result["health"]
    assert set(health) == HEALTH_KEYS
    assert (health["healthy"], health["reason"], health["version"]) == (True, "", "0.12.6")
    assert (health["models"], health["models_count"], health["loaded_count"]) == (["a:latest", "b:latest"], 2, 1)
    assert health["models_total_size"] == sum(model["size"] for model in fake.models.values())
    assert health["loaded"][0]["name"] == "b:latest" and health["loaded"][0]["gpu_percent"] == 0.0
    assert health["disk"]["path"] == str(tmp_path / "models") and health["disk"]["free"] > 0 and health["disk"]["error"] == ""
    elsewhere = run(ollama_model_sync, {"models": ["a"], "disk_path": str(tmp_path)}, capsys, tmp_path)["health"]["disk"]
    assert elsewhere["path"] == str(tmp_path)

    def no_version() -> str:
        raise OllamaError("GET /api/version: HTTP 500", status=500)

    fake.version = no_version  # type: ignore[method-assign]
    unhealthy = run(ollama_model_sync, {"models": ["a"]}, capsys, tmp_path)
    assert unhealthy["changed"] is False and not unhealthy.get("failed"), "an unhealthy report does not fail the sync"
    assert (unhealthy["health"]["healthy"], unhealthy["health"]["reason"]) == (False, "GET /api/version: HTTP 500")


def test_the_probe_options_are_those_of_ollama_info(capsys) -> None:
    """One declaration of the inference probe's options (core.health, doc fragment _probe), the same checks in both modules."""
    import yaml

    from ansible_collections.llmops.ollama.plugins.doc_fragments._probe import ModuleDocFragment
    from ansible_collections.llmops.ollama.plugins.module_utils.core.health import probe_argument_spec
    from ansible_collections.llmops.ollama.plugins.modules import ollama_info
    from tests.unit.plugins.modules.harness import run_module

    spec = probe_argument_spec()
    documented = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    assert set(documented) == set(spec)
    for name, option in documented.items():
        assert (option["type"], option.get("default"), option.get("choices")) == (spec[name]["type"], spec[name].get("default"), spec[name].get("choices"))
    assert {name: ollama_model_sync.argument_spec()[name] for name in spec} == spec
    for module in (ollama_info, ollama_model_sync):
        assert "llmops.ollama._probe" in yaml.safe_load(module.DOCUMENTATION)["extends_documentation_fragment"]
        assert not set(spec) & set(yaml.safe_load(module.DOCUMENTATION)["options"]), "documented again in %s" % module.__name__
    for bad, words in (({"probe_model": " "}, "probe_model must name a model"), ({"probe_timeout": 0}, "probe_timeout must be more than 0 seconds (got 0")):
        messages = [
            run_module(ollama_info, dict(bad, api_url="http://127.0.0.1:9"), capsys)["msg"],
            run_module(ollama_model_sync, dict(bad, api_url="http://127.0.0.1:9", models=["m"]), capsys)["msg"],
        ]
        assert messages[0] == messages[1] and messages[0].startswith(words), messages
