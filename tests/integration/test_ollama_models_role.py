# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_models role (and playbooks/models.yml) in real ansible-playbook runs against the simulator."""

from __future__ import annotations

import json
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbook import REPO, PlaybookRun, run_playbook
from tests.ollama_sim.testing import mutating

pytestmark = pytest.mark.integration

# the role's first call of the sync: what needs no transfer (a host that matches: all of it; in check mode, the plan
# that fails as the real run would)
DIRECT_SYNC = "Apply what needs no transfer (in check mode, the plan)"
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


def task_times(run: PlaybookRun, name: str, host: str = "localhost") -> list[tuple[datetime, datetime, dict]]:
    """(start, end, result) of every run of the role's task with this name, from the JSON callback's task durations."""

    def moment(text: str) -> datetime:
        return datetime.fromisoformat(text.rstrip("Z"))

    return [
        (moment(task["task"]["duration"]["start"]), moment(task["task"]["duration"]["end"]), task["hosts"][host])
        for play in run.data["plays"]
        for task in play["tasks"]
        if task["task"]["name"].split(" : ", 1)[-1] == name and host in task["hosts"]
    ]


def history(sim, tmp_path: Path) -> list[dict]:
    """The sync history of the role's ledger, newest first, read with ollama_model_info."""
    info = run_playbook("sync_info.yml", {"sim_url": sim.url, "state_dir": str(tmp_path / "state"), "history": 20})
    assert info.rc == 0, info.stdout[-2000:]
    return info.results("Info")["history"]


# serial: it counts the progress lines of a pull paced by the simulator, which CPU taken by tests beside it can thin out
@pytest.mark.serial
def test_role_plans_then_shows_progress_and_the_summary_then_is_idempotent(make_sim, tmp_path: Path) -> None:
    slow = make_sim("slow", rate=600_000)  # slow enough for several progress rounds even on a loaded machine
    variables = role_vars(slow, tmp_path, ollama_models_list=["llama3.2:latest", {"name": "smollm2:135m", "priority": "high"}])

    planned = run_playbook("models_role.yml", variables, check=True)
    assert planned.rc == 0, planned.stdout[-3000:]
    assert tags(slow) == {}
    assert planned.results(DIRECT_SYNC)["plan"][0]["name"] == "smollm2:135m"
    # no background job: in check mode the role ends after the plan, before its include
    assert task_results(planned, "Apply the difference in the background, with progress") == []
    assert task_results(planned, "Start the model sync in the background") == []
    counts = planned.results("Print the summary of the sync")["msg"][:3]
    assert counts[0] == "Model sync of localhost (check mode: nothing was changed)"
    assert counts[2].split() == ["2", "0", "0", "0", "0", "0", "0", "0", "0"]

    first = run_playbook("models_role.yml", variables)
    assert first.rc == 0, first.stdout[-3000:]
    lines = [item["msg"] for result in task_results(first, "Print the pull progress") for item in result.get("results", [])]
    percents = [float(match.group(1)) for match in map(PROGRESS_RE.match, lines) if match]
    assert len(percents) >= 2, lines
    assert percents == sorted(percents) and 0 < percents[0] < 100, "progress grows between reports"
    counts = first.results("Print the summary of the sync")["msg"][:3]
    assert counts[1].split() == ["added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped"]
    assert counts[2].split() == ["2", "0", "0", "0", "0", "0", "0", "0", "0"]
    rows = first.results("Print the summary of the sync")["msg"][3:]
    assert rows[0].split() == ["model", "action", "status", "MB", "pulled", "seconds"]
    assert [row.split()[:3] for row in rows[1:]] == [["llama3.2:latest", "pulled", "stopped"], ["smollm2:135m", "pulled", "stopped"]]
    assert first.stats["changed"] == 1
    assert set(tags(slow)) == {"llama3.2:latest", "smollm2:135m"}

    again = run_playbook("models_role.yml", variables)
    assert again.rc == 0 and again.stats["changed"] == 0, "idempotent"
    assert all(result.get("skipped") for result in task_results(again, "Print the pull progress"))
    assert again.results("Print the summary of the sync")["msg"][2].split() == ["0", "0", "0", "0", "0", "2", "0", "0", "0"]


def test_role_records_the_history_and_writes_the_lock_file_on_a_converged_host(sim, tmp_path: Path) -> None:
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"])
    first = run_playbook("models_role.yml", variables)
    assert first.rc == 0 and first.stats["changed"] == 1, first.stdout[-3000:]
    assert len(history(sim, tmp_path)) == 1

    lock = tmp_path / "models.lock.yml"
    locked = dict(variables, ollama_models_lock_file=str(lock))
    sim.clear_requests()
    second = run_playbook("models_role.yml", locked)
    assert second.rc == 0 and second.stats["changed"] == 1, "the lock file was written"
    assert [entry["name"] for entry in json.loads(lock.read_text())["models"]] == ["smollm2:135m"]  # a JSON lock file
    assert mutating(sim.requests()) == [], "the host matched: nothing changed on the server"

    third = run_playbook("models_role.yml", locked)
    assert third.rc == 0 and third.stats["changed"] == 0, "idempotent"
    assert task_results(third, "Apply the difference in the background, with progress") == [], "no background job: the role ended"
    assert task_results(third, "Start the model sync in the background") == []
    assert third.results("Print the summary of the sync")["msg"][2].split() == ["0", "0", "0", "0", "0", "1", "0", "0", "0"]
    runs = history(sim, tmp_path)
    assert [entry["summary"]["added"] for entry in runs] == [0, 0, 1], "each run, converged ones too, appends its counts"
    assert [entry["summary"]["unchanged"] for entry in runs] == [1, 1, 0]
    assert [entry["changed"] for entry in runs] == [False, True, True]


def test_role_counts_the_models_that_fail_fast_did_not_start(sim, tmp_path: Path) -> None:
    models = [{"name": "no-such-model:7b", "priority": "high"}, "smollm2:135m"]
    variables = role_vars(sim, tmp_path, ollama_models_list=models, ollama_models_fail_fast=True, ollama_models_concurrency=1)
    expected = {"added": 0, "updated": 0, "removed": 0, "loaded": 0, "unloaded": 0, "unchanged": 0, "failed": 1, "unavailable": 2, "skipped": 1}
    for check in (True, False):  # the plan predicts it; the real run does it
        run = run_playbook("models_role.yml", variables, check=check)
        assert run.rc != 0
        counts = run.results("Print the summary of the sync")["msg"][:3]
        assert counts[1].split()[-1] == "skipped"
        assert dict(zip(counts[1].split(), map(int, counts[2].split()))) == expected, (check, counts)
        failed = run.results(DIRECT_SYNC if check else "Wait for the sync to finish")
        assert failed["failed"] is True and "no-such-model:7b" in failed["msg"], failed
        assert "not started because fail_fast is on: smollm2:135m" in failed["msg"]
    assert tags(sim) == {}


@pytest.mark.long
def test_role_reports_progress_at_least_every_15_seconds_at_the_default_interval(make_sim, tmp_path: Path) -> None:
    """The default interval plus what the tasks of a round take stays within the 15 seconds a watcher may wait."""
    slow = make_sim("slow", rate=64_000)  # smollm2:135m (2.1 MB) takes about 33 s: at least three reports at the default 8 s
    variables = role_vars(slow, tmp_path, ollama_models_list=["smollm2:135m"])
    del variables["ollama_models_progress_interval"]  # the role's default
    run = run_playbook("models_role.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    (started,) = [end for _start, end, _result in task_times(run, "Start the model sync in the background")]
    prints = [(start, end) for start, end, result in task_times(run, "Print the pull progress") if result.get("results")]
    assert len(prints) >= 3, prints
    moments = [started, *(end for _start, end in prints)]
    gaps = [(later - earlier).total_seconds() for earlier, later in zip(moments, moments[1:])]
    assert max(gaps) <= 15, gaps


def test_role_fails_before_any_change_when_the_ledger_cannot_be_written(sim, tmp_path: Path) -> None:
    if os.geteuid() == 0:  # root writes in a 0500 directory: a path under a file cannot be created by anyone
        (tmp_path / "file.txt").write_text("not a directory\n")
        state_dir = tmp_path / "file.txt" / "sub"
    else:
        state_dir = tmp_path / "read-only"
        state_dir.mkdir()
        state_dir.chmod(0o500)
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_state_dir=str(state_dir))
    try:
        for check in (True, False):
            run = run_playbook("models_role.yml", variables, check=check)
            assert run.rc != 0, run.stdout[-3000:]
            failed = run.results("Check that the ledger directory can be written")
            assert failed["failed"] is True
            assert failed["msg"].startswith("ollama_models_state_dir (%s) cannot be written" % state_dir), failed["msg"]
            assert "Run the play with become: true" in failed["msg"] and "or set ollama_models_state_dir to a directory" in failed["msg"]
            assert task_results(run, "Start the model sync in the background") == []
            # the sync refused to start: no model was handled
            assert [result.get("results") for result in task_results(run, DIRECT_SYNC)] == [None]
    finally:
        if state_dir.is_dir():
            state_dir.chmod(0o700)
    assert mutating(sim.requests()) == []
    assert tags(sim) == {}


def test_role_fails_after_printing_the_summary_when_a_model_fails(sim, tmp_path: Path) -> None:
    run = run_playbook("models_role.yml", role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m", "no-such-model:7b"]))
    assert run.rc != 0
    failed = run.results("Wait for the sync to finish")
    assert failed["failed"] is True
    assert failed["msg"].startswith("1 of 2 models failed: no-such-model:7b: model 'no-such-model:7b' not found")
    assert run.results("Print the summary of the sync")["msg"][2].split() == ["1", "0", "0", "0", "0", "0", "1", "1", "0"]
    assert "smollm2:135m" in tags(sim)


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"ollama_models_concurrency": "many"}, "ollama_models_concurrency"),
        ({"ollama_models_concurrency": 0}, "ollama_models_concurrency must be from 1 to 16, got 0"),
        ({"ollama_models_exclusive": "maybe"}, "ollama_models_exclusive"),
        ({"ollama_models_lock_mode": "sometimes"}, "ollama_models_lock_mode"),
        ({"ollama_models_progress_interval": 60}, "ollama_models_progress_interval must be from 1 to 10 seconds (a report at least every 15 seconds), got 60"),
        ({"ollama_models_progress_interval": 11}, "ollama_models_progress_interval must be from 1 to 10 seconds"),
        (
            {"ollama_models_lock_mode": "read"},
            "set ollama_models_lock_file (on the host) or ollama_models_lock_controller_file (on the controller) to the lock file that pins the models",
        ),
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


def test_fleet_lock_file_on_the_controller(make_sim, tmp_path: Path) -> None:
    """Write the lock file from one reference host to the controller, then pin every host of the fleet to it."""
    sims = {"host-a": make_sim("a"), "host-b": make_sim("b")}

    def inventory(path: Path, names: list[str]) -> str:
        hosts = {
            name: {
                "ansible_connection": "local",
                "ollama_models_api_url": sims[name].url,
                "ollama_models_registry_url": sims[name].url,
                "ollama_models_models_path": str(sims[name].data),
                "ollama_models_state_dir": str(tmp_path / name),
            }
            for name in names
        }
        path.write_text(json.dumps({"all": {"hosts": hosts}}))
        return str(path)

    fleet = inventory(tmp_path / "fleet.json", ["host-a", "host-b"])
    reference = inventory(tmp_path / "reference.json", ["host-a"])
    controller_lock = tmp_path / "controller" / "fleet.lock.yml"
    shared = {"ollama_models_list": ["smollm2:135m"], "ollama_models_lock_controller_file": str(controller_lock), "ollama_models_progress_interval": 1}

    refused = run_playbook("models_role.yml", shared, inventory=fleet)
    assert refused.rc == 2
    for host in ("host-a", "host-b"):
        message = refused.results(DIRECT_SYNC, host=host)["msg"]
        assert "the lock file of the fleet comes from one reference host, and this play has 2; run it with --limit on that host" in message
    assert not controller_lock.exists() and tags(sims["host-a"]) == {}

    missing = run_playbook("models_role.yml", dict(shared, ollama_models_lock_mode="read"), inventory=fleet)
    assert missing.rc == 2
    assert (
        "ollama_models_lock_controller_file %s does not exist on the controller: write it first" % controller_lock
        in missing.results(DIRECT_SYNC, host="host-b")["msg"]
    )

    written = run_playbook("models_role.yml", shared, inventory=reference)
    assert written.rc == 0, written.stdout[-3000:]
    digest = tags(sims["host-a"])["smollm2:135m"]
    assert {"name": "smollm2:135m", "digest": "sha256:%s" % digest} in [
        {key: model[key] for key in ("name", "digest")} for model in json.loads(controller_lock.read_text())["models"]
    ]
    assert (tmp_path / "host-a" / "models.lock.yml").read_text() == controller_lock.read_text(), "the host's lock file, brought over"
    again = run_playbook("models_role.yml", shared, inventory=reference)
    assert again.rc == 0 and again.data["stats"]["host-a"]["changed"] == 0, "idempotent, the fetch too"

    # read with a relative path: taken from the playbook's directory (ansible-playbook runs from the repository root here)
    relative = os.path.relpath(controller_lock, REPO / "tests" / "integration" / "playbooks")
    pinned_vars = dict(shared, ollama_models_lock_mode="read", ollama_models_lock_controller_file=relative)
    planned = run_playbook("models_role.yml", pinned_vars, inventory=fleet, check=True)
    assert planned.rc == 0, planned.stdout[-3000:]
    assert [(item["name"], item["action"]) for item in planned.results(DIRECT_SYNC, host="host-b")["plan"]] == [("smollm2:135m", "pulled")]
    assert tags(sims["host-b"]) == {}, "check mode pulled nothing"

    pinned = run_playbook("models_role.yml", pinned_vars, inventory=fleet)
    assert pinned.rc == 0, pinned.stdout[-3000:]
    assert tags(sims["host-b"]) == {"smollm2:135m": digest}, "the fleet serves the reference host's bytes"
    assert not (tmp_path / "host-b" / "models.lock.yml").exists(), "read from the controller: nothing copied to the host"

    # the registry of host-b moves on: the pin holds the model it has, and a host without it fails rather than serve other bytes
    sims["host-b"].bump("smollm2:135m", version=2)
    held = run_playbook("models_role.yml", pinned_vars, inventory=fleet)
    assert held.rc == 0 and [held.data["stats"][host]["changed"] for host in sims] == [0, 0] and tags(sims["host-b"]) == {"smollm2:135m": digest}
    sims["host-b"].call("DELETE", "/api/delete", {"model": "smollm2:135m"})
    diverged = run_playbook("models_role.yml", pinned_vars, inventory=fleet)
    assert diverged.rc == 2
    assert [diverged.data["stats"][host]["failures"] for host in sims] == [0, 1], "host-a still matches; only host-b fails"
    failed = [task["hosts"]["host-b"] for play in diverged.data["plays"] for task in play["tasks"] if task["hosts"].get("host-b", {}).get("failed")]
    assert len(failed) == 1 and "sha256:%s" % digest in failed[0]["msg"], failed
    assert tags(sims["host-b"]) == {}, "nothing unverified is left on host-b"


def test_role_reports_the_bytes_of_a_pull_over_http(make_sim, tmp_path: Path) -> None:
    """A registry over HTTP on a fast link: the server's first progress line of each blob already says done (or it gets
    none): the summary still shows the model's size as pulled, as the sync's result does (issue 21: not 'MB pulled 0.0')."""
    upstream = make_sim("upstream", rate=0, blob_redirect=True)
    size = {model["name"]: model["size"] for model in upstream.catalog_models()}["smollm2:135m"]
    host = make_sim("host", rate=0, registry=upstream.url)
    variables = role_vars(host, tmp_path, ollama_models_registry_url=upstream.url, ollama_models_list=["smollm2:135m"])
    run = run_playbook("models_role.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    assert upstream.stats()["served"] >= size and host.stats()["pulled"] == size, "the bytes came over HTTP"
    synced = [r for r in task_results(run, "Wait for the sync to finish") + task_results(run, DIRECT_SYNC) if r.get("results")]
    pulled = [entry for result in synced for entry in result["results"] if entry["action"] == "pulled"]
    assert [(entry["name"], entry["bytes"]) for entry in pulled] == [("smollm2:135m", size)]
    rows = run.results("Print the summary of the sync")["msg"][4:]
    assert rows[0].split()[:4] == ["smollm2:135m", "pulled", "stopped", "%.1f" % (size / 1e6)], rows
