# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks that cannot be fooled, against a real nginx (issue 19, classes 6 and 7).

- No response header carries a control character taken from a request (nginx decodes ``%0d`` in ``$uri``).
- A mirror binding is verified by reading a real manifest through the configuration just written.
- A mirror path that nginx's workers cannot read is refused before anything is written, naming the path and
  the user; the allowlist's "forbidden" words are used for the allowlist only.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import socket
import tempfile
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.nginx_fixture import NginxServer, request, tree_digest
from tests.integration.playbook import PlaybookRun, run_playbook

pytestmark = pytest.mark.integration

FORBIDDEN_ADDRESS = b"this address may not use this Ollama server"
INJECTIONS = ["%0d%0aX-Injected:%20yes", "%0aX-Injected:%20yes", "%0dX-Injected:%20yes", "%0d%0a%0d%0a<html>", "%00", "%1b[31m", "%7f"]


def make_mirror(root: Path) -> tuple[Path, str, bytes]:
    blob = b"weights" * 100
    digest = hashlib.sha256(blob).hexdigest()
    manifest = json.dumps({"schemaVersion": 2, "layers": [{"digest": "sha256:" + digest, "size": len(blob)}]}).encode()
    repo = root / "v2" / "library" / "tiny"
    (repo / "manifests").mkdir(parents=True)
    (repo / "blobs").mkdir(parents=True)
    (repo / "manifests" / "1b").write_bytes(manifest)
    (repo / "manifests" / ("sha256:" + hashlib.sha256(manifest).hexdigest())).write_bytes(manifest)
    (repo / "blobs" / ("sha256:" + digest)).write_bytes(blob)
    return root, digest, manifest


def bind(nginx: NginxServer, **args: Any) -> PlaybookRun:
    before = nginx.generation()
    run = run_playbook("domain.yml", {"domain_args": nginx.module_args(**args)}, timeout=120)
    if run.rc == 0 and run.results("Bind").get("changed"):
        nginx.wait_generation_after(before)
    return run


def raw_get(port: int, target: str, host: str) -> tuple[bytes, list[bytes]]:
    """GET with the target exactly as given (no client-side quoting); the status line and the raw header lines."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"GET " + target.encode("ascii") + b" HTTP/1.1\r\nHost: " + host.encode() + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    return lines[0], lines[1:]


def assert_clean(status: bytes, headers: list[bytes], target: str) -> None:
    for line in headers:
        name, _sep, value = line.partition(b":")
        assert not name.strip().lower().startswith(b"x-injected"), (target, status, headers)
        assert re.fullmatch(rb"[A-Za-z0-9-]+", name), (target, status, headers)
        assert not re.search(rb"[\x00-\x08\x0a-\x1f\x7f]", value), (target, status, headers)


@pytest.fixture
def served_mirror() -> Iterator[Path]:
    """A mirror outside pytest's 0700 temporary tree, so that workers running as nobody may read it."""
    root = Path(tempfile.mkdtemp(prefix="llmops-pxo-mirror-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_no_response_header_carries_control_characters_from_a_request(nginx: NginxServer, sim, tmp_path: Path) -> None:
    mirror, digest, _manifest = make_mirror(tmp_path / "mirror")
    assert bind(nginx, domain="mirror.ollama.test", mirror_path=str(mirror), allow=["127.0.0.1"], verify=True).rc == 0
    run = bind(nginx, domain="redirect.ollama.test", upstream=sim.url, allow=["127.0.0.1"], tls="selfsigned", verify=True, access_log=True)
    assert run.rc == 0, run.results("Bind").get("msg")
    blob = "/v2/library/tiny/blobs/sha256:" + digest
    ok_status, ok_headers = raw_get(nginx.http_port, blob, "mirror.ollama.test")
    assert ok_status.endswith(b"200 OK") and b"Location: " + blob.encode() in ok_headers, "the blob location still works"
    checked = 0
    for injection in INJECTIONS:
        targets = [
            ("mirror.ollama.test", "/v2/library/tiny" + injection + "/blobs/sha256:" + digest),
            ("mirror.ollama.test", blob + injection),
            ("mirror.ollama.test", "/v2/library/tiny/manifests/1b" + injection),
            ("mirror.ollama.test", "/v2/" + injection),
            ("mirror.ollama.test", "/healthz?" + injection),
            ("redirect.ollama.test", "/" + injection),
            ("redirect.ollama.test", "/api/tags?x=" + injection),
        ]
        for host, target in targets:
            status, headers = raw_get(nginx.http_port, target, host)
            assert status.startswith(b"HTTP/1.1 "), (target, status)
            assert_clean(status, headers, target)
            checked += 1
    assert checked == 7 * len(INJECTIONS)


def test_a_mirror_is_verified_by_reading_a_real_manifest(nginx: NginxServer, tmp_path: Path) -> None:
    mirror, _digest, manifest = make_mirror(tmp_path / "mirror")
    run = bind(nginx, domain="mirror.ollama.test", mirror_path=str(mirror), allow=["127.0.0.1"], verify=True)
    result = run.results("Bind")
    assert run.rc == 0, result.get("msg")
    assert result["verified"]["path"] == "/v2/library/tiny/manifests/1b"
    assert result["verified"]["identity"] == result["binding"]["identity"]
    answer = request(nginx.http_port, "/v2/library/tiny/manifests/1b", host="mirror.ollama.test")
    assert answer.body == manifest and answer.headers["x-llmops-ollama-config"] == result["binding"]["identity"]


def test_an_unreadable_mirror_is_refused_and_forbidden_names_the_allowlist_only(tmp_path: Path, served_mirror: Path) -> None:
    nginx = NginxServer(tmp_path / "nginx-nobody", user="nobody nogroup")
    nginx.start()
    try:
        private = tmp_path / "private"
        private.mkdir(mode=0o700)
        private.chmod(0o700)
        hidden, _digest, _manifest = make_mirror(private / "mirror")
        before = tree_digest(nginx.root)
        run = bind(nginx, domain="hidden.ollama.test", mirror_path=str(hidden), allow=["127.0.0.1"], verify=True)
        result = run.results("Bind")
        assert run.rc != 0
        assert result["msg"].startswith("mirror_path %s cannot be served: nginx's workers run as nobody" % hidden), result["msg"]
        assert "mode 0700" in result["msg"] and "does not let nginx's worker user nobody through" in result["msg"], result["msg"]
        assert "forbidden" not in result["msg"]
        assert tree_digest(nginx.root) == before, "nothing was written"

        mirror, _digest, manifest = make_mirror(served_mirror / "mirror")
        run = bind(nginx, domain="mirror.ollama.test", mirror_path=str(mirror), allow=["127.0.0.1"], verify=True)
        assert run.rc == 0, run.results("Bind").get("msg")
        assert request(nginx.http_port, "/v2/library/tiny/manifests/1b", host="mirror.ollama.test").body == manifest
        # A file nginx's workers may not read, added after the binding: 403, and the answer does not blame the address.
        secret = mirror / "v2" / "library" / "tiny" / "manifests" / "2b"
        secret.write_bytes(manifest)
        secret.chmod(0o600)
        denied = request(nginx.http_port, "/v2/library/tiny/manifests/2b", host="mirror.ollama.test")
        assert denied.status == 403 and FORBIDDEN_ADDRESS not in denied.body and b"may not read" in denied.body
        # An address outside the allowlist: the allowlist's words.
        outside = request(nginx.http_port, "/v2/library/tiny/manifests/1b", host="mirror.ollama.test", source="127.0.0.2")
        assert outside.status == 403 and FORBIDDEN_ADDRESS in outside.body
    finally:
        nginx.stop()
