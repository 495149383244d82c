# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every module that talks to the Ollama API (DOCUMENTATION), and the same options for
    the modules of the action group that do not (UNUSED): plugins/module_utils/core/connection.py holds their argument specs."""

    DOCUMENTATION = r"""
options:
  api_url:
    description:
      - Base URL of the Ollama API, with scheme, host and optional port and path prefix.
      - If not set, the E(OLLAMA_HOST) environment variable is used, read the way Ollama reads it
        (V(0.0.0.0:11434) or V(ollama.internal) without a scheme become C(http://...) with port 11434).
      - A URL without a scheme, with a port outside 1-65535, with credentials, a query or white space is refused.
      - Put it once in C(module_defaults) for C(group/llmops.ollama.ollama).
    type: str
    default: http://127.0.0.1:11434
  api_key:
    description:
      - Bearer token sent as C(Authorization Bearer <key>), for an Ollama server behind a reverse proxy that
        checks API keys (such as the one the P(llmops.ollama.ollama_proxy#role) role sets up).
      - If not set, the E(OLLAMA_API_KEY) environment variable of the module's process is used, as the official Ollama clients
        do (not with O(url_username)). Its value never appears in the module's output.
      - Never logged or returned.
      - Not together with O(url_username) (both set the C(Authorization) header).
    type: str
  url_username:
    description:
      - User name for HTTP basic authentication, for a reverse proxy in front of Ollama that asks for it.
      - Sent on every request (no challenge round trip); use it over C(https) only.
    type: str
  url_password:
    description:
      - Password for HTTP basic authentication with O(url_username).
      - Never logged or returned.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of an C(https) O(api_url).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM file with the CA certificate(s) that signed the certificate of an C(https) O(api_url), for a private CA.
      - When not set, the system's trust store is used.
    type: path
  timeout:
    description:
      - Seconds to wait for the server to answer one request (connect or read).
    type: float
    default: 30
"""

    # The options of DOCUMENTATION for a module of the action group that never talks to the Ollama API: accepted so that
    # module_defaults for group/llmops.ollama.ollama reach it, with no default (nothing suggests that they take effect).
    # Its argument spec is unused_connection_argument_spec() in plugins/module_utils/core/action_group.py. A module that
    # uses one of them (ollama_domain's api_url, ollama_mirror's validate_certs and timeout) documents it in its own options.
    UNUSED = r"""
options:
  api_url:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
    type: str
  api_key:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
      - Never logged or returned.
    type: str
  url_username:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
    type: str
  url_password:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
      - Never logged or returned.
    type: str
  validate_certs:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
    type: bool
  ca_path:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
    type: path
  timeout:
    description:
      - Not used by this module. Accepted so that C(module_defaults) for C(group/llmops.ollama.ollama) apply.
    type: float
"""
