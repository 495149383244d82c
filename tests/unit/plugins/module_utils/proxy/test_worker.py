# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""nginx's worker user, and what it may read."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.worker import unreadable, worker_user

root_only = pytest.mark.skipif(os.geteuid() != 0, reason="the worker user is the module's own user unless it runs as root")


@root_only
@pytest.mark.parametrize(
    ("dump", "version", "user"),
    [
        ("# configuration file /etc/nginx/nginx.conf:\nuser www-data;\nevents {}\n", None, "www-data"),
        ("# configuration file /x/nginx.conf:\nuser nobody nogroup;\n", "--user=nginx", "nobody"),
        ("# configuration file /x/nginx.conf:\nevents {}\n", "configure arguments: --user=nginx --group=nginx", "nginx"),
        ("# configuration file /x/nginx.conf:\nhttp { server { } }\n", "", "nobody"),
        (None, None, "nobody"),
    ],
)
def test_worker_user(dump, version, user) -> None:
    assert worker_user(dump, version) == user


@root_only
def test_a_0700_parent_is_reported_naming_the_directory_and_the_user() -> None:
    base = Path(tempfile.mkdtemp(prefix="llmops-pxo-unit-", dir="/tmp"))  # outside pytest's own 0700 directory
    try:
        base.chmod(0o755)
        private = base / "private"
        tree = private / "mirror" / "v2"
        tree.mkdir(parents=True)
        private.chmod(0o700)
        reason = unreadable(str(tree), "nobody")
        assert reason == "the directory %s (owner root, group root, mode 0700) does not let nginx's worker user nobody through" % private
        assert unreadable(str(tree), "root") is None
        private.chmod(0o711)
        manifest = tree / "m"
        manifest.write_bytes(b"{}")
        manifest.chmod(0o600)
        assert unreadable(str(tree), "nobody", [str(manifest)]) == "the file %s (mode 0600) may not be read by nginx's worker user nobody" % manifest
        manifest.chmod(0o644)
        assert unreadable(str(tree), "nobody", [str(manifest)]) is None
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_an_unknown_user_is_named(tmp_path: Path) -> None:
    assert unreadable(str(tmp_path), "no-such-user-llmops") == "nginx's worker user no-such-user-llmops does not exist on this host"
