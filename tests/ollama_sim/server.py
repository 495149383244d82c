# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""The simulator's HTTP server: HTTP/1.1, JSON answers, NDJSON streams (chunked).

Before any endpoint runs, the request passes the same gates as in Ollama
(server/routes.go): CORS (an ``Origin`` not allowed by ``OLLAMA_ORIGINS`` and the
defaults gets 403) and, when listening on loopback, the Host check (a Host that is not a
loopback/private/unspecified IP, ``localhost``, this host's name, or a ``*.localhost``,
``*.local`` or ``*.internal`` name gets 403 with an empty body). Then injected faults
apply. Unknown paths answer ``404 page not found`` and wrong methods
``405 method not allowed`` as gin does.

Admin endpoints (never logged, never faulted, no Host check):

- ``GET /_sim/requests`` -> ``{"requests": [{"method", "path", "status"}, ...]}`` (a
  ``POST /api/pull`` also has the ``model`` of its body); ``DELETE`` clears the log
- ``GET|POST|DELETE /_sim/faults`` (see ``faults``)
- ``GET /_sim/stats`` -> ``{"blobs": {"sha256:<hex>": bytes}, "total", "pulled",
  "served"}``; ``DELETE`` resets
- ``GET /_sim/pulls`` -> ``{"active", "max_active", "pulls": [{"model", "started",
  "finished", "outcome"}, ...]}``: the pull streams in the order they started and the most
  that ran at once; ``DELETE`` clears it
- ``GET /_sim/runners`` -> ``{"loads": {model: count}, "active", "max_active", "num_parallel"}``:
  model loads since start and generating requests (running now, most at once); ``DELETE`` resets
- ``GET /_sim/status`` -> ``{"cloud_disabled": bool}``; ``POST`` with ``{"cloud_disabled": bool}``
  switches ``OLLAMA_NO_CLOUD`` of the running simulator
- ``GET /_sim/catalog`` -> ``{"models": [...]}``; ``POST /_sim/catalog`` with
  ``{"model": NAME, "version": N}`` (new bytes, new digest), ``{"add": {model spec}}`` or
  ``{"remove": NAME}``
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import socket
import socketserver
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, List, Optional, Pattern, Tuple

from .api import OllamaAPI, Reply
from .catalog import CatalogError
from .errors import ApiError, StreamCut
from .faults import FaultError, Faults
from .godata import go_json
from .registry import Registry

_PRIVATE = [ipaddress.ip_network(net) for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")]
_LOCAL_TLDS = (".localhost", ".local", ".internal")
_CORS_HEADERS = (
    "Authorization, Content-Type, User-Agent, Accept, X-Requested-With, OpenAI-Beta, x-stainless-arch, x-stainless-async, "
    "x-stainless-custom-poll-interval, x-stainless-helper-method, x-stainless-lang, x-stainless-os, x-stainless-package-version, "
    "x-stainless-poll-helper, x-stainless-retry-count, x-stainless-runtime, x-stainless-runtime-version, x-stainless-timeout"
)


def _local_addresses() -> set:
    addresses = {"127.0.0.1", "::1"}
    with contextlib.suppress(OSError):
        addresses.update(str(info[4][0]) for info in socket.getaddrinfo(socket.gethostname(), None))
    return addresses


def host_allowed(host_header: str, local_addresses: set) -> Tuple[bool, bool]:
    """(allowed, by name) for a Host header, as allowedHostsMiddleware decides."""
    host = host_header
    if host.startswith("[") and "]:" in host:
        host = host[1 : host.index("]:")]
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_unspecified or any(address in net for net in _PRIVATE) or str(address) in local_addresses):
        return True, False
    name = host.lower()
    if name in ("", "localhost") or name == socket.gethostname().lower() or name.endswith(_LOCAL_TLDS):
        return True, True
    return False, False


def allowed_origins() -> List[str]:
    """envconfig.AllowedOrigins plus the browser extensions gin-contrib/cors allows."""
    origins = [item.strip() for item in os.environ.get("OLLAMA_ORIGINS", "").split(",") if item.strip()]
    for host in ("localhost", "127.0.0.1", "0.0.0.0"):
        origins += ["http://%s" % host, "https://%s" % host, "http://%s:*" % host, "https://%s:*" % host]
    origins += ["app://*", "file://*", "tauri://*", "vscode-webview://*", "vscode-file://*"]
    origins += ["chrome-extension://*", "safari-extension://*", "moz-extension://*", "ms-browser-extension://*"]
    return origins


def origin_allowed(origin: str, patterns: List[str]) -> bool:
    for pattern in patterns:
        if pattern in ("*", origin):
            return True
        if "*" in pattern:
            prefix, _star, suffix = pattern.partition("*")
            if origin.startswith(prefix) and origin.endswith(suffix) and len(origin) >= len(prefix) + len(suffix):
                return True
    return False


class RequestLog:
    """Every non-admin request with the status it got."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: List[Dict[str, Any]] = []

    def add(self, method: str, path: str, status: int, model: Optional[str] = None) -> None:
        entry: Dict[str, Any] = {"method": method, "path": path, "status": status}
        if model is not None:
            entry["model"] = model
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> List[Dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class Router:
    """Path patterns to handlers, with gin's 404/405 answers."""

    def __init__(self, routes: List[tuple]) -> None:
        self._routes: List[Tuple[Tuple[str, ...], Pattern[str], Callable[..., Reply]]] = [
            (methods, re.compile("^%s$" % pattern), handler) for methods, pattern, handler in routes
        ]

    def match(self, method: str, path: str) -> Tuple[Optional[Callable[..., Reply]], Dict[str, str], bool]:
        """(handler, path parameters, path known)."""
        known = False
        for methods, pattern, handler in self._routes:
            found = pattern.match(path)
            if found:
                known = True
                if method in methods:
                    return handler, found.groupdict(), True
        return None, {}, known


class SimServer(ThreadingHTTPServer):
    """The simulator: one OllamaAPI, its registry, faults and request log."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: Tuple[str, int], api: OllamaAPI, faults: Faults) -> None:
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, Handler)
        self.api = api
        self.faults = faults
        self.log = RequestLog()
        self.registry = Registry(api.catalog, api.stats, api.settings.rate)
        self.router = Router(api.routes() + self.registry.routes())
        self.origins = allowed_origins()
        self.local_addresses = _local_addresses()
        try:
            self.loopback = ipaddress.ip_address(self.server_address[0]).is_loopback
        except ValueError:
            self.loopback = False

    def server_bind(self) -> None:
        """Bind without HTTPServer's reverse DNS lookup of the address."""
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def admin(self, method: str, path: str, raw: bytes) -> Reply:
        """The /_sim/ endpoints."""
        try:
            data = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:
            return Reply(400, {"error": "invalid JSON: %s" % exc})
        api = self.api
        if path == "/_sim/requests":
            if method == "DELETE":
                self.log.clear()
            return Reply(body={"requests": self.log.snapshot()})
        if path == "/_sim/faults":
            if method == "DELETE":
                self.faults.clear()
            elif method == "POST":
                if not isinstance(data, dict):
                    return Reply(400, {"error": "expected a JSON object of faults"})
                try:
                    self.faults.update(data)
                except FaultError as exc:
                    return Reply(400, {"error": str(exc)})
            return Reply(body=self.faults.snapshot())
        if path == "/_sim/stats":
            if method == "DELETE":
                api.stats.clear()
            return Reply(body=api.stats.snapshot())
        if path == "/_sim/runners":
            if method == "DELETE":
                api.scheduler.reset()
            return Reply(body=api.scheduler.snapshot())
        if path == "/_sim/pulls":
            if method == "DELETE":
                api.pulls.clear()
            return Reply(body=api.pulls.snapshot())
        if path == "/_sim/status":
            if method == "POST" and isinstance(data, dict) and "cloud_disabled" in data:
                api.settings.no_cloud = bool(data["cloud_disabled"])
            return Reply(body={"cloud_disabled": api.no_cloud()})
        if path == "/_sim/catalog":
            if method == "POST":
                try:
                    if "add" in data:
                        api.catalog.add(data["add"])
                    elif "remove" in data:
                        api.catalog.remove(str(data["remove"]))
                    else:
                        api.catalog.set_version(str(data["model"]), int(data.get("version", 2)))
                except (KeyError, CatalogError, TypeError, ValueError, AttributeError) as exc:
                    return Reply(400, {"error": "catalog: %s" % exc})
            return Reply(body={"models": api.catalog.describe()})
        return Reply(404, {"error": "unknown admin endpoint %s" % path})


class Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection."""

    protocol_version = "HTTP/1.1"
    # Go (and so Ollama) sets TCP_NODELAY; without it small streamed lines wait for ACKs behind a proxy.
    disable_nagle_algorithm = True
    server: SimServer

    def do_GET(self) -> None:
        self._dispatch()

    do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    # ------------------------------------------------------------- plumbing
    def send_response(self, code: int, message: Optional[str] = None) -> None:
        """Like http.server, but Date only (Go sends no Server header); logs the request."""
        self._status = code
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        if not self._admin:
            self.server.log.add(self.command, self._path, code, self._logged_model())

    def _logged_model(self) -> Optional[str]:
        """The model a ``POST /api/pull`` asked for (``model``, or the older ``name``), for the request log."""
        if self.command != "POST" or self._path != "/api/pull":
            return None
        try:
            body = json.loads(getattr(self, "_raw_body", b"") or b"{}")
        except ValueError:
            return None
        model = (body.get("model") or body.get("name")) if isinstance(body, dict) else None
        return model if isinstance(model, str) else None

    def log_message(self, format: str, *args: Any) -> None:
        sys.stderr.write("[SIM] %s - %s\n" % (self.address_string(), format % args))

    def _access_log(self, started: float) -> None:
        elapsed = (time.monotonic() - started) * 1000
        stamp = time.strftime("%Y/%m/%d - %H:%M:%S")
        sys.stderr.write('[GIN] %s | %3d | %10.3fms | %15s | %-7s "%s"\n' % (stamp, self._status, elapsed, self.client_address[0], self.command, self._path))
        sys.stderr.flush()

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537).strip():
                        pass
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _dispatch(self) -> None:
        started = time.monotonic()
        self._status = 0
        self._chunked = False
        self._path = self.path.split("?", 1)[0]
        self._admin = self._path == "/_sim" or self._path.startswith("/_sim/")
        self._raw_body = b""
        try:
            raw = self._raw_body = self._read_body()
        except ValueError:
            self.close_connection = True
            self._send(Reply(400, text="400 Bad Request"))
            return
        try:
            if self._admin:
                self._send(self.server.admin(self.command, self._path, raw))
                if self.command == "POST" and self._path == "/_sim/faults" and self.server.faults.snapshot().get("crash") == "now":
                    self.wfile.flush()
                    os._exit(2)
                return
            if self.server.faults.take_crash():
                os._exit(2)
            self._send(self._api(raw))
        except StreamCut:
            self._abort()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:  # a bug in the simulator: answer like gin's recovery, keep serving
            sys.stderr.write(traceback.format_exc())
            self.close_connection = True
            if not self._status:
                self._send(Reply(500, text="500 internal server error (simulator bug, see its log)"))
        finally:
            if not self._admin:
                self._access_log(started)

    def _api(self, raw: bytes) -> Reply:
        sim = self.server
        extra: Dict[str, str] = {}
        origin = self.headers.get("Origin")
        host = self.headers.get("Host", "")
        if origin and origin not in ("http://" + host, "https://" + host):
            if not origin_allowed(origin, sim.origins):
                return Reply(403)
            extra = {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}
            if self.command == "OPTIONS":
                extra.update({"Access-Control-Allow-Methods": "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS", "Access-Control-Allow-Headers": _CORS_HEADERS})
                return Reply(204, headers=extra)
        if sim.loopback:
            allowed, by_name = host_allowed(host, sim.local_addresses)
            if not allowed:
                return Reply(403)
            if by_name and self.command == "OPTIONS":
                return Reply(204, headers=extra)
        fault = sim.faults.take_status(self._path)
        if fault is not None:
            return Reply(fault[0], {"error": fault[1]}, headers=extra)
        canned = sim.faults.take_respond(self.command, self._path)
        if canned is not None:
            data = canned["raw"].encode("utf-8") if "raw" in canned else go_json(canned["body"])
            headers = dict(extra, **{"Content-Type": canned["content_type"]})
            return Reply(canned["status"], content=iter([data]), length=len(data), headers=headers)
        delay = sim.faults.slow_ms
        if delay:
            time.sleep(delay / 1000.0)
        handler, params, known = sim.router.match(self.command, self._path)
        if handler is None:
            if known:
                return Reply(405, text="405 method not allowed", headers={"Content-Type": "text/plain"})
            return Reply(404, text="404 page not found", headers={"Content-Type": "text/plain"})
        try:
            reply = handler(raw=raw, headers=self.headers, **params)
        except ApiError as exc:
            reply = Reply(exc.status, exc.body())
        reply.headers.update(extra)
        return reply

    # -------------------------------------------------------------- answers
    def _start(self, status: int, content_type: Optional[str], length: Optional[int], headers: Dict[str, str]) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        if content_type and "Content-Type" not in headers:
            self.send_header("Content-Type", content_type)
        self._chunked = False
        if length is None and self.request_version == "HTTP/1.0":
            # like Go's net/http: no chunked encoding for HTTP/1.0, the end of the body is the close
            self.close_connection = True
            self.send_header("Connection", "close")
        elif length is None:
            self._chunked = True
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()

    def _send(self, reply: Reply) -> None:
        head = self.command == "HEAD"
        if reply.lines is not None:
            self._stream(reply)
            return
        if reply.chunks is not None:
            self._raw_stream(reply)
            return
        if reply.content is not None:
            self._start(reply.status, None, reply.length, reply.headers)
            if not head:
                for chunk in reply.content:
                    self.wfile.write(chunk)
            return
        if reply.text is not None:
            data, content_type = reply.text.encode("utf-8"), "text/plain; charset=utf-8"
        elif reply.body is not None:
            data, content_type = go_json(reply.body), "application/json; charset=utf-8"
        else:
            data, content_type = b"", None
        self._start(reply.status, content_type, len(data), reply.headers)
        if data and not head:
            self.wfile.write(data)

    def _chunk(self, line: Dict[str, Any]) -> None:
        data = go_json(line) + b"\n"
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data)
        self.wfile.flush()

    def _stream(self, reply: Reply) -> None:
        """streamResponse: NDJSON; an error before the first line becomes the status."""
        lines = reply.lines
        if lines is None:
            return
        try:
            try:
                first = next(lines)
            except StopIteration:
                first = None
            except ApiError as exc:
                headers = dict(reply.headers, **{"Content-Type": "application/json"})
                self._send(Reply(exc.status, exc.body(), headers=headers))
                return
            self._start(200, "application/x-ndjson", None, reply.headers)
            if first is not None:
                self._chunk(first)
                try:
                    for line in lines:
                        self._chunk(line)
                except ApiError as exc:
                    self._chunk({"error": exc.message})
            if self._chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(lines, "close", None)
            if close is not None:
                close()

    def _raw_stream(self, reply: Reply) -> None:
        """A stream of raw chunks (server-sent events of the /v1 endpoints), each flushed at once."""
        chunks = reply.chunks
        if chunks is None:
            return
        try:
            self._start(reply.status, None, None, reply.headers)
            if self.command != "HEAD":
                for data in chunks:
                    if not data:
                        continue
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if self._chunked else data)
                    self.wfile.flush()
            if self._chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()

    def _abort(self) -> None:
        """Drop the connection at once, mid-body (the cut_at_percent fault)."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(server: SimServer) -> None:
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
