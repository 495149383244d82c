# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The body of the ollama_mirror module: its options, their checks, and one run (run_module)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.ollama_module import OllamaModule
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import InvalidSize, parse_size
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.blob_download import BlobClient
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.bundles import load_bundle, write_bundle
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.entries import OLLAMA_REGISTRY, Entry, MirrorError, Wanted, parse_models
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.fetch_records import FetchRecords
from ansible_collections.llmops.ollama.plugins.module_utils.mirror.tree import Mirror


def argument_spec() -> Dict[str, Any]:
    """Its own options; of the connection options validate_certs and timeout apply to the registries, the others are
    accepted for the action group's module_defaults."""
    spec = unused_connection_argument_spec()
    spec.update(
        {
            "path": {"type": "path", "required": True},
            "models": {"type": "list", "elements": "raw"},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "prune": {"type": "bool", "default": False},
            "source": {"type": "str"},
            "bundle": {"type": "path"},
            "bundle_dest": {"type": "path"},
            "insecure": {"type": "bool", "default": False},
            "validate_certs": {"type": "bool", "default": True},
            "timeout": {"type": "float", "default": 60},
            "retries": {"type": "int", "default": 3},
            "parallel": {"type": "int", "default": 3},
            "min_free_space": {"type": "raw", "default": 0},
            "state_dir": {"type": "path"},
        }
    )
    return spec


class Clients:
    """One registry client per base URL."""

    def __init__(self, params: Dict[str, Any]) -> None:
        self.params = params
        self._clients: Dict[str, BlobClient] = {}

    def __call__(self, base: str) -> BlobClient:
        if base not in self._clients:
            self._clients[base] = BlobClient(base, validate_certs=self.params["validate_certs"], timeout=self.params["timeout"], retries=self.params["retries"])
        return self._clients[base]


def check_params(params: Dict[str, Any]) -> int:
    """Everything that can be checked before the mirror is read; returns min_free_space in bytes. Raises MirrorError."""
    if params["source"] is not None and params["bundle"] is not None:
        raise MirrorError("source and bundle are mutually exclusive: models come either from a registry or from a bundle file")
    if params["state"] == "absent" and (params["bundle"] or params["bundle_dest"]):
        raise MirrorError("bundle and bundle_dest go with state=present")
    if params["state"] == "absent" and not params["models"]:
        raise MirrorError("state=absent needs models: the models to take out of the mirror")
    if params["state"] == "present" and not params["models"] and not params["bundle"] and not params["bundle_dest"]:
        raise MirrorError("models is required (or bundle, to take every model of a bundle)")
    if params["parallel"] < 1 or params["retries"] < 0:
        raise MirrorError("parallel must be at least 1 and retries at least 0")
    source = params["source"]
    if source is not None and urls.has_credentials(source):
        # first, so that no later message repeats a secret
        raise MirrorError("source must not carry credentials (user:token@host or a ?token= query); the registry read paths are public")
    if source is not None and not source.strip().lower().startswith(("http://", "https://")):
        raise MirrorError("source %r is not a registry base URL; give one such as https://registry.ollama.ai" % source)
    if source is not None:
        params["source"] = urls.normalize(source)  # HTTP://Host is http://host (RFC 3986): one mirror.json source for both
    try:
        return parse_size(params["min_free_space"])
    except InvalidSize as exc:
        raise MirrorError("min_free_space: %s" % exc) from None


def fetch(module: Any, mirror: Mirror, wanted: List[Wanted], min_free: int) -> Tuple[List[Entry], str]:
    """Resolve ``wanted`` at the source and download the blobs the mirror lacks, recording progress; (entries, ledger error)."""
    params = module.params
    clients = Clients(params)
    entries = mirror.resolve(wanted, params["source"] or OLLAMA_REGISTRY, params["insecure"], clients)
    missing = mirror.plan_fetch(entries, min_free)
    records: Optional[FetchRecords] = None
    if missing and not module.check_mode:
        records = FetchRecords.open(params["state_dir"], mirror.tree.root, entries, missing, module.warn)
    try:
        mirror.download(missing, clients, params["parallel"], records.progress if records is not None else None)
    except MirrorError as exc:
        if records is not None:
            records.failed(str(exc))
        raise
    if records is not None:
        records.done()
    return entries, records.error if records is not None else ""


def _write_bundle(mirror: Mirror, entries: List[Entry], wanted: List[Wanted], dest: str) -> Dict[str, Any]:
    """Write the models (those handled, else the whole mirror) as a bundle at ``dest``; the ``bundle`` return value."""
    records = [entry.record() for entry in entries] if entries or wanted else mirror.served_records()
    if not records:
        raise MirrorError("the mirror at %s holds no models to write to bundle_dest; give models" % mirror.tree.root)
    changed, index = write_bundle(mirror, records, dest)
    return {
        "path": dest,
        "changed": changed,
        "models": [model["name"] for model in index["models"]],
        "bytes": sum(blob["size"] for blob in index["blobs"]),
    }


def present(module: Any, mirror: Mirror, wanted: List[Wanted], min_free: int) -> Dict[str, Any]:
    """state=present: fetch or load the models, place them, and write the bundle; the part of the result it decides."""
    params = module.params
    result: Dict[str, Any] = {"ledger_error": ""}
    entries: List[Entry] = []
    if params["bundle"]:
        entries = load_bundle(mirror, params["bundle"], wanted, min_free)
        mirror.transferred = sum(blob["size"] for blob in mirror.fetched) if not module.check_mode else 0
    elif wanted:
        entries, result["ledger_error"] = fetch(module, mirror, wanted, min_free)
    placed = mirror.place(entries)
    result["changed"] = bool(placed or mirror.fetched)
    if params["bundle_dest"]:
        result["bundle"] = _write_bundle(mirror, entries, wanted, params["bundle_dest"])
        result["changed"] = result["changed"] or result["bundle"]["changed"]
    return result


def run(module: Any) -> Dict[str, Any]:
    """One run of ollama_mirror; the module's result. Raises MirrorError or OSError."""
    params = module.params
    min_free = check_params(params)
    mirror = Mirror(params["path"], check_mode=module.check_mode, warn=module.warn)
    wanted = parse_models(params["models"] or [])
    result: Dict[str, Any] = {"changed": False, "ledger_error": "", "removed": []}
    if params["state"] == "absent":
        result["removed"] = mirror.remove(wanted)
    else:
        with mirror.filling():
            result.update(present(module, mirror, wanted, min_free))
    pruned = mirror.prune() if params["prune"] else []
    result.update(
        changed=bool(result["changed"] or result["removed"] or pruned),
        models=mirror.models,
        fetched=mirror.fetched,
        fetch_bytes=sum(blob["size"] - blob["resumed_from"] for blob in mirror.fetched),
        transferred=mirror.transferred,
        pruned=pruned,
    )
    if module._diff:
        result["diff"] = {
            "before": {"models": dict(sorted(mirror.before.items()))},
            "after": {"models": dict(sorted(mirror.after().items()))},
        }
    return result


def run_module() -> None:
    """ollama_mirror: build the module, run it, exit with its result or a clear failure."""
    module = OllamaModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except MirrorError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg="the mirror at %s cannot be written: %s" % (module.params["path"], exc))
    module.exit_json(**result)


__all__ = ["Clients", "argument_spec", "check_params", "run", "run_module"]
