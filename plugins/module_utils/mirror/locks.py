# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Locks of one mirror directory, so that several ``ollama_mirror`` runs (processes or threads) can share it.

``fcntl.flock`` on small files under the mirror (``flock`` locks belong to an open file, so two threads
of one process exclude each other as two processes do; the kernel drops them when a process dies):

* ``.index.lock``, exclusive, around every read-modify-write of ``mirror.json``: the index is read again
  inside the lock, changed, and written, so that no run writes back a stale copy over another's models.
* ``.fill.lock``: shared by every fill from its first download to its last manifest, exclusive for a
  prune. A prune never sees a blob that a running fill has stored but not yet linked.
* ``.partial/sha256-<hex>.lock``, exclusive, by the one run that downloads that blob: a second run
  waits, then finds the blob stored and reuses it. A partial file has one writer.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager, suppress
from typing import ContextManager, Iterator, Optional

INDEX_LOCK = ".index.lock"
FILL_LOCK = ".fill.lock"
LOCK_SUFFIX = ".lock"


@contextmanager
def flocked(path: str, exclusive: bool = True, wait: bool = True, remove: bool = False) -> Iterator[bool]:
    """Hold a flock on ``path`` (created 0600 when missing, never followed when it is a symlink).

    Yields True when the lock is held; with ``wait=False`` yields False at once when another holder has it.
    With ``remove``, the holder deletes the file before it lets go; a waiter that then gets the lock of the
    deleted file sees that the path names another file (or none) and locks again, so there is one holder.
    """
    flags = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
    while True:
        fd = os.open(path, flags, 0o600)
        try:
            fcntl.flock(fd, mode if wait else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            yield False
            return
        try:
            current = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            current = None
        if current is None or current.st_ino != os.fstat(fd).st_ino:
            os.close(fd)  # the holder before us removed it: lock the file that is there now
            continue
        break
    try:
        yield True
    finally:
        if remove:
            with suppress(OSError):
                os.unlink(path)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


class MirrorLocks:
    """The lock files of the mirror at ``root`` (the directory must exist before a lock is taken)."""

    def __init__(self, root: str) -> None:
        self.root = root

    def index(self) -> ContextManager[bool]:
        """Exclusive: one read-modify-write of mirror.json at a time."""
        return flocked(os.path.join(self.root, INDEX_LOCK))

    def fill(self) -> ContextManager[bool]:
        """Shared: a fill downloads and places; a prune waits for it to end."""
        return flocked(os.path.join(self.root, FILL_LOCK), exclusive=False)

    def prune(self) -> ContextManager[bool]:
        """Exclusive: no fill runs while blobs that no model uses are removed."""
        return flocked(os.path.join(self.root, FILL_LOCK))

    def blob_path(self, partial: str) -> str:
        return partial[: -len(".partial")] + LOCK_SUFFIX if partial.endswith(".partial") else partial + LOCK_SUFFIX

    def blob(self, partial: str, wait: bool = True) -> ContextManager[bool]:
        """Exclusive: the one writer of a partial file (the lock file goes when its holder is done)."""
        return flocked(self.blob_path(partial), wait=wait, remove=True)


def remove_stale_lock(path: str) -> Optional[bool]:
    """Remove a per-blob lock file that nobody holds; True when removed, False when held, None when absent."""
    if not os.path.exists(path):
        return None
    with flocked(path, wait=False, remove=True) as held:
        if not held:
            return False
    return True


__all__ = ["FILL_LOCK", "INDEX_LOCK", "LOCK_SUFFIX", "MirrorLocks", "flocked", "remove_stale_lock"]
