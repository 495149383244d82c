# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_model module: its options, their checks, and one run (run_module)."""

from __future__ import annotations

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import (
    OllamaError,
    OllamaModule,
    connection_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.runner import (
    check_transfer_params,
    failure_message,
    manager_from_module,
    mirror_from_params,
    summary,
    transfer_argument_spec,
)
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec, model_argument_spec, specs_from_params


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
