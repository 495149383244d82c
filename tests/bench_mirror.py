# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): ollama_mirror filling a mirror with a 1 GB model from the simulator's /v2 registry.

1. Resume: the fill is cut at 50 % of the model's bytes (a TCP relay closes the connection), and
   run again. Bytes served by the upstream stand-in over both runs / model size must be <= 1.10.
2. Memory: the peak RSS of the ollama_mirror process fetching the 1 GB model must stay < 80 MB
   (the blobs stream to disk, hashed on the way; never a whole blob in memory).

3. Fleet (skipped with ``--no-fleet``): the mirror is served by a real nginx (ollama_domain with mirror_path) and
   20 simulators sync the model through it with ollama_model_sync (``mirror:``, ``mirror_insecure``),
   in one ansible-playbook run over a fleet inventory: the servers download
   ``<mirror>/<namespace>/<model>:<tag>`` for real and the collection copies it to the canonical name.
   Bytes served by the upstream stand-in / model size must be <= 1.01, and every host must end
   with the canonical name only, at the upstream manifest digest.

Run from the repository root::

    .venv/bin/python -m tests.bench_mirror               # figures 1, 2 and 3 (as make bench)
    .venv/bin/python -m tests.bench_mirror --no-fleet    # figures 1 and 2 only

It prints the figures and exits 1 when one is not met.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Dict, Tuple

from tests.bench_report import record
from tests.integration.cut_proxy import CutProxy
from tests.integration.nginx_fixture import NginxServer
from tests.integration.playbook import COLLECTIONS, ensure_collection_link, run_playbook
from tests.ollama_sim.testing import Sim, run_sim

BIG_SIZE = 1 << 30
RSS_LIMIT = 80 * 1024 * 1024
RATIO_LIMIT = 1.10
FLEET_HOSTS = 20
FLEET_RATIO_LIMIT = 1.01
MODEL = "bench/mirror-big:latest"


def run_module(root: Path, args: Dict[str, Any]) -> Tuple[Dict[str, Any], int, float]:
    """ollama_mirror as its own process (as Ansible runs it); (result, peak RSS in bytes, seconds)."""
    ensure_collection_link()
    module = COLLECTIONS / "ansible_collections" / "llmops" / "ollama" / "plugins" / "modules" / "ollama_mirror.py"
    args_file = root / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": dict(args, _ansible_check_mode=False)}))
    env = dict(os.environ, PYTHONPATH=str(COLLECTIONS))
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(module), str(args_file)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(root))
    output = b"".join(iter(lambda: proc.stdout.read(65536) if proc.stdout else b"", b""))
    _pid, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    stderr = proc.stderr.read() if proc.stderr else b""
    try:
        result = json.loads(output)
    except ValueError:
        raise SystemExit("ollama_mirror printed no JSON (rc %s):\n%s\n%s" % (proc.returncode, output[-2000:], stderr[-2000:])) from None
    return result, usage.ru_maxrss * 1024, seconds


def add_big(sim: Sim) -> int:
    status, body = sim.call("POST", "/_sim/catalog", {"add": {"name": MODEL, "size": BIG_SIZE}})
    if status != 200:
        raise SystemExit("cannot add %s to the catalogue: %s" % (MODEL, body))
    return next(model["size"] for model in sim.catalog_models() if model["name"] == MODEL)


def resume(root: Path, sim: Sim, total: int) -> Dict[str, Any]:
    mirror = root / "mirror-cut"
    mirror.mkdir()
    sim.clear_stats()
    with CutProxy("127.0.0.1", sim.port, cut_after=total // 2) as proxy:
        first, _rss, first_seconds = run_module(root, {"path": str(mirror), "models": [MODEL], "source": proxy.url, "retries": 0})
    if not first.get("failed") or not proxy.cut:
        raise SystemExit("the cut did not happen (cut %s): %s" % (proxy.cut, first.get("msg")))
    partial = sum(path.stat().st_size for path in (mirror / ".partial").iterdir())
    second, _rss, second_seconds = run_module(root, {"path": str(mirror), "models": [MODEL], "source": sim.url})
    if second.get("failed") or not second.get("changed"):
        raise SystemExit("the second fill failed: %s" % second.get("msg"))
    served = sim.stats()["served"]
    return {"served": served, "ratio": served / total, "partial": partial, "seconds": first_seconds + second_seconds}


def memory(root: Path, sim: Sim, total: int) -> Dict[str, Any]:
    mirror = root / "mirror-rss"
    mirror.mkdir()
    sim.clear_stats()
    result, rss, seconds = run_module(root, {"path": str(mirror), "models": [MODEL], "source": sim.url})
    if result.get("failed") or result.get("transferred") != total:
        raise SystemExit("the 1 GB fill failed: %s" % result.get("msg"))
    return {"peak_rss": rss, "seconds": seconds, "served": sim.stats()["served"]}


def fleet(root: Path, upstream: Sim, total: int, hosts: int = FLEET_HOSTS) -> Dict[str, Any]:
    """Fill a mirror once, serve it with ollama_domain on a private nginx, and sync ``hosts`` simulators through it
    with ollama_model_sync (``mirror:``), in one ansible-playbook run over a fleet inventory (5 forks)."""
    mirror = root / "mirror-fleet"
    mirror.mkdir()
    upstream.clear_stats()
    result, _rss, _seconds = run_module(root, {"path": str(mirror), "models": [MODEL], "source": upstream.url})
    if result.get("failed"):
        raise SystemExit("the fleet mirror fill failed: %s" % result.get("msg"))
    digest = result["models"][0]["digest"]
    nginx = NginxServer(root / "nginx")
    nginx.start()
    try:
        before = nginx.generation()
        args = nginx.module_args(domain="localhost", mirror_path=str(mirror), allow=["127.0.0.1"])
        bind = run_playbook("mirror_serve.yml", {"domain_args": args})
        if bind.rc != 0:
            raise SystemExit("ollama_domain could not serve the mirror:\n%s" % bind.stdout[-2000:])
        nginx.wait_generation_after(before)
        with ExitStack() as stack:
            sims = {"host-%02d" % index: stack.enter_context(run_sim(root / ("host-%02d" % index), rate=0)) for index in range(hosts)}
            inventory = {
                "all": {
                    "vars": {"fleet_models": [MODEL], "fleet_mirror": "http://localhost:%d" % nginx.http_port, "fleet_mirror_insecure": True},
                    "hosts": {
                        name: {
                            "ansible_connection": "local",
                            "ansible_python_interpreter": sys.executable,
                            "sim_url": sim.url,
                            "models_path": str(sim.data),
                            "state_dir": str(root / ("state-" + name)),
                        }
                        for name, sim in sims.items()
                    },
                }
            }
            (root / "fleet.yml").write_text(json.dumps(inventory))
            started = time.monotonic()
            run = run_playbook("mirror_fleet.yml", inventory=str(root / "fleet.yml"), env={"ANSIBLE_FORKS": "5"}, timeout=3600)
            seconds = time.monotonic() - started
            digests, failures = [], []
            for name, sim in sims.items():
                synced = run.results("Sync through the mirror", host=name)
                if synced.get("failed"):
                    failures.append("%s: %s" % (name, synced.get("msg")))
                tags = {m["name"]: m["digest"] for m in sim.call("GET", "/api/tags")[1]["models"]}
                if set(tags) != {MODEL}:
                    failures.append("%s lists %s, not only %s" % (name, sorted(tags), MODEL))
                digests.append("sha256:" + tags.get(MODEL, ""))
            if failures:
                raise SystemExit("the fleet sync through the mirror failed: %s" % "; ".join(failures))
    finally:
        nginx.stop()
    served = upstream.stats()["served"]
    return {"ratio": served / total, "same_digest": all(d == digest for d in digests), "hosts": hosts, "seconds": seconds}


def main() -> int:
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-mirror-") as tmp:
        root = Path(tmp)
        with run_sim(root / "upstream", rate=0) as sim:
            total = add_big(sim)
            cut = resume(root, sim, total)
            met = cut["ratio"] <= RATIO_LIMIT
            ok = ok and met
            print(
                "1. mirror fill of a %.2f GB model cut at 50 %% (%.2f GB in the partial file) and run again (%.1f s)"
                % (total / 1e9, cut["partial"] / 1e9, cut["seconds"])
            )
            print("   upstream bytes / model size: %.3f   target: <= %.2f   %s" % (cut["ratio"], RATIO_LIMIT, "OK" if met else "NOT MET"))
            record("mirror fill cut at 50 % and run again: upstream bytes / model size", "<= 1.10", "%.3f" % cut["ratio"], met, cut["ratio"])

            mem = memory(root, sim, total)
            met = mem["peak_rss"] < RSS_LIMIT
            ok = ok and met
            print("2. ollama_mirror fetching %.2f GB (%.1f s, %.2f GB served)" % (total / 1e9, mem["seconds"], mem["served"] / 1e9))
            print("   peak RSS of the module process: %.1f MB   target: < 80 MB   %s" % (mem["peak_rss"] / 1048576.0, "OK" if met else "NOT MET"))
            record("peak RSS of ollama_mirror fetching 1 GB", "< 80 MB", "%.1f MB" % (mem["peak_rss"] / 1048576.0), met, mem["peak_rss"] / RSS_LIMIT)

            if "--no-fleet" not in sys.argv[1:]:
                hosts = fleet(root, sim, total)
                met = hosts["ratio"] <= FLEET_RATIO_LIMIT and hosts["same_digest"]
                ok = ok and met
                print("3. %d hosts sync a %.2f GB model through the mirror (ollama_model_sync) (%.1f s)" % (hosts["hosts"], total / 1e9, hosts["seconds"]))
                print(
                    "   upstream bytes / model size: %.3f   target: <= %.2f; every host has the upstream digest: %s   %s"
                    % (hosts["ratio"], FLEET_RATIO_LIMIT, hosts["same_digest"], "OK" if met else "NOT MET")
                )
                record(
                    "%d hosts sync 1 GB through the mirror (ollama_model_sync mirror:): upstream bytes / model size" % hosts["hosts"],
                    "<= 1.01, upstream digests",
                    "%.3f, digests %s" % (hosts["ratio"], "equal" if hosts["same_digest"] else "DIFFER"),
                    met,
                    hosts["ratio"],
                )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
