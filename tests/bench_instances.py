# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: one Ollama per GPU behind one endpoint (ollama_server_instances with ollama_domain's balance).

Run from the repository root (as root, with nginx and njs, libnginx-mod-http-js, installed)::

    .venv/bin/python -m tests.bench_instances [--clients 16] [--requests 4] [--seconds 0.25]

Four simulators share one models directory, each serving one request at a time
(OLLAMA_NUM_PARALLEL=1) in a fixed time per request (OLLAMA_SIM_REQUEST_SECONDS), as
four one-GPU instances would. A private nginx on loopback is bound with ollama_domain
(a real ansible-playbook run) in front of them. Measured side by side in one run:

- throughput: ``--clients`` concurrent clients, each sending ``--requests`` generations, through
  the proxy to 1 instance, then to 4 instances with ``balance: least_conn`` (target: at least 3.5x);
- affinity: 4 models requested in a mix by the same clients, through 4 instances with
  ``least_conn`` and then ``model``; the model loads each instance made (``/_sim/runners``),
  summed per model (target: 1 load per model with ``model``).

It exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from tests.bench_report import record
from tests.integration.nginx_fixture import NginxServer, request
from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import Sim, run_sim

NJS = "/usr/lib/nginx/modules/ngx_http_js_module.so"
HOST = "gpus.bench.test"
MODELS = ["smollm2:135m", "qwen2.5:0.5b", "llama3.2:1b", "qwen3:8b"]
THROUGHPUT_TARGET = 3.5


def bind(nginx: NginxServer, sims: list[Sim], balance: str) -> None:
    before = nginx.generation()
    args = nginx.module_args(domain=HOST, upstreams=[s.url for s in sims], allow=["127.0.0.1"], balance=balance)
    run = run_playbook("domain.yml", {"domain_args": args}, timeout=180)
    result = run.results("Bind")
    if run.rc != 0:
        raise SystemExit("ollama_domain failed: %s" % result.get("msg"))
    if result.get("changed"):
        nginx.wait_generation_after(before)


def generate(nginx: NginxServer, model: str) -> None:
    body = json.dumps({"model": model, "prompt": "hi", "stream": False, "options": {"num_predict": 1}}).encode()
    answer = request(nginx.http_port, "/api/generate", host=HOST, method="POST", body=body, headers={"Content-Type": "application/json"}, timeout=300)
    if answer.status != 200:
        raise SystemExit("POST /api/generate (%s) answered %s: %r" % (model, answer.status, answer.body[:200]))


def load(nginx: NginxServer, clients: int, requests: int, models: list[str]) -> float:
    """Seconds for clients x requests generations, the models taken in turn; each client sends its requests one after another."""

    def client(number: int) -> None:
        for turn in range(requests):
            generate(nginx, models[(number + turn) % len(models)])

    started = time.monotonic()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(client, range(clients)))
    return time.monotonic() - started


def reset(sims: list[Sim]) -> None:
    for sim in sims:
        sim.call("DELETE", "/_sim/runners")
        # unload everything, so that each pass starts from empty instances
        for model in sim.call("GET", "/api/ps")[1]["models"]:
            sim.call("POST", "/api/generate", {"model": model["name"], "keep_alive": 0})


def loads_per_model(sims: list[Sim]) -> dict[str, int]:
    total: dict[str, int] = {}
    for sim in sims:
        for model, count in sim.call("GET", "/_sim/runners")[1]["loads"].items():
            total[model] = total.get(model, 0) + count
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=0.25, help="time per request (OLLAMA_SIM_REQUEST_SECONDS)")
    args = parser.parse_args()
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_SIM_REQUEST_SECONDS": str(args.seconds), "OLLAMA_MAX_LOADED_MODELS": "4"}
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-instances-") as tmp, ExitStack() as stack:
        root = Path(tmp)
        sims = [stack.enter_context(run_sim(root / "models", rate=500_000_000.0, env=dict(env, CUDA_VISIBLE_DEVICES="GPU-%d" % i))) for i in range(4)]
        for model in MODELS:
            sims[0].pull(model)
        nginx = NginxServer(root / "nginx", modules=(NJS,))
        nginx.start()
        stack.callback(nginx.stop)

        total = args.clients * args.requests
        bind(nginx, sims[:1], "least_conn")
        generate(nginx, MODELS[0])  # load the model once before the clock starts
        one = load(nginx, args.clients, args.requests, MODELS[:1])
        bind(nginx, sims, "least_conn")
        for sim in sims:
            sim.call("POST", "/api/generate", {"model": MODELS[0], "prompt": "", "keep_alive": "5m"})
        four = load(nginx, args.clients, args.requests, MODELS[:1])
        ratio = one / four
        print("throughput, %d clients, %d generations of %.2f s each, one at a time per instance:" % (args.clients, total, args.seconds))
        print("  1 instance:               %6.2f s  %6.1f requests/s" % (one, total / one))
        print("  4 instances, least_conn:  %6.2f s  %6.1f requests/s   %.2fx" % (four, total / four, ratio))
        met = ratio >= THROUGHPUT_TARGET
        ok &= met
        record(
            "instances: throughput, 4 instances (least_conn) vs 1, %d clients, OLLAMA_NUM_PARALLEL=1, %.2f s per request" % (args.clients, args.seconds),
            ">= %.1fx" % THROUGHPUT_TARGET,
            "%.1f vs %.1f requests/s" % (total / four, total / one),
            met,
            ratio,
        )

        loads = {}
        for balance in ("least_conn", "model"):
            bind(nginx, sims, balance)
            reset(sims)
            load(nginx, args.clients, args.requests, MODELS)
            loads[balance] = loads_per_model(sims)
        print("model loads per model, 4 models on 4 instances, %d requests in a mix:" % total)
        for balance, counts in loads.items():
            print("  %-10s %s   (%.2f per model)" % (balance, ", ".join("%s %d" % (m, counts.get(m, 0)) for m in MODELS), sum(counts.values()) / len(MODELS)))
        affinity = sum(loads["model"].values()) / len(MODELS)
        spread = sum(loads["least_conn"].values()) / len(MODELS)
        met = all(loads["model"].get(m, 0) == 1 for m in MODELS)
        ok &= met
        record(
            "instances: model loads per model, balance model vs least_conn, 4 models on 4 instances",
            "1 per model with model",
            "%.2f vs %.2f per model" % (affinity, spread),
            met,
            spread / affinity if affinity else None,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
