# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Ollama HTTP client shared by the collection's modules.

Built on the standard library (core.transport) so that managed nodes need no
third-party Python package. It knows Ollama's error shape (``{"error": ...}``,
also as the last line of an NDJSON stream), and retries with backoff only the
requests a caller marks as safe to repeat. The connection options and their checks are
core.connection; the AnsibleModule of the collection is core.ollama_module.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import ssl
import time
from http.client import HTTPException
from typing import Any, Callable, Dict, Iterator, Optional
from urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers, transport, urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import (
    DEFAULT_API_URL,
    InvalidApiUrl,
    check_connection_params,
    validate_api_url,
)

# The most an answer of the API may hold (an /api/tags of thousands of models is a few MB), and a stream line:
# a body that runs past it is refused, naming the URL, before it fills the memory.
MAX_ANSWER = 32 << 20
MAX_LINE = 4 << 20

# Statuses that say "try again later": rate limited, or a server-side failure.
RETRY_STATUSES = frozenset((429, 500, 502, 503, 504))


class OllamaError(Exception):
    """A failed call to the Ollama API.

    ``status`` is the HTTP status (None when no answer came), ``server_message``
    the server's own words (the ``error`` field of its JSON answer).
    """

    def __init__(self, message: str, status: Optional[int] = None, url: Optional[str] = None, server_message: Optional[str] = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.server_message = server_message

    @property
    def retryable(self) -> bool:
        """True for connection failures and for statuses that invite a retry."""
        return self.status is None or self.status in RETRY_STATUSES


class MalformedAnswer(OllamaError):
    """An answer whose shape is not what the collection reads (see core.answers); never retried."""

    @property
    def retryable(self) -> bool:
        return False


def _server_message(body: bytes) -> Optional[str]:
    """The ``error`` field of an Ollama JSON error body, or the body text itself."""
    text = body.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return text[:500]
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        signin = data.get("signin_url")
        if isinstance(signin, str) and signin.startswith("https://"):
            # a cloud model on a server not signed in to ollama.com (server/routes.go: 401 with signin_url)
            return (
                "%s: this Ollama server is not signed in to ollama.com, which cloud models need: sign it in "
                "(run `ollama signin` on the host, or open %s), or use a local model" % (data["error"], signin[:500])
            )
        return data["error"]
    return text[:500]


def shared_request_factory(api_url: str, validate_certs: bool, ca_path: Optional[str] = None) -> Callable[..., Any]:
    """Requests that share one TLS context for the client's life.

    Loading the CA store into a context costs about 25 ms; a module that makes many calls pays that once here.
    The context trusts the system's CA store, or the PEM file ``ca_path`` instead.
    """
    # Over http the context is never used: a bare one spares loading the CA store.
    https = api_url.lower().startswith("https://")
    if not https:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    else:
        try:
            context = transport.tls_context(ca_path, validate_certs)
        except (ssl.SSLError, OSError) as exc:
            raise InvalidApiUrl("ca_path %s cannot be read as PEM CA certificates: %s" % (ca_path, exc)) from None
    return urls.request_factory(transport.Request, context=context)


class OllamaClient:
    """A small client for one Ollama server.

    ``retries`` bounds how often a request marked ``retry=True`` is repeated
    after a connection error, 429 or 5xx; the wait doubles from ``backoff``
    seconds (capped at ``max_backoff``), or follows the server's Retry-After.
    """

    def __init__(
        self,
        api_url: str = DEFAULT_API_URL,
        api_key: Optional[str] = None,
        validate_certs: bool = True,
        timeout: float = 30,
        retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        request_factory: Optional[Callable[..., Any]] = None,
        url_username: Optional[str] = None,
        url_password: Optional[str] = None,
        ca_path: Optional[str] = None,
    ) -> None:
        self.api_url = validate_api_url(api_url)
        self._api_key = api_key
        self._basic = None
        if url_username:
            token = base64.b64encode(("%s:%s" % (url_username, url_password or "")).encode("utf-8")).decode("ascii")
            self._basic = "Basic " + token
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._sleep = sleep
        self._request_factory = request_factory or shared_request_factory(self.api_url, validate_certs, ca_path)

    # ---------------------------------------------------------------- transport
    def _headers(self, body: Optional[bytes], content_type: str = "application/json") -> Dict[str, str]:
        headers = {"Accept": "application/json, application/x-ndjson"}
        if body is not None:
            headers["Content-Type"] = content_type
        if self._api_key:
            headers["Authorization"] = "Bearer %s" % self._api_key
        elif self._basic:
            headers["Authorization"] = self._basic
        return headers

    def _open(self, method: str, path: str, payload: Any = None, timeout: Optional[float] = None) -> Any:
        """Send one request; return the open response or raise OllamaError."""
        url = self.api_url + path
        content_type = "application/json"
        headers: Dict[str, str] = {}
        if isinstance(payload, (bytes, bytearray)):  # a blob upload: the bytes as they are
            body: Any = bytes(payload)
            content_type = "application/octet-stream"
        elif hasattr(payload, "read"):  # a blob upload streamed from a file (model.blobs.FileUpload)
            body, content_type = payload, "application/octet-stream"
            headers["Content-Length"] = str(payload.size)
        else:
            body = None if payload is None else json.dumps(payload).encode("utf-8")
        headers.update(self._headers(body, content_type))
        request = self._request_factory(
            headers=headers,
            validate_certs=self.validate_certs,
            timeout=self.timeout if timeout is None else timeout,
            follow_redirects="none",
        )
        try:
            return request.open(method, url, data=body)
        except HTTPError as exc:
            try:
                raw = exc.read(MAX_LINE) or b""
            except (OSError, AttributeError):
                raw = b""
            message = _server_message(raw)
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
            error = OllamaError(
                "%s %s: HTTP %s%s" % (method, path, exc.code, (": " + message) if message else ""),
                status=exc.code,
                url=url,
                server_message=message,
            )
            error.retry_after = retry_after  # type: ignore[attr-defined]
            raise error from None
        except (URLError, socket.timeout, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, socket.timeout):
                limit = self.timeout if timeout is None else timeout
                raise OllamaError("%s %s: no answer from the Ollama server at %s within %g seconds" % (method, path, self.api_url, limit), url=url) from None
            raise OllamaError("%s %s: cannot reach the Ollama server at %s: %s" % (method, path, self.api_url, reason), url=url) from None
        except HTTPException as exc:
            # Something listens there but does not speak HTTP (an SSH banner, a
            # database): http.client's BadStatusLine, LineTooLong and the like.
            line = getattr(exc, "line", None)
            detail = repr(line.strip()[:200]) if isinstance(line, str) else str(exc)
            raise OllamaError(
                "%s %s: the server at %s answered something that is not HTTP: %s. Check that api_url points at the Ollama API port"
                % (method, path, self.api_url, detail),
                url=url,
            ) from None

    def _with_retries(self, action: Callable[[], Any], retry: bool) -> Any:
        attempt = 0
        while True:
            try:
                return action()
            except OllamaError as exc:
                if not retry or not exc.retryable or attempt >= self.retries:
                    raise
                self._sleep(self._delay(attempt, getattr(exc, "retry_after", None)))
                attempt += 1

    def _delay(self, attempt: int, retry_after: Optional[str]) -> float:
        if retry_after and retry_after.strip().isdigit():
            return min(float(retry_after), self.max_backoff)
        return min(self.backoff * (2**attempt), self.max_backoff)

    # ---------------------------------------------------------------- calls
    def request(self, method: str, path: str, payload: Any = None, retry: bool = False, timeout: Optional[float] = None) -> bytes:
        """One request; the raw body of a 2xx answer. ``retry`` only where repeating is safe."""

        def action() -> bytes:
            response = self._open(method, path, payload, timeout)
            try:
                body = response.read(MAX_ANSWER + 1)
                if len(body) > MAX_ANSWER:
                    raise MalformedAnswer(
                        "%s %s: the server at %s answered more than %d bytes; the read stopped there (is api_url an Ollama server?)"
                        % (method, path, self.api_url, MAX_ANSWER),
                        status=200,
                        url=self.api_url + path,
                    )
                return body
            except (OSError, HTTPException) as exc:
                raise OllamaError("%s %s: the connection broke while reading the answer: %s" % (method, path, exc), url=self.api_url + path) from None
            finally:
                response.close()

        return self._with_retries(action, retry)

    def call(self, method: str, path: str, payload: Any = None, retry: bool = False, timeout: Optional[float] = None) -> Any:
        """A JSON call: the decoded answer (None for an empty body)."""
        raw = self.request(method, path, payload, retry=retry, timeout=timeout)
        if not raw.strip():
            return None
        try:
            return answers.parse(raw, None, "%s %s" % (method, path))
        except answers.AnswerError as exc:
            if exc.field or "not JSON" not in exc.problem:
                raise MalformedAnswer(str(exc), status=200, url=self.api_url + path) from None
            raise MalformedAnswer(
                "%s %s: the server answered with something that is not JSON: %r" % (method, path, raw[:200]), status=200, url=self.api_url + path
            ) from None

    def checked(self, method: str, path: str, data: Any, shape: Any) -> Any:
        """``data`` when it has ``shape`` (see core.answers); else MalformedAnswer naming the endpoint and the field."""
        try:
            return answers.check(data, shape, "%s %s" % (method, path))
        except answers.AnswerError as exc:
            raise MalformedAnswer(str(exc), status=200, url=self.api_url + path) from None

    def get(self, path: str, timeout: Optional[float] = None) -> Any:
        """GET is safe to repeat: retried."""
        return self.call("GET", path, retry=True, timeout=timeout)

    def stream(self, method: str, path: str, payload: Any = None, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """Read an NDJSON stream line by line.

        ``timeout`` bounds each read, so a stream that stalls longer raises.
        A ``{"error": ...}`` line (Ollama's way to fail after HTTP 200) raises
        OllamaError with the server's message. Never retried here: the caller
        decides whether starting the operation again is safe.
        """
        response = self._open(method, path, payload, timeout)
        try:
            while True:
                try:
                    line = response.readline(MAX_LINE + 1)
                except socket.timeout:
                    limit = self.timeout if timeout is None else timeout
                    raise OllamaError("%s %s: the stream stalled: no data for %s seconds" % (method, path, limit), url=self.api_url + path) from None
                except (OSError, ValueError, HTTPException) as exc:
                    raise OllamaError("%s %s: the connection broke mid-stream: %s" % (method, path, exc), url=self.api_url + path) from None
                if not line:
                    return
                if len(line) > MAX_LINE:
                    raise MalformedAnswer(
                        "%s %s: a stream line from %s runs past %d bytes; the read stopped there" % (method, path, self.api_url, MAX_LINE),
                        status=200,
                        url=self.api_url + path,
                    )
                line = line.strip()
                if not line:
                    continue
                try:
                    item = answers.parse(line, None, "%s %s" % (method, path))
                except answers.AnswerError:
                    raise MalformedAnswer("%s %s: a stream line is not JSON: %r" % (method, path, line[:200]), status=200, url=self.api_url + path) from None
                if not isinstance(item, dict):
                    raise MalformedAnswer("%s %s: a stream line is not a JSON object: %r" % (method, path, line[:200]), status=200, url=self.api_url + path)
                self.checked(method, path, item, answers.PROGRESS)
                if "error" in item:
                    message = str(item["error"])
                    raise OllamaError("%s %s: %s" % (method, path, message), status=200, url=self.api_url + path, server_message=message)
                yield item
        finally:
            response.close()

    # ---------------------------------------------------------------- read-only endpoints
    def ping(self, timeout: Optional[float] = None) -> str:
        """GET / : the server's banner (``Ollama is running``). Not retried: a probe reports what it sees."""
        return self.request("GET", "/", timeout=timeout).decode("utf-8", "replace").strip()

    def version(self, timeout: Optional[float] = None) -> str:
        data = self._object("/api/version", self.get("/api/version", timeout=timeout))
        return str(self.checked("GET", "/api/version", data, answers.VERSION)["version"])

    def tags(self, timeout: Optional[float] = None) -> list:
        """The models on the server (GET /api/tags)."""
        return self._models("/api/tags", self.get("/api/tags", timeout=timeout))

    def ps(self, timeout: Optional[float] = None) -> list:
        """The loaded models (GET /api/ps)."""
        return self._models("/api/ps", self.get("/api/ps", timeout=timeout))

    # ---------------------------------------------------------------- shapes of answers
    def _object(self, path: str, data: Any, method: str = "GET") -> Dict[str, Any]:
        """An answer that must be a JSON object (an empty body counts as an empty one)."""
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise MalformedAnswer("%s %s: the answer is not a JSON object: %s" % (method, path, _excerpt(data)), status=200, url=self.api_url + path)
        return data

    def _models(self, path: str, data: Any) -> list:
        """``models`` of /api/tags or /api/ps, checked against _answers.TAGS or PS (an empty body has none)."""
        if data is None:
            return []
        try:
            return answers.models_of(data, "GET %s" % path, answers.TAGS if path == "/api/tags" else answers.PS)
        except answers.AnswerError as exc:
            raise MalformedAnswer(str(exc), status=200, url=self.api_url + path) from None

    def show(self, model: str, verbose: bool = False, timeout: Optional[float] = None) -> Dict[str, Any]:
        """A model's definition (POST /api/show), checked against _answers.SHOW; read-only, so retried."""
        data = self._object("/api/show", self.call("POST", "/api/show", {"model": model, "verbose": verbose}, retry=True, timeout=timeout), "POST")
        return self.checked("POST", "/api/show", data, answers.SHOW)

    # ---------------------------------------------------------------- writes: the only place that sends them
    def copy(self, source: str, destination: str) -> None:
        """POST /api/copy: a second name for a model (the manifest only; the blobs are shared)."""
        self.call("POST", "/api/copy", {"source": source, "destination": destination}, retry=True)

    def delete(self, model: str) -> None:
        """DELETE /api/delete (a 404 raises OllamaError with status 404: the caller decides whether that is success)."""
        self.call("DELETE", "/api/delete", {"model": model}, retry=True)

    def load(self, model: str, keep_alive: Any = None, options: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        """POST /api/generate without a prompt: loads the model into memory for ``keep_alive``."""
        payload: Dict[str, Any] = {"model": model, "stream": False}
        if keep_alive is not None:
            payload["keep_alive"] = keep_alive
        if options:
            payload["options"] = options
        return answer_of("POST", "/api/generate", self.call("POST", "/api/generate", payload, retry=True, timeout=timeout), answers.GENERATE)

    def load_embedding(self, model: str, keep_alive: Any = None, options: Optional[Dict[str, Any]] = None, timeout: Optional[float] = None) -> Any:
        """POST /api/embed with no input: loads an embedding model (which refuses /api/generate)."""
        payload: Dict[str, Any] = {"model": model, "input": []}
        if keep_alive is not None:
            payload["keep_alive"] = keep_alive
        if options:
            payload["options"] = options
        return answer_of("POST", "/api/embed", self.call("POST", "/api/embed", payload, retry=True, timeout=timeout), answers.EMBED)

    def unload(self, model: str) -> Any:
        """POST /api/generate with keep_alive 0: unloads the model."""
        answer = self.call("POST", "/api/generate", {"model": model, "keep_alive": 0, "stream": False}, retry=True)
        return answer_of("POST", "/api/generate", answer, answers.GENERATE)

    def checked_object(self, method: str, path: str, data: Any, shape: Any) -> Dict[str, Any]:
        """A JSON object answer (an empty body reads as an empty one) checked against ``shape``; else MalformedAnswer."""
        return self.checked(method, path, self._object(path, data, method), shape)

    def pull_stream(self, model: str, insecure: bool = False, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """POST /api/pull, streamed (never retried here: the caller retries, and the server resumes)."""
        return self.stream("POST", "/api/pull", {"model": model, "insecure": bool(insecure), "stream": True}, timeout=timeout)

    def create_stream(self, model: str, definition: Dict[str, Any], timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        """POST /api/create with a definition (from, system, template, parameters, messages, license, quantize, files, adapters), streamed."""
        payload = dict(definition)
        payload.update(model=model, stream=True)
        return self.stream("POST", "/api/create", payload, timeout=timeout)

    def blob_exists(self, digest: str) -> bool:
        """HEAD /api/blobs/sha256:<hex>: whether the server holds the blob."""
        try:
            self.request("HEAD", "/api/blobs/%s" % digest, retry=True)
        except OllamaError as exc:
            if exc.status == 404:
                return False
            raise
        return True


def answer_of(method: str, path: str, data: Any, shape: Any) -> Any:
    """A JSON object answer checked against ``shape`` (None for an empty body); else MalformedAnswer naming the endpoint and the field."""
    if data is None:
        return None
    endpoint = "%s %s" % (method, path)
    if not isinstance(data, dict):
        raise MalformedAnswer("%s: the answer is not a JSON object: %s" % (endpoint, _excerpt(data)), status=200)
    try:
        return answers.check(data, shape, endpoint)
    except answers.AnswerError as exc:
        raise MalformedAnswer(str(exc), status=200) from None


def _excerpt(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def api_key_of(params: Dict[str, Any]) -> Optional[str]:
    """The key to send: api_key, else OLLAMA_API_KEY from the environment as the official clients read it.

    Not with basic authentication (url_username): an explicit option wins over the environment. The key from the
    environment never enters the module's parameters, so it is in no output (invocation included).
    """
    if params.get("api_key"):
        return params["api_key"]
    if params.get("url_username"):
        return None
    return os.environ.get("OLLAMA_API_KEY", "").strip() or None


def client_from_params(params: Dict[str, Any], **kwargs: Any) -> OllamaClient:
    """An OllamaClient from a module's connection parameters (see connection_argument_spec); InvalidApiUrl for a bad combination."""
    check_connection_params(params)
    return OllamaClient(
        api_url=params["api_url"],
        api_key=api_key_of(params),
        validate_certs=params.get("validate_certs", True),
        timeout=params.get("timeout") or 30,
        url_username=params.get("url_username"),
        url_password=params.get("url_password"),
        ca_path=params.get("ca_path"),
        **kwargs,
    )
