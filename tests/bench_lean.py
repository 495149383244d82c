# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): how lean the modules are (issue 18, item 8), three figures.

1. What each module ships: the module_utils of this collection that AnsiballZ packs with it (its
   transitive imports, found by ansible-core's own ``recursive_finder``, the function that builds the
   payload), in bytes before compression. Target for ollama_model_sync: <= 200 KB.
2. A converged sync of 20 models as a one-task playbook against a one-task ``ansible.builtin.uri`` GET
   playbook on the same simulator: wall time of each ansible-playbook run, interleaved, median of
   ROUNDS. Target: <= 1.1 x.
3. A first pull of 3 models (one sync task on an empty simulator): the number of GET /api/tags.
   Target: <= 2 (read the server once before the batch and once after it).

    .venv/bin/python -m tests.bench_lean
"""

from __future__ import annotations

import collections
import datetime
import io
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Dict, List

from tests.bench_report import record
from tests.integration.playbook import COLLECTIONS, REPO, ensure_collection_link, run_playbook
from tests.ollama_sim.testing import Sim, run_sim

PAYLOAD_TARGET = 200 * 1000
PAYLOAD_MODULE = "ollama_model_sync"
CONVERGED_MODELS = 20
ROUNDS = 5
RATIO_TARGET = 1.1
FIRST_PULL = ["smollm2:135m", "all-minilm:latest", "qwen2.5:0.5b"]
TAGS_TARGET = 2

SYNC = """- name: One converged sync
  hosts: all
  gather_facts: false
  tasks:
    - name: Sync
      llmops.ollama.ollama_model_sync:
        api_url: "{{ sim_url }}"
        models: "{{ bench_models }}"
        registry_url: "{{ sim_url }}"
        models_path: "{{ models_path }}"
        state_dir: "{{ state_dir }}"
"""

GET = """- name: One uri GET
  hosts: all
  gather_facts: false
  tasks:
    - name: GET
      ansible.builtin.uri:
        url: "{{ sim_url }}/api/tags"
"""


def payloads() -> Dict[str, Dict[str, int]]:
    """Per module: bytes of this collection's module_utils in its AnsiballZ payload, of the module file, of ansible's own."""
    ensure_collection_link()
    from ansible._internal._ansiballz import _builder  # ansible-core 2.19: the payload's extensions (none here)
    from ansible.executor import module_common
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(COLLECTIONS)])._install()
    sizes = {}
    for path in sorted((REPO / "plugins" / "modules").glob("ollama_*.py")):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as payload:
            fqn = "ansible_collections.llmops.ollama.plugins.modules.%s" % path.stem
            module_common.recursive_finder(path.stem, fqn, path.read_bytes(), payload, datetime.datetime(2026, 1, 1), _builder.ExtensionManager())
            entries = payload.infolist()
        ours = [e for e in entries if e.filename.startswith("ansible_collections/llmops/ollama/plugins/module_utils/")]
        sizes[path.stem] = {
            "module_utils": sum(e.file_size for e in ours),
            "files": sum(1 for e in ours if not e.filename.endswith("__init__.py")),
            "module": path.stat().st_size,
            "ansible": sum(e.file_size for e in entries if e.filename.startswith("ansible/")),
            "ansible_urls": any(e.filename == "ansible/module_utils/urls.py" for e in entries),
        }
    return sizes


def add_models(sim: Sim, count: int) -> List[str]:
    names = []
    for index in range(count):
        name = "bench/lean-%02d:latest" % index
        status, body = sim.call("POST", "/_sim/catalog", {"add": {"name": name, "size": 4096}})
        if status != 200:
            raise SystemExit("cannot add %s to the catalogue: %s" % (name, body))
        sim.pull(name)
        names.append(name)
    return names


def timed(playbook: Path, variables: dict) -> float:
    started = time.monotonic()
    run = run_playbook(playbook, variables, timeout=300)
    elapsed = time.monotonic() - started
    if run.rc != 0:
        raise SystemExit("%s failed: %s" % (playbook.name, run.stdout[-2000:]))
    changed = sum(host["changed"] for host in run.data["stats"].values())
    if changed:
        raise SystemExit("%s changed something: the sync was not converged" % playbook.name)
    return elapsed


def converged(root: Path) -> Dict[str, float]:
    sync, get = root / "sync.yml", root / "get.yml"
    sync.write_text(SYNC)
    get.write_text(GET)
    with run_sim(root / "converged", rate=0) as sim:
        names = add_models(sim, CONVERGED_MODELS)
        variables = {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(root / "state"), "bench_models": names}
        timed(sync, variables)  # the first run writes the ledger and the history; then both are warm
        timed(get, variables)
        times: Dict[str, List[float]] = {"sync": [], "get": []}
        for _round in range(ROUNDS):
            times["sync"].append(timed(sync, variables))
            times["get"].append(timed(get, variables))
    return {"sync": statistics.median(times["sync"]), "get": statistics.median(times["get"])}


def first_pull(root: Path) -> Dict[str, int]:
    playbook = root / "first.yml"
    playbook.write_text(SYNC.replace("One converged sync", "A first pull"))
    with run_sim(root / "first", rate=500_000_000) as sim:
        variables = {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(root / "state-first"), "bench_models": FIRST_PULL}
        run = run_playbook(playbook, variables, timeout=300)
        requests = sim.requests()
    if run.rc != 0 or run.results("Sync")["summary"]["added"] != len(FIRST_PULL):
        raise SystemExit("the first pull failed: %s" % run.stdout[-2000:])
    return dict(collections.Counter("%s %s" % (r["method"], r["path"]) for r in requests))


def main() -> int:
    ok = True
    sizes = payloads()
    print("1. module_utils of this collection in each module's AnsiballZ payload (bytes before compression)")
    for name, size in sizes.items():
        print(
            "   %-24s %7d B in %2d files (module file %6d B; ansible's own module_utils %7d B)"
            % (name, size["module_utils"], size["files"], size["module"], size["ansible"])
        )
        record(
            "%s ships module_utils (AnsiballZ, before compression)" % name,
            "<= %d KB" % (PAYLOAD_TARGET // 1000) if name == PAYLOAD_MODULE else "printed",
            "%.1f KB in %d files (+ module %.1f KB)" % (size["module_utils"] / 1000.0, size["files"], size["module"] / 1000.0),
            size["module_utils"] <= PAYLOAD_TARGET if name == PAYLOAD_MODULE else True,
            size["module_utils"] / PAYLOAD_TARGET if name == PAYLOAD_MODULE else None,
        )
    met = sizes[PAYLOAD_MODULE]["module_utils"] <= PAYLOAD_TARGET
    ok = ok and met
    print("   %s: %s (target <= %d KB)" % (PAYLOAD_MODULE, "OK" if met else "NOT MET", PAYLOAD_TARGET // 1000))

    with tempfile.TemporaryDirectory(prefix="bench-lean-") as tmp:
        root = Path(tmp)
        times = converged(root)
        ratio = times["sync"] / times["get"]
        met = ratio <= RATIO_TARGET
        ok = ok and met
        print(
            "2. converged sync of %d models, one-task playbook: %.2f s vs one uri GET %.2f s (medians of %d) -> %.2f x   target <= %.1f x   %s"
            % (CONVERGED_MODELS, times["sync"], times["get"], ROUNDS, ratio, RATIO_TARGET, "OK" if met else "NOT MET")
        )
        record(
            "converged sync of %d models vs a one-task uri GET playbook (wall time, median of %d)" % (CONVERGED_MODELS, ROUNDS),
            "<= %.1fx" % RATIO_TARGET,
            "%.2f s vs %.2f s" % (times["sync"], times["get"]),
            met,
            ratio,
        )

        counts = first_pull(root)
        tags = counts.get("GET /api/tags", 0)
        met = tags <= TAGS_TARGET
        ok = ok and met
        print("3. first pull of %d models: %d GET /api/tags   target <= %d   %s" % (len(FIRST_PULL), tags, TAGS_TARGET, "OK" if met else "NOT MET"))
        print("   requests: %s" % ", ".join("%s x%d" % item for item in sorted(counts.items())))
        record("first pull of %d models: GET /api/tags" % len(FIRST_PULL), "<= %d" % TAGS_TARGET, "%d" % tags, met, tags / float(TAGS_TARGET))
    print("result: %s" % ("all figures met" if ok else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
