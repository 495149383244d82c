# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection options every module shares (the ``llmops.ollama._connection`` doc fragment) and their checks.

What a module needs to declare and check api_url, its credentials and TLS options, without the HTTP
client (core.client): ollama_domain and ollama_port_info take these options and never call the API.
"""

from __future__ import annotations

import ipaddress
import os
import re
from typing import Any, Dict, Optional, Tuple
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleFallbackNotFound

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec

DEFAULT_API_URL = "http://127.0.0.1:11434"


DEFAULT_PORT = 11434


_PORT_RE = re.compile(r"[0-9]{1,5}")


_HOST_RE = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?)$")


class InvalidApiUrl(ValueError):
    """An api_url that cannot be used; the message names the part at fault."""


def connection_argument_spec() -> Dict[str, Any]:
    """The argument spec of the options in the ``llmops.ollama._connection`` doc fragment."""
    spec = unused_connection_argument_spec()
    spec["api_url"].update(default=DEFAULT_API_URL, fallback=(ollama_host_fallback,))
    spec["validate_certs"]["default"] = True
    spec["timeout"]["default"] = 30
    return spec


def check_connection_params(params: Dict[str, Any]) -> None:
    """The connection options that go together (InvalidApiUrl naming them; never their values)."""
    if params.get("url_password") is not None and not params.get("url_username"):
        raise InvalidApiUrl("url_password is given without url_username: give both for HTTP basic authentication")
    if params.get("url_username") and params.get("api_key"):
        raise InvalidApiUrl(
            "api_key and url_username both set the Authorization header: "
            "give one of them (a proxy that checks API keys takes api_key, one with HTTP basic authentication url_username and url_password)"
        )
    ca_path = params.get("ca_path")
    if ca_path and not os.path.isfile(ca_path):
        raise InvalidApiUrl("ca_path %s is not a file: give the PEM file of the CA that signed the server's certificate" % ca_path)


def ollama_host_from_env(value: str) -> str:
    """Turn an OLLAMA_HOST value into a client URL, the way Ollama's envconfig.Host() reads it."""
    value = value.strip()
    scheme, sep, hostport = value.partition("://")
    default_port = str(DEFAULT_PORT)
    if not sep:
        scheme, hostport = "http", value
    elif scheme == "http":
        default_port = "80"
    elif scheme == "https":
        default_port = "443"
    hostport, slash, path = hostport.partition("/")
    host, port = _split_host_port(hostport)
    if port is None:
        port = default_port
    if not host:
        host = "127.0.0.1"
    # A listen-on-all address is reached over loopback from this host.
    if host in ("0.0.0.0", "::", "[::]"):  # noqa: S104 - an address to reach, not to bind
        host = "127.0.0.1" if host == "0.0.0.0" else "[::1]"  # noqa: S104
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host
    return "%s://%s:%s%s" % (scheme, host, port, (slash + path) if path else "")


def ollama_host_fallback() -> str:
    """Argument-spec fallback: api_url from OLLAMA_HOST when it is set and not empty."""
    value = os.environ.get("OLLAMA_HOST", "").strip()
    if not value:
        raise AnsibleFallbackNotFound
    return ollama_host_from_env(value)


def _split_host_port(hostport: str) -> Tuple[str, Optional[str]]:
    if hostport.startswith("["):
        host, rest = hostport.split("]", 1) if "]" in hostport else (hostport, "")
        return host + "]", rest[1:] if rest.startswith(":") else None
    if hostport.count(":") == 1:
        host, port = hostport.split(":")
        return host, port
    return hostport, None


def validate_api_url(url: Any) -> str:
    """Check an api_url and return it without a trailing slash.

    Raises InvalidApiUrl with a message that names the part at fault.
    """
    if not isinstance(url, str) or not url:
        raise InvalidApiUrl("api_url is empty: give the Ollama API base URL, for example %s" % DEFAULT_API_URL)
    if urls.has_credentials(url):
        # first, so that no later message repeats a secret
        raise InvalidApiUrl("api_url must not carry credentials (user:password@ or a ?token= query): remove them and pass the key with api_key")
    if any(c.isspace() for c in url) or any(ord(c) < 32 or ord(c) == 127 for c in url):
        raise InvalidApiUrl("api_url %r contains white space or a control character: remove it (example: %s)" % (url, DEFAULT_API_URL))
    if "://" not in url:
        raise InvalidApiUrl("api_url %r has no scheme: write it as http://HOST:PORT or https://HOST:PORT, for example http://%s" % (url, url))
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        # An unclosed or invalid [IPv6] literal: urlsplit itself refuses it.
        raise InvalidApiUrl(
            "api_url %r has an invalid host (%s): write an IPv6 address inside square brackets, for example http://[::1]:%d, "
            "or use a DNS name or an IPv4 address" % (url, exc, DEFAULT_PORT)
        ) from None
    if parts.scheme not in ("http", "https"):
        raise InvalidApiUrl("api_url %r has the scheme %r: only http and https are supported" % (url, parts.scheme))
    if parts.query or parts.fragment or url.endswith("?") or "#" in url:
        raise InvalidApiUrl("api_url %r has a query or fragment: give only scheme, host, port and an optional path prefix" % url)
    host, port = _split_host_port(parts.netloc)
    if host.startswith("["):
        _check_ipv6_host(url, parts.netloc)
    if not host:
        raise InvalidApiUrl("api_url %r has no host: write it as %s://HOST:PORT" % (url, parts.scheme))
    if not _HOST_RE.fullmatch(host):
        raise InvalidApiUrl("api_url %r has an invalid host %r: use a DNS name, an IPv4 address or an [IPv6] address" % (url, host))
    # ASCII digits only: str.isdigit() and int() also take other scripts' digits (Arabic-Indic '\u0661\u0662\u0663' is 123).
    if port is not None and not (_PORT_RE.fullmatch(port) and 1 <= int(port) <= 65535):
        raise InvalidApiUrl("api_url %r has an invalid port %r: the port must be a number from 1 to 65535 in ASCII digits (0-9)" % (url, port))
    return urls.normalize(url).rstrip("/")


def _check_ipv6_host(url: str, netloc: str) -> None:
    """A bracketed host must be an IPv6 address, followed by nothing or by ``:PORT``."""
    literal, closing, rest = netloc[1:].partition("]")
    if not closing or (rest and not rest.startswith(":")):
        raise InvalidApiUrl(
            "api_url %r has an invalid host %r: only :PORT may follow an [IPv6] address, for example http://[::1]:%d" % (url, netloc, DEFAULT_PORT)
        )
    try:
        ipaddress.IPv6Address(literal)
    except ValueError:
        raise InvalidApiUrl(
            "api_url %r has an invalid host '[%s]': square brackets must hold an IPv6 address, for example http://[::1]:%d" % (url, literal, DEFAULT_PORT)
        ) from None
