# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake Ollama of test_models, patched in where the model modules build their client and manager."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.model import lifecycle as _models
from ansible_collections.llmops.ollama.plugins.module_utils.model import model_info_module
from ansible_collections.llmops.ollama.plugins.module_utils.model import runner as _model_module
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> FakeOllama:
    server = FakeOllama()
    (tmp_path / "models" / "blobs").mkdir(parents=True)
    # the modules build their client (and manager) through module_utils: patch them there
    for module in (_model_module, model_info_module):
        monkeypatch.setattr(module, "client_from_params", lambda params, **_kw: server)
    monkeypatch.setattr(_model_module, "ModelManager", functools.partial(_models.ModelManager, manifest_fetcher=server.manifest, sleep=lambda _s: None))
    return server
