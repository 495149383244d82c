# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Ollama HTTP client, with a fake transport in place of the network."""

from __future__ import annotations

import io
import json
import socket

import pytest
from ansible.module_utils.basic import AnsibleFallbackNotFound
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils._api import (
    InvalidApiUrl,
    OllamaClient,
    OllamaError,
    connection_argument_spec,
    ollama_host_fallback,
    ollama_host_from_env,
    validate_api_url,
)

SECRET = "sk-test-0123456789abcdef"


class FakeResponse(io.BytesIO):
    """What Request.open returns: a readable body."""


class StallingResponse:
    """A stream that sends one line, then stalls (the socket times out)."""

    def __init__(self, first: bytes) -> None:
        self.lines = [first]

    def readline(self) -> bytes:
        if self.lines:
            return self.lines.pop(0)
        raise socket.timeout("timed out")

    def close(self) -> None:
        """Nothing to release."""


class FakeTransport:
    """A request factory: records every call and plays scripted outcomes in order."""

    def __init__(self, *outcomes: object) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[dict] = []

    def __call__(self, **kwargs: object) -> FakeTransport:
        self.kwargs = kwargs
        return self

    def open(self, method: str, url: str, data: bytes | None = None) -> object:
        self.calls.append({"method": method, "url": url, "data": data, "headers": dict(self.kwargs["headers"])})
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        if isinstance(outcome, (dict, list)):
            return FakeResponse(json.dumps(outcome).encode())
        if isinstance(outcome, bytes):
            return FakeResponse(outcome)
        return outcome


def http_error(code: int, body: bytes = b"", headers: dict | None = None) -> HTTPError:
    return HTTPError("http://127.0.0.1:11434/x", code, "error", headers or {}, io.BytesIO(body))


def client(transport: FakeTransport, sleeps: list | None = None, **kwargs: object) -> OllamaClient:
    recorder = sleeps if sleeps is not None else []
    return OllamaClient(request_factory=transport, sleep=recorder.append, **kwargs)


# ------------------------------------------------------------------ api_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
        ("https://ollama.example.com/ollama/", "https://ollama.example.com/ollama"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("http://ollama_host:8080", "http://ollama_host:8080"),
    ],
)
def test_valid_api_urls(url: str, expected: str) -> None:
    assert validate_api_url(url) == expected


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("127.0.0.1:11434", "has no scheme"),
        ("localhost", "has no scheme"),
        ("ftp://127.0.0.1", "scheme 'ftp'"),
        ("http://127.0.0.1:0", "invalid port '0'"),
        ("http://127.0.0.1:70000", "invalid port '70000'"),
        ("http://127.0.0.1:11a34", "invalid port '11a34'"),
        ("http://127.0.0.1 :11434", "white space"),
        ("http://127.0.0.1:11434\n", "white space"),
        ("http://user:pw@127.0.0.1:11434", "must not carry credentials"),
        ("http://127.0.0.1:11434/?x=1", "query or fragment"),
        ("http://:11434", "has no host"),
        ("http://exa$mple.com", "invalid host 'exa$mple.com'"),
        ("", "api_url is empty"),
    ],
)
def test_invalid_api_urls_name_the_part(url: str, fragment: str) -> None:
    with pytest.raises(InvalidApiUrl) as exc:
        validate_api_url(url)
    assert fragment in str(exc.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("127.0.0.1:9999", "http://127.0.0.1:9999"),
        ("ollama.internal", "http://ollama.internal:11434"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("http://box", "http://box:80"),
        ("[::1]:1234", "http://[::1]:1234"),
        ("http://box:8080/prefix", "http://box:8080/prefix"),
    ],
)
def test_ollama_host_is_read_like_ollama(env: str, expected: str) -> None:
    assert ollama_host_from_env(env) == expected
    assert validate_api_url(expected) == expected


def test_fallback_reads_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.1.2.3:11500")
    assert ollama_host_fallback() == "http://10.1.2.3:11500"
    monkeypatch.setenv("OLLAMA_HOST", "  ")
    with pytest.raises(AnsibleFallbackNotFound):
        ollama_host_fallback()
    monkeypatch.delenv("OLLAMA_HOST")
    with pytest.raises(AnsibleFallbackNotFound):
        ollama_host_fallback()


def test_argument_spec_hides_the_key_and_defaults_to_loopback() -> None:
    spec = connection_argument_spec()
    assert spec["api_key"]["no_log"] is True
    assert spec["api_url"]["default"] == "http://127.0.0.1:11434"
    assert spec["api_url"]["fallback"][0] is ollama_host_fallback
    assert set(spec) == {"api_url", "api_key", "validate_certs", "timeout"}


# ------------------------------------------------------------------ calls


def test_json_call_sends_bearer_key_and_decodes() -> None:
    transport = FakeTransport({"version": "0.12.6"})
    api = client(transport, api_key=SECRET)
    assert api.version() == "0.12.6"
    call = transport.calls[0]
    assert call["method"] == "GET"
    assert call["url"] == "http://127.0.0.1:11434/api/version"
    assert call["headers"]["Authorization"] == "Bearer " + SECRET
    assert transport.kwargs["follow_redirects"] == "none"


def test_no_authorization_header_without_key() -> None:
    transport = FakeTransport({"models": []})
    assert client(transport).tags() == []
    assert "Authorization" not in transport.calls[0]["headers"]


def test_http_error_carries_status_and_server_words() -> None:
    transport = FakeTransport(http_error(404, b'{"error":"model \'nope:latest\' not found"}'))
    with pytest.raises(OllamaError) as exc:
        client(transport).show("nope")
    assert exc.value.status == 404
    assert exc.value.server_message == "model 'nope:latest' not found"
    assert str(exc.value) == "POST /api/show: HTTP 404: model 'nope:latest' not found"
    assert not exc.value.retryable
    assert len(transport.calls) == 1


def test_error_messages_never_contain_the_key() -> None:
    transport = FakeTransport(http_error(500, b'{"error":"boom"}'), URLError(ConnectionRefusedError(111, "Connection refused")))
    api = client(transport, api_key=SECRET, retries=0)
    for attempt in range(2):
        with pytest.raises(OllamaError) as exc:
            api.request("DELETE", "/api/delete", {"model": "x"})
        assert SECRET not in str(exc.value), attempt


def test_get_is_retried_on_503_with_doubling_backoff() -> None:
    transport = FakeTransport(http_error(503), http_error(503), {"models": [{"name": "a:latest"}]})
    sleeps: list = []
    assert client(transport, sleeps, retries=3, backoff=0.5).tags() == [{"name": "a:latest"}]
    assert len(transport.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_for_429() -> None:
    transport = FakeTransport(http_error(429, b'{"error":"server busy"}', {"Retry-After": "7"}), {"models": []})
    sleeps: list = []
    client(transport, sleeps).ps()
    assert sleeps == [7.0]


def test_retries_are_bounded() -> None:
    transport = FakeTransport(*[http_error(500, b'{"error":"internal"}')] * 3)
    sleeps: list = []
    with pytest.raises(OllamaError) as exc:
        client(transport, sleeps, retries=2, backoff=1).tags()
    assert exc.value.status == 500
    assert len(transport.calls) == 3
    assert sleeps == [1, 2]


def test_connection_errors_are_retried_for_safe_calls_only() -> None:
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    transport = FakeTransport(refused, {"models": []})
    assert client(transport).tags() == []
    assert len(transport.calls) == 2

    transport = FakeTransport(refused, {"status": "success"})
    with pytest.raises(OllamaError) as exc:
        client(transport).call("POST", "/api/copy", {"source": "a", "destination": "b"})
    assert exc.value.status is None
    assert "cannot reach the Ollama server at http://127.0.0.1:11434" in str(exc.value)
    assert len(transport.calls) == 1


def test_non_json_answer_is_an_error() -> None:
    transport = FakeTransport(b"<html>gateway</html>")
    with pytest.raises(OllamaError, match="not JSON"):
        client(transport).tags()


def test_empty_body_is_none() -> None:
    transport = FakeTransport(b"")
    assert client(transport).call("DELETE", "/api/delete", {"model": "x"}) is None
    assert json.loads(transport.calls[0]["data"]) == {"model": "x"}


# ------------------------------------------------------------------ streams


def test_stream_yields_each_line_and_skips_blank_ones() -> None:
    body = b'{"status":"pulling manifest"}\n\n{"status":"pulling abc","total":10,"completed":5}\n{"status":"success"}\n'
    transport = FakeTransport(FakeResponse(body))
    lines = list(client(transport).stream("POST", "/api/pull", {"model": "x"}))
    assert [line["status"] for line in lines] == ["pulling manifest", "pulling abc", "success"]
    assert lines[1]["completed"] == 5


def test_stream_raises_the_mid_stream_error() -> None:
    body = b'{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n'
    transport = FakeTransport(FakeResponse(body))
    seen = []
    with pytest.raises(OllamaError) as exc:
        for line in client(transport).stream("POST", "/api/pull", {"model": "nope"}):
            seen.append(line)
    assert seen == [{"status": "pulling manifest"}]
    assert exc.value.server_message == "pull model manifest: file does not exist"
    assert exc.value.status == 200


def test_stream_stall_raises() -> None:
    transport = FakeTransport(StallingResponse(b'{"status":"pulling manifest"}\n'))
    gen = client(transport, timeout=5).stream("POST", "/api/pull", {"model": "x"}, timeout=2)
    assert next(gen) == {"status": "pulling manifest"}
    with pytest.raises(OllamaError, match="stalled: no data for 2 seconds"):
        next(gen)


def test_stream_is_never_retried() -> None:
    transport = FakeTransport(http_error(503, b'{"error":"server busy"}'))
    with pytest.raises(OllamaError) as exc:
        list(client(transport).stream("POST", "/api/pull", {"model": "x"}))
    assert exc.value.status == 503
    assert len(transport.calls) == 1


def test_garbage_stream_line() -> None:
    transport = FakeTransport(FakeResponse(b"not json\n"))
    with pytest.raises(OllamaError, match="not JSON"):
        list(client(transport).stream("POST", "/api/pull", {"model": "x"}))


def test_invalid_url_rejected_before_any_request() -> None:
    transport = FakeTransport()
    with pytest.raises(InvalidApiUrl):
        OllamaClient(api_url="127.0.0.1:11434", request_factory=transport)
    assert transport.calls == []
