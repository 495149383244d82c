# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ollama host and model state as Prometheus metrics, for node_exporter's textfile collector.

One run reads the host's state and writes ``<textfile_dir>/ollama.prom`` atomically
(a temporary file in the same directory, then a rename; mode 0644), so node_exporter
never serves a half-written file. The watchdog of the ollama_server role runs it
after each of its runs (every minute, or every 30 seconds) when its configuration
file exists; it can also run on its own (cron, a timer).

What it reads, each source on its own (a source that fails is reported by
``ollama_state_source_up{source=...} 0`` and the others are still written):

- ``api``: GET /api/version (up, version, latency), /api/tags (models present),
  /api/ps (models loaded: VRAM share, context length, expiry);
- ``watchdog``: the watchdog's status.json (restarts, inference probe result and latency);
- ``ledger``: the collection's ledger (pull state and progress, the pull queue, the last sync);
- ``disk``: free space where the models live;
- ``docker``: the container's CPU, memory and network (Docker engine API over its socket,
  ``stats?stream=false``);
- ``certificates``: the expiry of each domain bound by ``ollama_domain`` (its sidecar files).

Label cardinality is bounded: at most ``max_models`` models (the largest first) get
per-model series; ``ollama_state_models_omitted`` says how many did not. Label values
are escaped as the text format asks (backslash, double quote, newline).

Stdlib only: it runs with the host's python3.

usage: python3 ollama_state_metrics.py --config /etc/llmops-ollama/metrics.json
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import http.client
import json
import math
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

DEFAULTS: Dict[str, Any] = {
    "api_url": "http://127.0.0.1:11434",
    "timeout": 5,
    "textfile_dir": "/var/lib/prometheus/node-exporter",
    "file_name": "ollama.prom",
    "ledger_dir": "/var/lib/llmops-ollama",
    "watchdog_state_dir": "/var/lib/llmops-ollama/watchdog",
    "models_path": "",
    "container": "ollama",
    "docker_socket": "/var/run/docker.sock",
    "nginx_config_dir": "/etc/nginx/conf.d",
    "gpu": False,
    "max_models": 100,
    "max_pulls": 50,
}
MANAGED_BY = "llmops.ollama.ollama_domain"
SOURCES = ("api", "watchdog", "ledger", "disk", "docker", "certificates")
PULL_STATUSES = ("queued", "downloading", "paused", "failed")
SYNC_COUNTS = ("added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped")
REQUEST_ERRORS = (OSError, ValueError, http.client.HTTPException)

# name -> (type, help); every metric the writer can emit, so that HELP and TYPE come once each.
METRICS: Dict[str, Tuple[str, str]] = {
    "ollama_up": ("gauge", "1 when the Ollama API answered GET /api/version, else 0."),
    "ollama_build_info": ("gauge", "The Ollama server version, as a label (always 1)."),
    "ollama_api_probe_duration_seconds": ("gauge", "Time GET /api/version took."),
    "ollama_inference_probe_success": ("gauge", "1 when the watchdog's last inference probe answered in time, else 0."),
    "ollama_inference_probe_duration_seconds": ("gauge", "Time the watchdog's last inference probe took."),
    "ollama_inference_probe_timestamp_seconds": ("gauge", "When the watchdog last ran the inference probe (Unix time)."),
    "ollama_models": ("gauge", "Models present on the server."),
    "ollama_models_loaded": ("gauge", "Models loaded in memory."),
    "ollama_model_info": ("gauge", "A model present on the server: digest (12 hex), source, family, quantization (always 1)."),
    "ollama_model_size_bytes": ("gauge", "Size of a model present on the server."),
    "ollama_model_loaded_size_bytes": ("gauge", "Memory a loaded model takes."),
    "ollama_model_loaded_vram_bytes": ("gauge", "VRAM a loaded model takes."),
    "ollama_model_loaded_vram_ratio": ("gauge", "Share of a loaded model in VRAM (1 all on the GPU, 0 all on the CPU)."),
    "ollama_model_loaded_context_length_tokens": ("gauge", "Context length a loaded model runs with."),
    "ollama_model_loaded_expiry_timestamp_seconds": ("gauge", "When a loaded model is unloaded unless used (Unix time)."),
    "ollama_host_gpu": ("gauge", "1 when the host is declared a GPU host, else 0."),
    "ollama_models_disk_free_bytes": ("gauge", "Free space of the file system where the models live."),
    "ollama_models_disk_size_bytes": ("gauge", "Size of the file system where the models live."),
    "ollama_pull_status": ("gauge", "A pull the ledger records in this status (queued, downloading, paused, failed) (always 1)."),
    "ollama_pull_completed_bytes": ("gauge", "Bytes a pull has so far."),
    "ollama_pull_total_bytes": ("gauge", "Bytes a pull needs in all."),
    "ollama_pull_progress_ratio": ("gauge", "Share of a pull done (0 to 1)."),
    "ollama_pull_speed_bytes_per_second": ("gauge", "Recent transfer speed of a pull."),
    "ollama_pull_progress_timestamp_seconds": ("gauge", "When the ledger last recorded a pull's progress (Unix time)."),
    "ollama_pulls": ("gauge", "Pulls the ledger records, by status."),
    "ollama_pull_queue_length": ("gauge", "Pulls waiting for a pull slot."),
    "ollama_pull_queue_wait_seconds": ("gauge", "How long the oldest queued pull has waited."),
    "ollama_sync_last_timestamp_seconds": ("gauge", "When the last model sync ended (Unix time)."),
    "ollama_sync_last_success": ("gauge", "1 when the last model sync had no failed model, else 0."),
    "ollama_sync_last_duration_seconds": ("gauge", "How long the last model sync took."),
    "ollama_sync_last_models": ("gauge", "Models of the last sync, by what it did to them."),
    "ollama_watchdog_restarts_total": ("counter", "Container restarts the watchdog made."),
    "ollama_watchdog_consecutive_failures": ("gauge", "Failed watchdog checks in a row."),
    "ollama_watchdog_last_check_timestamp_seconds": ("gauge", "When the watchdog last checked (Unix time)."),
    "ollama_container_running": ("gauge", "1 when the Ollama container runs, else 0."),
    "ollama_container_cpu_seconds_total": ("counter", "CPU time the container used."),
    "ollama_container_memory_usage_bytes": ("gauge", "Memory the container uses (without the page cache)."),
    "ollama_container_memory_limit_bytes": ("gauge", "Memory limit of the container (the host's memory when it has none)."),
    "ollama_container_network_receive_bytes_total": ("counter", "Bytes the container received."),
    "ollama_container_network_transmit_bytes_total": ("counter", "Bytes the container sent."),
    "ollama_certificate_expiry_timestamp_seconds": ("gauge", "When the certificate of a bound domain expires (Unix time)."),
    "ollama_state_source_up": ("gauge", "1 when the writer could read the source, else 0."),
    "ollama_state_models_omitted": ("gauge", "Models left without per-model series by the max_models cap."),
    "ollama_state_write_timestamp_seconds": ("gauge", "When the writer wrote this file (Unix time)."),
    "ollama_state_collect_duration_seconds": ("gauge", "Time the writer took to read the state."),
}


def escape_label(value: Any) -> str:
    """A label value as the text format wants it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def format_value(value: float) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "+Inf" if value > 0 else "-Inf"
    return repr(float(value))


def parse_time(text: Any) -> Optional[float]:
    """Unix time of an RFC 3339 date (Go's nanoseconds and time zones accepted), None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    # Go writes up to nine fraction digits; datetime reads six
    if "." in value:
        head, _dot, rest = value.partition(".")
        count = 0
        while count < len(rest) and rest[count].isdigit():
            count += 1
        digits, zone = rest[:count], rest[count:]
        value = "%s.%s%s" % (head, digits[:6].ljust(6, "0"), zone)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if moment.year < 1971:
        return None
    return moment.timestamp()


class Exposition:
    """Samples collected by metric name; renders the text format with one HELP and TYPE per metric."""

    def __init__(self) -> None:
        self.samples: Dict[str, List[Tuple[Dict[str, Any], float]]] = {}

    def add(self, name: str, value: Optional[float], **labels: Any) -> None:
        if name not in METRICS:
            raise KeyError("unknown metric %s" % name)
        if value is None:
            return
        self.samples.setdefault(name, []).append((labels, value))

    def render(self) -> str:
        lines: List[str] = []
        for name, (kind, text) in METRICS.items():
            samples = self.samples.get(name)
            if not samples:
                continue
            lines.append("# HELP %s %s" % (name, text))
            lines.append("# TYPE %s %s" % (name, kind))
            for labels, value in samples:
                if labels:
                    inner = ",".join('%s="%s"' % (key, escape_label(labels[key])) for key in sorted(labels))
                    lines.append("%s{%s} %s" % (name, inner, format_value(value)))
                else:
                    lines.append("%s %s" % (name, format_value(value)))
        return "\n".join(lines) + "\n"

    def series(self) -> Dict[str, int]:
        return {name: len(samples) for name, samples in self.samples.items()}


def write_atomic(directory: str, name: str, text: str) -> str:
    """Write ``directory/name`` through a temporary file in the same directory and a rename; mode 0644."""
    if not os.path.isdir(directory):
        raise OSError("the textfile directory %s does not exist or is not a directory" % directory)
    target = os.path.join(directory, name)
    # a dot name that does not end in .prom: node_exporter never reads the temporary file
    handle, temp = tempfile.mkstemp(dir=directory, prefix="." + name + ".", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return target


class UnixHTTPConnection(http.client.HTTPConnection):
    """HTTP over a Unix socket (the Docker engine's)."""

    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def short_digest(digest: Any) -> str:
    text = str(digest or "")
    if text.startswith("sha256:"):
        text = text[7:]
    return text[:12]


def model_source(entry: Dict[str, Any]) -> str:
    """official (registry.ollama.ai/library), remote (another registry, hf.co, a cloud model), or custom."""
    name = str(entry.get("name") or entry.get("model") or "")
    if entry.get("remote_host"):
        return "remote"
    first = name.split("/", 1)[0] if "/" in name else ""
    if first and ("." in first or ":" in first or first == "localhost") and first != "registry.ollama.ai":
        return "remote"
    details = entry.get("details") or {}
    if isinstance(details, dict) and details.get("parent_model"):
        return "custom"
    return "official"


def certificate_expiry(path: str) -> Optional[float]:
    """The notAfter of a PEM certificate as Unix time (the standard library's decoder, else openssl)."""
    decoder = getattr(getattr(ssl, "_ssl", None), "_test_decode_cert", None)
    if decoder is not None:
        try:
            return float(ssl.cert_time_to_seconds(decoder(path)["notAfter"]))
        except (OSError, ValueError, KeyError, ssl.SSLError):
            pass
    try:
        out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", path], capture_output=True, text=True, timeout=10, check=True).stdout
        return float(ssl.cert_time_to_seconds(out.strip().split("=", 1)[1]))
    except (OSError, ValueError, IndexError, subprocess.SubprocessError):
        return None


class StateWriter:
    """One run: read every source, write the exposition."""

    def __init__(self, config: Dict[str, Any], clock: Any = time.time) -> None:
        self.config = dict(DEFAULTS)
        self.config.update({k: v for k, v in config.items() if not k.startswith("_")})
        self.clock = clock
        self.out = Exposition()
        self.errors: Dict[str, str] = {}

    # ------------------------------------------------------------ helpers
    def _get(self, path: str) -> Any:
        url = self.config["api_url"].rstrip("/") + path
        with urllib.request.urlopen(url, timeout=float(self.config["timeout"])) as response:
            return json.loads(response.read().decode("utf-8"))

    def _source(self, name: str, ok: bool, error: str = "") -> None:
        self.out.add("ollama_state_source_up", 1 if ok else 0, source=name)
        if not ok:
            self.errors[name] = error

    @staticmethod
    def _read_json(path: str) -> Any:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    # ------------------------------------------------------------ sources
    def collect_api(self) -> None:
        if not self._collect_version():
            return
        try:
            tags = self._get("/api/tags")
            ps = self._get("/api/ps")
        except REQUEST_ERRORS as exc:
            self._source("api", False, str(exc))
            return
        models = [m for m in (tags or {}).get("models") or [] if isinstance(m, dict)]
        loaded = [m for m in (ps or {}).get("models") or [] if isinstance(m, dict)]
        self.out.add("ollama_models", len(models))
        self.out.add("ollama_models_loaded", len(loaded))
        cap = max(int(self.config["max_models"]), 0)
        self._add_models(models, loaded, cap)
        for entry in loaded[: max(cap, 1)]:
            self._add_loaded(entry)
        self._source("api", True)

    def _collect_version(self) -> bool:
        """ollama_up and the version from /api/version; False (source down) when the API does not answer."""
        started = time.monotonic()
        try:
            version = self._get("/api/version")
        except REQUEST_ERRORS as exc:
            self.out.add("ollama_up", 0)
            self._source("api", False, str(exc))
            return False
        self.out.add("ollama_api_probe_duration_seconds", round(time.monotonic() - started, 6))
        ok = isinstance(version, dict) and bool(version.get("version"))
        self.out.add("ollama_up", 1 if ok else 0)
        if ok:
            self.out.add("ollama_build_info", 1, version=version["version"])
        return True

    def _add_models(self, models: List[Dict[str, Any]], loaded: List[Dict[str, Any]], cap: int) -> None:
        """The series of at most ``cap`` present models: the loaded ones first, then the largest."""
        loaded_names = {str(m.get("name") or m.get("model")) for m in loaded}
        ranked = sorted(models, key=lambda m: (str(m.get("name") or m.get("model")) not in loaded_names, -int(m.get("size") or 0), str(m.get("name"))))
        kept = ranked[:cap]
        self.out.add("ollama_state_models_omitted", len(models) - len(kept))
        for entry in kept:
            name = str(entry.get("name") or entry.get("model"))
            details = entry.get("details") if isinstance(entry.get("details"), dict) else {}
            self.out.add(
                "ollama_model_info",
                1,
                model=name,
                digest=short_digest(entry.get("digest")),
                source=model_source(entry),
                family=str(details.get("family") or ""),
                quantization=str(details.get("quantization_level") or ""),
            )
            self.out.add("ollama_model_size_bytes", int(entry.get("size") or 0), model=name)

    def _add_loaded(self, entry: Dict[str, Any]) -> None:
        """The series of one loaded model (an entry of /api/ps)."""
        name = str(entry.get("name") or entry.get("model"))
        size = int(entry.get("size") or 0)
        vram = int(entry.get("size_vram") or 0)
        self.out.add("ollama_model_loaded_size_bytes", size, model=name)
        self.out.add("ollama_model_loaded_vram_bytes", vram, model=name)
        self.out.add("ollama_model_loaded_vram_ratio", round(vram / size, 4) if size > 0 else 0.0, model=name)
        if entry.get("context_length"):
            self.out.add("ollama_model_loaded_context_length_tokens", int(entry["context_length"]), model=name)
        expiry = parse_time(entry.get("expires_at"))
        if expiry is not None:
            self.out.add("ollama_model_loaded_expiry_timestamp_seconds", round(expiry, 3), model=name)

    def collect_watchdog(self) -> None:
        path = os.path.join(self.config["watchdog_state_dir"], "status.json")
        if not os.path.exists(path):
            self._source("watchdog", False, "no watchdog status at %s" % path)
            return
        try:
            state = self._read_json(path)
            if not isinstance(state, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as exc:
            self._source("watchdog", False, "%s: %s" % (path, exc))
            return
        self.out.add("ollama_watchdog_restarts_total", int(state.get("restarts") or 0))
        self.out.add("ollama_watchdog_consecutive_failures", int(state.get("consecutive_failures") or 0))
        checked = parse_time(state.get("last_check"))
        if checked is not None:
            self.out.add("ollama_watchdog_last_check_timestamp_seconds", checked)
        if state.get("last_inference"):
            model = str(state.get("inference_model") or "")
            self.out.add("ollama_inference_probe_success", 0 if state.get("inference_failing") else 1, model=model)
            self.out.add("ollama_inference_probe_timestamp_seconds", float(state["last_inference"]), model=model)
            if state.get("inference_seconds") is not None:
                self.out.add("ollama_inference_probe_duration_seconds", float(state["inference_seconds"]), model=model)
        self._source("watchdog", True)

    def collect_ledger(self) -> None:
        root = self.config["ledger_dir"]
        problems: List[str] = []
        counts, pulls, oldest_wait = self._read_pulls(os.path.join(root, "models"), problems)
        for status in PULL_STATUSES:
            self.out.add("ollama_pulls", counts[status], status=status)
        self.out.add("ollama_pull_queue_length", counts["queued"])
        self.out.add("ollama_pull_queue_wait_seconds", round(oldest_wait or 0.0, 3))
        # the active ones first, then the problems; at most max_pulls get per-model series
        order = {"downloading": 0, "queued": 1, "paused": 2, "failed": 3}
        pulls.sort(key=lambda item: (order[item[1]], item[0]))
        for name, status, record in pulls[: max(int(self.config["max_pulls"]), 0)]:
            self._add_pull(name, status, record)
        self._collect_history(os.path.join(root, "history.jsonl"), problems)
        self._source("ledger", not problems, "; ".join(problems))

    def _read_pulls(self, models_dir: str, problems: List[str]) -> Tuple[Dict[str, int], List[Tuple[str, str, Dict[str, Any]]], Optional[float]]:
        """(count by status, (name, status, record) of each pull, longest wait in the queue) from the ledger's model records."""
        now = self.clock()
        counts = {status: 0 for status in PULL_STATUSES}
        pulls: List[Tuple[str, str, Dict[str, Any]]] = []
        oldest_wait: Optional[float] = None
        for path in sorted(glob.glob(os.path.join(glob.escape(models_dir), "*.json"))):
            try:
                record = self._read_json(path)
            except (OSError, ValueError) as exc:
                problems.append("%s: %s" % (path, exc))
                continue
            if not isinstance(record, dict):
                continue
            status = record.get("status")
            if status not in PULL_STATUSES:
                continue
            counts[status] += 1
            name = str(record.get("name") or record.get("key") or os.path.basename(path)[:-5])
            pulls.append((name, status, record))
            if status == "queued":
                started = parse_time(record.get("started_at")) or parse_time(record.get("updated_at"))
                if started is not None:
                    wait = max(now - started, 0.0)
                    oldest_wait = wait if oldest_wait is None else max(oldest_wait, wait)
        return counts, pulls, oldest_wait

    def _add_pull(self, name: str, status: str, record: Dict[str, Any]) -> None:
        """The series of one pull: its status, and its progress when the record has one."""
        self.out.add("ollama_pull_status", 1, model=name, status=status)
        progress = record.get("progress") if isinstance(record.get("progress"), dict) else None
        if progress:
            completed, total = int(progress.get("completed") or 0), int(progress.get("total") or 0)
            self.out.add("ollama_pull_completed_bytes", completed, model=name)
            self.out.add("ollama_pull_total_bytes", total, model=name)
            self.out.add("ollama_pull_progress_ratio", round(completed / total, 4) if total > 0 else 0.0, model=name)
            self.out.add("ollama_pull_speed_bytes_per_second", int(progress.get("speed") or 0), model=name)
            updated = parse_time(progress.get("updated_at")) or parse_time(record.get("updated_at"))
            if updated is not None:
                self.out.add("ollama_pull_progress_timestamp_seconds", round(updated, 3), model=name)

    def _collect_history(self, path: str, problems: List[str]) -> None:
        """The last sync run of history.jsonl (its last line of kind sync)."""
        try:
            with open(path, "rb") as handle:
                handle.seek(0, os.SEEK_END)
                size = handle.tell()
                handle.seek(max(size - 65536, 0))
                tail = handle.read().decode("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return
        except OSError as exc:
            problems.append("%s: %s" % (path, exc))
            return
        for line in reversed(tail):
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if not isinstance(entry, dict) or entry.get("kind", "sync") != "sync":
                continue
            ended = parse_time(entry.get("time"))
            if ended is not None:
                self.out.add("ollama_sync_last_timestamp_seconds", round(ended, 3))
            self.out.add("ollama_sync_last_success", 0 if entry.get("failed") else 1)
            if isinstance(entry.get("seconds"), (int, float)):
                self.out.add("ollama_sync_last_duration_seconds", float(entry["seconds"]))
            summary = entry.get("summary") if isinstance(entry.get("summary"), dict) else {}
            for action in SYNC_COUNTS:
                value = summary.get(action)
                if isinstance(value, int) and not isinstance(value, bool):
                    self.out.add("ollama_sync_last_models", value, action=action)
            return

    def collect_disk(self) -> None:
        path = self.config["models_path"]
        if not path:
            return
        try:
            usage = shutil.disk_usage(path)
        except OSError as exc:
            self._source("disk", False, "%s: %s" % (path, exc))
            return
        self.out.add("ollama_models_disk_free_bytes", usage.free)
        self.out.add("ollama_models_disk_size_bytes", usage.total)
        self._source("disk", True)

    def collect_docker(self) -> None:
        container = self.config["container"]
        socket_path = self.config["docker_socket"]
        if not container or not socket_path:
            return
        quoted = urllib.parse.quote(container, safe="")
        try:
            info = self._docker(socket_path, "/containers/%s/json" % quoted)
            if info is None:
                self.out.add("ollama_container_running", 0, container=container)
                self._source("docker", True)
                return
            running = bool((info.get("State") or {}).get("Running"))
            self.out.add("ollama_container_running", 1 if running else 0, container=container)
            if running:
                stats = self._docker(socket_path, "/containers/%s/stats?stream=false&one-shot=true" % quoted) or {}
                self._container_stats(container, stats)
        except REQUEST_ERRORS as exc:
            self._source("docker", False, "%s: %s" % (socket_path, exc))
            return
        self._source("docker", True)

    def _docker(self, socket_path: str, path: str) -> Optional[Dict[str, Any]]:
        connection = UnixHTTPConnection(socket_path, float(self.config["timeout"]))
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status == 404:
            return None
        if response.status != 200:
            raise ValueError("GET %s answered %s: %.200s" % (path, response.status, body))
        answer = json.loads(body.decode("utf-8"))
        if not isinstance(answer, dict):
            raise ValueError("GET %s answered no JSON object" % path)
        return answer

    def _container_stats(self, container: str, stats: Dict[str, Any]) -> None:
        cpu = ((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage")
        if isinstance(cpu, (int, float)):
            self.out.add("ollama_container_cpu_seconds_total", round(cpu / 1e9, 6), container=container)
        memory = stats.get("memory_stats") or {}
        if isinstance(memory.get("usage"), int):
            inner = memory.get("stats") or {}
            # what `docker stats` shows: the usage less the inactive page cache (cgroup v2, then v1)
            cache = inner.get("inactive_file", inner.get("total_inactive_file", 0)) or 0
            self.out.add("ollama_container_memory_usage_bytes", max(memory["usage"] - int(cache), 0), container=container)
        if isinstance(memory.get("limit"), int):
            self.out.add("ollama_container_memory_limit_bytes", memory["limit"], container=container)
        networks = stats.get("networks")
        if isinstance(networks, dict):
            rx = sum(int((n or {}).get("rx_bytes") or 0) for n in networks.values())
            tx = sum(int((n or {}).get("tx_bytes") or 0) for n in networks.values())
            self.out.add("ollama_container_network_receive_bytes_total", rx, container=container)
            self.out.add("ollama_container_network_transmit_bytes_total", tx, container=container)

    def collect_certificates(self) -> None:
        directory = self.config["nginx_config_dir"]
        if not directory or not os.path.isdir(directory):
            return
        problems = []
        for path in sorted(glob.glob(os.path.join(glob.escape(directory), "*.json"))):
            try:
                meta = self._read_json(path)
            except (OSError, ValueError):
                continue
            if not isinstance(meta, dict) or meta.get("managed_by") != MANAGED_BY:
                continue
            tls = meta.get("tls") if isinstance(meta.get("tls"), dict) else {}
            certificate = tls.get("certificate")
            if tls.get("mode", "none") == "none" or not certificate:
                continue
            expiry = certificate_expiry(str(certificate))
            if expiry is None:
                problems.append("cannot read the certificate %s of %s" % (certificate, meta.get("domain")))
                continue
            self.out.add("ollama_certificate_expiry_timestamp_seconds", expiry, domain=str(meta.get("domain") or ""))
        self._source("certificates", not problems, "; ".join(problems))

    # ------------------------------------------------------------ run
    def collect(self) -> Exposition:
        started = time.monotonic()
        self.out.add("ollama_host_gpu", 1 if self.config["gpu"] else 0)
        self.collect_api()
        self.collect_watchdog()
        self.collect_ledger()
        self.collect_disk()
        self.collect_docker()
        self.collect_certificates()
        self.out.add("ollama_state_collect_duration_seconds", round(time.monotonic() - started, 6))
        self.out.add("ollama_state_write_timestamp_seconds", round(self.clock(), 3))
        return self.out

    def run(self) -> str:
        text = self.collect().render()
        return write_atomic(self.config["textfile_dir"], self.config["file_name"], text)


def main(argv: Optional[Iterable[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Write the Ollama host's state as Prometheus metrics for node_exporter's textfile collector.")
    parser.add_argument("--config", default="/etc/llmops-ollama/metrics.json", help="the JSON configuration file")
    parser.add_argument("--stdout", action="store_true", help="print the metrics instead of writing the file")
    args = parser.parse_args(list(argv) if argv is not None else None)
    try:
        with open(args.config, encoding="utf-8") as handle:
            config = json.load(handle)
    except (OSError, ValueError) as exc:
        sys.stderr.write("ollama_state_metrics: cannot read the configuration %s: %s\n" % (args.config, exc))
        return 2
    writer = StateWriter(config)
    if args.stdout:
        sys.stdout.write(writer.collect().render())
        return 0
    try:
        writer.run()
    except OSError as exc:
        sys.stderr.write("ollama_state_metrics: cannot write the metrics: %s\n" % exc)
        return 1
    for source, error in writer.errors.items():
        sys.stderr.write("ollama_state_metrics: %s: %s\n" % (source, error))
    return 0


if __name__ == "__main__":
    sys.exit(main())
