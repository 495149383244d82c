# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The Ollama API simulator over raw HTTP: endpoints, fields, status codes, streams, faults."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import socket
import struct
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.nginx_fixture import free_port
from tests.ollama_sim import VERSION
from tests.ollama_sim.catalog import BUILTIN_MODELS, make_gguf
from tests.ollama_sim.testing import REPO, Sim

pytestmark = pytest.mark.integration

SMALL = "smollm2:135m"  # the smallest catalogue model (2 MB)
EMBED = "all-minilm:latest"
NDJSON = "application/x-ndjson"
JSON = "application/json; charset=utf-8"


def registry_manifest(sim: Sim, repository: str, tag: str) -> Dict[str, Any]:
    status, headers, body = sim.request("GET", "/v2/%s/manifests/%s" % (repository, tag))
    assert status == 200
    return {"headers": headers, "raw": body, "json": json.loads(body)}


def tags(sim: Sim) -> List[Dict[str, Any]]:
    status, body = sim.call("GET", "/api/tags")
    assert status == 200
    return body["models"]


def ps(sim: Sim) -> List[Dict[str, Any]]:
    status, body = sim.call("GET", "/api/ps")
    assert status == 200
    return body["models"]


def parse_time(text: str) -> datetime:
    main, _dot, rest = text.partition(".")
    if rest:
        zone = re.search(r"(Z|[+-]\d\d:\d\d)$", rest)
        assert zone, text
        fraction = rest[: zone.start()][:6]
        text = "%s.%s%s" % (main, fraction, zone.group(1))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def blob_files(sim: Sim) -> List[str]:
    return sorted(path.name for path in (sim.data / "blobs").iterdir())


# ------------------------------------------------------------------------ basics
def test_root_version_and_unknown_routes(sim: Sim) -> None:
    status, headers, body = sim.request("GET", "/")
    assert (status, body, headers["content-type"]) == (200, b"Ollama is running", "text/plain; charset=utf-8")
    status, headers, body = sim.request("HEAD", "/")
    assert (status, body, headers["content-length"]) == (200, b"", "17")
    assert sim.call("GET", "/api/version") == (200, {"version": VERSION})
    status, headers, body = sim.request("GET", "/api/nothing")
    assert (status, headers["content-type"], body) == (404, "text/plain", b"404 page not found")
    assert sim.call("GET", "/api/pull") == (405, "405 method not allowed")
    assert sim.call("GET", "/api/tags") == (200, {"models": []})
    assert sim.call("GET", "/api/ps") == (200, {"models": []})
    assert sim.call("GET", "/v1/models") == (200, {"object": "list", "data": None})


def test_pull_stream_lines_and_tags(sim: Sim) -> None:
    status, headers, body = sim.request("POST", "/api/pull", {"model": SMALL})
    assert status == 200
    assert headers["content-type"] == NDJSON
    assert headers["transfer-encoding"] == "chunked"
    lines = [json.loads(line) for line in body.splitlines()]
    manifest = registry_manifest(sim, "library/smollm2", "135m")
    layers = manifest["json"]["layers"] + [manifest["json"]["config"]]

    assert lines[0] == {"status": "pulling manifest"}
    assert [line["status"] for line in lines[-3:]] == ["verifying sha256 digest", "writing manifest", "success"]
    progress = lines[1:-3]
    digests = [line["digest"] for line in progress]
    assert [digest for index, digest in enumerate(digests) if index == 0 or digests[index - 1] != digest] == [layer["digest"] for layer in layers]
    for layer in layers:
        mine = [line for line in progress if line["digest"] == layer["digest"]]
        assert mine, layer
        for line in mine:
            assert line["status"] == "pulling %s" % layer["digest"][7:19]
            assert line["total"] == layer["size"]
            assert "completed" not in line or 0 < line["completed"] <= layer["size"]
        assert mine[-1]["completed"] == layer["size"]

    models = tags(sim)
    assert len(models) == 1
    model = models[0]
    assert model["name"] == model["model"] == SMALL
    assert model["digest"] == hashlib.sha256(manifest["raw"]).hexdigest()
    assert "sha256:" + model["digest"] == manifest["headers"]["docker-content-digest"]
    assert model["size"] == sum(layer["size"] for layer in layers)
    assert model["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "llama",
        "families": ["llama"],
        "parameter_size": "134.52M",
        "quantization_level": "F16",
        "context_length": 8192,
        "embedding_length": 576,
    }
    assert model["capabilities"] == ["completion"]
    assert abs(parse_time(model["modified_at"]) - datetime.now(timezone.utc)) < timedelta(seconds=30)
    on_disk = sim.data / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    assert on_disk.read_bytes() == manifest["raw"]
    assert blob_files(sim) == sorted("sha256-" + layer["digest"][7:] for layer in layers)


def test_pull_up_to_date_and_not_streamed(sim: Sim) -> None:
    sim.pull(SMALL)
    before = tags(sim)[0]
    sim.clear_stats()
    status, lines = sim.stream("/api/pull", {"model": SMALL})
    assert status == 200
    manifest = registry_manifest(sim, "library/smollm2", "135m")["json"]
    layers = manifest["layers"] + [manifest["config"]]
    expected = [{"status": "pulling manifest"}]
    expected += [
        {"status": "pulling %s" % layer["digest"][7:19], "digest": layer["digest"], "total": layer["size"], "completed": layer["size"]} for layer in layers
    ]
    expected += [{"status": "verifying sha256 digest"}, {"status": "writing manifest"}, {"status": "success"}]
    assert lines == expected
    after = tags(sim)[0]
    assert (after["digest"], after["size"]) == (before["digest"], before["size"])
    assert sim.stats()["pulled"] == 0

    status, headers, body = sim.request("POST", "/api/pull", {"model": SMALL, "stream": False})
    assert (status, headers["content-type"], json.loads(body)) == (200, "application/json", {"status": "success"})


def test_pull_unknown_model(sim: Sim) -> None:
    status, lines = sim.stream("/api/pull", {"model": "no-such-model:7b"})
    assert status == 200
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]
    assert sim.call("POST", "/api/pull", {"model": "no-such-model:7b", "stream": False}) == (500, {"error": "pull model manifest: file does not exist"})
    assert tags(sim) == []


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "error"),
    [
        ("POST", "/api/pull", {"model": "bad name!"}, 400, "invalid model name"),
        ("POST", "/api/pull", {}, 400, "invalid model name"),
        ("POST", "/api/pull", {"model": "my.namespace/model"}, 400, "invalid model name"),
        ("POST", "/api/pull", {"model": "a" * 81}, 400, "invalid model name"),
        ("POST", "/api/pull", {"model": "a/b/c/d"}, 400, "invalid model name"),
        ("POST", "/api/show", {}, 400, "model is required"),
        ("POST", "/api/show", {"model": "-x"}, 400, "invalid model name"),
        ("POST", "/api/show", {"model": "nope"}, 404, "model 'nope:latest' not found"),
        ("POST", "/api/generate", {"model": "bad name"}, 400, "invalid model name"),
        ("POST", "/api/generate", {"model": "nope"}, 404, "model 'nope' not found"),
        ("POST", "/api/chat", {"model": ""}, 400, "model is required"),
        ("POST", "/api/chat", {"model": "nope"}, 404, "model 'nope' not found"),
        ("POST", "/api/embed", {"model": "nope", "input": "x"}, 404, 'model "nope" not found, try pulling it first'),
        ("DELETE", "/api/delete", {"model": "a b"}, 400, 'name "a b" is invalid'),
        ("DELETE", "/api/delete", {"model": "nope:1b"}, 404, "model 'nope:1b' not found"),
        ("POST", "/api/copy", {"source": "bad name", "destination": "x"}, 400, 'source "bad name" is invalid'),
        ("POST", "/api/copy", {"source": "nope", "destination": "bad name"}, 400, 'destination "bad name" is invalid'),
        ("POST", "/api/copy", {"source": "nope", "destination": "x"}, 404, 'model "nope" not found'),
        ("POST", "/api/create", {"model": "bad name", "from": SMALL}, 400, "invalid model name"),
        ("POST", "/api/create", {"model": "x"}, 400, "neither 'from' or 'files' was specified"),
        ("POST", "/api/create", {"model": "x", "files": {"../m.gguf": "sha256:" + "0" * 64}}, 400, "file path must be relative: ../m.gguf"),
        ("POST", "/api/pull", {"model": 7}, 400, "json: cannot unmarshal number into Go struct field PullRequest.model of type string"),
        ("POST", "/api/pull", b"", 400, "missing request body"),
        ("POST", "/api/pull", b"{x", 400, "invalid character 'x' looking for beginning of object key string"),
        ("POST", "/api/generate", {"model": "m", "keep_alive": "3600"}, 400, 'time: missing unit in duration "3600"'),
    ],
)
def test_errors(sim: Sim, method: str, path: str, body: Any, status: int, error: str) -> None:
    got_status, headers, raw = sim.request(method, path, body)
    assert (got_status, json.loads(raw)) == (status, {"error": error})
    # errors sent through Ollama's stream machinery (before any line) lose the charset
    assert headers["content-type"] == ("application/json" if error == "neither 'from' or 'files' was specified" else JSON)


def test_names_are_case_insensitive(sim: Sim) -> None:
    sim.pull("SmolLM2:135M")
    assert [model["name"] for model in tags(sim)] == ["SmolLM2:135M"]
    assert sim.call("POST", "/api/show", {"model": "smollm2:135m"})[0] == 200
    sim.pull("smollm2:135m")
    assert [model["name"] for model in tags(sim)] == ["SmolLM2:135M"]
    assert sim.request("DELETE", "/api/delete", {"model": "SMOLLM2:135m"})[0] == 200
    assert tags(sim) == []


# ------------------------------------------------------------------------ show
def test_show_fields(sim: Sim) -> None:
    sim.pull(SMALL)
    status, show = sim.call("POST", "/api/show", {"model": SMALL})
    assert status == 200
    blob = sim.data.resolve() / "blobs" / ("sha256-" + registry_manifest(sim, "library/smollm2", "135m")["json"]["layers"][0]["digest"][7:])
    assert list(show) == ["license", "modelfile", "parameters", "template", "system", "details", "model_info", "tensors", "capabilities", "modified_at"]
    assert show["modelfile"].startswith(
        '# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM smollm2:135m\n\nFROM %s\nTEMPLATE "'
        % blob
    )
    assert "\nPARAMETER stop <|im_start|>\nPARAMETER stop <|im_end|>\n" in show["modelfile"]
    assert show["parameters"] == 'stop                           "<|im_start|>"\nstop                           "<|im_end|>"'
    assert show["system"] == "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    assert show["license"].startswith("Apache License")
    assert show["details"]["parameter_size"] == "134.52M"
    assert show["model_info"]["general.architecture"] == "llama"
    assert show["model_info"]["llama.context_length"] == 8192
    assert show["model_info"]["general.parameter_count"] == 134515008
    assert show["capabilities"] == ["completion"]
    assert show["modified_at"] == tags(sim)[0]["modified_at"]

    sim.pull(EMBED)
    status, show = sim.call("POST", "/api/show", {"model": "all-minilm"})
    assert status == 200
    assert show["capabilities"] == ["embedding"]
    assert show["template"] == "{{ .Prompt }}"
    assert show["model_info"]["bert.pooling_type"] == 1


# ------------------------------------------------------------------------ runtime
def test_load_keep_alive_expiry_and_unload(sim: Sim) -> None:
    sim.pull(SMALL)
    status, body = sim.call("POST", "/api/generate", {"model": SMALL, "keep_alive": "2s"})
    assert status == 200
    assert set(body) == {"model", "created_at", "response", "done", "done_reason"}
    assert (body["model"], body["response"], body["done"], body["done_reason"]) == (SMALL, "", True, "load")
    loaded = ps(sim)
    tag = tags(sim)[0]
    assert len(loaded) == 1
    assert {key: loaded[0][key] for key in ("name", "model", "size", "digest", "size_vram", "context_length")} == {
        "name": SMALL,
        "model": SMALL,
        "size": tag["size"],
        "digest": tag["digest"],
        "size_vram": 0,
        "context_length": 4096,
    }
    left = parse_time(loaded[0]["expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(seconds=0.5) < left <= timedelta(seconds=2.1)
    time.sleep(2.3)
    assert ps(sim) == []

    sim.call("POST", "/api/generate", {"model": SMALL, "keep_alive": -1})
    assert parse_time(ps(sim)[0]["expires_at"]).year > 2200
    sim.call("POST", "/api/chat", {"model": SMALL, "keep_alive": 3600})
    left = parse_time(ps(sim)[0]["expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(minutes=59) < left <= timedelta(minutes=60)
    status, body = sim.call("POST", "/api/generate", {"model": SMALL, "keep_alive": 0})
    assert (status, body["done_reason"], body["response"]) == (200, "unload", "")
    assert ps(sim) == []
    status, body = sim.call("POST", "/api/chat", {"model": SMALL, "keep_alive": "0s"})
    assert (status, body["done_reason"], body["message"]) == (200, "unload", {"role": "assistant", "content": ""})
    status, body = sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "hi", "keep_alive": 0, "stream": False})
    assert (status, body["done_reason"]) == (200, "stop")
    assert ps(sim) == []


def test_keep_alive_environment_and_gpu(make_sim) -> None:
    sim = make_sim(env={"OLLAMA_KEEP_ALIVE": "1m"})
    sim.pull(SMALL)
    sim.call("POST", "/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "hi"}], "stream": False})
    left = parse_time(ps(sim)[0]["expires_at"]) - datetime.now(timezone.utc)
    assert timedelta(seconds=55) < left <= timedelta(seconds=60)

    gpu = make_sim("gpu-models", args=["--gpu"])
    gpu.pull(SMALL)
    gpu.call("POST", "/api/generate", {"model": SMALL})
    loaded = ps(gpu)[0]
    assert loaded["size_vram"] == loaded["size"] == tags(gpu)[0]["size"]


def test_generate_chat_embed(sim: Sim) -> None:
    sim.pull(SMALL)
    status, headers, body = sim.request("POST", "/api/generate", {"model": SMALL, "prompt": "Why is the sky blue?"})
    assert (status, headers["content-type"]) == (200, NDJSON)
    chunks = [json.loads(line) for line in body.splitlines()]
    assert all(chunk["done"] is False for chunk in chunks[:-1])
    final = chunks[-1]
    assert (final["done"], final["done_reason"], final["response"], final["eval_count"]) == (True, "stop", "", len(chunks) - 1)
    assert {"context", "total_duration", "load_duration", "prompt_eval_count", "eval_duration"} <= set(final)
    text = "".join(chunk["response"] for chunk in chunks)
    status, single = sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "Why is the sky blue?", "stream": False})
    assert (status, single["response"], single["done"]) == (200, text, True)
    status, single = sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "Why?", "stream": False, "options": {"num_predict": 2}})
    assert (single["done_reason"], single["eval_count"], len(single["response"].split(" "))) == ("length", 2, 2)

    status, chat = sim.call("POST", "/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "hello"}], "stream": False})
    assert status == 200
    assert chat["message"]["role"] == "assistant"
    assert chat["message"]["content"]
    assert (chat["done"], chat["done_reason"]) == (True, "stop")
    status, lines = sim.stream("/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "hello"}]})
    assert "".join(line["message"]["content"] for line in lines) == chat["message"]["content"]

    sim.pull(EMBED)
    status, body = sim.call("POST", "/api/embed", {"model": "all-minilm", "input": ["one", "two"]})
    assert status == 200
    assert body["model"] == "all-minilm"
    assert [len(vector) for vector in body["embeddings"]] == [384, 384]
    assert abs(sum(value * value for value in body["embeddings"][0]) - 1) < 1e-5
    assert sim.call("POST", "/api/embed", {"model": "all-minilm", "input": "one"})[1]["embeddings"][0] == body["embeddings"][0]
    assert sim.call("POST", "/api/embeddings", {"model": "all-minilm", "prompt": "one"})[1]["embedding"][:3] == body["embeddings"][0][:3]
    assert sim.call("POST", "/api/generate", {"model": "all-minilm", "prompt": "x"}) == (400, {"error": '"all-minilm" does not support generate'})
    assert sim.call("POST", "/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "x"}], "tools": [{"type": "function"}]}) == (
        400,
        {"error": "registry.ollama.ai/library/smollm2:135m does not support tools"},
    )
    status, body = sim.call("GET", "/v1/models")
    assert {entry["id"] for entry in body["data"]} == {SMALL, EMBED}
    assert {entry["owned_by"] for entry in body["data"]} == {"library"}


# ------------------------------------------------------------------ copy/delete/create
def test_copy_delete_and_prune(sim: Sim) -> None:
    sim.pull(SMALL)
    files = blob_files(sim)
    status, _headers, body = sim.request("POST", "/api/copy", {"source": SMALL, "destination": "mine:v1"})
    assert (status, body) == (200, b"")
    models = {model["name"]: model for model in tags(sim)}
    assert set(models) == {SMALL, "mine:v1"}
    assert models["mine:v1"]["digest"] == models[SMALL]["digest"]
    assert sim.request("DELETE", "/api/delete", {"model": SMALL})[:3:2] == (200, b"")
    assert blob_files(sim) == files
    assert sim.request("DELETE", "/api/delete", {"model": "mine:v1"})[0] == 200
    assert blob_files(sim) == []
    assert list((sim.data / "manifests").iterdir()) == []
    assert sim.call("DELETE", "/api/delete", {"model": "mine:v1"}) == (404, {"error": "model 'mine:v1' not found"})


def test_delete_does_not_unload(sim: Sim) -> None:
    """As in Ollama: DELETE /api/delete leaves a loaded runner until keep_alive ends (`ollama rm` unloads first)."""
    sim.pull(SMALL)
    sim.call("POST", "/api/generate", {"model": SMALL, "keep_alive": "1m"})
    assert sim.request("DELETE", "/api/delete", {"model": SMALL})[0] == 200
    assert [model["name"] for model in ps(sim)] == [SMALL]
    assert sim.call("POST", "/api/generate", {"model": SMALL, "keep_alive": 0}) == (404, {"error": "model 'smollm2:135m' not found"})


def test_create_from_local_model(sim: Sim) -> None:
    sim.pull(SMALL)
    base = registry_manifest(sim, "library/smollm2", "135m")["json"]
    request = {
        "model": "terse",
        "from": SMALL,
        "system": "Answer in one word.",
        "parameters": {"temperature": 0.2, "num_ctx": 2048},
        "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        "license": "MIT",
    }
    status, lines = sim.stream("/api/create", request)
    assert status == 200
    statuses = [line["status"] for line in lines]
    reused = [
        "using existing layer %s" % layer["digest"]
        for layer in base["layers"]
        if layer["mediaType"] not in ("application/vnd.ollama.image.system", "application/vnd.ollama.image.params")
    ]
    assert statuses[: len(reused)] == reused
    assert [status.split(" sha256:")[0] for status in statuses[len(reused) :]] == ["creating new layer"] * 4 + ["writing manifest", "success"]

    status, show = sim.call("POST", "/api/show", {"model": "terse"})
    assert status == 200
    assert show["system"] == "Answer in one word."
    assert show["details"]["parent_model"] == SMALL
    assert show["messages"] == request["messages"]
    assert show["parameters"].splitlines() == [
        "num_ctx                        2048",
        'stop                           "<|im_start|>"',
        'stop                           "<|im_end|>"',
        "temperature                    0.2",
    ]
    assert show["license"].endswith("\nMIT")
    assert "\nSYSTEM Answer in one word.\n" in show["modelfile"]
    assert "\nPARAMETER temperature 0.2\n" in show["modelfile"]
    assert "\nMESSAGE user hi\nMESSAGE assistant hello\n" in show["modelfile"]
    terse = next(model for model in tags(sim) if model["name"] == "terse:latest")
    assert terse["details"]["quantization_level"] == "F16"

    status, headers, body = sim.request("POST", "/api/create", {"model": "terse", "from": SMALL, "system": "Two words.", "stream": False})
    assert (status, headers["content-type"], json.loads(body)) == (200, "application/json", {"status": "success"})
    assert sim.call("POST", "/api/show", {"model": "terse"})[1]["system"] == "Two words."

    status, lines = sim.stream("/api/create", {"model": "small-q4", "from": SMALL, "quantize": "q4_K_M"})
    statuses = [line["status"] for line in lines]
    assert statuses[:5] == ["quantizing F16 model to Q4_K_M"] * 4 + ["verifying conversion"]
    assert statuses[-1] == "success"
    quantized = next(model for model in tags(sim) if model["name"] == "small-q4:latest")
    assert quantized["details"]["quantization_level"] == "Q4_K_M"
    assert quantized["size"] < next(model for model in tags(sim) if model["name"] == SMALL)["size"]
    assert sim.call("POST", "/api/create", {"model": "again", "from": "small-q4", "quantize": "Q8_0", "stream": False}) == (
        500,
        {"error": "quantization is only supported for F16, BF16 and F32 models"},
    )


def test_create_pulls_a_missing_base(sim: Sim) -> None:
    status, lines = sim.stream("/api/create", {"model": "embedder", "from": EMBED, "system": "x"})
    assert status == 200
    statuses = [line["status"] for line in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses.count("success") == 2
    assert statuses[-2:] == ["writing manifest", "success"]
    assert {model["name"] for model in tags(sim)} == {EMBED, "embedder:latest"}
    status, lines = sim.stream("/api/create", {"model": "x", "from": "no-such:1b"})
    assert lines == [{"status": "pulling manifest"}, {"error": "pull model manifest: file does not exist"}]


def test_blobs_and_create_from_files(sim: Sim, tmp_path: Path) -> None:
    data = make_gguf(size=8192, seed="mine", architecture="qwen2", parameter_count=494032768, file_type="Q4_K_M", context_length=32768)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert sim.request("HEAD", "/api/blobs/" + digest)[0] == 404
    assert sim.request("HEAD", "/api/blobs/sha256:xyz")[0] == 400
    wrong = "sha256:" + "0" * 64
    assert sim.call("POST", "/api/blobs/" + wrong, data) == (400, {"error": 'digest mismatch, expected "%s", got "%s"' % (wrong, digest)})
    assert sim.request("POST", "/api/blobs/" + digest, data)[0] == 201
    assert sim.request("POST", "/api/blobs/" + digest, data)[0] == 200
    assert sim.request("HEAD", "/api/blobs/" + digest)[0] == 200

    status, lines = sim.stream("/api/create", {"model": "imported:q4", "files": {"model.gguf": digest}, "template": "{{ .Prompt }}"})
    assert status == 200
    # Ollama >= 0.30 (server/create.go copyLayerWithLlamaQuantize): the GGUF is rewritten by
    # llama-quantize's COPY into a new layer (new digest, no "from": parent_model is "")
    rewritten = "sha256:" + hashlib.sha256(data + b"\0" * 32).hexdigest()
    assert [line["status"] for line in lines] == [
        "parsing GGUF",
        *["validating GGUF model"] * 4,
        "verifying conversion",
        "creating new layer %s" % rewritten,
        "creating new layer sha256:%s" % hashlib.sha256(b"{{ .Prompt }}").hexdigest(),
        "writing manifest",
        "success",
    ]
    model = next(model for model in tags(sim) if model["name"] == "imported:q4")
    assert model["details"] == {
        "parent_model": "",
        "format": "gguf",
        "family": "qwen2",
        "families": ["qwen2"],
        "parameter_size": "494.03M",
        "quantization_level": "Q4_K_M",
        "context_length": 32768,
        "embedding_length": 2048,
    }
    show = sim.call("POST", "/api/show", {"model": "imported:q4"})[1]
    assert show["details"]["parent_model"] == ""
    assert show["capabilities"] == ["completion"]
    missing = sim.data.resolve() / "blobs" / ("sha256-" + "0" * 64)
    assert sim.call("POST", "/api/create", {"model": "y", "files": {"weights": wrong}}) == (
        400,
        {"error": "blob not found for weights (digest %s): open %s: no such file or directory" % (wrong, missing)},
    )
    assert sim.stream("/api/create", {"model": "y", "files": {"model.gguf": wrong}}) == (
        200,
        [{"status": "parsing GGUF"}, {"error": "open %s: no such file or directory" % missing}],
    )
    text = "sha256:" + hashlib.sha256(b"not a model").hexdigest()
    assert sim.request("POST", "/api/blobs/" + text, b"not a model")[0] == 201
    assert sim.call("POST", "/api/create", {"model": "y", "files": {"notes.txt": text}}) == (400, {"error": "unknown type"})


# ------------------------------------------------------------------------ gates
@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("evil.example.com", 403),
        ("evil.example.com:11434", 403),
        ("8.8.8.8:11434", 403),
        ("localhost", 200),
        ("localhost:11434", 200),
        ("ollama.internal:80", 200),
        ("box.local", 200),
        ("app.localhost", 200),
        ("192.168.1.5:11434", 200),
        ("10.0.0.7", 200),
        ("[::1]:11434", 200),
    ],
)
def test_host_header_check(sim: Sim, host: str, status: int) -> None:
    got, _headers, body = sim.request("GET", "/api/version", headers={"Host": host})
    assert got == status
    if status == 403:
        assert body == b""


def test_cors_and_preflight(sim: Sim) -> None:
    assert sim.request("GET", "/api/tags", headers={"Origin": "https://evil.example.com"})[:3:2] == (403, b"")
    status, headers, _body = sim.request("GET", "/api/tags", headers={"Origin": "http://localhost:3000"})
    assert (status, headers["access-control-allow-origin"]) == (200, "http://localhost:3000")
    assert sim.request("OPTIONS", "/api/tags", headers={"Host": "localhost"})[0] == 204


# ------------------------------------------------------------------------ registry
def test_registry_serves_the_catalogue(sim: Sim) -> None:
    manifest = registry_manifest(sim, "library/smollm2", "135m")
    assert manifest["headers"]["content-type"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest["json"]["mediaType"] == "application/vnd.docker.distribution.manifest.v2+json"
    assert [layer["mediaType"] for layer in manifest["json"]["layers"]] == [
        "application/vnd.ollama.image.model",
        "application/vnd.ollama.image.template",
        "application/vnd.ollama.image.license",
        "application/vnd.ollama.image.params",
        "application/vnd.ollama.image.system",
    ]
    status, headers, body = sim.request("HEAD", "/v2/library/smollm2/manifests/135m")
    assert (status, body, headers["docker-content-digest"]) == (200, b"", manifest["headers"]["docker-content-digest"])
    hf = registry_manifest(sim, "bartowski/Llama-3.2-1B-Instruct-GGUF", "Q4_K_M")["json"]
    assert 2_000_000 <= hf["layers"][0]["size"] <= 8_000_000

    model = manifest["json"]["layers"][0]
    status, headers, body = sim.request("GET", "/v2/library/smollm2/blobs/" + model["digest"], headers={"Range": "bytes=0-15"})
    assert (status, headers["content-range"], len(body), body[:4]) == (206, "bytes 0-15/%d" % model["size"], 16, b"GGUF")
    status, _headers, body = sim.request("GET", "/v2/library/smollm2/blobs/" + model["digest"])
    assert (status, len(body), "sha256:" + hashlib.sha256(body).hexdigest()) == (200, model["size"], model["digest"])
    assert sim.stats()["served"] == 16 + model["size"]

    status, body = sim.call("GET", "/v2/library/nope/manifests/latest")
    assert (status, body) == (
        404,
        {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown", "detail": {"Name": "library/nope", "Tag": "latest"}}]},
    )
    status, body = sim.call("GET", "/v2/library/smollm2/blobs/sha256:" + "1" * 64)
    assert (status, body["errors"][0]["code"]) == (404, "BLOB_UNKNOWN")

    sim.pull(SMALL)
    layers = manifest["json"]["layers"] + [manifest["json"]["config"]]
    assert tags(sim)[0]["size"] == sum(layer["size"] for layer in layers)


def test_catalogue_update_and_removed_layers(sim: Sim) -> None:
    sim.pull(SMALL)
    old = tags(sim)[0]
    old_model = registry_manifest(sim, "library/smollm2", "135m")["json"]["layers"][0]["digest"]
    sim.bump(SMALL, version=2)
    new_manifest = registry_manifest(sim, "library/smollm2", "135m")
    status, lines = sim.stream("/api/pull", {"model": SMALL})
    assert status == 200
    statuses = [line["status"] for line in lines]
    assert statuses[-4:] == ["verifying sha256 digest", "writing manifest", "removing unused layers", "success"]
    new = tags(sim)[0]
    assert new["digest"] == hashlib.sha256(new_manifest["raw"]).hexdigest() != old["digest"]
    assert "sha256-" + old_model[7:] not in blob_files(sim)
    described = {entry["name"]: entry for entry in sim.catalog_models()}
    assert described[SMALL]["version"] == 2
    assert set(described) >= {
        "llama3.2:1b",
        "llama3.2:latest",
        "qwen2.5:0.5b",
        SMALL,
        EMBED,
        "nomic-embed-text:latest",
        "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
    }


def test_catalogue_file(make_sim, tmp_path: Path) -> None:
    spec = {"name": "acme/tiny:q8", "architecture": "gemma3", "parameter_count": 268_000_000, "file_type": "Q8_0", "size": 300_000, "params": {"num_ctx": 2048}}
    path = tmp_path / "catalog.json"
    path.write_text(json.dumps({"models": [spec]}))
    sim = make_sim(catalog=path)
    assert [entry["name"] for entry in sim.catalog_models()] == ["acme/tiny:q8"]
    sim.pull("acme/tiny:q8")
    model = tags(sim)[0]
    assert (model["name"], model["details"]["family"], model["details"]["parameter_size"], model["details"]["quantization_level"]) == (
        "acme/tiny:q8",
        "gemma3",
        "268M",
        "Q8_0",
    )
    assert registry_manifest(sim, "acme/tiny", "q8")["json"]["layers"][0]["size"] == 300_000
    path.write_text(json.dumps({"extend": True, "models": [spec]}))
    assert len(make_sim("extended", catalog=path).catalog_models()) == len(BUILTIN_MODELS) + 1


def test_restart_keeps_models(sim: Sim) -> None:
    sim.pull(SMALL)
    sim.call("POST", "/api/generate", {"model": SMALL})
    before = tags(sim)
    port = sim.port
    sim.restart()
    assert sim.port == port
    assert tags(sim) == before
    assert ps(sim) == []
    assert sim.call("POST", "/api/show", {"model": SMALL})[0] == 200


# ------------------------------------------------------------------------ faults
def test_cut_then_resume_downloads_once(make_sim) -> None:
    sim = make_sim(rate=20_000_000)
    entry = next(model for model in sim.catalog_models() if model["name"] == SMALL)
    total, model_layer = entry["size"], entry["layers"][0]
    sim.faults(cut_at_percent=50)
    with pytest.raises(http.client.IncompleteRead):
        sim.request("POST", "/api/pull", {"model": SMALL})
    partial = sim.data / "blobs" / ("sha256-%s-partial" % model_layer["digest"][7:])
    for _attempt in range(50):
        if partial.exists() and partial.stat().st_size == total // 2:
            break
        time.sleep(0.05)
    assert partial.stat().st_size == total // 2
    assert sim.faults() == {}
    assert tags(sim) == []
    sim.pull(SMALL)
    stats = sim.stats()
    assert stats["pulled"] == total
    assert stats["total"] <= 1.15 * total
    assert tags(sim)[0]["size"] == total
    assert not partial.exists()


def test_stall_pauses_the_stream(sim: Sim) -> None:
    sim.faults(stall={"at_percent": 50, "seconds": 1.5})
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=20)
    conn.request("POST", "/api/pull", body=json.dumps({"model": SMALL}))
    response = conn.getresponse()
    stamps, lines = [], []
    for raw in response:
        stamps.append(time.monotonic())
        lines.append(json.loads(raw))
    conn.close()
    # as in Ollama (blobDownload.Wait's ticker), a stalled download keeps reporting every ~60 ms:
    # the stall shows as a completed count that stops growing, never as a silent connection
    gaps = [later - earlier for earlier, later in zip(stamps, stamps[1:])]
    assert max(gaps) < 0.5, max(gaps)
    held: Dict[int, List[float]] = {}  # completed count -> when first reported, and when a larger count followed
    for stamp, item in zip(stamps, lines):
        if item.get("digest") and item.get("completed", 0) > 0:
            for done, span in held.items():
                if done < item["completed"] and span[1] == span[0]:
                    span[1] = stamp
            if item["completed"] < item["total"]:
                held.setdefault(item["completed"], [stamp, stamp])
    stuck, (first, moved) = max(held.items(), key=lambda pair: pair[1][1] - pair[1][0])
    assert moved - first >= 1.4, (stuck, moved - first)
    assert sum(1 for item in lines if item.get("completed") == stuck) >= 15  # reported again and again meanwhile
    total = next(item["total"] for item in lines if item.get("digest"))
    assert 0.4 * total <= stuck <= 0.6 * total, (stuck, total)  # the stall holds at 50 %
    assert lines[-1] == {"status": "success"}


def test_status_faults(sim: Sim) -> None:
    sim.faults(status=500, count=2)
    assert sim.call("GET", "/api/tags") == (500, {"error": "internal server error"})
    assert sim.call("POST", "/api/pull", {"model": SMALL}) == (500, {"error": "internal server error"})
    assert sim.call("GET", "/api/tags") == (200, {"models": []})
    sim.faults(status=503)
    assert sim.call("GET", "/") == (503, {"error": "server busy, please try again.  maximum pending requests exceeded"})
    sim.faults(status=502, error="upstream down")
    assert sim.call("GET", "/") == (502, {"error": "upstream down"})
    assert [entry["status"] for entry in sim.requests()] == [500, 500, 200, 503, 502]


def test_disk_full(sim: Sim) -> None:
    sim.pull(EMBED)
    sim.faults(disk_full=True)
    status, lines = sim.stream("/api/pull", {"model": SMALL})
    model = next(m for m in sim.catalog_models() if m["name"] == SMALL)["layers"][0]
    error = "write %s: no space left on device" % (sim.data.resolve() / "blobs" / ("sha256-%s-partial" % model["digest"][7:]))
    assert status == 200
    assert lines[0] == {"status": "pulling manifest"}
    assert lines[-1] == {"error": error}
    assert sim.call("POST", "/api/pull", {"model": SMALL, "stream": False}) == (500, {"error": error})
    status, body = sim.call("POST", "/api/create", {"model": "x", "from": EMBED, "system": "s"})
    assert status == 500
    assert re.fullmatch(r"write %s/sha256-\d+: no space left on device" % re.escape(str(sim.data.resolve() / "blobs")), body["error"])
    assert sim.call("POST", "/api/blobs/sha256:" + hashlib.sha256(b"x").hexdigest(), b"x")[0] == 500
    assert sim.faults() == {"disk_full": True}
    sim.clear_faults()
    sim.pull(SMALL)


def test_concurrent_pulls_download_once(make_sim) -> None:
    sim = make_sim(rate=10_000_000)
    results: List[Any] = [None, None]

    def pull(index: int) -> None:
        results[index] = sim.stream("/api/pull", {"model": SMALL}, timeout=30)

    threads = [threading.Thread(target=pull, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join(30)
    total = tags(sim)[0]["size"]
    for status, lines in results:
        assert status == 200
        assert lines[-1] == {"status": "success"}
    assert sim.stats()["pulled"] == total
    model = next(m for m in sim.catalog_models() if m["name"] == SMALL)["layers"][0]["digest"]
    second = [line.get("completed", 0) for line in results[1][1] if line.get("digest") == model]
    assert second == sorted(second)
    assert len(second) >= 2


def test_slow_and_crash(sim: Sim) -> None:
    sim.faults(slow_ms=300)
    started = time.monotonic()
    assert sim.call("GET", "/api/version")[0] == 200
    assert time.monotonic() - started >= 0.3
    sim.faults(slow_ms=0)
    sim.faults(crash=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        sim.request("GET", "/api/tags")
    assert sim.proc is not None
    assert sim.proc.wait(timeout=10) == 2


def test_admin_endpoints(sim: Sim) -> None:
    sim.call("GET", "/api/tags")
    sim.call("POST", "/api/show", {"model": "nope"})
    sim.request("GET", "/api/version", headers={"Host": "evil.com"})
    assert sim.requests() == [
        {"method": "GET", "path": "/api/tags", "status": 200},
        {"method": "POST", "path": "/api/show", "status": 404},
        {"method": "GET", "path": "/api/version", "status": 403},
    ]
    sim.clear_requests()
    assert sim.requests() == []
    assert sim.faults(cut_at_percent=20, slow_ms=10) == {"cut_at_percent": 20.0, "slow_ms": 10}
    assert sim.call("POST", "/_sim/faults", {"explode": True}) == (
        400,
        {
            "error": "unknown fault(s): explode; known: stall, cut_at_percent, status, count, error, path, disk_full, slow_ms, crash, "
            "hang_inference, vram_fraction, respond"
        },
    )
    assert sim.call("DELETE", "/_sim/faults") == (200, {})
    assert sim.stats() == {"blobs": {}, "total": 0, "pulled": 0, "served": 0}
    assert sim.requests() == []


def test_ensure_starts_a_detached_simulator(tmp_path: Path) -> None:
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    argv = [sys.executable, "-m", "tests.ollama_sim.ensure", "--api-url", url, "--data", str(tmp_path / "demo")]
    first = subprocess.run(argv, cwd=str(REPO), capture_output=True, text=True, timeout=60, check=False)
    pid = int((tmp_path / "demo" / "sim.pid").read_text())
    try:
        assert first.returncode == 0, first.stderr
        assert first.stdout.strip() == (
            "No Ollama server answered at %s: started the Ollama API simulator (tests/ollama_sim) there, pid %d; stop it with kill %d" % (url, pid, pid)
        )
        second = subprocess.run(argv, cwd=str(REPO), capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 0
        assert second.stdout.strip() == "A server already answers at %s (HTTP 200: 'Ollama is running'); leaving it as it is." % url
    finally:
        subprocess.run(["kill", str(pid)], check=False)


# ------------------------------------------------------------ today's Ollama (v0.32)
def sse(raw: bytes) -> List[Any]:
    """The data of server-sent events: JSON objects, and the literal [DONE]."""
    out: List[Any] = []
    for block in raw.decode("utf-8").split("\n\n"):
        data = [line[len("data: ") :] for line in block.split("\n") if line.startswith("data: ")]
        if data:
            out.append(data[0] if data[0] == "[DONE]" else json.loads(data[0]))
    return out


def events(raw: bytes) -> List[tuple]:
    """(event, data) of named server-sent events."""
    out = []
    for block in raw.decode("utf-8").split("\n\n"):
        lines = block.split("\n")
        if len(lines) == 2 and lines[0].startswith("event: ") and lines[1].startswith("data: "):
            out.append((lines[0][len("event: ") :], json.loads(lines[1][len("data: ") :])))
    return out


def test_version_and_status(sim: Sim, make_sim: Any) -> None:
    assert VERSION == "0.32.15"
    assert sim.call("GET", "/api/status") == (200, {"cloud": {"disabled": False, "source": "none"}})
    assert sim.request("POST", "/api/status")[0] == 405
    for value, disabled in (("1", True), ("false", False), ("yes", True), ("", False)):
        other = make_sim("status-%s" % (value or "empty"), env={"OLLAMA_NO_CLOUD": value})
        assert other.call("GET", "/api/status")[1]["cloud"] == {"disabled": disabled, "source": "env" if disabled else "none"}


@pytest.mark.parametrize(
    "reference, pulled",
    [
        ("gpt-oss:120b:cloud", "gpt-oss:120b-cloud"),
        ("gpt-oss:120b-cloud", "gpt-oss:120b-cloud"),
        ("GPT-OSS:120B:CLOUD", "GPT-OSS:120B-cloud"),
        ("qwen3:8b:local", "qwen3:8b"),
        ("registry.ollama.ai/library/qwen3:8b:local", "qwen3:8b"),
    ],
)
def test_source_suffixes_on_pull(sim: Sim, reference: str, pulled: str) -> None:
    assert sim.pull(reference)[-1] == {"status": "success"}
    assert [model["name"].lower() for model in tags(sim)] == [pulled.lower()]
    assert sim.pulls()["pulls"][0]["model"] == reference


def test_source_suffix_errors(sim: Sim) -> None:
    both = 'use either :local or :cloud, not both: "qwen3:8b:cloud:local"'
    assert sim.call("POST", "/api/pull", {"model": "qwen3:8b:cloud:local"}) == (400, {"error": both})
    assert sim.call("POST", "/api/show", {"model": "qwen3:8b:cloud:local"}) == (400, {"error": both})
    assert sim.call("POST", "/api/chat", {"model": "qwen3:8b:local:cloud"}) == (400, {"error": 'use either :local or :cloud, not both: "qwen3:8b:local:cloud"'})
    assert sim.call("POST", "/api/generate", {"model": "no-such:cloud", "prompt": "x"}) == (404, {"error": "model 'no-such' not found"})


def test_cloud_model_pull_tags_show_delete(sim: Sim) -> None:
    lines = sim.pull("gpt-oss:120b:cloud")
    layers = [line for line in lines if line.get("digest")]
    assert len({line["digest"] for line in layers}) == 1, "a cloud model is a config only"
    model = tags(sim)[0]
    assert list(model) == ["name", "model", "remote_model", "remote_host", "modified_at", "size", "digest", "details", "capabilities"]
    assert (model["name"], model["remote_model"], model["remote_host"]) == ("gpt-oss:120b-cloud", "gpt-oss:120b", "https://ollama.com:443")
    assert model["details"] == {
        "parent_model": "",
        "format": "",
        "family": "gptoss",
        "families": ["gptoss"],
        "parameter_size": "116.8B",
        "quantization_level": "MXFP4",
        "context_length": 131072,
        "embedding_length": 2880,
    }
    assert model["capabilities"] == ["completion", "tools", "thinking"]

    # the -cloud tag form is itself a cloud reference: show asks the (simulated) cloud
    status, show = sim.call("POST", "/api/show", {"model": "gpt-oss:120b-cloud"})
    assert status == 200
    assert show["model_info"] == {
        "general.architecture": "gptoss",
        "general.basename": "gpt-oss",
        "gptoss.context_length": 131072,
        "gptoss.embedding_length": 2880,
    }
    assert show["capabilities"] == ["completion", "tools", "thinking"]
    assert "tensors" not in show
    # a local name for the same manifest shows the remote host and model from its config
    assert sim.call("POST", "/api/copy", {"source": "gpt-oss:120b-cloud", "destination": "big"}) == (200, None)
    status, show = sim.call("POST", "/api/show", {"model": "big"})
    assert (status, show["remote_host"], show["remote_model"]) == (200, "https://ollama.com:443", "gpt-oss:120b")
    assert list(show) == ["modelfile", "template", "details", "remote_model", "remote_host", "model_info", "capabilities", "modified_at"]
    assert sim.call("POST", "/api/show", {"model": "big:local"}) == (404, {"error": "model 'big:local' not found"})
    assert sim.call("DELETE", "/api/delete", {"model": "gpt-oss:120b:cloud"}) == (200, None)
    assert [model["name"] for model in tags(sim)] == ["big:latest"]


def test_cloud_inference_runs_remotely(sim: Sim) -> None:
    sim.pull("gpt-oss:120b:cloud")
    sim.call("POST", "/api/copy", {"source": "gpt-oss:120b-cloud", "destination": "big"})
    status, lines = sim.stream("/api/chat", {"model": "big", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 200 and len(lines) > 2
    assert all((line["model"], line["remote_model"], line["remote_host"]) == ("big", "gpt-oss:120b", "https://ollama.com:443") for line in lines)
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop" and "load_duration" not in lines[-1]
    status, answer = sim.call("POST", "/api/generate", {"model": "gpt-oss:120b:cloud", "prompt": "hi", "stream": False})
    assert status == 200 and answer["model"] == "gpt-oss:120b" and answer["response"] and "remote_host" not in answer
    assert sim.call("POST", "/api/generate", {"model": "big", "stream": False})[1]["done_reason"] == "load"
    assert sim.call("POST", "/api/generate", {"model": "big", "keep_alive": 0, "stream": False})[1]["done_reason"] == "unload"
    assert sim.call("POST", "/api/chat", {"model": "big:local", "messages": []}) == (404, {"error": "model 'big:local' not found"})
    assert ps(sim) == [], "cloud models never load locally"


def test_no_cloud_disables_remote_inference(make_sim: Any) -> None:
    sim = make_sim("nocloud", env={"OLLAMA_NO_CLOUD": "1"})
    sim.pull("gpt-oss:120b:cloud")
    sim.pull(SMALL)
    inference = {"error": "ollama cloud is disabled: remote model is unavailable"}
    details = {"error": "ollama cloud is disabled: remote model details are unavailable"}
    assert sim.call("POST", "/api/chat", {"model": "gpt-oss:120b-cloud", "messages": [{"role": "user", "content": "hi"}]}) == (403, inference)
    assert sim.call("POST", "/api/generate", {"model": "gpt-oss:120b:cloud", "prompt": "hi"}) == (403, inference)
    assert sim.call("POST", "/api/show", {"model": "gpt-oss:120b:cloud"}) == (403, details)
    assert sim.call("POST", "/v1/chat/completions", {"model": "gpt-oss:120b-cloud", "messages": [{"role": "user", "content": "x"}]}) == (403, inference)
    assert sim.call("GET", "/v1/models/gpt-oss:120b-cloud") == (403, details)
    assert [model["name"] for model in tags(sim)] == [SMALL, "gpt-oss:120b-cloud"], "listing is unaffected"
    assert sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "hi", "stream": False})[0] == 200
    # switched at run time through the admin endpoint
    assert sim.call("POST", "/_sim/status", {"cloud_disabled": False}) == (200, {"cloud_disabled": False})
    assert sim.call("POST", "/api/generate", {"model": "gpt-oss:120b:cloud", "prompt": "hi", "stream": False})[0] == 200


def test_capabilities_details_and_tensors(sim: Sim) -> None:
    for model in ("qwen3:8b", "gemma3:4b", "nomic-embed-text", SMALL):
        sim.pull(model)
    listed = {model["name"]: model for model in tags(sim)}
    assert {name: model["capabilities"] for name, model in listed.items()} == {
        "qwen3:8b": ["completion", "tools", "thinking"],
        "gemma3:4b": ["vision", "completion"],
        "nomic-embed-text:latest": ["embedding"],
        SMALL: ["completion"],
    }
    assert {name: (model["details"]["context_length"], model["details"]["embedding_length"]) for name, model in listed.items()} == {
        "qwen3:8b": (40960, 4096),
        "gemma3:4b": (131072, 2560),
        "nomic-embed-text:latest": (2048, 768),
        SMALL: (8192, 576),
    }
    status, show = sim.call("POST", "/api/show", {"model": "gemma3:4b"})
    assert status == 200
    assert show["capabilities"] == ["completion", "vision"]
    assert show["requires"] == "0.6.0"
    assert list(show)[-3:] == ["capabilities", "modified_at", "requires"]
    assert show["tensors"][0] == {"name": "token_embd.weight", "type": "Q4_K", "shape": [2560, 32000]}
    assert {"name": "blk.0.attn_norm.weight", "type": "F32", "shape": [2560]} in show["tensors"]
    assert "context_length" not in show["details"], "show details are the config's only"
    assert sim.call("POST", "/api/show", {"model": "qwen3:8b", "verbose": True})[1]["tensors"][-1]["name"] == "output_norm.weight"
    status, _body = sim.call("POST", "/api/chat", {"model": "nomic-embed-text", "messages": [{"role": "user", "content": "x"}]})
    assert status == 400
    assert sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "x", "think": True}) == (400, {"error": '"smollm2:135m" does not support thinking'})


@pytest.mark.parametrize(
    "quantize, level, status",
    [
        ("q4_K", "Q4_K_M", "quantizing F16 model to Q4_K"),
        ("Q4_K_S", "Q4_K_S", "quantizing F16 model to Q4_K_S"),
        ("bf16", "BF16", "quantizing F16 model to BF16"),
        ("F32", "F32", "quantizing F16 model to F32"),
    ],
)
def test_quantize_types(sim: Sim, quantize: str, level: str, status: str) -> None:
    sim.pull(SMALL)
    code, lines = sim.stream("/api/create", {"model": "q", "from": SMALL, "quantize": quantize})
    assert code == 200 and lines[-1] == {"status": "success"}
    assert status in [line["status"] for line in lines]
    assert next(model for model in tags(sim) if model["name"] == "q:latest")["details"]["quantization_level"] == level


def test_quantize_refusals_and_bf16_bases(sim: Sim) -> None:
    sim.pull(SMALL)
    assert sim.call("POST", "/api/create", {"model": "q", "from": SMALL, "quantize": "q5_K_M", "stream": False}) == (
        500,
        {"error": "unsupported quantization type Q5_K_M - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0"},
    )
    data = make_gguf(size=8192, seed="bf16", architecture="llama", parameter_count=1_000_000, file_type="BF16")
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    assert sim.request("POST", "/api/blobs/" + digest, data)[0] == 201
    code, lines = sim.stream("/api/create", {"model": "from-bf16", "files": {"w.gguf": digest}, "quantize": "Q8_0"})
    assert code == 200 and lines[-1] == {"status": "success"}
    assert "quantizing BF16 model to Q8_0" in [line["status"] for line in lines]
    assert next(model for model in tags(sim) if model["name"] == "from-bf16:latest")["details"]["quantization_level"] == "Q8_0"


def test_create_with_adapter_renderer_parser_requires(sim: Sim) -> None:
    base = make_gguf(size=8192, seed="base", architecture="llama", parameter_count=1_000_000, file_type="F16")
    adapter = make_gguf(size=4096, seed="lora", architecture="llama", parameter_count=1_000, file_type="F16", type="adapter")
    digests = {}
    for name, data in (("base", base), ("adapter", adapter)):
        digests[name] = "sha256:" + hashlib.sha256(data).hexdigest()
        assert sim.request("HEAD", "/api/blobs/" + digests[name])[0] == 404
        assert sim.request("POST", "/api/blobs/" + digests[name], data)[0] == 201
        assert sim.request("HEAD", "/api/blobs/" + digests[name])[0] == 200
    body = {
        "model": "tuned",
        "files": {"model.gguf": digests["base"]},
        "adapters": {"lora.gguf": digests["adapter"]},
        "renderer": "qwen3",
        "parser": "qwen3",
        "requires": "0.12.0",
        "stream": False,
    }
    assert sim.call("POST", "/api/create", body) == (200, {"status": "success"})
    manifest = json.loads((sim.data / "manifests" / "registry.ollama.ai" / "library" / "tuned" / "latest").read_bytes())
    assert [(layer["mediaType"].rsplit(".", 1)[1], layer["digest"], layer.get("from")) for layer in manifest["layers"][:2]] == [
        # the model file is rewritten by llama-quantize's COPY (a new layer, no "from"); an adapter is not
        ("model", "sha256:" + hashlib.sha256(base + b"\0" * 32).hexdigest(), None),
        ("adapter", digests["adapter"], "lora.gguf"),
    ]
    status, show = sim.call("POST", "/api/show", {"model": "tuned"})
    assert status == 200 and show["requires"] == "0.12.0"
    assert "\nADAPTER " in show["modelfile"] and "\nRENDERER qwen3\nPARSER qwen3\n" in show["modelfile"]
    two = dict(body, adapters={"a.gguf": digests["adapter"], "b.gguf": digests["adapter"]})
    assert sim.call("POST", "/api/create", two) == (400, {"error": "only one adapter is currently supported"})


def test_create_from_safetensors(sim: Sim) -> None:
    header = json.dumps({"model.embed_tokens.weight": {"dtype": "BF16", "shape": [1000, 64], "data_offsets": [0, 128000]}}).encode()
    weights = struct.pack("<Q", len(header)) + header + bytes(128000)
    config = json.dumps({"architectures": ["LlamaForCausalLM"], "hidden_size": 64, "num_hidden_layers": 2, "max_position_embeddings": 2048}).encode()
    files = {}
    for name, data in (("model.safetensors", weights), ("config.json", config)):
        files[name] = "sha256:" + hashlib.sha256(data).hexdigest()
        assert sim.request("POST", "/api/blobs/" + files[name], data)[0] == 201
    code, lines = sim.stream("/api/create", {"model": "converted", "files": files})
    assert code == 200 and lines[0] == {"status": "converting model"} and lines[-1] == {"status": "success"}
    model = next(model for model in tags(sim) if model["name"] == "converted:latest")
    assert (model["details"]["family"], model["details"]["quantization_level"], model["details"]["parameter_size"]) == ("llama", "F16", "64K")
    assert model["capabilities"] == ["completion"]
    no_config = {"model.safetensors": files["model.safetensors"]}
    assert sim.call("POST", "/api/create", {"model": "x", "files": no_config, "stream": False}) == (500, {"error": "open config.json: file does not exist"})


# -------------------------------------------------------------------- /v1 endpoints
def test_v1_chat_completions_shapes(sim: Sim) -> None:
    sim.pull(SMALL)
    status, headers, raw = sim.request("POST", "/v1/chat/completions", {"model": SMALL, "messages": [{"role": "user", "content": "hi"}]})
    assert (status, headers["content-type"]) == (200, "application/json")
    answer = json.loads(raw)
    assert list(answer) == ["id", "object", "created", "model", "system_fingerprint", "choices", "usage"]
    assert re.fullmatch(r"chatcmpl-\d{1,3}", answer["id"])
    assert answer["choices"][0]["message"]["role"] == "assistant" and answer["choices"][0]["finish_reason"] == "stop"

    body = {"model": SMALL, "messages": [{"role": "user", "content": "hi"}], "stream": True, "stream_options": {"include_usage": True}}
    status, headers, raw = sim.request("POST", "/v1/chat/completions", body)
    assert (status, headers["content-type"], headers.get("transfer-encoding")) == (200, "text/event-stream", "chunked")
    chunks = sse(raw)
    assert chunks[-1] == "[DONE]"
    assert chunks[0]["choices"][0] == {
        "index": 0,
        "delta": {"role": "assistant", "content": chunks[0]["choices"][0]["delta"]["content"]},
        "finish_reason": None,
    }
    assert all("role" not in chunk["choices"][0]["delta"] for chunk in chunks[1:-3])
    assert chunks[-3]["choices"] == [{"index": 0, "delta": {}, "finish_reason": "stop"}]
    assert chunks[-2]["choices"] == [] and set(chunks[-2]["usage"]) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    assert "".join(chunk["choices"][0]["delta"].get("content", "") for chunk in chunks[:-3]) == answer["choices"][0]["message"]["content"]
    assert len({(chunk["id"], chunk["created"]) for chunk in chunks[:-1]}) == 1

    assert sim.call("POST", "/v1/chat/completions", {"model": SMALL, "messages": []}) == (
        400,
        {"error": {"message": "[] is too short - 'messages'", "type": "invalid_request_error", "param": None, "code": None}},
    )
    assert sim.call("POST", "/v1/chat/completions", {"model": "nope", "messages": [{"role": "user", "content": "x"}]}) == (
        404,
        {"error": {"message": "model 'nope' not found", "type": "not_found_error", "param": None, "code": None}},
    )


def test_v1_completions_embeddings_models(sim: Sim) -> None:
    sim.pull(SMALL)
    sim.pull(EMBED)
    status, answer = sim.call("POST", "/v1/completions", {"model": SMALL, "prompt": "hi"})
    assert status == 200 and answer["object"] == "text_completion" and re.fullmatch(r"cmpl-\d{1,3}", answer["id"])
    status, _headers, raw = sim.request("POST", "/v1/completions", {"model": SMALL, "prompt": "hi", "stream": True})
    chunks = sse(raw)
    assert chunks[-1] == "[DONE]"
    assert list(chunks[0]) == ["id", "object", "created", "choices", "model", "system_fingerprint"]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert "".join(chunk["choices"][0]["text"] for chunk in chunks[:-1]) == answer["choices"][0]["text"]

    status, embedded = sim.call("POST", "/v1/embeddings", {"model": EMBED, "input": ["a", "b"]})
    assert status == 200
    assert (embedded["object"], embedded["model"], [item["index"] for item in embedded["data"]]) == ("list", EMBED, [0, 1])
    assert len(embedded["data"][0]["embedding"]) == 384
    status, packed = sim.call("POST", "/v1/embeddings", {"model": EMBED, "input": "a", "encoding_format": "base64"})
    floats = struct.unpack("<384f", base64.b64decode(packed["data"][0]["embedding"]))
    assert floats == pytest.approx(embedded["data"][0]["embedding"], abs=1e-6)
    assert sim.call("POST", "/v1/embeddings", {"model": EMBED, "input": []})[1]["error"]["message"] == "invalid input"
    assert sim.call("POST", "/v1/embeddings", {"model": EMBED, "input": "a", "encoding_format": "int8"})[1]["error"]["message"] == (
        "Invalid value for 'encoding_format' = int8. Supported values: ['float', 'base64']."
    )

    status, listed = sim.call("GET", "/v1/models")
    assert status == 200 and sorted(model["id"] for model in listed["data"]) == sorted([SMALL, EMBED])
    assert sim.call("GET", "/v1/models/" + SMALL)[1]["id"] == SMALL
    assert sim.call("GET", "/v1/models/nope") == (
        404,
        {"error": {"message": "model 'nope:latest' not found", "type": "not_found_error", "param": None, "code": None}},
    )


def test_v1_responses_and_anthropic_messages(sim: Sim) -> None:
    sim.pull(SMALL)
    status, response = sim.call("POST", "/v1/responses", {"model": SMALL, "input": "hi"})
    assert status == 200 and response["object"] == "response" and response["status"] == "completed"
    assert re.fullmatch(r"resp_\d{1,6}", response["id"]) and re.fullmatch(r"msg_\d{1,6}", response["output"][0]["id"])
    status, headers, raw = sim.request("POST", "/v1/responses", {"model": SMALL, "input": "hi", "stream": True})
    assert (status, headers["content-type"], headers["cache-control"]) == (200, "text/event-stream", "no-cache")
    streamed = events(raw)
    assert [kind for kind, _data in streamed][:2] == ["response.created", "response.in_progress"]
    assert all(kind == data["type"] and list(data) == sorted(data) for kind, data in streamed), "Go marshals these maps with sorted keys"
    assert streamed[-1][1]["response"]["output"][0]["content"][0]["text"] == response["output"][0]["content"][0]["text"]

    body = {"model": SMALL, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
    status, message = sim.call("POST", "/v1/messages", body)
    assert status == 200
    assert list(message) == ["id", "type", "role", "model", "content", "stop_reason", "usage"]
    assert (message["type"], message["role"], message["stop_reason"]) == ("message", "assistant", "end_turn")
    assert re.fullmatch(r"msg_[0-9a-f]{24}", message["id"])
    status, _headers, raw = sim.request("POST", "/v1/messages", dict(body, stream=True))
    kinds = [kind for kind, _data in events(raw)]
    assert kinds[:2] == ["message_start", "content_block_start"] and kinds[-3:] == ["content_block_stop", "message_delta", "message_stop"]
    text = "".join(data["delta"]["text"] for kind, data in events(raw) if kind == "content_block_delta")
    assert text == message["content"][0]["text"]
    status, refused = sim.call("POST", "/v1/messages", {"model": SMALL, "messages": [{"role": "user", "content": "x"}]})
    assert (status, refused["type"], refused["error"]) == (
        400,
        "error",
        {"type": "invalid_request_error", "message": "max_tokens is required and must be positive"},
    )
    status, missing = sim.call("POST", "/v1/messages", dict(body, model="nope"))
    assert (status, missing["error"]) == (404, {"type": "not_found_error", "message": "model 'nope' not found"})
    # thinking is relaxed on a model that cannot think, and comes as its own block from one that can
    relaxed = dict(body, thinking={"type": "enabled", "budget_tokens": 1024})
    assert sim.call("POST", "/v1/messages", relaxed)[0] == 200
    assert sim.call("POST", "/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "x"}], "think": True})[0] == 400
    sim.pull("qwen3:8b")
    status, thought = sim.call("POST", "/v1/messages", dict(body, model="qwen3:8b"))
    assert [block["type"] for block in thought["content"]] == ["thinking", "text"]
    status, _headers, raw = sim.request("POST", "/v1/messages", dict(body, model="qwen3:8b", stream=True))
    starts = [(data["index"], data["content_block"]) for kind, data in events(raw) if kind == "content_block_start"]
    assert starts == [(0, {"type": "thinking", "thinking": ""}), (1, {"type": "text", "text": ""})]
    thinking = "".join(data["delta"]["thinking"] for kind, data in events(raw) if kind == "content_block_delta" and data["index"] == 0)
    assert thinking == thought["content"][0]["thinking"]
    quiet = sim.call("POST", "/v1/messages", dict(body, model="qwen3:8b", thinking={"type": "disabled"}))[1]
    assert [block["type"] for block in quiet["content"]] == ["text"]
    status, raw_chunks = sim.request("POST", "/v1/chat/completions", {"model": "qwen3:8b", "stream": True, "messages": [{"role": "user", "content": "x"}]})[::2]
    deltas = [chunk["choices"][0]["delta"] for chunk in sse(raw_chunks)[:-1] if chunk["choices"]]
    assert deltas[0]["role"] == "assistant" and deltas[0]["content"] == "" and deltas[0]["reasoning"]
    assert sim.call("POST", "/v1/chat/completions", {"model": "qwen3:8b", "reasoning_effort": "huge", "messages": [{"role": "user", "content": "x"}]})[1][
        "error"
    ]["message"] == ('invalid reasoning value: "huge" (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")')


# -------------------------------------------------------------------------- faults
def test_hang_inference_fault(sim: Sim) -> None:
    sim.pull(SMALL)
    sim.pull(EMBED)
    assert sim.faults(hang_inference=True) == {"hang_inference": True}
    for path, body in (
        ("/api/generate", {"model": SMALL, "prompt": "hi"}),
        ("/api/chat", {"model": SMALL, "messages": [{"role": "user", "content": "hi"}]}),
        ("/api/embed", {"model": EMBED, "input": "hi"}),
        ("/v1/chat/completions", {"model": SMALL, "messages": [{"role": "user", "content": "hi"}]}),
    ):
        with pytest.raises((socket.timeout, TimeoutError)):
            sim.request("POST", path, body, timeout=1)
    assert sim.call("GET", "/api/version", timeout=2)[0] == 200
    assert sorted(model["name"] for model in sim.call("GET", "/api/tags", timeout=2)[1]["models"]) == [EMBED, SMALL]
    sim.call("POST", "/_sim/faults", {"hang_inference": None})
    assert sim.call("POST", "/api/generate", {"model": SMALL, "prompt": "hi", "stream": False}, timeout=5)[0] == 200


def test_vram_fraction_fault_and_gpu_flag(sim: Sim, make_sim: Any) -> None:
    sim.pull(SMALL)
    sim.call("POST", "/api/generate", {"model": SMALL})
    size = ps(sim)[0]["size"]
    assert ps(sim)[0]["size_vram"] == 0
    sim.faults(vram_fraction=0.3)
    assert ps(sim)[0]["size_vram"] == int(size * 0.3)
    sim.faults(vram_fraction=1)
    assert ps(sim)[0]["size_vram"] == size
    sim.call("POST", "/_sim/faults", {"vram_fraction": None})
    assert ps(sim)[0]["size_vram"] == 0
    assert sim.call("POST", "/_sim/faults", {"vram_fraction": 1.5})[0] == 400
    gpu = make_sim("gpu", args=["--gpu"])
    gpu.pull(SMALL)
    gpu.call("POST", "/api/generate", {"model": SMALL})
    assert ps(gpu)[0]["size_vram"] == ps(gpu)[0]["size"]
    gpu.faults(vram_fraction=0.5)
    assert ps(gpu)[0]["size_vram"] == ps(gpu)[0]["size"] // 2


def test_respond_fault_serves_any_answer(sim: Sim) -> None:
    sim.faults(respond={"path": "/api/tags", "body": {"models": [1, "x", None]}})
    assert sim.call("GET", "/api/tags") == (200, {"models": [1, "x", None]})
    assert sim.call("GET", "/api/tags") == (200, {"models": [1, "x", None]}), "until cleared"
    assert sim.call("GET", "/api/version")[1] == {"version": VERSION}
    sim.faults(respond=[{"path": "/api/ps", "status": 502, "raw": "<html>bad gateway</html>", "content_type": "text/html", "count": 1}])
    status, headers, raw = sim.request("GET", "/api/ps")
    assert (status, headers["content-type"], raw) == (502, "text/html", b"<html>bad gateway</html>")
    assert sim.call("GET", "/api/ps") == (200, {"models": []}), "count 1: used up"
    sim.faults(respond={"path": "/api/show", "method": "POST", "status": 200, "raw": "{not json"})
    assert sim.request("POST", "/api/show", {"model": "x"})[2] == b"{not json"
    assert sim.call("POST", "/_sim/faults", {"respond": None})[1] == {}
    assert sim.call("GET", "/api/tags") == (200, {"models": []})
    assert sim.call("POST", "/_sim/faults", {"respond": {"status": 200}})[0] == 400


def test_create_from_a_cloud_model(sim: Sim) -> None:
    assert sim.call("POST", "/api/create", {"model": "mine", "from": "gpt-oss:120b:cloud", "system": "Be terse.", "stream": False}) == (
        200,
        {"status": "success"},
    )
    model = next(model for model in tags(sim) if model["name"] == "mine:latest")
    assert (model["remote_model"], model["remote_host"]) == ("gpt-oss:120b", "https://ollama.com:443")
    status, answer = sim.call("POST", "/api/chat", {"model": "mine", "messages": [{"role": "user", "content": "hi"}], "stream": False})
    assert (status, answer["remote_model"]) == (200, "gpt-oss:120b")
    assert ps(sim) == []
    assert sim.call("POST", "/api/create", {"model": "x", "from": "a:cloud:local", "stream": False}) == (400, {"error": "invalid model name"})
