# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small registry (and Ollama API) on a loopback address that misbehaves on purpose, and records every request's headers.

``blob`` picks how the blob of the one model (``library/m:latest``) is answered: ``exact`` (its bytes), ``endless``
(no Content-Length, bytes until the client goes away), ``long`` (a Content-Length ten times the size) or
``redirect`` (307 to ``redirect_to``, another server). ``manifest`` may be ``endless`` too, and ``api`` (``/api/*``)
``endless`` or ``redirect``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional

from tests.integration.nginx_fixture import free_port

LAYER = b"x" * 561
CONFIG = b'{"model_format": "gguf"}'
LAYER_DIGEST = "sha256:" + hashlib.sha256(LAYER).hexdigest()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": CONFIG_DIGEST, "size": len(CONFIG)},
        "layers": [{"mediaType": "application/vnd.ollama.image.model", "digest": LAYER_DIGEST, "size": len(LAYER)}],
    }
).encode()
BLOBS = {LAYER_DIGEST: LAYER, CONFIG_DIGEST: CONFIG}


class HostileRegistry:
    def __init__(self, host: str = "127.0.0.1", blob: str = "exact", manifest: str = "exact", api: str = "exact", redirect_to: Optional[str] = None) -> None:
        self.host = host
        self.blob = blob
        self.manifest = manifest
        self.api = api
        self.redirect_to = redirect_to
        self.requests: List[Dict[str, Any]] = []
        self.sent = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self.server = ThreadingHTTPServer((host, self.port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return "http://%s:%d" % (self.host, self.port)

    def __enter__(self) -> HostileRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def headers_seen(self, name: str) -> List[str]:
        return [value for request in self.requests for key, value in request["headers"].items() if key.lower() == name.lower()]

    def _handler(self) -> Any:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args: Any) -> None:
                return

            def _record(self) -> None:
                with registry._lock:
                    registry.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers.items())})

            def _endless(self, first: bytes, filler: bytes) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    self.wfile.write(first)
                    chunk = filler * (65536 // len(filler))
                    for _index in range(20_000):  # 1.3 GB at most, should the client never stop
                        self.wfile.write(chunk)
                        registry.sent += len(chunk)
                except OSError:
                    return
                finally:
                    self.close_connection = True

            def _send(self, body: bytes, status: int = 200, length: Optional[int] = None, headers: Optional[Dict[str, str]] = None) -> None:
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    return

            def do_HEAD(self) -> None:
                self.do_GET()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                self.do_GET()

            def do_GET(self) -> None:
                self._record()
                path = self.path.split("?", 1)[0]
                if path.startswith("/api/") or path == "/":
                    if registry.api == "endless":
                        self._endless(b'{"version": "', b"9")
                    elif registry.api == "redirect" and registry.redirect_to:
                        self._send(b"", 307, headers={"Location": registry.redirect_to + self.path})
                    else:
                        self._send(b'{"version": "0.32.15"}', headers={"Content-Type": "application/json"})
                    return
                if "/manifests/" in path:
                    if registry.manifest == "endless":
                        self._endless(MANIFEST[:-1], b" ")
                    else:
                        self._send(MANIFEST, headers={"Content-Type": "application/vnd.docker.distribution.manifest.v2+json"})
                    return
                digest = path.rsplit("/", 1)[-1]
                data = BLOBS.get(digest)
                if data is None:
                    self._send(b"not found", 404)
                elif registry.blob == "redirect" and registry.redirect_to:
                    self._send(b"", 307, headers={"Location": registry.redirect_to + self.path})
                elif registry.blob == "endless" and digest == LAYER_DIGEST:
                    self._endless(data, b"x")
                elif registry.blob == "long" and digest == LAYER_DIGEST:
                    self._send(data + b"x" * (9 * len(data)), length=10 * len(data))
                else:
                    self._send(data)

        return Handler
