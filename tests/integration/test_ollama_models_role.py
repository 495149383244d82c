# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_models role (and playbooks/models.yml) in real ansible-playbook runs against the simulator."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbook import REPO, PlaybookRun, run_playbook

pytestmark = pytest.mark.integration

PROGRESS_RE = re.compile(r"^llama3\.2:latest: (\d+\.\d)% \((\d+\.\d) of 6\.3 MB\) at [0-9.]+ (?:B|KB|MB|GB)/s, ETA \S+$")


def role_vars(sim, tmp_path: Path, **extra: Any) -> dict[str, Any]:
    variables = {
        "ollama_models_api_url": sim.url,
        "ollama_models_registry_url": sim.url,
        "ollama_models_models_path": str(sim.data),
        "ollama_models_state_dir": str(tmp_path / "state"),
        "ollama_models_progress_interval": 1,
    }
    variables.update(extra)
    return variables


def task_results(run: PlaybookRun, name: str, host: str = "localhost") -> list[dict]:
    """Every result of the role's task with this name (the progress tasks run once per round)."""
    return [
        task["hosts"][host]
        for play in run.data["plays"]
        for task in play["tasks"]
        if task["task"]["name"].split(" : ", 1)[-1] == name and host in task["hosts"]
    ]


def tags(sim) -> dict[str, str]:
    return {m["name"]: m["digest"] for m in sim.call("GET", "/api/tags")[1]["models"]}


def test_role_plans_then_shows_progress_and_the_summary_then_is_idempotent(make_sim, tmp_path: Path) -> None:
    slow = make_sim("slow", rate=600_000)  # slow enough for several progress rounds even on a loaded machine
    variables = role_vars(slow, tmp_path, ollama_models_list=["llama3.2:latest", {"name": "smollm2:135m", "priority": "high"}])

    planned = run_playbook("models_role.yml", variables, check=True)
    assert planned.rc == 0, planned.stdout[-3000:]
    assert tags(slow) == {}
    assert planned.results("Compare the declared models with the server")["plan"][0]["name"] == "smollm2:135m"
    assert task_results(planned, "Start the model sync in the background")[0].get("skipped") is True
    counts = planned.results("Print the counts of the sync")["msg"]
    assert counts[0] == "Model sync of localhost (check mode: nothing was changed)"
    assert counts[2].split() == ["2", "0", "0", "0", "0", "0", "0", "0"]

    first = run_playbook("models_role.yml", variables)
    assert first.rc == 0, first.stdout[-3000:]
    lines = [item["msg"] for result in task_results(first, "Print the pull progress") for item in result.get("results", [])]
    percents = [float(match.group(1)) for match in map(PROGRESS_RE.match, lines) if match]
    assert len(percents) >= 2, lines
    assert percents == sorted(percents) and 0 < percents[0] < 100, "progress grows between reports"
    counts = first.results("Print the counts of the sync")["msg"]
    assert counts[1].split() == ["added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable"]
    assert counts[2].split() == ["2", "0", "0", "0", "0", "0", "0", "0"]
    rows = first.results("Print each model of the sync")["msg"]
    assert rows[0].split() == ["model", "action", "status", "MB", "pulled", "seconds"]
    assert [row.split()[:3] for row in rows[1:]] == [["llama3.2:latest", "pulled", "stopped"], ["smollm2:135m", "pulled", "stopped"]]
    assert first.stats["changed"] == 1
    assert set(tags(slow)) == {"llama3.2:latest", "smollm2:135m"}

    again = run_playbook("models_role.yml", variables)
    assert again.rc == 0 and again.stats["changed"] == 0, "idempotent"
    assert all(result.get("skipped") for result in task_results(again, "Print the pull progress"))
    assert again.results("Print the counts of the sync")["msg"][2].split() == ["0", "0", "0", "0", "0", "2", "0", "0"]


def test_role_fails_after_printing_the_summary_when_a_model_fails(sim, tmp_path: Path) -> None:
    run = run_playbook("models_role.yml", role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m", "no-such-model:7b"]))
    assert run.rc != 0
    failed = run.results("Wait for the sync to finish")
    assert failed["failed"] is True
    assert failed["msg"].startswith("1 of 2 models failed: no-such-model:7b: model 'no-such-model:7b' not found")
    assert run.results("Print the counts of the sync")["msg"][2].split() == ["1", "0", "0", "0", "0", "0", "1", "1"]
    assert "smollm2:135m" in tags(sim)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"ollama_models_concurrency": "many"}, "ollama_models_concurrency"),
        ({"ollama_models_concurrency": 0}, "ollama_models_concurrency must be from 1 to 16, got 0"),
        ({"ollama_models_exclusive": "maybe"}, "ollama_models_exclusive"),
        ({"ollama_models_lock_mode": "sometimes"}, "ollama_models_lock_mode"),
        ({"ollama_models_progress_interval": 60}, "ollama_models_progress_interval must be from 1 to 15 seconds, got 60"),
        ({"ollama_models_lock_mode": "read"}, "set ollama_models_lock_file to the lock file that pins the models"),
        ({"ollama_models_list": [{"name": "llama3.2", "priority": "asap"}]}, "invalid priority 'asap'"),
    ],
)
def test_role_rejects_bad_variables_before_any_change(sim, tmp_path: Path, variables: dict, fragment: str) -> None:
    run = run_playbook("models_role.yml", role_vars(sim, tmp_path, **{"ollama_models_list": ["smollm2:135m"], **variables}))
    assert run.rc != 0
    assert fragment in run.stdout, run.stdout[-2000:]
    assert [r for r in sim.requests() if r["method"] != "GET" or not r["path"].startswith("/api/")] == []
    assert tags(sim) == {}


def test_models_playbook_applies_the_role_to_the_ollama_servers_group(sim, tmp_path: Path) -> None:
    variables = role_vars(sim, tmp_path, ollama_models_list=["all-minilm"])
    variables.pop("ollama_models_api_url")
    variables["ollama_api_url"] = sim.url  # what the inventory sets for every server
    run = run_playbook(REPO / "playbooks" / "models.yml", variables, inventory=str(REPO / "inventory" / "local"))
    assert run.rc == 0, run.stdout[-3000:]
    assert run.results("Wait for the sync to finish")["summary"]["added"] == 1
    assert set(tags(sim)) == {"all-minilm:latest"}
