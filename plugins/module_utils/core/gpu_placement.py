# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Which loaded models are not wholly in GPU memory, and what ollama_info makes of it (a warning, or a failure)."""

from __future__ import annotations

from typing import Any, Dict, Iterable, List, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.health import gpu_percent, loaded_sizes


def gpu_placement(loaded: Iterable[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The loaded models not wholly in GPU memory: ``[{name, gpu_percent, message}]``.

    ``loaded`` holds /api/ps entries (raw or as loaded_facts). A model whose size
    is unknown is left out (nothing to judge).
    """
    misplaced = []
    for model in loaded:
        size, vram = loaded_sizes(model)
        share = gpu_percent(model)
        if share is None or vram >= size:
            continue
        name = str(model.get("name") or model.get("model"))
        if share == 0:
            message = "%s runs wholly on the CPU (0%% of it in GPU memory)" % name
        else:
            message = "%s runs partly on the CPU: only %g%% of it is in GPU memory, %g%% in system memory" % (name, share, round(100 - share, 1))
        misplaced.append({"name": name, "gpu_percent": share, "message": message})
    return misplaced


def gpu_verdict(loaded: Iterable[Dict[str, Any]], require: bool) -> Tuple[List[str], List[str]]:
    """(warnings, failures) for models not wholly on the GPU: warnings, or failures with ``require``."""
    messages = [item["message"] for item in gpu_placement(loaded)]
    return ([], messages) if require else (messages, [])
