# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The detail of one model from its /api/show answer, as ollama_model_info returns it."""

from __future__ import annotations

from typing import Any, Dict

from ansible_collections.llmops.ollama.plugins.module_utils.model.definition import parse_parameters

_INFO_SUFFIXES = ("context_length", "embedding_length", "block_count", "attention.head_count", "attention.head_count_kv", "feed_forward_length")


def model_info_summary(info: Any) -> Dict[str, Any]:
    """The useful part of /api/show model_info: architecture, parameter count, context length, ..."""
    if not isinstance(info, dict):
        return {}
    summary: Dict[str, Any] = {}
    arch = info.get("general.architecture")
    for key, out in (
        ("general.architecture", "architecture"),
        ("general.parameter_count", "parameter_count"),
        ("general.file_type", "file_type"),
        ("general.quantization_version", "quantization_version"),
        ("general.basename", "basename"),
        ("general.size_label", "size_label"),
    ):
        if key in info:
            summary[out] = info[key]
    if isinstance(arch, str):
        for suffix in _INFO_SUFFIXES:
            key = "%s.%s" % (arch, suffix)
            if key in info:
                summary[suffix.replace("attention.", "")] = info[key]
    return summary


def show_detail(show: Dict[str, Any]) -> Dict[str, Any]:
    """The detail of one model from its /api/show answer."""
    license_text = show.get("license") or ""
    if isinstance(license_text, list):
        license_text = "\n".join(str(item) for item in license_text)
    return {
        "modelfile": show.get("modelfile") or "",
        "parameters": parse_parameters(show.get("parameters")),
        "parameters_text": show.get("parameters") or "",
        "template": show.get("template") or "",
        "system": show.get("system") or "",
        "license": license_text,
        "messages": show.get("messages") or [],
        "capabilities": show.get("capabilities") or [],
        "details": show.get("details") or {},
        "model_info": model_info_summary(show.get("model_info")),
        "modified_at": show.get("modified_at"),
    }
