# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright: (c) 2026, llmops.ollama contributors
"""An Ollama API simulator: the stand-in for a real Ollama server in the collection's tests.

It models Ollama ``VERSION`` (v0.32.15, read from its source: server/routes.go, api/types.go,
internal/modelref, openai/, anthropic/, middleware/, envconfig/config.go, fs/ggml/type.go).

Standard library only. Start it with ``python3 -m tests.ollama_sim --listen 127.0.0.1:0 --data DIR``
from the repository root, or from a test with :func:`tests.ollama_sim.testing.run_sim`.

Modules:

- ``names``     Ollama model names (parse, validate, display, on-disk path)
- ``gguf``      a minimal GGUF header writer and reader (model metadata)
- ``godata``    Go-compatible encodings: JSON, durations, times, ``%v`` numbers
- ``catalog``   the registry catalogue: deterministic, repeatable model blobs
- ``store``     the models directory: blobs, manifests, partial downloads, pruning
- ``faults``    injected faults (stalls, cuts, HTTP errors, disk full, crash)
- ``pull``      shared, rate-limited, resumable blob downloads and the pull stream
- ``models``    local models read back (show, tags) and built (create)
- ``runtime``   the scheduler: loaded models, keep_alive, replies and embeddings
- ``api``       the Ollama endpoints, transport aside (cloud models, source suffixes)
- ``openai``    the OpenAI- and Anthropic-compatible ``/v1`` endpoints (server-sent events)
- ``registry``  the catalogue as a Docker Registry HTTP API v2
- ``server``    HTTP/1.1 server: routing, NDJSON streaming, Host/CORS gates, admin API
- ``testing``   ``run_sim()`` for tests; ``ensure`` starts one for ``make demo``
"""

from __future__ import annotations

VERSION = "0.32.15"
