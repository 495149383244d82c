# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.health: the facts built from answers already read, the GPU share and the inference probe."""

from __future__ import annotations

import io
import socket
from urllib.error import HTTPError, URLError

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import (
    gpu_percent,
    health_facts,
    is_embedding_model,
    probe_inference,
    smallest_model,
)
from tests.unit.fakes.transport import Transport


def client(transport: Transport) -> OllamaClient:
    return OllamaClient(request_factory=transport, retries=0, timeout=30)


TAGS = [
    {"name": "llama3.2:1b", "model": "llama3.2:1b", "size": 1_300_000_000, "capabilities": ["completion", "tools"]},
    {"name": "smollm2:135m", "model": "smollm2:135m", "size": 270_000_000, "capabilities": ["completion"]},
    {"name": "nomic-embed-text:latest", "model": "nomic-embed-text:latest", "size": 274_000_000, "capabilities": ["embedding"]},
    {"name": "gpt-oss:120b-cloud", "model": "gpt-oss:120b-cloud", "size": 384, "remote_host": "https://ollama.com:443"},
]
PS = [
    {"name": "llama3.2:1b", "model": "llama3.2:1b", "size": 2_000_000_000, "size_vram": 600_000_000, "digest": "ab", "expires_at": "x", "extra": 1},
    {"name": "smollm2:135m", "model": "smollm2:135m", "size": 400_000_000, "size_vram": 400_000_000},
    {"name": "cpu:1b", "model": "cpu:1b", "size": 1_000, "size_vram": 0},
]


def test_health_facts_from_answers_already_read_make_no_request() -> None:
    facts = health_facts("http://127.0.0.1:11434", "0.32.15", TAGS, PS)
    assert facts == {
        "api_url": "http://127.0.0.1:11434",
        "healthy": True,
        "reason": "",
        "version": "0.32.15",
        "models": ["gpt-oss:120b-cloud", "llama3.2:1b", "nomic-embed-text:latest", "smollm2:135m"],
        "models_count": 4,
        "models_total_size": 1_844_000_384,
        "models_total_size_human": "1.8 GB",
        "loaded": [
            {
                "name": "llama3.2:1b",
                "model": "llama3.2:1b",
                "size": 2_000_000_000,
                "size_vram": 600_000_000,
                "digest": "ab",
                "expires_at": "x",
                "gpu_percent": 30.0,
            },
            {"name": "smollm2:135m", "model": "smollm2:135m", "size": 400_000_000, "size_vram": 400_000_000, "gpu_percent": 100.0},
            {"name": "cpu:1b", "model": "cpu:1b", "size": 1_000, "size_vram": 0, "gpu_percent": 0.0},
        ],
        "loaded_count": 3,
        "disk": None,
    }


def test_health_facts_of_an_unhealthy_server_keep_the_reason(tmp_path) -> None:
    facts = health_facts("http://h:11434", healthy=False, reason="GET /: refused", disk_path=str(tmp_path))
    assert (facts["healthy"], facts["reason"], facts["models_count"], facts["loaded"]) == (False, "GET /: refused", 0, [])
    assert facts["disk"]["path"] == str(tmp_path) and facts["disk"]["free"] > 0 and facts["disk"]["error"] == ""


@pytest.mark.parametrize(
    ("entry", "share"),
    [({"size": 10, "size_vram": 3}, 30.0), ({"size": 3, "size_vram": 1}, 33.3), ({"size": 0, "size_vram": 0}, None), ({}, None), ({"size": "x"}, None)],
)
def test_gpu_percent(entry: dict, share: float | None) -> None:
    assert gpu_percent(entry) == share


@pytest.mark.parametrize(
    ("entry", "embeds"),
    [
        ({"capabilities": ["embedding"]}, True),
        ({"capabilities": ["completion", "tools"]}, False),
        ({"capabilities": ["embedding", "completion"]}, False),
        ({"details": {"family": "nomic-bert"}}, True),
        ({"details": {"family": "llama", "families": ["llama"]}}, False),
        ({"details": {"family": "x", "families": ["bert"]}}, True),
        ({}, False),
    ],
)
def test_is_embedding_model(entry: dict, embeds: bool) -> None:
    assert is_embedding_model(entry) is embeds


def test_smallest_model_skips_cloud_models() -> None:
    assert smallest_model(TAGS)["name"] == "smollm2:135m"
    assert smallest_model([TAGS[3]]) is None
    assert smallest_model([]) is None


def test_inference_probe_asks_the_smallest_model_for_one_token() -> None:
    transport = Transport({"models": TAGS}, {"model": "smollm2:135m", "response": "Hi", "done": True, "load_duration": 1_500_000_000})
    result = probe_inference(client(transport), timeout=20)
    assert result["healthy"] is True and result["reason"] == ""
    assert (result["model"], result["kind"], result["load_duration"], result["timeout"]) == ("smollm2:135m", "generate", 1.5, 20)
    assert isinstance(result["latency"], float) and 0 <= result["latency"] < 5
    generate = transport.calls[-1]
    assert (generate["method"], generate["path"]) == ("POST", "/api/generate")
    assert generate["body"] == {"model": "smollm2:135m", "prompt": "Hi", "stream": False, "options": {"num_predict": 1}}
    assert 0 < generate["timeout"] <= 20


def test_inference_probe_embeds_with_an_embedding_model_and_reuses_tags_read() -> None:
    transport = Transport({"model": "nomic-embed-text:latest", "embeddings": [[0.1, 0.2]]})
    result = probe_inference(client(transport), "nomic-embed-text:latest", timeout=5, models=TAGS, keep_alive="10m")
    assert result["healthy"] is True and result["kind"] == "embed"
    assert [(c["path"], c["body"]) for c in transport.calls] == [("/api/embed", {"model": "nomic-embed-text:latest", "input": "Hi", "keep_alive": "10m"})]


def test_inference_probe_reads_capabilities_from_show_on_older_servers() -> None:
    old_tags = [{"name": "all-minilm:latest", "model": "all-minilm:latest", "size": 45_000_000, "details": {"family": "bert"}}]
    transport = Transport({"details": {"family": "bert"}, "capabilities": ["embedding"]}, {"embeddings": [[1.0]]})
    result = probe_inference(client(transport), timeout=5, models=old_tags)
    assert result["healthy"] is True and result["kind"] == "embed"
    assert [c["path"] for c in transport.calls] == ["/api/show", "/api/embed"]


def test_a_hung_runner_is_unhealthy_with_the_reason() -> None:
    transport = Transport({"models": TAGS}, URLError(socket.timeout("timed out")))
    result = probe_inference(client(transport), "llama3.2:1b", timeout=3)
    assert result["healthy"] is False and result["latency"] is None
    assert result["reason"] == (
        "inference probe of llama3.2:1b: POST /api/generate: no answer within the probe timeout of 3 seconds (a hung runner, or a model too slow to load)"
    )
    assert transport.calls[-1]["timeout"] <= 3


def test_a_missing_model_and_an_empty_server_are_unhealthy() -> None:
    transport = Transport()
    result = probe_inference(client(transport), "nope:latest", timeout=3, models=TAGS[:2])
    assert result["healthy"] is False and transport.calls == []
    assert result["reason"] == (
        "inference probe: nope:latest is not on the server at http://127.0.0.1:11434 (it holds: llama3.2:1b, smollm2:135m); pull it or name another"
    )

    # gone between the tags and the generate: the server's words
    missing = HTTPError("http://127.0.0.1:11434/api/generate", 404, "Not Found", {}, io.BytesIO(b'{"error":"model \'smollm2:135m\' not found"}'))
    result = probe_inference(client(Transport(missing)), "smollm2:135m", timeout=3, models=TAGS)
    assert result["reason"] == "inference probe of smollm2:135m: POST /api/generate: HTTP 404: model 'smollm2:135m' not found"

    result = probe_inference(client(Transport({"models": []})), timeout=3)
    assert result["healthy"] is False and result["model"] is None
    assert result["reason"] == "inference probe: the server at http://127.0.0.1:11434 holds no model to ask; name one with probe_model or pull one"


def test_an_embed_without_embeddings_is_unhealthy() -> None:
    result = probe_inference(client(Transport({"embeddings": []})), "nomic-embed-text:latest", timeout=3, models=TAGS)
    assert result["healthy"] is False
    assert result["reason"] == "inference probe: POST /api/embed for nomic-embed-text:latest answered no embedding"


# ---------------------------------------------------------------------------- names as Ollama reads them (issue 19 class 9)
@pytest.mark.parametrize(
    "given",
    ["nomic-embed-text", "nomic-embed-text:latest", "NOMIC-EMBED-TEXT", "library/nomic-embed-text", "registry.ollama.ai/library/nomic-embed-text:latest"],
)
def test_the_probe_model_is_read_as_ollama_reads_names(given: str) -> None:
    transport = Transport({"model": "nomic-embed-text:latest", "embeddings": [[0.1, 0.2]]})
    result = probe_inference(client(transport), given, timeout=5, models=TAGS)
    assert result["healthy"] is True and result["kind"] == "embed", (given, result)
    assert result["model"] == "nomic-embed-text:latest"
    assert transport.calls[0]["body"]["model"] == "nomic-embed-text:latest"


@pytest.mark.parametrize("given", ["nomic-embed-text:v2", "nomic", "other/nomic-embed-text"])
def test_another_name_is_still_not_on_the_server(given: str) -> None:
    result = probe_inference(client(Transport()), given, timeout=5, models=TAGS)
    assert result["healthy"] is False and "is not on the server" in result["reason"], result
