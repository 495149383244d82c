# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: ollama_plan
type: notification
short_description: One plan for the whole fleet from a check-mode run (Markdown and JSON), like terraform plan
version_added: 0.1.0
description:
  - Collects what the llmops.ollama modules return during a run and writes, at its end, one summary for the whole run
    as Markdown (for a merge-request comment) and as JSON (for tools).
  - Per host, the models to pull, update or remove (with their sizes and the bytes to transfer), the proxy bindings to add,
    change or remove, the changes of the ollama_server role's tasks, the mirror's models and bytes to fetch, and why a host
    failed; then the totals.
  - In check mode (C(--check)) it is the plan; in a real run the same summary tells what was done (C(mode=apply)), so a
    pipeline can compare the two. In a real run, C(bytes) of a host are the bytes its pulls fetched as the server reported
    them (the layers' totals), and C(bytes_moved) the bytes seen arriving in this run.
  - The model sync's results are read from M(llmops.ollama.ollama_model_sync) (also when the ollama_models role runs it in the
    background and reads it back with async_status), the bindings from M(llmops.ollama.ollama_domain), the mirror from
    M(llmops.ollama.ollama_mirror). No task argument is read, so no key reaches the files.
  - It writes nothing unless O(markdown_file) or O(json_file) is set. Enable it with
    C(callbacks_enabled = llmops.ollama.ollama_plan) in C(ansible.cfg).
author:
  - llmops.ollama maintainers (@llmops)
requirements:
  - enable in configuration
options:
  markdown_file:
    description: The Markdown file the summary is written to (replaced atomically); nothing is written when empty.
    type: path
    env:
      - name: LLMOPS_OLLAMA_PLAN_MARKDOWN
    ini:
      - section: callback_ollama_plan
        key: markdown_file
  json_file:
    description: The JSON file the summary is written to (replaced atomically); nothing is written when empty.
    type: path
    env:
      - name: LLMOPS_OLLAMA_PLAN_JSON
    ini:
      - section: callback_ollama_plan
        key: json_file
"""

import json
import os
import tempfile
from typing import Any, Dict, List, Optional

from ansible import context
from ansible.plugins.callback import CallbackBase

COLLECTION = "llmops.ollama."
PULL_ACTIONS = {"pulled": "pull", "updated": "update", "removed": "remove", "created": "create"}
MODEL_KINDS = ("pull", "update", "remove", "create")
BINDING_KINDS = ("add", "change", "remove")
MAX_SERVER_CHANGES = 50
MAX_REASON = 500


def human(size: int) -> str:
    """Decimal units, as the collection prints sizes."""
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return ("%d %s" % (value, unit)) if unit == "B" else ("%.1f %s" % (value, unit))
        value /= 1000
    return "%d B" % size  # pragma: no cover


def is_sync_result(data: Dict[str, Any]) -> bool:
    """The shape of ollama_model_sync's result (its own task, or the async_status that reads it back)."""
    return isinstance(data.get("summary"), dict) and isinstance(data.get("results"), list) and isinstance(data.get("plan"), list)


class FleetPlan:
    """The summary of one run: per host, the models, the bindings, the server changes, the mirror; and the totals."""

    def __init__(self) -> None:
        self.hosts: Dict[str, Dict[str, Any]] = {}
        self.check_mode = False
        self.playbooks: List[str] = []

    def host(self, name: str) -> Dict[str, Any]:
        if name not in self.hosts:
            self.hosts[name] = {
                "models": {},  # name -> entry; the last word on a model wins (the background sync after the plan call)
                "pull_total": 0,
                "pull_moved": 0,
                "bindings": {},
                "server": [],
                "mirror": None,
                "failed": None,
                "jobs": set(),
            }
        return self.hosts[name]

    def add_sync(self, host: str, data: Dict[str, Any]) -> None:
        entry = self.host(host)
        job = data.get("ansible_job_id")
        if job:
            if job in entry["jobs"]:
                return  # the role reads the finished background sync more than once
            entry["jobs"].add(job)
        transfers = {
            item.get("name")
            for item in data.get("plan") or []
            if isinstance(item, dict) and any(isinstance(step, dict) and step.get("transfer") for step in item.get("steps") or [])
        }
        for model in data.get("results") or []:
            if not isinstance(model, dict) or not model.get("name"):
                continue
            kind = PULL_ACTIONS.get(str(model.get("action")))
            if kind is None:
                continue  # unchanged, loaded, unloaded, pending (a later call of the same run says what happened), failed
            size = int(model.get("size_bytes") or 0)
            entry["models"][model["name"]] = {
                "name": model["name"],
                "kind": kind,
                "digest": str(model.get("digest") or ""),
                "size_bytes": size,
                "size": human(size),
                "transfer": kind in ("pull", "update") and (model["name"] in transfers or not self.check_mode),
                "bytes_moved": int(model.get("bytes") or 0),
            }
        pull = data.get("pull") or {}
        entry["pull_total"] += int(pull.get("total") or 0)
        entry["pull_moved"] += int(pull.get("bytes") or 0)

    def add_binding(self, host: str, data: Dict[str, Any], state: Optional[str]) -> None:
        binding = data.get("binding") or {}
        domain = binding.get("domain")
        if not domain or "verified" in data:
            return  # the verify phase checks what the bind phase did
        if not data.get("changed"):
            return
        if state == "absent":
            kind = "remove"
        else:
            before = "".join(str(diff.get("before") or "") for diff in data.get("diff") or [] if isinstance(diff, dict))
            kind = "change" if before.strip() else "add"
        self.host(host)["bindings"][domain] = {"domain": domain, "kind": kind, "url": binding.get("url")}

    def add_mirror(self, host: str, data: Dict[str, Any]) -> None:
        models = [m for m in data.get("models") or [] if isinstance(m, dict)]
        self.host(host)["mirror"] = {
            "models": [{"name": m.get("name"), "digest": m.get("digest"), "size_bytes": int(m.get("size") or 0)} for m in models if m.get("changed")],
            "bytes": int(data.get("fetch_bytes") or 0) if self.check_mode else int(data.get("transferred") or 0),
            "removed": [m.get("name") for m in data.get("removed") or [] if isinstance(m, dict)],
        }

    def add_server_change(self, host: str, task: str) -> None:
        changes = self.host(host)["server"]
        if len(changes) < MAX_SERVER_CHANGES and task not in changes:
            changes.append(task)

    def add_failure(self, host: str, message: Any) -> None:
        entry = self.host(host)
        if entry["failed"] is None:
            text = " ".join(str(message[-1] if isinstance(message, list) and message else message or "failed").split())
            entry["failed"] = text[:MAX_REASON]

    def summary(self) -> Dict[str, Any]:
        hosts = {}
        totals = dict.fromkeys(MODEL_KINDS, 0)
        totals.update({"bytes": 0, "bindings_add": 0, "bindings_change": 0, "bindings_remove": 0, "server_changes": 0})
        totals.update({"mirror_models": 0, "mirror_bytes": 0, "hosts": len(self.hosts), "hosts_changing": 0, "hosts_failed": 0})
        for name in sorted(self.hosts):
            raw = self.hosts[name]
            models = {kind: [] for kind in MODEL_KINDS}
            for model in sorted(raw["models"].values(), key=lambda m: m["name"]):
                models[model["kind"]].append({key: model[key] for key in ("name", "digest", "size_bytes", "size")})
            planned = sum(m["size_bytes"] for m in raw["models"].values() if m["transfer"])
            transfer = planned if self.check_mode else raw["pull_total"]
            bindings = {kind: sorted(b["domain"] for b in raw["bindings"].values() if b["kind"] == kind) for kind in BINDING_KINDS}
            host = {
                "models": models,
                "bytes": transfer,
                "bytes_human": human(transfer),
                "bindings": bindings,
                "server": list(raw["server"]),
                "mirror": raw["mirror"],
                "failed": raw["failed"],
            }
            if not self.check_mode:
                host["bytes_moved"] = raw["pull_moved"]
            changing = any(models.values()) or any(bindings.values()) or raw["server"] or (raw["mirror"] and raw["mirror"]["models"])
            host["changes"] = bool(changing)
            hosts[name] = host
            for kind in MODEL_KINDS:
                totals[kind] += len(models[kind])
            totals["bytes"] += transfer
            for kind in BINDING_KINDS:
                totals["bindings_" + kind] += len(bindings[kind])
            totals["server_changes"] += len(raw["server"])
            if raw["mirror"]:
                totals["mirror_models"] += len(raw["mirror"]["models"])
                totals["mirror_bytes"] += raw["mirror"]["bytes"]
            totals["hosts_changing"] += 1 if changing else 0
            totals["hosts_failed"] += 1 if raw["failed"] else 0
        totals["bytes_human"] = human(totals["bytes"])
        return {"mode": "check" if self.check_mode else "apply", "playbooks": list(self.playbooks), "hosts": hosts, "totals": totals}


def markdown(summary: Dict[str, Any]) -> str:
    """The summary as a merge-request comment."""
    totals = summary["totals"]
    check = summary["mode"] == "check"
    title = "Ollama fleet plan" if check else "Ollama fleet run"
    verb = "to transfer" if check else "transferred"
    lines = [
        "## %s (%s)" % (title, ", ".join(summary["playbooks"]) or "ansible-playbook"),
        "",
        "**%d of %d host(s) %s**: %d model(s) to pull, %d to update, %d to remove, %d custom to create; %s %s; "
        "bindings: %d to add, %d to change, %d to remove; %d server change(s)%s."
        % (
            totals["hosts_changing"],
            totals["hosts"],
            "change" if check else "changed",
            totals["pull"],
            totals["update"],
            totals["remove"],
            totals["create"],
            totals["bytes_human"],
            verb,
            totals["bindings_add"],
            totals["bindings_change"],
            totals["bindings_remove"],
            totals["server_changes"],
            ("; %d host(s) failed" % totals["hosts_failed"]) if totals["hosts_failed"] else "",
        ),
        "",
        "| host | pull | update | remove | %s | bindings | server | status |" % verb,
        "|---|---:|---:|---:|---:|---|---:|---|",
    ]
    for name, host in summary["hosts"].items():
        models, bindings = host["models"], host["bindings"]
        binding_text = ", ".join("%s %s" % (kind, domain) for kind in BINDING_KINDS for domain in bindings[kind]) or "-"
        status = ("failed: " + host["failed"]) if host["failed"] else ("changes" if host["changes"] else "no changes")
        counts = (len(models["pull"]), len(models["update"]), len(models["remove"]))
        row = (name, *counts, host["bytes_human"], binding_text, len(host["server"]), status.replace("|", "/"))
        lines.append("| %s | %d | %d | %d | %s | %s | %d | %s |" % row)
    for name, host in summary["hosts"].items():
        if not host["changes"]:
            continue
        lines += ["", "### %s" % name, ""]
        for kind in MODEL_KINDS:
            for model in host["models"][kind]:
                lines.append("- %s model `%s` (%s, %s)" % (kind, model["name"], model["size"], (model["digest"] or "-")[:12]))
        for kind in BINDING_KINDS:
            for domain in host["bindings"][kind]:
                lines.append("- %s binding `%s`" % (kind, domain))
        for task in host["server"]:
            lines.append("- server: %s" % task)
        if host["mirror"]:
            for model in host["mirror"]["models"]:
                lines.append("- mirror: fetch `%s` (%s)" % (model["name"], human(model["size_bytes"])))
    return "\n".join(lines) + "\n"


def write_atomically(path: str, text: str) -> None:
    path = os.path.expanduser(path)
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=".ollama_plan.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise


class CallbackModule(CallbackBase):
    """Collect the llmops.ollama results of a run; write the fleet plan at its end."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "notification"
    CALLBACK_NAME = "llmops.ollama.ollama_plan"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._plan = FleetPlan()
        self._markdown = ""
        self._json = ""

    def set_options(self, task_keys=None, var_options=None, direct=None) -> None:
        super().set_options(task_keys=task_keys, var_options=var_options, direct=direct)
        self._markdown = self.get_option("markdown_file") or ""
        self._json = self.get_option("json_file") or ""

    def v2_playbook_on_start(self, playbook) -> None:
        name = os.path.basename(playbook._file_name)
        if name not in self._plan.playbooks:
            self._plan.playbooks.append(name)

    def v2_playbook_on_play_start(self, play) -> None:
        if context.CLIARGS.get("check") or getattr(play, "check_mode", None):
            self._plan.check_mode = True

    @staticmethod
    def _role(task) -> str:
        role = getattr(task, "_role", None)
        return role.get_name() if role else ""

    def _collect(self, result, data: Dict[str, Any]) -> None:
        task, host = result._task, result._host.get_name()
        action = str(task.action)
        if is_sync_result(data):
            self._plan.add_sync(host, data)
        elif action.endswith("ollama_domain") and isinstance(data.get("binding"), dict):
            state = ((data.get("invocation") or {}).get("module_args") or {}).get("state")
            self._plan.add_binding(host, data, state)
        elif action.endswith("ollama_mirror") and isinstance(data.get("models"), list):
            self._plan.add_mirror(host, data)
        elif data.get("changed") and self._role(task).endswith("ollama_server"):
            self._plan.add_server_change(host, task.get_name())

    def _wanted(self) -> bool:
        """Whether the plan is written anywhere; if not, no result is read (a fleet pays per task and host)."""
        return bool(self._markdown or self._json)

    def v2_runner_on_ok(self, result) -> None:
        if not self._wanted():
            return
        data = result._result
        if isinstance(data.get("results"), list) and not is_sync_result(data):
            return  # a loop: its items came through v2_runner_item_on_ok
        self._collect(result, data)

    def v2_runner_item_on_ok(self, result) -> None:
        if self._wanted():
            self._collect(result, result._result)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        if ignore_errors or not self._wanted():
            return
        data = result._result
        if is_sync_result(data):
            self._plan.add_sync(result._host.get_name(), data)
        self._plan.add_failure(result._host.get_name(), "censored" if data.get("censored") else data.get("msg"))

    def v2_runner_on_unreachable(self, result) -> None:
        if not self._wanted():
            return
        self._plan.add_failure(result._host.get_name(), "unreachable: %s" % result._result.get("msg", ""))

    def v2_playbook_on_stats(self, stats) -> None:
        if not self._wanted():
            return
        summary = self._plan.summary()
        try:
            if self._json:
                write_atomically(self._json, json.dumps(summary, indent=2, sort_keys=True) + "\n")
            if self._markdown:
                write_atomically(self._markdown, markdown(summary))
        except OSError as exc:
            self._display.warning("ollama_plan: cannot write the plan: %s" % exc)
