# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_domain_info module: its options and one run (run_module)."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.urls import mask_params
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain import list_bindings
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import DEFAULT_CONFIG_DIR, ConfigError


def argument_spec() -> dict:
    """Its own options, and the connection options it accepts, unused, for the action group's module_defaults."""
    spec = unused_connection_argument_spec()
    spec.update({"domain": {"type": "str"}, "config_dir": {"type": "path", "default": DEFAULT_CONFIG_DIR}})
    return spec


def run_module() -> None:
    """ollama_domain_info: build the module, run it, exit with its result or a clear failure."""
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    # api_url is not used here; when module_defaults give one with user:password@, it is masked in every output.
    mask_params(module)
    try:
        bindings = list_bindings(module.params["config_dir"], module.params["domain"])
    except ConfigError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, bindings=bindings)


__all__ = ["argument_spec", "run_module"]
