# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site.yml run the way AWX runs a job: ansible-runner, process isolation in the execution environment image.

`make ee` builds the image (llmops/ollama-ee:<collection version>); `make awx` builds it when it is
missing and runs this file. The job reaches a simulator on the host network, and is compared with a
plain ansible-playbook run of the same inventory against a second simulator.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
import yaml

from tests.integration.awx_credentials import credential_types, inject
from tests.integration.nginx_fixture import NGINX, NginxServer, request
from tests.integration.playbook import REPO, playbook_command, run_playbook

VERSION = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
IMAGE = os.environ.get("LLMOPS_EE_IMAGE") or "llmops/ollama-ee:%s" % VERSION  # another tag of the image: LLMOPS_EE_IMAGE
# bytes/s: llama3.2 (6.3 MB) takes about 10 s in the plain run, several progress rounds; about 50 s in the
# job, whose first round comes after the role's include loops, slower when every item is a job event.
PLAIN_RATE = 600_000
JOB_RATE = 120_000
MODELS = ["llama3.2:latest", {"name": "smollm2:135m", "priority": "high"}]
PROGRESS_RE = re.compile(r"llama3\.2:latest: (\d+\.\d)% \((\d+\.\d) of 6\.3 MB\) at [0-9.]+ (?:B|KB|MB|GB)/s, ETA \S+")
COUNTS_HEADER = ["added", "updated", "removed", "loaded", "unloaded", "unchanged", "failed", "unavailable", "skipped"]


def _image_present() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True, check=False).returncode == 0


pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not _image_present(), reason="the execution environment image %s is missing: run `make ee` (make awx does)" % IMAGE),
]

Outcome = Tuple[str, str]  # (task name, ok|changed|failed|skipped|unreachable)


def host_vars(url: str, state_dir: str, api_key: str, webhook: str) -> Dict[str, Any]:
    """One Ollama host, reached without SSH: the simulator stands in for the server that ollama_server would run."""
    return {
        "ansible_connection": "local",
        "ansible_python_interpreter": "{{ ansible_playbook_python }}",
        "ollama_site_manage_server": False,
        "ollama_api_url": url,
        "ollama_api_key": api_key,
        "ollama_server_alert_webhook": webhook,
        "ollama_models_registry_url": url,
        "ollama_models_state_dir": state_dir,
        "ollama_models_progress_interval": 1,
        "ollama_models_list": MODELS,
        "ollama_health_models_path": "/tmp",
    }


def write_inventory(path: Path, variables: Dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"all": {"children": {"ollama_servers": {"hosts": {"localhost": variables}}}}}))
    return path


def outcome(changed: bool, failed: bool, skipped: bool, unreachable: bool = False) -> str:
    if unreachable:
        return "unreachable"
    if failed:
        return "failed"
    if skipped:
        return "skipped"
    return "changed" if changed else "ok"


def plain_outcomes(data: Dict[str, Any]) -> List[Outcome]:
    """Per task (in order, once per run of it) the outcome on localhost, from the JSON callback."""
    found = []
    for play in data["plays"]:
        for task in play["tasks"]:
            result = task["hosts"].get("localhost")
            if result is None:
                continue
            name = task["task"]["name"].split(" : ", 1)[-1]
            found.append((name, outcome(bool(result.get("changed")), bool(result.get("failed")), bool(result.get("skipped")), bool(result.get("unreachable")))))
    return found


def runner_outcomes(events: List[Dict[str, Any]]) -> List[Outcome]:
    """The same, from ansible-runner's job events (one runner_on_* event per task and host)."""
    kinds = {"runner_on_ok": "ok", "runner_on_failed": "failed", "runner_on_skipped": "skipped", "runner_on_unreachable": "unreachable"}
    found = []
    for event in events:
        kind = kinds.get(event["event"])
        if kind is None:
            continue
        data = event["event_data"]
        result = data.get("res") or {}
        name = data["task"].split(" : ", 1)[-1]
        found.append((name, outcome(bool(result.get("changed")), kind == "failed", kind == "skipped", kind == "unreachable")))
    return found


def watch_tasks(pattern: str) -> set:
    """Task names of the progress machinery: how often they run depends on timing (a round per progress interval)."""
    return {task["name"] for path in (REPO / "roles" / "ollama_models" / "tasks").glob(pattern) for task in yaml.safe_load(path.read_text())}


def summarise(outcomes: List[Outcome]) -> Dict[str, Any]:
    """Every task but the progress machinery: its outcome, in order. The rounds: which of their tasks ran, and none failed."""
    machinery, rounds = watch_tasks("watch*.yml"), watch_tasks("watch_round.yml")
    assert "Print the pull progress" in rounds
    return {
        "tasks": [(name, result) for name, result in outcomes if name not in machinery],
        "rounds": sorted({name for name, _result in outcomes if name in rounds}),
        "failed_rounds": [(name, result) for name, result in outcomes if name in machinery and result in ("failed", "unreachable")],
    }


def job_events(artifacts: Path) -> List[Dict[str, Any]]:
    files = sorted((artifacts / "job_events").glob("*.json"), key=lambda p: int(p.name.split("-", 1)[0]))
    return [json.loads(path.read_text()) for path in files]


def test_site_job_in_the_execution_environment_matches_a_plain_run(make_sim, tmp_path: Path) -> None:
    api_key = "sk-awx-" + secrets.token_hex(16)
    webhook_token = "whk-" + secrets.token_hex(16)
    webhook = "https://hooks.example.com/services/" + webhook_token

    # The plain run, as `ansible-playbook -i INVENTORY playbooks/site.yml` on the controller.
    plain_sim = make_sim("plain", rate=PLAIN_RATE)
    plain_inventory = write_inventory(tmp_path / "plain" / "inventory.json", host_vars(plain_sim.url, str(tmp_path / "plain" / "state"), api_key, webhook))
    plain = run_playbook(REPO / "playbooks" / "site.yml", inventory=str(plain_inventory), timeout=600)
    assert plain.rc == 0, plain.stdout[-3000:] + plain.stderr[-2000:]

    # The AWX job: a private data directory as AWX writes it (project, inventory, environment),
    # run by ansible-runner in the execution environment image, on the host network.
    job_sim = make_sim("job", rate=JOB_RATE)
    private = tmp_path / "job"
    shutil.copytree(REPO / "playbooks", private / "project", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "ansible.cfg", private / "project" / "ansible.cfg")
    write_inventory(private / "inventory" / "hosts.json", host_vars(job_sim.url, "/tmp/llmops-ollama-state", api_key, webhook))
    (private / "env").mkdir()
    (private / "env" / "envvars").write_text(yaml.safe_dump({"ANSIBLE_NOCOLOR": "1", "LLMOPS_OLLAMA_AUDIT_FILE": "/runner/artifacts/audit.jsonl"}))
    bindir = Path(sys.executable).parent
    job = subprocess.run(
        [
            str(bindir / "ansible-runner"),
            "run",
            str(private),
            "--playbook",
            "site.yml",
            "--ident",
            "awx-job",
            "--process-isolation",
            "--process-isolation-executable",
            "docker",
            "--container-image",
            IMAGE,
            "--container-option=--network=host",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        cwd=str(tmp_path),
    )
    artifacts = private / "artifacts" / "awx-job"
    assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-2000:]
    assert (artifacts / "status").read_text() == "successful"
    assert (artifacts / "rc").read_text() == "0"
    command = json.loads((artifacts / "command").read_text())["command"]
    assert command[:2] == ["docker", "run"] and IMAGE in command and "--network=host" in command, command
    assert job_sim.requests(), "the job did not reach its simulator"
    assert set(m["name"] for m in job_sim.call("GET", "/api/tags")[1]["models"]) == {"llama3.2:latest", "smollm2:135m"}

    # Same results, task by task, as the plain run.
    events = job_events(artifacts)
    assert summarise(runner_outcomes(events)) == summarise(plain_outcomes(plain.data))
    stats_event = next(event for event in events if event["event"] == "playbook_on_stats")["event_data"]
    for key in ("changed", "failures", "dark", "rescued"):
        assert stats_event.get(key, {}).get("localhost", 0) == plain.data["stats"]["localhost"][key.replace("dark", "unreachable")], key
    assert stats_event["changed"]["localhost"] >= 1

    # The job events carry what an AWX job output shows: pull progress and the final counts.
    stdout = "\n".join(event.get("stdout", "") for event in events)
    percents = [float(match.group(1)) for match in PROGRESS_RE.finditer(stdout)]
    assert len(percents) >= 2, stdout[-3000:]
    assert 0 < percents[0] < 100
    # site.yml prints the summary of the sync first in the health report of the host
    summary = next(e for e in events if e["event"] == "runner_on_ok" and e["event_data"]["task"].endswith("Print the health report"))
    lines = summary["event_data"]["res"]["msg"]
    assert lines[1].split() == COUNTS_HEADER and lines[2].split() == ["2", "0", "0", "0", "0", "0", "0", "0", "0"], lines
    assert "2 0 0 0 0 0 0 0 0" in " ".join(stdout.split())

    # No secret anywhere in what the job left: events, stdout, command, audit trail.
    files = [path for path in artifacts.rglob("*") if path.is_file()]
    assert len(files) > len(events) > 10
    audit = private / "artifacts" / "audit.jsonl"
    assert audit.is_file() and "ollama_model_sync" in audit.read_text(), "no audit trail from the job"
    for path in [*files, audit]:
        text = path.read_text(errors="replace")
        assert api_key not in text, "the API key leaked into %s" % path
        assert webhook_token not in text, "the webhook token leaked into %s" % path


def run_job(private: Path, cmdline: List[str], env: Dict[str, str], cwd: Path) -> Tuple[subprocess.CompletedProcess, Path]:
    """site.yml as AWX runs it: ansible-runner, the project and inventory in the private data directory, in the image."""
    shutil.copytree(REPO / "playbooks", private / "project", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "ansible.cfg", private / "project" / "ansible.cfg")
    (private / "env").mkdir(exist_ok=True)
    (private / "env" / "envvars").write_text(yaml.safe_dump(dict({"ANSIBLE_NOCOLOR": "1", "LLMOPS_OLLAMA_AUDIT_FILE": "/runner/artifacts/audit.jsonl"}, **env)))
    argv = [str(Path(sys.executable).parent / "ansible-runner"), "run", str(private), "--playbook", "site.yml", "--ident", "awx-job"]
    argv += ["--process-isolation", "--process-isolation-executable", "docker", "--container-image", IMAGE, "--container-option=--network=host"]
    if cmdline:
        argv.append("--cmdline=" + " ".join(cmdline))
    job = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False, cwd=str(cwd))
    return job, private / "artifacts" / "awx-job"


def test_site_job_with_the_credential_types_injected_as_awx_does(make_sim, tmp_path: Path) -> None:
    """The three credential types, rendered as AWX renders them, hand the job its key, its registry and its webhook.

    The proxy (real nginx, configured on this host by the ollama_proxy role from the same injected extra vars) accepts
    the named keys and nothing else; the job in the image reaches Ollama only through it, so it succeeds only with the
    injected key. No key, password or token shows up in the artifacts, the job events or the audit trail.
    """
    api_key, second_key = "sk-ci-" + secrets.token_hex(16), "sk-team-" + secrets.token_hex(16)
    registry_password, webhook_token = "regpw-" + secrets.token_hex(16), "whk-" + secrets.token_hex(16)
    types = credential_types()
    assert set(types) == {"Ollama proxy API keys", "Ollama registry or mirror", "Ollama alert webhook"}
    for definition in types.values():
        secret = {field["id"] for field in definition["inputs"]["fields"] if field.get("secret")}
        assert secret, "%s marks no field secret" % definition["name"]
        for template in definition["injectors"].get("env", {}).values():
            assert not any(name in template for name in secret), "a secret through env lands in ansible-runner's artifacts (command, env.list)"

    sim = make_sim("credentials")
    private = tmp_path / "job"
    env: Dict[str, str] = {}
    cmdline: List[str] = []
    files: Dict[str, Path] = {}
    for name, inputs in (
        ("Ollama proxy API keys", {"key_1_name": "ci", "key_1": api_key, "key_2_name": "team-a", "key_2": second_key}),
        ("Ollama registry or mirror", {"url": sim.url, "kind": "registry", "username": "puller", "password": registry_password}),
        ("Ollama alert webhook", {"url": "https://hooks.example.com/services/ollama", "token": webhook_token}),
    ):
        added_env, args = inject(types[name], inputs, private)
        env.update(added_env)
        cmdline += args
        files[name] = private / "env" / args[1].rsplit("/", 1)[-1]
    injected = yaml.safe_load(files["Ollama proxy API keys"].read_text().replace("!unsafe ", ""))
    assert injected["ollama_proxy_api_keys"] == [{"name": "ci", "key": api_key}, {"name": "team-a", "key": second_key}, {"name": "", "key": ""}]
    assert "!unsafe" in files["Ollama registry or mirror"].read_text()

    # The proxy: the ollama_proxy role on this host with the injected extra vars (a real nginx of this test).
    nginx = NginxServer(tmp_path / "nginx")
    nginx.start()
    try:
        proxy_vars = {
            "ollama_proxy_install": False,
            "ollama_proxy_service_manager": "binary",
            "ollama_proxy_nginx_binary": NGINX,
            "ollama_proxy_nginx_conf": str(nginx.conf),
            "ollama_proxy_nginx_prefix": str(nginx.root),
            "ollama_proxy_pid_file": str(nginx.pid_file),
            "ollama_proxy_config_dir": str(nginx.conf_d),
            "ollama_proxy_tls_dir": str(nginx.root / "tls"),
            "ollama_proxy_acme_dir": str(nginx.root / "acme-certs"),
            "ollama_proxy_acme_webroot": str(nginx.acme_webroot),
            "ollama_proxy_domain_defaults": {"listen_address": "127.0.0.1", "http_port": nginx.http_port, "https_port": nginx.https_port},
            "ollama_proxy_domains": [{"domain": "ollama.test", "upstream": sim.url, "public": True, "default_server": True}],
        }
        audit = tmp_path / "proxy-audit.jsonl"
        inventory = write_inventory(tmp_path / "proxy" / "hosts.json", {"ansible_connection": "local"})
        argv, run_env = playbook_command(REPO / "playbooks" / "proxy.yml", proxy_vars, env={"LLMOPS_OLLAMA_AUDIT_FILE": str(audit)}, inventory=str(inventory))
        argv += ["-e", "@%s" % files["Ollama proxy API keys"]]
        proxy = subprocess.run(argv, capture_output=True, text=True, timeout=300, env=run_env, cwd=str(REPO), check=False)
        assert proxy.returncode == 0, proxy.stdout[-3000:] + proxy.stderr[-2000:]
        verified = [
            item
            for play in json.loads(proxy.stdout)["plays"]
            for task in play["tasks"]
            if task["task"]["name"].endswith("Domains, verify")
            for item in task["hosts"]["localhost"]["results"]
            if not item.get("skipped")
        ]
        assert verified and all(item["verified"]["without_key"] == 401 for item in verified), proxy.stdout[-3000:]
        for key, status in ((None, 401), (api_key, 200), (second_key, 200), ("sk-wrong", 401)):
            headers = {"Authorization": "Bearer %s" % key} if key else {}
            assert request(nginx.http_port, "/api/version", host="ollama.test", headers=headers).status == status, key
        assert api_key not in proxy.stdout + proxy.stderr and second_key not in proxy.stdout + proxy.stderr

        # The job: Ollama only through the proxy; the key and the registry come from the credentials.
        write_inventory(
            private / "inventory" / "hosts.json",
            {
                "ansible_connection": "local",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "ollama_site_manage_server": False,
                "ollama_api_url": "http://127.0.0.1:%d" % nginx.http_port,
                "ollama_models_state_dir": "/tmp/llmops-ollama-state",
                "ollama_models_list": ["smollm2:135m"],
                "ollama_health_models_path": "/tmp",
            },
        )
        job, artifacts = run_job(private, cmdline, env, tmp_path)
        assert job.returncode == 0, job.stdout[-4000:] + job.stderr[-2000:]
    finally:
        nginx.stop()
    assert (artifacts / "status").read_text() == "successful"
    assert [m["name"] for m in sim.call("GET", "/api/tags")[1]["models"]] == ["smollm2:135m"]
    # the manifest was read from the injected registry URL (the simulator's /v2)
    assert any(r["path"].startswith("/v2/library/smollm2/manifests/") for r in sim.requests()), "the registry credential's URL was not used"
    events = job_events(artifacts)
    stats = next(event for event in events if event["event"] == "playbook_on_stats")["event_data"]
    site = stats["artifact_data"]["ollama_stats_site"]
    assert site["hosts"]["ok"] == 1 and site["counts"]["added"] == 1 and [m["name"] for m in site["served"]] == ["smollm2:135m"], site

    audit_trail = private / "artifacts" / "audit.jsonl"
    assert audit_trail.is_file() and "ollama_model_sync" in audit_trail.read_text()
    everything = [path for path in (private / "artifacts").rglob("*") if path.is_file()] + [audit]
    assert len(everything) > len(events) > 10
    for path in everything:
        text = path.read_text(errors="replace")
        for secret in (api_key, second_key, registry_password, webhook_token):
            assert secret not in text, "a secret leaked into %s" % path
