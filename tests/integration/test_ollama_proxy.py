# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_proxy role in real ansible-playbook runs: a private nginx, the simulator, and Pebble for ACME."""

from __future__ import annotations

import hashlib
import os
import re
import signal
import ssl
import subprocess
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.nginx_fixture import NGINX, LoopbackCA, NginxServer, Pebble, request, request_until
from tests.integration.playbook import PlaybookRun, run_playbook

pytestmark = pytest.mark.integration

KEY = "role-key-0123456789abcdefghijklmnop"


def role_vars(nginx: NginxServer, domains: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """The role pointed at the test nginx: no package install, the binary as service manager."""
    values: dict[str, Any] = {
        "ollama_proxy_install": False,
        "ollama_proxy_service_manager": "binary",
        "ollama_proxy_nginx_binary": NGINX,
        "ollama_proxy_nginx_conf": str(nginx.conf),
        "ollama_proxy_nginx_prefix": str(nginx.root),
        "ollama_proxy_pid_file": str(nginx.pid_file),
        "ollama_proxy_config_dir": str(nginx.conf_d),
        "ollama_proxy_tls_dir": str(nginx.root / "tls"),
        "ollama_proxy_acme_dir": str(nginx.root / "acme-certs"),
        "ollama_proxy_acme_webroot": str(nginx.acme_webroot),
        "ollama_proxy_access_log_dir": str(nginx.root / "logs"),
        "ollama_proxy_domain_defaults": {"listen_address": "127.0.0.1", "http_port": nginx.http_port, "https_port": nginx.https_port},
        "ollama_proxy_domains": domains,
    }
    values.update(extra)
    return values


def tasks_that_ran(run: PlaybookRun) -> dict[str, list[dict[str, Any]]]:
    """Results by task name (without the role prefix), for the tasks that were not skipped.

    The role binds and verifies every domain in one looped task each ("Domains, bind",
    "Domains, verify"): their items are listed as "Bind <domain>" and "Verify <domain>".
    """
    found: dict[str, list[dict[str, Any]]] = {}
    for play in run.data["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost")
            name = task["task"]["name"].split(" : ", 1)[-1]
            if result is None or result.get("skipped"):
                continue
            if name in ("Domains, bind", "Domains, verify"):
                for item in result.get("results", []):
                    if not item.get("skipped"):
                        found.setdefault("%s %s" % (name.split()[-1].title(), item["ollama_proxy_domain_name"]), []).append(item)
                continue
            found.setdefault(name, []).append(result)
    return found


def test_role_binds_domains_and_reloads_once(nginx: NginxServer, sim) -> None:
    domains = [
        {"domain": "roles.ollama.test", "upstream": sim.url, "tls": "selfsigned", "allow": ["127.0.0.1"], "api_keys": [KEY], "verify": True},
        {"domain": "open.ollama.test", "upstream": sim.url, "public": True, "api_keys": [KEY]},
    ]
    run = run_playbook("proxy_role.yml", role_vars(nginx, domains), timeout=180)
    assert run.rc == 0, run.stderr + run.stdout[-3000:]
    ran = tasks_that_ran(run)
    assert [r["changed"] for r in ran["Bind roles.ollama.test"]] == [True]
    assert [r["changed"] for r in ran["Verify roles.ollama.test"]] == [False]
    # checked from outside: the certificate just configured, 200 with the key, 401 without it
    verified = ran["Verify roles.ollama.test"][0]["verified"]
    der = ssl.PEM_cert_to_DER_cert((nginx.root / "tls" / "roles.ollama.test.crt").read_text())
    assert verified["certificate_sha256"] == hashlib.sha256(der).hexdigest()
    assert (verified["port"], verified["with_key"], verified["without_key"]) == (nginx.https_port, 200, 401)
    assert ran["Verify open.ollama.test"][0]["verified"]["without_key"] == 401
    assert len(ran["Validate the nginx configuration"]) == 1
    assert len(ran["Reload nginx with its binary"]) == 1
    assert "Start nginx" not in ran
    assert KEY not in run.stdout

    cert = nginx.root / "tls" / "roles.ollama.test.crt"
    answer = request_until(
        lambda a: a.status == 200,
        port=nginx.https_port,
        path="/api/tags",
        host="roles.ollama.test",
        tls=True,
        ca_file=cert,
        headers={"Authorization": "Bearer " + KEY},
    )
    assert answer.status == 200
    assert request(nginx.https_port, "/api/tags", host="roles.ollama.test", tls=True, ca_file=cert).status == 401
    assert request(nginx.http_port, "/api/tags", host="open.ollama.test", source="127.0.0.2", headers={"Authorization": "Bearer " + KEY}).status == 200

    again = run_playbook("proxy_role.yml", role_vars(nginx, domains), timeout=180)
    assert again.rc == 0, again.stderr
    assert again.stats["changed"] == 0
    assert "Reload nginx with its binary" not in tasks_that_ran(again)

    # An entry set to absent goes away, and nginx reloads.
    domains[1]["state"] = "absent"
    gone = run_playbook("proxy_role.yml", role_vars(nginx, domains), timeout=180)
    assert gone.rc == 0, gone.stderr
    assert not (nginx.conf_d / "open.ollama.test.conf").exists()
    assert len(tasks_that_ran(gone)["Reload nginx with its binary"]) == 1


def test_role_starts_nginx_when_it_does_not_run(tmp_path: Path, sim) -> None:
    nginx = NginxServer(tmp_path / "stopped")
    try:
        run = run_playbook("proxy_role.yml", role_vars(nginx, [{"domain": "start.ollama.test", "upstream": sim.url, "allow": ["127.0.0.1"]}]), timeout=180)
        assert run.rc == 0, run.stderr + run.stdout[-3000:]
        assert tasks_that_ran(run)["Start nginx"][0]["changed"] is True
        answer = request_until(lambda a: a.status == 200, port=nginx.http_port, path="/api/version", host="start.ollama.test")
        assert answer.status == 200
    finally:
        # The role started this nginx as a daemon; stop exactly that master, by the pid it wrote.
        if nginx.pid_file.exists():
            os.kill(int(nginx.pid_file.read_text().strip()), signal.SIGTERM)


def test_role_fails_when_another_server_holds_the_port(nginx: NginxServer, tmp_path: Path, sim) -> None:
    """A second standalone nginx for the same ports: the role names the port and its holder, never reports success."""
    domain = {"domain": "held.ollama.test", "upstream": sim.url, "tls": "selfsigned", "allow": ["127.0.0.1"], "api_keys": [KEY]}
    first = run_playbook("proxy_role.yml", role_vars(nginx, [domain]), timeout=180)
    assert first.rc == 0, first.stdout[-3000:]
    holder = int(nginx.pid_file.read_text().strip())

    second = NginxServer(tmp_path / "second")
    second.http_port, second.https_port = nginx.http_port, nginx.https_port
    try:
        run = run_playbook("proxy_role.yml", role_vars(second, [domain]), timeout=180)
        assert run.rc != 0, run.stdout[-3000:]
        messages = " ".join(failure_messages(run))
        assert "port %d" % nginx.https_port in messages, messages
        assert "pid %d" % holder in messages and "nginx" in messages, messages
        assert KEY not in run.stdout
    finally:
        if second.pid_file.exists():
            os.kill(int(second.pid_file.read_text().strip()), signal.SIGTERM)
    # the first binding still answers with its own certificate
    cert = nginx.root / "tls" / "held.ollama.test.crt"
    answer = request(nginx.https_port, "/api/version", host="held.ollama.test", tls=True, ca_file=cert, headers={"Authorization": "Bearer " + KEY})
    assert answer.status == 200


def test_role_refuses_bad_variables(nginx: NginxServer) -> None:
    cases = [
        ([{"domain": "a.ollama.test", "allow": ["127.0.0.1"]}, {"domain": "A.ollama.test", "allow": ["127.0.0.1"]}], {}, "each domain may appear once"),
        ([{"domain": "acme.ollama.test", "tls": "acme", "allow": ["127.0.0.1"]}], {}, "ollama_proxy_acme_terms_agreed: true"),
        ([{"domain": "a.ollama.test", "allow": ["127.0.0.1"], "api_kyes": [KEY]}], {}, "api_kyes"),
        ([{"domain": "a.ollama.test"}], {}, "allow is empty"),
    ]
    for domains, extra, fragment in cases:
        run = run_playbook("proxy_role.yml", role_vars(nginx, domains, **extra), timeout=120)
        assert run.rc != 0, domains
        assert fragment in run.stdout, (fragment, run.stdout[-2000:])
        assert KEY not in run.stdout
    assert list(nginx.conf_d.iterdir()) == []


def failure_messages(run: PlaybookRun) -> list[str]:
    """The msg of every failed task result (and failed loop item) of the run."""
    found: list[str] = []
    for play in run.data["plays"]:
        for task in play["tasks"]:
            for result in task["hosts"].values():
                for item in [result, *result.get("results", [])]:
                    if item.get("failed") and item.get("msg") and not (item is result and result.get("results")):
                        found.append(item["msg"])
    return found


def test_role_refuses_hostile_standalone_settings(nginx: NginxServer, tmp_path: Path) -> None:
    """The standalone main configuration is a template: every value in it is checked before anything changes."""
    standalone = tmp_path / "standalone"
    good = {
        "ollama_proxy_standalone": True,
        "ollama_proxy_nginx_conf": str(standalone / "nginx.conf"),
        "ollama_proxy_nginx_prefix": str(standalone),
        "ollama_proxy_pid_file": str(standalone / "nginx.pid"),
        "ollama_proxy_config_dir": str(standalone / "conf.d"),
    }
    domains = [{"domain": "a.ollama.test", "allow": ["127.0.0.1"], "api_keys": [KEY]}]
    cases = [
        ({"ollama_proxy_standalone_user": "root;\nworker_processes 64"}, 'ollama_proxy_standalone_user "root;\\nworker_processes 64" is not a user name'),
        ({"ollama_proxy_standalone_user": "www data"}, 'ollama_proxy_standalone_user "www data" is not a user name'),
        ({"ollama_proxy_standalone_user": "Root"}, "is not a user name"),
        ({"ollama_proxy_standalone_user": "nginx\n"}, "is not a user name"),
        ({"ollama_proxy_nginx_prefix": str(standalone) + ";\nuser root"}, "ollama_proxy_nginx_prefix"),
        ({"ollama_proxy_nginx_prefix": str(standalone) + "/{x}"}, 'characters not allowed in it: "{" "}"'),
        ({"ollama_proxy_pid_file": str(standalone / "nginx.pid") + ";\ninclude /etc/shadow"}, "ollama_proxy_pid_file"),
        ({"ollama_proxy_pid_file": str(standalone / "nginx.pid") + "\n"}, 'characters not allowed in it: "\\n"'),
        ({"ollama_proxy_pid_file": str(standalone / "$pid")}, 'characters not allowed in it: "$"'),
        ({"ollama_proxy_config_dir": str(standalone / "conf.d") + "/*.conf; include /etc"}, "ollama_proxy_config_dir"),
        ({"ollama_proxy_config_dir": str(standalone / "conf'd")}, 'characters not allowed in it: "\'"'),
        ({"ollama_proxy_config_dir": str(standalone / ".." / "etc")}, "without . or .. segments"),
        ({"ollama_proxy_nginx_conf": str(standalone / 'nginx".conf')}, "ollama_proxy_nginx_conf"),
        ({"ollama_proxy_config_dir": "conf.d"}, 'ollama_proxy_config_dir "conf.d" is not usable: it must be an absolute path'),
    ]
    for extra, fragment in cases:
        run = run_playbook("proxy_role.yml", role_vars(nginx, domains, **{**good, **extra}), timeout=120)
        assert run.rc != 0, extra
        messages = failure_messages(run)
        assert len(messages) == 1, messages
        assert fragment in messages[0], (fragment, messages)
        assert messages[0].endswith("Nothing was changed."), messages
        assert KEY not in run.stdout
        # Refused in validate.yml, before the standalone directories or the main configuration exist.
        assert not standalone.exists(), extra
    assert list(nginx.conf_d.iterdir()) == []


@pytest.fixture
def pebble(tmp_path: Path, nginx: NginxServer) -> Iterator[Pebble]:
    server = Pebble(tmp_path / "pebble", LoopbackCA(tmp_path / "pebble-ca"), nginx.http_port)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_role_issues_an_acme_certificate_from_pebble(nginx: NginxServer, pebble: Pebble, sim, tmp_path: Path) -> None:
    domains = [
        {"domain": "acme.ollama.test", "aliases": ["acme-alias.ollama.test"], "upstream": sim.url, "tls": "acme", "allow": ["127.0.0.1"], "api_keys": [KEY]},
    ]
    acme = {
        "ollama_proxy_acme_directory": pebble.directory,
        "ollama_proxy_acme_ca_file": str(pebble.ca.ca_file),
        "ollama_proxy_acme_terms_agreed": True,
        "ollama_proxy_acme_email": "ops@example.com",
    }
    run = run_playbook("proxy_role.yml", role_vars(nginx, domains, **acme), timeout=240)
    assert run.rc == 0, run.stdout[-4000:] + pebble.log()
    ran = tasks_that_ran(run)
    assert ran["Order a certificate for acme.ollama.test"][0]["changed"] is True
    assert ran["Finish the order of acme.ollama.test"][0]["changed"] is True
    assert not list((nginx.acme_webroot / ".well-known" / "acme-challenge").iterdir()), "challenge files left behind"

    roots = tmp_path / "pebble-roots.pem"
    roots.write_bytes(pebble.root_certificates())
    for name in ("acme.ollama.test", "acme-alias.ollama.test"):
        answer = request_until(
            lambda a: a.status == 200,
            port=nginx.https_port,
            path="/api/version",
            host=name,
            tls=True,
            ca_file=roots,
            headers={"Authorization": "Bearer " + KEY},
        )
        assert answer.status == 200
    done = subprocess.run(
        [
            "curl",
            "-sS",
            "--max-time",
            "10",
            "--cacert",
            str(roots),
            "--resolve",
            "acme.ollama.test:%d:127.0.0.1" % nginx.https_port,
            "-H",
            "Authorization: Bearer " + KEY,
            "https://acme.ollama.test:%d/api/tags" % nginx.https_port,
        ],
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    binding = ran["Bind acme.ollama.test"][0]["binding"]
    assert binding["tls"]["mode"] == "acme"
    assert binding["tls"]["issuer"].startswith("CN=Pebble Intermediate CA")
    assert binding["tls"]["certificate"] == str(nginx.root / "acme-certs" / "acme.ollama.test.fullchain.pem")

    # The certificate is valid for years: the next run orders nothing and changes nothing.
    again = run_playbook("proxy_role.yml", role_vars(nginx, domains, **acme), timeout=240)
    assert again.rc == 0, again.stdout[-3000:]
    assert again.stats["changed"] == 0
    assert "Finish the order of acme.ollama.test" not in tasks_that_ran(again)


def test_health_report_proxy_line_comes_from_the_check_from_outside(nginx: NginxServer, sim) -> None:
    """issue 14: the report's proxy line is what the role's verify phase saw; without it, the configuration, marked not verified."""
    domains = [{"domain": "report.ollama.test", "upstream": sim.url, "tls": "selfsigned", "allow": ["127.0.0.1"], "api_keys": [KEY], "verify": True}]
    variables = role_vars(nginx, domains, ollama_api_url=sim.url, ollama_health_models_path=str(sim.data))
    run = run_playbook("proxy_health.yml", variables, timeout=180)
    assert run.rc == 0, run.stderr + run.stdout[-3000:]
    der = ssl.PEM_cert_to_DER_cert((nginx.root / "tls" / "report.ollama.test.crt").read_text())
    fingerprint = hashlib.sha256(der).hexdigest()
    line = run.results("Print the health report")["msg"][5]
    assert re.fullmatch(
        r"proxy: https://report\.ollama\.test:%d \(verified: certificate sha256 %s…, 401 without a key; \d+ days left\)" % (nginx.https_port, fingerprint[:4]),
        line,
    ), line
    assert run.results("Read the proxy bindings").get("skipped") is True, "no second reading of the configuration"
    assert KEY not in run.stdout

    files = run_playbook("proxy_health.yml", dict(variables, report_only=True), timeout=180)
    assert files.rc == 0, files.stderr + files.stdout[-3000:]
    line = files.results("Print the health report")["msg"][5]
    assert re.fullmatch(r"proxy: https://report\.ollama\.test:%d \(not verified; \d+ days of certificate left\)" % nginx.https_port, line), line
