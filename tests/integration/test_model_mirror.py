# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pulling through a mirror (ollama_model and ollama_model_sync with ``mirror:``), against real parts.

An upstream simulator's /v2 stands in for registry.ollama.ai (blobs 307 to its "CDN", as the real one);
ollama_mirror fills a mirror tree from it; ollama_domain serves the tree through a real nginx over TLS
with a certificate of a private CA and an allowlist; host simulators trust that CA through SSL_CERT_FILE
(as Go does) and download from the mirror for real; ansible-playbook runs the modules (with SSL_CERT_FILE
too, for the manifest read). The hosts end with the canonical names and the upstream digests.
"""

from __future__ import annotations

import http.client
import json
import ssl
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

from tests.integration.nginx_fixture import LoopbackCA, NginxServer
from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import Sim, run_sim

pytestmark = pytest.mark.integration

MIRRORED = ["smollm2:135m", "llama3.2:1b"]


class Mirror:
    """The served mirror: its URL, the CA that signed its certificate, the upstream stand-in and nginx."""

    def __init__(self, url: str, ca: LoopbackCA, upstream: Sim, nginx: NginxServer, digests: Dict[str, str]) -> None:
        self.url = url
        self.host = url.split("://", 1)[1]
        self.ca = ca
        self.upstream = upstream
        self.nginx = nginx
        self.digests = digests  # upstream manifest digests (sha256:<hex>) by catalogue name

    def requests(self) -> int:
        """Requests nginx has logged so far (every answer of the mirror, whoever asked)."""
        log = self.nginx.root / "logs" / "access.log"
        return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture
def mirror(tmp_path: Path, nginx: NginxServer) -> Iterator[Mirror]:
    with run_sim(tmp_path / "upstream", rate=0, blob_redirect=True) as upstream:
        digests = {model["name"]: model["manifest_digest"] for model in upstream.catalog_models()}
        tree = tmp_path / "mirror"
        tree.mkdir()
        fill = run_playbook("mirror.yml", {"mirror_path": str(tree), "steps": [{"models": MIRRORED, "source": upstream.url}]})
        filled = fill.results("Mirror")["results"][0]
        assert filled["changed"] is True and not filled.get("failed"), filled
        ca = LoopbackCA(tmp_path / "ca")
        cert, key = ca.issue(["localhost"], "mirror")
        before = nginx.generation()
        args = nginx.module_args(domain="localhost", mirror_path=str(tree), tls="provided", certificate=str(cert), private_key=str(key), allow=["127.0.0.1"])
        bind = run_playbook("mirror_serve.yml", {"domain_args": args})
        assert bind.rc == 0, bind.stdout[-3000:]
        nginx.wait_generation_after(before)
        upstream.clear_stats()
        yield Mirror("https://localhost:%d" % nginx.https_port, ca, upstream, nginx, digests)


def host(tmp_path: Path, mirror: Mirror, name: str) -> Any:
    """A host simulator that trusts the mirror's CA and downloads registry.ollama.ai names from the upstream stand-in."""
    return run_sim(tmp_path / name, rate=0, env={"SSL_CERT_FILE": str(mirror.ca.ca_file)}, registry=mirror.upstream.url)


def common(sim: Sim, tmp_path: Path, mirror: Mirror, **extra: Any) -> Dict[str, Any]:
    args = {
        "api_url": sim.url,
        "mirror": mirror.url,
        "registry_url": mirror.upstream.url,
        "models_path": str(sim.data),
        "state_dir": str(tmp_path / ("state-" + sim.data.name)),
        "retry_delay": 0.2,
    }
    args.update(extra)
    return args


def play(mirror: Mirror, check: bool = False, diff: bool = False, **variables: Any) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Run the steps; (ollama_model results, ollama_model_sync results)."""
    run = run_playbook("model_mirror.yml", variables, check=check, diff=diff, env={"SSL_CERT_FILE": str(mirror.ca.ca_file)})
    assert "Traceback" not in run.stdout + run.stderr, run.stdout[-3000:] + run.stderr[-3000:]
    found = []
    for task, key in (("Model", "model_steps"), ("Sync", "sync_steps")):
        results = []
        if variables.get(key):
            result = run.results(task)
            results = result["results"]
            for item in results:  # a loop's warnings are the task's (each step's own when there is one step)
                item["warnings"] = list(result.get("warnings") or [])
        found.append(results)
    return found[0], found[1]


def tags(sim: Sim) -> Dict[str, str]:
    """name -> sha256:<digest> of the host's /api/tags."""
    return {model["name"]: "sha256:" + model["digest"] for model in sim.call("GET", "/api/tags")[1]["models"]}


def steps(plan: Dict[str, Any]) -> List[Tuple[str, str, Any]]:
    return [(step["kind"], step["target"], step.get("source")) for step in plan["steps"]]


def test_ollama_model_pulls_through_the_mirror(tmp_path: Path, mirror: Mirror) -> None:
    via = "%s/library/smollm2:135m" % mirror.host
    with host(tmp_path, mirror, "host-a") as sim:
        args = common(sim, tmp_path, mirror, name="smollm2:135m")

        # check mode: the plan (pull from the mirror name, copy, delete), no write
        check = play(mirror, check=True, diff=True, model_steps=[args])[0][0]
        assert check["changed"] is True and not check.get("failed"), check
        assert steps(check["plan"][0]) == [
            ("check_space", "smollm2:135m", None),
            ("pull", "smollm2:135m", via),
            ("copy", "smollm2:135m", via),
            ("delete", via, None),
        ]
        assert check["diff"]["after"]["smollm2:135m"] == {"state": "present", "digest": mirror.digests["smollm2:135m"][7:]}
        assert tags(sim) == {} and sim.stats()["pulled"] == 0
        assert not [r for r in sim.requests() if r["method"] != "GET"], "check mode sent a request that changes the server"

        pulled = play(mirror, diff=True, model_steps=[args])[0][0]
        assert pulled["changed"] is True and not pulled.get("failed"), pulled
        assert pulled["actions"] == ["pulled smollm2:135m"]
        assert tags(sim) == {"smollm2:135m": mirror.digests["smollm2:135m"]}, "the canonical name with the upstream digest, no mirror name left"
        assert pulled["model"]["digest"] == mirror.digests["smollm2:135m"][7:] and pulled["model"]["name"] == "smollm2:135m"
        assert mirror.upstream.stats()["served"] == 0, "the bytes came from the mirror, not from upstream"
        assert sim.stats()["pulled"] > 0
        pulls = [r for r in sim.requests() if r["method"] == "POST" and r["path"] == "/api/pull"]
        assert len(pulls) == 1

        # a converged host: nothing changes, and the mirror is not asked anything
        asked = mirror.requests()
        again = play(mirror, model_steps=[args])[0][0]
        assert again["changed"] is False and not again.get("failed") and again["plan"] == [], again
        assert mirror.requests() == asked
        assert tags(sim) == {"smollm2:135m": mirror.digests["smollm2:135m"]}

        # a digest pin verifies against the upstream digest (a copy keeps it)
        pinned = play(mirror, model_steps=[dict(args, digest=mirror.digests["smollm2:135m"], update=True)])[0][0]
        assert pinned["changed"] is False and not pinned.get("failed"), pinned
        assert mirror.requests() == asked


def test_ollama_model_sync_pulls_through_the_mirror_and_locks_upstream_digests(tmp_path: Path, mirror: Mirror) -> None:
    lock = tmp_path / "models.lock.yml"
    with host(tmp_path, mirror, "host-b") as sim:
        args = common(sim, tmp_path, mirror, models=MIRRORED, lock_file=str(lock))
        check = play(mirror, check=True, sync_steps=[args])[1][0]
        assert check["changed"] is True and not check.get("failed"), check
        planned = {entry["name"]: [step["kind"] for step in entry["steps"]] for entry in check["plan"]}
        assert planned == {name: ["check_space", "pull", "copy", "delete"] for name in MIRRORED}
        assert tags(sim) == {}

        synced = play(mirror, diff=True, sync_steps=[args])[1][0]
        assert synced["changed"] is True and not synced.get("failed"), synced
        assert synced["summary"]["added"] == 2
        assert tags(sim) == {name: mirror.digests[name] for name in MIRRORED}
        assert {pin["name"]: pin["digest"] for pin in synced["lock"]} == {name: mirror.digests[name] for name in MIRRORED}
        assert mirror.digests["smollm2:135m"] in lock.read_text()
        assert mirror.upstream.stats()["served"] == 0

        asked = mirror.requests()
        again = play(mirror, sync_steps=[args])[1][0]
        assert again["changed"] is False and not again.get("failed") and again["plan"] == [], again
        assert mirror.requests() == asked, "a converged host asked the mirror"

        # the lock file read back pins the fleet to the upstream digests, also through the mirror
        locked = play(mirror, sync_steps=[dict(args, lock_mode="read")])[1][0]
        assert locked["changed"] is False and not locked.get("failed"), locked
        assert mirror.requests() == asked


def test_a_model_the_mirror_lacks_fails_naming_it_unless_fallback(tmp_path: Path, mirror: Mirror) -> None:
    with host(tmp_path, mirror, "host-c") as sim:
        args = common(sim, tmp_path, mirror, name="qwen2.5:0.5b")
        refused_check = play(mirror, check=True, model_steps=[args])[0][0]
        (refused,), (refused_sync,) = play(mirror, model_steps=[args], sync_steps=[common(sim, tmp_path, mirror, models=["qwen2.5:0.5b"])])
        for result in (refused_check, refused, refused_sync):
            assert result.get("failed") and "qwen2.5:0.5b is not in the mirror %s" % mirror.url in result["msg"], result
            assert "mirror_fallback" in result["msg"]
        assert tags(sim) == {} and mirror.upstream.stats()["served"] == 0
        assert not [r for r in sim.requests() if r["method"] == "POST"], "a refused model still sent a pull"

        fallback = play(mirror, model_steps=[dict(args, mirror_fallback=True)])[0][0]
        assert fallback["changed"] is True and not fallback.get("failed"), fallback
        assert any("not in the mirror %s" % mirror.url in text and "mirror_fallback" in text for text in fallback.get("warnings", [])), fallback
        assert steps(fallback["plan"][0]) == [("check_space", "qwen2.5:0.5b", None), ("pull", "qwen2.5:0.5b", None)]
        assert tags(sim) == {"qwen2.5:0.5b": mirror.digests["qwen2.5:0.5b"]}
        assert mirror.upstream.stats()["served"] > 0, "the fallback came from upstream"

        # a per-model override in the sync: this model directly, the others through the module's mirror
        per_model = common(sim, tmp_path, mirror, models=[{"name": "qwen2.5:0.5b", "mirror": False}, "smollm2:135m"])
        mixed = play(mirror, sync_steps=[per_model])[1][0]
        assert mixed["changed"] is True and not mixed.get("failed"), mixed
        assert {entry["name"]: [step.get("source") for step in entry["steps"] if step["kind"] == "pull"] for entry in mixed["plan"]} == {
            "smollm2:135m": ["%s/library/smollm2:135m" % mirror.host]
        }
        assert tags(sim) == {name: mirror.digests[name] for name in ("qwen2.5:0.5b", "smollm2:135m")}


def test_bad_mirror_options_fail_before_any_request(tmp_path: Path, mirror: Mirror) -> None:
    with host(tmp_path, mirror, "host-d") as sim:
        plain = dict(common(sim, tmp_path, mirror, name="smollm2:135m"), mirror="http://localhost:%d" % mirror.nginx.http_port)
        path = dict(common(sim, tmp_path, mirror, name="smollm2:135m"), mirror=mirror.url + "/ollama")
        insecure_missing, with_path = play(mirror, model_steps=[plain, path])[0]
        assert insecure_missing.get("failed") and "mirror_insecure: true" in insecure_missing["msg"], insecure_missing
        assert with_path.get("failed") and "has a path" in with_path["msg"], with_path
        assert sim.requests() == []


def test_a_source_outside_the_allowlist_gets_403(mirror: Mirror) -> None:
    """The mirror answers 127.0.0.1 (allowed) and refuses 127.0.0.2 (outside the allowlist) with 403."""
    context = ssl.create_default_context(cafile=str(mirror.ca.ca_file))
    path = "/v2/library/smollm2/manifests/135m"

    def get(source: str) -> int:
        connection = http.client.HTTPSConnection("localhost", mirror.nginx.https_port, context=context, timeout=10, source_address=(source, 0))
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()

    assert get("127.0.0.1") == 200
    assert get("127.0.0.2") == 403


# ---------------------------------------------------------------------------- never delete what the run did not create (issue 19 class 4)
# (label, the ollama_model or ollama_model_sync arguments beyond the common ones, "model" or "sync", whether the run succeeds)
HAND_PULLED = [
    ("ollama_model pull", {"name": "smollm2:135m"}, "model", True),
    ("ollama_model pinned to the served digest", {"name": "smollm2:135m", "digest": "SERVED"}, "model", True),
    ("ollama_model pinned to another digest: the verify fails and undoes", {"name": "smollm2:135m", "digest": "0" * 64}, "model", False),
    ("ollama_model_sync", {"models": ["smollm2:135m"]}, "sync", True),
]


@pytest.mark.parametrize(("label", "extra", "kind", "succeeds"), HAND_PULLED, ids=[case[0] for case in HAND_PULLED])
def test_a_model_pulled_by_hand_under_the_mirror_name_survives(
    tmp_path: Path, mirror: Mirror, label: str, extra: Dict[str, Any], kind: str, succeeds: bool
) -> None:
    via = "%s/library/smollm2:135m" % mirror.host
    with host(tmp_path, mirror, "host-hand") as sim:
        status, _body = sim.call("POST", "/api/pull", {"model": via, "stream": False})
        assert status == 200 and via in tags(sim), (status, tags(sim))
        extra = {key: (mirror.digests["smollm2:135m"][7:] if value == "SERVED" else value) for key, value in extra.items()}
        args = common(sim, tmp_path, mirror, **extra)
        key = "model_steps" if kind == "model" else "sync_steps"

        check = play(mirror, check=True, **{key: [args]})[0 if kind == "model" else 1][0]
        plans = check["plan"] if kind == "sync" else [check["plan"][0]] if check.get("plan") else []
        for plan in plans:
            assert not [step for step in plan["steps"] if step["kind"] == "delete" and step["target"] == via], (label, plan)

        result = play(mirror, **{key: [args]})[0 if kind == "model" else 1][0]
        assert bool(result.get("failed")) is not succeeds, (label, result)
        assert via in tags(sim), "%s: the model pulled by hand under the mirror's name was deleted" % label
        if succeeds:
            assert tags(sim)["smollm2:135m"] == mirror.digests["smollm2:135m"]


def test_the_models_role_prints_one_line_per_pull_through_the_mirror(tmp_path: Path, mirror: Mirror) -> None:
    """The ollama_models role's summary: one line per model pulled through the mirror with its three steps (the pull
    of the mirror name with the bytes the server downloaded, the copy to its own name, the mirror name removed)."""
    with host(tmp_path, mirror, "host-role") as sim:
        variables = {
            "ollama_models_api_url": sim.url,
            "ollama_models_registry_url": mirror.upstream.url,
            "ollama_models_mirror": mirror.url,
            "ollama_models_models_path": str(sim.data),
            "ollama_models_state_dir": str(tmp_path / "state-role"),
            "ollama_models_list": MIRRORED,
        }
        run = run_playbook("models_role.yml", variables, env={"SSL_CERT_FILE": str(mirror.ca.ca_file)})
        assert run.rc == 0, run.stdout[-3000:]
        assert tags(sim) == {name: mirror.digests[name] for name in MIRRORED}
        synced = run.results("Wait for the sync to finish")["results"]
        steps = {entry["name"]: entry["mirror"] for entry in synced}
        assert set(steps) == set(MIRRORED)
        for name, step in steps.items():
            assert (step["mirror"], step["source"], step["pulled"], step["copied"], step["removed"]) == (
                mirror.url,
                "%s/library/%s" % (mirror.host, name),
                True,
                True,
                True,
            ), step
            assert step["bytes"] > 0 and step["bytes"] == next(entry["bytes"] for entry in synced if entry["name"] == name)
        assert sum(step["bytes"] for step in steps.values()) == sim.stats()["pulled"], "every byte the server downloaded, counted once"
        lines = [line for line in run.results("Print the summary of the sync")["msg"] if " through the mirror " in line]
        assert lines == [
            "%s through the mirror %s: pulled %.1f MB as %s/library/%s, copied to its own name, mirror name removed"
            % (name, mirror.url, steps[name]["bytes"] / 1e6, mirror.host, name)
            for name in [entry["name"] for entry in synced]
        ], lines

        again = run_playbook("models_role.yml", variables, env={"SSL_CERT_FILE": str(mirror.ca.ca_file)})
        assert again.rc == 0 and again.stats["changed"] == 0
        assert not [line for line in again.results("Print the summary of the sync")["msg"] if " through the mirror " in line]


def blob_files(sim: Sim) -> set:
    return {path.name for path in (sim.data / "blobs").iterdir()}


def test_an_update_through_the_mirror_removes_the_layers_only_the_previous_version_used(tmp_path: Path, mirror: Mirror) -> None:
    """A copy onto the model's name leaves the previous version's layers behind (Ollama prunes them only at start-up,
    an hour later at the earliest); the sync keeps that version under a second name and deletes it after the update."""
    with host(tmp_path, mirror, "host-u") as sim:
        args = common(sim, tmp_path, mirror, models=[{"name": "smollm2:135m", "update": True}])
        first = play(mirror, sync_steps=[args])[1][0]
        assert first["changed"] is True and not first.get("failed"), first
        previous = blob_files(sim)

        # upstream publishes a new version; the mirror is filled again
        mirror.upstream.bump("smollm2:135m")
        fill = run_playbook("mirror.yml", {"mirror_path": str(tmp_path / "mirror"), "steps": [{"models": ["smollm2:135m"], "source": mirror.upstream.url}]})
        assert fill.rc == 0 and fill.results("Mirror")["results"][0]["changed"] is True, fill.stdout[-3000:]
        new = {model["name"]: model["manifest_digest"] for model in mirror.upstream.catalog_models()}["smollm2:135m"]

        plan = play(mirror, check=True, sync_steps=[args])[1][0]["plan"][0]
        assert [step["kind"] for step in plan["steps"]] == ["check_space", "copy", "pull", "copy", "delete", "delete"], plan

        updated = play(mirror, sync_steps=[args])[1][0]
        assert updated["changed"] is True and not updated.get("failed"), updated
        assert tags(sim) == {"smollm2:135m": new}, "the new version under its own name only: no mirror name, no second name"
        (result,) = updated["results"]
        assert result["mirror"]["previous_removed"] is True, result
        gone = previous - blob_files(sim)
        assert gone, "the layers only the previous version used are removed"
        # what is left is what the new version uses: its manifest's layers, nothing more
        manifest = json.loads(next((sim.data / "manifests").rglob("135m")).read_text())
        used = {layer["digest"].replace(":", "-") for layer in manifest["layers"]} | {manifest["config"]["digest"].replace(":", "-")}
        assert blob_files(sim) == used

        again = play(mirror, sync_steps=[args])[1][0]
        assert again["changed"] is False and not again.get("failed"), again
