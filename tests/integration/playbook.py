# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run a real ansible-playbook against this host and read its JSON results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
COLLECTIONS = REPO / ".build" / "collections"
LINK = COLLECTIONS / "ansible_collections" / "llmops" / "ollama"
PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


@dataclass
class PlaybookRun:
    """The outcome of one ansible-playbook run."""

    rc: int
    data: dict[str, Any]
    stderr: str
    stdout: str

    def results(self, task_name: str, host: str = "localhost") -> dict[str, Any]:
        """The result of the named task on the host (the last one, when it ran several times).

        A role's task matches by its own name, without the ``role : `` prefix.
        """
        found = [
            task["hosts"][host]
            for play in self.data["plays"]
            for task in play["tasks"]
            if task["task"]["name"].split(" : ", 1)[-1] == task_name and host in task["hosts"]
        ]
        if not found:
            names = [task["task"]["name"] for play in self.data["plays"] for task in play["tasks"]]
            raise AssertionError("task %r did not run; tasks: %s\n%s" % (task_name, names, self.stderr))
        return found[-1]

    def task_names(self, host: str | None = None) -> list[str]:
        """The names of the tasks that ran (on the host, when given), in order; a role's task by its own name."""
        return [task["task"]["name"].split(" : ", 1)[-1] for play in self.data["plays"] for task in play["tasks"] if host is None or host in task["hosts"]]

    def task_seconds(self, task_name: str) -> float:
        """How long the named task took (the JSON callback's start and end; its last run): a time bound on a
        task holds whatever ansible-playbook's start-up costs on a loaded machine or beside other tests."""
        durations = [task["task"]["duration"] for play in self.data["plays"] for task in play["tasks"] if task["task"]["name"].split(" : ", 1)[-1] == task_name]
        if not durations:
            raise AssertionError("task %r did not run" % task_name)
        start, end = (datetime.fromisoformat(durations[-1][key].replace("Z", "+00:00")) for key in ("start", "end"))
        return (end - start).total_seconds()

    @property
    def stats(self) -> dict[str, Any]:
        return self.data["stats"]["localhost"]


def ensure_collection_link() -> None:
    """Link the checkout as ansible_collections/llmops/ollama (make does the same)."""
    LINK.parent.mkdir(parents=True, exist_ok=True)
    if not LINK.is_symlink():
        LINK.symlink_to(REPO)


def playbook_command(
    playbook: str | Path,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    env: dict[str, str] | None = None,
    inventory: str | None = None,
    cli_vars: dict[str, Any] | None = None,
) -> tuple[list[str], dict[str, str]]:
    """The ansible-playbook argv and environment of a test run: JSON stdout callback, this collection, local connection.

    extra_vars go as one JSON ``-e`` (typed); cli_vars as ``-e key=value`` each, the
    way an operator types them, so every value arrives as a string.
    """
    ensure_collection_link()
    path = Path(playbook)
    if not path.is_absolute():
        path = PLAYBOOKS / path
    bindir = Path(sys.executable).parent
    args = [str(bindir / "ansible-playbook"), str(path)]
    args += ["-i", inventory] if inventory else ["-i", "localhost,", "-c", "local"]
    variables = {"ansible_python_interpreter": sys.executable}
    variables.update(extra_vars or {})
    args += ["-e", json.dumps(variables)]
    for key, value in (cli_vars or {}).items():
        args += ["-e", "%s=%s" % (key, str(value).lower() if isinstance(value, bool) else value)]
    if check:
        args.append("--check")
    if diff:
        args.append("--diff")
    run_env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    run_env.update(
        ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS),
        ANSIBLE_STDOUT_CALLBACK="ansible.posix.json",
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_HOST_KEY_CHECKING="false",
        PATH=str(bindir) + os.pathsep + os.environ.get("PATH", ""),
    )
    run_env.pop("OLLAMA_HOST", None)
    # the modules keep their byte-code between runs as on a host that does not set it (core/payload_loader.py)
    run_env["PYTHONDONTWRITEBYTECODE"] = ""
    # one audit trail per test process: parallel workers never append to the same file
    run_env["LLMOPS_OLLAMA_AUDIT_FILE"] = str(REPO / ".build" / ("audit-%s.jsonl" % os.environ.get("PYTEST_XDIST_WORKER", "main")))
    run_env.update(env or {})
    return args, run_env


def run_playbook(
    playbook: str | Path,
    extra_vars: dict[str, Any] | None = None,
    check: bool = False,
    diff: bool = False,
    env: dict[str, str] | None = None,
    inventory: str | None = None,
    timeout: float = 300,
    cli_vars: dict[str, Any] | None = None,
) -> PlaybookRun:
    """Run ansible-playbook (see playbook_command) to the end; its JSON output parsed."""
    args, run_env = playbook_command(playbook, extra_vars, check, diff, env, inventory, cli_vars)
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, env=run_env, cwd=str(REPO), check=False)
    if run_env["ANSIBLE_STDOUT_CALLBACK"] != "ansible.posix.json":
        return PlaybookRun(proc.returncode, {}, proc.stderr, proc.stdout)
    try:
        data = json.loads(proc.stdout)
    except ValueError as exc:
        raise AssertionError("ansible-playbook printed no JSON (rc %s):\n%s\n%s" % (proc.returncode, proc.stdout, proc.stderr)) from exc
    return PlaybookRun(proc.returncode, data, proc.stderr, proc.stdout)
