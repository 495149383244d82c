# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The checks of the host before a pull or a load: free disk space and free memory (read only: they run in check mode too)."""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from ansible_collections.llmops.ollama.plugins.module_utils.core.host import HostChecks, ResourceError, free_bytes, mem_available, space_needed, vram_free
from ansible_collections.llmops.ollama.plugins.module_utils.core.statuses import PAUSED
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import Plan, Step
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult, StepFailed

# where a playbook sets models_path (the role's variable), named in the warnings of a skipped free-space check
MODELS_PATH_HINT = " (ollama_models_models_path in the llmops.ollama.ollama_models role)"


def check_space(host: HostChecks, state: ServerState, plan: Plan, step: Step, result: ModelResult, warn: Callable[[str], None], quiet_missing: bool) -> None:
    """Fail (paused) before a pull that the disk cannot hold; warn when it cannot be told.

    ``quiet_missing``: no warning for a model the registry does not have (check mode fails on it instead)."""
    name = plan.name
    manifest = step.data.get("manifest")
    if manifest is None:
        error = step.data.get("manifest_error")
        if error and not (quiet_missing and step.data.get("manifest_missing")):
            warn("free-space check before pulling %s skipped: %s" % (name.display, error))
        return
    if not host.models_path:
        warn(
            "free-space check before pulling %s skipped: the models disk of %s cannot be read from this host; "
            "set models_path when the models directory is mounted here%s" % (name.display, host.api_url, MODELS_PATH_HINT)
        )
        return
    try:
        needed, present = space_needed(manifest, host.models_path)
        free = free_bytes(host.models_path)
    except ResourceError as exc:
        hint = "set models_path to the models directory on this host" + MODELS_PATH_HINT
        warn("free-space check before pulling %s skipped: %s; %s" % (name.display, exc, hint))
        return
    result.space = {"needed": needed, "present": present, "total": manifest.total, "free": free, "min_free_space": host.min_free_space}
    if needed + host.min_free_space > free:
        candidates = state.cleanup_candidates(exclude=name)
        reserve = " and min_free_space keeps %s free" % format_size(host.min_free_space) if host.min_free_space else ""
        message = "not enough disk space to pull %s: it needs %s more (%s in all, %s already on disk)%s, but only %s is free at %s%s" % (
            name.display,
            format_size(needed),
            format_size(manifest.total),
            format_size(present),
            reserve,
            format_size(free),
            host.models_path,
            candidates_text(candidates),
        )
        raise StepFailed(message, PAUSED, candidates)


def check_memory(host: HostChecks, state: ServerState, plan: Plan, step: Step, warn: Callable[[str], None]) -> None:
    """Fail before loading a model that the free RAM and GPU memory cannot hold; warn when it cannot be told."""
    name = plan.name
    entry = state.model(name)
    size = int(entry.get("size") or 0) if entry else 0
    size = size or int(step.data.get("size") or 0)
    if not size:
        warn("memory check before loading %s skipped: its size is not known yet" % name.display)
        return
    if not host.local:
        warn("memory check before loading %s skipped: the server %s is not on this host" % (name.display, host.api_url))
        return
    try:
        available = mem_available()
    except ResourceError as exc:
        warn("memory check before loading %s skipped: %s" % (name.display, exc))
        return
    vram = vram_free(host.run_command, host.nvidia_smi) if host.run_command is not None else None
    budget = available + (vram or 0)
    if size > budget:
        gpu = " + %s free GPU memory" % format_size(vram) if vram else ""
        raise StepFailed(
            "not enough memory to load %s: it needs about %s, and %s RAM (MemAvailable)%s is available; "
            "unload other models (state: unloaded) or free memory first" % (name.display, format_size(size), format_size(available), gpu)
        )


def candidates_text(candidates: List[Dict[str, Any]]) -> str:
    if not candidates:
        return ". No other model that is not loaded could be removed to make room"
    listed = ", ".join("%s (%s)" % (item["name"], item["size"]) for item in candidates)
    return ". To make room, remove models that are not loaded, largest first: %s" % listed


__all__ = ["MODELS_PATH_HINT", "candidates_text", "check_memory", "check_space"]
