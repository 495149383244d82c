# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Today's Ollama in real ansible-playbook runs against the simulator: cloud models (``:cloud``, ``-cloud``,
``:local``), require_capabilities, the capability filter of ollama_model_info, and models made from own GGUF files."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbook import run_playbook
from tests.ollama_sim.catalog import make_gguf
from tests.ollama_sim.testing import model_vars, mutating

pytestmark = pytest.mark.integration


def run(sim, tmp_path: Path, check: bool = False, diff: bool = False, **steps: list) -> dict[str, list[dict]]:
    """One playbook run: model_steps, sync_steps and info_steps; the results of each task (failures included)."""
    variables: dict[str, Any] = model_vars(sim, tmp_path)
    variables.update(steps)
    result = run_playbook("model_today.yml", variables, check=check, diff=diff)
    assert "Traceback" not in result.stdout + result.stderr, result.stdout[-3000:] + result.stderr
    found = {}
    for task, key in (("Model", "model_steps"), ("Sync", "sync_steps"), ("Info", "info_steps")):
        results = result.results(task).get("results") or []
        assert len(results) == len(steps.get(key) or []), (task, results)
        found[task] = results
    return found


def model(sim, tmp_path: Path, check: bool = False, diff: bool = False, **step: Any) -> dict:
    return run(sim, tmp_path, check=check, diff=diff, model_steps=[step])["Model"][0]


def sync(sim, tmp_path: Path, check: bool = False, diff: bool = False, **step: Any) -> dict:
    return run(sim, tmp_path, check=check, diff=diff, sync_steps=[step])["Sync"][0]


def info(sim, tmp_path: Path, **step: Any) -> dict:
    return run(sim, tmp_path, info_steps=[step])["Info"][0]


def tags(sim) -> dict[str, dict]:
    return {entry["name"]: entry for entry in sim.call("GET", "/api/tags")[1]["models"]}


def write_gguf(path: Path, seed: str = "own-weights", **spec: Any) -> str:
    data = make_gguf(size=64 * 1024, seed=seed, file_type="F16", parameter_count=1_000_000, **spec)
    path.write_bytes(data)
    return "sha256:" + hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------------------- cloud models


def test_declared_cloud_and_local_models_converge_and_stay(sim, tmp_path: Path) -> None:
    declared = ["gpt-oss:120b-cloud", "qwen3:8b:local"]
    before = set(tags(sim))
    checked = sync(sim, tmp_path, check=True, diff=True, models=declared, exclusive=True)
    assert checked["changed"] is True and not checked.get("failed"), checked
    assert set(tags(sim)) == before and mutating(sim.requests()) == []

    first = sync(sim, tmp_path, models=declared, exclusive=True)
    assert first["changed"] is True and not first.get("failed"), first
    assert {"gpt-oss:120b-cloud", "qwen3:8b"} <= set(tags(sim)), tags(sim)
    assert tags(sim)["gpt-oss:120b-cloud"]["remote_host"]

    second = sync(sim, tmp_path, models=declared, exclusive=True)
    assert second["changed"] is False and not second.get("failed"), second
    # the :cloud source suffix names the same model as the -cloud tag
    third = sync(sim, tmp_path, models=["gpt-oss:120b:cloud", "qwen3:8b"], exclusive=True)
    assert third["changed"] is False and not third.get("failed"), third

    records = info(sim, tmp_path, source=["cloud"])
    assert [record["name"] for record in records["models"]] == ["gpt-oss:120b-cloud"]
    record = records["models"][0]
    assert record["from"] == "cloud" and record["remote_host"].startswith("https://ollama.com") and record["remote_model"] == "gpt-oss:120b"

    removed = sync(sim, tmp_path, models=[{"name": "gpt-oss:120b:cloud", "state": "absent"}, "qwen3:8b"], exclusive=True)
    assert removed["changed"] is True and not removed.get("failed"), removed
    assert "gpt-oss:120b-cloud" not in tags(sim)


def test_state_loaded_on_a_cloud_model_is_refused_before_anything(sim, tmp_path: Path) -> None:
    for check in (True, False):
        result = model(sim, tmp_path, check=check, name=["gpt-oss:120b:cloud"], state="loaded")
        assert result.get("failed") and result["changed"] is False, result
        assert "gpt-oss:120b-cloud is a cloud model" in result["msg"] and "state loaded" in result["msg"], result["msg"]
        assert "use state present" in result["msg"]
    assert "gpt-oss:120b-cloud" not in tags(sim)
    assert mutating(sim.requests()) == []
    both = model(sim, tmp_path, name=["gpt-oss:120b:cloud:local"])
    assert both.get("failed") and "use either :local or :cloud, not both" in both["msg"], both
    in_sync = sync(sim, tmp_path, models=[{"name": "gpt-oss:20b-cloud", "state": "unloaded"}])
    assert in_sync.get("failed") and "cloud model" in in_sync["msg"], in_sync


# ---------------------------------------------------------------------------- capabilities


def test_require_capabilities_fails_naming_what_the_model_has(sim, tmp_path: Path) -> None:
    model(sim, tmp_path, name=["smollm2:135m"])
    for check in (True, False):
        result = model(sim, tmp_path, check=check, name=["smollm2:135m"], require_capabilities=["vision"])
        assert result.get("failed") and result["changed"] is False, result
        assert "smollm2:135m lacks the capability vision" in result["msg"] and "it has: completion" in result["msg"], result["msg"]
    fine = model(sim, tmp_path, name=["gemma3:4b"], require_capabilities=["completion", "vision"])
    assert fine["changed"] is True and not fine.get("failed"), fine
    again = model(sim, tmp_path, name=["gemma3:4b"], require_capabilities=["vision"])
    assert again["changed"] is False and not again.get("failed"), again
    bad = model(sim, tmp_path, name=["gemma3:4b"], require_capabilities=["telepathy"])
    assert bad.get("failed") and "telepathy" in bad["msg"], bad
    entry = sync(sim, tmp_path, models=[{"name": "all-minilm", "require_capabilities": ["completion"]}, "gemma3:4b"])
    assert entry.get("failed") and "all-minilm:latest lacks the capability completion" in entry["msg"] and "it has: embedding" in entry["msg"], entry


def test_info_filters_by_capability(sim, tmp_path: Path) -> None:
    sync(sim, tmp_path, models=["smollm2:135m", "gemma3:4b", "nomic-embed-text", "gpt-oss:20b-cloud"])
    results = run(
        sim,
        tmp_path,
        info_steps=[{"capability": ["vision"]}, {"capability": ["embedding"]}, {"capability": ["completion"]}, {"capability": ["tools", "thinking"]}],
    )["Info"]
    names = [[record["name"] for record in result["models"]] for result in results]
    assert names[0] == ["gemma3:4b"]
    assert names[1] == ["nomic-embed-text:latest"]
    assert names[2] == ["gemma3:4b", "gpt-oss:20b-cloud", "smollm2:135m"]
    assert names[3] == ["gpt-oss:20b-cloud"]
    assert all("vision" in record["capabilities"] for record in results[0]["models"])


# ---------------------------------------------------------------------------- own weights


def test_a_model_from_a_gguf_file_converges_idempotently(sim, tmp_path: Path) -> None:
    weights = tmp_path / "mine.gguf"
    digest = write_gguf(weights)
    step = {"name": ["mine:v1"], "files": [{"path": str(weights), "name": "model.gguf"}], "system": "You answer briefly."}

    checked = model(sim, tmp_path, check=True, diff=True, **step)
    assert checked["changed"] is True and checked["actions"] == ["created mine:v1"] and not checked.get("failed"), checked
    assert "mine:v1" not in tags(sim) and mutating(sim.requests()) == []

    start = len(sim.requests())
    first = model(sim, tmp_path, **step)
    assert first["changed"] is True and first["actions"] == ["created mine:v1"] and not first.get("failed"), first
    sent = sim.requests()[start:]
    assert [r["path"] for r in sent if r["method"] == "POST" and r["path"].startswith("/api/blobs/")] == ["/api/blobs/" + digest]
    assert any(r["method"] == "HEAD" and r["path"] == "/api/blobs/" + digest for r in sent)
    created = tags(sim)["mine:v1"]
    assert created["details"]["format"] == "gguf"
    assert first["model"]["from"] == "custom"

    start = len(sim.requests())
    second = model(sim, tmp_path, diff=True, **step)
    assert second["changed"] is False and second["actions"] == [] and not second.get("failed"), second
    assert mutating(sim.requests()[start:]) == []  # no upload, no create
    assert tags(sim)["mine:v1"]["digest"] == created["digest"]

    # new weights: uploaded (the server lacks them) and the model made again
    new_digest = write_gguf(weights, seed="retrained")
    predicted = model(sim, tmp_path, check=True, diff=True, **step)
    assert predicted["changed"] is True and predicted["actions"] == ["re-created mine:v1"], predicted
    assert predicted["diff"]["before"]["mine:v1"]["files"] == {"model.gguf": digest}
    assert predicted["diff"]["after"]["mine:v1"]["files"] == {"model.gguf": new_digest}
    start = len(sim.requests())
    third = model(sim, tmp_path, **step)
    assert third["changed"] is True and third["actions"] == ["re-created mine:v1"] and "files" in third["model"]["differences"], third
    assert [r["path"] for r in mutating(sim.requests()[start:]) if r["path"].startswith("/api/blobs/")] == ["/api/blobs/" + new_digest]
    assert tags(sim)["mine:v1"]["digest"] != created["digest"]

    # the same weights under a second name: the blob is there already, nothing is uploaded
    start = len(sim.requests())
    other = model(sim, tmp_path, name=["mine:v2"], files=[{"path": str(weights), "name": "model.gguf"}])
    assert other["changed"] is True and not other.get("failed"), other
    assert [r for r in mutating(sim.requests()[start:]) if r["path"].startswith("/api/blobs/")] == []


def test_own_weights_with_an_adapter_and_quantize(sim, tmp_path: Path) -> None:
    weights, adapter = tmp_path / "base.gguf", tmp_path / "lora.gguf"
    write_gguf(weights, seed="base")
    write_gguf(adapter, seed="lora", metadata={"general.type": "adapter"})
    step = {"name": ["tuned:v1"], "files": [{"path": str(weights)}], "adapters": [{"path": str(adapter), "name": "adapter.gguf"}], "quantize": "q8_0"}
    first = model(sim, tmp_path, **step)
    assert first["changed"] is True and not first.get("failed"), first
    assert tags(sim)["tuned:v1"]["details"]["quantization_level"] == "Q8_0"
    second = model(sim, tmp_path, **step)
    assert second["changed"] is False and not second.get("failed"), second


def test_bad_own_weights_fail_before_any_request(sim, tmp_path: Path) -> None:
    weights = tmp_path / "ok.gguf"
    write_gguf(weights)
    cases = [
        ({"files": [{"path": str(tmp_path / "missing.gguf")}]}, "is not a file on the host the module runs on"),
        ({"files": [{"path": str(weights), "name": "../escape.gguf"}]}, "must be a relative file name"),
        ({"files": [{"path": str(weights)}], "quantize": "Q3_K_L"}, "invalid quantize 'Q3_K_L'"),
        ({"adapters": [{"path": str(weights)}]}, "give from (the base model) or files"),
        ({"system": "no base"}, "or files: its own weights"),
    ]
    start = len(sim.requests())
    results = run(sim, tmp_path, model_steps=[dict(case, name=["bad:v1"]) for case, _text in cases])["Model"]
    for result, (_case, text) in zip(results, cases):
        assert result.get("failed") and text in result["msg"], (text, result.get("msg"))
    assert sim.requests()[start:] == []
