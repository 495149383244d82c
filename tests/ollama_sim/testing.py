# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Run the simulator from tests::

    from tests.ollama_sim.testing import run_sim

    with run_sim(tmp_path / "models") as sim:
        status, body = sim.call("POST", "/api/pull", {"model": "smollm2:135m", "stream": False})
        sim.faults(status=503, count=2)
        assert sim.requests()[-1]["path"] == "/api/pull"

The simulator runs as a subprocess on a free loopback port and is always killed when the
``with`` block ends. Its stderr (the request log) goes to ``<data>.log`` beside the data
directory.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 30.0


class SimError(RuntimeError):
    """The simulator did not start or stopped answering."""


class Sim:
    """A simulator subprocess and helpers to talk to it."""

    def __init__(
        self,
        data: Path,
        rate: Optional[float] = None,
        catalog: Optional[Union[str, Path]] = None,
        env: Optional[Mapping[str, str]] = None,
        args: Optional[List[str]] = None,
        host: str = "127.0.0.1",
        registry: Optional[str] = None,
        blob_redirect: bool = False,
    ) -> None:
        self.data = Path(data)
        self.registry = registry
        self.blob_redirect = blob_redirect
        self.host = host
        self.rate = rate
        self.catalog = catalog
        self.env = dict(env or {})
        self.args = list(args or [])
        self.port = 0
        self.proc: Optional[subprocess.Popen] = None
        self.log_path = self.data.parent / (self.data.name + ".log")

    # ------------------------------------------------------------- lifecycle
    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    def start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        argv = [sys.executable, "-m", "tests.ollama_sim", "--listen", "%s:%d" % (self.host, self.port), "--data", str(self.data)]
        if self.rate is not None:
            argv += ["--rate", str(self.rate)]
        if self.catalog is not None:
            argv += ["--catalog", str(self.catalog)]
        if self.registry is not None:
            argv += ["--registry", self.registry]
        if self.blob_redirect:
            argv += ["--blob-redirect"]
        argv += self.args
        env = dict(os.environ)
        env.update(self.env)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(argv, cwd=str(REPO), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log)
        first_line: List[bytes] = []
        stdout = self.proc.stdout
        reader = threading.Thread(target=lambda: first_line.append(stdout.readline() if stdout else b""), daemon=True)
        reader.start()
        reader.join(START_TIMEOUT)
        line = first_line[0].decode().strip() if first_line else ""
        if not line.startswith("listening on "):
            self.kill()
            raise SimError("the simulator did not start: %r\n%s" % (line, self.log_tail()))
        self.port = int(line.rsplit(":", 1)[1])
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            try:
                status, _body = self.call("GET", "/", timeout=2)
                if status == 200:
                    self.clear_requests()
                    return
            except OSError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise SimError("the simulator did not answer GET /\n%s" % self.log_tail())

    def kill(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def stop(self) -> None:
        """Terminate (SIGTERM), then kill if it lingers."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=5)
        self.kill()

    def restart(self) -> None:
        """Stop and start again on the same port with the same data."""
        self.stop()
        self.start()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # ------------------------------------------------------------------ HTTP
    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: float = 60,
    ) -> Tuple[int, Dict[str, str], bytes]:
        """(status, headers, raw body); ``body`` may be bytes or a JSON-able value."""
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        try:
            data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=dict(headers or {}))
            response = conn.getresponse()
            payload = response.read()
            return response.status, {key.lower(): value for key, value in response.getheaders()}, payload
        finally:
            conn.close()

    def call(self, method: str, path: str, body: Any = None, timeout: float = 60) -> Tuple[int, Any]:
        """(status, decoded JSON body or text or None)."""
        status, _headers, payload = self.request(method, path, body, timeout=timeout)
        if not payload:
            return status, None
        try:
            return status, json.loads(payload)
        except ValueError:
            return status, payload.decode("utf-8", errors="replace")

    def stream(self, path: str, body: Any, timeout: float = 60) -> Tuple[int, List[Dict[str, Any]]]:
        """POST and read every NDJSON line (the body of an error answer as one item)."""
        status, _headers, payload = self.request("POST", path, body, timeout=timeout)
        return status, [json.loads(line) for line in payload.splitlines() if line.strip()]

    def pull(self, model: str, timeout: float = 60, insecure: bool = False) -> List[Dict[str, Any]]:
        """Pull a model to completion (``insecure``: plain http to its registry); raise SimError when it fails."""
        body: Dict[str, Any] = {"model": model}
        if insecure:
            body["insecure"] = True
        status, lines = self.stream("/api/pull", body, timeout=timeout)
        if status != 200 or not lines or lines[-1].get("status") != "success":
            raise SimError("pull %s failed: %s %s" % (model, status, lines[-1:] if lines else ""))
        return lines

    # ----------------------------------------------------------------- admin
    def requests(self) -> List[Dict[str, Any]]:
        return self.call("GET", "/_sim/requests")[1]["requests"]

    def clear_requests(self) -> None:
        self.call("DELETE", "/_sim/requests")

    def faults(self, **faults: Any) -> Dict[str, Any]:
        """Arm faults (see tests/ollama_sim/faults.py); without arguments: what is armed."""
        if not faults:
            return self.call("GET", "/_sim/faults")[1]
        status, body = self.call("POST", "/_sim/faults", faults)
        if status != 200:
            raise SimError("faults %r refused: %s" % (faults, body))
        return body

    def clear_faults(self) -> None:
        self.call("DELETE", "/_sim/faults")

    def stats(self) -> Dict[str, Any]:
        return self.call("GET", "/_sim/stats")[1]

    def clear_stats(self) -> None:
        self.call("DELETE", "/_sim/stats")

    def pulls(self) -> Dict[str, Any]:
        """The pull streams in start order, and the most that ran at once (``max_active``)."""
        return self.call("GET", "/_sim/pulls")[1]

    def clear_pulls(self) -> None:
        self.call("DELETE", "/_sim/pulls")

    def catalog_models(self) -> List[Dict[str, Any]]:
        return self.call("GET", "/_sim/catalog")[1]["models"]

    def bump(self, model: str, version: int = 2) -> None:
        """Give a catalogue model new bytes (a new digest), as if it were updated upstream."""
        status, body = self.call("POST", "/_sim/catalog", {"model": model, "version": version})
        if status != 200:
            raise SimError("catalog bump refused: %s" % body)


# POSTs that only read: they may be sent in check mode
READ_POSTS = {"/api/show"}


def mutating(requests: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The requests (from Sim.requests) that could change the server: anything but GET, HEAD and the read-only POSTs."""
    return [r for r in requests if r["method"] not in ("GET", "HEAD") and r["path"] not in READ_POSTS]


def model_vars(sim: Sim, tmp_path: Path) -> Dict[str, Any]:
    """The variables the model test playbooks take: the simulator as API and registry, its models directory, a ledger."""
    return {"sim_url": sim.url, "models_path": str(sim.data), "state_dir": str(tmp_path / "state")}


@contextlib.contextmanager
def run_sim(
    data_dir: Union[str, Path],
    rate: Optional[float] = None,
    catalog: Optional[Union[str, Path]] = None,
    env: Optional[Mapping[str, str]] = None,
    args: Optional[List[str]] = None,
    host: str = "127.0.0.1",
    registry: Optional[str] = None,
    blob_redirect: bool = False,
) -> Iterator[Sim]:
    """Start the simulator on a free port of a loopback address; always kill it afterwards.

    ``registry``: a base URL (e.g. another simulator's ``url``) that names of registry.ollama.ai
    are downloaded from over HTTP (``--registry``), instead of the built-in catalogue.
    ``blob_redirect``: this simulator's /v2 registry answers blob requests without Range with
    a 307 to another loopback host name, as registry.ollama.ai does to its CDN; Ollama (and a
    simulator downloading from it) needs that or a ``Location`` header (``--blob-redirect``).
    """
    sim = Sim(Path(data_dir), rate=rate, catalog=catalog, env=env, args=args, host=host, registry=registry, blob_redirect=blob_redirect)
    try:
        sim.start()
        yield sim
    finally:
        sim.stop()
