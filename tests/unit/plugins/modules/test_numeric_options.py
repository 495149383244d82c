# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Numeric options refuse NaN, infinities and absurd values with a message naming the option, never a traceback (issue 19 class 8)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator

import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.llmops.ollama.plugins.modules import ollama_info, ollama_mirror, ollama_model, ollama_model_info, ollama_model_sync
from tests.unit.plugins.modules.harness import run_module

API = "http://127.0.0.1:1"
MODULES = {
    "ollama_info": (ollama_info, {"api_url": API, "probe": "inference"}, ["timeout", "wait_timeout", "wait_interval", "probe_timeout"]),
    "ollama_model": (ollama_model, {"api_url": API, "name": "m"}, ["timeout", "retries", "retry_delay", "stall_timeout", "max_concurrent_pulls"]),
    "ollama_model_sync": (ollama_model_sync, {"api_url": API, "models": ["m"]}, ["timeout", "probe_timeout", "concurrency", "retries", "stall_timeout"]),
    "ollama_model_info": (ollama_model_info, {"api_url": API}, ["timeout", "page", "page_size", "history"]),
    "ollama_mirror": (ollama_mirror, {"models": ["m"], "source": API}, ["timeout", "retries", "parallel"]),
}
VALUES = ["nan", "inf", "-inf", 1e12, "1e300"]
CASES = [(module, option, value) for module, (_m, _a, options) in MODULES.items() for option in options for value in VALUES]


@pytest.fixture(autouse=True)
def _leave_no_warnings() -> Iterator[None]:
    yield
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


@pytest.mark.parametrize(("module", "option", "value"), CASES, ids=["%s-%s-%s" % case for case in CASES])
def test_absurd_numbers_fail_naming_the_option(tmp_path: Path, capsys: pytest.CaptureFixture, module: str, option: str, value: Any) -> None:
    code, base, _options = MODULES[module]
    args: Dict[str, Any] = dict(base, state_dir=str(tmp_path / "state")) if module not in ("ollama_info", "ollama_mirror") else dict(base)
    if module == "ollama_mirror":
        args["path"] = str(tmp_path / "mirror")
    args[option] = value
    result = run_module(code, args, capsys)
    assert result.get("failed") is True, (module, option, value, result)
    assert option in result["msg"] and "Traceback" not in json.dumps(result), result["msg"]
