# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Table tests of issue 13's proxy classes: open allowlists (3), conflicts as nginx matches (4), provided
certificates (5) and credentials in URLs (7). The same classes run against a real nginx in
tests/integration/test_ollama_domain_refusals.py."""

from __future__ import annotations

import datetime
import socket

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    ConfigError,
    allow_coverage,
    build_binding,
    default_server_conflicts,
    find_conflicts,
    listen_addresses,
    name_matches,
    nginx_name_conflicts,
    parse_listen,
    render_config,
    validate_allow,
)
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.tls import provided_certificate_issues, san_covers
from tests.unit.plugins.module_utils.proxy.test_nginx import base


# ---------------------------------------------------------------------------- class 3
def _all_v4_as(prefix: int) -> list[str]:
    step = 1 << (32 - prefix)
    return ["%s/%d" % (socket.inet_ntoa((i * step).to_bytes(4, "big")), prefix) for i in range(1 << prefix)]


OPEN = [
    (["0.0.0.0/1", "128.0.0.0/1"], "IPv4"),
    (["128.0.0.0/1", "0.0.0.0/1"], "IPv4"),
    (_all_v4_as(2), "IPv4"),
    (_all_v4_as(3), "IPv4"),
    (_all_v4_as(8), "IPv4"),
    (list(reversed(_all_v4_as(4))), "IPv4"),
    (["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"], "IPv4"),
    (["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"], "IPv4"),
    (["10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1", "192.168.0.0/16"], "IPv4"),
    (["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/1", "10.1.2.3"], "IPv4"),
    (["::/1", "8000::/1"], "IPv6"),
    (["8000::/1", "::/1"], "IPv6"),
    (["::/2", "4000::/2", "8000::/2", "c000::/2"], "IPv6"),
    (["%x::/4" % (i << 12) for i in range(16)], "IPv6"),
    (["::/1", "8000::/2", "c000::/2", "2001:db8::/32"], "IPv6"),
    (["::ffff:0:0/96"], "IPv4"),
    (["::ffff:0.0.0.0/96"], "IPv4"),
    (["::ffff:0:0/97", "::ffff:128.0.0.0/97"], "IPv4"),
    (["0.0.0.0/1", "::ffff:128.0.0.0/97"], "IPv4"),
    (["::fffe:0:0/95"], "IPv4"),
    (["::/64"], "IPv4"),
    (["::/1"], "IPv4"),
    (["0.0.0.0/1", "128.0.0.0/1", "::/1", "8000::/1"], "IPv4"),
]


@pytest.mark.parametrize(("allow", "family"), OPEN)
def test_allowlists_that_cover_a_whole_family_are_refused(allow: list[str], family: str) -> None:
    assert family in allow_coverage(allow)
    with pytest.raises(ConfigError) as info:
        validate_allow(allow, public=False)
    assert "every %s address" % family in str(info.value)
    assert "public: true" in str(info.value)


@pytest.mark.parametrize("allow", [["0.0.0.0/0"], ["::/0"], ["10.0.0.0/8", "0.0.0.0/0"], ["0::0/0"]])
def test_literal_everything_is_refused_as_before(allow: list[str]) -> None:
    with pytest.raises(ConfigError, match="set public: true instead"):
        validate_allow(allow, public=False)


NARROW = [
    ["0.0.0.0/1"],
    ["128.0.0.0/1"],
    _all_v4_as(8)[:-1],
    _all_v4_as(4)[1:],
    ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8"],
    ["8000::/1"],
    ["4000::/2", "8000::/1"],
    ["::/96"],
    ["::ffff:0:0/97"],
    ["2001:db8::/32", "10.0.0.0/8", "fd00::/8"],
    ["127.0.0.1", "::1"],
    ["64:ff9b::/96"],
]


@pytest.mark.parametrize("allow", NARROW)
def test_allowlists_short_of_a_whole_family_pass(allow: list[str]) -> None:
    assert allow_coverage(allow) == []
    assert validate_allow(allow, public=False)


# ---------------------------------------------------------------------------- class 4: names
NAME_MATCHES = [
    ("ollama.example.com", "ollama.example.com", True),
    ("Ollama.Example.COM", "ollama.example.com", True),
    ("ollama.example.com.", "ollama.example.com", True),
    ("ollama.example.com", "ollama.example.com.", True),
    ("ollama.example.com", "www.ollama.example.com", False),
    ("ollama.example.com", "xollama.example.com", False),
    (".example.com", "example.com", True),
    (".example.com", "www.example.com", True),
    (".example.com", "a.b.example.com", True),
    (".example.com", "badexample.com", False),
    ("*.example.com", "www.example.com", True),
    ("*.example.com", "a.b.example.com", True),
    ("*.example.com", "example.com", False),
    ("*.example.com", "badexample.com", False),
    ("*.Example.com", "www.example.com", True),
    ("www.example.*", "www.example.com", True),
    ("www.example.*", "www.example.co.uk", True),
    ("www.example.*", "www.example", False),
    ("www.example.*", "www.examples.com", False),
    ("~^www\\d+\\.example\\.com$", "www12.example.com", True),
    ("~^www\\d+\\.example\\.com$", "www.example.com", False),
    ("~example", "ollama.example.com", True),
    ("~^(?<sub>[a-z]+)\\.example\\.com$", "api.example.com", True),
    ("~^(?P<sub>[a-z]+)\\.example\\.com$", "api.example.com", True),
    ("~^OLLAMA\\.example\\.com$", "ollama.example.com", True),
    ("~^ollama\\.example\\.com$", "OLLAMA.example.com", True),
    ("~(?<=x)y", "xy.example.com", True),
    ("~^[", "ollama.example.com", None),
]


@pytest.mark.parametrize(("pattern", "host", "expected"), NAME_MATCHES)
def test_server_name_patterns_match_as_nginx_does(pattern: str, host: str, expected: bool | None) -> None:
    assert name_matches(pattern, host) is expected


LISTENS = [
    (["80"], ("*", 80), None),
    (["*:8080"], ("*", 8080), None),
    (["0.0.0.0:8080"], ("*", 8080), None),
    (["[::]:8080"], ("*", 8080), None),
    (["[::]:8080", "ipv6only=off"], ("*", 8080), None),
    (["127.0.0.1"], ("127.0.0.1", 80), ["127.0.0.1"]),
    (["127.0.0.1:8080", "default_server", "ssl"], ("127.0.0.1", 8080), ["127.0.0.1"]),
    (["localhost:8080"], ("localhost", 8080), "localhost"),
    (["LOCALHOST:8080"], ("localhost", 8080), "localhost"),
    (["[::1]:8080"], ("[::1]", 8080), ["[::1]"]),
    (["[0:0::1]:8080"], ("[0:0::1]", 8080), ["[::1]"]),
    (["[::ffff:127.0.0.1]:8080"], ("[::ffff:127.0.0.1]", 8080), ["[::ffff:7f00:1]"]),
    (["unix:/run/x.sock"], None, None),
]


@pytest.mark.parametrize(("args", "parsed", "addresses"), LISTENS)
def test_listen_spellings(args: list[str], parsed: tuple | None, addresses: object) -> None:
    assert parse_listen(args) == parsed
    if parsed is None:
        return
    found = listen_addresses(parsed[0])
    if addresses == "localhost":
        assert found and "127.0.0.1" in found
    else:
        assert found == addresses


def hand(listen: str | None, names: str | None, wrap: bool = False, comment: bool = False) -> str:
    body = []
    if listen is not None:
        body.append("    listen %s;" % listen)
    if names is not None:
        body.append("    server_name %s;" % names)
    body.append("    return 200;")
    text = "# by hand\nserver {\n%s\n}\n" % "\n".join(body)
    if comment:
        text = "# server { server_name ollama.example.com; }\n" + text
    if wrap:
        text = "http {\n" + text + "}\n"
    return text


# (case, hand text, binding options, conflicts expected)
CONFLICTS = [
    ("exact", hand("127.0.0.1:8080", "ollama.example.com"), {}, True),
    ("capitals", hand("127.0.0.1:8080", "OLLAMA.Example.Com"), {}, True),
    ("trailing dot", hand("127.0.0.1:8080", "ollama.example.com."), {}, True),
    ("quoted", hand("127.0.0.1:8080", '"ollama.example.com"'), {}, True),
    ("second of several names", hand("127.0.0.1:8080", "a.example.com ollama.example.com"), {}, True),
    ("alias", hand("127.0.0.1:8080", "llm.example.com"), {"aliases": ["llm.example.com"]}, True),
    ("leading dot", hand("127.0.0.1:8080", ".example.com"), {}, True),
    ("head wildcard", hand("127.0.0.1:8080", "*.example.com"), {}, True),
    ("head wildcard two levels up", hand("127.0.0.1:8080", "*.com"), {}, True),
    ("tail wildcard", hand("127.0.0.1:8080", "ollama.example.*"), {}, True),
    ("regex", hand("127.0.0.1:8080", "~^ollama\\.example\\.com$"), {}, True),
    ("regex quoted with braces", hand("127.0.0.1:8080", '"~^o{1}llama\\.example\\.com$"'), {}, True),
    ("named capture", hand("127.0.0.1:8080", "~^(?<n>.+)\\.example\\.com$"), {}, True),
    ("default_server", hand("127.0.0.1:8080 default_server", "ollama.example.com"), {}, True),
    ("port alone", hand("8080", "ollama.example.com"), {}, True),
    ("star", hand("*:8080", "ollama.example.com"), {}, True),
    ("0.0.0.0", hand("0.0.0.0:8080", "ollama.example.com"), {}, True),
    ("localhost", hand("localhost:8080", "ollama.example.com"), {}, True),
    ("[::]", hand("[::]:8080", "ollama.example.com"), {}, True),
    ("no listen, root", hand(None, "ollama.example.com"), {"http_port": 80}, True),
    ("no port, 80", hand("127.0.0.1", "ollama.example.com"), {"http_port": 80}, True),
    ("inside http", hand("127.0.0.1:8080", "ollama.example.com", wrap=True), {}, True),
    ("https port", hand("127.0.0.1:8443 ssl", "ollama.example.com"), {"tls": "selfsigned", "https_port": 8443}, True),
    ("our wildcard over exact", hand("127.0.0.1:8080", "a.example.com"), {"domain": "*.example.com"}, True),
    ("our wildcard over deeper wildcard", hand("127.0.0.1:8080", "*.x.example.com"), {"domain": "*.example.com"}, True),
    ("our wildcard under theirs", hand("127.0.0.1:8080", ".com"), {"domain": "*.example.com"}, True),
    ("our wildcard and a regex", hand("127.0.0.1:8080", "~\\.example\\.com$"), {"domain": "*.example.com"}, True),
    ("our wildcard and a tail wildcard", hand("127.0.0.1:8080", "www.example.*"), {"domain": "*.example.com"}, True),
    ("other port", hand("127.0.0.1:8081", "ollama.example.com"), {}, False),
    ("other address", hand("127.0.0.2:8080", "ollama.example.com"), {}, False),
    ("IPv6 loopback", hand("[::1]:8080", "ollama.example.com"), {}, False),
    ("wildcard does not cover the bare name", hand("127.0.0.1:8080", "*.ollama.example.com"), {}, False),
    ("regex not matching", hand("127.0.0.1:8080", "~^www\\."), {}, False),
    ("catch-all default", hand("127.0.0.1:8080 default_server", "_"), {}, False),
    ("empty name", hand("127.0.0.1:8080", '""'), {}, False),
    ("commented out", hand("127.0.0.1:8080", "other.example.com", comment=True), {}, False),
    ("our wildcard, other zone", hand("127.0.0.1:8080", "a.example.org"), {"domain": "*.example.com"}, False),
    ("unix socket", hand("unix:/run/x.sock", "ollama.example.com"), {}, False),
]


@pytest.mark.parametrize(("case", "text", "options", "expected"), CONFLICTS, ids=[c[0] for c in CONFLICTS])
def test_conflicts_table(case: str, text: str, options: dict, expected: bool) -> None:
    params = base(**{"listen_address": "127.0.0.1", "http_port": 8080, **options})
    binding, _unused = build_binding(params)
    conflicts, _warnings = find_conflicts(binding, {"/etc/nginx/sites-enabled/hand": text}, default_port=80)
    assert bool(conflicts) is expected, (case, conflicts)
    if expected:
        line = 3 if case == "inside http" else 2
        assert conflicts[0].startswith("/etc/nginx/sites-enabled/hand (line %d) already serves " % line), conflicts


def test_hostname_is_the_machine_name() -> None:
    name = socket.gethostname().lower()
    binding, _unused = build_binding(base(domain=name, listen_address="127.0.0.1", http_port=8080))
    conflicts, _unused = find_conflicts(binding, {"/h.conf": hand("8080", "$hostname")}, default_port=80)
    assert conflicts


def test_default_listen_port_follows_the_user() -> None:
    binding, _unused = build_binding(base(listen_address="127.0.0.1", http_port=8000))
    assert find_conflicts(binding, {"/h.conf": hand(None, "ollama.example.com")}, default_port=8000)[0]
    assert not find_conflicts(binding, {"/h.conf": hand(None, "ollama.example.com")}, default_port=80)[0]


def test_unreadable_regex_is_a_warning_not_a_silent_pass() -> None:
    binding, _unused = build_binding(base(listen_address="127.0.0.1", http_port=8080))
    conflicts, warnings = find_conflicts(binding, {"/h.conf": hand("8080", '"~^(?<n>[a-z]+\\.example\\.com$"')}, default_port=80)
    assert conflicts == []
    assert "cannot evaluate" in warnings[0] and "/h.conf (line 2)" in warnings[0]


def test_default_server_conflicts() -> None:
    binding, _unused = build_binding(base(listen_address="127.0.0.1", http_port=8080, default_server=True))
    found = default_server_conflicts(binding, {"/h.conf": hand("8080 default_server", "_")}, default_port=80)
    assert found == ["/h.conf (line 2) is already the default server on port 8080 (default_server)"]
    assert default_server_conflicts(binding, {"/h.conf": hand("8080", "_")}, default_port=80) == []


def test_nginx_conflict_warning_is_read() -> None:
    message = 'nginx: [warn] conflicting server name "Ollama.example.com" on 127.0.0.1:8080, ignored; nginx: the configuration file is ok'
    assert nginx_name_conflicts(message, ["ollama.example.com"]) == ['nginx -t: conflicting server name "Ollama.example.com" on 127.0.0.1:8080']
    assert nginx_name_conflicts(message, ["other.example.com"]) == []


def test_a_binding_refuses_unknown_hosts_unless_it_is_the_default_server() -> None:
    binding, _unused = build_binding(base(listen_address="127.0.0.1", aliases=["*.llm.example.com"]))
    text = render_config(binding)
    assert "    if ($%s_host = 0) {\n        return 421;" % binding.ident in text
    assert (
        "map $host $%s_host {\n    hostnames;\n    default 0;\n    ollama.example.com 1;\n    *.llm.example.com 1;\n    127.0.0.1 1;\n}" % binding.ident in text
    )
    assert "default_server" not in text
    everything, _unused = build_binding(base(default_server=True))
    text = render_config(everything)
    assert "    listen 80 default_server;" in text
    assert "return 421" not in text and "map $host" not in text


# ---------------------------------------------------------------------------- class 5
SANS = [
    ("ollama.example.com", "ollama.example.com", True),
    ("OLLAMA.example.com", "ollama.example.com", True),
    ("ollama.example.com.", "ollama.example.com", True),
    ("ollama.example.com", "ollama.example.com.", True),
    ("*.example.com", "ollama.example.com", True),
    ("*.Example.Com", "ollama.example.com", True),
    ("*.example.com", "a.b.example.com", False),
    ("*.example.com", "example.com", False),
    ("*.com", "example.com", False),
    ("*", "example", False),
    ("o*.example.com", "ollama.example.com", False),
    ("*llama.example.com", "ollama.example.com", False),
    ("ollama.*.com", "ollama.example.com", False),
    ("*.*.example.com", "a.b.example.com", False),
    ("example.com", "ollama.example.com", False),
    ("ollama.example.com", "ollama.example.org", False),
    ("*.example.com", "*.example.com", True),
    ("*.example.com", "*.other.com", False),
    ("*.example.com", "*.a.example.com", False),
    ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com", True),
    ("*.example.com", "xn--bcher-kva.example.com", True),
    ("", "ollama.example.com", False),
]


@pytest.mark.parametrize(("san", "name", "expected"), SANS)
def test_san_matching_per_rfc_6125(san: str, name: str, expected: bool) -> None:
    assert san_covers(san, name) is expected


def _pem(names: list[str] | None, not_before: int = -1, not_after: int = 30, key: object = None) -> tuple[bytes, bytes]:
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ollama.example.com")])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=not_before))
        .not_valid_after(now + datetime.timedelta(days=not_after))
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    cert = builder.sign(key, hashes.SHA256())
    return (
        cert.public_bytes(serialization.Encoding.PEM),
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
    )


def _issues(cert: bytes | None, key: bytes | None, names: list[str]) -> list[str]:
    return [kind for kind, _message in provided_certificate_issues(cert, key, "/c.pem", "/k.pem", names)]


def test_certificate_issue_table() -> None:
    good_cert, good_key = _pem(["ollama.example.com", "llm.example.com"])
    other_cert, other_key = _pem(["other.example.com"])
    cases = [
        (good_cert, good_key, ["ollama.example.com"], []),
        (good_cert, good_key, ["ollama.example.com", "llm.example.com"], []),
        (good_cert, good_key, ["ollama.example.com", "third.example.com"], ["name_mismatch"]),
        (other_cert, other_key, ["ollama.example.com"], ["name_mismatch"]),
        (good_cert, other_key, ["ollama.example.com"], ["key_mismatch"]),
        (other_cert, good_key, ["ollama.example.com"], ["key_mismatch", "name_mismatch"]),
        (_pem(["ollama.example.com"], -30, -1)[0], None, ["ollama.example.com"], ["unreadable"]),
        (None, good_key, ["ollama.example.com"], ["unreadable"]),
        (b"not a certificate", good_key, ["ollama.example.com"], ["unreadable"]),
        (good_cert, b"not a key", ["ollama.example.com"], ["unreadable"]),
        (good_cert, good_cert, ["ollama.example.com"], ["unreadable"]),
        (*_pem(None), ["ollama.example.com"], ["name_mismatch"]),
        (*_pem(["*.example.com"]), ["ollama.example.com", "llm.example.com"], []),
        (*_pem(["*.example.com"]), ["a.ollama.example.com"], ["name_mismatch"]),
    ]
    for cert, key, names, expected in cases:
        assert sorted(_issues(cert, key, names)) == expected, (names, expected)
    key = ec.generate_private_key(ec.SECP256R1())
    expired = _pem(["ollama.example.com"], -30, -1, key)
    assert _issues(*expired, ["ollama.example.com"]) == ["expired"]
    future = _pem(["ollama.example.com"], 1, 30, key)
    assert _issues(*future, ["ollama.example.com"]) == ["not_yet_valid"]
    encrypted = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pass"))
    message = provided_certificate_issues(future[0], encrypted, "/c.pem", "/k.pem", ["ollama.example.com"])
    assert message[0][0] == "unreadable" and "is encrypted" in message[0][1]
