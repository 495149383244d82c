# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Figures of the benchmarks: each bench records its figures; `make bench` gathers them into bench/results.md."""

from __future__ import annotations

import json
import os


def record(figure: str, target: str, measured: str, met: bool, ratio: float | None = None) -> None:
    """Append one figure to the file named by BENCH_RESULTS (no-op when a bench runs on its own)."""
    path = os.environ.get("BENCH_RESULTS")
    if not path:
        return
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"figure": figure, "target": target, "measured": measured, "ratio": ratio, "met": met}) + "\n")
