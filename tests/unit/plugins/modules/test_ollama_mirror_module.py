# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_mirror run in-process against a fake registry: parameters, check mode, diff, idempotence."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Dict

import pytest
import yaml

from ansible_collections.llmops.ollama.plugins.module_utils.mirror import mirror_module
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import BlobClient
from ansible_collections.llmops.ollama.plugins.modules import ollama_mirror
from tests.unit.fakes.registry import FakeRegistry, digest_of
from tests.unit.plugins.modules.harness import assert_descriptions_are_text, assert_documented_exactly, run_module

LAYER = b"weights " * 4096


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> FakeRegistry:
    fake = FakeRegistry()
    fake.add_model("library/m", "1b", [LAYER])
    # the module's body (mirror_module) builds the registry clients: patch it there
    monkeypatch.setattr(mirror_module, "BlobClient", functools.partial(BlobClient, request_factory=fake, sleep=lambda _s: None))
    return fake


def args(tmp_path: Path, **extra: Any) -> Dict[str, Any]:
    base: Dict[str, Any] = {"path": str(tmp_path / "mirror"), "models": ["m:1b"], "source": "https://registry.example"}
    base.update(extra)
    return base


def test_documentation_matches_the_argument_spec() -> None:
    documentation = yaml.safe_load(ollama_mirror.DOCUMENTATION)
    spec = ollama_mirror.argument_spec()
    assert_documented_exactly(ollama_mirror)
    assert spec["api_key"]["no_log"] is True
    yaml.safe_load(ollama_mirror.EXAMPLES)
    assert_descriptions_are_text(documentation)
    assert_descriptions_are_text(yaml.safe_load(ollama_mirror.RETURN))


def test_check_mode_then_fill_then_unchanged(tmp_path: Path, registry: FakeRegistry, capsys: pytest.CaptureFixture) -> None:
    check = run_module(ollama_mirror, args(tmp_path), capsys, check_mode=True, diff=True)
    assert check["changed"] is True
    assert {b["digest"]: b["size"] for b in check["fetched"]}[digest_of(LAYER)] == len(LAYER)
    assert check["diff"]["before"] == {"models": {}} and list(check["diff"]["after"]["models"]) == ["m:1b"]
    assert not (tmp_path / "mirror").exists() and registry.served == 0

    fill = run_module(ollama_mirror, args(tmp_path), capsys, diff=True)
    assert fill["changed"] is True and fill["transferred"] == fill["fetch_bytes"] > 0
    assert fill["diff"]["after"] == check["diff"]["after"]
    assert fill["ledger_error"] == ""

    again = run_module(ollama_mirror, args(tmp_path), capsys, diff=True)
    assert again["changed"] is False and again["fetched"] == [] and again["diff"]["before"] == again["diff"]["after"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"bundle": "/x.tar"}, "source and bundle are mutually exclusive"),
        ({"state": "absent", "bundle_dest": "/x.tar"}, "go with state=present"),
        ({"state": "absent", "models": None}, "state=absent needs models"),
        ({"models": None}, "models is required"),
        ({"source": "registry.example"}, "is not a registry base URL"),
        ({"source": "https://user:pw@registry.example"}, "must not carry credentials"),
        ({"parallel": 0}, "parallel must be at least 1"),
        ({"min_free_space": "lots"}, "min_free_space"),
        ({"path": "/"}, "root directory"),
        ({"models": None, "bundle_dest": "/x.tar"}, "holds no models to write"),
        ({"models": ["bad name"]}, "invalid model name"),
    ],
)
def test_bad_parameters_fail_before_any_request(
    tmp_path: Path, registry: FakeRegistry, capsys: pytest.CaptureFixture, extra: Dict[str, Any], message: str
) -> None:
    result = run_module(ollama_mirror, args(tmp_path, **extra), capsys)
    assert result["failed"] and message in result["msg"], result
    assert registry.requests == []
    assert "pw" not in result["msg"]


def test_bundle_dest_without_models_writes_the_whole_mirror(tmp_path: Path, registry: FakeRegistry, capsys: pytest.CaptureFixture) -> None:
    run_module(ollama_mirror, args(tmp_path), capsys)
    bundle = tmp_path / "b.tar"
    written = run_module(ollama_mirror, {"path": str(tmp_path / "mirror"), "bundle_dest": str(bundle)}, capsys)
    assert written["changed"] is True and written["bundle"]["models"] == ["registry.ollama.ai/library/m:1b"]
    assert written["bundle"]["bytes"] == sum(len(data) for data in registry.blobs.values())
    again = run_module(ollama_mirror, {"path": str(tmp_path / "mirror"), "bundle_dest": str(bundle)}, capsys)
    assert again["changed"] is False

    loaded = run_module(ollama_mirror, {"path": str(tmp_path / "inside"), "bundle": str(bundle)}, capsys, diff=True)
    assert loaded["changed"] is True and list(loaded["diff"]["after"]["models"]) == ["m:1b"]


def test_absent_with_prune_in_check_mode(tmp_path: Path, registry: FakeRegistry, capsys: pytest.CaptureFixture) -> None:
    run_module(ollama_mirror, args(tmp_path), capsys)
    check = run_module(ollama_mirror, args(tmp_path, state="absent", prune=True), capsys, check_mode=True, diff=True)
    assert check["changed"] is True and check["diff"]["after"] == {"models": {}}
    assert {b["digest"] for b in check["pruned"]} >= {digest_of(LAYER)}
    assert (tmp_path / "mirror" / "v2" / "library" / "m" / "manifests" / "1b").exists()
    gone = run_module(ollama_mirror, args(tmp_path, state="absent", prune=True), capsys)
    assert gone["changed"] is True and not (tmp_path / "mirror" / "v2" / "library" / "m").exists()
    assert list((tmp_path / "mirror" / "blobs").iterdir()) == []
