# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The ollama_proxy role's settings that its argument spec cannot express, checked in one call.

In Python rather than in the role's Jinja: the role checked them in a loop of twelve items and a loop over the ACME
domains, each item rendering its own templates, on every host of a fleet in every run.

The paths reach the nginx configuration (the standalone main configuration is a template) or nginx's command line:
they are checked with ollama_domain's own rule (module_utils proxy.paths), imported when the check runs, so that a
worker that loads the filters to find another one does not compile it. An empty prefix or main configuration means
nginx's own default (not in standalone mode, checked there).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any, Dict, List, Mapping

from ansible.module_utils.parsing.convert_bool import boolean

# The paths the role writes into nginx's configuration or uses as directories, in the order they are reported.
PATHS = (
    "ollama_proxy_config_dir",
    "ollama_proxy_nginx_prefix",
    "ollama_proxy_nginx_conf",
    "ollama_proxy_pid_file",
    "ollama_proxy_tls_dir",
    "ollama_proxy_acme_dir",
    "ollama_proxy_acme_webroot",
)
# The paths that may not be empty.
REQUIRED = ("ollama_proxy_config_dir", "ollama_proxy_pid_file")
NOTHING_CHANGED = "Nothing was changed."


def _json(value: Any) -> str:
    return json.dumps(value)


def _path_error(name: str, value: Any) -> str:
    """Why value cannot be the path of name; empty when it can (module_utils proxy.paths: the rule ollama_domain applies)."""
    from ansible_collections.llmops.ollama.plugins.module_utils.proxy import paths  # noqa: PLC0415  # pylint: disable=import-outside-toplevel

    if isinstance(value, str) and not value and name not in REQUIRED:
        return ""
    bad = paths.disallowed_characters(value if isinstance(value, str) else str(value))
    if isinstance(value, str) and os.path.isabs(value) and not bad and not paths.has_dot_segment(value):
        return ""
    shown = " ".join(_json(character) for character in bad) or "none"
    return "%s %s is not usable: it must be an absolute path of only %s, without . or .. segments (characters not allowed in it: %s). %s" % (
        name,
        _json(value),
        paths.PATH_ALLOWED,
        shown,
        NOTHING_CHANGED,
    )


def _domain_errors(domains: List[Mapping[str, Any]]) -> List[str]:
    names = [entry.get("domain") if isinstance(entry, Mapping) else None for entry in domains]
    strings = [name for name in names if isinstance(name, str) and name]
    if len(strings) == len(domains) and len({name.lower() for name in strings}) == len(strings):
        return []
    shown = ", ".join("" if name is None else str(name) for name in names)
    return ["Every entry of ollama_proxy_domains needs a domain, and each domain may appear once (got: %s)." % shown]


def _standalone_errors(settings: Mapping[str, Any]) -> List[str]:
    if not boolean(settings["standalone"], strict=False):
        return []
    errors = []
    prefix, conf, pid = settings["ollama_proxy_nginx_prefix"], settings["ollama_proxy_nginx_conf"], settings["ollama_proxy_pid_file"]
    absolute = all(isinstance(path, str) and os.path.isabs(path) for path in (prefix, conf, pid))
    if not absolute or settings["service_manager"] not in ("binary", "none"):
        errors.append(
            "ollama_proxy_standalone needs absolute paths in ollama_proxy_nginx_prefix, ollama_proxy_nginx_conf and ollama_proxy_pid_file"
            " (got %s, %s, %s), and ollama_proxy_service_manager binary or none (got %s). %s"
            % (_json(prefix), _json(conf), _json(pid), settings["service_manager"], NOTHING_CHANGED)
        )
    return errors


def _user_errors(settings: Mapping[str, Any]) -> List[str]:
    user = settings["standalone_user"]
    if not boolean(settings["standalone"], strict=False) or (isinstance(user, str) and not user):
        return []
    if isinstance(user, str) and re.match("[a-z_]", user) and not re.search("[^a-z0-9_-]", user):
        return []
    return [
        "ollama_proxy_standalone_user %s is not a user name: give one such as www-data (a lower-case letter or _, then lower-case"
        " letters, digits, _ or -), or leave it empty for nginx's default. %s" % (_json(user), NOTHING_CHANGED)
    ]


def _acme_errors(settings: Mapping[str, Any]) -> List[str]:
    """For each binding that gets its certificate from ACME: the terms agreed, the domain and its aliases in ASCII."""
    errors = []
    for own in settings["domains"]:
        if not isinstance(own, Mapping):
            continue
        entry = dict(settings["domain_defaults"], **own)
        state = "absent" if settings["state"] == "absent" else entry.get("state", "present")
        if entry.get("tls", "none") != "acme" or state != "present":
            continue
        name = str(entry.get("domain", ""))
        bad_name = re.search("[^A-Za-z0-9.-]", name) is not None
        bad_alias = any(re.search("[^A-Za-z0-9.-]", str(alias)) for alias in entry.get("aliases") or [])
        if not boolean(settings["acme_terms_agreed"], strict=False) or bad_name or bad_alias:
            errors.append(
                "%s has tls: acme. Set ollama_proxy_acme_terms_agreed: true to agree to the terms of %s, and give the domain and its"
                " aliases in ASCII (punycode for IDN), without a wildcard (http-01 cannot validate wildcards)." % (name, settings["acme_directory"])
            )
    return errors


def proxy_settings(settings: Mapping[str, Any]) -> List[str]:
    """What is wrong with the role's settings, one message per setting (none when all is well).

    Keys read: domains, domain_defaults, state, standalone, standalone_user, service_manager, acme_terms_agreed,
    acme_directory, and each role variable of PATHS under its own name. Checked, in this order: every entry of
    ollama_proxy_domains has a domain, and none twice (whatever the case); a standalone nginx has absolute paths and is
    started by its binary or not at all; each path is absolute, of letters, digits and . _ - + @ / only, without . or
    .. segments (a path that may be empty may be empty); the standalone user is a user name; each ACME binding has the
    terms agreed and an ASCII domain and aliases, without a wildcard.
    """
    errors = _domain_errors(settings["domains"]) + _standalone_errors(settings)
    errors += [error for error in (_path_error(name, settings[name]) for name in PATHS) if error]
    return errors + _user_errors(settings) + _acme_errors(settings)


class FilterModule:
    """llmops.ollama filters of the ollama_proxy role's settings."""

    def filters(self) -> Dict[str, Any]:
        return {"proxy_settings": proxy_settings}
