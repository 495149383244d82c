# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real monitoring daemons for the integration tests: node_exporter, Prometheus, Alertmanager, started with the
arguments the ollama_monitoring role generated, on free loopback ports; Prometheus queries; a webhook receiver."""

from __future__ import annotations

import http.server
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import yaml

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO

ROLE = REPO / "roles" / "ollama_monitoring"
WRITER = ROLE / "files" / "ollama_state_metrics.py"
WATCHDOG = REPO / "roles" / "ollama_server" / "files" / "ollama_watchdog.py"
# the one definition of the inference probe, which the ollama_server role installs beside the watchdog
PROBE = REPO / "plugins" / "module_utils" / "core" / "probe.py"
DASHBOARD = ROLE / "files" / "ollama_dashboard.json"
BINARIES = {
    "node_exporter": "prometheus-node-exporter",
    "prometheus": "prometheus",
    "alertmanager": "prometheus-alertmanager",
    "promtool": "promtool",
    "amtool": "amtool",
}


def binary(name: str) -> str:
    """The path of a daemon's binary; a clear failure (never a skip) when its Debian package is missing."""
    path = shutil.which(BINARIES.get(name, name))
    if not path:
        packages = "prometheus, prometheus-node-exporter, prometheus-alertmanager, mtail"
        raise AssertionError("%s is not installed: run .ci/deps.sh (Debian packages %s)" % (name, packages))
    return path


def defaults_args(path: Path) -> List[str]:
    """The ARGS="..." of a /etc/default file the role wrote, split as the service's shell would."""
    for line in path.read_text().splitlines():
        if line.startswith("ARGS="):
            return shlex.split(shlex.split(line[5:])[0])
    raise AssertionError("no ARGS= line in %s" % path)


class Daemon:
    """A daemon of the test: started with its argv, logging to a file, ready when a URL answers 200; killed by its pid."""

    def __init__(self, name: str, argv: List[str], log: Path, ready_url: str) -> None:
        self.name, self.argv, self.log_path, self.ready_url = name, argv, log, ready_url
        self.proc: Optional[subprocess.Popen] = None

    def start(self, timeout: float = 30) -> Daemon:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("%s exited %s: %s\n%s" % (self.name, self.proc.returncode, " ".join(self.argv), self.tail()))
            try:
                with urllib.request.urlopen(self.ready_url, timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise AssertionError("%s did not answer %s within %s s\n%s" % (self.name, self.ready_url, timeout, self.tail()))

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)


def listen_of(args: List[str]) -> str:
    for arg in args:
        if arg.startswith("--web.listen-address="):
            return arg.split("=", 1)[1]
    raise AssertionError("no --web.listen-address in %s" % args)


def node_exporter(defaults_file: Path, log: Path) -> Daemon:
    args = defaults_args(defaults_file)
    return Daemon("node_exporter", [binary("node_exporter"), *args], log, "http://%s/metrics" % listen_of(args)).start()


def prometheus(defaults_file: Path, log: Path) -> Daemon:
    args = defaults_args(defaults_file)
    return Daemon("prometheus", [binary("prometheus"), *args], log, "http://%s/-/ready" % listen_of(args)).start(60)


def alertmanager(defaults_file: Path, log: Path) -> Daemon:
    args = defaults_args(defaults_file)
    return Daemon("alertmanager", [binary("alertmanager"), *args], log, "http://%s/-/ready" % listen_of(args)).start(60)


class Prometheus:
    """Queries to a running Prometheus."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def get(self, path: str, **params: Any) -> Any:
        url = "%s%s?%s" % (self.url, path, urllib.parse.urlencode(params, doseq=True))
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                answer = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            answer = json.loads(exc.read() or b"{}")
        return answer

    def query(self, expr: str) -> Dict[str, Any]:
        return self.get("/api/v1/query", query=expr)

    def vector(self, expr: str) -> List[Dict[str, Any]]:
        answer = self.query(expr)
        assert answer.get("status") == "success", "%s: %s" % (expr, answer)
        return answer["data"]["result"]

    def wait_for(self, expr: str, test: Callable[[List[Dict[str, Any]]], bool], timeout: float, what: str) -> List[Dict[str, Any]]:
        deadline = time.monotonic() + timeout
        result: List[Dict[str, Any]] = []
        while time.monotonic() < deadline:
            result = self.vector(expr)
            if test(result):
                return result
            time.sleep(0.5)
        raise AssertionError("%s: %s still %s after %s s" % (what, expr, result, timeout))


class WebhookReceiver:
    """A tiny HTTP server on 127.0.0.1 that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        received: List[Dict[str, Any]] = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                received.append(json.loads(self.rfile.read(length) or b"{}"))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                """Quiet."""

        self.received = received
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/hook" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def host_vars(root: Path, **extra: Any) -> Dict[str, Any]:
    """The role's paths of one (simulated) host, all under root, and free loopback ports."""
    values = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ollama_monitoring_node_exporter_port": free_port(),
        "ollama_monitoring_node_exporter_defaults_file": str(root / "etc" / "prometheus-node-exporter"),
        "ollama_monitoring_node_exporter_args": ["--collector.disable-defaults", "--collector.textfile"],
        "ollama_monitoring_textfile_dir": str(root / "textfile"),
        "ollama_monitoring_writer_bin": str(root / "lib" / "ollama_state_metrics.py"),
        "ollama_monitoring_writer_config": str(root / "etc" / "metrics.json"),
        "ollama_monitoring_ledger_dir": str(root / "ledger"),
        "ollama_monitoring_watchdog_state_dir": str(root / "watchdog"),
        "ollama_monitoring_models_path": str(root),
        "ollama_monitoring_docker_socket": "",
        "ollama_monitoring_nginx_config_dir": str(root / "nginx"),
        "ollama_monitoring_mtail_port": free_port(),
        "ollama_monitoring_mtail_defaults_file": str(root / "etc" / "mtail"),
        "ollama_monitoring_mtail_program_dir": str(root / "mtail"),
        "ollama_monitoring_mtail_logs": [str(root / "access.json.log")],
    }
    values.update(extra)
    return values


def server_vars(root: Path, **extra: Any) -> Dict[str, Any]:
    values = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ollama_monitoring_output_dir": str(root / "out"),
        "ollama_monitoring_prometheus_config": str(root / "etc" / "prometheus.yml"),
        "ollama_monitoring_prometheus_defaults_file": str(root / "etc" / "prometheus"),
        "ollama_monitoring_prometheus_port": free_port(),
        "ollama_monitoring_prometheus_storage_dir": str(root / "tsdb"),
        "ollama_monitoring_alertmanager_config": str(root / "etc" / "alertmanager.yml"),
        "ollama_monitoring_alertmanager_defaults_file": str(root / "etc" / "alertmanager"),
        "ollama_monitoring_alertmanager_port": free_port(),
        "ollama_monitoring_alertmanager_storage_dir": str(root / "am"),
    }
    values.update(extra)
    return values


def write_inventory(path: Path, ollama_hosts: Dict[str, Dict[str, Any]], monitoring: Dict[str, Dict[str, Any]]) -> str:
    inventory = {
        "all": {
            "children": {
                "ollama_servers": {"hosts": ollama_hosts},
                "monitoring": {"hosts": monitoring},
            }
        }
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(inventory, sort_keys=False))
    return str(path)


def run_watchdog(config: Dict[str, Any], path: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """One run of the real watchdog program (which runs the writer at its end when configured)."""
    path.write_text(json.dumps(config))
    installed = path.parent / "watchdog-bin"  # as the role installs it: the watchdog and ollama_probe.py side by side
    if not (installed / "ollama_watchdog.py").is_file():
        installed.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(PROBE, installed / "ollama_probe.py")
        shutil.copyfile(WATCHDOG, installed / "ollama_watchdog.py")
    program = installed / "ollama_watchdog.py"
    return subprocess.run([sys.executable, str(program), "--config", str(path)], capture_output=True, text=True, timeout=timeout, check=False)


def dashboard_queries() -> List[str]:
    """Every PromQL expression of the dashboard's panels."""
    dashboard = json.loads(DASHBOARD.read_text())
    found = []
    for panel in dashboard["panels"]:
        for target in panel.get("targets", []):
            found.append(target["expr"])
    return found


def dashboard_variables() -> List[Dict[str, Any]]:
    return [item for item in json.loads(DASHBOARD.read_text())["templating"]["list"] if item["type"] == "query"]
