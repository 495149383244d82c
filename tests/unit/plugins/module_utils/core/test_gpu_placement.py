# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.gpu_placement: the loaded models not wholly in GPU memory, a warning or a failure."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils.core.gpu_placement import gpu_placement, gpu_verdict
from tests.unit.plugins.module_utils.core.test_health import PS


def test_gpu_placement_names_each_model_not_wholly_in_vram() -> None:
    assert gpu_placement(PS) == [
        {
            "name": "llama3.2:1b",
            "gpu_percent": 30.0,
            "message": "llama3.2:1b runs partly on the CPU: only 30% of it is in GPU memory, 70% in system memory",
        },
        {"name": "cpu:1b", "gpu_percent": 0.0, "message": "cpu:1b runs wholly on the CPU (0% of it in GPU memory)"},
    ]
    # 99.96 % rounds to 100.0 but is not wholly in VRAM
    assert [m["gpu_percent"] for m in gpu_placement([{"name": "m", "size": 10_000, "size_vram": 9_996}])] == [100.0]


def test_gpu_verdict_warns_or_fails() -> None:
    warnings, failures = gpu_verdict(PS, require=False)
    assert len(warnings) == 2 and failures == []
    warnings, failures = gpu_verdict(PS, require=True)
    assert warnings == [] and len(failures) == 2 and "llama3.2:1b" in failures[0] and "30%" in failures[0]
    assert gpu_verdict(PS[1:2], require=True) == ([], [])
