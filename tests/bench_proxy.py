# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark: streaming delay and time to first byte through the TLS proxy, side by side with direct.

Run from the repository root (as root, with nginx installed)::

    .venv/bin/python -m tests.bench_proxy [--streams 3] [--lines 20] [--interval 0.1] [--ttfb-requests 30]

A private nginx on loopback is bound with ollama_domain (a real ansible-playbook run:
TLS from a test CA, an allowlist and an API key) in front of a streaming upstream that
sends one NDJSON line every ``--interval`` seconds, stamped with the time it sent it.
The client measures, for every line, how much later it arrived than it was sent,
directly and through the proxy, and the time to the first byte of GET /api/version on a
new connection (TLS handshake included for the proxy). It exits 1 when the proxy adds
more than 10 ms (median) per line.

The same streams also go through a second binding with the metrics logging on (the JSON access
log, with njs reading the request's model and scanning every chunk for token counts), on the
same nginx: the delay it adds per line must stay within 10 ms as well, and the ratio of the
logging-on to the logging-off medians is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tests.bench_report import record
from tests.integration.nginx_fixture import LoopbackCA, NginxServer, StreamingOllama, request, stream_lines
from tests.integration.playbook import run_playbook

KEY = "bench-key-0123456789abcdefghijklmnop"
LIMIT_MS = 10.0


def line_delays(port: int, host: str, tls: bool, ca_file: Path | None, headers: dict[str, str] | None) -> list[float]:
    delays = []
    for arrived, line in stream_lines(port, "/api/pull", {"model": "bench"}, host=host, tls=tls, ca_file=ca_file, headers=headers):
        item = json.loads(line)
        if "sent" in item:
            delays.append((arrived - item["sent"]) * 1000)
    return delays


def ttfb(port: int, host: str, tls: bool, ca_file: Path | None, headers: dict[str, str] | None, count: int) -> list[float]:
    times = []
    for _round in range(count):
        started = time.monotonic()
        answer = request(port, "/api/version", host=host, tls=tls, ca_file=ca_file, headers=headers)
        times.append((time.monotonic() - started) * 1000)
        if answer.status != 200:
            raise SystemExit("GET /api/version answered %s: %r" % (answer.status, answer.body))
    return times


def summary(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return "median %6.2f ms   p95 %6.2f ms   max %6.2f ms" % (statistics.median(ordered), p95, ordered[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=3, help="streams per side (default 3)")
    parser.add_argument("--lines", type=int, default=20, help="NDJSON lines per stream (default 20)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between two lines (default 0.1)")
    parser.add_argument("--ttfb-requests", type=int, default=30, help="requests per side for time to first byte (default 30)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="llmops-bench-proxy-") as tmp, StreamingOllama(interval=args.interval, lines=args.lines) as upstream:
        root = Path(tmp)
        nginx = NginxServer(root / "nginx", njs=True)
        nginx.start()
        try:
            ca = LoopbackCA(root / "ca")
            cert, key = ca.issue(["bench.ollama.test"], "bench")
            bind = nginx.module_args(
                domain="bench.ollama.test",
                upstream=upstream.url,
                tls="provided",
                certificate=str(cert),
                private_key=str(key),
                allow=["127.0.0.1"],
                api_keys=[KEY],
            )
            before = nginx.generation()
            run = run_playbook("domain.yml", {"domain_args": bind})
            if run.rc != 0:
                print("ollama_domain failed: %s" % run.results("Bind").get("msg"), file=sys.stderr)
                return 2
            nginx.wait_generation_after(before)
            logged_cert, logged_key = ca.issue(["bench-log.ollama.test"], "bench-log")
            bind.update(domain="bench-log.ollama.test", certificate=str(logged_cert), private_key=str(logged_key), access_log=True, access_log_njs="required")
            bind["api_keys"] = [{"name": "bench", "key": KEY}]
            before = nginx.generation()
            run = run_playbook("domain.yml", {"domain_args": bind})
            if run.rc != 0:
                print("ollama_domain (metrics logging on) failed: %s" % run.results("Bind").get("msg"), file=sys.stderr)
                return 2
            nginx.wait_generation_after(before)
            auth = {"Authorization": "Bearer " + KEY}
            proxy = {"port": nginx.https_port, "host": "bench.ollama.test", "tls": True, "ca_file": ca.ca_file, "headers": auth}
            logged = {"port": nginx.https_port, "host": "bench-log.ollama.test", "tls": True, "ca_file": ca.ca_file, "headers": auth}
            direct = {"port": upstream.port, "host": "localhost", "tls": False, "ca_file": None, "headers": None}

            # Warm up both paths once, then alternate so both see the same machine load.
            ttfb(count=2, **direct)
            ttfb(count=2, **proxy)
            direct_delays: list[float] = []
            proxy_delays: list[float] = []
            logged_delays: list[float] = []
            for _round in range(args.streams):
                direct_delays += line_delays(**direct)
                proxy_delays += line_delays(**proxy)
                logged_delays += line_delays(**logged)
            log_file = nginx.root / "logs" / "llmops-ollama-bench-log.ollama.test.access.log"
            # nginx writes a request's line once the request is done, which may be just after the client read its
            # last byte: wait up to 5 s for the last stream's line (the check below still wants exactly one per stream)
            deadline = time.monotonic() + 5
            while True:
                logged_lines = [json.loads(line) for line in log_file.read_text().splitlines() if '"endpoint":"/api/pull"' in line]
                if len(logged_lines) >= args.streams or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            direct_ttfb: list[float] = []
            proxy_ttfb: list[float] = []
            for _round in range(args.ttfb_requests):
                direct_ttfb += ttfb(count=1, **direct)
                proxy_ttfb += ttfb(count=1, **proxy)
        finally:
            nginx.stop()

    added = statistics.median(proxy_delays) - statistics.median(direct_delays)
    added_logged = statistics.median(logged_delays) - statistics.median(direct_delays)
    logging_ratio = statistics.median(logged_delays) / statistics.median(proxy_delays)
    if len(logged_lines) != args.streams or any(line["key"] != "bench" or line["model"] != "bench:latest" for line in logged_lines):
        print("the access log does not hold one line per stream with the key's name and the model: %s" % logged_lines, file=sys.stderr)
        return 1
    ratio = statistics.median(proxy_ttfb) / statistics.median(direct_ttfb)
    print("llmops.ollama proxy benchmark (nginx on loopback, TLS + allowlist + API key, upstream sends one NDJSON line every %.0f ms)" % (args.interval * 1000))
    print("")
    print("streaming: delay of each line after the upstream sent it (%d streams x %d lines per side)" % (args.streams, args.lines))
    print("  direct          %s" % summary(direct_delays))
    print("  TLS proxy       %s" % summary(proxy_delays))
    print("  added by proxy  median %6.2f ms   (limit %.0f ms): %s" % (added, LIMIT_MS, "PASS" if added <= LIMIT_MS else "FAIL"))
    print("  proxy, metrics logging on (JSON access log + njs)  %s" % summary(logged_delays))
    print("  added with logging on  median %6.2f ms   (limit %.0f ms): %s" % (added_logged, LIMIT_MS, "PASS" if added_logged <= LIMIT_MS else "FAIL"))
    print("  ratio logging on / off (medians)  %.2fx" % logging_ratio)
    print("")
    print("time to first byte: GET /api/version on a new connection (%d requests per side)" % args.ttfb_requests)
    print("  direct          %s" % summary(direct_ttfb))
    print("  TLS proxy       %s" % summary(proxy_ttfb))
    print("  ratio proxy/direct (medians)  %.1fx" % ratio)
    record(
        "streaming delay added by the TLS proxy (median per line)",
        "<= %.0f ms" % LIMIT_MS,
        "%.2f ms (direct %.2f ms, proxy %.2f ms)" % (added, statistics.median(direct_delays), statistics.median(proxy_delays)),
        added <= LIMIT_MS,
        ratio=statistics.median(proxy_delays) / statistics.median(direct_delays),
    )
    record(
        "time to first byte, proxy / direct (new connection, TLS handshake included)",
        "printed",
        "%.2f ms / %.2f ms" % (statistics.median(proxy_ttfb), statistics.median(direct_ttfb)),
        True,
        ratio=ratio,
    )
    record(
        "streaming delay added by the TLS proxy with the metrics logging on (JSON access log + njs, median per line)",
        "<= %.0f ms" % LIMIT_MS,
        "%.2f ms (logging off %.2f ms, on %.2f ms per line)" % (added_logged, statistics.median(proxy_delays), statistics.median(logged_delays)),
        added_logged <= LIMIT_MS,
        ratio=logging_ratio,
    )
    return 0 if added <= LIMIT_MS and added_logged <= LIMIT_MS else 1


if __name__ == "__main__":
    sys.exit(main())
