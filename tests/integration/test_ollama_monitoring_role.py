# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_monitoring role with a real ansible-playbook: files, idempotence, check mode, bad settings, own mode."""

from __future__ import annotations

import http.server
import re
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tests.integration.monitoring_support import binary, defaults_args, host_vars, server_vars, write_inventory
from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, PlaybookRun, run_playbook
from tests.ollama_sim.testing import Sim


def files_under(root: Path) -> List[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*"))


def changed(run: PlaybookRun) -> Dict[str, int]:
    return {host: stats["changed"] for host, stats in run.data["stats"].items()}


def failures(run: PlaybookRun) -> str:
    messages = []
    for play in run.data.get("plays", []):
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed") and result.get("failed_when_result") is not False:
                    messages.append("%s %s: %s" % (host, task["task"]["name"], result.get("msg")))
    return "\n".join(messages)


def fleet(tmp_path: Path, **server_extra: Any) -> str:
    hosts = {name: host_vars(tmp_path / name) for name in ("gpu-01", "cpu-01")}
    hosts["gpu-01"]["ollama_monitoring_gpu"] = True
    hosts["gpu-01"]["ollama_monitoring_writer_schedule"] = "cron"
    hosts["gpu-01"]["ollama_monitoring_writer_cron_file"] = str(tmp_path / "gpu-01" / "cron.d" / "llmops-ollama-metrics")
    monitoring = {"mon": server_vars(tmp_path / "mon", **server_extra)}
    return write_inventory(tmp_path / "hosts.yml", hosts, monitoring)


@pytest.mark.long
def test_converge_twice_and_check_mode(tmp_path: Path) -> None:
    inventory = fleet(tmp_path / "fleet", ollama_monitoring_webhook="http://127.0.0.1:9/hook?token=s3cret")
    check = run_playbook("monitoring.yml", inventory=inventory, check=True)
    assert check.rc == 0, failures(check) + check.stderr
    assert files_under(tmp_path / "fleet") == ["hosts.yml"], "check mode wrote files"

    first = run_playbook("monitoring.yml", inventory=inventory, diff=True)
    assert first.rc == 0, failures(first) + first.stderr
    assert all(count > 0 for count in changed(first).values()), changed(first)
    assert "s3cret" not in first.stdout, "the webhook's token is in the output"
    second = run_playbook("monitoring.yml", inventory=inventory)
    assert second.rc == 0, failures(second)
    assert changed(second) == {"gpu-01": 0, "cpu-01": 0, "mon": 0}
    # a converged host does not ask again for the directories it has (they were looked at once, in the checks)
    names = [task["task"]["name"] for play in second.data["plays"] for task in play["tasks"]]
    directory_tasks = [task for play in second.data["plays"] for task in play["tasks"] if re.search(r" : Create the .*directories", task["task"]["name"])]
    assert len(directory_tasks) == 3, names
    assert all(result.get("skipped") for task in directory_tasks for result in task["hosts"].values()), directory_tasks

    root = tmp_path / "fleet"
    # exporter part: writer, its configuration, node_exporter's arguments
    assert (root / "gpu-01" / "lib" / "ollama_state_metrics.py").is_file()
    cron = (root / "gpu-01" / "cron.d" / "llmops-ollama-metrics").read_text()
    assert "* * * * * root python3 %s --config %s" % (root / "gpu-01" / "lib" / "ollama_state_metrics.py", root / "gpu-01" / "etc" / "metrics.json") in cron
    assert not (root / "cpu-01" / "cron.d").exists(), "the watchdog runs the writer there"
    args = defaults_args(root / "gpu-01" / "etc" / "prometheus-node-exporter")
    assert "--collector.textfile.directory=%s" % (root / "gpu-01" / "textfile") in args
    assert any(arg.startswith("--web.listen-address=127.0.0.1:") for arg in args)
    # server part: targets from the inventory with the inventory names as instance
    targets = yaml.safe_load((root / "mon" / "out" / "targets" / "ollama_node.yml").read_text())
    assert [item["labels"]["instance"] for item in targets] == ["gpu-01", "cpu-01"]
    assert targets[0]["targets"][0].startswith("127.0.0.1:")
    prometheus = root / "mon" / "etc" / "prometheus.yml"
    result = subprocess.run([binary("promtool"), "check", "config", str(prometheus)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    alertmanager = root / "mon" / "etc" / "alertmanager.yml"
    assert oct(alertmanager.stat().st_mode & 0o777) == "0o640"
    result = subprocess.run([binary("amtool"), "check-config", str(alertmanager)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert yaml.safe_load(alertmanager.read_text())["receivers"][0]["webhook_configs"][0]["url"] == "http://127.0.0.1:9/hook?token=s3cret"
    assert (root / "mon" / "out" / "dashboards" / "ollama.json").is_file()

    # a converged host does not ask again for its directories, yet one whose mode was changed is set back
    for path in (root / "gpu-01" / "textfile", root / "mon" / "out" / "rules"):
        assert oct(path.stat().st_mode & 0o777) == "0o755"
        path.chmod(0o700)
    third = run_playbook("monitoring.yml", inventory=inventory)
    assert third.rc == 0, failures(third)
    assert changed(third) == {"gpu-01": 1, "cpu-01": 0, "mon": 1}
    assert [oct(path.stat().st_mode & 0o777) for path in (root / "gpu-01" / "textfile", root / "mon" / "out" / "rules")] == ["0o755"] * 2


def test_alert_overrides_are_applied_and_the_rules_stay_valid(tmp_path: Path) -> None:
    overrides = {"OllamaInferenceHung": {"for": "1s"}, "OllamaDiskLow": {"severity": "error"}, "OllamaLatencyHigh": {"enabled": False}}
    inventory = fleet(tmp_path, ollama_monitoring_mode="own", ollama_monitoring_alert_overrides=overrides)
    run = run_playbook("monitoring.yml", inventory=inventory)
    assert run.rc == 0, failures(run)
    out = tmp_path / "mon" / "out"
    assert files_under(out) == [
        "dashboards",
        "dashboards/ollama.json",
        "rules",
        "rules/ollama_alerts.yml",
        "targets",
        "targets/ollama_mtail.yml",
        "targets/ollama_node.yml",
    ]
    assert not (tmp_path / "mon" / "etc").exists(), "own mode wrote Prometheus's or Alertmanager's configuration"
    rules_file = out / "rules" / "ollama_alerts.yml"
    result = subprocess.run([binary("promtool"), "check", "rules", str(rules_file)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    rules = {rule["alert"]: rule for group in yaml.safe_load(rules_file.read_text())["groups"] for rule in group["rules"]}
    assert rules["OllamaInferenceHung"]["for"] == "1s"
    assert rules["OllamaDiskLow"]["labels"]["severity"] == "error"
    assert "OllamaLatencyHigh" not in rules
    # the Go templates of the annotations are kept as they are
    assert rules["OllamaDown"]["annotations"]["summary"] == "Ollama on {{ $labels.instance }} does not answer GET /api/version"


def test_bad_settings_fail_before_writing_anything(tmp_path: Path) -> None:
    """One run, a bad setting on each host: a port taken, a textfile directory that is a file, an unknown severity, a public address."""
    inventory = fleet(tmp_path, ollama_monitoring_alert_overrides={"OllamaDown": {"severity": "page"}}, ollama_monitoring_prometheus_listen_address="0.0.0.0")
    hosts = yaml.safe_load(Path(inventory).read_text())
    port = hosts["all"]["children"]["ollama_servers"]["hosts"]["cpu-01"]["ollama_monitoring_node_exporter_port"]
    (tmp_path / "gpu-01").mkdir()
    (tmp_path / "gpu-01" / "textfile").write_text("not a directory\n")
    before = files_under(tmp_path)
    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        holder.bind(("127.0.0.1", port))
        holder.listen(1)
        run = run_playbook("monitoring.yml", inventory=inventory)
    assert run.rc != 0
    assert {host: stats["failures"] for host, stats in run.data["stats"].items()} == {"gpu-01": 1, "cpu-01": 1, "mon": 1}
    text = failures(run)
    assert "cpu-01" in text and "node_exporter 127.0.0.1:%d: the port is taken by another program" % port in text, text
    assert "gpu-01" in text and "textfile exists but is not a directory" in text, text
    assert "Unknown severities in ollama_monitoring_alert_overrides: page (use info, warning, error or critical)" in text, text
    assert "neither loopback nor in ollama_monitoring_allowed_addresses: 0.0.0.0" in text, text
    assert files_under(tmp_path) == before, "a failed run wrote files"


def test_a_port_held_by_the_exporter_itself_is_no_conflict(tmp_path: Path) -> None:
    """A converged host: node_exporter already listens on its port (here a stand-in answering its build_info metric)."""
    root = tmp_path / "host"
    port = free_port()
    inventory = write_inventory(tmp_path / "hosts.yml", {"host-1": host_vars(root, ollama_monitoring_node_exporter_port=port)}, {})

    class Exporter(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'node_exporter_build_info{version="1.5.0"} 1\n'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Exporter)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run = run_playbook("monitoring.yml", inventory=inventory)
    finally:
        server.shutdown()
        server.server_close()
    assert run.rc == 0, failures(run)
    asked = [task for play in run.data["plays"] for task in play["tasks"] if task["task"]["name"].endswith(": Ask what holds the ports in use")]
    assert [item["item"]["name"] for item in asked[0]["hosts"]["host-1"]["results"]] == ["node_exporter"], asked
    assert (root / "etc" / "prometheus-node-exporter").is_file()


def test_site_with_monitoring_on(tmp_path: Path, sim: Sim) -> None:
    """site.yml behind its switch: the exporter part on the Ollama host in the roles' loop, the server part in the last play."""
    host = host_vars(tmp_path / "host-1", ollama_api_url=sim.url, ollama_models_state_dir=str(tmp_path / "state"))
    inventory = write_inventory(tmp_path / "hosts.yml", {"host-1": host}, {"mon": server_vars(tmp_path / "mon", ollama_monitoring_mode="own")})
    variables = {"ollama_site_manage_server": False, "ollama_site_monitoring": True, "ollama_health_models_path": str(sim.data)}
    run = run_playbook(REPO / "playbooks" / "site.yml", variables, inventory=inventory)
    assert run.rc == 0, failures(run) + run.stdout[-2000:]
    assert (tmp_path / "host-1" / "lib" / "ollama_state_metrics.py").is_file()
    targets = yaml.safe_load((tmp_path / "mon" / "out" / "targets" / "ollama_node.yml").read_text())
    assert [item["labels"]["instance"] for item in targets] == ["host-1"]
    # the Ollama host got only the exporter part, the monitoring host only the server part
    assert not (tmp_path / "host-1" / "out").exists() and not (tmp_path / "mon" / "textfile").exists()
