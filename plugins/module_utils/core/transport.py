# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""HTTP over the standard library: the part of ``ansible.module_utils.urls.Request`` the collection uses.

Ansible's imports ``cryptography`` where installed (for channel binding, which no Ollama API or
registry uses): half the start of a converged module. Here: a redirect policy (``none``, or ``safe``:
GET and HEAD only), headers no redirect carries, one TLS context, proxies from the environment as
urllib reads them, never ``~/.netrc`` nor a URL's credentials (core.urls.request_factory).
"""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from typing import Any, Dict, Iterable, Optional
from urllib.parse import urlsplit


def tls_context(ca_path: Optional[str] = None, validate_certs: bool = True) -> ssl.SSLContext:
    """The system's CA store (or only the PEM file ``ca_path``), or no verification at all."""
    context = ssl.create_default_context(cafile=ca_path or None)
    if not validate_certs:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


_DEFAULT_CONTEXTS: Dict[bool, ssl.SSLContext] = {}


def _default_context(validate_certs: bool) -> ssl.SSLContext:
    """One per process and mode: loading the CA store costs about 25 ms."""
    if validate_certs not in _DEFAULT_CONTEXTS:
        _DEFAULT_CONTEXTS[validate_certs] = tls_context(None, validate_certs)
    return _DEFAULT_CONTEXTS[validate_certs]


class _Redirects(urllib.request.HTTPRedirectHandler):
    """``none``: a 3xx is an HTTPError; ``safe``: followed for GET and HEAD only."""

    def __init__(self, policy: str) -> None:
        super().__init__()
        self.policy = policy

    def redirect_request(self, req: Any, fp: Any, code: int, msg: str, headers: Any, newurl: str) -> Any:
        if self.policy != "safe" or req.get_method() not in ("GET", "HEAD"):
            raise urllib.error.HTTPError(req.get_full_url(), code, msg, headers, fp)
        # urllib's own: never the unredirected headers
        return super().redirect_request(req, fp, code, msg, headers, newurl)


class Request:
    """``Request(headers=..., timeout=..., follow_redirects=...).open(method, url, data)``: an open response."""

    def __init__(
        self,
        headers: Optional[Dict[str, str]] = None,
        validate_certs: bool = True,
        timeout: float = 10,
        follow_redirects: str = "none",
        unredirected_headers: Iterable[str] = (),
        use_netrc: bool = False,
        context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if use_netrc:
            raise ValueError("this transport never reads ~/.netrc")
        if follow_redirects not in ("none", "safe"):
            raise ValueError("follow_redirects must be none or safe, not %r" % (follow_redirects,))
        self.headers = dict(headers or {})
        self.validate_certs = validate_certs
        self.timeout = timeout
        self.follow_redirects = follow_redirects
        self.unredirected = frozenset(name.lower() for name in unredirected_headers)
        self.context = context

    def open(self, method: str, url: str, data: Any = None) -> Any:
        if "@" in urlsplit(url).netloc:
            raise urllib.error.URLError("credentials in a URL are never sent; give them as the module's options")
        context = self.context or _default_context(self.validate_certs)
        opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context), _Redirects(self.follow_redirects))
        request = urllib.request.Request(url, data=data, method=method.upper())
        for name, value in self.headers.items():
            if name.lower() in self.unredirected:
                request.add_unredirected_header(name, value)
            else:
                request.add_header(name, value)
        return opener.open(request, timeout=self.timeout)
