# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""Command line: ``python3 -m tests.ollama_sim --listen 127.0.0.1:0 --data DIR``.

The first line on stdout is ``listening on HOST:PORT`` (the real port when 0 was asked
for); request logs go to stderr. Environment read as Ollama does: OLLAMA_HOST (default
listen address), OLLAMA_MODELS (default data directory), OLLAMA_KEEP_ALIVE,
OLLAMA_NOPRUNE, OLLAMA_ORIGINS, OLLAMA_CONTEXT_LENGTH, OLLAMA_MAX_LOADED_MODELS, and
SSL_CERT_FILE / SSL_CERT_DIR (the CAs trusted when downloading over https, as Go reads them);
OLLAMA_SIM_REGISTRY and OLLAMA_SIM_BLOB_REDIRECT are the defaults of --registry and --blob-redirect
(for the simulator's Docker image).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import List, Optional, Tuple

from . import VERSION
from .api import OllamaAPI, Settings
from .catalog import Catalog, CatalogError
from .faults import Faults
from .server import SimServer, serve


def parse_listen(text: str) -> Tuple[str, str]:
    """``host:port``, ``:port``, ``[::1]:port`` or a bare host (port 11434), like OLLAMA_HOST."""
    text = text.strip()
    for prefix in ("http://", "https://"):
        if text.startswith(prefix):
            text = text[len(prefix) :]
    text = text.rstrip("/")
    if text.startswith("["):
        host, _bracket, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "11434"
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, "11434"
    return host or "127.0.0.1", port


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python3 -m tests.ollama_sim", description="Ollama API simulator (tests/ollama_sim)")
    parser.add_argument("--listen", default=os.environ.get("OLLAMA_HOST") or "127.0.0.1:11434", help="HOST:PORT to listen on (port 0: any free port)")
    parser.add_argument("--data", default=os.environ.get("OLLAMA_MODELS"), help="models directory (blobs/, manifests/); default $OLLAMA_MODELS")
    parser.add_argument("--catalog", help="catalogue JSON file (see tests/ollama_sim/catalog.py)")
    parser.add_argument("--rate", type=float, default=50_000_000.0, help="download speed in bytes per second (default 50 MB/s)")
    parser.add_argument("--gpu", action="store_true", default=_truthy("OLLAMA_SIM_GPU"), help="report loaded models in VRAM (size_vram = size)")
    parser.add_argument("--token-delay", type=float, default=0.005, help="seconds between streamed tokens")
    parser.add_argument("--version", default=os.environ.get("OLLAMA_SIM_VERSION") or VERSION, help="what /api/version reports")
    parser.add_argument(
        "--registry",
        default=os.environ.get("OLLAMA_SIM_REGISTRY") or None,
        help="download models of registry.ollama.ai over HTTP from this registry base URL (e.g. another simulator's URL) instead of the built-in catalogue",
    )
    parser.add_argument(
        "--blob-redirect",
        action="store_true",
        default=_truthy("OLLAMA_SIM_BLOB_REDIRECT"),
        help="as registry.ollama.ai: answer a /v2 blob GET or HEAD without Range with a 307 to the same blob on another loopback name (/cdn/v2/...)",
    )
    args = parser.parse_args(argv)
    if args.registry and not args.registry.startswith(("http://", "https://")):
        parser.error("--registry must be an http:// or https:// URL, got %r" % args.registry)
    if not args.data:
        parser.error("--data is required (or set OLLAMA_MODELS)")
    host, port_text = parse_listen(args.listen)
    if not port_text.isdigit() or int(port_text) > 65535:
        sys.stderr.write("Error: listen tcp: address %s:%s: invalid port\n" % (host, port_text))
        return 1
    port = int(port_text)
    try:
        catalog = Catalog.load(args.catalog)
    except (OSError, ValueError, CatalogError) as exc:
        parser.error("--catalog: %s" % exc)

    settings = Settings(
        data=Path(args.data),
        rate=max(args.rate, 0.0),
        gpu=args.gpu,
        noprune=_truthy("OLLAMA_NOPRUNE"),
        token_delay=max(args.token_delay, 0.0),
        version=args.version,
        rewrite_rate=float(os.environ.get("OLLAMA_SIM_REWRITE_RATE") or Settings.rewrite_rate),
    )
    faults = Faults()
    api = OllamaAPI(settings, catalog, faults)
    api.downloads.registry = args.registry.rstrip("/") if args.registry else None
    if not settings.noprune:
        api.store.prune()
    try:
        server = SimServer((host, port), api, faults)
    except OSError as exc:
        sys.stderr.write("Error: listen tcp %s:%d: bind: %s\n" % (host, port, str(exc.strerror or exc).lower()))
        return 1
    server.registry.redirect_blobs = args.blob_redirect
    bound_host, bound_port = server.server_address[:2]
    shown = "[%s]" % bound_host if ":" in str(bound_host) else bound_host
    print("listening on %s:%d" % (shown, bound_port), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        serve(server)
    except (KeyboardInterrupt, SystemExit):
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
