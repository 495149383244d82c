# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The instances of one host side by side: models listed and served, VRAM share, what is missing."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils.core.health import health_facts
from ansible_collections.llmops.ollama.plugins.module_utils.core.instances import instances_report, unhealthy_reason

TAGS = [{"name": "llama3.2:1b", "size": 10}, {"name": "qwen2.5:7b", "size": 20}]


def loaded(name: str, size: int, vram: int) -> dict:
    return {"name": name, "model": name, "size": size, "size_vram": vram}


def test_each_instance_with_the_models_it_serves_and_its_vram_share() -> None:
    probes = [
        health_facts("http://127.0.0.1:11434", "0.32.15", TAGS, [loaded("llama3.2:1b", 100, 100)]),
        health_facts("http://127.0.0.1:11435", "0.32.15", TAGS, [loaded("qwen2.5:7b", 300, 300)]),
        health_facts("http://127.0.0.1:11436", "0.32.15", TAGS, []),
    ]
    report = instances_report(probes)
    assert [(r["index"], r["serves"], r["vram_bytes"], r["vram_share"]) for r in report] == [
        (0, ["llama3.2:1b"], 100, 25.0),
        (1, ["qwen2.5:7b"], 300, 75.0),
        (2, [], 0, 0.0),
    ]
    assert report[0]["loaded"] == [{"name": "llama3.2:1b", "size_vram": 100, "gpu_percent": 100.0}]
    assert all(r["missing"] == [] and r["models_count"] == 2 for r in report)
    assert unhealthy_reason(report) == ""


def test_an_instance_down_or_not_listing_a_model_says_so() -> None:
    probes = [
        health_facts("http://127.0.0.1:11434", "0.32.15", TAGS, []),
        health_facts("http://127.0.0.1:11435", "0.32.15", TAGS[:1], []),
        health_facts("http://127.0.0.1:11436", healthy=False, reason="connection refused"),
    ]
    report = instances_report(probes)
    assert report[1]["missing"] == ["qwen2.5:7b"] and report[2]["missing"] == [] and report[0]["vram_share"] is None
    why = unhealthy_reason(report)
    assert "instance 2 (http://127.0.0.1:11436): connection refused" in why
    assert "instance 1 (http://127.0.0.1:11435) does not list qwen2.5:7b, which another instance lists: do they share one models directory?" in why
