# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The model lifecycle: desired models in, per-model results out.

:class:`ModelSpec` says what one model should be (present, absent, loaded,
unloaded; pinned, updated, recreated; pulled or created from a definition).
:class:`ModelManager` reads the server once (``GET /api/tags`` and
``GET /api/ps``), works out the difference for each spec, acts only on it
(never in check mode) and returns a :class:`ModelResult` per model, with
the model record, the actions, the diff and the pull statistics.

``ollama_model`` builds its specs from module parameters with
:func:`specs_from_params`; ``ollama_model_sync`` builds them from a list of
declared models and hands them to the same manager.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from ansible_collections.llmops.ollama.plugins.module_utils._api import InvalidApiUrl, OllamaClient, OllamaError, client_from_params
from ansible_collections.llmops.ollama.plugins.module_utils._ledger import ABSENT, FAILED, OK, PAUSED, PROBLEM_STATUSES, QUEUED, Ledger, now_iso
from ansible_collections.llmops.ollama.plugins.module_utils._names import InvalidDigest, InvalidModelName, ModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils._pull import NOT_FOUND, OperationFailed, Transfer, TransferStats
from ansible_collections.llmops.ollama.plugins.module_utils._records import (
    CUSTOM,
    ServerState,
    bare_digest,
    build_record,
    parse_parameters,
    safe_name,
)
from ansible_collections.llmops.ollama.plugins.module_utils._registry import (
    Manifest,
    ManifestNotFound,
    ResourceError,
    api_is_local,
    default_models_path,
    fetch_manifest,
    free_bytes,
    mem_available,
    registry_label,
    space_needed,
    vram_free,
)
from ansible_collections.llmops.ollama.plugins.module_utils._units import InvalidSize, format_size, parse_size

STATES = ("present", "absent", "loaded", "unloaded")
QUANTIZE_CHOICES = ("q4_K_M", "q4_K_S", "q8_0")
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
DEFINITION_FIELDS = ("from", "system", "template", "parameters", "messages", "license", "quantize")
LOAD_TIMEOUT = 330.0  # Ollama's own OLLAMA_LOAD_TIMEOUT is 5 minutes
# Ledger fields of a recorded failure, dropped when a later operation succeeds (see _records.failure_is_current).
_NO_FAILURE: Dict[str, Any] = {"failed_at": None, "failed_digest": None, "failed_modified_at": None}
# The tag suffix of the copy that keeps a model's previous version while an unverifiable pinned update runs.
BACKUP_SUFFIX = "-llmops-prev"

# Load options and Modelfile parameters Ollama knows (api/types.go Options and Runner), by type.
OPTION_TYPES = {
    "num_ctx": "int",
    "num_batch": "int",
    "num_gpu": "int",
    "main_gpu": "int",
    "use_mmap": "bool",
    "num_thread": "int",
    "num_keep": "int",
    "seed": "int",
    "num_predict": "int",
    "top_k": "int",
    "top_p": "float",
    "min_p": "float",
    "typical_p": "float",
    "repeat_last_n": "int",
    "temperature": "float",
    "repeat_penalty": "float",
    "presence_penalty": "float",
    "frequency_penalty": "float",
    "stop": "list",
}
# Older options that current servers accept and ignore.
LEGACY_OPTIONS = {
    "mirostat": "int",
    "mirostat_tau": "float",
    "mirostat_eta": "float",
    "tfs_z": "float",
    "penalize_newline": "bool",
    "low_vram": "bool",
    "f16_kv": "bool",
    "logits_all": "bool",
    "vocab_only": "bool",
    "use_mlock": "bool",
    "numa": "bool",
    "num_gqa": "int",
}
# Options that belong to a request, not to a model definition.
NOT_PARAMETERS = frozenset(("typical_p",))

_GO_DURATION_RE = re.compile("^[-+]?(?:(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:ns|us|\u00b5s|\u03bcs|ms|s|m|h))+$")
_NUMBER_RE = re.compile(r"^[-+]?[0-9]+(?:\.[0-9]+)?$")
_TYPE_WORDS = {"int": "an integer", "float": "a number", "bool": "a boolean (true or false)", "list": "a list of strings (or one string)"}


class InvalidSpec(ValueError):
    """A desired model that cannot be acted on; the message names the option and the problem."""


class StepFailed(Exception):
    """One model's operation failed; ``kind`` is what the ledger records (failed or paused)."""

    def __init__(self, message: str, kind: str = FAILED, cleanup: Optional[List[Dict[str, Any]]] = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.cleanup = cleanup or []


# ---------------------------------------------------------------------------- input checks


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def parse_keep_alive(value: Any) -> Union[int, float, str]:
    """keep_alive as Ollama takes it: a number of seconds, or a Go duration string.

    A string of digits (``"3600"``) becomes the number 3600, because the
    server rejects a duration without a unit. Anything else raises InvalidSpec.
    """
    hint = "give seconds as a number (300, 0 to unload, -1 to keep loaded forever) or a Go duration such as '5m', '1h30m' or '-1m'"
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise InvalidSpec("invalid keep_alive %r: expected a number or a string, got %s; %s" % (value, _type_name(value), hint))
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidSpec("invalid keep_alive %r: not a finite number; %s" % (value, hint))
    if isinstance(value, (int, float)):
        return value
    text = value.strip()
    if not text:
        raise InvalidSpec("invalid keep_alive '': it is empty; %s" % hint)
    if _NUMBER_RE.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "." not in text else number
    if text in ("0", "+0", "-0") or _GO_DURATION_RE.match(text):
        return text
    raise InvalidSpec("invalid keep_alive %r: not a number of seconds and not a Go duration (units ns, us, ms, s, m, h); %s" % (value, hint))


def _coerce(key: str, value: Any, kind: str, what: str) -> Any:
    problem = "%s %r must be %s, got %r (%s)" % (what, key, _TYPE_WORDS[kind], value, _type_name(value))
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no"):
            return value.strip().lower() in ("true", "yes")
        raise InvalidSpec(problem)
    if kind == "list":
        if isinstance(value, str):
            return [value]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return list(value)
        raise InvalidSpec(problem)
    if isinstance(value, bool):
        raise InvalidSpec(problem)
    if isinstance(value, str) and _NUMBER_RE.match(value.strip()):
        value = float(value.strip())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            raise InvalidSpec(problem)
        if kind == "int":
            if float(value).is_integer():
                return int(value)
            raise InvalidSpec(problem)
        return float(value) if isinstance(value, float) else value
    raise InvalidSpec(problem)


def check_options(options: Any, what: str = "options") -> Tuple[Dict[str, Any], List[str]]:
    """Check load options (``what='options'``) or Modelfile parameters (``what='parameters'``).

    Returns (the options with their values coerced, warnings). A value of the
    wrong type raises InvalidSpec; an unknown option is a warning for load
    options (the server ignores it) and an error for parameters (the server
    refuses it).
    """
    if options is None:
        return {}, []
    if not isinstance(options, dict):
        raise InvalidSpec("%s must be a dictionary of option names and values, got %s" % (what, _type_name(options)))
    known = sorted(OPTION_TYPES)
    checked: Dict[str, Any] = {}
    warnings: List[str] = []
    for key, value in options.items():
        if not isinstance(key, str) or not key:
            raise InvalidSpec("%s has a key %r that is not an option name" % (what, key))
        kind = OPTION_TYPES.get(key) or LEGACY_OPTIONS.get(key)
        if what == "parameters" and key in NOT_PARAMETERS:
            raise InvalidSpec("parameters: %r cannot be set as a model parameter (Ollama refuses it); pass it as a load option instead" % key)
        if kind is None:
            if what == "parameters":
                raise InvalidSpec("parameters has an unknown parameter %r; known parameters: %s" % (key, ", ".join(known)))
            warnings.append("options: %r is not an option Ollama knows; the server ignores it (known options: %s)" % (key, ", ".join(known)))
            checked[key] = value
            continue
        if key in LEGACY_OPTIONS:
            warnings.append("%s: %r is no longer used by current Ollama servers" % (what, key))
        checked[key] = _coerce(key, value, kind, "option" if what == "options" else "parameter")
    return checked, warnings


def check_messages(messages: Any) -> List[Dict[str, str]]:
    """Messages of a custom model: a list of {role, content}."""
    if not isinstance(messages, list):
        raise InvalidSpec("messages must be a list of {role, content} dictionaries, got %s" % _type_name(messages))
    checked = []
    for index, item in enumerate(messages):
        if not isinstance(item, dict):
            raise InvalidSpec("messages[%d] must be a dictionary with role and content, got %s" % (index, _type_name(item)))
        role, content = item.get("role"), item.get("content")
        if role not in MESSAGE_ROLES:
            raise InvalidSpec("messages[%d] has the role %r; the role must be one of %s" % (index, role, ", ".join(MESSAGE_ROLES)))
        if not isinstance(content, str):
            raise InvalidSpec("messages[%d] has no content string" % index)
        checked.append({"role": role, "content": content})
    return checked


def check_license(value: Any) -> Union[str, List[str]]:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    raise InvalidSpec("license must be a string or a list of strings, got %s" % _type_name(value))


def check_size(value: Any, option: str) -> int:
    try:
        return parse_size(value)
    except InvalidSize as exc:
        raise InvalidSpec("%s: %s" % (option, exc)) from None


# ---------------------------------------------------------------------------- desired models


class ModelSpec:
    """What one model should be. Build it with :meth:`build`, which validates everything."""

    def __init__(
        self,
        name: ModelName,
        state: str = "present",
        update: bool = False,
        force: bool = False,
        digest: Optional[str] = None,
        insecure: bool = False,
        keep_alive: Optional[Union[int, float, str]] = None,
        options: Optional[Dict[str, Any]] = None,
        definition: Optional[Dict[str, Any]] = None,
        check_memory: bool = False,
    ) -> None:
        self.name = name
        self.state = state
        self.update = update
        self.force = force
        self.digest = digest
        self.insecure = insecure
        self.keep_alive = keep_alive
        self.options = options or {}
        self.definition = definition
        self.check_memory = check_memory

    @property
    def custom(self) -> bool:
        """A model made by /api/create from a definition (``from`` and friends)."""
        return self.definition is not None

    @classmethod
    def build(
        cls,
        name: Any,
        state: str = "present",
        update: bool = False,
        force: bool = False,
        digest: Optional[str] = None,
        insecure: bool = False,
        keep_alive: Any = None,
        options: Any = None,
        definition: Optional[Dict[str, Any]] = None,
        check_memory: bool = False,
    ) -> Tuple[ModelSpec, List[str]]:
        """Validate and build a spec; return (spec, warnings). Raises InvalidSpec naming the problem."""
        warnings: List[str] = []
        try:
            parsed = name if isinstance(name, ModelName) else parse_name(name)
        except InvalidModelName as exc:
            raise InvalidSpec(str(exc)) from None
        if state not in STATES:
            raise InvalidSpec("invalid state %r: choose one of %s" % (state, ", ".join(STATES)))
        if force and state in ("absent", "unloaded"):
            raise InvalidSpec("force re-creates a model; it applies to state present or loaded, not %s" % state)
        pin = None
        if digest is not None and digest != "":
            try:
                pin = normalize_digest(digest)
            except InvalidDigest as exc:
                raise InvalidSpec(str(exc)) from None
        alive = None
        if keep_alive is not None:
            alive = parse_keep_alive(keep_alive)
        checked_options, option_warnings = check_options(options, "options")
        warnings.extend(option_warnings)
        if state != "loaded" and (keep_alive is not None or checked_options):
            warnings.append("keep_alive and options apply to state loaded; with state %s they are not used" % state)
        checked_definition = None
        if definition:
            checked_definition = check_definition(definition)
            if update:
                raise InvalidSpec(
                    "update applies to models pulled from a registry; %s is a custom model (from %r), re-created whenever its definition changes"
                    % (parsed.display, checked_definition["from"])
                )
        spec = cls(parsed, state, bool(update), bool(force), pin, bool(insecure), alive, checked_options, checked_definition, bool(check_memory))
        return spec, warnings


def check_definition(definition: Dict[str, Any]) -> Dict[str, Any]:
    """Validate a custom model's definition; keep only the fields that were given."""
    given = {key: value for key, value in definition.items() if key in DEFINITION_FIELDS and value is not None}
    if not given:
        return {}
    base = given.get("from")
    if not base:
        fields = ", ".join(sorted(given))
        raise InvalidSpec("%s describe a custom model, which needs from: the model to build it on (for example from: llama3.2:1b)" % fields)
    if not isinstance(base, str):
        raise InvalidSpec("from must be a model name string, got %s" % _type_name(base))
    try:
        parse_name(base)
    except InvalidModelName as exc:
        raise InvalidSpec("from: %s" % exc) from None
    checked: Dict[str, Any] = {"from": base}
    for key in ("system", "template"):
        if key in given:
            if not isinstance(given[key], str):
                raise InvalidSpec("%s must be a string, got %s" % (key, _type_name(given[key])))
            checked[key] = given[key]
    if "parameters" in given:
        checked["parameters"] = check_options(given["parameters"], "parameters")[0]
    if "messages" in given:
        checked["messages"] = check_messages(given["messages"])
    if "license" in given:
        checked["license"] = check_license(given["license"])
    if "quantize" in given:
        if given["quantize"] not in QUANTIZE_CHOICES:
            raise InvalidSpec("invalid quantize %r: choose one of %s" % (given["quantize"], ", ".join(QUANTIZE_CHOICES)))
        checked["quantize"] = given["quantize"]
    return checked


def specs_from_params(params: Dict[str, Any]) -> Tuple[List[ModelSpec], List[str]]:
    """Specs for the ``ollama_model`` module's parameters (``name`` may list several models).

    Names that normalise to the same model (``llama3.2`` and ``llama3.2:latest``)
    are one spec. Raises InvalidSpec before anything is asked of the server.
    """
    names = params.get("name")
    if isinstance(names, str):
        names = [names]
    if not names:
        raise InvalidSpec("name is empty: give one model name or a list of them")
    definition = {key: params.get(key) for key in DEFINITION_FIELDS}
    has_definition = any(value is not None for value in definition.values())
    if has_definition and len(names) > 1:
        raise InvalidSpec("from, system, template, parameters, messages, license and quantize define one custom model; give a single name")
    if params.get("digest") and len(names) > 1:
        raise InvalidSpec("digest pins one model; give a single name (got %d)" % len(names))
    specs: List[ModelSpec] = []
    warnings: List[str] = []
    seen = set()
    for text in names:
        spec, spec_warnings = ModelSpec.build(
            text,
            state=params.get("state") or "present",
            update=params.get("update") or False,
            force=params.get("force") or False,
            digest=params.get("digest"),
            insecure=params.get("insecure") or False,
            keep_alive=params.get("keep_alive"),
            options=params.get("options"),
            definition=definition if has_definition else None,
            check_memory=params.get("check_memory") or False,
        )
        for warning in spec_warnings:
            if warning not in warnings:
                warnings.append(warning)
        if spec.name.key in seen:
            continue
        seen.add(spec.name.key)
        specs.append(spec)
    return specs, warnings


# ---------------------------------------------------------------------------- results


class ModelResult:
    """What happened to one model: changed, failed, actions, diff, pull statistics and the record."""

    def __init__(self, spec: ModelSpec) -> None:
        self.spec = spec
        self.name = spec.name
        self.changed = False
        self.failed = False
        self.msg = ""
        self.status = ""
        self.actions: List[str] = []
        self.before: Dict[str, Any] = {}
        self.after: Dict[str, Any] = {}
        self.differences: List[str] = []
        self.transfer: Optional[TransferStats] = None
        self.record: Dict[str, Any] = {}
        self.cleanup: List[Dict[str, Any]] = []
        self.space: Optional[Dict[str, Any]] = None

    def act(self, verb: str) -> None:
        self.actions.append(verb)
        self.changed = True

    def as_dict(self) -> Dict[str, Any]:
        """The model record with this run's ``changed``, ``failed``, ``msg``, ``actions``, ``differences`` and ``pull``."""
        data = dict(self.record)
        data.update(
            changed=self.changed,
            failed=self.failed,
            msg=self.msg,
            actions=list(self.actions),
            differences=list(self.differences),
            pull=self.transfer.as_dict() if self.transfer is not None else None,
        )
        if self.cleanup:
            data["cleanup_candidates"] = list(self.cleanup)
        if self.space is not None:
            data["space"] = dict(self.space)
        return data


# ---------------------------------------------------------------------------- definition compare


def _same_name(a: Any, b: Any) -> bool:
    first, second = safe_name(str(a or "")), safe_name(str(b or ""))
    if first is None or second is None:
        return str(a or "").strip().lower() == str(b or "").strip().lower()
    return first == second


def _same_value(desired: Any, current: Any) -> bool:
    if isinstance(desired, list) or isinstance(current, list):
        desired_list = desired if isinstance(desired, list) else [desired]
        current_list = current if isinstance(current, list) else [current]
        return len(desired_list) == len(current_list) and all(_same_value(d, c) for d, c in zip(desired_list, current_list))
    if isinstance(desired, bool) or isinstance(current, bool):
        return desired is current or desired == current
    if isinstance(desired, (int, float)) and isinstance(current, (int, float)):
        return math.isclose(float(desired), float(current), rel_tol=1e-6, abs_tol=1e-9)
    return desired == current


def compare_definition(definition: Dict[str, Any], show: Dict[str, Any], recorded: Optional[Dict[str, Any]] = None) -> List[Tuple[str, Any, Any]]:
    """The fields of a desired definition that differ from /api/show: (field, current, desired).

    Only the fields given are compared; for parameters, only the names given.
    ``from`` is compared with the parent model the server reports, or else
    with what the ledger recorded at creation (``recorded``).
    """
    differences: List[Tuple[str, Any, Any]] = []
    details = show.get("details") or {}
    if "from" in definition:
        parent = details.get("parent_model") if isinstance(details, dict) else None
        if not parent and recorded:
            parent = recorded.get("from")
        if parent and not _same_name(parent, definition["from"]):
            differences.append(("from", parent, definition["from"]))
    for key in ("system", "template"):
        if key in definition and (show.get(key) or "") != definition[key]:
            differences.append((key, show.get(key) or "", definition[key]))
    if "license" in definition:
        desired = definition["license"]
        desired_text = "\n".join(desired) if isinstance(desired, list) else desired
        current = show.get("license") or ""
        current_text = "\n".join(current) if isinstance(current, list) else current
        if current_text.strip() != desired_text.strip():
            differences.append(("license", current_text, desired_text))
    if "parameters" in definition:
        current_params = parse_parameters(show.get("parameters"))
        changed_current = {}
        changed_desired = {}
        for key, value in sorted(definition["parameters"].items()):
            if key not in current_params or not _same_value(value, current_params[key]):
                changed_current[key] = current_params.get(key)
                changed_desired[key] = value
        if changed_desired:
            differences.append(("parameters", changed_current, changed_desired))
    if "messages" in definition:
        current_messages = [{"role": m.get("role"), "content": m.get("content")} for m in (show.get("messages") or []) if isinstance(m, dict)]
        if current_messages != definition["messages"]:
            differences.append(("messages", current_messages, definition["messages"]))
    if "quantize" in definition:
        level = str(details.get("quantization_level") or "") if isinstance(details, dict) else ""
        if level.upper() != definition["quantize"].upper():
            differences.append(("quantize", level, definition["quantize"]))
    return differences


# ---------------------------------------------------------------------------- the manager


class ModelManager:
    """Brings models to their desired state on one Ollama server.

    Reads ``/api/tags`` and ``/api/ps`` once (:attr:`state`); sends a
    per-model request only for a model that is not yet as desired (and an
    ``/api/show`` for a custom model, whose definition must be compared).
    In check mode it sends no mutating request and writes no ledger entry.
    """

    def __init__(
        self,
        client: OllamaClient,
        ledger: Optional[Ledger] = None,
        check_mode: bool = False,
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
        self.check_mode = check_mode
        self.registry_url = registry_url
        self.validate_certs = validate_certs
        self.local = api_is_local(client.api_url)
        if models_path:
            self.models_path: Optional[str] = models_path
        elif self.local:
            self.models_path = default_models_path()
        else:
            self.models_path = None
        self.min_free_space = min_free_space
        self.max_concurrent_pulls = max_concurrent_pulls
        self.transfer = Transfer(client, self.ledger, retries, retry_delay, stall_timeout, progress_interval, sleep, clock)
        self.warnings: List[str] = []
        self._warn = warn
        self._run_command = run_command
        self._nvidia_smi = nvidia_smi
        self._sleep = sleep
        self._fetch_manifest = manifest_fetcher
        self._manifests: Dict[str, Any] = {}
        self._missing: Dict[str, ManifestNotFound] = {}  # models whose registry answered 404 for the manifest
        self._state: Optional[ServerState] = None
        self.mutated = False

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

    def warn(self, text: str) -> None:
        if text in self.warnings:
            return
        self.warnings.append(text)
        if self._warn is not None:
            self._warn(text)

    def record(self, name: ModelName) -> Dict[str, Any]:
        return build_record(name, self.state, self.ledger)

    # ---------------------------------------------------------------- entry point
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

    def ensure_one(self, spec: ModelSpec) -> ModelResult:
        """Bring one spec to its desired state; its failure is in the result, never raised.

        The building block of :meth:`ensure`, and of ``ollama_model_sync``, which
        runs several of these at once in threads (one model per thread: the
        ledger is locked per model, the client opens one connection per request).
        Call :meth:`finish` with all the results once they are done.
        """
        result = ModelResult(spec)
        result.before = self._describe(spec, self.state)
        result.after = dict(result.before)
        try:
            self._ensure_one(spec, result)
        except StepFailed as exc:
            self._fail(result, str(exc), exc.kind, exc.cleanup)
        except OllamaError as exc:
            self._fail(result, "%s: %s" % (spec.name.display, exc), FAILED)
        return result

    def finish(self, results: List[ModelResult]) -> None:
        """After the changes: read the server again (once), set each result's ``after`` and its record."""
        if self.mutated:
            try:
                self.refresh()
            except OllamaError as exc:
                self.warn("the models could not be read again after the changes: %s" % exc)
        for result in results:
            if self.mutated and not self.check_mode and not result.failed:
                actual = self._describe(result.spec, self.state)
                for key in ("state", "digest"):
                    if key in actual:
                        result.after[key] = actual[key]
                    else:
                        result.after.pop(key, None)
            result.record = self.record(result.name)

    def _describe(self, spec: ModelSpec, state: ServerState) -> Dict[str, Any]:
        entry = state.model(spec.name)
        if entry is None:
            return {"state": "absent"}
        described = {"state": "loaded" if state.loaded_entry(spec.name) else "present", "digest": bare_digest(entry.get("digest"))}
        return described

    def _fail(self, result: ModelResult, message: str, kind: str, cleanup: Optional[List[Dict[str, Any]]] = None) -> None:
        result.failed = True
        result.msg = message
        result.status = kind
        result.cleanup = cleanup or []
        if not self.check_mode:
            extra: Dict[str, Any] = {}
            if result.cleanup:
                extra["cleanup_candidates"] = result.cleanup
            # what the server showed of the model when it failed: a later change of it (by anyone) ends the failure
            entry = self._state.model(result.name) if self._state is not None else None
            extra["failed_at"] = now_iso()
            extra["failed_digest"] = bare_digest(entry.get("digest")) if entry else ("" if self._state is not None else None)
            extra["failed_modified_at"] = str(entry.get("modified_at") or "") if entry else ("" if self._state is not None else None)
            self.ledger.set_status(result.name, kind if kind in PROBLEM_STATUSES else FAILED, message, **extra)
            self.ledger.log(result.name, "failed" if kind != PAUSED else "paused", message=message, actions=result.actions or None)

    # ---------------------------------------------------------------- per model
    def _ensure_one(self, spec: ModelSpec, result: ModelResult) -> None:
        if spec.state == "absent":
            self._ensure_absent(spec, result)
            return
        if spec.state == "unloaded":
            self._ensure_unloaded(spec, result)
            if result.changed and not self.check_mode:
                self.ledger.set_status(spec.name, OK, "unloaded at %s" % time.strftime("%Y-%m-%d %H:%M:%S"), **_NO_FAILURE)
            return
        if spec.custom:
            self._ensure_custom(spec, result)
        else:
            self._ensure_pulled(spec, result)
        if spec.state == "loaded":
            self._ensure_loaded(spec, result)
        if result.failed or self.check_mode:
            return
        if result.changed:
            self.ledger.set_status(spec.name, OK, "%s at %s" % (", ".join(result.actions), time.strftime("%Y-%m-%d %H:%M:%S")), **_NO_FAILURE)
        else:
            recorded = self.ledger.read(spec.name)
            if recorded and recorded.get("status") in PROBLEM_STATUSES:
                self.ledger.set_status(spec.name, OK, "present (the earlier problem is resolved: %s)" % recorded.get("message", ""), **_NO_FAILURE)

    def _ensure_absent(self, spec: ModelSpec, result: ModelResult) -> None:
        state = self.state
        if state.model(spec.name) is None:
            if not self.check_mode:
                recorded = self.ledger.read(spec.name)
                if recorded and recorded.get("status") in PROBLEM_STATUSES:
                    self.ledger.set_status(spec.name, ABSENT, "not on the server (state absent)", **_NO_FAILURE)
            return
        if state.loaded_entry(spec.name):
            self._unload(spec, result)
        self._delete(spec.name, result)
        result.after = {"state": "absent"}
        if not self.check_mode:
            self.ledger.set_status(spec.name, ABSENT, "deleted", operation="delete", **_NO_FAILURE)

    def _ensure_unloaded(self, spec: ModelSpec, result: ModelResult) -> None:
        if self.state.loaded_entry(spec.name):
            self._unload(spec, result)
            result.after["state"] = "present"

    # ---------------------------------------------------------------- pulled models
    def _ensure_pulled(self, spec: ModelSpec, result: ModelResult) -> None:
        state = self.state
        entry = state.model(spec.name)
        current = state.digest(spec.name)
        if spec.force:
            if entry is not None:
                if state.loaded_entry(spec.name):
                    self._unload(spec, result)
                self._delete(spec.name, result)
            self._pull(spec, result, added=True)
            return
        if entry is None:
            self._pull(spec, result, added=True)
            return
        if spec.digest and current == spec.digest:
            return
        if not spec.update:
            if spec.digest:
                raise StepFailed(
                    "%s is present with digest sha256:%s, but digest pins sha256:%s; set update: true to pull the pinned version "
                    "(or force: true to re-pull it)" % (spec.name.display, current, spec.digest)
                )
            return
        self._update(spec, result, current)

    def _update(self, spec: ModelSpec, result: ModelResult, current: str) -> None:
        manifest = self._manifest(spec, quiet=self.check_mode)
        self._refuse_unknown(spec)
        if spec.digest and manifest is not None and manifest.digest != spec.digest:
            # the registry says what a pull would bring: refuse before pulling anything unverified
            display, served = spec.name.display, manifest.digest
            raise StepFailed(
                "digest mismatch for %s: the pin is sha256:%s but the registry serves sha256:%s; the update was refused "
                "before pulling anything, so %s stays at sha256:%s (pin sha256:%s to take the version the registry serves)"
                % (display, spec.digest, served, display, current, served)
            )
        if self.check_mode:
            if manifest is None:
                self.warn("cannot tell whether %s has an update: the registry manifest could not be read; predicting a change" % spec.name.display)
            elif manifest.digest == current:
                return
            result.act("updated")
            result.after["digest"] = manifest.digest if manifest is not None else "(unknown until pulled)"
            return
        self._check_space(spec, result)
        backup: Optional[ModelName] = None
        backup_error = ""
        if spec.digest:
            # the tag may move between the check and the pull (or the manifest could not be read): keep the
            # present version to put it back if the pulled one does not match the pin; no copy, no update
            backup, backup_error = self._backup(spec.name)
            if backup is None:
                raise StepFailed(
                    "%s was not updated: %s; without that copy a pulled version that does not match the pin could not be undone, "
                    "so nothing was pulled and %s stays at sha256:%s" % (spec.name.display, backup_error, spec.name.display, current)
                )
        try:
            stats = self._run_pull(spec, result)
        except StepFailed:
            self._drop_backup(backup)
            raise
        result.transfer = stats
        new = self._digest_after(spec.name)
        if spec.digest and new != spec.digest:
            self.ledger.log(spec.name, "digest-mismatch", digest_before=current, digest_after=new, pin=spec.digest, **_stats_fields(stats))
            if new == current:
                self._drop_backup(backup)
                raise StepFailed(
                    "digest mismatch for %s after the update: the pin is sha256:%s but the registry still serves sha256:%s, "
                    "the version that was already present; nothing changed" % (spec.name.display, spec.digest, new)
                )
            outcome = self._restore(spec, result, backup, current, new)
            text = "digest mismatch for %s after the update: the pin is sha256:%s but the registry served sha256:%s" % (spec.name.display, spec.digest, new)
            raise StepFailed(text + outcome)
        self._drop_backup(backup)
        if new != current:
            result.act("updated")
            self.ledger.log(spec.name, "updated", digest_before=current, digest_after=new, **_stats_fields(stats))
        else:
            self.ledger.log(spec.name, "up-to-date", digest=new, **_stats_fields(stats))
        result.after["digest"] = new

    def _backup(self, name: ModelName) -> Tuple[Optional[ModelName], str]:
        """Copy a model to a backup name (POST /api/copy: the manifest only, the blobs are shared); (backup, '') or (None, why not)."""
        backup = ModelName(name.host, name.namespace, name.model, name.tag[: 80 - len(BACKUP_SUFFIX)] + BACKUP_SUFFIX, name.scheme)
        self.mutated = True
        try:
            self.client.call("POST", "/api/copy", {"source": name.display, "destination": backup.display}, retry=True)
        except OllamaError as exc:
            return None, "the copy to keep it, %s, could not be made: %s" % (backup.display, exc.server_message or exc)
        self.ledger.log(name, "backup", backup=backup.display)
        return backup, ""

    def _drop_backup(self, backup: Optional[ModelName]) -> None:
        if backup is None:
            return
        try:
            self.client.call("DELETE", "/api/delete", {"model": backup.display}, retry=True)
        except OllamaError as exc:
            if exc.status != 404:
                self.warn("the backup copy %s could not be removed: %s; delete it with state: absent" % (backup.display, exc.server_message or exc))

    def _restore(self, spec: ModelSpec, result: ModelResult, backup: ModelName, previous: str, new: str) -> str:
        """Remove an unverified update and put the previous version back from its copy; return what happened, for the message."""
        name = spec.name.display
        try:
            self._delete(spec.name, result, verb=None)
        except StepFailed as exc:
            # keep the copy: it is the only manifest left of the verified version
            return (
                "; removing that unverified version failed (%s), so %s holds sha256:%s now: delete it (state: absent) or pin that digest; "
                "the previous version sha256:%s is kept as %s: copy it back once that one is gone" % (exc, name, new, previous, backup.display)
            )
        try:
            self.client.call("POST", "/api/copy", {"source": backup.display, "destination": name}, retry=True)
        except OllamaError as exc:
            self._digest_after(spec.name)
            result.act("deleted")
            result.after = {"state": "absent"}
            return (
                "; that unverified version was removed, but the previous version sha256:%s could not be restored (%s); "
                "it is kept as %s: copy it back, or delete it" % (previous, exc.server_message or exc, backup.display)
            )
        self._drop_backup(backup)
        restored = self._digest_after(spec.name)
        result.after["digest"] = restored
        self.ledger.log(spec.name, "restored", digest=restored)
        if restored != previous:
            return "; that unverified version was removed, and the previous version put back, but the server lists it as sha256:%s, not sha256:%s" % (
                restored,
                previous,
            )
        return "; that unverified version was removed and the previous version sha256:%s restored, so nothing unverified stays on the server" % previous

    def _refuse_unknown(self, spec: ModelSpec) -> None:
        """In check mode, fail as the real run will for a model the registry does not have (its manifest is a 404)."""
        missing = self._missing.get(spec.name.key)
        if self.check_mode and missing is not None:
            raise StepFailed("model '%s' not found in %s: %s" % (spec.name.display, registry_label(spec.name), missing), FAILED)

    def _pull(self, spec: ModelSpec, result: ModelResult, added: bool) -> None:
        verb = "re-pulled" if spec.force and result.before.get("state") != "absent" else "pulled"
        if self.check_mode:
            self._check_space(spec, result)
            self._refuse_unknown(spec)
            manifest = self._manifests.get(spec.name.key)
            if spec.digest and manifest is not None and manifest.digest != spec.digest:
                # the real run pulls it, finds the mismatch, fails and removes what it added
                raise StepFailed(
                    "digest mismatch for %s: the pin is sha256:%s but the registry serves sha256:%s; a real run pulls it, fails "
                    "the verification and removes it again, so nothing unverified stays on the server" % (spec.name.display, spec.digest, manifest.digest)
                )
            result.act(verb)
            result.after = {"state": "present", "digest": spec.digest or (manifest.digest if manifest is not None else "(unknown until pulled)")}
            return
        self._check_space(spec, result)
        stats = self._run_pull(spec, result)
        result.transfer = stats
        result.act(verb)
        digest = self._digest_after(spec.name)
        if not digest:
            raise StepFailed("the pull of %s reported success, but the server does not list the model afterwards" % spec.name.display)
        result.after = {"state": "present", "digest": digest}
        self.ledger.log(spec.name, verb, digest=digest, **_stats_fields(stats))
        self._verify_pin(spec, result, digest, added, "the registry served", "; the model was removed again, so nothing unverified stays on the server")

    def _run_pull(self, spec: ModelSpec, result: ModelResult) -> TransferStats:
        manifest = self._manifests.get(spec.name.key)
        expected = manifest.total if manifest is not None else 0

        def queued() -> None:
            self.ledger.set_status(spec.name, QUEUED, "waiting for one of %d pull slots on this host" % self.max_concurrent_pulls, operation="pull")

        with self.ledger.pull_slot(self.max_concurrent_pulls, queued, self._sleep):
            self.ledger.start(spec.name, "pull")
            self.ledger.log(spec.name, "pull-started", total=expected or None, registry=registry_label(spec.name))
            self.mutated = True
            try:
                return self.transfer.pull(spec.name, spec.insecure, expected)
            except OperationFailed as exc:
                result.transfer = exc.stats
                if exc.kind == PAUSED:
                    candidates = self.state.cleanup_candidates(exclude=spec.name)
                    raise StepFailed("%s%s" % (exc, _candidates_text(candidates)), PAUSED, candidates) from None
                raise StepFailed(str(exc), FAILED) from None

    def _digest_after(self, name: ModelName) -> str:
        """GET /api/tags after a pull or create: the model's digest now ('' if it is not listed)."""
        tags = self.client.tags()
        self.state.set_tags(tags)
        return self.state.digest(name)

    # ---------------------------------------------------------------- resources
    def _manifest(self, spec: ModelSpec, quiet: bool = False) -> Optional[Manifest]:
        key = spec.name.key
        if key in self._manifests:
            return self._manifests[key]
        try:
            manifest = self._fetch_manifest(
                spec.name,
                registry_url=self.registry_url,
                insecure=spec.insecure,
                validate_certs=self.validate_certs,
                timeout=min(self.client.timeout, 30),
            )
        except ResourceError as exc:
            if isinstance(exc, ManifestNotFound):
                self._missing[key] = exc
            if not quiet and not (self.check_mode and key in self._missing):  # check mode fails on it instead
                self.warn("free-space check before pulling %s skipped: %s" % (spec.name.display, exc))
            manifest = None
        self._manifests[key] = manifest
        return manifest

    def _check_space(self, spec: ModelSpec, result: ModelResult) -> None:
        """Fail (paused) before a pull that the disk cannot hold; warn when it cannot be told."""
        manifest = self._manifest(spec)
        if manifest is None:
            return
        if not self.models_path:
            self.warn(
                "free-space check before pulling %s skipped: the models disk of %s cannot be read from this host; "
                "set models_path when the models directory is mounted here" % (spec.name.display, self.client.api_url)
            )
            return
        try:
            needed, present = space_needed(manifest, self.models_path)
            free = free_bytes(self.models_path)
        except ResourceError as exc:
            self.warn("free-space check before pulling %s skipped: %s" % (spec.name.display, exc))
            return
        result.space = {"needed": needed, "present": present, "total": manifest.total, "free": free, "min_free_space": self.min_free_space}
        if needed + self.min_free_space > free:
            candidates = self.state.cleanup_candidates(exclude=spec.name)
            reserve = " and min_free_space keeps %s free" % format_size(self.min_free_space) if self.min_free_space else ""
            message = "not enough disk space to pull %s: it needs %s more (%s in all, %s already on disk)%s, but only %s is free at %s%s" % (
                spec.name.display,
                format_size(needed),
                format_size(manifest.total),
                format_size(present),
                reserve,
                format_size(free),
                self.models_path,
                _candidates_text(candidates),
            )
            raise StepFailed(message, PAUSED, candidates)

    def _check_memory(self, spec: ModelSpec, size: int) -> None:
        if not self.local:
            self.warn("memory check before loading %s skipped: the server %s is not on this host" % (spec.name.display, self.client.api_url))
            return
        try:
            available = mem_available()
        except ResourceError as exc:
            self.warn("memory check before loading %s skipped: %s" % (spec.name.display, exc))
            return
        vram = vram_free(self._run_command, self._nvidia_smi) if self._run_command is not None else None
        budget = available + (vram or 0)
        if size > budget:
            gpu = " + %s free GPU memory" % format_size(vram) if vram else ""
            raise StepFailed(
                "not enough memory to load %s: it needs about %s, and %s RAM (MemAvailable)%s is available; "
                "unload other models (state: unloaded) or free memory first" % (spec.name.display, format_size(size), format_size(available), gpu)
            )

    # ---------------------------------------------------------------- custom models
    def _ensure_custom(self, spec: ModelSpec, result: ModelResult) -> None:
        definition = spec.definition or {}
        entry = self.state.model(spec.name)
        if entry is not None and not spec.force:
            show = self.client.show(spec.name.display)
            recorded = (self.ledger.read(spec.name) or {}).get("definition")
            differences = compare_definition(definition, show, recorded if isinstance(recorded, dict) else None)
            if not differences:
                if spec.digest and self.state.digest(spec.name) != spec.digest:
                    raise StepFailed(
                        "%s is present with digest sha256:%s, but digest pins sha256:%s" % (spec.name.display, self.state.digest(spec.name), spec.digest)
                    )
                return
            result.differences = [difference[0] for difference in differences]
            for field, current, desired in differences:
                result.before[field] = current
                result.after[field] = desired
            self._create(spec, result, "re-created", added=False)
            return
        if entry is not None:
            if self.state.loaded_entry(spec.name):
                self._unload(spec, result)
            self._delete(spec.name, result)
            self._create(spec, result, "re-created", added=True)
            return
        self._create(spec, result, "created", added=True)

    def _create(self, spec: ModelSpec, result: ModelResult, verb: str, added: bool) -> None:
        definition = dict(spec.definition or {})
        if self.check_mode:
            result.act(verb)
            result.after["state"] = "present"
            return
        self.ledger.start(spec.name, "create")
        self.ledger.update(spec.name, source=CUSTOM, definition=definition)
        self.ledger.log(spec.name, "create-started", definition=definition)
        self.mutated = True
        try:
            stats = self.transfer.create(spec.name, definition)
        except OperationFailed as exc:
            result.transfer = exc.stats
            if exc.kind == PAUSED:
                candidates = self.state.cleanup_candidates(exclude=spec.name)
                raise StepFailed("%s%s" % (exc, _candidates_text(candidates)), PAUSED, candidates) from None
            raise StepFailed(str(exc), FAILED) from None
        result.transfer = stats
        result.act(verb)
        digest = self._digest_after(spec.name)
        result.after["state"] = "present"
        result.after["digest"] = digest
        self.ledger.log(spec.name, verb, digest=digest, differences=result.differences or None)
        self._verify_pin(spec, result, digest, added, "the created model has", "; the model was removed again")

    def _verify_pin(self, spec: ModelSpec, result: ModelResult, digest: str, added: bool, source: str, removed_text: str) -> None:
        """Fail on a digest that is not the pin; a model this task added is removed again first."""
        if not spec.digest or digest == spec.digest:
            return
        removed = ""
        if added:
            self._delete(spec.name, result, verb=None)
            result.after = {"state": "absent"}
            removed = removed_text
        raise StepFailed("digest mismatch for %s: the pin is sha256:%s but %s sha256:%s%s" % (spec.name.display, spec.digest, source, digest, removed))

    # ---------------------------------------------------------------- load and unload
    def _ensure_loaded(self, spec: ModelSpec, result: ModelResult) -> None:
        state = self.state
        loaded = state.loaded_entry(spec.name)
        entry = state.model(spec.name)
        current = state.digest(spec.name)
        if loaded is not None and not result.changed and (not current or bare_digest(loaded.get("digest")) in ("", current)):
            return
        if spec.check_memory:
            size = int(entry.get("size") or 0) if entry else 0
            if not size:
                manifest = self._manifests.get(spec.name.key)
                size = manifest.total if manifest is not None else 0
            if size:
                self._check_memory(spec, size)
            else:
                self.warn("memory check before loading %s skipped: its size is not known yet" % spec.name.display)
        if self.check_mode:
            result.act("loaded")
            result.after["state"] = "loaded"
            return
        self._load(spec)
        result.act("loaded")
        result.after["state"] = "loaded"
        self.ledger.log(spec.name, "loaded", keep_alive=spec.keep_alive, options=spec.options or None)

    def _load(self, spec: ModelSpec) -> None:
        payload: Dict[str, Any] = {"model": spec.name.display, "stream": False}
        if spec.keep_alive is not None:
            payload["keep_alive"] = spec.keep_alive
        if spec.options:
            payload["options"] = spec.options
        self.mutated = True
        timeout = max(self.client.timeout, LOAD_TIMEOUT)
        try:
            self.client.call("POST", "/api/generate", payload, retry=True, timeout=timeout)
        except OllamaError as exc:
            text = (exc.server_message or "").lower()
            if exc.status == 400 and "does not support" in text:
                embed = dict(payload, input=[])
                embed.pop("stream", None)
                try:
                    self.client.call("POST", "/api/embed", embed, retry=True, timeout=timeout)
                except OllamaError as embed_exc:
                    raise StepFailed("cannot load %s: %s" % (spec.name.display, embed_exc.server_message or embed_exc)) from None
                return
            raise StepFailed("cannot load %s: %s" % (spec.name.display, exc.server_message or exc)) from None

    def _unload(self, spec: ModelSpec, result: ModelResult) -> None:
        result.act("unloaded")
        if self.check_mode:
            return
        self.mutated = True
        try:
            self.client.call("POST", "/api/generate", {"model": spec.name.display, "keep_alive": 0, "stream": False}, retry=True)
        except OllamaError as exc:
            raise StepFailed("cannot unload %s: %s" % (spec.name.display, exc.server_message or exc)) from None
        self.ledger.log(spec.name, "unloaded")

    def _delete(self, name: ModelName, result: ModelResult, verb: Optional[str] = "deleted") -> None:
        if verb:
            result.act(verb)
        if self.check_mode:
            return
        self.mutated = True
        try:
            self.client.call("DELETE", "/api/delete", {"model": name.display}, retry=True)
        except OllamaError as exc:
            if exc.status != 404:
                raise StepFailed("cannot delete %s: %s" % (name.display, exc.server_message or exc)) from None
        self.ledger.log(name, "deleted")


def transfer_argument_spec() -> Dict[str, Any]:
    """The options every module that pulls shares: retries, stall timeout, registry, free space, pull slots, ledger."""
    return {
        "retries": {"type": "int", "default": 3},
        "retry_delay": {"type": "float", "default": 2},
        "stall_timeout": {"type": "float", "default": 60},
        "registry_url": {"type": "str"},
        "models_path": {"type": "path"},
        "min_free_space": {"type": "raw", "default": 0},
        "max_concurrent_pulls": {"type": "int", "default": 3},
        "state_dir": {"type": "path", "default": "/var/lib/llmops-ollama"},
    }


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
    if registry_url is not None and "@" in re.sub(r"^[A-Za-z][A-Za-z0-9+.-]*://", "", registry_url).split("/", 1)[0]:
        # never repeat the URL: it holds a secret
        raise InvalidSpec(
            "registry_url must not carry credentials (user:password@ or a token before @): remove them and give only "
            "scheme, host and port, for example https://registry.example.com (manifests are read without credentials)"
        )
    if registry_url is not None and not registry_url.startswith(("http://", "https://")):
        raise InvalidSpec("registry_url %r must start with http:// or https://, for example https://registry.ollama.ai" % registry_url)
    if not params.get("state_dir"):
        raise InvalidSpec("state_dir is empty: give the ledger directory, for example /var/lib/llmops-ollama")
    return check_size(params["min_free_space"], "min_free_space")


def manager_from_module(module: Any, min_free_space: int, max_concurrent_pulls: int, check_memory: bool) -> ModelManager:
    """The client, ledger and manager a model module runs with, from its parameters.

    Fails the module with a clear message for a bad api_url; a ledger that
    cannot be opened is a warning (the operations still run).
    """
    params = module.params
    try:
        client = client_from_params(params, retries=params["retries"], backoff=max(params["retry_delay"], 0.1))
    except InvalidApiUrl as exc:
        module.fail_json(msg=str(exc))
    ledger = Ledger.open(params["state_dir"], create=not module.check_mode)
    if ledger.error:
        module.warn(ledger.error)
    return ModelManager(
        client,
        ledger,
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


def _candidates_text(candidates: List[Dict[str, Any]]) -> str:
    if not candidates:
        return ". No other model that is not loaded could be removed to make room"
    listed = ", ".join("%s (%s)" % (item["name"], item["size"]) for item in candidates)
    return ". To make room, remove models that are not loaded, largest first: %s" % listed


def _stats_fields(stats: Optional[TransferStats]) -> Dict[str, Any]:
    if stats is None:
        return {}
    data = stats.as_dict()
    return {"bytes": data["bytes"], "seconds": data["seconds"], "speed": data["speed"], "attempts": data["attempts"]}


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


def failure_message(results: List[ModelResult]) -> str:
    """One message for the failed models of a run ('' when none failed)."""
    failed = [result for result in results if result.failed]
    if not failed:
        return ""
    if len(failed) == 1 and len(results) == 1:
        return failed[0].msg
    return "%d of %d models failed: %s" % (len(failed), len(results), " | ".join(result.msg for result in failed))


__all__ = [
    "NOT_FOUND",
    "InvalidSpec",
    "ModelManager",
    "ModelResult",
    "ModelSpec",
    "check_options",
    "check_size",
    "compare_definition",
    "failure_message",
    "parse_keep_alive",
    "specs_from_params",
    "summary",
]
