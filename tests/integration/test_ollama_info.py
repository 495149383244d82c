# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ollama_info in real ansible-playbook runs against the Ollama API simulator, up and down."""

from __future__ import annotations

import contextlib
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from tests.integration.nginx_fixture import free_port
from tests.integration.playbook import REPO, run_playbook

pytestmark = pytest.mark.integration


def api(sim, method: str, path: str, body: dict | None = None) -> bytes:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(sim.url + path, data=data, method=method)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return resp.read()


def mutating(requests: list[dict]) -> list[dict]:
    """Requests that could change the server: anything but reads."""
    reads = {("GET", "/"), ("HEAD", "/"), ("GET", "/api/version"), ("GET", "/api/tags"), ("GET", "/api/ps")}
    return [r for r in requests if (r["method"], r["path"]) not in reads]


@pytest.fixture
def loaded_sim(sim):
    """The simulator with one model pulled and loaded."""
    api(sim, "POST", "/api/pull", {"model": "smollm2:135m", "stream": False})
    api(sim, "POST", "/api/generate", {"model": "smollm2:135m", "keep_alive": "10m", "stream": False})
    sim.clear_requests()
    return sim


def test_healthy_server_facts(loaded_sim) -> None:
    sim = loaded_sim
    tags = json.loads(api(sim, "GET", "/api/tags"))["models"]
    version = json.loads(api(sim, "GET", "/api/version"))["version"]
    sim.clear_requests()

    run = run_playbook("info.yml", {"info_api_url": sim.url})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["changed"] is False
    assert info["healthy"] is True
    assert info["reason"] == ""
    assert info["api_url"] == sim.url
    assert info["version"] == version
    assert info["models"] == ["smollm2:135m"]
    assert info["models_count"] == 1
    assert info["models_total_size"] == tags[0]["size"]
    assert info["models_total_size_human"].endswith(("MB", "KB"))
    assert info["loaded_count"] == 1
    loaded = info["loaded"][0]
    assert loaded["name"] == "smollm2:135m"
    assert loaded["digest"] == tags[0]["digest"]
    assert loaded["size_vram"] == 0
    assert loaded["expires_at"]
    assert mutating(sim.requests()) == []


def test_check_mode_sends_only_reads(loaded_sim) -> None:
    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url}, check=True, diff=True)
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is True
    assert info["changed"] is False
    requests = loaded_sim.requests()
    assert requests, "the simulator logged no request"
    assert mutating(requests) == []


def test_module_defaults_action_group(sim) -> None:
    run = run_playbook("info_module_defaults.yml", {"group_api_url": sim.url})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["api_url"] == sim.url
    assert info["healthy"] is True
    assert info["models_count"] == 0


def test_ollama_host_environment_fallback(sim) -> None:
    run = run_playbook("info.yml", env={"OLLAMA_HOST": "127.0.0.1:%s" % sim.port})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["api_url"] == "http://127.0.0.1:%s" % sim.port
    assert info["healthy"] is True


def test_server_down_is_a_fact_not_a_failure() -> None:
    url = "http://127.0.0.1:%s" % free_port()
    run = run_playbook("info.yml", {"info_api_url": url})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is False
    assert "failed" not in info or info["failed"] is False
    assert info["reason"].startswith("GET /: cannot reach the Ollama server at %s" % url)
    assert "Connection refused" in info["reason"]
    assert info["models_count"] == 0
    assert "Traceback" not in run.stdout + run.stderr


def test_wait_on_a_server_that_stays_down_fails_clearly() -> None:
    url = "http://127.0.0.1:%s" % free_port()
    run = run_playbook("info.yml", {"info_api_url": url, "info_wait": True, "info_wait_timeout": 2})
    assert run.task_seconds("Probe") < 60
    assert run.rc == 2
    info = run.results("Probe")
    assert info["failed"] is True
    assert info["healthy"] is False
    assert info["msg"].startswith("The Ollama server at %s did not become healthy within 2 seconds. Last reason: GET /: cannot reach" % url)
    assert "Traceback" not in run.stdout + run.stderr


def test_wait_until_a_late_server_answers(tmp_path: Path) -> None:
    port = free_port()
    procs: list[subprocess.Popen] = []

    def start_late() -> None:
        time.sleep(3)
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.ollama_sim", "--listen", "127.0.0.1:%s" % port, "--data", str(tmp_path)],
                cwd=str(REPO),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )

    starter = threading.Thread(target=start_late)
    starter.start()
    try:
        run = run_playbook("info.yml", {"info_api_url": "http://127.0.0.1:%s" % port, "info_wait": True, "info_wait_timeout": 60})
        assert run.rc == 0, run.stderr
        info = run.results("Probe")
        assert info["healthy"] is True
        assert info["version"]
    finally:
        starter.join()
        for proc in procs:
            proc.kill()
            proc.wait()


def test_server_error_is_reported_with_the_servers_words(sim) -> None:
    sim.faults(status=500, count=1)
    run = run_playbook("info.yml", {"info_api_url": sim.url})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is False
    assert "HTTP 500" in info["reason"]


def test_wait_rides_out_a_transient_503(sim) -> None:
    sim.faults(status=503, count=2)
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_wait": True, "info_wait_timeout": 30})
    assert run.rc == 0, run.stderr
    assert run.results("Probe")["healthy"] is True


class NotOllama(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>It works!</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def test_something_else_on_the_port_is_not_healthy() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotOllama)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = "http://127.0.0.1:%s" % server.server_address[1]
        run = run_playbook("info.yml", {"info_api_url": url})
        assert run.rc == 0, run.stderr
        info = run.results("Probe")
        assert info["healthy"] is False
        assert info["reason"] == "GET / answered '<html>It works!</html>' instead of 'Ollama is running': is %s an Ollama server?" % url
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("api_url", "fragment"),
    [
        ("127.0.0.1:11434", "has no scheme"),
        ("http://127.0.0.1:99999", "invalid port '99999'"),
        ("http://127.0.0.1 :11434", "contains white space"),
        ("http://admin:secret@127.0.0.1:11434", "must not carry credentials"),
        ("http://[::1:11434", "has an invalid host (Invalid IPv6 URL)"),
        ("https://[zz]:1", "has an invalid host ("),
        ("http://[::1]x:1", "invalid host '[::1]x:1'"),
        ("http://127.0.0.1:\u0661\u0662\u0663", "invalid port '\u0661\u0662\u0663'"),
    ],
)
def test_malformed_api_url_fails_naming_the_part(api_url: str, fragment: str) -> None:
    run = run_playbook("info.yml", {"info_api_url": api_url})
    assert run.rc == 2
    info = run.results("Probe")
    assert info["failed"] is True
    assert fragment in info["msg"]
    assert "secret" not in info["msg"]
    assert "Traceback" not in run.stdout + run.stderr


class Listener:
    """A loopback TCP port for what is not an Ollama server.

    With a ``banner`` it answers every connection with that line, as an SSH
    server does; without one it never even accepts: the kernel completes the
    handshake, takes the request and nothing ever answers.
    """

    def __init__(self, banner: bytes | None = None) -> None:
        self.banner = banner
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self.serve, daemon=True)
        if banner is not None:
            self.thread.start()

    def serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(self.banner or b"")
                conn.settimeout(2)
                with contextlib.suppress(OSError):
                    conn.recv(65536)

    def close(self) -> None:
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()
        self.sock.close()


def test_a_non_http_service_on_the_port_is_not_healthy() -> None:
    ssh = Listener(b"SSH-2.0-OpenSSH_9.2\r\n")
    try:
        run = run_playbook("info.yml", {"info_api_url": ssh.url})
    finally:
        ssh.close()
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is False
    assert info["reason"] == (
        "GET /: the server at %s answered something that is not HTTP: 'SSH-2.0-OpenSSH_9.2'. Check that api_url points at the Ollama API port" % ssh.url
    )
    assert "Traceback" not in run.stdout + run.stderr


def test_wait_timeout_bounds_a_server_that_never_answers(tmp_path: Path) -> None:
    """timeout is 60 s but wait_timeout 2 s: no probe request may wait past wait_timeout."""
    playbook = tmp_path / "wait.yml"
    playbook.write_text(
        "- hosts: all\n"
        "  gather_facts: false\n"
        "  tasks:\n"
        "    - name: Probe\n"
        "      llmops.ollama.ollama_info:\n"
        "        api_url: '{{ info_api_url }}'\n"
        "        timeout: 60\n"
        "        wait: true\n"
        "        wait_timeout: 2\n"
        "        wait_interval: 0.5\n"
    )
    silent = Listener()
    try:
        run = run_playbook(playbook, {"info_api_url": silent.url})
    finally:
        silent.close()
    assert run.rc == 2, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is False
    prefix = "The Ollama server at %s did not become healthy within 2 seconds. Last reason: " % silent.url
    prefix += "GET /: no answer from the Ollama server at %s within " % silent.url
    assert info["msg"].startswith(prefix), info["msg"]
    waited = float(info["msg"][len(prefix) :].split(" ", 1)[0])
    assert waited <= 2, "a probe request waited %s seconds, longer than wait_timeout" % waited
    # A behaviour check, not a speed target: one 60-second request would take longer than this.
    assert run.task_seconds("Probe") < 30, run.task_seconds("Probe")
    assert "Traceback" not in run.stdout + run.stderr


def test_health_playbook_main_job(loaded_sim, tmp_path) -> None:
    variables = {"ollama_api_url": loaded_sim.url, "ollama_health_models_path": str(tmp_path)}
    run = run_playbook(REPO / "playbooks" / "health.yml", variables, inventory=str(REPO / "inventory" / "local"))
    assert run.rc == 0, run.stderr
    report = run.results("Print the health report")["msg"]
    assert report[1] == "healthy: True"
    assert report[3].startswith("models: 1 (")
    assert report[3].endswith("smollm2:135m")
    assert report[4] == "loaded: smollm2:135m"
    assert re.fullmatch(r"disk free: [0-9.]+ [KMGT]?B at %s" % re.escape(str(tmp_path)), report[6]), report[6]
    disk = run.results("Probe the Ollama API")["disk"]
    stat = os.statvfs(str(tmp_path))
    assert abs(disk["free"] - stat.f_bavail * stat.f_frsize) < 1_000_000_000 and disk["total"] == stat.f_blocks * stat.f_frsize

    missing = str(tmp_path / "missing")
    run = run_playbook(REPO / "playbooks" / "health.yml", {**variables, "ollama_health_models_path": missing}, inventory=str(REPO / "inventory" / "local"))
    assert run.rc == 0, "a path that cannot be measured is reported, not a failure"
    assert run.results("Print the health report")["msg"][6] == "disk free: unknown (%s: No such file or directory) at %s" % (missing, missing)


def test_health_playbook_fails_when_down() -> None:
    url = "http://127.0.0.1:%s" % free_port()
    run = run_playbook(REPO / "playbooks" / "health.yml", {"ollama_api_url": url}, inventory=str(REPO / "inventory" / "local"))
    assert run.rc == 2
    gate = run.results("Print the health report")
    assert gate["failed"] is True
    assert gate["msg"][-1].startswith("Ollama at %s is not healthy: GET /: cannot reach" % url), gate["msg"]


# ---------------------------------------------------------------- the inference probe and the GPU truth


def inference_requests(sim) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sim.requests() if r["path"] in ("/api/generate", "/api/embed", "/api/chat")]


def test_inference_probe_asks_the_smallest_model_and_reports_the_latency(loaded_sim) -> None:
    api(loaded_sim, "POST", "/api/pull", {"model": "qwen2.5:0.5b", "stream": False})
    loaded_sim.clear_requests()
    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url, "info_probe": "inference", "info_probe_timeout": 20})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is True and info["reason"] == ""
    probe = info["inference"]
    assert (probe["healthy"], probe["model"], probe["kind"], probe["reason"], probe["timeout"]) == (True, "smollm2:135m", "generate", "", 20)
    assert 0 <= probe["latency"] < 20
    assert inference_requests(loaded_sim) == [("POST", "/api/generate")]


def test_version_probe_sends_no_inference_and_reports_no_inference(loaded_sim) -> None:
    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url})
    info = run.results("Probe")
    assert info["inference"] is None and info["gpu_warnings"] == []
    assert inference_requests(loaded_sim) == []


def test_inference_probe_of_an_embedding_model_embeds(sim) -> None:
    api(sim, "POST", "/api/pull", {"model": "all-minilm:latest", "stream": False})
    sim.clear_requests()
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference", "info_probe_model": "all-minilm:latest"})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is True
    assert (info["inference"]["model"], info["inference"]["kind"]) == ("all-minilm:latest", "embed")
    assert inference_requests(sim) == [("POST", "/api/embed")]
    # the probe loaded it: it shows among the loaded models
    assert [m["name"] for m in info["loaded"]] == ["all-minilm:latest"]


def test_a_hung_runner_makes_the_inference_probe_unhealthy_within_probe_timeout(loaded_sim) -> None:
    loaded_sim.faults(hang_inference=True)
    try:
        run = run_playbook("info.yml", {"info_api_url": loaded_sim.url, "info_probe": "inference", "info_probe_timeout": 2})
        # the version probe still calls this server healthy
        version_only = run_playbook("info.yml", {"info_api_url": loaded_sim.url}).results("Probe")
    finally:
        loaded_sim.clear_faults()
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["healthy"] is False
    assert info["reason"] == (
        "inference probe of smollm2:135m: POST /api/generate: no answer within the probe timeout of 2 seconds (a hung runner, or a model too slow to load)"
    )
    assert info["inference"]["healthy"] is False and info["inference"]["latency"] is None
    assert info["version"], "the API itself answered"
    # the task's own time, not ansible-playbook's start-up: tests run side by side
    assert run.task_seconds("Probe") < 20, "the probe must give up after probe_timeout, not hang with the runner"
    assert version_only["healthy"] is True


def test_wait_with_the_inference_probe_fails_naming_the_hung_runner(loaded_sim) -> None:
    loaded_sim.faults(hang_inference=True)
    try:
        run = run_playbook(
            "info.yml",
            {"info_api_url": loaded_sim.url, "info_probe": "inference", "info_probe_timeout": 1, "info_wait": True, "info_wait_timeout": 3},
        )
    finally:
        loaded_sim.clear_faults()
    assert run.rc == 2
    info = run.results("Probe")
    prefix = "The Ollama server at %s did not become healthy within 3 seconds. " % loaded_sim.url
    assert info["msg"].startswith(prefix + "Last reason: inference probe of smollm2:135m")


def test_inference_probe_without_models_or_with_a_missing_model_is_unhealthy(sim) -> None:
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference"})
    info = run.results("Probe")
    assert info["healthy"] is False
    assert info["reason"] == "inference probe: the server at %s holds no model to ask; name one with probe_model or pull one" % sim.url

    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference", "info_probe_model": "nope:1b"})
    assert run.results("Probe")["reason"] == "inference probe: nope:1b is not on the server at %s (it holds: no model); pull it or name another" % sim.url


@pytest.mark.parametrize(
    ("variables", "fragment"),
    [
        ({"info_probe_timeout": 0}, "probe_timeout must be more than 0 seconds (got 0.0)"),
        ({"info_probe_model": " "}, "probe_model must name a model (got an empty string)"),
        ({"info_probe": "chat"}, "value of probe must be one of: version, inference, got: chat"),
    ],
)
def test_bad_probe_options_fail_naming_the_option(sim, variables: dict, fragment: str) -> None:
    run = run_playbook("info.yml", {"info_api_url": sim.url, **variables})
    assert run.rc == 2
    assert fragment in run.results("Probe")["msg"]
    assert sim.requests() == [], "nothing is asked before the options are valid"


def test_gpu_percent_of_each_loaded_model_and_no_verdict_unless_asked(loaded_sim) -> None:
    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url})
    info = run.results("Probe")
    assert [(m["name"], m["gpu_percent"]) for m in info["loaded"]] == [("smollm2:135m", 0.0)]
    assert info["gpu_warnings"] == [] and info["healthy"] is True


def test_a_partial_cpu_fallback_is_a_warning_with_expect_gpu_and_a_failure_with_require_gpu(loaded_sim) -> None:
    loaded_sim.faults(vram_fraction=0.3)
    message = "smollm2:135m runs partly on the CPU: only 30% of it is in GPU memory, 70% in system memory"

    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url, "info_expect_gpu": True})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert [(m["name"], m["gpu_percent"]) for m in info["loaded"]] == [("smollm2:135m", 30.0)]
    assert info["healthy"] is True
    assert info["gpu_warnings"] == [message]
    assert info["warnings"] == ["expect_gpu: " + message]

    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url, "info_require_gpu": True, "info_wait": True, "info_wait_timeout": 30})
    assert run.rc == 2
    info = run.results("Probe")
    assert info["failed"] is True and info["healthy"] is False
    assert info["msg"].startswith("The Ollama server at %s runs models on the CPU although require_gpu is set: %s." % (loaded_sim.url, message))
    assert info["reason"] == "require_gpu: " + message

    loaded_sim.faults(vram_fraction=1.0)
    run = run_playbook("info.yml", {"info_api_url": loaded_sim.url, "info_require_gpu": True})
    assert run.rc == 0, run.stderr
    info = run.results("Probe")
    assert info["gpu_warnings"] == [] and [m["gpu_percent"] for m in info["loaded"]] == [100.0]


def test_require_gpu_judges_the_model_the_inference_probe_loaded(sim) -> None:
    api(sim, "POST", "/api/pull", {"model": "smollm2:135m", "stream": False})
    sim.faults(vram_fraction=0)
    run = run_playbook("info.yml", {"info_api_url": sim.url, "info_probe": "inference", "info_require_gpu": True})
    assert run.rc == 2
    info = run.results("Probe")
    assert info["inference"]["healthy"] is True
    assert "smollm2:135m runs wholly on the CPU (0% of it in GPU memory)" in info["msg"]
