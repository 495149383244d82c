# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every request through the proxy as one JSON line, with named keys, against a real nginx (with and without
njs), the simulator, real ansible-playbook runs and the official ``ollama`` and ``openai`` clients; ``/healthz``;
and the mtail program that turns the log into metrics, run by the real mtail."""

from __future__ import annotations

import http.client
import json
import re
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import ollama
import openai
import pytest

from tests.integration.nginx_fixture import NginxServer, free_port, request, request_until
from tests.integration.playbook import PlaybookRun, run_playbook
from tests.ollama_sim.testing import Sim

pytestmark = pytest.mark.integration

ALICE = "alice-key-0123456789abcdefghijklmnop"
BOB = "bob-key-0123456789abcdefghijklmnopqrs"
PLAIN = "plain-key-0123456789abcdefghijklmnopq"
KEYS = [{"name": "alice", "key": ALICE}, {"name": "bob", "key": BOB}, PLAIN]
LOCAL = "qwen3:8b"
EMBED = "nomic-embed-text:latest"
FIELDS = [
    "time",
    "domain",
    "key",
    "method",
    "endpoint",
    "model",
    "status",
    "request_time",
    "ttfb",
    "bytes_sent",
    "request_length",
    "prompt_tokens",
    "completion_tokens",
]
MTAIL_PROGRAM = Path(__file__).resolve().parents[2] / "roles" / "ollama_monitoring" / "files" / "ollama_proxy.mtail"


def bind(nginx: NginxServer, **args: Any) -> PlaybookRun:
    before = nginx.generation()
    run = run_playbook("domain.yml", {"domain_args": nginx.module_args(**args)}, timeout=120)
    if run.rc == 0 and run.results("Bind").get("changed"):
        nginx.wait_generation_after(before)
    return run


def log_lines(nginx: NginxServer, domain: str, count: int, timeout: float = 10) -> list[dict[str, str]]:
    """The access log's lines once it has ``count`` of them (nginx writes a line when the request ends)."""
    path = nginx.root / "logs" / ("llmops-ollama-%s.access.log" % domain)
    deadline = time.monotonic() + timeout
    while True:
        text = path.read_text() if path.exists() else ""
        lines = [line for line in text.splitlines() if line]
        if len(lines) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    parsed = [json.loads(line, object_pairs_hook=list) for line in lines]
    for pairs in parsed:
        assert [k for k, _v in pairs] == FIELDS, pairs
        assert all(isinstance(v, str) for _k, v in pairs), pairs
    return [dict(pairs) for pairs in parsed]


def test_named_keys_models_and_tokens_in_the_log(nginx_njs: NginxServer, sim: Sim) -> None:
    nginx = nginx_njs
    domain = "metrics.ollama.test"
    run = bind(nginx, domain=domain, upstream=sim.url, allow=["127.0.0.1"], api_keys=KEYS, access_log=True, verify=True)
    result = run.results("Bind")
    assert run.rc == 0, result.get("msg")
    for key in (ALICE, BOB, PLAIN):
        assert key not in run.stdout + run.stderr
    plain_name = result["binding"]["key_names"][2]
    assert result["binding"]["key_names"][:2] == ["alice", "bob"] and re.fullmatch("key-[0-9a-f]{8}", plain_name)
    assert result["binding"]["access_log"]["njs"] is True and result["binding"]["access_log"]["fields_missing"] == []
    assert result["verified"]["identity"] == result["binding"]["identity"]
    assert not [w for w in result.get("warnings", []) if "njs" in w]
    keys_file = nginx.conf_d / ("%s.keys" % domain)
    assert oct(keys_file.stat().st_mode & 0o777) == "0o600"
    for model in ("qwen3:8b:local", "nomic-embed-text"):
        sim.pull(model)
    mtail = Mtail(nginx.root / "logs" / ("llmops-ollama-%s.access.log" % domain)).start()
    try:
        check_requests(nginx, domain, plain_name, mtail)
    finally:
        mtail.stop()


def check_requests(nginx: NginxServer, domain: str, plain_name: str, mtail: Mtail) -> None:
    """Both official clients through the proxy with named keys: the log and the metrics name keys and models, count tokens."""

    base = "http://127.0.0.1:%d" % nginx.http_port
    host = {"Host": domain}
    # the bind's check from outside logged its own requests first (how many is not this test's business)
    logged = len(log_lines(nginx, domain, 0))
    alice = ollama.Client(host=base, headers={**host, "Authorization": "Bearer " + ALICE}, timeout=60)
    chunks = list(alice.chat(model=LOCAL, messages=[{"role": "user", "content": "Why is the sky blue?"}], stream=True))
    streamed = chunks[-1]
    single = alice.generate(model="qwen3:8b", prompt="hi")
    embedded = alice.embed(model="nomic-embed-text", input=["one", "two"])
    with pytest.raises(ollama.ResponseError):
        alice.chat(model="no-such-model-" + "x" * 20, messages=[{"role": "user", "content": "hi"}])

    bob = openai.OpenAI(base_url=base + "/v1", api_key=BOB, default_headers=host, max_retries=0, timeout=60)
    answer = bob.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": "hi"}])
    stream = list(bob.chat.completions.create(model=LOCAL, messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}))
    usage = [chunk.usage for chunk in stream if chunk.usage][-1]
    bob.close()
    unkeyed = request(nginx.http_port, "/api/tags", host=domain)
    assert unkeyed.status == 401
    plain = request(nginx.http_port, "/api/ps", host=domain, headers={"Authorization": "Bearer " + PLAIN})
    assert plain.status == 200

    # nginx writes a request's line after the client has its answer: wait for the 8 lines of the requests above
    lines = log_lines(nginx, domain, logged + 8)
    mine = lines[logged:]
    by = [(line["key"], line["endpoint"], line["model"], line["status"], line["prompt_tokens"], line["completion_tokens"]) for line in mine]
    assert by == [
        ("alice", "/api/chat", LOCAL, "200", str(streamed.prompt_eval_count), str(streamed.eval_count)),
        ("alice", "/api/generate", LOCAL, "200", str(single.prompt_eval_count), str(single.eval_count)),
        ("alice", "/api/embed", EMBED, "200", str(embedded.prompt_eval_count), ""),
        ("alice", "/api/chat", "unknown", "404", "", ""),
        ("bob", "/v1/chat/completions", LOCAL, "200", str(answer.usage.prompt_tokens), str(answer.usage.completion_tokens)),
        ("bob", "/v1/chat/completions", LOCAL, "200", str(usage.prompt_tokens), str(usage.completion_tokens)),
        ("-", "/api/tags", "", "401", "", ""),
        (plain_name, "/api/ps", "", "200", "", ""),
    ]
    assert all(line["domain"] == domain for line in lines)
    assert float(mine[0]["ttfb"]) <= float(mine[0]["request_time"])
    text = "\n".join(p.read_text() for p in (nginx.root / "logs").iterdir() if p.is_file())
    for key in (ALICE, BOB, PLAIN):
        assert key not in text

    metrics = mtail.metrics()
    for key in (ALICE, BOB, PLAIN):
        assert key not in metrics
    assert sample(metrics, "ollama_proxy_requests_total", domain=domain, key="alice", model=LOCAL, endpoint="/api/chat", code="200") == 1
    assert sample(metrics, "ollama_proxy_requests_total", domain=domain, key="-", model="", endpoint="/api/tags", code="401") == 1
    expected_in = streamed.prompt_eval_count + single.prompt_eval_count
    assert sample(metrics, "ollama_proxy_tokens_total", domain=domain, key="alice", model=LOCAL, type="input") == expected_in
    assert sample(metrics, "ollama_proxy_tokens_total", domain=domain, key="alice", model=LOCAL, type="output") == streamed.eval_count + single.eval_count
    assert sample(metrics, "ollama_proxy_tokens_total", domain=domain, key="bob", model=LOCAL, type="output") == (
        answer.usage.completion_tokens + usage.completion_tokens
    )
    assert sample(metrics, "ollama_proxy_request_duration_seconds_count", domain=domain, key="bob", model=LOCAL, endpoint="/v1/chat/completions") == 2
    assert sample(metrics, "ollama_proxy_time_to_first_token_seconds_count", domain=domain, key="alice", model=LOCAL, endpoint="/api/chat") == 1
    assert sample(metrics, "ollama_proxy_time_to_first_token_seconds_count", domain=domain, key="alice", model="unknown", endpoint="/api/chat") == 1
    assert sample(metrics, "ollama_proxy_time_to_first_token_seconds_count", domain=domain, key="bob", model=LOCAL, endpoint="/v1/chat/completions") == 2
    assert "ollama_proxy_time_to_first_token_seconds_count{" not in "\n".join(
        line for line in metrics.splitlines() if 'endpoint="/api/embed"' in line or 'endpoint="/api/tags"' in line
    ), "only the endpoints that stream tokens"
    assert sample(metrics, "ollama_proxy_response_bytes_total", domain=domain, key="alice", endpoint="/api/chat") > 0


# ------------------------------------------------------------------------ mtail
class Mtail:
    """The real mtail, running (as deployed) with the collection's program on the log, scraped over HTTP.

    mtail tails the log from its end, like a daemon that starts after the log exists: it counts the
    requests made after ``start``.
    """

    def __init__(self, log: Path) -> None:
        self.log = log
        self.errors = log.parent / "mtail.stderr"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None
        self.lines_before = 0

    def start(self) -> Mtail:
        mtail = shutil.which("mtail")
        if mtail is None:
            pytest.fail("mtail is not installed (Debian package mtail, listed in .ci/deps.sh)")
        progs = self.log.parent / "mtail-progs"
        progs.mkdir(exist_ok=True)
        shutil.copy(MTAIL_PROGRAM, progs / MTAIL_PROGRAM.name)
        self.lines_before = self._lines()
        argv = [mtail, "--progs", str(progs), "--logs", str(self.log), "--port", str(self.port), "--address", "127.0.0.1"]
        with self.errors.open("wb") as sink:
            self.proc = subprocess.Popen([*argv, "--logtostderr", "--poll_interval", "50ms"], stdout=subprocess.DEVNULL, stderr=sink)
        deadline = time.monotonic() + 20
        while "Tailing" not in self.errors.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("mtail did not start: %s" % self.errors.read_text()[-3000:])
            time.sleep(0.05)
        return self

    def _lines(self) -> int:
        return sum(1 for line in self.log.read_text().splitlines() if line) if self.log.exists() else 0

    def metrics(self, timeout: float = 20) -> str:
        """The exported metrics, once mtail has counted every line written since it started."""
        wanted = self._lines() - self.lines_before
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % self.port, timeout=2) as response:
                    text = response.read().decode()
                if _total(text) >= wanted:
                    return text
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("mtail counted %s of %d requests:\n%s\n%s" % (_total(text), wanted, text[-2000:], self.errors.read_text()[-2000:]))

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


def _total(text: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith("ollama_proxy_requests_total{"))


_SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(.*)\} (\S+)$")
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def sample(text: str, name: str, **labels: str) -> float:
    """The value of the one series of ``name`` with exactly these labels (mtail adds a ``prog`` label, ignored)."""
    found = []
    for line in text.splitlines():
        match = _SAMPLE_RE.match(line)
        if not match or match.group(1) != name:
            continue
        seen = dict(_LABEL_RE.findall(match.group(2)))
        seen.pop("prog", None)
        if seen == labels:
            found.append(float(match.group(3)))
    assert len(found) == 1, "%s%s: %s\n%s" % (name, labels, found, "\n".join(line for line in text.splitlines() if line.startswith(name)))
    return found[0]


# ------------------------------------------------------------------------ without njs
def test_without_njs_the_rest_is_logged_and_a_warning_says_what_is_missing(nginx: NginxServer, sim: Sim) -> None:
    domain = "plain.ollama.test"
    run = bind(nginx, domain=domain, upstream=sim.url, allow=["127.0.0.1"], api_keys=[{"name": "ci", "key": ALICE}], access_log=True)
    result = run.results("Bind")
    assert run.rc == 0, result.get("msg")
    warnings = [w for w in result.get("warnings", []) if "njs" in w]
    assert warnings and "model, prompt_tokens, completion_tokens" in warnings[0] and "libnginx-mod-http-js" in warnings[0]
    assert result["binding"]["access_log"]["fields_missing"] == ["model", "prompt_tokens", "completion_tokens"]
    # The name "ci" is not masked in the output (no_log hides keys, not names).
    assert result["binding"]["key_names"] == ["ci"] and "plain.ollama.test" in json.dumps(result["binding"])
    sim.pull("qwen3:8b:local")
    client = ollama.Client(host="http://127.0.0.1:%d" % nginx.http_port, headers={"Host": domain, "Authorization": "Bearer " + ALICE}, timeout=60)
    logged = len(log_lines(nginx, domain, 0))
    assert list(client.chat(model=LOCAL, messages=[{"role": "user", "content": "hi"}], stream=True))[-1].done
    line = log_lines(nginx, domain, logged + 1)[-1]
    assert (line["key"], line["endpoint"], line["model"], line["status"], line["prompt_tokens"], line["completion_tokens"]) == (
        "ci",
        "/api/chat",
        "",
        "200",
        "",
        "",
    )
    required = bind(nginx, domain=domain, upstream=sim.url, allow=["127.0.0.1"], access_log=True, access_log_njs="required")
    assert required.rc != 0 and "njs" in required.results("Bind")["msg"]


# ------------------------------------------------------------------------ /healthz
def test_healthz_through_the_proxy(make_sim: Any, tmp_path: Path) -> None:
    server = NginxServer(tmp_path / "nginx-health")
    server.start()
    try:
        ollama_sim = make_sim("health")
        domain = "health.ollama.test"
        run = bind(server, domain=domain, upstream=ollama_sim.url, allow=["127.0.0.1"], api_keys=[ALICE], verify=True)
        assert run.rc == 0, run.results("Bind").get("msg")
        identity = run.results("Bind")["binding"]["identity"]
        ok = request(server.http_port, "/healthz", host=domain)
        assert ok.status == 200 and ok.headers["x-llmops-ollama-config"] == identity
        assert set(ok.json()) == {"version"}, "no model data"
        denied = request(server.http_port, "/healthz", host=domain, source="127.0.0.2")
        assert denied.status == 403 and b"this address may not use" in denied.body
        ollama_sim.stop()
        down = request_until(lambda a: a.status != 200, port=server.http_port, path="/healthz", host=domain)
        assert down.status == 502 and down.json()["status"] == "unavailable"
        assert down.headers["x-llmops-ollama-config"] == identity
    finally:
        server.stop()


IMPOSTOR = """
import http.server, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b'{"version":"0.12.10"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
"""


def test_impostor_on_the_port_fails_verify_naming_it(nginx: NginxServer, sim: Sim) -> None:
    # Another server on the port the binding asks for, answering 200 {"version": ...} to every GET, as Ollama would.
    impostor = subprocess.Popen(["python3", "-c", IMPOSTOR, str(nginx.https_port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", nginx.https_port, timeout=2)
                conn.request("GET", "/")
                conn.getresponse().read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        run = run_playbook(
            "domain.yml",
            {"domain_args": nginx.module_args(domain="impostor.ollama.test", upstream=sim.url, allow=["127.0.0.1"], http_port=nginx.https_port, verify=True)},
            timeout=120,
        )
        result = run.results("Bind")
        assert run.rc != 0
        assert "not the configuration just written" in result["msg"], result["msg"]
        assert "answered HTTP 200 without the header X-Llmops-Ollama-Config" in result["msg"], result["msg"]
        assert "held by pid %d (python3 -c" % impostor.pid in result["msg"], result["msg"]
    finally:
        impostor.terminate()
        impostor.wait(timeout=10)


# ------------------------------------------------------------------------ the role
def test_role_with_named_keys_logs_names_never_keys(nginx_njs: NginxServer, sim: Sim) -> None:
    from tests.integration.test_ollama_proxy import role_vars

    nginx = nginx_njs
    domain = "role.ollama.test"
    entry = {"domain": domain, "upstream": sim.url, "allow": ["127.0.0.1"], "api_keys": KEYS}
    before = nginx.generation()
    run = run_playbook("proxy_role.yml", role_vars(nginx, [entry]), timeout=180)
    assert run.rc == 0, run.stdout[-3000:]
    nginx.wait_generation_after(before)
    for key in (ALICE, BOB, PLAIN):
        assert key not in run.stdout + run.stderr
    sim.pull("qwen3:8b:local")
    client = ollama.Client(host="http://127.0.0.1:%d" % nginx.http_port, headers={"Host": domain, "Authorization": "Bearer " + BOB}, timeout=60)
    # the role's check from outside logged its own request first; nginx writes this one's line after the client has
    # its answer, so wait for one more line than before
    logged = len(log_lines(nginx, domain, 0))
    final = client.generate(model=LOCAL, prompt="hi")
    line = log_lines(nginx, domain, logged + 1)[-1]
    assert (line["key"], line["endpoint"], line["model"], line["completion_tokens"]) == ("bob", "/api/generate", LOCAL, str(final.eval_count))
    again = run_playbook("proxy_role.yml", role_vars(nginx, [entry]), timeout=180)
    assert again.rc == 0 and again.stats["changed"] == 0, again.stdout[-3000:]
