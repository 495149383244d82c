# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Local models: reading them back (show, tags) and making new ones (create).

Follows server/images.go (GetModel, Model.String), server/routes.go (GetModelInfo,
ListHandler) and server/create.go (createModel, setTemplate, setSystem, setParameters,
setMessages) of Ollama.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional

from . import gguf
from .catalog import (
    MEDIA_ADAPTER,
    MEDIA_CONFIG,
    MEDIA_LICENSE,
    MEDIA_MANIFEST,
    MEDIA_MESSAGES,
    MEDIA_MODEL,
    MEDIA_PARAMS,
    MEDIA_PROJECTOR,
    MEDIA_SYSTEM,
    MEDIA_TEMPLATE,
    SyntheticBlob,
)
from .errors import ApiError
from .godata import go_json_line, go_time, go_value
from .names import ModelName
from .store import DiskFull, InvalidDigest, Manifest, Store

DEFAULT_TEMPLATE = "{{ .Prompt }}"
# ggml.ParseFileType: what /api/create's quantize takes (Q4_K is Q4_K_M)
QUANTIZE_TYPES = {"F32": "F32", "F16": "F16", "BF16": "BF16", "Q8_0": "Q8_0", "Q4_K_S": "Q4_K_S", "Q4_K_M": "Q4_K_M", "Q4_K": "Q4_K_M"}
_CONFIG_ORDER = (
    "model_format",
    "model_family",
    "model_families",
    "model_type",
    "file_type",
    "renderer",
    "parser",
    "requires",
    "remote_host",
    "remote_model",
    "capabilities",
    "context_length",
    "embedding_length",
    "base_name",
    "architecture",
    "os",
)
# model.ConfigV2 (types/model/config.go): the fields without omitempty; no rootfs (createConfigLayer writes none)
_CONFIG_ALWAYS = ("model_format", "model_family", "model_families", "model_type", "file_type", "architecture", "os")


def modelfile_quote(text: str) -> str:
    """parser.quote: wrap values with newlines or edge spaces."""
    if "\n" in text or text.startswith(" ") or text.endswith(" "):
        if '"' in text:
            return '"""' + text + '"""'
        return '"' + text + '"'
    return text


def _read_gguf(path: Path, parse: Any) -> Any:
    """Parse the start of a GGUF blob: 64 KiB first, up to 4 MiB when the header is longer."""
    size = 1 << 16
    while True:
        with open(path, "rb") as handle:
            head = handle.read(size)
        try:
            return parse(head)
        except gguf.GGUFError as exc:
            if str(exc) != "unexpected EOF" or len(head) < size or size >= 1 << 22:
                raise
            size *= 4


def read_metadata(path: Path) -> Dict[str, Any]:
    """The GGUF key/values at the start of a model blob ({} when unreadable)."""
    try:
        return _read_gguf(path, lambda head: gguf.read_header(head)[0])
    except (OSError, gguf.GGUFError):
        return {}


def read_tensors(path: Path) -> List[Dict[str, Any]]:
    """The tensor infos of a model blob ([] when unreadable)."""
    try:
        return _read_gguf(path, gguf.read_tensors)
    except (OSError, gguf.GGUFError):
        return []


def _append(caps: List[str], cap: str) -> None:
    if cap not in caps:
        caps.append(cap)


def template_capabilities(template: str) -> List[str]:
    """goTemplateCapabilities: tools and insert from the template's variables, thinking from its tags."""
    caps: List[str] = []
    if re.search(r"\.Tools\b", template):
        caps.append("tools")
    if re.search(r"\.Suffix\b", template):
        caps.append("insert")
    if ("<think>" in template and "</think>" in template) or re.search(r"\.Think(ing)?\b", template):
        caps.append("thinking")
    return caps


@dataclass
class LocalModel:
    """A model in the store, with its layers read (GetModel)."""

    manifest: Manifest
    config: Dict[str, Any]
    model_path: Optional[Path] = None
    model_digest: str = ""
    parent_model: str = ""
    adapters: List[Path] = field(default_factory=list)
    template: str = DEFAULT_TEMPLATE
    system: str = ""
    params: Dict[str, Any] = field(default_factory=dict)
    licenses: List[str] = field(default_factory=list)
    messages: List[Dict[str, Any]] = field(default_factory=list)
    metadata: Dict[str, Any] = field(default_factory=dict)
    projectors: List[Path] = field(default_factory=list)

    @property
    def name(self) -> ModelName:
        return self.manifest.name

    @property
    def architecture(self) -> str:
        return str(self.metadata.get("general.architecture") or self.config.get("model_family") or "")

    def kv(self, suffix: str, default: int = 0) -> int:
        value = self.metadata.get("%s.%s" % (self.architecture, suffix))
        return int(value) if isinstance(value, (int, float)) else default

    @property
    def remote_host(self) -> str:
        return str(self.config.get("remote_host") or "")

    @property
    def remote_model(self) -> str:
        return str(self.config.get("remote_model") or "")

    @property
    def remote(self) -> bool:
        """A cloud model (Config.RemoteHost and RemoteModel set): inference runs remotely."""
        return bool(self.remote_host and self.remote_model)

    def capabilities(self) -> List[str]:
        """Model.Capabilities (/api/show): config, GGUF, projector, template, model family."""
        caps: List[str] = []
        for cap in self.config.get("capabilities") or []:
            _append(caps, str(cap))
        if self.model_path is not None and self.metadata:
            _append(caps, "embedding" if "%s.pooling_type" % self.architecture in self.metadata else "completion")
            if "%s.vision.block_count" % self.architecture in self.metadata:
                _append(caps, "vision")
        if self.projectors:
            _append(caps, "vision")
        for cap in template_capabilities(self.template):
            _append(caps, cap)
        if self.config.get("model_family") in ("gptoss", "gpt-oss"):
            _append(caps, "thinking")
        return caps

    def list_capabilities(self) -> List[str]:
        """buildModelListSummary (/api/tags): GGUF keys in file order, config, template, family, projector."""
        caps: List[str] = []
        if not self.remote and self.model_path is not None and self.metadata:
            if "%s.vision.block_count" % self.architecture in self.metadata:
                caps.append("vision")
            _append(caps, "embedding" if "%s.pooling_type" % self.architecture in self.metadata else "completion")
        for cap in self.config.get("capabilities") or []:
            _append(caps, str(cap))
        for cap in template_capabilities(self.template):
            if cap != "thinking":
                _append(caps, cap)
        if "thinking" in template_capabilities(self.template) or self.config.get("model_family") in ("gptoss", "gpt-oss"):
            _append(caps, "thinking")
        if self.projectors:
            _append(caps, "vision")
        return caps

    def tensors(self) -> List[Dict[str, Any]]:
        return read_tensors(self.model_path) if self.model_path is not None else []

    def details(self, with_parent: bool = True) -> Dict[str, Any]:
        return {
            "parent_model": self.parent_model if with_parent else "",
            "format": self.config.get("model_format", ""),
            "family": self.config.get("model_family", ""),
            "families": self.config.get("model_families"),
            "parameter_size": self.config.get("model_type", ""),
            "quantization_level": self.config.get("file_type", ""),
        }

    def modelfile(self, system: Optional[str] = None) -> str:
        """``ollama show --modelfile``."""
        lines = [
            '# Modelfile generated by "ollama show"',
            "# To build a new Modelfile based on this, replace FROM with:",
            "# FROM %s" % self.name.display(),
            "",
        ]
        lines.append("FROM %s" % (self.model_path if self.model_path is not None else ""))
        lines.extend("ADAPTER %s" % modelfile_quote(str(path)) for path in self.adapters)
        lines.append("TEMPLATE %s" % modelfile_quote(self.template))
        system = self.system if system is None else system
        if system:
            lines.append("SYSTEM %s" % modelfile_quote(system))
        if self.config.get("renderer"):
            lines.append("RENDERER %s" % modelfile_quote(str(self.config["renderer"])))
        if self.config.get("parser"):
            lines.append("PARSER %s" % modelfile_quote(str(self.config["parser"])))
        for key in sorted(self.params):
            value = self.params[key]
            for item in value if isinstance(value, list) else [value]:
                lines.append("PARAMETER %s %s" % (key, modelfile_quote(go_value(item))))
        lines.extend("LICENSE %s" % modelfile_quote(text) for text in self.licenses)
        lines.extend("MESSAGE %s %s" % (msg.get("role", ""), modelfile_quote(str(msg.get("content", "")))) for msg in self.messages)
        return "\n".join(lines) + "\n"

    def parameters_text(self) -> str:
        lines = []
        for key in sorted(self.params):
            value = self.params[key]
            for item in value if isinstance(value, list) else [value]:
                lines.append("%-30s %s" % (key, go_value(item, sharp=True)))
        return "\n".join(lines)

    def model_info(self, verbose: bool = False) -> Dict[str, Any]:
        info = {}
        for key, value in self.metadata.items():
            if key in ("general.name", "tokenizer.chat_template"):
                continue
            info[key] = [] if isinstance(value, list) and len(value) > 5 and not verbose else value
        return info


def load_model(store: Store, name: ModelName, manifest: Optional[Manifest] = None) -> Optional[LocalModel]:
    """The stored model of that name (any case), or None."""
    manifest = manifest or store.read_manifest(name)
    if manifest is None:
        return None
    config: Dict[str, Any] = {}
    digest = manifest.config.get("digest")
    if digest:
        try:
            config = json.loads(store.read_blob(digest))
        except (OSError, ValueError, InvalidDigest):
            config = {}
    model = LocalModel(manifest=manifest, config=config)
    for layer in manifest.layers:
        media, digest = layer.get("mediaType"), layer.get("digest", "")
        try:
            path = store.blob_path(digest)
        except InvalidDigest:
            continue
        if media == MEDIA_MODEL:
            model.model_path = path
            model.model_digest = digest
            model.parent_model = layer.get("from", "")
            model.metadata = read_metadata(path)
            continue
        if media == MEDIA_ADAPTER:
            model.adapters.append(path)
            continue
        if media == MEDIA_PROJECTOR:
            model.projectors.append(path)
            continue
        try:
            data = path.read_bytes()
        except OSError:
            continue
        if media == MEDIA_TEMPLATE:
            model.template = data.decode("utf-8", errors="replace")
        elif media == MEDIA_SYSTEM:
            model.system = data.decode("utf-8", errors="replace")
        elif media == MEDIA_LICENSE:
            model.licenses.append(data.decode("utf-8", errors="replace"))
        elif media == MEDIA_PARAMS:
            try:
                model.params = dict(json.loads(data))
            except (ValueError, TypeError):
                model.params = {}
        elif media == MEDIA_MESSAGES:
            try:
                model.messages = list(json.loads(data))
            except (ValueError, TypeError):
                model.messages = []
    return model


def tags_entry(store: Store, manifest: Manifest) -> Optional[Dict[str, Any]]:
    """One model of ``GET /api/tags`` (None when its config cannot be read, as Ollama skips it).

    buildModelListSummary: details from the config, then context and embedding length and the
    quantization from the GGUF header (local models only); parent_model is the model layer's
    ``from``; capabilities as :meth:`LocalModel.list_capabilities`.
    """
    digest = manifest.config.get("digest")
    if digest:
        try:
            json.loads(store.read_blob(digest))
        except (OSError, ValueError, InvalidDigest):
            return None
    model = load_model(store, manifest.name, manifest)
    if model is None:
        return None
    config = model.config
    display = manifest.name.display()
    entry: Dict[str, Any] = {"name": display, "model": display}
    if model.remote_model:
        entry["remote_model"] = model.remote_model
    if model.remote_host:
        entry["remote_host"] = model.remote_host
    details: Dict[str, Any] = {
        "parent_model": model.parent_model,
        "format": config.get("model_format", ""),
        "family": config.get("model_family", ""),
        "families": config.get("model_families"),
        "parameter_size": config.get("model_type", ""),
        "quantization_level": config.get("file_type", ""),
    }
    context = int(config.get("context_length") or 0)
    embedding_length = int(config.get("embedding_length") or 0)
    if not model.remote and model.metadata:
        context = context or model.kv("context_length", 0)
        embedding_length = embedding_length or model.kv("embedding_length", 0)
        if details["quantization_level"] in ("", "unknown"):
            details["quantization_level"] = gguf.file_type_name(model.metadata)
    if context:
        details["context_length"] = context
    if embedding_length:
        details["embedding_length"] = embedding_length
    entry.update({"modified_at": go_time(manifest.mtime_ns), "size": manifest.size, "digest": manifest.digest, "details": details})
    caps = model.list_capabilities()
    if caps:
        entry["capabilities"] = caps
    return entry


def ordered_config(config: Dict[str, Any]) -> Dict[str, Any]:
    """A ConfigV2 with Go's field order and omitempty rules."""
    out = {}
    for key in _CONFIG_ORDER:
        if key in config and (key in _CONFIG_ALWAYS or config[key]):
            out[key] = config[key]
        elif key in _CONFIG_ALWAYS:
            out[key] = "" if key != "model_families" else None
    return out


# ------------------------------------------------------------------------------ create
@dataclass
class NewLayer:
    media_type: str
    digest: str
    size: int
    source: str = ""
    status: str = ""
    rewrite: bool = False  # layerGGML.rewriteForCreate: read from the request's files (or converted from them)

    def descriptor(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {"mediaType": self.media_type, "digest": self.digest, "size": self.size}
        if self.source:
            out["from"] = self.source
        return out


class Creator:
    """The layers of a model being created, in Ollama's order."""

    def __init__(self, store: Store, disk_full: bool) -> None:
        self.store = store
        self.disk_full = disk_full
        self.layers: List[NewLayer] = []
        self.config: Dict[str, Any] = {}

    def existing(self, media_type: str, digest: str, source: str) -> NewLayer:
        """NewLayerFromLayer: reuse a blob already in the store."""
        try:
            size = self.store.blob_size(digest)
        except InvalidDigest as exc:
            raise ApiError(400, str(exc)) from None
        except OSError:
            raise ApiError(500, "stat %s: no such file or directory" % self.store.blob_path(digest)) from None
        return NewLayer(media_type, digest, size, source, "using existing layer %s" % digest)

    def new(self, media_type: str, data: bytes) -> NewLayer:
        """NewLayer: store new bytes (creating new layer / using existing layer)."""
        try:
            digest, created = self.store.write_blob(data, disk_full=self.disk_full)
        except DiskFull as exc:
            raise ApiError(500, exc.message) from None
        status = "%s %s" % ("creating new layer" if created else "using existing layer", digest)
        return NewLayer(media_type, digest, len(data), "", status)

    def replace(self, media_type: str, layer: Optional[NewLayer]) -> None:
        self.layers = [existing for existing in self.layers if existing.media_type != media_type]
        if layer is not None:
            self.layers.append(layer)

    def model_layer(self) -> Optional[NewLayer]:
        for layer in self.layers:
            if layer.media_type == MEDIA_MODEL:
                return layer
        return None

    def rewrite_files_layer(self, rate: float, sleep: Callable[[float], None]) -> Iterator[Dict[str, Any]]:
        """llama-quantize's COPY of a GGUF given in ``files`` (server/create.go createModel,
        copyLayerWithLlamaQuantize, rewriteLayerWithLlamaQuantize; Ollama >= 0.30, #16031).

        The model layer made from a file is validated by loading it as llama.cpp does
        (:func:`llama_load_error`) and written anew: ``validating GGUF model`` progress, then
        ``verifying conversion``, then silence while the whole output is hashed and copied
        (manifest.NewLayer; ``size / rate`` seconds here), and a new layer with a new digest and
        no ``from`` (so /api/show's parent_model is ""). A file it cannot load fails with
        ``failed to validate GGUF with llama-quantize without compatibility patches: ...``.
        """
        layer = self.model_layer()
        if layer is None or not layer.rewrite:
            return
        path = self.store.blob_path(layer.digest)
        problem = llama_load_error(path)
        if problem:
            raise ApiError(500, "failed to validate GGUF with llama-quantize without compatibility patches: %s" % problem)
        for step in range(1, 5):
            yield {"status": "validating GGUF model", "digest": "0000000000000000000", "total": layer.size, "completed": layer.size * step // 4}
        yield {"status": "verifying conversion"}
        if rate > 0:
            sleep(layer.size / rate)
        try:
            digest, size, created = self.store.write_blob_rewritten(layer.digest, b"\0" * 32, disk_full=self.disk_full)
        except DiskFull as exc:
            raise ApiError(500, exc.message) from None
        status = "%s %s" % ("creating new layer" if created else "using existing layer", digest)
        index = self.layers.index(layer)
        self.layers[index] = NewLayer(MEDIA_MODEL, digest, size, "", status)

    def quantize(self, want_text: str) -> Iterator[Dict[str, Any]]:
        """Quantize an F16/BF16/F32 model layer (createModel, ggml.ParseFileType, quantizeLayer)."""
        want = QUANTIZE_TYPES.get(want_text.upper())
        if want is None:
            raise ApiError(500, "unsupported quantization type %s - supported types are F32, F16, Q4_K_S, Q4_K_M, Q8_0" % want_text.upper())
        layer = self.model_layer()
        if layer is None:
            return
        metadata = read_metadata(self.store.blob_path(layer.digest))
        current = gguf.file_type_name(metadata)
        if current not in ("F16", "BF16", "F32"):
            raise ApiError(500, "quantization is only supported for F16, BF16 and F32 models")
        if current == want:
            return
        status = "quantizing %s model to %s" % (current, want_text.upper())
        for step in range(1, 5):
            yield {"status": status, "digest": "0000000000000000000", "total": layer.size, "completed": layer.size * step // 4}
        metadata["general.file_type"] = gguf.FILE_TYPES[want]
        size = max(4096, int(layer.size * gguf.BITS_PER_WEIGHT.get(want, 8.0) / gguf.BITS_PER_WEIGHT[current]))
        blob = SyntheticBlob(MEDIA_MODEL, gguf.build_header(metadata, gguf.model_tensors(metadata)), size, "%s|%s" % (layer.digest, want))
        yield {"status": "verifying conversion"}
        self.replace(MEDIA_MODEL, None)
        self.layers.insert(0, self.new(MEDIA_MODEL, blob.read(0, blob.size)))
        self.config["file_type"] = want

    def manifest(self) -> bytes:
        """Write the config blob; return the manifest bytes (json.Encoder: newline-terminated)."""
        config = dict(self.config)
        config["architecture"] = config.get("architecture") or "amd64"
        config["os"] = config.get("os") or "linux"
        # model.ConfigV2 has no rootfs (types/model/config.go): createConfigLayer writes none
        config_layer = self.new(MEDIA_CONFIG, go_json_line(ordered_config(config)))
        return go_json_line(
            {
                "schemaVersion": 2,
                "mediaType": MEDIA_MANIFEST,
                "config": config_layer.descriptor(),
                "layers": [layer.descriptor() for layer in self.layers],
            }
        )


# llama.cpp's model loader (src/llama-arch.cpp LLM_ARCH_NAMES), the architectures the simulator's
# catalogue and converter produce: a GGUF naming another cannot be loaded
LLAMA_ARCHITECTURES = frozenset(
    (
        "llama", "qwen2", "qwen3", "qwen3moe", "gemma", "gemma2", "gemma3", "phi3", "mistral", "bert", "nomic-bert",
        "nomic-bert-moe", "jina-bert-v2", "xlm-roberta", "gte", "e5", "gptoss", "gpt-oss", "deepseek2", "smollm", "granite",
    )
)  # fmt: skip


def llama_load_error(path: Path) -> str:
    """Why llama.cpp could not load a GGUF file, as its loader says it ('' when it can).

    What "cannot load" means here, read from the header alone: no ``general.architecture``
    (``key not found in model: general.architecture``), an architecture llama.cpp does not know
    (``unknown model architecture: 'x'``), or no tensors (``model has no tensors``).
    """
    metadata = read_metadata(path)
    if not metadata:
        return "invalid GGUF header"
    arch = metadata.get("general.architecture")
    if not isinstance(arch, str) or not arch:
        return "error loading model architecture: key not found in model: general.architecture"
    if arch not in LLAMA_ARCHITECTURES:
        return "error loading model architecture: unknown model architecture: '%s'" % arch
    if not read_tensors(path):
        return "model has no tensors"
    return ""


def config_from_metadata(metadata: Dict[str, Any]) -> Dict[str, Any]:
    arch = str(metadata.get("general.architecture", ""))
    return {
        "model_format": "gguf",
        "model_family": arch,
        "model_families": [arch] if arch else None,
        "model_type": gguf.human_number(int(metadata.get("general.parameter_count", 0) or 0)),
        "file_type": gguf.file_type_name(metadata),
    }
