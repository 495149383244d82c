# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""A minimal GGUF (version 3) header writer and reader.

The simulator's model blobs start with a real GGUF header whose key/value metadata
(architecture, file type, parameter count, context length...) is what ``/api/show``
reports as ``model_info`` and what ``/api/create`` reads from uploaded files. The header
also lists tensor infos (name, shape, ggml type, offset) as ``/api/show`` reports them in
``tensors``; the tensor data itself is not there: the rest of a blob is filler.
"""

from __future__ import annotations

import struct
from typing import Any, Dict, List, Optional, Tuple

MAGIC = b"GGUF"

# gguf value types
_UINT8, _INT8, _UINT16, _INT16, _UINT32, _INT32, _FLOAT32, _BOOL, _STRING, _ARRAY, _UINT64, _INT64, _FLOAT64 = range(13)
_SCALARS = {
    _UINT8: "<B",
    _INT8: "<b",
    _UINT16: "<H",
    _INT16: "<h",
    _UINT32: "<I",
    _INT32: "<i",
    _FLOAT32: "<f",
    _BOOL: "<?",
    _UINT64: "<Q",
    _INT64: "<q",
    _FLOAT64: "<d",
}

# ggml file types, as named by Ollama (fs/ggml FileType.String)
FILE_TYPES = {
    "F32": 0,
    "F16": 1,
    "Q4_0": 2,
    "Q4_1": 3,
    "Q8_0": 7,
    "Q5_0": 8,
    "Q5_1": 9,
    "Q2_K": 10,
    "Q3_K_S": 11,
    "Q3_K_M": 12,
    "Q3_K_L": 13,
    "Q4_K_S": 14,
    "Q4_K_M": 15,
    "Q5_K_S": 16,
    "Q5_K_M": 17,
    "Q6_K": 18,
    "BF16": 32,
}
FILE_TYPE_NAMES = {number: name for name, number in FILE_TYPES.items()}
# bits per weight, to size a quantized copy of a model
BITS_PER_WEIGHT = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.6,
    "Q5_K_M": 5.7,
    "Q5_K_S": 5.5,
    "Q5_1": 6.0,
    "Q5_0": 5.5,
    "Q4_K_M": 4.9,
    "Q4_K_S": 4.6,
    "Q4_1": 5.0,
    "Q4_0": 4.5,
    "Q3_K_L": 4.3,
    "Q3_K_M": 3.9,
    "Q3_K_S": 3.5,
    "Q2_K": 3.4,
}

# ggml tensor types (fs/ggml TensorType.String)
TENSOR_TYPES = {
    "F32": 0,
    "F16": 1,
    "Q4_0": 2,
    "Q4_1": 3,
    "Q5_0": 6,
    "Q5_1": 7,
    "Q8_0": 8,
    "Q2_K": 10,
    "Q3_K": 11,
    "Q4_K": 12,
    "Q5_K": 13,
    "Q6_K": 14,
    "BF16": 30,
}
TENSOR_TYPE_NAMES = {number: name for name, number in TENSOR_TYPES.items()}
# the tensor type most weights of a file type use
FILE_TYPE_TENSOR = {
    "F32": "F32",
    "F16": "F16",
    "BF16": "BF16",
    "Q4_0": "Q4_0",
    "Q4_1": "Q4_1",
    "Q8_0": "Q8_0",
    "Q5_0": "Q5_0",
    "Q5_1": "Q5_1",
    "Q2_K": "Q2_K",
    "Q3_K_S": "Q3_K",
    "Q3_K_M": "Q3_K",
    "Q3_K_L": "Q3_K",
    "Q4_K_S": "Q4_K",
    "Q4_K_M": "Q4_K",
    "Q5_K_S": "Q5_K",
    "Q5_K_M": "Q5_K",
    "Q6_K": "Q6_K",
}

# keys whose integer values are written as uint64 rather than uint32
_UINT64_KEYS = ("general.parameter_count",)


class GGUFError(ValueError):
    """The bytes are not a GGUF header this reader understands."""


class Typed:
    """A value with an explicit gguf type (for writing)."""

    def __init__(self, kind: int, value: Any) -> None:
        self.kind = kind
        self.value = value


def _string(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack("<Q", len(data)) + data


def _value_type(key: str, value: Any) -> int:
    if isinstance(value, Typed):
        return value.kind
    if isinstance(value, bool):
        return _BOOL
    if isinstance(value, int):
        return _UINT64 if key in _UINT64_KEYS or value >= 2**32 else _UINT32
    if isinstance(value, float):
        return _FLOAT32
    if isinstance(value, str):
        return _STRING
    if isinstance(value, (list, tuple)):
        return _ARRAY
    raise GGUFError("cannot encode %r for %s" % (value, key))


def _encode(kind: int, value: Any, key: str) -> bytes:
    if isinstance(value, Typed):
        value = value.value
    if kind == _STRING:
        return _string(value)
    if kind == _ARRAY:
        items = list(value)
        item_kind = _value_type(key, items[0]) if items else _STRING
        return struct.pack("<IQ", item_kind, len(items)) + b"".join(_encode(item_kind, item, key) for item in items)
    return struct.pack(_SCALARS[kind], value)


def build_header(metadata: Dict[str, Any], tensors: Optional[List[Tuple[str, List[int], str]]] = None) -> bytes:
    """A GGUF v3 header with these key/values and tensor infos ``(name, shape, ggml type name)``."""
    tensors = list(tensors or [])
    out = [MAGIC, struct.pack("<IQQ", 3, len(tensors), len(metadata))]
    for key, value in metadata.items():
        kind = _value_type(key, value)
        out.append(_string(key) + struct.pack("<I", kind) + _encode(kind, value, key))
    offset = 0
    for name, shape, type_name in tensors:
        out.append(_string(name) + struct.pack("<I", len(shape)) + b"".join(struct.pack("<Q", dim) for dim in shape))
        out.append(struct.pack("<IQ", TENSOR_TYPES[type_name], offset))
        count = 1
        for dim in shape:
            count *= dim
        offset += (count * 2 + 31) // 32 * 32
    return b"".join(out)


def model_tensors(metadata: Dict[str, Any], limit_blocks: int = 2) -> List[Tuple[str, List[int], str]]:
    """A plausible tensor list for a model (the first ``limit_blocks`` blocks of a llama-like layout)."""
    arch = str(metadata.get("general.architecture", "llama"))
    embedding = int(metadata.get("%s.embedding_length" % arch, 2048) or 2048)
    feed_forward = int(metadata.get("%s.feed_forward_length" % arch, embedding * 4) or embedding * 4)
    heads_kv = int(metadata.get("%s.attention.head_count_kv" % arch, 8) or 8)
    heads = int(metadata.get("%s.attention.head_count" % arch, 32) or 32)
    kv = max(1, embedding * heads_kv // max(heads, 1))
    blocks = min(int(metadata.get("%s.block_count" % arch, 1) or 1), limit_blocks)
    weight = FILE_TYPE_TENSOR.get(file_type_name(metadata), "F16")
    tensors: List[Tuple[str, List[int], str]] = [("token_embd.weight", [embedding, 32000], weight)]
    for block in range(blocks):
        prefix = "blk.%d." % block
        tensors += [
            (prefix + "attn_norm.weight", [embedding], "F32"),
            (prefix + "attn_q.weight", [embedding, embedding], weight),
            (prefix + "attn_k.weight", [embedding, kv], weight),
            (prefix + "attn_v.weight", [embedding, kv], weight),
            (prefix + "attn_output.weight", [embedding, embedding], weight),
            (prefix + "ffn_norm.weight", [embedding], "F32"),
            (prefix + "ffn_up.weight", [embedding, feed_forward], weight),
            (prefix + "ffn_down.weight", [feed_forward, embedding], "Q6_K" if weight == "Q4_K" else weight),
        ]
    tensors.append(("output_norm.weight", [embedding], "F32"))
    return tensors


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise GGUFError("unexpected EOF")
        chunk = self.data[self.pos : self.pos + size]
        self.pos += size
        return chunk

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        return self.take(self.unpack("<Q")).decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            item_kind = self.unpack("<I")
            count = self.unpack("<Q")
            return [self.value(item_kind) for _index in range(count)]
        if kind not in _SCALARS:
            raise GGUFError("invalid gguf value type %d" % kind)
        return self.unpack(_SCALARS[kind])


def read_header(data: bytes) -> Tuple[Dict[str, Any], int]:
    """The key/value metadata of a GGUF header and the header's length in bytes."""
    if data[:4] != MAGIC:
        raise GGUFError("invalid file magic")
    reader = _Reader(data)
    reader.take(4)
    version = reader.unpack("<I")
    if version not in (2, 3):
        raise GGUFError("unsupported gguf version %d" % version)
    reader.unpack("<Q")  # tensor count
    count = reader.unpack("<Q")
    metadata: Dict[str, Any] = {}
    for _index in range(count):
        key = reader.string()
        metadata[key] = reader.value(reader.unpack("<I"))
    return metadata, reader.pos


def read_tensors(data: bytes) -> List[Dict[str, Any]]:
    """The tensor infos of a GGUF header as ``/api/show`` lists them: ``{name, type, shape}``."""
    _metadata, position = read_header(data)
    reader = _Reader(data)
    reader.take(8)
    count = reader.unpack("<Q")
    reader.pos = position
    tensors = []
    for _index in range(count):
        name = reader.string()
        dims = reader.unpack("<I")
        shape = [reader.unpack("<Q") for _dim in range(dims)]
        kind = reader.unpack("<I")
        reader.unpack("<Q")
        tensors.append({"name": name, "type": TENSOR_TYPE_NAMES.get(kind, "unknown"), "shape": shape})
    return tensors


def file_type_name(metadata: Dict[str, Any]) -> str:
    """Ollama's name of the general.file_type (``Q4_K_M``), ``unknown`` if absent."""
    number = metadata.get("general.file_type")
    if number is None:
        return "unknown"
    return FILE_TYPE_NAMES.get(int(number), "unknown")


def human_number(count: int) -> str:
    """format.HumanNumber: 1.2B, 494.03M, 23M, 137K."""
    if count >= 1_000_000_000:
        number = count / 1_000_000_000
        return "%.0fB" % number if number == int(number) else "%.1fB" % number
    if count >= 1_000_000:
        number = count / 1_000_000
        return "%.0fM" % number if number == int(number) else "%.2fM" % number
    if count >= 1_000:
        return "%.0fK" % (count / 1_000)
    return str(count)
