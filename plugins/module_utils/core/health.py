# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Health and facts of one Ollama server: what ollama_info returns and the roles probe.

- health_facts() builds the facts from answers already read (tags, ps), so a
  module that has read them anyway (ollama_model_sync) returns the same
  ``health`` dict without another request (core/health_read.py reads them for ollama_info);
- probe_inference() asks one model for one token (or one embedding) and times it
  (what to ask and what a good answer is: core/probe.py, shared with the watchdog);
- gpu_percent() is the share of a loaded model in GPU memory (core/gpu_placement.py
  says which loaded models are not wholly there).
"""

from __future__ import annotations

import time
from typing import Any, Dict, Iterable, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core import answers
from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.host import disk_space
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidModelName, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.probe import (
    answer_problem,
    find_model,
    is_embedding_model,
    model_name,
    probe_request,
    smallest_model,
)
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size


def probe_argument_spec() -> Dict[str, Any]:
    """The inference probe's options (the ``llmops.ollama._probe`` doc fragment) of ollama_info and ollama_model_sync."""
    return {
        "probe": {"type": "str", "choices": ["version", "inference"], "default": "version"},
        "probe_model": {"type": "str"},
        "probe_timeout": {"type": "float", "default": 60},
    }


def probe_params_problem(params: Dict[str, Any]) -> Optional[str]:
    """What is wrong with those options, in words; None when nothing is."""
    if params["probe_timeout"] <= 0:
        return "probe_timeout must be more than 0 seconds (got %s)" % params["probe_timeout"]
    if params["probe_model"] is not None and not params["probe_model"].strip():
        return "probe_model must name a model (got an empty string); leave it out to probe the smallest model"
    return None


# The shortest timeout a probe request gets once the wait deadline has passed.
MIN_REQUEST_TIMEOUT = 0.5
LOADED_FIELDS = ("name", "model", "size", "size_vram", "digest", "expires_at", "context_length", "details")


def loaded_sizes(model: Dict[str, Any]) -> Tuple[int, int]:
    """(size, size_vram) of an /api/ps entry; (0, 0) when they are not numbers."""
    try:
        return int(model.get("size") or 0), int(model.get("size_vram") or 0)
    except (TypeError, ValueError):
        return 0, 0


def gpu_percent(model: Dict[str, Any]) -> Optional[float]:
    """The share of a loaded model (an /api/ps entry) in GPU memory, size_vram/size*100 rounded to 0.1; None when its size is unknown."""
    size, vram = loaded_sizes(model)
    if size <= 0:
        return None
    return max(0.0, min(100.0, round(vram * 100.0 / size, 1)))


def loaded_facts(loaded: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The /api/ps entries as ollama_info reports them: LOADED_FIELDS plus ``gpu_percent``."""
    facts = []
    for model in loaded:
        entry = {key: model.get(key) for key in LOADED_FIELDS if key in model}
        entry["gpu_percent"] = gpu_percent(model)
        facts.append(entry)
    return facts


def health_facts(
    api_url: str,
    version: str = "",
    models: Optional[List[Dict[str, Any]]] = None,
    loaded: Optional[List[Dict[str, Any]]] = None,
    healthy: bool = True,
    reason: str = "",
    disk_path: Optional[str] = None,
) -> Dict[str, Any]:
    """The health facts of ollama_info from answers already read; no request is made.

    ``models`` is the list of /api/tags, ``loaded`` that of /api/ps (raw entries).
    Returns api_url, healthy, reason, version, models (sorted display names),
    models_count, models_total_size(_human), loaded (see loaded_facts), loaded_count
    and disk (disk_facts(disk_path): None without a path).
    """
    models = list(models or [])
    loaded = list(loaded or [])
    total = sum(int(m.get("size") or 0) for m in models)
    return {
        "api_url": api_url,
        "healthy": bool(healthy),
        "reason": "" if healthy else reason,
        "version": version or "",
        "models": sorted(str(m.get("name") or m.get("model")) for m in models),
        "models_count": len(models),
        "models_total_size": total,
        "models_total_size_human": format_size(total),
        "loaded": loaded_facts(loaded),
        "loaded_count": len(loaded),
        "disk": disk_facts(disk_path),
    }


def disk_facts(path: Optional[str]) -> Optional[Dict[str, Any]]:
    """Free and total bytes of the filesystem that holds ``path`` (None when no path is asked).

    A path that cannot be read is a fact too: ``free`` is None and ``error`` says why.
    """
    if not path:
        return None
    try:
        free, total = disk_space(path)
    except OSError as exc:
        return {"path": path, "free": None, "free_human": None, "total": None, "total_human": None, "error": "%s: %s" % (path, exc.strerror or exc)}
    return {"path": path, "free": free, "free_human": format_size(free), "total": total, "total_human": format_size(total), "error": ""}


# ---------------------------------------------------------------- inference probe


def _duration_seconds(answer: Dict[str, Any], key: str) -> Optional[float]:
    value = answer.get(key)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return round(value / 1e9, 3)
    return None


def probe_inference(
    client: OllamaClient,
    model: Optional[str] = None,
    timeout: float = 30,
    models: Optional[List[Dict[str, Any]]] = None,
    keep_alive: Optional[str] = None,
) -> Dict[str, Any]:
    """Ask one model for one token (``num_predict: 1``), or one embedding for an embedding model.

    ``model`` defaults to the smallest local model in ``models`` (/api/tags
    entries; read when not given). The whole probe must answer within
    ``timeout`` seconds (loading the model included). Never raises for a
    server-side failure. Returns::

        {"healthy": bool, "reason": str (empty when healthy), "model": str|None,
         "kind": "generate"|"embed"|None, "latency": seconds (load plus first token)|None,
         "load_duration": seconds|None, "timeout": timeout}

    A model that is not there, a timeout, an HTTP error or an error line are
    ``healthy: false`` with the reason; so is a server without any model when
    ``model`` is not named.
    """
    result: Dict[str, Any] = {"healthy": False, "reason": "", "model": model, "kind": None, "latency": None, "load_duration": None, "timeout": timeout}
    started = time.monotonic()

    def remaining() -> float:
        return round(max(timeout - (time.monotonic() - started), MIN_REQUEST_TIMEOUT), 1)

    step = "GET /api/tags"
    try:
        if models is None:
            models = client.tags(timeout=remaining())
        if not model:
            smallest = smallest_model(models)
            if smallest is None:
                result["reason"] = "inference probe: the server at %s holds no model to ask; name one with probe_model or pull one" % client.api_url
                return result
            model = model_name(smallest)
            result["model"] = model
            entry: Dict[str, Any] = smallest
        else:
            found = find_model(models, model)
            if found is None:
                # the name as Ollama reads it: all-minilm is all-minilm:latest, case does not matter
                wanted = _model_key(model)
                found = next(
                    (m for m in models if isinstance(m, dict) and wanted in (_model_key(m.get("name")), _model_key(m.get("model")))),
                    None,
                )
                if found is not None:
                    model = model_name(found)
                    result["model"] = model
            if found is None:
                names = sorted(model_name(m) for m in models)
                result["reason"] = "inference probe: %s is not on the server at %s (it holds: %s); pull it or name another" % (
                    model,
                    client.api_url,
                    ", ".join(names) or "no model",
                )
                return result
            entry = found
        if not isinstance(entry.get("capabilities"), list):
            # Older servers: /api/show has the capabilities (or at least the details).
            step = "POST /api/show"
            entry = client.show(model, timeout=remaining())
        embed = is_embedding_model(entry)
        result["kind"] = "embed" if embed else "generate"
        path, payload = probe_request(model, embed, keep_alive)
        step = "POST " + path
        sent = time.monotonic()
        answer = client.call("POST", path, payload, timeout=remaining())
        elapsed = time.monotonic() - sent
        # the fields read below, checked against their shape (an answer of another shape is a clear reason)
        answer = client.checked_object("POST", path, answer, answers.EMBED if embed else answers.GENERATE)
    except OllamaError as exc:
        message = str(exc)
        if "no answer from the Ollama server" in message or "timed out" in message:
            message = "%s: no answer within the probe timeout of %g seconds (a hung runner, or a model too slow to load)" % (step, timeout)
        result["reason"] = "inference probe of %s: %s" % (model or "the smallest model", message)
        return result
    problem = answer_problem(answer, embed)
    if problem:
        result["reason"] = "inference probe: %s for %s %s" % (step, model, problem)
        return result
    result["latency"] = round(elapsed, 3)
    result["load_duration"] = _duration_seconds(answer, "load_duration")
    total = time.monotonic() - started
    if total > timeout:
        result["reason"] = "inference probe: %s answered after %.1f seconds, more than the probe timeout of %g" % (model, total, timeout)
        return result
    result["healthy"] = True
    return result


def _model_key(name: Any) -> Optional[str]:
    """A model name as Ollama compares names (defaults filled in, case folded); the text itself when it is no name."""
    if not isinstance(name, str):
        return None
    try:
        return parse_name(name).key
    except InvalidModelName:
        return name.strip().lower()
