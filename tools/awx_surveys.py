# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AWX / Automation Controller survey specs from what each playbook reads, one per playbook.

    python tools/awx_surveys.py [--output DIR]        (default .build/awx/surveys)

writes DIR/<playbook>.json for every playbook in playbooks/: the options of the roles the
playbook runs (``roles:``, ``include_role``, ``import_role``, also with a templated role name
over a loop of this collection's roles; the entry point named by ``tasks_from``, else
``main``), as survey questions, less the variables the playbook sets itself (the ``vars`` of its
``include_role`` and ``import_tasks``: an answer would override them); then the variables the
playbook reads itself, from tools/playbook_vars.yml (an ``ollama_*`` variable that the playbook
reads and that is neither there nor in a role's spec fails the script). POST one to a job template's
``/api/v2/job_templates/<id>/survey_spec/`` (or paste it in the UI).

Mapping (argument spec -> survey question):

- ``str``, ``path`` -> ``text``; with ``choices`` -> ``multiplechoice`` (an empty choice
  means "unset": the question is then optional and the empty choice is left out);
- ``no_log: true`` -> ``password``, never with a default (keep secrets in credentials or vault);
- ``int`` -> ``integer``, ``float`` -> ``float``;
- ``bool`` -> ``multiplechoice`` of ``true`` / ``false`` (AWX has no boolean question; the
  roles read the strings as booleans);
- ``list`` of ``str``, ``path`` or ``raw`` -> ``text``, comma-separated (Ansible's argument
  spec splits a string at commas); with element ``choices`` -> ``multiselect``;
- ``dict``, and lists of dictionaries -> left out (structured data belongs in inventory);
  the survey's description names them;
- ``required: true`` -> ``required``; ``default`` -> ``default`` (lists joined with commas).

AWX sends every answer, a pre-filled default too, as an extra variable, and extra variables
override inventory. ``--without-defaults`` leaves the defaults out, so that an unanswered
question leaves the inventory's (or the role's) value in force.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Tuple

import yaml

REPO = Path(__file__).resolve().parents[1]
COLLECTION = "llmops.ollama"
TEXT_MAX = 1024
LIST_ELEMENTS = ("str", "path", "raw")
# Ansible's documentation markup: C(x), V(x), O(x), O(x=y), E(x), P(x#type), M(x), I(x), B(x), U(x), L(text,url)
MARKUP = re.compile(r"\b([CVOEPMIBUL])\(([^()]*)\)")
ROLE_REF = re.compile(re.escape(COLLECTION) + r"\.(\w+)")


class SurveyError(ValueError):
    """An argument spec this script cannot turn into a survey question."""


def plain(text: Any) -> str:
    """A description (string or list of paragraphs) as plain text, without Ansible's markup."""
    paragraphs = text if isinstance(text, list) else [text or ""]

    def unmark(match: re.Match[str]) -> str:
        kind, inner = match.group(1), match.group(2)
        if kind == "L":
            return inner.rsplit(",", 1)[0].strip()
        if kind in ("M", "P"):
            return inner.split("#", 1)[0]
        return inner

    return " ".join(MARKUP.sub(unmark, str(p)).strip() for p in paragraphs if p)


def first_sentence(text: str, limit: int = 100) -> str:
    """The first sentence, within AWX's limit for a question name; a longer one is cut at a word boundary."""
    sentence = re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0].rstrip(".")
    if len(sentence) <= limit:
        return sentence
    cut = sentence[: limit - 3]
    if " " in cut and not sentence[limit - 3].isspace():
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:(") + "..."


def as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(as_text(v) for v in value)
    return "" if value is None else str(value)


def question(variable: str, spec: Dict[str, Any], defaults: bool = True) -> Optional[Dict[str, Any]]:
    """The survey question of one role option, or None when it is left out (structured data)."""
    if not defaults:
        spec = {k: v for k, v in spec.items() if k != "default"}
    kind = spec.get("type", "str")
    description = plain(spec.get("description"))
    entry: Dict[str, Any] = {
        "question_name": first_sentence(description) or variable,
        "question_description": description,
        "variable": variable,
        "required": bool(spec.get("required", False)),
        "new_question": True,
    }
    default = spec.get("default")
    choices = [as_text(c) for c in spec.get("choices") or []]
    if spec.get("no_log"):
        if kind != "str":
            raise SurveyError("%s: no_log option of type %s (a password question holds a string)" % (variable, kind))
        entry.update(type="password", min=0, max=TEXT_MAX, default="")
        return entry
    if kind in ("str", "path"):
        if choices:
            entry.update(type="multiplechoice", choices=[c for c in choices if c != ""])
            if "" in choices:
                entry["required"] = False
        else:
            entry.update(type="text", min=0, max=TEXT_MAX)
    elif kind == "bool":
        entry.update(type="multiplechoice", choices=["true", "false"])
    elif kind == "int":
        entry["type"] = "integer"
    elif kind == "float":
        entry["type"] = "float"
    elif kind == "raw":
        # a number or a word (ollama_server_instances: 4 or per_gpu) is a text answer; structured data is left out
        if isinstance(default, (dict, list)):
            return None
        entry.update(type="text", min=0, max=TEXT_MAX)
    elif kind == "list":
        elements = spec.get("elements", "str")
        if elements not in LIST_ELEMENTS:
            return None
        if choices:
            entry.update(type="multiselect", choices=choices)
            entry["default"] = "\n".join(as_text(v) for v in default or [])  # AWX: one choice per line, "" for none
            return entry
        entry.update(type="text", min=0, max=TEXT_MAX)
        entry["question_description"] = (description + " Comma-separated.").strip()
    elif kind == "dict":
        return None
    else:
        raise SurveyError("%s: type %r has no survey question (add it to tools/awx_surveys.py)" % (variable, kind))
    if default is not None and default != []:
        entry["default"] = default if kind in ("int", "float") else as_text(default)
    elif entry["type"] in ("text", "multiplechoice"):
        entry["default"] = ""
    return entry


def role_spec(role: str, entry_point: str = "main") -> Dict[str, Any]:
    path = REPO / "roles" / role / "meta" / "argument_specs.yml"
    specs = yaml.safe_load(path.read_text())["argument_specs"]
    if entry_point not in specs:
        raise SurveyError("%s has no entry point %r (it has %s)" % (path.relative_to(REPO), entry_point, ", ".join(sorted(specs))))
    return specs[entry_point]


def _role_refs(tasks: Iterable[Any]) -> Iterable[Tuple[str, str]]:
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            yield from _role_refs(task.get(key))
        for action in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
            if not isinstance(task.get(action), dict):
                continue
            name, entry_point = str(task[action]["name"]), task[action].get("tasks_from", "main")
            if "{{" in name:
                # a templated role name (a loop over roles): every role of this collection the task names
                for role in ROLE_REF.findall(yaml.safe_dump(task)):
                    if (REPO / "roles" / role).is_dir():
                        yield "%s.%s" % (COLLECTION, role), entry_point
            else:
                yield name, entry_point


def playbook_roles(path: Path) -> List[Tuple[str, str]]:
    """(role, entry point) of this collection's roles that the playbook runs, in order, once each."""
    found: List[Tuple[str, str]] = []
    for play in yaml.safe_load(path.read_text()) or []:
        refs: List[Tuple[str, str]] = []
        for role in play.get("roles") or []:
            name = role if isinstance(role, str) else role.get("role") or role.get("name")
            refs.append((name, "main"))
        for section in ("pre_tasks", "tasks", "post_tasks"):
            refs.extend(_role_refs(play.get(section)))
        for name, entry_point in refs:
            short = name.split(".")[-1]
            if (REPO / "roles" / short).is_dir() and (name.startswith(COLLECTION + ".") or "." not in name):
                ref = (short, entry_point.split(".")[0])
                if ref not in found:
                    found.append(ref)
    return found


PLAYBOOK_VARS = REPO / "tools" / "playbook_vars.yml"
# a variable name where it is read: not part of a longer name (__ollama_x is internal)
VARIABLE_REF = re.compile(r"(?<![A-Za-z0-9_])(ollama_[a-z0-9_]*[a-z0-9])")


def _task_files(path: Path, tasks: Iterable[Any]) -> Iterable[Path]:
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            yield from _task_files(path, task.get(key))
        for action in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks", "import_tasks", "include_tasks"):
            target = task.get(action)
            if isinstance(target, str) and "{{" not in target:
                included = (path.parent / target).resolve()
                if included.is_file():
                    yield included
                    yield from _task_files(included, yaml.safe_load(included.read_text()))


def playbook_reads(path: Path) -> List[str]:
    """Every ollama_* name in the playbook and the task files it imports, in order, once each."""
    files = [path]
    for play in yaml.safe_load(path.read_text()) or []:
        for section in ("pre_tasks", "tasks", "post_tasks"):
            files.extend(_task_files(path, play.get(section)))
    names: List[str] = []
    for file in files:
        for name in VARIABLE_REF.findall(file.read_text()):
            if name not in names:
                names.append(name)
    return names


def _vars_set(tasks: Iterable[Any]) -> Iterable[str]:
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            yield from _vars_set(task.get(key))
        runs = any(key.split(".")[-1] in ("include_role", "import_role", "import_tasks", "include_tasks") for key in task)
        if runs and isinstance(task.get("vars"), dict):
            yield from task["vars"]


def playbook_sets(path: Path) -> List[str]:
    """The variables the playbook gives its roles and task files itself (an extra var would override them)."""
    names: List[str] = []
    for play in yaml.safe_load(path.read_text()) or []:
        for section in ("pre_tasks", "tasks", "post_tasks"):
            names.extend(_vars_set(play.get(section)))
        for role in play.get("roles") or []:
            if isinstance(role, dict):
                names.extend(k for k in role if k not in ("role", "name", "tags", "when", "vars"))
                names.extend(role.get("vars") or {})
    return names


def playbook_options(playbook: Path, roles_asked: Iterable[str]) -> Dict[str, Any]:
    """The options of the variables the playbook reads itself (tools/playbook_vars.yml); SurveyError for one it does not know."""
    known = yaml.safe_load(PLAYBOOK_VARS.read_text())
    own = (known.get("playbooks") or {}).get(playbook.name) or {}
    options = dict(own.get("options") or {})
    shared = known.get("shared") or {}
    ignored = set(known.get("not_asked") or []) | set(own.get("not_asked") or []) | set(roles_asked) | set(playbook_sets(playbook))
    unknown = []
    for name in playbook_reads(playbook):
        if name in options or name in ignored:
            continue
        if name in shared:
            options[name] = shared[name]
        else:
            unknown.append(name)
    if unknown:
        raise SurveyError(
            "%s reads %s, which no role spec and no entry of %s describe: add them there (options, or not_asked)"
            % (playbook.name, ", ".join(unknown), PLAYBOOK_VARS.relative_to(REPO))
        )
    return options


def survey(playbook: Path, defaults: bool = True) -> Dict[str, Any]:
    """The survey spec of one playbook."""
    spec: List[Dict[str, Any]] = []
    left_out: List[str] = []
    set_here = set(playbook_sets(playbook))
    seen = set()
    roles = playbook_roles(playbook)
    role_options: Dict[str, Any] = {}
    for role, entry_point in roles:
        for variable, option in (role_spec(role, entry_point).get("options") or {}).items():
            role_options.setdefault(variable, option)
    own = playbook_options(playbook, role_options)
    for variable, option in [*own.items(), *role_options.items()]:
        if variable in seen or variable in set_here:
            continue
        seen.add(variable)
        item = question(variable, option, defaults)
        if item is None:
            left_out.append(variable)
        else:
            spec.append(item)
    parts = []
    if own:
        parts.append("Variables of %s" % playbook.name)
    if roles:
        parts.append("options of %s" % ", ".join("%s.%s" % (COLLECTION, r) for r, _e in roles))
    description = " and ".join(parts) if parts else "No variables"
    description = description[0].upper() + description[1:]
    if set_here:
        description += "; set by the playbook itself, not asked: %s" % ", ".join(sorted(set_here))
    if left_out:
        description += "; set in inventory (structured): %s" % ", ".join(left_out)
    return {"name": "%s %s" % (COLLECTION, playbook.name), "description": description + ".", "spec": spec}


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--output", type=Path, default=REPO / ".build" / "awx" / "surveys", help="directory of the <playbook>.json files")
    parser.add_argument("--without-defaults", action="store_true", help="no pre-filled answers (they would override inventory)")
    args = parser.parse_args(argv)
    args.output.mkdir(parents=True, exist_ok=True)
    for playbook in sorted((REPO / "playbooks").glob("*.yml")):
        target = args.output / (playbook.stem + ".json")
        data = survey(playbook, defaults=not args.without_defaults)
        target.write_text(json.dumps(data, indent=2) + "\n")
        print("%s: %d questions" % (target, len(data["spec"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
