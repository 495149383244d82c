# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The JSON access log as rendered: named keys, the log format, njs detection, /healthz, the configuration's identity,
and every response header that is built from request data."""

from __future__ import annotations

import hashlib
import re

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.access_log import FIELDS, njs_loaded
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    ConfigError,
    build_binding,
    derived_key_name,
    parse,
    render_config,
    render_keys,
    validate_named_api_keys,
)

ALICE = "alice-key-0123456789abcdefghij"
BOB = "bob-key-0123456789abcdefghijkl"


def base(**extra):
    values = {"domain": "ollama.example.com", "allow": ["10.0.0.0/8"]}
    values.update(extra)
    return values


# ---------------------------------------------------------------------------- named keys
def test_named_and_plain_keys() -> None:
    keys, names, warnings = validate_named_api_keys([{"name": "alice", "key": ALICE}, BOB, "short"])
    assert keys == [ALICE, BOB, "short"]
    assert names == ["alice", "key-" + hashlib.sha256(BOB.encode()).hexdigest()[:8], derived_key_name("short")]
    assert len(warnings) == 1 and "short" not in warnings[0].replace(derived_key_name("short"), "")


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ([{"name": "a b", "key": ALICE}], "has the name 'a b'"),
        ([{"name": "-lead", "key": ALICE}], "has the name '-lead'"),
        ([{"name": "x" * 65, "key": ALICE}], "1 to 64 letters"),
        ([{"name": 'q"uote', "key": ALICE}], "has the name"),
        ([{"name": "a\nb", "key": ALICE}], "(not shown)"),
        ([{"name": "alice", "key": ALICE}, {"name": "ALICE", "key": BOB}], "used twice"),
        ([{"name": "alice", "key": ALICE}, {"name": "bob", "key": ALICE}], "same key as the one named alice"),
        ([{"name": "alice"}], "api_keys[0].key (name alice) is empty"),
        ([{"name": "alice", "key": ALICE, "value": 1}], "has the field(s) value"),
        ([{"name": "alice", "key": ALICE + '";'}], "not an RFC 6750 bearer token"),
        ([42], "is a int"),
        ([ALICE, {"name": derived_key_name(ALICE), "key": BOB}], "used twice"),
    ],
)
def test_bad_key_entries_are_refused_without_showing_the_key(entries, message) -> None:
    with pytest.raises(ConfigError) as info:
        validate_named_api_keys(entries)
    assert message in str(info.value)
    assert ALICE not in str(info.value) and BOB not in str(info.value)


def test_the_same_key_twice_under_one_name_is_kept_once() -> None:
    keys, names, _warnings = validate_named_api_keys([ALICE, ALICE, {"name": "bob", "key": BOB}, {"name": "bob", "key": BOB}])
    assert (keys, names) == ([ALICE, BOB], [derived_key_name(ALICE), "bob"])


def test_the_key_map_names_the_key() -> None:
    binding, _unused = build_binding(base(api_keys=[{"name": "alice", "key": ALICE}, BOB]))
    keys = render_keys(binding)
    assert keys is not None
    assert '"~^(?i:bearer) +%s$" alice;' % ALICE in keys
    assert '"~^(?i:bearer) +%s$" %s;' % (BOB, derived_key_name(BOB)) in keys
    assert '    default "-";' in keys
    text = render_config(binding)
    assert 'if ($%s_key = "-") {' % binding.ident in text
    assert ALICE not in text and BOB not in text
    binding.key_names = ["alice", "bad name"]
    with pytest.raises(ConfigError, match="refusing to write the key name"):
        render_keys(binding)


# ---------------------------------------------------------------------------- the log format
def _log_format(text: str) -> str:
    match = re.search(r"log_format \S+ escape=json '(\{.*\})';", text)
    assert match, text
    return match.group(1)


@pytest.mark.parametrize("njs", [True, False])
def test_the_log_format_has_the_fields_in_order_every_value_a_string(njs: bool) -> None:
    binding, _unused = build_binding(base(api_keys=[{"name": "alice", "key": ALICE}], access_log=True, njs=njs, access_log_dir="/var/log/x"))
    text = render_config(binding)
    fmt = _log_format(text)
    pairs = re.findall(r'"([a-z_]+)":"([^"]*)"', fmt)
    assert [name for name, _value in pairs] == list(FIELDS)
    assert fmt == "{" + ",".join('"%s":"%s"' % pair for pair in pairs) + "}"
    values = dict(pairs)
    assert values["domain"] == "ollama.example.com" and values["key"] == "$%s_key" % binding.ident
    assert values["ttfb"] == "$upstream_header_time" and values["status"] == "$status"
    assert (values["model"] != "") is njs and (values["prompt_tokens"] != "") is njs
    assert "access_log /var/log/x/llmops-ollama-ollama.example.com.access.log %s_json;" % binding.ident in text
    assert ("js_body_filter %s.scan buffer_type=buffer;" % binding.ident in text) is njs
    assert ("js_import %s from /etc/nginx/conf.d/ollama.example.com.js;" % binding.ident in text) is njs
    # The streaming location never buffers responses; only the model endpoints read their (small) request body whole.
    assert text.count("proxy_buffering off;") == text.count("proxy_pass http://%s;" % binding.ident) == (2 if njs else 1)
    assert text.count("proxy_request_buffering on;") == (1 if njs else 0)
    parse(text)


def test_without_keys_the_key_field_is_a_dash_and_without_access_log_nothing_is_logged() -> None:
    binding, _unused = build_binding(base(access_log=True))
    assert '"key":"-"' in _log_format(render_config(binding))
    quiet, _unused = build_binding(base())
    text = render_config(quiet)
    assert "log_format" not in text and "access_log" not in text and "js_" not in text


def test_unknown_paths_are_bucketed() -> None:
    binding, _unused = build_binding(base(access_log=True))
    text = render_config(binding)
    block = text[text.index("map $uri $%s_endpoint" % binding.ident) :]
    block = block[: block.index("}")]
    assert "    default other;" in block and "    /api/chat /api/chat;" in block and "    /v1/chat/completions /v1/chat/completions;" in block
    assert '"~^/api/blobs/" /api/blobs;' in block


# ---------------------------------------------------------------------------- njs detection
@pytest.mark.parametrize(
    ("dump", "version", "loaded"),
    [
        ("# configuration file /etc/nginx/modules-enabled/50-mod-http-js.conf:\nload_module modules/ngx_http_js_module.so;\n", None, True),
        ('load_module "/usr/lib/nginx/modules/ngx_http_js_module.so";\n', None, True),
        ("# load_module modules/ngx_http_js_module.so;\n", None, False),
        ("load_module modules/ngx_http_echo_module.so;\n", None, False),
        (None, "configure arguments: --add-module=../njs/nginx", True),
        (None, "configure arguments: --with-http_ssl_module", False),
        (None, None, False),
    ],
)
def test_njs_detection(dump, version, loaded) -> None:
    assert njs_loaded(dump, version) is loaded


# ---------------------------------------------------------------------------- /healthz and identity
def test_healthz_needs_no_key_and_shows_the_identity() -> None:
    binding, _unused = build_binding(base(api_keys=[ALICE]))
    text = render_config(binding)
    health = text[text.index("location = /healthz {") :]
    health = health[: health.index("    }")]
    assert "auth_request" not in health and "allow 10.0.0.0/8;" in health and "deny all;" in health
    assert "proxy_pass http://%s/api/version;" % binding.ident in health
    assert "add_header X-Llmops-Ollama-Config %s always;" % binding.identity in health
    assert re.fullmatch("[0-9a-f]{16}", binding.identity or "")
    assert "@LLMOPS" not in text


def test_the_identity_changes_with_the_configuration_and_the_key_names_only() -> None:
    def identity(**extra) -> str:
        binding, _unused = build_binding(base(**extra))
        render_config(binding)
        return binding.identity or ""

    first = identity(api_keys=[{"name": "alice", "key": ALICE}])
    assert identity(api_keys=[{"name": "alice", "key": ALICE}]) == first
    assert identity(api_keys=[{"name": "carol", "key": ALICE}]) != first
    assert identity(api_keys=[{"name": "alice", "key": ALICE}], rate_limit=5) != first
    assert identity(api_keys=[{"name": "alice", "key": ALICE}], access_log=True) != first


def test_the_forbidden_answer_names_the_allowlist_only_for_its_addresses() -> None:
    binding, _unused = build_binding(base())
    text = render_config(binding)
    forbidden = text[text.index("location @%s_forbidden {" % binding.ident) :]
    forbidden = forbidden[: forbidden.index("\n    }")]
    assert "if ($%s_allowed = 0) {" % binding.ident in forbidden
    assert forbidden.index("this address may not use") < forbidden.index("nginx may not read")
    assert "geo $%s_allowed {\n    default 0;\n    10.0.0.0/8 1;\n}" % binding.ident in text
    public, _unused = build_binding(base(allow=[], public=True, api_keys=[ALICE]))
    assert "this address may not use" not in render_config(public)


# ---------------------------------------------------------------------------- response headers from request data
# Variables that carry request data and that nginx does not decode (it refuses control characters in the raw
# request line and in Host): they may go into a response header. $uri (decoded) may only where the location's
# pattern allows no control character.
_RAW_VARIABLES = {"$host", "$request_uri"}


@pytest.mark.parametrize(
    "extra",
    [
        {},
        {"mirror_path": "/srv/mirror"},
        {"tls": "provided", "certificate": "/c.pem", "private_key": "/k.pem", "https_port": 8443, "hsts": True, "api_keys": [ALICE]},
        {"tls": "provided", "certificate": "/c.pem", "private_key": "/k.pem", "mirror_path": "/srv/mirror", "redirect_http": False},
        {"access_log": True, "njs": True, "api_keys": [ALICE], "rate_limit": 3, "default_server": True},
    ],
)
def test_no_response_header_is_built_from_decoded_request_data(extra) -> None:
    binding, _unused = build_binding(base(**extra))
    text = render_config(binding)
    found = 0
    stack: list[str] = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.endswith("{"):
            stack.append(stripped)
        elif stripped == "}":
            stack.pop()
        header = re.match(r"(?:add_header \S+|return 30[12378]) (.*);$", stripped)
        if not header:
            continue
        for variable in re.findall(r"\$[a-z_0-9]+", header.group(1)):
            found += 1
            if variable == "$uri":
                # Only inside the mirror's blob location, whose pattern admits letters, digits and . _ - / : only.
                assert stack[-1].startswith('location ~ "^/v2/[A-Za-z0-9._-]+'), stack
                assert "\\\\" not in stack[-1] and "." not in stack[-1].split("/blobs/")[1].replace("$", ""), stack
            else:
                assert variable in _RAW_VARIABLES, (variable, stripped)
    if extra.get("mirror_path") or extra.get("tls"):
        assert found > 0, "the mirror's Location and the redirect are audited"
