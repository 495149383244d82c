# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The Ollama API, transport aside: each endpoint takes the request body and returns a
:class:`Reply` (one JSON document, an NDJSON stream, plain text or nothing).

Status codes and error texts follow server/routes.go and server/create.go of Ollama v0.32.15.

Cloud models (internal/modelref, server/model_resolver.go, server/cloud_proxy.go): a
reference may end in ``:cloud`` or ``:local`` (``gpt-oss:120b:cloud``, ``qwen3:8b:local``);
the ``x:tag-cloud`` tag form counts as ``:cloud`` too. Pull and delete turn ``x:tag:cloud``
into ``x:tag-cloud`` (NormalizePullName), a small local manifest whose config names
``remote_host`` and ``remote_model``. Inference and show of a ``:cloud`` reference go to the
cloud (here: simulated from the catalogue's cloud models; unknown ones are 404); a local
manifest with a remote host runs remotely as well, its replies carrying ``remote_model`` and
``remote_host``; neither ever loads a runner, so ``/api/ps`` never lists them. ``x:local``
never reaches the cloud (404 for a cloud model). ``OLLAMA_NO_CLOUD`` (envconfig.Bool) makes
all of that 403 ``ollama cloud is disabled: remote model is unavailable`` (``... remote model
details are unavailable`` for show); pulling the stubs and listing them still work.

A model whose capabilities include ``thinking`` thinks first (``think`` defaults to true for
it): its replies stream ``thinking`` tokens before the content; ``think: false`` turns that off.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional
from urllib.parse import urlsplit

from . import VERSION, gguf, gotemplate
from .catalog import (
    CLOUD_HOST,
    MEDIA_ADAPTER,
    MEDIA_LICENSE,
    MEDIA_MESSAGES,
    MEDIA_MODEL,
    MEDIA_PARAMS,
    MEDIA_PROJECTOR,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
    Catalog,
    gguf_metadata,
    make_gguf,
)
from .errors import ApiError
from .faults import Faults
from .godata import go_json_line, go_quote, go_time
from .models import Creator, LocalModel, config_from_metadata, load_model, read_metadata, tags_entry
from .names import SOURCE_CLOUD, SOURCE_LOCAL, ModelName, RefError, normalize_pull_name, parse_name, parse_ref
from .pull import Downloads, PullLog, Stats, pull_stream
from .runtime import Scheduler, embedding, parse_keep_alive, reply_text, thinking_text, token_ids, tokens
from .store import DiskFull, InvalidDigest, Store

CLOUD_INFERENCE_UNAVAILABLE = "remote model is unavailable"
# set by the Anthropic /v1/messages endpoint (c.Set("relax_thinking")): think on a model that cannot is dropped
RELAX_THINKING = "_sim_relax_thinking"
CLOUD_DETAILS_UNAVAILABLE = "remote model details are unavailable"
# server/routes.go signinURLStr, and a fixed stand-in for the server's public key (base64url)
SIGNIN_URL = "https://ollama.com/connect?name=%s&key=%s"
SIM_PUBLIC_KEY = "c3NoLWVkMjU1MTkgQUFBQUMzTnphQzFsWkRJMU5URTVBQUFBSUxsbW9wc2ltdWxhdG9y"
_TRUE = ("1", "t", "true", "TRUE", "True", "T")
_FALSE = ("0", "f", "false", "FALSE", "False", "F")


def cloud_disabled_error(operation: str) -> str:
    """internal/cloud.DisabledError."""
    return "ollama cloud is disabled: %s" % operation if operation else "ollama cloud is disabled"


def env_bool(name: str) -> bool:
    """envconfig.Bool: unset or empty is false, an unparsable value is true."""
    value = os.environ.get(name, "").strip()
    if not value:
        return False
    return value not in _FALSE


# convert.LoadModelMetadata: the architectures a safetensors import takes (a few of them)
SAFETENSORS_ARCHITECTURES = {
    "LlamaForCausalLM": "llama",
    "MistralForCausalLM": "llama",
    "Qwen2ForCausalLM": "qwen2",
    "Qwen3ForCausalLM": "qwen3",
    "Gemma2ForCausalLM": "gemma2",
    "Gemma3ForCausalLM": "gemma3",
    "Phi3ForCausalLM": "phi3",
    "BertModel": "bert",
}

_GO_TYPES = {str: "string", bool: "bool", list: "[]interface {}", dict: "map[string]interface {}"}


@dataclass
class Reply:
    """What an endpoint answers: ``body`` (JSON), ``lines`` (NDJSON stream), ``text``,
    ``content`` (raw bytes of a known ``length``), ``chunks`` (raw bytes streamed as they
    come: server-sent events) or nothing."""

    status: int = 200
    body: Any = None
    lines: Optional[Iterator[Dict[str, Any]]] = None
    text: Optional[str] = None
    content: Optional[Iterator[bytes]] = None
    length: int = 0
    headers: Dict[str, str] = field(default_factory=dict)
    chunks: Optional[Iterator[bytes]] = None


@dataclass
class Settings:
    """How the simulator behaves (command line and environment)."""

    data: Path
    rate: float = 50_000_000.0
    gpu: bool = False
    noprune: bool = False
    token_delay: float = 0.005
    version: str = VERSION
    no_cloud: Optional[bool] = None  # None: OLLAMA_NO_CLOUD of the environment
    # how fast llama-quantize's COPY of a GGUF in ``files`` is hashed and copied (bytes/s; the silent phase)
    rewrite_rate: float = 2_000_000_000.0
    # a server not signed in to ollama.com: cloud calls answer 401 with a signin_url (None: OLLAMA_SIM_SIGNED_OUT)
    signed_out: Optional[bool] = None


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
        self.scheduler = Scheduler(gpu=settings.gpu, vram_fraction=lambda: faults.vram_fraction)

    def no_cloud(self) -> bool:
        """envconfig.NoCloud (OLLAMA_NO_CLOUD; the admin endpoint can switch it)."""
        return env_bool("OLLAMA_NO_CLOUD") if self.settings.no_cloud is None else bool(self.settings.no_cloud)

    def signed_out(self) -> bool:
        return env_bool("OLLAMA_SIM_SIGNED_OUT") if self.settings.signed_out is None else bool(self.settings.signed_out)

    def check_signed_in(self) -> None:
        """A cloud call of a server not signed in: ollama.com answers 401 and Ollama passes it on with
        the URL that signs this server in (server/routes.go: ``{"error": "unauthorized", "signin_url": ...}``,
        signinURL: https://ollama.com/connect?name=<hostname>&key=<base64url public key>)."""
        if self.signed_out():
            raise ApiError(401, "unauthorized", signin_url=SIGNIN_URL % (socket.gethostname(), SIM_PUBLIC_KEY))

    def check_remote_host(self, remote_host: str) -> None:
        """envconfig.Remotes (OLLAMA_REMOTES, default ollama.com): a stub whose remote host is not listed
        cannot run (server/routes.go GenerateHandler/ChatHandler: 400)."""
        raw = os.environ.get("OLLAMA_REMOTES", "").strip()
        remotes = [item.strip() for item in raw.split(",")] if raw else ["ollama.com"]
        if (urlsplit(remote_host).hostname or "") not in remotes:
            raise ApiError(400, "this server cannot run this remote model")

    def wait_inference(self) -> None:
        """The hang_inference fault: a hung runner never answers (until the fault is cleared)."""
        while self.faults.hang_inference:
            time.sleep(0.05)

    def ref(self, raw: str, fallback_status: int, fallback_message: str) -> tuple:
        """parseAndValidateModelRef: (base, name, source); errors as writeModelRefParseError."""
        try:
            base, source = parse_ref(raw)
        except RefError as exc:
            if str(exc).startswith("use either"):
                raise ApiError(400, str(exc)) from None
            raise ApiError(fallback_status, fallback_message) from None
        name = parse_name(base)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        return base, name, source

    def remote_entry(self, base: str, operation: str) -> Any:
        """The cloud (ollama.com, simulated from the catalogue) serving ``base``, or its error."""
        if self.no_cloud():
            raise ApiError(403, cloud_disabled_error(operation))
        self.check_signed_in()
        entry = self.catalog.remote(base)
        if entry is None:
            raise ApiError(404, "model '%s' not found" % base)
        return entry

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

    def status(self, _body: bytes) -> Reply:
        """GET /api/status (StatusHandler): whether cloud features are disabled, and by what."""
        disabled = self.no_cloud()
        return Reply(body={"cloud": {"disabled": disabled, "source": "env" if disabled else "none"}})

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

    def ps(self, _body: bytes) -> Reply:
        return Reply(body={"models": [runner.as_ps() for runner in self.scheduler.list()]})

    def show(self, raw: bytes) -> Reply:
        body = Body(raw, "ShowRequest")
        model = body.text("model") or body.text("name")
        if not model:
            raise ApiError(400, "model is required")
        try:
            base, source = parse_ref(model)
        except RefError as exc:
            raise ApiError(400, str(exc)) from None
        name = parse_name(base)
        if not name.is_valid():
            raise ApiError(400, "invalid model name")
        verbose = body.flag("verbose", False)
        if source == SOURCE_CLOUD:
            entry = self.remote_entry(base, CLOUD_DETAILS_UNAVAILABLE)
            return Reply(body=self._remote_show(entry, base))
        name = self.store.canonical(name)
        found = self._model(name)
        if found is None:
            raise ApiError(404, "model '%s' not found" % name.display())
        if found.remote_host and self.no_cloud():
            raise ApiError(403, cloud_disabled_error(CLOUD_DETAILS_UNAVAILABLE))
        if source == SOURCE_LOCAL and found.remote_host:
            raise ApiError(404, "model '%s' not found" % model.strip())
        return Reply(body=self._show_body(found, body.text("system") or None, verbose))

    def _show_body(self, found: LocalModel, system: Optional[str], verbose: bool) -> Dict[str, Any]:
        """GetModelInfo: the ShowResponse fields in api.ShowResponse order (omitempty as Go)."""
        reply: Dict[str, Any] = {}
        if found.licenses:
            reply["license"] = "\n".join(found.licenses)
        reply["modelfile"] = found.modelfile(system)
        parameters = found.parameters_text()
        if parameters:
            reply["parameters"] = parameters
        if found.template:
            reply["template"] = found.template
        if system or found.system:
            reply["system"] = system or found.system
        reply["details"] = found.details()
        if found.messages:
            reply["messages"] = [{"role": m.get("role", ""), "content": m.get("content", "")} for m in found.messages]
        if found.remote_model:
            reply["remote_model"] = found.remote_model
        if found.remote_host:
            reply["remote_host"] = found.remote_host
        if found.remote:
            info: Dict[str, Any] = {}
            family = found.config.get("model_family")
            if family:
                info["general.architecture"] = family
                if found.config.get("base_name"):
                    info["general.basename"] = found.config["base_name"]
                if found.config.get("context_length"):
                    info["%s.context_length" % family] = found.config["context_length"]
                if found.config.get("embedding_length"):
                    info["%s.embedding_length" % family] = found.config["embedding_length"]
            reply["model_info"] = info
        else:
            reply["model_info"] = found.model_info(verbose=verbose)
            tensors = found.tensors()
            if tensors:
                reply["tensors"] = tensors
        caps = found.capabilities()
        if caps:
            reply["capabilities"] = caps
        reply["modified_at"] = go_time(found.manifest.mtime_ns)
        if found.config.get("requires"):
            reply["requires"] = found.config["requires"]
        return reply

    def _remote_show(self, entry: Any, base: str) -> Dict[str, Any]:
        """What ollama.com answers to /api/show for a cloud model (simulated from the catalogue)."""
        spec = entry.spec
        family = spec.get("architecture", "")
        info: Dict[str, Any] = {}
        if family:
            info["general.architecture"] = family
            if spec.get("basename"):
                info["general.basename"] = spec["basename"]
            if spec.get("context_length"):
                info["%s.context_length" % family] = int(spec["context_length"])
            if spec.get("embedding_length"):
                info["%s.embedding_length" % family] = int(spec["embedding_length"])
        caps = list(spec.get("capabilities") or ["completion"])
        if family in ("gptoss", "gpt-oss") and "thinking" not in caps:
            caps.append("thinking")
        return {
            "modelfile": '# Modelfile generated by "ollama show"\n# To build a new Modelfile based on this, replace FROM with:\n# FROM %s\n\nFROM %s\n'
            % (base, base),
            "template": "{{ .Prompt }}",
            "details": {
                "parent_model": "",
                "format": "",
                "family": family,
                "families": [family] if family else None,
                "parameter_size": gguf.human_number(int(spec["parameter_count"])) if spec.get("parameter_count") else "",
                "quantization_level": spec.get("file_type", ""),
            },
            "model_info": info,
            "capabilities": caps,
            "modified_at": _now(),
        }

    def pull(self, raw: bytes) -> Reply:
        body = Body(raw, "PullRequest")
        model = body.text("model") or body.text("name")
        stream = body.flag("stream", True)
        # Read for its type check only. Ollama's PullHandler parses the name with
        # model.ParseName, which drops an "http://" or "https://" prefix, and hands
        # PullModel name.DisplayShortest(): PullModel's errInsecureProtocol check
        # ("insecure protocol http") never fires through /api/pull. insecure only
        # turns the registry requests into plain http (a registry reached over HTTP: download.py).
        insecure = body.flag("insecure", False)
        requested = model
        try:
            # modelref.NormalizePullName: x:8b:cloud -> x:8b-cloud, x:8b:local -> x:8b
            model, _cloud = normalize_pull_name(model)
        except RefError as exc:
            raise ApiError(400, "invalid model name" if str(exc) == "model is required" else str(exc)) from None
        if not parse_name(model).is_valid():
            raise ApiError(400, "invalid model name")
        lines = pull_stream(self.catalog, self.store, self.downloads, self.faults, model, self.settings.noprune, insecure)
        return self._progress(self.pulls.track(requested, lines), stream)

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
        try:
            normalized, _cloud = normalize_pull_name(model)
        except RefError as exc:
            raise ApiError(400, str(exc)) from None
        name = parse_name(normalized)
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
        # ggufLayersWithMediaType: the GGUF's general.type picks the layer kind
        kind = str(metadata.get("general.type", ""))
        if kind == "adapter":
            media = MEDIA_ADAPTER
        elif kind in ("projector", "mmproj"):
            media = MEDIA_PROJECTOR
        layer = creator.existing(media, digest, path)
        layer.rewrite = True
        creator.layers.append(layer)
        return metadata

    def _convert_safetensors(self, creator: Creator, files: Dict[str, Any]) -> Dict[str, Any]:
        """convert.ConvertModel, in short: config.json names the architecture, the safetensors
        headers give the parameter count; the result is a new F16 GGUF model layer."""
        config_digest = files.get("config.json")
        if config_digest is None:
            raise ApiError(500, "open config.json: file does not exist")
        try:
            config = json.loads(self.store.read_blob(str(config_digest)))
        except (OSError, InvalidDigest):
            raise ApiError(500, "open config.json: file does not exist") from None
        except ValueError as exc:
            raise ApiError(500, "parse config.json: %s" % exc) from None
        architectures = config.get("architectures") if isinstance(config, dict) else None
        if not isinstance(architectures, list) or not architectures:
            raise ApiError(500, "unknown architecture")
        arch = SAFETENSORS_ARCHITECTURES.get(str(architectures[0]))
        if arch is None:
            raise ApiError(500, "unsupported architecture %s" % go_quote(str(architectures[0])))
        parameters = 0
        for path in sorted(files):
            if not path.endswith(".safetensors"):
                continue
            try:
                head = self.store.read_blob(str(files[path]), 8 + (1 << 20))
                length = struct.unpack("<Q", head[:8])[0]
                header = json.loads(head[8 : 8 + length])
            except (OSError, InvalidDigest, ValueError, struct.error):
                raise ApiError(500, "%s: invalid safetensors header" % path) from None
            for tensor, info in header.items():
                if tensor != "__metadata__" and isinstance(info, dict):
                    count = 1
                    for dim in info.get("shape") or []:
                        count *= int(dim)
                    parameters += count
        spec = {
            "architecture": arch,
            "basename": str(config.get("_name_or_path") or architectures[0]).rsplit("/", 1)[-1],
            "parameter_count": parameters,
            "file_type": "F16",
            "context_length": int(config.get("max_position_embeddings") or 4096),
            "embedding_length": int(config.get("hidden_size") or 2048),
            "block_count": int(config.get("num_hidden_layers") or 1),
        }
        metadata = gguf_metadata(spec)
        data = make_gguf(size=max(4096, min(parameters * 2, 4 << 20)), seed="converted|%s" % "|".join(str(files[p]) for p in sorted(files)), **spec)
        layer = creator.new(MEDIA_MODEL, data)
        layer.rewrite = True
        creator.layers.append(layer)
        return metadata

    def _create_lines(self, body: Body, name: ModelName, files: Dict[str, Any], kind: str, adapters: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        creator = Creator(self.store, self.faults.disk_full)
        old = self.store.read_manifest(name)
        source = body.text("from")
        try:
            from_base, from_source = parse_ref(source) if source else ("", "")
        except RefError:
            raise ApiError(400, "invalid model name") from None
        if source and from_source == SOURCE_CLOUD:
            # a cloud model made local: a config naming the remote host and model, no weights
            if not parse_name(from_base).is_valid():
                raise ApiError(400, "invalid model name")
            creator.config = {"model_format": "", "model_family": "", "model_families": None, "model_type": "", "file_type": ""}
            creator.config.update({"remote_host": CLOUD_HOST, "remote_model": from_base})
        elif source:
            source = from_base
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
                yield {"status": "converting model"}
                metadata = self._convert_safetensors(creator, files)
                creator.config = config_from_metadata(metadata)
            elif kind != "gguf":
                raise ApiError(400, "unknown type")
            elif not files:
                raise ApiError(400, "no files provided to convert")
            for path in sorted(files) if kind == "gguf" else []:
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
                self._gguf_layer(creator, path, str(digest), MEDIA_MODEL)  # general.type "adapter" makes it an adapter layer

        for key in ("renderer", "parser", "requires"):
            value = body.text(key)
            if value:
                creator.config[key] = value

        # createModel: a model layer read from files is quantized when asked (and not already of that
        # type), and otherwise rewritten by llama-quantize's COPY; either way a new layer
        quantize = body.text("quantize") or body.text("quantization")
        before = creator.model_layer()
        if quantize:
            yield from creator.quantize(quantize)
        if creator.model_layer() is before:
            yield from creator.rewrite_files_layer(self.settings.rewrite_rate, time.sleep)

        template = body.text("template")
        if template:
            try:
                gotemplate.parse(template)  # setTemplate: template.Parse; errBadTemplate is a 400
            except gotemplate.TemplateError as exc:
                raise ApiError(400, "template error: %s" % exc) from None
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
    def _resolve(self, model: str, fallback_status: int, fallback_message: str) -> tuple:
        """The model of an inference request: (LocalModel, None) for a local one, or
        (None, remote) with remote = {model, remote_model, remote_host} for one served by the cloud.

        ``x:cloud``/``x:tag-cloud`` go straight to the cloud (cloudPassthroughMiddleware and
        proxyCloudJSONRequest); a local manifest with remote_host/remote_model runs remotely
        too and its replies carry ``remote_model`` and ``remote_host``; ``x:local`` never does.
        """
        base, name, source = self.ref(model, fallback_status, fallback_message)
        if source == SOURCE_CLOUD:
            entry = self.remote_entry(base, CLOUD_INFERENCE_UNAVAILABLE)
            return None, {"model": base, "caps": list(entry.spec.get("capabilities") or ["completion"])}
        found = self._model(self.store.canonical(name))
        if found is None:
            raise ApiError(404, "model '%s' not found" % model)
        if found.remote:
            if source == SOURCE_LOCAL:
                raise ApiError(404, "model '%s' not found" % model)
            if self.no_cloud():
                raise ApiError(403, cloud_disabled_error(CLOUD_INFERENCE_UNAVAILABLE))
            self.check_remote_host(found.remote_host)
            self.check_signed_in()
            return None, {"model": model, "remote_model": found.remote_model, "remote_host": found.remote_host, "caps": found.capabilities()}
        return found, None

    def _remote_reply(self, body: Body, remote: Dict[str, Any], chat: bool) -> Reply:
        """A reply from the (simulated) cloud: no local runner is loaded, /api/ps stays empty."""
        started = time.monotonic()
        stream = body.flag("stream", True)
        head: Dict[str, Any] = {"model": remote["model"]}
        if remote.get("remote_model"):
            head["remote_model"] = remote["remote_model"]
            head["remote_host"] = remote["remote_host"]
        if chat:
            messages = body.get("messages", list, [])
            if body.get("tools", list, []) and "tools" not in remote["caps"]:
                raise ApiError(400, "%s does not support tools" % remote["model"])
            prompt = " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
            last_user = next((str(m.get("content", "")) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), prompt)
        else:
            prompt = last_user = body.text("prompt")
        if last_user:
            pieces, reason = self._pieces(body, remote["model"], last_user, remote["caps"])
        else:  # a load (or, with keep_alive 0, an unload) request, answered by the remote server
            pieces, reason = [], "unload" if parse_keep_alive(body.raw("keep_alive")) == 0 else "load"

        def lines() -> Iterator[Dict[str, Any]]:
            for kind, piece in pieces:
                time.sleep(self.settings.token_delay)
                yield self._piece_line(head, kind, piece, chat)
            final = self._piece_line(head, "content", "", chat)
            final["done"] = True
            final["done_reason"] = reason
            if pieces:
                metrics = self._metrics(started, started, prompt, len(pieces))
                metrics.pop("load_duration", None)
                final.update(metrics)
            yield final

        if stream:
            return Reply(lines=lines())
        last: Dict[str, Any] = {}
        for line in lines():
            last = line
        thinking = self._joined(pieces, "thinking")
        if chat:
            last["message"] = {"role": "assistant", "content": self._joined(pieces, "content")}
            if thinking:
                last["message"]["thinking"] = thinking
        else:
            last = self._with_response(last, self._joined(pieces, "content"), thinking)
        return Reply(body=last)

    @staticmethod
    def _with_response(line: Dict[str, Any], response: str, thinking: str) -> Dict[str, Any]:
        """The non-streamed generate answer: the whole response (and thinking, after it)."""
        out: Dict[str, Any] = {}
        for key, value in line.items():
            out[key] = response if key == "response" else value
            if key == "response" and thinking:
                out["thinking"] = thinking
        return out

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
            if body.raw(RELAX_THINKING):  # /v1/messages sets relax_thinking: the request goes on without
                body.data.pop("think", None)
                return
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

    def _pieces(self, body: Body, model: str, prompt: str, caps: List[str]) -> tuple:
        """([(kind, token)], done_reason): a thinking model thinks first (think defaults to true
        for it, as in Ollama); num_predict counts thinking and content tokens alike."""
        options = body.mapping("options")
        text = reply_text(model, prompt, body.raw("format") not in (None, ""))
        pieces = [("content", piece) for piece in tokens(text)]
        think = body.raw("think")
        if "thinking" in caps and think not in (False, "false", "none"):
            pieces = [("thinking", piece) for piece in tokens(thinking_text(prompt))] + pieces
        limit = options.get("num_predict")
        reason = "stop"
        if isinstance(limit, (int, float)) and not isinstance(limit, bool) and 0 <= limit < len(pieces):
            pieces = pieces[: int(limit)]
            reason = "length"
        return pieces, reason

    @staticmethod
    def _piece_line(head: Dict[str, Any], kind: str, piece: str, chat: bool) -> Dict[str, Any]:
        """One streamed response: a content token, or a thinking token (content empty)."""
        line = dict(head, created_at=_now())
        content = piece if kind == "content" else ""
        if chat:
            line["message"] = {"role": "assistant", "content": content}
            if kind == "thinking":
                line["message"]["thinking"] = piece
        else:
            line["response"] = content
            if kind == "thinking":
                line["thinking"] = piece
        line["done"] = False
        return line

    @staticmethod
    def _joined(pieces: List[tuple], kind: str) -> str:
        return "".join(piece for piece_kind, piece in pieces if piece_kind == kind)

    def generate(self, raw: bytes) -> Reply:
        started = time.monotonic()
        body = Body(raw, "GenerateRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        stream = body.flag("stream", True)
        model = body.text("model")
        found, remote = self._resolve(model, 404, "model '%s' not found" % model)
        if remote is not None:
            return self._remote_reply(body, remote, chat=False)
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
        self.wait_inference()
        runner = self.scheduler.acquire(found, keep_alive, options)
        loaded = time.monotonic()
        if not prompt:
            self.scheduler.release(runner, keep_alive)
            return Reply(body={"model": model, "created_at": _now(), "response": "", "done": True, "done_reason": "load"})
        pieces, reason = self._pieces(body, model, prompt, caps)

        def lines() -> Iterator[Dict[str, Any]]:
            try:
                self.scheduler.start(runner)
                try:
                    for kind, piece in pieces:
                        time.sleep(self.settings.token_delay)
                        yield self._piece_line({"model": model}, kind, piece, chat=False)
                finally:
                    self.scheduler.finish(runner)
                final: Dict[str, Any] = {"model": model, "created_at": _now(), "response": "", "done": True, "done_reason": reason}
                final["context"] = token_ids(prompt) + token_ids(self._joined(pieces, "content"))
                final.update(self._metrics(started, loaded, prompt, len(pieces)))
                yield final
            finally:
                self.scheduler.release(runner, keep_alive)

        if stream:
            return Reply(lines=lines())
        last: Dict[str, Any] = {}
        for line in lines():
            last = line
        return Reply(body=self._with_response(last, self._joined(pieces, "content"), self._joined(pieces, "thinking")))

    def chat(self, raw: bytes) -> Reply:
        started = time.monotonic()
        body = Body(raw, "ChatRequest")
        keep_alive = parse_keep_alive(body.raw("keep_alive"))
        stream = body.flag("stream", True)
        model = body.text("model")
        found, remote = self._resolve(model, 400, "model is required")
        if remote is not None:
            return self._remote_reply(body, remote, chat=True)
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
        self.wait_inference()
        runner = self.scheduler.acquire(found, keep_alive, options)
        loaded = time.monotonic()
        if not messages:
            self.scheduler.release(runner, keep_alive)
            return Reply(body={"model": model, "created_at": _now(), "message": {"role": "assistant", "content": ""}, "done_reason": "load", "done": True})
        prompt = " ".join(str(m.get("content", "")) for m in messages if isinstance(m, dict))
        last_user = next((str(m.get("content", "")) for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), prompt)
        pieces, reason = self._pieces(body, model, last_user, caps)

        def lines() -> Iterator[Dict[str, Any]]:
            try:
                self.scheduler.start(runner)
                try:
                    for kind, piece in pieces:
                        time.sleep(self.settings.token_delay)
                        yield self._piece_line({"model": model}, kind, piece, chat=True)
                finally:
                    self.scheduler.finish(runner)
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
        last["message"] = {"role": "assistant", "content": self._joined(pieces, "content")}
        if self._joined(pieces, "thinking"):
            last["message"]["thinking"] = self._joined(pieces, "thinking")
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
        base, _name, source = self.ref(model, 404, "model '%s' not found" % model)
        if source == SOURCE_CLOUD:
            self.remote_entry(base, CLOUD_INFERENCE_UNAVAILABLE)
            raise ApiError(400, "%s does not support embeddings" % go_quote(base))
        found = self._embedding_model(model, 404, "model '%s' not found" % model)
        if found.remote:
            if self.no_cloud():
                raise ApiError(403, cloud_disabled_error(CLOUD_INFERENCE_UNAVAILABLE))
            raise ApiError(400, "%s does not support embeddings" % go_quote(model))
        self.wait_inference()
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
        self.wait_inference()
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

        return [  # noqa: RUF005
            (("GET", "HEAD"), r"/", lambda raw, **_: Reply(text="Ollama is running", headers={"Content-Type": "text/plain; charset=utf-8"})),
            (("GET", "HEAD"), r"/api/version", simple(self.version)),
            (("GET",), r"/api/status", simple(self.status)),
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
        ] + self._compat_routes()

    def _compat_routes(self) -> List[tuple]:
        from .openai import OpenAICompat  # the /v1 endpoints wrap these handlers

        return OpenAICompat(self).routes()
