# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.files.open_regular: only a regular file, never through a symbolic link, never a FIFO or a device."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.files import NotRegularFile, open_regular


def link_to_file(tmp: Path) -> Path:
    (tmp / "target").write_text("secret")
    (tmp / "link").symlink_to(tmp / "target")
    return tmp / "link"


def dangling_link(tmp: Path) -> Path:
    (tmp / "dangling").symlink_to(tmp / "nowhere")
    return tmp / "dangling"


def fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "fifo")
    return tmp / "fifo"


def directory(tmp: Path) -> Path:
    (tmp / "dir").mkdir()
    return tmp / "dir"


REFUSED: list[tuple[str, Callable[[Path], Path], str]] = [
    ("symlink", link_to_file, "symbolic link"),
    ("dangling symlink", dangling_link, "symbolic link"),
    ("fifo", fifo, "FIFO"),
    ("char device", lambda _tmp: Path("/dev/null"), "character device"),
    ("directory", directory, "directory"),
]
FLAGS = [("read", os.O_RDONLY), ("append", os.O_WRONLY | os.O_APPEND | os.O_CREAT), ("read-write", os.O_RDWR | os.O_CREAT)]


@pytest.mark.parametrize(("label", "make", "words"), REFUSED, ids=[case[0] for case in REFUSED])
@pytest.mark.parametrize(("mode", "flags"), FLAGS, ids=[case[0] for case in FLAGS])
def test_refused(tmp_path: Path, label: str, make: Callable[[Path], Path], words: str, mode: str, flags: int) -> None:
    path = make(tmp_path)
    if label == "directory" and flags != os.O_RDONLY:
        with pytest.raises(OSError):  # the kernel refuses to open a directory for writing (EISDIR)
            open_regular(str(path), flags)
        return
    with pytest.raises(NotRegularFile) as error:
        open_regular(str(path), flags)
    assert words in error.value.strerror, (label, mode, error.value)
    if label == "symlink":
        assert (tmp_path / "target").read_text() == "secret", "the target was written through the link"


@pytest.mark.parametrize(("mode", "flags"), FLAGS, ids=[case[0] for case in FLAGS])
def test_a_regular_file_opens_blocking(tmp_path: Path, mode: str, flags: int) -> None:
    path = tmp_path / "plain"
    path.write_text("x")
    fd = open_regular(str(path), flags)
    try:
        assert os.get_blocking(fd)
    finally:
        os.close(fd)
