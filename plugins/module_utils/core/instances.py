# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The instances of one host (ollama_server_instances) side by side: which models each lists and
serves (has loaded), and its share of the GPU memory that the host's loaded models take.

The instances share one models directory, so each should list the same models; a model pulled
through one is listed by the others at their next /api/tags (Ollama syncs its list cache with the
manifests on disk on every call). Loaded models are each instance's own.
"""

from __future__ import annotations

from typing import Any, Dict, List


def instance_summary(index: int, facts: Dict[str, Any]) -> Dict[str, Any]:
    """One instance from its probe facts (core.health_read.probe): health, models listed, models served and VRAM."""
    loaded = facts.get("loaded") or []
    return {
        "index": index,
        "api_url": facts.get("api_url"),
        "healthy": bool(facts.get("healthy")),
        "reason": facts.get("reason") or "",
        "version": facts.get("version") or "",
        "models": list(facts.get("models") or []),
        "models_count": int(facts.get("models_count") or 0),
        "serves": [m.get("name") for m in loaded],
        "loaded": [{"name": m.get("name"), "size_vram": int(m.get("size_vram") or 0), "gpu_percent": m.get("gpu_percent")} for m in loaded],
        "vram_bytes": sum(int(m.get("size_vram") or 0) for m in loaded),
    }


def instances_report(probes: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Every instance (instance_summary), with ``vram_share``: its percentage of the VRAM all instances use (null when none is used),
    and ``missing``: the models another instance lists and this one does not (they share one models directory, so none should)."""
    summaries = [instance_summary(index, facts) for index, facts in enumerate(probes)]
    total = sum(s["vram_bytes"] for s in summaries)
    listed = sorted({name for s in summaries if s["healthy"] for name in s["models"]})
    for summary in summaries:
        summary["vram_share"] = round(100.0 * summary["vram_bytes"] / total, 1) if total else None
        summary["missing"] = [name for name in listed if name not in summary["models"]] if summary["healthy"] else []
    return summaries


def unhealthy_reason(summaries: List[Dict[str, Any]]) -> str:
    """Why the host is unhealthy because of its instances ('' when every instance is healthy and lists every model)."""
    reasons = ["instance %d (%s): %s" % (s["index"], s["api_url"], s["reason"]) for s in summaries if not s["healthy"]]
    reasons += [
        "instance %d (%s) does not list %s, which another instance lists: do they share one models directory?"
        % (s["index"], s["api_url"], ", ".join(s["missing"]))
        for s in summaries
        if s["missing"]
    ]
    return "; ".join(reasons)
