# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_info module: its options, the probes, and one run (run_module)."""

from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, client_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import InvalidApiUrl, connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.gpu_placement import gpu_verdict
from ansible_collections.llmops.ollama.plugins.module_utils.core.health import MIN_REQUEST_TIMEOUT, probe_argument_spec, probe_inference, probe_params_problem
from ansible_collections.llmops.ollama.plugins.module_utils.core.health_read import probe
from ansible_collections.llmops.ollama.plugins.module_utils.core.instances import instances_report, unhealthy_reason
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.core.ports import InvalidPort, check_ports, describe, port_report


def probe_once(client: OllamaClient, params: Dict[str, Any], deadline: Optional[float]) -> Dict[str, Any]:
    """One probe as the options ask: the API reads, then the inference probe when asked, then the GPU verdict."""
    facts = probe(client, deadline, disk_path=params["disk_path"])
    facts["inference"] = None
    facts["gpu_warnings"] = []
    if facts["healthy"] and params["probe"] == "inference":
        timeout = params["probe_timeout"]
        if deadline is not None:
            # While waiting, the inference probe does not outlast wait_timeout either.
            timeout = min(timeout, max(round(deadline - time.monotonic(), 1), MIN_REQUEST_TIMEOUT))
        inference = probe_inference(client, params["probe_model"], timeout)
        facts["inference"] = inference
        if inference["healthy"]:
            # The probe may have loaded the model: judge its placement too.
            after = probe(client, deadline)
            if after["healthy"]:
                facts.update(loaded=after["loaded"], loaded_count=after["loaded_count"])
        else:
            facts.update(healthy=False, reason=inference["reason"])
    facts["instances"] = []
    if params["instances"]:
        probes = [probe(client_from_params(dict(params, api_url=url), retries=0), deadline) for url in params["instances"]]
        facts["instances"] = instances_report(probes)
        why = unhealthy_reason(facts["instances"])
        if why and facts["healthy"]:
            facts.update(healthy=False, reason=why)
    if params["expect_gpu"] or params["require_gpu"]:
        warnings, failures = gpu_verdict(facts["loaded"], params["require_gpu"])
        facts["gpu_warnings"] = warnings + failures
        if failures and facts["healthy"]:
            facts.update(healthy=False, reason="require_gpu: " + "; ".join(failures))
    return facts


def run_module() -> None:
    """ollama_info: build the module, run it, exit with its result or a clear failure."""
    argument_spec = connection_argument_spec()
    argument_spec.update(
        wait={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 60},
        wait_interval={"type": "float", "default": 1},
        expect_gpu={"type": "bool", "default": False},
        require_gpu={"type": "bool", "default": False},
        disk_path={"type": "path"},
        instances={"type": "list", "elements": "str", "default": []},
        port={"type": "int"},
        port_address={"type": "str"},
    )
    argument_spec.update(probe_argument_spec())
    module = OllamaModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["wait_timeout"] < 0 or params["wait_interval"] <= 0:
        module.fail_json(msg="wait_timeout must be 0 or more and wait_interval more than 0 (got %s and %s)" % (params["wait_timeout"], params["wait_interval"]))
    problem = probe_params_problem(params)
    if problem:
        module.fail_json(msg=problem)
    wanted_ports = [params["port"]] if params["port"] is not None else []
    try:
        check_ports(wanted_ports, "port")
    except InvalidPort as exc:
        module.fail_json(msg=str(exc))
    try:
        client = client_from_params(params, retries=0)
    except InvalidApiUrl as exc:
        module.fail_json(msg=str(exc))

    deadline = time.monotonic() + params["wait_timeout"]
    while True:
        # While waiting, no request may outlast wait_timeout (a server that accepts but never answers).
        facts = probe_once(client, params, deadline if params["wait"] else None)
        gpu_failed = params["require_gpu"] and facts["reason"].startswith("require_gpu: ")
        if facts["healthy"] or not params["wait"] or gpu_failed:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            module.fail_json(
                msg="The Ollama server at %s did not become healthy within %s seconds. Last reason: %s. "
                "Check that the server runs and listens there (for a container: docker logs)." % (client.api_url, params["wait_timeout"], facts["reason"]),
                **facts,
            )
        time.sleep(min(params["wait_interval"], remaining))
    if params["require_gpu"] and facts["reason"].startswith("require_gpu: "):
        module.fail_json(
            msg="The Ollama server at %s runs models on the CPU although require_gpu is set: %s. Check the GPU driver and the "
            "container's GPU access (docker run --gpus), and whether the model fits in GPU memory." % (client.api_url, "; ".join(facts["gpu_warnings"])),
            **facts,
        )
    for warning in facts["gpu_warnings"]:
        module.warn("expect_gpu: %s" % warning)
    # read last: after a wait, the server that became healthy holds its port
    listeners = port_report(wanted_ports, params["port_address"], option="port")["listeners"]
    holders = listeners[0]["holders"] if listeners else []
    module.exit_json(changed=False, port_holders=holders, port_holders_text=describe(holders), **facts)


__all__ = ["run_module"]
