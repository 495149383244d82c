# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mirror options of the model modules: module level, and per models entry of ollama_model_sync."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import parse_mirror
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import mirror_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import SyncError, parse_models
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama, manager, spec

MODULE = parse_mirror("https://mirror.example:8443", False, False)


def mirrors(models: list) -> dict:
    declared, _warnings = parse_models(models, mirror=MODULE)
    return {item.spec.name.display: item.spec.mirror.as_dict() if item.spec.mirror else None for item in declared}


def test_every_model_takes_the_module_mirror_unless_its_entry_says_otherwise() -> None:
    found = mirrors(
        [
            "llama3.2:1b",
            {"name": "qwen2.5:0.5b", "mirror": False},
            {"name": "smollm2:135m", "mirror_fallback": True},
            {"name": "all-minilm", "mirror": "http://10.0.0.5:8080", "mirror_insecure": "yes"},
        ]
    )
    assert found == {
        "llama3.2:1b": {"url": "https://mirror.example:8443", "insecure": False, "fallback": False},
        "qwen2.5:0.5b": None,
        "smollm2:135m": {"url": "https://mirror.example:8443", "insecure": False, "fallback": True},
        "all-minilm:latest": {"url": "http://10.0.0.5:8080", "insecure": True, "fallback": False},
    }
    without, _warnings = parse_models(["llama3.2:1b", {"name": "smollm2:135m", "mirror": "https://m.example"}])
    assert [item.spec.mirror.url if item.spec.mirror else None for item in without] == [None, "https://m.example"]


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "llama3.2:1b", "mirror": "http://m.example"}, "models[0] (llama3.2:1b): mirror 'http://m.example' is plain http"),
        ({"name": "llama3.2:1b", "mirror_fallback": "maybe"}, "models[0] (llama3.2:1b): mirror_fallback must be a boolean"),
        ({"name": "llama3.2:1b", "mirror": "https://m.example/path"}, "has a path"),
    ],
)
def test_bad_entries_name_the_element(entry: dict, message: str) -> None:
    with pytest.raises(SyncError) as caught:
        parse_models([entry], mirror=MODULE)
    assert message in str(caught.value)


def test_module_options() -> None:
    assert mirror_from_params({"mirror": None, "mirror_insecure": False, "mirror_fallback": False}) is None
    found = mirror_from_params({"mirror": "http://127.0.0.1:8080", "mirror_insecure": True, "mirror_fallback": True})
    assert found is not None and (found.url, found.host, found.insecure, found.fallback) == ("http://127.0.0.1:8080", "127.0.0.1:8080", True, True)
    with pytest.raises(InvalidSpec) as caught:
        mirror_from_params({"mirror": "https://user:pw@m.example", "mirror_insecure": False, "mirror_fallback": False})
    assert "credentials" in str(caught.value) and "pw" not in str(caught.value)


# ---------------------------------------------------------------------------- the executor, against the fake server of test_models


VIA = "mirror.example:8443/library/llama3.2:1b"


def through_mirror(name: str = "llama3.2:1b", fallback: bool = False, **kwargs: Any) -> Any:
    built = spec(name, **kwargs)
    built.mirror = parse_mirror("https://mirror.example:8443", False, fallback)
    return built


def mirrored_fake() -> FakeOllama:
    fake = FakeOllama()
    fake.publish("llama3.2:1b")
    fake.registry[parse_name(VIA).key] = fake.registry[parse_name("llama3.2:1b").key]  # the mirror serves the same bytes
    return fake


def writes(fake: FakeOllama) -> List[tuple]:
    found = []
    for _method, path, payload in fake.requests:
        if path == "/api/pull":
            found.append(("pull", payload["model"]))
        elif path == "/api/copy":
            found.append(("copy", payload["source"], payload["destination"]))
        elif path == "/api/delete":
            found.append(("delete", payload["model"]))
    return found


def test_a_pull_through_the_mirror_ends_with_the_canonical_name_and_digest(tmp_path: Path) -> None:
    fake = mirrored_fake()
    upstream = fake.publish("llama3.2:1b")
    models = manager(fake, tmp_path)
    (result,) = models.ensure([through_mirror()])
    assert not result.failed and result.changed and result.actions == ["pulled"], result.msg
    assert writes(fake) == [("pull", VIA), ("copy", VIA, "llama3.2:1b"), ("delete", VIA)]
    assert list(fake.models) == [parse_name("llama3.2:1b").key]
    assert fake.models[parse_name("llama3.2:1b").key]["digest"] == upstream and result.after["digest"] == upstream
    assert models.ledger.read(parse_name(VIA)) is None, "the ledger knows the model by its own name only"
    record = models.ledger.read(parse_name("llama3.2:1b"))
    assert record is not None and record["status"] == "ok"

    fake.requests.clear()
    fake.manifest = lambda *_a, **_k: pytest.fail("a converged model read a manifest")  # type: ignore[method-assign]
    again = manager(fake, tmp_path)
    (unchanged,) = again.ensure([through_mirror()])
    assert not unchanged.changed and writes(fake) == []


def test_a_failed_copy_leaves_no_mirror_named_model(tmp_path: Path) -> None:
    fake = mirrored_fake()
    fake.call_failures["/api/copy"] = OllamaError("x", status=500, server_message="disk on fire")
    (result,) = manager(fake, tmp_path).ensure([through_mirror()])
    assert result.failed and "pulled from the mirror as %s, but could not be copied" % VIA in result.msg and "disk on fire" in result.msg
    assert writes(fake)[-1] == ("delete", VIA) and fake.models == {}


def test_a_model_the_mirror_lacks(tmp_path: Path) -> None:
    fake = FakeOllama()
    upstream = fake.publish("llama3.2:1b")
    (refused,) = manager(fake, tmp_path).ensure([through_mirror()])
    assert refused.failed and "not in the mirror https://mirror.example:8443" in refused.msg and writes(fake) == []
    warnings: List[str] = []
    (fallback,) = manager(fake, tmp_path, warn=warnings.append).ensure([through_mirror(fallback=True)])
    assert not fallback.failed and writes(fake) == [("pull", "llama3.2:1b")] and fallback.after["digest"] == upstream
    assert any("mirror_fallback" in text for text in warnings)


def test_check_mode_reports_the_plan_and_writes_nothing(tmp_path: Path) -> None:
    fake = mirrored_fake()
    (result,) = manager(fake, tmp_path, check_mode=True).ensure([through_mirror()])
    assert result.changed and not result.failed and writes(fake) == [] and fake.models == {}
    assert [(step.kind, step.source.display if step.source else None) for step in result.plan.steps] == [
        ("check_space", None),
        ("pull", VIA),
        ("copy", VIA),
        ("delete", None),
    ]
