# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_domain and ollama_domain_info in real ansible-playbook runs, against a real nginx on loopback.

Each test gets its own nginx (own prefix, configuration and high ports on 127.0.0.1),
real TLS material from a test CA, and the Ollama API simulator (or, where exact
timing or request headers matter, a small streaming upstream) behind it.
"""

from __future__ import annotations

import hashlib
import json
import socket
import ssl
import statistics
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.nginx_fixture import LoopbackCA, NginxServer, StreamingOllama, free_port, request, stream_lines, tree_digest
from tests.integration.playbook import PlaybookRun, run_playbook

pytestmark = pytest.mark.integration

KEY = "test-key-0123456789abcdefghijklmnop"
OTHER_KEY = "test-key-0123456789abcdefghijklmnoX"


@pytest.fixture
def ca(tmp_path: Path) -> LoopbackCA:
    return LoopbackCA(tmp_path / "ca")


@pytest.fixture
def upstream() -> Iterator[StreamingOllama]:
    with StreamingOllama(interval=0.1, lines=10) as server:
        yield server


def bind(nginx: NginxServer, check: bool = False, diff: bool = False, **args: Any) -> PlaybookRun:
    """ollama_domain through ansible-playbook; waits for nginx's new workers when it reloaded."""
    before = nginx.generation()
    run = run_playbook("domain.yml", {"domain_args": nginx.module_args(**args)}, check=check, diff=diff, timeout=120)
    result = run.results("Bind")
    if run.rc == 0 and result.get("changed") and not check and args.get("reload", True):
        nginx.wait_generation_after(before)
    return run


def bound(nginx: NginxServer, **args: Any) -> dict:
    run = bind(nginx, **args)
    assert run.rc == 0, run.results("Bind").get("msg") or run.stderr
    return run.results("Bind")


def no_traceback(run: PlaybookRun) -> None:
    assert "Traceback" not in run.stdout + run.stderr


# ---------------------------------------------------------------------------- TLS
def curl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["curl", "-sS", "--max-time", "10", *args], capture_output=True, text=True, timeout=20, check=False)


def test_tls_with_ca_certificates_and_sni(nginx: NginxServer, ca: LoopbackCA, sim) -> None:
    a_cert, a_key = ca.issue(["a.ollama.test", "a-alias.ollama.test"], "a")
    b_cert, b_key = ca.issue(["b.ollama.test"], "b")
    a = bound(
        nginx,
        domain="a.ollama.test",
        aliases=["a-alias.ollama.test"],
        upstream=sim.url,
        tls="provided",
        certificate=str(a_cert),
        private_key=str(a_key),
        allow=["127.0.0.1"],
    )
    bound(nginx, domain="b.ollama.test", upstream=sim.url, tls="provided", certificate=str(b_cert), private_key=str(b_key), allow=["127.0.0.1"], hsts=True)
    assert a["binding"]["url"] == "https://a.ollama.test:%d" % nginx.https_port
    assert a["binding"]["tls"]["issuer"] == "CN=llmops test CA"
    assert a["binding"]["tls"]["days_left"] in (19, 20)

    # One port, two certificates: SNI picks the right one, verified against the test CA (curl --resolve).
    for name in ("a.ollama.test", "a-alias.ollama.test", "b.ollama.test"):
        done = curl(
            "--cacert", str(ca.ca_file), "--resolve", "%s:%d:127.0.0.1" % (name, nginx.https_port), "https://%s:%d/api/version" % (name, nginx.https_port)
        )
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["version"]
    a_answer = request(nginx.https_port, "/", host="a.ollama.test", tls=True, ca_file=ca.ca_file)
    b_answer = request(nginx.https_port, "/", host="b.ollama.test", tls=True, ca_file=ca.ca_file)
    assert a_answer.status == b_answer.status == 200
    assert a_answer.body == b"Ollama is running"
    assert a_answer.peer_cert != b_answer.peer_cert
    assert "strict-transport-security" not in a_answer.headers
    assert b_answer.headers["strict-transport-security"] == "max-age=31536000"
    # A name the certificate does not cover fails verification.
    wrong = curl("--cacert", str(ca.ca_file), "--resolve", "c.ollama.test:%d:127.0.0.1" % nginx.https_port, "https://c.ollama.test:%d/" % nginx.https_port)
    assert wrong.returncode != 0

    # Plain HTTP: a 301 to HTTPS, except the ACME challenge, which any address may fetch without a key.
    redirect = request(nginx.http_port, "/api/tags?x=1", host="a.ollama.test")
    assert redirect.status == 301
    assert redirect.headers["location"] == "https://a.ollama.test:%d/api/tags?x=1" % nginx.https_port
    (nginx.acme_webroot / ".well-known" / "acme-challenge").mkdir(parents=True)
    (nginx.acme_webroot / ".well-known" / "acme-challenge" / "token123").write_text("token123.thumbprint")
    challenge = request(nginx.http_port, "/.well-known/acme-challenge/token123", host="a.ollama.test", source="127.0.0.2")
    assert (challenge.status, challenge.body) == (200, b"token123.thumbprint")


def test_selfsigned_certificate_verify_and_renewal(nginx: NginxServer, sim) -> None:
    result = bound(nginx, domain="self.ollama.test", aliases=["*.self.ollama.test"], upstream=sim.url, tls="selfsigned", allow=["127.0.0.1"], verify=True)
    tls = result["binding"]["tls"]
    assert tls["mode"] == "selfsigned"
    assert tls["issuer"] == "O=llmops.ollama self-signed,CN=self.ollama.test"
    assert Path(tls["private_key"]).stat().st_mode & 0o777 == 0o600
    assert result["certificate_renewed"] == "no certificate yet"
    for name in ("self.ollama.test", "x.self.ollama.test"):
        answer = request(nginx.https_port, "/api/version", host=name, tls=True, ca_file=tls["certificate"])
        assert answer.status == 200
    again = bound(nginx, domain="self.ollama.test", aliases=["*.self.ollama.test"], upstream=sim.url, tls="selfsigned", allow=["127.0.0.1"])
    assert again["changed"] is False
    renewed = bound(
        nginx,
        domain="self.ollama.test",
        aliases=["*.self.ollama.test"],
        upstream=sim.url,
        tls="selfsigned",
        allow=["127.0.0.1"],
        renew_days=400,
        selfsigned_days=500,
    )
    assert renewed["changed"] is True
    assert renewed["certificate_renewed"].startswith("it expires in")
    assert renewed["binding"]["tls"]["days_left"] in (499, 500)
    answer = request(nginx.https_port, "/api/version", host="self.ollama.test", tls=True, ca_file=tls["certificate"])
    assert answer.status == 200


# ---------------------------------------------------------------------------- allowlist and keys
def test_allowlist_refuses_other_addresses(nginx: NginxServer, sim) -> None:
    bound(nginx, domain="allow.ollama.test", upstream=sim.url, allow=["127.0.0.1", "10.0.0.0/8", "::1"])
    sim.clear_requests()
    for method, path in (("GET", "/"), ("GET", "/api/tags"), ("POST", "/api/pull"), ("GET", "/v1/models")):
        body = b'{"model": "qwen2.5:0.5b"}' if method == "POST" else None
        refused = request(nginx.http_port, path, host="allow.ollama.test", method=method, body=body, source="127.0.0.2")
        assert refused.status == 403, (path, refused.body)
        assert refused.json() == {"error": "forbidden: this address may not use this Ollama server"}
    assert sim.requests() == [], "a refused request reached Ollama"
    for path in ("/", "/api/tags", "/v1/models"):
        assert request(nginx.http_port, path, host="allow.ollama.test").status == 200


def test_api_keys(nginx: NginxServer, upstream: StreamingOllama) -> None:
    result = bound(nginx, domain="keys.ollama.test", upstream=upstream.url, allow=["127.0.0.1"], api_keys=[KEY, "second-key-0123456789"])
    assert result["binding"]["auth"] == {"mode": "bearer", "key_count": 2}
    keys_file = Path(result["binding"]["keys_file"])
    assert keys_file.stat().st_mode & 0o777 == 0o600
    for path in (Path(result["binding"]["config_file"]), keys_file.with_suffix(".json")):
        assert KEY not in path.read_text()

    def ask(headers: dict[str, str] | None = None, source: str = "127.0.0.1"):
        return request(nginx.http_port, "/api/tags", host="keys.ollama.test", headers=headers, source=source)

    missing = ask()
    assert missing.status == 401
    assert missing.headers["www-authenticate"] == 'Bearer realm="ollama"'
    assert "valid API key" in missing.json()["error"]
    wrong = ask({"Authorization": "Bearer " + OTHER_KEY})
    assert wrong.status == 401
    assert wrong.headers["www-authenticate"].startswith("Bearer")
    assert ask({"Authorization": "Bearer " + KEY.upper()}).status == 401, "keys must match case-sensitively"
    assert ask({"Authorization": "Bearer " + KEY + "x"}).status == 401
    assert ask({"Authorization": "Basic " + KEY}).status == 401
    upstream.seen.clear()
    assert ask({"Authorization": "Bearer " + KEY}).status == 200
    assert ask({"Authorization": "bearer second-key-0123456789"}).status == 200
    # Ollama gets the Host it accepts, and never the key.
    assert [seen["host"] for seen in upstream.seen] == ["localhost:11434", "localhost:11434"]
    assert all("authorization" not in seen for seen in upstream.seen)
    # The allowlist is checked first: a stranger with a valid key still gets 403.
    assert ask({"Authorization": "Bearer " + KEY}, source="127.0.0.2").status == 403


def test_action_group_defaults_reach_all_three_modules(nginx: NginxServer, sim) -> None:
    args = nginx.module_args(domain="group.ollama.test", allow=["127.0.0.1"], api_keys=[KEY])
    run = run_playbook("domain_group.yml", {"domain_args": args, "group_api_url": sim.url, "group_api_key": KEY})
    assert run.rc == 0, run.stderr
    assert run.results("Bind")["binding"]["upstreams"] == [sim.url]
    assert [b["domain"] for b in run.results("Read bindings")["bindings"]] == ["group.ollama.test"]
    probe = run.results("Probe through the proxy")
    assert probe["healthy"] is True, probe["reason"]
    assert KEY not in run.stdout


def test_rate_limit_answers_429(nginx: NginxServer, upstream: StreamingOllama) -> None:
    bound(nginx, domain="rate.ollama.test", upstream=upstream.url, allow=["127.0.0.1"], rate_limit=1, rate_limit_burst=0)
    statuses = [request(nginx.http_port, "/api/version", host="rate.ollama.test").status for _round in range(4)]
    assert statuses[0] == 200
    assert 429 in statuses
    limited = [request(nginx.http_port, "/api/version", host="rate.ollama.test") for _round in range(2)][-1]
    assert limited.status == 429
    assert limited.json()["error"].startswith("too many requests")


# ---------------------------------------------------------------------------- streaming and the real client
def test_streaming_lines_arrive_one_by_one(nginx: NginxServer, ca: LoopbackCA, upstream: StreamingOllama, make_sim) -> None:
    cert, key = ca.issue(["stream.ollama.test"], "stream")
    common = {"tls": "provided", "certificate": str(cert), "private_key": str(key), "allow": ["127.0.0.1"], "api_keys": [KEY]}
    bound(nginx, domain="stream.ollama.test", upstream=upstream.url, **common)
    auth = {"Authorization": "Bearer " + KEY}
    delays = []
    arrivals = []
    for arrived, line in stream_lines(nginx.https_port, "/api/pull", {"model": "x"}, host="stream.ollama.test", tls=True, ca_file=ca.ca_file, headers=auth):
        item = json.loads(line)
        arrivals.append(arrived)
        if "sent" in item:
            delays.append(arrived - item["sent"])
    assert len(delays) == 10
    # Each line comes through as it is sent (the upstream sends one every 100 ms), not in one block at the end.
    assert max(delays) < 0.05, delays
    assert statistics.median(delays) < 0.01, delays
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert min(gaps[:9]) > 0.05, gaps

    # The simulator's own pull stream through the same proxy. At 4 MB/s the large layer sends a
    # progress line every tick for about 0.8 s; the small layers, "verifying sha256 digest",
    # "writing manifest" and "success" follow it at once, so only the large layer's lines are
    # spaced by the sender and can show whether the proxy passes them on one by one.
    slow = make_sim(name="stream-models", rate=4_000_000.0)
    cert2, key2 = ca.issue(["stream2.ollama.test"], "stream2")
    bound(nginx, domain="stream2.ollama.test", upstream=slow.url, **{**common, "certificate": str(cert2), "private_key": str(key2)})
    by_digest: dict[str, list[float]] = {}
    for arrived, line in stream_lines(
        nginx.https_port, "/api/pull", {"model": "qwen2.5:0.5b"}, host="stream2.ollama.test", tls=True, ca_file=ca.ca_file, headers=auth
    ):
        digest = json.loads(line).get("digest")
        if digest:
            by_digest.setdefault(digest, []).append(arrived)
    times = max(by_digest.values(), key=len)
    assert len(times) > 10, by_digest
    assert times[-1] - times[0] > 0.4, times
    buckets = len({int((t - times[0]) / 0.02) for t in times})
    assert buckets > len(times) // 2, "the pull lines arrived in blocks, not one by one: %s" % [round(t - times[0], 3) for t in times]


@pytest.fixture
def resolve_to_loopback(monkeypatch: pytest.MonkeyPatch):
    """Names under .ollama.test resolve to 127.0.0.1 in this process (the client uses the system resolver)."""
    real = socket.getaddrinfo

    def fake(host: Any, *args: Any, **kwargs: Any):
        if isinstance(host, str) and host.endswith(".ollama.test"):
            host = "127.0.0.1"
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)


def test_official_ollama_client_through_the_tls_proxy(nginx: NginxServer, ca: LoopbackCA, make_sim, resolve_to_loopback) -> None:
    import ollama

    slow = make_sim(name="client-models", rate=20_000_000.0)
    cert, key = ca.issue(["client.ollama.test"], "client")
    result = bound(
        nginx, domain="client.ollama.test", upstream=slow.url, tls="provided", certificate=str(cert), private_key=str(key), allow=["127.0.0.1"], api_keys=[KEY]
    )
    url = result["binding"]["url"]
    client = ollama.Client(host=url, headers={"Authorization": "Bearer " + KEY}, verify=ssl.create_default_context(cafile=str(ca.ca_file)), timeout=60)
    progress = list(client.pull("qwen2.5:0.5b", stream=True))
    assert progress[-1].status == "success"
    assert any(p.completed for p in progress)
    assert [m.model for m in client.list().models] == ["qwen2.5:0.5b"]
    answer = client.generate(model="qwen2.5:0.5b", prompt="Say hi", stream=False)
    assert answer.done is True
    chunks = list(client.chat(model="qwen2.5:0.5b", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert chunks[-1].done is True
    assert len(chunks) > 1
    denied = ollama.Client(host=url, headers={"Authorization": "Bearer " + OTHER_KEY}, verify=ssl.create_default_context(cafile=str(ca.ca_file)), timeout=30)
    with pytest.raises(ollama.ResponseError) as info:
        denied.list()
    assert info.value.status_code == 401


# ---------------------------------------------------------------------------- safe apply
@pytest.mark.parametrize("broken", ["missing", "garbage"])
def test_rollback_on_a_broken_certificate(nginx: NginxServer, ca: LoopbackCA, sim, broken: str) -> None:
    cert, key = ca.issue(["rb.ollama.test"], "rb")
    common = {"domain": "rb.ollama.test", "upstream": sim.url, "tls": "provided", "private_key": str(key), "allow": ["127.0.0.1"], "api_keys": [KEY]}
    bound(nginx, certificate=str(cert), **common)
    auth = {"Authorization": "Bearer " + KEY}
    before_answer = request(nginx.https_port, "/api/tags", host="rb.ollama.test", tls=True, ca_file=ca.ca_file, headers=auth)
    assert before_answer.status == 200
    before_tree = tree_digest(nginx.conf_d)
    before_workers = nginx.generation()

    bad = ca.directory / "bad.pem"
    if broken == "garbage":
        bad.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n")
    run = bind(nginx, certificate=str(bad), **{**common, "allow": ["127.0.0.1", "10.0.0.0/8"]})
    assert run.rc == 2
    result = run.results("Bind")
    assert result["failed"] is True
    # Checked before anything is written (issue 13, class 5); nginx -t's roll back is exercised by the next test.
    assert result["msg"].startswith("the certificate for rb.ollama.test was refused before anything was changed: ")
    assert str(bad) in result["msg"]
    assert result["certificate_issues"] == ["unreadable"]
    no_traceback(run)
    # The previous files, byte for byte, no stray file, no backup left by the failed attempt, no reload.
    assert tree_digest(nginx.conf_d) == before_tree
    assert nginx.generation() == before_workers
    after_answer = request(nginx.https_port, "/api/tags", host="rb.ollama.test", tls=True, ca_file=ca.ca_file, headers=auth)
    assert (after_answer.status, after_answer.body, after_answer.peer_cert) == (before_answer.status, before_answer.body, before_answer.peer_cert)


def test_rollback_of_a_selfsigned_binding_removes_the_tls_directory_it_made(nginx: NginxServer, sim) -> None:
    """nginx -t fails (a duplicate upstream name in another file): the new certificate, key and the directories made for them go."""
    args = {"domain": "rbself.ollama.test", "upstream": sim.url, "tls": "selfsigned", "allow": ["127.0.0.1"], "api_keys": [KEY]}
    ident = "llmops_ollama_" + hashlib.sha256(b"rbself.ollama.test").hexdigest()[:12]
    # Valid on its own, so nginx -t passes before the change and fails only with it.
    (nginx.conf_d / "hand-upstream.conf").write_text("upstream %s {\n    server 127.0.0.1:1;\n}\n" % ident)
    subprocess.run([*nginx.base_args, "-t", "-q"], check=True, capture_output=True, timeout=30)
    tls_root = nginx.root / "tls"
    tls_dir = tls_root / "nested"
    assert not tls_root.exists()
    before_tree = tree_digest(nginx.conf_d)
    before_root = sorted(p.name for p in nginx.root.iterdir())
    workers = nginx.generation()

    run = bind(nginx, tls_dir=str(tls_dir), **args)
    assert run.rc == 2
    result = run.results("Bind")
    assert result["msg"].startswith("nginx -t rejected the new configuration for rbself.ollama.test, so the previous files were restored")
    assert "duplicate upstream" in result["msg"]
    no_traceback(run)
    assert tree_digest(nginx.conf_d) == before_tree
    assert not tls_root.exists(), sorted(str(p) for p in tls_root.rglob("*"))
    assert sorted(p.name for p in nginx.root.iterdir()) == before_root
    assert nginx.generation() == workers

    # With the tls directory already there (and another file in it), the same failure leaves it exactly as it was.
    tls_dir.mkdir(parents=True)
    (tls_dir / "other.pem").write_text("someone else's\n")
    before_tls = tree_digest(tls_root)
    run = bind(nginx, tls_dir=str(tls_dir), **args)
    assert run.rc == 2
    assert tree_digest(tls_root) == before_tls
    assert tree_digest(nginx.conf_d) == before_tree

    # Without the clash it applies, and the sidecar with the keys file's checksum is private.
    (nginx.conf_d / "hand-upstream.conf").unlink()
    applied = bound(nginx, tls_dir=str(tls_dir), **args)
    assert applied["changed"] is True
    assert (nginx.conf_d / "rbself.ollama.test.json").stat().st_mode & 0o777 == 0o600
    assert (tls_dir / "rbself.ollama.test.key").stat().st_mode & 0o777 == 0o600


def test_https_upstream_gets_its_host_name_as_sni(nginx: NginxServer, ca: LoopbackCA) -> None:
    """An https upstream sees its own host name as TLS server name, not the upstream block's llmops_ollama_... name."""
    cert, key = ca.issue(["tls-upstream.ollama.test"], "tls-upstream")
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.settimeout(10)
        port = listener.getsockname()[1]
        # The name resolves through nginx's resolver at load time: an /etc/hosts name is not guaranteed, so use localhost.
        bound(nginx, domain="sni.ollama.test", upstream="https://localhost:%d" % port, allow=["127.0.0.1"])
        text = (nginx.conf_d / "sni.ollama.test.conf").read_text()
        assert "proxy_ssl_name localhost;" in text

        def serve_one() -> None:
            conn, _addr = listener.accept()
            with conn:
                try:
                    with context.wrap_socket(conn, server_side=True) as tls:
                        tls.recv(4096)
                        tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
                except (OSError, ssl.SSLError):
                    pass

        server = threading.Thread(target=serve_one, daemon=True)
        server.start()
        answer = request(nginx.http_port, "/api/version", host="sni.ollama.test")
        server.join(10)
    assert names == ["localhost"]
    assert answer.status == 200


def test_idempotence_check_mode_diff_and_absent(nginx: NginxServer, sim) -> None:
    args = {"domain": "idem.ollama.test", "upstream": sim.url, "allow": ["127.0.0.1"], "api_keys": [KEY]}
    first = bound(nginx, **args)
    assert first["changed"] is True
    assert first["binding"]["backup_file"] is None
    second = bound(nginx, **args)
    assert second["changed"] is False
    tree = tree_digest(nginx.conf_d)

    # Check mode with a change: reports it with a diff, writes nothing, does not reload.
    workers = nginx.generation()
    run = bind(nginx, check=True, diff=True, **{**args, "allow": ["127.0.0.1", "192.168.0.0/16"], "api_keys": [KEY, OTHER_KEY]})
    assert run.rc == 0, run.stderr
    preview = run.results("Bind")
    assert preview["changed"] is True
    conf_diff = preview["diff"][0]
    assert "allow 192.168.0.0/16;" in conf_diff["after"]
    assert "allow 192.168.0.0/16;" not in conf_diff["before"]
    assert preview["diff"][1]["after"] == "(2 API keys, not shown; changed)\n"
    assert KEY not in run.stdout and OTHER_KEY not in run.stdout
    assert tree_digest(nginx.conf_d) == tree
    assert nginx.generation() == workers

    # The real change keeps a backup of the previous file.
    changed = bound(nginx, **{**args, "allow": ["127.0.0.1", "192.168.0.0/16"]})
    backup = Path(changed["binding"]["backup_file"])
    assert backup.is_file()
    assert "192.168.0.0/16" not in backup.read_text()

    # absent: check mode first, then for real; files go, nginx reloads and stops answering for the name.
    run = bind(nginx, check=True, domain="idem.ollama.test", state="absent")
    assert run.results("Bind")["changed"] is True
    assert (nginx.conf_d / "idem.ollama.test.conf").exists()
    gone = bound(nginx, domain="idem.ollama.test", state="absent")
    assert gone["changed"] is True
    assert sorted(p.name for p in nginx.conf_d.iterdir()) == [".llmops-ollama-backups"]
    with pytest.raises(OSError):
        request(nginx.http_port, "/", host="idem.ollama.test", timeout=2)
    assert bound(nginx, domain="idem.ollama.test", state="absent")["changed"] is False


def test_conflicts_are_detected(nginx: NginxServer, sim) -> None:
    hand = nginx.conf_d / "hand-written.conf"
    hand.write_text("server {\n    listen 127.0.0.1:%d;\n    server_name www.ollama.test conflict.ollama.test;\n    return 200;\n}\n" % nginx.http_port)
    subprocess.run([*nginx.base_args, "-s", "reload"], check=True, timeout=10)
    tree = tree_digest(nginx.conf_d)
    run = bind(nginx, domain="conflict.ollama.test", upstream=sim.url, allow=["127.0.0.1"])
    assert run.rc == 2
    msg = run.results("Bind")["msg"]
    assert "%s (line 1) already serves conflict.ollama.test on port %d" % (hand, nginx.http_port) in msg
    assert "force: true" in msg
    assert tree_digest(nginx.conf_d) == tree
    # An alias of a managed binding conflicts too.
    bound(nginx, domain="first.ollama.test", upstream=sim.url, allow=["127.0.0.1"])
    run = bind(nginx, domain="second.ollama.test", aliases=["first.ollama.test"], upstream=sim.url, allow=["127.0.0.1"])
    assert run.rc == 2
    assert "first.ollama.test.conf (line 10) already serves first.ollama.test" in run.results("Bind")["msg"]
    # force overrides, with a warning.
    forced = bound(nginx, domain="conflict.ollama.test", upstream=sim.url, allow=["127.0.0.1"], force=True)
    assert forced["changed"] is True
    assert any("conflict overridden by force" in w for w in forced.get("warnings", []))


def test_verify_reports_a_dead_upstream(nginx: NginxServer) -> None:
    dead = "http://127.0.0.1:%d" % free_port()
    run = bind(nginx, domain="dead.ollama.test", upstream=dead, allow=["127.0.0.1"], verify=True, verify_timeout=1)
    assert run.rc == 2
    assert "verify failed: GET /api/version through the proxy answered HTTP 502" in run.results("Bind")["msg"]


def test_upstream_group_spreads_and_survives_a_dead_member(nginx: NginxServer) -> None:
    with StreamingOllama() as one, StreamingOllama() as two:
        result = bound(nginx, domain="group2.ollama.test", upstreams=[one.url, two.url], allow=["127.0.0.1"])
        assert result["binding"]["upstreams"] == [one.url, two.url]
        for _round in range(6):
            assert request(nginx.http_port, "/api/version", host="group2.ollama.test").status == 200
        assert one.seen and two.seen
        two.shutdown()
        two.server_close()
        statuses = [request(nginx.http_port, "/api/version", host="group2.ollama.test").status for _round in range(6)]
        assert statuses.count(200) == 6


# ---------------------------------------------------------------------------- ollama_domain_info
def test_domain_info_reports_drift_and_expiry(nginx: NginxServer, ca: LoopbackCA, sim) -> None:
    cert, key = ca.issue(["info.ollama.test"], "info", days=10)
    bound(nginx, domain="info.ollama.test", upstream=sim.url, tls="provided", certificate=str(cert), private_key=str(key), allow=["127.0.0.1"], api_keys=[KEY])
    bound(nginx, domain="plain.ollama.test", upstream=sim.url, public=True, api_keys=[KEY])
    run = run_playbook("domain_info.yml", {"info_config_dir": str(nginx.conf_d)}, check=True)
    assert run.rc == 0, run.stderr
    bindings = run.results("Read bindings")["bindings"]
    assert [b["domain"] for b in bindings] == ["info.ollama.test", "plain.ollama.test"]
    info = bindings[0]
    assert info["drift"] is False
    assert info["tls"]["days_left"] in (9, 10)
    assert info["tls"]["issuer"] == "CN=llmops test CA"
    assert info["auth"] == {"mode": "bearer", "key_count": 1}
    assert bindings[1]["public"] is True
    assert KEY not in run.stdout

    conf = nginx.conf_d / "info.ollama.test.conf"
    conf.write_text(conf.read_text().replace("proxy_read_timeout 600s;", "proxy_read_timeout 60s;"))
    run = run_playbook("domain_info.yml", {"info_config_dir": str(nginx.conf_d), "info_domain": "INFO.ollama.test"})
    one = run.results("Read bindings")["bindings"]
    assert len(one) == 1
    assert one[0]["drift"] is True
    assert one[0]["drift_reasons"] == ["%s was edited by hand" % conf]
    # Applying again repairs the drift.
    again = bound(
        nginx, domain="info.ollama.test", upstream=sim.url, tls="provided", certificate=str(cert), private_key=str(key), allow=["127.0.0.1"], api_keys=[KEY]
    )
    assert again["changed"] is True
    run = run_playbook("domain_info.yml", {"info_config_dir": str(nginx.conf_d), "info_domain": "info.ollama.test"})
    assert run.results("Read bindings")["bindings"][0]["drift"] is False


# ---------------------------------------------------------------------------- hostile input
HOSTILE: list[tuple[str, dict[str, Any], str]] = [
    ("domain newline", {"domain": "ok.ollama.test\n    server_name evil.test"}, "white space or a control character"),
    ("domain semicolon", {"domain": "ok.ollama.test;"}, "contains ';'"),
    ("domain open brace", {"domain": "ok{.ollama.test"}, "contains '{'"),
    ("domain close brace", {"domain": "ok}.ollama.test"}, "contains '}'"),
    ("domain dollar", {"domain": "$host.ollama.test"}, "contains '$'"),
    ("domain double quote", {"domain": 'ok".ollama.test'}, "contains '\"'"),
    ("domain single quote", {"domain": "ok'.ollama.test"}, 'contains "\'"'),
    ("domain misplaced wildcard", {"domain": "a.*.ollama.test"}, "misplaced wildcard"),
    ("domain label too long", {"domain": "a" * 64 + ".test"}, "label of 64 characters"),
    ("alias newline", {"aliases": ["x.ollama.test\nlocation /"]}, "aliases[0]"),
    ("alias semicolon", {"aliases": ["x.ollama.test;"]}, "aliases[0] 'x.ollama.test;' contains ';'"),
    ("alias quote", {"aliases": ["ok.test", "x'.ollama.test"]}, "aliases[1]"),
    ("upstream with a path", {"upstream": "http://127.0.0.1:11434/api"}, "has a path"),
    ("upstream with credentials", {"upstream": "http://admin:hunter2@127.0.0.1:11434"}, "must not carry credentials"),
    ("upstream semicolon", {"upstream": "http://127.0.0.1;return:11434"}, "has a host with ';'"),
    ("upstream brace", {"upstream": "http://127.0.0.1:11434{"}, "is not a port number"),
    ("upstream newline", {"upstream": "http://127.0.0.1:11434\nproxy_pass http://evil"}, "white space or a control character"),
    ("upstream dollar", {"upstream": "http://$host:11434"}, "has a host with '$'"),
    ("upstream quote", {"upstreams": ["http://127.0.0.1:11434", 'http://127.0.0.1:1"']}, "upstreams[1]"),
    ("upstream without scheme", {"upstream": "127.0.0.1:11434"}, "has no scheme"),
    ("upstream port out of range", {"upstream": "http://127.0.0.1:70000"}, "out of range"),
    ("key newline", {"api_keys": ["abcdefghijklmnop\n}"]}, "api_keys[0] is not an RFC 6750 bearer token"),
    ("key semicolon", {"api_keys": [KEY, "abcdefghijklmnop;"]}, "api_keys[1] is not an RFC 6750 bearer token"),
    ("key quote", {"api_keys": ['abcdefghij"klmnop']}, "api_keys[0] is not an RFC 6750 bearer token"),
    ("key braces and dollar", {"api_keys": ["abc${x}defghijklmnop"]}, "api_keys[0] is not an RFC 6750 bearer token"),
    ("key with space", {"api_keys": ["Bearer abcdefghijklmnop"]}, "api_keys[0] is not an RFC 6750 bearer token"),
    ("certificate semicolon", {"tls": "provided", "certificate": "/tmp/a.pem;include /etc/shadow", "private_key": "/tmp/a.key"}, "certificate"),
    ("private key newline", {"tls": "provided", "certificate": "/tmp/a.pem", "private_key": "/tmp/a.key\nssl off"}, "private_key"),
    ("certificate braces", {"tls": "provided", "certificate": "/tmp/{a}.pem", "private_key": "/tmp/a.key"}, "contains '{' '}'"),
    ("certificate quote", {"tls": "provided", "certificate": '/tmp/a".pem', "private_key": "/tmp/a.key"}, "contains '\"'"),
    ("certificate relative", {"tls": "provided", "certificate": "a.pem", "private_key": "/tmp/a.key"}, "not an absolute path"),
    ("acme webroot quote", {"acme_webroot": "/var/www/'x'"}, "acme_webroot"),
    ("allow invalid CIDR", {"allow": ["10.0.0.0/33"]}, "allow[0] '10.0.0.0/33' is not an IP address or CIDR network"),
    ("allow host bits", {"allow": ["10.0.0.1/8"]}, "did you mean 10.0.0.0/8"),
    ("allow injection", {"allow": ["127.0.0.1; allow all"]}, "white space"),
    ("allow word", {"allow": ["all"]}, "allow[0] 'all' is not an IP address"),
    ("allow everything", {"allow": ["0.0.0.0/0"]}, "set public: true instead"),
    ("allow empty", {"allow": []}, "allow is empty"),
    ("allow bad IPv6", {"allow": ["2001:db8::/129"]}, "is not an IP address or CIDR network"),
    ("http port zero", {"http_port": 0}, "http_port 0 is out of range"),
    ("https port too big", {"tls": "selfsigned", "https_port": 65536}, "https_port 65536 is out of range"),
    ("port not a number", {"http_port": "80;"}, "http_port"),
    ("listen address injection", {"listen_address": "127.0.0.1:80 default_server"}, "listen_address"),
    ("tls protocol injection", {"tls": "selfsigned", "tls_protocols": ["TLSv1.2;"]}, "tls_protocols"),
    ("rate limit negative", {"rate_limit": -1}, "rate_limit -1 is out of range"),
    # Python's ipaddress keeps an IPv6 zone index of any characters ("fe80::1%<anything>").
    ("listen address zone index injection", {"listen_address": "fe80::1%e0;}{$\"'"}, "listen_address 'fe80::1%e0;}{$\"\\'' has an IPv6 zone index"),
    ("listen address bracketed zone index", {"listen_address": "[fe80::1%e0;}{$\"']"}, "has an IPv6 zone index"),
    ("allow zone index injection", {"allow": ["127.0.0.1", "fe80::1%x;internal;"]}, "allow[1] 'fe80::1%x;internal;' has an IPv6 zone index"),
    ("allow zone index", {"allow": ["fe80::1%eth0"]}, "has an IPv6 zone index"),
    ("key trailing newline", {"api_keys": ["abcdefghijklmnop\n"]}, "api_keys[0] ends with a newline"),
    ("key trailing CRLF", {"api_keys": [KEY, "abcdefghijklmnop\r\n"]}, "api_keys[1] ends with a newline"),
    ("https upstreams on different hosts", {"upstreams": ["https://a.ollama.test:8443", "https://b.ollama.test:8443"]}, "different hosts"),
]


@pytest.mark.long
def test_hostile_inputs_fail_clearly_and_change_nothing(nginx: NginxServer, sim) -> None:
    assert len(HOSTILE) >= 25
    bound(nginx, domain="safe.ollama.test", upstream=sim.url, allow=["127.0.0.1"], api_keys=[KEY])
    tree = tree_digest(nginx.conf_d)
    workers = nginx.generation()
    base = nginx.module_args(domain="ok.ollama.test", allow=["127.0.0.1"])
    cases = [{"name": name, "args": args} for name, args, _fragment in HOSTILE]
    run = run_playbook("domain_hostile.yml", {"base_args": base, "cases": cases}, timeout=240)
    no_traceback(run)
    results = run.results("Bind hostile")["results"]
    assert len(results) == len(HOSTILE)
    for (name, _unused, fragment), result in zip(HOSTILE, results):
        # The play sets failed_when: false to go on; a refusal has a msg and no binding.
        assert "binding" not in result and result.get("msg"), (name, result)
        assert fragment in result["msg"], (name, result["msg"])
        assert "hunter2" not in result["msg"], name
        # The keys are no_log: never echoed by the module (the loop item itself is the test's own data).
        echoed = json.dumps({k: v for k, v in result.items() if k not in ("item", "_ansible_item_label")})
        assert "abcdefghijklmnop" not in echoed, name
    assert tree_digest(nginx.conf_d) == tree
    assert not (nginx.root / "tls").exists()
    assert nginx.generation() == workers
