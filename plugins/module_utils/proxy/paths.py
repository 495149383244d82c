# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one rule for a path that reaches an nginx configuration unquoted: the characters it may hold, and no . or ..
segment. ollama_domain (nginx.validate_path) and the ollama_proxy role (filter llmops.ollama.proxy_settings) both
check it here. Every character is checked against the set: a "^...$" match would let a trailing newline through.
"""

from __future__ import annotations

import re
from typing import List

PATH_CHARS_RE = re.compile(r"[A-Za-z0-9._/@+-]+")
PATH_ALLOWED = "letters, digits and . _ - + @ /"


def disallowed_characters(text: str) -> List[str]:
    """The characters of text outside the set, each once, in the order they first appear."""
    return list(dict.fromkeys(character for character in text if not PATH_CHARS_RE.fullmatch(character)))


def has_dot_segment(text: str) -> bool:
    """Whether a segment of text between slashes is . or .."""
    return any(part in (".", "..") for part in text.split("/"))
