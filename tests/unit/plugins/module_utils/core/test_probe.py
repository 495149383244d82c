# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core/probe.py: the one definition of the inference probe (what to ask, what a good answer is)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import probe

ROOT = Path(__file__).resolve().parents[5]


@pytest.mark.parametrize(
    ("entry", "embeds"),
    [
        ({"capabilities": ["embedding"]}, True),
        ({"capabilities": ["completion"], "details": {"family": "bert"}}, False),
        ({"details": {"family": "gte"}}, True),
        ({"details": {"family": "E5"}}, True),
        ({"details": {"family": "qwen2", "families": ["qwen2", "gte"]}}, True),
        ({"details": {"family": "llama"}}, False),
        ({"details": "garbled"}, False),
        ({"capabilities": []}, False),
    ],
)
def test_is_embedding_model(entry: dict, embeds: bool) -> None:
    assert probe.is_embedding_model(entry) is embeds


def test_the_model_to_ask() -> None:
    models = [
        {"name": "b:1b", "size": 2},
        {"name": "a:1b", "size": 2},
        {"name": "cloud:x", "size": 1, "remote_host": "https://ollama.com"},
        {"model": "z:1b", "size": "garbled"},
        "not a dict",
    ]
    assert probe.smallest_model(models) == {"name": "a:1b", "size": 2}
    assert probe.smallest_model([]) is None
    assert probe.find_model(models, "z:1b") == {"model": "z:1b", "size": "garbled"}
    assert probe.find_model(models, "nope") is None
    assert probe.model_name({"model": "z:1b"}) == "z:1b"


def test_probe_request() -> None:
    assert probe.probe_request("m", embed=False) == ("/api/generate", {"model": "m", "prompt": "Hi", "stream": False, "options": {"num_predict": 1}})
    assert probe.probe_request("e", embed=True, keep_alive="5m") == ("/api/embed", {"model": "e", "input": "Hi", "keep_alive": "5m"})


@pytest.mark.parametrize(
    ("answer", "embed", "problem"),
    [
        ({"response": "H", "done": True}, False, ""),
        ({"embeddings": [[0.1]]}, True, ""),
        ({"embeddings": []}, True, "answered no embedding"),
        ({"error": "model runner has unexpectedly stopped"}, False, "answered the error: model runner has unexpectedly stopped"),
        ([1, 2], False, "answered [1, 2], not a JSON object"),
    ],
)
def test_answer_problem(answer: object, embed: bool, problem: str) -> None:
    assert probe.answer_problem(answer, embed) == problem


def test_the_probe_is_standard_library_only_so_the_watchdog_can_run_it() -> None:
    tree = ast.parse((ROOT / "plugins" / "module_utils" / "core" / "probe.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported <= {"__future__", "typing"}


def test_the_role_installs_this_file_beside_the_watchdog() -> None:
    tasks = (ROOT / "roles" / "ollama_server" / "tasks" / "watchdog.yml").read_text()
    assert 'src: "{{ role_path }}/../../plugins/module_utils/core/probe.py"' in tasks
    assert 'dest: "{{ ollama_server_watchdog_bin | dirname }}/ollama_probe.py"' in tasks
