# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What ollama_model and ollama_model_sync share as modules: the transfer options, their checks,
the manager built from module parameters, and the run's summaries."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls
from ansible_collections.llmops.ollama.plugins.module_utils.core.client import client_from_params
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import InvalidApiUrl
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import DEFAULT_STATE_DIR
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import open_ledger
from ansible_collections.llmops.ollama.plugins.module_utils.model.lifecycle import ModelManager
from ansible_collections.llmops.ollama.plugins.module_utils.model.mirror_source import InvalidMirror, MirrorSource, parse_mirror
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import TransferStats
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import InvalidSpec, check_size


def transfer_argument_spec() -> Dict[str, Any]:
    """The options every module that pulls shares: retries, stall timeout, registry, free space, pull slots, ledger, instances."""
    return {
        "retries": {"type": "int", "default": 3},
        "retry_delay": {"type": "float", "default": 2},
        "stall_timeout": {"type": "float", "default": 60},
        "registry_url": {"type": "str"},
        "models_path": {"type": "path"},
        "min_free_space": {"type": "raw", "default": 0},
        "max_concurrent_pulls": {"type": "int", "default": 3},
        "state_dir": {"type": "path", "default": DEFAULT_STATE_DIR},
        "mirror": {"type": "str"},
        "mirror_insecure": {"type": "bool", "default": False},
        "mirror_fallback": {"type": "bool", "default": False},
        "instances": {"type": "list", "elements": "str", "default": []},
    }


def mirror_from_params(params: Dict[str, Any]) -> Optional[MirrorSource]:
    """The mirror of the options mirror, mirror_insecure and mirror_fallback (None without one). Raises InvalidSpec."""
    try:
        return parse_mirror(params.get("mirror"), params.get("mirror_insecure"), params.get("mirror_fallback"))
    except InvalidMirror as exc:
        raise InvalidSpec(str(exc)) from None


def check_transfer_params(params: Dict[str, Any]) -> int:
    """Checks of the options of transfer_argument_spec; return min_free_space in bytes. Raises InvalidSpec."""
    if params["retries"] < 0:
        raise InvalidSpec("retries must be 0 or more, got %d" % params["retries"])
    if params["retry_delay"] < 0:
        raise InvalidSpec("retry_delay must be 0 or more seconds, got %s" % params["retry_delay"])
    if params["stall_timeout"] <= 0:
        raise InvalidSpec("stall_timeout must be more than 0 seconds, got %s" % params["stall_timeout"])
    if params["max_concurrent_pulls"] < 0:
        raise InvalidSpec("max_concurrent_pulls must be 0 (no limit) or more, got %d" % params["max_concurrent_pulls"])
    registry_url = params.get("registry_url")
    if registry_url is not None and urls.has_credentials(registry_url):
        # never repeat the URL: it holds a secret
        raise InvalidSpec(
            "registry_url must not carry credentials (user:password@ or a token before @): remove them and give only "
            "scheme, host and port, for example https://registry.example.com (manifests are read without credentials)"
        )
    if registry_url is not None and not registry_url.strip().lower().startswith(("http://", "https://")):
        raise InvalidSpec("registry_url %r must start with http:// or https://, for example https://registry.ollama.ai" % registry_url)
    if registry_url is not None:
        params["registry_url"] = urls.normalize(registry_url)
    if not params.get("state_dir"):
        raise InvalidSpec("state_dir is empty: give the ledger directory, for example %s" % DEFAULT_STATE_DIR)
    return check_size(params["min_free_space"], "min_free_space")


def manager_from_module(module: Any, min_free_space: int, max_concurrent_pulls: int, check_memory: bool) -> ModelManager:
    """The client, ledger and manager a model module runs with, from its parameters.

    Fails the module with a clear message for a bad api_url; a ledger that
    cannot be opened is a warning (the operations still run).
    """
    params = module.params
    try:
        client = client_from_params(params, retries=params["retries"], backoff=max(params["retry_delay"], 0.1))
        # the host's other instances (the option instances), with the same connection options
        others = [client_from_params(dict(params, api_url=url), retries=params["retries"]) for url in params.get("instances") or []]
    except InvalidApiUrl as exc:
        module.fail_json(msg=str(exc))
    ledger = open_ledger(params["state_dir"], check_mode=module.check_mode, warn=module.warn)
    if ledger.error:
        module.warn(ledger.error)
    return ModelManager(
        client,
        ledger,
        others=[other for other in others if other.api_url != client.api_url],
        check_mode=module.check_mode,
        registry_url=params["registry_url"],
        validate_certs=params["validate_certs"],
        models_path=params["models_path"],
        min_free_space=min_free_space,
        max_concurrent_pulls=max_concurrent_pulls,
        retries=params["retries"],
        retry_delay=params["retry_delay"],
        stall_timeout=params["stall_timeout"],
        warn=module.warn,
        run_command=module.run_command,
        nvidia_smi=module.get_bin_path("nvidia-smi") if check_memory else None,
    )


def summary(results: List[ModelResult]) -> Dict[str, Any]:
    """Totals of a run: pull statistics over every model that transferred something."""
    total = TransferStats()
    for result in results:
        if result.transfer is not None:
            total.bytes += result.transfer.bytes
            total.seconds += result.transfer.seconds
            total.attempts += result.transfer.attempts
            total.total += result.transfer.total
    data = total.as_dict()
    data["models"] = sum(1 for result in results if result.transfer is not None)
    return data


__all__ = ["check_transfer_params", "manager_from_module", "mirror_from_params", "summary", "transfer_argument_spec"]
