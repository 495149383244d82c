# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Credentials in a URL option never appear in any output of any model module (invocation.module_args included).

AnsibleModule puts ``invocation.module_args`` into every result (the controller shows it with
``-vvv``); core.urls.mask_params adds the secrets of every URL, nested ones included, to ``no_log_values`` first, so it is masked there
and in every message. A table of modules x options x spellings of a URL with credentials.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Dict, Iterator, List, Tuple

import pytest
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.llmops.ollama.plugins.modules import ollama_info, ollama_mirror, ollama_model, ollama_model_info, ollama_model_sync
from tests.unit.plugins.modules.harness import run_module

SECRET = "pw-9d3c41e7"
URLS = [
    "http://admin:%s@127.0.0.1:1" % SECRET,
    "http://%s@127.0.0.1:1" % SECRET,
    "https://admin:%s@ollama.example.com/prefix" % SECRET,
    "http://admin:%s@[::1]:1" % SECRET,
    "HTTP://admin:%s@127.0.0.1:1/" % SECRET,
    "admin:%s@127.0.0.1:1" % SECRET,
    " http://admin:%s@127.0.0.1:1 " % SECRET,
    # a token holding '/' or '@' (base64, a pasted password), percent-encoded forms, query tokens
    "http://admin:ab/%s@127.0.0.1:1" % SECRET,
    "http://ab/%s@127.0.0.1:1" % SECRET,
    "http://admin:%s@x@127.0.0.1:1" % SECRET,
    "http://admin:%s%%2Fcd@127.0.0.1:1" % SECRET,
    "http://127.0.0.1:1/?token=%s" % SECRET,
    "http://127.0.0.1:1/?a=1&access_token=%s#f" % SECRET,
    "https://127.0.0.1:1?api_key=%s" % SECRET,
]


@pytest.fixture(autouse=True)
def _leave_no_warnings() -> Iterator[None]:
    """Ansible keeps a module's warnings in a process-wide store: clear what these in-process runs left for the next tests."""
    yield
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


def runs(tmp: Path, url: str) -> List[Tuple[str, Any, Dict[str, Any]]]:
    state = str(tmp / "state")
    return [
        ("ollama_model api_url", ollama_model, {"api_url": url, "name": "m", "state_dir": state, "models_path": str(tmp)}),
        ("ollama_model registry_url", ollama_model, {"api_url": "http://127.0.0.1:1", "registry_url": url, "name": "m", "state_dir": state}),
        ("ollama_model_info api_url", ollama_model_info, {"api_url": url, "state_dir": state}),
        ("ollama_model_info api_url and a bad page", ollama_model_info, {"api_url": url, "state_dir": state, "page": 0}),
        ("ollama_model_info api_url and a page of the wrong type", ollama_model_info, {"api_url": url, "state_dir": state, "page": "many"}),
        ("ollama_model api_url and an unknown option", ollama_model, {"api_url": url, "name": "m", "no_such_option": 1}),
        ("ollama_info api_url and a wait_timeout of the wrong type", ollama_info, {"api_url": url, "wait_timeout": "long"}),
        ("ollama_model_sync api_url", ollama_model_sync, {"api_url": url, "models": ["m"], "state_dir": state, "models_path": str(tmp)}),
        ("ollama_model_sync registry_url", ollama_model_sync, {"api_url": "http://127.0.0.1:1", "registry_url": url, "models": ["m"], "state_dir": state}),
        ("ollama_info api_url", ollama_info, {"api_url": url}),
        ("ollama_info api_url, probe inference", ollama_info, {"api_url": url, "probe": "inference"}),
        ("ollama_model mirror", ollama_model, {"api_url": "http://127.0.0.1:1", "mirror": url, "name": "m", "state_dir": state}),
        ("ollama_model_sync mirror", ollama_model_sync, {"api_url": "http://127.0.0.1:1", "mirror": url, "models": ["m"], "state_dir": state}),
        (
            "ollama_model_sync entry mirror",
            ollama_model_sync,
            {"api_url": "http://127.0.0.1:1", "models": [{"name": "m", "mirror": url}], "state_dir": state},
        ),
        (
            "ollama_model_sync entry mirror and a bad entry",
            ollama_model_sync,
            {"api_url": "http://127.0.0.1:1", "models": [{"name": "m", "mirror": url}, {"name": "n", "no_such_key": 1}], "state_dir": state},
        ),
        ("ollama_mirror source", ollama_mirror, {"path": str(tmp / "mirror"), "models": ["m"], "source": url}),
        ("ollama_mirror api_url", ollama_mirror, {"path": str(tmp / "mirror"), "models": ["m"], "source": "http://127.0.0.1:1", "api_url": url, "retries": 0}),
    ]


CASES = [(label, index) for label, _module, _args in runs(Path("/"), "") for index in range(len(URLS))]


@pytest.mark.parametrize(("label", "index"), CASES, ids=["%s-%d" % case for case in CASES])
def test_a_url_with_credentials_never_shows(tmp_path: Path, capsys: pytest.CaptureFixture, label: str, index: int) -> None:
    url = URLS[index]
    _label, module, args = next(run for run in runs(tmp_path, url) if run[0] == label)
    result = run_module(module, args, capsys)
    text = json.dumps(result)
    assert SECRET not in text, (label, url, text)
    assert "invocation" in result, "the arguments are in the result: the check above looks where -vvv shows them"
    if ("api_url" in label and "mirror" not in label) or "registry_url" in label or "source" in label:
        assert result.get("failed") is True or result.get("healthy") is False, result
