# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_domain refuses every open or conflicting configuration (issue 13, classes 3, 4, 5 and 7), and serves a mirror.

Table tests, each table in one real ansible-playbook run (one loop item per case) against a real
nginx on loopback: allowlists that add up to everyone, hand-written server blocks that answer the
same name in every form nginx accepts, certificates that do not fit, credentials in URLs; then a
mirror directory served over TLS with an allowlist.
"""

from __future__ import annotations

import datetime
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.integration.nginx_fixture import LoopbackCA, NginxServer, free_port, request, tree_digest
from tests.integration.playbook import PlaybookRun, run_playbook

pytestmark = pytest.mark.integration

KEY = "robust-key-0123456789abcdefghijklmnop"


@pytest.fixture
def ca(tmp_path: Path) -> LoopbackCA:
    return LoopbackCA(tmp_path / "ca")


def loop_run(
    nginx: NginxServer, base: dict[str, Any], cases: list[tuple[str, dict[str, Any]]], env: dict[str, str] | None = None
) -> tuple[list[dict[str, Any]], PlaybookRun]:
    """Run ollama_domain once per case in one playbook (domain_hostile.yml goes on after failures); the results in order.

    When a case changed something, waits for nginx's new workers. Ansible gathers the warnings of loop items
    in the task's result, not in theirs: the run is returned too.
    """
    before = nginx.generation()
    items = [{"name": name, "args": args} for name, args in cases]
    run = run_playbook("domain_hostile.yml", {"base_args": base, "cases": items}, env=env, timeout=600)
    assert "Traceback" not in run.stdout + run.stderr
    results = run.results("Bind hostile")["results"]
    assert len(results) == len(cases)
    if any(r.get("changed") for r in results):
        nginx.wait_generation_after(before)
    return results, run


def loop(nginx: NginxServer, base: dict[str, Any], cases: list[tuple[str, dict[str, Any]]], env: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return loop_run(nginx, base, cases, env)[0]


def refused(result: dict[str, Any]) -> bool:
    return bool(result.get("failed")) or ("binding" not in result and bool(result.get("msg")))


def reload(nginx: NginxServer) -> None:
    before = nginx.generation()
    subprocess.run([*nginx.base_args, "-s", "reload"], check=True, timeout=10)
    nginx.wait_generation_after(before)


# ---------------------------------------------------------------------------- class 3: allowlists that admit everyone
OPEN_ALLOWLISTS: list[tuple[str, list[str], str]] = [
    ("two IPv4 halves", ["0.0.0.0/1", "128.0.0.0/1"], "IPv4"),
    ("four IPv4 quarters", ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"], "IPv4"),
    ("256 IPv4 /8s", ["%d.0.0.0/8" % i for i in range(256)], "IPv4"),
    ("IPv4 halves in reverse with duplicates", ["128.0.0.0/1", "10.0.0.0/8", "0.0.0.0/1", "128.0.0.0/1"], "IPv4"),
    ("IPv4 uneven split", ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/3"], "IPv4"),
    ("IPv4 with single addresses at the edges", ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/2"], "IPv4"),
    ("two IPv6 halves", ["::/1", "8000::/1"], "IPv6"),
    ("IPv6 in /3s", ["%x::/3" % (i << 13) for i in range(8)], "IPv6"),
    ("IPv6 halves beside an IPv4 network", ["10.0.0.0/8", "::/1", "8000::/1"], "IPv6"),
    ("IPv4-mapped IPv6 range", ["::ffff:0:0/96"], "IPv4"),
    ("IPv4-mapped halves", ["::ffff:0:0/97", "::ffff:128.0.0.0/97"], "IPv4"),
    ("IPv4 half plus mapped other half", ["0.0.0.0/1", "::ffff:128.0.0.0/97"], "IPv4"),
    ("the lower IPv6 half holds every IPv4-mapped address", ["::/1"], "IPv4"),
    ("IPv6 /0 spelled long", ["0:0:0:0:0:0:0:0/0"], "set public: true instead"),
    ("IPv4 /0 beside others", ["10.0.0.0/8", "0.0.0.0/0"], "set public: true instead"),
]
NARROW_ALLOWLISTS: list[tuple[str, list[str]]] = [
    ("one IPv4 half", ["0.0.0.0/1"]),
    ("IPv4 missing one address", ["0.0.0.0/1", "128.0.0.0/2", "192.0.0.0/3", "224.0.0.0/4", "240.0.0.0/5", "248.0.0.0/6", "252.0.0.0/7", "254.0.0.0/8"]),
    ("255 of 256 /8s", ["%d.0.0.0/8" % i for i in range(255)]),
    ("the upper IPv6 half (without the IPv4-mapped range)", ["8000::/1"]),
    ("IPv4-compatible (not mapped) IPv6", ["::/96"]),
]


def test_allowlists_that_add_up_to_everyone_are_refused(nginx: NginxServer, sim) -> None:
    base = nginx.module_args(domain="open.ollama.test", upstream=sim.url)
    tree = tree_digest(nginx.conf_d)
    cases = [(name, {"allow": allow}) for name, allow, _fragment in OPEN_ALLOWLISTS]
    results = loop(nginx, base, cases)
    for (name, _allow, fragment), result in zip(OPEN_ALLOWLISTS, results):
        assert refused(result), name
        assert fragment in result["msg"], (name, result["msg"])
        assert "public: true" in result["msg"], name
    assert tree_digest(nginx.conf_d) == tree
    # public: true is the way to say "everyone"; it is accepted.
    publics = loop(nginx, base, [("public", {"public": True, "api_keys": [KEY]})])
    assert publics[0]["changed"] is True, publics[0].get("msg")


def test_allowlists_short_of_everyone_are_accepted(nginx: NginxServer, sim) -> None:
    base = nginx.module_args(upstream=sim.url)
    cases = [(name, {"domain": "narrow%d.ollama.test" % i, "allow": allow}) for i, (name, allow) in enumerate(NARROW_ALLOWLISTS)]
    results = loop(nginx, base, cases)
    for (name, _allow), result in zip(NARROW_ALLOWLISTS, results):
        assert not refused(result), (name, result.get("msg"))
        assert result["changed"] is True, name


# ---------------------------------------------------------------------------- class 4: conflicts the way nginx matches
def hand_server(listen: str | None, names: str | None, extra: str = "") -> str:
    lines = ["# written by hand", "server {"]
    if listen is not None:
        lines.append("    listen %s;" % listen)
    if names is not None:
        lines.append("    server_name %s;" % names)
    lines += ["    return 200 'hand';" + extra, "}", ""]
    return "\n".join(lines)


def conflict_cases(nginx: NginxServer) -> list[tuple[str, str, dict[str, Any], str]]:
    """(case, hand-written file text, binding options, the name the refusal must mention). Each case has names of its own."""
    p, s = nginx.http_port, nginx.https_port
    return [
        ("exact name", hand_server("127.0.0.1:%d" % p, "c01.test"), {"domain": "c01.test"}, "c01.test"),
        ("exact name in capitals", hand_server("127.0.0.1:%d" % p, "C02.Test"), {"domain": "c02.test"}, "c02.test"),
        ("exact name with a trailing dot", hand_server("127.0.0.1:%d" % p, "c03.test."), {"domain": "c03.test"}, "c03.test"),
        ("our name is an alias there", hand_server("127.0.0.1:%d" % p, "other.c04.test c04.test"), {"domain": "c04.test"}, "c04.test"),
        ("their name is our alias", hand_server("127.0.0.1:%d" % p, "alias.c05.test"), {"domain": "c05.test", "aliases": ["alias.c05.test"]}, "alias.c05.test"),
        ("leading dot, bare name", hand_server("127.0.0.1:%d" % p, ".c06.test"), {"domain": "c06.test"}, "c06.test"),
        ("leading dot, sub name", hand_server("127.0.0.1:%d" % p, ".c07.test"), {"domain": "www.c07.test"}, "www.c07.test"),
        ("head wildcard", hand_server("127.0.0.1:%d" % p, "*.c08.test"), {"domain": "api.c08.test"}, "api.c08.test"),
        ("head wildcard, two labels deep", hand_server("127.0.0.1:%d" % p, "*.c09.test"), {"domain": "a.b.c09.test"}, "a.b.c09.test"),
        ("tail wildcard", hand_server("127.0.0.1:%d" % p, "www.c10.*"), {"domain": "www.c10.test"}, "www.c10.test"),
        ("regular expression", hand_server("127.0.0.1:%d" % p, "~^api[0-9]+\\.c11\\.test$"), {"domain": "api7.c11.test"}, "api7.c11.test"),
        ("regex with a named capture", hand_server("127.0.0.1:%d" % p, '"~^(?<sub>[a-z]+)\\.c12\\.test$"'), {"domain": "x.c12.test"}, "x.c12.test"),
        ("regex in capitals (nginx matches without case)", hand_server("127.0.0.1:%d" % p, "~^C13\\.TEST$"), {"domain": "c13.test"}, "c13.test"),
        ("our wildcard over their exact name", hand_server("127.0.0.1:%d" % p, "api.c14.test"), {"domain": "*.c14.test"}, "*.c14.test"),
        ("our wildcard over their wildcard", hand_server("127.0.0.1:%d" % p, "*.deep.c15.test"), {"domain": "*.c15.test"}, "*.c15.test"),
        ("our wildcard over their regex", hand_server("127.0.0.1:%d" % p, "~\\.c16\\.test$"), {"domain": "*.c16.test"}, "*.c16.test"),
        ("default_server with our name", hand_server("127.0.0.1:%d default_server" % p, "c17.test"), {"domain": "c17.test"}, "c17.test"),
        ("listen port alone", hand_server("%d" % p, "c18.test"), {"domain": "c18.test"}, "c18.test"),
        ("listen *:port", hand_server("*:%d" % p, "c19.test"), {"domain": "c19.test"}, "c19.test"),
        ("listen 0.0.0.0:port", hand_server("0.0.0.0:%d" % p, "c20.test"), {"domain": "c20.test"}, "c20.test"),
        ("listen localhost:port", hand_server("localhost:%d" % p, "c21.test"), {"domain": "c21.test"}, "c21.test"),
        ("listen LOCALHOST:port", hand_server("LOCALHOST:%d" % p, "c22.test"), {"domain": "c22.test"}, "c22.test"),
        ("listen [::]:port", hand_server("[::]:%d" % p, "c23.test"), {"domain": "c23.test"}, "c23.test"),
        ("listen [::]:port ipv6only=off", hand_server("[::]:%d ipv6only=off" % p, "c24.test"), {"domain": "c24.test"}, "c24.test"),
        (
            "listen with ssl on the https port",
            hand_server("127.0.0.1:%d ssl" % s, "c25.test", "\n    ssl_reject_handshake on;"),
            {"domain": "c25.test", "tls": "selfsigned"},
            "c25.test",
        ),
        ("listen without a port (80) against a binding on 80", hand_server("127.0.0.1", "c26.test"), {"domain": "c26.test", "http_port": 80}, "c26.test"),
        ("no listen at all (*:80 as root)", hand_server(None, "c27.test"), {"domain": "c27.test", "http_port": 80}, "c27.test"),
        ("quoted name", hand_server("127.0.0.1:%d" % p, '"c28.test"'), {"domain": "c28.test"}, "c28.test"),
        ("$hostname", hand_server("127.0.0.1:%d" % p, "$hostname"), {"domain": "__HOSTNAME__"}, "__HOSTNAME__"),
        ("inside an http block of its own file", "http {\n" + hand_server("127.0.0.1:%d" % p, "c30.test") + "}\n", {"domain": "c30.test"}, "c30.test"),
    ]


def test_hand_written_server_blocks_that_answer_our_names_are_refused_with_file_and_line(nginx: NginxServer, sim) -> None:
    import socket

    hostname = socket.gethostname().lower()
    cases = conflict_cases(nginx)
    assert len(cases) >= 30
    hand_dir = nginx.root / "hand"
    hand_dir.mkdir()
    # Outside conf.d, included through nginx.conf: only nginx -T shows them to the module.
    extra = nginx.root / "extra.conf"
    files = []
    for index, (name, text, _args, _mentioned) in enumerate(cases):
        if name == "inside an http block of its own file":
            continue  # an http block inside http is not valid nginx; checked by the unit tests
        path = hand_dir / ("hand%02d.conf" % index)
        path.write_text(text)
        files.append(path)
    extra.write_text("include %s/*.conf;\n" % hand_dir)
    conf = nginx.conf.read_text()
    nginx.conf.write_text(conf.replace("    include %s/*.conf;" % nginx.conf_d, "    include %s/*.conf;\n    include %s;" % (nginx.conf_d, extra)))
    check = subprocess.run([*nginx.base_args, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert check.returncode == 0, check.stderr
    tree = tree_digest(nginx.conf_d)
    workers = nginx.generation()
    base = nginx.module_args(upstream=sim.url, allow=["127.0.0.1"])
    table = [(n, t, a, m) for n, t, a, m in cases if n != "inside an http block of its own file"]
    rows = []
    for name, _text, args, _mentioned in table:
        rows.append((name, {k: (hostname if v == "__HOSTNAME__" else v) for k, v in args.items()}))
    results = loop(nginx, base, rows)
    for (name, _text, _args, mentioned), path, result in zip(table, files, results):
        assert refused(result), (name, result.get("changed"))
        msg = result["msg"]
        assert "%s (line 2) already serves %s" % (path, hostname if mentioned == "__HOSTNAME__" else mentioned) in msg, (name, msg)
        assert "force: true" in msg, name
    assert tree_digest(nginx.conf_d) == tree
    assert nginx.generation() == workers


NOT_CONFLICTS: list[tuple[str, str, dict[str, Any]]] = [
    ("other port", "127.0.0.1:{other}|n01.test", {"domain": "n01.test"}),
    ("other loopback address", "127.0.0.2:{p}|n02.test", {"domain": "n02.test"}),
    ("IPv6 loopback only", "[::1]:{p}|n03.test", {"domain": "n03.test"}),
    ("head wildcard does not cover the bare name", "127.0.0.1:{p}|*.n04.test", {"domain": "n04.test"}),
    ("tail wildcard of another name", "127.0.0.1:{p}|www.n05x.*", {"domain": "www.n05.test"}),
    ("regex that does not match", "127.0.0.1:{p}|~^api[0-9]+\\.n06\\.test$", {"domain": "web.n06.test"}),
    ("a default server for other names", "127.0.0.1:{p} default_server|_", {"domain": "n07.test"}),
    ("a longer name that ends like ours", "127.0.0.1:{p}|xn08.test", {"domain": "n08.test"}),
    # On an address of its own: any tail wildcard (www.n05x.* above) shares a name with any head wildcard.
    ("our wildcard, their other domain", "127.0.0.4:{p}|api.n09x.test", {"domain": "*.n09.test", "listen_address": "127.0.0.4"}),
]


def test_server_blocks_that_do_not_answer_our_names_are_no_conflict(nginx: NginxServer, sim) -> None:
    p = nginx.http_port
    for index, (_name, spec, _args) in enumerate(NOT_CONFLICTS):
        listen, names = spec.format(p=p, other=free_port()).split("|")
        (nginx.conf_d / ("hand%02d.conf" % index)).write_text(hand_server(listen, names))
    reload(nginx)
    results = loop(nginx, nginx.module_args(upstream=sim.url, allow=["127.0.0.1"]), [(name, args) for name, _spec, args in NOT_CONFLICTS])
    for (name, _spec, _args), result in zip(NOT_CONFLICTS, results):
        assert not refused(result), (name, result.get("msg"))
        assert result["changed"] is True, name
        assert not [w for w in result.get("warnings", []) if "conflict" in w], name


def test_nginx_own_conflict_warning_is_read(nginx: NginxServer) -> None:
    """The second net: nginx -t's own 'conflicting server name' warning names the binding's name."""
    from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import nginx_message, nginx_name_conflicts

    p = nginx.http_port
    (nginx.conf_d / "a.conf").write_text(hand_server("127.0.0.1:%d" % p, "dup.test"))
    (nginx.conf_d / "b.conf").write_text(hand_server("localhost:%d" % p, "DUP.test"))
    done = subprocess.run([*nginx.base_args, "-t"], capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0
    message = nginx_message(done.stdout, done.stderr)
    found = nginx_name_conflicts(message, ["dup.test"])
    assert found and "127.0.0.1:%d" % p in found[0], message
    assert nginx_name_conflicts(message, ["other.test"]) == []


def test_a_binding_is_not_the_default_server_by_accident(nginx: NginxServer, sim, ca: LoopbackCA) -> None:
    cert, key = ca.issue(["only.ollama.test"], "only")
    bound = loop(
        nginx,
        nginx.module_args(upstream=sim.url, allow=["127.0.0.1"]),
        [("only", {"domain": "only.ollama.test", "tls": "provided", "certificate": str(cert), "private_key": str(key), "redirect_http": False})],
    )[0]
    assert bound["changed"] is True, bound.get("msg")
    assert request(nginx.https_port, "/api/version", host="only.ollama.test", tls=True, ca_file=ca.ca_file).status == 200
    for host in ("only.ollama.test", "only.ollama.test.", "ONLY.Ollama.Test:%d" % nginx.http_port):
        assert request(nginx.http_port, "/api/version", host=host).status == 200, host
    # Addressed to its own listen address by IP (a health probe): meant for it.
    assert request(nginx.http_port, "/api/version", host="127.0.0.1").status == 200
    for host in ("127.0.0.2", "[::1]", "localhost", "unknown.ollama.test", "x.only.ollama.test", "only.ollama.test.evil.test"):
        answer = request(nginx.http_port, "/api/version", host=host)
        assert answer.status == 421, (host, answer.status)
        assert b"version" not in answer.body
    # default_server: true makes it answer every Host, deliberately.
    again = loop(
        nginx,
        nginx.module_args(upstream=sim.url, allow=["127.0.0.1"]),
        [
            (
                "default",
                {
                    "domain": "only.ollama.test",
                    "tls": "provided",
                    "certificate": str(cert),
                    "private_key": str(key),
                    "redirect_http": False,
                    "default_server": True,
                },
            )
        ],
    )[0]
    assert again["changed"] is True and again["binding"]["default_server"] is True, again.get("msg")
    answer = None
    for _attempt in range(100):
        answer = request(nginx.http_port, "/api/version", host="unknown.ollama.test")
        if answer.status == 200:
            break
        import time

        time.sleep(0.05)
    assert answer is not None and answer.status == 200
    # A second default server on the same port is refused with file and line.
    (nginx.conf_d / "hand-default.conf").write_text(hand_server("127.0.0.1:%d default_server" % (nginx.https_port + 0), "_", ""))
    clash = loop(
        nginx,
        nginx.module_args(upstream=sim.url, allow=["127.0.0.1"]),
        [("second default", {"domain": "other.ollama.test", "tls": "selfsigned", "default_server": True})],
    )[0]
    assert refused(clash)
    assert "hand-default.conf (line 2) is already the default server on port %d" % nginx.https_port in clash["msg"]


# ---------------------------------------------------------------------------- class 5: certificates checked before anything is touched
def make_cert(
    directory: Path,
    stem: str,
    names: list[str] | None,
    ca: LoopbackCA,
    days: tuple[int, int] = (-1, 20),
    common_name: str | None = None,
    key: Any = None,
) -> tuple[Path, Path]:
    """A CA-signed certificate with the given SAN names (None: no SAN extension) and validity (days from now)."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or (names or ["nobody.test"])[0])]))
        .issuer_name(ca.cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=days[0]))
        .not_valid_after(now + datetime.timedelta(days=days[1]))
    )
    if names is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    cert_path, key_path = directory / ("%s.pem" % stem), directory / ("%s.key" % stem)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + ca.cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def certificate_table(directory: Path, ca: LoopbackCA) -> list[tuple[str, dict[str, Any], str | None, str]]:
    """(case, binding options, the issue kind or None when accepted, a fragment of the message or warning)."""
    directory.mkdir(parents=True, exist_ok=True)
    d = directory
    good_cert, good_key = make_cert(d, "good", ["site.ollama.test", "alias.ollama.test"], ca)
    other_cert, other_key = make_cert(d, "other", ["other.ollama.test"], ca)
    expired = make_cert(d, "expired", ["site.ollama.test"], ca, days=(-30, -1))
    future = make_cert(d, "future", ["site.ollama.test"], ca, days=(2, 30))
    cn_only = make_cert(d, "cn", None, ca, common_name="site.ollama.test")
    wild = make_cert(d, "wild", ["*.ollama.test"], ca)
    wild_deep = make_cert(d, "wilddeep", ["*.test"], ca)
    partial = make_cert(d, "partial", ["s*.ollama.test"], ca)
    upper = make_cert(d, "upper", ["SITE.Ollama.Test", "alias.ollama.test."], ca)
    wildcard_binding = make_cert(d, "wildbind", ["*.ollama.test"], ca)
    garbage = d / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    encrypted = d / "encrypted.key"
    encrypted.write_bytes(
        ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"secret-pass")
        )
    )
    site = {"domain": "site.ollama.test", "tls": "provided"}

    def pair(cert: Path, key: Path, **extra: Any) -> dict[str, Any]:
        return {**site, "certificate": str(cert), "private_key": str(key), **extra}

    return [
        ("certificate for another name", pair(other_cert, other_key), "name_mismatch", "does not cover site.ollama.test"),
        ("alias not covered", pair(*make_cert(d, "noalias", ["site.ollama.test"], ca), aliases=["alias.ollama.test"]), "name_mismatch", "alias.ollama.test"),
        ("one of two aliases not covered", pair(good_cert, good_key, aliases=["alias.ollama.test", "third.ollama.test"]), "name_mismatch", "third.ollama.test"),
        ("expired", pair(*expired), "expired", "expired on"),
        ("not yet valid", pair(*future), "not_yet_valid", "is not valid before"),
        ("common name only, no SAN", pair(*cn_only), "name_mismatch", "clients ignore the common name"),
        ("wildcard covers one label only", pair(*wild, domain="a.site.ollama.test"), "name_mismatch", "a.site.ollama.test"),
        ("wildcard does not cover the bare domain", pair(*wild, domain="ollama.test"), "name_mismatch", "ollama.test"),
        ("wildcard on a top-level domain covers nothing", pair(*wild_deep, domain="example.test"), "name_mismatch", "example.test"),
        ("partial wildcard covers nothing", pair(*partial), "name_mismatch", "does not cover site.ollama.test"),
        ("wildcard certificate for an exact wildcard binding of another zone", pair(*wildcard_binding, domain="*.other.test"), "name_mismatch", "*.other.test"),
        ("key of another certificate", pair(good_cert, other_key), "key_mismatch", "does not belong to the certificate"),
        ("key mismatch and wrong name", pair(other_cert, good_key), "key_mismatch", "does not belong"),
        ("garbage certificate", pair(garbage, good_key), "unreadable", "is not a PEM certificate"),
        ("missing certificate", pair(d / "missing.pem", good_key), "unreadable", "does not exist"),
        ("missing key", pair(good_cert, d / "missing.key"), "unreadable", "does not exist"),
        ("encrypted key", pair(good_cert, encrypted), "unreadable", "is encrypted"),
        ("key file holds a certificate", pair(good_cert, good_cert), "unreadable", "is not a PEM private key"),
        ("expired but accepted", pair(*expired, accept_certificate=["expired"]), None, "accepted by accept_certificate: expired"),
        ("other name but accepted", pair(other_cert, other_key, accept_certificate=["name_mismatch"]), None, "accepted by accept_certificate: name_mismatch"),
        (
            "accepting one issue does not accept another",
            pair(*expired, domain="x.ollama.test", accept_certificate=["expired"]),
            "name_mismatch",
            "x.ollama.test",
        ),
        ("accepting names does not accept a wrong key", pair(other_cert, good_key, accept_certificate=["name_mismatch"]), "key_mismatch", "does not belong"),
        ("good certificate with alias", pair(good_cert, good_key, aliases=["alias.ollama.test"]), None, ""),
        ("names compared without case and trailing dot", pair(*upper, aliases=["alias.ollama.test"]), None, ""),
        ("wildcard covers a name and an alias", pair(*wild, domain="a.ollama.test", aliases=["b.ollama.test"]), None, ""),
        # On an address of its own, so that it does not conflict with the bindings of the cases before.
        ("wildcard binding with the same wildcard", pair(*wildcard_binding, domain="*.ollama.test", listen_address="127.0.0.3"), None, ""),
    ]


def test_provided_certificates_are_checked_before_anything_is_touched(nginx: NginxServer, ca: LoopbackCA, sim) -> None:
    table = certificate_table(nginx.root / "certs", ca)
    assert len(table) >= 25
    base = nginx.module_args(upstream=sim.url, allow=["127.0.0.1"])
    # A valid binding is in place: a refused certificate must not replace it (the seen defect).
    first = loop(nginx, base, [("valid", table[-4][1])])[0]
    assert first["changed"] is True, first.get("msg")
    tree = tree_digest(nginx.conf_d)
    refusals = [(name, args) for name, args, kind, _fragment in table if kind is not None]
    results = loop(nginx, base, refusals)
    for (name, _args, kind, fragment), result in zip([row for row in table if row[2] is not None], results):
        assert refused(result), name
        assert fragment in result["msg"], (name, result["msg"])
        assert "before anything was changed" in result["msg"], name
        assert kind in result["certificate_issues"], (name, result["certificate_issues"])
    assert tree_digest(nginx.conf_d) == tree
    # Accepted deliberately: applied, with a warning each (loop items' warnings go to stderr).
    for name, args, kind, fragment in table:
        if kind is None and fragment:
            results, run = loop_run(nginx, base, [(name, args)])
            assert not refused(results[0]) and results[0]["changed"] is True, (name, results[0].get("msg"))
            assert any(fragment in w for w in run.results("Bind hostile").get("warnings", [])), (name, run.results("Bind hostile").get("warnings"))
    # Certificates that fit: applied without a word.
    fitting = [(name, args) for name, args, kind, fragment in table if kind is None and not fragment]
    results, run = loop_run(nginx, base, fitting)
    for (name, _args), result in zip(fitting, results):
        assert not refused(result), (name, result.get("msg"))
    assert not [w for w in run.results("Bind hostile").get("warnings", []) if "certificate" in w]


# ---------------------------------------------------------------------------- class 7: credentials never in output
def test_credentials_in_urls_never_reach_the_output(nginx: NginxServer) -> None:
    secret = "s3cr3t-Passw0rd"
    cases = [
        ("api_url with credentials", {"api_url": "http://admin:%s@127.0.0.1:11434" % secret}),
        ("upstream with credentials", {"upstream": "http://admin:%s@127.0.0.1:11434" % secret}),
        ("upstream without scheme", {"upstream": "admin:%s@127.0.0.1:11434" % secret}),
        ("upstreams with credentials", {"upstreams": ["http://127.0.0.1:11434", "https://u:%s@[::1]:8443/x" % secret]}),
        ("api_url with credentials and a path", {"api_url": "http://admin:%s@127.0.0.1:11434/prefix" % secret}),
    ]
    base = nginx.module_args(domain="cred.ollama.test", allow=["127.0.0.1"])
    items = [{"name": name, "args": args} for name, args in cases]
    run: PlaybookRun = run_playbook("domain_hostile.yml", {"base_args": base, "cases": items}, timeout=300)
    results = run.results("Bind hostile")["results"]
    for (name, _args), result in zip(cases, results):
        assert refused(result), name
        echoed = json.dumps({k: v for k, v in result.items() if k not in ("item", "_ansible_item_label")})
        assert "invocation" in result and "module_args" in result["invocation"], "the result must hold invocation.module_args for this test to mean something"
        assert secret not in echoed, (name, echoed)
    # What an operator sees with -vvv (text output; one run per case, so that no loop item carries the value).
    verbose = {"ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_VERBOSITY": "3"}
    for name, args in cases:
        text = run_playbook("domain.yml", {"domain_args": {**base, **args}}, env=verbose, timeout=120)
        assert text.rc == 2, (name, text.stdout[-2000:])
        assert "module_args" in text.stdout, name
        assert secret not in text.stdout + text.stderr, name
    info = run_playbook(
        "domain_info.yml", {"info_config_dir": str(nginx.conf_d), "info_api_url": "http://admin:%s@127.0.0.1:11434" % secret}, env=verbose, timeout=120
    )
    assert info.rc == 0, info.stderr
    assert "module_args" in info.stdout
    assert secret not in info.stdout + info.stderr


# ---------------------------------------------------------------------------- mirror_path (issue 11 item 2)
def make_mirror(root: Path) -> tuple[Path, str, bytes, bytes]:
    """A mirror tree as ollama_mirror lays it out (/work/coord/mirror_layout.md): hard links under v2/."""
    blob = bytes(range(256)) * 64
    import hashlib

    digest = hashlib.sha256(blob).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:" + digest, "size": len(blob)}],
        }
    ).encode()
    (root / "blobs").mkdir(parents=True)
    store = root / "blobs" / ("sha256-" + digest)
    store.write_bytes(blob)
    repo = root / "v2" / "library" / "tiny"
    (repo / "manifests").mkdir(parents=True)
    (repo / "blobs").mkdir(parents=True)
    (repo / "manifests" / "1b").write_bytes(manifest)
    (repo / "blobs" / ("sha256:" + digest)).hardlink_to(store)
    (root / "mirror.json").write_text('{"secret": "not to be served"}')
    (root / ".partial").mkdir()
    (root / ".partial" / "x").write_text("partial")
    return root, digest, manifest, blob


def test_mirror_served_over_tls_with_allowlist(nginx: NginxServer, ca: LoopbackCA, tmp_path: Path) -> None:
    mirror, digest, manifest, blob = make_mirror(tmp_path / "mirror")
    cert, key = ca.issue(["mirror.ollama.test"], "mirror")
    args = {"domain": "mirror.ollama.test", "mirror_path": str(mirror), "tls": "provided", "certificate": str(cert), "private_key": str(key), "verify": True}
    result = loop(nginx, nginx.module_args(allow=["127.0.0.1"]), [("mirror", args)])[0]
    assert result["changed"] is True, result.get("msg")
    assert result["binding"]["mirror_path"] == str(mirror)
    assert result["binding"]["upstreams"] == []
    port, host = nginx.https_port, "mirror.ollama.test"
    # curl over TLS, verified against the CA, as Ollama asks for a manifest.
    done = subprocess.run(
        [
            "curl", "-sS", "--max-time", "10", "--cacert", str(ca.ca_file), "--resolve", "%s:%d:127.0.0.1" % (host, port),
            "-H", "Accept: application/vnd.docker.distribution.manifest.v2+json", "-D", "-",
            "https://%s:%d/v2/library/tiny/manifests/1b" % (host, port),
        ],
        capture_output=True, timeout=20, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    head, _sep, body = done.stdout.partition(b"\r\n\r\n")
    assert body == manifest
    assert b"content-type: application/vnd.docker.distribution.manifest.v2+json" in head.lower()
    blob_path = "/v2/library/tiny/blobs/sha256:" + digest
    size = request(port, blob_path, host=host, method="HEAD", tls=True, ca_file=ca.ca_file)
    assert (size.status, size.headers["content-length"], size.headers["content-type"]) == (200, str(len(blob)), "application/octet-stream")
    assert "immutable" in size.headers["cache-control"]
    part = request(port, blob_path, host=host, headers={"Range": "bytes=100-4195"}, tls=True, ca_file=ca.ca_file)
    assert part.status == 206
    assert part.body == blob[100:4196]
    assert part.headers["content-range"] == "bytes 100-4195/%d" % len(blob)
    assert request(port, "/v2/", host=host, tls=True, ca_file=ca.ca_file).status == 200
    # Outside the allowlist: 403, for manifests, blobs and the version check alike.
    for path in ("/v2/library/tiny/manifests/1b", blob_path, "/v2/"):
        assert request(port, path, host=host, tls=True, ca_file=ca.ca_file, source="127.0.0.2").status == 403, path
    # Read only: 405 for writes.
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert request(port, "/v2/library/tiny/manifests/1b", host=host, method=method, body=b"{}", tls=True, ca_file=ca.ca_file).status == 405, method
    # Nothing outside v2/ is served.
    for path in ("/mirror.json", "/blobs/sha256-" + digest, "/.partial/x", "/v2/../mirror.json", "/v2/library/tiny/", "/api/tags", "/"):
        answer = request(port, path, host=host, tls=True, ca_file=ca.ca_file)
        assert answer.status == 404, (path, answer.status)
        assert b"not to be served" not in answer.body
    # Plain HTTP redirects to HTTPS.
    assert request(nginx.http_port, blob_path, host=host).status == 301
    # Idempotent.
    again = loop(nginx, nginx.module_args(allow=["127.0.0.1"]), [("mirror", args)])[0]
    assert again["changed"] is False


def test_mirror_with_api_keys_and_bad_options(nginx: NginxServer, tmp_path: Path, sim) -> None:
    mirror, digest, _manifest, _blob = make_mirror(tmp_path / "mirror")
    base = nginx.module_args(allow=["127.0.0.1"])
    cases = [
        ("keys", {"domain": "keyed.ollama.test", "mirror_path": str(mirror), "api_keys": [KEY]}),
        ("with an upstream", {"domain": "m1.ollama.test", "mirror_path": str(mirror), "upstream": sim.url}),
        ("missing directory", {"domain": "m2.ollama.test", "mirror_path": str(tmp_path / "nope")}),
        ("root of the file system", {"domain": "m3.ollama.test", "mirror_path": "/"}),
        ("injection", {"domain": "m4.ollama.test", "mirror_path": str(mirror) + "; autoindex on"}),
    ]
    results = loop(nginx, base, cases)
    assert results[0]["changed"] is True, results[0].get("msg")
    assert "upstream or upstreams" in results[1]["msg"]
    assert "is not a directory" in results[2]["msg"] and "ollama_mirror" in results[2]["msg"]
    assert "never the root" in results[3]["msg"]
    assert "mirror_path" in results[4]["msg"]
    path = "/v2/library/tiny/blobs/sha256:" + digest
    assert request(nginx.http_port, path, host="keyed.ollama.test").status == 401
    assert request(nginx.http_port, path, host="keyed.ollama.test", headers={"Authorization": "Bearer " + KEY}).status == 200
