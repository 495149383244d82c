# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The official ``ollama`` and ``openai`` Python clients, unchanged, against the simulator of
today's Ollama: directly, and through the collection's TLS proxy with an API key.

Chat streaming, completions, embeddings, models, the Responses API, capabilities and a cloud
model (``gpt-oss:120b:cloud``) whose inference runs remotely.
"""

from __future__ import annotations

import socket
import ssl
from pathlib import Path
from typing import Any, Iterator

import ollama
import openai
import pytest

from tests.integration.nginx_fixture import LoopbackCA, NginxServer
from tests.integration.playbook import run_playbook
from tests.ollama_sim.runtime import reply_text
from tests.ollama_sim.testing import Sim

pytestmark = pytest.mark.integration

LOCAL = "qwen3:8b"
CLOUD = "gpt-oss:120b-cloud"
EMBED = "nomic-embed-text:latest"
VISION = "gemma3:4b"
KEY = "test-key-0123456789abcdefghijklmnop"
QUESTION = "Why is the sky blue?"
ANSWER = reply_text(LOCAL, QUESTION, False)  # the simulator's deterministic reply to it


def pull_all(client: ollama.Client) -> None:
    for model in ("qwen3:8b:local", "gpt-oss:120b:cloud", "nomic-embed-text", VISION):
        assert client.pull(model).status == "success"


@pytest.fixture
def client(sim: Sim) -> ollama.Client:
    return ollama.Client(host=sim.url, timeout=60)


@pytest.fixture
def oai(sim: Sim) -> Iterator[openai.OpenAI]:
    client = openai.OpenAI(base_url=sim.url + "/v1", api_key="ollama", max_retries=0, timeout=60)
    yield client
    client.close()


# ------------------------------------------------------------------------ ollama client
def test_ollama_client_cloud_and_local_models(client: ollama.Client, sim: Sim) -> None:
    pull_all(client)
    assert sorted(model.model for model in client.list().models) == sorted([LOCAL, CLOUD, EMBED, "gemma3:4b"])
    tags = {model["name"]: model for model in sim.call("GET", "/api/tags")[1]["models"]}
    assert tags[LOCAL]["capabilities"] == ["completion", "tools", "thinking"]
    assert tags[CLOUD]["capabilities"] == ["completion", "tools", "thinking"]
    assert tags[EMBED]["capabilities"] == ["embedding"]
    assert tags[VISION]["capabilities"] == ["vision", "completion"]
    assert (tags[CLOUD]["remote_model"], tags[CLOUD]["remote_host"]) == ("gpt-oss:120b", "https://ollama.com:443")
    assert tags[CLOUD]["size"] < 1024
    assert (tags[LOCAL]["details"]["context_length"], tags[EMBED]["details"]["embedding_length"]) == (40960, 768)

    assert client.show(LOCAL).capabilities == ["completion", "tools", "thinking"]
    assert client.show(VISION).capabilities == ["completion", "vision"]
    assert client.show(EMBED).capabilities == ["embedding"]
    assert client.show("gpt-oss:120b:cloud").capabilities == ["completion", "tools", "thinking"]

    chunks = list(client.chat(model=LOCAL, messages=[{"role": "user", "content": QUESTION}], stream=True))
    assert len(chunks) > 2 and chunks[-1].done and chunks[-1].done_reason == "stop"
    assert "".join(chunk.message.content or "" for chunk in chunks) == ANSWER
    assert [model.model for model in client.ps().models] == [LOCAL]
    thought = "".join(chunk.message.thinking or "" for chunk in chunks)
    assert thought and chunks[0].message.thinking and not chunks[0].message.content, "qwen3 thinks first (think defaults to true)"
    assert client.chat(model=LOCAL, messages=[{"role": "user", "content": QUESTION}], think=False).message.thinking is None
    assert client.generate(model=LOCAL, prompt=QUESTION).thinking == thought

    remote = client.chat(model="gpt-oss:120b:cloud", messages=[{"role": "user", "content": "hi"}])
    assert remote.done and remote.message.content
    legacy = list(client.generate(model=CLOUD, prompt="hi", stream=True))
    assert legacy[-1].done and "".join(part.response for part in legacy)
    assert [model.model for model in client.ps().models] == [LOCAL], "a cloud model never loads locally"

    vectors = client.embed(model=EMBED, input=["one", "two"]).embeddings
    assert [len(vector) for vector in vectors] == [768, 768]

    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model="gpt-oss:120b:local", messages=[{"role": "user", "content": "hi"}])
    assert (error.value.status_code, error.value.error) == (404, "model 'gpt-oss:120b:local' not found")
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model=EMBED, messages=[{"role": "user", "content": "hi"}])
    assert error.value.status_code == 400


def test_ollama_client_with_cloud_disabled(make_sim: Any) -> None:
    sim = make_sim("nocloud", env={"OLLAMA_NO_CLOUD": "1"})
    client = ollama.Client(host=sim.url, timeout=60)
    assert sim.call("GET", "/api/status") == (200, {"cloud": {"disabled": True, "source": "env"}})
    assert client.pull("gpt-oss:120b:cloud").status == "success", "pulling the stub still works"
    assert [model.model for model in client.list().models] == [CLOUD]
    with pytest.raises(ollama.ResponseError) as error:
        client.chat(model=CLOUD, messages=[{"role": "user", "content": "hi"}])
    assert (error.value.status_code, error.value.error) == (403, "ollama cloud is disabled: remote model is unavailable")
    with pytest.raises(ollama.ResponseError) as error:
        client.show(CLOUD)
    assert (error.value.status_code, error.value.error) == (403, "ollama cloud is disabled: remote model details are unavailable")


# ------------------------------------------------------------------------ openai client
def test_openai_client_models_chat_completions_embeddings(client: ollama.Client, oai: openai.OpenAI) -> None:
    pull_all(client)
    models = oai.models.list()
    assert sorted(model.id for model in models.data) == sorted([LOCAL, CLOUD, EMBED, VISION])
    assert all(model.object == "model" and model.owned_by == "library" and model.created > 0 for model in models.data)
    assert oai.models.retrieve(LOCAL).id == LOCAL
    with pytest.raises(openai.NotFoundError) as missing:
        oai.models.retrieve("nope")
    assert missing.value.status_code == 404
    assert "model 'nope:latest' not found" in str(missing.value)

    answer = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": QUESTION}])
    assert answer.object == "chat.completion"
    assert answer.id.startswith("chatcmpl-")
    assert answer.system_fingerprint == "fp_ollama"
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].message.content == ANSWER
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None and answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens > 0

    stream = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": QUESTION}], stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert all(chunk.object == "chat.completion.chunk" for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == answer.choices[0].message.content
    finish = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert [chunk.choices[0].finish_reason for chunk in finish] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0

    limited = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": "hi"}], max_tokens=2)
    assert limited.choices[0].finish_reason == "length"
    assert limited.usage is not None and limited.usage.completion_tokens == 2

    completion = oai.completions.create(model=LOCAL, prompt="Say hi")
    assert completion.object == "text_completion"
    assert completion.choices[0].text and completion.choices[0].finish_reason == "stop"
    parts = list(oai.completions.create(model=LOCAL, prompt="Say hi", stream=True))
    assert "".join(part.choices[0].text for part in parts) == completion.choices[0].text

    embedded = oai.embeddings.create(model=EMBED, input=["one", "two"])  # the client asks for base64 and decodes it
    assert [item.index for item in embedded.data] == [0, 1]
    assert [len(item.embedding) for item in embedded.data] == [768, 768]
    floats = oai.embeddings.create(model=EMBED, input="one", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(embedded.data[0].embedding, abs=1e-6)
    assert client.embed(model=EMBED, input="one").embeddings[0] == pytest.approx(floats.data[0].embedding, abs=1e-6)

    with pytest.raises(openai.NotFoundError) as missing:
        oai.chat.completions.create(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert missing.value.body == {"message": "model 'nope' not found", "type": "not_found_error", "param": None, "code": None}
    with pytest.raises(openai.BadRequestError) as bad:
        oai.chat.completions.create(model=LOCAL, messages=[])
    assert "[] is too short - 'messages'" in str(bad.value)


def test_openai_client_responses_and_cloud_model(client: ollama.Client, oai: openai.OpenAI, sim: Sim) -> None:
    pull_all(client)
    response = oai.responses.create(model=LOCAL, input=QUESTION, instructions="Be brief.")
    assert response.object == "response" and response.status == "completed"
    assert response.output_text == ANSWER
    assert response.instructions == "Be brief."
    assert response.usage is not None and response.usage.output_tokens > 0

    assert [item.type for item in response.output] == ["reasoning", "message"], "qwen3 thinks first (think defaults to true)"
    thought = response.output[0].summary[0].text
    assert thought

    events = list(oai.responses.create(model=LOCAL, input=QUESTION, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added", "response.reasoning_summary_text.delta"]
    done = kinds.index("response.reasoning_summary_text.done")
    assert kinds[done : done + 4] == [
        "response.reasoning_summary_text.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "".join(event.delta for event in events if event.type == "response.reasoning_summary_text.delta") == thought
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == response.output_text == events[-1].response.output_text
    assert [item.type for item in events[-1].response.output] == ["reasoning", "message"]

    answer = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": QUESTION}])
    assert answer.choices[0].message.content == ANSWER
    assert answer.choices[0].message.model_extra["reasoning"] == thought
    quiet = oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": QUESTION}], reasoning_effort="none")
    assert "reasoning" not in (quiet.choices[0].message.model_extra or {})

    remote = oai.chat.completions.create(model="gpt-oss:120b:cloud", messages=[{"role": "user", "content": "hi"}])
    assert remote.model == "gpt-oss:120b" and remote.choices[0].message.content
    streamed = list(oai.chat.completions.create(model=CLOUD, messages=[{"role": "user", "content": "hi"}], stream=True))
    assert "".join(chunk.choices[0].delta.content or "" for chunk in streamed if chunk.choices)
    assert [model["name"] for model in sim.call("GET", "/api/ps")[1]["models"]] == [LOCAL], "cloud inference loads nothing locally"


def test_openai_client_with_cloud_disabled(make_sim: Any) -> None:
    sim = make_sim("nocloud", env={"OLLAMA_NO_CLOUD": "true"})
    sim.pull("gpt-oss:120b:cloud")
    oai = openai.OpenAI(base_url=sim.url + "/v1", api_key="ollama", max_retries=0, timeout=30)
    with pytest.raises(openai.PermissionDeniedError) as denied:
        oai.chat.completions.create(model="gpt-oss:120b:cloud", messages=[{"role": "user", "content": "hi"}])
    # cloudPassthroughMiddleware answers before the OpenAI middleware: Ollama's plain error shape
    assert denied.value.status_code == 403
    assert denied.value.response.json() == {"error": "ollama cloud is disabled: remote model is unavailable"}
    oai.close()


# ------------------------------------------------------------------ through the TLS proxy
@pytest.fixture
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under .ollama.test resolve to 127.0.0.1 in this process (both clients use the system resolver)."""
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host.endswith(".ollama.test"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_both_clients_through_the_tls_proxy_with_an_api_key(nginx: NginxServer, sim: Sim, tmp_path: Path, resolve_to_loopback: None) -> None:
    ca = LoopbackCA(tmp_path / "ca")
    cert, key = ca.issue(["clients.ollama.test"], "clients")
    args = nginx.module_args(
        domain="clients.ollama.test", upstream=sim.url, tls="provided", certificate=str(cert), private_key=str(key), allow=["127.0.0.1"], api_keys=[KEY]
    )
    before = nginx.generation()
    run = run_playbook("domain.yml", {"domain_args": args}, timeout=120)
    result = run.results("Bind")
    assert run.rc == 0, result.get("msg") or run.stderr
    nginx.wait_generation_after(before)
    url = result["binding"]["url"]
    assert url.startswith("https://clients.ollama.test:")
    context = ssl.create_default_context(cafile=str(ca.ca_file))

    client = ollama.Client(host=url, headers={"Authorization": "Bearer " + KEY}, verify=context, timeout=60)
    pull_all(client)
    chunks = list(client.chat(model=LOCAL, messages=[{"role": "user", "content": "hi"}], stream=True))
    assert len(chunks) > 2 and chunks[-1].done
    assert client.chat(model="gpt-oss:120b:cloud", messages=[{"role": "user", "content": "hi"}]).message.content
    assert client.show(LOCAL).capabilities == ["completion", "tools", "thinking"]
    assert len(client.embed(model=EMBED, input="x").embeddings[0]) == 768

    http_client = openai.DefaultHttpxClient(verify=context)
    oai = openai.OpenAI(base_url=url + "/v1", api_key=KEY, max_retries=0, timeout=60, http_client=http_client)
    assert sorted(model.id for model in oai.models.list().data) == sorted([LOCAL, CLOUD, EMBED, VISION])
    stream = list(oai.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": QUESTION}], stream=True))
    assert len(stream) > 3, "server-sent events pass the proxy one by one"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == ANSWER
    assert [len(item.embedding) for item in oai.embeddings.create(model=EMBED, input=["a", "b"]).data] == [768, 768]
    assert oai.chat.completions.create(model=CLOUD, messages=[{"role": "user", "content": "hi"}]).choices[0].message.content
    oai.close()

    denied = openai.OpenAI(
        base_url=url + "/v1", api_key="wrong-key-0123456789abcdefghijkl", max_retries=0, timeout=30, http_client=openai.DefaultHttpxClient(verify=context)
    )
    with pytest.raises(openai.AuthenticationError) as refused:
        denied.models.list()
    assert refused.value.status_code == 401
    denied.close()
