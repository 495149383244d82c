# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The statistics of a run for set_stats (AWX workflow artifacts): small, bounded, without secrets."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional

from ansible.errors import AnsibleFilterError

PLAYBOOKS = ("site", "models", "health", "mirror")
COUNTS = ("added", "updated", "removed", "failed", "unavailable")
MAX_HOSTS = 20  # failed hosts listed, at most
MAX_MODELS = 50  # distinct (model, digest) pairs, mirror models, at most
MAX_REASON = 300  # characters of a failure reason
# The per-host facts the playbooks leave, read by name (see playbooks/tasks/stats.yml).
FAILURE = "__ollama_stats_failure"
SYNC = "ollama_models_result"
PROBE = "__ollama_health_probe"
MIRROR = "ollama_mirror_result"


def _get(hostvars: Mapping[str, Any], host: str, name: str) -> Any:
    try:
        variables = hostvars[host]
        value = variables.get(name)
    except (KeyError, TypeError):
        return None
    if isinstance(value, Mapping) and value.get("skipped"):
        return None
    return value


def _reason(failure: Any) -> Dict[str, str]:
    task, message = "", failure
    if isinstance(failure, Mapping):
        task, message = str(failure.get("task") or ""), failure.get("reason")
    if isinstance(message, (list, tuple)):
        message = message[-1] if message else ""
    text = " ".join(str(message or "failed").split())
    if len(text) > MAX_REASON:
        text = text[: MAX_REASON - 1] + "…"
    return {"task": task, "reason": text}


def _health(sync: Any, probe: Any) -> Optional[Mapping[str, Any]]:
    if isinstance(sync, Mapping) and isinstance(sync.get("health"), Mapping):
        return sync["health"]
    if isinstance(probe, Mapping) and "healthy" in probe:
        return probe
    return None


def _served(pairs: Dict[tuple, int]) -> List[Dict[str, Any]]:
    rows = [{"name": name, "digest": digest, "hosts": count} for (name, digest), count in pairs.items()]
    return sorted(rows, key=lambda row: (row["name"], row["digest"]))


def run_stats(hostvars: Any, playbook: str, hosts: Any, active: Any = None, batch: Any = None, check_mode: bool = False) -> Dict[str, Any]:
    """The statistics of a play over ``hosts`` (ansible_play_hosts_all) from the facts each host left.

    ``active`` (ansible_play_hosts) are the hosts still in the play; ``batch`` (ansible_play_batch) the current
    batch of a serial play: hosts after its last one have not been reached yet.
    """
    if playbook not in PLAYBOOKS:
        raise AnsibleFilterError("run_stats: playbook must be one of %s, got %r" % (", ".join(PLAYBOOKS), playbook))
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("run_stats: hosts must be a list of host names (ansible_play_hosts_all)")
    hosts = [str(host) for host in hosts]
    active_set = set(str(host) for host in (active if active is not None else hosts))
    reached = len(hosts)
    if batch:
        positions = [hosts.index(str(host)) for host in batch if str(host) in hosts]
        reached = max(positions) + 1 if positions else reached
    counts = dict.fromkeys(COUNTS, 0)
    status = {"total": len(hosts), "ok": 0, "failed": 0, "unreachable": 0, "not_reached": len(hosts) - reached}
    failed_hosts: List[Dict[str, str]] = []
    served: Dict[tuple, int] = {}
    mirror: Dict[str, Dict[str, Any]] = {}
    mirror_counts = {"fetched_bytes": 0, "models": 0}
    unhealthy = 0
    for host in hosts[:reached]:
        failure = _get(hostvars, host, FAILURE)
        sync, probe, fill = _get(hostvars, host, SYNC), _get(hostvars, host, PROBE), _get(hostvars, host, MIRROR)
        if failure is not None:
            status["failed"] += 1
            failed_hosts.append(dict(host=host, **_reason(failure)))
        elif host not in active_set:
            status["unreachable"] += 1
            failed_hosts.append({"host": host, "task": "", "reason": "unreachable, or failed before the play could record why"})
        else:
            status["ok"] += 1
        if isinstance(sync, Mapping) and isinstance(sync.get("summary"), Mapping):
            for key in COUNTS:
                counts[key] += int(sync["summary"].get(key) or 0)
        if isinstance(sync, Mapping):
            for entry in sync.get("lock") or []:
                if isinstance(entry, Mapping) and entry.get("name"):
                    pair = (str(entry["name"]), str(entry.get("digest") or ""))
                    served[pair] = served.get(pair, 0) + 1
        health = _health(sync, probe)
        if health is not None and not health.get("healthy"):
            unhealthy += 1
        if playbook == "health" and health is not None and not sync:
            for name in health.get("models") or []:
                pair = (str(name), "")
                served[pair] = served.get(pair, 0) + 1
        if isinstance(fill, Mapping):
            mirror_counts["fetched_bytes"] += int(fill.get("transferred") or 0)
            counts["added"] += sum(1 for model in fill.get("models") or [] if isinstance(model, Mapping) and model.get("changed"))
            counts["removed"] += len(fill.get("removed") or [])
            for model in fill.get("models") or []:
                if isinstance(model, Mapping) and model.get("name"):
                    mirror[str(model["name"])] = {"name": str(model["name"]), "digest": str(model.get("digest") or ""), "size": int(model.get("size") or 0)}
    stats: Dict[str, Any] = {
        "playbook": playbook,
        "check_mode": bool(check_mode),
        "hosts": status,
        "counts": counts,
        "failed_hosts": failed_hosts[:MAX_HOSTS],
        "failed_hosts_truncated": max(len(failed_hosts) - MAX_HOSTS, 0),
    }
    if playbook in ("site", "health"):
        stats["unhealthy"] = unhealthy
    if playbook != "mirror":
        rows = _served(served)
        stats["served"] = rows[:MAX_MODELS]
        stats["served_truncated"] = max(len(rows) - MAX_MODELS, 0)
    else:
        rows = sorted(mirror.values(), key=lambda row: row["name"])
        mirror_counts["models"] = len(rows)
        stats["mirror"] = dict(mirror_counts, contents=rows[:MAX_MODELS], contents_truncated=max(len(rows) - MAX_MODELS, 0))
    return stats


class FilterModule:
    """The statistics of a run, for set_stats."""

    def filters(self) -> Dict[str, Any]:
        return {"run_stats": run_stats}
