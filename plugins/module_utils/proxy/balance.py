# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""How the proxy spreads requests over the Ollama instances of a host (the upstream group).

``least_conn``: the instance with the fewest open requests, for throughput when every instance
serves the same models. ``model``: affinity, so that one model is loaded on one instance rather
than on each. nginx's ``hash ... consistent`` keys on the request body's ``model``, read by a
small njs function (``js_set``); a down instance (``max_fails``) is skipped and its models go to
the next instance on the ring. nginx reads the body before it picks the instance only with
request buffering, so the ``model`` mode turns it on (the body is held in memory up to
``MODEL_BODY_BUFFER``; a larger body, such as a blob upload, has no key and goes to one instance).
"""

from __future__ import annotations

import os
from typing import List, Sequence

BALANCE_MODES = ("least_conn", "model")
MODEL_BODY_BUFFER = "16m"

# The njs module: a JS identifier per domain imports it, so two domains never clash.
MODEL_JS = """// Managed by llmops.ollama.ollama_domain: do not edit by hand.
// The model of an Ollama (or OpenAI-compatible) request, from its JSON body, as the key of
// `hash ... consistent`: lower case, with :latest when the name has no tag. '' without one.
function model(r) {
    var body;
    try {
        body = r.requestText;
    } catch (e) {
        return '';
    }
    if (!body) {
        return '';
    }
    var name;
    try {
        name = JSON.parse(body).model;
    } catch (e) {
        return '';
    }
    if (typeof name !== 'string' || name.length === 0 || name.length > 512) {
        return '';
    }
    name = name.toLowerCase();
    if (name.indexOf(':', name.lastIndexOf('/') + 1) < 0) {
        name += ':latest';
    }
    return name;
}

export default {model};
"""

NJS_MISSING = (
    "balance: model reads the request's model with njs, the nginx JavaScript module, and this nginx does not have it loaded "
    "(install it: apt-get install libnginx-mod-http-js on Debian and Ubuntu, which adds load_module modules/ngx_http_js_module.so "
    "to /etc/nginx/modules-enabled; or nginx-module-njs from nginx.org with load_module in nginx.conf), or use balance: least_conn"
)


def js_file(config_dir: str, slug: str) -> str:
    """The njs file of a binding, beside its vhost (not *.conf, so nginx does not include it)."""
    return os.path.join(config_dir, slug + ".balance.js")


def njs_missing(nginx_message: str) -> bool:
    """Whether nginx -t refused the njs directives because the module is not loaded."""
    return 'unknown directive "js_import"' in nginx_message or 'unknown directive "js_set"' in nginx_message


def upstream_block(ident: str, servers: Sequence[str], balance: str, js_path: str) -> List[str]:
    """The upstream group (and, for ``model``, the njs import and variable before it)."""
    lines: List[str] = []
    if balance == "model":
        lines += [
            # its own import and variable: the access log's njs script (access_log) uses <ident> and $<ident>_model
            "js_import %s_balance from %s;" % (ident, js_path),
            "js_set $%s_balance_model %s_balance.model;" % (ident, ident),
            "",
            "upstream %s {" % ident,
            "    hash $%s_balance_model consistent;" % ident,
        ]
    else:
        lines += ["upstream %s {" % ident, "    least_conn;"]
    # Passive health: 3 failures in 30 s take a server out for 30 s; the request goes to the next one.
    lines += ["    server %s max_fails=3 fail_timeout=30s;" % server for server in servers]
    lines += ["    keepalive 16;", "}", ""]
    return lines


def body_lines(balance: str) -> List[str]:
    """How the location handles request bodies: streamed through, or read first for ``model``."""
    if balance == "model":
        return [
            "        proxy_request_buffering on;",
            "        client_body_buffer_size %s;" % MODEL_BODY_BUFFER,
            "        client_body_in_single_buffer on;",
        ]
    return ["        proxy_request_buffering off;"]
