# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What one model should be: :class:`ModelSpec`, and every check of its input.

A spec is built and validated once (:meth:`ModelSpec.build`; ollama_model's parameters: model_module.specs_from_params),
before anything is asked of the server; a bad value raises :class:`InvalidSpec`
naming the option and what to do.
"""

from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Optional, Tuple, Union

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.llmops.ollama.plugins.module_utils.core.names import InvalidDigest, InvalidModelName, ModelName, normalize_digest, parse_name
from ansible_collections.llmops.ollama.plugins.module_utils.core.units import InvalidSize, parse_size
from ansible_collections.llmops.ollama.plugins.module_utils.model.capabilities import CAPABILITIES

# The desired states of a model, in the order the documentation lists them.
STATES = ("present", "loaded", "absent", "unloaded")
# What /api/create's quantize takes (fs/ggml/type.go ParseFileType; the server upper-cases it: any case is accepted).
QUANTIZE_CHOICES = ("F32", "F16", "BF16", "Q8_0", "Q4_K_S", "Q4_K_M", "Q4_K")
# Model capabilities Ollama reports (/api/tags and /api/show ``capabilities``; types/model/capability.go).
MESSAGE_ROLES = ("system", "user", "assistant", "tool")
DEFINITION_FIELDS = ("from", "system", "template", "parameters", "messages", "license", "quantize", "files", "adapters")
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


# the definition fields that name files on the host (read only by check_definition_files)
FILE_KINDS = ("files", "adapters")


class InvalidSpec(ValueError):
    """A desired model that cannot be acted on; the message names the option and the problem."""


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
        try:
            return boolean(value)
        except TypeError:
            raise InvalidSpec(problem) from None
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
        require_capabilities: Optional[List[str]] = None,
        blobs: Optional[List[Dict[str, Any]]] = None,
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
        self.require_capabilities = list(require_capabilities or [])
        self.blobs = list(blobs or [])  # the files and adapters to upload: {name, path, digest, size}
        self.mirror: Any = None  # a _model_mirror.MirrorSource to pull through (set by the modules), or None

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
        require_capabilities: Any = None,
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
        required = check_capabilities(require_capabilities)
        if required and state not in ("present", "loaded"):
            warnings.append("require_capabilities applies to state present or loaded; with state %s it is not used" % state)
        checked_definition = None
        blobs: List[Dict[str, Any]] = []
        for key in ("system", "template"):
            if definition and definition.get(key) == "":
                warnings.append(
                    '%s: "" cannot clear the %s that %s inherits: Ollama keeps the base model\'s (it sets one only when it is not empty); '
                    "left out of the comparison" % (key, key, parsed.display)
                )
        if definition:
            checked_definition, blobs = check_definition_files(definition)
            if update:
                raise InvalidSpec(
                    "update applies to models pulled from a registry; %s is a custom model (from %r), re-created whenever its definition changes"
                    % (parsed.display, checked_definition.get("from") or "its files")
                )
        spec = cls(
            parsed, state, bool(update), bool(force), pin, bool(insecure), alive, checked_options, checked_definition, bool(check_memory), required, blobs
        )
        return spec, warnings


def check_capabilities(value: Any, option: str = "require_capabilities") -> List[str]:
    """A list of capabilities (CAPABILITIES), lower-cased and without repeats; InvalidSpec for anything else."""
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise InvalidSpec("%s must be a list of capabilities (%s), got %s" % (option, ", ".join(CAPABILITIES), _type_name(value)))
    found: List[str] = []
    for item in value:
        word = item.strip().lower() if isinstance(item, str) else item
        if word not in CAPABILITIES:
            raise InvalidSpec("%s: unknown capability %r: choose from %s" % (option, item, ", ".join(CAPABILITIES)))
        if word not in found:
            found.append(word)
    return found


def check_definition_files(definition: Dict[str, Any]) -> Tuple[Dict[str, Any], List[Dict[str, Any]]]:
    """check_definition, with files and adapters read: (definition with ``{name: digest}`` maps, the blobs to upload).

    The one place a spec reads the host's disk, so the reader is imported here: the planner imports
    this module for :class:`ModelSpec` alone and stays free of I/O (tests/unit/test_layers.py).
    """
    from ansible_collections.llmops.ollama.plugins.module_utils.model.blobs import InvalidFiles, check_model_files  # noqa: PLC0415  # pylint: disable=import-outside-toplevel

    blobs: List[Dict[str, Any]] = []
    given = dict(definition)
    read: Dict[str, Dict[str, str]] = {}
    for kind in FILE_KINDS:
        if given.get(kind) is None:
            continue
        try:
            files = check_model_files(given[kind], kind)
        except InvalidFiles as exc:
            raise InvalidSpec(str(exc)) from None
        read[kind] = {item.name: item.digest for item in files}
        blobs.extend(item.as_dict() for item in files)
        given[kind] = None
    checked = check_definition(given, with_files=bool(read.get("files")))
    checked.update(read)
    if checked.get("from") and "files" in checked:
        raise InvalidSpec(
            "from and files both give the model's weights, and Ollama would use from and silently ignore files "
            "(server/create.go reads from first): give from to build on a model, or files to use your own weights"
        )
    if "adapters" in checked and not checked.get("from") and "files" not in checked:
        raise InvalidSpec("adapters apply a LoRA adapter to a model: give from (the base model) or files (its weights) as well")
    return checked, blobs


def check_definition(definition: Dict[str, Any], with_files: bool = False) -> Dict[str, Any]:
    """Validate a custom model's definition; keep only the fields that were given (``files``: see check_definition_files)."""
    given = {key: value for key, value in definition.items() if key in DEFINITION_FIELDS and key not in FILE_KINDS and value is not None}
    if not given:
        return {}
    base = given.get("from")
    checked: Dict[str, Any] = {}
    if not base and not with_files:
        fields = ", ".join(sorted(given))
        raise InvalidSpec(
            "%s describe a custom model, which needs from: the model to build it on (for example from: llama3.2:1b), or files: its own weights" % fields
        )
    if base:
        if not isinstance(base, str):
            raise InvalidSpec("from must be a model name string, got %s" % _type_name(base))
        try:
            parse_name(base)
        except InvalidModelName as exc:
            raise InvalidSpec("from: %s" % exc) from None
        checked["from"] = base
    for key in ("system", "template"):
        if key in given:
            if not isinstance(given[key], str):
                raise InvalidSpec("%s must be a string, got %s" % (key, _type_name(given[key])))
            if given[key] == "":
                # Ollama sets SYSTEM and TEMPLATE only when not empty (server/create.go): "" keeps what the base
                # model gives, so it is not compared either (ModelSpec.build warns)
                continue
            checked[key] = given[key]
    if "parameters" in given:
        checked["parameters"] = check_options(given["parameters"], "parameters")[0]
    if "messages" in given:
        checked["messages"] = check_messages(given["messages"])
    if "license" in given:
        license_value = check_license(given["license"])
        if license_value not in ("", []):  # "" adds no license layer (server/create.go setLicense is skipped)
            checked["license"] = license_value
    if "quantize" in given:
        if not isinstance(given["quantize"], str) or given["quantize"].upper() not in QUANTIZE_CHOICES:
            raise InvalidSpec("invalid quantize %r: choose one of %s (any case)" % (given["quantize"], ", ".join(QUANTIZE_CHOICES)))
        checked["quantize"] = given["quantize"]
    return checked


def model_argument_spec() -> Dict[str, Any]:
    """The options of one model: ollama_model's (besides name and the transfer options), and the keys of each
    ``models`` entry of ollama_model_sync (besides name and priority). One declaration for both."""
    return {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent", "loaded", "unloaded"]},
        "digest": {"type": "str"},
        "update": {"type": "bool", "default": False},
        "force": {"type": "bool", "default": False},
        "insecure": {"type": "bool", "default": False},
        "keep_alive": {"type": "raw"},
        "options": {"type": "dict"},
        "check_memory": {"type": "bool", "default": False},
        "from": {"type": "str"},
        "system": {"type": "str"},
        "template": {"type": "str"},
        "parameters": {"type": "dict"},
        "messages": {
            "type": "list",
            "elements": "dict",
            "options": {
                "role": {"type": "str", "required": True, "choices": list(MESSAGE_ROLES)},
                "content": {"type": "str", "required": True},
            },
        },
        "license": {"type": "raw"},
        "quantize": {"type": "str"},
        "files": {"type": "list", "elements": "dict", "options": _file_options()},
        "adapters": {"type": "list", "elements": "dict", "options": _file_options()},
        "require_capabilities": {"type": "list", "elements": "str", "choices": list(CAPABILITIES)},
    }


def _file_options() -> Dict[str, Any]:
    return {"path": {"type": "path", "required": True}, "name": {"type": "str"}}


__all__ = [
    "CAPABILITIES",
    "DEFINITION_FIELDS",
    "QUANTIZE_CHOICES",
    "STATES",
    "InvalidSpec",
    "ModelSpec",
    "check_capabilities",
    "check_definition",
    "check_definition_files",
    "check_options",
    "check_size",
    "model_argument_spec",
    "parse_keep_alive",
]
