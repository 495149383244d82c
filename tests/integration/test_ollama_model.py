# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_model in real ansible-playbook runs against the Ollama API simulator."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import model_vars as env
from tests.ollama_sim.testing import mutating

pytestmark = pytest.mark.integration


def run_steps(sim, tmp_path: Path, steps: list[dict], check: bool = False, diff: bool = False, **extra: Any) -> list[dict]:
    """One playbook run; one ollama_model result per step (failures included)."""
    variables = env(sim, tmp_path)
    variables.update(extra)
    variables["steps"] = steps
    run = run_playbook("model.yml", variables, check=check, diff=diff)
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    task = run.results("Model")
    results = task["results"]
    assert len(results) == len(steps)
    if len(results) == 1:
        results[0]["warnings"] = list(task.get("warnings") or [])
    return results


def one(sim, tmp_path: Path, check: bool = False, diff: bool = False, **step: Any) -> dict:
    step.setdefault("name", ["smollm2:135m"])
    return run_steps(sim, tmp_path, [step], check=check, diff=diff)[0]


def tags(sim) -> dict[str, str]:
    return {m["name"]: m["digest"] for m in sim.call("GET", "/api/tags")[1]["models"]}


def loaded(sim) -> list[str]:
    return [m["name"] for m in sim.call("GET", "/api/ps")[1]["models"]]


def ledger_log(tmp_path: Path, name: str) -> list[dict]:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger

    return Ledger.open(str(tmp_path / "state"), create=False).log_entries(name)


def summary(result: dict) -> tuple:
    return (result.get("changed"), bool(result.get("failed")), result.get("actions"))


# ---------------------------------------------------------------------------- lifecycle


def test_every_transition_once_then_unchanged(sim, tmp_path: Path) -> None:
    m = ["smollm2:135m"]
    steps = [
        {"name": m},
        {"name": ["SmolLM2:135m", "smollm2:135m"]},
        {"name": m, "state": "loaded", "keep_alive": "3600", "options": {"num_ctx": 2048}},
        {"name": m, "state": "loaded", "keep_alive": "10m"},
        {"name": m, "state": "unloaded"},
        {"name": m, "state": "unloaded"},
        {"name": m, "state": "absent"},
        {"name": m, "state": "absent"},
        {"name": m, "state": "unloaded"},
        {"name": m, "state": "loaded", "keep_alive": -1},
        {"name": m, "state": "absent"},
        {"name": m, "force": True},
        {"name": m, "force": True},
        {"name": ["smollm2:135m", "all-minilm"], "state": "loaded"},
        {"name": ["smollm2:135m", "all-minilm"], "state": "loaded"},
        {"name": ["smollm2:135m", "all-minilm"], "state": "absent"},
    ]
    results = run_steps(sim, tmp_path, steps)
    assert [summary(r) for r in results] == [
        (True, False, ["pulled smollm2:135m"]),
        (False, False, []),
        (True, False, ["loaded smollm2:135m"]),
        (False, False, []),
        (True, False, ["unloaded smollm2:135m"]),
        (False, False, []),
        (True, False, ["deleted smollm2:135m"]),
        (False, False, []),
        (False, False, []),
        (True, False, ["pulled smollm2:135m", "loaded smollm2:135m"]),
        (True, False, ["unloaded smollm2:135m", "deleted smollm2:135m"]),
        (True, False, ["pulled smollm2:135m"]),
        (True, False, ["deleted smollm2:135m", "re-pulled smollm2:135m"]),
        (True, False, ["loaded smollm2:135m", "pulled all-minilm:latest", "loaded all-minilm:latest"]),
        (False, False, []),
        (True, False, ["unloaded smollm2:135m", "deleted smollm2:135m", "unloaded all-minilm:latest", "deleted all-minilm:latest"]),
    ]
    first = results[0]
    record = first["model"]
    assert record["name"] == "smollm2:135m"
    assert record["status"] == "stopped"
    assert record["from"] == "official"
    assert len(record["digest"]) == 64 and record["id"] == record["digest"][:12]
    assert record["size_bytes"] > 2_000_000 and record["size"].endswith("MB")
    assert record["log_file_exists"] is True
    assert first["pull"]["models"] == 1 and first["pull"]["bytes"] > 0 and first["pull"]["attempts"] == 1
    assert results[1]["models"] == [results[1]["model"]], "duplicate names after normalisation are one model"
    assert results[2]["model"]["status"] == "running"
    assert results[2]["model"]["loaded"]["expires_at"]
    assert results[4]["model"]["status"] == "stopped"
    assert results[6]["model"]["status"] == "unavailable"
    assert tags(sim) == {} and loaded(sim) == []
    events = [entry["event"] for entry in ledger_log(tmp_path, "smollm2:135m")]
    assert events[:3] == ["pull-started", "pulled", "loaded"]
    assert "deleted" in events and "re-pulled" in events


def test_list_with_one_unknown_model_does_the_others_and_names_the_failure(sim, tmp_path: Path) -> None:
    result = one(sim, tmp_path, name=["smollm2:135m", "no-such-model:7b", "all-minilm"])
    assert result["failed"] is True
    assert result["msg"].startswith("1 of 3 models failed: model 'no-such-model:7b' not found in registry.ollama.ai/library: ")
    assert "file does not exist" in result["msg"]
    assert set(tags(sim)) == {"smollm2:135m", "all-minilm:latest"}
    statuses = {m["name"]: (m["status"], m["failed"]) for m in result["models"]}
    assert statuses == {"smollm2:135m": ("stopped", False), "no-such-model:7b": ("failed", True), "all-minilm:latest": ("stopped", False)}


def test_server_down_and_invalid_url_fail_plainly(tmp_path: Path) -> None:
    url = "http://127.0.0.1:%d" % free_port()
    variables = {"sim_url": url, "models_path": str(tmp_path), "state_dir": str(tmp_path / "state")}
    run = run_playbook("model.yml", dict(variables, steps=[{"name": ["smollm2:135m"], "retries": 0}]))
    result = run.results("Model")["results"][0]
    assert result["failed"] is True
    assert result["msg"].startswith("cannot read the models on the Ollama server: GET /api/tags: cannot reach the Ollama server at %s" % url)


# ---------------------------------------------------------------------------- check mode and diff


def test_check_mode_sends_no_mutating_request_and_predicts_right(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.pull("all-minilm")
    sim.call("POST", "/api/generate", {"model": "all-minilm", "prompt": "", "stream": False})
    sim.call("POST", "/api/embed", {"model": "all-minilm", "input": []})
    steps = [
        {"name": ["qwen2.5:0.5b"]},
        {"name": ["smollm2:135m"]},
        {"name": ["smollm2:135m"], "state": "loaded"},
        {"name": ["all-minilm"], "state": "unloaded"},
        {"name": ["all-minilm"], "state": "absent"},
        {"name": ["smollm2:135m"], "update": True},
        {"name": ["smollm2:135m"], "force": True},
        {"name": ["helper"], "from": "smollm2:135m", "system": "Be brief."},
    ]
    sim.clear_requests()
    predicted = run_steps(sim, tmp_path, steps, check=True, diff=True)
    requests = sim.requests()
    assert requests and mutating(requests) == []
    assert not (tmp_path / "state").exists(), "check mode wrote the ledger"
    assert [(r["changed"], bool(r.get("failed"))) for r in predicted] == [
        (True, False),
        (False, False),
        (True, False),
        (True, False),
        (True, False),
        (False, False),
        (True, False),
        (True, False),
    ]
    assert predicted[0]["diff"] == {
        "before": {"qwen2.5:0.5b": {"state": "absent"}},
        "after": {"qwen2.5:0.5b": {"state": "present", "digest": predicted[0]["diff"]["after"]["qwen2.5:0.5b"]["digest"]}},
    }
    assert len(predicted[0]["diff"]["after"]["qwen2.5:0.5b"]["digest"]) == 64, "the registry manifest gives the digest to come"
    digest = tags(sim)["smollm2:135m"]
    assert predicted[2]["diff"]["before"] == {"smollm2:135m": {"state": "present", "digest": digest}}
    assert predicted[2]["diff"]["after"] == {"smollm2:135m": {"state": "loaded", "digest": digest}}
    assert predicted[4]["diff"]["after"] == {"all-minilm:latest": {"state": "absent"}}
    assert predicted[4]["actions"] == ["unloaded all-minilm:latest", "deleted all-minilm:latest"]

    # the same steps for real change what check mode predicted (each step of the check run saw the
    # untouched server, the real run sees the earlier steps: all-minilm is unloaded before it is deleted)
    actual = run_steps(sim, tmp_path, steps, diff=True)
    assert [r["changed"] for r in actual] == [r["changed"] for r in predicted]
    assert [r["actions"] for r in actual][:4] == [r["actions"] for r in predicted][:4]
    assert actual[4]["actions"] == ["deleted all-minilm:latest"]
    assert actual[0]["diff"] == predicted[0]["diff"]


# ---------------------------------------------------------------------------- update and pinning


def test_update_reports_change_only_when_the_digest_changes(sim, tmp_path: Path) -> None:
    first = one(sim, tmp_path)
    old = first["model"]["digest"]
    same = one(sim, tmp_path, update=True)
    assert (same["changed"], same["actions"]) == (False, [])
    assert [r["method"] + " " + r["path"] for r in mutating(sim.requests())].count("POST /api/pull") == 2

    sim.bump("smollm2:135m", version=2)
    predicted = one(sim, tmp_path, update=True, check=True)
    assert predicted["changed"] is True
    updated = one(sim, tmp_path, update=True, diff=True)
    assert (updated["changed"], updated["actions"]) == (True, ["updated smollm2:135m"])
    new = updated["model"]["digest"]
    assert new != old
    assert updated["diff"]["before"]["smollm2:135m"]["digest"] == old
    assert updated["diff"]["after"]["smollm2:135m"]["digest"] == new
    again = one(sim, tmp_path, update=True)
    assert again["changed"] is False

    pinned_old = one(sim, tmp_path, digest="sha256:" + old)
    assert pinned_old["failed"] is True
    assert pinned_old["msg"] == (
        "smollm2:135m is present with digest sha256:%s, but digest pins sha256:%s; set update: true to pull the pinned version "
        "(or force: true to re-pull it)" % (new, old)
    )
    pinned_new = one(sim, tmp_path, digest=new.upper())
    assert (pinned_new["changed"], bool(pinned_new.get("failed"))) == (False, False)


def test_digest_mismatch_fails_and_leaves_nothing(sim, tmp_path: Path) -> None:
    wrong = "ab" * 32
    sim.clear_stats()
    result = one(sim, tmp_path, name=["qwen2.5:0.5b"], digest=wrong)
    assert result["failed"] is True
    served = tags(sim)
    assert "qwen2.5:0.5b" not in served
    assert result["msg"].startswith("digest mismatch for qwen2.5:0.5b: the pin is sha256:%s but the registry served sha256:" % wrong)
    assert result["msg"].endswith("the model was removed again, so nothing unverified stays on the server")
    assert list((sim.data / "blobs").glob("sha256-*")) == []
    assert not (sim.data / "manifests" / "registry.ollama.ai" / "library" / "qwen2.5").exists() or not any(
        (sim.data / "manifests" / "registry.ollama.ai" / "library" / "qwen2.5").iterdir()
    )
    assert result["model"]["status"] == "failed"
    assert "DELETE" in [r["method"] for r in sim.requests()]

    right = next(m["manifest_digest"] for m in sim.catalog_models() if m["name"] == "qwen2.5:0.5b")
    ok = one(sim, tmp_path, name=["qwen2.5:0.5b"], digest=right)
    assert (ok["changed"], bool(ok.get("failed"))) == (True, False)
    assert "sha256:" + ok["model"]["digest"] == right
    assert ok["model"]["status"] == "stopped" and ok["model"]["message"].startswith("pulled")


def test_update_to_a_pin_the_registry_does_not_serve(sim, tmp_path: Path) -> None:
    old = one(sim, tmp_path)["model"]["digest"]
    sim.bump("smollm2:135m", version=2)
    new = next(m["manifest_digest"] for m in sim.catalog_models() if m["name"] == "smollm2:135m").replace("sha256:", "")
    assert new != old
    pin = "ab" * 32
    expected = (
        "digest mismatch for smollm2:135m: the pin is sha256:%s but the registry serves sha256:%s; the update was refused "
        "before pulling anything, so smollm2:135m stays at sha256:%s (pin sha256:%s to take the version the registry serves)" % (pin, new, old, new)
    )
    sim.clear_requests()
    predicted = one(sim, tmp_path, update=True, digest=pin, check=True)
    assert (predicted["failed"], predicted["changed"], predicted["msg"]) == (True, False, expected)
    assert mutating(sim.requests()) == []
    result = one(sim, tmp_path, update=True, digest=pin)
    assert (result["failed"], result["changed"], result["msg"]) == (True, False, expected)
    assert mutating(sim.requests()) == [], "the registry manifest was compared before any pull"
    assert tags(sim) == {"smollm2:135m": old}
    assert (result["model"]["status"], result["model"]["message"]) == ("failed", expected)

    # the manifest cannot be read: the pull goes ahead, the unverified version is removed and the previous one restored
    dead = "http://127.0.0.1:%d" % free_port()
    sim.clear_requests()
    restored = one(sim, tmp_path, update=True, digest=pin, registry_url=dead)
    assert restored["failed"] is True
    assert restored["msg"] == (
        "digest mismatch for smollm2:135m after the update: the pin is sha256:%s but the registry served sha256:%s; that unverified version "
        "was removed and the previous version sha256:%s restored, so nothing unverified stays on the server" % (pin, new, old)
    )
    assert tags(sim) == {"smollm2:135m": old}, "nothing unverified stays, and no backup copy either"
    assert [(r["method"], r["path"]) for r in mutating(sim.requests())] == [
        ("POST", "/api/copy"),
        ("POST", "/api/pull"),
        ("DELETE", "/api/delete"),
        ("POST", "/api/copy"),
        ("DELETE", "/api/delete"),
    ]
    assert sim.call("POST", "/api/show", {"model": "smollm2:135m"})[0] == 200, "the restored model is whole"
    assert restored["model"]["status"] == "failed" and restored["model"]["digest"] == old
    # the pin of what the registry serves updates it
    updated = one(sim, tmp_path, update=True, digest=new)
    assert (updated["changed"], bool(updated.get("failed")), updated["actions"]) == (True, False, ["updated smollm2:135m"])
    assert updated["model"]["status"] == "stopped"


def test_check_mode_fails_for_a_model_the_registry_lacks_as_the_real_run_does(sim, tmp_path: Path) -> None:
    sim.clear_requests()
    predicted = one(sim, tmp_path, name=["smollm2:135m", "no-such-model:7b"], check=True)
    assert predicted["failed"] is True
    assert predicted["msg"] == (
        "1 of 2 models failed: model 'no-such-model:7b' not found in registry.ollama.ai/library: "
        "the registry has no manifest for no-such-model:7b at %s/v2/library/no-such-model/manifests/7b (HTTP 404)" % sim.url
    )
    assert [(m["name"], m["failed"], m["actions"]) for m in predicted["models"]] == [
        ("smollm2:135m", False, ["pulled"]),
        ("no-such-model:7b", True, []),
    ]
    assert not any("free-space check" in w for w in predicted["warnings"])
    assert mutating(sim.requests()) == []
    assert ("GET", "/v2/library/no-such-model/manifests/7b", 404) in [(r["method"], r["path"], r["status"]) for r in sim.requests()]

    actual = one(sim, tmp_path, name=["smollm2:135m", "no-such-model:7b"])
    prefix = "1 of 2 models failed: model 'no-such-model:7b' not found in registry.ollama.ai/library: "
    assert actual["failed"] is True and actual["msg"].startswith(prefix)
    assert [(m["failed"], m["actions"]) for m in actual["models"]] == [(False, ["pulled"]), (True, [])]

    # the sync's plan says the same, and its check run fails as its real run does
    sync_vars = dict(env(sim, tmp_path), steps=[{"models": ["smollm2:135m", "no-such-model:7b", "all-minilm"]}])
    plan = run_playbook("sync.yml", sync_vars, check=True).results("Sync")["results"][0]
    assert plan["failed"] is True and "no-such-model:7b: model 'no-such-model:7b' not found in registry.ollama.ai/library" in plan["msg"]
    assert [(step["name"], step["action"]) for step in plan["plan"]] == [("no-such-model:7b", "failed"), ("all-minilm:latest", "pulled")]
    failed_step = plan["plan"][0]
    assert failed_step["message"].startswith("model 'no-such-model:7b' not found in registry.ollama.ai/library: the registry has no manifest")


def test_a_failed_load_shows_failed_until_a_later_load_succeeds(sim, tmp_path: Path) -> None:
    one(sim, tmp_path)
    sim.faults(status=500, count=50, path="/api/generate", error="llama runner process has terminated: exit status 2")
    failed = one(sim, tmp_path, state="loaded", retries=1)
    sim.clear_faults()
    message = "cannot load smollm2:135m: llama runner process has terminated: exit status 2"
    assert (failed["failed"], failed["msg"]) == (True, message)
    assert (failed["model"]["status"], failed["model"]["message"]) == ("failed", message)

    queries = [{"status": ["failed"]}, {"name": "smollm2:135m"}]
    found, record = run_playbook("model_info.yml", dict(env(sim, tmp_path), queries=queries)).results("Info")["results"]
    assert [m["name"] for m in found["models"]] == ["smollm2:135m"]
    assert (record["model"]["status"], record["model"]["message"]) == ("failed", message)
    assert record["model"]["digest"] == tags(sim)["smollm2:135m"], "the server's side of the record is still there"

    loaded = one(sim, tmp_path, state="loaded")
    assert (loaded["changed"], bool(loaded.get("failed")), loaded["model"]["status"]) == (True, False, "running")
    found, record = run_playbook("model_info.yml", dict(env(sim, tmp_path), queries=queries)).results("Info")["results"]
    assert found["models"] == [] and record["model"]["status"] == "running"


# ---------------------------------------------------------------------------- retries, resume, disk


def test_cut_at_half_retries_and_resumes(sim, tmp_path: Path) -> None:
    size = next(m["size"] for m in sim.catalog_models() if m["name"] == "llama3.2:latest")
    sim.clear_stats()
    sim.faults(cut_at_percent=50)
    result = one(sim, tmp_path, name=["llama3.2"])
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert result["model"]["pull"]["attempts"] == 2
    pulled = sim.stats()["pulled"]
    assert size <= pulled <= 1.15 * size, (pulled, size)
    retries = [entry for entry in ledger_log(tmp_path, "llama3.2") if entry["event"] == "retry"]
    assert len(retries) == 1
    assert "stream ended before 'success'" in retries[0]["error"] or "broke mid-stream" in retries[0]["error"]


def test_stall_times_out_and_the_retry_resumes(sim, tmp_path: Path) -> None:
    size = next(m["size"] for m in sim.catalog_models() if m["name"] == "llama3.2:1b")
    sim.clear_stats()
    # as in Ollama, the stalled download keeps sending progress lines (same completed) every
    # ~60 ms, so the connection is never silent: only the progress rule (no growth for
    # stall_timeout seconds) can catch it. The socket fallback (max(stall_timeout, timeout) =
    # 30 s) and the 60 s stall both lie beyond the time limit below. The client leaving
    # cancels the stalled download, and the one retry resumes the partial blob.
    sim.faults(stall={"at_percent": 50, "seconds": 60})
    started = time.monotonic()
    result = one(sim, tmp_path, name=["llama3.2:1b"], stall_timeout=1.5, retries=1, retry_delay=0.5, timeout=30)
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert time.monotonic() - started < 25
    assert result["model"]["pull"]["attempts"] == 2
    assert sim.stats()["pulled"] <= 1.15 * size
    retries = [entry for entry in ledger_log(tmp_path, "llama3.2:1b") if entry["event"] == "retry"]
    assert len(retries) == 1
    assert "stalled: no progress for 1.5 seconds" in retries[0]["error"], retries[0]["error"]
    assert 0.4 * size <= retries[0]["completed"] <= 0.6 * size, (retries[0]["completed"], size)


def pull_statuses(sim) -> list[int]:
    return [r["status"] for r in sim.requests() if (r["method"], r["path"]) == ("POST", "/api/pull")]


def test_http_500_and_503_are_retried(sim, tmp_path: Path) -> None:
    # the faults hit POST /api/pull itself (not the GET /api/tags before it, which the client retries on its own)
    sim.faults(status=500, count=2, path="/api/pull")
    result = one(sim, tmp_path)
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert pull_statuses(sim) == [500, 500, 200]
    assert result["model"]["pull"]["attempts"] == 3
    # before the pull, which blobs the server lacks (for the byte count): all of them, 404 each, asked once (not per attempt)
    heads = [r["status"] for r in sim.requests() if r["method"] == "HEAD" and r["path"].startswith("/api/blobs/")]
    assert heads and set(heads) == {404} and len(heads) == len(set(r["path"] for r in sim.requests() if r["method"] == "HEAD")), heads
    others = [r["status"] for r in sim.requests() if r["path"] != "/api/pull" and r["method"] != "HEAD"]
    assert others and set(others) == {200}, "the fault hit only the pull, not GET /api/tags nor the registry"
    assert "smollm2:135m" in tags(sim)
    assert [entry["event"] for entry in ledger_log(tmp_path, "smollm2:135m")].count("retry") == 2

    sim.clear_requests()
    sim.faults(status=503, count=2, path="/api/pull")
    result = one(sim, tmp_path, name=["all-minilm"])
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert pull_statuses(sim) == [503, 503, 200]
    assert result["model"]["pull"]["attempts"] == 3
    assert "all-minilm:latest" in tags(sim)

    sim.faults(status=503, count=20)
    result = one(sim, tmp_path, name=["qwen2.5:0.5b"], retries=1)
    assert result["failed"] is True
    assert "HTTP 503: server busy, please try again." in result["msg"]
    sim.clear_faults()


def test_disk_full_from_the_server_pauses_with_cleanup_list(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.pull("qwen2.5:0.5b")
    sim.pull("all-minilm")
    sim.call("POST", "/api/generate", {"model": "all-minilm", "prompt": "", "stream": False})
    sim.call("POST", "/api/embed", {"model": "all-minilm", "input": []})
    sim.faults(disk_full=True)
    result = one(sim, tmp_path, name=["llama3.2:1b"])
    sim.clear_faults()
    assert result["failed"] is True
    record = result["model"]
    assert record["status"] == "paused"
    assert "no space left on device" in result["msg"]
    assert "To make room, remove models that are not loaded, largest first: qwen2.5:0.5b (3.1 MB), smollm2:135m (2.1 MB)" in result["msg"]
    assert [c["name"] for c in record["cleanup_candidates"]] == ["qwen2.5:0.5b", "smollm2:135m"]
    assert record["pull"]["attempts"] == 1, "a full disk is not retried"

    info = run_playbook("model_info.yml", dict(env(sim, tmp_path), queries=[{"name": "llama3.2:1b"}])).results("Info")["results"][0]
    assert info["model"]["status"] == "paused"
    assert "no space left on device" in info["model"]["message"]

    # resumed once the disk has room again
    again = one(sim, tmp_path, name=["llama3.2:1b"])
    assert (again["changed"], again["model"]["status"]) == (True, "stopped")


def test_short_disk_fails_before_pulling(sim, tmp_path: Path) -> None:
    sim.pull("smollm2:135m")
    sim.clear_requests()
    result = one(sim, tmp_path, name=["llama3.2:1b"], min_free_space="1 PB")
    assert result["failed"] is True
    assert result["model"]["status"] == "paused"
    assert result["msg"].startswith("not enough disk space to pull llama3.2:1b: it needs 4.2 MB more (4.2 MB in all, 0 B already on disk)")
    assert "min_free_space keeps 1.0 PB free, but only" in result["msg"]
    assert "largest first: smollm2:135m (2.1 MB)" in result["msg"]
    assert result["model"]["space"]["needed"] > 4_000_000
    assert all(r["path"] != "/api/pull" for r in sim.requests())


def test_unreadable_registry_and_disk_warn_instead_of_passing(sim, tmp_path: Path) -> None:
    dead = "http://127.0.0.1:%d" % free_port()
    result = one(sim, tmp_path, registry_url=dead)
    assert result["changed"] is True
    assert any("free-space check before pulling smollm2:135m skipped: the registry at %s" % dead in w for w in result["warnings"])
    result = one(sim, tmp_path, name=["all-minilm"], models_path=str(tmp_path / "nowhere"))
    assert any("the models directory %s does not exist on this host" % (tmp_path / "nowhere") in w for w in result["warnings"])


# ---------------------------------------------------------------------------- custom models


def test_custom_model_created_updated_unchanged(sim, tmp_path: Path) -> None:
    base = {"name": ["support-bot"], "from": "smollm2:135m", "system": "Answer briefly.", "parameters": {"temperature": 0.2, "stop": ["<|im_end|>"]}}
    created = one(sim, tmp_path, diff=True, **base)
    assert created["changed"] is True and created["actions"] == ["created support-bot:latest"], created.get("msg")
    assert created["model"]["from"] == "custom"
    assert "support-bot:latest" in tags(sim)

    sim.clear_requests()
    same = one(sim, tmp_path, diff=True, **base)
    assert (same["changed"], same["model"]["differences"]) == (False, [])
    assert [r["path"] for r in mutating(sim.requests())] == []
    assert "/api/show" in [r["path"] for r in sim.requests()]

    changed = {**base, "system": "Answer in one sentence.", "parameters": {"temperature": 0.7, "stop": ["<|im_end|>"]}}
    updated = one(sim, tmp_path, diff=True, **changed)
    assert updated["changed"] is True and updated["actions"] == ["re-created support-bot:latest"]
    assert updated["model"]["differences"] == ["system", "parameters"]
    before, after = updated["diff"]["before"]["support-bot:latest"], updated["diff"]["after"]["support-bot:latest"]
    assert (before["system"], after["system"]) == ("Answer briefly.", "Answer in one sentence.")
    assert (before["parameters"], after["parameters"]) == ({"temperature": 0.2}, {"temperature": 0.7})

    again = one(sim, tmp_path, **changed)
    assert again["changed"] is False
    sim.clear_requests()
    predicted = one(sim, tmp_path, check=True, **{**changed, "messages": [{"role": "user", "content": "hi"}]})
    assert predicted["changed"] is True and predicted["model"]["differences"] == ["messages"]
    assert predicted["actions"] == ["re-created support-bot:latest"]
    assert mutating(sim.requests()) == [], "check mode predicted the re-creation without doing it"
    assert "/api/show" in [r["path"] for r in sim.requests()]
    assert one(sim, tmp_path, **changed)["changed"] is False, "the check run left the model as it was"
    forced = one(sim, tmp_path, force=True, **changed)
    assert forced["actions"] == ["deleted support-bot:latest", "re-created support-bot:latest"]


# ---------------------------------------------------------------------------- progress under async


def test_async_pull_progress_is_observed_mid_way(make_sim, tmp_path: Path) -> None:
    slow = make_sim("slow", rate=1_000_000)
    variables = env(slow, tmp_path)
    variables["async_model"] = "llama3.2:latest"
    run = run_playbook("model_async.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    progress = run.results("Poll the progress")
    record = progress["model"]
    assert record["status"] == "downloading"
    assert 0 < record["progress"]["percent"] < 100
    assert record["progress"]["total"] > record["progress"]["completed"] > 0
    assert record["progress"]["speed"] > 0 and record["progress"]["eta"] is not None
    assert record["progress"]["speed_human"].endswith("/s")
    done = run.results("Wait for the pull to finish")
    assert done["finished"] and done["changed"] is True
    after = run.results("Read the model afterwards")["model"]
    assert after["status"] == "stopped" and after["progress"] is None


# ---------------------------------------------------------------------------- the documentation's examples


def example_tasks(*names: str) -> list[dict]:
    """Tasks of ollama_model's EXAMPLES, by name, as written there."""
    from ansible_collections.llmops.ollama.plugins.modules import ollama_model

    tasks = {task["name"]: task for task in yaml.safe_load(ollama_model.EXAMPLES)}
    return [dict(tasks[name]) for name in names]


def test_the_documented_pin_and_progress_examples_work(make_sim, tmp_path: Path) -> None:
    slow = make_sim("slow", rate=1_000_000)
    slow.pull("smollm2:135m")
    variables = env(slow, tmp_path)
    tasks = example_tasks(
        "Read the digest of the version tested on a staging host",
        "Pull exactly that version; fail and leave nothing behind if the registry serves another",
        "Start a big pull in the background",
        "Watch its progress in the ledger",
        "Collect the result of the pull (fails here if the pull failed)",
    )
    for task in tasks:
        if "delay" in task:
            task.update(delay=1, retries=300)  # the examples poll every 10 s; the test every second
    tasks[2]["llmops.ollama.ollama_model"] = dict(tasks[2]["llmops.ollama.ollama_model"], min_free_space=0)  # this host's disk may be small
    connection = {"api_url": variables["sim_url"], "state_dir": variables["state_dir"]}
    play = {
        "name": "The examples of ollama_model",
        "hosts": "all",
        "gather_facts": False,
        "module_defaults": {
            "llmops.ollama.ollama_model": dict(connection, registry_url=variables["sim_url"], models_path=variables["models_path"]),
            "llmops.ollama.ollama_model_info": connection,
        },
        "tasks": tasks,
    }
    playbook = tmp_path / "examples.yml"
    playbook.write_text(yaml.safe_dump([play], sort_keys=False))
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[staging]\nlocalhost ansible_connection=local\n")
    run = run_playbook(playbook, inventory=str(inventory))
    assert run.rc == 0, run.stdout[-3000:]
    pinned = run.results("Pull exactly that version; fail and leave nothing behind if the registry serves another")
    assert (pinned["changed"], pinned["model"]["digest"]) == (False, tags(slow)["smollm2:135m"])
    watched = run.results("Watch its progress in the ledger")
    assert watched["model"]["status"] == "stopped", "the watch waited for the end of the pull"
    assert watched["attempts"] > 1, "the pull was still under way at the first poll"
    done = run.results("Collect the result of the pull (fails here if the pull failed)")
    assert done["finished"] and done["changed"] is True and not done.get("failed")
    assert "llama3.2:latest" in tags(slow)


# ---------------------------------------------------------------------------- bad input

BAD_INPUT = [
    ({"name": ["llama3.2:"]}, "the tag part is empty"),
    ({"name": ["bad name"]}, "contains ' ' (space)"),
    ({"name": ["a/b/c/d"]}, "a model name has at most 3"),
    ({"name": ["-model"]}, "the model part '-model' starts with '-'"),
    ({"name": ["ns.with.dot/model"]}, "the namespace part 'ns.with.dot' contains '.'"),
    ({"name": ["../etc/passwd"]}, "invalid model name"),
    ({"name": ["ftp://host/ns/model"]}, "unsupported scheme 'ftp'"),
    ({"name": [""]}, "name has an empty entry"),
    ({"name": ["llama3.2"], "keep_alive": "5 minutes"}, "invalid keep_alive '5 minutes'"),
    ({"name": ["llama3.2"], "keep_alive": "10x"}, "not a number of seconds and not a Go duration"),
    ({"name": ["llama3.2"], "keep_alive": ""}, "invalid keep_alive '': it is empty"),
    ({"name": ["llama3.2"], "keep_alive": True}, "invalid keep_alive True: expected a number or a string, got bool"),
    ({"name": ["llama3.2"], "keep_alive": [1]}, "expected a number or a string, got list"),
    ({"name": ["llama3.2"], "min_free_space": "lots"}, "min_free_space: invalid size 'lots'"),
    ({"name": ["llama3.2"], "min_free_space": "-5GB"}, "a size cannot be negative"),
    ({"name": ["llama3.2"], "min_free_space": "5 GBs"}, "unknown unit 'GBs'"),
    ({"name": ["llama3.2"], "digest": "sha256:1234"}, "it has 4 hexadecimal characters, not 64"),
    ({"name": ["llama3.2"], "digest": "md5:" + "a" * 64}, "unsupported algorithm 'md5'"),
    ({"name": ["llama3.2"], "digest": "z" * 64}, "'z' at position 0 is not a hexadecimal digit"),
    ({"name": ["a", "b"], "digest": "a" * 64}, "digest pins one model"),
    ({"name": ["llama3.2"], "state": "loaded", "options": {"num_ctx": "big"}}, "option 'num_ctx' must be an integer, got 'big' (str)"),
    ({"name": ["llama3.2"], "state": "loaded", "options": {"temperature": [1]}}, "option 'temperature' must be a number"),
    ({"name": ["llama3.2"], "state": "loaded", "options": {"use_mmap": 3}}, "option 'use_mmap' must be a boolean"),
    ({"name": ["llama3.2"], "state": "loaded", "options": {"num_gpu": 1.5}}, "option 'num_gpu' must be an integer, got 1.5"),
    ({"name": ["x"], "from": "llama3.2", "parameters": {"temprature": 0.1}}, "unknown parameter 'temprature'"),
    ({"name": ["x"], "from": "llama3.2", "parameters": {"stop": 5}}, "parameter 'stop' must be a list of strings"),
    ({"name": ["x"], "system": "hi"}, "system describe a custom model, which needs from"),
    ({"name": ["x"], "from": "bad name"}, "from: invalid model name 'bad name'"),
    ({"name": ["x"], "from": "llama3.2", "license": {"a": 1}}, "license must be a string or a list of strings, got dict"),
    ({"name": ["x", "y"], "from": "llama3.2"}, "define one custom model; give a single name"),
    ({"name": ["x"], "from": "llama3.2", "update": True}, "update applies to models pulled from a registry"),
    ({"name": ["llama3.2"], "state": "absent", "force": True}, "force re-creates a model; it applies to state present or loaded, not absent"),
    ({"name": ["llama3.2"], "retries": -1}, "retries must be 0 or more"),
    ({"name": ["llama3.2"], "stall_timeout": 0}, "stall_timeout must be more than 0 seconds"),
    ({"name": ["llama3.2"], "registry_url": "registry.example.com"}, "registry_url 'registry.example.com' must start with http:// or https://"),
    ({"name": ["llama3.2"], "api_url": "127.0.0.1:11434"}, "has no scheme"),
    ({"name": ["llama3.2"], "state": "running"}, "value of state must be one of: present, absent, loaded, unloaded, got: running"),
    ({"name": ["x"], "from": "llama3.2", "quantize": "q2_K"}, "invalid quantize 'q2_K': choose one of F32, F16, BF16, Q8_0, Q4_K_S, Q4_K_M, Q4_K"),
    ({"name": ["x"], "from": "llama3.2", "messages": [{"role": "robot", "content": "hi"}]}, "value of role must be one of: system, user, assistant, tool"),
    ({"name": ["llama3.2"], "options": "num_ctx=4096 oops"}, "argument 'options' is of type str and we were unable to convert to dict"),
    ({"name": ["llama3.2"], "registry_url": "https://user:s3cret@registry.example.com"}, "registry_url must not carry credentials (user:password@"),
]


@pytest.mark.long
def test_bad_input_fails_naming_the_problem_before_any_request(sim, tmp_path: Path) -> None:
    assert len(BAD_INPUT) >= 20
    steps = [dict(step, label="case %d" % index) for index, (step, _fragment) in enumerate(BAD_INPUT)]
    results = run_steps(sim, tmp_path, steps)
    for (step, fragment), result in zip(BAD_INPUT, results):
        assert result.get("failed") is True, (step, result)
        assert fragment in result["msg"], (step, result["msg"])
        assert "s3cret" not in result["msg"] and "s3cret" not in str(result.get("warnings")), "a secret in registry_url is never repeated"
    assert mutating(sim.requests()) == []
    assert [r for r in sim.requests() if r["path"].startswith("/api/")] == [], "bad input was caught before any request"


def test_unknown_load_option_is_a_warning(sim, tmp_path: Path) -> None:
    result = one(sim, tmp_path, state="loaded", options={"num_ctx": "4096", "flux_capacitor": 1})
    assert (result["changed"], bool(result.get("failed"))) == (True, False), result.get("msg")
    assert any("'flux_capacitor' is not an option Ollama knows" in w for w in result["warnings"])
    assert [r["path"] for r in mutating(sim.requests())] == ["/api/pull", "/api/generate"]
