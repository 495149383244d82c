# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""model.record_search: filters that combine with AND, sorting with the name as tiebreak, pages."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List

from ansible_collections.llmops.ollama.plugins.module_utils.model.record_search import search


def records() -> List[Dict[str, Any]]:
    base = datetime(2026, 1, 1, tzinfo=timezone.utc)
    rows = [
        ("llama3.2:1b", 1_300_000_000, "running", "official"),
        ("llama3.2:latest", 2_000_000_000, "stopped", "official"),
        ("qwen2.5:0.5b", 400_000_000, "stopped", "official"),
        ("hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", 800_000_000, "stopped", "remote"),
        ("helper:latest", 1_300_000_000, "stopped", "custom"),
        ("big:70b", 40_000_000_000, "paused", "official"),
        ("nope:1b", 0, "failed", "official"),
    ]
    return [
        {"name": n, "size_bytes": s, "status": st, "from": f, "modified_at": (base + timedelta(hours=i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        for i, (n, s, st, f) in enumerate(rows)
    ]


def names(result: Dict[str, Any]) -> List[str]:
    return [r["name"] for r in result["models"]]


def test_search_filters_combine_with_and() -> None:
    assert names(search(records(), query="LLAMA")) == ["hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", "llama3.2:1b", "llama3.2:latest"]
    assert names(search(records(), query="llama3.2:*")) == ["llama3.2:1b", "llama3.2:latest"]
    assert names(search(records(), query="*:?b")) == ["llama3.2:1b", "nope:1b"]
    assert names(search(records(), statuses=["paused", "failed"])) == ["big:70b", "nope:1b"]
    assert names(search(records(), sources=["custom", "remote"])) == ["helper:latest", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"]
    assert names(search(records(), min_size=1_000_000_000, max_size=2_000_000_000)) == ["helper:latest", "llama3.2:1b", "llama3.2:latest"]
    assert names(search(records(), query="llama", statuses=["stopped"], sources=["official"], min_size=1)) == ["llama3.2:latest"]


def test_search_sorts_with_name_as_tiebreak() -> None:
    assert names(search(records(), sort_by="size"))[:3] == ["nope:1b", "qwen2.5:0.5b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"]
    assert names(search(records(), sort_by="size", sort_desc=True))[:3] == ["big:70b", "llama3.2:latest", "llama3.2:1b"]
    assert names(search(records(), sort_by="modified_at", sort_desc=True))[0] == "nope:1b"
    assert names(search(records(), sort_by="status")) == [
        "llama3.2:1b",
        "helper:latest",
        "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        "llama3.2:latest",
        "qwen2.5:0.5b",
        "big:70b",
        "nope:1b",
    ]


def test_search_pages() -> None:
    result = search(records(), page=2, page_size=3)
    assert (result["total"], result["page"], result["pages"], result["page_size"]) == (7, 2, 3, 3)
    assert names(result) == names(search(records()))[3:6]
    assert names(search(records(), page=3, page_size=3)) == ["qwen2.5:0.5b"]
    assert search(records(), page=4, page_size=3)["models"] == []
    assert search([], page_size=3)["pages"] == 0
    assert search(records(), page=2)["models"] == []
