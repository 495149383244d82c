# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A TCP relay on a loopback port that cuts the connections once the answers carried N bytes.

It stands between a client and a real server (the simulator's ``/v2`` registry) to make a
network cut in the middle of a download: once the relayed answers pass ``cut_after`` bytes in
total, every open connection is closed abruptly (once), and later connections pass untouched::

    with CutProxy("127.0.0.1", sim.port, cut_after=size // 2) as proxy:
        fetch from proxy.url ...
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import List, Optional


class CutProxy:
    """Relay 127.0.0.1:<port> -> host:port; cut every connection once, after ``cut_after`` answer bytes."""

    def __init__(self, host: str, port: int, cut_after: Optional[int] = None) -> None:
        self.target = (host, port)
        self.cut_after = cut_after
        self.relayed = 0
        self.cut = False
        self._lock = threading.Lock()
        self._sockets: List[socket.socket] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    def __enter__(self) -> CutProxy:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._listener.close()
        self._close_all()

    def _accept(self) -> None:
        while True:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=30)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, dest: socket.socket, answers: bool) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if answers:
                    with self._lock:
                        if self.cut_after is not None and not self.cut and self.relayed + len(data) > self.cut_after:
                            keep = self.cut_after - self.relayed
                            self.relayed += keep
                            self.cut = True
                            dest.sendall(data[:keep])
                            cut_now = True
                        else:
                            self.relayed += len(data)
                            cut_now = False
                    if cut_now:
                        self._close_all()
                        return
                dest.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, dest):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def _close_all(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
