# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_model module: its options, their checks, and one run (run_module)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import (
    check_transfer_params,
    manager_from_module,
    mirror_from_params,
    summary,
    transfer_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import DEFINITION_FIELDS, InvalidSpec, ModelSpec, model_argument_spec


def specs_from_params(params: Dict[str, Any]) -> Tuple[List[ModelSpec], List[str]]:
    """Specs for the ``ollama_model`` module's parameters (``name`` may list several models).

    Names that normalise to the same model (``llama3.2`` and ``llama3.2:latest``)
    are one spec. Raises InvalidSpec before anything is asked of the server.
    """
    names = params.get("name")
    if isinstance(names, str):
        names = [names]
    if not names:
        raise InvalidSpec("name is empty: give one model name or a list of them")
    definition = {key: params.get(key) for key in DEFINITION_FIELDS}
    has_definition = any(value is not None for value in definition.values())
    if has_definition and len(names) > 1:
        raise InvalidSpec("from, system, template, parameters, messages, license, quantize, files and adapters define one custom model; give a single name")
    if params.get("digest") and len(names) > 1:
        raise InvalidSpec("digest pins one model; give a single name (got %d)" % len(names))
    specs: List[ModelSpec] = []
    warnings: List[str] = []
    seen = set()
    for text in names:
        spec, spec_warnings = ModelSpec.build(
            text,
            state=params.get("state") or "present",
            update=params.get("update") or False,
            force=params.get("force") or False,
            digest=params.get("digest"),
            insecure=params.get("insecure") or False,
            keep_alive=params.get("keep_alive"),
            options=params.get("options"),
            definition=definition if has_definition else None,
            check_memory=params.get("check_memory") or False,
            require_capabilities=params.get("require_capabilities"),
        )
        for warning in spec_warnings:
            if warning not in warnings:
                warnings.append(warning)
        if spec.name.key in seen:
            continue
        seen.add(spec.name.key)
        specs.append(spec)
    return specs, warnings


def failure_message(results: List[ModelResult]) -> str:
    """One message for the failed models of a run ('' when none failed)."""
    failed = [result for result in results if result.failed]
    if not failed:
        return ""
    if len(failed) == 1 and len(results) == 1:
        return failed[0].msg
    return "%d of %d models failed: %s" % (len(failed), len(results), " | ".join(result.msg for result in failed))


def argument_spec() -> dict:
    spec = connection_argument_spec()
    spec["name"] = {"type": "list", "elements": "str", "required": True, "aliases": ["model"]}
    spec.update(model_argument_spec())
    spec.update(transfer_argument_spec())
    return spec


def check_params(params: dict) -> int:
    """Checks of the plain options; return min_free_space in bytes. Raises InvalidSpec."""
    for name in params["name"] or []:
        if not isinstance(name, str) or not name.strip():
            raise InvalidSpec("name has an empty entry: every model name must be a non-empty string")
    return check_transfer_params(params)


def run_module() -> None:
    """ollama_model: build the module, bring the models to their state, exit with the results or a clear failure."""
    module = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        min_free_space = check_params(params)
        specs, warnings = specs_from_params(params)
        mirror = mirror_from_params(params)
    except InvalidSpec as exc:
        module.fail_json(msg=str(exc))
    for spec in specs:
        spec.mirror = mirror
    for warning in warnings:
        module.warn(warning)
    manager = manager_from_module(module, min_free_space, params["max_concurrent_pulls"], check_memory=params["check_memory"])
    client = manager.client
    try:
        results = manager.ensure(specs)
    except OllamaError as exc:
        module.fail_json(msg="cannot read the models on the Ollama server: %s" % exc, api_url=client.api_url)

    models = [result.as_dict() for result in results]
    output = {
        "changed": any(result.changed for result in results),
        "models": models,
        "actions": ["%s %s" % (action, result.record["name"]) for result in results for action in result.actions],
        "pull": summary(results),
        "plan": [dict(result.plan.as_dict(), failed=result.failed) for result in results if result.plan is not None and result.plan.steps],
    }
    if len(models) == 1:
        output["model"] = models[0]
    if module._diff:
        output["diff"] = {
            "before": {result.record["name"]: result.before for result in results},
            "after": {result.record["name"]: result.after for result in results},
        }
    message = failure_message(results)
    if message:
        module.fail_json(msg=message, **output)
    module.exit_json(**output)


__all__ = ["argument_spec", "check_params", "run_module"]
