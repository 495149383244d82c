# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Fixtures for the integration tests: the Ollama API simulator as a real subprocess, and a private nginx."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import pytest

from tests.integration.nginx_fixture import NginxServer
from tests.ollama_sim.testing import Sim, run_sim

# fast enough that the small catalogue models pull in well under a second
TEST_RATE = 200_000_000.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``long`` first, the others after them, each in collection order (a stable sort).

    The parallel workers of make integration take tests in this order (xdist's loadgroup runs a group's
    tests, largest groups first, then the single tests in this order): the longest start at once, beside
    one another, and none is left running alone at the end while the other workers idle.
    """
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    """A fresh simulator (empty models directory under tmp_path) on a free loopback port."""
    with run_sim(tmp_path / "models", rate=TEST_RATE) as running:
        yield running


@pytest.fixture
def make_sim(tmp_path: Path) -> Iterator[Callable[..., Sim]]:
    """Start simulators with other settings: ``make_sim(rate=2e6, env={...})``; all are killed after the test."""
    started = []

    def factory(name: str = "models", **kwargs) -> Sim:
        kwargs.setdefault("rate", TEST_RATE)
        context = run_sim(tmp_path / name, **kwargs)
        running = context.__enter__()
        started.append(context)
        return running

    yield factory
    for context in reversed(started):
        context.__exit__(None, None, None)


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[NginxServer]:
    """A private nginx of this test (its own prefix and loopback ports), stopped afterwards."""
    server = NginxServer(tmp_path / "nginx")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def nginx_njs(tmp_path: Path) -> Iterator[NginxServer]:
    """Like ``nginx``, with the njs module loaded (the proxy's access log then has models and token counts)."""
    server = NginxServer(tmp_path / "nginx-njs", njs=True)
    server.start()
    try:
        yield server
    finally:
        server.stop()
