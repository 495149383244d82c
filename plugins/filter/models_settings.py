# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ollama_models role's settings that its argument spec cannot express, and where its lock file is.

In Python rather than in the role's Jinja: a fleet renders the role's templates on every host in every run, each
worker process compiles every template anew, and Jinja renders every variable a template names, also in a branch not
taken. The lock file's settings were six templates naming one another on every host; here they are one call.
"""

from __future__ import annotations

import os
from typing import Any, Dict, List, Mapping


def _in_range(value: Any, low: int, high: int) -> bool:
    """Whether value, read as an integer as Jinja's int filter reads it (0 when it is not one), is in [low, high]."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        try:
            number = int(float(value))
        except (TypeError, ValueError):
            number = 0
    return low <= number <= high


def _host_lock_file(lock_file: str, controller_file: str, from_controller: bool, state_dir: str) -> str:
    """The lock file on the host (see models_settings)."""
    if from_controller:
        return ""
    if lock_file:
        return lock_file
    if controller_file:
        return "%s/models.lock.yml" % state_dir
    return ""


def _errors(settings: Mapping[str, Any], controller_path: str, exists: bool) -> List[str]:
    """One message per wrong setting, naming the role variable and what to do."""
    mode, controller_file = settings["lock_mode"], settings["lock_controller_file"] or ""
    errors: List[str] = []
    if not _in_range(settings["concurrency"], 1, 16):
        errors.append("ollama_models_concurrency must be from 1 to 16, got %s" % settings["concurrency"])
    if not _in_range(settings["progress_interval"], 1, 10):
        errors.append(
            "ollama_models_progress_interval must be from 1 to 10 seconds (a report at least every 15 seconds), got %s" % settings["progress_interval"]
        )
    if mode == "read" and not settings["lock_file"] and not controller_file:
        errors.append(
            "ollama_models_lock_mode is read: set ollama_models_lock_file (on the host) or ollama_models_lock_controller_file"
            " (on the controller) to the lock file that pins the models"
        )
    if controller_file and mode == "read" and not exists:
        errors.append(
            "ollama_models_lock_controller_file %s does not exist on the controller: write it first, with ollama_models_lock_mode"
            " write on one reference host (--limit that host)" % controller_path
        )
    if controller_file and mode == "write" and settings["play_hosts"] != 1:
        errors.append(
            "ollama_models_lock_mode is write with ollama_models_lock_controller_file: the lock file of the fleet comes from one"
            " reference host, and this play has %d; run it with --limit on that host, then with ollama_models_lock_mode read on the fleet"
            % settings["play_hosts"]
        )
    return errors


def models_settings(settings: Mapping[str, Any]) -> Dict[str, Any]:
    """The lock file of the role and the errors of its settings, from the role variables named in the keys.

    Keys read: lock_mode, lock_file, lock_controller_file, state_dir, playbook_dir, concurrency, progress_interval,
    play_hosts (the number of hosts of the play). Returned:

    - controller_path: the lock file kept on the controller, a relative path taken from the playbook's directory (as
      fetch and lookups read it); empty when none is set;
    - from_controller: whether the pins are read from that file (lock_mode read);
    - host_lock_file: the lock file on the host: the one named; with a lock file kept on the controller and lock_mode
      write, one in the ledger directory when none is named (it is then brought to the controller); empty when the pins
      come from the controller;
    - source: the controller's lock file whose pins the sync reads (passed as text), when it exists; else empty;
    - errors: what is wrong, one message per setting, naming the role variable and what to do;
    - lock_mode and lock_file: as given.
    """
    mode = settings["lock_mode"]
    lock_file = settings["lock_file"] or ""
    controller_file = settings["lock_controller_file"] or ""
    controller_path = controller_file
    if controller_file and not os.path.isabs(controller_file):
        controller_path = "%s/%s" % (settings["playbook_dir"], controller_file)
    from_controller = bool(controller_file) and mode == "read"
    exists = from_controller and os.path.isfile(controller_path)
    return {
        "lock_mode": mode,
        "lock_file": lock_file,
        "controller_path": controller_path,
        "from_controller": from_controller,
        "host_lock_file": _host_lock_file(lock_file, controller_file, from_controller, settings["state_dir"]),
        "source": controller_path if exists else "",
        "errors": _errors(settings, controller_path, exists),
    }


def models_lock_lines(result: Mapping[str, Any], settings: Mapping[str, Any], check_mode: bool = False, fetched: Any = None) -> List[str]:
    """The lines of the summary on the lock file: where the pins came from, or what happened to the file it wrote.

    result is the registered result of the sync, settings what models_settings returned, fetched the registered
    result of the task that brought the host's lock file to the controller (None when it did not run)."""
    if settings["lock_mode"] == "read":
        if settings["from_controller"]:
            return ["Pinned to the lock file %s on the controller" % settings["controller_path"]]
        return ["Pinned to the lock file %s" % settings["lock_file"]]
    if not settings["host_lock_file"]:
        return []
    if "lock_file_changed" not in result or result.get("failed"):
        what = "not written (see the warnings)"
    elif result["lock_file_changed"]:
        what = "would be written" if check_mode else "written"
    else:
        what = "unchanged"
    brought = ""
    if isinstance(fetched, Mapping) and not fetched.get("skipped") and not fetched.get("failed"):
        brought = ", brought to %s on the controller" % settings["controller_path"]
    return ["Lock file %s: %s%s" % (settings["host_lock_file"], what, brought)]


class FilterModule:
    """llmops.ollama filters of the ollama_models role's settings."""

    def filters(self) -> Dict[str, Any]:
        return {"models_settings": models_settings, "models_lock_lines": models_lock_lines}
