# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A set of files applied together and undone together: the nginx vhost, its keys, its metadata, TLS material.

``FileChange`` is the desired content of one file, ``Transaction`` applies a set of them with backups
(each file written with core.files.atomic_write) and rolls all of them back on failure.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
import time
from typing import List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core.files import atomic_write


def read_bytes(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


class FileChange:
    """The desired content of one file (None: the file must not exist) and its mode."""

    def __init__(self, path: str, content: Optional[bytes], mode: int = 0o644, secret: bool = False) -> None:
        self.path = path
        self.content = content
        self.mode = mode
        self.secret = secret
        self.previous: Optional[bytes] = None
        self.previous_mode: Optional[int] = None
        self.applied = False

    def load(self) -> FileChange:
        self.previous = read_bytes(self.path)
        if self.previous is not None:
            self.previous_mode = stat.S_IMODE(os.stat(self.path).st_mode)
        return self

    @property
    def needed(self) -> bool:
        if self.content != self.previous:
            return True
        return self.content is not None and self.previous_mode != self.mode


class Transaction:
    """A set of file changes applied together and undone together.

    Order: back up what exists (keep the last ``keep`` backups), create the missing parent
    directories of new files (mode ``dir_mode``), write each file atomically, and on
    ``rollback()`` restore every file byte for byte (or remove what was new), remove the
    directories this attempt created and drop the backup it made, so that nothing stray is left.
    """

    def __init__(self, changes: List[FileChange], backup_root: str, slug: str, keep: int, dir_mode: int = 0o755) -> None:
        self.changes = [c.load() for c in changes]
        self.backup_root = backup_root
        self.slug = slug
        self.keep = keep
        self.dir_mode = dir_mode
        self.backup_dir: Optional[str] = None
        self.created_dirs: List[str] = []

    @property
    def needed(self) -> bool:
        return any(c.needed for c in self.changes)

    def backup(self) -> Optional[str]:
        existing = [c for c in self.changes if c.previous is not None]
        if self.keep <= 0 or not existing:
            return None
        base = os.path.join(self.backup_root, self.slug)
        os.makedirs(base, mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "%06d" % int((time.time() % 1) * 1e6)
        path = os.path.join(base, stamp)
        suffix = 0
        while os.path.exists(path):
            suffix += 1
            path = os.path.join(base, "%s-%d" % (stamp, suffix))
        os.mkdir(path, 0o700)
        self.backup_dir = path
        for change in existing:
            atomic_write(os.path.join(path, os.path.basename(change.path)), change.previous or b"", change.previous_mode or 0o600)
        self._prune(base)
        return path

    def _prune(self, base: str) -> None:
        entries = sorted(e for e in os.listdir(base) if os.path.isdir(os.path.join(base, e)))
        for entry in entries[: max(0, len(entries) - self.keep)]:
            shutil.rmtree(os.path.join(base, entry), ignore_errors=True)

    def _make_parents(self, path: str) -> None:
        """Create the missing directories above ``path``, outermost first, and remember each one."""
        missing: List[str] = []
        parent = os.path.dirname(path)
        while parent and not os.path.isdir(parent):
            missing.append(parent)
            up = os.path.dirname(parent)
            if up == parent:
                break
            parent = up
        for directory in reversed(missing):
            try:
                os.mkdir(directory, self.dir_mode)
            except FileExistsError:
                continue
            self.created_dirs.append(directory)

    def apply(self) -> None:
        for change in self.changes:
            if not change.needed:
                continue
            if change.content is not None:
                self._make_parents(change.path)
            change.applied = True
            if change.content is None:
                os.unlink(change.path)
            else:
                atomic_write(change.path, change.content, change.mode)

    def rollback(self) -> None:
        for change in reversed(self.changes):
            if not change.applied:
                continue
            if change.previous is None:
                try:
                    os.unlink(change.path)
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
            else:
                atomic_write(change.path, change.previous, change.previous_mode or 0o644)
            change.applied = False
        for directory in reversed(self.created_dirs):
            with contextlib.suppress(OSError):  # not empty: something else put a file there meanwhile; keep it
                os.rmdir(directory)
        self.created_dirs = []
        if self.backup_dir:
            shutil.rmtree(self.backup_dir, ignore_errors=True)
            parent = os.path.dirname(self.backup_dir)
            try:
                os.rmdir(parent)
                os.rmdir(os.path.dirname(parent))
            except OSError:
                pass
            self.backup_dir = None
