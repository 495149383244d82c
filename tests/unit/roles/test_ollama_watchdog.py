# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_server role's watchdog program, one run at a time, against loopback servers and a fake docker."""

from __future__ import annotations

import atexit
import fcntl
import http.server
import importlib.util
import json
import os
import shutil
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import pytest

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "roles" / "ollama_server" / "files" / "ollama_watchdog.py"
PROBE = ROOT / "plugins" / "module_utils" / "core" / "probe.py"
# Installed as the ollama_server role installs it: the program, and the collection's probe beside it as ollama_probe.py.
INSTALLED = Path(tempfile.mkdtemp(prefix="llmops-watchdog-"))
atexit.register(shutil.rmtree, INSTALLED, True)
PROGRAM = INSTALLED / "ollama_watchdog.py"
shutil.copy(SOURCE, PROGRAM)
shutil.copy(PROBE, INSTALLED / "ollama_probe.py")
_spec = importlib.util.spec_from_file_location("ollama_watchdog", PROGRAM)
assert _spec and _spec.loader
watchdog = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(watchdog)


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers every request with what the test server's ``answer`` callable writes on the raw socket."""

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.received.append((self.command, self.path, body))  # type: ignore[attr-defined]
        self.server.headers_seen.append(dict(self.headers))  # type: ignore[attr-defined]
        self.wfile.write(self.server.answer())  # type: ignore[attr-defined]
        self.close_connection = True

    do_GET = _handle
    do_POST = _handle

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


def ok(body: bytes, status: str = "200 OK") -> bytes:
    return b"HTTP/1.1 %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (status.encode(), len(body), body)


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[], bytes]], Any]]:
    servers = []

    def start(answer: Callable[[], bytes]) -> Any:
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.answer = answer  # type: ignore[attr-defined]
        server.received = []  # type: ignore[attr-defined]
        server.headers_seen = []  # type: ignore[attr-defined]
        server.url = "http://127.0.0.1:%d" % server.server_address[1]  # type: ignore[attr-defined]
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def fake_docker(tmp_path: Path) -> Callable[[int], Path]:
    """A docker command that records its arguments and exits with the given code."""

    def make(code: int) -> Path:
        path = tmp_path / ("docker-%d" % code)
        path.write_text('#!/bin/sh\necho "$@" >> %s\necho "docker says $*" >&2\nexit %d\n' % (tmp_path / "docker.calls", code))
        path.chmod(0o755)
        return path

    return make


def config(tmp_path: Path, api_url: str, **extra: Any) -> dict:
    values = {
        "api_url": api_url,
        "container": "ollama-test",
        "failures": 2,
        "timeout": 2,
        "state_dir": str(tmp_path / "state"),
        "log_file": str(tmp_path / "log" / "watchdog.log"),
        "docker": "/nonexistent/docker",
        "host": "node-1",
    }
    values.update(extra)
    return values


def run(values: dict) -> tuple[dict, list[dict]]:
    dog = watchdog.Watchdog(values)
    assert dog.run() == 0
    return json.loads(Path(values["state_dir"], "status.json").read_text()), dog.events


def test_a_healthy_server_is_logged_and_saved(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    state, events = run(config(tmp_path, api.url))
    assert (state["healthy"], state["consecutive_failures"], state["last_detail"]) == (True, 0, "version 0.12.6")
    assert events == []
    assert [entry[:2] for entry in api.received] == [("GET", "/api/version")]
    assert Path(tmp_path / "log" / "watchdog.log").read_text().endswith("INFO ok version 0.12.6\n")


@pytest.mark.parametrize(
    ("answer", "detail"),
    [
        (lambda: b"garbage\r\n\r\n", "GET http://127.0.0.1:%d/api/version failed: "),
        (lambda: b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"vers', "failed: IncompleteRead"),
        (lambda: ok(b"<html>proxy error</html>"), "failed: Expecting value"),
        (lambda: ok(b"[1, 2]"), "answered without a version: [1, 2]"),
        (lambda: ok(b'{"error": "boom"}', "500 Internal Server Error"), "failed: Internal Server Error"),
    ],
    ids=["bad-status-line", "cut-body", "not-json", "not-an-object", "http-500"],
)
def test_a_garbled_answer_is_a_failed_probe_not_a_crash(tmp_path: Path, serve, answer, detail: str) -> None:
    api = serve(answer)
    state, events = run(config(tmp_path, api.url))
    assert state["healthy"] is False and state["consecutive_failures"] == 1
    assert detail.replace("%d", str(api.server_address[1])) in state["last_detail"]
    assert [event["event"] for event in events] == ["unhealthy"]


def test_failures_count_up_to_a_restart_then_recovery(tmp_path: Path, serve, fake_docker) -> None:
    hook = serve(lambda: ok(b"", "204 No Content"))
    values = config(tmp_path, "http://127.0.0.1:%d" % closed_port(), docker=str(fake_docker(0)), webhook=hook.url + "/alerts")
    first, events = run(values)
    assert (first["healthy"], first["consecutive_failures"]) == (False, 1)
    assert [event["event"] for event in events] == ["unhealthy"]
    assert not (tmp_path / "docker.calls").exists()

    second, events = run(values)
    assert [event["event"] for event in events] == ["restarted"]
    assert (second["consecutive_failures"], second["restarts"]) == (0, 1)
    assert (tmp_path / "docker.calls").read_text() == "restart ollama-test\n"

    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    third, events = run(dict(values, api_url=api.url))
    assert third["healthy"] is True
    assert [event["event"] for event in events] == ["recovered"]

    posted = [json.loads(body) for method, path, body in hook.received]
    assert [(p["event"], p["level"], p["host"], p["container"]) for p in posted] == [
        ("unhealthy", "WARN", "node-1", "ollama-test"),
        ("restarted", "CRITICAL", "node-1", "ollama-test"),
        ("recovered", "INFO", "node-1", "ollama-test"),
    ]
    assert all(path == "/alerts" and p["detail"] and p["timestamp"] for (method, path, body), p in zip(hook.received, posted))


def test_a_failed_restart_is_reported_and_retried_next_run(tmp_path: Path, fake_docker) -> None:
    values = config(tmp_path, "http://127.0.0.1:%d" % closed_port(), failures=1, docker=str(fake_docker(1)))
    state, events = run(values)
    assert [event["event"] for event in events] == ["unhealthy", "restart_failed"]
    assert events[1]["level"] == "CRITICAL"
    assert "restart ollama-test exited 1: docker says restart ollama-test" in events[1]["detail"]
    assert state["restarts"] == 0 and state["consecutive_failures"] == 1

    state, events = run(values)
    assert [event["event"] for event in events] == ["restart_failed"]
    assert state["consecutive_failures"] == 2


def test_low_disk_alerts_once_until_it_clears(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    values = config(tmp_path, api.url, disk_path=str(tmp_path), disk_min_bytes=2**62)
    state, events = run(values)
    assert [(event["event"], event["level"]) for event in events] == [("disk_low", "WARN")]
    assert "less than %d" % 2**62 in events[0]["detail"]
    assert state["disk_low"] is True and state["disk_free_bytes"] > 0

    state, events = run(values)
    assert events == [], "no second alert while the disk stays low"

    state, events = run(dict(values, disk_min_bytes=1))
    assert events == [] and state["disk_low"] is False
    state, events = run(values)
    assert [event["event"] for event in events] == ["disk_low"], "low again after it cleared: a new alert"


@pytest.mark.parametrize(
    "answer",
    [lambda: b"garbage\r\n\r\n", lambda: ok(b"nope", "500 Internal Server Error"), None],
    ids=["garbled", "http-500", "refused"],
)
def test_a_failing_webhook_is_logged_without_its_secret_and_is_not_fatal(tmp_path: Path, serve, answer) -> None:
    if answer is None:
        url = "http://127.0.0.1:%d/hook/SECRET-PATH?token=SECRET-TOKEN" % closed_port()
    else:
        url = serve(answer).url + "/hook/SECRET-PATH?token=SECRET-TOKEN"
    state, events = run(config(tmp_path, "http://127.0.0.1:%d" % closed_port(), webhook=url))
    assert state["healthy"] is False and [event["event"] for event in events] == ["unhealthy"]
    log = (tmp_path / "log" / "watchdog.log").read_text()
    assert "WARN webhook http://127.0.0.1:%d/... failed: " % int(url.split(":")[2].split("/")[0]) in log
    assert "SECRET" not in log


def test_the_webhook_token_goes_as_a_bearer_header_and_never_into_the_log(tmp_path: Path, serve) -> None:
    hook = serve(lambda: ok(b"", "204 No Content"))
    run(config(tmp_path, "http://127.0.0.1:%d" % closed_port(), webhook=hook.url + "/alerts", webhook_token="whk-SECRET-TOKEN"))
    assert [json.loads(body)["event"] for method, path, body in hook.received] == ["unhealthy"]
    assert hook.headers_seen[0]["Authorization"] == "Bearer whk-SECRET-TOKEN"
    failing = serve(lambda: ok(b"nope", "500 Internal Server Error"))
    run(config(tmp_path, "http://127.0.0.1:%d" % closed_port(), webhook=failing.url + "/alerts", webhook_token="whk-SECRET-TOKEN"))
    assert failing.headers_seen[0]["Authorization"] == "Bearer whk-SECRET-TOKEN"
    log = (tmp_path / "log" / "watchdog.log").read_text()
    assert "WARN webhook" in log and "SECRET" not in log
    untokened = serve(lambda: ok(b"", "204 No Content"))
    run(config(tmp_path / "plain", "http://127.0.0.1:%d" % closed_port(), webhook=untokened.url))
    assert untokened.received and "Authorization" not in untokened.headers_seen[0]


def test_the_state_is_saved_even_when_a_run_breaks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = config(tmp_path, "http://127.0.0.1:%d" % closed_port())

    def broken(self: Any) -> None:
        raise RuntimeError("disk check broke")

    monkeypatch.setattr(watchdog.Watchdog, "check_disk", broken)
    with pytest.raises(RuntimeError):
        watchdog.Watchdog(values).run()
    saved = json.loads(Path(values["state_dir"], "status.json").read_text())
    assert saved["consecutive_failures"] == 1, "the failed probe still counts towards a restart"


def test_main_reports_an_unreadable_configuration(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "bad.json").write_text("{not json")
    assert watchdog.main(["--config", str(tmp_path / "bad.json")]) == 2
    assert "cannot read the configuration %s" % (tmp_path / "bad.json") in capsys.readouterr().err


def test_the_webhook_is_logged_by_its_origin_only() -> None:
    assert watchdog.webhook_origin("https://hooks.example.com/services/T0/B0/XYZ?x=1") == "https://hooks.example.com/..."
    assert watchdog.webhook_origin("http://user:pw@[::1]:8080/a") == "http://[::1]:8080/..."
    assert watchdog.webhook_origin("http://host:notaport/") == "(unparsable URL)"


def test_the_status_file_is_replaced_atomically(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    values = config(tmp_path, api.url)
    run(values)
    run(values)
    assert sorted(path.name for path in Path(values["state_dir"]).iterdir()) == ["status.json"], "no temp file left"
    assert stat.S_ISREG(Path(values["state_dir"], "status.json").stat().st_mode)


# ---------------------------------------------------------------- the inference check

TAGS = {
    "models": [
        {"name": "big:7b", "model": "big:7b", "size": 4_000_000_000, "capabilities": ["completion"]},
        {"name": "smollm2:135m", "model": "smollm2:135m", "size": 270_000_000, "capabilities": ["completion", "tools"]},
        {"name": "all-minilm:latest", "model": "all-minilm:latest", "size": 45_000_000, "capabilities": ["embedding"]},
        {"name": "gpt-oss:120b-cloud", "model": "gpt-oss:120b-cloud", "size": 384, "remote_host": "https://ollama.com:443"},
    ]
}


def ollama(hang: Callable[[], bool] = lambda: False, tags: Optional[dict] = None) -> Callable[[Any], bytes]:
    """An Ollama stand-in for the watchdog's requests; generate and embed sleep 2 s while ``hang()``."""
    tags = TAGS if tags is None else tags

    def answer(server: Any) -> bytes:
        _method, path, body = server.received[-1]
        if path == "/api/version":
            return ok(b'{"version":"0.32.15"}')
        if path == "/api/tags":
            return ok(json.dumps(tags).encode())
        if hang():
            time.sleep(2)
        if path == "/api/generate":
            return ok(json.dumps({"model": json.loads(body)["model"], "response": "Hello", "done": True, "load_duration": 1000}).encode())
        if path == "/api/embed":
            return ok(json.dumps({"model": json.loads(body)["model"], "embeddings": [[0.1, 0.2]]}).encode())
        return ok(b'{"error":"not found"}', "404 Not Found")

    return answer


def serve_ollama(serve, **kwargs: Any) -> Any:
    holder: dict = {}
    handler = ollama(**kwargs)
    holder["server"] = serve(lambda: handler(holder["server"]))
    return holder["server"]


def paths(server: Any) -> list[str]:
    return [path for _method, path, _body in server.received]


def test_the_inference_check_asks_the_smallest_local_model_for_one_token(tmp_path: Path, serve) -> None:
    api = serve_ollama(serve, tags={"models": [m for m in TAGS["models"] if m["name"] != "all-minilm:latest"]})
    state, events = run(config(tmp_path, api.url, inference_interval=300, inference_timeout=5))
    assert events == []
    assert state["healthy"] is True and state["inference_failing"] is False and state["last_inference"] > 0
    assert paths(api) == ["/api/version", "/api/tags", "/api/generate"]
    generate = json.loads(api.received[-1][2])
    assert generate == {"model": "smollm2:135m", "prompt": "Hi", "stream": False, "options": {"num_predict": 1}}
    assert state["last_detail"].startswith("version 0.32.15; inference smollm2:135m answered in ")

    # within the interval, a healthy server gets the version check only
    api.received.clear()
    state, events = run(config(tmp_path, api.url, inference_interval=300, inference_timeout=5))
    assert paths(api) == ["/api/version"] and state["last_detail"] == "version 0.32.15"


def test_an_embedding_model_is_asked_for_an_embedding(tmp_path: Path, serve) -> None:
    api = serve_ollama(serve)
    state, _events = run(config(tmp_path, api.url, inference_interval=60, inference_timeout=5, inference_model="all-minilm:latest"))
    assert state["healthy"] is True
    assert paths(api) == ["/api/version", "/api/tags", "/api/embed"]
    assert json.loads(api.received[-1][2]) == {"model": "all-minilm:latest", "input": "Hi"}


@pytest.mark.parametrize("family", ["gte", "e5", "nomic-bert"])
def test_an_embedding_family_without_capabilities_is_asked_for_an_embedding(tmp_path: Path, serve, family: str) -> None:
    """A server that lists no capabilities: the family decides, with the collection's list (gte and e5 included)."""
    embedder = {"name": "embedder:latest", "model": "embedder:latest", "size": 60_000_000, "details": {"family": family, "families": [family]}}
    api = serve_ollama(serve, tags={"models": [embedder, {"name": "big:7b", "model": "big:7b", "size": 4_000_000_000, "details": {"family": "llama"}}]})
    state, events = run(config(tmp_path, api.url, inference_interval=60, inference_timeout=5))
    assert state["healthy"] is True and events == []
    assert paths(api) == ["/api/version", "/api/tags", "/api/embed"]
    assert json.loads(api.received[-1][2]) == {"model": "embedder:latest", "input": "Hi"}


def test_the_watchdog_probes_with_the_collections_probe_installed_beside_it() -> None:
    assert Path(watchdog.ollama_probe.__file__) == INSTALLED / "ollama_probe.py"
    assert (INSTALLED / "ollama_probe.py").read_bytes() == PROBE.read_bytes()
    assert {"gte", "e5"} <= set(watchdog.ollama_probe.EMBEDDING_FAMILIES)
    assert not hasattr(watchdog, "EMBEDDING_FAMILIES") and not hasattr(watchdog.Watchdog, "_embeds"), "no second copy"


def test_an_embed_answer_without_embeddings_fails_the_inference_check(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(json.dumps(TAGS).encode()) if api.received[-1][1] == "/api/tags" else ok(b'{"version":"0.32.15","embeddings":[]}'))
    state, events = run(config(tmp_path, api.url, inference_interval=60, inference_timeout=5, inference_model="all-minilm:latest"))
    assert state["healthy"] is False
    assert events[0]["detail"] == "inference check failed: inference probe of all-minilm:latest: POST /api/embed answered no embedding"


def test_the_inference_check_is_off_by_default(tmp_path: Path, serve) -> None:
    api = serve_ollama(serve)
    state, _events = run(config(tmp_path, api.url))
    assert paths(api) == ["/api/version"] and "last_inference" not in state


def test_a_hung_runner_restarts_only_after_k_consecutive_failed_inference_checks(tmp_path: Path, serve, fake_docker) -> None:
    hung = {"on": True}
    api = serve_ollama(serve, hang=lambda: hung["on"])
    hook = serve(lambda: ok(b"", "204 No Content"))
    values = config(
        tmp_path,
        api.url,
        failures=3,
        inference_interval=3600,
        inference_timeout=0.5,
        inference_model="smollm2:135m",
        docker=str(fake_docker(0)),
        webhook=hook.url + "/alerts",
    )
    first, events = run(values)
    assert (first["healthy"], first["consecutive_failures"], first["failed_check"]) == (False, 1, "inference")
    assert [(e["event"], e["check"]) for e in events] == [("unhealthy", "inference")]
    assert "inference check failed: inference probe of smollm2:135m: POST /api/generate failed: no answer within 0.5 seconds" in events[0]["detail"]

    # still failing: probed again at once although the interval (an hour) has not passed; no restart before K = 3
    second, events = run(values)
    assert second["consecutive_failures"] == 2 and events == []
    assert not (tmp_path / "docker.calls").exists()
    third, events = run(values)
    assert [(e["event"], e["check"], e["level"]) for e in events] == [("restarted", "inference", "CRITICAL")]
    assert events[0]["detail"].startswith("after 3 failed inference checks (inference probe of smollm2:135m: POST /api/generate failed: no answer")
    assert (tmp_path / "docker.calls").read_text() == "restart ollama-test\n"
    assert (third["consecutive_failures"], third["restarts"]) == (0, 1)
    assert paths(api).count("/api/generate") == 3

    # after the restart the inference check runs again at once, and says it recovered
    hung["on"] = False
    fourth, events = run(values)
    assert fourth["healthy"] is True and fourth["inference_failing"] is False
    assert [(e["event"], e["check"]) for e in events] == [("recovered", "inference")]
    posted = [json.loads(body) for _m, _p, body in hook.received]
    assert [(p["event"], p["check"]) for p in posted] == [("unhealthy", "inference"), ("restarted", "inference"), ("recovered", "inference")]


def test_a_healthy_run_between_failures_starts_the_count_again(tmp_path: Path, serve, fake_docker) -> None:
    hung = {"on": True}
    api = serve_ollama(serve, hang=lambda: hung["on"])
    values = config(tmp_path, api.url, failures=2, inference_interval=3600, inference_timeout=0.5, docker=str(fake_docker(0)))
    assert run(values)[0]["consecutive_failures"] == 1
    hung["on"] = False
    assert run(values)[0]["consecutive_failures"] == 0
    hung["on"] = True
    # the interval has not passed since the good probe: only the version check runs, and it passes
    state, events = run(values)
    assert state["consecutive_failures"] == 0 and events == []
    assert not (tmp_path / "docker.calls").exists()


def test_a_version_failure_skips_the_inference_check_and_names_its_check(tmp_path: Path) -> None:
    state, events = run(config(tmp_path, "http://127.0.0.1:%d" % closed_port(), inference_interval=60))
    assert state["failed_check"] == "version" and "last_inference" not in state
    assert [(e["event"], e["check"]) for e in events] == [("unhealthy", "version")]
    assert events[0]["detail"].startswith("version check failed: GET http://127.0.0.1:")


def test_a_server_without_models_fails_the_inference_check_clearly(tmp_path: Path, serve) -> None:
    api = serve_ollama(serve, tags={"models": []})
    state, events = run(config(tmp_path, api.url, inference_interval=60))
    assert state["healthy"] is False
    assert events[0]["detail"] == (
        "inference check failed: inference probe: the server holds no model to ask (set the watchdog's inference model, or pull one)"
    )


def test_a_run_while_another_is_still_probing_does_nothing(tmp_path: Path, serve) -> None:
    api = serve_ollama(serve)
    values = config(tmp_path, api.url)
    Path(values["state_dir"]).mkdir(parents=True)
    holder = os.open(values["state_dir"], os.O_RDONLY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX)
        dog = watchdog.Watchdog(values)
        assert dog.run() == 0
    finally:
        os.close(holder)
    assert api.received == [] and dog.events == []
    assert "INFO skipped: another watchdog run is still probing" in (tmp_path / "log" / "watchdog.log").read_text()


WRITER = Path(__file__).resolve().parents[3] / "roles" / "ollama_monitoring" / "files" / "ollama_state_metrics.py"


def test_the_state_metrics_writer_runs_after_each_run(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    settings = {"api_url": api.url, "textfile_dir": str(textfile), "watchdog_state_dir": str(tmp_path / "state"), "docker_socket": ""}
    settings["ledger_dir"] = str(tmp_path / "ledger")
    (tmp_path / "metrics.json").write_text(json.dumps(settings))
    state, _events = run(config(tmp_path, api.url, metrics_program=str(WRITER), metrics_config=str(tmp_path / "metrics.json")))
    text = (textfile / "ollama.prom").read_text()
    assert "ollama_up 1\n" in text and 'ollama_build_info{version="0.12.6"} 1\n' in text
    # the writer read the status the run had just saved
    assert "ollama_watchdog_restarts_total 0\n" in text and state["healthy"] is True


def test_a_broken_writer_is_logged_never_fatal(tmp_path: Path, serve) -> None:
    api = serve(lambda: ok(b'{"version":"0.12.6"}'))
    program = tmp_path / "broken.py"
    program.write_text("raise RuntimeError('writer exploded')\n")
    (tmp_path / "metrics.json").write_text("{}")
    state, _events = run(config(tmp_path, api.url, metrics_program=str(program), metrics_config=str(tmp_path / "metrics.json")))
    assert state["healthy"] is True
    assert "WARN state metrics (%s, %s): writer exploded" % (program, tmp_path / "metrics.json") in (tmp_path / "log" / "watchdog.log").read_text()
