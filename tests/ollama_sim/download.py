# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Downloads over HTTP from a registry, as Ollama's server/images.go and server/download.go do.

- The manifest: ``GET <base>/v2/<namespace>/<model>/manifests/<tag>`` with ``Accept:
  application/vnd.docker.distribution.manifest.v2+json`` (pullModelManifest).
- Each blob (blobDownload): a ``HEAD`` of ``<base>/v2/<ns>/<model>/blobs/<digest>`` for its size
  (Content-Length), cut in parts of size/16 held between 100 MB and 1000 MB; a ``GET`` without
  Range that follows redirects on the same host name only, and takes the download URL from the
  ``Location`` header of the answer (a 307 or a 200: a 200 without ``Location`` fails with Go's
  ``http: no Location header in response``, as real Ollama does against a registry that serves
  blobs directly); then the parts in parallel, each a ``GET`` with ``Range: bytes=a-b`` on that
  URL (all redirects followed). A part that fails is retried after 1, 2, 4... seconds, six times.
- On disk: ``sha256-<hex>-partial`` (the blob's bytes at their offsets) and one JSON file per
  part, ``sha256-<hex>-partial-<N>`` (``{"N","Offset","Size","Completed"}``); a later pull resumes
  each part from its ``Completed``. A finished blob is renamed to ``sha256-<hex>``; its digest is
  checked afterwards by the pull ("verifying sha256 digest").
- ``insecure`` turns ``https`` into plain ``http`` (makeRequest); https is verified with the
  system roots, or as Go reads them: ``SSL_CERT_FILE`` replaces the bundle file, ``SSL_CERT_DIR``
  (colon-separated) the certificate directories.
- Errors carry Go's wording: ``Get "https://h/v2/...": dial tcp h: connect: connection refused``,
  ``http: server gave HTTP response to HTTPS client``, ``tls: failed to verify certificate:
  x509: certificate signed by unknown authority``; a 404 is ``file does not exist``; another
  status >= 400 is ``<status>: <body>``.
"""

from __future__ import annotations

import errno
import functools
import http.client
import json
import os
import socket
import ssl
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple
from urllib.parse import quote, urljoin, urlsplit

from . import VERSION

MEDIA_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
NUM_PARTS = 16
MIN_PART = 100 * 1000 * 1000
MAX_PART = 1000 * 1000 * 1000
MAX_RETRIES = 6
STALL_TIMEOUT = 30.0
USER_AGENT = "ollama/%s (amd64 linux) Go/go1.24.1" % VERSION
GO_USER_AGENT = "Go-http-client/1.1"
_CERT_FILES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/pki/tls/cacert.pem")
_CERT_DIRS = ("/etc/ssl/certs", "/etc/pki/tls/certs")


class FetchError(Exception):
    """A request failed; the message is what Go's error would say."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found


class Cancelled(Exception):
    """The download was cancelled (context canceled)."""


@functools.lru_cache(maxsize=1)
def tls_context() -> ssl.SSLContext:
    """Trusted roots as Go's crypto/x509 loads them on Linux (once per process, as Go does)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    cert_file = os.environ.get("SSL_CERT_FILE")
    for candidate in [cert_file] if cert_file else list(_CERT_FILES):
        try:
            context.load_verify_locations(cafile=candidate)
            break
        except (OSError, ssl.SSLError):
            continue
    cert_dir = os.environ.get("SSL_CERT_DIR")
    for directory in cert_dir.split(":") if cert_dir else list(_CERT_DIRS):
        try:
            entries = sorted(os.listdir(directory))
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(directory, entry)
            if os.path.isfile(path):
                try:
                    context.load_verify_locations(cafile=path)
                except (OSError, ssl.SSLError, ValueError):
                    continue
    return context


def _go_error(exc: BaseException, host: str, port: int) -> str:
    """The text Go's net/http gives for a transport error."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        code = getattr(exc, "verify_code", 0)
        if code == 62:
            return "tls: failed to verify certificate: x509: certificate is valid for other names, not %s" % host
        if code == 10:
            return "tls: failed to verify certificate: x509: certificate has expired or is not yet valid"
        return "tls: failed to verify certificate: x509: certificate signed by unknown authority"
    if isinstance(exc, ssl.SSLError):
        if _speaks_plain_http(host, port):
            return "http: server gave HTTP response to HTTPS client"
        return "remote error: tls: %s" % str(getattr(exc, "reason", None) or exc).lower().replace("_", " ")
    address = "%s:%d" % (host, port)
    if isinstance(exc, ConnectionRefusedError):
        return "dial tcp %s: connect: connection refused" % address
    if isinstance(exc, socket.gaierror):
        return "dial tcp: lookup %s: no such host" % host
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "dial tcp %s: i/o timeout" % address
    if isinstance(exc, (http.client.BadStatusLine, http.client.RemoteDisconnected)):
        return "net/http: HTTP/1.x transport connection broken: malformed HTTP response"
    if isinstance(exc, ConnectionResetError):
        return "read tcp %s: read: connection reset by peer" % address
    if isinstance(exc, OSError) and exc.errno is not None:
        return "dial tcp %s: %s" % (address, os.strerror(exc.errno).lower())
    return str(exc)


def _speaks_plain_http(host: str, port: int) -> bool:
    """Whether the server answers plain HTTP (what Go sees in the reply to its TLS hello)."""
    try:
        with socket.create_connection((host, port), timeout=5) as sock:
            sock.sendall(b"HEAD / HTTP/1.0\r\n\r\n")
            return sock.recv(5) == b"HTTP/"
    except OSError:
        return False


class Response:
    """An open answer: status, headers (lower-case keys), the URL it came from, and its body."""

    def __init__(self, url: str, conn: http.client.HTTPConnection, raw: http.client.HTTPResponse) -> None:
        self.url = url
        self.conn = conn
        self.raw = raw
        self.status = raw.status
        self.headers = {key.lower(): value for key, value in raw.getheaders()}

    def read(self, size: int = -1) -> bytes:
        return self.raw.read(size) if size >= 0 else self.raw.read()

    def close(self) -> None:
        self.conn.close()


def _open(method: str, url: str, headers: Mapping[str, str], timeout: float) -> Response:
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    verb = method.capitalize()
    if parts.scheme not in ("http", "https"):
        raise FetchError('%s "%s": unsupported protocol scheme "%s"' % (verb, url, parts.scheme))
    if parts.scheme == "https":
        conn: http.client.HTTPConnection = http.client.HTTPSConnection(host, port, timeout=timeout, context=tls_context())
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    try:
        conn.request(method, target, headers=dict(headers))
        raw = conn.getresponse()
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        raise FetchError('%s "%s": %s' % (verb, url, _go_error(exc, host, port))) from None
    return Response(url, conn, raw)


def request(
    method: str,
    url: str,
    headers: Optional[Mapping[str, str]] = None,
    same_host_only: bool = False,
    timeout: float = 60.0,
) -> Response:
    """One request with Go's redirect handling.

    Default policy: follow up to 10 redirects (``stopped after 10 redirects``). ``same_host_only``
    (download.go's directURL policy): follow while the host name stays the same, return the first
    redirect to another host as it is, more than 10 is ``maximum redirects exceeded (10) for directURL``.
    """
    via: List[str] = []
    original = urlsplit(url).hostname
    current = url
    while True:
        response = _open(method, current, headers or {}, timeout)
        location = response.headers.get("location")
        if response.status not in (301, 302, 303, 307, 308) or not location:
            return response
        target = urljoin(current, location)
        if same_host_only and urlsplit(target).hostname != original:
            return response
        response.close()
        via.append(current)
        if len(via) >= 10 and not same_host_only:
            raise FetchError('%s "%s": stopped after 10 redirects' % (method.capitalize(), target))
        if len(via) > 10:
            raise FetchError('%s "%s": maximum redirects exceeded (10) for directURL' % (method.capitalize(), target))
        if response.status == 303:
            method = "GET" if method != "HEAD" else method
        current = target


def registry_request(method: str, url: str, headers: Optional[Mapping[str, str]] = None) -> Response:
    """makeRequestWithRetry: 404 -> file does not exist, >= 400 -> ``<status>: <body>``."""
    sent = {"User-Agent": USER_AGENT}
    sent.update(headers or {})
    response = request(method, url, sent)
    if response.status == 404:
        response.close()
        raise FetchError("file does not exist", not_found=True)
    if response.status == 401:
        response.close()
        raise FetchError("unauthorized: the Ollama API simulator does not fetch registry tokens")
    if response.status >= 400:
        body = response.read().decode("utf-8", errors="replace")
        response.close()
        raise FetchError("%d: %s" % (response.status, body))
    return response


def base_url(base: str, insecure: bool) -> str:
    """The registry base URL, http when insecure (makeRequest)."""
    if insecure and base.startswith("https://"):
        return "http://" + base[len("https://") :]
    return base.rstrip("/")


def manifest_url(base: str, repository: str, tag: str) -> str:
    return "%s/v2/%s/manifests/%s" % (base, quote(repository), quote(tag))


def blob_url(base: str, repository: str, digest: str) -> str:
    return "%s/v2/%s/blobs/%s" % (base, quote(repository), digest)


def fetch_manifest(base: str, repository: str, tag: str) -> Tuple[bytes, Dict[str, Any]]:
    """pullModelManifest: the manifest bytes and their JSON."""
    response = registry_request("GET", manifest_url(base, repository, tag), {"Accept": MEDIA_MANIFEST})
    try:
        data = response.read()
    except (OSError, http.client.HTTPException) as exc:
        raise FetchError(str(exc)) from None
    finally:
        response.close()
    try:
        parsed = json.loads(data)
    except ValueError as exc:
        raise FetchError("invalid character in manifest: %s" % exc) from None
    if not isinstance(parsed, dict):
        raise FetchError("json: cannot unmarshal %s into Go value of type manifest.Manifest" % type(parsed).__name__)
    return data, parsed


class Part:
    """One byte range of a blob (blobDownloadPart)."""

    def __init__(self, n: int, offset: int, size: int, completed: int = 0) -> None:
        self.n = n
        self.offset = offset
        self.size = size
        self.completed = completed

    def as_json(self) -> bytes:
        return json.dumps({"N": self.n, "Offset": self.offset, "Size": self.size, "Completed": self.completed}, separators=(",", ":")).encode() + b"\n"


class RemoteDownload:
    """One blob fetched into ``sha256-<hex>-partial`` in parts, resumable (blobDownload)."""

    def __init__(self, manager: Any, digest: str, url: str, blob_path: Path) -> None:
        self.manager = manager
        self.digest = digest
        self.url = url
        self.path = blob_path
        self.partial = blob_path.parent / (blob_path.name + "-partial")
        self.total = 0
        self.parts: List[Part] = []
        self.refs = 0
        self.error: Optional[str] = None
        self.cut = False
        self.done = threading.Event()
        self.cancelled = threading.Event()
        self._stop_at: Optional[int] = None
        self._lock = threading.Lock()
        self._inflight: Dict[int, int] = {}
        self.thread = threading.Thread(target=self._run, name="fetch-" + digest[7:19], daemon=True)

    # ------------------------------------------------------------ progress
    @property
    def completed(self) -> int:
        with self._lock:
            return sum(part.completed for part in self.parts) + sum(self._inflight.values())

    def progress(self) -> Dict[str, Any]:
        line: Dict[str, Any] = {"status": "pulling %s" % self.digest[7:19], "digest": self.digest, "total": self.total}
        completed = self.completed
        if completed:
            line["completed"] = completed
        return line

    def stop_at(self, offset: int) -> None:
        """The cut_at_percent fault: stop once this many bytes of the blob are on disk."""
        with self._lock:
            self._stop_at = offset

    def pause_at(self, offset: int, seconds: float) -> None:  # the stall fault is a catalogue-mode fault
        return None

    # ------------------------------------------------------------- prepare
    def _part_path(self, n: int) -> Path:
        return self.partial.parent / ("%s-%d" % (self.partial.name, n))

    def prepare(self) -> None:
        """Read the part files of an earlier attempt, or HEAD the blob and plan the parts (Prepare)."""
        for path in sorted(self.partial.parent.glob(self.partial.name + "-*")):
            if not path.name[len(self.partial.name) + 1 :].isdigit():
                continue
            data = json.loads(path.read_bytes())
            self.parts.append(Part(int(data["N"]), int(data["Offset"]), int(data["Size"]), int(data["Completed"])))
        self.parts.sort(key=lambda part: part.n)
        if self.parts:
            self.total = sum(part.size for part in self.parts)
            return
        response = registry_request("HEAD", self.url)
        response.close()
        try:
            self.total = int(response.headers.get("content-length") or 0)
        except ValueError:
            self.total = 0
        size = min(max(self.total // NUM_PARTS, MIN_PART), MAX_PART)
        offset = 0
        while offset < self.total:
            size = min(size, self.total - offset)
            part = Part(len(self.parts), offset, size)
            self._part_path(part.n).write_bytes(part.as_json())
            self.parts.append(part)
            offset += size

    # ----------------------------------------------------------------- run
    def _run(self) -> None:
        try:
            self._download()
        except Cancelled:
            pass
        except FetchError as exc:
            self.error = exc.message
        except OSError as exc:
            self.error = "write %s: %s" % (self.partial, exc.strerror.lower()) if exc.strerror else str(exc)
        finally:
            self.manager.finished(self)
            self.done.set()

    def _direct_url(self) -> str:
        """GET without Range, same-host redirects only; the URL is the answer's Location (retried for 30 s)."""
        deadline = time.monotonic() + 30.0
        tries = 0
        while True:
            try:
                response = request("GET", self.url, {"User-Agent": USER_AGENT}, same_host_only=True)
            except FetchError as exc:
                error: Optional[FetchError] = exc
                response = None
            else:
                error = None
                if response.status >= 400:
                    response.close()
                    error = FetchError("file does not exist" if response.status == 404 else "%d: " % response.status)
                    response = None
            if response is not None:
                response.close()
                if response.status not in (200, 307):
                    raise FetchError("unexpected status code %d" % response.status)
                location = response.headers.get("location")
                if not location:
                    raise FetchError("http: no Location header in response")
                return urljoin(response.url, location)
            tries += 1
            delay = min(tries * tries * 0.01, 10.0)
            if time.monotonic() + delay > deadline:
                raise FetchError("context deadline exceeded") from error
            if self.cancelled.wait(delay):
                raise Cancelled()

    def _download(self) -> None:
        with open(self.partial, "a+b") as handle:
            handle.truncate(self.total)
        if self.manager.faults.disk_full:
            raise OSError(errno.ENOSPC, "no space left on device")
        todo = [part for part in self.parts if part.completed < part.size]
        if todo:
            direct = self._direct_url()
            errors: List[BaseException] = []
            threads = [threading.Thread(target=self._part_worker, args=(part, direct, errors), daemon=True) for part in todo]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if self.cut:
                return
            if self.cancelled.is_set():
                raise Cancelled()
            for exc in errors:
                raise exc
        for part in self.parts:
            self._part_path(part.n).unlink()
        os.replace(self.partial, self.path)

    def _part_worker(self, part: Part, direct: str, errors: List[BaseException]) -> None:
        tries = 0
        last: Optional[BaseException] = None
        while tries < MAX_RETRIES:
            try:
                self._fetch_part(part, direct)
                return
            except Cancelled:
                return
            except socket.timeout:
                continue  # errPartStalled: retried without counting
            except (FetchError, OSError, http.client.HTTPException) as exc:
                last = exc
                if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
                    break
                if self.cancelled.wait(2.0**tries):
                    return
                tries += 1
        message = getattr(last, "message", None) or str(last)
        errors.append(FetchError("max retries exceeded: %s" % message if tries >= MAX_RETRIES else message))
        self.cancelled.set()

    def _fetch_part(self, part: Part, direct: str) -> None:
        start, stop = part.offset + part.completed, part.offset + part.size
        response = request("GET", direct, {"User-Agent": GO_USER_AGENT, "Range": "bytes=%d-%d" % (start, stop - 1)}, timeout=STALL_TIMEOUT)
        written = 0
        try:
            if response.status >= 300:
                raise FetchError("unexpected status code %d" % response.status)
            with open(self.partial, "r+b") as handle:
                handle.seek(start)
                while start + written < stop:
                    if self.cancelled.is_set():
                        raise Cancelled()
                    with self._lock:
                        limit = self._stop_at
                    if limit is not None and self.completed >= limit:
                        self.cut = True
                        self.cancelled.set()
                        raise Cancelled()
                    want = min(1 << 16, stop - start - written)
                    if limit is not None:
                        want = max(1, min(want, limit - self.completed))
                    if self.manager.faults.disk_full:
                        raise OSError(errno.ENOSPC, "no space left on device")
                    data = response.read(want)
                    if not data:
                        raise FetchError("unexpected EOF")
                    handle.write(data)
                    written += len(data)
                    with self._lock:
                        self._inflight[part.n] = written
                    self.manager.stats.add("pulled", self.digest, len(data))
        finally:
            response.close()
            with self._lock:
                part.completed += written
                self._inflight.pop(part.n, None)
            self._part_path(part.n).write_bytes(part.as_json())
