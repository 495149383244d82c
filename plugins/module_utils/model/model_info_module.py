# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_model_info module: its options, their checks, and one run (run_module)."""

from __future__ import annotations

from typing import Any

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaError, client_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import InvalidApiUrl, connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DEFAULT_STATE_DIR, Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import InvalidSize, parse_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.capabilities import CAPABILITIES
from ansible_collections.llmops.ollama.plugins.module_utils.model.record_search import SORT_KEYS, all_records, search
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import SOURCES, STATUSES, ServerState, build_record
from ansible_collections.llmops.ollama.plugins.module_utils.model.show_detail import show_detail


class InvalidOptions(ValueError):
    """Options of ollama_model_info that cannot be used together or as given; the message names them."""


def _size(value: Any, option: str) -> int:
    try:
        return parse_size(value)
    except InvalidSize as exc:
        raise InvalidOptions("%s: %s" % (option, exc)) from None


def argument_spec() -> dict:
    spec = connection_argument_spec()
    spec.update(
        name={"type": "str"},
        detail={"type": "bool", "default": False},
        query={"type": "str"},
        status={"type": "list", "elements": "str", "choices": list(STATUSES)},
        source={"type": "list", "elements": "str", "choices": list(SOURCES)},
        capability={"type": "list", "elements": "str", "choices": list(CAPABILITIES)},
        min_size={"type": "raw"},
        max_size={"type": "raw"},
        sort_by={"type": "str", "default": "name", "choices": list(SORT_KEYS)},
        sort_desc={"type": "bool", "default": False},
        page={"type": "int", "default": 1},
        page_size={"type": "int", "default": 0},
        declared={"type": "list", "elements": "str"},
        history={"type": "int", "default": 0},
        state_dir={"type": "path", "default": DEFAULT_STATE_DIR},
    )
    return spec


def check_params(params: dict) -> dict:
    """Validate everything before any request; return the parsed name, declared names and sizes."""
    parsed = {}
    if params["page"] < 1:
        raise InvalidOptions("page must be 1 or more, got %d" % params["page"])
    if params["page_size"] < 0:
        raise InvalidOptions("page_size must be 0 (all) or more, got %d" % params["page_size"])
    if params["history"] < 0:
        raise InvalidOptions("history must be 0 (none) or a number of syncs, got %d" % params["history"])
    if params["detail"] and not params["name"]:
        raise InvalidOptions("detail: true needs name: the model whose /api/show detail to return")
    try:
        parsed["name"] = parse_name(params["name"]) if params["name"] is not None else None
        parsed["declared"] = [parse_name(text) for text in params["declared"] or []]
    except InvalidModelName as exc:
        raise InvalidOptions(str(exc)) from None
    if params["query"] is not None and not params["query"].strip():
        raise InvalidOptions("query is empty: give a part of a model name or a glob such as 'llama*'")
    parsed["min_size"] = _size(params["min_size"], "min_size") if params["min_size"] is not None else None
    parsed["max_size"] = _size(params["max_size"], "max_size") if params["max_size"] is not None else None
    if parsed["min_size"] is not None and parsed["max_size"] is not None and parsed["min_size"] > parsed["max_size"]:
        raise InvalidOptions("min_size (%s) is larger than max_size (%s): no model can match" % (params["min_size"], params["max_size"]))
    return parsed


def _fill_capabilities(module: AnsibleModule, client: Any, records: list) -> None:
    """A model on the server whose /api/tags entry lists no capabilities (an older server): ask /api/show."""
    for record in records:
        if record.get("capabilities") or not record.get("digest"):
            continue
        try:
            record["capabilities"] = [str(item) for item in client.show(record["name"]).get("capabilities") or []]
        except OllamaError as exc:
            module.fail_json(msg="cannot read the capabilities of %s: %s" % (record["name"], exc.server_message or exc))


def run_module() -> None:
    """ollama_model_info: build the module, run it, exit with its result or a clear failure."""
    module = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    try:
        parsed = check_params(params)
    except InvalidOptions as exc:
        module.fail_json(msg=str(exc))
    try:
        client = client_from_params(params)
    except InvalidApiUrl as exc:
        module.fail_json(msg=str(exc))
    ledger = Ledger.open(params["state_dir"], create=False, warn=module.warn)
    if ledger.error:
        module.warn(ledger.error)

    try:
        state = ServerState.read(client)
    except OllamaError as exc:
        module.fail_json(msg="cannot read the models on the Ollama server: %s" % exc, api_url=client.api_url)

    name = parsed["name"]
    declared = list(parsed["declared"])
    records = [build_record(name, state, ledger)] if name is not None else all_records(state, ledger, declared)
    if params["capability"]:
        _fill_capabilities(module, client, records)
    result = search(
        records,
        query=params["query"],
        statuses=params["status"],
        sources=params["source"],
        capabilities=params["capability"],
        min_size=parsed["min_size"],
        max_size=parsed["max_size"],
        sort_by=params["sort_by"],
        sort_desc=params["sort_desc"],
        page=params["page"],
        page_size=params["page_size"],
    )
    output = dict(changed=False, **result)
    if params["history"] > 0:
        output["history"] = ledger.history(params["history"])
    if name is not None:
        record = dict(records[0])
        if params["detail"] and state.model(name) is not None:
            try:
                record["detail"] = show_detail(client.show(name.display))
            except OllamaError as exc:
                module.fail_json(msg="cannot read the detail of %s: %s" % (name.display, exc.server_message or exc), **output)
        output["model"] = record
    module.exit_json(**output)


__all__ = ["argument_spec", "run_module"]
