# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark (not a test): the task headers site.yml shows on a converged demo host (issue 18, item 7).

``make demo``'s run, on private ports and directories: inventory/local, the server in Docker (the
simulator image), two models, the TLS proxy as a standalone nginx. site.yml runs twice; the second run
changes nothing, and its ``TASK [...]`` headers (the default callback's, once per task and host whatever
its loop) are counted, per role. Each header is a task the controller schedules for the host.

    .venv/bin/python -m tests.bench_tasks [REPO]      (another checkout of the collection: its count)
"""

from __future__ import annotations

import collections
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Tuple

from tests.bench_report import record
from tests.integration.docker_support import SIM_IMAGE, build_sim_image, own_name, remove, require_engine
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO

HEADER = re.compile(r"^TASK \[(?:(?P<role>[\w.]+) : )?(?P<name>.*)\] \*+$", re.M)


def demo_variables(root: Path) -> Dict[str, object]:
    port, http_port, https_port = free_port(), free_port(), free_port()
    api_url = "http://127.0.0.1:%d" % port
    return {
        "ollama_api_url": api_url,
        "ollama_server_port": port,
        "ollama_server_container_name": own_name("llmops-bench-tasks"),
        "ollama_server_models_volume": own_name("llmops-bench-tasks-models"),
        "ollama_server_image": SIM_IMAGE,
        "ollama_server_image_pull": "never",
        "ollama_server_min_free_disk": "100 MB",
        "ollama_server_min_memory": "512 MB",
        "ollama_demo_root": str(root / "demo"),
        "ollama_demo_api_key": "sk-bench-0123456789abcdef",
        "ollama_models_state_dir": str(root / "ledger"),
        "ollama_health_models_path": str(root),
        "ollama_proxy_domains": [
            {
                "domain": "ollama.localhost",
                "tls": "selfsigned",
                "listen_address": "127.0.0.1",
                "http_port": http_port,
                "https_port": https_port,
                "upstream": api_url,
                "allow": ["127.0.0.1/32"],
                "api_keys": ["sk-bench-0123456789abcdef"],
            }
        ],
    }


def site(repo: Path, collections_root: Path, variables: Dict[str, object]) -> subprocess.CompletedProcess:
    bindir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(collections_root),
        ANSIBLE_CONFIG=str(repo / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        LLMOPS_OLLAMA_AUDIT_FILE=str(collections_root.parent / "audit.jsonl"),
        PATH=str(bindir) + os.pathsep + env.get("PATH", ""),
    )
    argv = [str(bindir / "ansible-playbook"), "-i", str(repo / "inventory" / "local"), str(repo / "playbooks" / "site.yml"), "-e", json.dumps(variables)]
    return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, env=env, cwd=str(repo), timeout=900, check=False)


def headers(repo: Path) -> List[Tuple[str, str]]:
    """(role, task) of each task header ('' for the playbook's own tasks) of a converged site.yml on the demo host."""
    require_engine()
    build_sim_image()
    with tempfile.TemporaryDirectory(prefix="bench-tasks-") as tmp:
        root = Path(tmp)
        link = root / "collections" / "ansible_collections" / "llmops" / "ollama"
        link.parent.mkdir(parents=True)
        link.symlink_to(repo.resolve())
        variables = demo_variables(root)
        try:
            for attempt in ("converge", "converged"):
                run = site(repo, root / "collections", variables)
                if run.returncode != 0:
                    raise SystemExit("site.yml (%s) failed: %s%s" % (attempt, run.stdout[-3000:], run.stderr[-2000:]))
            recap = re.search(r"changed=(\d+)", run.stdout.rsplit("PLAY RECAP", 1)[-1])
            if recap is None or recap.group(1) != "0":
                raise SystemExit("the second run was not converged: %s" % run.stdout[-2000:])
        finally:
            if (root / "demo" / "nginx" / "nginx.pid").exists():
                subprocess.run(["kill", (root / "demo" / "nginx" / "nginx.pid").read_text().strip()], check=False)
            remove(str(variables["ollama_server_container_name"]), str(variables["ollama_server_models_volume"]))
    return [((m.group("role") or "").split(".")[-1], m.group("name")) for m in HEADER.finditer(run.stdout)]


def main() -> int:
    repo = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else REPO
    shown = headers(repo)
    for role, name in shown:
        print("   TASK [%s%s]" % (role + " : " if role else "", name))
    per_role = collections.Counter(role for role, _name in shown)
    total = len(shown)
    print("task headers of a converged site.yml on the demo host (%s): %d" % (repo, total))
    for role, number in sorted(per_role.items()):
        print("   %-16s %d" % (role or "(playbook)", number))
    record(
        "task headers of a converged site.yml on the demo host (server, 2 models, TLS proxy)",
        "printed (61 before issue 18)",
        "%d (%s)" % (total, ", ".join("%s %d" % (role or "playbook", n) for role, n in sorted(per_role.items()))),
        True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
