# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based: every module, against any answer shape from Ollama or a registry, never gives a traceback.

A small HTTP server on loopback answers every path the modules read with a
well-formed answer, except one endpoint whose answer hypothesis generates
(random JSON, or the right shape with fields of any type). Each module then runs
in-process; it must end with exit_json or fail_json (a clear ``msg``, never an
exception escaping ``main()``), and a model's ledger record is never left
``downloading``. Bounded examples and a fixed seed (derandomize) keep it fast and
repeatable in CI.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.llmops.ollama.plugins.modules import ollama_info, ollama_mirror, ollama_model, ollama_model_info, ollama_model_sync
from tests.unit.plugins.modules.harness import run_module

# The blobs of the well-formed manifest, served for real (ollama_mirror fetches and verifies them).
WEIGHTS = b"w" * 1000
CONFIG_BLOB = b'{"a": "b"}'
DIGEST = "sha256:" + hashlib.sha256(WEIGHTS).hexdigest()
CONFIG = "sha256:" + hashlib.sha256(CONFIG_BLOB).hexdigest()
MANIFEST = {
    "schemaVersion": 2,
    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
    "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": CONFIG, "size": len(CONFIG_BLOB)},
    "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": DIGEST, "size": len(WEIGHTS)}],
}
TAG = {
    "name": "smollm2:135m",
    "model": "smollm2:135m",
    "modified_at": "2026-11-30T00:00:00Z",
    "size": 1000,
    "digest": "ef" * 32,
    "details": {"format": "gguf", "family": "llama", "families": ["llama"], "parameter_size": "135M", "quantization_level": "Q8_0"},
    "capabilities": ["completion"],
}
# An embedding model (the inference probe asks it for an embedding, POST /api/embed).
EMBED_TAG = dict(TAG, name="all-minilm:latest", model="all-minilm:latest", size=2000, capabilities=["embedding"], digest="12" * 32)

# What each endpoint answers when hypothesis does not replace it.
GOOD: Dict[Tuple[str, str], Any] = {
    ("GET", "/"): "Ollama is running",
    ("GET", "/api/version"): {"version": "0.32.15"},
    ("GET", "/api/tags"): {"models": [TAG, EMBED_TAG]},
    ("GET", "/api/ps"): {"models": []},
    ("POST", "/api/show"): {"modelfile": "FROM x", "parameters": "", "template": "{{ .Prompt }}", "details": TAG["details"], "capabilities": ["completion"]},
    ("POST", "/api/pull"): [{"status": "pulling manifest"}, {"status": "success"}],
    ("POST", "/api/create"): [{"status": "success"}],
    ("POST", "/api/generate"): {"model": "smollm2:135m", "response": "", "done": True, "done_reason": "load"},
    ("POST", "/api/embed"): {"model": "smollm2:135m", "embeddings": [[0.1]]},
    ("POST", "/api/copy"): None,
    ("DELETE", "/api/delete"): None,
    ("GET", "/v2/library/smollm2/manifests/135m"): MANIFEST,
    ("GET", "/v2/library/smollm2/manifests/360m"): MANIFEST,
    ("GET", "/v2/library/smollm2/blobs/" + DIGEST): WEIGHTS,
    ("GET", "/v2/library/smollm2/blobs/" + CONFIG): CONFIG_BLOB,
}


class AnswerServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.answers: Dict[Tuple[str, str], Any] = dict(GOOD)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.server_address[1]


class Handler(BaseHTTPRequestHandler):
    server: AnswerServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        key = (self.command if self.command != "HEAD" else "GET", path)
        if key not in self.server.answers:
            body, status, kind = b'{"error": "not found"}', 404, "application/json"
        else:
            answer = self.server.answers[key]
            status = 200
            if isinstance(answer, list) and key[1] in ("/api/pull", "/api/create"):
                body, kind = b"".join(json.dumps(line).encode() + b"\n" for line in answer), "application/x-ndjson"
            elif isinstance(answer, str) and key[1] == "/":
                body, kind = answer.encode(), "text/plain"
            elif answer is None:
                body, kind = b"", "text/plain"
            elif isinstance(answer, bytes):
                body, kind = answer, "application/octet-stream"
            else:
                body, kind = json.dumps(answer).encode(), "application/json"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    do_GET = do_POST = do_DELETE = do_HEAD = _answer


@pytest.fixture(autouse=True)
def _leave_no_warnings() -> Iterator[None]:
    """Ansible keeps a module's warnings in a process-wide store: clear what these in-process runs left for the next tests."""
    yield
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


_SERVER: Optional[AnswerServer] = None


def answer_server() -> AnswerServer:
    """One server for the whole module (hypothesis runs many examples per test function)."""
    global _SERVER
    if _SERVER is None:
        _SERVER = AnswerServer()
        threading.Thread(target=_SERVER.serve_forever, daemon=True).start()
    return _SERVER


@pytest.fixture(scope="module", autouse=True)
def _stop_server() -> Iterator[None]:
    yield
    global _SERVER
    if _SERVER is not None:
        _SERVER.shutdown()
        _SERVER.server_close()
        _SERVER = None


# ---------------------------------------------------------------- strategies
json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
any_json = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=12)


def maybe(strategy: st.SearchStrategy) -> st.SearchStrategy:
    """The right kind of value most of the time, anything else otherwise."""
    return st.one_of(strategy, strategy, any_json)


details = st.fixed_dictionaries(
    {},
    optional={
        "format": maybe(st.just("gguf")),
        "family": maybe(st.text(max_size=8)),
        "families": maybe(st.lists(st.text(max_size=8), max_size=2)),
        "parameter_size": maybe(st.just("135M")),
        "quantization_level": maybe(st.just("Q8_0")),
        "parent_model": maybe(st.just("")),
        "context_length": maybe(st.integers(0, 2**20)),
    },
)
names = st.sampled_from(["smollm2:135m", "smollm2:360m", "other:latest", "", "x" * 300, "bad name", "hf.co/a/b:Q4"])
model_entry = st.fixed_dictionaries(
    {"name": maybe(names)},
    optional={
        "model": maybe(names),
        "size": maybe(st.integers(-5, 2**40)),
        "digest": maybe(st.sampled_from(["ef" * 32, "zz", ""])),
        "modified_at": maybe(st.sampled_from(["2026-11-30T00:00:00Z", "yesterday", ""])),
        "details": maybe(details),
        "capabilities": maybe(st.lists(st.sampled_from(["completion", "embedding", "vision", "tools"]), max_size=3)),
        "size_vram": maybe(st.integers(-5, 2**40)),
        "expires_at": maybe(st.sampled_from(["2026-11-30T00:05:00Z", "2318-01-01T00:00:00Z", "never"])),
    },
)
model_list = st.one_of(st.fixed_dictionaries({"models": maybe(st.lists(maybe(model_entry), max_size=4))}), any_json)
show = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "modelfile": maybe(st.text(max_size=20)),
            "parameters": maybe(st.text(max_size=20)),
            "template": maybe(st.text(max_size=20)),
            "system": maybe(st.text(max_size=20)),
            "license": any_json,
            "details": maybe(details),
            "model_info": maybe(st.dictionaries(st.text(max_size=8), any_json, max_size=3)),
            "capabilities": maybe(st.lists(st.sampled_from(["completion", "embedding", "vision"]), max_size=3)),
        },
    ),
    any_json,
)
progress_line = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "status": maybe(st.sampled_from(["pulling manifest", "pulling abc", "verifying sha256 digest", "writing manifest", "success"])),
            "digest": maybe(st.just(DIGEST)),
            "total": maybe(st.integers(-1, 2000)),
            "completed": maybe(st.integers(-1, 2000)),
            "error": maybe(st.text(max_size=20)),
        },
    ),
    any_json,
)
stream = st.lists(progress_line, max_size=5)
layer = st.fixed_dictionaries(
    {"digest": maybe(st.sampled_from([DIGEST, "sha256:zz", "md5:00"])), "size": maybe(st.integers(-1, 2**45))},
    optional={"mediaType": maybe(st.sampled_from(["application/vnd.ollama.image.model", "application/vnd.ollama.image.template"]))},
)
manifest = st.one_of(
    st.fixed_dictionaries(
        {"layers": maybe(st.lists(maybe(layer), max_size=3))},
        optional={
            "schemaVersion": maybe(st.just(2)),
            "config": maybe(layer),
            "mediaType": maybe(st.just("application/vnd.docker.distribution.manifest.v2+json")),
        },
    ),
    any_json,
)
version = st.one_of(st.fixed_dictionaries({"version": maybe(st.just("0.32.15"))}), any_json)
generate = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "response": maybe(st.just("")),
            "done": maybe(st.booleans()),
            "done_reason": maybe(st.just("load")),
            "load_duration": maybe(st.integers(0, 10**10)),
            "error": maybe(st.text(max_size=10)),
        },
    ),
    any_json,
)
embed = st.one_of(
    st.fixed_dictionaries(
        {},
        optional={
            "embeddings": maybe(st.lists(maybe(st.lists(maybe(st.floats(-1, 1)), max_size=3)), max_size=2)),
            "model": maybe(st.just("smollm2:135m")),
            "load_duration": maybe(st.integers(0, 10**10)),
        },
    ),
    any_json,
)

# endpoint -> the answers hypothesis may put there
ENDPOINTS: Dict[Tuple[str, str], st.SearchStrategy] = {
    ("GET", "/api/tags"): model_list,
    ("GET", "/api/ps"): model_list,
    ("GET", "/api/version"): version,
    ("POST", "/api/show"): show,
    ("POST", "/api/pull"): stream,
    ("POST", "/api/create"): stream,
    ("POST", "/api/generate"): generate,
    ("POST", "/api/embed"): embed,
    ("GET", "/v2/library/smollm2/manifests/360m"): manifest,
}


# ---------------------------------------------------------------- modules
def runs(tmp: Path, url: str) -> List[Tuple[str, Any, Dict[str, Any], bool]]:
    """(label, module, args, check_mode) of every module run against one answer set."""
    state = str(tmp / "state")
    models = str(tmp / "models")
    transfer = {"state_dir": state, "models_path": models, "retries": 0, "registry_url": url, "min_free_space": 0}
    return [
        ("ollama_info", ollama_info, {"api_url": url}, False),
        ("ollama_info inference", ollama_info, {"api_url": url, "probe": "inference", "probe_timeout": 5}, False),
        ("ollama_info inference embed", ollama_info, {"api_url": url, "probe": "inference", "probe_model": "all-minilm:latest", "probe_timeout": 5}, False),
        ("ollama_mirror", ollama_mirror, {"path": str(tmp / "mirror"), "models": ["smollm2:360m"], "source": url, "retries": 0}, False),
        ("ollama_model_info", ollama_model_info, {"api_url": url, "state_dir": state}, False),
        ("ollama_model_info detail", ollama_model_info, {"api_url": url, "name": "smollm2:135m", "detail": True, "state_dir": state}, False),
        ("ollama_model present", ollama_model, dict(transfer, api_url=url, name="smollm2:360m", state="present"), False),
        ("ollama_model check", ollama_model, dict(transfer, api_url=url, name="smollm2:360m", state="present"), True),
        ("ollama_model loaded", ollama_model, dict(transfer, api_url=url, name="smollm2:135m", state="loaded"), False),
        (
            "ollama_model custom",
            ollama_model,
            dict(transfer, api_url=url, name="mine:latest", state="present", system="hi", **{"from": "smollm2:135m"}),
            False,
        ),
        ("ollama_model absent", ollama_model, dict(transfer, api_url=url, name="smollm2:135m", state="absent"), False),
        ("ollama_model_sync", ollama_model_sync, dict(transfer, api_url=url, models=["smollm2:135m", "smollm2:360m"], exclusive=True), False),
    ]


# The runs that read each fuzzed endpoint (a run that never asks for it would only repeat the well-formed case).
_MODEL_RUNS = ("ollama_model present", "ollama_model check", "ollama_model loaded", "ollama_model custom", "ollama_model absent", "ollama_model_sync")
_SERVER_RUNS = ("ollama_info", "ollama_info inference", "ollama_info inference embed", "ollama_model_info", "ollama_model_info detail", *_MODEL_RUNS)
READERS: Dict[Tuple[str, str], Tuple[str, ...]] = {
    ("GET", "/api/tags"): _SERVER_RUNS,
    ("GET", "/api/ps"): _SERVER_RUNS,
    ("GET", "/api/version"): _SERVER_RUNS,
    ("POST", "/api/show"): ("ollama_info inference", "ollama_info inference embed", "ollama_model_info detail", *_MODEL_RUNS),
    ("POST", "/api/pull"): _MODEL_RUNS,
    ("POST", "/api/create"): _MODEL_RUNS,
    ("POST", "/api/generate"): ("ollama_info inference", *_MODEL_RUNS),
    ("POST", "/api/embed"): ("ollama_info inference embed", *_MODEL_RUNS),
    ("GET", "/v2/library/smollm2/manifests/360m"): ("ollama_mirror", *_MODEL_RUNS),
}


def changed_answers(server: AnswerServer) -> Dict[str, Any]:
    """The answers that differ from the well-formed ones, for the failure message."""
    return {"%s %s" % key: value for key, value in server.answers.items() if GOOD.get(key, object()) != value}


def run_all(tmp: Path, capsys: pytest.CaptureFixture, endpoint: Optional[Tuple[str, str]] = None) -> None:
    """Every run (or, for a fuzzed endpoint, every run that reads it) against the server's answers."""
    server = answer_server()
    for label, module, args, check_mode in runs(tmp, server.url):
        if endpoint is not None and label not in READERS[endpoint]:
            continue
        try:
            result = run_module(module, args, capsys, check_mode=check_mode)
        except Exception as exc:  # the property: nothing but exit_json/fail_json leaves main()
            raise AssertionError("%s raised %s: %s with answers %r" % (label, type(exc).__name__, exc, changed_answers(server))) from exc
        if result.get("failed"):
            assert isinstance(result.get("msg"), str) and result["msg"], (label, result)
            assert "Traceback" not in result["msg"], (label, result["msg"])
            assert "exception" not in result, (label, result)
        for record in (tmp / "state").glob("**/*.json"):
            try:
                status = json.loads(record.read_text()).get("status")
            except (ValueError, AttributeError):
                continue
            assert status != "downloading", (label, record, changed_answers(server))


FUZZ = settings(max_examples=20, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def fuzz_one(endpoint: Tuple[str, str]) -> Callable[..., None]:
    @FUZZ
    @given(answer=ENDPOINTS[endpoint])
    def test(answer: Any, tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture) -> None:
        server = answer_server()
        server.answers = dict(GOOD)
        server.answers[endpoint] = answer
        run_all(tmp_path_factory.mktemp("fuzz"), capsys, endpoint)

    return test


test_any_tags_answer = fuzz_one(("GET", "/api/tags"))
test_any_ps_answer = fuzz_one(("GET", "/api/ps"))
test_any_version_answer = fuzz_one(("GET", "/api/version"))
test_any_show_answer = fuzz_one(("POST", "/api/show"))
test_any_pull_stream = fuzz_one(("POST", "/api/pull"))
test_any_create_stream = fuzz_one(("POST", "/api/create"))
test_any_generate_answer = fuzz_one(("POST", "/api/generate"))
test_any_embed_answer = fuzz_one(("POST", "/api/embed"))
test_any_registry_manifest = fuzz_one(("GET", "/v2/library/smollm2/manifests/360m"))


def test_the_well_formed_answers_pass(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The baseline the fuzzing departs from: every module succeeds or fails for a stated reason."""
    server = answer_server()
    server.answers = dict(GOOD)
    run_all(tmp_path, capsys)
    result = run_module(ollama_info, {"api_url": server.url}, capsys)
    assert result["healthy"] is True and result["version"] == "0.32.15"
    for model, kind in (("smollm2:135m", "generate"), ("all-minilm:latest", "embed")):
        result = run_module(ollama_info, {"api_url": server.url, "probe": "inference", "probe_model": model}, capsys)
        assert result["healthy"] is True and result["inference"]["kind"] == kind, result
    result = run_module(ollama_mirror, {"path": str(tmp_path / "m2"), "models": ["smollm2:360m"], "source": server.url}, capsys)
    assert result["changed"] is True and not result.get("failed"), result
    result = run_module(ollama_model_info, {"api_url": server.url, "name": "smollm2:135m", "detail": True, "state_dir": str(tmp_path / "s")}, capsys)
    assert not result.get("failed") and result["models"][0]["name"] == "smollm2:135m", result
