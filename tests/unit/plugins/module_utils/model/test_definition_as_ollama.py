# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A definition checked and compared as Ollama composes a created model (server/create.go; issue 23)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError, _server_message
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import _rewrite_bytes
from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import compare_definition
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import REWRITE_BYTES_PER_SECOND, Transfer, classify
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec, ModelSpec

APACHE = "Apache License\nVersion 2.0"


@pytest.mark.parametrize(
    "desired, shown, same",
    [
        ("Mine.", APACHE + "\nMine.", True),  # appended to the base's license
        (["One.", "Two."], APACHE + "\nOne.\nTwo.", True),
        ("Mine.", "Mine.", True),
        ("Mine.", APACHE, False),
        ("Other.", APACHE + "\nMine.", False),
        ("Mine.", "Mine.\n" + APACHE, False),  # the given license must be the last
    ],
)
def test_license_is_compared_as_appended(desired, shown, same: bool) -> None:
    differences = compare_definition({"license": desired}, {"license": shown})
    assert (differences == []) is same, differences


def test_from_with_files_is_refused(tmp_path: Path) -> None:
    weights = tmp_path / "w.gguf"
    weights.write_bytes(b"GGUF" + b"\0" * 64)
    with pytest.raises(InvalidSpec, match="Ollama would use from and silently ignore files"):
        ModelSpec.build("both:v1", definition={"from": "llama3.2", "files": [{"path": str(weights)}]})


@pytest.mark.parametrize("key", ["system", "template"])
def test_an_empty_system_or_template_is_not_compared_and_warns(key: str) -> None:
    spec, warnings = ModelSpec.build("mine:v1", definition={"from": "llama3.2", key: ""})
    assert key not in (spec.definition or {})
    assert any(('%s: "" cannot clear' % key) in warning for warning in warnings), warnings
    assert compare_definition(spec.definition or {}, {key: "You are a base model."}) == []


def test_an_empty_license_adds_none_and_is_not_compared() -> None:
    spec, _warnings = ModelSpec.build("mine:v1", definition={"from": "llama3.2", "license": ""})
    assert "license" not in (spec.definition or {})


def test_the_rewrite_timeout_follows_the_size() -> None:
    transfer = Transfer.__new__(Transfer)
    transfer.stall_timeout = 60.0
    transfer.client = type("Client", (), {"timeout": 30})()
    size = 2_000_000_000
    assert transfer.silent_timeout(size, REWRITE_BYTES_PER_SECOND) == size / REWRITE_BYTES_PER_SECOND
    assert transfer.silent_timeout(0, REWRITE_BYTES_PER_SECOND) == 60.0
    blobs = [{"name": "model.gguf", "digest": "sha256:" + "a" * 64, "size": size}, {"name": "lora.gguf", "digest": "sha256:" + "b" * 64, "size": 5}]
    definition = {"files": {"model.gguf": "sha256:" + "a" * 64}, "adapters": {"lora.gguf": "sha256:" + "b" * 64}}
    assert _rewrite_bytes(definition, blobs) == size, "adapters are not rewritten"


@pytest.mark.parametrize(
    "message",
    [
        "template error: template: :1: unexpected EOF",
        "failed to validate GGUF with llama-quantize without compatibility patches: unknown model architecture: 'x'",
        "this server cannot run this remote model",
    ],
)
def test_create_errors_that_a_retry_cannot_cure(message: str) -> None:
    assert classify(OllamaError("POST /api/create: " + message, status=200, server_message=message)) == "failed"


def test_a_signin_url_becomes_what_to_do() -> None:
    body = json.dumps({"error": "unauthorized", "signin_url": "https://ollama.com/connect?name=h&key=k"}).encode()
    message = _server_message(body)
    assert message is not None
    assert message.startswith("unauthorized: this Ollama server is not signed in to ollama.com")
    assert "ollama signin" in message and "https://ollama.com/connect?name=h&key=k" in message
