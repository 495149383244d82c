# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The example pipelines of examples/ci: their commands, run here as the CI services would run them.

Not the CI services themselves: the YAML is parsed, the jobs' conditions checked, and each job's shell lines run
with bash in an inventory repository against the simulator, with the services' variables set. The merge-request
comment goes to a local HTTP server that stands in for the GitLab or GitHub API. The lines that install the tool
chain and the collection are left out (no network here; the test's virtualenv and the linked collection stand in).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import urllib.parse
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from tests.integration.playbook import COLLECTIONS, REPO, ensure_collection_link

pytestmark = pytest.mark.integration
EXAMPLES = REPO / "examples" / "ci"
INSTALLS = ("pip install", "collection install")


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.server.posts.append({"path": self.path, "headers": dict(self.headers), "body": self.rfile.read(length).decode()})  # type: ignore[attr-defined]
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"id": 1}')

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@pytest.fixture
def api() -> Iterator[Any]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    server.posts = []  # type: ignore[attr-defined]
    server.url = "http://127.0.0.1:%d" % server.server_address[1]  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def inventory_repo(root: Path, sim, tmp_path: Path) -> Path:
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ollama_site_manage_server": False,
        "ollama_api_url": sim.url,
        "ollama_models_registry_url": sim.url,
        "ollama_models_state_dir": str(tmp_path / "state" / root.name),
        "ollama_models_list": ["smollm2:135m"],
        "ollama_models_progress_interval": 1,
        "ollama_health_models_path": str(tmp_path),
    }
    (root / "inventory").mkdir(parents=True)
    (root / "inventory" / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"ollama_servers": {"hosts": {"node-1": host}}}}}))
    return root


def base_env(variables: Dict[str, str]) -> Dict[str, str]:
    ensure_collection_link()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "LLMOPS_"))}
    env.update(variables)
    env["ANSIBLE_COLLECTIONS_PATH"] = str(COLLECTIONS)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


def run_lines(lines: List[str], cwd: Path, env: Dict[str, str]) -> None:
    for line in lines:
        if any(word in line for word in INSTALLS):
            continue
        done = subprocess.run(["bash", "-eo", "pipefail", "-c", line], cwd=str(cwd), env=env, capture_output=True, text=True, timeout=600, check=False)
        assert done.returncode == 0, "%s\n%s\n%s" % (line, done.stdout[-3000:], done.stderr[-2000:])


def models(sim) -> List[str]:
    return sorted(m["name"] for m in sim.call("GET", "/api/tags")[1]["models"])


def test_gitlab_pipeline_comments_the_plan_on_merge_requests_and_applies_on_the_default_branch(make_sim, api, tmp_path: Path) -> None:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    assert pipeline["stages"] == ["plan", "apply"]
    assert pipeline["plan"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    assert "$CI_DEFAULT_BRANCH" in pipeline["apply"]["rules"][0]["if"]
    sim = make_sim("gitlab")
    repo = inventory_repo(tmp_path / "gitlab", sim, tmp_path)
    variables = {key: str(value) for key, value in pipeline["variables"].items()}
    ci = {"CI_API_V4_URL": api.url + "/api/v4", "CI_PROJECT_ID": "42", "CI_MERGE_REQUEST_IID": "7"}
    ci.update(GITLAB_PLAN_TOKEN="glpat-test", OLLAMA_VAULT_PASSWORD="v")
    env = base_env(dict(variables, **ci))
    before = pipeline["default"]["before_script"]

    run_lines(before + pipeline["plan"]["script"], repo, env)
    assert models(sim) == [], "the plan job changed the server"
    plan_md = (repo / "ollama-plan.md").read_text()
    assert json.loads((repo / "ollama-plan.json").read_text())["hosts"]["node-1"]["models"]["pull"][0]["name"] == "smollm2:135m"
    assert [post["path"] for post in api.posts] == ["/api/v4/projects/42/merge_requests/7/notes"]
    assert api.posts[0]["headers"]["PRIVATE-TOKEN"] == "glpat-test"
    assert urllib.parse.parse_qs(api.posts[0]["body"])["body"] == [plan_md]
    assert plan_md.startswith("## Ollama fleet plan (site.yml)") and "1 model(s) to pull" in plan_md
    assert all(path.endswith("ollama-plan." + ext) for path, ext in zip(pipeline["plan"]["artifacts"]["paths"], ("md", "json")))

    run_lines(before + pipeline["apply"]["script"], repo, env)
    assert models(sim) == ["smollm2:135m"]
    assert json.loads((repo / "ollama-plan.json").read_text())["mode"] == "apply"
    assert len(api.posts) == 1, "the apply job posts nothing"


def resolve(text: str, values: Dict[str, str]) -> str:
    """GitHub's ${{ ... }} expressions of the example, from the values a pull request event would give."""

    def one(match: re.Match) -> str:
        expression = match.group(1).strip()
        assert expression in values, "an expression the test does not know: %s" % expression
        return values[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", one, text)


def test_github_workflow_comments_the_plan_on_pull_requests_and_applies_on_main(make_sim, api, tmp_path: Path) -> None:
    workflow = yaml.safe_load((EXAMPLES / "github-actions.yml").read_text())
    assert set(workflow["on"]) == {"pull_request", "push"} and workflow["on"]["push"]["branches"] == ["main"]
    assert workflow["jobs"]["plan"]["if"] == "github.event_name == 'pull_request'"
    assert workflow["jobs"]["plan"]["permissions"]["pull-requests"] == "write"
    assert "refs/heads/main" in workflow["jobs"]["apply"]["if"]
    sim = make_sim("github")
    repo = inventory_repo(tmp_path / "github", sim, tmp_path)
    values = {"secrets.OLLAMA_VAULT_PASSWORD": "v", "secrets.GITHUB_TOKEN": "ghs_test", "github.event.pull_request.number": "9"}
    runner = {"GITHUB_API_URL": api.url, "GITHUB_REPOSITORY": "acme/fleet"}

    def run_job(name: str) -> None:
        for step in workflow["jobs"][name]["steps"]:
            if "uses" in step:
                assert step["uses"].split("@")[0] in ("actions/checkout", "actions/upload-artifact"), step
                continue
            env = base_env(dict({k: str(v) for k, v in workflow["env"].items()}, **runner))
            env.update({key: resolve(str(value), values) for key, value in (step.get("env") or {}).items()})
            run_lines([resolve(step["run"], values)], repo, env)

    run_job("plan")
    assert models(sim) == []
    plan_md = (repo / "ollama-plan.md").read_text()
    assert [post["path"] for post in api.posts] == ["/repos/acme/fleet/issues/9/comments"]
    assert api.posts[0]["headers"]["Authorization"] == "Bearer ghs_test"
    assert json.loads(api.posts[0]["body"]) == {"body": plan_md}
    assert "smollm2:135m" in plan_md

    run_job("apply")
    assert models(sim) == ["smollm2:135m"]
    assert len(api.posts) == 1
