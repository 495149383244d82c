# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The lines the roles print: the health report (ollama_health) and the summary of a model sync (ollama_models).

In Python rather than Jinja: a fleet prints them on every host in every run, and each worker process compiles
every template it renders anew.
"""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

COUNTS = ("added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped")


def _proxy(verified: Sequence[Mapping[str, Any]], domains: Optional[Mapping[str, Any]]) -> str:
    """The proxy bindings: as checked from outside in this run, else as configured (not verified), else none."""
    parts = []
    for item in verified:
        check, binding = item["verified"], item["binding"]
        tls = "certificate sha256 %s…" % check["certificate_sha256"][:4] if check.get("certificate_sha256") else "no TLS"
        key = "%s without a key" % check["without_key"] if check.get("without_key") is not None else "no API key"
        days = (binding.get("tls") or {}).get("days_left")
        left = "; %s days left" % days if days is not None else ""
        parts.append("%s (verified: %s, %s%s)" % (binding["url"], tls, key, left))
    if not parts:
        for binding in (domains or {}).get("bindings") or []:
            days = (binding.get("tls") or {}).get("days_left")
            tls = "%s days of certificate left" % days if days is not None else "no TLS"
            parts.append("%s (not verified; %s)" % (binding["url"], tls))
    return "; ".join(parts) or "none"


def _instances(instances: Sequence[Mapping[str, Any]]) -> str:
    parts = []
    for item in instances:
        status = "up" if item["healthy"] else "DOWN (%s)" % item.get("reason")
        vram = ", %s%% of the VRAM in use" % item["vram_share"] if item.get("vram_share") is not None else ""
        parts.append("%s at %s %s, serves %s%s" % (item["index"], item["api_url"], status, ", ".join(item.get("serves") or []) or "none", vram))
    return "; ".join(parts) or "one"


def health_lines(
    state: Mapping[str, Any], verified: Sequence[Mapping[str, Any]] = (), domains: Optional[Mapping[str, Any]] = None, verdict: bool = False
) -> List[str]:
    """The health report of a host from its health facts (ollama_info's, or those a model sync handed over).

    verdict: end the report of a host that is not healthy with why (the health gate's message)."""
    disk = state.get("disk") or {}
    free = disk.get("free_human") if disk.get("free") is not None else "unknown (%s)" % disk.get("error")
    lines = [
        "api: %s" % state.get("api_url"),
        "healthy: %s%s" % (state.get("healthy"), "" if state.get("healthy") else " (%s)" % state.get("reason")),
        "version: %s" % (state.get("version") or "-"),
        "models: %s (%s): %s" % (state.get("models_count"), state.get("models_total_size_human"), ", ".join(state.get("models") or [])),
        "loaded: %s" % (", ".join(item["name"] for item in state.get("loaded") or []) or "none"),
        "proxy: %s" % _proxy(verified or [], domains),
        "disk free: %s at %s" % (free, disk.get("path")),
        "instances: %s" % _instances(state.get("instances") or []),
    ]
    if verdict and not state.get("healthy"):
        lines.append("Ollama at %s is not healthy: %s" % (state.get("api_url"), state.get("reason")))
    return lines


def _mirror_line(row: Mapping[str, Any]) -> str:
    mirror = row["mirror"]
    line = "%s through the mirror %s: %s %.1f MB as %s, %s, %s" % (
        row["name"],
        mirror["mirror"],
        "pulled" if mirror["pulled"] else "pull failed after",
        mirror["bytes"] / 1000000,
        mirror["source"],
        "copied to its own name" if mirror["copied"] else "not copied to its own name",
        "mirror name removed" if mirror["removed"] else "mirror name left on the server",
    )
    if "previous_removed" in mirror:
        line += (
            ", the layers only the previous version used removed"
            if mirror["previous_removed"]
            else ", the layers only the previous version used left until the next restart"
        )
    return line


def sync_summary(result: Mapping[str, Any], host: str, check_mode: bool = False) -> List[str]:
    """The counts and each model of a sync (ollama_model_sync's result), then one line per pull through a mirror."""
    summary: Dict[str, Any] = result["summary"]
    rows = result.get("results") or []
    lines = [
        "Model sync of %s%s" % (host, " (check mode: nothing was changed)" if check_mode else ""),
        "%7s %7s %7s %7s %8s %9s %6s %11s %7s" % COUNTS,
        "%7d %7d %7d %7d %8d %9d %6d %11d %7d" % tuple(summary[name] for name in COUNTS),
    ]
    if rows:
        lines.append("%-44s %-9s %-11s %10s %8s" % ("model", "action", "status", "MB pulled", "seconds"))
        lines.extend("%-44s %-9s %-11s %10.1f %8.1f" % (r["name"], r["action"], r["status"], r["bytes"] / 1000000, r["seconds"]) for r in rows)
    lines.extend(_mirror_line(row) for row in rows if "mirror" in row)
    return lines


class FilterModule:
    """llmops.ollama report filters."""

    def filters(self) -> Dict[str, Any]:
        return {"health_lines": health_lines, "sync_summary": sync_summary}
