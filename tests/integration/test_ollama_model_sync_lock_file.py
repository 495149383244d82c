# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lock file is memory: an /api/tags digest that is not a sha256 fails the sync naming the model and the field,
and never rewrites a good lock file with less (real ansible-playbook runs, the simulator's respond fault)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_ollama_model_sync import one
from tests.ollama_sim.testing import run_sim

pytestmark = pytest.mark.integration

MODEL = "smollm2:135m"
# (label, the digest field /api/tags gives for the model; None drops the field)
BAD_DIGESTS = [
    ("md5", "md5:0123456789abcdef0123456789abcdef"),
    ("64 non-hex", "z" * 64),
    ("short hex", "abc123"),
    ("empty", ""),
    ("sha512 length", "sha256:" + "a" * 128),
]


@pytest.mark.parametrize(("label", "digest"), BAD_DIGESTS, ids=[case[0] for case in BAD_DIGESTS])
@pytest.mark.parametrize("check", [False, True], ids=["real", "check"])
def test_a_bad_digest_never_rewrites_the_lock_file(tmp_path: Path, label: str, digest: Any, check: bool) -> None:
    lock = tmp_path / "models.lock.yml"
    with run_sim(tmp_path / "sim", rate=0) as sim:
        first = one(sim, tmp_path, models=[MODEL], lock_file=str(lock))
        assert not first.get("failed") and first["lock_file_changed"] is True, first
        good = lock.read_text()
        assert "sha256:" in good and MODEL in good

        tags = sim.call("GET", "/api/tags")[1]
        for model in tags["models"]:
            model["digest"] = digest
        sim.faults(respond={"path": "/api/tags", "status": 200, "body": tags})
        second = one(sim, tmp_path, check=check, models=[MODEL], lock_file=str(lock))
        assert second.get("failed") is True, (label, second)
        assert MODEL in second["msg"] and "digest" in second["msg"], second["msg"]
        assert lock.read_text() == good, "%s: the lock file was rewritten" % label
        assert not second.get("lock_file_changed"), second
