# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet plan callback's aggregation and Markdown, from module results shaped as the modules return them."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.callback.ollama_plan import FleetPlan, human, markdown


def sync_result(results, plan, total=0, moved=0, job=None):
    data = {"summary": {"added": 0}, "results": results, "plan": plan, "pull": {"total": total, "bytes": moved}}
    if job:
        data["ansible_job_id"] = job
    return data


PULL = {"name": "llama3.2:latest", "action": "pulled", "digest": "ab" * 32, "size_bytes": 6292970, "bytes": 0}
PULL_PLAN = {"name": "llama3.2:latest", "steps": [{"kind": "check_space"}, {"kind": "pull", "transfer": True}]}
REMOVE = {"name": "old:1", "action": "removed", "digest": "cd" * 32, "size_bytes": 100, "bytes": 0}


def test_check_mode_plan_per_host_and_totals() -> None:
    plan = FleetPlan()
    plan.check_mode = True
    plan.playbooks.append("site.yml")
    plan.add_sync("a", sync_result([PULL, REMOVE, {"name": "same:1", "action": "unchanged"}], [PULL_PLAN]))
    plan.add_binding("a", {"changed": True, "binding": {"domain": "a.test", "url": "https://a.test"}, "diff": [{"before": "", "after": "x"}]}, "present")
    plan.add_binding("b", {"changed": True, "binding": {"domain": "b.test"}, "diff": [{"before": "server {}", "after": "y"}]}, "present")
    plan.add_binding("b", {"changed": False, "binding": {"domain": "c.test"}}, "present")
    plan.add_binding("b", {"changed": False, "binding": {"domain": "b.test"}, "verified": {"with_key": 200}}, "present")
    plan.add_server_change("c", "Run the Ollama container")
    plan.add_failure("d", ["report", "Ollama at x is not healthy"])
    summary = plan.summary()
    a = summary["hosts"]["a"]
    assert [m["name"] for m in a["models"]["pull"]] == ["llama3.2:latest"] and [m["name"] for m in a["models"]["remove"]] == ["old:1"]
    assert a["bytes"] == 6292970 and a["bindings"] == {"add": ["a.test"], "change": [], "remove": []}
    assert summary["hosts"]["b"]["bindings"]["change"] == ["b.test"] and summary["hosts"]["c"]["server"] == ["Run the Ollama container"]
    assert summary["hosts"]["d"]["failed"] == "Ollama at x is not healthy"
    totals = summary["totals"]
    assert (totals["pull"], totals["remove"], totals["bytes"]) == (1, 1, 6292970)
    assert (totals["bindings_add"], totals["bindings_change"], totals["server_changes"]) == (1, 1, 1)
    assert (totals["hosts"], totals["hosts_changing"], totals["hosts_failed"]) == (4, 3, 1)
    text = markdown(summary)
    assert text.startswith("## Ollama fleet plan (site.yml)\n")
    assert "| a | 1 | 0 | 1 | 6.3 MB | add a.test | 0 | changes |" in text
    assert "| d | 0 | 0 | 0 | 0 B | - | 0 | failed: Ollama at x is not healthy |" in text
    assert "- pull model `llama3.2:latest` (6.3 MB, abababababab)" in text


def test_apply_mode_counts_the_background_sync_once_and_its_transfers() -> None:
    plan = FleetPlan()
    first = sync_result([dict(PULL, action="pending"), REMOVE], [PULL_PLAN])
    done = sync_result([dict(PULL, bytes=6200000)], [PULL_PLAN], total=6292970, moved=6200000, job="j1")
    plan.add_sync("a", first)
    plan.add_sync("a", done)
    plan.add_sync("a", done)  # the role reads the finished job twice
    host = plan.summary()["hosts"]["a"]
    assert [m["name"] for m in host["models"]["pull"]] == ["llama3.2:latest"] and [m["name"] for m in host["models"]["remove"]] == ["old:1"]
    assert (host["bytes"], host["bytes_moved"]) == (6292970, 6200000)
    assert markdown(plan.summary()).startswith("## Ollama fleet run (ansible-playbook)")


def test_human_sizes() -> None:
    assert [human(0), human(999), human(6292970), human(2 * 10**12)] == ["0 B", "999 B", "6.3 MB", "2.0 TB"]
