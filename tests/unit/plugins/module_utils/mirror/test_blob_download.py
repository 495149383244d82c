# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mirror.blob_download against the fake registry of test_registry: streaming, Range resume, verification."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Dict, List

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import NotFound, RegistryError
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import BlobClient, BlobMismatch
from tests.unit.fakes.registry import BLOB, FakeRegistry, FakeResponse, digest_of


def client(registry: FakeRegistry, retries: int = 0) -> BlobClient:
    return BlobClient("https://registry.example", retries=retries, request_factory=registry, sleep=lambda _s: None)


def test_blob_streams_into_the_partial_file_in_chunks(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    seen: List[int] = []
    count = client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial), seen.append)
    assert count == len(BLOB) == sum(seen) and partial.read_bytes() == BLOB
    assert len(seen) > 1 and max(seen) <= 1 << 20  # never the whole blob at once


def test_partial_file_is_resumed_with_range(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    partial.write_bytes(BLOB[:1000])
    count = client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial))
    assert count == len(BLOB) - 1000 and partial.read_bytes() == BLOB
    assert registry.requests[-1][2]["Range"] == "bytes=1000-"


def test_a_registry_that_ignores_range_restarts_the_file(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    partial.write_bytes(BLOB[:1000])
    registry.ignore_range = True
    count = client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial))
    assert count == len(BLOB) and partial.read_bytes() == BLOB


def test_a_cut_is_resumed_within_the_run(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    registry.cuts[digest_of(BLOB)] = [2_000_000, 1_000_000]
    count = client(registry, retries=2).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial))
    assert partial.read_bytes() == BLOB
    assert count == len(BLOB) == registry.served  # no byte twice
    assert [headers.get("Range") for _m, _u, headers in registry.requests] == [None, "bytes=2000000-", "bytes=3000000-"]


def test_a_cut_without_retries_keeps_the_partial_file(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    registry.cuts[digest_of(BLOB)] = [2_000_000]
    with pytest.raises(RegistryError, match=r"broke off .* the partial file is kept, run the task again to resume"):
        client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial))
    assert partial.read_bytes() == BLOB[:2_000_000]


def test_digest_mismatch_removes_the_partial_file(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    registry.corrupt.add(digest_of(BLOB))
    with pytest.raises(BlobMismatch, match=r"has sha256:.*the partial file was removed"):
        client(registry, retries=3).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial))
    assert not partial.exists()


def test_size_mismatch_removes_the_partial_file(registry: FakeRegistry, tmp_path: Path) -> None:
    partial = tmp_path / "p"
    with pytest.raises(BlobMismatch, match="has %d bytes, the manifest lists %d" % (len(BLOB), len(BLOB) + 5)):
        client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB) + 5, str(partial))
    assert not partial.exists()
    partial.write_bytes(BLOB + b"extra")  # longer than the blob: thrown away, fetched afresh
    assert client(registry).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial)) == len(BLOB)


def test_a_body_that_ends_early_is_resumed(registry: FakeRegistry, tmp_path: Path) -> None:
    """A connection closed cleanly before Content-Length bytes came is a cut, not a size mismatch."""
    partial = tmp_path / "p"
    original = registry.answer

    def short(method: str, url: str, headers: Dict[str, str]) -> FakeResponse:
        response = original(method, url, headers)
        if "Range" not in headers:
            response._body = io.BytesIO(response._body.read(3000))
        return response

    registry.answer = short  # type: ignore[method-assign]
    assert client(registry, retries=1).fetch_blob("library/m", digest_of(BLOB), len(BLOB), str(partial)) == len(BLOB)
    assert partial.read_bytes() == BLOB


def test_blob_404(registry: FakeRegistry, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="no blob sha256:"):
        client(registry).fetch_blob("library/m", "sha256:" + "a" * 64, 10, str(tmp_path / "p"))
