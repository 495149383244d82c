# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The registry catalogue: the models a pull can fetch, with repeatable bytes.

Every blob is generated deterministically: the model layer is a real GGUF header (the
model's metadata) followed by pseudo-random filler seeded from the model's name and
``version``; the template, params, license and system layers are small texts; the
config layer is Ollama's ``ConfigV2`` JSON. The same catalogue therefore yields the same
sha256 digests on every run, and bumping ``version`` yields new model bytes (an update).

The built-in catalogue holds ``llama3.2:1b``, ``llama3.2:latest``, ``qwen2.5:0.5b``,
``smollm2:135m``, ``all-minilm:latest``, ``nomic-embed-text:latest``,
``hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M``, ``qwen3:8b`` (completion, tools,
thinking), ``gemma3:4b`` (completion, vision), each a few MB, and the cloud models
``gpt-oss:120b-cloud``, ``gpt-oss:20b-cloud`` (completion, tools, thinking) and
``qwen3-coder:480b-cloud`` (completion, tools): small manifests (a config, no model layer)
whose inference runs remotely, as on ollama.com. ``gpt-oss:120b:cloud`` pulls
``gpt-oss:120b-cloud`` (modelref.NormalizePullName).

Catalogue file (``--catalog FILE``), JSON::

    {
      "extend": false,          # true: add to / override the built-in models by name;
                                # false (default): the file's models replace them
      "models": [
        {
          "name": "llama3.2:1b",              # required; an Ollama model name
          "version": 1,                       # bump for new model bytes (new digests)
          "architecture": "llama",            # general.architecture = details.family
          "parameter_count": 1235814432,      # details.parameter_size ("1.2B")
          "file_type": "Q8_0",                # details.quantization_level
          "size": 4194304,                    # bytes of the model (GGUF) layer
          "context_length": 131072,           # GGUF <arch>.context_length
          "embedding_length": 2048,           # GGUF <arch>.embedding_length
          "block_count": 16,                  # GGUF <arch>.block_count
          "embedding": false,                 # true: an embedding-only model
          "vision": false,                    # true: <arch>.vision.block_count (vision)
          "renderer": "", "parser": "",       # config renderer/parser (Modelfile RENDERER/PARSER)
          "requires": "0.6.0",                # config requires (minimum Ollama version)
          "remote_host": "https://ollama.com:443",  # with remote_model: a cloud model, no
          "remote_model": "gpt-oss:120b",           # model layer; inference runs remotely
          "capabilities": ["completion"],     # config capabilities (cloud models)
          "template": "{{ .Prompt }}",        # optional template layer
          "system": "You are ...",            # optional system layer
          "params": {"stop": ["<|eot_id|>"]}, # optional params layer
          "license": "text" or ["text", ...], # optional license layer(s)
          "metadata": {"key": "value"}        # extra GGUF key/values
        }
      ]
    }

All keys but ``name`` are optional. The admin endpoint ``POST /_sim/catalog`` changes the
catalogue of a running simulator (see ``server``).
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from . import gguf
from .godata import go_json, go_json_line
from .names import ModelName, parse_name

MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MEDIA_CONFIG = "application/vnd.docker.container.image.v1+json"
MEDIA_MODEL = "application/vnd.ollama.image.model"
MEDIA_ADAPTER = "application/vnd.ollama.image.adapter"
MEDIA_PROJECTOR = "application/vnd.ollama.image.projector"
MEDIA_TEMPLATE = "application/vnd.ollama.image.template"
MEDIA_SYSTEM = "application/vnd.ollama.image.system"
MEDIA_PARAMS = "application/vnd.ollama.image.params"
MEDIA_MESSAGES = "application/vnd.ollama.image.messages"
MEDIA_LICENSE = "application/vnd.ollama.image.license"

_CHUNK = 1 << 16

LLAMA3_TEMPLATE = """<|start_header_id|>system<|end_header_id|>

Cutting Knowledge Date: December 2023

{{ if .System }}{{ .System }}
{{- end }}
{{- if .Tools }}When you receive a tool call response, use the output to format an answer to the original user question.

You are a helpful assistant with tool calling capabilities.
{{- end }}<|eot_id|>
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if eq .Role "user" }}<|start_header_id|>user<|end_header_id|>

{{ .Content }}<|eot_id|>{{ if $last }}<|start_header_id|>assistant<|end_header_id|>

{{ end }}
{{- else if eq .Role "assistant" }}<|start_header_id|>assistant<|end_header_id|>

{{ .Content }}{{ if not $last }}<|eot_id|>{{ end }}
{{- end }}
{{- end }}"""

CHATML_TOOLS_TEMPLATE = """{{- if .Messages }}
{{- if or .System .Tools }}<|im_start|>system
{{- if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}

# Tools

You may call one or more functions to assist with the user query.
{{- end }}<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
<|im_start|>{{ .Role }}
{{ .Content }}{{ if not $last }}<|im_end|>
{{ end }}
{{- if and (ne .Role "assistant") $last }}<|im_end|>
<|im_start|>assistant
{{ end }}
{{- end }}
{{- else }}
{{- if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}"""

CHATML_TEMPLATE = """{{- if .Messages }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
<|im_start|>{{ .Role }}
{{ .Content }}<|im_end|>
{{ if $last }}<|im_start|>assistant
{{ end }}
{{- end }}
{{- else }}{{ if .System }}<|im_start|>system
{{ .System }}<|im_end|>
{{ end }}{{ if .Prompt }}<|im_start|>user
{{ .Prompt }}<|im_end|>
{{ end }}<|im_start|>assistant
{{ end }}{{ .Response }}{{ if .Response }}<|im_end|>{{ end }}"""

QWEN3_TEMPLATE = """{{- $lastUserIdx := -1 -}}
{{- range $idx, $msg := .Messages -}}
{{- if eq $msg.Role "user" }}{{ $lastUserIdx = $idx }}{{ end -}}
{{- end }}
{{- if or .System .Tools }}<|im_start|>system
{{ if .System }}
{{ .System }}
{{- end }}
{{- if .Tools }}

# Tools

You may call one or more functions to assist with the user query.
{{- range .Tools }}
{"type": "function", "function": {{ .Function }}}
{{- end }}
{{- end -}}
<|im_end|>
{{ end }}
{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 -}}
{{- if eq .Role "user" }}<|im_start|>user
{{ .Content }}<|im_end|>
{{ else if eq .Role "assistant" }}<|im_start|>assistant
{{ if (and $.IsThinkSet (and .Thinking (gt $i $lastUserIdx))) -}}
<think>{{ .Thinking }}</think>
{{ end -}}
{{ .Content }}{{ if not $last }}<|im_end|>
{{ end }}
{{- end }}
{{- if and (ne .Role "assistant") $last }}<|im_start|>assistant
{{ if and $.IsThinkSet (not $.Think) -}}
<think>

</think>

{{ end -}}
{{ end }}
{{- end }}"""

GEMMA3_TEMPLATE = """{{- range $i, $_ := .Messages }}
{{- $last := eq (len (slice $.Messages $i)) 1 }}
{{- if or (eq .Role "user") (eq .Role "system") }}<start_of_turn>user
{{ .Content }}<end_of_turn>
{{ if $last }}<start_of_turn>model
{{ end }}
{{- else if eq .Role "assistant" }}<start_of_turn>model
{{ .Content }}{{ if not $last }}<end_of_turn>
{{ end }}
{{- end }}
{{- end }}"""

CLOUD_HOST = "https://ollama.com:443"

LLAMA_STOP = {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]}
CHATML_STOP = {"stop": ["<|im_start|>", "<|im_end|>"]}
LLAMA_LICENSE = "LLAMA 3.2 COMMUNITY LICENSE AGREEMENT\nLlama 3.2 Version Release Date: September 25, 2024\n\n(abridged by the Ollama API simulator)"
APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/\n\n(abridged by the Ollama API simulator)"

BUILTIN_MODELS: List[Dict[str, Any]] = [
    {
        "name": "llama3.2:1b",
        "architecture": "llama",
        "basename": "Llama-3.2",
        "size_label": "1B",
        "parameter_count": 1235814432,
        "file_type": "Q8_0",
        "size": 4194304 + 123,
        "context_length": 131072,
        "embedding_length": 2048,
        "block_count": 16,
        "template": LLAMA3_TEMPLATE,
        "params": LLAMA_STOP,
        "license": LLAMA_LICENSE,
    },
    {
        "name": "llama3.2:latest",
        "architecture": "llama",
        "basename": "Llama-3.2",
        "size_label": "3B",
        "parameter_count": 3212749888,
        "file_type": "Q4_K_M",
        "size": 6291456 + 77,
        "context_length": 131072,
        "embedding_length": 3072,
        "block_count": 28,
        "template": LLAMA3_TEMPLATE,
        "params": LLAMA_STOP,
        "license": LLAMA_LICENSE,
    },
    {
        "name": "qwen2.5:0.5b",
        "architecture": "qwen2",
        "basename": "Qwen2.5",
        "size_label": "0.5B",
        "parameter_count": 494032768,
        "file_type": "Q4_K_M",
        "size": 3145728 + 211,
        "context_length": 32768,
        "embedding_length": 896,
        "block_count": 24,
        "template": CHATML_TOOLS_TEMPLATE,
        "system": "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.",
        "params": CHATML_STOP,
        "license": APACHE_LICENSE,
    },
    {
        "name": "smollm2:135m",
        "architecture": "llama",
        "basename": "SmolLM2",
        "size_label": "135M",
        "parameter_count": 134515008,
        "file_type": "F16",
        "size": 2097152 + 31,
        "context_length": 8192,
        "embedding_length": 576,
        "block_count": 30,
        "template": CHATML_TEMPLATE,
        "system": "You are a helpful AI assistant named SmolLM, trained by Hugging Face",
        "params": CHATML_STOP,
        "license": APACHE_LICENSE,
    },
    {
        "name": "all-minilm:latest",
        "architecture": "bert",
        "basename": "all-MiniLM-L6-v2",
        "size_label": "23M",
        "parameter_count": 22565376,
        "file_type": "F16",
        "size": 2097152 + 157,
        "context_length": 512,
        "embedding_length": 384,
        "block_count": 6,
        "embedding": True,
        "license": APACHE_LICENSE,
    },
    {
        "name": "nomic-embed-text:latest",
        "architecture": "nomic-bert",
        "basename": "nomic-embed-text-v1.5",
        "size_label": "137M",
        "parameter_count": 136731648,
        "file_type": "F16",
        "size": 3145728 + 99,
        "context_length": 2048,
        "embedding_length": 768,
        "block_count": 12,
        "embedding": True,
        "params": {"num_ctx": 8192},
        "license": APACHE_LICENSE,
    },
    {
        "name": "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
        "architecture": "llama",
        "basename": "Llama-3.2",
        "size_label": "1B",
        "parameter_count": 1235814432,
        "file_type": "Q4_K_M",
        "size": 4194304 + 55,
        "context_length": 131072,
        "embedding_length": 2048,
        "block_count": 16,
        "template": LLAMA3_TEMPLATE,
        "params": LLAMA_STOP,
    },
    {
        "name": "qwen3:8b",
        "architecture": "qwen3",
        "basename": "Qwen3",
        "size_label": "8B",
        "parameter_count": 8190735360,
        "file_type": "Q4_K_M",
        "size": 5242880 + 17,
        "context_length": 40960,
        "embedding_length": 4096,
        "block_count": 36,
        "template": QWEN3_TEMPLATE,
        "params": {"repeat_penalty": 1, "stop": ["<|im_start|>", "<|im_end|>"], "temperature": 0.6, "top_k": 20, "top_p": 0.95},
        "license": APACHE_LICENSE,
    },
    {
        "name": "gemma3:4b",
        "architecture": "gemma3",
        "basename": "Gemma-3",
        "size_label": "4B",
        "parameter_count": 4299915632,
        "file_type": "Q4_K_M",
        "size": 4194304 + 301,
        "context_length": 131072,
        "embedding_length": 2560,
        "block_count": 34,
        "vision": True,
        "template": GEMMA3_TEMPLATE,
        "params": {"stop": ["<end_of_turn>"], "temperature": 1, "top_k": 64, "top_p": 0.95},
        "requires": "0.6.0",
        "license": "Gemma Terms of Use\n\n(abridged by the Ollama API simulator)",
    },
    {
        "name": "gpt-oss:120b-cloud",
        "architecture": "gptoss",
        "basename": "gpt-oss",
        "parameter_count": 116829156672,
        "file_type": "MXFP4",
        "context_length": 131072,
        "embedding_length": 2880,
        "remote_host": CLOUD_HOST,
        "remote_model": "gpt-oss:120b",
        "capabilities": ["completion", "tools", "thinking"],
    },
    {
        "name": "gpt-oss:20b-cloud",
        "architecture": "gptoss",
        "basename": "gpt-oss",
        "parameter_count": 20914757184,
        "file_type": "MXFP4",
        "context_length": 131072,
        "embedding_length": 2880,
        "remote_host": CLOUD_HOST,
        "remote_model": "gpt-oss:20b",
        "capabilities": ["completion", "tools", "thinking"],
    },
    {
        "name": "qwen3-coder:480b-cloud",
        "architecture": "qwen3moe",
        "basename": "Qwen3-Coder",
        "parameter_count": 480154875392,
        "file_type": "FP8",
        "context_length": 262144,
        "embedding_length": 6144,
        "remote_host": CLOUD_HOST,
        "remote_model": "qwen3-coder:480b",
        "capabilities": ["completion", "tools"],
    },
]


class CatalogError(ValueError):
    """A catalogue entry or file is not usable."""


def _prng_chunk(seed: bytes, index: int) -> bytes:
    state = int.from_bytes(hashlib.sha256(seed + index.to_bytes(8, "big")).digest()[:16], "big")
    return random.Random(state).randbytes(_CHUNK)


class Blob:
    """The bytes of one layer: a digest, a size and random access to the content."""

    def __init__(self, media_type: str, size: int) -> None:
        self.media_type = media_type
        self.size = size
        self.digest = ""

    def read(self, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def iter_chunks(self, offset: int = 0, chunk: int = _CHUNK):
        while offset < self.size:
            data = self.read(offset, min(chunk, self.size - offset))
            offset += len(data)
            yield data

    def compute_digest(self) -> str:
        hasher = hashlib.sha256()
        for data in self.iter_chunks():
            hasher.update(data)
        self.digest = "sha256:" + hasher.hexdigest()
        return self.digest

    def descriptor(self) -> Dict[str, Any]:
        return {"mediaType": self.media_type, "digest": self.digest, "size": self.size}


class BytesBlob(Blob):
    """A small layer held in memory."""

    def __init__(self, media_type: str, data: bytes) -> None:
        super().__init__(media_type, len(data))
        self.data = data
        self.digest = "sha256:" + hashlib.sha256(data).hexdigest()

    def read(self, offset: int, length: int) -> bytes:
        return self.data[offset : offset + length]


class SyntheticBlob(Blob):
    """A model layer: a GGUF header, then repeatable pseudo-random filler."""

    def __init__(self, media_type: str, header: bytes, size: int, seed: str) -> None:
        super().__init__(media_type, max(size, len(header)))
        self.header = header
        self.seed = hashlib.sha256(seed.encode("utf-8")).digest()
        self._cache_index = -1
        self._cache = b""
        self._lock = threading.Lock()
        self.compute_digest()

    def _chunk(self, index: int) -> bytes:
        with self._lock:
            if index != self._cache_index:
                self._cache = _prng_chunk(self.seed, index)
                self._cache_index = index
            return self._cache

    def read(self, offset: int, length: int) -> bytes:
        end = min(offset + length, self.size)
        out = []
        position = offset
        while position < end:
            if position < len(self.header):
                piece = self.header[position : min(end, len(self.header))]
            else:
                index, within = divmod(position, _CHUNK)
                piece = self._chunk(index)[within : within + (end - position)]
            out.append(piece)
            position += len(piece)
        return b"".join(out)


def is_remote(spec: Dict[str, Any]) -> bool:
    """A cloud model: a config naming the remote host and model, no model layer."""
    return bool(spec.get("remote_host") and spec.get("remote_model"))


def gguf_metadata(spec: Dict[str, Any]) -> Dict[str, Any]:
    """The GGUF key/values of a catalogue (or test) model description."""
    arch = spec.get("architecture", "llama")
    file_type = spec.get("file_type", "Q4_K_M")
    if is_remote(spec):
        return {}
    if file_type not in gguf.FILE_TYPES:
        raise CatalogError("unknown file_type %r" % file_type)
    embedding_length = int(spec.get("embedding_length", 2048))
    metadata: Dict[str, Any] = {
        "general.architecture": arch,
        "general.basename": spec.get("basename", parse_name(spec.get("name", "model")).model),
        "general.file_type": gguf.FILE_TYPES[file_type],
        "general.parameter_count": int(spec.get("parameter_count", 1_000_000_000)),
        "general.quantization_version": 2,
        "general.size_label": spec.get("size_label", gguf.human_number(int(spec.get("parameter_count", 1_000_000_000)))),
        "general.type": spec.get("type", "model"),
        "%s.block_count" % arch: int(spec.get("block_count", 16)),
        "%s.context_length" % arch: int(spec.get("context_length", 4096)),
        "%s.embedding_length" % arch: embedding_length,
        "%s.attention.head_count" % arch: max(1, embedding_length // 64),
        "%s.attention.head_count_kv" % arch: max(1, embedding_length // 256),
        "%s.feed_forward_length" % arch: embedding_length * 4,
        "tokenizer.ggml.model": "bert" if spec.get("embedding") else "gpt2",
    }
    if spec.get("embedding"):
        metadata["%s.pooling_type" % arch] = gguf.Typed(4, 1)
    if spec.get("vision"):
        metadata["%s.vision.block_count" % arch] = 27
        metadata["%s.vision.embedding_length" % arch] = 1152
    metadata.update(spec.get("metadata") or {})
    return metadata


def make_gguf(size: int = 4096, seed: str = "test", **spec: Any) -> bytes:
    """The bytes of a small GGUF model file, e.g. to upload with /api/blobs in a test.

    ``spec`` takes the catalogue keys (architecture, parameter_count, file_type,
    context_length, embedding_length, block_count, embedding, metadata).
    """
    metadata = gguf_metadata(spec)
    blob = SyntheticBlob(MEDIA_MODEL, gguf.build_header(metadata, gguf.model_tensors(metadata)), size, seed)
    return blob.read(0, blob.size)


@dataclass
class BuiltModel:
    """A catalogue model as the registry serves it."""

    name: ModelName
    version: int
    layers: List[Blob]
    config: Blob
    manifest: bytes
    manifest_digest: str

    def blobs(self) -> List[Blob]:
        return [*self.layers, self.config]

    @property
    def total_size(self) -> int:
        return sum(blob.size for blob in self.blobs())


@dataclass
class CatalogEntry:
    """One catalogue model description; built into blobs on first use."""

    spec: Dict[str, Any]
    name: ModelName = field(init=False)
    _built: Optional[BuiltModel] = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.spec.get("name"), str):
            raise CatalogError("a catalogue model needs a name")
        self.name = parse_name(self.spec["name"])
        if not self.name.is_valid():
            raise CatalogError("invalid catalogue model name %r" % self.spec["name"])
        gguf_metadata(self.spec)  # validate early

    @property
    def version(self) -> int:
        return int(self.spec.get("version", 1))

    def build(self) -> BuiltModel:
        if self._built is not None:
            return self._built
        spec = self.spec
        if is_remote(spec):
            return self._build_remote()
        seed = "%s|%d|model" % (self.name.full().lower(), self.version)
        metadata = gguf_metadata(spec)
        header = gguf.build_header(metadata, gguf.model_tensors(metadata))
        layers: List[Blob] = [SyntheticBlob(MEDIA_MODEL, header, int(spec.get("size", 2 * 1024 * 1024)), seed)]
        if spec.get("template"):
            layers.append(BytesBlob(MEDIA_TEMPLATE, spec["template"].encode("utf-8")))
        licenses = spec.get("license") or []
        for text in [licenses] if isinstance(licenses, str) else licenses:
            layers.append(BytesBlob(MEDIA_LICENSE, text.encode("utf-8")))
        if spec.get("params"):
            layers.append(BytesBlob(MEDIA_PARAMS, go_json_line(spec["params"], sort_keys=True)))
        if spec.get("system"):
            layers.append(BytesBlob(MEDIA_SYSTEM, spec["system"].encode("utf-8")))
        arch = metadata["general.architecture"]
        config: Dict[str, Any] = {
            "model_format": "gguf",
            "model_family": arch,
            "model_families": [arch],
            "model_type": gguf.human_number(int(metadata["general.parameter_count"])),
            "file_type": gguf.file_type_name(metadata),
        }
        for key in ("renderer", "parser", "requires"):
            if spec.get(key):
                config[key] = spec[key]
        config.update({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]}})
        return self._finish(layers, config)

    def _build_remote(self) -> BuiltModel:
        """A cloud model's manifest: only a config with remote_host/remote_model (and a template, if any)."""
        spec = self.spec
        arch = spec.get("architecture", "")
        layers: List[Blob] = []
        if spec.get("template"):
            layers.append(BytesBlob(MEDIA_TEMPLATE, spec["template"].encode("utf-8")))
        config: Dict[str, Any] = {
            "model_format": "",
            "model_family": arch,
            "model_families": [arch] if arch else None,
            "model_type": gguf.human_number(int(spec.get("parameter_count", 0))) if spec.get("parameter_count") else "",
            "file_type": spec.get("file_type", ""),
        }
        for key in ("renderer", "parser", "requires"):
            if spec.get(key):
                config[key] = spec[key]
        config["remote_host"] = spec["remote_host"]
        config["remote_model"] = spec["remote_model"]
        if spec.get("capabilities"):
            config["capabilities"] = list(spec["capabilities"])
        if spec.get("context_length"):
            config["context_length"] = int(spec["context_length"])
        if spec.get("embedding_length"):
            config["embedding_length"] = int(spec["embedding_length"])
        if spec.get("basename"):
            config["base_name"] = spec["basename"]
        config.update({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": [layer.digest for layer in layers]}})
        return self._finish(layers, config)

    def _finish(self, layers: List[Blob], config: Dict[str, Any]) -> BuiltModel:
        config_blob = BytesBlob(MEDIA_CONFIG, go_json_line(config))
        manifest = go_json(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": config_blob.descriptor(),
                "layers": [layer.descriptor() for layer in layers],
            }
        )
        self._built = BuiltModel(self.name, self.version, layers, config_blob, manifest, "sha256:" + hashlib.sha256(manifest).hexdigest())
        return self._built

    @property
    def remote(self) -> bool:
        return is_remote(self.spec)


class Catalog:
    """The models the simulated registry offers, looked up case-insensitively."""

    def __init__(self, specs: List[Dict[str, Any]]) -> None:
        self._lock = threading.RLock()
        self._entries: Dict[tuple, CatalogEntry] = {}
        for spec in specs:
            self.add(spec)

    @classmethod
    def load(cls, path: Optional[str]) -> Catalog:
        """The built-in catalogue, or the one in a catalogue file."""
        if not path:
            return cls([dict(spec) for spec in BUILTIN_MODELS])
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if not isinstance(data, dict) or not isinstance(data.get("models"), list):
            raise CatalogError('%s: expected {"models": [...]}' % path)
        specs = [dict(spec) for spec in BUILTIN_MODELS] if data.get("extend") else []
        catalog = cls(specs)
        for spec in data["models"]:
            if not isinstance(spec, dict):
                raise CatalogError("%s: every model must be an object" % path)
            catalog.add(spec)
        return catalog

    def add(self, spec: Dict[str, Any]) -> CatalogEntry:
        entry = CatalogEntry(dict(spec))
        with self._lock:
            self._entries[entry.name.key] = entry
        return entry

    def remove(self, name: str) -> bool:
        with self._lock:
            return self._entries.pop(parse_name(name).key, None) is not None

    def set_version(self, name: str, version: int) -> CatalogEntry:
        with self._lock:
            entry = self._entries.get(parse_name(name).key)
            if entry is None:
                raise KeyError(name)
            spec = dict(entry.spec)
            spec["version"] = int(version)
            return self.add(spec)

    def lookup(self, name: ModelName) -> Optional[BuiltModel]:
        with self._lock:
            entry = self._entries.get(name.key)
        return entry.build() if entry else None

    def lookup_repository(self, repository: str, tag: str) -> Optional[BuiltModel]:
        """A model by registry path ``namespace/model`` and tag, on any host."""
        wanted = (repository.lower(), tag.lower())
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            if (entry.name.repository().lower(), entry.name.tag.lower()) == wanted:
                return entry.build()
        return None

    def remote(self, base: str) -> Optional[CatalogEntry]:
        """The cloud model ollama.com serves as ``base`` (``gpt-oss:120b``): the entry whose remote_model it is."""
        wanted = parse_name(base).key
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            if entry.remote and parse_name(str(entry.spec["remote_model"])).key == wanted:
                return entry
        return None

    def find_blob(self, repository: str, digest: str) -> Optional[Blob]:
        with self._lock:
            entries = list(self._entries.values())
        for entry in entries:
            if entry.name.repository().lower() != repository.lower():
                continue
            for blob in entry.build().blobs():
                if blob.digest == digest:
                    return blob
        return None

    def describe(self) -> List[Dict[str, Any]]:
        with self._lock:
            entries = list(self._entries.values())
        out = []
        for entry in entries:
            built = entry.build()
            out.append(
                {
                    "name": entry.name.display(),
                    "version": entry.version,
                    "manifest_digest": built.manifest_digest,
                    "digest": built.manifest_digest.split(":", 1)[1],
                    "size": built.total_size,
                    "remote": entry.remote,
                    "layers": [blob.descriptor() for blob in built.blobs()],
                }
            )
        return out
