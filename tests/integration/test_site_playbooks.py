# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml as a rolling fleet run, and remove.yml's confirmation, in real ansible-playbook runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, run_playbook

pytestmark = pytest.mark.integration


def fleet_inventory(path: Path, urls: dict[str, str], state_root: Path) -> str:
    """An inventory of local hosts, each with its own Ollama API (the simulators stand in for the servers)."""
    hosts = {
        name: {
            "ansible_connection": "local",
            "ollama_api_url": url,
            "ollama_models_state_dir": str(state_root / name),
        }
        for name, url in urls.items()
    }
    inventory = {"all": {"children": {"ollama_servers": {"hosts": hosts}}}}
    path.write_text(json.dumps(inventory))
    return str(path)


def split_report(lines: list) -> tuple:
    """site.yml's health report: the summary of the model sync, then the health lines (from ``api: ``)."""
    start = next(index for index, line in enumerate(lines) if line.startswith("api: "))
    return lines[:start], lines[start:]


def test_rolling_site_stops_at_the_batch_that_fails_its_health_gate(make_sim, tmp_path: Path) -> None:
    first, third = make_sim("one"), make_sim("three")
    urls = {"host-1": first.url, "host-2": "http://127.0.0.1:%s" % free_port(), "host-3": third.url}
    inventory = fleet_inventory(tmp_path / "fleet.json", urls, tmp_path / "state")
    run = run_playbook(
        REPO / "playbooks" / "site.yml",
        {
            "ollama_site_serial": 1,
            "ollama_site_manage_server": False,
            "ollama_site_health_timeout": 3,
        },
        inventory=inventory,
    )
    assert run.rc != 0
    stats = run.data["stats"]
    assert stats["host-1"]["failures"] == 0
    assert stats["host-2"]["failures"] == 1
    assert "host-3" not in stats, "the rollout went on past the failed batch"
    assert any(r["path"] == "/api/tags" for r in first.requests()), "batch 1 was not probed"
    assert third.requests() == [], "batch 3 was touched after batch 2 failed"
    gate = run.results("Probe the Ollama API", host="host-2")
    assert "did not become healthy within 3 seconds" in gate["msg"]


def test_converged_host_reports_its_health_from_the_model_sync(sim, tmp_path: Path) -> None:
    """A converged host with declared models: the health report reads the facts of the model sync, no ollama_info probe."""
    inventory = fleet_inventory(tmp_path / "one.json", {"host-1": sim.url}, tmp_path / "state")
    variables = {"ollama_site_manage_server": False, "ollama_models_list": ["smollm2:135m"], "ollama_health_models_path": str(sim.data)}
    first = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory)
    assert first.rc == 0 and first.data["stats"]["host-1"]["changed"] == 1, first.stdout[-3000:]

    sim.clear_requests()
    again = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory)
    assert again.rc == 0 and again.data["stats"]["host-1"]["changed"] == 0, again.stdout[-3000:]
    # no second probe of the server: the health role ends after its report (a meta task, no worker per host)
    assert "End the role when the report is printed" in again.task_names()
    assert "Probe the Ollama API" not in again.task_names(), "no second probe of the server"
    # nothing changed on the server: reads, and the health gate's inference probe (one one-token generate, issue 14)
    assert [(r["method"], r["path"]) for r in sim.requests() if r["method"] != "GET"] == [("POST", "/api/generate")], sim.requests()
    # one print per host: the health report begins with the summary of the sync, which the models role leaves to it
    assert "Print the summary of the sync" not in again.task_names()
    summary, report = split_report(again.results("Print the health report", host="host-1")["msg"])
    assert summary[0] == "Model sync of host-1" and summary[2].split() == ["0", "0", "0", "0", "0", "1", "0", "0", "0"], summary
    assert summary[4].split()[:2] == ["smollm2:135m", "unchanged"] and len(summary) == 5, summary

    # the same report as health.yml's, which probes the server with ollama_info
    probed = run_playbook(REPO / "playbooks" / "health.yml", {"ollama_health_models_path": str(sim.data)}, inventory=inventory)
    assert probed.rc == 0, probed.stdout[-3000:]
    assert probed.results("Probe the Ollama API", host="host-1").get("skipped") is not True
    expected = probed.results("Print the health report", host="host-1")["msg"]
    assert report[:6] == expected[:6]
    assert report[1] == "healthy: True" and report[3].startswith("models: 1 (") and report[3].endswith("): smollm2:135m"), report
    assert report[6].startswith("disk free: ") and report[6].endswith(" at %s" % sim.data), report
    assert expected[6].endswith(" at %s" % sim.data)


def test_the_health_gate_of_a_converged_host_is_the_inference_probe_of_the_model_sync(sim, tmp_path: Path) -> None:
    """issue 14: the gate asks a model for a token, in the sync's own call; a probe that gets no answer stops the rollout."""
    inventory = fleet_inventory(tmp_path / "one.json", {"host-1": sim.url}, tmp_path / "state")
    variables = {"ollama_site_manage_server": False, "ollama_models_list": ["smollm2:135m"], "ollama_health_models_path": str(sim.data)}
    first = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory)
    assert first.rc == 0, first.stdout[-3000:]
    inference = first.results("Wait for the sync to finish", host="host-1")["health"]["inference"]
    assert (inference["healthy"], inference["model"], inference["kind"]) == (True, "smollm2:135m", "generate")

    sim.clear_requests()
    broken = run_playbook(REPO / "playbooks" / "site.yml", dict(variables, ollama_models_probe_model="no-such-model:1b"), inventory=inventory)
    assert broken.rc != 0 and broken.data["stats"]["host-1"]["failures"] == 1
    gate = broken.results("Print the health report", host="host-1")
    summary, lines = split_report(gate["msg"])
    assert summary[0] == "Model sync of host-1", summary
    assert gate["failed"] is True and lines[1].startswith("healthy: False (inference probe: no-such-model:1b is not on the server"), gate["msg"]
    assert gate["msg"][-1].startswith("Ollama at %s is not healthy: inference probe: no-such-model:1b is not on the server" % sim.url), gate["msg"]
    assert "Probe the Ollama API" not in broken.task_names("host-1"), "one module call: the sync's; the gate failed with its facts"
    assert [r for r in sim.requests() if r["method"] != "GET"] == [], "a model that is not there is not asked"


def test_remove_refuses_without_confirmation(tmp_path: Path) -> None:
    inventory = fleet_inventory(tmp_path / "one.json", {"host-1": "http://127.0.0.1:%s" % free_port()}, tmp_path / "state")
    run = run_playbook(REPO / "playbooks" / "remove.yml", {}, inventory=inventory)
    assert run.rc == 2
    refused = run.results("Refuse to run without the confirmation", host="host-1")
    assert refused["failed"] is True
    assert "Run it again with -e ollama_remove_confirm=yes" in refused["msg"]
    assert [task["task"]["name"] for play in run.data["plays"] for task in play["tasks"]] == ["Refuse to run without the confirmation"]


def test_remove_refuses_extra_vars_that_would_deploy(tmp_path: Path) -> None:
    inventory = fleet_inventory(tmp_path / "one.json", {"host-1": "http://127.0.0.1:%s" % free_port()}, tmp_path / "state")
    run = run_playbook(REPO / "playbooks" / "remove.yml", {"ollama_remove_confirm": "yes", "ollama_server_state": "present"}, inventory=inventory)
    assert run.rc == 2
    refused = run.results("Refuse extra vars that would keep or deploy what this playbook removes", host="host-1")
    assert refused["failed"] is True
    assert "ollama_server_state=present" in refused["msg"] and "Nothing was changed" in refused["msg"]
    ran = [task["task"]["name"] for play in run.data["plays"] for task in play["tasks"]]
    assert ran == ["Refuse to run without the confirmation", "Refuse extra vars that would keep or deploy what this playbook removes"]
