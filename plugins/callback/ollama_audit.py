# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_audit
type: notification
short_description: JSON-lines audit trail of the llmops.ollama tasks
version_added: 0.1.0
description:
  - Writes one JSON line per task that runs a module of this collection, or runs inside one of its roles.
  - A task of its roles that only works on the controller (C(debug), C(set_fact), C(assert), C(fail), C(meta), the
    includes, C(set_stats), the check of the role's arguments) is written only when it fails. Those tasks change
    nothing, and a fleet would pay a line per host for each of them in every run.
  - Each line holds the timestamp, the controller user, the AWX/Tower job id when there is one, the playbook, the host,
    the module, the target (model or domain) and state, whether it changed, failed or was skipped, the message and
    the duration in seconds.
  - Task arguments are never written, apart from the target and the state; a task with C(no_log) gets its message
    replaced, so no secret reaches the file.
  - Enable it with C(callbacks_enabled = llmops.ollama.ollama_audit) in C(ansible.cfg).
author:
  - llmops.ollama maintainers (@llmops)
requirements:
  - enable in configuration
options:
  audit_file:
    description: The JSON-lines file the trail is appended to; its directory is created when missing.
    type: path
    default: ~/.ansible/llmops_ollama_audit.jsonl
    env:
      - name: LLMOPS_OLLAMA_AUDIT_FILE
    ini:
      - section: callback_ollama_audit
        key: audit_file
"""

import getpass
import json
import os
import time
from datetime import datetime, timezone

from ansible.plugins.callback import CallbackBase

COLLECTION = "llmops.ollama."
# actions that only work on the controller and change nothing: written only when they fail
CONTROLLER_ONLY = frozenset(
    prefix + name
    for prefix in ("", "ansible.builtin.", "ansible.legacy.")
    for name in (
        "assert",
        "debug",
        "fail",
        "import_role",
        "import_tasks",
        "include_role",
        "include_tasks",
        "include_vars",
        "meta",
        "set_fact",
        "set_stats",
        "validate_argument_spec",
    )
)
TARGET_KEYS = ("name", "domain", "models")
HIDDEN = "the output has been hidden due to no_log"


class CallbackModule(CallbackBase):
    """Append one JSON line per llmops.ollama task result."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "llmops.ollama.ollama_audit"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._path = ""
        self._playbook = ""
        self._job_id = os.environ.get("JOB_ID") or os.environ.get("AWX_JOB_ID") or ""
        self._user = getpass.getuser()
        self._started = {}

    def set_options(self, task_keys=None, var_options=None, direct=None) -> None:
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._path = os.path.expanduser(self.get_option("audit_file"))

    def v2_playbook_on_start(self, playbook) -> None:
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play) -> None:
        extra = play.get_variable_manager().extra_vars
        job_id = extra.get("awx_job_id") or extra.get("tower_job_id")
        if job_id:
            self._job_id = str(job_id)

    @staticmethod
    def _ours(task) -> bool:
        role = getattr(task, "_role", None)
        role_name = role.get_name() if role else ""
        return str(task.action).startswith(COLLECTION) or role_name.startswith(COLLECTION)

    def v2_runner_on_start(self, host, task) -> None:
        self._started[(host.get_name(), task._uuid)] = time.monotonic()

    def _write(self, result, outcome: str) -> None:
        task = result._task
        host = result._host.get_name()
        started = self._started.pop((host, task._uuid), None)
        # decided before the result is read: reading it (result._result) costs the controller a copy per task and host
        if not self._ours(task) or (outcome in ("ok", "skipped") and str(task.action) in CONTROLLER_ONLY):
            return
        data = result._result
        if outcome == "ok" and data.get("changed"):
            outcome = "changed"
        args = (data.get("invocation") or {}).get("module_args") or task.args or {}
        target = next((args[key] for key in TARGET_KEYS if key in args), None)
        hidden = bool(task.no_log) or bool(data.get("censored"))
        if isinstance(target, list):
            target = [str(item.get("name", "")) if isinstance(item, dict) else str(item) for item in target]
        elif target is not None:
            target = str(target)
        record = {
            "timestamp": datetime.now(timezone.utc).isoformat(),
            "user": self._user,
            "job_id": self._job_id or None,
            "playbook": self._playbook,
            "host": host,
            "task": task.get_name(),
            "module": str(task.action),
            "target": None if hidden else target,
            "state": None if hidden else args.get("state"),
            "result": outcome,
            "changed": bool(data.get("changed", False)),
            "msg": HIDDEN if hidden else str(data.get("msg", ""))[:2000],
            "duration": round(time.monotonic() - started, 3) if started is not None else None,
        }
        try:
            directory = os.path.dirname(self._path)
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(self._path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, sort_keys=True) + "\n")
        except OSError as exc:
            self._display.warning("ollama_audit: cannot write %s: %s" % (self._path, exc))

    def v2_runner_on_ok(self, result) -> None:
        self._write(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        self._write(result, "failed")

    def v2_runner_on_skipped(self, result) -> None:
        self._write(result, "skipped")

    def v2_runner_on_unreachable(self, result) -> None:
        self._write(result, "unreachable")
