# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the model manager and its input checks, with an in-process fake Ollama server.

``FakeOllama`` stands in for OllamaClient (the methods the manager uses) and is also used by
the module tests in tests/unit/plugins/modules/test_ollama_model_module.py.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import Manifest, ManifestNotFound, ResourceError
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import compare_definition
from ansible_collections.llmops.ollama.plugins.module_utils.model.lifecycle import ModelManager
from ansible_collections.llmops.ollama.plugins.module_utils.model.model_module import failure_message
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import summary
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import (
    InvalidSpec,
    ModelSpec,
    check_options,
    parse_keep_alive,
)

MUTATING = ("/api/pull", "/api/create", "/api/delete", "/api/generate", "/api/embed", "/api/copy")


def manifest_for(name: str, version: int = 1, size: int = 1000) -> bytes:
    seed = hashlib.sha256(("%s/%d" % (name, version)).encode()).hexdigest()
    return json.dumps(
        {
            "schemaVersion": 2,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + seed, "size": 100},
            "layers": [
                {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + seed[::-1], "size": size},
                {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + hashlib.sha256(seed.encode()).hexdigest(), "size": 10},
            ],
        },
        sort_keys=True,
    ).encode()


class FakeOllama:
    """Enough of OllamaClient for the manager: tags, ps, show, call, stream; records every request."""

    api_url = "http://127.0.0.1:11434"
    timeout = 30.0
    # the client's typed writes, as they are: they build the request and hand it to call/stream below
    copy = OllamaClient.copy
    delete = OllamaClient.delete
    load = OllamaClient.load
    load_embedding = OllamaClient.load_embedding
    unload = OllamaClient.unload
    pull_stream = OllamaClient.pull_stream
    create_stream = OllamaClient.create_stream

    def __init__(self) -> None:
        self.registry: Dict[str, bytes] = {}
        self.models: Dict[str, Dict[str, Any]] = {}
        self.loaded: Dict[str, Dict[str, Any]] = {}
        self.shows: Dict[str, Dict[str, Any]] = {}
        self.requests: List[tuple] = []
        self.pull_failures: List[OllamaError] = []
        self.call_failures: Dict[str, OllamaError] = {}
        self.partial: Dict[str, int] = {}
        self.embedding: set = set()

    # catalogue helpers
    def publish(self, name: str, version: int = 1, size: int = 1000) -> str:
        raw = manifest_for(name, version, size)
        self.registry[parse_name(name).key] = raw
        return hashlib.sha256(raw).hexdigest()

    def put(self, name: str, version: int = 1, size: int = 1000) -> str:
        digest = self.publish(name, version, size)
        self._install(parse_name(name))
        return digest

    def _install(self, name) -> None:
        raw = self.registry[name.key]
        data = json.loads(raw)
        size = sum(layer["size"] for layer in data["layers"]) + data["config"]["size"]
        self.models[name.key] = {"name": name.display, "model": name.display, "digest": hashlib.sha256(raw).hexdigest(), "size": size, "details": {}}

    def manifest(self, name, **_kwargs) -> Manifest:
        raw = self.registry.get(name.key)
        if raw is None:
            url = "http://registry/v2/%s/manifests/%s" % (name.registry_path, name.tag)
            raise ManifestNotFound("the registry has no manifest for %s at %s (HTTP 404)" % (name.display, url))
        return Manifest(raw, "http://registry/v2/%s/manifests/%s" % (name.registry_path, name.tag))

    def paths(self) -> List[str]:
        return [path for _method, path, _payload in self.requests]

    def mutations(self) -> List[str]:
        return [path for path in self.paths() if path in MUTATING]

    # client API
    def blob_exists(self, digest: str) -> bool:
        """HEAD /api/blobs: a blob of an installed model (a partial download is not a blob)."""
        self.requests.append(("HEAD", "/api/blobs/%s" % digest, None))
        for key in self.models:
            data = json.loads(self.registry.get(key, b"{}"))
            if digest in [layer.get("digest") for layer in data.get("layers", [])] + [(data.get("config") or {}).get("digest")]:
                return True
        return False

    def tags(self) -> list:
        self.requests.append(("GET", "/api/tags", None))
        return [dict(m) for m in self.models.values()]

    def version(self) -> str:
        self.requests.append(("GET", "/api/version", None))
        return "0.12.6"

    def ps(self) -> list:
        self.requests.append(("GET", "/api/ps", None))
        return [dict(m) for m in self.loaded.values()]

    def show(self, model: str, verbose: bool = False) -> Dict[str, Any]:
        self.requests.append(("POST", "/api/show", {"model": model}))
        return dict(self.shows.get(parse_name(model).key, {}))

    def call(self, method: str, path: str, payload: Any = None, retry: bool = False, timeout: Optional[float] = None) -> Any:
        self.requests.append((method, path, payload))
        if path in self.call_failures:
            raise self.call_failures.pop(path)
        if path == "/api/copy":
            source, destination = parse_name(payload["source"]), parse_name(payload["destination"])
            if source.key not in self.models:
                raise OllamaError("not found", status=404, server_message="model %r not found" % payload["source"])
            self.models[destination.key] = dict(self.models[source.key], name=destination.display, model=destination.display)
            return None
        name = parse_name(payload["model"])
        if path == "/api/delete":
            if name.key not in self.models:
                raise OllamaError("not found", status=404, server_message="model '%s' not found" % name.display)
            del self.models[name.key]
            self.loaded.pop(name.key, None)
            return None
        if path == "/api/generate":
            if payload.get("keep_alive") == 0:
                self.loaded.pop(name.key, None)
                return {"done": True, "done_reason": "unload"}
            if name.key in self.embedding:
                raise OllamaError("x", status=400, server_message='"%s" does not support generate' % name.display)
            self.loaded[name.key] = dict(self.models[name.key], expires_at="2026-01-01T00:05:00Z", size_vram=0)
            return {"done": True, "done_reason": "load"}
        if path == "/api/embed":
            self.loaded[name.key] = dict(self.models[name.key], expires_at="2026-01-01T00:05:00Z", size_vram=0)
            return {"embeddings": []}
        raise AssertionError("unexpected call %s %s" % (method, path))

    def stream(self, method: str, path: str, payload: Any = None, timeout: Optional[float] = None) -> Iterator[Dict[str, Any]]:
        self.requests.append((method, path, payload))
        name = parse_name(payload["model"])
        if path == "/api/create":
            yield {"status": "using existing layer"}
            definition = {k: v for k, v in payload.items() if k not in ("model", "stream")}
            self.registry[name.key] = json.dumps({"layers": [], "config": {"size": 1}, "definition": definition}, sort_keys=True).encode()
            self._install(name)
            self.shows[name.key] = {"system": payload.get("system", ""), "details": {"parent_model": payload.get("from", "")}}
            yield {"status": "success"}
            return
        yield {"status": "pulling manifest"}
        raw = self.registry.get(name.key)
        if raw is None:
            raise OllamaError("POST /api/pull: pull model manifest: file does not exist", status=200, server_message="pull model manifest: file does not exist")
        layer = json.loads(raw)["layers"][0]
        total = layer["size"]
        start = self.partial.get(name.key, 0)
        yield {"status": "pulling x", "digest": layer["digest"], "total": total, "completed": start}
        if self.pull_failures:
            half = (start + total) // 2
            self.partial[name.key] = half
            yield {"status": "pulling x", "digest": layer["digest"], "total": total, "completed": half}
            raise self.pull_failures.pop(0)
        yield {"status": "pulling x", "digest": layer["digest"], "total": total, "completed": total}
        self.partial.pop(name.key, None)
        self._install(name)
        yield {"status": "success"}


@pytest.fixture
def fake() -> FakeOllama:
    return FakeOllama()


def manager(fake: FakeOllama, tmp_path: Path, check_mode: bool = False, **kwargs: Any) -> ModelManager:
    kwargs.setdefault("models_path", str(tmp_path / "models"))
    (tmp_path / "models" / "blobs").mkdir(parents=True, exist_ok=True)
    ledger = kwargs.pop("ledger", None) or Ledger.open(str(tmp_path / "state"), create=not check_mode)
    client: Any = fake
    return ModelManager(client, ledger, check_mode=check_mode, manifest_fetcher=fake.manifest, sleep=lambda _s: None, retry_delay=0, **kwargs)


def spec(name: str = "llama3.2:1b", **kwargs: Any) -> ModelSpec:
    built, _warnings = ModelSpec.build(name, **kwargs)
    return built


# ---------------------------------------------------------------------------- input checks


@pytest.mark.parametrize(
    ("value", "expected"),
    [(300, 300), (0, 0), (-1, -1), (1.5, 1.5), ("3600", 3600), ("-1", -1), ("2.5", 2.5), ("10m", "10m"), ("1h30m", "1h30m"), ("-1m", "-1m"), ("0", 0)],
)
def test_keep_alive_accepted(value: Any, expected: Any) -> None:
    assert parse_keep_alive(value) == expected
    assert type(parse_keep_alive(value)) is type(expected)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("5 minutes", "not a number of seconds and not a Go duration"),
        ("10x", "not a Go duration"),
        ("", "it is empty"),
        ("m", "not a Go duration"),
        (True, "got bool"),
        (None, "got null"),
        ([1], "got list"),
        (float("nan"), "not a finite number"),
    ],
)
def test_keep_alive_rejected(value: Any, fragment: str) -> None:
    with pytest.raises(InvalidSpec, match="invalid keep_alive") as error:
        parse_keep_alive(value)
    assert fragment in str(error.value)


def test_options_are_coerced_checked_and_unknown_ones_warned() -> None:
    options, warnings = check_options({"num_ctx": "4096", "temperature": 1, "use_mmap": "yes", "stop": "<x>", "num_gpu": 2.0, "flux": 1, "mirostat": 1})
    assert options == {"num_ctx": 4096, "temperature": 1, "use_mmap": True, "stop": ["<x>"], "num_gpu": 2, "flux": 1, "mirostat": 1}
    assert any("'flux' is not an option Ollama knows" in w for w in warnings)
    assert any("'mirostat' is no longer used" in w for w in warnings)
    for bad, fragment in [
        ({"num_ctx": "big"}, "option 'num_ctx' must be an integer, got 'big' (str)"),
        ({"num_ctx": True}, "must be an integer, got True (bool)"),
        ({"num_ctx": 1.5}, "must be an integer, got 1.5"),
        ({"top_p": "high"}, "option 'top_p' must be a number"),
        ({"use_mmap": 2}, "must be a boolean"),
        ({"stop": [1]}, "must be a list of strings"),
    ]:
        with pytest.raises(InvalidSpec) as error:
            check_options(bad)
        assert fragment in str(error.value)
    with pytest.raises(InvalidSpec, match="options must be a dictionary"):
        check_options(["num_ctx"])
    with pytest.raises(InvalidSpec, match="unknown parameter 'temprature'; known parameters: "):
        check_options({"temprature": 1}, "parameters")
    with pytest.raises(InvalidSpec, match="'typical_p' cannot be set as a model parameter"):
        check_options({"typical_p": 0.5}, "parameters")


def test_compare_definition_names_only_given_fields_that_differ() -> None:
    show = {
        "system": "old",
        "template": "{{ .Prompt }}",
        "license": "MIT",
        "parameters": (
            'stop                           "<a>"\n'
            'stop                           "<b>"\n'
            "temperature                    0.7\n"
            "num_ctx                        4096"
        ),
        "messages": [{"role": "user", "content": "hi"}],
        "details": {"parent_model": "llama3.2:1b", "quantization_level": "Q4_K_M"},
    }
    same = {"from": "llama3.2:1b", "system": "old", "parameters": {"temperature": 0.7, "stop": ["<a>", "<b>"]}, "license": ["MIT"], "quantize": "q4_K_M"}
    assert compare_definition(same, show) == []
    differing = {
        "from": "registry.ollama.ai/library/llama3.2:3b",
        "system": "new",
        "parameters": {"temperature": 0.7, "num_ctx": 8192},
        "messages": [],
        "template": "{{ .Prompt }}",
    }
    assert compare_definition(differing, show) == [
        ("from", "llama3.2:1b", "registry.ollama.ai/library/llama3.2:3b"),
        ("system", "old", "new"),
        ("parameters", {"num_ctx": 4096}, {"num_ctx": 8192}),
        ("messages", [{"role": "user", "content": "hi"}], []),
    ]
    # without a parent model from the server, the ledger's record decides
    assert compare_definition({"from": "a"}, {}, {"from": "b"}) == [("from", "b", "a")]
    assert compare_definition({"from": "a"}, {}, None) == []


# ---------------------------------------------------------------------------- the manager


def test_present_pulls_a_missing_model_then_is_unchanged(fake: FakeOllama, tmp_path: Path) -> None:
    digest = fake.publish("llama3.2:1b")
    results = manager(fake, tmp_path).ensure([spec()])
    result = results[0]
    assert (result.changed, result.failed, result.actions) == (True, False, ["pulled"])
    assert result.before == {"state": "absent"}
    assert result.after == {"state": "present", "digest": digest}
    assert result.record["status"] == "stopped" and result.record["digest"] == digest
    # the layer's 1000 B and the config blob's 110 B, which the fake's stream never reports (as Ollama, for a blob downloaded before its first line)
    assert result.transfer is not None and result.transfer.bytes == 1110 and result.transfer.attempts == 1
    assert result.space == {"needed": 1110, "present": 0, "total": 1110, "free": result.space["free"], "min_free_space": 0}
    # the server's list is read once before and once after: the digest of the pull is the one the registry served, confirmed then
    # which blobs the server lacks (HEAD /api/blobs, for the byte count of the pull), the pull
    heads = ["/api/blobs/%s" % blob["digest"] for blob in Manifest(fake.registry[parse_name("llama3.2:1b").key], "x").blobs]
    assert fake.paths() == ["/api/tags", "/api/ps", *heads, "/api/pull", "/api/tags", "/api/ps"]

    fake.requests.clear()
    again = manager(fake, tmp_path).ensure([spec()])[0]
    assert (again.changed, again.actions) == (False, [])
    assert fake.paths() == ["/api/tags", "/api/ps"]
    ledger = Ledger.open(str(tmp_path / "state"))
    assert [e["event"] for e in ledger.log_entries("llama3.2:1b")] == ["pull-started", "pulled"]
    assert ledger.read("llama3.2:1b")["status"] == "ok"


def test_twenty_present_models_cost_one_tags_and_one_ps(fake: FakeOllama, tmp_path: Path) -> None:
    names = ["model-%02d:latest" % index for index in range(20)]
    for name in names:
        fake.put(name)
    results = manager(fake, tmp_path).ensure([spec(name) for name in names])
    assert not any(r.changed for r in results)
    assert fake.paths() == ["/api/tags", "/api/ps"]


def test_check_mode_sends_nothing_mutating_and_writes_no_ledger(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("present:1b")
    fake.put("loaded:1b")
    fake.call("POST", "/api/generate", {"model": "loaded:1b"})
    fake.publish("missing:1b")
    fake.requests.clear()
    specs = [
        spec("missing:1b"),
        spec("present:1b", state="absent"),
        spec("loaded:1b", state="unloaded"),
        spec("present:1b", state="loaded"),
        spec("present:1b", force=True),
        spec("custom:1b", definition={"from": "present:1b", "system": "x"}),
    ]
    results = manager(fake, tmp_path / "check", check_mode=True).ensure(specs)
    assert [r.actions for r in results] == [["pulled"], ["deleted"], ["unloaded"], ["loaded"], ["deleted", "re-pulled"], ["created"]]
    assert fake.mutations() == []
    assert not (tmp_path / "check" / "state").exists()
    assert results[0].after["digest"] == hashlib.sha256(fake.registry[parse_name("missing:1b").key]).hexdigest()


def test_update_changes_only_with_a_new_digest(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    result = manager(fake, tmp_path).ensure([spec(update=True)])[0]
    assert (result.changed, result.actions) == (False, [])
    assert "/api/pull" in fake.paths()
    new = fake.publish("llama3.2:1b", version=2)
    predicted = manager(fake, tmp_path, check_mode=True).ensure([spec(update=True)])[0]
    assert predicted.changed and predicted.after["digest"] == new
    result = manager(fake, tmp_path).ensure([spec(update=True)])[0]
    assert (result.changed, result.actions, result.before["digest"], result.after["digest"]) == (True, ["updated"], old, new)


def test_pinned_digest_mismatch_removes_what_the_task_added(fake: FakeOllama, tmp_path: Path) -> None:
    served = fake.publish("llama3.2:1b")
    result = manager(fake, tmp_path).ensure([spec(digest="sha256:" + "c" * 64)])[0]
    assert result.failed
    assert result.msg == (
        "digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry served sha256:%s; "
        "the model was removed again, so nothing unverified stays on the server" % ("c" * 64, served)
    )
    assert fake.models == {}
    assert result.record["status"] == "failed"
    assert result.after == {"state": "absent"}


def test_present_with_another_digest_says_set_update(fake: FakeOllama, tmp_path: Path) -> None:
    current = fake.put("llama3.2:1b")
    result = manager(fake, tmp_path).ensure([spec(digest="d" * 64)])[0]
    assert result.failed and "set update: true" in result.msg and current in result.msg
    assert fake.mutations() == []
    # pinned to what is there: nothing to do, not even with update
    ok = manager(fake, tmp_path).ensure([spec(digest=current, update=True)])[0]
    assert (ok.changed, ok.failed) == (False, False)
    assert fake.mutations() == []


def test_retries_resume_and_give_up(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("llama3.2:1b", size=1000)
    fake.pull_failures = [OllamaError("POST /api/pull: the stream stalled", status=None), OllamaError("busy", status=503, server_message="server busy")]
    result = manager(fake, tmp_path).ensure([spec()])[0]
    assert (result.changed, result.failed) == (True, False)
    assert result.transfer.attempts == 3
    assert result.transfer.bytes == 1110, "every retry resumes: each byte counted once (the layer's 1000 B, the config's 110 B)"
    events = [e["event"] for e in Ledger.open(str(tmp_path / "state")).log_entries("llama3.2:1b")]
    assert events == ["pull-started", "retry", "retry", "pulled"]

    fake.models.clear()
    fake.pull_failures = [OllamaError("cut", status=None)] * 5
    failed = manager(fake, tmp_path, retries=2).ensure([spec()])[0]
    assert failed.failed and failed.msg == "the pull of 'llama3.2:1b' failed after 3 attempts: cut"
    assert failed.record["status"] == "failed"


def test_disk_full_pauses_and_lists_cleanup_candidates(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("big:1b", size=5000)
    fake.put("small:1b", size=100)
    fake.put("busy:1b", size=9000)
    fake.call("POST", "/api/generate", {"model": "busy:1b"})
    fake.publish("new:1b")
    full = "write /models/blobs/sha256-x-partial: no space left on device"
    fake.pull_failures = [OllamaError(full, status=200, server_message=full)]
    result = manager(fake, tmp_path).ensure([spec("new:1b")])[0]
    assert result.failed and result.status == "paused"
    assert result.record["status"] == "paused"
    assert [c["name"] for c in result.cleanup] == ["big:1b", "small:1b"]
    assert result.msg.startswith("the server ran out of disk space during the pull of 'new:1b': " + full)
    assert result.transfer.attempts == 1


def test_short_disk_fails_before_pulling(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("other:1b", size=3000)
    fake.publish("new:1b", size=10_000)
    result = manager(fake, tmp_path, min_free_space=10**18).ensure([spec("new:1b")])[0]
    assert result.failed and result.status == "paused"
    assert result.msg.startswith("not enough disk space to pull new:1b: it needs 10.1 KB more (10.1 KB in all, 0 B already on disk)")
    assert "largest first: other:1b (3.1 KB)" in result.msg
    assert "/api/pull" not in fake.paths()
    ledger = Ledger.open(str(tmp_path / "state"))
    assert ledger.read("new:1b")["cleanup_candidates"][0]["name"] == "other:1b"


def test_blobs_on_disk_are_not_needed_again(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("new:1b", size=10_000)
    data = json.loads(fake.registry[parse_name("new:1b").key])
    blobs = tmp_path / "models" / "blobs"
    blobs.mkdir(parents=True)
    (blobs / data["layers"][0]["digest"].replace(":", "-")).write_bytes(b"x" * 10_000)
    result = manager(fake, tmp_path).ensure([spec("new:1b")])[0]
    assert result.space["needed"] == 110 and result.space["present"] == 10_000


def test_unreadable_registry_and_remote_disk_warn(fake: FakeOllama, tmp_path: Path) -> None:
    warnings: List[str] = []
    fake.registry.clear()
    mgr = manager(fake, tmp_path, warn=warnings.append)

    def unreachable(*_args: Any, **_kwargs: Any) -> Manifest:
        raise ResourceError("the registry at http://r cannot be reached: refused")

    mgr._fetch_manifest = unreachable
    mgr.ensure([spec("gone:1b")])
    assert warnings == ["free-space check before pulling gone:1b skipped: the registry at http://r cannot be reached: refused"]

    class Remote(FakeOllama):
        api_url = "http://ollama.example.com:11434"

    remote = Remote()
    remote.publish("x:1b")
    warnings.clear()
    ModelManager(remote, Ledger(None), manifest_fetcher=remote.manifest, warn=warnings.append).ensure([spec("x:1b")])  # type: ignore[arg-type]
    assert warnings == [
        "free-space check before pulling x:1b skipped: the models disk of http://ollama.example.com:11434 cannot be read from this host; "
        "set models_path when the models directory is mounted here (ollama_models_models_path in the llmops.ollama.ollama_models role)"
    ]


def test_load_unload_and_embedding_models(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("chat:1b")
    fake.put("embed:1b")
    fake.embedding.add(parse_name("embed:1b").key)
    results = manager(fake, tmp_path).ensure([spec("chat:1b", state="loaded", keep_alive="1h", options={"num_ctx": 4096}), spec("embed:1b", state="loaded")])
    assert [r.actions for r in results] == [["loaded"], ["loaded"]]
    generate = next(p for _m, path, p in fake.requests if path == "/api/generate")
    assert generate == {"model": "chat:1b", "stream": False, "keep_alive": "1h", "options": {"num_ctx": 4096}}
    assert "/api/embed" in fake.paths()
    assert [r.record["status"] for r in results] == ["running", "running"]
    again = manager(fake, tmp_path).ensure([spec("chat:1b", state="loaded")])[0]
    assert again.actions == []
    off = manager(fake, tmp_path).ensure([spec("chat:1b", state="unloaded"), spec("absent:1b", state="unloaded")])
    assert [r.actions for r in off] == [["unloaded"], []]
    assert off[0].record["status"] == "stopped"


def test_absent_unloads_then_deletes(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("chat:1b")
    fake.call("POST", "/api/generate", {"model": "chat:1b"})
    result = manager(fake, tmp_path).ensure([spec("chat:1b", state="absent"), spec("never:1b", state="absent")])
    assert [r.actions for r in result] == [["unloaded", "deleted"], []]
    assert fake.models == {} and fake.loaded == {}
    assert result[0].record["status"] == "unavailable"


def test_a_deletion_unloads_the_model_on_the_other_instances_first(fake: FakeOllama, tmp_path: Path) -> None:
    """Several instances share the models directory: the others unload the model before its manifest goes (issue 22)."""
    fake.put("chat:1b")
    first, second = FakeOllama(), FakeOllama()
    first.api_url, second.api_url = "http://127.0.0.1:11435", "http://127.0.0.1:11436"
    first.call_failures["/api/generate"] = OllamaError("x", status=404, server_message="model 'chat:1b' not found")
    result = manager(fake, tmp_path, others=[first, second]).ensure([spec("chat:1b", state="absent")])[0]
    assert result.actions == ["deleted"] and not result.failed and fake.models == {}
    assert [r[:2] for r in second.requests] == [("POST", "/api/generate")] and second.requests[0][2]["keep_alive"] == 0
    assert [r[:2] for r in first.requests] == [("POST", "/api/generate")], "a 404 (not there) does not stop the deletion"


def test_a_failed_unload_on_another_instance_keeps_the_model(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("chat:1b")
    other = FakeOllama()
    other.api_url = "http://127.0.0.1:11435"
    other.call_failures["/api/generate"] = OllamaError("x", status=500, server_message="busy")
    result = manager(fake, tmp_path, others=[other]).ensure([spec("chat:1b", state="absent")])[0]
    assert result.failed and "cannot unload chat:1b on http://127.0.0.1:11435 before deleting it: busy" in result.msg
    assert "chat:1b" in str(fake.models) and not any(r[1] == "/api/delete" for r in fake.requests)


def test_check_mode_asks_no_other_instance(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("chat:1b")
    other = FakeOllama()
    result = manager(fake, tmp_path, check_mode=True, others=[other]).ensure([spec("chat:1b", state="absent")])[0]
    assert result.actions == ["deleted"] and other.requests == [] and fake.models


def test_check_memory_refuses_a_model_that_does_not_fit(fake: FakeOllama, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model import host_checks

    fake.put("huge:70b", size=10**12)
    monkeypatch.setattr(host_checks, "mem_available", lambda: 8 * 10**9)
    result = manager(fake, tmp_path, run_command=lambda argv: (0, "1024\n", ""), nvidia_smi="/usr/bin/nvidia-smi").ensure(
        [spec("huge:70b", state="loaded", check_memory=True)]
    )[0]
    assert result.failed
    assert result.msg == (
        "not enough memory to load huge:70b: it needs about 1.0 TB, and 8.0 GB RAM (MemAvailable) + 1.1 GB free GPU memory is available; "
        "unload other models (state: unloaded) or free memory first"
    )
    assert "/api/generate" not in fake.paths()


def test_custom_model_created_compared_and_recreated(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("base:1b")
    definition = {"from": "base:1b", "system": "Be brief."}
    created = manager(fake, tmp_path).ensure([spec("helper", definition=definition)])[0]
    assert created.actions == ["created"]
    assert created.record["from"] == "custom"
    create = next(p for _m, path, p in fake.requests if path == "/api/create")
    assert create == {"from": "base:1b", "system": "Be brief.", "model": "helper:latest", "stream": True}
    fake.requests.clear()
    same = manager(fake, tmp_path).ensure([spec("helper", definition=definition)])[0]
    assert same.actions == [] and fake.mutations() == [] and "/api/show" in fake.paths()
    changed = manager(fake, tmp_path).ensure([spec("helper", definition=dict(definition, system="Be briefer."))])[0]
    assert changed.actions == ["re-created"] and changed.differences == ["system"]
    assert (changed.before["system"], changed.after["system"]) == ("Be brief.", "Be briefer.")


def test_unknown_model_message_names_the_registry(fake: FakeOllama, tmp_path: Path) -> None:
    results = manager(fake, tmp_path).ensure([spec("hf.co/someone/nothing:Q4")])
    assert results[0].msg == "model 'hf.co/someone/nothing:Q4' not found in hf.co/someone: pull model manifest: file does not exist"
    assert failure_message(results) == results[0].msg


def test_failure_message_and_summary_over_a_list(fake: FakeOllama, tmp_path: Path) -> None:
    fake.publish("a:1b", size=400)
    results = manager(fake, tmp_path).ensure([spec("a:1b"), spec("nope:1b"), spec("nada:1b")])
    assert failure_message(results).startswith("2 of 3 models failed: model 'nope:1b' not found in registry.ollama.ai/library")
    totals = summary(results)
    assert totals["models"] == 3 and totals["bytes"] == 510  # the layer's 400 B and the config blob's 110 B
    assert failure_message(results[:1]) == ""


def test_server_errors_on_single_calls_fail_the_model_plainly(fake: FakeOllama, tmp_path: Path) -> None:
    fake.put("chat:1b")
    fake.call_failures["/api/delete"] = OllamaError("x", status=500, server_message="internal server error")
    result = manager(fake, tmp_path).ensure([spec("chat:1b", state="absent")])[0]
    assert result.failed and result.msg == "cannot delete chat:1b: internal server error"


# ---------------------------------------------------------------------------- failures of present models, pins on updates, unknown models


def test_a_failed_load_shows_failed_until_a_later_load_succeeds(fake: FakeOllama, tmp_path: Path) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model.record_search import all_records, search
    from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState, build_record

    fake.put("chat:1b")
    fake.call_failures["/api/generate"] = OllamaError("x", status=500, server_message="llama runner process has terminated: out of memory")
    failed = manager(fake, tmp_path).ensure([spec("chat:1b", state="loaded")])[0]
    assert failed.failed and failed.msg == "cannot load chat:1b: llama runner process has terminated: out of memory"
    assert (failed.record["status"], failed.record["message"]) == ("failed", failed.msg)
    # what ollama_model_info reads afterwards, on its own
    ledger = Ledger.open(str(tmp_path / "state"), create=False)
    state = ServerState(fake.tags(), fake.ps())
    assert build_record(parse_name("chat:1b"), state, ledger)["status"] == "failed"
    assert [r["name"] for r in search(all_records(state, ledger), statuses=["failed"])["models"]] == ["chat:1b"]
    recorded = ledger.read("chat:1b")
    assert recorded["failed_digest"] == fake.models[parse_name("chat:1b").key]["digest"] and recorded["failed_at"]

    loaded = manager(fake, tmp_path).ensure([spec("chat:1b", state="loaded")])[0]
    assert (loaded.changed, loaded.failed, loaded.record["status"]) == (True, False, "running")
    assert "failed_at" not in ledger.read("chat:1b")
    state = ServerState(fake.tags(), fake.ps())
    assert search(all_records(state, ledger), statuses=["failed"])["models"] == []


def test_update_to_a_pin_the_registry_does_not_serve_fails_before_pulling(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    new = fake.publish("llama3.2:1b", version=2)
    pin = "e" * 64
    expected = (
        "digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry serves sha256:%s; the update was refused "
        "before pulling anything, so llama3.2:1b stays at sha256:%s (pin sha256:%s to take the version the registry serves)" % (pin, new, old, new)
    )
    predicted = manager(fake, tmp_path, check_mode=True).ensure([spec(update=True, digest=pin)])[0]
    assert (predicted.failed, predicted.changed, predicted.msg) == (True, False, expected)
    assert fake.mutations() == []
    result = manager(fake, tmp_path).ensure([spec(update=True, digest=pin)])[0]
    assert (result.failed, result.changed, result.msg) == (True, False, expected)
    assert fake.mutations() == [], "nothing was pulled"
    assert fake.models[parse_name("llama3.2:1b").key]["digest"] == old
    assert result.record["status"] == "failed"
    # pinned to what the registry serves: the update goes ahead
    ok = manager(fake, tmp_path).ensure([spec(update=True, digest=new)])[0]
    assert (ok.failed, ok.actions, ok.after["digest"]) == (False, ["updated"], new)


def unreadable_registry(*_args: Any, **_kwargs: Any) -> Manifest:
    raise ResourceError("the registry at http://r cannot be reached: refused")


def test_unverifiable_pinned_update_restores_the_previous_version(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    new = fake.publish("llama3.2:1b", version=2)
    pin = "e" * 64
    mgr = manager(fake, tmp_path)
    mgr._fetch_manifest = unreadable_registry
    result = mgr.ensure([spec(update=True, digest=pin)])[0]
    assert result.failed
    assert result.msg == (
        "digest mismatch for llama3.2:1b after the update: the pin is sha256:%s but the registry served sha256:%s; that unverified version "
        "was removed and the previous version sha256:%s restored, so nothing unverified stays on the server" % (pin, new, old)
    )
    assert {key: model["digest"] for key, model in fake.models.items()} == {parse_name("llama3.2:1b").key: old}, "the backup copy is gone too"
    assert list(fake.mutations()) == ["/api/copy", "/api/pull", "/api/delete", "/api/copy", "/api/delete"]
    assert result.record["status"] == "failed" and result.record["digest"] == old


def test_pinned_update_without_a_backup_copy_is_refused_before_pulling(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    fake.publish("llama3.2:1b", version=2)
    fake.call_failures["/api/copy"] = OllamaError("x", status=500, server_message="disk quota")
    mgr = manager(fake, tmp_path)
    mgr._fetch_manifest = unreadable_registry
    result = mgr.ensure([spec(update=True, digest="e" * 64)])[0]
    assert result.failed and result.msg == (
        "llama3.2:1b was not updated: the copy to keep it, llama3.2:1b-llmops-prev, could not be made: disk quota; without that copy a "
        "pulled version that does not match the pin could not be undone, so nothing was pulled and llama3.2:1b stays at sha256:%s" % old
    )
    assert list(fake.mutations()) == ["/api/copy"], "no pull"
    assert {key: model["digest"] for key, model in fake.models.items()} == {parse_name("llama3.2:1b").key: old}


def test_a_tag_that_moves_between_the_check_and_the_pull_is_undone(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    checked = fake.publish("llama3.2:1b", version=2)
    mgr = manager(fake, tmp_path)
    real = mgr._fetch_manifest
    moved: list = []

    def moving(*args: Any, **kwargs: Any) -> Manifest:
        manifest = real(*args, **kwargs)
        moved.append(fake.publish("llama3.2:1b", version=3))  # the tag moves on right after the check
        return manifest

    mgr._fetch_manifest = moving
    result = mgr.ensure([spec(update=True, digest=checked)])[0]
    assert result.failed
    assert result.msg == (
        "digest mismatch for llama3.2:1b after the update: the pin is sha256:%s but the registry served sha256:%s; that unverified version "
        "was removed and the previous version sha256:%s restored, so nothing unverified stays on the server" % (checked, moved[-1], old)
    )
    assert {key: model["digest"] for key, model in fake.models.items()} == {parse_name("llama3.2:1b").key: old}


def test_the_backup_is_kept_when_the_unverified_version_cannot_be_removed(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    new = fake.publish("llama3.2:1b", version=2)
    mgr = manager(fake, tmp_path)
    mgr._fetch_manifest = unreadable_registry
    fake.call_failures["/api/delete"] = OllamaError("x", status=500, server_message="internal server error")
    result = mgr.ensure([spec(update=True, digest="e" * 64)])[0]
    assert result.failed
    assert "removing that unverified version failed (cannot delete llama3.2:1b: internal server error), so llama3.2:1b holds sha256:%s now" % new in result.msg
    assert result.msg.endswith("the previous version sha256:%s is kept as llama3.2:1b-llmops-prev: copy it back once that one is gone" % old)
    assert {key: model["digest"] for key, model in fake.models.items()} == {
        parse_name("llama3.2:1b").key: new,
        parse_name("llama3.2:1b-llmops-prev").key: old,
    }, "the only manifest of the verified version stays"


def test_unverifiable_pinned_update_when_the_registry_serves_the_present_version(fake: FakeOllama, tmp_path: Path) -> None:
    old = fake.put("llama3.2:1b")
    mgr = manager(fake, tmp_path)
    mgr._fetch_manifest = unreadable_registry
    result = mgr.ensure([spec(update=True, digest="e" * 64)])[0]
    assert result.failed and result.msg == (
        "digest mismatch for llama3.2:1b after the update: the pin is sha256:%s but the registry still serves sha256:%s, "
        "the version that was already present; nothing changed" % ("e" * 64, old)
    )
    assert list(fake.models) == [parse_name("llama3.2:1b").key]


def test_check_mode_fails_like_the_real_run_for_a_model_the_registry_lacks(fake: FakeOllama, tmp_path: Path) -> None:
    warnings: List[str] = []
    predicted = manager(fake, tmp_path / "check", check_mode=True, warn=warnings.append).ensure([spec("nope:1b")])[0]
    assert predicted.failed and not predicted.changed
    assert predicted.msg == (
        "model 'nope:1b' not found in registry.ollama.ai/library: the registry has no manifest for nope:1b at "
        "http://registry/v2/library/nope/manifests/1b (HTTP 404)"
    )
    assert warnings == [] and fake.mutations() == []
    actual = manager(fake, tmp_path).ensure([spec("nope:1b")])[0]
    prefix = "model 'nope:1b' not found in registry.ollama.ai/library: "
    assert actual.failed and actual.msg.startswith(prefix) and predicted.msg.startswith(prefix)

    # a present model whose registry no longer has it: the update fails the same way
    fake.put("gone:1b")
    del fake.registry[parse_name("gone:1b").key]
    fake.requests.clear()
    update = manager(fake, tmp_path / "check", check_mode=True).ensure([spec("gone:1b", update=True)])[0]
    assert update.failed and update.msg.startswith("model 'gone:1b' not found in registry.ollama.ai/library: the registry has no manifest")
    assert fake.mutations() == []

    # a registry that cannot be read is no prediction of failure: a warning, and the pull is planned
    mgr = manager(fake, tmp_path / "check", check_mode=True, warn=warnings.append)
    mgr._fetch_manifest = unreadable_registry
    planned = mgr.ensure([spec("other:1b")])[0]
    assert (planned.failed, planned.actions) == (False, ["pulled"])
    assert warnings == ["free-space check before pulling other:1b skipped: the registry at http://r cannot be reached: refused"]


def test_check_mode_fails_a_pull_whose_pin_the_registry_does_not_serve(fake: FakeOllama, tmp_path: Path) -> None:
    served = fake.publish("llama3.2:1b")
    predicted = manager(fake, tmp_path, check_mode=True).ensure([spec(digest="c" * 64)])[0]
    assert predicted.failed and predicted.msg.startswith(
        "digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry serves sha256:%s" % ("c" * 64, served)
    )
    actual = manager(fake, tmp_path).ensure([spec(digest="c" * 64)])[0]
    assert actual.failed
    assert actual.msg.startswith("digest mismatch for llama3.2:1b: the pin is sha256:%s but the registry served sha256:%s" % ("c" * 64, served))
    assert fake.models == {}
