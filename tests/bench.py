# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: run every benchmark in one go, print its output, and write bench/results.md.

Benchmarks measure ratios side by side in one run; they are never timed
assertions in the tests. Each one records its figures (tests/bench_report.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCHES = [
    "tests.bench_models",
    "tests.bench_proxy",
    "tests.bench_sync",
    "tests.bench_fleet",
    "tests.bench_tasks",
    "tests.bench_lean",
    "tests.bench_health",
    "tests.bench_mirror",
    "tests.bench_instances",
    "tests.bench_monitoring",
]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        results = Path(tmp) / "results.jsonl"
        env = dict(os.environ, BENCH_RESULTS=str(results))
        failed = []
        for bench in BENCHES:
            if not (REPO / (bench.replace(".", "/") + ".py")).exists():
                continue
            print("=== %s" % bench, flush=True)
            if subprocess.run([sys.executable, "-m", bench], cwd=str(REPO), env=env, check=False).returncode != 0:
                failed.append(bench)
        rows = [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []

    lines = [
        "# llmops.ollama benchmarks",
        "",
        "Written by `make bench` on %s (%d cores). Each figure is measured side by side in one run."
        % (datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"), os.cpu_count() or 0),
        "",
        "| figure | target | measured | ratio | met |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        ratio = "" if row["ratio"] is None else "%.2f" % row["ratio"]
        lines.append("| %s | %s | %s | %s | %s |" % (row["figure"], row["target"], row["measured"], ratio, "yes" if row["met"] else "NO"))
    out = REPO / "bench" / "results.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print("\nwritten: %s" % out.relative_to(REPO))
    if failed:
        print("benchmarks that did not meet their figure or did not run: %s" % ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
