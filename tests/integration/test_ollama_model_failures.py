# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Robustness of the model modules in real ansible-playbook runs against the simulator (issue 13).

- class 1: ledger entries of the wrong kind are warnings naming the path; the operation goes on;
- class 2: answers of another shape (the simulator's ``respond`` fault) are clear errors naming
  the endpoint and the field, never a traceback, never a ledger left ``downloading``;
- class 6: a resumed pull reports only the bytes it moved;
- class 7: a URL with credentials never shows in any output, ``-vvv`` included.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.playbook import REPO, playbook_command, run_playbook
from tests.ollama_sim.testing import model_vars

pytestmark = pytest.mark.integration

SECRET = "s3cretPW-7f1c9e"


def ledger_at(state: Path) -> Any:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger

    return Ledger.open(str(state), create=False)


def task_results(run: Any, task: str) -> List[Dict[str, Any]]:
    found = run.results(task)
    return found.get("results") or [found]


def all_warnings(run: Any, task: str) -> List[str]:
    found = run.results(task)
    warnings = list(found.get("warnings") or [])
    for item in found.get("results") or []:
        warnings += item.get("warnings") or []
    return warnings


def no_traceback(run: Any) -> None:
    text = run.stdout + run.stderr
    assert "Traceback" not in text and "MODULE FAILURE" not in text, text[-3000:]


def never_downloading(state: Path) -> None:
    for path in (state / "models").glob("*.json") if (state / "models").is_dir() else []:
        if path.is_file():
            assert json.loads(path.read_text()).get("status") != "downloading", path


# ---------------------------------------------------------------------------- class 1: the ledger is memory, not truth


def test_model_pulls_through_ledger_entries_of_the_wrong_kind(sim, tmp_path: Path) -> None:
    variables = model_vars(sim, tmp_path)
    state = Path(variables["state_dir"])
    ledger = ledger_at(state)
    (state / "models").mkdir(parents=True)
    (state / "logs").mkdir()
    (state / "locks").mkdir()
    broken = {
        "smollm2:135m": ledger.record_path("smollm2:135m"),
        "all-minilm": ledger.log_path("all-minilm"),
        "qwen2.5:0.5b": ledger._lock_path("qwen2.5:0.5b"),
    }
    for path in broken.values():
        Path(path).mkdir()
    variables["steps"] = [{"name": [name]} for name in broken]
    run = run_playbook("model.yml", variables)
    no_traceback(run)
    for result in task_results(run, "Model"):
        assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    served = {m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]}
    assert {"smollm2:135m", "all-minilm:latest", "qwen2.5:0.5b"} <= served
    warnings = " ".join(all_warnings(run, "Model"))
    for path in broken.values():
        assert path in warnings, (path, warnings)


def test_sync_keeps_its_result_when_history_is_a_directory(sim, tmp_path: Path) -> None:
    variables = model_vars(sim, tmp_path)
    state = Path(variables["state_dir"])
    (state / "history.jsonl").mkdir(parents=True)
    variables["steps"] = [{"models": ["smollm2:135m"]}]
    run = run_playbook("sync.yml", variables)
    no_traceback(run)
    result = task_results(run, "Sync")[0]
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert result["summary"]["added"] == 1
    assert str(state / "history.jsonl") in " ".join(all_warnings(run, "Sync"))


def test_state_dir_that_is_a_file_is_a_warning_and_the_pull_goes_on(sim, tmp_path: Path) -> None:
    variables = model_vars(sim, tmp_path)
    state = Path(variables["state_dir"])
    state.write_text("not a directory")
    variables["steps"] = [{"name": ["smollm2:135m"]}]
    run = run_playbook("model.yml", variables)
    no_traceback(run)
    result = task_results(run, "Model")[0]
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert str(state) in " ".join(all_warnings(run, "Model"))


def test_model_info_reads_past_a_record_that_is_not_json(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    variables = model_vars(sim, tmp_path)
    state = Path(variables["state_dir"])
    (state / "models").mkdir(parents=True)
    record = ledger_at(state).record_path("smollm2:135m")
    Path(record).write_text("{half a record")
    variables["queries"] = [{"name": "smollm2:135m"}]
    run = run_playbook("model_info.yml", variables)
    no_traceback(run)
    result = task_results(run, "Info")[0]
    assert not result.get("failed"), result.get("msg")
    assert result["model"]["status"] == "stopped"
    assert record in " ".join(all_warnings(run, "Info"))


# ---------------------------------------------------------------------------- class 2: any server answer, any shape

TAGS_OF_INTEGERS = {"respond": {"path": "/api/tags", "status": 200, "body": {"models": [1, 2]}}}


def test_tags_holding_non_objects_is_a_clear_error_in_every_module(sim, tmp_path: Path) -> None:
    sim.faults(**TAGS_OF_INTEGERS)
    variables = model_vars(sim, tmp_path)
    state = Path(variables["state_dir"])
    expected = "GET /api/tags: field models[0] is an integer, expected an object"

    model = run_playbook("model.yml", dict(variables, steps=[{"name": ["smollm2:135m"]}]))
    no_traceback(model)
    assert expected in task_results(model, "Model")[0]["msg"]

    sync = run_playbook("sync.yml", dict(variables, steps=[{"models": ["smollm2:135m"]}]))
    no_traceback(sync)
    assert expected in task_results(sync, "Sync")[0]["msg"]

    info = run_playbook("model_info.yml", dict(variables, queries=[{}]))
    no_traceback(info)
    assert expected in task_results(info, "Info")[0]["msg"]

    probe = run_playbook("info.yml", {"info_api_url": sim.url})
    no_traceback(probe)
    facts = probe.results("Probe")
    assert facts["healthy"] is False and expected in facts["reason"], facts
    never_downloading(state)


def test_a_pull_line_of_another_shape_fails_the_pull_and_leaves_no_download(sim, tmp_path: Path) -> None:
    sim.faults(respond={"path": "/api/pull", "status": 200, "raw": '{"status": "pulling manifest"}\n{"status": 5}\n', "content_type": "application/x-ndjson"})
    variables = model_vars(sim, tmp_path)
    run = run_playbook("model.yml", dict(variables, steps=[{"name": ["smollm2:135m"], "retries": 2}]))
    no_traceback(run)
    result = task_results(run, "Model")[0]
    assert result["failed"] is True
    assert "POST /api/pull: field status is an integer, expected a string" in result["msg"], result["msg"]
    assert result["model"]["pull"]["attempts"] == 1, "an answer that cannot be read is not asked again"
    record = ledger_at(Path(variables["state_dir"])).read("smollm2:135m")
    assert record["status"] == "failed", record
    never_downloading(Path(variables["state_dir"]))


def test_a_show_answer_of_another_shape_names_the_field(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.faults(respond={"path": "/api/show", "status": 200, "body": {"modelfile": "FROM x", "capabilities": "completion"}})
    variables = model_vars(sim, tmp_path)
    run = run_playbook("model_info.yml", dict(variables, queries=[{"name": "smollm2:135m", "detail": True}]))
    no_traceback(run)
    result = task_results(run, "Info")[0]
    assert result["failed"] is True
    assert "POST /api/show: field capabilities is a string, expected a list" in result["msg"], result["msg"]


def test_an_inference_answer_of_another_shape_is_an_unhealthy_reason(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.faults(respond={"path": "/api/generate", "status": 200, "body": [1, 2]})
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference"})
    no_traceback(run)
    facts = run.results("Probe")
    assert facts["inference"]["healthy"] is False
    assert "POST /api/generate: the answer is not a JSON object" in facts["inference"]["reason"], facts["inference"]


def test_a_registry_manifest_of_another_shape_fails_the_mirror_naming_the_field(sim, tmp_path: Path) -> None:
    sim.faults(respond={"path": "/v2/library/smollm2/manifests/135m", "status": 200, "body": {"layers": [{"digest": 5, "size": 1}]}})
    run = run_playbook("mirror.yml", {"mirror_path": str(tmp_path / "mirror"), "steps": [{"models": ["smollm2:135m"], "source": sim.url}]})
    no_traceback(run)
    result = task_results(run, "Mirror")[0]
    assert result["failed"] is True
    assert "field layers[0].digest is an integer, expected a string" in result["msg"], result["msg"]
    assert not list((tmp_path / "mirror").glob("v2/**/manifests/*"))


# ---------------------------------------------------------------------------- class 6: honest figures


def test_a_resumed_pull_reports_only_the_bytes_it_moved(make_sim, tmp_path: Path) -> None:
    sim = make_sim(rate=4_000_000.0)
    size = next(m["size"] for m in sim.catalog_models() if m["name"] == "llama3.2:latest")
    variables = model_vars(sim, tmp_path)
    sim.faults(cut_at_percent=80)
    first = run_playbook("model.yml", dict(variables, steps=[{"name": ["llama3.2"], "retries": 0}]))
    no_traceback(first)
    assert task_results(first, "Model")[0]["failed"] is True

    sim.clear_stats()
    second = run_playbook("model.yml", dict(variables, steps=[{"name": ["llama3.2"]}]))
    no_traceback(second)
    result = task_results(second, "Model")[0]
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    moved = sim.stats()["pulled"]
    pull = result["model"]["pull"]
    assert moved < 0.4 * size, (moved, size)
    assert abs(pull["bytes"] - moved) <= 0.05 * size, (pull, moved, size)
    assert pull["speed"] <= 1.5 * pull["bytes"] / max(pull["seconds"], 0.001) + 1


def test_a_pull_retried_in_one_run_counts_each_byte_once(make_sim, tmp_path: Path) -> None:
    sim = make_sim(rate=4_000_000.0)
    size = next(m["size"] for m in sim.catalog_models() if m["name"] == "llama3.2:latest")
    sim.clear_stats()
    sim.faults(cut_at_percent=50)
    run = run_playbook("model.yml", dict(model_vars(sim, tmp_path), steps=[{"name": ["llama3.2"], "retries": 1}]))
    no_traceback(run)
    result = task_results(run, "Model")[0]
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    pull = result["model"]["pull"]
    assert pull["attempts"] == 2
    moved = sim.stats()["pulled"]
    assert abs(pull["bytes"] - moved) <= 0.05 * size, (pull, moved, size)
    assert pull["bytes"] <= 1.05 * size, pull


# ---------------------------------------------------------------------------- class 7: credentials


def credential_vars(sim: Any, tmp_path: Path) -> Dict[str, Any]:
    port = sim.url.rsplit(":", 1)[1]
    return dict(model_vars(sim, tmp_path), secret_url="http://admin:%s@127.0.0.1:%s" % (SECRET, port), mirror_path=str(tmp_path / "mirror"))


TASKS = (
    "Model",
    "Model with a registry_url that carries credentials",
    "Model info",
    "Model info with another bad option as well",
    "Model info with an option of the wrong type",
    "Sync",
    "Info",
    "Info with probe inference",
    "Mirror",
    "Mirror in check mode",
)


def test_a_url_with_credentials_is_refused_and_never_shown(sim, tmp_path: Path) -> None:
    run = run_playbook("credentials.yml", credential_vars(sim, tmp_path))
    no_traceback(run)
    assert SECRET not in run.stdout + run.stderr
    for task in TASKS:
        result = run.results(task)
        assert result.get("failed") is True or result.get("healthy") is False, (task, result)
        text = json.dumps(result)
        assert SECRET not in text and "admin:" not in text, (task, text)
        message = result.get("msg") or result.get("reason") or ""
        assert "credentials" in message or "page" in message, (task, message)
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in json.dumps(run.results("Model info with an option of the wrong type"))
    assert not (tmp_path / "mirror").exists() or not list((tmp_path / "mirror").rglob("*.json"))


def test_a_url_with_credentials_never_shows_in_vvv_output(sim, tmp_path: Path) -> None:
    args, env = playbook_command("credentials.yml", credential_vars(sim, tmp_path))
    args.append("-vvv")
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, env=env, cwd=str(REPO), check=False)
    output = proc.stdout + proc.stderr
    assert "module_args" in output, "-vvv shows the invocation: the check below looks where the secret would be"
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in output
    assert SECRET not in output
    assert "Traceback" not in output
