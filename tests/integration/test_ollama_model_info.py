# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model_info: search, sort, paging, detail and ledger statuses, against the simulator."""

from __future__ import annotations

import fnmatch
import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.integration.playbook import run_playbook
from tests.integration.test_ollama_model import mutating, run_steps

pytestmark = pytest.mark.integration

CATALOG = [
    "llama3.2:1b",
    "llama3.2:latest",
    "qwen2.5:0.5b",
    "smollm2:135m",
    "all-minilm:latest",
    "nomic-embed-text:latest",
    "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
]
COPIES = {"smollm2:135m": ["smollm2:backup", "team/tiny:v1"], "qwen2.5:0.5b": ["team/qwen:prod"], "llama3.2:1b": ["llama3.2:pinned"]}
STATUS_ORDER = ["running", "stopped", "downloading", "queued", "paused", "failed", "unavailable"]


def when(text: str | None) -> datetime:
    if not text:
        return datetime.min.replace(tzinfo=timezone.utc)
    head, _dot, rest = text.rstrip("Z").partition(".")
    return datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(microsecond=int((rest + "000000")[:6]), tzinfo=timezone.utc)


@pytest.fixture
def stocked(sim, tmp_path: Path):
    """A server with 12 models (7 pulled, 4 copies, 1 custom), one loaded, one failed and one paused pull."""
    for model in CATALOG:
        sim.pull(model)
    for source, copies in COPIES.items():
        for copy in copies:
            assert sim.call("POST", "/api/copy", {"source": source, "destination": copy})[0] == 200
    sim.call("POST", "/api/generate", {"model": "smollm2:135m", "prompt": "", "keep_alive": "10m", "stream": False})
    sim.call("POST", "/_sim/catalog", {"add": {"name": "extra/big:7b", "size": 5_000_000}})
    results = run_steps(
        sim,
        tmp_path,
        [
            {"name": ["helper"], "from": "smollm2:135m", "system": "Be brief."},
            {"name": ["no-such-model:1b"]},
            {"name": ["extra/big:7b"], "min_free_space": "1 PB"},
        ],
    )
    assert [r["changed"] for r in results] == [True, False, False]
    sim.clear_requests()
    return sim


def query(sim, tmp_path: Path, queries: list[dict[str, Any]]) -> list[dict]:
    run = run_playbook("model_info.yml", {"sim_url": sim.url, "state_dir": str(tmp_path / "state"), "queries": queries})
    assert "Traceback" not in run.stdout + run.stderr
    results = run.results("Info")["results"]
    assert len(results) == len(queries)
    return results


def names(result: dict) -> list[str]:
    return [m["name"] for m in result["models"]]


def test_search_filters_sorting_and_paging(stocked, tmp_path: Path) -> None:
    sim = stocked
    queries = [
        {},  # 0 everything
        {"query": "LLAMA"},  # 1 substring, case-insensitive
        {"query": "llama3.2:*"},  # 2 glob
        {"query": "*:v?"},  # 3 glob with ?
        {"status": ["running"]},  # 4
        {"status": ["failed", "paused"]},  # 5
        {"source": ["custom"]},  # 6
        {"source": ["remote"]},  # 7
        {"source": ["official"], "status": ["stopped"]},  # 8 AND
        {"min_size": "3 MB"},  # 9
        {"max_size": "2.1MB"},  # 10
        {"min_size": "3000000", "max_size": "4.5 MiB"},  # 11
        {"sort_by": "size", "sort_desc": True},  # 12
        {"sort_by": "size"},  # 13
        {"sort_by": "modified_at"},  # 14
        {"sort_by": "status"},  # 15
        {"sort_by": "name", "sort_desc": True},  # 16
        {"page_size": 5},  # 17
        {"page_size": 5, "page": 3},  # 18
        {"page_size": 5, "page": 4},  # 19 past the end
        {"declared": ["smollm2:135m", "missing-one:1b", "llama3.2"], "status": ["unavailable"]},  # 20
        {"query": "team", "source": ["remote"], "min_size": "3MB", "sort_by": "size"},  # 21 all combined
        {"query": "zzz"},  # 22 nothing
        {"name": "Llama3.2:1B"},  # 23 one model, normalised
        {"name": "missing-one"},  # 24 one missing model
    ]
    results = query(sim, tmp_path, queries)
    assert all(r["changed"] is False and not r.get("failed") for r in results), [r.get("msg") for r in results]
    everything = results[0]["models"]
    by_name = {m["name"]: m for m in everything}
    assert results[0]["total"] == len(everything) == 14
    assert names(results[0]) == sorted(by_name, key=str.lower)
    assert (results[0]["page"], results[0]["pages"], results[0]["page_size"]) == (1, 1, 0)

    assert set(names(results[1])) == {n for n in by_name if "llama" in n.lower()}
    assert set(names(results[1])) == {"llama3.2:1b", "llama3.2:latest", "llama3.2:pinned", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"}
    assert names(results[2]) == ["llama3.2:1b", "llama3.2:latest", "llama3.2:pinned"]
    assert names(results[3]) == ["team/tiny:v1"]
    assert names(results[4]) == ["smollm2:135m"]
    assert by_name["smollm2:135m"]["loaded"]["expires_at"]
    assert names(results[5]) == ["extra/big:7b", "no-such-model:1b"]
    assert by_name["extra/big:7b"]["status"] == "paused" and "not enough disk space" in by_name["extra/big:7b"]["message"]
    assert by_name["no-such-model:1b"]["status"] == "failed" and "not found in registry.ollama.ai/library" in by_name["no-such-model:1b"]["message"]
    assert names(results[6]) == ["helper:latest"]
    assert set(names(results[7])) == {"team/tiny:v1", "team/qwen:prod", "extra/big:7b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M"}
    assert set(names(results[8])) == {n for n, m in by_name.items() if m["from"] == "official" and m["status"] == "stopped"}
    assert "smollm2:135m" not in names(results[8]) and len(names(results[8])) == 7

    assert set(names(results[9])) == {n for n, m in by_name.items() if m["size_bytes"] >= 3_000_000}
    assert set(names(results[10])) == {n for n, m in by_name.items() if m["size_bytes"] <= 2_100_000}
    assert set(names(results[11])) == {n for n, m in by_name.items() if 3_000_000 <= m["size_bytes"] <= 4.5 * 1024 * 1024}
    assert names(results[11]) and len(names(results[11])) < len(names(results[9]))

    sizes = [m["size_bytes"] for m in results[12]["models"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] == max(m["size_bytes"] for m in everything)
    assert [m["size_bytes"] for m in results[13]["models"]] == sorted(sizes)
    times = [when(m["modified_at"]) for m in results[14]["models"]]
    assert times == sorted(times)
    assert [STATUS_ORDER.index(m["status"]) for m in results[15]["models"]] == sorted(STATUS_ORDER.index(m["status"]) for m in everything)
    assert results[15]["models"][0]["status"] == "running" and results[15]["models"][-1]["status"] == "failed"
    assert names(results[16]) == list(reversed(names(results[0])))

    pages = math.ceil(14 / 5)
    assert (results[17]["total"], results[17]["pages"], len(results[17]["models"])) == (14, pages, 5)
    assert names(results[17]) == names(results[0])[:5]
    assert (results[18]["page"], names(results[18])) == (3, names(results[0])[10:15])
    assert (results[19]["models"], results[19]["total"], results[19]["pages"]) == ([], 14, 3)

    assert names(results[20]) == ["missing-one:1b"]
    assert results[20]["models"][0]["status"] == "unavailable"
    expected = sorted(
        (m for m in everything if "team" in m["name"] and m["from"] == "remote" and m["size_bytes"] >= 3_000_000), key=lambda m: (m["size_bytes"], m["name"])
    )
    assert names(results[21]) == [m["name"] for m in expected] == ["team/qwen:prod"]
    assert (results[22]["models"], results[22]["total"], results[22]["pages"]) == ([], 0, 0)
    assert results[23]["model"]["name"] == "llama3.2:1b" and names(results[23]) == ["llama3.2:1b"]
    assert results[24]["model"]["status"] == "unavailable"
    # the globs match whole names, case-insensitively: exactly the models a glob match over every name gives
    for index, glob in ((2, "llama3.2:*"), (3, "*:v?")):
        assert names(results[index]) == [n for n in names(results[0]) if fnmatch.fnmatchcase(n.lower(), glob)], glob
    assert "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M" not in names(results[2]), "a glob is not a substring match"
    assert mutating(sim.requests()) == []


def test_detail_and_records(stocked, tmp_path: Path) -> None:
    sim = stocked
    results = query(sim, tmp_path, [{"name": "helper", "detail": True}, {"name": "all-minilm", "detail": True}, {"name": "missing-one", "detail": True}])
    helper = results[0]["model"]
    assert helper["from"] == "custom"
    detail = helper["detail"]
    assert detail["system"] == "Be brief."
    assert detail["details"]["parent_model"] == "smollm2:135m"
    assert "completion" in detail["capabilities"]
    assert detail["model_info"]["architecture"] == "llama" and detail["model_info"]["context_length"] > 0
    assert detail["modelfile"].startswith("# Modelfile generated by")
    assert isinstance(detail["parameters"], dict)
    embed = results[1]["model"]["detail"]
    assert "embedding" in embed["capabilities"]
    assert embed["model_info"]["embedding_length"] > 0
    assert results[2]["model"]["status"] == "unavailable" and "detail" not in results[2]["model"]
    assert [r["path"] for r in sim.requests() if r["method"] == "POST"] == ["/api/show", "/api/show"]


BAD_INPUT = [
    ({"detail": True}, "detail: true needs name"),
    ({"min_size": "big"}, "min_size: invalid size 'big'"),
    ({"min_size": "2GB", "max_size": "1GB"}, "min_size (2GB) is larger than max_size (1GB)"),
    ({"page": 0}, "page must be 1 or more"),
    ({"page_size": -1}, "page_size must be 0 (all) or more"),
    ({"name": "bad name"}, "invalid model name 'bad name'"),
    ({"declared": ["ok", "x/y/z/w"]}, "a model name has at most 3"),
    ({"query": "  "}, "query is empty"),
    ({"sort_by": "colour"}, "value of sort_by must be one of: name, size, modified_at, status, got: colour"),
    ({"status": ["sleeping"]}, "value of status must be one or more of: running, stopped"),
    ({"source": ["github"]}, "value of source must be one or more of: official, remote, custom"),
]


def test_bad_input_fails_before_any_request(sim, tmp_path: Path) -> None:
    results = query(sim, tmp_path, [dict(bad, label="case %d" % n) for n, (bad, _fragment) in enumerate(BAD_INPUT)])
    for (bad, fragment), result in zip(BAD_INPUT, results):
        assert result.get("failed") is True, bad
        assert fragment in result["msg"], (bad, result["msg"])
    assert [r for r in sim.requests() if r["path"].startswith("/api/")] == []
