# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""proxy.file_transaction: a set of files applied together with backups, and undone byte for byte."""

from __future__ import annotations

import os
from pathlib import Path

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.file_transaction import FileChange, Transaction


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, oct(p.stat().st_mode)) for p in sorted(root.rglob("*"))}


def test_transaction_backup_apply_rollback_is_exact(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    keys = tmp_path / "a.keys"
    conf.write_bytes(b"old\n")
    os.chmod(conf, 0o640)
    backups = tmp_path / ".backups"
    before = snapshot(tmp_path)
    txn = Transaction([FileChange(str(conf), b"new\n"), FileChange(str(keys), b"k\n", 0o600, secret=True)], str(backups), "a", keep=5)
    assert txn.needed
    backup = txn.backup()
    assert backup and (Path(backup) / "a.conf").read_bytes() == b"old\n"
    txn.apply()
    assert conf.read_bytes() == b"new\n"
    assert oct(keys.stat().st_mode & 0o777) == "0o600"
    txn.rollback()
    assert snapshot(tmp_path) == before


def test_transaction_keeps_the_last_backups(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    for index in range(4):
        conf.write_bytes(b"v%d\n" % index)
        txn = Transaction([FileChange(str(conf), b"v%d\n" % (index + 1))], str(tmp_path / "b"), "a", keep=2)
        txn.backup()
        txn.apply()
    kept = sorted((tmp_path / "b" / "a").iterdir())
    assert [(d / "a.conf").read_bytes() for d in kept] == [b"v2\n", b"v3\n"]


def test_transaction_unchanged_and_delete(tmp_path: Path) -> None:
    conf = tmp_path / "a.conf"
    conf.write_bytes(b"same\n")
    os.chmod(conf, 0o644)
    assert not Transaction([FileChange(str(conf), b"same\n")], str(tmp_path / "b"), "a", keep=5).needed
    assert not Transaction([FileChange(str(tmp_path / "none"), None)], str(tmp_path / "b"), "a", keep=5).needed
    txn = Transaction([FileChange(str(conf), None)], str(tmp_path / "b"), "a", keep=0)
    assert txn.backup() is None
    txn.apply()
    assert not conf.exists()
    txn.rollback()
    assert conf.read_bytes() == b"same\n"


def test_transaction_removes_the_directories_it_created(tmp_path: Path) -> None:
    (tmp_path / "conf.d").mkdir()
    before = snapshot(tmp_path)
    deep = tmp_path / "tls" / "sub" / "a.crt"
    txn = Transaction([FileChange(str(tmp_path / "conf.d" / "a.conf"), b"x\n"), FileChange(str(deep), b"c\n")], str(tmp_path / "b"), "a", keep=5)
    txn.backup()
    txn.apply()
    assert deep.read_bytes() == b"c\n"
    assert oct((tmp_path / "tls").stat().st_mode & 0o777) == "0o755"
    txn.rollback()
    assert snapshot(tmp_path) == before


def test_transaction_rollback_keeps_a_directory_that_was_there(tmp_path: Path) -> None:
    (tmp_path / "tls").mkdir()
    txn = Transaction([FileChange(str(tmp_path / "tls" / "new" / "a.crt"), b"c\n")], str(tmp_path / "b"), "a", keep=5)
    txn.apply()
    txn.rollback()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tls"]
    assert list((tmp_path / "tls").iterdir()) == []
