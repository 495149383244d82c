# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The mirror tree and bundles (module_utils/_mirror.py) against a fake registry."""

from __future__ import annotations

import json
import os
import tarfile
from pathlib import Path
from typing import Dict, List

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import BlobClient
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.bundles import load_bundle, verify_bundle, write_bundle
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.entries import Entry, MirrorError, manifest_blobs, parse_models, source_url
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.tree import Mirror, check_collisions, check_path
from tests.unit.fakes.registry import FakeRegistry, digest_of

SOURCE = "https://registry.example"
SHARED = b"shared layer " * 1000
BIG = os.urandom(3 << 20)
SMALL = b"small model " * 500


@pytest.fixture
def registry() -> FakeRegistry:
    fake = FakeRegistry()
    fake.add_model("library/big", "latest", [BIG, SHARED])
    fake.add_model("library/small", "1b", [SMALL, SHARED])
    fake.add_model("someone/other", "q4", [SMALL])
    return fake


def clients(registry: FakeRegistry):
    made: Dict[str, BlobClient] = {}

    def client_for(base: str) -> BlobClient:
        return made.setdefault(base, BlobClient(base, retries=0, request_factory=registry, sleep=lambda _s: None))

    return client_for


def fill(root: Path, registry: FakeRegistry, names: List[str], check_mode: bool = False) -> Mirror:
    mirror = Mirror(str(root), check_mode=check_mode)
    entries = mirror.resolve(parse_models(names), SOURCE, False, clients(registry))
    missing = mirror.plan_fetch(entries, 0)
    mirror.download(missing, clients(registry), 2)
    mirror.place(entries)
    return mirror


def files(root: Path) -> List[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# --------------------------------------------------------------------------- names


def test_parse_models_forms_and_normalisation() -> None:
    wanted = parse_models(["llama3.2", "llama3.2:latest", "a/b:c@sha256:" + "A" * 64, {"name": "x", "digest": "b" * 64}])
    assert [(w.name.display, w.pin) for w in wanted] == [("llama3.2:latest", None), ("a/b:c", "a" * 64), ("x:latest", "b" * 64)]


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "x", "digets": "a"}], "unknown key"),
        ([{"digest": "a" * 64}], "has no name"),
        (["bad name"], "invalid model name"),
        (["x@sha256:zz"], "invalid digest"),
        (["x@sha256:" + "a" * 64, "x:latest@sha256:" + "b" * 64], "listed twice with different digests"),
        ([{"name": "x@sha256:" + "a" * 64, "digest": "b" * 64}], "pins two digests"),
        (["../x"], "invalid model name"),
    ],
)
def test_parse_models_refuses(items: list, message: str) -> None:
    with pytest.raises(MirrorError, match=message):
        parse_models(items)


def test_source_url_by_host() -> None:
    assert source_url(parse_name("llama3.2"), SOURCE + "/") == SOURCE
    assert source_url(parse_name("hf.co/u/r:q"), SOURCE) == "https://hf.co"
    assert source_url(parse_name("127.0.0.1:5000/u/r"), SOURCE, insecure=True) == "http://127.0.0.1:5000"


def test_check_path(tmp_path: Path) -> None:
    with pytest.raises(MirrorError, match="root directory"):
        check_path("/")
    with pytest.raises(MirrorError, match="root directory"):
        check_path("/tmp/..")
    (tmp_path / "f").write_text("x")
    with pytest.raises(MirrorError, match="not a directory"):
        check_path(str(tmp_path / "f"))
    with pytest.raises(MirrorError, match="neither does its parent"):
        check_path(str(tmp_path / "a" / "b"))
    assert check_path(str(tmp_path / "new")) == str(tmp_path / "new")


def test_collisions() -> None:
    check_collisions([(parse_name("a/b:1"), "x"), (parse_name("a/b:2"), "y")])
    with pytest.raises(MirrorError, match="would share v2/A/B in the mirror"):
        check_collisions([(parse_name("a/b:1"), "x"), (parse_name("hf.co/A/B:2"), "y")])


def test_manifest_digests_are_checked_before_they_become_file_names() -> None:
    raw = json.dumps({"layers": [{"digest": "sha256:../../etc/passwd", "size": 1}]}).encode()
    with pytest.raises(MirrorError, match="invalid digest"):
        manifest_blobs(raw, "m")
    with pytest.raises(MirrorError, match="not sha256"):
        manifest_blobs(json.dumps({"layers": [{"digest": "md5:abc", "size": 1}]}).encode(), "m")
    with pytest.raises(MirrorError, match="not a JSON manifest"):
        manifest_blobs(b"<html>", "m")
    with pytest.raises(MirrorError, match="size"):
        manifest_blobs(json.dumps({"layers": [{"digest": "sha256:" + "a" * 64, "size": "1"}]}).encode(), "m")


# --------------------------------------------------------------------------- fill


def test_fill_stores_each_blob_once_and_links_it(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    mirror = fill(root, registry, ["big", "small:1b"])
    assert registry.served == len(BIG) + len(SMALL) + len(SHARED) + len(b'{"model_format":"gguf"}')  # each blob once
    assert sorted(b["digest"] for b in mirror.fetched) == sorted({digest_of(d) for d in (BIG, SHARED, SMALL, b'{"model_format":"gguf"}')})
    shared = root / "blobs" / digest_of(SHARED).replace(":", "-")
    assert os.stat(shared).st_nlink == 3  # the store and two repositories
    for repo, tag in (("big", "latest"), ("small", "1b")):
        raw = (root / "v2" / "library" / repo / "manifests" / tag).read_bytes()
        assert raw == registry.manifests[("library/" + repo, tag)]
        assert (root / "v2" / "library" / repo / "manifests" / digest_of(raw)).read_bytes() == raw
    index = json.loads((root / "mirror.json").read_text())["models"]
    assert index["registry.ollama.ai/library/big:latest"]["source"] == SOURCE
    assert not list((root / ".partial").iterdir())


def test_second_fill_fetches_nothing(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    fill(root, registry, ["big"])
    before = files(root)
    registry.served = 0
    mirror = fill(root, registry, ["big"])
    assert mirror.fetched == [] and registry.served == 0
    assert [m["changed"] for m in mirror.models] == [False]
    assert files(root) == before


def test_check_mode_writes_nothing(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    mirror = fill(root, registry, ["big"], check_mode=True)
    assert {b["digest"]: b["size"] for b in mirror.fetched}[digest_of(BIG)] == len(BIG)
    assert mirror.models[0]["changed"] is True
    assert not root.exists() and registry.served == 0
    assert set(mirror.after()) == {"big:latest"}


def test_a_corrupt_blob_places_nothing(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    registry.corrupt.add(digest_of(BIG))
    with pytest.raises(MirrorError, match=r"no manifest was placed.*has sha256:"):
        fill(root, registry, ["big"])
    assert not (root / "v2" / "library" / "big").exists()
    assert not (root / "blobs" / digest_of(BIG).replace(":", "-")).exists()
    assert not list((root / ".partial").iterdir()), "the mismatching partial file stays"
    assert not (root / "mirror.json").exists()


def test_too_little_space_is_refused_before_any_download(tmp_path: Path, registry: FakeRegistry, monkeypatch: pytest.MonkeyPatch) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.mirror import tree as _mirror

    monkeypatch.setattr(_mirror, "free_bytes", lambda _path: 1000)
    with pytest.raises(MirrorError, match=r"needs .* free"):
        fill(tmp_path / "m", registry, ["big"])
    assert registry.served == 0 and files(tmp_path / "m") == []


def test_pin_mismatch_refused(tmp_path: Path, registry: FakeRegistry) -> None:
    with pytest.raises(MirrorError, match="pinned to sha256:" + "a" * 64):
        fill(tmp_path / "m", registry, ["big@sha256:" + "a" * 64])
    assert registry.served == 0


def test_a_moved_tag_is_fetched_and_old_links_go(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    fill(root, registry, ["big"])
    old = registry.manifests[("library/big", "latest")]
    registry.add_model("library/big", "latest", [b"new weights" * 100, SHARED])
    mirror = fill(root, registry, ["big"])
    assert mirror.models[0]["changed"] is True
    blobs = {p.name for p in (root / "v2" / "library" / "big" / "blobs").iterdir()}
    assert digest_of(BIG) not in blobs and digest_of(SHARED) in blobs
    assert not (root / "v2" / "library" / "big" / "manifests" / digest_of(old)).exists()


def test_remove_and_prune(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    fill(root, registry, ["big", "small:1b"])
    mirror = Mirror(str(root))
    assert [m["name"] for m in mirror.remove(parse_models(["big"]))] == ["big:latest"]
    assert not (root / "v2" / "library" / "big").exists()
    assert (root / "blobs" / digest_of(BIG).replace(":", "-")).exists()
    gone = mirror.prune()
    assert [g["digest"] for g in gone] == [digest_of(BIG)]
    assert (root / "blobs" / digest_of(SHARED).replace(":", "-")).exists()
    again = Mirror(str(root))
    assert again.remove(parse_models(["big"])) == [] and again.prune() == []


# --------------------------------------------------------------------------- bundles


def test_bundle_round_trip(tmp_path: Path, registry: FakeRegistry) -> None:
    root = tmp_path / "m"
    mirror = fill(root, registry, ["big", "small:1b"])
    bundle = tmp_path / "b.tar"
    changed, index = write_bundle(mirror, list(mirror.index.values()), str(bundle))
    assert changed is True and len(index["blobs"]) == 4
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert names[0] == "index.json" and sum(1 for n in names if n.startswith("blobs/")) == 4
    assert write_bundle(mirror, list(mirror.index.values()), str(bundle))[0] is False

    inside = Mirror(str(tmp_path / "inside"))
    entries = load_bundle(inside, str(bundle), [], 0)
    inside.place(entries)
    served = [f for f in files(tmp_path / "inside") if f.startswith("v2/")]
    assert served == [f for f in files(root) if f.startswith("v2/")]
    for name in served:
        assert (tmp_path / "inside" / name).read_bytes() == (root / name).read_bytes()


def corrupt_member(bundle: Path, prefix: str) -> str:
    with tarfile.open(bundle) as tar:
        member = max((m for m in tar.getmembers() if m.name.startswith(prefix)), key=lambda m: m.size)
    with open(bundle, "r+b") as handle:
        handle.seek(member.offset_data)
        first = handle.read(1)
        handle.seek(member.offset_data)
        handle.write(bytes([first[0] ^ 0xFF]))
    return member.name


def test_a_corrupt_bundle_is_refused_before_anything_is_placed(tmp_path: Path, registry: FakeRegistry) -> None:
    mirror = fill(tmp_path / "m", registry, ["big", "small:1b"])
    for prefix in ("blobs/", "manifests/"):
        bundle = tmp_path / ("b-%s.tar" % prefix.strip("/"))
        write_bundle(mirror, list(mirror.index.values()), str(bundle))
        name = corrupt_member(bundle, prefix)
        inside = tmp_path / ("inside-" + prefix.strip("/"))
        with pytest.raises(MirrorError, match="nothing was placed"):
            load_bundle(Mirror(str(inside)), str(bundle), [], 0)
        assert files(inside) == [], name


def test_bundle_refusals(tmp_path: Path, registry: FakeRegistry) -> None:
    with pytest.raises(MirrorError, match="is not a file"):
        verify_bundle(str(tmp_path / "none.tar"))
    (tmp_path / "x.tar").write_bytes(b"not a tar")
    with pytest.raises(MirrorError, match="is not a mirror bundle"):
        verify_bundle(str(tmp_path / "x.tar"))
    mirror = fill(tmp_path / "m", registry, ["small:1b"])
    bundle = tmp_path / "b.tar"
    write_bundle(mirror, list(mirror.index.values()), str(bundle))
    with pytest.raises(MirrorError, match="has no big:latest; it holds: small:1b"):
        load_bundle(Mirror(str(tmp_path / "in")), str(bundle), parse_models(["big"]), 0)
    with pytest.raises(MirrorError, match="pinned to"):
        load_bundle(Mirror(str(tmp_path / "in")), str(bundle), parse_models(["small:1b@sha256:" + "c" * 64]), 0)
    # a member the index does not list
    extra = tmp_path / "extra.tar"
    with tarfile.open(bundle) as source, tarfile.open(extra, "w") as tar:
        for member in source.getmembers():
            tar.addfile(member, source.extractfile(member))
        payload = tmp_path / "payload"
        payload.write_bytes(b"x")
        tar.add(str(payload), arcname="../escape")
    with pytest.raises(MirrorError, match="does not list"):
        verify_bundle(str(extra))


def test_entry_digest_is_the_sha256_of_the_bytes(registry: FakeRegistry) -> None:
    raw = registry.manifests[("library/small", "1b")]
    entry = Entry(parse_name("small:1b"), raw, SOURCE)
    assert entry.digest == digest_of(raw) and entry.size == len(SMALL) + len(SHARED) + len(b'{"model_format":"gguf"}')
