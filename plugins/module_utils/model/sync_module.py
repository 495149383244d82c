# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_model_sync module: its options, their checks, and one run (run_module).

A run checks everything it can before a request (check_params), runs the Sync,
then shapes the output: the health facts from what the sync read, the lock file
(written through the executor) and the entry in the ledger's history of syncs
(appended through the executor). Check mode is the executor's to decide.
"""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import probe_argument_spec, probe_params_problem
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.model.health_facts import read_health, unread_health
from ansible_collections.llmops.ollama.plugins.module_utils.model.lifecycle import ModelManager
from ansible_collections.llmops.ollama.plugins.module_utils.model.lock_file import LOCK_MODES, parse_lock, read_lock, render_lock, write_lock
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import (
    check_transfer_params,
    manager_from_module,
    mirror_from_params,
    summary,
    transfer_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync import Sync
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_input import MAX_CONCURRENCY, SyncError, check_protect, parse_models
from ansible_collections.llmops.ollama.plugins.module_utils.model.sync_output import failure_text, table_text


def argument_spec() -> Dict[str, Any]:
    spec = connection_argument_spec()
    spec.update(
        models={"type": "list", "elements": "raw", "required": True},
        exclusive={"type": "bool", "default": False},
        protect={"type": "list", "elements": "str", "default": []},
        concurrency={"type": "int", "default": 3},
        fail_fast={"type": "bool", "default": False},
        lock_file={"type": "path"},
        lock_content={"type": "str"},
        lock_content_source={"type": "str"},
        lock_mode={"type": "str", "default": "write", "choices": list(LOCK_MODES)},
        disk_path={"type": "path"},
        transfers={"type": "bool", "default": True},
    )
    spec.update(probe_argument_spec())
    spec.update(transfer_argument_spec())
    return spec


def _check_lock_params(params: Dict[str, Any]) -> None:
    content = params.get("lock_content")
    if content is not None and params["lock_mode"] != "read":
        raise SyncError("lock_content is only read, with lock_mode: read; to write a lock file, name it with lock_file")
    if content is not None and params.get("lock_file"):
        raise SyncError("give lock_file (a file on the host) or lock_content (its text), not both")
    if params["lock_mode"] == "read" and not params.get("lock_file") and content is None:
        raise SyncError("lock_mode is read but no lock_file is given: name the lock file to pin the models from (or give its text as lock_content)")


def check_params(params: Dict[str, Any]) -> Dict[str, Any]:
    """Everything that can be checked before a request; returns what was parsed. Raises SyncError."""
    if not 1 <= params["concurrency"] <= MAX_CONCURRENCY:
        raise SyncError("concurrency must be from 1 to %d, got %d" % (MAX_CONCURRENCY, params["concurrency"]))
    _check_lock_params(params)
    problem = probe_params_problem(params)
    if problem:
        raise SyncError(problem)
    try:
        parsed = {"min_free_space": check_transfer_params(params), "mirror": mirror_from_params(params)}
    except InvalidSpec as exc:
        raise SyncError(str(exc)) from None
    parsed["protect"] = check_protect(params["protect"])
    content = params.get("lock_content")
    given = params.get("lock_content_source") or "given as lock_content"
    lock = None
    if params["lock_mode"] == "read":
        lock = parse_lock(content, given) if content is not None else read_lock(params["lock_file"])
    source = params.get("lock_file") or (given if content is not None else "")
    parsed["declared"], parsed["warnings"] = parse_models(params["models"], lock, source, parsed["mirror"])
    if params["exclusive"] and not parsed["declared"]:
        raise SyncError(
            "exclusive with an empty models list would remove every model from the server; declare the models to keep "
            "(a missing inventory variable is the usual cause), or remove models with llmops.ollama.ollama_model state: absent"
        )
    return parsed


def _lock_output(module: Any, manager: ModelManager, outcome: Dict[str, Any], output: Dict[str, Any], message: str) -> None:
    """Write the lock file (lock_mode write, by the run that does the transfers, when every model reached its state)."""
    params = module.params
    output["lock_file_changed"] = False
    if params["lock_mode"] != "write" or outcome["pending"]:
        return
    if message:
        module.warn("the lock file %s was not written: not every model could be brought to its state" % params["lock_file"])
    elif manager.reread_error:
        module.warn("the lock file %s was not written: the models could not be read after the changes" % params["lock_file"])
    elif outcome["lock_errors"]:
        problems = "; ".join(outcome["lock_errors"])
        module.fail_json(msg="the lock file %s was not written (it keeps what it held): %s" % (params["lock_file"], problems), **output)
    else:
        try:
            output["lock_file_changed"] = write_lock(params["lock_file"], render_lock(outcome["lock"]), manager.executor, module.warn)
        except OSError as exc:
            module.fail_json(msg="cannot write the lock file %s: %s" % (params["lock_file"], exc), **output)
        output["changed"] = output["changed"] or output["lock_file_changed"]


def _history_entry(parsed: Dict[str, Any], params: Dict[str, Any], outcome: Dict[str, Any], output: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "kind": "sync",
        "summary": outcome["summary"],
        "changed": output["changed"],
        "failed": [item.spec.name.display for item in outcome["failures"]],
        "models": len(parsed["declared"]),
        "exclusive": params["exclusive"],
        "seconds": outcome["seconds"],
        "bytes": output["pull"]["bytes"],
        "interrupted": [entry["name"] for entry in outcome["interrupted"]],
    }


def _output(module: Any, manager: ModelManager, sync: Sync, outcome: Dict[str, Any]) -> Dict[str, Any]:
    params = module.params
    results = [item.result for item in sync.items if item.result is not None]
    output = {key: outcome[key] for key in ("changed", "results", "summary", "plan", "lock", "protected", "interrupted", "unavailable")}
    output.update(
        pull=summary(results),
        seconds=outcome["seconds"],
        ledger_error=manager.ledger.error,
        pending=outcome["pending"],
        health=read_health(
            manager.client, manager.state, params["disk_path"] or manager.models_path, params["probe"], params["probe_model"], params["probe_timeout"]
        ),
    )
    if not manager.ledger.error:
        predicted = manager.executor.ledger_prediction(params["state_dir"])
        if predicted:
            output["ledger_error"] = predicted
            module.warn("a real run could not use its ledger: " + predicted)
    return output


def run_module() -> None:
    """ollama_model_sync: build the module, run the sync, exit with its output or a clear failure."""
    module = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        parsed = check_params(params)
    except SyncError as exc:
        module.fail_json(msg=str(exc))
    for warning in parsed["warnings"]:
        module.warn(warning)
    manager = manager_from_module(
        module, parsed["min_free_space"], params["max_concurrent_pulls"], check_memory=any(d.spec.check_memory for d in parsed["declared"])
    )
    if not params["transfers"]:
        # the run that leaves transfers to a watched second run needs the ledger that the watching reads: refuse before any request
        unusable = manager.ledger.error or manager.executor.ledger_prediction(params["state_dir"])
        if unusable:
            module.fail_json(msg="transfers is false, and the run after this one needs its ledger: %s" % unusable, ledger_error=unusable, changed=False)
    sync = Sync(
        manager,
        manager.ledger,
        parsed["declared"],
        exclusive=params["exclusive"],
        protect=parsed["protect"],
        concurrency=params["concurrency"],
        host_limit=params["max_concurrent_pulls"],
        fail_fast=params["fail_fast"],
        transfers=params["transfers"],
    )
    try:
        outcome = sync.run()
    except OllamaError as exc:
        unread = unread_health(manager.client, str(exc), params["disk_path"] or manager.models_path)
        module.fail_json(msg="cannot read the models on the Ollama server: %s" % exc, api_url=manager.client.api_url, health=unread)

    output = _output(module, manager, sync, outcome)
    message = failure_text(outcome["failures"], outcome["skipped"], len(sync.items))
    if params["lock_file"]:
        _lock_output(module, manager, outcome, output, message)
    if module._diff:
        output["diff"] = {"before": table_text(outcome["before"]), "after": table_text(outcome["after"])}
    if not outcome["pending"]:  # the run that does the transfers appends the history entry (the executor: not in check mode)
        manager.executor.record_history(_history_entry(parsed, params, outcome, output))
    if message:
        module.fail_json(msg=message, **output)
    module.exit_json(**output)


__all__ = ["argument_spec", "check_params", "run_module"]
