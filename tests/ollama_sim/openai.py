# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The OpenAI- and Anthropic-compatible ``/v1`` endpoints.

As in Ollama (middleware/openai.go, middleware/anthropic.go, openai/openai.go,
openai/responses.go, anthropic/anthropic.go), each endpoint turns its request into a
native one, runs the native handler (``/api/chat``, ``/api/generate``, ``/api/embed``,
``/api/tags``, ``/api/show``) and converts what it answers:

- ``POST /v1/chat/completions``: ``chat.completion``; streamed as ``data: {chunk}`` server-sent
  events (the first delta carries the role, a finish chunk with an empty delta, a usage
  chunk with ``stream_options.include_usage``), then ``data: [DONE]``
- ``POST /v1/completions``: ``text_completion``, streamed the same way
- ``POST /v1/embeddings``: an ``EmbeddingList`` (``encoding_format`` float or base64)
- ``GET /v1/models``, ``GET /v1/models/:model``
- ``POST /v1/responses``: a ``response`` object; streamed as ``event: <type>`` +
  ``data: {...}`` events (response.created ... response.completed)
- ``POST /v1/messages`` (Anthropic): a ``message``; streamed as message_start,
  content_block_start/delta/stop, message_delta, message_stop events

Errors have the OpenAI shape ``{"error": {"message", "type", "param", "code"}}`` or the
Anthropic shape ``{"type": "error", "error": {"type", "message"}, "request_id"}``. A
``:cloud`` model with cloud disabled gets the plain ``{"error": "ollama cloud is disabled:
remote model is unavailable"}`` (403) of cloudPassthroughMiddleware, which runs first.
"""

from __future__ import annotations

import base64
import json
import random
import secrets
import struct
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

from .api import CLOUD_DETAILS_UNAVAILABLE, CLOUD_INFERENCE_UNAVAILABLE, RELAX_THINKING, OllamaAPI, Reply, _json_error, cloud_disabled_error
from .errors import ApiError
from .godata import go_json
from .names import SOURCE_CLOUD, RefError, parse_name, parse_ref

_OPENAI_TYPES = {400: "invalid_request_error", 404: "not_found_error"}
_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    503: "overloaded_error",
    529: "overloaded_error",
}
_SSE_HEADERS = {"Content-Type": "text/event-stream"}


def _encode(value: Any) -> bytes:
    """json.NewEncoder(w).Encode: compact JSON and a newline."""
    return go_json(value) + b"\n"


def _json_reply(status: int, value: Any, content_type: str = "application/json") -> Reply:
    data = _encode(value)
    return Reply(status, content=iter([data]), length=len(data), headers={"Content-Type": content_type})


def openai_error(status: int, message: str) -> Dict[str, Any]:
    """openai.NewError."""
    return {"error": {"message": message, "type": _OPENAI_TYPES.get(status, "api_error"), "param": None, "code": None}}


def anthropic_error(status: int, message: str) -> Dict[str, Any]:
    """anthropic.NewError."""
    return {"type": "error", "error": {"type": _ANTHROPIC_TYPES.get(status, "api_error"), "message": message}, "request_id": "req_" + secrets.token_hex(12)}


def _decode(raw: bytes, error: Callable[[int, str], Dict[str, Any]]) -> Dict[str, Any]:
    """ShouldBindJSON of a /v1 request: a JSON object, or a 400 in the endpoint's error shape."""
    if not raw.strip():
        raise _Abort(400, error(400, "EOF"))
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise _Abort(400, error(400, _json_error(exc, raw))) from None
    if not isinstance(data, dict):
        raise _Abort(400, error(400, "json: cannot unmarshal %s into Go value" % type(data).__name__))
    return data


class _Abort(Exception):
    """c.AbortWithStatusJSON from a middleware."""

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(status)
        self.status = status
        self.body = body


def _unix(_created_at: Any) -> int:
    """created: the response's time as Unix seconds (the simulator's replies are created now)."""
    return int(time.time())


def _options(data: Dict[str, Any], mapping: Tuple[Tuple[str, str], ...]) -> Dict[str, Any]:
    options = {}
    for source, target in mapping:
        value = data.get(source)
        if value is not None:
            options[target] = value
    return options


def think_from_effort(effort: Any) -> Any:
    """openai.thinkFromReasoningEffort: None leaves thinking at the model's default."""
    if not effort:
        return None
    if effort == "none":
        return False
    if effort == "minimal":
        return "low"
    if effort in ("low", "medium", "high", "max"):
        return effort
    if effort in ("xhigh", "ultra"):
        return "max"
    raise _Abort(
        400,
        openai_error(400, 'invalid reasoning value: %s (must be "minimal", "low", "medium", "high", "xhigh", "ultra", "max", or "none")' % json.dumps(effort)),
    )


def _text(content: Any) -> str:
    """The text of an OpenAI/Anthropic message content (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict) and part.get("type") in ("text", "input_text", "output_text"))
    return ""


class OpenAICompat:
    """The /v1 endpoints over one :class:`OllamaAPI`."""

    def __init__(self, api: OllamaAPI) -> None:
        self.api = api

    # ------------------------------------------------------------------ plumbing
    def _cloud_gate(self, model: Any) -> Optional[Reply]:
        """cloudPassthroughMiddleware: a :cloud model with cloud disabled gets a plain 403."""
        if not isinstance(model, str):
            return None
        try:
            _base, source = parse_ref(model)
        except RefError:
            return None
        if source == SOURCE_CLOUD and self.api.no_cloud():
            return Reply(403, {"error": cloud_disabled_error(CLOUD_INFERENCE_UNAVAILABLE)})
        return None

    @staticmethod
    def _native(handler: Callable[[bytes], Reply], body: Dict[str, Any]) -> Reply:
        return handler(json.dumps(body).encode("utf-8"))

    def _run(self, raw: bytes, error: Callable[[int, str], Dict[str, Any]], build: Callable[[Dict[str, Any]], Reply]) -> Reply:
        try:
            data = _decode(raw, error)
            gate = self._cloud_gate(data.get("model"))
            if gate is not None:
                return gate
            return build(data)
        except _Abort as abort:
            return _json_reply(abort.status, abort.body, "application/json; charset=utf-8")
        except ApiError as exc:
            return _json_reply(exc.status, error(exc.status, exc.message))

    @staticmethod
    def _lines(reply: Reply) -> Iterator[Dict[str, Any]]:
        """The native answer as a sequence of responses (one for a non-streamed one)."""
        if reply.lines is not None:
            return reply.lines
        return iter([reply.body or {}])

    # -------------------------------------------------------------------- models
    def models(self, _raw: bytes) -> Reply:
        """GET /v1/models (openai.ToListCompletion; an empty list is null)."""
        data = [
            {
                "id": entry["model"] or entry["name"],
                "object": "model",
                "created": mtime_ns // 1_000_000_000,
                "owned_by": parse_name(entry["model"] or entry["name"]).namespace,
            }
            for mtime_ns, entry in self.api._listing()
        ]
        return _json_reply(200, {"object": "list", "data": data or None})

    def model(self, _raw: bytes, model: str) -> Reply:
        """GET /v1/models/:model (RetrieveMiddleware + ShowHandler, openai.ToModel)."""
        try:
            base, source = parse_ref(model)
        except RefError:
            base, source = model, ""
        if source == SOURCE_CLOUD and self.api.no_cloud():
            return Reply(403, {"error": cloud_disabled_error(CLOUD_DETAILS_UNAVAILABLE)})
        try:
            shown = self.api.show(json.dumps({"name": model}).encode("utf-8"))
        except ApiError as exc:
            return _json_reply(exc.status, openai_error(exc.status, exc.message))
        created = int(time.time())
        modified = (shown.body or {}).get("modified_at")
        if isinstance(modified, str):
            created = _parse_go_time(modified, created)
        # a cloud reference is passed through to ollama.com as /v1/models/<base>: it answers for the base name
        shown_id = base if source == SOURCE_CLOUD else model
        return _json_reply(200, {"id": shown_id, "object": "model", "created": created, "owned_by": parse_name(shown_id).namespace})

    # ---------------------------------------------------------------------- chat
    def chat_completions(self, raw: bytes) -> Reply:
        return self._run(raw, openai_error, self._chat_completions)

    def _chat_completions(self, data: Dict[str, Any]) -> Reply:
        messages = data.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _Abort(400, openai_error(400, "[] is too short - 'messages'"))
        native_messages = []
        for message in messages:
            if not isinstance(message, dict):
                raise _Abort(400, openai_error(400, "invalid message format"))
            content = message.get("content")
            if content is not None and not isinstance(content, (str, list)):
                raise _Abort(400, openai_error(400, "invalid message content type: %s" % type(content).__name__))
            native_messages.append({"role": message.get("role", ""), "content": _text(content)})
        stream = bool(data.get("stream"))
        options = _options(data, (("max_tokens", "num_predict"), ("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"), ("stop", "stop")))
        native: Dict[str, Any] = {"model": data.get("model", ""), "messages": native_messages, "stream": stream, "options": options}
        reasoning = data.get("reasoning")
        think = think_from_effort(reasoning.get("effort") if isinstance(reasoning, dict) else data.get("reasoning_effort"))
        if think is not None:
            native["think"] = think
        if data.get("tools"):
            native["tools"] = data["tools"]
        response_format = data.get("response_format")
        if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
            native["format"] = "json"
        reply = self._native(self.api.chat, native)
        chat_id = "chatcmpl-%d" % random.randrange(999)
        include_usage = bool((data.get("stream_options") or {}).get("include_usage")) if isinstance(data.get("stream_options"), dict) else False
        if not stream:
            final = next(iter(self._lines(reply)))
            return _json_reply(200, _chat_completion(chat_id, final))
        return Reply(chunks=_chat_chunks(chat_id, self._lines(reply), include_usage), headers=dict(_SSE_HEADERS))

    # --------------------------------------------------------------- completions
    def completions(self, raw: bytes) -> Reply:
        return self._run(raw, openai_error, self._completions)

    def _completions(self, data: Dict[str, Any]) -> Reply:
        prompt = data.get("prompt", "")
        if not isinstance(prompt, str):
            raise _Abort(
                400, openai_error(400, "json: cannot unmarshal %s into Go struct field CompletionRequest.prompt of type string" % type(prompt).__name__)
            )
        stream = bool(data.get("stream"))
        options = _options(data, (("max_tokens", "num_predict"), ("temperature", "temperature"), ("top_p", "top_p"), ("seed", "seed"), ("stop", "stop")))
        native: Dict[str, Any] = {"model": data.get("model", ""), "prompt": prompt, "stream": stream, "options": options}
        if data.get("suffix"):
            native["suffix"] = data["suffix"]
        reply = self._native(self.api.generate, native)
        completion_id = "cmpl-%d" % random.randrange(999)
        include_usage = bool((data.get("stream_options") or {}).get("include_usage")) if isinstance(data.get("stream_options"), dict) else False
        if not stream:
            final = next(iter(self._lines(reply)))
            return _json_reply(200, _completion(completion_id, final))
        return Reply(chunks=_completion_chunks(completion_id, self._lines(reply), include_usage), headers=dict(_SSE_HEADERS))

    # ---------------------------------------------------------------- embeddings
    def embeddings(self, raw: bytes) -> Reply:
        return self._run(raw, openai_error, self._embeddings)

    def _embeddings(self, data: Dict[str, Any]) -> Reply:
        encoding = data.get("encoding_format") or ""
        if encoding and str(encoding).lower() not in ("float", "base64"):
            raise _Abort(400, openai_error(400, "Invalid value for 'encoding_format' = %s. Supported values: ['float', 'base64']." % encoding))
        value = data.get("input")
        if value == "":
            value = [""]
        if value is None or (isinstance(value, list) and not value):
            raise _Abort(400, openai_error(400, "invalid input"))
        native: Dict[str, Any] = {"model": data.get("model", ""), "input": value}
        if isinstance(data.get("dimensions"), int) and data["dimensions"]:
            native["dimensions"] = data["dimensions"]
        answer = self._native(self.api.embed, native).body or {}
        vectors = answer.get("embeddings")
        out: Dict[str, Any] = {"object": "", "data": None, "model": "", "usage": {"prompt_tokens": 0, "total_tokens": 0}}
        if vectors is not None:
            items = []
            for index, vector in enumerate(vectors):
                embedded: Any = vector
                if str(encoding).lower() == "base64":
                    embedded = base64.b64encode(struct.pack("<%df" % len(vector), *vector)).decode("ascii")
                items.append({"object": "embedding", "embedding": embedded, "index": index})
            count = int(answer.get("prompt_eval_count") or 0)
            out = {"object": "list", "data": items or None, "model": data.get("model", ""), "usage": {"prompt_tokens": count, "total_tokens": count}}
        return _json_reply(200, out)

    # ----------------------------------------------------------------- responses
    def responses(self, raw: bytes) -> Reply:
        return self._run(raw, openai_error, self._responses)

    def _responses(self, data: Dict[str, Any]) -> Reply:
        messages: List[Dict[str, Any]] = []
        if data.get("instructions"):
            messages.append({"role": "system", "content": str(data["instructions"])})
        value = data.get("input")
        if isinstance(value, str):
            if value:
                messages.append({"role": "user", "content": value})
        elif isinstance(value, list):
            for index, item in enumerate(value):
                if not isinstance(item, dict):
                    raise _Abort(400, openai_error(400, "input[%d]: invalid input item" % index))
                if item.get("type", "message") == "message":
                    messages.append({"role": item.get("role", "user"), "content": _text(item.get("content"))})
        elif value is not None:
            raise _Abort(400, openai_error(400, "input must be a string or array"))
        stream = data.get("stream") is True
        options = _options(data, (("max_output_tokens", "num_predict"), ("temperature", "temperature"), ("top_p", "top_p")))
        native = {"model": data.get("model", ""), "messages": messages, "stream": stream, "options": options}
        reasoning = data.get("reasoning")
        think = think_from_effort(reasoning.get("effort") if isinstance(reasoning, dict) else None)
        if think is not None:
            native["think"] = think
        reply = self._native(self.api.chat, native)
        response_id = "resp_%d" % random.randrange(999999)
        item_id = "msg_%d" % random.randrange(999999)
        if not stream:
            final = next(iter(self._lines(reply)))
            message = final.get("message") or {}
            output = [_message_item(item_id, message.get("content", ""), "completed")]
            if message.get("thinking"):
                output.insert(0, _reasoning_item("rs_%s" % response_id, message["thinking"]))
            response = _response_object(response_id, data, "completed", output, _responses_usage(final))
            response["created_at"] = _unix(final.get("created_at"))
            response["completed_at"] = int(time.time())
            return _json_reply(200, response)  # a struct: field order (the stream's maps are sorted)
        headers = dict(_SSE_HEADERS, **{"Cache-Control": "no-cache", "Connection": "keep-alive"})
        return Reply(chunks=_responses_events(response_id, item_id, data, self._lines(reply)), headers=headers)

    # ----------------------------------------------------------------- anthropic
    def messages(self, raw: bytes) -> Reply:
        return self._run(raw, anthropic_error, self._messages)

    def _messages(self, data: Dict[str, Any]) -> Reply:
        if not data.get("model"):
            raise _Abort(400, anthropic_error(400, "model is required"))
        max_tokens = data.get("max_tokens")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
            raise _Abort(400, anthropic_error(400, "max_tokens is required and must be positive"))
        if not isinstance(data.get("messages"), list) or not data["messages"]:
            raise _Abort(400, anthropic_error(400, "messages is required"))
        native_messages: List[Dict[str, Any]] = []
        system = data.get("system")
        total = len(_text(system)) if system is not None else 0
        if system:
            native_messages.append({"role": "system", "content": _text(system)})
        for message in data["messages"]:
            if not isinstance(message, dict):
                raise _Abort(400, anthropic_error(400, "invalid message"))
            text = _text(message.get("content"))
            total += len(str(message.get("role", ""))) + len(text)
            native_messages.append({"role": message.get("role", ""), "content": text})
        estimated = total // 4 or 1
        stream = bool(data.get("stream"))
        options = _options(data, (("temperature", "temperature"), ("top_p", "top_p"), ("top_k", "top_k"), ("stop_sequences", "stop")))
        options["num_predict"] = max_tokens
        native = {"model": data["model"], "messages": native_messages, "stream": stream, "options": options, RELAX_THINKING: True}
        thinking = data.get("thinking") if isinstance(data.get("thinking"), dict) else {}
        effort = str((data.get("output_config") or {}).get("effort") or "").strip().lower() if isinstance(data.get("output_config"), dict) else ""
        effort = "high" if effort == "xhigh" else effort
        if thinking.get("type") == "enabled":
            native["think"] = True
        elif thinking.get("type") == "disabled":
            native["think"] = False
        elif effort in ("high", "medium", "low", "max"):
            native["think"] = effort
        reply = self._native(self.api.chat, native)
        message_id = "msg_" + secrets.token_hex(12)
        if not stream:
            final = next(iter(self._lines(reply)))
            return _json_reply(200, _anthropic_message(message_id, final))
        headers = dict(_SSE_HEADERS, **{"Cache-Control": "no-cache", "Connection": "keep-alive"})
        return Reply(chunks=_anthropic_events(message_id, data["model"], estimated, self._lines(reply)), headers=headers)

    def routes(self) -> List[tuple]:
        return [
            (("POST",), r"/v1/chat/completions", lambda raw, **_: self.chat_completions(raw)),
            (("POST",), r"/v1/completions", lambda raw, **_: self.completions(raw)),
            (("POST",), r"/v1/embeddings", lambda raw, **_: self.embeddings(raw)),
            (("GET",), r"/v1/models", lambda raw, **_: self.models(raw)),
            (("GET",), r"/v1/models/(?P<model>[^/]+)", lambda raw, model, **_: self.model(raw, model)),
            (("POST",), r"/v1/responses", lambda raw, **_: self.responses(raw)),
            (("POST",), r"/v1/messages", lambda raw, **_: self.messages(raw)),
        ]


# ------------------------------------------------------------------------ conversions
def _parse_go_time(text: str, default: int) -> int:
    from datetime import datetime

    try:
        head = text[:19]
        zone = text[-6:] if text[-6] in "+-" else "+00:00"
        return int(datetime.fromisoformat(head + zone).timestamp())
    except (ValueError, IndexError):
        return default


def _usage(line: Dict[str, Any]) -> Dict[str, int]:
    prompt, completion = int(line.get("prompt_eval_count") or 0), int(line.get("eval_count") or 0)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _sse(value: Any) -> bytes:
    return b"data: " + go_json(value) + b"\n\n"


def _event(kind: str, value: Any) -> bytes:
    return b"event: " + kind.encode("utf-8") + b"\ndata: " + go_json(value) + b"\n\n"


def _chat_completion(chat_id: str, line: Dict[str, Any]) -> Dict[str, Any]:
    """openai.ToChatCompletion."""
    message = line.get("message") or {}
    reason = line.get("done_reason") or None
    out_message = {"role": message.get("role", ""), "content": message.get("content", "")}
    if message.get("thinking"):
        out_message["reasoning"] = message["thinking"]
    return {
        "id": chat_id,
        "object": "chat.completion",
        "created": _unix(line.get("created_at")),
        "model": line.get("model", ""),
        "system_fingerprint": "fp_ollama",
        "choices": [{"index": 0, "message": out_message, "finish_reason": reason}],
        "usage": _usage(line),
    }


def _chat_chunks(chat_id: str, lines: Iterator[Dict[str, Any]], include_usage: bool) -> Iterator[bytes]:
    """ChatWriter: role on the first chunk, no chunk for the empty done trailer, a finish chunk, usage, [DONE]."""
    first_sent = False
    created = None
    for line in lines:
        if "error" in line and "model" not in line:
            break
        created = created or _unix(line.get("created_at"))
        message = line.get("message") or {}
        content = message.get("content", "")
        thinking = message.get("thinking", "")
        done = bool(line.get("done"))
        head = {"id": chat_id, "object": "chat.completion.chunk", "created": created, "model": line.get("model", ""), "system_fingerprint": "fp_ollama"}
        if not (done and first_sent and not content and not thinking):
            delta: Dict[str, Any] = {"role": "assistant"} if not first_sent else {}
            delta["content"] = content
            if thinking:
                delta["reasoning"] = thinking
            yield _sse(dict(head, choices=[{"index": 0, "delta": delta, "finish_reason": None}]))
            first_sent = True
        if done:
            finish = dict(head, choices=[{"index": 0, "delta": {}, "finish_reason": line.get("done_reason") or "stop"}])
            yield _sse(finish)
            if include_usage:
                yield _sse(dict(head, choices=[], usage=_usage(line)))
            yield b"data: [DONE]\n\n"


def _completion(completion_id: str, line: Dict[str, Any]) -> Dict[str, Any]:
    """openai.ToCompletion."""
    return {
        "id": completion_id,
        "object": "text_completion",
        "created": _unix(line.get("created_at")),
        "model": line.get("model", ""),
        "system_fingerprint": "fp_ollama",
        "choices": [{"text": line.get("response", ""), "index": 0, "finish_reason": line.get("done_reason") or None}],
        "usage": _usage(line),
    }


def _completion_chunks(completion_id: str, lines: Iterator[Dict[str, Any]], include_usage: bool) -> Iterator[bytes]:
    """CompleteWriter: one chunk per response (choices before model, as CompletionChunk), usage, [DONE]."""
    for line in lines:
        if "error" in line and "model" not in line:
            break
        chunk: Dict[str, Any] = {
            "id": completion_id,
            "object": "text_completion",
            "created": int(time.time()),
            "choices": [{"text": line.get("response", ""), "index": 0, "finish_reason": line.get("done_reason") or None}],
            "model": line.get("model", ""),
            "system_fingerprint": "fp_ollama",
        }
        if include_usage:
            chunk["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
        yield _sse(chunk)
        if line.get("done"):
            if include_usage:
                yield _sse(dict(chunk, choices=[], usage=_usage(line)))
            yield b"data: [DONE]\n\n"


def _responses_usage(line: Dict[str, Any]) -> Dict[str, Any]:
    prompt, completion = int(line.get("prompt_eval_count") or 0), int(line.get("eval_count") or 0)
    return {
        "input_tokens": prompt,
        "output_tokens": completion,
        "total_tokens": prompt + completion,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens_details": {"reasoning_tokens": 0},
    }


def _message_item(item_id: str, text: str, status: str) -> Dict[str, Any]:
    return {
        "id": item_id,
        "type": "message",
        "status": status,
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}],
    }


def _reasoning_item(item_id: str, thinking: str) -> Dict[str, Any]:
    return {"id": item_id, "type": "reasoning", "summary": [{"type": "summary_text", "text": thinking}], "encrypted_content": thinking}


def _response_object(response_id: str, request: Dict[str, Any], status: str, output: List[Any], usage: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """ResponsesStreamConverter.buildResponseObject / ToResponse."""
    text = request.get("text") if isinstance(request.get("text"), dict) else None
    fmt = text.get("format") if text and isinstance(text.get("format"), dict) else {"type": "text"}
    reasoning = request.get("reasoning") if isinstance(request.get("reasoning"), dict) else {}
    reasoning_out = None
    if reasoning.get("effort") or reasoning.get("summary"):
        reasoning_out = {"effort": reasoning.get("effort") or None, "summary": reasoning.get("summary") or None}
    return {
        "id": response_id,
        "object": "response",
        "created_at": int(time.time()),
        "completed_at": None,
        "status": status,
        "incomplete_details": None,
        "model": request.get("model", ""),
        "previous_response_id": None,
        "instructions": request.get("instructions") or None,
        "output": output,
        "error": None,
        "tools": request.get("tools") or [],
        "tool_choice": "auto",
        "truncation": request.get("truncation") or "disabled",
        "parallel_tool_calls": True,
        "text": {"format": fmt},
        "top_p": request.get("top_p") if request.get("top_p") is not None else 1.0,
        "presence_penalty": 0,
        "frequency_penalty": 0,
        "top_logprobs": 0,
        "temperature": request.get("temperature") if request.get("temperature") is not None else 1.0,
        "reasoning": reasoning_out,
        "usage": usage,
        "max_output_tokens": request.get("max_output_tokens"),
        "max_tool_calls": None,
        "store": False,
        "background": bool(request.get("background")),
        "service_tier": "default",
        "metadata": {},
        "safety_identifier": None,
        "prompt_cache_key": None,
    }


def _sorted(value: Any) -> Any:
    """Go's json.Marshal of a map[string]any: keys sorted, recursively."""
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def _responses_events(response_id: str, item_id: str, request: Dict[str, Any], lines: Iterator[Dict[str, Any]]) -> Iterator[bytes]:
    """ResponsesStreamConverter: created, in_progress, output_item.added, content_part.added,
    output_text.delta..., output_text.done, content_part.done, output_item.done, completed."""
    sequence = 0

    def event(kind: str, data: Dict[str, Any]) -> bytes:
        nonlocal sequence
        data = dict(data, type=kind, sequence_number=sequence)
        sequence += 1
        return _event(kind, _sorted(data))

    yield event("response.created", {"response": _response_object(response_id, request, "in_progress", [], None)})
    yield event("response.in_progress", {"response": _response_object(response_id, request, "in_progress", [], None)})
    index = 0
    completed: List[Dict[str, Any]] = []
    thinking, reasoning_id = "", ""
    text = ""
    started = False

    def finish_reasoning() -> Iterator[bytes]:
        nonlocal index, thinking, reasoning_id
        if reasoning_id:
            item = _reasoning_item(reasoning_id, thinking)
            completed.append(item)
            yield event("response.reasoning_summary_text.done", {"item_id": reasoning_id, "output_index": index, "summary_index": 0, "text": thinking})
            yield event("response.output_item.done", {"output_index": index, "item": item})
            index += 1
            thinking, reasoning_id = "", ""

    for line in lines:
        if "error" in line and "model" not in line:
            break
        message = line.get("message") or {}
        if message.get("thinking"):
            if not reasoning_id:
                reasoning_id = "rs_%d" % random.randrange(999999)
                yield event("response.output_item.added", {"output_index": index, "item": {"id": reasoning_id, "type": "reasoning", "summary": []}})
            thinking += message["thinking"]
            delta = {"item_id": reasoning_id, "output_index": index, "summary_index": 0, "delta": message["thinking"]}
            yield event("response.reasoning_summary_text.delta", delta)
        content = message.get("content", "")
        if content:
            yield from finish_reasoning()
            if not started:
                started = True
                item = {"id": item_id, "type": "message", "status": "in_progress", "role": "assistant", "content": []}
                yield event("response.output_item.added", {"output_index": index, "item": item})
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                yield event("response.content_part.added", {"item_id": item_id, "output_index": index, "content_index": 0, "part": part})
            text += content
            yield event("response.output_text.delta", {"item_id": item_id, "output_index": index, "content_index": 0, "delta": content, "logprobs": []})
        if line.get("done"):
            yield from finish_reasoning()
            output: List[Any] = list(completed)
            if started:
                yield event("response.output_text.done", {"item_id": item_id, "output_index": index, "content_index": 0, "text": text, "logprobs": []})
                part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
                yield event("response.content_part.done", {"item_id": item_id, "output_index": index, "content_index": 0, "part": part})
                yield event("response.output_item.done", {"output_index": index, "item": _message_item(item_id, text, "completed")})
                output.append(_message_item(item_id, text, "completed"))
            response = _response_object(response_id, request, "completed", output, _responses_usage(line))
            response["completed_at"] = int(time.time())
            yield event("response.completed", {"response": response})


def _stop_reason(reason: str) -> str:
    """anthropic.mapStopReason."""
    if reason == "stop":
        return "end_turn"
    if reason == "length":
        return "max_tokens"
    return "stop_sequence" if reason else ""


def _anthropic_message(message_id: str, line: Dict[str, Any]) -> Dict[str, Any]:
    """anthropic.ToMessagesResponse."""
    message = line.get("message") or {}
    content: List[Dict[str, Any]] = []
    if message.get("thinking"):
        content.append({"type": "thinking", "thinking": message["thinking"]})
    if message.get("content"):
        content.append({"type": "text", "text": message["content"]})
    out: Dict[str, Any] = {"id": message_id, "type": "message", "role": "assistant", "model": line.get("model", "")}
    out["content"] = content or None
    reason = _stop_reason(line.get("done_reason") or "")
    if reason:
        out["stop_reason"] = reason
    out["usage"] = {"input_tokens": int(line.get("prompt_eval_count") or 0), "output_tokens": int(line.get("eval_count") or 0)}
    return out


def _anthropic_events(message_id: str, model: str, estimated: int, lines: Iterator[Dict[str, Any]]) -> Iterator[bytes]:
    """anthropic.StreamConverter: message_start, a text block (start, deltas, stop), message_delta, message_stop."""
    first = True
    index = 0
    thinking_started = thinking_done = text_started = False
    for line in lines:
        if "error" in line and "model" not in line:
            break
        if first:
            first = False
            tokens = int(line.get("prompt_eval_count") or 0) or estimated
            start = {
                "id": message_id,
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "usage": {"input_tokens": tokens, "output_tokens": 0},
            }
            yield _event("message_start", {"type": "message_start", "message": start})
        message = line.get("message") or {}
        if message.get("thinking") and not thinking_done:
            if not thinking_started:
                thinking_started = True
                yield _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": ""}})
            delta = {"type": "thinking_delta", "thinking": message["thinking"]}
            yield _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        content = message.get("content", "")
        if content:
            if thinking_started and not thinking_done:
                thinking_done = True
                yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
                index += 1
            if not text_started:
                text_started = True
                yield _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}})
            yield _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": content}})
        if line.get("done"):
            if text_started or (thinking_started and not thinking_done):
                yield _event("content_block_stop", {"type": "content_block_stop", "index": index})
            delta_out: Dict[str, Any] = {}
            reason = _stop_reason(line.get("done_reason") or "")
            if reason:
                delta_out["stop_reason"] = reason
            usage = {"input_tokens": int(line.get("prompt_eval_count") or 0), "output_tokens": int(line.get("eval_count") or 0)}
            yield _event("message_delta", {"type": "message_delta", "delta": delta_out, "usage": usage})
            yield _event("message_stop", {"type": "message_stop"})
