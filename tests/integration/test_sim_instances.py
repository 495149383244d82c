# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator as one instance of a multi-GPU host: OLLAMA_NUM_PARALLEL slots, a queue, a request time, its devices."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.ollama_sim.testing import run_sim

pytestmark = pytest.mark.integration


def test_parallel_slots_queue_the_rest_and_ps_names_the_devices(tmp_path: Path) -> None:
    env = {"OLLAMA_NUM_PARALLEL": "2", "OLLAMA_SIM_REQUEST_SECONDS": "0.4", "CUDA_VISIBLE_DEVICES": "GPU-aaaa-1"}
    with run_sim(tmp_path / "models", rate=200_000_000.0, env=env) as sim:
        sim.pull("smollm2:135m")
        body = {"model": "smollm2:135m", "prompt": "hi", "stream": False}
        started = time.monotonic()
        with ThreadPoolExecutor(6) as pool:
            answers = list(pool.map(lambda _n: sim.call("POST", "/api/generate", body), range(6)))
        elapsed = time.monotonic() - started
        assert [status for status, _answer in answers] == [200] * 6
        # 6 requests, 2 at a time, 0.4 s each: three rounds, never fewer
        assert 1.2 <= elapsed < 3.0, elapsed
        status, runners = sim.call("GET", "/_sim/runners")
        assert status == 200
        assert (runners["max_active"], runners["active"], runners["num_parallel"]) == (2, 0, 2)
        assert runners["loads"] == {"smollm2:135m": 1}
        status, ps = sim.call("GET", "/api/ps")
        assert [m["devices"] for m in ps["models"]] == [["GPU-aaaa-1"]]
        assert sim.call("DELETE", "/_sim/runners")[1]["loads"] == {}


def test_without_the_settings_nothing_queues_and_ps_has_no_devices(tmp_path: Path) -> None:
    with run_sim(tmp_path / "models", rate=200_000_000.0, env={"OLLAMA_NUM_PARALLEL": "", "CUDA_VISIBLE_DEVICES": ""}) as sim:
        sim.pull("smollm2:135m")
        body = {"model": "smollm2:135m", "prompt": "hi", "stream": False}
        with ThreadPoolExecutor(4) as pool:
            assert [s for s, _a in pool.map(lambda _n: sim.call("POST", "/api/generate", body), range(4))] == [200] * 4
        assert "devices" not in sim.call("GET", "/api/ps")[1]["models"][0]
        assert sim.call("GET", "/_sim/runners")[1]["num_parallel"] == 0
