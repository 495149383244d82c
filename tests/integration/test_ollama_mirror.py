# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_mirror in real ansible-playbook runs, with the simulator's /v2 registry as the upstream stand-in."""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.cut_proxy import CutProxy
from tests.integration.nginx_fixture import NginxServer
from tests.integration.playbook import REPO, run_playbook
from tests.ollama_sim.testing import Sim, run_sim

pytestmark = pytest.mark.integration

MODELS = ["smollm2:135m", "llama3.2:1b", "llama3.2"]


def run_steps(tmp_path: Path, steps: List[Dict[str, Any]], check: bool = False, diff: bool = False) -> List[Dict[str, Any]]:
    run = run_playbook("mirror.yml", {"mirror_path": str(tmp_path / "mirror"), "steps": steps}, check=check, diff=diff)
    assert "Traceback" not in run.stdout + run.stderr, run.stdout + run.stderr
    results = run.results("Mirror")["results"]
    assert len(results) == len(steps)
    return results


def one(tmp_path: Path, check: bool = False, diff: bool = False, **step: Any) -> Dict[str, Any]:
    return run_steps(tmp_path, [step], check=check, diff=diff)[0]


def ledger(mirror: Path, name: str) -> Dict[str, Any]:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger

    record = Ledger.open(str(mirror / ".state"), create=False).read(name)
    assert record is not None, "no ledger record for %s" % name
    return record


def catalog(sim: Sim) -> Dict[str, Dict[str, Any]]:
    return {model["name"]: model for model in sim.catalog_models()}


def tree(root: Path) -> Dict[str, str]:
    """Every file under root (relative path -> sha256 of its bytes), hidden ones included."""
    found = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        if path.is_file():
            found[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def served(root: Path) -> Dict[str, str]:
    """The files nginx would serve: everything under v2/."""
    return {key: value for key, value in tree(root).items() if key.startswith("v2/")}


def assert_mirrors(root: Path, sim_catalog: Dict[str, Dict[str, Any]], names: List[str]) -> None:
    """Each model's manifest by tag and by digest, and each layer under the repository, with upstream's digests."""
    for name in names:
        model = sim_catalog[name if ":" in name else name + ":latest"]
        repo_name, _colon, tag = model["name"].rpartition(":")
        repo = root / "v2" / ("library/" + repo_name if "/" not in repo_name else repo_name)
        manifest = (repo / "manifests" / tag).read_bytes()
        assert "sha256:" + hashlib.sha256(manifest).hexdigest() == model["manifest_digest"]
        assert (repo / "manifests" / model["manifest_digest"]).read_bytes() == manifest
        for layer in model["layers"]:
            blob = repo / "blobs" / layer["digest"]
            assert blob.stat().st_size == layer["size"]
            assert os.path.samefile(blob, root / "blobs" / layer["digest"].replace(":", "-"))


def test_fill_check_mode_rerun_and_diff(tmp_path: Path) -> None:
    with run_sim(tmp_path / "up", rate=0) as sim:
        upstream = catalog(sim)
        sizes = {layer["digest"]: layer["size"] for name in ("smollm2:135m", "llama3.2:1b", "llama3.2:latest") for layer in upstream[name]["layers"]}
        (tmp_path / "mirror").mkdir()

        check = one(tmp_path, check=True, diff=True, models=MODELS, source=sim.url)
        assert check["changed"] is True and not check.get("failed"), check
        assert {blob["digest"]: blob["size"] for blob in check["fetched"]} == sizes
        assert check["fetch_bytes"] == sum(sizes.values())
        assert set(check["diff"]["after"]["models"]) == {"smollm2:135m", "llama3.2:1b", "llama3.2:latest"}
        assert check["diff"]["before"]["models"] == {}
        assert tree(tmp_path / "mirror") == {}, "check mode wrote into the mirror"
        assert sim.stats()["served"] == 0, "check mode downloaded blobs"
        assert {r["method"] for r in sim.requests()} == {"GET"}

        fill = one(tmp_path, diff=True, models=MODELS, source=sim.url)
        assert fill["changed"] is True and not fill.get("failed"), fill
        assert fill["transferred"] == sum(sizes.values())
        assert sim.stats()["served"] == sum(sizes.values()), "each blob is fetched once"
        assert_mirrors(tmp_path / "mirror", upstream, MODELS)
        assert fill["diff"]["after"]["models"]["smollm2:135m"] == upstream["smollm2:135m"]["manifest_digest"]
        assert {model["display"]: model["digest"] for model in fill["models"]} == {
            name: upstream[name]["manifest_digest"] for name in ("smollm2:135m", "llama3.2:1b", "llama3.2:latest")
        }
        assert not list((tmp_path / "mirror" / ".partial").iterdir())
        state = ledger(tmp_path / "mirror", "smollm2:135m")
        assert state["status"] == "ok" and state["digest"] == upstream["smollm2:135m"]["manifest_digest"]

        before = tree(tmp_path / "mirror")
        sim.clear_stats()
        again = one(tmp_path, diff=True, models=MODELS, source=sim.url)
        assert again["changed"] is False and not again.get("failed"), again
        assert again["fetched"] == [] and again["transferred"] == 0
        assert again["diff"]["before"] == again["diff"]["after"]
        assert sim.stats()["served"] == 0
        assert tree(tmp_path / "mirror") == before

        check_again = one(tmp_path, check=True, models=MODELS, source=sim.url)
        assert check_again["changed"] is False and check_again["fetched"] == [], check_again

        # a tag that moves upstream is fetched again; the old version's links go
        old = upstream["smollm2:135m"]
        sim.bump("smollm2:135m")
        moved = one(tmp_path, models=["smollm2:135m"], source=sim.url)
        new = catalog(sim)["smollm2:135m"]
        assert moved["changed"] is True and moved["models"][0]["digest"] == new["manifest_digest"] != old["manifest_digest"]
        assert_mirrors(tmp_path / "mirror", catalog(sim), ["smollm2:135m"])
        assert not (tmp_path / "mirror" / "v2" / "library" / "smollm2" / "manifests" / old["manifest_digest"]).exists()


def test_pinned_digest(tmp_path: Path) -> None:
    with run_sim(tmp_path / "up", rate=0) as sim:
        digest = catalog(sim)["smollm2:135m"]["manifest_digest"]
        good, bad = run_steps(
            tmp_path,
            [
                {"models": ["smollm2:135m@" + digest], "source": sim.url},
                {"models": [{"name": "llama3.2:1b", "digest": "0" * 64}], "source": sim.url},
            ],
        )
        assert good["changed"] is True and good["models"][0]["digest"] == digest
        assert bad.get("failed") and "pinned to sha256:" + "0" * 64 in bad["msg"] and "nothing was fetched" in bad["msg"], bad
        assert not (tmp_path / "mirror" / "v2" / "library" / "llama3.2").exists()
        sim.clear_requests()
        # a pinned model already mirrored needs no request at all
        again = one(tmp_path, models=[{"name": "smollm2:135m", "digest": digest}], source=sim.url)
        assert again["changed"] is False and sim.requests() == []


def test_resume_after_a_cut(tmp_path: Path) -> None:
    size = 24 * 1024 * 1024
    # a paced upstream (as a real one), so that few bytes are in flight in socket buffers when the cut comes
    with run_sim(tmp_path / "up", rate=40_000_000) as sim:
        status, body = sim.call("POST", "/_sim/catalog", {"add": {"name": "bench/cut:latest", "size": size}})
        assert status == 200, body
        total = catalog(sim)["bench/cut:latest"]["size"]
        with CutProxy("127.0.0.1", sim.port, cut_after=total // 2) as proxy:
            cut = one(tmp_path, models=["bench/cut"], source=proxy.url, retries=0, parallel=1)
            assert proxy.cut
        assert cut.get("failed") and "run the task again to resume" in cut["msg"], cut
        assert not (tmp_path / "mirror" / "v2" / "bench" / "cut" / "manifests").exists(), "a manifest was placed before its blobs"
        partials = list((tmp_path / "mirror" / ".partial").iterdir())
        assert partials and 0 < partials[0].stat().st_size < total
        assert ledger(tmp_path / "mirror", "bench/cut")["status"] == "failed"
        partial_size = partials[0].stat().st_size

        resumed = one(tmp_path, models=["bench/cut"], source=sim.url)
        assert resumed["changed"] is True and not resumed.get("failed"), resumed
        assert resumed["fetched"][0]["resumed_from"] == partial_size
        assert ledger(tmp_path / "mirror", "bench/cut")["status"] == "ok"
        assert 0 < resumed["transferred"] < total
        assert_mirrors(tmp_path / "mirror", catalog(sim), ["bench/cut:latest"])
        ratio = sim.stats()["served"] / total
        assert ratio <= 1.10, "upstream served %.2f x the model size" % ratio


def test_bundle_made_online_and_loaded_offline(tmp_path: Path) -> None:
    bundle = tmp_path / "models.tar"
    with run_sim(tmp_path / "up", rate=0) as sim:
        upstream = catalog(sim)
        made = one(tmp_path, models=["smollm2:135m", "llama3.2:1b"], source=sim.url, bundle_dest=str(bundle))
        assert made["changed"] is True and made["bundle"]["changed"] is True, made
        again = one(tmp_path, models=["smollm2:135m", "llama3.2:1b"], source=sim.url, bundle_dest=str(bundle))
        assert again["changed"] is False and again["bundle"]["changed"] is False, again
    # the upstream stand-in has stopped: the air-gapped side has only the file
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
    assert names[0] == "index.json" and len(names) == len(set(names))

    inside = tmp_path / "inside"
    inside.mkdir()
    check = one(tmp_path, check=True, path=str(inside), bundle=str(bundle))
    assert check["changed"] is True and check["fetch_bytes"] > 0 and tree(inside) == {}, check
    loaded = one(tmp_path, path=str(inside), bundle=str(bundle))
    assert loaded["changed"] is True and not loaded.get("failed"), loaded
    assert_mirrors(inside, upstream, ["smollm2:135m", "llama3.2:1b"])
    assert served(inside) == served(tmp_path / "mirror")
    reloaded = one(tmp_path, path=str(inside), bundle=str(bundle))
    assert reloaded["changed"] is False, reloaded

    # one model of the bundle, by name
    only = tmp_path / "only"
    only.mkdir()
    picked = one(tmp_path, path=str(only), bundle=str(bundle), models=["smollm2:135m"])
    assert [model["display"] for model in picked["models"]] == ["smollm2:135m"]
    assert_mirrors(only, upstream, ["smollm2:135m"])
    missing = one(tmp_path, path=str(only), bundle=str(bundle), models=["qwen2.5:0.5b"])
    assert missing.get("failed") and "has no qwen2.5:0.5b" in missing["msg"], missing


def test_corrupt_bundle_is_refused_with_nothing_placed(tmp_path: Path) -> None:
    bundle = tmp_path / "models.tar"
    with run_sim(tmp_path / "up", rate=0) as sim:
        made = one(tmp_path, models=["smollm2:135m", "llama3.2:1b"], source=sim.url, bundle_dest=str(bundle))
        assert made["changed"] is True, made
    corrupt = tmp_path / "corrupt.tar"
    shutil.copy(bundle, corrupt)
    with tarfile.open(corrupt) as tar:
        members = [m for m in tar.getmembers() if m.name.startswith("blobs/")]
    victim = max(members, key=lambda m: m.size)
    with open(corrupt, "r+b") as handle:
        handle.seek(victim.offset_data + victim.size // 2)
        byte = handle.read(1)
        handle.seek(victim.offset_data + victim.size // 2)
        handle.write(bytes([byte[0] ^ 0xFF]))

    inside = tmp_path / "inside"
    inside.mkdir()
    refused = one(tmp_path, path=str(inside), bundle=str(corrupt))
    assert refused.get("failed"), refused
    assert victim.name.replace("blobs/", "").replace("-", ":") in refused["msg"] and "nothing was placed" in refused["msg"], refused["msg"]
    assert tree(inside) == {}, "a corrupt bundle placed files"

    # the good bundle still loads into the same directory
    loaded = one(tmp_path, path=str(inside), bundle=str(bundle))
    assert loaded["changed"] is True and not loaded.get("failed"), loaded


def test_absent_and_prune(tmp_path: Path) -> None:
    with run_sim(tmp_path / "up", rate=0) as sim:
        upstream = catalog(sim)
        one(tmp_path, models=MODELS, source=sim.url)
    mirror = tmp_path / "mirror"
    gone = {layer["digest"] for layer in upstream["llama3.2:1b"]["layers"]}
    kept = {layer["digest"] for name in ("smollm2:135m", "llama3.2:latest") for layer in upstream[name]["layers"]}

    check = one(tmp_path, check=True, diff=True, models=["llama3.2:1b"], state="absent", prune=True)
    assert check["changed"] is True and [m["name"] for m in check["removed"]] == ["llama3.2:1b"]
    assert "llama3.2:1b" not in check["diff"]["after"]["models"]
    assert (mirror / "v2" / "library" / "llama3.2" / "manifests" / "1b").exists()

    removed = one(tmp_path, models=["llama3.2:1b"], state="absent")
    assert removed["changed"] is True and removed["pruned"] == []
    repo = mirror / "v2" / "library" / "llama3.2"
    assert not (repo / "manifests" / "1b").exists()
    assert not (repo / "manifests" / upstream["llama3.2:1b"]["manifest_digest"]).exists()
    assert {path.name for path in (repo / "blobs").iterdir()} == {layer["digest"] for layer in upstream["llama3.2:latest"]["layers"]}
    assert all((mirror / "blobs" / digest.replace(":", "-")).exists() for digest in gone), "blobs stay until prune"
    assert_mirrors(mirror, upstream, ["smollm2:135m", "llama3.2"])

    pruned = one(tmp_path, models=["llama3.2:1b"], state="absent", prune=True)
    assert pruned["changed"] is True and pruned["removed"] == []
    assert {blob["digest"] for blob in pruned["pruned"]} == gone - kept
    assert {path.name for path in (mirror / "blobs").iterdir()} == {digest.replace(":", "-") for digest in kept}
    assert_mirrors(mirror, upstream, ["smollm2:135m", "llama3.2"])

    again = one(tmp_path, models=["llama3.2:1b"], state="absent", prune=True)
    assert again["changed"] is False, again


def test_refusals_place_nothing(tmp_path: Path) -> None:
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with run_sim(tmp_path / "up", rate=0) as sim:
        (tmp_path / "mirror").mkdir()
        root, not_dir, collide, space, unknown = run_steps(
            tmp_path,
            [
                {"path": "/", "models": ["smollm2:135m"], "source": sim.url},
                {"path": str(a_file), "models": ["smollm2:135m"], "source": sim.url},
                {"models": ["smollm2:135m", "127.0.0.1:%d/library/smollm2:135m" % sim.port], "source": sim.url, "insecure": True},
                {"models": ["llama3.2:1b"], "source": sim.url, "min_free_space": "1 PB"},
                {"models": ["no-such-model:1b"], "source": sim.url},
            ],
        )
        assert root.get("failed") and "root directory" in root["msg"], root
        assert not_dir.get("failed") and "not a directory" in not_dir["msg"], not_dir
        assert collide.get("failed") and "would share v2/library/smollm2" in collide["msg"], collide
        assert space.get("failed") and "free" in space["msg"] and "needs" in space["msg"], space
        assert unknown.get("failed") and "no-such-model:1b" in unknown["msg"] and "404" in unknown["msg"], unknown
        assert sim.stats()["served"] == 0
        assert tree(tmp_path / "mirror") == {}
        assert a_file.read_text() == "x"

        # a model of another registry colliding with one already in the mirror
        one(tmp_path, models=["smollm2:135m"], source=sim.url)
        before = tree(tmp_path / "mirror")
        later = one(tmp_path, models=["127.0.0.1:%d/library/smollm2:135m" % sim.port], insecure=True)
        assert later.get("failed") and "in the mirror" in later["msg"], later
        assert tree(tmp_path / "mirror") == before


def test_a_host_pulls_through_the_served_mirror_with_the_upstream_digest(tmp_path: Path, nginx: NginxServer) -> None:
    """Fill from upstream, stop upstream, serve the tree with ollama_domain (real nginx), pull through it as Ollama does."""
    with run_sim(tmp_path / "up", rate=0) as sim:
        upstream = catalog(sim)
        fill = one(tmp_path, models=["smollm2:135m"], source=sim.url)
        assert fill["changed"] is True, fill
    before = nginx.generation()
    args = nginx.module_args(domain="localhost", mirror_path=str(tmp_path / "mirror"), allow=["127.0.0.1"])
    bind = run_playbook("mirror_serve.yml", {"domain_args": args})
    assert bind.rc == 0, bind.stdout[-3000:]
    nginx.wait_generation_after(before)
    name = "localhost:%d/library/smollm2:135m" % nginx.http_port
    with run_sim(tmp_path / "host") as host:
        status, lines = host.stream("/api/pull", {"model": name, "insecure": True}, timeout=120)
        assert status == 200 and lines[-1].get("status") == "success", lines[-3:]
        models = {m["name"]: m["digest"] for m in host.call("GET", "/api/tags")[1]["models"]}
    assert models[name] == upstream["smollm2:135m"]["digest"]


def test_mirror_playbook_seed_and_air_gap_flows(tmp_path: Path) -> None:
    """playbooks/mirror.yml (filling only; serving is the ollama_proxy role's): online, seed with a bundle, air gap; second runs change nothing."""
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    mirror:\n      hosts:\n        localhost:\n          ansible_connection: local\n")
    playbook = REPO / "playbooks" / "mirror.yml"
    bundle = tmp_path / "models.tar"

    def play(**variables: Any) -> Dict[str, Any]:
        variables.setdefault("ollama_mirror_serve", False)
        run = run_playbook(playbook, variables, inventory=str(inventory))
        assert run.rc == 0, run.stdout[-3000:]
        return run.results("Fetch the models into the mirror")

    with run_sim(tmp_path / "up", rate=0) as sim:
        seed = {"ollama_mirror_path": str(tmp_path / "seed"), "ollama_mirror_models": ["smollm2:135m"], "ollama_mirror_source": sim.url}
        first = play(**seed, ollama_mirror_bundle_dest=str(bundle))
        assert first["changed"] is True and first["bundle"]["changed"] is True
        second = play(**seed, ollama_mirror_bundle_dest=str(bundle))
        assert second["changed"] is False
    inside = {"ollama_mirror_path": str(tmp_path / "inside"), "ollama_mirror_bundle": str(bundle)}
    loaded = play(**inside)
    assert loaded["changed"] is True and [m["display"] for m in loaded["models"]] == ["smollm2:135m"]
    assert play(**inside)["changed"] is False
    assert served(tmp_path / "inside") == served(tmp_path / "seed")


def test_fill_follows_blob_redirects(tmp_path: Path) -> None:
    """registry.ollama.ai answers blob GETs with a 307 to its CDN (another host name): the fill follows it."""
    with run_sim(tmp_path / "up", rate=0, args=["--blob-redirect"]) as sim:
        upstream = catalog(sim)
        fill = one(tmp_path, models=["smollm2:135m"], source=sim.url)
        assert fill["changed"] is True and not fill.get("failed"), fill
        paths = [r["path"] for r in sim.requests()]
    assert any(path.startswith("/cdn/v2/library/smollm2/blobs/") for path in paths), paths
    assert_mirrors(tmp_path / "mirror", upstream, ["smollm2:135m"])
