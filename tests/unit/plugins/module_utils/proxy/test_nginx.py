# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the nginx helpers: validation of hostile input, rendering, parsing, conflicts, transactions."""

from __future__ import annotations

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    ConfigError,
    Nginx,
    build_binding,
    file_slug,
    find_conflicts,
    is_managed,
    nginx_message,
    normalize_domain,
    parse,
    parse_listen,
    render_config,
    render_keys,
    render_sidecar,
    server_entries,
    split_dump,
    validate_allow,
    validate_api_keys,
    validate_path,
    validate_upstream,
    validate_upstreams,
)

KEY = "k3y-0123456789abcdef.ABC+/~_="


def base(**extra):
    params = {"domain": "ollama.example.com", "allow": ["10.0.0.0/8"], "config_dir": "/etc/nginx/conf.d"}
    params.update(extra)
    return params


# ---------------------------------------------------------------------------- domains
@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ollama.example.com", "ollama.example.com"),
        ("Ollama.Example.COM", "ollama.example.com"),
        ("ollama.example.com.", "ollama.example.com"),
        ("*.example.com", "*.example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.example", "xn--bcher-kva.example"),
        ("a" * 63 + ".com", "a" * 63 + ".com"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("localhost", "localhost"),
        ("a-b.c-d.e1", "a-b.c-d.e1"),
    ],
)
def test_domain_accepted(value: str, expected: str) -> None:
    assert normalize_domain(value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "is empty"),
        ("ollama.example.com\nserver_name evil", "white space or a control character"),
        ("ollama.example.com;", "contains ';'"),
        ("ollama{.example.com", "contains '{'"),
        ("ollama}.example.com", "contains '}'"),
        ("$host.example.com", "contains '$'"),
        ('ollama"example.com', "contains '\"'"),
        ("ollama'.example.com", 'contains "\'"'),
        ("ollama example.com", "white space"),
        ("-ollama.example.com", "must not start or end with a hyphen"),
        ("ollama-.example.com", "must not start or end with a hyphen"),
        ("a" * 64 + ".com", "label of 64 characters"),
        ("a..b", "empty label"),
        (".example.com", "empty label"),
        ("*.*.example.com", "misplaced wildcard"),
        ("www.*.example.com", "misplaced wildcard"),
        ("ex*ample.com", "misplaced wildcard"),
        ("10.0.0.1", "looks like an IP address"),
        ("under_score.example.com", "contains '_'"),
        (".".join(["abcdefghij"] * 23) + ".com", "at most 253"),
        ("xn--zz.example", "not a valid internationalized domain name"),
        ("ollama.example.com/path", "contains '/'"),
        ("ollama.example.com:443", "contains ':'"),
    ],
)
def test_domain_refused(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        normalize_domain(value)
    assert fragment in str(info.value)
    assert str(info.value).startswith("domain")


def test_file_slug_of_a_wildcard_cannot_collide() -> None:
    assert file_slug("*.example.com") == "_wildcard.example.com"
    assert file_slug("example.com") == "example.com"


# ---------------------------------------------------------------------------- upstreams
@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("HTTP://Ollama.Internal:11434", "http://ollama.internal:11434"),
        ("https://ollama.internal", "https://ollama.internal:443"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("http://[0:0:0:0:0:0:0:1]:11434", "http://[::1]:11434"),
        ("http://localhost:11434", "http://localhost:11434"),
    ],
)
def test_upstream_accepted(value: str, url: str) -> None:
    assert validate_upstream(value).url == url


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("127.0.0.1:11434", "has no scheme"),
        ("ftp://127.0.0.1:11434", "only http and https"),
        ("http://user:pw@127.0.0.1:11434", "must not carry credentials"),
        ("http://127.0.0.1:11434/api", "has a path"),
        ("http://127.0.0.1:11434?x=1", "query or fragment"),
        ("http://127.0.0.1:11434#x", "query or fragment"),
        ("http://127.0.0.1:99999", "out of range"),
        ("http://127.0.0.1:0", "out of range"),
        ("http://127.0.0.1:", "empty port"),
        ("http://127.0.0.1:11434;", "not a port number"),
        ("http://127.0.0.1;proxy_pass", "has a host with ';'"),
        ("http://127.0.0.1:11434\n", "white space"),
        ("http://ho$t:11434", "has a host with '$'"),
        ("http://[::1:11434", "unclosed"),
        ("http://[zz::1]:11434", "invalid IPv6"),
        ("http://999.0.0.1:11434", "invalid IPv4"),
        ("http://-bad.example:11434", "invalid host"),
        ("http://:11434", "has no host"),
    ],
)
def test_upstream_refused(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_upstream(value)
    assert fragment in str(info.value)
    assert "pw" not in str(info.value)


def test_upstreams_group_dedupes_and_refuses_mixed_schemes() -> None:
    group = validate_upstreams(None, ["http://10.0.0.1:11434", "http://10.0.0.1:11434/", "http://10.0.0.2:11434"])
    assert [u.url for u in group] == ["http://10.0.0.1:11434", "http://10.0.0.2:11434"]
    with pytest.raises(ConfigError, match="mix http and https"):
        validate_upstreams(None, ["http://10.0.0.1:11434", "https://10.0.0.2"])
    with pytest.raises(ConfigError, match="upstreams is empty"):
        validate_upstreams(None, [])


def test_upstream_defaults_to_api_url_then_to_the_local_ollama() -> None:
    assert validate_upstreams(None, None, "http://10.1.1.1:11434")[0].url == "http://10.1.1.1:11434"
    assert validate_upstreams(None, None)[0].url == "http://127.0.0.1:11434"
    assert validate_upstreams("http://10.2.2.2:1", None, "http://10.1.1.1:11434")[0].url == "http://10.2.2.2:1"
    with pytest.raises(ConfigError, match=r"^api_url"):
        validate_upstreams(None, None, "http://10.1.1.1:11434/prefix")


def test_upstream_pointing_at_the_binding_itself_is_refused() -> None:
    with pytest.raises(ConfigError, match="forward to itself"):
        build_binding(base(upstream="https://ollama.example.com"))


# ---------------------------------------------------------------------------- allow, keys, paths
def test_allow_normalises_and_dedupes() -> None:
    assert validate_allow(["10.0.0.0/8", "192.168.1.7", "192.168.1.7/32", "2001:DB8::/32", "::1"], False) == [
        "10.0.0.0/8",
        "192.168.1.7",
        "2001:db8::/32",
        "::1",
    ]


@pytest.mark.parametrize(
    ("values", "public", "fragment"),
    [
        ([], False, "allow is empty"),
        (["10.0.0.1/8"], False, "host bits set: did you mean 10.0.0.0/8"),
        (["10.0.0.0/33"], False, "not an IP address or CIDR"),
        (["10.0.0.0/8; allow all"], False, "white space"),
        (["10.0.0.0/8;"], False, "not an IP address or CIDR"),
        (["all"], False, "not an IP address or CIDR"),
        (["0.0.0.0/0"], False, "set public: true instead"),
        (["::/0"], False, "set public: true instead"),
        (["10.0.0.0/8"], True, "set one or the other"),
    ],
)
def test_allow_refused(values: list, public: bool, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_allow(values, public)
    assert fragment in str(info.value)


def test_public_without_allow_is_accepted() -> None:
    assert validate_allow([], True) == []


@pytest.mark.parametrize("bad", ["", "has space", 'quo"te', "semi;colon", "brace{", "dollar$", "new\nline", "=leading", "mid=dle", "x" * 513, "ü-unicode"])
def test_api_key_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_api_keys(["good-key-0123456789", bad])
    assert "api_keys[1]" in str(info.value)
    if bad:
        assert bad not in str(info.value)


def test_api_keys_short_one_warns_and_duplicates_go() -> None:
    keys, warnings = validate_api_keys([KEY, "short", KEY])
    assert keys == [KEY, "short"]
    assert len(warnings) == 1
    assert "api_keys[1] is only 5 characters" in warnings[0]
    assert "short" not in warnings[0].replace("api_keys[1] is only 5 characters", "")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("relative/path", "not an absolute path"),
        ("/etc/ssl/a b.pem", "white space"),
        ("/etc/ssl/a;b.pem", "contains ';'"),
        ("/etc/ssl/$x.pem", "contains '$'"),
        ("/etc/ssl/{x}.pem", "contains '{' '}'"),
        ('/etc/ssl/"x".pem', "contains '\"'"),
        ("/etc/ssl/../shadow", "a . or .. segment"),
    ],
)
def test_path_refused(value: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        validate_path(value, "certificate")
    assert fragment in str(info.value)


def test_path_normalised() -> None:
    assert validate_path("/etc//ssl/x.pem/", "certificate") == "/etc/ssl/x.pem"


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        ({"http_port": 0}, "http_port 0 is out of range"),
        ({"https_port": 70000}, "https_port 70000 is out of range"),
        ({"tls": "selfsigned", "http_port": 8080, "https_port": 8080}, "both 8080"),
        ({"tls": "provided", "certificate": "/x.pem"}, "needs both certificate and private_key"),
        ({"certificate": "/x.pem"}, "only used with tls"),
        ({"tls_protocols": ["SSLv3"]}, "tls_protocols[0] 'SSLv3'"),
        ({"listen_address": "0.0.0.0;"}, "not an IP address"),
        ({"rate_limit": 0}, "rate_limit 0 is out of range"),
        ({"read_timeout": 0}, "read_timeout 0"),
        ({"aliases": ["ok.example.com", "bad;alias"]}, "aliases[1]"),
        ({"acme_webroot": "/var/www/a b"}, "acme_webroot"),
    ],
)
def test_binding_refused(extra: dict, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        build_binding(base(**extra))
    assert fragment in str(info.value)


# ---------------------------------------------------------------------------- rendering
def test_render_plain_http_with_allowlist() -> None:
    binding, warnings = build_binding(base(listen_address="127.0.0.1", http_port=8080))
    assert warnings == []
    text = render_config(binding)
    assert is_managed(text.encode())
    assert "    listen 127.0.0.1:8080;" in text
    assert "    server_name ollama.example.com;" in text
    assert "        allow 10.0.0.0/8;\n        deny all;" in text
    for directive in (
        "proxy_http_version 1.1;",
        'proxy_set_header Connection "";',
        "proxy_set_header Host localhost:11434;",
        "proxy_buffering off;",
        "proxy_cache off;",
        "proxy_request_buffering off;",
        "proxy_read_timeout 600s;",
        "proxy_send_timeout 600s;",
        "client_max_body_size 0;",
    ):
        assert directive in text
    assert "ssl" not in text
    assert "auth_request" not in text
    assert render_keys(binding) is None
    # It parses back, and the parser sees what nginx will.
    assert server_entries(text) == [(["ollama.example.com"], [("127.0.0.1", 8080)], 10)]


def test_render_tls_keys_rate_limit_hsts() -> None:
    binding, _unused = build_binding(
        base(
            tls="provided",
            certificate="/etc/ssl/o.pem",
            private_key="/etc/ssl/o.key",
            aliases=["llm.example.com"],
            api_keys=[KEY],
            rate_limit=5,
            hsts=True,
            https_port=8443,
            upstreams=["http://10.0.0.1:11434", "http://10.0.0.2:11434"],
        )
    )
    text = render_config(binding)
    keys = render_keys(binding)
    assert KEY not in text
    assert keys is not None and KEY.replace(".", "\\.").replace("+", "\\+") in keys
    assert "include /etc/nginx/conf.d/ollama.example.com.keys;" in text
    assert "return 301 https://$host:8443$request_uri;" in text
    assert "    listen 8443 ssl;" in text
    assert "ssl_certificate /etc/ssl/o.pem;" in text
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in text
    assert "server 10.0.0.1:11434 max_fails=3 fail_timeout=30s;" in text
    assert "least_conn;" in text
    assert "limit_req zone=%s burst=5 nodelay;" % binding.ident in text
    assert "rate=5r/s;" in text
    assert 'add_header Strict-Transport-Security "max-age=31536000" always;' in text
    assert 'proxy_set_header Authorization "";' in text
    assert "WWW-Authenticate 'Bearer realm=\"ollama\"'" in text
    assert "location ^~ /.well-known/acme-challenge/" in text
    assert parse(keys)[0].name == "map"
    sidecar = render_sidecar(binding, text, keys, generated=False)
    assert KEY not in sidecar
    assert '"key_count": 1' in sidecar


def test_redirect_off_serves_http_too() -> None:
    binding, _unused = build_binding(base(tls="selfsigned", redirect_http=False))
    binding.certificate, binding.private_key = "/c.pem", "/k.pem"
    text = render_config(binding)
    assert "return 301" not in text
    # Both servers proxy (location /), and both answer /healthz through the upstream group.
    assert text.count("proxy_pass http://%s;" % binding.ident) == 2
    assert text.count("proxy_pass http://%s/api/version;" % binding.ident) == 2
    assert text.count("proxy_pass http://") == 4


def test_public_without_keys_warns() -> None:
    _unused, warnings = build_binding(base(allow=[], public=True))
    assert any("unauthenticated" in w for w in warnings)


def test_wildcard_binding_files_and_ids() -> None:
    binding, _unused = build_binding(base(domain="*.example.com"))
    assert binding.config_file == "/etc/nginx/conf.d/_wildcard.example.com.conf"
    assert binding.ident.startswith("llmops_ollama_")
    assert "server_name *.example.com;" in render_config(binding)


# ---------------------------------------------------------------------------- parsing and conflicts
OTHER = """
# hand-written
http {
    server {
        listen 80;
        listen [::]:80;
        server_name ollama.example.com www.example.com;
        location / { return 200 "a;b{c}"; }
    }
}
server {
    server_name  "quoted.example.com";   # no listen: *:80
    set $x "${host}x";
}
upstream u { server 10.0.0.1:11434; }
"""


def test_parse_server_entries() -> None:
    entries = server_entries(OTHER)
    assert entries[0][0] == ["ollama.example.com", "www.example.com"]
    assert entries[0][1] == [("*", 80), ("*", 80)]
    assert entries[1][0] == ["quoted.example.com"]
    assert entries[1][1] == [("*", 80)]
    assert len(entries) == 2


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["80"], ("*", 80)),
        (["127.0.0.1:8080", "ssl"], ("127.0.0.1", 8080)),
        (["[::1]:443", "ssl"], ("[::1]", 443)),
        (["[::]:443"], ("*", 443)),
        (["*:81"], ("*", 81)),
        (["0.0.0.0:82"], ("*", 82)),
        (["example.com"], ("example.com", 80)),
        (["unix:/run/x.sock"], None),
    ],
)
def test_parse_listen(args: list, expected: tuple | None) -> None:
    assert parse_listen(args) == expected


def test_conflicts_name_file_and_line() -> None:
    binding, _unused = build_binding(base(listen_address="127.0.0.1"))
    conflicts, warnings = find_conflicts(binding, {"/etc/nginx/sites-enabled/default": OTHER, "/mine.conf": OTHER}, skip=["/mine.conf"])
    assert conflicts == ["/etc/nginx/sites-enabled/default (line 4) already serves ollama.example.com on port 80"]
    assert warnings == []
    other_port, _unused = build_binding(base(http_port=8080))
    assert find_conflicts(other_port, {"/x.conf": OTHER}) == ([], [])
    other_address, _unused = build_binding(base(listen_address="127.0.0.1", http_port=8080))
    specific = "server { listen 127.0.0.2:8080; server_name ollama.example.com; }"
    assert find_conflicts(other_address, {"/x.conf": specific}) == ([], [])


def test_listen_on_every_address_overlaps_a_specific_one() -> None:
    binding, _unused = build_binding(base(listen_address="::"))
    assert binding.listens() == [("*", 80)]
    assert "    listen [::]:80;" in render_config(binding)
    specific = "server { listen [::1]:80; server_name ollama.example.com; }"
    assert find_conflicts(binding, {"/x.conf": specific})[0] == ["/x.conf (line 1) already serves ollama.example.com on port 80"]


def test_unparseable_file_is_a_warning() -> None:
    binding, _unused = build_binding(base())
    conflicts, warnings = find_conflicts(binding, {"/broken.conf": "server { listen 80;"})
    assert conflicts == []
    assert "could not read /broken.conf" in warnings[0]


def test_split_dump() -> None:
    dump = "# configuration file /etc/nginx/nginx.conf:\nhttp {}\n\n# configuration file /etc/nginx/conf.d/a.conf:\nserver {}\n"
    assert split_dump(dump) == {"/etc/nginx/nginx.conf": "http {}\n\n", "/etc/nginx/conf.d/a.conf": "server {}\n"}


def test_nginx_message_keeps_the_important_lines() -> None:
    err = 'nginx: [emerg] cannot load certificate "/x": BIO_new_file() failed\nnginx: configuration file /c test failed\n'
    assert nginx_message("", err) == 'nginx: [emerg] cannot load certificate "/x": BIO_new_file() failed'
    assert nginx_message("", "something else\n") == "something else"


def test_nginx_commands() -> None:
    calls = []

    def runner(argv):
        calls.append(argv)
        return 0, "", ""

    nginx = Nginx(runner, binary="/usr/sbin/nginx", conf="/t/nginx.conf", prefix="/t")
    assert nginx.test() == (True, "")
    nginx.reload()
    Nginx(runner, reload_command=["systemctl", "reload", "nginx"]).reload()
    assert calls == [
        ["/usr/sbin/nginx", "-p", "/t", "-c", "/t/nginx.conf", "-t"],
        ["/usr/sbin/nginx", "-p", "/t", "-c", "/t/nginx.conf", "-s", "reload"],
        ["systemctl", "reload", "nginx"],
    ]


def test_nginx_message_drops_the_log_prefix() -> None:
    err = '2026/11/22 03:41:53 [emerg] 13599#13599: invalid burst value "burst=0" in /x.conf:25\n'
    assert nginx_message("", err) == 'nginx: [emerg] invalid burst value "burst=0" in /x.conf:25'


def test_rate_limit_without_burst() -> None:
    binding, _unused = build_binding(base(rate_limit=2, rate_limit_burst=0))
    assert "        limit_req zone=%s;\n" % binding.ident in render_config(binding)
