# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How the proxy spreads requests over a host's instances: least_conn, or model affinity with njs."""

from __future__ import annotations

import json

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.balance import MODEL_JS, body_lines, njs_missing, upstream_block
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import ConfigError, build_binding, render_config, render_sidecar

UPSTREAMS = ["http://127.0.0.1:%d" % port for port in range(11434, 11438)]


def binding(**params):
    params.setdefault("domain", "gpus.example.com")
    params.setdefault("upstreams", UPSTREAMS)
    params.setdefault("allow", ["10.0.0.0/8"])
    params.setdefault("config_dir", "/etc/nginx/conf.d")
    return build_binding(params)[0]


def test_least_conn_is_the_default_with_passive_health_and_keepalive() -> None:
    b = binding()
    assert b.balance == "least_conn"
    text = render_config(b)
    assert "    least_conn;\n" in text and "js_" not in text and "hash " not in text
    assert text.count(" max_fails=3 fail_timeout=30s;") == 4 and "    keepalive 16;\n" in text
    assert "proxy_request_buffering off;" in text, "streams request bodies through"


def test_model_hashes_on_the_njs_variable_and_reads_the_body_first() -> None:
    b = binding(balance="model")
    text = render_config(b)
    ident = b.ident
    # its own import and variable, apart from the access log's njs script (<ident>, $<ident>_model)
    assert "js_import %s_balance from /etc/nginx/conf.d/gpus.example.com.balance.js;\n" % ident in text
    assert "js_set $%s_balance_model %s_balance.model;\n" % (ident, ident) in text
    assert text.index("js_set") < text.index("upstream %s {" % ident), "the variable is declared before the group uses it"
    assert "    hash $%s_balance_model consistent;\n" % ident in text and "least_conn" not in text
    assert "proxy_request_buffering on;" in text and "client_body_buffer_size 16m;" in text and "proxy_request_buffering off;" not in text
    assert b.js_file == "/etc/nginx/conf.d/gpus.example.com.balance.js"
    assert json.loads(render_sidecar(b, text, None, False))["balance"] == "model"


def test_upstream_block_and_body_lines() -> None:
    assert upstream_block("x", ["127.0.0.1:1"], "least_conn", "/j.js") == [
        "upstream x {",
        "    least_conn;",
        "    server 127.0.0.1:1 max_fails=3 fail_timeout=30s;",
        "    keepalive 16;",
        "}",
        "",
    ]
    assert upstream_block("x", ["127.0.0.1:1"], "model", "/j.js")[:2] == ["js_import x_balance from /j.js;", "js_set $x_balance_model x_balance.model;"]
    assert body_lines("least_conn") == ["        proxy_request_buffering off;"]


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"balance": "round_robin"}, "balance 'round_robin' is not one of least_conn, model"),
        ({"balance": "model", "mirror_path": "/srv/mirror", "upstreams": None}, "a mirror binding (mirror_path) has none"),
    ],
)
def test_bad_balance_is_refused(params: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        binding(**params)
    assert fragment in str(caught.value)


def test_njs_missing_is_recognised_in_nginx_words() -> None:
    assert njs_missing('nginx: [emerg] unknown directive "js_import" in /etc/nginx/conf.d/x.conf:5')
    assert njs_missing('[emerg] unknown directive "js_set" in x.conf:6')
    assert not njs_missing('[emerg] unknown directive "proxy_passs" in x.conf:9')


def test_the_njs_module_normalises_the_model_name() -> None:
    # the rules the JavaScript applies, spelled out: lower case, :latest when the last path part has no tag
    assert "name.toLowerCase()" in MODEL_JS
    assert "name.indexOf(':', name.lastIndexOf('/') + 1) < 0" in MODEL_JS and "name += ':latest'" in MODEL_JS
    assert MODEL_JS.rstrip().endswith("export default {model};")
