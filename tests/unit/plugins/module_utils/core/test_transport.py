# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.transport against a real loopback HTTP server: the redirect policy, headers no redirect carries, refusals."""

from __future__ import annotations

import http.server
import ssl
import threading
import urllib.error
from typing import Dict, Iterator, List, Tuple

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import transport, urls

Seen = List[Tuple[str, str, Dict[str, str]]]


@pytest.fixture
def server() -> Iterator[Tuple[str, Seen]]:
    seen: Seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            seen.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
            if self.path.startswith("/moved"):
                self.send_response(302)
                self.send_header("Location", "/target")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = b'{"ok": true}'
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer

        def log_message(self, *_args: object) -> None:
            return

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1], seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def request(**kwargs: object) -> transport.Request:
    return urls.request_factory(transport.Request)(**kwargs)


def test_a_plain_get_with_its_headers(server: Tuple[str, Seen]) -> None:
    base, seen = server
    response = request(headers={"Accept": "application/json", "Authorization": "Bearer k"}, timeout=5).open("GET", base + "/api/tags")
    assert response.status == 200 and response.read() == b'{"ok": true}'
    assert seen[0][:2] == ("GET", "/api/tags") and seen[0][2]["authorization"] == "Bearer k" and seen[0][2]["accept"] == "application/json"


def test_no_redirect_is_followed_by_default(server: Tuple[str, Seen]) -> None:
    base, seen = server
    with pytest.raises(urllib.error.HTTPError) as caught:
        request(timeout=5, follow_redirects="none").open("GET", base + "/moved")
    assert caught.value.code == 302 and [path for _m, path, _h in seen] == ["/moved"]


def test_safe_follows_a_get_without_the_credential_headers(server: Tuple[str, Seen]) -> None:
    base, seen = server
    headers = {"Authorization": "Bearer secret", "Cookie": "c=1", "Accept": "x/y"}
    response = request(headers=headers, timeout=5, follow_redirects="safe").open("GET", base + "/moved")
    assert response.status == 200
    assert [path for _m, path, _h in seen] == ["/moved", "/target"]
    assert seen[0][2]["authorization"] == "Bearer secret" and seen[0][2]["cookie"] == "c=1"
    assert "authorization" not in seen[1][2] and "cookie" not in seen[1][2] and seen[1][2]["accept"] == "x/y"


def test_safe_never_follows_a_post(server: Tuple[str, Seen]) -> None:
    base, seen = server
    with pytest.raises(urllib.error.HTTPError) as caught:
        request(timeout=5, follow_redirects="safe").open("POST", base + "/moved", data=b"{}")
    assert caught.value.code == 302 and len(seen) == 1


def test_credentials_in_a_url_are_never_sent(server: Tuple[str, Seen]) -> None:
    base, seen = server
    with pytest.raises(urllib.error.URLError, match="never sent"):
        request(timeout=5).open("GET", base.replace("http://", "http://user:pw@") + "/api/tags")
    assert seen == []


def test_netrc_and_unknown_redirect_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="netrc"):
        transport.Request(use_netrc=True)
    with pytest.raises(ValueError, match="follow_redirects"):
        transport.Request(follow_redirects="all")


def test_tls_context_verifies_unless_told_not_to() -> None:
    assert transport.tls_context().verify_mode == ssl.CERT_REQUIRED
    loose = transport.tls_context(validate_certs=False)
    assert loose.verify_mode == ssl.CERT_NONE and loose.check_hostname is False
    with pytest.raises((ssl.SSLError, OSError)):
        transport.tls_context("/nonexistent/ca.pem")
