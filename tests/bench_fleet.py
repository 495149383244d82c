# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the marginal controller time of a converged host in site.yml, against a ping playbook.

Each host is this machine (connection local) with its own simulator on its own
127.0.0.x address. The fleet (20 hosts) and one host are converged first (the
pulls happen there), then timed side by side in one go, all with forks 20:

    site.yml per added host = (site.yml on 20 hosts - on 1 host) / 19
    ping per added host     = (a one-task ping playbook on 20 hosts - on 1 host) / 19
    figure                  = site.yml per added host / ping per added host      target <= 2

The playbooks run as on a host that does not set PYTHONDONTWRITEBYTECODE (tests/integration/playbook.py), so this
collection's modules load their module_utils from the byte-code kept by earlier runs (core/payload_loader.py), as on a
default host; ping's modules are ansible-core's, which keep nothing.

The same figure is printed in CPU time as well (user and system time of the ansible-playbook process tree: the
controller, its workers and the modules they run; the simulators are not in it): it is what the wall time of a fleet
run is made of on a busy controller, and it does not move with the load of the machine as wall time does.

A ping task is the floor of a task that runs a module on a host (a fork of the
controller and a Python process on the host); the figure says how many of those
a converged host costs in site.yml. The figure is measured ROUNDS times (three), each
time from its own four runs, and the median is reported (the machine is shared). When mitogen (an optional accelerator,
no dependency of the collection) can be installed from PyPI into a temporary
directory, the same figure is printed with its mitogen_linear strategy.

    .venv/bin/python -m tests.bench_fleet
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_report import record
from tests.integration.playbook import REPO, run_playbook
from tests.ollama_sim.testing import run_sim

HOSTS = 20
FORKS = 20
ROUNDS = 3
TARGET = 2.0
MODELS = ["smollm2:135m"]
MITOGEN = "mitogen==0.3.54"

PING = """- name: The floor, one module task per host
  hosts: ollama_servers
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


def inventory(path: Path, sims: list, state: Path) -> str:
    hosts = {
        "fleet-%02d" % index: {"ansible_connection": "local", "ollama_api_url": sim.url, "ollama_models_state_dir": str(state / str(index))}
        for index, sim in enumerate(sims, 1)
    }
    path.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": hosts}}}}))
    return str(path)


def children_cpu() -> float:
    """User and system seconds of the children this process has waited for (each run's whole process tree)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def site_run(inventory_path: str, env: dict[str, str], converged: bool = True) -> tuple[float, float]:
    """The wall and CPU seconds of a site.yml run."""
    variables = {"ollama_site_manage_server": False, "ollama_models_list": MODELS, "ollama_health_fail": True}
    started, cpu = time.monotonic(), children_cpu()
    run = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory_path, env=env, timeout=900)
    elapsed = time.monotonic() - started
    cpu = children_cpu() - cpu
    if run.rc != 0:
        raise RuntimeError("site.yml failed (rc %s): %s" % (run.rc, run.stdout[-2000:]))
    changed = sum(host["changed"] for host in run.data["stats"].values())
    if converged and changed:
        raise RuntimeError("the run was not converged: %d changes" % changed)
    return elapsed, cpu


def ping_run(playbook: Path, inventory_path: str, env: dict[str, str]) -> tuple[float, float]:
    """The wall and CPU seconds of a ping playbook's run."""
    started, cpu = time.monotonic(), children_cpu()
    run = run_playbook(playbook, {}, inventory=inventory_path, env=env, timeout=300)
    elapsed = time.monotonic() - started
    cpu = children_cpu() - cpu
    if run.rc != 0:
        raise RuntimeError("the ping playbook failed (rc %s): %s" % (run.rc, run.stdout[-2000:]))
    return elapsed, cpu


def measure(single: str, fleet: str, ping: Path, env: dict[str, str]) -> dict[str, float]:
    """ROUNDS measurements of the figure, each from its own four runs (interleaved, so that load changes hit them
    alike); the round with the median figure is reported, and every round's figure is kept in ``ratios``."""
    rounds = []
    for _round in range(ROUNDS):
        one: dict[str, float] = {}
        for kind, size, run in (
            ("site", "one", lambda: site_run(single, env)),
            ("site", "many", lambda: site_run(fleet, env)),
            ("ping", "one", lambda: ping_run(ping, single, env)),
            ("ping", "many", lambda: ping_run(ping, fleet, env)),
        ):
            one["%s_%s" % (kind, size)], one["cpu_%s_%s" % (kind, size)] = run()
        for kind in ("site", "ping"):
            one[kind + "_host"] = (one[kind + "_many"] - one[kind + "_one"]) / (HOSTS - 1)
            one["cpu_%s_host" % kind] = (one["cpu_%s_many" % kind] - one["cpu_%s_one" % kind]) / (HOSTS - 1)
        one["ratio"] = one["site_host"] / one["ping_host"] if one["ping_host"] > 0 else float("inf")
        one["cpu_ratio"] = one["cpu_site_host"] / one["cpu_ping_host"] if one["cpu_ping_host"] > 0 else float("inf")
        rounds.append(one)
    ratios = sorted(one["ratio"] for one in rounds)
    median = dict(next(one for one in rounds if one["ratio"] == statistics.median(ratios)))
    median["ratios"] = ratios
    cpu_ratios = sorted(one["cpu_ratio"] for one in rounds)
    cpu_median = next(one for one in rounds if one["cpu_ratio"] == statistics.median(cpu_ratios))
    median.update(cpu_ratios=cpu_ratios, cpu_site=cpu_median["cpu_site_host"], cpu_ping=cpu_median["cpu_ping_host"], cpu_ratio=cpu_median["cpu_ratio"])
    return median


def mitogen_env(root: Path) -> dict[str, str] | None:
    """ansible-playbook settings for mitogen_linear from a temporary install of mitogen; None when it cannot be installed."""
    target = root / "mitogen"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(target), MITOGEN],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    strategies = target / "ansible_mitogen" / "plugins" / "strategy"
    if install.returncode != 0 or not strategies.is_dir():
        print("mitogen: not installable here (%s), its figure is left out" % (install.stderr.strip().splitlines() or ["no strategy plugins"])[-1])
        return None
    return {
        "ANSIBLE_STRATEGY_PLUGINS": str(strategies),
        "ANSIBLE_STRATEGY": "mitogen_linear",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(target), os.environ.get("PYTHONPATH", "")])),
    }


def line(label: str, best: dict[str, float]) -> str:
    return (
        "%s: site.yml %.1f s on 1 host, %.1f s on %d (%.3f s per added host); ping %.1f s / %.1f s (%.3f s per added host); "
        "marginal ratio %.2f (median of %s)"
        % (
            label,
            best["site_one"],
            best["site_many"],
            HOSTS,
            best["site_host"],
            best["ping_one"],
            best["ping_many"],
            best["ping_host"],
            best["ratio"],
            ", ".join("%.2f" % r for r in best["ratios"]),
        )
    )


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        sims = [stack.enter_context(run_sim(root / ("sim-%02d" % i), rate=500_000_000, host="127.0.0.%d" % (i + 1))) for i in range(1, HOSTS + 1)]
        fleet = inventory(root / "fleet.json", sims, root / "state")
        single = inventory(root / "single.json", sims[:1], root / "state")
        env = {"ANSIBLE_FORKS": str(FORKS)}
        for path in (fleet, single):  # converge first (the pulls happen here)
            site_run(path, env, converged=False)
        ping = root / "ping.yml"
        ping.write_text(PING)
        best = measure(single, fleet, ping, env)
        accelerated = None
        # BENCH_MITOGEN=0 leaves the optional accelerator's figure out (it doubles the bench's time)
        extra = mitogen_env(root) if os.environ.get("BENCH_MITOGEN", "1") != "0" else None
        if extra is not None:
            try:
                accelerated = measure(single, fleet, ping, dict(env, **extra))
            except RuntimeError as exc:
                print("mitogen: the runs failed, its figure is left out: %s" % str(exc)[:500])
    met = best["ratio"] <= TARGET
    print(line("linear (forks %d)" % FORKS, best) + " (target <= %.1f): %s" % (TARGET, "MET" if met else "NOT MET"))
    record(
        "converged site.yml: controller time per added host / a one-task ping playbook's (forks %d)" % FORKS,
        "<= %.1fx" % TARGET,
        "median of %s: %.3f s / %.3f s per host (1 -> %d hosts: site.yml %.1f -> %.1f s, ping %.1f -> %.1f s; %d cores)"
        % (
            ", ".join("%.2f" % r for r in best["ratios"]),
            best["site_host"],
            best["ping_host"],
            HOSTS,
            best["site_one"],
            best["site_many"],
            best["ping_one"],
            best["ping_many"],
            os.cpu_count() or 0,
        ),
        met,
        ratio=best["ratio"],
    )
    cpu = "median of %s: %.3f s / %.3f s of CPU per host" % (", ".join("%.2f" % r for r in best["cpu_ratios"]), best["cpu_site"], best["cpu_ping"])
    print("linear (forks %d), CPU time of the process tree: %s, marginal ratio %.2f" % (FORKS, cpu, best["cpu_ratio"]))
    record(
        "the same in CPU time of the ansible-playbook process tree (controller, workers and modules; not the simulators)",
        "printed",
        cpu,
        True,
        ratio=best["cpu_ratio"],
    )
    if accelerated is not None:
        print(line("mitogen_linear (optional accelerator)", accelerated))
        record(
            "the same with mitogen's mitogen_linear strategy (%s, optional, not a dependency)" % MITOGEN,
            "printed",
            "%.3f s / %.3f s per host (site.yml %.1f -> %.1f s, ping %.1f -> %.1f s)"
            % (
                accelerated["site_host"],
                accelerated["ping_host"],
                accelerated["site_one"],
                accelerated["site_many"],
                accelerated["ping_one"],
                accelerated["ping_many"],
            ),
            True,
            ratio=accelerated["ratio"],
        )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
