# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each AWX survey, fed its own defaults as AWX sends them (strings, as extra vars), runs its playbook to success.

Only the answers that point the run at this test's simulator and directories are given (AWX users answer
those too); every other question keeps its pre-filled default.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core.units import format_size
from tests.integration.playbook import REPO, PlaybookRun, run_playbook
from tools import awx_surveys

pytestmark = pytest.mark.integration


def defaults(playbook: str, answered: dict[str, Any]) -> dict[str, Any]:
    """The survey's pre-filled answers as AWX sends them: every question with a default (an unanswered optional one is not sent)."""
    answers = {}
    for q in awx_surveys.survey(REPO / "playbooks" / playbook)["spec"]:
        default = q.get("default")
        if default in (None, ""):
            assert not q["required"] or q["variable"] in answered, "%s: a required question without a default must be answered" % q["variable"]
            continue
        answers[q["variable"]] = str(default)
    return answers


def inventory(tmp_path: Path, group: str = "ollama_servers") -> str:
    path = tmp_path / "inventory.json"
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}
    path.write_text(json.dumps({"all": {"children": {group: {"hosts": {"localhost": host}}}}}))
    return str(path)


def run(playbook: str, answers: dict[str, Any], tmp_path: Path, group: str = "ollama_servers") -> PlaybookRun:
    survey = defaults(playbook, answers)
    unknown = set(answers) - {q["variable"] for q in awx_surveys.survey(REPO / "playbooks" / playbook)["spec"]}
    assert not unknown, "answers to questions the survey does not ask: %s" % unknown
    variables = {**survey, **answers}
    result = run_playbook(REPO / "playbooks" / playbook, inventory=inventory(tmp_path, group), cli_vars=variables, timeout=300)
    assert result.rc == 0, "%s: %s" % (playbook, result.stdout[-3000:])
    return result


def test_the_models_health_and_site_surveys(sim, tmp_path: Path) -> None:
    models = {
        "ollama_models_list": "smollm2:135m",
        "ollama_models_api_url": sim.url,
        "ollama_models_registry_url": sim.url,
        "ollama_models_models_path": str(sim.data),
        "ollama_models_state_dir": str(tmp_path / "ledger"),
    }
    run("models.yml", models, tmp_path)
    # health.yml runs the ollama_health role: its survey asks the role's own API URL
    run("health.yml", {"ollama_health_api_url": sim.url, "ollama_health_models_path": str(tmp_path)}, tmp_path)
    # site.yml on a server that another tool runs (ollama_site_manage_server answered false), without proxy domains
    run("site.yml", {**models, "ollama_site_manage_server": "false", "ollama_api_url": sim.url, "ollama_health_models_path": str(tmp_path)}, tmp_path)


def test_the_remove_survey_with_the_confirmation_answered(tmp_path: Path) -> None:
    name = "llmops-operator-survey-" + uuid.uuid4().hex[:8]  # a container that does not exist: removed is removed
    run("remove.yml", {"ollama_remove_confirm": "yes", "ollama_server_container_name": name, "ollama_server_models_volume": name}, tmp_path)


def test_the_mirror_survey(sim, tmp_path: Path) -> None:
    answers = {
        "ollama_mirror_hosts": "localhost",
        "ollama_mirror_path": str(tmp_path / "mirror"),
        "ollama_mirror_models": "smollm2:135m",
        "ollama_mirror_source": sim.url,
        "ollama_mirror_serve": "false",
    }
    filled = run("mirror.yml", answers, tmp_path, group="mirror")
    assert any((tmp_path / "mirror").rglob("sha256*")), "the mirror was filled"
    fetched = filled.results("Fetch the models into the mirror")
    line = filled.results("Summarize the mirror run")["msg"]
    assert line == "Mirror %s: 1 models, %s fetched (%d blobs)" % (tmp_path / "mirror", format_size(fetched["transferred"]), len(fetched["fetched"])), line
    assert fetched["transferred"] > 2_000_000, "smollm2:135m's bytes came over HTTP and are counted"
