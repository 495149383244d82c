# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): a converged site.yml on a fleet of 20 hosts with forks 20, against one host.

Each host is this machine (connection local) with its own simulator on its own
127.0.0.x address. Both runs are converged (a first run brings them there),
then timed side by side in one go. Target: 20 hosts take at most 3 x one host.

The same run also times the floor: a playbook of one ansible.builtin.ping task
on the same two inventories. Every host's task is a fork of the controller and a
Python process for the module; with 20 hosts on this machine's cores, that cost
alone sets how close any playbook can come to the target.

    .venv/bin/python -m tests.bench_fleet
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_report import record
from tests.integration.playbook import REPO, run_playbook
from tests.ollama_sim.testing import run_sim

HOSTS = 20
TARGET = 3.0
MODELS = ["smollm2:135m"]


def inventory(path: Path, sims: list, state: Path) -> str:
    hosts = {
        "fleet-%02d" % index: {"ansible_connection": "local", "ollama_api_url": sim.url, "ollama_models_state_dir": str(state / str(index))}
        for index, sim in enumerate(sims, 1)
    }
    path.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": hosts}}}}))
    return str(path)


def converged_run(inventory_path: str, forks: int) -> float:
    variables = {"ollama_site_manage_server": False, "ollama_models_list": MODELS, "ollama_health_fail": True}
    started = time.monotonic()
    run = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory_path, env={"ANSIBLE_FORKS": str(forks)}, timeout=900)
    elapsed = time.monotonic() - started
    if run.rc != 0:
        raise RuntimeError("site.yml failed (rc %s): %s" % (run.rc, run.stdout[-2000:]))
    changed = sum(host["changed"] for host in run.data["stats"].values())
    if changed:
        raise RuntimeError("the run was not converged: %d changes" % changed)
    return elapsed


PING = """- name: The floor, one module task per host
  hosts: ollama_servers
  gather_facts: false
  tasks:
    - name: Ping
      ansible.builtin.ping:
"""


def ping_run(playbook: Path, inventory_path: str, forks: int) -> float:
    started = time.monotonic()
    run = run_playbook(playbook, {}, inventory=inventory_path, env={"ANSIBLE_FORKS": str(forks)}, timeout=300)
    elapsed = time.monotonic() - started
    if run.rc != 0:
        raise RuntimeError("the ping playbook failed (rc %s): %s" % (run.rc, run.stdout[-2000:]))
    return elapsed


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp, contextlib.ExitStack() as stack:
        root = Path(tmp)
        sims = [stack.enter_context(run_sim(root / ("sim-%02d" % i), rate=500_000_000, host="127.0.0.%d" % (i + 1))) for i in range(1, HOSTS + 1)]
        fleet = inventory(root / "fleet.json", sims, root / "state")
        single = inventory(root / "single.json", sims[:1], root / "state")
        for path, forks in ((fleet, HOSTS), (single, 1)):  # converge both first (pulls happen here)
            run_playbook(
                REPO / "playbooks" / "site.yml",
                {"ollama_site_manage_server": False, "ollama_models_list": MODELS},
                inventory=path,
                env={"ANSIBLE_FORKS": str(forks)},
                timeout=900,
            )
        one = converged_run(single, 1)
        many = converged_run(fleet, HOSTS)
        ping = root / "ping.yml"
        ping.write_text(PING)
        ping_one = ping_run(ping, single, 1)
        ping_many = ping_run(ping, fleet, HOSTS)
    ratio = many / one
    floor = ping_many / ping_one
    met = ratio <= TARGET
    print(
        "converged site.yml: 1 host %.1f s, %d hosts with forks %d %.1f s, ratio %.2f (target <= %.1f): %s"
        % (one, HOSTS, HOSTS, many, ratio, TARGET, "MET" if met else "NOT MET")
    )
    print("floor, one ping task: 1 host %.1f s, %d hosts %.1f s, ratio %.2f" % (ping_one, HOSTS, ping_many, floor))
    record(
        "floor: a one-task ping playbook, %d hosts (forks %d) / 1 host" % (HOSTS, HOSTS),
        "printed",
        "%.1f s / %.1f s (%d cores)" % (ping_many, ping_one, os.cpu_count() or 0),
        True,
        ratio=floor,
    )
    record("converged site.yml, %d hosts (forks %d) / 1 host" % (HOSTS, HOSTS), "<= %.1fx" % TARGET, "%.1f s / %.1f s" % (many, one), met, ratio=ratio)
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
