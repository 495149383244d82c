# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File writes shared by the ledger, the model and mirror code and the nginx configuration: never a half-written file.

``open_regular`` opens a file only when it is what it claims to be: a regular file, never through a
symbolic link (``O_NOFOLLOW``), never a FIFO or a device (which could block or read without end).
``atomic_write`` writes one file; proxy.file_transaction applies a set of files together.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from contextlib import suppress


def atomic_write(path: str, data: bytes, mode: int = 0o644) -> None:
    """Write data to path through a temporary file in the same directory, then rename it into place.

    The temporary file is created 0600 and gets ``mode`` before the rename, so
    a secret is never readable by others, not even for a moment.
    """
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".%s." % os.path.basename(path), suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with suppress(OSError):
            os.unlink(tmp)
        raise


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotRegularFile(OSError):
    """A path that is a symbolic link, a FIFO, a device, a socket or a directory: refused; ``strerror`` says which."""


def open_regular(path: str, flags: int = os.O_RDONLY, mode: int = 0o644) -> int:
    """``os.open`` of a regular file, never following a symbolic link at its last component; the descriptor.

    Opened non-blocking first (a FIFO without a writer would block), then checked with ``fstat`` on the open
    descriptor (no race with a rename), then set blocking again. Raises NotRegularFile naming what the path is.
    """
    extra = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags | extra, mode)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno in (errno.EMLINK, errno.ENXIO) and os.path.islink(path)):
            raise NotRegularFile(errno.ELOOP, "is a symbolic link; give the path of the file itself", path) from None
        if exc.errno == errno.ENXIO:  # a FIFO opened for writing with no reader
            raise NotRegularFile(errno.ENXIO, "is not a regular file (a FIFO or a device)", path) from None
        raise
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            kind = next((name for test, name in _KINDS if test(status.st_mode)), "not a regular file")
            raise NotRegularFile(errno.EINVAL, "is %s, not a regular file" % kind, path)
        if extra & getattr(os, "O_NONBLOCK", 0):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd
