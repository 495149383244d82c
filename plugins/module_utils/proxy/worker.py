# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Who nginx's worker processes run as, and whether that user may read a directory tree nginx serves.

nginx's master reads the configuration as root, but its workers serve files as the ``user`` of the
main configuration (nginx's compiled-in default, usually ``nobody``, when it has none; the master's
own user when nginx does not run as root). A mirror directory under a parent of mode 0700 is then
unreadable for every pull, whatever the allowlist says. Standard library only.
"""

from __future__ import annotations

import grp
import os
import pwd
import re
import stat
from typing import List, Optional, Sequence, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import ParseError, parse, split_dump

_CONFIGURED_USER_RE = re.compile(r"--user=(\S+)")


def worker_user(dump: Optional[str], version_text: Optional[str] = None) -> str:
    """The user nginx's workers run as: the main file's ``user``, else the compiled-in one, else ``nobody``.

    When the module does not run as root, nginx (started by the same user) cannot switch users: the
    workers run as this user.
    """
    if os.geteuid() != 0:
        return pwd.getpwuid(os.geteuid()).pw_name
    files = split_dump(dump or "")
    if files:
        try:
            for directive in parse(next(iter(files.values()))):
                if directive.name == "user" and directive.block is None and directive.args:
                    return directive.args[0]
        except ParseError:
            pass
    match = _CONFIGURED_USER_RE.search(version_text or "")
    return match.group(1) if match else "nobody"


def _identity(user: str) -> Optional[Tuple[int, List[int]]]:
    try:
        entry = pwd.getpwnam(user)
    except KeyError:
        return None
    try:
        groups = os.getgrouplist(user, entry.pw_gid)
    except OSError:
        groups = [entry.pw_gid]
    return entry.pw_uid, groups


def _allows(st: os.stat_result, uid: int, gids: Sequence[int], bits: Tuple[int, int, int]) -> bool:
    if uid == 0:
        return True
    if st.st_uid == uid:
        return bool(st.st_mode & bits[0])
    if st.st_gid in gids:
        return bool(st.st_mode & bits[1])
    return bool(st.st_mode & bits[2])


_EXEC = (stat.S_IXUSR, stat.S_IXGRP, stat.S_IXOTH)
_READ = (stat.S_IRUSR, stat.S_IRGRP, stat.S_IROTH)


def unreadable(path: str, user: str, files: Sequence[str] = ()) -> Optional[str]:
    """Why ``user`` cannot reach ``path`` (every directory on the way needs x) or read ``files`` (r); None when it can.

    Mode bits only (ACLs and security modules are not read). An unknown user is reported as such.
    """
    who = _identity(user)
    if who is None:
        return "nginx's worker user %s does not exist on this host" % user
    uid, gids = who
    current = "/"
    parts = [part for part in os.path.abspath(path).split("/") if part]
    for part in ["", *parts]:
        current = os.path.join(current, part) if part else "/"
        try:
            st = os.stat(current)
        except OSError as exc:
            return "%s cannot be read: %s" % (current, exc.strerror)
        if not _allows(st, uid, gids, _EXEC):
            owner = _name(pwd.getpwuid, st.st_uid)
            group = _name(grp.getgrgid, st.st_gid)
            return "the directory %s (owner %s, group %s, mode %04o) does not let nginx's worker user %s through" % (
                current,
                owner,
                group,
                stat.S_IMODE(st.st_mode),
                user,
            )
    for name in files:
        try:
            st = os.stat(name)
        except OSError as exc:
            return "%s cannot be read: %s" % (name, exc.strerror)
        if not _allows(st, uid, gids, _READ):
            return "the file %s (mode %04o) may not be read by nginx's worker user %s" % (name, stat.S_IMODE(st.st_mode), user)
    return None


def _name(lookup: object, number: int) -> str:
    try:
        return lookup(number)[0]  # type: ignore[operator]
    except (KeyError, TypeError):
        return str(number)
