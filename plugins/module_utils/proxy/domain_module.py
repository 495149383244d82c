# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_domain module: its options, their checks, and one run (run_module)."""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.urls import mask_params
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain import NJS_MODES, DomainError, DomainManager, MissingCryptography
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    DEFAULT_ACCESS_LOG_DIR,
    DEFAULT_CONFIG_DIR,
    TLS_MODES,
    TLS_PROTOCOLS,
    ConfigError,
)
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.tls import ACCEPTABLE_CERTIFICATE_ISSUES, CRYPTOGRAPHY_IMPORT_ERROR


def argument_spec() -> dict:
    """Its own options; of the connection options only api_url is used (where to proxy to), the others are accepted for the
    action group's module_defaults."""
    spec = unused_connection_argument_spec()
    spec.update(
        {
            "api_url": connection_argument_spec()["api_url"],
            "domain": {"type": "str", "required": True},
            "aliases": {"type": "list", "elements": "str", "default": []},
            "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
            "upstream": {"type": "str"},
            "upstreams": {"type": "list", "elements": "str"},
            "balance": {"type": "str", "default": "least_conn", "choices": ["least_conn", "model"]},
            "listen_address": {"type": "str"},
            "http_port": {"type": "int", "default": 80},
            "https_port": {"type": "int", "default": 443},
            "tls": {"type": "str", "default": "none", "choices": list(TLS_MODES)},
            "certificate": {"type": "path"},
            "private_key": {"type": "path"},
            "accept_certificate": {"type": "list", "elements": "str", "choices": list(ACCEPTABLE_CERTIFICATE_ISSUES), "default": []},
            "tls_dir": {"type": "path", "default": "/etc/ssl/llmops-ollama"},
            "renew_days": {"type": "int", "default": 30},
            "selfsigned_days": {"type": "int", "default": 365},
            "redirect_http": {"type": "bool", "default": True},
            "hsts": {"type": "bool", "default": False},
            "tls_protocols": {"type": "list", "elements": "str", "choices": list(TLS_PROTOCOLS), "default": list(TLS_PROTOCOLS)},
            "allow": {"type": "list", "elements": "str", "default": []},
            "public": {"type": "bool", "default": False},
            "api_keys": {"type": "list", "elements": "raw", "default": [], "no_log": True},
            "access_log": {"type": "bool", "default": False},
            "access_log_dir": {"type": "path", "default": DEFAULT_ACCESS_LOG_DIR},
            "access_log_njs": {"type": "str", "default": "auto", "choices": list(NJS_MODES)},
            "default_server": {"type": "bool", "default": False},
            "mirror_path": {"type": "path"},
            "rate_limit": {"type": "int"},
            "rate_limit_burst": {"type": "int"},
            "read_timeout": {"type": "int", "default": 600},
            "send_timeout": {"type": "int", "default": 600},
            "config_dir": {"type": "path", "default": DEFAULT_CONFIG_DIR},
            "backup_dir": {"type": "path"},
            "backups": {"type": "int", "default": 5},
            "acme_webroot": {"type": "path", "default": "/var/lib/llmops-ollama/acme"},
            "nginx_binary": {"type": "str", "default": "nginx"},
            "nginx_conf": {"type": "path"},
            "nginx_prefix": {"type": "path"},
            "reload_command": {"type": "str"},
            "reload": {"type": "bool", "default": True},
            "force": {"type": "bool", "default": False},
            "verify": {"type": "bool", "default": False},
            "verify_timeout": {"type": "int", "default": 10},
        }
    )
    return spec


def run_module() -> None:
    """ollama_domain: build the module, run it, exit with its result or a clear failure."""
    module = AnsibleModule(
        argument_spec=argument_spec(),
        mutually_exclusive=[("upstream", "upstreams")],
        supports_check_mode=True,
    )
    # A URL with user:password@ is refused, but Ansible would still repeat it (invocation.module_args with -vvv, messages).
    mask_params(module)
    # no_log hides the whole api_keys value, and Ansible would also mask every occurrence of a key's *name* in the
    # output (a key named "ops" would turn "ollama-ops.example.com" into stars): names are not secret, keys are.
    keys = [entry.get("key") for entry in module.params.get("api_keys") or [] if isinstance(entry, dict)]
    for entry in module.params.get("api_keys") or []:
        if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] not in keys:
            module.no_log_values.discard(entry["name"])
    params = dict(module.params)
    binary = params["nginx_binary"]
    if "/" not in binary:
        found = module.get_bin_path(binary, opt_dirs=["/usr/sbin", "/usr/local/sbin", "/usr/local/nginx/sbin"])
        if not found:
            module.fail_json(msg="nginx_binary %r was not found in PATH or the sbin directories: install nginx, or give its path" % binary)
        params["nginx_binary"] = found

    def runner(argv: list) -> tuple:
        rc, out, err = module.run_command(argv)
        return rc, out, err

    manager = DomainManager(params, runner, check_mode=module.check_mode)
    try:
        result = manager.run()
    except MissingCryptography as exc:
        module.fail_json(msg=missing_required_lib("cryptography", reason=str(exc)), exception=CRYPTOGRAPHY_IMPORT_ERROR)
    except DomainError as exc:
        for warning in manager.warnings:
            module.warn(warning)
        module.fail_json(msg=str(exc), **exc.details)
    except ConfigError as exc:
        module.fail_json(msg=str(exc))
    for warning in manager.warnings:
        module.warn(warning)
    module.exit_json(**result)


__all__ = ["argument_spec", "run_module"]
