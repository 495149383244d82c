# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lock-file workflow of the ollama_models role as an operator meets it: its failures, its summary and its statuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.playbook import PlaybookRun, run_playbook
from tests.integration.test_ollama_models_role import DIRECT_SYNC, role_vars, tags
from tests.ollama_sim.testing import mutating

pytestmark = pytest.mark.integration

SUMMARY = "Print the summary of the sync"


def failures(run: PlaybookRun) -> list[str]:
    """The message of every failed task of the run."""
    return [str(result.get("msg")) for play in run.data["plays"] for task in play["tasks"] for result in task["hosts"].values() if result.get("failed")]


def assert_one_message(run: PlaybookRun, *fragments: str) -> None:
    """The run failed with the sync's own message (each fragment in it), and no template error on the way."""
    assert run.rc != 0
    assert "Finalization of task args" not in run.stdout and "has no attribute" not in run.stdout, failures(run)
    messages = failures(run)
    assert messages and len(set(messages)) == 1, messages  # the sync's message, and the role's fail repeats it as it is
    for fragment in fragments:
        assert fragment in messages[0], messages


def test_a_lock_file_that_lacks_a_model_or_does_not_exist_fails_with_one_message(sim, tmp_path: Path) -> None:
    lock = tmp_path / "models.lock.yml"
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_lock_file=str(lock))
    assert run_playbook("models_role.yml", variables).rc == 0
    sim.clear_requests()

    reading = dict(variables, ollama_models_lock_mode="read")
    lacking = run_playbook("models_role.yml", dict(reading, ollama_models_list=["smollm2:135m", "all-minilm"]))
    assert_one_message(lacking, "the lock file %s pins no digest for all-minilm" % lock)

    missing = tmp_path / "nowhere.lock.yml"
    absent = run_playbook("models_role.yml", dict(reading, ollama_models_lock_file=str(missing)))
    assert_one_message(absent, "the lock file %s does not exist" % missing)
    assert mutating(sim.requests()) == [], "refused before any change"
    assert set(tags(sim)) == {"smollm2:135m"}


def test_a_controller_lock_file_that_lacks_a_model_is_named_by_its_path(sim, tmp_path: Path) -> None:
    controller = tmp_path / "controller" / "fleet.lock.yml"
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_lock_controller_file=str(controller))
    written = run_playbook("models_role.yml", variables)
    assert written.rc == 0, written.stdout[-3000:]
    lacking = run_playbook("models_role.yml", dict(variables, ollama_models_list=["smollm2:135m", "all-minilm"], ollama_models_lock_mode="read"))
    assert_one_message(lacking, "the lock file %s on the controller pins no digest for all-minilm" % controller)
    assert "lock_content" not in failures(lacking)[0]


def test_write_mode_prints_the_summary_and_where_the_lock_file_went(sim, tmp_path: Path) -> None:
    lock = tmp_path / "models.lock.yml"
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_lock_file=str(lock))
    first = run_playbook("models_role.yml", variables)
    assert first.rc == 0, first.stdout[-3000:]
    assert first.results(SUMMARY)["msg"][-1] == "Lock file %s: written" % lock
    again = run_playbook("models_role.yml", variables)
    assert again.rc == 0 and again.stats["changed"] == 0
    assert again.results(SUMMARY)["msg"][-1] == "Lock file %s: unchanged" % lock

    # kept on the controller, on a host that matches already (no transfer): the summary is printed too
    controller = tmp_path / "controller" / "fleet.lock.yml"
    fleet = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_lock_controller_file=str(controller))
    kept = run_playbook("models_role.yml", fleet)
    assert kept.rc == 0, kept.stdout[-3000:]
    summary = kept.results(SUMMARY)["msg"]
    assert summary[2].split() == ["0", "0", "0", "0", "0", "1", "0", "0", "0"], summary
    host_file = tmp_path / "state" / "models.lock.yml"
    assert summary[-1] == "Lock file %s: written, brought to %s on the controller" % (host_file, controller), summary
    assert controller.read_text() == host_file.read_text()

    pinned = run_playbook("models_role.yml", dict(fleet, ollama_models_lock_mode="read"))
    assert pinned.rc == 0 and pinned.stats["changed"] == 0
    assert pinned.results(SUMMARY)["msg"][-1] == "Pinned to the lock file %s on the controller" % controller


def test_a_model_on_the_server_at_another_digest_than_the_lock_is_failed_not_unavailable(sim, tmp_path: Path) -> None:
    lock = tmp_path / "models.lock.yml"
    variables = role_vars(sim, tmp_path, ollama_models_list=["smollm2:135m"], ollama_models_lock_file=str(lock))
    assert run_playbook("models_role.yml", variables).rc == 0
    pinned = tags(sim)["smollm2:135m"]
    # the registry moves on and the host takes the new version behind the lock's back
    sim.bump("smollm2:135m", version=2)
    sim.call("DELETE", "/api/delete", {"model": "smollm2:135m"})
    assert sim.call("POST", "/api/pull", {"model": "smollm2:135m", "stream": False})[0] == 200
    present = tags(sim)["smollm2:135m"]
    assert present != pinned

    run = run_playbook("models_role.yml", dict(variables, ollama_models_lock_mode="read"))
    assert run.rc != 0
    summary = run.results(SUMMARY)["msg"]
    counts = dict(zip(summary[1].split(), map(int, summary[2].split())))
    assert counts["failed"] == 1 and counts["unavailable"] == 0, summary
    assert summary[4].split()[:3] == ["smollm2:135m", "failed", "failed"], summary
    message = run.results(DIRECT_SYNC)["msg"]
    assert "the pin is sha256:%s" % pinned in message and "stays at sha256:%s" % present in message, message
    assert run.results(DIRECT_SYNC)["unavailable"] == []
    assert tags(sim) == {"smollm2:135m": present}, "the model on the server is left as it is"
