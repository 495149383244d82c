# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The Ollama API, transport aside: each endpoint takes the request body and returns a
:class:`Reply` (one JSON document, an NDJSON stream, plain text or nothing).

Status codes and error texts follow server/routes.go and server/create.go of Ollama.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from . import VERSION, gguf
from .catalog import MEDIA_ADAPTER, MEDIA_LICENSE, MEDIA_MESSAGES, MEDIA_MODEL, MEDIA_PARAMS, MEDIA_SYSTEM, MEDIA_TEMPLATE, Catalog
from .errors import ApiError
from .faults import Faults
from .godata import go_json_line, go_quote, go_time
from .models import Creator, LocalModel, config_from_metadata, load_model, read_metadata, tags_entry
from .names import ModelName, parse_name
from .pull import Downloads, PullLog, Stats, pull_stream
from .runtime import Scheduler, embedding, parse_keep_alive, reply_text, token_ids, tokens
from .store import DiskFull, InvalidDigest, Store

_GO_TYPES = {str: "string", bool: "bool", list: "[]interface {}", dict: "map[string]interface {}"}


@dataclass
class Reply:
    """What an endpoint answers: ``body`` (JSON), ``lines`` (NDJSON stream), ``text``,
    ``content`` (raw bytes of a known ``length``) or nothing."""

    status: int = 200
    body: Any = None
    lines: Optional[Iterator[Dict[str, Any]]] = None
    text: Optional[str] = None
    content: Optional[Iterator[bytes]] = None
    length: int = 0
    headers: Dict[str, str] = field(default_factory=dict)


@dataclass
class Settings:
    """How the simulator behaves (command line and environment)."""

    data: Path
    rate: float = 50_000_000.0
    gpu: bool = False
    noprune: bool = False
    token_delay: float = 0.005
    version: str = VERSION


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


class Body:
    """A decoded JSON request body with Go-style field binding errors."""

    def __init__(self, raw: bytes, struct: str) -> None:
        self.struct = struct
        if not raw.strip():
            raise ApiError(400, "missing request body")
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, _json_error(exc, raw)) from None
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ApiError(400, "json: cannot unmarshal %s into Go value of type api.%s" % (_json_kind(data), struct))
        self.data: Dict[str, Any] = data

    def raw(self, key: str) -> Any:
        if key in self.data:
            return self.data[key]
        for name, value in self.data.items():
            if name.lower() == key.lower():
                return value
        return None

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        value = self.raw(key)
        if value is None:
            return default
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            raise ApiError(
                400,
                "json: cannot unmarshal %s into Go struct field %s.%s of type %s" % (_json_kind(value), self.struct, key, _GO_TYPES.get(kind, kind.__name__)),
            )
        return value

    def text(self, key: str) -> str:
        return self.get(key, str, "")

    def flag(self, key: str, default: bool) -> bool:
        return self.get(key, bool, default)

    def mapping(self, key: str) -> Dict[str, Any]:
        return self.get(key, dict, {}) or {}


def _json_error(exc: ValueError, raw: bytes) -> str:
    """encoding/json's wording for a syntax error."""
    position = getattr(exc, "pos", 0)
    text = raw.decode("utf-8", errors="replace")
    if position >= len(text.rstrip()):
        return "unexpected EOF"
    char = text[position]
    message = str(getattr(exc, "msg", exc))
    if message.startswith("Expecting property name"):
        where = "looking for beginning of object key string"
    elif message.startswith("Expecting ':'"):
        where = "after object key"
    elif message.startswith("Expecting ','"):
        where = "after object key:value pair"
    elif message.startswith("Extra data"):
        where = "after top-level value"
    else:
        where = "looking for beginning of value"
    return "invalid character %s %s" % ("'%s'" % char, where)


def _now() -> str:
    return go_time(utc=True)


def _consume_progress(lines: Iterator[Dict[str, Any]]) -> Reply:
    """waitForStream: the last progress line, or the error as status + JSON (no charset)."""
    latest: Dict[str, Any] = {"status": ""}
    headers = {"Content-Type": "application/json"}
    try:
        for line in lines:
            latest = line
    except ApiError as exc:
        return Reply(exc.status, {"error": exc.message}, headers=headers)
    return Reply(200, latest, headers=headers)


class OllamaAPI:
    """The Ollama endpoints over one store, catalogue and scheduler."""

    def __init__(self, settings: Settings, catalog: Catalog, faults: Faults) -> None:
        self.settings = settings
        self.catalog = catalog
        self.faults = faults
        self.store = Store(settings.data)
        self.stats = Stats()
        self.downloads = Downloads(self.store, faults, self.stats, settings.rate)
        self.pulls = PullLog()
        self.scheduler = Scheduler(gpu=settings.gpu)

    # ------------------------------------------------------------------ helpers
    def _progress(self, lines: Iterator[Dict[str, Any]], stream: bool) -> Reply:
        if stream:
            return Reply(lines=lines)
        return _consume_progress(lines)

    def _model(self, name: ModelName) -> Optional[LocalModel]:
        return load_model(self.store, self.store.canonical(name))

    # ---------------------------------------------------------------- endpoints
    def version(self, _body: bytes) -> Reply:
        return Reply(body={"version": self.settings.version})

    def _listing(self) -> List[tuple]:
        """(mtime_ns, /api/tags entry) of every readable model, most recently modified first."""
        entries = []
        for manifest in self.store.manifests_list():
            entry = tags_entry(self.store, manifest)
            if entry is not None:
                entries.append((manifest.mtime_ns, entry))
        entries.sort(key=lambda pair: -(pair[0] // 1_000_000_000))
        return entries

    def tags(self, _body: bytes) -> Reply:
        return Reply(body={"models": [entry for _mtime, entry in self._listing()]})

    def openai_models(self, _body: bytes) -> Reply:
        """GET /v1/models (openai.ToListCompletion; an empty list is null)."""
        data = [
            {"id": entry["name"], "object": "model", "created": mtime_ns // 1_000_000_000, "owned_by": parse_name(entry["name"]).namespace}
            for mtime_ns, entry in self._listing()
        ]
        return Reply(body={"object": "list", "data": data or None})

    def ps(self, _body: bytes) -> Reply:
        return Reply(body={"models": [runner.as_ps() for runner in self.scheduler.list()]})

    def show(self, raw: bytes) -> Reply:
        body = Body(raw, "ShowRequest")
        model = body.text("model") or body.text("name")
        if not model:
            raise ApiError(400, "model is required")
        name = parse_name(model)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        found = self._model(name)
        if found is None:
            raise ApiError(404, "model '%s' not found" % model)
        system = body.text("system") or None
        reply: Dict[str, Any] = {}
        if found.licenses:
            reply["license"] = "\n".join(found.licenses)
        reply["modelfile"] = found.modelfile(system)
        parameters = found.parameters_text()
        if parameters:
            reply["parameters"] = parameters
        reply["template"] = found.template
        if system or found.system:
            reply["system"] = system or found.system
        reply["details"] = found.details()
        if found.messages:
            reply["messages"] = [{"role": m.get("role", ""), "content": m.get("content", "")} for m in found.messages]
        reply["model_info"] = found.model_info(verbose=body.flag("verbose", False))
        reply["capabilities"] = found.capabilities()
        reply["modified_at"] = go_time(found.manifest.mtime_ns)
        return Reply(body=reply)

    def pull(self, raw: bytes) -> Reply:
        body = Body(raw, "PullRequest")
        model = body.text("model") or body.text("name")
        stream = body.flag("stream", True)
        # Read for its type check only. Ollama's PullHandler parses the name with
        # model.ParseName, which drops an "http://" or "https://" prefix, and hands
        # PullModel name.DisplayShortest(): PullModel's errInsecureProtocol check
        # ("insecure protocol http") never fires through /api/pull. insecure only
        # turns the registry requests into plain http, and this registry is built in.
        body.flag("insecure", False)
        if not parse_name(model).is_valid():
            raise ApiError(400, "invalid model name")
        lines = pull_stream(self.catalog, self.store, self.downloads, self.faults, model, self.settings.noprune)
        return self._progress(self.pulls.track(model, lines), stream)

    def push(self, raw: bytes) -> Reply:
        body = Body(raw, "PushRequest")
        model = body.text("model") or body.text("name")
        if not model:
            raise ApiError(400, "model is required")
        stream = body.flag("stream", True)

        def lines() -> Iterator[Dict[str, Any]]:
            found = self._model(parse_name(model))
            if found is None:
                raise ApiError(500, "open %s: no such file or directory" % self.store.manifest_path(parse_name(model)))
            yield {"status": "retrieving manifest"}
            raise ApiError(500, "unauthorized: the Ollama API simulator does not accept pushes")

        return self._progress(lines(), stream)

    def delete(self, raw: bytes) -> Reply:
        body = Body(raw, "DeleteRequest")
        model = body.text("model") or body.text("name")
        if not model:
            raise ApiError(400, "model is required")
        name = parse_name(model)
        if not name.is_valid():
            raise ApiError(400, "name %s is invalid" % go_quote(model))
        removed = self.store.remove_manifest(self.store.canonical(name))
        if removed is None:
            raise ApiError(404, "model '%s' not found" % model)
        self.store.delete_unused(removed.digests())
        return Reply()

    def copy(self, raw: bytes) -> Reply:
        body = Body(raw, "CopyRequest")
        source, destination = body.text("source"), body.text("destination")
        src = parse_name(source)
        if not src.is_valid():
            raise ApiError(400, "source %s is invalid" % go_quote(source))
        dst = parse_name(destination)
        if not dst.is_valid():
            raise ApiError(400, "destination %s is invalid" % go_quote(destination))
        manifest = self.store.read_manifest(self.store.canonical(src))
        if manifest is None:
            raise ApiError(404, "model %s not found" % go_quote(source))
        self.store.write_manifest(self.store.canonical(dst), manifest.raw)
        return Reply()

    # ------------------------------------------------------------------- blobs
    def blob_head(self, digest: str) -> Reply:
        try:
            path = self.store.blob_path(digest)
        except InvalidDigest as exc:
            raise ApiError(400, str(exc)) from None
        if not path.is_file():
            raise ApiError(404, "blob %s not found" % go_quote(digest))
        return Reply()

    def blob_upload(self, digest: str, raw: bytes) -> Reply:
        try:
            path = self.store.blob_path(digest)
        except InvalidDigest as exc:
            raise ApiError(400, str(exc)) from None
        if path.is_file():
            return Reply()
        if self.faults.disk_full:
            raise ApiError(500, DiskFull(self.store.blobs / ("sha256-%d" % (int(time.time() * 1000) % 1_000_000_000))).message)
        got = "sha256:" + hashlib.sha256(raw).hexdigest()
        if got != digest:
            raise ApiError(400, "digest mismatch, expected %s, got %s" % (go_quote(digest), go_quote(got)))
        self.store.write_blob(raw)
        return Reply(201)

    # ------------------------------------------------------------------ create
    def create(self, raw: bytes) -> Reply:
        body = Body(raw, "CreateRequest")
        model = body.text("model") or body.text("name")
        stream = body.flag("stream", True)
        files = body.mapping("files")
        adapters = body.mapping("adapters")
        for path in list(files) + list(adapters):
            parts = path.split("/")
            if path in ("", ".") or path.startswith("/") or any(part in ("", ".", "..") for part in parts) or "\\" in path or ":" in path:
                raise ApiError(400, "file path must be relative: %s" % path)
        for path, digest in {**files, **adapters}.items():
            try:
                self.store.blob_path(str(digest))
            except InvalidDigest as exc:
                raise ApiError(400, "invalid digest for %s: %s" % (path, exc)) from None
        name = parse_name(model)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        name = self.store.canonical(name)
        kind = self._files_type(files)
        return self._progress(self._create_lines(body, name, files, kind, adapters), stream)

    def _files_type(self, files: Dict[str, Any]) -> str:
        """detectModelTypeFromFiles: gguf, safetensors or "" (blobs must exist unless named)."""
        kinds = set()
        for path in sorted(files):
            digest = str(files[path])
            if path.endswith(".safetensors"):
                kinds.add("safetensors")
                continue
            if path.endswith(".gguf"):
                kinds.add("gguf")
                continue
            blob = self.store.blob_path(digest)
            if not blob.is_file():
                raise ApiError(400, "blob not found for %s (digest %s): open %s: no such file or directory" % (path, digest, blob))
            if self.store.read_blob(digest, 4) == gguf.MAGIC:
                kinds.add("gguf")
        if len(kinds) > 1:
            raise ApiError(400, "mixed model file types: found both gguf and safetensors inputs")
        return kinds.pop() if kinds else ""

    def _gguf_layer(self, creator: Creator, path: str, digest: str, media: str) -> Dict[str, Any]:
        """ggufLayers: read the GGUF header of an uploaded blob and reuse the blob as a layer."""
        blob = self.store.blob_path(digest)
        if not blob.is_file():
            raise ApiError(500, "open %s: no such file or directory" % blob)
        if self.store.read_blob(digest, 4) != gguf.MAGIC:
            raise ApiError(500, "invalid file magic")
        metadata = read_metadata(blob)
        if not metadata:
            raise ApiError(500, "unexpected EOF")
        creator.layers.append(creator.existing(media, digest, path))
        return metadata

    def _create_lines(self, body: Body, name: ModelName, files: Dict[str, Any], kind: str, adapters: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        creator = Creator(self.store, self.faults.disk_full)
        old = self.store.read_manifest(name)
        source = body.text("from")
        if source:
            from_name = parse_name(source)
            if not from_name.is_valid():
                raise ApiError(400, "invalid model name")
            from_name = self.store.canonical(from_name)
            base = self._model(from_name)
            if base is None:
                yield from pull_stream(self.catalog, self.store, self.downloads, self.faults, source, self.settings.noprune)
                base = self._model(from_name)
                if base is None:
                    raise ApiError(500, "open %s: no such file or directory" % self.store.manifest_path(from_name))
            for layer in base.manifest.layers:
                creator.layers.append(creator.existing(layer.get("mediaType", ""), layer.get("digest", ""), base.name.display()))
            creator.config = {key: value for key, value in base.config.items() if key != "rootfs"}
        elif body.raw("files") is not None:
            if kind == "safetensors":
                raise ApiError(400, "supplied file was not in GGUF format")
            if kind != "gguf":
                raise ApiError(400, "unknown type")
            if not files:
                raise ApiError(400, "no files provided to convert")
            for path in sorted(files):
                yield {"status": "parsing GGUF"}
                metadata = self._gguf_layer(creator, path, str(files[path]), MEDIA_MODEL)
                if not creator.config:
                    creator.config = config_from_metadata(metadata)
        else:
            raise ApiError(400, "neither 'from' or 'files' was specified")

        if adapters:
            if len(adapters) > 1:
                raise ApiError(400, "only one adapter is currently supported")
            for path, digest in adapters.items():
                yield {"status": "parsing GGUF"}
                self._gguf_layer(creator, path, str(digest), MEDIA_ADAPTER)

        quantize = body.text("quantize") or body.text("quantization")
        if quantize:
            yield from creator.quantize(quantize)

        template = body.text("template")
        if template:
            creator.replace(MEDIA_TEMPLATE, creator.new(MEDIA_TEMPLATE, template.encode("utf-8")))
        system = body.text("system")
        if system:
            creator.replace(MEDIA_SYSTEM, creator.new(MEDIA_SYSTEM, system.encode("utf-8")))
        license_value = body.raw("license")
        licenses: List[str] = [license_value] if isinstance(license_value, str) else list(license_value or [])
        for text in licenses:
            if not isinstance(text, str):
                raise ApiError(500, "json: cannot unmarshal %s into Go value of type string" % _json_kind(text))
            if text:
                creator.layers.append(creator.new(MEDIA_LICENSE, text.encode("utf-8")))
        params = dict(body.mapping("parameters"))
        for layer in [layer for layer in creator.layers if layer.media_type == MEDIA_PARAMS]:
            try:
                existing = json.loads(self.store.read_blob(layer.digest))
            except (OSError, ValueError):
                existing = {}
            for key, value in existing.items():
                params.setdefault(key, value)
        if params:
            creator.replace(MEDIA_PARAMS, creator.new(MEDIA_PARAMS, go_json_line(params, sort_keys=True)))
        messages = body.get("messages", list, [])
        if messages:
            encoded = [{"role": m.get("role", ""), "content": m.get("content", "")} for m in messages if isinstance(m, dict)]
            creator.replace(MEDIA_MESSAGES, creator.new(MEDIA_MESSAGES, go_json_line(encoded)))

        manifest = creator.manifest()
        for layer in creator.layers:
            if layer.status:
                yield {"status": layer.status}
        yield {"status": "writing manifest"}
        self.store.write_manifest(name, manifest)
        if old is not None and not self.settings.noprune:
            self.store.delete_unused(old.digests())
        yield {"status": "success"}

    # --------------------------------------------------------------- inference
    def _inference_model(self, model: str, invalid_status: int, invalid_message: str) -> LocalModel:
        if not model:
            raise ApiError(invalid_status, invalid_message)
        name = parse_name(model)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        found = self._model(name)
        if found is None:
            raise ApiError(404, "model '%s' not found" % model)
        return found

    def _check_think(self, body: Body, model: str, found: LocalModel) -> None:
        think = body.raw("think")
        if think and think not in ("false", "none") and "thinking" not in found.capabilities():
            raise ApiError(400, "%s does not support thinking" % go_quote(model))

    def _metrics(self, started: float, loaded: float, prompt: str, count: int) -> Dict[str, int]:
        total = int((time.monotonic() - started) * 1e9)
        prompt_count = max(1, len(tokens(prompt)))
        return {
            "total_duration": max(total, 1),
            "load_duration": max(int((loaded - started) * 1e9), 1),
            "prompt_eval_count": prompt_count,
            "prompt_eval_duration": prompt_count * 250_000,
            "eval_count": count,
            "eval_duration": max(count, 1) * int(self.settings.token_delay * 1e9 or 1_000_000),
        }

    def _pieces(self, body: Body, model: str, prompt: str) -> tuple:
        options = body.mapping("options")
        text = reply_text(model, prompt, body.raw("format") not in (None, ""))
        pieces = tokens(text)
        limit = options.get("num_predict")
        reason = "stop"
        if isinstance(limit, (int, float)) and not isinstance(limit, bool) and 0 <= limit < len(pieces):
            pieces = pieces[: int(limit)]
            reason = "length"
        return pieces, reason

    def generate(self, raw: bytes) -> Reply:
        started = time.monotonic()
        body = Body(raw, "GenerateRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        stream = body.flag("stream", True)
        model = body.text("model")
        found = self._inference_model(model, 404, "model '%s' not found" % model)
        prompt = body.text("prompt")
        if not prompt and keep_alive == 0:
            self.scheduler.expire(found)
            return Reply(body={"model": model, "created_at": _now(), "response": "", "done": True, "done_reason": "unload"})
        caps = found.capabilities()
        self._check_think(body, model, found)
        if "completion" not in caps:
            raise ApiError(400, "%s does not support generate" % go_quote(model))
        if body.text("suffix") and "insert" not in caps:
            raise ApiError(400, "%s does not support insert" % found.name.full())
        options = body.mapping("options")
        runner = self.scheduler.acquire(found, keep_alive, options)
        loaded = time.monotonic()
        if not prompt:
            self.scheduler.release(runner, keep_alive)
            return Reply(body={"model": model, "created_at": _now(), "response": "", "done": True, "done_reason": "load"})
        pieces, reason = self._pieces(body, model, prompt)

        def lines() -> Iterator[Dict[str, Any]]:
            try:
                for piece in pieces:
                    time.sleep(self.settings.token_delay)
                    yield {"model": model, "created_at": _now(), "response": piece, "done": False}
                final: Dict[str, Any] = {"model": model, "created_at": _now(), "response": "", "done": True, "done_reason": reason}
                final["context"] = token_ids(prompt) + token_ids("".join(pieces))
                final.update(self._metrics(started, loaded, prompt, len(pieces)))
                yield final
            finally:
                self.scheduler.release(runner, keep_alive)

        if stream:
            return Reply(lines=lines())
        last: Dict[str, Any] = {}
        for line in lines():
            last = line
        last["response"] = "".join(pieces)
        return Reply(body=last)

    def chat(self, raw: bytes) -> Reply:
        started = time.monotonic()
        body = Body(raw, "ChatRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        stream = body.flag("stream", True)
        model = body.text("model")
        found = self._inference_model(model, 400, "model is required")
        messages = body.get("messages", list, [])
        if not messages and keep_alive == 0:
            self.scheduler.expire(found)
            return Reply(body={"model": model, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done_reason": "unload", "done": True})
        caps = found.capabilities()
        self._check_think(body, model, found)
        if "completion" not in caps:
            raise ApiError(400, "%s does not support chat" % go_quote(model))
        if body.get("tools", list, []) and "tools" not in caps:
            raise ApiError(400, "%s does not support tools" % found.name.full())
        options = body.mapping("options")
        runner = self.scheduler.acquire(found, keep_alive, options)
        loaded = time.monotonic()
        if not messages:
            self.scheduler.release(runner, keep_alive)
            return Reply(body={"model": model, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done_reason": "load", "done": True})
        prompt = " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        last_user = next((str(m.get("content", "")) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), prompt)
        pieces, reason = self._pieces(body, model, last_user)

        def lines() -> Iterator[Dict[str, Any]]:
            try:
                for piece in pieces:
                    time.sleep(self.settings.token_delay)
                    yield {"model": model, "created_at": _now(), "message": {"role": "assistant", "content": piece}, "done": False}
                final: Dict[str, Any] = {
                    "model": model,
                    "created_at": _now(),
                    "message": {"role": "assistant", "content": ""},
                    "done_reason": reason,
                    "done": True,
                }
                final.update(self._metrics(started, loaded, prompt, len(pieces)))
                yield final
            finally:
                self.scheduler.release(runner, keep_alive)

        if stream:
            return Reply(lines=lines())
        last: Dict[str, Any] = {}
        for line in lines():
            last = line
        last["message"] = {"role": "assistant", "content": "".join(pieces)}
        return Reply(body=last)

    def _embedding_model(self, model: str, empty_status: int, empty_message: str) -> LocalModel:
        if not model:
            raise ApiError(empty_status, empty_message)
        name = parse_name(model)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        found = self._model(name)
        if found is None:
            raise ApiError(404, "model %s not found, try pulling it first" % go_quote(model))
        return found

    def embed(self, raw: bytes) -> Reply:
        started = time.monotonic()
        body = Body(raw, "EmbedRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        model = body.text("model")
        value = body.raw("input")
        if isinstance(value, str):
            inputs = [value] if value else []
        elif isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                raise ApiError(400, "invalid input type")
            inputs = list(value)
        elif value is None:
            inputs = []
        else:
            raise ApiError(400, "invalid input type")
        found = self._embedding_model(model, 404, "model '%s' not found" % model)
        runner = self.scheduler.acquire(found, keep_alive, body.mapping("options"))
        loaded = time.monotonic()
        self.scheduler.release(runner, keep_alive)
        if not inputs:
            return Reply(body={"model": model, "embeddings": []})
        dimensions = found.kv("embedding_length", 384)
        wanted = body.raw("dimensions")
        if isinstance(wanted, int) and not isinstance(wanted, bool) and 0 < wanted < dimensions:
            dimensions = wanted
        vectors = [embedding(text, dimensions) for text in inputs]
        count = sum(max(1, len(tokens(text))) for text in inputs)
        return Reply(
            body={
                "model": model,
                "embeddings": vectors,
                "total_duration": max(int((time.monotonic() - started) * 1e9), 1),
                "load_duration": max(int((loaded - started) * 1e9), 1),
                "prompt_eval_count": count,
            }
        )

    def embeddings(self, raw: bytes) -> Reply:
        body = Body(raw, "EmbeddingRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        model = body.text("model")
        found = self._embedding_model(model, 400, "model is required")
        runner = self.scheduler.acquire(found, keep_alive, body.mapping("options"))
        self.scheduler.release(runner, keep_alive)
        prompt = body.text("prompt")
        if not prompt:
            return Reply(body={"embedding": []})
        return Reply(body={"embedding": embedding(prompt, found.kv("embedding_length", 384))})

    # ----------------------------------------------------------------- routing
    def routes(self) -> List[tuple]:
        """(methods, path pattern, handler) for the Ollama endpoints."""

        def simple(handler: Callable[[bytes], Reply]) -> Callable[..., Reply]:
            return lambda raw, **_: handler(raw)

        return [
            (("GET", "HEAD"), r"/", lambda raw, **_: Reply(text="Ollama is running", headers={"Content-Type": "text/plain; charset=utf-8"})),
            (("GET", "HEAD"), r"/api/version", simple(self.version)),
            (("GET", "HEAD"), r"/api/tags", simple(self.tags)),
            (("GET",), r"/api/ps", simple(self.ps)),
            (("POST",), r"/api/show", simple(self.show)),
            (("POST",), r"/api/pull", simple(self.pull)),
            (("POST",), r"/api/push", simple(self.push)),
            (("DELETE",), r"/api/delete", simple(self.delete)),
            (("POST",), r"/api/copy", simple(self.copy)),
            (("POST",), r"/api/create", simple(self.create)),
            (("HEAD",), r"/api/blobs/(?P<digest>[^/]+)", lambda raw, digest, **_: self.blob_head(digest)),
            (("POST",), r"/api/blobs/(?P<digest>[^/]+)", lambda raw, digest, **_: self.blob_upload(digest, raw)),
            (("POST",), r"/api/generate", simple(self.generate)),
            (("POST",), r"/api/chat", simple(self.chat)),
            (("POST",), r"/api/embed", simple(self.embed)),
            (("POST",), r"/api/embeddings", simple(self.embeddings)),
            (("GET",), r"/v1/models", simple(self.openai_models)),
        ]
