# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The real Docker engine for integration tests: reachability, the simulator image, inspection."""

from __future__ import annotations

import json
import os
import subprocess

from tests.integration.playbook import REPO

SIM_IMAGE = "llmops/ollama-sim:test"


def own_name(stem: str) -> str:
    """A container or volume name of this test process alone: test runs (and xdist workers) side by side never share one."""
    return "%s-%s-%d" % (stem, os.environ.get("PYTEST_XDIST_WORKER", "main"), os.getpid())


def docker(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=timeout, check=check)


def require_engine() -> None:
    """Fail (never skip) when the engine does not answer: make test starts it in .ci/deps.sh."""
    result = docker("info", "--format", "{{.ServerVersion}}", check=False)
    if result.returncode != 0:
        raise RuntimeError("the Docker engine does not answer (run .ci/deps.sh, which starts dockerd): %s" % result.stderr.strip())


def build_sim_image() -> str:
    """The simulator image, built only when its sources changed (the script compares a digest, under a lock)."""
    subprocess.run(["bash", str(REPO / "tests" / "docker" / "build_sim_image.sh"), SIM_IMAGE], check=True, capture_output=True, timeout=300)
    return SIM_IMAGE


def inspect(name: str) -> dict | None:
    result = docker("inspect", name, check=False)
    if result.returncode != 0:
        return None
    return json.loads(result.stdout)[0]


def volume_exists(name: str) -> bool:
    return docker("volume", "inspect", name, check=False).returncode == 0


def remove(container: str, volume: str | None = None) -> None:
    docker("rm", "-f", container, check=False)
    if volume:
        docker("volume", "rm", "-f", volume, check=False)
