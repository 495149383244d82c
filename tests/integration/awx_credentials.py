# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's AWX credential types, and their injectors rendered the way AWX renders them for a job.

AWX (awx/main/models/credential/__init__.py, CredentialType.inject_credential): the namespace holds the
credential's non-empty inputs (booleans always, False when unset); every ``env`` value and every leaf of
``extra_vars`` (nested dicts and lists allowed) is rendered with Jinja's ImmutableSandboxedEnvironment; the
extra vars go to a file in the private data directory's ``env/`` (mode 0400), every string tagged ``!unsafe``,
passed as ``-e @/runner/env/<file>``; the env values join the job's environment.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Tuple

import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from tests.integration.playbook import REPO

CREDENTIAL_TYPES = REPO / "extensions" / "awx" / "credential_types"


def credential_types() -> Dict[str, Dict[str, Any]]:
    """Every shipped credential type, by its name."""
    found = {}
    for path in sorted(CREDENTIAL_TYPES.glob("*.yml")):
        definition = yaml.safe_load(path.read_text())
        found[definition["name"]] = definition
    return found


def namespace(definition: Dict[str, Any], inputs: Dict[str, Any]) -> Dict[str, Any]:
    values: Dict[str, Any] = {}
    for field in definition["inputs"]["fields"]:
        value = inputs.get(field["id"])
        if field.get("type") == "boolean":
            values[field["id"]] = bool(value) if value is not None else False
        elif value is not None and str(value) != "":
            values[field["id"]] = value
    missing = [name for name in definition["inputs"].get("required", []) if name not in values]
    if missing:
        raise ValueError("AWX refuses a %s credential without %s" % (definition["name"], ", ".join(missing)))
    return values


def _render(node: Any, env: ImmutableSandboxedEnvironment, values: Dict[str, Any]) -> Any:
    if isinstance(node, dict):
        return {_render(key, env, values): _render(value, env, values) for key, value in node.items()}
    if isinstance(node, list):
        return [_render(item, env, values) for item in node]
    return env.from_string(node).render(**values)


class _Unsafe(str):
    """A string AWX's safe_dump writes with the !unsafe tag (Ansible never templates it)."""


def _unsafe(node: Any) -> Any:
    if isinstance(node, dict):
        return {key: _unsafe(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unsafe(item) for item in node]
    return _Unsafe(node) if isinstance(node, str) else node


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Unsafe, lambda dumper, data: dumper.represent_scalar("!unsafe", str(data)))


def inject(definition: Dict[str, Any], inputs: Dict[str, Any], private_data_dir: Path) -> Tuple[Dict[str, str], List[str]]:
    """The job's environment and the ansible-playbook arguments that one credential adds, as AWX builds them."""
    values = namespace(definition, inputs)
    sandbox = ImmutableSandboxedEnvironment()
    injectors = definition.get("injectors", {})
    env = {name: sandbox.from_string(template).render(**values) for name, template in injectors.get("env", {}).items()}
    args: List[str] = []
    extra_vars = _render(injectors.get("extra_vars", {}), sandbox, values)
    if extra_vars:
        (private_data_dir / "env").mkdir(parents=True, exist_ok=True)
        handle, path = tempfile.mkstemp(dir=str(private_data_dir / "env"))
        with os.fdopen(handle, "w") as stream:
            stream.write(yaml.dump(_unsafe(extra_vars), Dumper=_Dumper, default_flow_style=False))
        os.chmod(path, 0o400)
        args += ["-e", "@/runner/env/%s" % os.path.basename(path)]
    return env, args
