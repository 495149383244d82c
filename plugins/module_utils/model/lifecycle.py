# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model lifecycle: desired models in, per-model results out.

:class:`ModelManager` reads what a plan is made from and hands the plans to the
one executor:

1. the server once (``GET /api/tags`` and ``GET /api/ps``: :attr:`ModelManager.state`);
2. per model, what its plan asks for besides (:meth:`ModelManager.facts`): the
   registry manifest before a pull, ``/api/show`` of a present custom model, the
   ledger record;
3. :func:`_model_plan.plan_model` (pure) makes the plan, :class:`_model_apply.Executor`
   applies it, or reports it in check mode;
4. :meth:`ModelManager.finish` reads the server again once after changes and
   sets each result's record.

``ollama_model`` and ``ollama_model_sync`` both run their models through it; the
sync plans every declared model first and schedules the plans by their steps.
"""

from __future__ import annotations

import time
from contextlib import suppress
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.client import OllamaClient, OllamaError
from ansible_collections.llmops.ollama.plugins.module_utils.core.host import HostChecks, ResourceError, api_is_local, default_models_path
from ansible_collections.llmops.ollama.plugins.module_utils.core.ledger import Ledger
from ansible_collections.llmops.ollama.plugins.module_utils.core.manifest import Manifest, ManifestNotFound, fetch_manifest
from ansible_collections.llmops.ollama.plugins.module_utils.core.names import ModelName, bare_digest
from ansible_collections.llmops.ollama.plugins.module_utils.model.apply import Executor
from ansible_collections.llmops.ollama.plugins.module_utils.model.plan import MANIFEST, SHOW, ModelFacts, Plan, base_name, describe, plan_model
from ansible_collections.llmops.ollama.plugins.module_utils.model.pull import Transfer
from ansible_collections.llmops.ollama.plugins.module_utils.model.records import ServerState, build_record
from ansible_collections.llmops.ollama.plugins.module_utils.model.result import ModelResult
from ansible_collections.llmops.ollama.plugins.module_utils.model.spec import ModelSpec


class ModelManager:
    """Brings models to their desired state on one Ollama server.

    Reads ``/api/tags`` and ``/api/ps`` once (:attr:`state`); sends a
    per-model request only for a model that is not yet as desired (and an
    ``/api/show`` for a custom model, whose definition must be compared).
    In check mode the executor sends no mutating request and writes no ledger entry.
    """

    def __init__(
        self,
        client: OllamaClient,
        ledger: Optional[Ledger] = None,
        check_mode: bool = False,
        others: Sequence[OllamaClient] = (),
        registry_url: Optional[str] = None,
        validate_certs: bool = True,
        models_path: Optional[str] = None,
        min_free_space: int = 0,
        max_concurrent_pulls: int = 3,
        retries: int = 3,
        retry_delay: float = 2.0,
        stall_timeout: float = 60.0,
        warn: Optional[Callable[[str], None]] = None,
        run_command: Optional[Callable[[List[str]], Tuple[int, str, str]]] = None,
        nvidia_smi: Optional[str] = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        manifest_fetcher: Callable[..., Manifest] = fetch_manifest,
        progress_interval: float = 1.0,
    ) -> None:
        self.client = client
        self.ledger = ledger if ledger is not None else Ledger(None, "no ledger")
        self.registry_url = registry_url
        self.validate_certs = validate_certs
        self.local = api_is_local(client.api_url)
        if models_path:
            self.models_path: Optional[str] = models_path
        elif self.local:
            self.models_path = default_models_path()
        else:
            self.models_path = None
        self.max_concurrent_pulls = max_concurrent_pulls
        self.warnings: List[str] = []
        self.reread_error = ""
        self._warn = warn
        self._fetch_manifest = manifest_fetcher
        self._manifests: Dict[str, Tuple[Optional[Manifest], str, bool]] = {}
        self._shows: Dict[str, Dict[str, Any]] = {}  # /api/show of present custom models, read once per run
        self._state: Optional[ServerState] = None
        transfer = Transfer(client, self.ledger, retries, retry_delay, stall_timeout, progress_interval, sleep, clock)
        host = HostChecks(client.api_url, self.local, self.models_path, min_free_space, run_command, nvidia_smi)
        self.executor = Executor(
            client,
            self.ledger,
            lambda: self._state,
            transfer,
            host,
            check_mode=check_mode,
            max_concurrent_pulls=max_concurrent_pulls,
            warn=self.warn,
            sleep=sleep,
            others=others,
        )

    # ---------------------------------------------------------------- state
    @property
    def state(self) -> ServerState:
        """The server's models and loaded models (read once; OllamaError when the server cannot be read)."""
        if self._state is None:
            self._state = ServerState.read(self.client)
        return self._state

    def refresh(self) -> ServerState:
        self._state = ServerState.read(self.client)
        return self._state

    def refresh_tags(self) -> None:
        """GET /api/tags again (another process may have pulled a model meanwhile); a server that does not answer keeps the last state."""
        with suppress(OllamaError):
            self.state.set_tags(self.client.tags())

    @property
    def mutated(self) -> bool:
        """Whether a request that changes the server was sent."""
        return self.executor.mutated

    def warn(self, text: str) -> None:
        if text in self.warnings:
            return
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)

    def record(self, name: ModelName) -> Dict[str, Any]:
        return build_record(name, self.state, self.ledger)

    def present(self, name: ModelName) -> bool:
        return self.state.model(name) is not None

    def names(self) -> List[ModelName]:
        """The models on the server."""
        return list(self.state.names.values())

    # ---------------------------------------------------------------- plans
    def facts(self, spec: ModelSpec, wants: Optional[List[str]] = None) -> ModelFacts:
        """What the plan of ``spec`` is made from: the server state, the ledger record and the facts a first plan asked for."""
        state = self.state
        base = base_name(spec)
        facts = ModelFacts(
            spec,
            entry=state.model(spec.name),
            loaded=state.loaded_entry(spec.name),
            recorded=self.ledger.read(spec.name),
            base_present=base is None or state.model(base) is not None,
            mirror_name_present=spec.mirror is not None and spec.mirror.applies(spec.name) and state.model(spec.mirror.name_for(spec.name)) is not None,
        )
        for want in wants or []:
            if want == MANIFEST:
                if spec.mirror is not None and spec.mirror.applies(spec.name):
                    # through a mirror: its /v2 path serves the manifest (the same bytes, so the same digest and sizes)
                    facts.manifest, facts.manifest_error, facts.mirror_missing = self._manifest(spec, spec.mirror)
                    if facts.mirror_missing:
                        facts.mirror_error, facts.manifest_error = facts.manifest_error, ""
                        facts.manifest = None
                        if spec.mirror.fallback:
                            facts.manifest, facts.manifest_error, facts.manifest_missing = self._manifest(spec)
                else:
                    facts.manifest, facts.manifest_error, facts.manifest_missing = self._manifest(spec)
                facts.manifest_read = True
            elif want == SHOW:
                if spec.name.key not in self._shows:
                    self._shows[spec.name.key] = self.client.show(spec.name.display)
                facts.show = self._shows[spec.name.key]
        return facts

    def plan(self, spec: ModelSpec) -> Plan:
        """The plan of one spec; reads what it asks for (a manifest, /api/show), then plans again. OllamaError from a read."""
        plan = plan_model(self.facts(spec))
        if plan.wants:
            plan = plan_model(self.facts(spec, plan.wants))
        return plan

    def apply(self, plan: Plan, slot_held: bool = False) -> ModelResult:
        return self.executor.apply(plan, slot_held)

    # ---------------------------------------------------------------- entry points
    def ensure(self, specs: List[ModelSpec]) -> List[ModelResult]:
        """Bring every spec to its desired state; return one result per spec, in order.

        A failure of one model does not stop the others: it is in its result
        (``failed``, ``msg``) and in the ledger. Reading the server at the
        start raises OllamaError.
        """
        if self._state is None:  # read the server once, before any model (raises OllamaError)
            self._state = ServerState.read(self.client)
        results = [self.ensure_one(spec) for spec in specs]
        self.finish(results)
        return results

    def ensure_one(self, spec: ModelSpec, slot_held: bool = False) -> ModelResult:
        """Plan one spec and apply the plan; its failure is in the result, never raised.

        Call :meth:`finish` with all the results once they are done.
        """
        try:
            plan = self.plan(spec)
        except OllamaError as exc:
            return self.executor.failed(spec, "%s: %s" % (spec.name.display, exc), describe(self.facts(spec)))
        return self.apply(plan, slot_held)

    def finish(self, results: List[ModelResult]) -> None:
        """After the changes: read the server again (once), set each result's ``after`` and its record."""
        if self.mutated:
            try:
                self.refresh()
            except OllamaError as exc:
                self.reread_error = str(exc)  # the records (and a lock file) must not be taken from the state before the changes
                self.warn("the models could not be read again after the changes: %s" % exc)
        for result in results:
            if result.unconfirmed and not self.reread_error:
                self.executor.confirm(result, self.present(result.name))
            if self.mutated and not result.failed:  # nothing is mutated in check mode
                actual = self.describe(result.name)
                for key in ("state", "digest"):
                    if key in actual:
                        result.after[key] = actual[key]
                    else:
                        result.after.pop(key, None)
            result.record = self.record(result.name)

    def describe(self, name: ModelName) -> Dict[str, Any]:
        entry = self.state.model(name)
        if entry is None:
            return {"state": "absent"}
        return {"state": "loaded" if self.state.loaded_entry(name) else "present", "digest": bare_digest(entry.get("digest"))}

    def table(self) -> List[Dict[str, Any]]:
        """The server's models as rows {name, digest, state}, sorted by name."""
        state = self.state
        rows = []
        for key, entry in state.models.items():
            rows.append({"name": state.names[key].display, "digest": bare_digest(entry.get("digest")), "state": "loaded" if key in state.loaded else "present"})
        rows.sort(key=lambda row: row["name"].lower())
        return rows

    # ---------------------------------------------------------------- reads for the plans
    def _manifest(self, spec: ModelSpec, mirror: Any = None) -> Tuple[Optional[Manifest], str, bool]:
        """(manifest or None, why not, whether the registry has no such model); read once per model.

        ``mirror`` (a _model_mirror.MirrorSource): read it from the mirror, as the server will pull it.
        """
        key = spec.name.key if mirror is None else "%s via %s" % (spec.name.key, mirror.url)
        if key not in self._manifests:
            try:
                manifest = self._fetch_manifest(
                    spec.name if mirror is None else mirror.name_for(spec.name),
                    registry_url=self.registry_url if mirror is None else mirror.url,
                    insecure=spec.insecure if mirror is None else mirror.insecure,
                    validate_certs=self.validate_certs,
                    timeout=min(self.client.timeout, 30),
                )
                self._manifests[key] = (manifest, "", False)
            except ResourceError as exc:
                self._manifests[key] = (None, str(exc), isinstance(exc, ManifestNotFound))
        return self._manifests[key]


__all__ = ["ModelManager"]
