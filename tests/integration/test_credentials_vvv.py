# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A credential in any URL-valued option, top-level or nested, never shows: real ansible-playbook -vvv runs.

Every URL-valued option of every module (api_url, registry_url, mirror, a sync entry's mirror, source,
the domain info's api_url, the domain's upstream and upstreams) x every spelling of a credential the one rule (core.urls) knows: userinfo,
a token holding '/' or '@', percent-encoded, a query token. The playbook is written per test with one
task per case (no loop: a loop item is the controller's to print, not the module's), and the URLs
come in variables, as a real playbook holds a secret.

One run shows both views: the default callback's -vvv output on stdout, and the results as the JSON
callback records them (callback_plugins/json_file.py, beside the collection's own callbacks). No module
reads the verbosity, so its results are those of a run without -vvv.
"""

from __future__ import annotations

import configparser
import json
import subprocess
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from tests.integration.playbook import REPO, playbook_command

pytestmark = pytest.mark.integration

SECRET = "tok3n-5ecr3t"
SPELLINGS = [
    "http://admin:%s@127.0.0.1:{port}" % SECRET,
    "http://admin:ab/%s@127.0.0.1:{port}" % SECRET,
    "http://%s/x@127.0.0.1:{port}" % SECRET,
    "http://admin:%s@x@127.0.0.1:{port}" % SECRET,
    "http://admin:%s%%2Fcd%%40@127.0.0.1:{port}" % SECRET,
    "http://127.0.0.1:{port}/?token=%s" % SECRET,
    "HTTP://127.0.0.1:{port}?a=1&access_token=%s" % SECRET,
]


def cases(url: str, tmp: Path) -> List[Tuple[str, str, Dict[str, Any]]]:
    state, api = str(tmp / "state"), "http://127.0.0.1:1"
    return [
        ("model api_url", "llmops.ollama.ollama_model", {"api_url": url, "name": "m", "state_dir": state}),
        ("model registry_url", "llmops.ollama.ollama_model", {"api_url": api, "registry_url": url, "name": "m", "state_dir": state}),
        ("model mirror", "llmops.ollama.ollama_model", {"api_url": api, "mirror": url, "name": "m", "state_dir": state}),
        ("sync mirror", "llmops.ollama.ollama_model_sync", {"api_url": api, "mirror": url, "models": ["m"], "state_dir": state}),
        ("sync entry mirror", "llmops.ollama.ollama_model_sync", {"api_url": api, "models": [{"name": "m", "mirror": url}], "state_dir": state}),
        ("sync registry_url", "llmops.ollama.ollama_model_sync", {"api_url": api, "registry_url": url, "models": ["m"], "state_dir": state}),
        ("model_info api_url", "llmops.ollama.ollama_model_info", {"api_url": url, "state_dir": state}),
        ("info api_url", "llmops.ollama.ollama_info", {"api_url": url}),
        ("mirror source", "llmops.ollama.ollama_mirror", {"path": str(tmp / "mirror"), "models": ["m"], "source": url}),
        ("domain_info api_url", "llmops.ollama.ollama_domain_info", {"api_url": url, "config_dir": str(tmp / "nginx")}),
        (
            "domain upstream",
            "llmops.ollama.ollama_domain",
            {"domain": "ollama.example.com", "upstream": url, "config_dir": str(tmp / "nginx"), "nginx_binary": str(tmp / "no-nginx")},
        ),
        (
            "domain upstreams",
            "llmops.ollama.ollama_domain",
            {"domain": "ollama.example.com", "upstreams": [url], "config_dir": str(tmp / "nginx"), "nginx_binary": str(tmp / "no-nginx")},
        ),
    ]


def record_json(path: Path) -> Dict[str, str]:
    """The environment that adds the json_file callback (the JSON callback's document, written to ``path``)
    to the callbacks ansible.cfg enables: the stdout callback and its output stay as they are."""
    config = configparser.ConfigParser()
    config.read(REPO / "ansible.cfg")
    enabled = [name.strip() for name in config.get("defaults", "callbacks_enabled", fallback="").split(",") if name.strip()]
    return {
        "ANSIBLE_CALLBACK_PLUGINS": str(Path(__file__).resolve().parent / "callback_plugins"),
        "ANSIBLE_CALLBACKS_ENABLED": ",".join([*enabled, "json_file"]),
        "LLMOPS_TEST_JSON_FILE": str(path),
    }


@pytest.mark.long
def test_no_credential_shows_in_vvv_output(tmp_path: Path) -> None:
    (tmp_path / "nginx").mkdir()
    tasks = []
    names = []
    urls = [spelling.format(port=1) for spelling in SPELLINGS]
    for index in range(len(urls)):
        # by variable, as a real playbook holds a secret (the controller quotes a failing task's source lines)
        for label, module, args in cases("{{ secret_urls[%d] }}" % index, tmp_path):
            name = "%s %d" % (label, index)
            names.append(name)
            tasks.append({"name": name, module: args, "ignore_errors": True})
    playbook = tmp_path / "credentials_vvv.yml"
    playbook.write_text(yaml.safe_dump([{"name": "URL credentials", "hosts": "all", "gather_facts": False, "tasks": tasks}], sort_keys=False))

    args, env = playbook_command(playbook, {"secret_urls": urls})
    args.append("-vvv")
    env["ANSIBLE_STDOUT_CALLBACK"] = "default"
    recorded = tmp_path / "results.json"
    env.update(record_json(recorded))
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=600, env=env, cwd=str(REPO), check=False)
    output = proc.stdout + proc.stderr
    assert "module_args" in output, "-vvv shows the invocation: the check below looks where the secret would be"
    assert "Traceback" not in output
    assert output.count("TASK [") == len(tasks), "every case ran"
    for fragment in (SECRET, SECRET.replace("-", "%2D"), "ab/" + SECRET):
        assert fragment not in output, (fragment, [line for line in output.splitlines() if fragment in line][:5])

    data = json.loads(recorded.read_text())
    results = {task["task"]["name"]: task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]}
    for name in names:
        result = results[name]
        refused = result.get("failed") is True
        if name.startswith(("domain_info", "info api_url")):  # domain_info does not use api_url; info reports an unhealthy server
            refused = refused or result.get("healthy") is False or result.get("changed") is False
        assert refused, (name, result)
        assert SECRET not in json.dumps(result), name
