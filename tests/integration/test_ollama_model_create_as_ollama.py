# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model against a simulator that creates models as Ollama does (issue 23), in real ansible-playbook runs.

- own weights are rewritten by the server (llama-quantize's COPY) with a silent phase as long as the file
  takes to hash and copy: the create's read timeout follows the size, so a silence three times the task's
  timeout and stall_timeout (production's 90 s against 30 s and 60 s, scaled down here) is no stall;
- ``from`` with ``files`` is refused (Ollama would silently ignore ``files``);
- ``license`` and ``system`` compare as Ollama composes them (licenses appended to the base's; ``system: ""``
  keeps the inherited prompt), so a second run changes nothing;
- a template Ollama cannot parse fails with the server's own words;
- a cloud model on a server that is not signed in fails with the sign-in URL and what to do.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from tests.integration.playbook import run_playbook
from tests.integration.test_ollama_model_cloud_capabilities_files import info, model, tags
from tests.ollama_sim import gguf
from tests.ollama_sim.catalog import gguf_metadata
from tests.ollama_sim.testing import mutating

pytestmark = pytest.mark.integration

BASE = "smollm2:135m"
# 240 MB of own weights (a sparse file): the collection allows it 24 s of silence (10 MB/s, REWRITE_BYTES_PER_SECOND).
# The server stays silent for 15 s: three times the 5 s that the task's timeout and stall_timeout give it, so a
# read timeout that did not follow the size (or followed it at the 50 MB/s hashing rate: 4.8 s) gives up. It was
# 1.2 GB and a 90 s silence against the defaults (30 s, 60 s): the same check in a sixth of the size and time.
LARGE = 240_000_000
SILENCE = 15.0
LIMITS = {"timeout": 5, "stall_timeout": 5}


def sparse_gguf(path: Path, size: int) -> None:
    """A GGUF header followed by a hole: a large model file that costs no disk until it is read."""
    metadata = gguf_metadata({"architecture": "llama", "parameter_count": 1_000_000, "file_type": "F16"})
    with open(path, "wb") as handle:
        handle.write(gguf.build_header(metadata, gguf.model_tensors(metadata)))
        handle.truncate(size)


def test_a_long_silent_rewrite_of_large_weights_is_no_stall(make_sim, tmp_path: Path) -> None:
    sim = make_sim(env={"OLLAMA_SIM_REWRITE_RATE": str(LARGE / SILENCE)})
    weights = tmp_path / "large.gguf"
    sparse_gguf(weights, LARGE)
    step = {"name": ["large:v1"], "files": [{"path": str(weights), "name": "model.gguf"}], "retries": 0, **LIMITS}
    started = time.monotonic()
    first = model(sim, tmp_path, **step)
    assert first["changed"] is True and not first.get("failed"), first.get("msg")
    assert time.monotonic() - started >= SILENCE, "the server was silent for %d s, and the create (retries: 0) waited it out" % SILENCE
    assert "large:v1" in tags(sim)
    second = model(sim, tmp_path, **step)
    assert second["changed"] is False and not second.get("failed"), second.get("msg")
    os.unlink(weights)


def test_from_with_files_is_refused_before_any_request(sim, tmp_path: Path) -> None:
    weights = tmp_path / "own.gguf"
    sparse_gguf(weights, 65536)
    start = len(sim.requests())
    result = model(sim, tmp_path, name=["both:v1"], files=[{"path": str(weights)}], **{"from": BASE})
    assert result.get("failed") and "Ollama would use from and silently ignore files" in result["msg"], result.get("msg")
    assert sim.requests()[start:] == []


@pytest.mark.parametrize(
    "definition",
    [
        {"license": "Licensed to the team only."},  # appended to the base's Apache license
        {"license": ["First terms.", "Second terms."]},
        {"system": ""},  # cannot clear the base's system prompt: left out of the comparison
        {"system": "", "parameters": {"temperature": 0.3}},
    ],
)
def test_license_and_system_converge_as_ollama_composes_them(sim, tmp_path: Path, definition: dict) -> None:
    step = dict(definition, name=["composed:v1"], **{"from": BASE})
    first = model(sim, tmp_path, **step)
    assert first["changed"] is True and not first.get("failed"), first.get("msg")
    shown = sim.call("POST", "/api/show", {"model": "composed:v1"})[1]
    if "license" in definition:
        assert shown["license"].startswith("Apache License"), "the base's license stays first"
    start = len(sim.requests())
    second = model(sim, tmp_path, **step)
    assert second["changed"] is False and second["actions"] == [] and not second.get("failed"), second
    assert mutating(sim.requests()[start:]) == []


def test_a_template_ollama_cannot_parse_fails_with_its_words(sim, tmp_path: Path) -> None:
    broken = "{% raw %}{{ if .System }}{{ .System }}{% endraw %}"  # Go template text, kept from Jinja
    result = model(sim, tmp_path, name=["templated:v1"], template=broken, retries=2, **{"from": BASE})
    assert result.get("failed"), result
    assert "template error: template: :1: unexpected EOF" in result["msg"], result["msg"]
    creates = [r for r in mutating(sim.requests()) if r["path"] == "/api/create"]
    assert len(creates) == 1, "a template error is not retried"
    assert "templated:v1" not in tags(sim)


def test_a_cloud_model_on_a_server_not_signed_in(make_sim, tmp_path: Path) -> None:
    """The inference probe names a cloud model the server holds: the 401 says how to sign in."""
    sim = make_sim(env={"OLLAMA_SIM_SIGNED_OUT": "1"})
    pulled = model(sim, tmp_path, name=["gpt-oss:120b-cloud"])
    assert pulled["changed"] is True and not pulled.get("failed"), pulled.get("msg")
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference", "info_probe_model": "gpt-oss:120b-cloud"})
    probe = run.results("Probe")
    assert probe["healthy"] is False, probe
    assert "not signed in to ollama.com" in probe["reason"] and "https://ollama.com/connect?name=" in probe["reason"], probe["reason"]
    assert "ollama signin" in probe["reason"]
    # and by default the probe never picks the cloud model: it holds no local one to ask
    default = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference"}).results("Probe")
    assert "holds no model to ask" in default["reason"], default


def test_a_model_made_from_files_is_custom_though_the_server_names_no_parent(sim, tmp_path: Path) -> None:
    weights = tmp_path / "own.gguf"
    sparse_gguf(weights, 65536)
    made = model(sim, tmp_path, name=["own:v1"], files=[{"path": str(weights), "name": "model.gguf"}])
    assert made["changed"] is True and not made.get("failed"), made.get("msg")
    assert tags(sim)["own:v1"]["details"]["parent_model"] == "", "Ollama names no parent for a model made from files"
    records = info(sim, tmp_path, source=["custom"])
    assert [record["name"] for record in records["models"]] == ["own:v1"], records
