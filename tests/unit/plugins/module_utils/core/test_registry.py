# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The registry v2 client of ollama_mirror against the fake registry of tests/unit/fakes/registry.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.registry import (
    MANIFEST_ACCEPT,
    NotFound,
    RegistryClient,
    RegistryError,
    redact,
)
from tests.unit.fakes.registry import FakeRegistry


def client(registry: FakeRegistry, retries: int = 0) -> RegistryClient:
    return RegistryClient("https://registry.example", retries=retries, request_factory=registry, sleep=lambda _s: None)


def test_manifest_bytes_as_served_with_the_accept_header(registry: FakeRegistry) -> None:
    raw = client(registry).manifest("library/m", "1b")
    assert raw == registry.manifests[("library/m", "1b")]
    method, url, headers = registry.requests[0]
    assert (method, url) == ("GET", "https://registry.example/v2/library/m/manifests/1b")
    assert headers["Accept"] == MANIFEST_ACCEPT


def test_manifest_404_and_retries_on_5xx(registry: FakeRegistry) -> None:
    with pytest.raises(NotFound, match=r"no manifest at https://registry\.example/v2/library/x/manifests/1b"):
        client(registry).manifest("library/x", "1b")
    registry.errors["/manifests/1b"] = [503, 500]
    assert client(registry, retries=2).manifest("library/m", "1b")
    registry.errors["/manifests/1b"] = [503, 503]
    with pytest.raises(RegistryError, match="HTTP 503"):
        client(registry, retries=1).manifest("library/m", "1b")
    registry.errors["/manifests/1b"] = [401]
    with pytest.raises(RegistryError, match="HTTP 401"):
        client(registry, retries=3).manifest("library/m", "1b")
    assert registry.errors["/manifests/1b"] == []  # a 4xx is not retried


def test_unreachable_registry(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.down = True
    with pytest.raises(RegistryError, match="connection refused"):
        client(registry, retries=1).manifest("library/m", "1b")


def test_redact() -> None:
    assert redact("https://user:secret@host/v2/x") == "https://***@host/v2/x"
    assert redact("https://host/v2/x") == "https://host/v2/x"
