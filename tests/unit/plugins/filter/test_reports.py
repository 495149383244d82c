# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report filters: the health report and the sync summary, line by line."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.llmops.ollama.plugins.filter.reports import FilterModule, health_lines, sync_summary


def state(**overrides: Any) -> Dict[str, Any]:
    base = {
        "api_url": "http://127.0.0.1:11434",
        "healthy": True,
        "reason": "",
        "version": "0.32.15",
        "models": ["smollm2:135m", "all-minilm:latest"],
        "models_count": 2,
        "models_total_size_human": "2.1 MB",
        "loaded": [{"name": "smollm2:135m"}],
        "disk": {"path": "/var/lib/docker", "free": 72600000000, "free_human": "72.6 GB", "error": None},
        "instances": [],
    }
    base.update(overrides)
    return base


def test_a_healthy_host_without_proxy_nor_instances() -> None:
    assert health_lines(state()) == [
        "api: http://127.0.0.1:11434",
        "healthy: True",
        "version: 0.32.15",
        "models: 2 (2.1 MB): smollm2:135m, all-minilm:latest",
        "loaded: smollm2:135m",
        "proxy: none",
        "disk free: 72.6 GB at /var/lib/docker",
        "instances: one",
    ]


def test_an_unhealthy_host_says_why_and_what_it_does_not_know() -> None:
    disk = {"path": "/x", "free": None, "free_human": None, "error": "/x: gone"}
    lines = health_lines(state(healthy=False, reason="GET /api/tags: refused", version="", models=[], models_count=0, loaded=[], disk=disk))
    assert lines[1] == "healthy: False (GET /api/tags: refused)"
    assert lines[2] == "version: -" and lines[3] == "models: 0 (2.1 MB): " and lines[4] == "loaded: none"
    assert lines[6] == "disk free: unknown (/x: gone) at /x"


def test_the_verdict_ends_the_report_of_an_unhealthy_host_only() -> None:
    """The gate's report (verdict=True): the same lines, and why the host fails the gate as the last one."""
    sick = state(healthy=False, reason="inference probe: smollm2:135m gave no answer within 60 seconds")
    verdict = "Ollama at http://127.0.0.1:11434 is not healthy: inference probe: smollm2:135m gave no answer within 60 seconds"
    assert health_lines(sick, verdict=True) == [*health_lines(sick), verdict]
    assert health_lines(state(), verdict=True) == health_lines(state())


def test_proxy_bindings_checked_from_outside_win_over_the_configured_ones() -> None:
    verified = [
        {"binding": {"url": "https://a.example", "tls": {"days_left": 80}}, "verified": {"certificate_sha256": "abcdef12", "without_key": 401}},
        {"binding": {"url": "http://b.example", "tls": None}, "verified": {"certificate_sha256": None, "without_key": None}},
    ]
    domains = {"bindings": [{"url": "https://c.example", "tls": {"days_left": 3}}]}
    assert health_lines(state(), verified, domains)[5] == (
        "proxy: https://a.example (verified: certificate sha256 abcd…, 401 without a key; 80 days left); http://b.example (verified: no TLS, no API key)"
    )
    assert health_lines(state(), [], domains)[5] == "proxy: https://c.example (not verified; 3 days of certificate left)"
    assert health_lines(state(), [], {"bindings": [{"url": "http://d", "tls": None}]})[5] == "proxy: http://d (not verified; no TLS)"
    assert health_lines(state(), [], {"skipped": True})[5] == "proxy: none"


def test_instances_each_with_what_it_serves() -> None:
    instances = [
        {"index": 0, "api_url": "http://127.0.0.1:11434", "healthy": True, "serves": ["a:1", "b:2"], "vram_share": 60},
        {"index": 1, "api_url": "http://127.0.0.1:11435", "healthy": False, "reason": "refused", "serves": [], "vram_share": None},
    ]
    assert health_lines(state(instances=instances))[7] == (
        "instances: 0 at http://127.0.0.1:11434 up, serves a:1, b:2, 60% of the VRAM in use; 1 at http://127.0.0.1:11435 DOWN (refused), serves none"
    )


SUMMARY = {"added": 1, "updated": 0, "removed": 2, "loaded": 0, "unloaded": 0, "unchanged": 3, "failed": 0, "unavailable": 0, "skipped": 0}


def test_sync_summary_counts_models_and_mirror_lines() -> None:
    result = {
        "summary": SUMMARY,
        "results": [
            {"name": "smollm2:135m", "action": "added", "status": "ok", "bytes": 2098420, "seconds": 1.26},
            {
                "name": "qwen2.5:0.5b",
                "action": "updated",
                "status": "ok",
                "bytes": 0,
                "seconds": 0.0,
                "mirror": {
                    "mirror": "http://m",
                    "pulled": True,
                    "bytes": 3500000,
                    "source": "m/qwen2.5:0.5b",
                    "copied": True,
                    "removed": False,
                    "previous_removed": True,
                },
            },
        ],
    }
    assert sync_summary(result, "h1") == [
        "Model sync of h1",
        "  added updated removed  loaded unloaded unchanged failed unavailable skipped",
        "      1       0       2       0        0         3      0           0       0",
        "model                                        action    status       MB pulled  seconds",
        "smollm2:135m                                 added     ok                 2.1      1.3",
        "qwen2.5:0.5b                                 updated   ok                 0.0      0.0",
        "qwen2.5:0.5b through the mirror http://m: pulled 3.5 MB as m/qwen2.5:0.5b, copied to its own name, mirror name left on the server,"
        " the layers only the previous version used removed",
    ]


def test_sync_summary_in_check_mode_without_models() -> None:
    assert sync_summary({"summary": SUMMARY, "results": []}, "h2", True)[0] == "Model sync of h2 (check mode: nothing was changed)"
    assert len(sync_summary({"summary": SUMMARY}, "h2")) == 3


def test_the_filters_are_registered() -> None:
    assert set(FilterModule().filters()) == {"health_lines", "sync_summary"}
