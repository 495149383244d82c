# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A private nginx on loopback for the proxy tests, test TLS material, and HTTP(S) clients.

The nginx runs with its own prefix, configuration, pid file and logs in a
temporary directory, listens only on 127.0.0.1 high ports, and never reads or
touches /etc/nginx. A small streaming upstream stands in for Ollama where a
test needs exact timing; the Ollama API simulator is used where it exists.
"""

from __future__ import annotations

import datetime
import hashlib
import http.client
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Debian's libnginx-mod-http-js
NJS_MODULE = "/usr/lib/nginx/modules/ngx_http_js_module.so"


# Under pytest-xdist every worker hands out ports from its own slice of a range below the
# kernel's ephemeral ports (32768-60999 by default), so two workers never pick the same port
# between free_port() and the bind of whatever the test starts, and no outgoing connection or
# bind(port 0) of anyone else lands there. Without xdist the kernel picks (bind to port 0).
PORT_SLICES = (15000, 32000)
PORT_SLICE_SIZE = 2000
_port_cursor: list[int] = []


def _worker_index() -> int | None:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else None


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port() -> int:
    """A loopback port nobody listens on, for a server the test starts next (or for a dead upstream)."""
    index = _worker_index()
    if index is None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]
    slices = (PORT_SLICES[1] - PORT_SLICES[0]) // PORT_SLICE_SIZE
    low = PORT_SLICES[0] + (index % slices) * PORT_SLICE_SIZE
    if not _port_cursor:
        # another session running at the same time starts elsewhere in the slice
        _port_cursor.append(int.from_bytes(os.urandom(2), "big") % PORT_SLICE_SIZE)
    for _attempt in range(PORT_SLICE_SIZE):
        port = low + _port_cursor[0] % PORT_SLICE_SIZE
        _port_cursor[0] += 1
        if _bindable(port):
            return port
    raise RuntimeError("no free loopback port in %d-%d" % (low, low + PORT_SLICE_SIZE - 1))


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (hidden ones too) with its sha256 and mode: a byte-level snapshot."""
    result = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            result[str(path.relative_to(root))] = "%s %o" % (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mode & 0o7777)
        elif path.is_dir():
            result[str(path.relative_to(root)) + "/"] = "dir"
    return result


# ---------------------------------------------------------------------------- nginx
class NginxServer:
    """nginx -p PREFIX -c CONF, in the foreground as our child; conf.d is what the module manages."""

    def __init__(self, root: Path, modules: tuple[str, ...] = (), njs: bool = False, user: str = "root") -> None:
        """``modules``: dynamic modules to load (paths of .so files); ``njs`` loads the njs module (as Debian's
        modules-enabled does); ``user`` runs the workers as that user."""
        self.root = root
        self.njs = njs
        self.user = user
        self.modules = tuple(modules) + ((NJS_MODULE,) if njs and NJS_MODULE not in modules else ())
        self.conf_d = root / "conf.d"
        self.conf = root / "nginx.conf"
        self.pid_file = root / "nginx.pid"
        self.error_log = root / "logs" / "error.log"
        self.acme_webroot = root / "acme"
        self.http_port = free_port()
        self.https_port = free_port()
        self.proc: subprocess.Popen | None = None
        for sub in ("conf.d", "logs", "tmp", "acme"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        temp = root / "tmp"
        self.conf.write_text(
            "\n".join(
                [
                    "# nginx for the llmops.ollama proxy tests: loopback only, everything under %s" % root,
                    *["load_module %s;" % module for module in self.modules],
                    "user %s;" % self.user,
                    "worker_processes 1;",
                    "pid %s;" % self.pid_file,
                    "error_log %s notice;" % self.error_log,
                    "events { worker_connections 512; }",
                    "http {",
                    "    access_log %s/logs/access.log;" % root,
                    "    client_body_temp_path %s/body;" % temp,
                    "    proxy_temp_path %s/proxy;" % temp,
                    "    fastcgi_temp_path %s/fastcgi;" % temp,
                    "    uwsgi_temp_path %s/uwsgi;" % temp,
                    "    scgi_temp_path %s/scgi;" % temp,
                    "    include %s/*.conf;" % self.conf_d,
                    "}",
                    "",
                ]
            )
        )

    @property
    def base_args(self) -> list[str]:
        return [NGINX, "-p", str(self.root), "-c", str(self.conf)]

    @property
    def reload_command(self) -> str:
        return " ".join([*self.base_args, "-s", "reload"])

    def module_args(self, **extra: Any) -> dict[str, Any]:
        """The ollama_domain options that point at this nginx."""
        args = {
            "config_dir": str(self.conf_d),
            "nginx_binary": NGINX,
            "nginx_conf": str(self.conf),
            "nginx_prefix": str(self.root),
            "reload_command": self.reload_command,
            "listen_address": "127.0.0.1",
            "http_port": self.http_port,
            "https_port": self.https_port,
            "acme_webroot": str(self.acme_webroot),
            "tls_dir": str(self.root / "tls"),
            "access_log_dir": str(self.root / "logs"),
        }
        args.update(extra)
        return args

    def start(self) -> None:
        subprocess.run([*self.base_args, "-t", "-q"], check=True, capture_output=True, timeout=30)
        self.proc = subprocess.Popen([*self.base_args, "-g", "daemon off;"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 10
        while not self.workers():
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited: %s" % self.proc.stderr.read().decode() if self.proc.stderr else "")
            if time.monotonic() > deadline:
                raise RuntimeError("nginx did not start its workers")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc and self.proc.stderr:
            self.proc.stderr.close()

    def workers(self) -> list[tuple[int, str]]:
        """(pid, title) of the master's children."""
        if not self.proc:
            return []
        result = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                stat = Path("/proc/%s/stat" % entry).read_text()
                ppid = int(stat.rsplit(")", 1)[1].split()[1])
                if ppid == self.proc.pid:
                    title = Path("/proc/%s/cmdline" % entry).read_bytes().replace(b"\0", b" ").decode().strip()
                    result.append((int(entry), title))
            except (OSError, ValueError, IndexError):
                continue
        return result

    def generation(self) -> set[int]:
        """The pids of the workers that serve new connections now."""
        return {pid for pid, title in self.workers() if "shutting down" not in title and "worker" in title}

    def wait_generation_after(self, before: set[int], timeout: float = 10) -> None:
        """After a reload: wait until new workers serve and the old ones stopped accepting."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            now = self.generation()
            if now and not (now & before):
                return
            time.sleep(0.02)
        raise AssertionError("nginx did not start a new generation of workers after the reload; workers: %s" % self.workers())

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.error_log.read_text().splitlines()[-lines:])
        except OSError:
            return ""


# ---------------------------------------------------------------------------- TLS material
@dataclass
class LoopbackCA:
    """A test certificate authority that issues server certificates."""

    directory: Path
    key: Any = None
    cert: Any = None
    ca_file: Path = field(init=False)

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "llmops test CA")])
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = self.directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, names: list[str], stem: str, days: int = 20) -> tuple[Path, Path]:
        """A server certificate (chain with the CA) and key for the names."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self.cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        cert_path = self.directory / ("%s.fullchain.pem" % stem)
        key_path = self.directory / ("%s.key" % stem)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM) + self.cert.public_bytes(serialization.Encoding.PEM))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        key_path.chmod(0o600)
        return cert_path, key_path


# ---------------------------------------------------------------------------- clients
@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    peer_cert: bytes | None = None

    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    path: str = "/",
    host: str = "localhost",
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes | None = None,
    tls: bool = False,
    ca_file: Path | str | None = None,
    source: str = "127.0.0.1",
    timeout: float = 10,
) -> Answer:
    """One HTTP(S) request to 127.0.0.1:port from the source address, with SNI and Host set to host."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=(source, 0))
    try:
        peer = None
        if tls:
            context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=host)
            peer = sock.getpeercert(binary_form=True)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        conn.sock = sock
        all_headers = {"Host": host, "Connection": "close"}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data, peer)
    finally:
        sock.close()


def request_until(predicate: Any, timeout: float = 10, **kwargs: Any) -> Answer:
    """Repeat a request until the predicate holds (nginx reloads are asynchronous), and return the last answer."""
    deadline = time.monotonic() + timeout
    last: Answer | None = None
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            last = request(**kwargs)
            if predicate(last):
                return last
        except OSError as exc:
            error = exc
        time.sleep(0.05)
    if last is None:
        raise AssertionError("no answer within %s s: %s" % (timeout, error))
    return last


def stream_lines(
    port: int,
    path: str,
    payload: dict[str, Any],
    host: str = "localhost",
    tls: bool = False,
    ca_file: Path | str | None = None,
    headers: dict[str, str] | None = None,
) -> Iterator[tuple[float, bytes]]:
    """POST and yield (arrival time, line) of an NDJSON stream as each line arrives."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    if tls:
        context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else ssl.create_default_context()
        sock = context.wrap_socket(sock, server_hostname=host)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.sock = sock
    body = json.dumps(payload).encode()
    all_headers = {"Host": host, "Content-Type": "application/json", "Connection": "close"}
    all_headers.update(headers or {})
    try:
        conn.request("POST", path, body=body, headers=all_headers)
        response = conn.getresponse()
        if response.status != 200:
            raise AssertionError("POST %s answered %s: %r" % (path, response.status, response.read()))
        while True:
            line = response.readline()
            if not line:
                return
            yield time.monotonic(), line
    finally:
        conn.close()


# ---------------------------------------------------------------------------- a streaming upstream
class StreamingOllama(http.server.ThreadingHTTPServer):
    """A tiny Ollama stand-in with exact timing: /api/pull streams ``lines`` NDJSON lines, one every ``interval`` s.

    It checks the Host header like Ollama does on loopback, and records each request's headers.
    """

    daemon_threads = True

    def __init__(self, interval: float = 0.1, lines: int = 10) -> None:
        super().__init__(("127.0.0.1", 0), _StreamingHandler)
        self.interval = interval
        self.lines = lines
        self.seen: list[dict[str, str]] = []
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self) -> StreamingOllama:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.shutdown()
        self.server_close()


class _StreamingHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Like Go's net/http (Ollama): TCP_NODELAY, so that a small write is not held back by Nagle's algorithm.
    disable_nagle_algorithm = True
    server: StreamingOllama

    def _allowed_host(self) -> bool:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].strip("[]")
        return host in ("localhost", "127.0.0.1", "::1") or host.endswith(".localhost")

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _record(self) -> bool:
        self.server.seen.append({k.lower(): v for k, v in self.headers.items()} | {":path": self.path, ":method": self.command})
        if not self._allowed_host():
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        return True

    def do_GET(self) -> None:
        if not self._record():
            return
        if self.path == "/":
            body = b"Ollama is running"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/api/version":
            self._json(200, {"version": "0.12.10"})
        elif self.path in ("/api/tags", "/api/ps"):
            self._json(200, {"models": []})
        elif self.path == "/v1/models":
            self._json(200, {"object": "list", "data": []})
        else:
            self._json(404, {"error": "404 page not found"})

    def do_POST(self) -> None:
        if not self._record():
            return
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._read_chunked()
        elif length:
            self.rfile.read(length)
        if self.path != "/api/pull":
            self._json(404, {"error": "404 page not found"})
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for index in range(self.server.lines):
            line = json.dumps({"status": "pulling 0123456789ab", "completed": index + 1, "total": self.server.lines, "sent": time.monotonic()}).encode() + b"\n"
            self.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
            self.wfile.flush()
            time.sleep(self.server.interval)
        last = b'{"status":"success"}\n'
        self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(last), last))
        self.wfile.flush()

    def _read_chunked(self) -> None:
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return
            self.rfile.read(size + 2)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


# ---------------------------------------------------------------------------- ACME: Pebble on loopback
class Pebble:
    """Let's Encrypt's test ACME server and its mock DNS (every name answers 127.0.0.1), loopback only.

    ``http_port`` is where Pebble sends its http-01 validation requests: the nginx under test.
    """

    def __init__(self, root: Path, ca: LoopbackCA, http_port: int) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.ca = ca
        self.acme_port, self.management_port, self.dns_port, self.dns_management_port = free_port(), free_port(), free_port(), free_port()
        cert, key = ca.issue(["localhost"], "pebble-localhost")
        self.config = root / "pebble.json"
        self.config.write_text(
            json.dumps(
                {
                    "pebble": {
                        "listenAddress": "127.0.0.1:%d" % self.acme_port,
                        "managementListenAddress": "127.0.0.1:%d" % self.management_port,
                        "certificate": str(cert),
                        "privateKey": str(key),
                        "httpPort": http_port,
                        "tlsPort": free_port(),
                        "ocspResponderURL": "",
                        "externalAccountBindingRequired": False,
                    }
                }
            )
        )
        self.procs: list[subprocess.Popen] = []

    @property
    def directory(self) -> str:
        return "https://localhost:%d/dir" % self.acme_port

    def start(self) -> None:
        dns = subprocess.Popen(
            [
                "pebble-challtestsrv",
                "-defaultIPv4",
                "127.0.0.1",
                "-defaultIPv6",
                "",
                "-dns01",
                "127.0.0.1:%d" % self.dns_port,
                "-http01",
                "",
                "-https01",
                "",
                "-tlsalpn01",
                "",
                "-management",
                "127.0.0.1:%d" % self.dns_management_port,
            ],
            stdout=open(self.root / "challtestsrv.log", "wb"),  # noqa: SIM115 - the child keeps it open
            stderr=subprocess.STDOUT,
        )
        self.procs.append(dns)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        pebble = subprocess.Popen(
            ["pebble", "-config", str(self.config), "-dnsserver", "127.0.0.1:%d" % self.dns_port],
            env=env,
            stdout=open(self.root / "pebble.log", "wb"),  # noqa: SIM115 - the child keeps it open
            stderr=subprocess.STDOUT,
        )
        self.procs.append(pebble)
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        deadline = time.monotonic() + 20
        while True:
            try:
                conn = http.client.HTTPSConnection("localhost", self.acme_port, context=context, timeout=2)
                conn.request("GET", "/dir")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline or pebble.poll() is not None:
                raise RuntimeError("pebble did not start: %s" % self.log())
            time.sleep(0.1)

    def root_certificates(self) -> bytes:
        """Pebble's issuing root and intermediate, to verify what it issued."""
        context = ssl.create_default_context(cafile=str(self.ca.ca_file))
        pems = b""
        for path in ("/roots/0", "/intermediates/0"):
            conn = http.client.HTTPSConnection("localhost", self.management_port, context=context, timeout=5)
            conn.request("GET", path)
            pems += conn.getresponse().read()
        return pems

    def log(self) -> str:
        try:
            return (self.root / "pebble.log").read_text()[-3000:]
        except OSError:
            return ""

    def stop(self) -> None:
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=10)
