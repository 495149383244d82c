# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options all modules of the group take."""

from __future__ import annotations


def unused_connection_argument_spec() -> dict:
    """No default or fallback (core.connection adds them); doc fragment _connection.UNUSED."""
    return {
        "api_url": {"type": "str"},
        "api_key": {"type": "str", "no_log": True},
        "url_username": {"type": "str"},
        "url_password": {"type": "str", "no_log": True},
        "validate_certs": {"type": "bool"},
        "ca_path": {"type": "path"},
        "timeout": {"type": "float"},
    }
