# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_monitoring role's state metrics writer, against a loopback fake API, a fake Docker socket and ledger files."""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import shutil
import socketserver
import stat
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest

PROGRAM = Path(__file__).resolve().parents[3] / "roles" / "ollama_monitoring" / "files" / "ollama_state_metrics.py"
_spec = importlib.util.spec_from_file_location("ollama_state_metrics", PROGRAM)
assert _spec and _spec.loader
metrics = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(metrics)

GIB = 1024**3


def promtool() -> str:
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is not installed: apt-get install prometheus (see .ci/deps.sh)")
    return path


class Api(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        answers: Dict[str, Any] = self.server.answers  # type: ignore[attr-defined]
        if self.path not in answers:
            self.send_response(404)
            self.end_headers()
            return
        body = json.dumps(answers[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


class UnixHTTPServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class DockerApi(Api):
    def address_string(self) -> str:
        return "docker.sock"


def tags(count: int, loaded: Tuple[str, ...] = ()) -> Dict[str, Any]:
    models = []
    for index in range(count):
        models.append(
            {
                "name": "model-%03d:latest" % index,
                "model": "model-%03d:latest" % index,
                "size": (index + 1) * 1000,
                "digest": "%064x" % index,
                "modified_at": "2026-01-01T00:00:00Z",
                "details": {"family": "llama", "quantization_level": "Q4_0"},
            }
        )
    return {"models": models}


@pytest.fixture
def api() -> Iterator[Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Api)
    server.answers = {  # type: ignore[attr-defined]
        "/api/version": {"version": "0.12.3"},
        "/api/tags": tags(3),
        "/api/ps": {
            "models": [
                {
                    "name": "model-000:latest",
                    "model": "model-000:latest",
                    "size": 1000,
                    "size_vram": 250,
                    "context_length": 4096,
                    "expires_at": "2026-12-07T10:00:00.123456789+01:00",
                }
            ]
        },
    }
    server.url = "http://127.0.0.1:%d" % server.server_address[1]  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def docker_socket(tmp_path: Path) -> Iterator[Any]:
    path = str(tmp_path / "docker.sock")
    server = UnixHTTPServer(path, DockerApi)
    server.answers = {  # type: ignore[attr-defined]
        "/containers/ollama/json": {"State": {"Running": True}},
        "/containers/ollama/stats?stream=false&one-shot=true": {
            "cpu_stats": {"cpu_usage": {"total_usage": 2_500_000_000}},
            "memory_stats": {"usage": 3 * GIB, "limit": 8 * GIB, "stats": {"inactive_file": GIB}},
            "networks": {"eth0": {"rx_bytes": 100, "tx_bytes": 50}, "eth1": {"rx_bytes": 1, "tx_bytes": 2}},
        },
    }
    server.path = path  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def config(tmp_path: Path, api_url: str, **extra: Any) -> Dict[str, Any]:
    textfile = tmp_path / "textfile"
    textfile.mkdir(exist_ok=True)
    base = {
        "api_url": api_url,
        "textfile_dir": str(textfile),
        "ledger_dir": str(tmp_path / "ledger"),
        "watchdog_state_dir": str(tmp_path / "watchdog"),
        "models_path": str(tmp_path),
        "docker_socket": "",
        "nginx_config_dir": str(tmp_path / "nginx"),
        "timeout": 5,
    }
    base.update(extra)
    return base


def samples(text: str) -> List[Tuple[str, Dict[str, str], str]]:
    """A small parser of the text format (names, labels with escapes, values) for the assertions."""
    found = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        name, labels, rest = line, {}, ""
        if "{" in line:
            name, _brace, tail = line.partition("{")
            index = 0
            while tail[index] != "}":
                key, _eq, remainder = tail[index:].partition('="')
                value, position = [], 0
                while remainder[position] != '"':
                    if remainder[position] == "\\":
                        value.append({"n": "\n", "\\": "\\", '"': '"'}[remainder[position + 1]])
                        position += 2
                    else:
                        value.append(remainder[position])
                        position += 1
                labels[key.lstrip(",")] = "".join(value)
                index += len(key) + 2 + position + 1
            rest = tail[index + 1 :].strip()
        else:
            name, _space, rest = line.partition(" ")
        found.append((name, labels, rest.strip()))
    return found


def values(text: str, name: str) -> List[Tuple[Dict[str, str], float]]:
    return [(labels, float(value)) for metric, labels, value in samples(text) if metric == name]


def check_with_promtool(text: str) -> None:
    result = subprocess.run([promtool(), "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ format
def test_label_values_are_escaped() -> None:
    assert metrics.escape_label('a\\b"c\nd') == 'a\\\\b\\"c\\nd'
    out = metrics.Exposition()
    out.add("ollama_model_size_bytes", 5, model='we\\ird"na\nme')
    text = out.render()
    assert 'ollama_model_size_bytes{model="we\\\\ird\\"na\\nme"} 5' in text
    assert values(text, "ollama_model_size_bytes") == [({"model": 'we\\ird"na\nme'}, 5.0)]
    check_with_promtool(text)


def test_unknown_metric_is_refused() -> None:
    with pytest.raises(KeyError):
        metrics.Exposition().add("ollama_made_up", 1)


def test_go_dates_with_nanoseconds_and_zones() -> None:
    assert metrics.parse_time("2026-12-07T10:00:00.123456789+01:00") == pytest.approx(1796634000.123456, abs=1e-3)
    assert metrics.parse_time("2026-12-07T09:00:00Z") == 1796634000.0
    assert metrics.parse_time("0001-01-01T00:00:00Z") is None
    assert metrics.parse_time("not a date") is None


# ------------------------------------------------------------------ atomic write
def test_write_is_atomic_and_world_readable(tmp_path: Path) -> None:
    path = metrics.write_atomic(str(tmp_path), "ollama.prom", "ollama_up 1\n")
    assert Path(path).read_text() == "ollama_up 1\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o644
    assert os.listdir(tmp_path) == ["ollama.prom"]


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    metrics.write_atomic(str(tmp_path), "ollama.prom", "ollama_up 1\n")

    def broken(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(metrics.os, "replace", broken)
    with pytest.raises(OSError, match="disk gone"):
        metrics.write_atomic(str(tmp_path), "ollama.prom", "ollama_up 0\n")
    assert os.listdir(tmp_path) == ["ollama.prom"]
    assert (tmp_path / "ollama.prom").read_text() == "ollama_up 1\n"


def test_a_textfile_dir_that_is_a_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OSError, match="not a directory"):
        metrics.write_atomic(str(tmp_path / "file"), "ollama.prom", "ollama_up 1\n")


def test_main_reports_an_unwritable_dir(tmp_path: Path, api: Any, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = config(tmp_path, api.url, textfile_dir=str(tmp_path / "missing"))
    (tmp_path / "metrics.json").write_text(json.dumps(cfg))
    assert metrics.main(["--config", str(tmp_path / "metrics.json")]) == 1
    assert "missing does not exist or is not a directory" in capsys.readouterr().err


# ------------------------------------------------------------------ sources
def test_api_models_loaded_and_disk(tmp_path: Path, api: Any) -> None:
    writer = metrics.StateWriter(config(tmp_path, api.url))
    path = writer.run()
    text = Path(path).read_text()
    check_with_promtool(text)
    assert values(text, "ollama_up") == [({}, 1.0)]
    assert values(text, "ollama_build_info") == [({"version": "0.12.3"}, 1.0)]
    assert values(text, "ollama_models") == [({}, 3.0)]
    info = values(text, "ollama_model_info")
    assert {labels["model"] for labels, _value in info} == {"model-000:latest", "model-001:latest", "model-002:latest"}
    assert info[0][0]["digest"] == "000000000000" and info[0][0]["source"] == "official" and info[0][0]["quantization"] == "Q4_0"
    assert values(text, "ollama_model_loaded_vram_ratio") == [({"model": "model-000:latest"}, 0.25)]
    assert values(text, "ollama_model_loaded_context_length_tokens") == [({"model": "model-000:latest"}, 4096.0)]
    assert values(text, "ollama_model_loaded_expiry_timestamp_seconds")[0][1] == pytest.approx(1796634000.123, abs=0.01)
    assert values(text, "ollama_models_disk_free_bytes")[0][1] > 0
    assert ({"source": "api"}, 1.0) in values(text, "ollama_state_source_up")
    # no watchdog status yet: said, not hidden
    assert ({"source": "watchdog"}, 0.0) in values(text, "ollama_state_source_up")


def test_api_down(tmp_path: Path) -> None:
    writer = metrics.StateWriter(config(tmp_path, "http://127.0.0.1:9", timeout=1))
    text = writer.collect().render()
    assert values(text, "ollama_up") == [({}, 0.0)]
    assert ({"source": "api"}, 0.0) in values(text, "ollama_state_source_up")
    assert "ollama_build_info" not in text


def test_model_sources() -> None:
    assert metrics.model_source({"name": "llama3.2:latest"}) == "official"
    assert metrics.model_source({"name": "hf.co/org/model:Q4"}) == "remote"
    assert metrics.model_source({"name": "gpt-oss:120b-cloud", "remote_host": "https://ollama.com:443"}) == "remote"
    assert metrics.model_source({"name": "mine:latest", "details": {"parent_model": "llama3.2:latest"}}) == "custom"


def test_cardinality_cap_keeps_loaded_models_and_the_largest(tmp_path: Path, api: Any) -> None:
    api.answers["/api/tags"] = tags(200)
    writer = metrics.StateWriter(config(tmp_path, api.url, max_models=10))
    text = writer.collect().render()
    names = [labels["model"] for labels, _value in values(text, "ollama_model_info")]
    assert len(names) == 10
    assert names[0] == "model-000:latest"  # loaded, though the smallest
    assert names[1:] == ["model-%03d:latest" % index for index in range(199, 190, -1)]
    assert values(text, "ollama_state_models_omitted") == [({}, 190.0)]
    assert values(text, "ollama_models") == [({}, 200.0)]


def test_a_host_with_200_models(tmp_path: Path, api: Any) -> None:
    api.answers["/api/tags"] = tags(200)
    writer = metrics.StateWriter(config(tmp_path, api.url, max_models=200))
    started = time.perf_counter()
    path = writer.run()
    elapsed = time.perf_counter() - started
    text = Path(path).read_text()
    check_with_promtool(text)
    assert len(values(text, "ollama_model_info")) == 200
    assert len(values(text, "ollama_model_size_bytes")) == 200
    assert values(text, "ollama_state_models_omitted") == [({}, 0.0)]
    assert elapsed < 2.0, "writing 200 models took %.2f s" % elapsed


def test_watchdog_state(tmp_path: Path, api: Any) -> None:
    (tmp_path / "watchdog").mkdir()
    state = {
        "restarts": 4,
        "consecutive_failures": 2,
        "last_check": "2026-12-07T09:00:00Z",
        "last_inference": 1796634000.5,
        "inference_failing": True,
        "inference_seconds": 60.01,
        "inference_model": "smollm2:135m",
    }
    (tmp_path / "watchdog" / "status.json").write_text(json.dumps(state))
    text = metrics.StateWriter(config(tmp_path, api.url)).collect().render()
    check_with_promtool(text)
    assert "# TYPE ollama_watchdog_restarts_total counter" in text
    assert values(text, "ollama_watchdog_restarts_total") == [({}, 4.0)]
    assert values(text, "ollama_inference_probe_success") == [({"model": "smollm2:135m"}, 0.0)]
    assert values(text, "ollama_inference_probe_duration_seconds") == [({"model": "smollm2:135m"}, 60.01)]
    assert values(text, "ollama_watchdog_last_check_timestamp_seconds") == [({}, 1796634000.0)]


def test_ledger_pulls_queue_and_last_sync(tmp_path: Path, api: Any) -> None:
    models = tmp_path / "ledger" / "models"
    models.mkdir(parents=True)
    progress = {"completed": 250, "total": 1000, "speed": 50, "updated_at": "2026-12-07T09:00:00+00:00"}
    records = {
        "a": {"name": "llama3.2:latest", "status": "downloading", "progress": progress},
        "b": {"name": "qwen3:8b", "status": "queued", "started_at": "2026-12-07T08:59:00+00:00"},
        "c": {"name": "gone:latest", "status": "failed", "message": "boom"},
        "d": {"name": "done:latest", "status": "ok"},
    }
    for key, record in records.items():
        (models / ("%s.json" % key)).write_text(json.dumps(record))
    (models / "broken.json").write_text("{not json")
    history = [
        {"kind": "sync", "time": "2026-12-07T08:00:00+00:00", "failed": [], "seconds": 1.0, "summary": {"added": 9}},
        {"kind": "sync", "time": "2026-12-07T08:30:00+00:00", "failed": ["x:latest"], "seconds": 12.5, "summary": {"added": 1, "failed": 1, "unchanged": 3}},
    ]
    (tmp_path / "ledger" / "history.jsonl").write_text("".join(json.dumps(item) + "\n" for item in history))
    writer = metrics.StateWriter(config(tmp_path, api.url), clock=lambda: 1796634000.0)
    text = writer.collect().render()
    check_with_promtool(text)
    assert ({"model": "llama3.2:latest", "status": "downloading"}, 1.0) in values(text, "ollama_pull_status")
    assert values(text, "ollama_pull_progress_ratio") == [({"model": "llama3.2:latest"}, 0.25)]
    assert values(text, "ollama_pull_queue_length") == [({}, 1.0)]
    assert values(text, "ollama_pull_queue_wait_seconds") == [({}, 60.0)]
    assert ({"status": "failed"}, 1.0) in values(text, "ollama_pulls")
    assert values(text, "ollama_sync_last_success") == [({}, 0.0)]
    assert values(text, "ollama_sync_last_duration_seconds") == [({}, 12.5)]
    assert ({"action": "unchanged"}, 3.0) in values(text, "ollama_sync_last_models")
    # the unreadable record is reported, the others are still written
    assert ({"source": "ledger"}, 0.0) in values(text, "ollama_state_source_up")
    assert "broken.json" in writer.errors["ledger"]


def test_docker_stats(tmp_path: Path, api: Any, docker_socket: Any) -> None:
    text = metrics.StateWriter(config(tmp_path, api.url, docker_socket=docker_socket.path)).collect().render()
    check_with_promtool(text)
    assert values(text, "ollama_container_running") == [({"container": "ollama"}, 1.0)]
    assert values(text, "ollama_container_cpu_seconds_total") == [({"container": "ollama"}, 2.5)]
    assert values(text, "ollama_container_memory_usage_bytes") == [({"container": "ollama"}, 2.0 * GIB)]
    assert values(text, "ollama_container_memory_limit_bytes") == [({"container": "ollama"}, 8.0 * GIB)]
    assert values(text, "ollama_container_network_receive_bytes_total") == [({"container": "ollama"}, 101.0)]
    assert values(text, "ollama_container_network_transmit_bytes_total") == [({"container": "ollama"}, 52.0)]


def test_docker_without_the_container_and_without_the_engine(tmp_path: Path, api: Any, docker_socket: Any) -> None:
    text = metrics.StateWriter(config(tmp_path, api.url, docker_socket=docker_socket.path, container="other")).collect().render()
    assert values(text, "ollama_container_running") == [({"container": "other"}, 0.0)]
    text = metrics.StateWriter(config(tmp_path, api.url, docker_socket=str(tmp_path / "none.sock"))).collect().render()
    assert ({"source": "docker"}, 0.0) in values(text, "ollama_state_source_up")


def test_certificate_expiry_of_bound_domains(tmp_path: Path, api: Any) -> None:
    nginx = tmp_path / "nginx"
    nginx.mkdir()
    cert, key = nginx / "a.crt", nginx / "a.key"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "10", "-subj", "/CN=a.example", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )
    sidecar = {"managed_by": metrics.MANAGED_BY, "domain": "a.example", "tls": {"mode": "selfsigned", "certificate": str(cert)}}
    (nginx / "a.example.json").write_text(json.dumps(sidecar))
    (nginx / "plain.json").write_text(json.dumps({"managed_by": metrics.MANAGED_BY, "domain": "plain.example", "tls": {"mode": "none"}}))
    (nginx / "other.json").write_text(json.dumps({"something": "else"}))
    text = metrics.StateWriter(config(tmp_path, api.url)).collect().render()
    found = values(text, "ollama_certificate_expiry_timestamp_seconds")
    assert [labels for labels, _value in found] == [{"domain": "a.example"}]
    assert found[0][1] == pytest.approx(time.time() + 10 * 86400, abs=3600)
