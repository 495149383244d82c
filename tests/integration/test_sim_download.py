# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The simulator downloads models over HTTP as Ollama does (tests/ollama_sim/download.py).

An upstream simulator's /v2 registry stands in for registry.ollama.ai (``blob_redirect``: blobs
307 to another loopback name, as registry.ollama.ai sends them to its CDN); a second simulator
pulls from it with ``--registry``, or by a host-named reference, plain http with ``insecure`` or
https through a real nginx whose certificate comes from a private CA given by SSL_CERT_FILE.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from tests.integration.nginx_fixture import LoopbackCA, NginxServer
from tests.ollama_sim.testing import Sim

SMALL = "smollm2:135m"
UPSTREAM_RATE = 200_000_000.0


def entry(sim: Sim, name: str = SMALL) -> Dict[str, Any]:
    return next(model for model in sim.catalog_models() if model["name"] == name)


def tags(sim: Sim) -> Dict[str, str]:
    """name -> digest of /api/tags."""
    return {model["name"]: model["digest"] for model in sim.call("GET", "/api/tags")[1]["models"]}


def pull_error(sim: Sim, model: str, **extra: Any) -> str:
    """The error of a failed non-streamed pull (status 500)."""
    status, body = sim.call("POST", "/api/pull", dict({"model": model, "stream": False}, **extra), timeout=120)
    assert status == 500, body
    return body["error"]


def blob_files(sim: Sim) -> List[str]:
    return sorted(path.name for path in (sim.data / "blobs").iterdir())


@pytest.fixture
def upstream(make_sim: Callable[..., Sim]) -> Sim:
    """The registry.ollama.ai stand-in."""
    return make_sim("upstream", rate=UPSTREAM_RATE, blob_redirect=True)


def test_registry_pull_fetches_each_byte_once(upstream: Sim, make_sim: Callable[..., Sim]) -> None:
    model = entry(upstream)
    sim = make_sim("models", registry=upstream.url)
    lines = sim.pull(SMALL)
    assert lines[0] == {"status": "pulling manifest"}
    assert [line["status"] for line in lines[-3:]] == ["verifying sha256 digest", "writing manifest", "success"]
    layers = model["layers"]
    for layer in layers:
        last = [line for line in lines if line.get("digest") == layer["digest"]][-1]
        assert (last["status"], last["total"], last["completed"]) == ("pulling %s" % layer["digest"][7:19], layer["size"], layer["size"])
    assert upstream.stats()["served"] == model["size"]
    assert sim.stats()["pulled"] == model["size"]
    assert tags(sim) == {SMALL: model["digest"]}
    for layer in layers:
        path = sim.data / "blobs" / ("sha256-" + layer["digest"][7:])
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == layer["digest"]
    assert not [name for name in blob_files(sim) if "partial" in name]

    # as Ollama: the manifest with its Accept header, then per blob a HEAD (size), a GET without Range
    # (its Location is the download URL: the CDN) and GETs with Range there
    seen = [(r["method"], r["path"], r["status"]) for r in upstream.requests()]
    big = layers[0]["digest"]
    assert seen[0] == ("GET", "/v2/library/smollm2/manifests/135m", 200)
    assert ("HEAD", "/v2/library/smollm2/blobs/" + big, 307) in seen
    assert ("GET", "/v2/library/smollm2/blobs/" + big, 307) in seen
    assert ("GET", "/cdn/v2/library/smollm2/blobs/" + big, 206) in seen
    assert not [r for r in seen if r[0] == "GET" and r[1].startswith("/cdn/") and r[2] != 206]

    # a second pull is all cache hits; nothing more comes from upstream
    upstream.clear_stats()
    lines = sim.pull(SMALL)
    assert upstream.stats()["served"] == 0
    assert all(line["completed"] == line["total"] for line in lines if "digest" in line)


def test_large_blob_comes_in_parallel_range_parts(make_sim: Callable[..., Sim], tmp_path: Path) -> None:
    """Parts of size/16 held between 100 MB and 1000 MB, as download.go cuts them: 210 MB is 100 + 100 + 10."""
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps({"models": [{"name": "big:1", "size": 210_000_000}]}))
    upstream = make_sim("upstream", rate=0, catalog=catalog, blob_redirect=True)
    model = entry(upstream, "big:1")
    layer = model["layers"][0]
    sim = make_sim("models", registry=upstream.url)
    sim.pull("big:1", timeout=300)
    assert tags(sim) == {"big:1": model["digest"]}
    assert upstream.stats()["served"] == model["size"]
    gets = [r["status"] for r in upstream.requests() if r["method"] == "GET" and r["path"] == "/cdn/v2/library/big/blobs/" + layer["digest"]]
    assert gets == [206, 206, 206]
    pulls = sim.pulls()["pulls"]
    assert [(p["model"], p["outcome"]) for p in pulls] == [("big:1", "success")]


def test_registry_errors_are_ollamas(upstream: Sim, make_sim: Callable[..., Sim]) -> None:
    sim = make_sim("models", registry=upstream.url)
    assert pull_error(sim, "no-such-model:1b") == "pull model manifest: file does not exist"
    upstream.stop()
    assert pull_error(sim, SMALL) == 'pull model manifest: Get "%s/v2/library/smollm2/manifests/135m": dial tcp 127.0.0.1:%d: connect: connection refused' % (
        upstream.url,
        upstream.port,
    )
    assert tags(sim) == {}


def test_registry_that_serves_blobs_without_location_fails_as_ollama_does(make_sim: Callable[..., Sim]) -> None:
    """Ollama takes the download URL from the Location of the first blob GET, also of a 200 (ollama/ollama#7244)."""
    plain = make_sim("plain", rate=UPSTREAM_RATE)
    sim = make_sim("models", registry=plain.url)
    assert pull_error(sim, SMALL) == "http: no Location header in response"
    assert tags(sim) == {}


def test_host_named_pull_over_plain_http_with_insecure(upstream: Sim, make_sim: Callable[..., Sim]) -> None:
    model = entry(upstream)
    sim = make_sim("models")  # no --registry: names of registry.ollama.ai still come from the catalogue
    host = "127.0.0.1:%d" % upstream.port
    name = "%s/library/smollm2:135m" % host
    assert pull_error(sim, name) == (
        'pull model manifest: Get "https://%s/v2/library/smollm2/manifests/135m": http: server gave HTTP response to HTTPS client' % host
    )
    assert pull_error(sim, "%s/library/nope:1" % host, insecure=True) == "pull model manifest: file does not exist"
    sim.pull(name, insecure=True)
    assert upstream.stats()["served"] == model["size"]
    assert tags(sim) == {name: model["digest"]}
    manifest = sim.data / "manifests" / host / "library" / "smollm2" / "135m"
    assert hashlib.sha256(manifest.read_bytes()).hexdigest() == model["digest"]

    # the copy to the canonical name is the same manifest; deleting the host-named one keeps every blob
    assert sim.call("POST", "/api/copy", {"source": name, "destination": SMALL})[0] == 200
    assert tags(sim) == {name: model["digest"], SMALL: model["digest"]}
    before = blob_files(sim)
    assert sim.call("DELETE", "/api/delete", {"model": name})[0] == 200
    assert tags(sim) == {SMALL: model["digest"]}
    assert blob_files(sim) == before
    assert sim.call("POST", "/api/show", {"model": SMALL})[0] == 200
    assert upstream.stats()["served"] == model["size"]


def test_cut_download_resumes_from_its_parts(make_sim: Callable[..., Sim]) -> None:
    upstream = make_sim("upstream", rate=4_000_000.0, blob_redirect=True)
    model = entry(upstream)
    layer = model["layers"][0]
    sim = make_sim("models", registry=upstream.url)
    sim.faults(cut_at_percent=50)
    with pytest.raises(http.client.IncompleteRead):
        sim.request("POST", "/api/pull", {"model": SMALL})
    stem = sim.data / "blobs" / ("sha256-%s-partial" % layer["digest"][7:])
    part = Path(str(stem) + "-0")
    for _attempt in range(100):
        if part.exists() and b'"Completed":0}' not in part.read_bytes():
            break
        time.sleep(0.05)
    assert stem.stat().st_size == layer["size"]  # the file has the blob's size from the start, as in Ollama
    assert '"Offset":0,"Size":%d' % layer["size"] in part.read_text()
    assert tags(sim) == {}
    served_before = upstream.stats()["served"]
    assert 0 < served_before < model["size"]

    upstream.clear_requests()
    sim.pull(SMALL)
    assert tags(sim) == {SMALL: model["digest"]}
    assert not stem.exists() and not part.exists()
    ranges = [r for r in upstream.requests() if r["path"] == "/cdn/v2/library/smollm2/blobs/" + layer["digest"]]
    assert [(r["method"], r["status"]) for r in ranges] == [("GET", 206)]
    # resumed, not started again: the model's bytes came from upstream about once
    assert model["size"] <= upstream.stats()["served"] <= 1.10 * model["size"]


def test_corrupted_blob_fails_the_digest_check(upstream: Sim, make_sim: Callable[..., Sim]) -> None:
    model = entry(upstream)
    layer = model["layers"][0]
    bad = "A" * layer["size"]
    upstream.faults(
        respond={
            "path": "/cdn/v2/library/smollm2/blobs/" + layer["digest"],
            "method": "GET",
            "status": 206,
            "raw": bad,
            "content_type": "application/octet-stream",
        }
    )
    sim = make_sim("models", registry=upstream.url)
    got = "sha256:" + hashlib.sha256(bad.encode()).hexdigest()
    assert pull_error(sim, SMALL) == "digest mismatch, file must be downloaded again: want %s, got %s" % (layer["digest"], got)
    assert tags(sim) == {}
    assert "sha256-" + layer["digest"][7:] not in blob_files(sim)
    upstream.clear_faults()
    sim.pull(SMALL)
    assert tags(sim) == {SMALL: model["digest"]}


def _nginx_registry(nginx: NginxServer, ca: LoopbackCA, upstream: Sim) -> None:
    """nginx in front of the upstream's /v2 over TLS; blob answers carry the Location Ollama reads."""
    cert, key = ca.issue(["localhost"], "registry")
    (nginx.conf_d / "registry.conf").write_text(
        "\n".join(
            [
                "server {",
                "    listen 127.0.0.1:%d ssl;" % nginx.https_port,
                "    server_name localhost;",
                "    ssl_certificate %s;" % cert,
                "    ssl_certificate_key %s;" % key,
                "    location /v2/ {",
                "        proxy_pass http://127.0.0.1:%d;" % upstream.port,
                "        proxy_buffering off;",
                '        location ~ "^/v2/.+/blobs/sha256:[0-9a-f]{64}$" {',  # quoted: braces in a regex
                "            proxy_pass http://127.0.0.1:%d;" % upstream.port,
                "            proxy_buffering off;",
                "            add_header Location $uri always;",
                "        }",
                "    }",
                "}",
                "",
            ]
        )
    )
    nginx.stop()
    nginx.start()


def test_https_registry_behind_nginx_with_a_private_ca(make_sim: Callable[..., Sim], nginx: NginxServer, tmp_path: Path) -> None:
    upstream = make_sim("upstream", rate=UPSTREAM_RATE)
    model = entry(upstream)
    ca = LoopbackCA(tmp_path / "ca")
    _nginx_registry(nginx, ca, upstream)
    host = "localhost:%d" % nginx.https_port
    name = "%s/library/smollm2:135m" % host

    untrusting = make_sim("untrusting", env={"SSL_CERT_FILE": str(tmp_path / "empty.pem")})
    (tmp_path / "empty.pem").write_text("")
    assert pull_error(untrusting, name) == (
        'pull model manifest: Get "https://%s/v2/library/smollm2/manifests/135m": ' % host
        + "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    )

    sim = make_sim("models", env={"SSL_CERT_FILE": str(ca.ca_file)})
    sim.pull(name)
    assert tags(sim) == {name: model["digest"]}
    for layer in model["layers"]:
        path = sim.data / "blobs" / ("sha256-" + layer["digest"][7:])
        assert "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest() == layer["digest"]

    by_dir = make_sim("by-dir", env={"SSL_CERT_DIR": str(ca.directory), "SSL_CERT_FILE": str(tmp_path / "empty.pem")})
    by_dir.pull(name)
    assert tags(by_dir) == {name: model["digest"]}
