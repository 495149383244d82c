# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The inference probe, defined once: which model to ask, what to send it, and what a good answer is.

Standard library only, with no import from the collection: the ollama_server
role installs this very file next to its watchdog program (as
``ollama_probe.py``), which imports it; core/health.py (ollama_info and the
sync's health gate) imports it from here. Each caller makes the request with
its own HTTP client and words its own errors.

- is_embedding_model(): whether a model only embeds (then it is asked for an embedding);
- smallest_model() / find_model(): the model to ask among /api/tags entries;
- probe_request(): the path and body of the one request;
- answer_problem(): what is wrong with the answer ("" when it is good).
"""

from __future__ import annotations

from typing import Any, Dict, Iterable, Optional, Tuple

# Model families that only embed (when neither /api/tags nor /api/show says so through capabilities).
EMBEDDING_FAMILIES = ("bert", "nomic-bert", "nomic-bert-moe", "jina-bert-v2", "xlm-roberta", "gte", "e5")
PROBE_PROMPT = "Hi"
GENERATE_PATH = "/api/generate"
EMBED_PATH = "/api/embed"


def model_name(entry: Dict[str, Any]) -> str:
    """The name of an /api/tags entry (``name``, else ``model``)."""
    return str(entry.get("name") or entry.get("model"))


def is_embedding_model(entry: Dict[str, Any]) -> bool:
    """Whether a model (an /api/tags entry or an /api/show answer) only embeds.

    Decided by ``capabilities`` when the server reports them (Ollama 0.30 and later,
    in /api/tags and /api/show), else by the family (bert and its kin embed).
    """
    capabilities = entry.get("capabilities")
    if isinstance(capabilities, list) and capabilities:
        return "embedding" in capabilities and "completion" not in capabilities
    details = entry.get("details") or {}
    if not isinstance(details, dict):
        return False
    families = [details.get("family"), *list(details.get("families") or [])]
    return any(str(family or "").lower() in EMBEDDING_FAMILIES for family in families)


def _size(entry: Dict[str, Any]) -> int:
    try:
        return int(entry.get("size") or 0)
    except (TypeError, ValueError):
        return 0


def smallest_model(models: Iterable[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The smallest /api/tags entry that runs locally (cloud models are left out); None when there is none."""
    local = [m for m in models if isinstance(m, dict) and not m.get("remote_host") and _size(m) > 0]
    if not local:
        return None
    return min(local, key=lambda m: (_size(m), model_name(m)))


def find_model(models: Iterable[Dict[str, Any]], name: str) -> Optional[Dict[str, Any]]:
    """The /api/tags entry named ``name`` (by ``name`` or ``model``); None when the server does not hold it."""
    return next((m for m in models if isinstance(m, dict) and name in (m.get("name"), m.get("model"))), None)


def probe_request(model: str, embed: bool, keep_alive: Optional[str] = None) -> Tuple[str, Dict[str, Any]]:
    """The path and JSON body of the probe: one embedding of PROBE_PROMPT, or one token (``num_predict: 1``) for it."""
    payload: Dict[str, Any] = {"model": model}
    if embed:
        path = EMBED_PATH
        payload["input"] = PROBE_PROMPT
    else:
        path = GENERATE_PATH
        payload.update(prompt=PROBE_PROMPT, stream=False, options={"num_predict": 1})
    if keep_alive is not None:
        payload["keep_alive"] = keep_alive
    return path, payload


def answer_problem(answer: Any, embed: bool) -> str:
    """What is wrong with the probe's answer, in a few words ("" when it is good).

    A good answer is a JSON object without ``error`` and, for an embed, with at
    least one embedding.
    """
    if not isinstance(answer, dict):
        return "answered %.200r, not a JSON object" % (answer,)
    if "error" in answer:
        return "answered the error: %s" % (answer["error"],)
    if embed and not answer.get("embeddings"):
        return "answered no embedding"
    return ""
