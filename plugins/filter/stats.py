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


def _check_arguments(playbook: str, hosts: Any) -> None:
    if playbook not in PLAYBOOKS:
        raise AnsibleFilterError("run_stats: playbook must be one of %s, got %r" % (", ".join(PLAYBOOKS), playbook))
    if not isinstance(hosts, (list, tuple)):
        raise AnsibleFilterError("run_stats: hosts must be a list of host names (ansible_play_hosts_all)")


def _reached(hosts: List[str], batch: Any) -> int:
    """How many hosts the play has reached: all of them, or up to the last one of the current batch."""
    if batch:
        positions = [hosts.index(str(host)) for host in batch if str(host) in hosts]
        if positions:
            return max(positions) + 1
    return len(hosts)


class _Tally:
    """The figures of one play, added up host by host."""

    def __init__(self, playbook: str, total: int, reached: int) -> None:
        self.playbook = playbook
        self.counts = dict.fromkeys(COUNTS, 0)
        self.status = {"total": total, "ok": 0, "failed": 0, "unreachable": 0, "not_reached": total - reached}
        self.failed_hosts: List[Dict[str, str]] = []
        self.served: Dict[tuple, int] = {}
        self.mirror: Dict[str, Dict[str, Any]] = {}
        self.mirror_counts = {"fetched_bytes": 0, "models": 0}
        self.unhealthy = 0

    def add_host(self, hostvars: Any, host: str, active: bool) -> None:
        failure = _get(hostvars, host, FAILURE)
        sync, probe, fill = _get(hostvars, host, SYNC), _get(hostvars, host, PROBE), _get(hostvars, host, MIRROR)
        self._add_status(host, failure, active)
        if isinstance(sync, Mapping):
            self._add_sync(sync)
        self._add_health(sync, _health(sync, probe))
        if isinstance(fill, Mapping):
            self._add_mirror(fill)

    def _add_status(self, host: str, failure: Any, active: bool) -> None:
        if failure is not None:
            self.status["failed"] += 1
            self.failed_hosts.append(dict(host=host, **_reason(failure)))
        elif not active:
            self.status["unreachable"] += 1
            self.failed_hosts.append({"host": host, "task": "", "reason": "unreachable, or failed before the play could record why"})
        else:
            self.status["ok"] += 1

    def _add_served(self, name: str, digest: str) -> None:
        pair = (name, digest)
        self.served[pair] = self.served.get(pair, 0) + 1

    def _add_sync(self, sync: Mapping[str, Any]) -> None:
        if isinstance(sync.get("summary"), Mapping):
            for key in COUNTS:
                self.counts[key] += int(sync["summary"].get(key) or 0)
        for entry in sync.get("lock") or []:
            if isinstance(entry, Mapping) and entry.get("name"):
                self._add_served(str(entry["name"]), str(entry.get("digest") or ""))

    def _add_health(self, sync: Any, health: Optional[Mapping[str, Any]]) -> None:
        if health is None:
            return
        if not health.get("healthy"):
            self.unhealthy += 1
        if self.playbook == "health" and not sync:
            for name in health.get("models") or []:
                self._add_served(str(name), "")

    def _add_mirror(self, fill: Mapping[str, Any]) -> None:
        self.mirror_counts["fetched_bytes"] += int(fill.get("transferred") or 0)
        self.counts["removed"] += len(fill.get("removed") or [])
        for model in fill.get("models") or []:
            if not isinstance(model, Mapping):
                continue
            if model.get("changed"):
                self.counts["added"] += 1
            if model.get("name"):
                self.mirror[str(model["name"])] = {"name": str(model["name"]), "digest": str(model.get("digest") or ""), "size": int(model.get("size") or 0)}

    def stats(self, check_mode: bool) -> Dict[str, Any]:
        stats: Dict[str, Any] = {
            "playbook": self.playbook,
            "check_mode": bool(check_mode),
            "hosts": self.status,
            "counts": self.counts,
            "failed_hosts": self.failed_hosts[:MAX_HOSTS],
            "failed_hosts_truncated": max(len(self.failed_hosts) - MAX_HOSTS, 0),
        }
        if self.playbook in ("site", "health"):
            stats["unhealthy"] = self.unhealthy
        if self.playbook != "mirror":
            rows = _served(self.served)
            stats["served"] = rows[:MAX_MODELS]
            stats["served_truncated"] = max(len(rows) - MAX_MODELS, 0)
        else:
            rows = sorted(self.mirror.values(), key=lambda row: row["name"])
            self.mirror_counts["models"] = len(rows)
            stats["mirror"] = dict(self.mirror_counts, contents=rows[:MAX_MODELS], contents_truncated=max(len(rows) - MAX_MODELS, 0))
        return stats


def run_stats(hostvars: Any, playbook: str, hosts: Any, active: Any = None, batch: Any = None, check_mode: bool = False) -> Dict[str, Any]:
    """The statistics of a play over ``hosts`` (ansible_play_hosts_all) from the facts each host left.

    ``active`` (ansible_play_hosts) are the hosts still in the play; ``batch`` (ansible_play_batch) the current
    batch of a serial play: hosts after its last one have not been reached yet.
    """
    _check_arguments(playbook, hosts)
    hosts = [str(host) for host in hosts]
    active_set = set(str(host) for host in (active if active is not None else hosts))
    reached = _reached(hosts, batch)
    tally = _Tally(playbook, len(hosts), reached)
    for host in hosts[:reached]:
        tally.add_host(hostvars, host, host in active_set)
    return tally.stats(check_mode)


class FilterModule:
    """The statistics of a run, for set_stats."""

    def filters(self) -> Dict[str, Any]:
        return {"run_stats": run_stats}
