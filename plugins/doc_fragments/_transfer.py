# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The transfer options of the modules that pull, create and delete models (ollama_model, ollama_model_sync)."""

    DOCUMENTATION = r"""
options:
  instances:
    description:
      - The API URLs of the other Ollama servers of the host that share its models directory (several instances, one per GPU,
        as the P(llmops.ollama.ollama_server#role) role runs them); O(api_url) among them is ignored.
      - A model this module deletes is first unloaded on each of them, with the connection options of O(api_url). Once its manifest is
        gone Ollama cannot unload it anywhere (the name no longer resolves), and an instance that had it loaded would keep it in memory.
      - An unload that fails stops the deletion of that model, which fails with the instance named.
    type: list
    elements: str
    default: []
  retries:
    description:
      - How often a failed or stalled pull or create is tried again (and a read of the server on HTTP 429 or 5xx).
        Every retry resumes; layers already downloaded are not downloaded again.
    type: int
    default: 3
  retry_delay:
    description:
      - Seconds to wait before a retry.
    type: float
    default: 2
  stall_timeout:
    description:
      - Seconds without progress after which a pull or create counts as stalled, and is retried (the retry resumes).
      - Progress means that the completed bytes grow. Ollama keeps sending a progress line about every 60 ms even while
        a download is stuck, so lines that repeat the same byte count are a stall.
      - Phases without byte counts (such as C(verifying sha256 digest) and C(writing manifest)), and the start of each
        layer, count as progress, so they never count as stalled by this rule.
      - A connection on which nothing arrives at all counts as stalled after the largest of O(stall_timeout), O(timeout)
        and 20 seconds per GB of the model (Ollama hashes the layers in silence before it writes the manifest).
    type: float
    default: 60
  registry_url:
    description:
      - Base URL of the registry to read manifests from (C(/v2/<namespace>/<model>/manifests/<tag>)) for the free-space check before a pull,
        the C(digest) check before an update, and the predictions of check mode.
      - By default V(https://registry.ollama.ai) for C(registry.ollama.ai) models, and C(https://<host>) for others
        (C(http) with C(insecure=true)).
      - Manifests are read without credentials; a URL with credentials (C(https://user:token@host)) is refused.
      - When the manifest cannot be read, the check is skipped with a warning, and the pull goes ahead.
        When the registry answers that it has no such model (HTTP 404), check mode fails as the real run would.
    type: str
  models_path:
    description:
      - The Ollama models directory on this host (with C(blobs/) and C(manifests/)), for the free-space check.
      - By default E(OLLAMA_MODELS), else C(~/.ollama/models), when O(api_url) is on this host. For a server elsewhere the check
        is skipped with a warning unless this is set (a mounted models directory).
    type: path
  min_free_space:
    description:
      - Free space to keep on the models disk after each pull, as bytes or a size with a unit (V(10 GB), V(512MiB)).
    type: raw
    default: 0
  max_concurrent_pulls:
    description:
      - At most this many pulls run at once on the host, counting every task and playbook that pulls there (through locks in
        O(state_dir)). A pull waiting for a slot has status C(queued). V(0) means no limit.
      - A custom model whose base is not on the server holds a slot too while it is created, since Ollama pulls the base.
    type: int
    default: 3
  state_dir:
    description:
      - The ledger directory on this host, with per-model status, live pull progress, a JSON-lines operation log per model,
        the host's pull slots and locks, and the history of syncs.
      - When it cannot be created or written, the task still runs, with a warning, but without them.
    type: path
    default: /var/lib/llmops-ollama
  mirror:
    description:
      - Pull through this mirror, a registry of the fleet's own that M(llmops.ollama.ollama_mirror) fills and
        M(llmops.ollama.ollama_domain) (or the P(llmops.ollama.ollama_proxy#role) role) serves with C(mirror_path).
        Give its base URL, V(https://mirror.example:8443) (or V(http://mirror.example:8080) with O(mirror_insecure=true)).
        A path, a query or credentials are refused (Ollama reads a registry at the root of its host).
      - A model C(<host>/<namespace>/<model>:<tag>) is pulled by the server as C(<mirror host[:port]>/<namespace>/<model>:<tag>) (the
        way M(llmops.ollama.ollama_mirror) stores models of every registry, C(hf.co) ones included), then copied to its own name, and the
        mirror-named model is deleted (its blobs stay, since the copy uses them). The model keeps its own name and the upstream manifest digest
        (the mirror serves the manifest bytes unchanged), so records, digest pins and lock files are those of the upstream registry.
      - The manifest read before a pull (free-space check, digest pin check, check mode) comes from the mirror's C(/v2/) path;
        O(registry_url) is then only used by O(mirror_fallback).
      - A model the mirror does not have fails, naming the mirror, before anything is pulled, unless O(mirror_fallback=true).
      - A model that is already as desired causes no request to the mirror. Custom models (C(from)) are created as usual; their base is
        not pulled through the mirror (declare the base as a model of its own to get it from the mirror first).
      - An https mirror with a certificate of a private CA needs that CA trusted by the Ollama server (the P(llmops.ollama.ollama_server#role)
        role's C(ollama_server_ca_certificates)), and by the host where this module runs for the manifest read (or O(validate_certs=false)).
    type: str
  mirror_insecure:
    description:
      - Pull from O(mirror) over plain http (Ollama's C(insecure)). Needs an C(http://) O(mirror); an C(https://) one with this set is refused.
    type: bool
    default: false
  mirror_fallback:
    description:
      - When O(mirror) does not have a model (its manifest answers HTTP 404), pull the model from its own registry instead, with a warning.
      - V(false) fails that model, naming the mirror.
    type: bool
    default: false
"""
