# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A lock file is never rewritten from an answer that could not be read (issue 13, class 2)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common import warnings as ansible_warnings

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import MalformedAnswer
from ansible_collections.llmops.ollama.plugins.modules import ollama_model_sync
from tests.unit.plugins.module_utils.model.test_lifecycle import FakeOllama
from tests.unit.plugins.modules.harness import run_model_module as run


@pytest.fixture(autouse=True)
def _leave_no_warnings() -> Iterator[None]:
    """Ansible keeps a module's warnings in a process-wide store: clear what these in-process runs left for the next tests."""
    yield
    ansible_warnings._global_warnings.clear()
    ansible_warnings._global_deprecations.clear()


def unreadable_after_the_pull(fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, answer: str) -> None:
    """/api/tags answers as usual until a pull ran, then with a shape the collection cannot read."""
    original = fake.tags

    def tags() -> Any:
        if "/api/pull" in fake.paths():
            fake.requests.append(("GET", "/api/tags", None))
            raise MalformedAnswer("unexpected answer from GET /api/tags: field %s" % answer, status=200)
        return original()

    monkeypatch.setattr(fake, "tags", tags)


@pytest.mark.parametrize("before", [None, "models: []\n"])
@pytest.mark.parametrize("answer", ["models[0] is an integer, expected an object", "models is a string, expected a list"])
def test_the_lock_file_is_not_written_from_a_state_that_could_not_be_read(
    fake: FakeOllama, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path, before: Any, answer: str
) -> None:
    fake.publish("a")
    lock = tmp_path / "models.lock.yml"
    if before is not None:
        lock.write_text(before)
    unreadable_after_the_pull(fake, monkeypatch, answer)
    seen: List[str] = []  # module.warn, whether ansible returns warnings with the result or shows them (controller mode)
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, warning: seen.append(warning))
    result = run(ollama_model_sync, {"models": ["a"], "lock_file": str(lock)}, capsys, tmp_path)
    assert result["lock_file_changed"] is False, result
    assert (lock.read_text() if lock.exists() else None) == before
    warnings = json.dumps(seen)
    assert "could not be read again after the changes" in warnings and "the lock file %s was not written" % lock in warnings, warnings
