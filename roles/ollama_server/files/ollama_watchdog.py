# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ollama watchdog: one probe per run, started by a systemd timer or cron.

Each run asks the Ollama API for /api/version within a timeout (the ``version``
check). With ``inference_interval`` set (seconds), it also asks one model for
one token (``num_predict: 1``; an embedding for an embedding model) within
``inference_timeout`` (the ``inference`` check), at most once per interval, and
on every run while that check is failing, so that a server whose API answers
while its runners hang is caught. A run fails when a check it made failed; after
``failures`` consecutive failed runs it restarts the container. It keeps a
status JSON between runs, appends one log line per run and event, and posts
each event as JSON to a webhook: unhealthy (WARN), restarted (CRITICAL),
restart_failed (CRITICAL), recovered (INFO), disk_low (WARN). The events of a
failure carry ``check`` (``version`` or ``inference``), the check that failed.
A webhook that fails is logged, never fatal. A run that finds another still
running (a long inference probe) does nothing. With ``instances`` (a list of
``{name, api_url}``, from ollama_server_instances), each instance is probed,
counted and restarted on its own, its status in ``<state_dir>/<name>/``.

What the inference check asks and what a good answer is come from
``ollama_probe.py`` beside this file: the collection's
plugins/module_utils/core/probe.py, installed here by the ollama_server role.

usage: python3 ollama_watchdog.py --config /etc/llmops-ollama/watchdog.json
"""

from __future__ import annotations

import argparse
import errno
import fcntl
import http.client
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Dict, List, Optional, Tuple


def _load_probe() -> Any:
    """The inference probe's definition: ``ollama_probe.py`` beside this file.

    It is the collection's plugins/module_utils/core/probe.py, which the
    ollama_server role installs here, so the watchdog and the modules ask and
    judge a model the same way.
    """
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "ollama_probe.py")
    spec = importlib.util.spec_from_file_location("ollama_probe", path)
    if spec is None or spec.loader is None:
        raise ImportError("cannot load %s: reinstall the watchdog with the ollama_server role" % path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ollama_probe = _load_probe()

LEVELS = {"unhealthy": "WARN", "restarted": "CRITICAL", "restart_failed": "CRITICAL", "recovered": "INFO", "disk_low": "WARN"}
DEFAULTS = {
    "api_url": "http://127.0.0.1:11434",
    "container": "ollama",
    "failures": 3,
    "timeout": 5,
    "webhook": "",
    "webhook_token": "",
    "webhook_timeout": 5,
    "state_dir": "/var/lib/llmops-ollama/watchdog",
    "log_file": "/var/log/llmops-ollama-watchdog.log",
    "docker": "docker",
    "disk_path": "",
    "disk_min_bytes": 0,
    "host": "",
    "inference_interval": 0,
    "inference_model": "",
    "inference_timeout": 60,
    # the state metrics writer of the ollama_monitoring role: run after each run when its configuration exists
    "metrics_program": "/usr/local/lib/llmops-ollama/ollama_state_metrics.py",
    "metrics_config": "/etc/llmops-ollama/metrics.json",
}
# What a probe or a webhook post can raise: network errors, HTTP errors (OSError),
# a garbled or cut answer (http.client.HTTPException) and an answer that is not JSON (ValueError).
REQUEST_ERRORS = (OSError, ValueError, http.client.HTTPException)


def now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def describe(exc: BaseException) -> str:
    """An error in a few words: urllib's reason, else the exception's text, else its type."""
    return str(getattr(exc, "reason", None) or exc) or type(exc).__name__


def webhook_origin(url: str) -> str:
    """How a log line names the webhook: its scheme and host only.

    Not the collection's URL-credential rule (plugins/module_utils/core/urls.py, which masks userinfo and
    secret query values but keeps the path): a webhook's whole path is its secret (Slack, Teams and
    Mattermost put the token there), so nothing after the host is ever logged.
    """
    try:
        parts = urllib.parse.urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unparsable URL)"
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s/..." % (parts.scheme, host, ":%d" % port if port else "")


class Watchdog:
    """One run of the watchdog with its configuration and saved state."""

    def __init__(self, config: Dict[str, Any]) -> None:
        self.config = dict(DEFAULTS)
        self.config.update(config)
        self.config["host"] = self.config["host"] or socket.gethostname()
        self.status_file = os.path.join(self.config["state_dir"], "status.json")
        self.state = self._load_state()
        self.events: List[Dict[str, Any]] = []

    def _load_state(self) -> Dict[str, Any]:
        try:
            with open(self.status_file, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            return {"consecutive_failures": 0, "healthy": True, "restarts": 0, "disk_low": False}

    def _save_state(self) -> None:
        os.makedirs(self.config["state_dir"], exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=self.config["state_dir"], prefix=".status.")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(self.state, out, indent=2, sort_keys=True)
        os.replace(temp, self.status_file)

    def log(self, message: str) -> None:
        line = "%s %s\n" % (now(), message)
        try:
            directory = os.path.dirname(self.config["log_file"])
            if directory:
                os.makedirs(directory, exist_ok=True)
            with open(self.config["log_file"], "a", encoding="utf-8") as handle:
                handle.write(line)
        except OSError as exc:
            sys.stderr.write("watchdog: cannot write the log %s: %s\n%s" % (self.config["log_file"], exc, line))

    def probe(self) -> Tuple[bool, str]:
        """The version check: GET /api/version within ``timeout``."""
        url = self.config["api_url"].rstrip("/") + "/api/version"
        try:
            with urllib.request.urlopen(url, timeout=float(self.config["timeout"])) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except REQUEST_ERRORS as exc:
            return False, "GET %s failed: %s" % (url, describe(exc))
        if not isinstance(answer, dict) or not answer.get("version"):
            return False, "GET %s answered without a version: %.200r" % (url, answer)
        return True, "version %s" % answer["version"]

    def _call(self, method: str, path: str, payload: Optional[Dict[str, Any]], timeout: float) -> Any:
        url = self.config["api_url"].rstrip("/") + path
        data = None if payload is None else json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"} if data else {})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return json.loads(response.read().decode("utf-8"))

    def probe_inference(self) -> Tuple[bool, str]:
        """The inference check: one token from ``inference_model`` (default: the smallest model) within ``inference_timeout``."""
        timeout = float(self.config["inference_timeout"])
        started = time.monotonic()
        model = str(self.config["inference_model"] or "")
        step = "GET /api/tags"
        try:
            tags = self._call("GET", "/api/tags", None, timeout)
            models = [m for m in (tags or {}).get("models") or [] if isinstance(m, dict)]
            if model:
                entry = ollama_probe.find_model(models, model) or {"name": model}
            else:
                smallest = ollama_probe.smallest_model(models)
                if smallest is None:
                    return False, "inference probe: the server holds no model to ask (set the watchdog's inference model, or pull one)"
                entry, model = smallest, ollama_probe.model_name(smallest)
            remaining = max(timeout - (time.monotonic() - started), 0.5)
            path, payload = ollama_probe.probe_request(model, ollama_probe.is_embedding_model(entry))
            step = "POST " + path
            answer = self._call("POST", path, payload, remaining)
        except REQUEST_ERRORS as exc:
            reason = describe(exc)
            if isinstance(exc, socket.timeout) or "timed out" in reason:
                reason = "no answer within %g seconds" % timeout
            return False, "inference probe of %s: %s failed: %s" % (model or "the smallest model", step, reason)
        elapsed = time.monotonic() - started
        problem = ollama_probe.answer_problem(answer, path == ollama_probe.EMBED_PATH)
        if problem:
            return False, "inference probe of %s: %s %s" % (model, step, problem)
        if elapsed > timeout:
            return False, "inference probe of %s: answered after %.1f seconds, more than %g" % (model, elapsed, timeout)
        return True, "inference %s answered in %.2f seconds" % (model, elapsed)

    def inference_due(self) -> bool:
        """Whether this run makes the inference check: on, and due by its interval or still failing."""
        interval = float(self.config["inference_interval"] or 0)
        if interval <= 0:
            return False
        if self.state.get("inference_failing"):
            return True
        return time.time() - float(self.state.get("last_inference", 0) or 0) >= interval

    def check(self) -> Tuple[bool, str, str]:
        """The checks of this run: (healthy, detail, the check that decided)."""
        healthy, detail = self.probe()
        if not healthy or not self.inference_due():
            return healthy, detail, "version"
        started = time.monotonic()
        ok, inference = self.probe_inference()
        # for the state metrics (ollama_monitoring): how long the probe took, and which model it asked
        self.state["inference_seconds"] = round(time.monotonic() - started, 6)
        self.state["inference_model"] = str(self.config["inference_model"] or "")
        self.state["last_inference"] = time.time()
        self.state["inference_failing"] = not ok
        self.state["last_inference_detail"] = inference
        return ok, inference if not ok else "%s; %s" % (detail, inference), "inference"

    def restart(self) -> Tuple[bool, str]:
        argv = [self.config["docker"], "restart", self.config["container"]]
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return False, "%s: %s" % (" ".join(argv), exc)
        if result.returncode != 0:
            return False, "%s exited %s: %s" % (" ".join(argv), result.returncode, (result.stderr or result.stdout).strip())
        return True, "%s: done" % " ".join(argv)

    def event(self, name: str, detail: str, check: str = "") -> None:
        payload = {
            "level": LEVELS[name],
            "event": name,
            "check": check,
            "host": self.config["host"],
            "container": self.config["container"],
            "detail": detail,
            "timestamp": now(),
        }
        self.events.append(payload)
        self.state["last_event"] = payload
        self.log("%s %s %s" % (payload["level"], name, detail))
        self.post(payload)

    def webhook_headers(self) -> Dict[str, str]:
        """JSON, and the bearer token of ``webhook_token`` when one is set (never logged)."""
        headers = {"Content-Type": "application/json", "User-Agent": "llmops-ollama-watchdog"}
        if self.config.get("webhook_token"):
            headers["Authorization"] = "Bearer %s" % self.config["webhook_token"]
        return headers

    def post(self, payload: Dict[str, Any]) -> None:
        if not self.config["webhook"]:
            return
        request = urllib.request.Request(
            self.config["webhook"],
            data=json.dumps(payload).encode("utf-8"),
            headers=self.webhook_headers(),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=float(self.config["webhook_timeout"])) as response:
                response.read()
        except REQUEST_ERRORS as exc:
            self.log("WARN webhook %s failed: %s" % (webhook_origin(self.config["webhook"]), describe(exc)))

    def check_disk(self) -> None:
        path, minimum = self.config["disk_path"], int(self.config["disk_min_bytes"] or 0)
        if not path or not minimum:
            return
        try:
            free = shutil.disk_usage(path).free
        except OSError as exc:
            self.log("WARN cannot read the free disk of %s: %s" % (path, exc))
            return
        low = free < minimum
        if low and not self.state.get("disk_low"):
            self.event("disk_low", "%s has %d bytes free, less than %d" % (path, free, minimum))
        self.state["disk_low"] = low
        self.state["disk_free_bytes"] = free

    def run(self) -> int:
        lock = self._lock()
        if lock is None:
            self.log("INFO skipped: another watchdog run is still probing")
            return 0
        try:
            try:
                self._run()
            finally:
                self._save_state()
        finally:
            os.close(lock)
        self.write_metrics()
        return 0

    def write_metrics(self) -> None:
        """Run the state metrics writer (ollama_monitoring) in this process when it is installed; its failure is logged, never fatal."""
        program, config = self.config["metrics_program"], self.config["metrics_config"]
        if not program or not config or not os.path.exists(program) or not os.path.exists(config):
            return
        try:
            spec = importlib.util.spec_from_file_location("ollama_state_metrics", program)
            if spec is None or spec.loader is None:
                raise ImportError("cannot load %s" % program)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            with open(config, encoding="utf-8") as handle:
                settings = json.load(handle)
            module.StateWriter(settings).run()
        except Exception as exc:  # the metrics never stop the watchdog
            self.log("WARN state metrics (%s, %s): %s" % (program, config, describe(exc)))

    def _lock(self) -> Optional[int]:
        """An exclusive lock on the state directory (flock on its descriptor); None when another run holds it."""
        os.makedirs(self.config["state_dir"], exist_ok=True)
        handle = os.open(self.config["state_dir"], os.O_RDONLY)
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(handle)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return None
            raise
        return handle

    def _run(self) -> None:
        healthy, detail, check = self.check()
        self.state["last_check"] = now()
        self.state["last_detail"] = detail
        if healthy:
            if not self.state.get("healthy", True):
                what = self.state.get("failed_check") or check
                self.event("recovered", "%s after %d failed probes" % (detail, self.state.get("consecutive_failures", 0)), what)
            self.state["consecutive_failures"] = 0
            self.state["healthy"] = True
            self.state["failed_check"] = ""
            self.log("INFO ok %s" % detail)
        else:
            failures = int(self.state.get("consecutive_failures", 0)) + 1
            self.state["consecutive_failures"] = failures
            self.state["failed_check"] = check
            if self.state.get("healthy", True):
                self.event("unhealthy", "%s check failed: %s" % (check, detail), check)
            else:
                self.log("WARN %s check failed (%d/%d): %s" % (check, failures, self.config["failures"], detail))
            self.state["healthy"] = False
            if failures >= int(self.config["failures"]):
                restarted, how = self.restart()
                if restarted:
                    self.state["restarts"] = int(self.state.get("restarts", 0)) + 1
                    self.state["consecutive_failures"] = 0
                    self.event("restarted", "after %d failed %s checks (%s); %s" % (failures, check, detail, how), check)
                else:
                    self.event("restart_failed", "after %d failed %s checks (%s); %s" % (failures, check, detail, how), check)
        self.check_disk()


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Probe the Ollama API once; restart the container after repeated failures.")
    parser.add_argument("--config", default="/etc/llmops-ollama/watchdog.json", help="the JSON configuration file")
    args = parser.parse_args(argv)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        sys.stderr.write("watchdog: cannot read the configuration %s: %s\n" % (args.config, exc))
        return 2
    return run_instances(config) if config.get("instances") else Watchdog(config).run()


def run_instances(config: Dict[str, Any]) -> int:
    """Several instances (ollama_server_instances): each probed, counted and restarted on its own, its state in its own directory."""
    state_dir = config.get("state_dir") or DEFAULTS["state_dir"]
    for instance in config["instances"]:
        one = {key: value for key, value in config.items() if key != "instances"}
        one.update(api_url=instance["api_url"], container=instance["name"], state_dir=os.path.join(state_dir, instance["name"]))
        Watchdog(one).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
