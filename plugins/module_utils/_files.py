# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""File writes shared by the ledger and the nginx configuration: never a half-written file."""

from __future__ import annotations

import os
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
