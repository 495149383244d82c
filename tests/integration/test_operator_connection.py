# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared connection options through a real nginx: TLS from a private CA, an API key, HTTP basic auth."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Tuple

import pytest

from tests.integration.nginx_fixture import LoopbackCA, NginxServer, free_port
from tests.integration.playbook import REPO, playbook_command, run_playbook

pytestmark = pytest.mark.integration

KEY = "sk-env-0123456789abcdefghijklmnopqrstu"
USER = "operator"
PASSWORD = "basic-pass-9876543210zyxwvutsrqp"


def proxy_conf(nginx: NginxServer, sim_url: str, cert: Path, key: Path, bearer_port: int, basic_port: int, htpasswd: Path) -> str:
    upstream = sim_url.replace("http://", "")
    common = "ssl_certificate %s; ssl_certificate_key %s; location / { proxy_pass http://%s; proxy_set_header Host 127.0.0.1; }" % (cert, key, upstream)
    return "\n".join(
        [
            "server { listen 127.0.0.1:%d ssl; server_name localhost;" % bearer_port,
            '  if ($http_authorization != "Bearer %s") { return 401; }' % KEY,
            "  %s }" % common,
            "server { listen 127.0.0.1:%d ssl; server_name localhost;" % basic_port,
            '  auth_basic "ollama"; auth_basic_user_file %s;' % htpasswd,
            "  %s }" % common,
            "",
        ]
    )


def bearer_and_basic_proxy(nginx: NginxServer, sim, tmp_path: Path) -> Tuple[LoopbackCA, int, int]:
    """nginx in front of the simulator over TLS from a private CA: one port checks the bearer key, one basic auth."""
    ca = LoopbackCA(tmp_path / "ca")
    cert, key = ca.issue(["localhost"], "proxy")
    htpasswd = tmp_path / "htpasswd"
    htpasswd.write_text("%s:{PLAIN}%s\n" % (USER, PASSWORD))
    bearer_port, basic_port = free_port(), free_port()
    (nginx.conf_d / "proxy.conf").write_text(proxy_conf(nginx, sim.url, cert, key, bearer_port, basic_port, htpasswd))
    subprocess.run([*nginx.base_args, "-s", "reload"], check=True, capture_output=True)
    return ca, bearer_port, basic_port


def test_api_key_from_the_environment_basic_auth_and_a_private_ca(nginx: NginxServer, sim, tmp_path: Path) -> None:
    ca, bearer_port, basic_port = bearer_and_basic_proxy(nginx, sim, tmp_path)
    variables = {
        "bearer_url": "https://localhost:%d" % bearer_port,
        "basic_url": "https://localhost:%d" % basic_port,
        "ca_file": str(ca.ca_file),
        "basic_user": USER,
        "basic_password": PASSWORD,
    }
    env = {"OLLAMA_API_KEY": KEY}
    run = None
    for _attempt in range(20):  # nginx's reload: wait for the new workers
        run = run_playbook("connection_options.yml", variables, env=env)
        if run.results("Key from OLLAMA_API_KEY, private CA as ca_path").get("healthy"):
            break
    assert run is not None
    bearer = run.results("Key from OLLAMA_API_KEY, private CA as ca_path")
    assert bearer["healthy"] is True and bearer["version"], bearer
    basic = run.results("Basic auth, private CA as ca_path")
    assert basic.get("healthy") is True and basic["version"], basic["msg"]
    listed = run.results("Basic auth, through module_defaults of the action group")
    assert listed.get("failed") is not True and isinstance(listed["models"], list), listed
    assert run.results("A module of the group that does not call the API takes them too").get("failed") is not True
    untrusted = run.results("Private CA not given (the system trust store)")
    assert untrusted["healthy"] is False and "certificate" in untrusted["reason"].lower(), untrusted
    refused = run.results("Wrong password")
    assert refused["healthy"] is False and "401" in refused["reason"], refused
    requests = [r for r in sim.requests() if r["path"] == "/api/version"]
    assert len(requests) >= 2, "both reached the server through the proxy"

    # nothing of the key or the password in what ansible-playbook prints at -vvv (the default callback)
    args, run_env = playbook_command("connection_options.yml", variables, env={**env, "ANSIBLE_STDOUT_CALLBACK": "default"})
    loud = subprocess.run([*args, "-vvv"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, env=run_env, cwd=str(REPO), check=False)
    printed = loud.stdout + loud.stderr
    assert "Basic auth, private CA as ca_path" in printed and "module_args" in printed, printed[-2000:]
    assert KEY not in printed and PASSWORD not in printed
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in printed


def test_the_models_role_takes_basic_auth_a_private_ca_and_the_key_from_the_environment(nginx: NginxServer, sim, tmp_path: Path) -> None:
    """ollama_models_url_username / _url_password / _ca_path reach every module call of the role (the sync, the progress
    reads), through a real nginx; without ollama_models_api_key the modules take OLLAMA_API_KEY; nothing of them at -vvv."""
    ca, bearer_port, basic_port = bearer_and_basic_proxy(nginx, sim, tmp_path)
    common = {
        "ollama_models_registry_url": sim.url,
        "ollama_models_models_path": str(sim.data),
        "ollama_models_state_dir": str(tmp_path / "state"),
        "ollama_models_progress_interval": 1,
        "ollama_models_list": ["smollm2:135m"],
        "ollama_models_ca_path": str(ca.ca_file),
    }
    basic = dict(
        common,
        ollama_models_api_url="https://localhost:%d" % basic_port,
        ollama_models_url_username=USER,
        ollama_models_url_password=PASSWORD,
    )
    run = None
    for _attempt in range(20):  # nginx's reload: wait for the new workers
        run = run_playbook("models_role.yml", basic)
        if run.rc == 0 or "401" not in run.stdout:
            break
    assert run is not None and run.rc == 0, run.stdout[-3000:] if run else ""
    assert run.stats["changed"] == 1
    assert "smollm2:135m" in {m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]}
    served = [line for line in (nginx.root / "logs" / "access.log").read_text().splitlines() if '"POST /api/pull' in line]
    assert served and all(" - %s [" % USER in line for line in served), "the pull went through the basic-auth proxy, as its user"

    refused = run_playbook("models_role.yml", dict(basic, ollama_models_url_password="not-the-password"))
    assert refused.rc != 0 and "401" in refused.stdout, refused.stdout[-3000:]
    untrusted = run_playbook("models_role.yml", dict(basic, ollama_models_ca_path=""))
    assert untrusted.rc != 0 and "certificate" in untrusted.stdout.lower(), untrusted.stdout[-3000:]

    # no ollama_models_api_key: the modules take OLLAMA_API_KEY (the bearer server answers only with it); converged
    bearer = dict(common, ollama_models_api_url="https://localhost:%d" % bearer_port)
    keyed = run_playbook("models_role.yml", bearer, env={"OLLAMA_API_KEY": KEY})
    assert keyed.rc == 0 and keyed.stats["changed"] == 0, keyed.stdout[-3000:]
    assert run_playbook("models_role.yml", bearer).rc != 0, "without the key the proxy refuses"

    args, run_env = playbook_command("models_role.yml", basic, env={"OLLAMA_API_KEY": KEY, "ANSIBLE_STDOUT_CALLBACK": "default"})
    loud = subprocess.run([*args, "-vvv"], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, env=run_env, cwd=str(REPO), check=False)
    printed = loud.stdout + loud.stderr
    assert loud.returncode == 0 and "url_username" in printed, printed[-2000:]
    assert KEY not in printed and PASSWORD not in printed
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in printed
