# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Property-based: a mirror.json, a bundle index or a bundle manifest of any shape never gives ollama_mirror a traceback.

hypothesis generates the file (random JSON, or the right shape with fields of any type); ollama_mirror runs
in-process (prune over the mirror; a bundle load) and must end with exit_json or fail_json, a message naming
the file. Bounded examples and a fixed seed keep it to seconds, and repeatable.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any, Dict

import pytest
from ansible.module_utils.common import warnings as ansible_warnings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.llmops.ollama.plugins.modules import ollama_mirror
from tests.unit.plugins.modules.harness import run_module

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
DIGEST = "sha256:" + hashlib.sha256(b"abcd").hexdigest()
BLOB = {"digest": DIGEST, "size": 4}
RECORD = {
    "name": "registry.ollama.ai/library/m:latest",
    "display": "m:latest",
    "host": "registry.ollama.ai",
    "repository": "library/m",
    "tag": "latest",
    "source": "https://registry.ollama.ai",
    "digest": "sha256:" + "cd" * 32,
    "size": 4,
    "blobs": [BLOB],
}

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["sha256:" + "0" * 64, "../../etc/passwd", "llama3.2", "", "sha256:xyz", "NaN"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12
)


def mutated(base: Dict[str, Any]) -> st.SearchStrategy:
    """``base`` with one field (or a nested one) replaced by any JSON value, or dropped."""
    keys = sorted(base)
    return st.tuples(st.sampled_from(keys), json_values, st.booleans()).map(lambda t: _replace(base, *t))


def _replace(base: Dict[str, Any], key: str, value: Any, drop: bool) -> Dict[str, Any]:
    out = json.loads(json.dumps(base))
    if drop:
        out.pop(key, None)
    else:
        out[key] = value
    return out


def deep(levels: int) -> str:
    return "[" * levels + "]" * levels


INDEX_FILES = st.one_of(
    json_values.map(json.dumps),
    st.builds(lambda models: json.dumps({"format": "llmops.ollama mirror", "version": 1, "models": models}), json_values),
    st.builds(lambda record: json.dumps({"models": {"registry.ollama.ai/library/m:latest": record}}), mutated(RECORD)),
    st.builds(lambda blob: json.dumps({"models": {"k": dict(RECORD, blobs=[blob])}}), st.one_of(json_values, mutated(BLOB))),
    st.sampled_from([deep(200_000), '{"models": ' + deep(5000) + "}", "\xff\xfe", "", "{" * 10]),
)


@pytest.fixture(autouse=True)
def _leave_no_warnings() -> Any:
    yield
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


def _run(capsys: pytest.CaptureFixture, args: Dict[str, Any]) -> Dict[str, Any]:
    result = run_module(ollama_mirror, args, capsys)
    assert "exception" not in result and "Traceback" not in json.dumps(result), result
    return result


@given(text=INDEX_FILES)
@SETTINGS
def test_any_mirror_json_gives_a_clean_result(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture, text: str) -> None:
    root = tmp_path_factory.mktemp("mirror")
    (root / "mirror.json").write_text(text, encoding="utf-8", errors="surrogateescape")
    for args in (
        {"path": str(root), "models": ["m"], "state": "absent", "prune": True},
        {"path": str(root), "bundle_dest": str(root.parent / (root.name + ".tar"))},
    ):
        result = _run(capsys, args)
        if result.get("failed"):
            assert "mirror.json" in result["msg"] or "holds no models" in result["msg"], result["msg"]


MANIFEST = {"schemaVersion": 2, "config": {"digest": DIGEST, "size": 4}, "layers": [{"digest": DIGEST, "size": 4}]}
BUNDLE_INDEX = {
    "format": "llmops.ollama mirror bundle",
    "version": 1,
    "models": [{"name": "registry.ollama.ai/library/m:latest", "repository": "library/m", "tag": "latest", "digest": "", "size": 4, "blobs": [BLOB]}],
    "blobs": [BLOB],
}


def _bundle(path: Path, index: Any, manifest: Any) -> None:
    raw_manifest = manifest.encode() if isinstance(manifest, str) else json.dumps(manifest).encode()
    if isinstance(index, dict) and isinstance(index.get("models"), list) and index["models"] and isinstance(index["models"][0], dict):
        index["models"][0].setdefault("digest", "")
        if index["models"][0].get("digest") == "":
            index["models"][0]["digest"] = "sha256:" + hashlib.sha256(raw_manifest).hexdigest()
    raw_index = index.encode() if isinstance(index, str) else json.dumps(index).encode()
    with tarfile.open(path, "w") as tar:
        for name, data in (("index.json", raw_index), ("manifests/registry.ollama.ai/library/m/latest", raw_manifest), ("blobs/sha256-" + DIGEST[7:], b"abcd")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


BUNDLES = st.one_of(
    st.tuples(json_values.map(json.dumps), st.just(MANIFEST)),
    st.tuples(mutated(BUNDLE_INDEX), st.just(MANIFEST)),
    st.tuples(st.builds(lambda blob: dict(BUNDLE_INDEX, blobs=[blob]), st.one_of(json_values, mutated(BLOB))), st.just(MANIFEST)),
    st.tuples(st.just(BUNDLE_INDEX), st.one_of(mutated(MANIFEST), json_values)),
    st.tuples(st.just(BUNDLE_INDEX), st.builds(lambda layer: dict(MANIFEST, layers=[layer]), st.one_of(json_values, mutated(BLOB)))),
    st.tuples(st.just(BUNDLE_INDEX), st.sampled_from([deep(200_000), '{"layers": ' + deep(3000) + "}"])),
    st.tuples(st.sampled_from([deep(200_000)]), st.just(MANIFEST)),
)


@given(case=BUNDLES)
@SETTINGS
def test_any_bundle_index_or_manifest_gives_a_clean_result(tmp_path_factory: pytest.TempPathFactory, capsys: pytest.CaptureFixture, case: Any) -> None:
    index, manifest = case
    tmp = tmp_path_factory.mktemp("bundle")
    bundle = tmp / "in.tar"
    _bundle(bundle, json.loads(json.dumps(index)) if not isinstance(index, str) else index, manifest)
    result = _run(capsys, {"path": str(tmp / "mirror"), "bundle": str(bundle)})
    if result.get("failed"):
        assert str(bundle) in result["msg"] or "bundle" in result["msg"], result["msg"]


# The cases of the issue, each named: a clean failure naming the file.
NAMED = [
    ("record not an object", {"models": {"k": []}}, 'models["k"]'),
    ("name not a name", {"models": {"k": dict(RECORD, name="../x y")}}, ".name"),
    ("blobs not a list", {"models": {"k": dict(RECORD, blobs="many")}}, ".blobs"),
    ("blob size not an integer", {"models": {"k": dict(RECORD, blobs=[{"digest": DIGEST, "size": "4"}])}}, ".size"),
    ("blob not an object", {"models": {"k": dict(RECORD, blobs=[7])}}, ".blobs[0]"),
    ("digest not sha256", {"models": {"k": dict(RECORD, digest="md5:1")}}, ".digest"),
    ("deep nesting", deep(200_000), "nested deeper"),
]


@pytest.mark.parametrize(("label", "content", "words"), NAMED, ids=[case[0] for case in NAMED])
def test_named_mirror_json_defects(tmp_path: Path, capsys: pytest.CaptureFixture, label: str, content: Any, words: str) -> None:
    (tmp_path / "mirror.json").write_text(content if isinstance(content, str) else json.dumps(content))
    before = (tmp_path / "mirror.json").read_bytes()
    result = _run(capsys, {"path": str(tmp_path), "models": ["m"], "state": "absent", "prune": True})
    assert result.get("failed") is True and str(tmp_path / "mirror.json") in result["msg"] and words in result["msg"], (label, result["msg"])
    assert (tmp_path / "mirror.json").read_bytes() == before, "the index was written over"


BUNDLE_NAMED = [
    ("blob size not an integer", dict(BUNDLE_INDEX, blobs=[{"digest": DIGEST, "size": "4"}]), MANIFEST, "not a byte count"),
    ("blob size a float", dict(BUNDLE_INDEX, blobs=[{"digest": DIGEST, "size": 4.0}]), MANIFEST, "not a byte count"),
    ("layers not objects", BUNDLE_INDEX, dict(MANIFEST, layers=["x", 1]), "not an object"),
    ("manifest nested 200,000 levels", BUNDLE_INDEX, deep(200_000), "nested deeper"),
    ("index nested 200,000 levels", deep(200_000), MANIFEST, "nested deeper"),
]


@pytest.mark.parametrize(("label", "index", "manifest", "words"), BUNDLE_NAMED, ids=[case[0] for case in BUNDLE_NAMED])
def test_named_bundle_defects(tmp_path: Path, capsys: pytest.CaptureFixture, label: str, index: Any, manifest: Any, words: str) -> None:
    bundle = tmp_path / "in.tar"
    _bundle(bundle, json.loads(json.dumps(index)) if not isinstance(index, str) else index, manifest)
    result = _run(capsys, {"path": str(tmp_path / "mirror"), "bundle": str(bundle)})
    assert result.get("failed") is True and str(bundle) in result["msg"] and words in result["msg"], (label, result["msg"])
    assert not (tmp_path / "mirror" / "v2").exists() or not list((tmp_path / "mirror" / "v2").rglob("*")), "something was placed"


def test_a_well_formed_bundle_is_placed(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """The control case: the fixtures above are a good bundle, so each refusal is the defect's own."""
    bundle = tmp_path / "in.tar"
    _bundle(bundle, json.loads(json.dumps(BUNDLE_INDEX)), MANIFEST)
    result = _run(capsys, {"path": str(tmp_path / "mirror"), "bundle": str(bundle)})
    assert not result.get("failed") and result["changed"] is True, result.get("msg")
