# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Credentials in URLs, and HTTP requests that send only the credentials the user gave: the one rule.

* :func:`userinfo` finds the credentials of a URL's authority the way a reader that never trusts the
  text would: everything between ``scheme://`` (or the start) and the *last* ``@`` before the first
  ``?`` or ``#``. A token holding ``/`` or ``@`` (base64, a pasted password) is thus recognised whole,
  where RFC 3986's authority would end at the ``/`` and let the rest of the token look like a path.
* :func:`query_secrets` finds the values of query parameters that carry a secret (``token``,
  ``access_token``, ``key``, ``api_key``, ``password``, ``sig``, ...).
* :func:`secrets` gives every form of them (as written, percent-decoded, the password alone, and the
  whole value) to be masked; :func:`redact` gives the URL with them replaced by ``***``, for messages.
* :func:`mask_params` walks a module's parameters, nested ones included (a sync ``models`` entry's
  ``mirror``), and adds every secret it finds to the module's ``no_log_values``, which Ansible removes
  from the whole result, ``invocation.module_args`` (what ``-vvv`` shows) included.
* :func:`request_factory` makes core.transport ``Request`` objects that never read
  ``~/.netrc`` (Ansible's default sends a netrc login as Basic auth to any host it names) and never
  forward an ``Authorization`` header to where a redirect points.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Iterable, List, Optional, Set
from urllib.parse import unquote

# Query parameters whose value is a secret (compared case-insensitively, ``-`` read as ``_``).
SECRET_QUERY_KEYS = frozenset(
    (
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "auth",
        "auth_token",
        "authorization",
        "key",
        "api_key",
        "apikey",
        "password",
        "passwd",
        "pwd",
        "pass",
        "secret",
        "client_secret",
        "sig",
        "signature",
        "x_amz_signature",
        "x_amz_credential",
        "x_amz_security_token",
        "x_goog_signature",
        "x_goog_credential",
        "credential",
        "session",
        "sessionid",
    )
)

# Options whose value is a URL even without a scheme (``host:port``); other strings count only with ``scheme://``.
URL_OPTIONS = frozenset(("api_url", "registry_url", "source", "mirror", "upstream", "upstreams", "webhook", "url"))

# The headers a redirect never carries to its target: any credential.
CREDENTIAL_HEADERS = ("Authorization", "Proxy-Authorization", "Cookie")

_SCHEME_RE = re.compile(r"^\s*[A-Za-z][A-Za-z0-9+.-]*://")
_MIN_SECRET = 3  # shorter strings would mask every occurrence of a common letter pair in the output
_MAX_DEPTH = 32


def _after_scheme(url: str) -> str:
    return _SCHEME_RE.sub("", url, count=1)


def has_scheme(value: Any) -> bool:
    return isinstance(value, str) and bool(_SCHEME_RE.match(value))


def userinfo(url: Any) -> Optional[str]:
    """The credentials part of a URL (before the last ``@`` of what precedes ``?`` and ``#``), or None."""
    if not isinstance(url, str):
        return None
    head = re.split(r"[?#]", _after_scheme(url.strip()), maxsplit=1)[0]
    if "@" not in head:
        return None
    return head.rpartition("@")[0]


def query_secrets(url: Any) -> List[str]:
    """The values of the secret-carrying query parameters of a URL (as written)."""
    if not isinstance(url, str) or "?" not in url:
        return []
    query = url.split("?", 1)[1].split("#", 1)[0]
    found = []
    for pair in re.split(r"[&;]", query):
        key, sep, value = pair.partition("=")
        if sep and value and unquote(key).strip().lower().replace("-", "_") in SECRET_QUERY_KEYS:
            found.append(value)
    return found


def has_credentials(url: Any) -> bool:
    """Whether a URL carries userinfo or a secret query parameter."""
    return userinfo(url) is not None or bool(query_secrets(url))


def secrets(url: Any) -> List[str]:
    """Every form of every secret a URL carries, the whole value first (empty when it carries none)."""
    if not isinstance(url, str):
        return []
    info = userinfo(url)
    parts: List[str] = []
    if info is not None:
        parts.append(info)
        password = info.partition(":")[2]
        if password:
            parts.append(password)
    parts.extend(query_secrets(url))
    if not parts:
        return []
    found: List[str] = []
    for text in [url, url.strip(), *parts]:
        for form in (text, unquote(text), unquote(text.replace("+", " "))):
            if len(form) >= _MIN_SECRET and form not in found:
                found.append(form)
    return found


def redact(url: Any) -> str:
    """The URL with its credentials and secret query values replaced by ``***`` (for messages)."""
    text = str(url)
    info = userinfo(text)
    if info is not None:
        prefix = _SCHEME_RE.match(text)
        start = prefix.end() if prefix else len(text) - len(text.lstrip())
        text = text[:start] + "***" + text[start + len(info) :]
    for value in query_secrets(text):
        text = re.sub(r"(?<==)%s(?=$|[&;#])" % re.escape(value), "***", text)
    return text


def normalize(url: str) -> str:
    """A URL as RFC 3986 reads it: white space around it dropped, the scheme and the host in lower case (``HTTP://Host:1/p`` is
    ``http://host:1/p``); the path, which is case-sensitive, is kept. A text without ``scheme://`` is returned stripped."""
    text = url.strip()
    match = _SCHEME_RE.match(text)
    if not match:
        return text
    scheme, rest = text[: match.end() - 3].strip().lower(), text[match.end() :]
    cut = re.search(r"[/?#]", rest)
    authority, tail = (rest[: cut.start()], rest[cut.start() :]) if cut else (rest, "")
    if "@" in authority:  # never lower-case credentials (they are refused anyway, but not rewritten)
        return "%s://%s%s" % (scheme, authority, tail)
    return "%s://%s%s" % (scheme, authority.lower(), tail)


def secrets_in(value: Any, key: str = "", depth: int = 0) -> Set[str]:
    """The secrets of every URL in a parameter value, nested lists and dictionaries included.

    A string counts as a URL when it starts with ``scheme://``, or when its key is one of URL_OPTIONS
    (``mirror: user:token@host``). A model name pinned with ``@sha256:`` is not a URL.
    """
    found: Set[str] = set()
    if depth > _MAX_DEPTH:
        return found
    if isinstance(value, str):
        if has_scheme(value) or key in URL_OPTIONS or key.endswith("_url"):
            found.update(secrets(value))
    elif isinstance(value, dict):
        for name, item in value.items():
            found |= secrets_in(item, str(name), depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            found |= secrets_in(item, key, depth + 1)
    return found


def mask_params(module: Any, params: Optional[Iterable[str]] = None) -> None:
    """Add the URL secrets of a module's parameters (all of them, nested included) to its no_log values."""
    values = module.params if params is None else {name: module.params.get(name) for name in params}
    for secret in secrets_in(values):
        module.no_log_values.add(secret)


def request_factory(base: Any, **kwargs: Any) -> Any:
    """``Request`` with no ``~/.netrc`` and no credential header crossing a redirect (see the module docstring)."""
    kwargs.setdefault("use_netrc", False)
    kwargs.setdefault("unredirected_headers", list(CREDENTIAL_HEADERS))
    return functools.partial(base, **kwargs)


__all__ = [
    "CREDENTIAL_HEADERS",
    "SECRET_QUERY_KEYS",
    "URL_OPTIONS",
    "has_credentials",
    "has_scheme",
    "mask_params",
    "normalize",
    "query_secrets",
    "redact",
    "request_factory",
    "secrets",
    "secrets_in",
    "userinfo",
]
