# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Unit tests for plugins/module_utils/_names.py (Ollama model names and digests)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import (
    DEFAULT_HOST,
    InvalidDigest,
    InvalidModelName,
    ModelName,
    describe_char,
    normalize_digest,
    parse_name,
)

HF = "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF"

# input, full, display, scheme
VALID = [
    ("llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest", None),
    ("llama3.2:1b", "registry.ollama.ai/library/llama3.2:1b", "llama3.2:1b", None),
    ("llama3.2:latest", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest", None),
    ("qwen2.5-coder:7b-instruct-q4_K_M", "registry.ollama.ai/library/qwen2.5-coder:7b-instruct-q4_K_M", "qwen2.5-coder:7b-instruct-q4_K_M", None),
    ("Llama3.2", "registry.ollama.ai/library/Llama3.2:latest", "Llama3.2:latest", None),
    ("_private", "registry.ollama.ai/library/_private:latest", "_private:latest", None),
    ("0", "registry.ollama.ai/library/0:latest", "0:latest", None),
    ("myuser/mymodel", "registry.ollama.ai/myuser/mymodel:latest", "myuser/mymodel:latest", None),
    ("my-user_1/my.model:v1.0", "registry.ollama.ai/my-user_1/my.model:v1.0", "my-user_1/my.model:v1.0", None),
    ("library/llama3.2", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest", None),
    ("registry.ollama.ai/library/llama3.2:latest", "registry.ollama.ai/library/llama3.2:latest", "llama3.2:latest", None),
    ("Registry.Ollama.AI/Library/llama3.2", "Registry.Ollama.AI/Library/llama3.2:latest", "llama3.2:latest", None),
    ("registry.ollama.ai/myuser/m", "registry.ollama.ai/myuser/m:latest", "myuser/m:latest", None),
    (HF + ":Q4_K_M", HF + ":Q4_K_M", HF + ":Q4_K_M", None),
    (HF, HF + ":latest", HF + ":latest", None),
    ("hf.co/unsloth/gemma-3-4b-it-GGUF:IQ4_XS", "hf.co/unsloth/gemma-3-4b-it-GGUF:IQ4_XS", "hf.co/unsloth/gemma-3-4b-it-GGUF:IQ4_XS", None),
    ("localhost:5000/team/model", "localhost:5000/team/model:latest", "localhost:5000/team/model:latest", None),
    ("localhost:5000/team/model:v2", "localhost:5000/team/model:v2", "localhost:5000/team/model:v2", None),
    ("10.0.0.5:5000/library/llama3", "10.0.0.5:5000/library/llama3:latest", "10.0.0.5:5000/library/llama3:latest", None),
    ("https://hf.co/bartowski/m:Q8_0", "hf.co/bartowski/m:Q8_0", "hf.co/bartowski/m:Q8_0", "https"),
    ("http://localhost:5000/team/model", "localhost:5000/team/model:latest", "localhost:5000/team/model:latest", "http"),
    ("HTTPS://registry.ollama.ai/library/x", "registry.ollama.ai/library/x:latest", "x:latest", "https"),
    ("a" * 80 + ":" + "t" * 80, "registry.ollama.ai/library/" + "a" * 80 + ":" + "t" * 80, "a" * 80 + ":" + "t" * 80, None),
    ("h" * 350 + "/" + "n" * 80 + "/m", "h" * 350 + "/" + "n" * 80 + "/m:latest", "h" * 350 + "/" + "n" * 80 + "/m:latest", None),
    ("m.1:v.1", "registry.ollama.ai/library/m.1:v.1", "m.1:v.1", None),
]


@pytest.mark.parametrize(("text", "full", "display", "scheme"), VALID, ids=[v[0][:40] for v in VALID])
def test_parse_valid(text, full, display, scheme):
    name = parse_name(text)
    assert name.full == full
    assert name.display == display
    assert name.scheme == scheme
    assert name.key == full.lower()
    # The display form parses back to the same model.
    assert parse_name(display) == name


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        ("llama3.2", ("registry.ollama.ai", "library", "llama3.2", "latest")),
        ("u/m:t", ("registry.ollama.ai", "u", "m", "t")),
        ("localhost:5000/ns/m", ("localhost:5000", "ns", "m", "latest")),
        ("localhost:5000/ns/m:7b", ("localhost:5000", "ns", "m", "7b")),
        (HF + ":Q4_K_M", ("hf.co", "bartowski", "Llama-3.2-1B-Instruct-GGUF", "Q4_K_M")),
    ],
)
def test_parts(text, parts):
    name = parse_name(text)
    assert (name.host, name.namespace, name.model, name.tag) == parts


@pytest.mark.parametrize(
    ("text", "registry_path"),
    [
        ("llama3.2", "library/llama3.2"),
        ("llama3.2:1b", "library/llama3.2"),
        ("myuser/mymodel:v1", "myuser/mymodel"),
        (HF + ":Q4_K_M", "bartowski/Llama-3.2-1B-Instruct-GGUF"),
        ("https://localhost:5000/ns/m", "ns/m"),
    ],
)
def test_registry_path(text, registry_path):
    assert parse_name(text).registry_path == registry_path


@pytest.mark.parametrize(
    ("a", "b", "equal"),
    [
        ("llama3.2", "llama3.2:latest", True),
        ("llama3.2", "registry.ollama.ai/library/llama3.2:latest", True),
        ("LLAMA3.2", "llama3.2", True),
        ("Llama3.2:LATEST", "registry.ollama.ai/Library/llama3.2", True),
        (HF + ":Q4_K_M", HF.upper() + ":q4_k_m", True),
        ("https://hf.co/u/m", "hf.co/u/m:latest", True),
        ("llama3.2", "llama3.2:1b", False),
        ("llama3.2", "myuser/llama3.2", False),
        ("myuser/m", "hf.co/myuser/m", False),
        ("llama3.2", "llama3.1", False),
    ],
)
def test_names_equal(a, b, equal):
    assert (parse_name(a) == parse_name(b)) is equal
    assert (parse_name(a) != parse_name(b)) is not equal
    if equal:
        assert hash(parse_name(a)) == hash(parse_name(b))


def test_model_name_object():
    name = parse_name("MyUser/Model:Tag")
    assert str(name) == "registry.ollama.ai/MyUser/Model:Tag"
    assert repr(name) == "ModelName('registry.ollama.ai/MyUser/Model:Tag')"
    assert {name: 1}[parse_name("myuser/model:tag")] == 1
    assert len({parse_name("x"), parse_name("X:latest"), parse_name("library/x")}) == 1
    assert name != "registry.ollama.ai/MyUser/Model:Tag"  # a string is not a ModelName
    assert copy.deepcopy(name) == name
    assert copy.copy(name).full == name.full
    with pytest.raises(AttributeError):
        name.tag = "other"  # type: ignore[misc]
    assert ModelName(DEFAULT_HOST, "library", "m", "t").display == "m:t"


RULE_MODEL = "a model may contain only ASCII letters, digits, '_', '-' and '.', and must start with a letter, digit or '_'"

# input, fragments that the message must contain (part at fault, character, rule)
INVALID = [
    ("llama 3", ["invalid model name 'llama 3'", "the model part 'llama 3' contains ' ' (space) at position 5; " + RULE_MODEL]),
    ("llama3;rm -rf /", ["the namespace part 'llama3;rm -rf ' contains ';' at position 6"]),
    ("llama3;id", ["the model part 'llama3;id' contains ';' at position 6"]),
    ("llama3|id", ["the model part 'llama3|id' contains '|' at position 6"]),
    ("llama3&id", ["the model part 'llama3&id' contains '&' at position 6"]),
    ("$HOME", ["the model part '$HOME' starts with '$'"]),
    ("llama3$(id)", ["the model part 'llama3$(id)' contains '$' at position 6"]),
    ("`id`", ["the model part '`id`' starts with '`'"]),
    ("llama3`id`", ["the model part 'llama3`id`' contains '`' at position 6"]),
    ("llama3>x", ["the model part 'llama3>x' contains '>' at position 6"]),
    ("llama3<x", ["the model part 'llama3<x' contains '<' at position 6"]),
    ("llama3(x)", ["the model part 'llama3(x)' contains '(' at position 6"]),
    ("llama3)", ["the model part 'llama3)' contains ')' at position 6"]),
    ("llama3:1b)", ["the tag part '1b)' contains ')' at position 2", "a tag may contain only"]),
    ("llama3\t", ["invalid model name 'llama3\\t'", "the model part 'llama3\\t' contains '\\t' (tab) at position 6"]),
    ("llama3\n", ["invalid model name 'llama3\\n'", "contains '\\n' (newline) at position 6"]),
    ("llama3:lat\r\nest", ["the tag part", "contains '\\r' (carriage return) at position 3"]),
    ("lla\x00ma", ["contains '\\x00' (control character) at position 3"]),
    ("lla\x1bma", ["contains '\\x1b' (control character) at position 3"]),
    ("lläma", ["contains 'ä' (non-ASCII character) at position 2"]),
    (" llama3", ["the model part ' llama3' starts with ' ' (space)"]),
    ("llama3 ", ["contains ' ' (space) at position 6"]),
    ("a..b", ["the model part 'a..b' contains '..' at position 1"]),
    ("llama3:v..1", ["the tag part 'v..1' contains '..' at position 1"]),
    ("evil..host/ns/m", ["the host part 'evil..host' contains '..' at position 4"]),
    ("../etc/passwd", ["the host part '..' starts with '.'", "a host may contain only"]),
    ("ns/../m", ["the namespace part '..' starts with '.'"]),
    ("..", ["the model part '..' starts with '.'"]),
    ("", ["invalid model name '': the name is empty"]),
    ("/x", ["the namespace part is empty"]),
    ("x/", ["the model part is empty"]),
    ("a//b", ["the namespace part is empty"]),
    ("/a/b", ["the host part is empty"]),
    ("x:", ["the tag part is empty (nothing follows ':')"]),
    (":latest", ["the model part is empty"]),
    ("a/b/c/d", ["it has 4 '/'-separated parts; a model name has at most 3 (host/namespace/model)"]),
    ("a/b/c/d/e:t", ["it has 5 '/'-separated parts"]),
    ("m" * 81, ["the model part is 81 characters long; a model may be at most 80 characters"]),
    ("m:" + "t" * 81, ["the tag part is 81 characters long; a tag may be at most 80 characters"]),
    ("n" * 81 + "/m", ["the namespace part is 81 characters long; a namespace may be at most 80 characters"]),
    ("h" * 351 + "/n/m", ["the host part is 351 characters long; a host may be at most 350 characters", "(355 characters)"]),
    ("-llama", ["the model part '-llama' starts with '-'; " + RULE_MODEL]),
    (".llama", ["the model part '.llama' starts with '.'"]),
    ("llama3:-x", ["the tag part '-x' starts with '-'"]),
    ("llama3:.x", ["the tag part '.x' starts with '.'"]),
    ("-host/ns/m", ["the host part '-host' starts with '-'"]),
    ("-ns/m", ["the namespace part '-ns' starts with '-'"]),
    ("my.user/m", ["the namespace part 'my.user' contains '.' at position 2", "(no '.')"]),
    ("hf.co/model", ["the namespace part 'hf.co' contains '.' at position 2", "if 'hf.co' is a registry host, add a namespace: host/namespace/model"]),
    ("host/my.user/m", ["the namespace part 'my.user' contains '.' at position 2"]),
    ("llama3:8b:q4", ["the model part 'llama3:8b' contains ':' at position 6"]),
    ("user:pw@host/ns/m", ["the host part 'user:pw@host' contains '@' at position 7"]),
    ("m@sha256:abc", ["the model part 'm@sha256' contains '@' at position 1"]),
    ("llama3+Q4_0", ["the model part 'llama3+Q4_0' contains '+' at position 6"]),
    ("ns\\m", ["the model part 'ns\\\\m' contains '\\\\' at position 2"]),
    ("https://llama3", ["a scheme ('https://') may only precede a full host/namespace/model name"]),
    ("https://ns/m", ["a scheme ('https://') may only precede"]),
    ("ftp://host/ns/m", ["unsupported scheme 'ftp'; only 'http://' and 'https://' may precede a registry host"]),
    ("https://", ["a scheme ('https://') may only precede"]),
]


@pytest.mark.parametrize(("text", "fragments"), INVALID, ids=[repr(v[0])[:40] for v in INVALID])
def test_parse_invalid(text, fragments):
    with pytest.raises(InvalidModelName) as caught:
        parse_name(text)
    message = str(caught.value)
    assert message.startswith("invalid model name ")
    for fragment in fragments:
        assert fragment in message
    # The message never carries a raw control character (repr shows them).
    assert not any(ord(char) < 32 for char in message)
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(("value", "type_name"), [(None, "NoneType"), (3, "int"), (["llama3"], "list"), (b"llama3", "bytes"), (True, "bool")])
def test_parse_not_a_string(value, type_name):
    with pytest.raises(InvalidModelName, match="a model name must be a string, got %s" % type_name):
        parse_name(value)


def test_an_invalid_name_is_refused():
    with pytest.raises(InvalidModelName, match="the model part 'bad name'"):
        parse_name("bad name")


def test_describe_char():
    assert describe_char(" ") == "' ' (space)"
    assert describe_char("\x7f") == "'\\x7f' (control character)"
    assert describe_char(";") == "';'"


HEX = "a" * 32 + "0123456789abcdef" * 2
MIXED = "A" * 32 + "0123456789ABCDEF" * 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (HEX, HEX),
        ("sha256:" + HEX, HEX),
        (MIXED, HEX),
        ("SHA256:" + MIXED, HEX),
        ("sha256:" + MIXED, HEX),
    ],
)
def test_normalize_digest(text, expected):
    assert normalize_digest(text) == expected


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "it has 0 hexadecimal characters, not 64"),
        ("abc", "it has 3 hexadecimal characters, not 64"),
        (HEX + "0", "it has 65 hexadecimal characters, not 64"),
        ("sha256:" + HEX[:-1], "it has 63 hexadecimal characters, not 64"),
        ("sha512:" + HEX, "unsupported algorithm 'sha512'"),
        ("sha256-" + HEX, "'s' at position 0 is not a hexadecimal digit"),
        ("sha256:" + HEX[:10] + "g" + HEX[11:], "'g' at position 17 is not a hexadecimal digit"),
        (" " + HEX, "' ' (space) at position 0 is not a hexadecimal digit"),
        (HEX + "\n", "'\\n' (newline) at position 64 is not a hexadecimal digit"),
        ("sha256:sha256:" + HEX, "'s' at position 7 is not a hexadecimal digit"),
        ("\u0130" * 64, "'\u0130' (non-ASCII character) at position 0"),
    ],
)
def test_normalize_digest_invalid(text, fragment):
    with pytest.raises(InvalidDigest) as caught:
        normalize_digest(text)
    message = str(caught.value)
    assert message.startswith("invalid digest ")
    assert fragment in message
    assert "expected 'sha256:' followed by 64 hexadecimal characters" in message


@pytest.mark.parametrize("value", [None, 123, b"abc"])
def test_normalize_digest_not_a_string(value):
    with pytest.raises(InvalidDigest, match="a digest must be a string"):
        normalize_digest(value)


# ---------------------------------------------------------------------------- cloud and local source suffixes (issue 12 item 2)


@pytest.mark.parametrize(
    ("text", "display", "source", "cloud"),
    [
        ("gpt-oss:120b:cloud", "gpt-oss:120b-cloud", "cloud", True),
        ("gpt-oss:120b-cloud", "gpt-oss:120b-cloud", "cloud", True),
        ("gpt-oss:120b:CLOUD", "gpt-oss:120b-cloud", "cloud", True),
        ("gpt-oss:cloud", "gpt-oss:cloud", "cloud", True),
        ("qwen3:8b:local", "qwen3:8b", "local", False),
        ("qwen3:local", "qwen3:latest", "local", False),
        ("myuser/model:7b:cloud", "myuser/model:7b-cloud", "cloud", True),
        ("localhost:5000/ns/m:cloud", "localhost:5000/ns/m:cloud", "cloud", True),
        ("llama3.2:1b", "llama3.2:1b", None, False),
    ],
)
def test_source_suffixes_are_normalised_as_ollama_does(text, display, source, cloud):
    name = parse_name(text)
    assert (name.display, name.source, name.cloud) == (display, source, cloud)
    assert parse_name(text) == parse_name(display)  # the suffix is not part of the identity


@pytest.mark.parametrize("text", ["gpt-oss:120b:cloud:local", "x:local:cloud", "x:8b-cloud:local"])
def test_both_source_suffixes_are_refused(text):
    with pytest.raises(InvalidModelName, match="use either :local or :cloud, not both"):
        parse_name(text)
