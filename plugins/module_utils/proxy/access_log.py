# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The proxy's JSON access log: its fields, the njs script that fills the model and token fields, and
whether the nginx in use has njs.

One line per request, every value a JSON string, the keys always in this order (the mtail program
``roles/ollama_monitoring/files/ollama_proxy.mtail`` matches the line with one regular expression)::

    {"time","domain","key","method","endpoint","model","status","request_time","ttfb",
     "bytes_sent","request_length","prompt_tokens","completion_tokens"}

``key`` is the key's name (never the key), ``-`` without one. Without njs, ``model`` and the token
fields are empty strings. Standard library only.
"""

from __future__ import annotations

import re
from typing import Optional

FIELDS = (
    "time",
    "domain",
    "key",
    "method",
    "endpoint",
    "model",
    "status",
    "request_time",
    "ttfb",
    "bytes_sent",
    "request_length",
    "prompt_tokens",
    "completion_tokens",
)
# What stays empty without njs.
NJS_FIELDS = ("model", "prompt_tokens", "completion_tokens")
NJS_MODULE = "ngx_http_js_module"
NJS_PACKAGE_HINT = "the njs module (Debian and Ubuntu: apt install libnginx-mod-http-js; nginx.org packages: nginx-module-njs, then load_module)"

_LOAD_MODULE_RE = re.compile(r"^\s*load_module\s+[\"']?[^\s;\"']*%s\.so[\"']?\s*;" % NJS_MODULE, re.MULTILINE)

# The script. njs gives every request its own virtual machine, so the variables below belong to one request.
# The body filter hands every chunk on at once and unchanged (no buffering: streams stay streams); it only scans
# the chunk, with the end of the previous one in front, for the answer's counts. A key that follows "{" or ","
# cannot be inside a JSON string (a quote there is always escaped), so text a model writes cannot fake a count;
# the last match wins, which is the final NDJSON line, the JSON body, or the OpenAI stream's usage chunk.
NJS_SCRIPT = r"""// Managed by llmops.ollama.ollama_domain: the model and token counts of the JSON access log. Do not edit by hand.
var prompt = '';
var completion = '';
var carry = '';
var COUNTS = /[{,]\s*"(prompt_eval_count|eval_count|prompt_tokens|completion_tokens)"\s*:\s*(\d{1,15})/g;
var NAME = /^[A-Za-z0-9][A-Za-z0-9._:\/@+-]{0,199}$/;

function scan(r, data, flags) {
    r.sendBuffer(data, flags);
    var text = carry + data.toString();
    var m;
    COUNTS.lastIndex = 0;
    while ((m = COUNTS.exec(text)) !== null) {
        if (m[1] === 'prompt_eval_count' || m[1] === 'prompt_tokens') {
            prompt = m[2];
        } else {
            completion = m[2];
        }
    }
    carry = text.length > 256 ? text.slice(-256) : text;
}

function model(r) {
    var body;
    try {
        var text = r.requestText;
        if (!text) {
            return '';
        }
        body = JSON.parse(text);
    } catch (e) {
        return '';
    }
    if (typeof body !== 'object' || body === null) {
        return '';
    }
    var name = typeof body.model === 'string' && body.model ? body.model : body.name;
    if (typeof name !== 'string' || !name) {
        return '';
    }
    if (!NAME.test(name)) {
        return 'invalid';
    }
    if (r.status === 404 || r.status === 400) {
        return 'unknown';
    }
    var last = name.slice(name.lastIndexOf('/') + 1);
    if (last.indexOf(':') < 0 && last.indexOf('@') < 0) {
        name = name + ':latest';
    }
    return name;
}

function prompt_tokens(r) {
    return prompt;
}

function completion_tokens(r) {
    return completion;
}

export default {scan, model, prompt_tokens, completion_tokens};
"""


def render_njs() -> str:
    """The njs script of a binding (the same text for every binding)."""
    return NJS_SCRIPT


def njs_loaded(dump: Optional[str], version_text: Optional[str] = None) -> bool:
    """Whether nginx has njs: a ``load_module`` of ngx_http_js_module in its configuration (``nginx -T``),
    or njs built in (``nginx -V`` names it)."""
    if dump and _LOAD_MODULE_RE.search(dump):
        return True
    return bool(version_text) and ("njs" in version_text or NJS_MODULE in version_text)
