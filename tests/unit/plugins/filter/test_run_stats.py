# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run_stats filter: the set_stats artifact of a play from the facts its hosts left."""

from __future__ import annotations

import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.llmops.ollama.plugins.filter.stats import MAX_HOSTS, MAX_MODELS, FilterModule

run_stats = FilterModule().filters()["run_stats"]


def sync(added: int = 0, removed: int = 0, failed: int = 0, lock=(), healthy: bool = True) -> dict:
    summary = {"added": added, "updated": 0, "removed": removed, "loaded": 0, "unloaded": 0, "unchanged": 0, "failed": failed, "unavailable": 0, "skipped": 0}
    return {"summary": summary, "lock": [{"name": n, "digest": d, "size": 1} for n, d in lock], "health": {"healthy": healthy, "models": []}}


def test_counts_failed_hosts_and_served_models_over_the_play() -> None:
    hostvars = {
        "a": {"ollama_models_result": sync(added=2, lock=[("m:1", "sha256:aa"), ("n:1", "sha256:bb")])},
        "b": {"ollama_models_result": sync(removed=1, lock=[("m:1", "sha256:aa")])},
        "c": {
            "ollama_models_result": sync(failed=1, healthy=False),
            "__ollama_stats_failure": {"task": "Sync", "reason": ["line 1", "the server at x is down"]},
        },
        "d": {},
    }
    stats = run_stats(hostvars, "site", hosts=["a", "b", "c", "d"], active=["a", "b", "c"])
    assert stats["hosts"] == {"total": 4, "ok": 2, "failed": 1, "unreachable": 1, "not_reached": 0}
    assert stats["counts"] == {"added": 2, "updated": 0, "removed": 1, "failed": 1, "unavailable": 0}
    assert stats["failed_hosts"] == [
        {"host": "c", "task": "Sync", "reason": "the server at x is down"},
        {"host": "d", "task": "", "reason": "unreachable, or failed before the play could record why"},
    ]
    assert stats["served"] == [{"name": "m:1", "digest": "sha256:aa", "hosts": 2}, {"name": "n:1", "digest": "sha256:bb", "hosts": 1}]
    assert stats["unhealthy"] == 1 and stats["check_mode"] is False


def test_bounded_whatever_the_fleet() -> None:
    hosts = ["h%03d" % i for i in range(300)]
    hostvars = {
        h: {
            "ollama_models_result": sync(lock=[("model-%s-%d:1" % (h, i), "sha256:%d" % i) for i in range(3)]),
            "__ollama_stats_failure": {"task": "t", "reason": "x" * 5000},
        }
        for h in hosts
    }
    stats = run_stats(hostvars, "models", hosts=hosts)
    assert len(stats["failed_hosts"]) == MAX_HOSTS and stats["failed_hosts_truncated"] == 300 - MAX_HOSTS
    assert len(stats["served"]) == MAX_MODELS and stats["served_truncated"] == 900 - MAX_MODELS
    assert max(len(f["reason"]) for f in stats["failed_hosts"]) == 300
    assert len(json.dumps(stats)) < 20000


def test_serial_batches_count_the_hosts_not_reached() -> None:
    hostvars = {"a": {"ollama_models_result": sync(added=1)}, "b": {}, "c": {}}
    stats = run_stats(hostvars, "site", hosts=["a", "b", "c"], active=["a", "b", "c"], batch=["a"])
    assert stats["hosts"] == {"total": 3, "ok": 1, "failed": 0, "unreachable": 0, "not_reached": 2}


def test_mirror_contents_and_health_models() -> None:
    fill = {"models": [{"name": "r/l/m:1", "digest": "sha256:cc", "size": 10, "changed": True}], "removed": [], "transferred": 10}
    stats = run_stats({"m": {"ollama_mirror_result": fill}}, "mirror", hosts=["m"])
    assert stats["mirror"] == {"models": 1, "fetched_bytes": 10, "contents": [{"name": "r/l/m:1", "digest": "sha256:cc", "size": 10}], "contents_truncated": 0}
    assert stats["counts"]["added"] == 1 and "served" not in stats
    probe = {"healthy": True, "models": ["m:1", "n:1"]}
    stats = run_stats({"h": {"__ollama_health_probe": probe}, "i": {"__ollama_health_probe": {"skipped": True}}}, "health", hosts=["h", "i"])
    assert [(row["name"], row["hosts"]) for row in stats["served"]] == [("m:1", 1), ("n:1", 1)] and stats["unhealthy"] == 0


def test_bad_arguments_say_what_is_wrong() -> None:
    with pytest.raises(AnsibleFilterError, match="playbook must be one of"):
        run_stats({}, "deploy", hosts=[])
    with pytest.raises(AnsibleFilterError, match="hosts must be a list"):
        run_stats({}, "site", hosts="a,b")
