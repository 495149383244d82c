# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of model records (the search over them: test_record_search.py, /api/show: test_show_detail.py) and the registry helpers."""

from __future__ import annotations

import hashlib
import io
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError, URLError

from ansible_collections.llmops.ollama.plugins.module_utils.core.host import (
    ResourceError,
    api_is_local,
    default_models_path,
    free_bytes,
    mem_available,
    space_needed,
    vram_free,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DOWNLOADING, FAILED, PAUSED, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import (
    Manifest,
    ManifestNotFound,
    fetch_manifest,
    registry_base,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.model.record_search import all_records, search
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState, build_record, parse_time, source_of
from tests.unit.plugins.module_utils.model.test_record_search import names

DIGEST = "a" * 64


def tag(name: str, size: int = 1000, modified: str = "2026-01-01T00:00:00Z", digest: str = DIGEST, **details: Any) -> Dict[str, Any]:
    return {"name": name, "model": name, "size": size, "digest": digest, "modified_at": modified, "details": details}


def test_record_of_a_loaded_model(tmp_path: Path) -> None:
    state = ServerState([tag("llama3.2:1b", 1_321_098_329)], [{"name": "llama3.2:1b", "size": 2_000_000_000, "size_vram": 0, "expires_at": "soon"}])
    ledger = Ledger.open(str(tmp_path))
    ledger.log("llama3.2:1b", "pulled")
    record = build_record(parse_name("Llama3.2:1b"), state, ledger)
    assert record == {
        "name": "llama3.2:1b",
        "id": DIGEST[:12],
        "digest": DIGEST,
        "size": "1.3 GB",
        "size_bytes": 1_321_098_329,
        "from": "official",
        "status": "running",
        "message": "",
        "progress": None,
        "log_file": ledger.log_path("llama3.2:1b"),
        "log_file_exists": True,
        "created_at": "2026-01-01T00:00:00Z",
        "modified_at": "2026-01-01T00:00:00Z",
        "details": {},
        "loaded": {"size": 2_000_000_000, "size_vram": 0, "expires_at": "soon"},
        "capabilities": [],
        "remote_host": "",
        "remote_model": "",
    }


def test_statuses_from_server_and_ledger(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path))
    state = ServerState([tag("present:1b")], [])
    ledger.start("present:1b", "pull")  # an update in flight
    ledger.update("present:1b", progress={"completed": 5, "total": 10, "percent": 50.0})
    ledger.set_status("broken:1b", FAILED, "not found")
    ledger.set_status("full:1b", PAUSED, "disk full", progress={"completed": 3, "total": 700})
    ledger.set_status("gone:1b", "ok", "pulled")
    ledger.set_status("deleted:1b", "absent", "deleted")
    records = {r["name"]: r for r in all_records(state, ledger, [parse_name("declared:1b"), parse_name("present:1b")])}
    assert {name: r["status"] for name, r in records.items()} == {
        "present:1b": DOWNLOADING,
        "broken:1b": "failed",
        "full:1b": "paused",
        "gone:1b": "unavailable",
        "declared:1b": "unavailable",
    }
    assert records["present:1b"]["progress"]["percent"] == 50.0
    assert records["full:1b"]["size_bytes"] == 700, "a paused pull shows the size it will take"
    assert records["broken:1b"]["message"] == "not found"


def test_a_failure_of_a_present_model_shows_until_a_later_success(tmp_path: Path) -> None:
    times = iter(datetime(2026, 1, 1, 12, 0, second, tzinfo=timezone.utc).timestamp() for second in range(60))
    ledger = Ledger.open(str(tmp_path), clock=lambda: next(times))
    seen = "2026-01-01T10:00:00.5Z"
    state = ServerState([tag("chat:1b", modified=seen)], [{"name": "chat:1b"}])
    ledger.log("chat:1b", "loaded")  # an older success does not end a newer failure
    ledger.set_status(
        "chat:1b", FAILED, "cannot load chat:1b: out of memory", failed_at="2026-01-01T12:00:30+00:00", failed_digest=DIGEST, failed_modified_at=seen
    )
    record = build_record(parse_name("chat:1b"), state, ledger)
    assert (record["status"], record["message"]) == ("failed", "cannot load chat:1b: out of memory")
    assert record["loaded"] is not None, "the server's state is still in the record"
    found = search(all_records(state, ledger), statuses=["failed"])
    assert names(found) == ["chat:1b"]
    # the server changed the model since (a pull from the command line): the failure is over
    changed = ServerState([tag("chat:1b", modified="2026-01-01T13:00:00Z", digest="b" * 64)], [])
    assert build_record(parse_name("chat:1b"), changed, ledger)["status"] == "stopped"
    # the same model time written another way is the same time
    same = ServerState([tag("chat:1b", modified="2026-01-01T10:00:00.500000000+00:00")], [])
    assert build_record(parse_name("chat:1b"), same, ledger)["status"] == "failed"
    # a successful operation logged after the failure ends it
    for _tick in range(40):
        now = next(times)
    assert now > datetime(2026, 1, 1, 12, 0, 30, tzinfo=timezone.utc).timestamp()
    ledger.log("chat:1b", "loaded")
    assert build_record(parse_name("chat:1b"), state, ledger)["status"] == "running"


def test_an_older_failure_record_compares_the_server_time(tmp_path: Path) -> None:
    ledger = Ledger.open(str(tmp_path), clock=lambda: datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc).timestamp())
    ledger.set_status("chat:1b", FAILED, "cannot load chat:1b")  # no failed_* fields: updated_at is the failure's time
    before = ServerState([tag("chat:1b", modified="2026-01-01T11:00:00Z")], [])
    after = ServerState([tag("chat:1b", modified="2026-01-01T13:00:00+01:00")], [])
    later = ServerState([tag("chat:1b", modified="2026-01-01T12:30:00Z")], [])
    assert build_record(parse_name("chat:1b"), before, ledger)["status"] == "failed"
    assert build_record(parse_name("chat:1b"), after, ledger)["status"] == "failed", "13:00+01:00 is 12:00 UTC, not later"
    assert build_record(parse_name("chat:1b"), later, ledger)["status"] == "stopped"


def test_source_of() -> None:
    assert source_of(parse_name("llama3.2")) == "official"
    assert source_of(parse_name("user/model")) == "remote"
    assert source_of(parse_name("hf.co/a/b:Q4")) == "remote"
    assert source_of(parse_name("helper"), {"details": {"parent_model": "llama3.2:1b"}}) == "custom"
    assert source_of(parse_name("helper"), None, {"source": "custom"}) == "custom"


def test_cleanup_candidates_are_the_largest_not_loaded() -> None:
    state = ServerState([tag("a:1", 10), tag("b:1", 30), tag("c:1", 20), tag("d:1", 40)], [{"name": "d:1"}])
    assert [c["name"] for c in state.cleanup_candidates(exclude=parse_name("c:1"))] == ["b:1", "a:1"]
    assert state.cleanup_candidates(limit=1) == [{"name": "b:1", "size": "30 B", "size_bytes": 30}]


def test_parse_time() -> None:
    assert parse_time("2026-01-01T10:00:00.123456789Z") == datetime(2026, 1, 1, 10, 0, 0, 123456, tzinfo=timezone.utc)
    assert parse_time("2024-06-04T14:38:31.83753-07:00") == datetime(2024, 6, 4, 21, 38, 31, 837530, tzinfo=timezone.utc)
    assert parse_time("2026-01-01T10:00:00+0200").utcoffset() == timedelta(hours=2)
    assert parse_time("yesterday") is None and parse_time(None) is None


# ---------------------------------------------------------------------------- registry and resources


def test_manifest_digest_and_total() -> None:
    raw = json.dumps(
        {
            "config": {"digest": "sha256:" + "1" * 64, "size": 10},
            "layers": [
                {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + "2" * 64, "size": 1000},
                {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:" + "3" * 64, "size": 5},
            ],
        }
    ).encode()
    manifest = Manifest(raw, "u")
    assert (manifest.total, manifest.digest) == (1015, hashlib.sha256(raw).hexdigest())
    with pytest.raises(ResourceError, match="not a JSON manifest"):
        Manifest(b"<html>", "u")
    with pytest.raises(ResourceError, match="has no layers list"):
        Manifest(b"{}", "u")


class FakeRequest:
    def __init__(self, outcome: Any) -> None:
        self.outcome = outcome
        self.calls: List[tuple] = []

    def __call__(self, **kwargs: Any) -> FakeRequest:
        self.kwargs = kwargs
        return self

    def open(self, method: str, url: str) -> Any:
        self.calls.append((method, url))
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return io.BytesIO(self.outcome)


def test_fetch_manifest_urls_and_errors() -> None:
    ok = FakeRequest(b'{"layers": []}')
    fetch_manifest(parse_name("llama3.2:1b"), request_factory=ok)
    assert ok.calls == [("GET", "https://registry.ollama.ai/v2/library/llama3.2/manifests/1b")]
    assert "manifest.v2+json" in ok.kwargs["headers"]["Accept"]
    fetch_manifest(parse_name("hf.co/user/repo:Q4"), request_factory=ok)
    assert ok.calls[-1] == ("GET", "https://hf.co/v2/user/repo/manifests/Q4")
    fetch_manifest(parse_name("reg.local:5000/ns/m:t"), insecure=True, request_factory=ok)
    assert ok.calls[-1] == ("GET", "http://reg.local:5000/v2/ns/m/manifests/t")
    fetch_manifest(parse_name("m"), registry_url="http://127.0.0.1:9/", request_factory=ok)
    assert ok.calls[-1] == ("GET", "http://127.0.0.1:9/v2/library/m/manifests/latest")
    missing = FakeRequest(HTTPError("u", 404, "nf", {}, io.BytesIO(b"")))
    with pytest.raises(ResourceError, match=r"the registry has no manifest for m:latest at .* \(HTTP 404\)"):
        fetch_manifest(parse_name("m"), request_factory=missing)
    with pytest.raises(ManifestNotFound):
        fetch_manifest(parse_name("m"), request_factory=missing)
    # credentials in a URL never reach a message
    with pytest.raises(ManifestNotFound) as error:
        fetch_manifest(parse_name("m"), registry_url="https://user:s3cret@reg.example.com", request_factory=missing)
    assert "s3cret" not in str(error.value) and "https://***@reg.example.com/v2/library/m/manifests/latest" in str(error.value)
    refused = FakeRequest(URLError("refused"))
    with pytest.raises(ResourceError) as error:
        fetch_manifest(parse_name("m"), registry_url="https://tok@reg.example.com", request_factory=refused)
    assert "tok@" not in str(error.value) and error.type is ResourceError
    down = FakeRequest(URLError("refused"))
    with pytest.raises(ResourceError, match="cannot be reached: refused"):
        fetch_manifest(parse_name("m"), request_factory=down)
    assert registry_base(parse_name("https://hf.co/a/b")) == "https://hf.co"


def test_space_needed_and_free_bytes(tmp_path: Path) -> None:
    raw = json.dumps({"config": {"digest": "sha256:" + "1" * 64, "size": 4}, "layers": [{"digest": "sha256:" + "2" * 64, "size": 8}]}).encode()
    manifest = Manifest(raw, "u")
    with pytest.raises(ResourceError, match="does not exist on this host"):
        space_needed(manifest, str(tmp_path / "none"))
    assert space_needed(manifest, str(tmp_path)) == (12, 0)
    (tmp_path / "blobs").mkdir()
    (tmp_path / "blobs" / ("sha256-" + "1" * 64)).write_bytes(b"1234")
    (tmp_path / "blobs" / ("sha256-" + "2" * 64)).write_bytes(b"12")  # incomplete: still needed
    assert space_needed(manifest, str(tmp_path)) == (8, 4)
    assert free_bytes(str(tmp_path / "not" / "yet")) == free_bytes(str(tmp_path)) > 0


def test_host_readers(tmp_path: Path) -> None:
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal: 100 kB\nMemAvailable:   2048 kB\n")
    assert mem_available(str(meminfo)) == 2048 * 1024
    meminfo.write_text("MemTotal: 100 kB\n")
    with pytest.raises(ResourceError, match="has no MemAvailable line"):
        mem_available(str(meminfo))
    with pytest.raises(ResourceError, match="cannot be read"):
        mem_available(str(tmp_path / "none"))
    assert vram_free(lambda argv: (0, "1000\n 24\n", ""), "/bin/nvidia-smi") == 1024 * 1024 * 1024
    assert vram_free(lambda argv: (9, "", "no driver"), "/bin/nvidia-smi") is None
    assert vram_free(lambda argv: (0, "", ""), None) is None
    assert api_is_local("http://127.0.0.1:11434") and api_is_local("http://localhost:1") and api_is_local("http://[::1]:1")
    assert not api_is_local("https://ollama.example.com") and not api_is_local("http://10.0.0.5:11434")
    assert default_models_path({"OLLAMA_MODELS": "/data/models"}) == "/data/models"
    assert default_models_path({}) == os.path.join(os.path.expanduser("~"), ".ollama", "models")
