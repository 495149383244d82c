# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the inference probe of site.yml's health gate next to the /api/version probe, on a converged host.

The simulator holds smollm2:135m (pulled first). Both probes run in-process with
the collection's own code (_health.probe_inference and OllamaClient.version), ROUNDS
times each, side by side; the first inference probe loads the model (cold), the
others find it loaded (a converged host between two runs of site.yml). Printed and
recorded (no target: issue 14 asks for the figures side by side).

    .venv/bin/python -m tests.bench_health
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_report import record
from tests.integration.playbook import COLLECTIONS
from tests.ollama_sim.testing import run_sim

sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import probe_inference

ROUNDS = 20
MODEL = "smollm2:135m"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-health-") as tmp, run_sim(Path(tmp) / "sim") as sim:
        sim.pull(MODEL)
        client = OllamaClient(sim.url, timeout=30)
        models = client.tags()
        cold = probe_inference(client, MODEL, timeout=60, models=models)
        if not cold["healthy"]:
            print("the inference probe failed: %s" % cold["reason"])
            return 1
        version_times, inference_times = [], []
        for _round in range(ROUNDS):
            started = time.perf_counter()
            client.version()
            version_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            warm = probe_inference(client, MODEL, timeout=60, models=models)
            inference_times.append(time.perf_counter() - started)
            if not warm["healthy"]:
                print("the inference probe failed: %s" % warm["reason"])
                return 1
    version_ms = statistics.median(version_times) * 1000
    inference_ms = statistics.median(inference_times) * 1000
    print(
        "health probes on a converged host (median of %d): GET /api/version %.1f ms; inference probe of %s %.1f ms (%s, %.1fx), "
        "the first one, loading the model, %.1f ms" % (ROUNDS, version_ms, MODEL, inference_ms, cold["kind"], inference_ms / version_ms, cold["latency"] * 1000)
    )
    record(
        "health gate: inference probe vs GET /api/version on a converged host (median of %d, simulator)" % ROUNDS,
        "printed",
        "%.1f ms vs %.1f ms (first probe, loading %s: %.1f ms)" % (inference_ms, version_ms, MODEL, cold["latency"] * 1000),
        True,
        ratio=inference_ms / version_ms,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
