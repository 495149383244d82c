# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Own weights: file digests read in chunks, HEAD before an upload, uploads streamed from the file (issue 12 item 4)."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pytest
from ansible.module_utils.six.moves.urllib.error import HTTPError

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.model import blobs as _blobs
from ansible_collections.llmops.ollama.plugins.module_utils.model.blobs import (
    FileUpload,
    InvalidFiles,
    check_model_files,
    digest_and_size,
    push_blob_file,
    upload_missing,
)


class Response:
    def read(self, _amount: int = -1) -> bytes:
        return b""

    def close(self) -> None:
        """Nothing to release."""


class StreamingTransport:
    """A request factory that reads an upload body the way http.client does (8 KiB blocks) and records it."""

    def __init__(self, missing: set, fail_first_upload: bool = False) -> None:
        self.missing = missing
        self.fail_first_upload = fail_first_upload
        self.calls: list = []

    def __call__(self, **kwargs: object) -> StreamingTransport:
        self.kwargs = kwargs
        return self

    def open(self, method: str, url: str, data: object = None) -> Response:
        digest = url.rsplit("/", 1)[-1]
        call = {"method": method, "digest": digest, "headers": dict(self.kwargs["headers"]), "body_type": type(data).__name__}
        self.calls.append(call)
        if method == "HEAD":
            if digest in self.missing:
                raise HTTPError(url, 404, "not found", {}, io.BytesIO(b'{"error":"blob not found"}'))
            return Response()
        assert isinstance(data, FileUpload), "an upload is streamed from the file, never handed over as bytes"
        sha, blocks = hashlib.sha256(), []
        while True:
            block = data.read(8192)
            if not block:
                break
            blocks.append(len(block))
            sha.update(block)
            if self.fail_first_upload:
                self.fail_first_upload = False
                raise HTTPError(url, 503, "busy", {}, io.BytesIO(b""))
        call.update(received="sha256:" + sha.hexdigest(), largest_block=max(blocks), total=sum(blocks))
        self.missing.discard(digest)
        return Response()


def weights(tmp_path: Path, name: str = "w.gguf", size: int = 300_000) -> tuple:
    path = tmp_path / name
    data = (b"GGUF" + bytes(range(256)) * (size // 256 + 1))[:size]
    path.write_bytes(data)
    return path, "sha256:" + hashlib.sha256(data).hexdigest()


def test_the_digest_is_read_in_chunks_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, digest = weights(tmp_path)
    monkeypatch.setattr(_blobs, "CHUNK", 4096)
    reads: list = []
    real_open = open

    def spying_open(file, mode="r", *args, **kwargs):
        handle = real_open(file, mode, *args, **kwargs)
        original = handle.read

        def read(amount=-1):
            reads.append(amount)
            return original(amount)

        handle.read = read
        return handle

    monkeypatch.setattr("builtins.open", spying_open)
    assert digest_and_size(str(path))[0] == digest
    assert reads and all(amount == 4096 for amount in reads), "never read whole"
    reads.clear()
    assert digest_and_size(str(path))[0] == digest and reads == []  # same path, size and mtime: not read again


def test_only_missing_blobs_are_uploaded_streamed_with_their_length(tmp_path: Path) -> None:
    first, first_digest = weights(tmp_path, "a.gguf")
    second, second_digest = weights(tmp_path, "b.gguf", size=5000)
    files = [item.as_dict() for item in check_model_files([{"path": str(first)}, {"path": str(second), "name": "adapter.gguf"}], "files")]
    transport = StreamingTransport({first_digest})
    client = OllamaClient(request_factory=transport, sleep=lambda _s: None)
    sent = upload_missing(client, files)
    assert [item["name"] for item in sent] == ["a.gguf"]
    assert [(c["method"], c["digest"]) for c in transport.calls] == [("HEAD", first_digest), ("POST", first_digest), ("HEAD", second_digest)]
    upload = transport.calls[1]
    assert upload["received"] == first_digest and upload["total"] == 300_000 and upload["largest_block"] <= 8192
    assert upload["headers"]["Content-Length"] == "300000" and upload["headers"]["Content-Type"] == "application/octet-stream"
    # a second time: every blob is there, nothing is sent
    transport.calls.clear()
    assert upload_missing(client, files) == []
    assert [c["method"] for c in transport.calls] == ["HEAD", "HEAD"]


def test_a_retried_upload_sends_the_whole_file_again(tmp_path: Path) -> None:
    path, digest = weights(tmp_path)
    transport = StreamingTransport({digest}, fail_first_upload=True)
    client = OllamaClient(request_factory=transport, sleep=lambda _s: None)
    push_blob_file(client, digest, str(path), 300_000)
    assert transport.calls[-1]["received"] == digest and transport.calls[-1]["total"] == 300_000


def test_an_unreadable_file_is_an_ollama_error(tmp_path: Path) -> None:
    client = OllamaClient(request_factory=StreamingTransport(set()), sleep=lambda _s: None)
    with pytest.raises(OllamaError, match="cannot read"):
        push_blob_file(client, "sha256:" + "0" * 64, str(tmp_path / "gone.gguf"), 1)


def test_names_default_to_the_base_name_and_must_be_unique(tmp_path: Path) -> None:
    path, digest = weights(tmp_path, "model.gguf", 100)
    found = check_model_files([str(path)], "files")
    assert [(item.name, item.digest, item.size) for item in found] == [("model.gguf", digest, 100)]
    with pytest.raises(InvalidFiles, match=r"files\[1\]: the name 'model.gguf' is given twice"):
        check_model_files([{"path": str(path)}, {"path": str(path), "name": "model.gguf"}], "files")
    with pytest.raises(InvalidFiles, match=r"adapters\[0\] must be a dictionary"):
        check_model_files([3], "adapters")


# ---------------------------------------------------------------------------- files are what they claim to be (issue 19 class 5)
def _special(tmp_path: Path, kind: str) -> Path:
    if kind == "symlink":
        (tmp_path / "secret").write_text("root only")
        (tmp_path / "w.gguf").symlink_to(tmp_path / "secret")
        return tmp_path / "w.gguf"
    if kind == "fifo":
        os.mkfifo(tmp_path / "w.gguf")
        return tmp_path / "w.gguf"
    if kind == "device":
        return Path("/dev/zero")
    (tmp_path / "w.gguf").mkdir()
    return tmp_path / "w.gguf"


@pytest.mark.parametrize(
    ("kind", "words"), [("symlink", "symbolic link"), ("fifo", "not a regular file"), ("device", "not a regular file"), ("dir", "not a regular file")]
)
@pytest.mark.parametrize("option", ["files", "adapters"])
def test_special_paths_are_refused(tmp_path: Path, kind: str, words: str, option: str) -> None:
    path = _special(tmp_path, kind)
    with pytest.raises(InvalidFiles, match=words) as error:
        check_model_files([{"path": str(path)}], option)
    assert option + "[0]" in str(error.value) and str(path) in str(error.value)


def test_remove_unused_blob(tmp_path: Path) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.model.blobs import remove_unused_blob

    used, unused = "sha256:" + "a" * 64, "sha256:" + "b" * 64
    (tmp_path / "blobs").mkdir()
    (tmp_path / "manifests" / "h" / "ns" / "m").mkdir(parents=True)
    (tmp_path / "manifests" / "h" / "ns" / "m" / "t").write_text('{"layers": [{"digest": "%s"}]}' % used)
    for digest in (used, unused):
        (tmp_path / "blobs" / ("sha256-" + digest[7:])).write_text("x")
    assert remove_unused_blob(str(tmp_path), used) is False and (tmp_path / "blobs" / ("sha256-" + "a" * 64)).exists()
    assert remove_unused_blob(str(tmp_path), unused) is True and not (tmp_path / "blobs" / ("sha256-" + "b" * 64)).exists()
    assert remove_unused_blob(str(tmp_path), unused) is False  # not there: nothing proven
    assert remove_unused_blob(None, unused) is False
    assert remove_unused_blob(str(tmp_path), "sha256:../../x") is False
