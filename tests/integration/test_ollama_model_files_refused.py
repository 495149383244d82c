# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""files and adapters are what they claim to be (real ansible-playbook runs against the simulator): a symbolic link, a FIFO,
a device or a directory is refused before any request, so nothing the task does not name is uploaded; the blobs a failed
create uploaded are removed again."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Callable

import pytest

from tests.integration.test_ollama_model_cloud_capabilities_files import run, tags, write_gguf

pytestmark = pytest.mark.integration


def symlink_to_secret(tmp_path: Path) -> Path:
    secret = tmp_path / "secret.key"
    secret.write_text("root-only secret\n")
    secret.chmod(0o600)
    link = tmp_path / "weights.gguf"
    link.symlink_to(secret)
    return link


def symlink_to_weights(tmp_path: Path) -> Path:
    real = tmp_path / "real.gguf"
    write_gguf(real)
    link = tmp_path / "linked.gguf"
    link.symlink_to(real)
    return link


def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.gguf"
    os.mkfifo(path)
    return path


def directory(tmp_path: Path) -> Path:
    path = tmp_path / "dir.gguf"
    path.mkdir()
    return path


# (label, how the path is made, the words of the refusal)
SPECIAL: list[tuple[str, Callable[[Path], Path], str]] = [
    ("symlink to a secret", symlink_to_secret, "is a symbolic link"),
    ("symlink to real weights", symlink_to_weights, "is a symbolic link"),
    ("FIFO", fifo, "not a regular file"),
    ("character device", lambda _tmp: Path("/dev/zero"), "not a regular file"),
    ("directory", directory, "not a regular file"),
]


@pytest.mark.parametrize(("label", "make", "words"), SPECIAL, ids=[case[0] for case in SPECIAL])
@pytest.mark.parametrize("option", ["files", "adapters"])
def test_a_path_that_is_not_a_regular_file_is_refused_and_nothing_is_uploaded(
    sim, tmp_path: Path, label: str, make: Callable[[Path], Path], words: str, option: str
) -> None:
    path = make(tmp_path)
    base = tmp_path / "base.gguf"
    write_gguf(base, seed="base")
    step = {"name": ["special:v1"], option: [{"path": str(path), "name": "model.gguf" if option == "files" else "adapter.gguf"}]}
    if option == "adapters":
        step["files"] = [{"path": str(base)}]
    start = len(sim.requests())
    result = run(sim, tmp_path, model_steps=[step])["Model"][0]
    assert result.get("failed") is True and words in result["msg"] and str(path) in result["msg"], (label, result.get("msg"))
    assert sim.requests()[start:] == [], "%s: a request went out" % label
    assert "special:v1" not in tags(sim)


def test_the_blobs_of_a_failed_create_are_removed(sim, tmp_path: Path) -> None:
    junk = tmp_path / "not-weights.gguf"
    junk.write_bytes(b"this is no GGUF file" * 100)
    digest = "sha256:" + hashlib.sha256(junk.read_bytes()).hexdigest()
    blob = Path(sim.data) / "blobs" / ("sha256-" + digest[7:])
    result = run(sim, tmp_path, model_steps=[{"name": ["junk:v1"], "files": [{"path": str(junk), "name": "model.gguf"}]}])["Model"][0]
    assert result.get("failed") is True, result
    posted = [r for r in sim.requests() if r["method"] == "POST" and r["path"] == "/api/blobs/" + digest]
    assert posted, "the test needs a create that fails after the upload"
    assert not blob.exists(), ("the blob uploaded for a failed create stayed on the server", result.get("msg"))
    assert "junk:v1" not in tags(sim)
