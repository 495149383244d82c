# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tools/awx_surveys.py against the real roles' meta/argument_specs.yml and playbooks."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from tools import awx_surveys

REPO = Path(__file__).resolve().parents[3]
ROLES = ("ollama_server", "ollama_models", "ollama_proxy", "ollama_health")
QUESTION_TYPES = {"text", "textarea", "password", "integer", "float", "multiplechoice", "multiselect"}


def options(role: str) -> Dict[str, Dict[str, Any]]:
    return yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def by_variable(spec: List[Dict[str, Any]]) -> Dict[str, Dict[str, Any]]:
    return {q["variable"]: q for q in spec}


@pytest.fixture(scope="module")
def surveys(tmp_path_factory: pytest.TempPathFactory) -> Dict[str, Dict[str, Any]]:
    """The script run as a user runs it: one JSON file per playbook."""
    out = tmp_path_factory.mktemp("surveys")
    run = subprocess.run([sys.executable, str(REPO / "tools" / "awx_surveys.py"), "--output", str(out)], capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stderr
    return {path.stem: json.loads(path.read_text()) for path in out.glob("*.json")}


def test_one_survey_per_playbook(surveys: Dict[str, Dict[str, Any]]) -> None:
    assert set(surveys) == {path.stem for path in (REPO / "playbooks").glob("*.yml")}
    for name, data in surveys.items():
        assert data["name"] == "llmops.ollama %s.yml" % name
        assert isinstance(data["description"], str) and data["description"]
        for q in data["spec"]:
            assert q["type"] in QUESTION_TYPES, q
            assert q["question_name"] and len(q["question_name"]) <= 100, q
            assert not re.search(r"\b[CVOEPMIBUL]\(", q["question_name"] + q["question_description"]), q
        variables = [q["variable"] for q in data["spec"]]
        assert len(variables) == len(set(variables)), "a variable asked twice in %s" % name


def test_each_playbook_asks_for_the_options_of_the_roles_it_runs(surveys: Dict[str, Dict[str, Any]]) -> None:
    site = by_variable(surveys["site"]["spec"])
    for role in ROLES:
        assert any(v.startswith(role + "_") for v in site), role
    assert {v.split("_")[1] for v in by_variable(surveys["models"]["spec"])} == {"models"}
    assert {v.split("_")[1] for v in by_variable(surveys["server"]["spec"])} == {"server", "site"}, "server.yml reads ollama_site_serial"
    assert {v.split("_")[1] for v in by_variable(surveys["proxy"]["spec"])} == {"proxy"}
    assert {v.split("_")[1] for v in by_variable(surveys["health"]["spec"])} == {"health"}, "health.yml runs the ollama_health role alone"
    remove = {v.split("_")[1] for v in by_variable(surveys["remove"]["spec"])}
    assert remove == {"server", "proxy", "remove", "site"}


def test_each_playbook_asks_for_the_variables_it_reads_itself(surveys: Dict[str, Dict[str, Any]]) -> None:
    health = by_variable(surveys["health"]["spec"])
    # health.yml runs the ollama_health role: its API options (defaulting to the inventory's ollama_api_url/ollama_api_key) are asked
    assert {"ollama_health_probe", "ollama_health_probe_timeout", "ollama_health_models_path", "ollama_health_api_url", "ollama_health_api_key"} <= set(health)
    assert health["ollama_health_probe"]["choices"] == ["version", "inference"] and health["ollama_health_api_key"]["type"] == "password"
    mirror = by_variable(surveys["mirror"]["spec"])
    for variable in ("path", "models", "source", "bundle", "bundle_dest", "prune", "parallel", "min_free_space", "serve", "hosts"):
        assert "ollama_mirror_" + variable in mirror, variable
    assert "ollama_proxy_domains" not in mirror, "mirror.yml sets it itself"
    site = by_variable(surveys["site"]["spec"])
    assert site["ollama_site_serial"]["default"] == "100%"
    assert not {"ollama_models_disk_path", "ollama_models_probe", "ollama_models_probe_timeout"} & set(site), "site.yml sets them itself"


def test_the_remove_survey_can_succeed(surveys: Dict[str, Dict[str, Any]]) -> None:
    remove = by_variable(surveys["remove"]["spec"])
    confirm = remove["ollama_remove_confirm"]
    assert confirm["required"] is True and confirm["type"] == "multiplechoice" and confirm["choices"] == ["yes"]
    assert surveys["remove"]["spec"][0]["variable"] == "ollama_remove_confirm", "asked first"
    refused = {"ollama_server_state", "ollama_proxy_state", "ollama_server_purge_data", "ollama_proxy_install"}
    assert not refused & set(remove), "remove.yml sets them (and refuses ollama_server_state, ollama_proxy_state as extra vars)"
    assert remove["ollama_remove_purge"]["default"] == "false"


def test_a_variable_a_playbook_reads_without_a_description_fails_the_script(tmp_path: Path) -> None:
    playbook = tmp_path / "remove.yml"
    playbook.write_text("- hosts: all\n  tasks:\n    - ansible.builtin.debug:\n        msg: '{{ ollama_remove_new_switch | default(1) }}'\n")
    with pytest.raises(awx_surveys.SurveyError, match=r"remove\.yml reads ollama_remove_new_switch, which no role spec"):
        awx_surveys.survey(playbook)


@pytest.mark.parametrize("length", [60, 97, 98, 99, 100, 101, 150])
def test_question_names_fit_awx_without_cutting_a_word(length: int) -> None:
    words = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau upsilon " * 3).split()
    text = ""
    for word in words:
        if len(text) >= length:
            break
        text = (text + " " + word).strip()
    name = awx_surveys.first_sentence(text)
    assert len(name) <= 100
    kept = name[:-3].split() if name.endswith("...") else name.split()
    assert kept == text.split()[: len(kept)], "whole words only: %r" % name


def test_generated_names_end_on_whole_words(surveys: Dict[str, Dict[str, Any]]) -> None:
    for data in surveys.values():
        for q in data["spec"]:
            name = q["question_name"]
            if name.endswith("..."):
                stem = name[:-3]
                description = q["question_description"]
                assert description.startswith(stem), q["variable"]
                assert description[len(stem)] in " ,;:(", (q["variable"], name)


def test_every_option_is_a_question_or_named_as_left_out(surveys: Dict[str, Dict[str, Any]]) -> None:
    site = surveys["site"]
    asked = by_variable(site["spec"])
    set_by_site = set(awx_surveys.playbook_sets(REPO / "playbooks" / "site.yml"))
    for role in ROLES:
        for variable, spec in options(role).items():
            if variable in set_by_site:
                assert variable not in asked and variable in site["description"], variable
                continue
            structured = (
                spec.get("type") == "dict"
                or (spec.get("type") == "list" and spec.get("elements", "str") not in ("str", "path", "raw"))
                or (spec.get("type") == "raw" and isinstance(spec.get("default"), (dict, list)))
            )
            if structured:
                assert variable not in asked and variable in site["description"], variable
            else:
                assert variable in asked, variable


def test_types_choices_defaults_and_required_follow_the_specs(surveys: Dict[str, Dict[str, Any]]) -> None:
    asked = by_variable(surveys["site"]["spec"])
    checked = {"password": 0, "bool": 0, "choices": 0, "int": 0, "list": 0}
    for role in ROLES:
        for variable, spec in options(role).items():
            if variable not in asked:
                continue
            q, kind, default = asked[variable], spec.get("type", "str"), spec.get("default")
            assert q["required"] == bool(spec.get("required", False)) or (q["type"] == "multiplechoice" and "" in spec.get("choices", [])), variable
            if spec.get("no_log"):
                assert q["type"] == "password" and q["default"] == "", variable
                checked["password"] += 1
            elif kind == "bool":
                assert q["type"] == "multiplechoice" and q["choices"] == ["true", "false"], variable
                assert q["default"] == ("" if default is None else "true" if default else "false"), variable  # "": unset
                checked["bool"] += 1
            elif spec.get("choices"):
                assert q["type"] == "multiplechoice", variable
                assert q["choices"] == [str(c) for c in spec["choices"] if c != ""], variable
                assert q["default"] == ("" if default is None else str(default)), variable
                checked["choices"] += 1
            elif kind in ("int", "float"):
                assert q["type"] == {"int": "integer", "float": "float"}[kind], variable
                if default is not None:
                    assert q["default"] == default, variable
                checked["int"] += 1
            elif kind == "list":
                assert q["type"] == "text" and "Comma-separated" in q["question_description"], variable
                assert q["default"] == ",".join(str(v) for v in default or []), variable
                checked["list"] += 1
            else:
                assert q["type"] == "text" and q["max"] >= 255, variable
                assert q["default"] == ("" if default is None else str(default)), variable
    assert all(checked.values()), checked


def test_secrets_are_password_questions_without_defaults(surveys: Dict[str, Dict[str, Any]]) -> None:
    secret = [(role, v) for role in ROLES for v, spec in options(role).items() if spec.get("no_log")]
    assert ("ollama_models", "ollama_models_api_key") in secret
    for name, data in surveys.items():
        for q in data["spec"]:
            if q["type"] == "password":
                assert q["default"] == "", (name, q["variable"])
    models = by_variable(surveys["models"]["spec"])
    assert models["ollama_models_api_key"]["type"] == "password"


def test_a_survey_answer_passes_the_role_argument_spec(surveys: Dict[str, Dict[str, Any]], tmp_path: Path) -> None:
    """AWX sends answers as strings: the defaults of the models survey, as extra vars, pass the role's own validation."""
    answers = {q["variable"]: q["default"] for q in surveys["models"]["spec"] if q.get("default") not in (None, "")}
    answers["ollama_models_list"] = "smollm2:135m,all-minilm"
    from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

    spec = yaml.safe_load((REPO / "roles" / "ollama_models" / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]
    argument_spec = {k: {key: v[key] for key in ("type", "elements", "choices", "no_log", "required") if key in v} for k, v in spec.items()}
    result = ArgumentSpecValidator(argument_spec).validate(answers)
    assert result.error_messages == []
    assert result.validated_parameters["ollama_models_list"] == ["smollm2:135m", "all-minilm"]
    assert result.validated_parameters["ollama_models_exclusive"] is False


def test_without_defaults_pre_fills_nothing() -> None:
    data = awx_surveys.survey(REPO / "playbooks" / "models.yml", defaults=False)
    assert data["spec"], "no questions"
    assert all(q.get("default") in (None, "") for q in data["spec"]), [q for q in data["spec"] if q.get("default") not in (None, "")]


def test_a_type_without_question_is_refused() -> None:
    with pytest.raises(awx_surveys.SurveyError, match="x_opt: type 'bits' has no survey question"):
        awx_surveys.question("x_opt", {"type": "bits", "description": "A thing."})
    with pytest.raises(awx_surveys.SurveyError, match="no_log option of type int"):
        awx_surveys.question("x_secret", {"type": "int", "no_log": True})


def test_markup_is_made_plain() -> None:
    text = awx_surveys.plain(["Use O(a=b) with V(x) and M(llmops.ollama.ollama_model#module:name), see L(docs,https://example.com)."])
    assert text == "Use a=b with x and llmops.ollama.ollama_model, see docs."
