# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): ollama_model_sync, three figures against their targets.

1. Converged cost: a sync of 50 declared models that are all present makes at most 2 requests
   (GET /api/tags, GET /api/ps), and its task takes at most 1.5 x one ansible.builtin.uri GET
   in the same play (medians of three, side by side).
2. Concurrency: 6 equal models, the simulator rate-limited per stream (each download runs at
   --rate bytes/s): concurrency 3 takes at most 0.45 x the time of concurrency 1 (task times).
3. Memory: the peak RSS of the module process during the pull of a 1 GB simulated model stays
   under 80 MB (the module is run directly, as AnsiballZ runs it, and measured with wait4).

Run from the repository root (after `make collection`)::

    .venv/bin/python -m tests.bench_sync

It prints each figure against its target and exits 1 when one is not met.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any, Dict, List

from tests.bench_report import record
from tests.integration.playbook import COLLECTIONS, REPO, PlaybookRun, ensure_collection_link, run_playbook
from tests.ollama_sim.testing import Sim, run_sim

CONVERGED_MODELS = 50
EQUAL_MODELS = 6
EQUAL_SIZE = 8_000_000
STREAM_RATE = 4_000_000.0  # bytes/s per download: 2 s per equal model
BIG_SIZE = 1 << 30
RSS_LIMIT = 80 * 1024 * 1024


def task_seconds(run: PlaybookRun, name: str) -> float:
    """Wall time of the named task, from the JSON callback's start and end."""
    for play in run.data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"] == name:
                duration = task["task"]["duration"]
                start = datetime.fromisoformat(duration["start"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(duration["end"].replace("Z", "+00:00"))
                return (end - start).total_seconds()
    raise AssertionError("task %r did not run" % name)


def add_models(sim: Sim, prefix: str, count: int, size: int) -> List[str]:
    names = []
    for index in range(count):
        name = "%s-%02d:latest" % (prefix, index)
        status, body = sim.call("POST", "/_sim/catalog", {"add": {"name": name, "size": size}})
        if status != 200:
            raise SystemExit("cannot add %s to the catalogue: %s" % (name, body))
        names.append(name)
    return names


def converged(root: Path) -> Dict[str, Any]:
    with run_sim(root / "converged", rate=0) as sim:
        names = [model["name"] for model in sim.catalog_models()]
        names += add_models(sim, "bench/tiny", CONVERGED_MODELS - len(names), 4096)
        for name in names:
            sim.pull(name)
        variables = {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(root / "state-converged"), "bench_models": names}
        sim.clear_requests()
        run = run_playbook("sync_bench.yml", variables)
        requests = sim.requests()
    if run.rc != 0:
        raise SystemExit("the converged play failed:\n%s" % run.stdout[-3000:])
    syncs = [run.results("Sync %d" % index) for index in (1, 2, 3)]
    if any(result["changed"] or result["summary"]["unchanged"] != CONVERGED_MODELS for result in syncs):
        raise SystemExit("the converged syncs were not all unchanged: %s" % [result["summary"] for result in syncs])
    sync_requests = [r for r in requests if r["path"] != "/api/version"]
    get = statistics.median(task_seconds(run, "GET %d" % index) for index in (1, 2, 3))
    sync = statistics.median(task_seconds(run, "Sync %d" % index) for index in (1, 2, 3))
    return {
        "requests_per_sync": len(sync_requests) / 3.0,
        "paths": sorted({"%s %s" % (r["method"], r["path"]) for r in sync_requests}),
        "get": get,
        "sync": sync,
    }


def concurrency(root: Path) -> Dict[str, float]:
    times = {}
    with run_sim(root / "equal", rate=STREAM_RATE) as sim:
        for width in (1, 3):
            names = add_models(sim, "bench/equal-c%d" % width, EQUAL_MODELS, EQUAL_SIZE)
            steps = [{"models": names, "concurrency": width, "max_concurrent_pulls": width}]
            variables = {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(root / ("state-c%d" % width)), "steps": steps}
            sim.clear_pulls()
            run = run_playbook("sync.yml", variables)
            result = run.results("Sync")["results"][0]
            if result.get("failed") or result["summary"]["added"] != EQUAL_MODELS:
                raise SystemExit("the concurrency %d sync did not pull the %d models: %s" % (width, EQUAL_MODELS, result.get("msg")))
            times[width] = task_seconds(run, "Sync")
            times["max_active_%d" % width] = sim.pulls()["max_active"]
    return times


def memory(root: Path) -> Dict[str, Any]:
    ensure_collection_link()
    module = COLLECTIONS / "ansible_collections" / "llmops" / "ollama" / "plugins" / "modules" / "ollama_model_sync.py"
    with run_sim(root / "big", rate=0) as sim:
        name = add_models(sim, "bench/big", 1, BIG_SIZE)[0]
        args = {
            "ANSIBLE_MODULE_ARGS": {
                "api_url": sim.url,
                "models": [name],
                "registry_url": sim.url,
                "models_path": str(sim.data),
                "state_dir": str(root / "state-big"),
                "stall_timeout": 120,
                "_ansible_check_mode": False,
            }
        }
        args_file = root / "args.json"
        args_file.write_text(json.dumps(args))
        env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
        started = time.monotonic()
        proc = subprocess.Popen([sys.executable, str(module), str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(root))
        output = b"".join(iter(lambda: proc.stdout.read(65536) if proc.stdout else b"", b""))
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        stderr = proc.stderr.read() if proc.stderr else b""
        pulled = sim.stats()["pulled"]
    try:
        result = json.loads(output)
    except ValueError:
        raise SystemExit("the module printed no JSON (rc %s):\n%s\n%s" % (proc.returncode, output[-2000:], stderr[-2000:])) from None
    if result.get("failed") or result["summary"]["added"] != 1:
        raise SystemExit("the 1 GB pull failed: %s" % result.get("msg"))
    return {"peak_rss": usage.ru_maxrss * 1024, "seconds": seconds, "pulled": pulled}


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as tmp:
        root = Path(tmp)
        print("ollama_model_sync benchmarks (simulator: tests/ollama_sim)", flush=True)

        figures = converged(root)
        ratio = figures["sync"] / figures["get"]
        met = figures["requests_per_sync"] <= 2 and ratio <= 1.5
        ok = ok and met
        print("1. converged sync of %d present models" % CONVERGED_MODELS)
        print("   requests per sync: %.0f (%s)   target: <= 2 (GET /api/tags, GET /api/ps)" % (figures["requests_per_sync"], ", ".join(figures["paths"])))
        print(
            "   task time: sync %.3f s, uri GET %.3f s (medians of 3) -> %.2f x   target: <= 1.5 x   %s"
            % (figures["sync"], figures["get"], ratio, "OK" if met else "NOT MET")
        )
        record(
            "sync of %d present models: requests, task time vs one uri GET" % CONVERGED_MODELS,
            "<= 2 requests; <= 1.5 x",
            "%.0f requests; %.3f s vs %.3f s" % (figures["requests_per_sync"], figures["sync"], figures["get"]),
            met,
            ratio,
        )

        times = concurrency(root)
        ratio = times[3] / times[1]
        met = ratio <= 0.45 and times["max_active_3"] == 3 and times["max_active_1"] == 1
        ok = ok and met
        print("2. %d equal models of %.0f MB, %.0f MB/s per stream" % (EQUAL_MODELS, EQUAL_SIZE / 1e6, STREAM_RATE / 1e6))
        print(
            "   concurrency 1: %.2f s (max %d at once), concurrency 3: %.2f s (max %d at once) -> %.2f x   target: <= 0.45 x   %s"
            % (times[1], times["max_active_1"], times[3], times["max_active_3"], ratio, "OK" if met else "NOT MET")
        )
        record("sync of %d equal models: concurrency 3 vs 1" % EQUAL_MODELS, "<= 0.45 x", "%.2f s vs %.2f s" % (times[3], times[1]), met, ratio)

        mem = memory(root)
        met = mem["peak_rss"] < RSS_LIMIT
        ok = ok and met
        print("3. pull of a %.2f GB simulated model (%.1f s, %.2f GB served)" % (BIG_SIZE / 1e9, mem["seconds"], mem["pulled"] / 1e9))
        print("   peak RSS of the module process: %.1f MB   target: < 80 MB   %s" % (mem["peak_rss"] / 1048576.0, "OK" if met else "NOT MET"))
        record("peak RSS of the sync module pulling 1 GB", "< 80 MB", "%.1f MB" % (mem["peak_rss"] / 1048576.0), met, mem["peak_rss"] / RSS_LIMIT)
    print("result: %s" % ("all figures met" if ok else "NOT MET"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(main())
