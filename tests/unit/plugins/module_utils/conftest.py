# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures shared by the module_utils tests."""

from __future__ import annotations

import pytest

from tests.unit.fakes.registry import BLOB, FakeRegistry


@pytest.fixture
def registry() -> FakeRegistry:
    """A fake registry with one model, library/m:1b, of one layer (BLOB); a test module may declare its own."""
    fake = FakeRegistry()
    fake.add_model("library/m", "1b", [BLOB])
    return fake
