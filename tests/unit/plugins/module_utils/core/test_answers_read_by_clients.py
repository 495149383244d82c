# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every answer the clients read is checked against its shape in _answers: a table of answers of other shapes.

Each case feeds one answer to the client method that reads it (a fake transport in place of the
network): the client raises MalformedAnswer (an OllamaError, so every module already turns it into a
clear ``msg``), naming the endpoint and the field, and never retries it.
"""

from __future__ import annotations

import io
import json
from typing import Any, List

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import MalformedAnswer, OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import probe_inference
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import Manifest, ResourceError
from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import RegistryClient, RegistryError


class Response(io.BytesIO):
    status = 200

    def getcode(self) -> int:
        return 200


class Transport:
    """A request factory answering every request with the same body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.opened = 0

    def __call__(self, **kwargs: Any) -> Transport:
        return self

    def open(self, method: str, url: str, data: Any = None) -> Response:
        self.opened += 1
        return Response(self.body)


def client_for(answer: Any) -> OllamaClient:
    body = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
    return OllamaClient(request_factory=Transport(body), sleep=lambda _: None)


def _stream(client: OllamaClient) -> List[Any]:
    return list(client.pull_stream("m"))


def _create(client: OllamaClient) -> List[Any]:
    return list(client.create_stream("m", {"from": "x"}))


CALLS: dict = {
    "tags": (lambda c: c.tags(), "GET /api/tags"),
    "ps": (lambda c: c.ps(), "GET /api/ps"),
    "version": (lambda c: c.version(), "GET /api/version"),
    "show": (lambda c: c.show("m"), "POST /api/show"),
    "load": (lambda c: c.load("m"), "POST /api/generate"),
    "unload": (lambda c: c.unload("m"), "POST /api/generate"),
    "load_embedding": (lambda c: c.load_embedding("m"), "POST /api/embed"),
    "pull": (_stream, "POST /api/pull"),
    "create": (_create, "POST /api/create"),
}

# (reader, answer, the field named in the message)
BAD = [
    ("tags", {"models": [1, 2]}, "models[0]"),
    ("tags", {"models": ["x"]}, "models[0]"),
    ("tags", {"models": {"name": "x"}}, "models"),
    ("tags", {"models": "x"}, "models"),
    ("tags", {"models": [{"model": "x"}]}, "models[0].name"),
    ("tags", {"models": [{"name": 5}]}, "models[0].name"),
    ("tags", {"models": [{"name": "x", "size": "big"}]}, "models[0].size"),
    ("tags", {"models": [{"name": "x", "size": True}]}, "models[0].size"),
    ("tags", {"models": [{"name": "x", "size": 1.5}]}, "models[0].size"),
    ("tags", {"models": [{"name": "x", "size": 2**70}]}, "models[0].size"),
    ("tags", {"models": [{"name": "x", "digest": ["a"]}]}, "models[0].digest"),
    ("tags", {"models": [{"name": "x", "details": "gguf"}]}, "models[0].details"),
    ("tags", {"models": [{"name": "x", "details": {"families": "llama"}}]}, "models[0].details.families"),
    ("tags", {"models": [{"name": "x", "details": {"families": [1]}}]}, "models[0].details.families[0]"),
    ("tags", {"models": [{"name": "x", "capabilities": "completion"}]}, "models[0].capabilities"),
    ("tags", {"models": [{"name": "x", "modified_at": 5}]}, "models[0].modified_at"),
    ("tags", {}, "models"),
    ("tags", [], ""),
    ("tags", "models", ""),
    ("tags", 5, ""),
    ("tags", b"<html>", ""),
    ("tags", b"[" * 100 + b"]" * 100, ""),
    ("ps", {"models": [1]}, "models[0]"),
    ("ps", {"models": [{"name": "x", "size_vram": "all"}]}, "models[0].size_vram"),
    ("ps", {"models": [{"name": "x", "expires_at": 5}]}, "models[0].expires_at"),
    ("ps", {"models": [{"name": "x", "context_length": "4k"}]}, "models[0].context_length"),
    ("ps", b'{"models": null, "extra": ' + b"[" * 40 + b"]" * 40 + b"}", ""),
    ("version", {"version": 32}, "version"),
    ("version", {"version": None}, "version"),
    ("version", {}, "version"),
    ("version", ["0.32"], ""),
    ("show", {"details": "x"}, "details"),
    ("show", {"capabilities": "vision"}, "capabilities"),
    ("show", {"parameters": {"num_ctx": 1}}, "parameters"),
    ("show", {"template": ["x"]}, "template"),
    ("show", {"system": 1}, "system"),
    ("show", {"modelfile": False}, "modelfile"),
    ("show", {"model_info": [1]}, "model_info"),
    ("show", {"messages": [1]}, "messages[0]"),
    ("show", {"messages": [{"role": 1, "content": "x"}]}, "messages[0].role"),
    ("show", {"messages": "hi"}, "messages"),
    ("show", [1], ""),
    ("load", {"done": "yes"}, "done"),
    ("load", {"response": 1}, "response"),
    ("load", {"load_duration": "1s"}, "load_duration"),
    ("load", [1, 2], ""),
    ("unload", {"done_reason": 0}, "done_reason"),
    ("load_embedding", {"embeddings": "x"}, "embeddings"),
    ("load_embedding", {"embeddings": [["a"]]}, "embeddings[0][0]"),
    ("load_embedding", {"embeddings": [1.0]}, "embeddings[0]"),
    ("pull", b'{"status": 5}\n', "status"),
    ("pull", b'{"status": "pulling x", "digest": "sha256:00", "total": "1000"}\n', "total"),
    ("pull", b'{"status": "pulling x", "digest": 7, "completed": 1}\n', "digest"),
    ("pull", b'{"status": "pulling x", "completed": [1]}\n', "completed"),
    ("pull", b"[1, 2]\n", ""),
    ("pull", b"not json\n", ""),
    ("pull", b'{"error": {"code": 1}}\n', "error"),
    ("create", b'{"status": ["x"]}\n', "status"),
    ("create", b"5\n", ""),
]


@pytest.mark.parametrize(("reader", "answer", "field"), BAD, ids=["%s-%d" % (case[0], index) for index, case in enumerate(BAD)])
def test_an_answer_of_another_shape_names_the_endpoint_and_the_field(reader: str, answer: Any, field: str) -> None:
    call, endpoint = CALLS[reader]
    client = client_for(answer)
    with pytest.raises(MalformedAnswer) as raised:
        call(client)
    message = str(raised.value)
    assert endpoint in message, message
    if field:
        assert "field %s " % field in message, message
    assert isinstance(raised.value, OllamaError) and raised.value.retryable is False
    assert client._request_factory.opened == 1, "an answer that cannot be read is not asked again"  # type: ignore[attr-defined]


GOOD: List[Any] = [
    ("tags", {"models": []}),
    ("tags", {"models": None}),
    ("tags", b""),
    ("tags", {"models": [{"name": "x:latest", "size": 1, "details": {"families": None}, "capabilities": None, "unknown": {"a": [1]}}]}),
    ("ps", {"models": [{"name": "x", "size_vram": 0, "expires_at": "2026-01-01T00:00:00Z"}]}),
    ("version", {"version": "0.32.15"}),
    ("show", {"modelfile": "FROM x", "license": ["MIT", "x"], "messages": [{"role": "user", "content": "hi"}]}),
    ("show", b""),
    ("load", {"done": True, "done_reason": "load", "response": ""}),
    ("load_embedding", {"embeddings": [], "model": "x"}),
    ("pull", b'{"status": "pulling x", "digest": "sha256:00", "total": 10, "completed": 10}\n{"status": "success"}\n'),
]


@pytest.mark.parametrize(("reader", "answer"), GOOD, ids=["%s-%d" % (case[0], index) for index, case in enumerate(GOOD)])
def test_answers_of_the_right_shape_pass(reader: str, answer: Any) -> None:
    call, _shape = CALLS[reader]
    call(client_for(answer))


INFERENCE_BAD = [
    ([1, 2], "POST /api/generate: the answer is not a JSON object"),
    ({"done": "yes"}, "POST /api/generate: field done is a string, expected a boolean"),
    ({"error": ["x"]}, "POST /api/generate: field error is a list, expected a string"),
    ({"load_duration": "1s"}, "POST /api/generate: field load_duration is a string, expected a number"),
]


@pytest.mark.parametrize(("answer", "reason"), INFERENCE_BAD)
def test_the_inference_probe_reads_an_answer_of_another_shape_as_unhealthy(answer: Any, reason: str) -> None:
    models = [{"name": "m:latest", "size": 10, "capabilities": ["completion"]}]
    result = probe_inference(client_for(answer), models=models)
    assert result["healthy"] is False and reason in result["reason"], result


MANIFEST_BAD = [
    (b"<html>", "not a JSON manifest"),
    (b"{}", "has no layers list"),
    (b'{"layers": "x"}', "has no layers list"),
    (b'{"layers": [1]}', "field layers[0] is an integer, expected an object"),
    (b'{"layers": [{"digest": 5, "size": 1}]}', "field layers[0].digest is an integer, expected a string"),
    (b'{"layers": [{"digest": "sha256:00", "size": "1"}]}', "field layers[0].size is a string, expected an integer"),
    (b'{"layers": [{"digest": "sha256:00"}]}', "field layers[0].size is missing"),
    (b'{"layers": [], "config": "x"}', "field config is a string, expected an object"),
    (b'{"layers": [], "config": {"digest": "sha256:00", "size": 1, "urls": "x"}}', "field config.urls is a string, expected a list"),
]


@pytest.mark.parametrize(("raw", "reason"), MANIFEST_BAD)
def test_a_registry_manifest_of_another_shape_for_the_model_modules(raw: bytes, reason: str) -> None:
    with pytest.raises(ResourceError) as raised:
        Manifest(raw, "http://127.0.0.1:1/v2/library/m/manifests/latest")
    assert reason in str(raised.value), str(raised.value)


@pytest.mark.parametrize(("raw", "reason"), MANIFEST_BAD[1:])
def test_a_registry_manifest_of_another_shape_for_the_mirror(raw: bytes, reason: str) -> None:
    registry = RegistryClient("http://user:pw@127.0.0.1:1", request_factory=Transport(raw), retries=0)
    with pytest.raises(RegistryError) as raised:
        registry.manifest("library/m", "latest")
    message = str(raised.value)
    assert "GET http://***@127.0.0.1:1/v2/library/m/manifests/latest" in message and "pw" not in message, message
    field = reason.split("field ", 1)[-1].split(" ", 1)[0] if "field " in reason else "layers"
    assert field in message, message


def test_a_well_formed_manifest_is_returned_as_served() -> None:
    raw = b'{"schemaVersion": 2, "config": {"digest": "sha256:00", "size": 1}, "layers": [{"digest": "sha256:11", "size": 2}]}'
    assert RegistryClient("http://127.0.0.1:1", request_factory=Transport(raw)).manifest("library/m", "latest") == raw


def test_every_reader_is_in_the_table() -> None:
    assert {case[0] for case in BAD} == set(CALLS)
