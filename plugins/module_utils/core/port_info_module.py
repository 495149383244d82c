# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_port_info module: its options and one run (run_module)."""

from __future__ import annotations

from urllib.parse import urlsplit

from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.core.ports import InvalidPort, port_report


def argument_spec() -> dict:
    """The shared connection options (it is in the ollama action group; only api_url's port is read) and its own."""
    spec = connection_argument_spec()
    spec.update({"ports": {"type": "list", "elements": "int"}, "address": {"type": "str"}})
    return spec


def _api_port(api_url: str) -> int:
    try:
        parts = urlsplit(api_url)
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return 0


def run_module() -> None:
    """ollama_port_info: build the module, read the ports, exit with the report or a clear failure."""
    module = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    ports = module.params["ports"] if module.params["ports"] is not None else [_api_port(module.params["api_url"])]
    try:
        report = port_report(ports, module.params["address"])
    except InvalidPort as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **report)


__all__ = ["argument_spec", "run_module"]
