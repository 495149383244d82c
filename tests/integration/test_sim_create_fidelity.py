# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The simulator creates models as Ollama does (issue 23), through the official ``ollama`` client.

Each test cites the Go source it follows (Ollama v0.32.15, unchanged in v0.33.0-rc2):
- server/create.go createModel, copyLayerWithLlamaQuantize, rewriteLayerWithLlamaQuantize: a GGUF
  given in ``files`` is rewritten by llama-quantize's COPY into a new layer (new digest, no ``from``):
  ``validating GGUF model`` progress, ``verifying conversion``, then silence while the output is hashed;
  a file llama.cpp cannot load fails with ``failed to validate GGUF with llama-quantize without
  compatibility patches: ...``;
- server/create.go setTemplate: the template is parsed (text/template), ``template error: ...`` is a 400;
- server/routes.go: a cloud call of a server not signed in is 401 ``unauthorized`` with ``signin_url``;
  a stub whose remote host is not in OLLAMA_REMOTES (envconfig.Remotes) is 400;
- server/images.go PruneLayers: unused blobs are removed at start, except those modified within
  layerPruneGracePeriod (one hour);
- types/model/config.go ConfigV2: a created model's config has no ``rootfs``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

import ollama
import pytest

from tests.ollama_sim.catalog import make_gguf
from tests.ollama_sim.testing import run_sim

pytestmark = pytest.mark.integration

SMALL = "smollm2:135m"


def _weights(tmp_path: Path, name: str = "tiny.gguf", **spec) -> Path:
    spec.setdefault("architecture", "llama")
    spec.setdefault("parameter_count", 1_100_000_000)
    spec.setdefault("file_type", "Q4_0")
    path = tmp_path / name
    path.write_bytes(make_gguf(size=spec.pop("size", 65536), seed=name, **spec))
    return path


def _manifest(models_dir: Path, name: str) -> dict:
    return json.loads((models_dir / "manifests" / "registry.ollama.ai" / "library" / name / "latest").read_text())


def test_files_are_rewritten_into_a_new_layer(tmp_path: Path) -> None:
    """create.go: copyLayerWithLlamaQuantize, then the silent verify (size / rate seconds here)."""
    rate = 65536 / 1.5  # the 64 KiB file: 1.5 s of silence after "verifying conversion"
    with run_sim(tmp_path / "models", env={"OLLAMA_SIM_REWRITE_RATE": str(rate)}) as sim:
        client = ollama.Client(host=sim.url, timeout=60)
        weights = _weights(tmp_path)
        uploaded = client.create_blob(weights)
        seen = []
        for part in client.create(model="tiny", files={"tiny.gguf": uploaded}, stream=True):
            seen.append((time.monotonic(), part.status, part.digest))
        statuses = [status for _at, status, _digest in seen]
        assert statuses[0] == "parsing GGUF"
        validating = [entry for entry in seen if entry[1] == "validating GGUF model"]
        assert validating and all(digest == "0000000000000000000" for _at, _status, digest in validating)
        index = statuses.index("verifying conversion")
        assert statuses[index - 1] == "validating GGUF model"
        assert seen[index + 1][0] - seen[index][0] >= 1.4, "the rewrite is silent for size / rate"
        assert statuses[-2:] == ["writing manifest", "success"]

        manifest = _manifest(tmp_path / "models", "tiny")
        model_layer = next(layer for layer in manifest["layers"] if layer["mediaType"] == "application/vnd.ollama.image.model")
        assert model_layer["digest"] != uploaded, "llama-quantize writes a new file: a new digest"
        assert "from" not in model_layer
        shown = client.show("tiny")
        assert shown.details is not None and shown.details.parent_model == ""
        config_digest = manifest["config"]["digest"].replace(":", "-")
        config = json.loads((tmp_path / "models" / "blobs" / config_digest).read_text())
        assert "rootfs" not in config


@pytest.mark.parametrize(
    "spec, reason",
    [
        ({"architecture": "transformer9000"}, "unknown model architecture: 'transformer9000'"),
        ({"architecture": ""}, "key not found in model: general.architecture"),
    ],
)
def test_a_gguf_llama_cpp_cannot_load_is_refused(tmp_path: Path, sim, spec: dict, reason: str) -> None:
    client = ollama.Client(host=sim.url, timeout=60)
    uploaded = client.create_blob(_weights(tmp_path, **spec))
    with pytest.raises(ollama.ResponseError) as error:
        list(client.create(model="bad", files={"tiny.gguf": uploaded}, stream=True))
    assert error.value.error.startswith("failed to validate GGUF with llama-quantize without compatibility patches: ")
    assert reason in error.value.error
    assert "bad:latest" not in {model.model for model in client.list().models}


@pytest.mark.parametrize(
    "template, message",
    [
        ("{{ .Prompt", "template error: template: :1: unclosed action"),
        ("{{ if .System }}{{ .System }}", "template error: template: :1: unexpected EOF"),
        ("{{ .Prompt }}{{ end }}", "template error: template: :1: unexpected {{end}}"),
        ("{{ nosuchfunc .Prompt }}", 'template error: template: :1: function "nosuchfunc" not defined'),
    ],
)
def test_a_bad_template_is_a_400(sim, template: str, message: str) -> None:
    """create.go setTemplate: template.Parse fails -> errBadTemplate -> status 400 before any line."""
    client = ollama.Client(host=sim.url, timeout=60)
    client.pull(SMALL)
    with pytest.raises(ollama.ResponseError) as error:
        client.create(model="tmpl", from_=SMALL, template=template)
    assert (error.value.status_code, error.value.error) == (400, message)
    good = "{{ if .System }}{{ .System }} {{ end }}{{ range .Messages }}{{ .Content }}{{ end }}{{ json .Tools }}"
    assert client.create(model="tmpl", from_=SMALL, template=good).status == "success"


def test_cloud_needs_a_signed_in_server(tmp_path: Path) -> None:
    """routes.go: an AuthorizationError from ollama.com is passed on as 401 with signin_url."""
    with run_sim(tmp_path / "models", env={"OLLAMA_SIM_SIGNED_OUT": "1"}) as sim:
        client = ollama.Client(host=sim.url, timeout=60)
        with pytest.raises(ollama.ResponseError) as error:
            client.generate(model="gpt-oss:120b-cloud", prompt="hi")
        assert error.value.status_code == 401
        assert error.value.error == "unauthorized"
        request = urllib.request.Request(sim.url + "/api/generate", data=json.dumps({"model": "gpt-oss:120b-cloud", "prompt": "hi"}).encode(), method="POST")
        with pytest.raises(urllib.error.HTTPError) as raw:
            urllib.request.urlopen(request, timeout=30)
        answer = json.loads(raw.value.read())
        assert answer["error"] == "unauthorized"
        assert answer["signin_url"].startswith("https://ollama.com/connect?name=")


def test_remote_host_must_be_in_ollama_remotes(tmp_path: Path) -> None:
    """routes.go GenerateHandler: a stub whose remote host is not in envconfig.Remotes() is 400."""
    with run_sim(tmp_path / "models", env={"OLLAMA_REMOTES": "remote.example.internal"}) as sim:
        client = ollama.Client(host=sim.url, timeout=60)
        # a local model whose config names the remote host (create from a :cloud reference)
        assert client.create(model="stub", from_="gpt-oss:120b:cloud").status == "success"
        with pytest.raises(ollama.ResponseError) as error:
            client.generate(model="stub", prompt="hi")
        assert (error.value.status_code, error.value.error) == (400, "this server cannot run this remote model")


def test_startup_prune_keeps_blobs_of_the_last_hour(tmp_path: Path) -> None:
    """images.go PruneLayers: unused blobs go at start, unless modified within layerPruneGracePeriod."""
    models = tmp_path / "models"
    (models / "blobs").mkdir(parents=True)
    fresh = b"fresh unused blob"
    stale = b"stale unused blob"
    paths = {}
    for data in (fresh, stale):
        path = models / "blobs" / ("sha256-" + hashlib.sha256(data).hexdigest())
        path.write_bytes(data)
        paths[data] = path
    two_hours_ago = time.time() - 7200
    os.utime(paths[stale], (two_hours_ago, two_hours_ago))
    with run_sim(models):
        pass
    assert paths[fresh].exists(), "a blob modified within the hour survives the start-up prune"
    assert not paths[stale].exists(), "an unused blob older than an hour is pruned at start"
