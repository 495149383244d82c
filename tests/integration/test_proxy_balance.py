# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One endpoint for the instances of a multi-GPU host: ollama_domain's balance (least_conn, model) through a
real nginx (with njs, libnginx-mod-http-js) in front of four simulators that share one models directory."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Iterator

import pytest

from tests.integration.nginx_fixture import NginxServer, request
from tests.integration.playbook import REPO, run_playbook
from tests.ollama_sim.testing import Sim, run_sim

pytestmark = pytest.mark.integration

NJS = "/usr/lib/nginx/modules/ngx_http_js_module.so"
HOST = "gpus.ollama.test"
MODELS = ["smollm2:135m", "qwen2.5:0.5b"]


@pytest.fixture
def njs_nginx(tmp_path: Path) -> Iterator[NginxServer]:
    server = NginxServer(tmp_path / "nginx-njs", modules=(NJS,))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def instances(tmp_path: Path) -> Iterator[list[Sim]]:
    """Four simulators on one models directory, each serving one request at a time (0.4 s each)."""
    env = {"OLLAMA_NUM_PARALLEL": "1", "OLLAMA_SIM_REQUEST_SECONDS": "0.4"}
    contexts = [run_sim(tmp_path / "models", rate=200_000_000.0, env=dict(env, CUDA_VISIBLE_DEVICES="GPU-%d" % i)) for i in range(4)]
    sims = [context.__enter__() for context in contexts]
    try:
        for model in MODELS:
            sims[0].pull(model)
        yield sims
    finally:
        for context in reversed(contexts):
            context.__exit__(None, None, None)


def bind(nginx: NginxServer, sims: list[Sim], **args: Any) -> dict:
    before = nginx.generation()
    run = run_playbook("domain.yml", {"domain_args": nginx.module_args(domain=HOST, upstreams=[s.url for s in sims], allow=["127.0.0.1"], **args)}, timeout=120)
    result = run.results("Bind")
    if run.rc == 0 and result.get("changed"):
        nginx.wait_generation_after(before)
    return result


def generate(nginx: NginxServer, model: str) -> int:
    body = json.dumps({"model": model, "prompt": "hi", "stream": False}).encode()
    return request(nginx.http_port, "/api/generate", host=HOST, method="POST", body=body, headers={"Content-Type": "application/json"}, timeout=60).status


def runners(sim: Sim) -> dict:
    return sim.call("GET", "/_sim/runners")[1]


def test_least_conn_spreads_concurrent_requests_over_every_instance(njs_nginx: NginxServer, instances: list[Sim]) -> None:
    result = bind(njs_nginx, instances)
    assert result["binding"]["balance"] == "least_conn"
    config = Path(result["binding"]["config_file"]).read_text()
    assert "    least_conn;" in config and "keepalive 16;" in config
    assert config.count("max_fails=3 fail_timeout=30s;") == 4
    for sim in instances:
        sim.call("DELETE", "/_sim/runners")
    started = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda _n: generate(njs_nginx, MODELS[0]), range(8)))
    elapsed = time.monotonic() - started
    assert statuses == [200] * 8
    served = [runners(sim)["max_active"] for sim in instances]
    assert served == [1, 1, 1, 1], "every instance took requests, one at a time: %s" % served
    # 8 requests of 0.4 s on four one-at-a-time instances: two rounds, not eight
    assert elapsed < 2.4, elapsed


def test_model_affinity_keeps_each_model_on_one_instance_and_fails_over(njs_nginx: NginxServer, instances: list[Sim]) -> None:
    result = bind(njs_nginx, instances, balance="model")
    assert result["binding"]["balance"] == "model"
    config = Path(result["binding"]["config_file"]).read_text()
    ident = config.split("upstream ", 1)[1].split(" ", 1)[0]
    assert "js_set $%s_balance_model %s_balance.model;" % (ident, ident) in config
    assert "    hash $%s_balance_model consistent;" % ident in config and "proxy_request_buffering on;" in config
    assert Path(njs_nginx.conf_d / (HOST + ".balance.js")).read_text().startswith("// Managed by llmops.ollama.ollama_domain")
    for sim in instances:
        sim.call("DELETE", "/_sim/runners")
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda n: generate(njs_nginx, MODELS[n % 2]), range(16)))
    assert statuses == [200] * 16
    loads = [runners(sim)["loads"] for sim in instances]
    homes = {model: [i for i, seen in enumerate(loads) if model in seen] for model in MODELS}
    assert all(len(where) == 1 for where in homes.values()), "each model loaded on one instance only: %s" % loads
    assert all(loads[where[0]][model] == 1 for model, where in homes.items()), loads
    # the health report: which instance serves which model (the simulators report no VRAM: no share)
    variables = {"ollama_api_url": instances[0].url, "ollama_health_models_path": str(instances[0].data), "ollama_health_instances": [s.url for s in instances]}
    health = run_playbook(REPO / "playbooks" / "health.yml", variables, inventory=str(REPO / "inventory" / "local"))
    assert health.rc == 0, health.stdout[-2000:]
    line = health.results("Print the health report")["msg"][-1]
    probe = health.results("Probe the Ollama API")
    assert [i["models_count"] for i in probe["instances"]] == [len(MODELS)] * 4 and all(i["vram_share"] is None for i in probe["instances"])
    for model, where in homes.items():
        assert model in probe["instances"][where[0]]["serves"]
        served = ", ".join(probe["instances"][where[0]]["serves"])
        assert "%d at %s up, serves %s" % (where[0], instances[where[0]].url, served) in line, line

    # the instance of the first model stops: its requests still succeed, on another instance
    home = homes[MODELS[0]][0]
    instances[home].stop()
    assert [generate(njs_nginx, MODELS[0]) for _n in range(3)] == [200] * 3
    moved = [i for i, sim in enumerate(instances) if i != home and MODELS[0] in runners(sim)["loads"]]
    assert len(moved) == 1, "one other instance took the model over"
    instances[home].start()

    # back to least_conn: the njs file goes with the setting
    assert bind(njs_nginx, instances)["changed"] is True
    assert not (njs_nginx.conf_d / (HOST + ".balance.js")).exists()


def test_model_balance_without_njs_is_refused_and_nothing_changes(nginx: NginxServer, instances: list[Sim]) -> None:
    before = sorted(p.name for p in nginx.conf_d.iterdir())
    args = nginx.module_args(domain=HOST, upstreams=[s.url for s in instances], allow=["127.0.0.1"], balance="model")
    before_run = run_playbook("domain.yml", {"domain_args": args})
    assert before_run.rc == 2
    message = before_run.results("Bind")["msg"]
    assert 'unknown directive "js_import"' in message
    assert "balance: model reads the request's model with njs" in message and "apt-get install libnginx-mod-http-js" in message
    assert "the previous files were restored" in message
    assert sorted(p.name for p in nginx.conf_d.iterdir()) == before


def test_one_sync_through_one_instance_and_every_instance_lists_the_model_stored_once(instances: list[Sim], tmp_path: Path, make_sim) -> None:
    variables = {
        "ollama_models_api_url": instances[0].url,
        "ollama_models_registry_url": instances[0].url,
        "ollama_models_models_path": str(instances[0].data),
        "ollama_models_state_dir": str(tmp_path / "state"),
        "ollama_models_list": ["llama3.2:1b"],
        "ollama_models_instances": [s.url for s in instances],
    }
    for sim in instances:
        sim.clear_requests()
    run = run_playbook("models_role.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    report = run.results("Check that every instance lists the declared models")["msg"]
    assert report.startswith("instance 0 (%s): 3 models, serves none" % instances[0].url), report
    for sim in instances:
        assert "llama3.2:1b" in [m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]]
    pulls = [r for sim in instances for r in sim.requests() if r["path"] == "/api/pull"]
    assert len(pulls) == 1, "pulled once, through one instance"
    # the bytes are on disk once: the one blobs directory holds no more than the three models' files
    sizes = {m["name"]: m["size"] for m in instances[1].call("GET", "/api/tags")[1]["models"]}
    blobs = instances[0].data / "blobs"
    assert sizes["llama3.2:1b"] < sum(p.stat().st_size for p in blobs.iterdir()) <= sum(sizes.values())

    # an instance on another models directory does not list it: the check says so
    stranger = make_sim(name="other-models")
    failed = run_playbook("models_role.yml", dict(variables, ollama_models_instances=[s.url for s in instances] + [stranger.url]))
    assert failed.rc == 2
    message = failed.results("Check that every instance lists the declared models")["msg"]
    assert "Instance 4 (%s) does not list llama3.2:1b." % stranger.url in message and "share one models directory" in message


def test_the_proxy_role_puts_every_instance_of_the_server_role_behind_one_name(njs_nginx: NginxServer, instances: list[Sim]) -> None:
    from tests.integration.test_ollama_proxy import role_vars

    # ollama_server_api_urls is the fact the ollama_server role sets with ollama_server_instances
    domains = [{"domain": HOST, "allow": ["127.0.0.1"]}]
    variables = role_vars(njs_nginx, domains, ollama_proxy_balance="model", ollama_server_api_urls=[s.url for s in instances], ollama_proxy_verify=False)
    run = run_playbook("proxy_role.yml", variables)
    assert run.rc == 0, run.stdout[-3000:]
    config = (njs_nginx.conf_d / (HOST + ".conf")).read_text()
    assert [line.split()[1] for line in config.splitlines() if line.startswith("    server 127.0.0.1:")] == [s.url[len("http://") :] for s in instances]
    assert " consistent;" in config
    assert generate(njs_nginx, MODELS[0]) == 200
