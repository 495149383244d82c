# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every PromQL expression of the Grafana dashboard evaluates, without error and with data, in a real Prometheus.

The state metrics come from the real writer (run by the real watchdog after each of its runs) against a running
simulator, a real Docker container (CPU, memory, network), the collection's own ledger code (a pull, a queued pull,
a sync) and a certificate bound the way ollama_domain records it; a real node_exporter serves them. The request
metrics (mtail's, from the proxy's access log, in another part of the collection) are fed here as a text exposition
with growing counters in the same textfile directory, with the names and labels mtail gives them.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import threading
import uuid
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

from tests.integration.docker_support import SIM_IMAGE, build_sim_image, docker, require_engine
from tests.integration.monitoring_support import (
    WRITER,
    Daemon,
    Prometheus,
    binary,
    dashboard_queries,
    dashboard_variables,
    run_watchdog,
)
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import COLLECTIONS, REPO
from tests.ollama_sim.testing import Sim

sys.path.insert(0, str(COLLECTIONS))

from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger

MODEL = "smollm2:135m"
RULES = REPO / "roles" / "ollama_monitoring" / "files" / "ollama_alerts.yml"
MANAGED_BY = "llmops.ollama.ollama_domain"
OPENSSL = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30", "-subj", "/CN=ollama.example"]


@pytest.fixture
def container() -> Iterator[str]:
    """A real container (the simulator image, idle) whose stats the writer reads from the Docker engine."""
    require_engine()
    if docker("image", "inspect", SIM_IMAGE, check=False).returncode != 0:
        build_sim_image()
    name = "llmops-monitor-dash-%s" % uuid.uuid4().hex[:8]
    docker("run", "-d", "--name", name, "--memory", "256m", SIM_IMAGE)
    try:
        yield name
    finally:
        docker("rm", "-f", name, check=False)


def request_exposition(step: int) -> str:
    """What mtail exports for the proxy's requests, after ``step`` rounds of traffic."""
    lines: List[str] = [
        "# TYPE ollama_proxy_requests_total counter",
        "# TYPE ollama_proxy_tokens_total counter",
        "# TYPE ollama_proxy_response_bytes_total counter",
        "# TYPE ollama_proxy_request_duration_seconds histogram",
        "# TYPE ollama_proxy_time_to_first_token_seconds histogram",
    ]
    for key, model, weight in (("team-a", MODEL, 3), ("team-b", "qwen3:8b", 1)):
        base = 'domain="ollama.example",key="%s",model="%s",endpoint="/api/chat"' % (key, model)
        ok, failed = step * weight * 10, step * weight
        lines.append('ollama_proxy_requests_total{%s,code="200"} %d' % (base, ok))
        lines.append('ollama_proxy_requests_total{%s,code="500"} %d' % (base, failed))
        lines.append('ollama_proxy_tokens_total{domain="ollama.example",key="%s",model="%s",type="input"} %d' % (key, model, ok * 20))
        lines.append('ollama_proxy_tokens_total{domain="ollama.example",key="%s",model="%s",type="output"} %d' % (key, model, ok * 50))
        lines.append('ollama_proxy_response_bytes_total{domain="ollama.example",key="%s",endpoint="/api/chat"} %d' % (key, ok * 900))
        count = ok + failed
        for name, cuts in (("ollama_proxy_request_duration_seconds", (0.5, 0.9, 1.0)), ("ollama_proxy_time_to_first_token_seconds", (0.8, 1.0, 1.0))):
            for le, share in zip(("0.1", "1", "10"), cuts):
                lines.append('%s_bucket{%s,le="%s"} %d' % (name, base, le, int(count * share)))
            lines.append('%s_bucket{%s,le="+Inf"} %d' % (name, base, count))
            lines.append("%s_sum{%s} %g" % (name, base, count * 0.7))
            lines.append("%s_count{%s} %d" % (name, base, count))
    return "\n".join(lines) + "\n"


def fill_ledger(ledger_dir: Path) -> None:
    """A pull under way, a queued pull and a sync run, written by the collection's ledger."""
    ledger = Ledger.open(str(ledger_dir))
    assert ledger.enabled, ledger.error
    ledger.start("qwen3:8b", "pull")
    ledger.progress("qwen3:8b").update(1_000_000, 4_000_000, status="pulling", force=True)
    ledger.start("llama3.2:latest", "pull", status="queued")
    ledger.append_history({"kind": "sync", "summary": {"added": 1, "unchanged": 2, "failed": 0}, "failed": [], "seconds": 3.5})


def bind_certificate(nginx_dir: Path) -> None:
    nginx_dir.mkdir(parents=True)
    cert = nginx_dir / "ollama.example.crt"
    subprocess.run(
        [*OPENSSL, "-keyout", str(nginx_dir / "ollama.example.key"), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    sidecar = {"managed_by": MANAGED_BY, "domain": "ollama.example", "tls": {"mode": "selfsigned", "certificate": str(cert)}}
    (nginx_dir / "ollama.example.json").write_text(json.dumps(sidecar))


def substitute(expr: str) -> str:
    return expr.replace("$__rate_interval", "20s").replace("$instance", ".*").replace("$model", ".*").replace("$key", ".*")


def test_every_dashboard_expression_has_data(tmp_path: Path, sim: Sim, container: str) -> None:
    sim.pull(MODEL)
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    fill_ledger(tmp_path / "ledger")
    bind_certificate(tmp_path / "nginx")
    writer_config = {
        "api_url": sim.url,
        "textfile_dir": str(textfile),
        "ledger_dir": str(tmp_path / "ledger"),
        "watchdog_state_dir": str(tmp_path / "watchdog"),
        "models_path": str(tmp_path),
        "container": container,
        "docker_socket": "/var/run/docker.sock",
        "nginx_config_dir": str(tmp_path / "nginx"),
        "gpu": True,
    }
    (tmp_path / "metrics.json").write_text(json.dumps(writer_config))
    watchdog = {
        "api_url": sim.url,
        "container": container,
        "docker": "false",
        "failures": 100000,
        "state_dir": str(tmp_path / "watchdog"),
        "log_file": str(tmp_path / "watchdog.log"),
        "inference_interval": 1,
        "inference_model": MODEL,
        "inference_timeout": 30,
        "metrics_program": str(WRITER),
        "metrics_config": str(tmp_path / "metrics.json"),
    }
    node_port, prom_port = free_port(), free_port()
    (tmp_path / "prometheus.yml").write_text(
        json.dumps(
            {
                "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                "rule_files": [str(RULES)],
                "scrape_configs": [
                    {"job_name": "ollama", "static_configs": [{"targets": ["127.0.0.1:%d" % node_port], "labels": {"instance": "gpu-01"}}]},
                ],
            }
        )
    )
    stop = threading.Event()
    daemons: List[Daemon] = []
    errors: List[str] = []

    def traffic() -> None:
        step = 0
        while not stop.is_set():
            step += 1
            temp = textfile / ".proxy.prom.tmp"
            temp.write_text(request_exposition(step))
            temp.replace(textfile / "proxy.prom")
            stop.wait(0.5)

    def probes() -> None:
        while not stop.is_set():
            result = run_watchdog(watchdog, tmp_path / "watchdog.json")
            if result.returncode != 0:
                errors.append(result.stderr)
            stop.wait(0.5)

    threads = [threading.Thread(target=traffic, daemon=True), threading.Thread(target=probes, daemon=True)]
    try:
        for thread in threads:
            thread.start()
        node_args = ["--collector.disable-defaults", "--collector.textfile"]
        node_args += ["--collector.textfile.directory=%s" % textfile, "--web.listen-address=127.0.0.1:%d" % node_port]
        daemons.append(Daemon("node_exporter", [binary("node_exporter"), *node_args], tmp_path / "node.log", "http://127.0.0.1:%d/metrics" % node_port).start())
        prom_args = ["--config.file=%s" % (tmp_path / "prometheus.yml"), "--storage.tsdb.path=%s" % (tmp_path / "tsdb")]
        prom_args += ["--web.listen-address=127.0.0.1:%d" % prom_port]
        ready = "http://127.0.0.1:%d/-/ready" % prom_port
        daemons.append(Daemon("prometheus", [binary("prometheus"), *prom_args], tmp_path / "prometheus.log", ready).start(60))
        prom = Prometheus("http://127.0.0.1:%d" % prom_port)
        # enough samples for rates: the request counters and the container's CPU counter moved over several scrapes
        prom.wait_for("count_over_time(ollama_proxy_requests_total[1m]) >= 8", lambda result: len(result) > 0, 90, "request samples")
        prom.wait_for("count_over_time(ollama_container_cpu_seconds_total[1m]) >= 4", lambda result: len(result) > 0, 90, "container samples")
        prom.wait_for("ollama_inference_probe_success", lambda result: len(result) > 0, 90, "an inference probe")
        prom.wait_for("ollama_model_loaded_vram_ratio", lambda result: len(result) > 0, 90, "a loaded model")

        empty: Dict[str, str] = {}
        queries = dashboard_queries()
        assert len(queries) >= 30
        for expr in queries:
            answer = prom.query(substitute(expr))
            if answer.get("status") != "success":
                empty[expr] = "error: %s" % answer.get("error")
            elif not answer["data"]["result"]:
                empty[expr] = "no data"
        assert empty == {}, "dashboard expressions without data:\n" + "\n".join("%s -> %s" % item for item in empty.items())

        for variable in dashboard_variables():
            query = variable["query"]["query"]
            assert query.startswith("label_values(") and query.endswith(")")
            selector, label = query[len("label_values(") : -1].rsplit(",", 1)
            values = prom.get("/api/v1/label/%s/values" % label.strip(), **{"match[]": substitute(selector)})
            assert values["status"] == "success" and values["data"], "dashboard variable %s has no values: %s" % (variable["name"], values)
        assert errors == []
        # the key names, never a key, and the model names reach the per-key panels
        keys = {item["metric"]["key"] for item in prom.vector("sum by (key) (rate(ollama_proxy_requests_total[20s]))")}
        assert keys == {"team-a", "team-b"}
    finally:
        stop.set()
        for thread in threads:
            thread.join(60)
        for daemon in reversed(daemons):
            daemon.stop()


def test_the_dashboard_reads_only_metrics_the_collection_produces() -> None:
    """Versioned with the metrics: every metric name in the dashboard is one the writer, mtail or Prometheus makes."""
    spec = importlib.util.spec_from_file_location("ollama_state_metrics", WRITER)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    known = set(module.METRICS) | {"ALERTS"}
    known |= {
        "ollama_proxy_requests_total",
        "ollama_proxy_tokens_total",
        "ollama_proxy_response_bytes_total",
        "ollama_proxy_request_duration_seconds_bucket",
        "ollama_proxy_time_to_first_token_seconds_bucket",
    }
    functions = {"sum", "count", "rate", "increase", "histogram_quantile", "vector", "time", "by", "or", "and"}
    names = set()
    for expr in dashboard_queries():
        for word in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[(]", expr):
            if word not in functions:
                names.add(word)
        names |= set(re.findall(r"\b(ollama_[a-z0-9_]+)\b", expr))
    assert "ollama_up" in names
    assert names - known == set()
