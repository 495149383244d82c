# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the Ollama HTTP client, with a fake transport in place of the network."""

from __future__ import annotations

import base64
import http.client
import io
import json
import socket
import time

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError, api_key_of, client_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import (
    InvalidApiUrl,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import MIN_REQUEST_TIMEOUT
from ansible_collections.llmops.ollama.plugins.module_utils.core.health_read import probe
from tests.unit.fakes.transport import FakeResponse, Transport

SECRET = "sk-test-0123456789abcdef"


class StallingResponse:
    """A stream that sends one line, then stalls (the socket times out)."""

    def __init__(self, first: bytes) -> None:
        self.lines = [first]

    def readline(self, _limit: int = -1) -> bytes:
        if self.lines:
            return self.lines.pop(0)
        raise socket.timeout("timed out")

    def close(self) -> None:
        """Nothing to release."""


def http_error(code: int, body: bytes = b"", headers: dict | None = None) -> HTTPError:
    return HTTPError("http://127.0.0.1:11434/x", code, "error", headers or {}, io.BytesIO(body))


def client(transport: Transport, sleeps: list | None = None, **kwargs: object) -> OllamaClient:
    recorder = sleeps if sleeps is not None else []
    return OllamaClient(request_factory=transport, sleep=recorder.append, **kwargs)


# ------------------------------------------------------------------ the key (api_url itself: test_connection.py)


def test_the_key_comes_from_ollama_api_key_when_none_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", SECRET)
    assert api_key_of({}) == SECRET, "as the official client reads it"
    assert api_key_of({"api_key": "given"}) == "given"
    assert api_key_of({"url_username": "ops", "url_password": "x"}) is None, "basic auth given: the environment does not add a bearer"
    monkeypatch.setenv("OLLAMA_API_KEY", " ")
    assert api_key_of({}) is None
    transport = Transport({"version": "0.12.6"})
    monkeypatch.setenv("OLLAMA_API_KEY", SECRET)
    OllamaClient(api_key=api_key_of({}), request_factory=transport).version()
    assert transport.calls[0]["headers"]["Authorization"] == "Bearer " + SECRET


def test_basic_authentication_header() -> None:
    transport = Transport({"version": "0.12.6"})
    api = client(transport, url_username="ops", url_password="pa:ss")
    assert api.version() == "0.12.6"
    assert transport.calls[0]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"ops:pa:ss").decode()


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"url_password": "x"}, "url_password is given without url_username"),
        ({"url_username": "ops", "url_password": "x", "api_key": "k"}, "api_key and url_username both set the Authorization header"),
        ({"ca_path": "/nonexistent/ca.pem"}, "ca_path /nonexistent/ca.pem is not a file"),
    ],
)
def test_connection_options_that_do_not_go_together(params: dict, fragment: str) -> None:
    with pytest.raises(InvalidApiUrl) as caught:
        client_from_params({"api_url": "https://127.0.0.1:8443", **params})
    assert fragment in str(caught.value)
    assert "k" not in str(caught.value).split() and "x" not in str(caught.value).split()


def test_a_ca_path_that_is_not_pem_is_refused(tmp_path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(InvalidApiUrl, match="cannot be read as PEM CA certificates"):
        client_from_params({"api_url": "https://127.0.0.1:8443", "ca_path": str(bad)})


# ------------------------------------------------------------------ calls


def test_json_call_sends_bearer_key_and_decodes() -> None:
    transport = Transport({"version": "0.12.6"})
    api = client(transport, api_key=SECRET)
    assert api.version() == "0.12.6"
    call = transport.calls[0]
    assert call["method"] == "GET"
    assert call["url"] == "http://127.0.0.1:11434/api/version"
    assert call["headers"]["Authorization"] == "Bearer " + SECRET
    assert transport.kwargs["follow_redirects"] == "none"


def test_no_authorization_header_without_key() -> None:
    transport = Transport({"models": []})
    assert client(transport).tags() == []
    assert "Authorization" not in transport.calls[0]["headers"]


def test_http_error_carries_status_and_server_words() -> None:
    transport = Transport(http_error(404, b'{"error":"model \'nope:latest\' not found"}'))
    with pytest.raises(OllamaError) as exc:
        client(transport).show("nope")
    assert exc.value.status == 404
    assert exc.value.server_message == "model 'nope:latest' not found"
    assert str(exc.value) == "POST /api/show: HTTP 404: model 'nope:latest' not found"
    assert not exc.value.retryable
    assert len(transport.calls) == 1


def test_error_messages_never_contain_the_key() -> None:
    transport = Transport(http_error(500, b'{"error":"boom"}'), URLError(ConnectionRefusedError(111, "Connection refused")))
    api = client(transport, api_key=SECRET, retries=0)
    for attempt in range(2):
        with pytest.raises(OllamaError) as exc:
            api.request("DELETE", "/api/delete", {"model": "x"})
        assert SECRET not in str(exc.value), attempt


def test_get_is_retried_on_503_with_doubling_backoff() -> None:
    transport = Transport(http_error(503), http_error(503), {"models": [{"name": "a:latest"}]})
    sleeps: list = []
    assert client(transport, sleeps, retries=3, backoff=0.5).tags() == [{"name": "a:latest"}]
    assert len(transport.calls) == 3
    assert sleeps == [0.5, 1.0]


def test_retry_after_is_honoured_for_429() -> None:
    transport = Transport(http_error(429, b'{"error":"server busy"}', {"Retry-After": "7"}), {"models": []})
    sleeps: list = []
    client(transport, sleeps).ps()
    assert sleeps == [7.0]


def test_retries_are_bounded() -> None:
    transport = Transport(*[http_error(500, b'{"error":"internal"}')] * 3)
    sleeps: list = []
    with pytest.raises(OllamaError) as exc:
        client(transport, sleeps, retries=2, backoff=1).tags()
    assert exc.value.status == 500
    assert len(transport.calls) == 3
    assert sleeps == [1, 2]


def test_connection_errors_are_retried_for_safe_calls_only() -> None:
    refused = URLError(ConnectionRefusedError(111, "Connection refused"))
    transport = Transport(refused, {"models": []})
    assert client(transport).tags() == []
    assert len(transport.calls) == 2

    transport = Transport(refused, {"status": "success"})
    with pytest.raises(OllamaError) as exc:
        client(transport).call("POST", "/api/copy", {"source": "a", "destination": "b"})
    assert exc.value.status is None
    assert "cannot reach the Ollama server at http://127.0.0.1:11434" in str(exc.value)
    assert len(transport.calls) == 1


def test_non_json_answer_is_an_error() -> None:
    transport = Transport(b"<html>gateway</html>")
    with pytest.raises(OllamaError, match="not JSON"):
        client(transport).tags()


def test_empty_body_is_none() -> None:
    transport = Transport(b"")
    assert client(transport).call("DELETE", "/api/delete", {"model": "x"}) is None
    assert json.loads(transport.calls[0]["data"]) == {"model": "x"}


# ------------------------------------------------------------------ streams


def test_stream_yields_each_line_and_skips_blank_ones() -> None:
    body = b'{"status":"pulling manifest"}\n\n{"status":"pulling abc","total":10,"completed":5}\n{"status":"success"}\n'
    transport = Transport(FakeResponse(body))
    lines = list(client(transport).stream("POST", "/api/pull", {"model": "x"}))
    assert [line["status"] for line in lines] == ["pulling manifest", "pulling abc", "success"]
    assert lines[1]["completed"] == 5


def test_stream_raises_the_mid_stream_error() -> None:
    body = b'{"status":"pulling manifest"}\n{"error":"pull model manifest: file does not exist"}\n'
    transport = Transport(FakeResponse(body))
    seen = []
    with pytest.raises(OllamaError) as exc:
        for line in client(transport).stream("POST", "/api/pull", {"model": "nope"}):
            seen.append(line)
    assert seen == [{"status": "pulling manifest"}]
    assert exc.value.server_message == "pull model manifest: file does not exist"
    assert exc.value.status == 200


def test_stream_stall_raises() -> None:
    transport = Transport(StallingResponse(b'{"status":"pulling manifest"}\n'))
    gen = client(transport, timeout=5).stream("POST", "/api/pull", {"model": "x"}, timeout=2)
    assert next(gen) == {"status": "pulling manifest"}
    with pytest.raises(OllamaError, match="stalled: no data for 2 seconds"):
        next(gen)


def test_stream_is_never_retried() -> None:
    transport = Transport(http_error(503, b'{"error":"server busy"}'))
    with pytest.raises(OllamaError) as exc:
        list(client(transport).stream("POST", "/api/pull", {"model": "x"}))
    assert exc.value.status == 503
    assert len(transport.calls) == 1


def test_garbage_stream_line() -> None:
    transport = Transport(FakeResponse(b"not json\n"))
    with pytest.raises(OllamaError, match="not JSON"):
        list(client(transport).stream("POST", "/api/pull", {"model": "x"}))


def test_invalid_url_rejected_before_any_request() -> None:
    transport = Transport()
    with pytest.raises(InvalidApiUrl):
        OllamaClient(api_url="127.0.0.1:11434", request_factory=transport)
    assert transport.calls == []


# ------------------------------------------------------------------ not HTTP, no answer


@pytest.mark.parametrize(
    "error",
    [
        http.client.BadStatusLine("SSH-2.0-OpenSSH_9.2\r\n"),
        http.client.LineTooLong("status line"),
    ],
)
def test_a_server_that_does_not_speak_http_is_an_ollama_error(error: Exception) -> None:
    transport = Transport(error)
    with pytest.raises(OllamaError) as exc:
        client(transport, retries=0).ping()
    assert str(exc.value).startswith("GET /: the server at http://127.0.0.1:11434 answered something that is not HTTP: ")
    assert str(exc.value).endswith("Check that api_url points at the Ollama API port")
    assert exc.value.status is None


def test_ssh_banner_makes_the_probe_unhealthy_with_the_reason() -> None:
    facts = probe(client(Transport(http.client.BadStatusLine("SSH-2.0-OpenSSH_9.2\r\n")), retries=0))
    assert facts["healthy"] is False
    assert facts["reason"] == (
        "GET /: the server at http://127.0.0.1:11434 answered something that is not HTTP: 'SSH-2.0-OpenSSH_9.2'. "
        "Check that api_url points at the Ollama API port"
    )


@pytest.mark.parametrize("error", [socket.timeout("timed out"), URLError(socket.timeout("timed out"))])
def test_no_answer_in_time_names_the_timeout(error: Exception) -> None:
    with pytest.raises(OllamaError) as exc:
        client(Transport(error), retries=0, timeout=30).ping(timeout=2.5)
    assert str(exc.value) == "GET /: no answer from the Ollama server at http://127.0.0.1:11434 within 2.5 seconds"


class TimeoutRecorder(Transport):
    """A Transport that also records the timeout each request was given."""

    def __init__(self, *outcomes: object) -> None:
        super().__init__(*outcomes)
        self.timeouts: list = []

    def open(self, method: str, url: str, data: bytes | None = None) -> object:
        self.timeouts.append(self.kwargs["timeout"])
        return super().open(method, url, data)


HEALTHY = (b"Ollama is running", {"version": "0.12.6"}, {"models": []}, {"models": []})


def test_probe_requests_never_outlast_the_deadline() -> None:
    transport = TimeoutRecorder(*HEALTHY)
    facts = probe(client(transport, timeout=60), deadline=time.monotonic() + 5)
    assert facts["healthy"] is True
    assert len(transport.timeouts) == 4
    assert all(0.5 <= timeout <= 5 for timeout in transport.timeouts), transport.timeouts


def test_probe_past_the_deadline_still_asks_briefly() -> None:
    transport = TimeoutRecorder(*HEALTHY)
    probe(client(transport, timeout=60), deadline=time.monotonic() - 10)
    assert transport.timeouts == [MIN_REQUEST_TIMEOUT] * 4


def test_probe_keeps_a_shorter_client_timeout_and_has_none_without_deadline() -> None:
    transport = TimeoutRecorder(*HEALTHY)
    probe(client(transport, timeout=3), deadline=time.monotonic() + 600)
    assert transport.timeouts == [3] * 4
    transport = TimeoutRecorder(*HEALTHY)
    probe(client(transport, timeout=60))
    assert transport.timeouts == [60] * 4
