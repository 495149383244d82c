# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): writing the state metrics of a host with 200 models, and the series per host by kind.

The simulator answers /api/tags with 200 models (its ``respond`` fault) and holds one model
loaded; the ledger holds a pull under way, a queued one and a sync run. The writer runs as
the watchdog runs it (a python3 process per run), ROUNDS times: the wall time of the process,
the writer's own time (ollama_state_collect_duration_seconds) and the peak RSS of the process
(wait4). Target (issue 20): at most 200 ms. Then the series per host, by kind, for the same
host with the default cap (100 models) and without a cap that bites (200).

    .venv/bin/python -m tests.bench_monitoring
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Tuple

from tests.bench_report import record
from tests.integration.playbook import COLLECTIONS, REPO
from tests.ollama_sim.testing import run_sim

sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger

WRITER = REPO / "roles" / "ollama_monitoring" / "files" / "ollama_state_metrics.py"
MODEL = "smollm2:135m"
MODELS = 200
ROUNDS = 10
TARGET_MS = 200.0
KINDS: List[Tuple[str, str]] = [
    ("ollama_model_loaded_", "models loaded"),
    ("ollama_model_", "models present"),
    ("ollama_pull", "pulls and queue"),
    ("ollama_sync_", "last sync"),
    ("ollama_watchdog_", "watchdog"),
    ("ollama_container_", "container"),
    ("ollama_certificate_", "certificates"),
    ("ollama_state_", "writer"),
    ("ollama_", "host"),
]


def tags(loaded: Dict[str, object]) -> Dict[str, object]:
    models = [dict(loaded, name="model-%03d:latest" % index, model="model-%03d:latest" % index, size=(index + 1) * 10_000_000) for index in range(MODELS - 1)]
    return {"models": [loaded, *models]}


def kind_of(name: str) -> str:
    return next(label for prefix, label in KINDS if name.startswith(prefix))


def series_by_kind(text: str) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            kind = kind_of(line.split("{", 1)[0].split(" ", 1)[0])
            counts[kind] = counts.get(kind, 0) + 1
    return counts


# what the watchdog does after each run, in a fresh interpreter of its own: load the writer, run it once
CHILD = """
import importlib.util, json, resource, sys, time
spec = importlib.util.spec_from_file_location("ollama_state_metrics", sys.argv[1])
module = importlib.util.module_from_spec(spec)
started = time.perf_counter()
spec.loader.exec_module(module)
loaded = time.perf_counter()
module.StateWriter(json.load(open(sys.argv[2]))).run()
done = time.perf_counter()
print(json.dumps({"load": loaded - started, "run": done - loaded, "rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def run_writer(config: Path) -> Tuple[float, float, int]:
    """One write as the watchdog makes it: seconds to load the writer, seconds to write, and the process's peak RSS (KiB)."""
    out = subprocess.run([sys.executable, "-c", CHILD, str(WRITER), str(config)], capture_output=True, text=True, check=True)
    figures = json.loads(out.stdout)
    return figures["load"], figures["run"], figures["rss"]


def baseline_rss() -> int:
    """The peak RSS of an interpreter that only imports what the watchdog imports (the writer's share is the rest)."""
    code = "import json, resource, urllib.request, subprocess, tempfile; print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)"
    return int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-monitoring-") as tmp, run_sim(Path(tmp) / "sim") as sim:
        root = Path(tmp)
        sim.pull(MODEL)
        sim.call("POST", "/api/generate", {"model": MODEL, "prompt": "Hi", "stream": False, "options": {"num_predict": 1}})
        real = sim.call("GET", "/api/tags")[1]["models"][0]
        sim.faults(respond={"path": "/api/tags", "status": 200, "body": tags(real)})
        ledger = Ledger.open(str(root / "ledger"))
        ledger.start("qwen3:8b", "pull")
        ledger.progress("qwen3:8b").update(1_000_000, 4_000_000, status="pulling", force=True)
        ledger.start("llama3.2:latest", "pull", status="queued")
        ledger.append_history({"kind": "sync", "summary": {"added": 1, "unchanged": 199, "failed": 0}, "failed": [], "seconds": 3.5})
        (root / "textfile").mkdir()
        (root / "watchdog").mkdir()
        watchdog_state = {"restarts": 1, "consecutive_failures": 0, "last_check": "2026-12-07T09:00:00Z", "last_inference": time.time()}
        watchdog_state.update(inference_failing=False, inference_seconds=0.05, inference_model=MODEL)
        (root / "watchdog" / "status.json").write_text(json.dumps(watchdog_state))
        rows = []
        for cap in (100, MODELS):
            config = root / ("metrics-%d.json" % cap)
            settings = {"api_url": sim.url, "textfile_dir": str(root / "textfile"), "ledger_dir": str(root / "ledger"), "models_path": tmp, "max_models": cap}
            settings.update(watchdog_state_dir=str(root / "watchdog"), docker_socket="", nginx_config_dir=str(root / "nginx"))
            config.write_text(json.dumps(settings))
            loads, runs, rss = [], [], []
            for _round in range(ROUNDS):
                load, write, peak = run_writer(config)
                loads.append(load)
                runs.append(write)
                rss.append(peak)
            text = (root / "textfile" / "ollama.prom").read_text()
            rows.append((cap, statistics.median(runs) * 1000, statistics.median(loads) * 1000, max(rss), series_by_kind(text)))
        base = baseline_rss()
    kinds = [label for _prefix, label in reversed(KINDS)]
    print("state metrics of a host with %d models (1 loaded), median of %d writes as the watchdog makes them (in its process):" % (MODELS, ROUNDS))
    print("| max_models | write ms | load ms | peak RSS MiB | " + " | ".join(kinds) + " | total |")
    print("|---|---|---|---|" + "---|" * len(kinds) + "---|")
    for cap, wall, own, peak, counts in rows:
        cells = " | ".join(str(counts.get(kind, 0)) for kind in kinds)
        print("| %d | %.1f | %.1f | %.1f | %s | %d |" % (cap, wall, own, peak / 1024, cells, sum(counts.values())))
    print("peak RSS of the interpreter with the watchdog's imports alone: %.1f MiB" % (base / 1024))
    print("not counted above: container 6 series (when Docker runs it), certificates 1 per bound domain, mtail's request series")
    cap, wall, own, peak, counts = rows[-1]
    record(
        "state metrics: one write for a host with %d models, in the watchdog's process (write, loading the writer, peak RSS; simulator)" % MODELS,
        "<= %d ms" % TARGET_MS,
        "%.1f ms write (+%.1f ms to load the writer), %.1f MiB peak RSS (%.1f MiB without the writer)" % (wall, own, peak / 1024, base / 1024),
        wall <= TARGET_MS,
        ratio=wall / TARGET_MS,
    )
    for cap, _wall, _own, _peak, counts in rows:
        by_kind = ", ".join("%s %d" % (kind, counts.get(kind, 0)) for kind in kinds)
        record(
            "state metrics: series per host with %d models, max_models %d (by kind: %s)" % (MODELS, cap, by_kind),
            "printed",
            "%d series" % sum(counts.values()),
            True,
        )
    return 0 if wall <= TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
