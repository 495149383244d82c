# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet plan (callback llmops.ollama.ollama_plan) from check mode on a three-host fleet, against the real run that follows."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

import pytest

from tests.integration.nginx_fixture import NGINX, NginxServer, request
from tests.integration.playbook import REPO, run_playbook

pytestmark = pytest.mark.integration


def proxy_vars(nginx: NginxServer) -> Dict[str, Any]:
    return {
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
        "ollama_proxy_domain_defaults": {"listen_address": "127.0.0.1", "http_port": nginx.http_port, "https_port": nginx.https_port},
    }


def names(sim) -> set:
    return {m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]}


def test_the_check_mode_plan_of_a_fleet_is_what_the_real_run_does(make_sim, nginx: NginxServer, tmp_path: Path) -> None:
    a, b, c = make_sim("a"), make_sim("b"), make_sim("c")
    for sim, models in ((b, ["smollm2:135m", "all-minilm:latest"]), (c, ["llama3.2:latest"])):
        for model in models:
            sim.call("POST", "/api/pull", {"model": model, "stream": False})
    common = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ollama_site_manage_server": False}
    hosts = {
        # two models to pull
        "host-a": {"ollama_api_url": a.url, "ollama_models_list": ["smollm2:135m", "llama3.2:latest"]},
        # one model kept, one removed (exclusive), one pull, and a proxy binding to add
        "host-b": dict(
            proxy_vars(nginx),
            ollama_api_url=b.url,
            ollama_models_list=["smollm2:135m", "qwen2.5:0.5b"],
            ollama_models_exclusive=True,
            ollama_proxy_domains=[{"domain": "b.ollama.test", "upstream": b.url, "allow": ["127.0.0.1"]}],
        ),
        # converged: nothing to do
        "host-c": {"ollama_api_url": c.url, "ollama_models_list": ["llama3.2:latest"]},
    }
    for name, values in hosts.items():
        values.update(
            common,
            ollama_models_progress_interval=1,
            ollama_models_registry_url=a.url,
            ollama_models_state_dir=str(tmp_path / "state" / name),
            ollama_health_models_path=str(tmp_path),
        )
    inventory = tmp_path / "fleet.json"
    inventory.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": hosts}}}}))
    before = [names(sim) for sim in (a, b, c)]

    def run(mode: str, check: bool):
        env = {"LLMOPS_OLLAMA_PLAN_JSON": str(tmp_path / ("%s.json" % mode)), "LLMOPS_OLLAMA_PLAN_MARKDOWN": str(tmp_path / ("%s.md" % mode))}
        result = run_playbook(REPO / "playbooks" / "site.yml", {}, check=check, diff=check, env=env, inventory=str(inventory), timeout=600)
        assert result.rc == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return json.loads((tmp_path / ("%s.json" % mode)).read_text()), (tmp_path / ("%s.md" % mode)).read_text()

    plan, comment = run("plan", check=True)
    assert [names(sim) for sim in (a, b, c)] == before, "check mode changed a server"
    assert not list(nginx.conf_d.glob("b.ollama.test*")), "check mode wrote a binding"
    assert plan["mode"] == "check" and plan["playbooks"] == ["site.yml"]

    def models(summary: dict, host: str) -> dict:
        return {kind: [m["name"] for m in entries] for kind, entries in summary["hosts"][host]["models"].items()}

    assert models(plan, "host-a") == {"pull": ["llama3.2:latest", "smollm2:135m"], "update": [], "remove": [], "create": []}
    assert models(plan, "host-b") == {"pull": ["qwen2.5:0.5b"], "update": [], "remove": ["all-minilm:latest"], "create": []}
    assert models(plan, "host-c") == {"pull": [], "update": [], "remove": [], "create": []}
    assert plan["hosts"]["host-b"]["bindings"] == {"add": ["b.ollama.test"], "change": [], "remove": []}
    assert [plan["hosts"][h]["changes"] for h in ("host-a", "host-b", "host-c")] == [True, True, False]
    totals = plan["totals"]
    assert (totals["pull"], totals["remove"], totals["bindings_add"], totals["hosts"], totals["hosts_changing"]) == (3, 1, 1, 3, 2)
    assert totals["bytes"] == sum(plan["hosts"][h]["bytes"] for h in plan["hosts"]) > 0
    assert comment.startswith("## Ollama fleet plan (site.yml)\n") and "**2 of 3 host(s) change**: 3 model(s) to pull" in comment
    assert "| host-c | 0 | 0 | 0 | 0 B | - | 0 | no changes |" in comment and "- add binding `b.ollama.test`" in comment

    done, report = run("apply", check=False)
    assert done["mode"] == "apply" and report.startswith("## Ollama fleet run (site.yml)\n")
    for host in ("host-a", "host-b", "host-c"):
        assert models(done, host) == models(plan, host), host
        assert done["hosts"][host]["bindings"] == plan["hosts"][host]["bindings"], host
        # bytes: the plan's sizes of the models to pull (registry manifests) are what the pulls fetched
        assert done["hosts"][host]["bytes"] == plan["hosts"][host]["bytes"], host
        assert 0 <= done["hosts"][host]["bytes_moved"] <= done["hosts"][host]["bytes"]
        # the sizes the plan read from the registry are those of the models pulled
        assert [m["size_bytes"] for m in done["hosts"][host]["models"]["pull"]] == [m["size_bytes"] for m in plan["hosts"][host]["models"]["pull"]]
    assert done["hosts"]["host-a"]["bytes_moved"] > 0
    for key in ("pull", "update", "remove", "create", "bytes", "bindings_add", "hosts_changing"):
        assert done["totals"][key] == plan["totals"][key], key
    # and the servers are as the plan said
    assert names(a) == {"smollm2:135m", "llama3.2:latest"} and names(b) == {"smollm2:135m", "qwen2.5:0.5b"} and names(c) == before[2]
    assert request(nginx.http_port, "/api/version", host="b.ollama.test").status == 200
