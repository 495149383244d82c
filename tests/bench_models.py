# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): ollama_model with state present on 20 models that are already present.

It must read the server once (one GET /api/tags, one GET /api/ps) and send no per-model
request. Run from the repository root::

    .venv/bin/python -m tests.bench_models

It prints the request counts and the wall time, and exits 1 when the figure is not met.
"""

from __future__ import annotations

import collections
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_report import record
from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import run_sim

BASE = ["llama3.2:1b", "llama3.2:latest", "qwen2.5:0.5b", "smollm2:135m", "all-minilm:latest"]
COUNT = 20


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        root = Path(tmp)
        with run_sim(root / "models", rate=500_000_000) as sim:
            for model in BASE:
                sim.pull(model)
            names = list(BASE)
            index = 0
            while len(names) < COUNT:
                copy = "bench/copy-%02d:latest" % index
                status, body = sim.call("POST", "/api/copy", {"source": BASE[index % len(BASE)], "destination": copy})
                if status != 200:
                    print("copy %s failed: %s %s" % (copy, status, body), file=sys.stderr)
                    return 1
                names.append(copy)
                index += 1
            sim.clear_requests()
            started = time.monotonic()
            run = run_playbook(
                "model.yml",
                {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(root / "state"), "steps": [{"name": names}]},
            )
            elapsed = time.monotonic() - started
            result = run.results("Model")["results"][0]
            requests = sim.requests()
    counts = collections.Counter("%s %s" % (r["method"], r["path"]) for r in requests)
    per_model = {key: value for key, value in counts.items() if key not in ("GET /api/tags", "GET /api/ps")}
    print("ollama_model state=present on %d models already present" % len(names))
    print("  changed: %s, failed: %s" % (result.get("changed"), bool(result.get("failed"))))
    print("  GET /api/tags: %d" % counts.get("GET /api/tags", 0))
    print("  GET /api/ps:   %d" % counts.get("GET /api/ps", 0))
    print("  per-model requests: %d %s" % (sum(per_model.values()), dict(per_model) if per_model else ""))
    print("  playbook wall time: %.2f s" % elapsed)
    ok = counts.get("GET /api/tags", 0) == 1 and not per_model and result.get("changed") is False and not result.get("failed")
    print("  result: %s" % ("OK (exactly one GET /api/tags, no per-model request)" if ok else "NOT MET"))
    record(
        "ollama_model present on %d present models: requests" % len(names),
        "1 GET /api/tags, 0 per-model",
        "%d GET /api/tags, %d per-model (%.1f s)" % (counts.get("GET /api/tags", 0), sum(per_model.values()), elapsed),
        ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
