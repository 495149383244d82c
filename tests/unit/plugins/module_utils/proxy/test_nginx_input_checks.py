# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The proxy audit's findings: IPv6 zone indexes, trailing newlines, the renderer's own check, IDNA 2008, https SNI, directories."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy import nginx as _nginx
from ansible_collections.llmops.ollama.plugins.module_utils.proxy import paths
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain import DomainError, DomainManager, list_bindings
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    ConfigError,
    Upstream,
    build_binding,
    normalize_domain,
    render_config,
    render_keys,
    validate_allow,
    validate_api_keys,
    validate_listen_address,
    validate_path,
    validate_port,
    validate_upstreams,
)
from tests.unit.plugins.module_utils.proxy.test_domain import FakeNginx, params, snapshot
from tests.unit.plugins.module_utils.proxy.test_nginx import base

KEY = "hardening-key-0123456789abcdef"
INJECTION = ";}{$\"'"


# ---------------------------------------------------------------------------- 1. IPv6 zone indexes
@pytest.mark.parametrize(
    "value",
    ["fe80::1%e0" + INJECTION, "[fe80::1%e0" + INJECTION + "]:80", "fe80::1%eth0", "[fe80::1%eth0]", "fe80::1%x;internal;", "::1%"],
)
def test_listen_address_with_a_zone_index_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_listen_address(value)
    message = str(info.value)
    assert message.startswith("listen_address ")
    assert "IPv6 zone index" in message
    assert "without it, for example fe80::1" in message
    with pytest.raises(ConfigError, match="zone index"):
        build_binding(base(listen_address=value))


@pytest.mark.parametrize("value", ["fe80::1%x;internal;", "fe80::1%eth0", "fe80::%eth0/64", "fe80::1%e0" + INJECTION])
def test_allow_with_a_zone_index_is_refused(value: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_allow(["10.0.0.0/8", value], False)
    assert str(info.value).startswith("allow[1] ")
    assert "IPv6 zone index" in str(info.value)


def test_plain_ipv6_still_accepted() -> None:
    assert validate_listen_address("fe80::1") == "[fe80::1]"
    assert validate_listen_address("[::]") == "[::]"
    assert validate_allow(["fe80::/10", "::1"], False) == ["fe80::/10", "::1"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("listen_address", "[fe80::1%e0;}{$\"']"),
        ("listen_address", "127.0.0.1 default_server"),
        ("allow", ["fe80::1%x;internal;"]),
        ("allow", ["10.0.0.0/8;"]),
        ("aliases", ["ok.example.com;"]),
        ("certificate", "/etc/ssl/a;b.pem"),
        ("acme_webroot", "/var/www/$x"),
    ],
)
def test_the_renderer_refuses_what_validation_let_through(field: str, value) -> None:
    """A second line of defence: a Binding changed behind the validators' back is not rendered."""
    binding, _unused = build_binding(base(tls="provided", certificate="/etc/ssl/o.pem", private_key="/etc/ssl/o.key"))
    setattr(binding, field, value)
    with pytest.raises(ConfigError, match="refusing to write"):
        render_config(binding)


def test_the_renderer_refuses_a_bad_upstream_or_key() -> None:
    binding, _unused = build_binding(base(api_keys=[KEY]))
    binding.upstreams = [Upstream("http", "127.0.0.1;return", 11434)]
    with pytest.raises(ConfigError, match="refusing to write the upstream host"):
        render_config(binding)
    binding.upstreams = [Upstream("http", "127.0.0.1", 0)]
    with pytest.raises(ConfigError, match="refusing to write the upstream port"):
        render_config(binding)
    binding.api_keys = [KEY + '";']
    with pytest.raises(ConfigError) as info:
        render_keys(binding)
    assert KEY not in str(info.value)


# ---------------------------------------------------------------------------- 2. "$" matches before a trailing newline
@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_api_key_with_a_trailing_newline_is_refused_with_a_reason(ending: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_api_keys(["good-key-0123456789", KEY + ending])
    message = str(info.value)
    assert message.startswith("api_keys[1] ends with a newline")
    assert "|-" in message and "trim" in message
    assert KEY not in message


def test_api_key_newline_elsewhere_is_not_a_bearer_token() -> None:
    with pytest.raises(ConfigError, match=r"api_keys\[0\] is not an RFC 6750 bearer token"):
        validate_api_keys([KEY + "\n}"])


@pytest.mark.parametrize("value", ["80\n", "443\n", "8080\r\n"])
def test_port_with_a_trailing_newline_is_refused(value: str) -> None:
    with pytest.raises(ConfigError, match="is not a port number"):
        validate_port(value, "http_port")


def test_validating_patterns_do_not_accept_a_trailing_newline() -> None:
    for pattern, good in (
        (_nginx._LABEL_RE, "ollama"),
        (_nginx._B64TOKEN_RE, KEY),
        (paths.PATH_CHARS_RE, "/etc/nginx"),
        (_nginx._IPV4_LIKE_RE, "127.0.0.1"),
        (_nginx._PORT_RE, "80"),
    ):
        assert pattern.fullmatch(good)
        assert not pattern.fullmatch(good + "\n")
        # Each is used with fullmatch; a plain match of a "^...$" pattern would have accepted the newline.
        assert not pattern.pattern.endswith("$")


def test_path_with_a_trailing_newline_is_refused() -> None:
    with pytest.raises(ConfigError, match="white space or a control character"):
        validate_path("/etc/nginx/conf.d\n", "config_dir")


# ---------------------------------------------------------------------------- 6. IDNA 2008, with and without the idna package
@pytest.fixture
def without_idna(monkeypatch: pytest.MonkeyPatch) -> None:
    """The managed node has only the standard library: Python's IDNA 2003 codec."""
    monkeypatch.setattr(_nginx, "_idna_2008", None)


@pytest.fixture
def with_idna(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nginx, "_idna_2008", pytest.importorskip("idna"))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("faß.de", "xn--fa-hia.de"),
        ("FAẞ.de", "xn--fa-hia.de"),
        ("βόλος.gr", "xn--nxasmm1c.gr"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("xn--fa-hia.de", "xn--fa-hia.de"),
    ],
)
def test_idn_follows_idna_2008_with_the_idna_package(with_idna, value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(("value", "fragment"), [("a\u200db.com", "U+200D"), ("a\u200cb.com", "U+200C"), ("xn--zz.example", "not a valid")])
def test_idna_2008_refusals_with_the_idna_package(with_idna, value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_domain(value)
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("faß.de", "sharp s"),
        ("FAẞ.de", "sharp s"),
        ("ς.gr", "final sigma"),
        ("a\u200db.com", "U+200D (zero width joiner)"),
        ("a\u200cb.com", "U+200C (zero width non-joiner)"),
    ],
)
def test_idna_deviations_refused_without_the_idna_package(without_idna, value: str, what: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_domain(value)
    message = str(info.value)
    assert what in message
    assert "IDNA 2003" in message and "IDNA 2008" in message
    assert "punycode form (xn--...)" in message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        # The advice of the refusal works: the IDNA 2008 punycode is accepted (Python's idna codec refuses to decode it).
        ("xn--fa-hia.de", "xn--fa-hia.de"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
    ],
)
def test_idn_without_the_idna_package(without_idna, value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize("value", ["xn--zz.example", "xn--.example", "xn--abc.example", "xn--a-.example"])
def test_bad_punycode_refused_without_the_idna_package(without_idna, value: str) -> None:
    with pytest.raises(ConfigError, match=r"not a valid internationalized domain name|must not start or end"):
        normalize_domain(value)


def test_idn_mapping_to_a_forbidden_character_is_refused_either_way(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_nginx, "_idna_2008", None)
    with pytest.raises(ConfigError, match="becomes 'ok;'"):
        normalize_domain("ok\uff1b.example")  # a fullwidth semicolon: IDNA 2003 maps it to ';'
    try:
        import idna
    except ImportError:
        return
    monkeypatch.setattr(_nginx, "_idna_2008", idna)
    with pytest.raises(ConfigError, match="IDNA 2008"):
        normalize_domain("ok\uff1b.example")


# ---------------------------------------------------------------------------- 7. https upstreams: the TLS server name
def test_https_upstream_sends_its_host_as_server_name() -> None:
    binding, _unused = build_binding(base(upstream="https://ollama.internal:8443"))
    text = render_config(binding)
    assert "        proxy_pass https://%s;\n" % binding.ident in text
    assert "        proxy_ssl_server_name on;\n        proxy_ssl_name ollama.internal;\n" in text


def test_https_upstreams_on_one_host_share_the_server_name() -> None:
    binding, _unused = build_binding(base(upstreams=["https://ollama.internal:8443", "https://ollama.internal:9443"]))
    text = render_config(binding)
    # Once in location / and once in /healthz, which proxies through the same upstream group.
    assert text.count("proxy_ssl_name ollama.internal;") == 2
    assert text.count("proxy_ssl_name ollama.internal;") == text.count("proxy_pass https://")


def test_https_upstreams_by_address_send_no_server_name() -> None:
    binding, _unused = build_binding(base(upstreams=["https://10.0.0.1:8443", "https://[2001:db8::1]:8443"]))
    text = render_config(binding)
    assert "proxy_ssl_server_name on;" in text
    assert "proxy_ssl_name" not in text


def test_plain_http_upstream_has_no_ssl_directives() -> None:
    binding, _unused = build_binding(base(upstream="http://ollama.internal:11434"))
    assert "proxy_ssl" not in render_config(binding)


@pytest.mark.parametrize(
    "upstreams",
    [["https://a.internal:8443", "https://b.internal:8443"], ["https://a.internal:8443", "https://10.0.0.1:8443"]],
)
def test_https_upstreams_with_different_host_names_are_refused(upstreams: list) -> None:
    with pytest.raises(ConfigError) as info:
        validate_upstreams(None, upstreams)
    assert "upstreams use https with different hosts" in str(info.value)
    assert "TLS server name (SNI)" in str(info.value)
    # http needs no server name: the same hosts are fine there.
    validate_upstreams(None, [u.replace("https", "http") for u in upstreams])


@pytest.mark.parametrize("failure", ["nginx -t", "reload"])
def test_failed_selfsigned_apply_leaves_no_tls_directory(tmp_path: Path, failure: str) -> None:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    before = snapshot(tmp_path)
    nginx = FakeNginx()
    if failure == "reload":
        nginx.reload_rc = 1
    else:
        nginx.test_results = [(1, "nginx: [emerg] scripted failure"), (0, "")]
    args = params(conf_d, tls="selfsigned", tls_dir=str(tmp_path / "tls" / "nested"))
    with pytest.raises(DomainError):
        DomainManager(args, nginx).run()
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "tls").exists()


# ---------------------------------------------------------------------------- 5. the sidecar holds a checksum of the keys: 0600
def test_sidecar_is_private_and_drift_still_works(tmp_path: Path) -> None:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    nginx = FakeNginx()
    result = DomainManager(params(conf_d, api_keys=[KEY]), nginx).run()
    sidecar = conf_d / "ollama.test.json"
    assert oct(sidecar.stat().st_mode & 0o777) == "0o600"
    assert json.loads(sidecar.read_text())["files"]["keys"]["sha256"]
    assert KEY not in sidecar.read_text()
    assert result["binding"]["auth"] == {"mode": "bearer", "key_count": 1}
    assert list_bindings(str(conf_d))[0]["drift"] is False
    with open(conf_d / "ollama.test.keys", "a") as handle:
        handle.write("# edited\n")
    assert list_bindings(str(conf_d))[0]["drift_reasons"] == ["%s was edited by hand" % (conf_d / "ollama.test.keys")]


def test_a_sidecar_written_0644_before_is_tightened(tmp_path: Path) -> None:
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    nginx = FakeNginx()
    DomainManager(params(conf_d), nginx).run()
    os.chmod(conf_d / "ollama.test.json", 0o644)
    again = DomainManager(params(conf_d), nginx).run()
    assert again["changed"] is True
    assert oct((conf_d / "ollama.test.json").stat().st_mode & 0o777) == "0o600"
    assert DomainManager(params(conf_d), nginx).run()["changed"] is False
