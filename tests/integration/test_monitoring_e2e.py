# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""End to end: three simulated Ollama hosts, their state metrics through real node_exporters, scraped by a real
Prometheus from the role's file_sd targets with the role's rules; one host's inference hangs, the alert fires and a
real Alertmanager posts it to the test's webhook."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import pytest

from tests.integration.monitoring_support import (
    Daemon,
    Prometheus,
    WebhookReceiver,
    alertmanager,
    host_vars,
    node_exporter,
    prometheus,
    run_watchdog,
    server_vars,
    write_inventory,
)
from tests.integration.playbook import run_playbook
from tests.ollama_sim.testing import Sim

MODEL = "smollm2:135m"
HOSTS = ("gpu-01", "cpu-01", "cpu-02")
HUNG = "cpu-01"


def watchdog_config(root: Path, sim: Sim, writer: Dict[str, Any]) -> Dict[str, Any]:
    return {
        "api_url": sim.url,
        "container": "llmops-monitor-e2e-none",
        "docker": "false",  # never restarts: failures is out of reach
        "failures": 100000,
        "timeout": 2,
        "state_dir": writer["ollama_monitoring_watchdog_state_dir"],
        "log_file": str(root / "watchdog.log"),
        "host": root.name,
        "inference_interval": 1,
        "inference_model": MODEL,
        "inference_timeout": 2,
        "metrics_program": writer["ollama_monitoring_writer_bin"],
        "metrics_config": writer["ollama_monitoring_writer_config"],
    }


@pytest.mark.long
def test_inference_hung_alert_reaches_the_webhook(tmp_path: Path, make_sim: Callable[..., Sim]) -> None:
    sims = {name: make_sim(name) for name in HOSTS}
    for sim in sims.values():
        sim.pull(MODEL)
    receiver = WebhookReceiver()
    hosts = {name: host_vars(tmp_path / name, ollama_monitoring_api_url=sims[name].url) for name in HOSTS}
    mon = server_vars(
        tmp_path / "mon",
        ollama_monitoring_scrape_interval="1s",
        ollama_monitoring_evaluation_interval="1s",
        ollama_monitoring_alertmanager_group_wait="1s",
        ollama_monitoring_alertmanager_group_interval="1s",
        ollama_monitoring_webhook=receiver.url,
        ollama_monitoring_alert_overrides={"OllamaInferenceHung": {"for": "2s"}},
    )
    inventory = write_inventory(tmp_path / "hosts.yml", hosts, {"mon": mon})
    run = run_playbook("monitoring.yml", inventory=inventory)
    assert run.rc == 0, run.stdout[-3000:]

    daemons: List[Daemon] = []
    stop = threading.Event()
    threads: List[threading.Thread] = []
    try:
        for name in HOSTS:
            daemons.append(node_exporter(Path(hosts[name]["ollama_monitoring_node_exporter_defaults_file"]), tmp_path / "logs" / ("node-%s.log" % name)))
        daemons.append(alertmanager(Path(mon["ollama_monitoring_alertmanager_defaults_file"]), tmp_path / "logs" / "alertmanager.log"))
        daemons.append(prometheus(Path(mon["ollama_monitoring_prometheus_defaults_file"]), tmp_path / "logs" / "prometheus.log"))
        prom = Prometheus("http://127.0.0.1:%d" % mon["ollama_monitoring_prometheus_port"])

        runs: Dict[str, List[Any]] = {name: [] for name in HOSTS}

        def loop(name: str) -> None:
            config = watchdog_config(tmp_path / name, sims[name], hosts[name])
            while not stop.is_set():
                runs[name].append(run_watchdog(config, tmp_path / name / "watchdog.json"))
                stop.wait(0.5)

        for name in HOSTS:
            threads.append(threading.Thread(target=loop, args=(name,), daemon=True))
            threads[-1].start()

        # every host up and probed healthy first: the fleet as Prometheus sees it, from the role's targets
        prom.wait_for("ollama_up == 1", lambda result: len(result) == 3, 60, "three hosts up")
        healthy = prom.wait_for("ollama_inference_probe_success == 1", lambda result: len(result) == 3, 60, "three healthy inference probes")
        assert sorted(item["metric"]["instance"] for item in healthy) == sorted(HOSTS)
        assert {item["metric"]["job"] for item in healthy} == {"ollama"}

        sims[HUNG].faults(hang_inference=True)
        firing = prom.wait_for(
            'ALERTS{alertname="OllamaInferenceHung", alertstate="firing"}', lambda result: len(result) > 0, 60, "the inference-hung alert firing"
        )
        assert [item["metric"]["instance"] for item in firing] == [HUNG]
        assert firing[0]["metric"]["severity"] == "critical"
        assert firing[0]["metric"]["model"] == MODEL

        deadline = time.monotonic() + 30
        posted: List[Dict[str, Any]] = []
        while time.monotonic() < deadline and not posted:
            posted = [
                alert
                for body in list(receiver.received)
                for alert in body.get("alerts", [])
                if alert["labels"].get("alertname") == "OllamaInferenceHung" and alert["status"] == "firing"
            ]
            time.sleep(0.5)
        assert posted, "Alertmanager posted nothing for OllamaInferenceHung: %s" % receiver.received
        assert {alert["labels"]["instance"] for alert in posted} == {HUNG}
        assert posted[0]["annotations"]["summary"] == "Ollama on %s answers its API but inference of %s hangs" % (HUNG, MODEL)
        assert posted[0]["annotations"]["runbook"]
        # the API still answers on the hung host: not "down"
        assert prom.vector('ollama_up{instance="%s"}' % HUNG)[0]["value"][1] == "1"
        assert all(run.returncode == 0 for name in HOSTS for run in runs[name]), [run.stderr for name in HOSTS for run in runs[name] if run.returncode]
    finally:
        stop.set()
        sims[HUNG].clear_faults()
        for thread in threads:
            thread.join(30)
        for daemon in reversed(daemons):
            daemon.stop()
        receiver.close()
