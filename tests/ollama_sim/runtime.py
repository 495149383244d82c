# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The runtime: which models are loaded, until when, and what they answer.

keep_alive follows api.Duration: a number is seconds, a string a Go duration
(``"10m"``, ``"-1m"``), any negative value keeps the model loaded forever, 0 unloads,
absent means ``OLLAMA_KEEP_ALIVE`` (default 5m). As in Ollama's scheduler, runners are
keyed by the model blob, so two names sharing one model file share one runner, and
``DELETE /api/delete`` does not unload a loaded model (its runner stays until keep_alive
expires; ``ollama rm`` sends keep_alive 0 first). Replies are short and deterministic;
embeddings are unit vectors derived from the text.

A multi-GPU host, played one instance at a time: ``OLLAMA_NUM_PARALLEL`` requests run at
once per loaded model and the rest wait in a queue (unset: no limit), each request that
generates takes ``OLLAMA_SIM_REQUEST_SECONDS`` (default 0) on top of its tokens, and
``/api/ps`` names the devices of ``CUDA_VISIBLE_DEVICES`` (or ``ROCR_VISIBLE_DEVICES``) in a
``devices`` field, which only the simulator adds (Ollama logs them instead).
"""

from __future__ import annotations

import hashlib
import math
import os
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from .errors import ApiError
from .godata import FOREVER_SECONDS, GoDurationError, go_time, parse_go_duration
from .models import LocalModel

DEFAULT_CONTEXT = 4096

REPLIES = (
    "Hello! I am a simulated model served by the Ollama API simulator.",
    "The sky is blue because air scatters short blue wavelengths more than red ones.",
    "Sure. Here is a short answer from the simulator: everything works as expected.",
    "I am not a real language model, but this reply arrives just like a real one.",
)


def parse_keep_alive(value: Any) -> Optional[float]:
    """Seconds from a request's keep_alive (None: not given); ApiError(400) like Ollama."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ApiError(400, "Unsupported type: 'bool'")
    if isinstance(value, (int, float)):
        return FOREVER_SECONDS if value < 0 else float(value)
    if isinstance(value, str):
        try:
            seconds = parse_go_duration(value)
        except GoDurationError as exc:
            raise ApiError(400, str(exc)) from None
        return FOREVER_SECONDS if seconds < 0 else seconds
    kind = "[]interface {}" if isinstance(value, list) else "map[string]interface {}"
    raise ApiError(400, "Unsupported type: '%s'" % kind)


def env_keep_alive() -> float:
    """OLLAMA_KEEP_ALIVE: a Go duration or whole seconds; 5m by default."""
    text = os.environ.get("OLLAMA_KEEP_ALIVE", "").strip()
    seconds = 300.0
    if text:
        try:
            seconds = parse_go_duration(text)
        except GoDurationError:
            try:
                seconds = float(int(text))
            except ValueError:
                seconds = 300.0
    return FOREVER_SECONDS if seconds < 0 else seconds


@dataclass
class Runner:
    """A loaded model, as /api/ps shows it."""

    key: str
    name: str
    digest: str
    size: int
    size_vram: int
    details: Dict[str, Any]
    context_length: int
    expires_at: float
    requests: int = 0
    on_gpu: bool = False
    vram_fraction: Optional[float] = None
    slots: Optional[threading.BoundedSemaphore] = None

    def as_ps(self) -> Dict[str, Any]:
        if self.vram_fraction is not None:
            self.size_vram = int(self.size * self.vram_fraction)
        return {
            "name": self.name,
            "model": self.name,
            "size": self.size,
            "digest": self.digest,
            "details": self.details,
            "expires_at": go_time(int(self.expires_at * 1e9)),
            "size_vram": self.size_vram,
            "context_length": self.context_length,
            **({"devices": visible_devices()} if visible_devices() else {}),
        }


def visible_devices() -> List[str]:
    """The GPUs this server was given (CUDA_VISIBLE_DEVICES, else ROCR_VISIBLE_DEVICES)."""
    text = os.environ.get("CUDA_VISIBLE_DEVICES") or os.environ.get("ROCR_VISIBLE_DEVICES") or ""
    return [item.strip() for item in text.split(",") if item.strip()]


def num_parallel() -> int:
    """OLLAMA_NUM_PARALLEL: requests one loaded model serves at once (0: no limit)."""
    try:
        return max(0, int(os.environ.get("OLLAMA_NUM_PARALLEL", "0") or 0))
    except ValueError:
        return 0


def request_seconds() -> float:
    """OLLAMA_SIM_REQUEST_SECONDS: the time each generating request takes, queue excluded."""
    try:
        return max(0.0, float(os.environ.get("OLLAMA_SIM_REQUEST_SECONDS", "0") or 0))
    except ValueError:
        return 0.0


class Scheduler:
    """Loaded runners with their expiry (server/sched.go, much simplified)."""

    def __init__(self, gpu: bool = False, max_loaded: Optional[int] = None, vram_fraction: Optional[Callable[[], Optional[float]]] = None) -> None:
        """``gpu``: loaded models sit in VRAM (a vram_fraction of 1.0); ``vram_fraction``: a callable
        giving the share of each loaded model held in VRAM (the ``vram_fraction`` fault), None when unset."""
        self.gpu = gpu
        self.vram_fraction = vram_fraction or (lambda: None)
        self.max_loaded = max_loaded or int(os.environ.get("OLLAMA_MAX_LOADED_MODELS", "0") or 0) or 3
        self._lock = threading.Lock()
        self._runners: Dict[str, Runner] = {}
        # what /_sim/runners reports: loads per model name, requests running now and at most
        self.loads: Dict[str, int] = {}
        self.active = 0
        self.max_active = 0

    def _purge(self, now: float) -> None:
        for key in [key for key, runner in self._runners.items() if runner.requests == 0 and runner.expires_at <= now]:
            del self._runners[key]

    def context_length(self, model: LocalModel, options: Dict[str, Any]) -> int:
        wanted = options.get("num_ctx") or model.params.get("num_ctx") or int(os.environ.get("OLLAMA_CONTEXT_LENGTH", "0") or 0) or DEFAULT_CONTEXT
        trained = model.kv("context_length", 0)
        wanted = int(wanted)
        return min(wanted, trained) if trained else wanted

    def acquire(self, model: LocalModel, keep_alive: Optional[float], options: Dict[str, Any]) -> Runner:
        """Load (or reuse) the model's runner for one request."""
        now = time.time()
        session = env_keep_alive() if keep_alive is None else keep_alive
        key = model.model_digest or model.manifest.digest
        context = self.context_length(model, options)
        gpu = self.gpu and options.get("num_gpu", -1) != 0
        with self._lock:
            self._purge(now)
            runner = self._runners.get(key)
            if runner is None or runner.context_length != context or runner.on_gpu != gpu:
                while len(self._runners) >= self.max_loaded:
                    idle = [r for r in self._runners.values() if r.requests == 0] or list(self._runners.values())
                    del self._runners[min(idle, key=lambda r: r.expires_at).key]
                parallel = num_parallel()
                runner = Runner(
                    key=key,
                    name=model.name.display(),
                    digest=model.manifest.digest,
                    size=model.manifest.size,
                    size_vram=model.manifest.size if gpu else 0,
                    details=model.details(with_parent=False),
                    context_length=context,
                    expires_at=now + session,
                    on_gpu=gpu,
                    slots=threading.BoundedSemaphore(parallel) if parallel else None,
                )
                self._runners[key] = runner
                self.loads[runner.name] = self.loads.get(runner.name, 0) + 1
            runner.requests += 1
            runner.expires_at = now + session
        return runner

    def start(self, runner: Runner) -> None:
        """Take one of the runner's OLLAMA_NUM_PARALLEL slots (waiting in the queue), then spend the request time."""
        if runner.slots is not None:
            runner.slots.acquire()
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        seconds = request_seconds()
        if seconds:
            time.sleep(seconds)

    def finish(self, runner: Runner) -> None:
        """Give the slot back."""
        with self._lock:
            self.active = max(0, self.active - 1)
        if runner.slots is not None:
            runner.slots.release()

    def snapshot(self) -> Dict[str, Any]:
        with self._lock:
            return {"loads": dict(self.loads), "active": self.active, "max_active": self.max_active, "num_parallel": num_parallel()}

    def reset(self) -> None:
        with self._lock:
            self.loads.clear()
            self.max_active = self.active

    def release(self, runner: Runner, keep_alive: Optional[float]) -> None:
        """The request is over: start the keep_alive clock (0 unloads now)."""
        session = env_keep_alive() if keep_alive is None else keep_alive
        with self._lock:
            runner.requests = max(0, runner.requests - 1)
            runner.expires_at = time.time() + session
            if session <= 0 and runner.requests == 0:
                self._runners.pop(runner.key, None)

    def expire(self, model: LocalModel) -> None:
        """keep_alive 0 without a prompt: unload the model's runner."""
        key = model.model_digest or model.manifest.digest
        with self._lock:
            self._runners.pop(key, None)

    def list(self) -> List[Runner]:
        fraction = self.vram_fraction()
        with self._lock:
            self._purge(time.time())
            runners = sorted(self._runners.values(), key=lambda r: -r.expires_at)
            for runner in runners:
                runner.vram_fraction = fraction
                if fraction is None:
                    runner.size_vram = runner.size if runner.on_gpu else 0
            return runners


# ------------------------------------------------------------------------------ replies
def reply_text(model: str, prompt: str, structured: bool) -> str:
    if structured:
        return '{"reply": "simulated", "model": "%s"}' % model
    index = int(hashlib.sha256(prompt.encode("utf-8")).hexdigest(), 16) % len(REPLIES)
    return REPLIES[index]


def thinking_text(prompt: str) -> str:
    """What a thinking model thinks before it answers (deterministic)."""
    return "The user asks: %s. A short, direct answer will do." % " ".join(prompt.split()[:8])


def tokens(text: str) -> List[str]:
    """Word pieces that concatenate back to the text."""
    out: List[str] = []
    for index, word in enumerate(text.split(" ")):
        out.append(word if index == 0 else " " + word)
    return out


def token_ids(text: str) -> List[int]:
    return [int.from_bytes(hashlib.sha256(piece.encode("utf-8")).digest()[:2], "big") for piece in tokens(text)]


def embedding(text: str, dimensions: int) -> List[float]:
    """A deterministic unit vector for the text."""
    raw: List[float] = []
    counter = 0
    while len(raw) < dimensions:
        digest = hashlib.sha256(("%d|%s" % (counter, text)).encode("utf-8")).digest()
        raw.extend(value / 2147483648.0 for value in struct.unpack(">8i", digest))
        counter += 1
    raw = raw[:dimensions]
    norm = math.sqrt(sum(value * value for value in raw)) or 1.0
    return [float("%.8g" % (value / norm)) for value in raw]
