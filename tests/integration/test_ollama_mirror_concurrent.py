# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Several ollama_mirror runs on one mirror directory at once (real ansible-playbook processes, the simulator's /v2 registry).

Every served model stays in mirror.json, in a prune and in an all-model bundle; two fills of one blob
never interleave writes in one partial file.
"""

from __future__ import annotations

import json
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.playbook import REPO, playbook_command
from tests.integration.test_ollama_mirror import assert_mirrors, catalog, one
from tests.ollama_sim.testing import run_sim

pytestmark = pytest.mark.integration


def start(tmp_path: Path, steps: List[Dict[str, Any]]) -> subprocess.Popen:
    args, env = playbook_command("mirror.yml", {"mirror_path": str(tmp_path / "mirror"), "steps": steps})
    return subprocess.Popen(args, env=env, cwd=str(REPO), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen) -> List[Dict[str, Any]]:
    out, err = proc.communicate(timeout=300)
    assert "Traceback" not in out + err, out + err
    data = json.loads(out)
    tasks = [task for play in data["plays"] for task in play["tasks"] if task["task"]["name"] == "Mirror"]
    return tasks[-1]["hosts"]["localhost"]["results"]


def index_names(root: Path) -> set:
    return {record["display"] for record in json.loads((root / "mirror.json").read_text())["models"].values()}


# (label, models of the first run, models of the second run)
PAIRS = [
    ("different models", ["smollm2:135m"], ["llama3.2:1b"]),
    ("the same model", ["llama3.2:1b"], ["llama3.2:1b"]),
    ("overlapping lists", ["smollm2:135m", "llama3.2:1b"], ["llama3.2:1b", "llama3.2"]),
]


@pytest.mark.parametrize(("label", "first", "second"), PAIRS, ids=[pair[0] for pair in PAIRS])
def test_two_concurrent_fills_then_a_prune_keep_every_served_model(tmp_path: Path, label: str, first: List[str], second: List[str]) -> None:
    root = tmp_path / "mirror"
    root.mkdir()
    # slow enough that the two runs overlap for seconds
    with run_sim(tmp_path / "up", rate=2_000_000) as sim:
        upstream = catalog(sim)
        procs = [start(tmp_path, [{"models": first, "source": sim.url}]), start(tmp_path, [{"models": second, "source": sim.url}])]
        results = [finish(proc)[0] for proc in procs]
        for result in results:
            assert not result.get("failed"), (label, result)
        wanted = sorted(set(first) | set(second))
        assert_mirrors(root, upstream, wanted)
        displays = {name if ":" in name else name + ":latest" for name in wanted}
        assert index_names(root) == displays, label
        # one writer per blob: every blob came over the wire once (the other run waited and reused it)
        sizes = {layer["digest"]: layer["size"] for name in displays for layer in upstream[name]["layers"]}
        assert sim.stats()["served"] == sum(sizes.values()), (label, sim.stats())
        assert not [p.name for p in (root / ".partial").iterdir()], "a partial or lock file was left"

        pruned = one(tmp_path, prune=True, models=[wanted[0]], source=sim.url)
        assert not pruned.get("failed") and pruned["pruned"] == [], pruned
        assert_mirrors(root, upstream, wanted)

        bundle = tmp_path / "all.tar"
        written = one(tmp_path, bundle_dest=str(bundle))
        assert not written.get("failed"), written
        assert set(written["bundle"]["models"]) == {"registry.ollama.ai/library/" + name for name in displays}
        with tarfile.open(bundle) as tar:
            assert {"blobs/" + digest.replace(":", "-") for digest in sizes} <= set(tar.getnames())


def test_a_prune_waits_for_a_fill_in_progress(tmp_path: Path) -> None:
    root = tmp_path / "mirror"
    root.mkdir()
    with run_sim(tmp_path / "up", rate=500_000) as sim:
        upstream = catalog(sim)
        filling = start(tmp_path, [{"models": ["llama3.2:1b"], "source": sim.url}])
        deadline = time.monotonic() + 60
        while not list((root / "blobs").glob("sha256-*")) and time.monotonic() < deadline:
            time.sleep(0.05)  # the first blob is stored, the manifest not yet placed
        pruning = start(tmp_path, [{"prune": True, "models": ["not-in-the-mirror:1"], "state": "absent"}])
        fill_result = finish(filling)[0]
        prune_result = finish(pruning)[0]
        assert not fill_result.get("failed"), fill_result
        assert_mirrors(root, upstream, ["llama3.2:1b"])
        assert not prune_result.get("failed") and prune_result["pruned"] == [], prune_result


STALE = [
    ("record removed", lambda models: {key: value for key, value in models.items() if "smollm2" not in key}),
    ("index emptied", lambda models: {}),
]


@pytest.mark.parametrize(("label", "damage"), STALE, ids=[case[0] for case in STALE])
def test_prune_and_bundle_trust_what_v2_serves_over_a_stale_index(tmp_path: Path, label: str, damage: Any) -> None:
    root = tmp_path / "mirror"
    root.mkdir()
    with run_sim(tmp_path / "up", rate=0) as sim:
        upstream = catalog(sim)
        fill = one(tmp_path, models=["smollm2:135m", "llama3.2:1b"], source=sim.url)
        assert not fill.get("failed"), fill
        data = json.loads((root / "mirror.json").read_text())
        data["models"] = damage(data["models"])
        (root / "mirror.json").write_text(json.dumps(data))
        pruned = one(tmp_path, prune=True, models=["llama3.2:1b"], source=sim.url)
        assert not pruned.get("failed") and pruned["pruned"] == [], (label, pruned)
        assert_mirrors(root, upstream, ["smollm2:135m", "llama3.2:1b"])
        written = one(tmp_path, bundle_dest=str(tmp_path / "all.tar"))
        assert not written.get("failed"), written
        assert "registry.ollama.ai/library/smollm2:135m" in written["bundle"]["models"], (label, written)
