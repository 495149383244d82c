# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads bounded by what was announced, and credentials never sent unasked (real ansible-playbook runs, a hostile registry).

Class 2: an endless (or overlong) body stops at the announced size, fails naming the URL, and leaves no partial file.
Class 3: with a real ~/.netrc holding logins for both loopback hosts, no request carries them, and a redirect from
127.0.0.1 to 127.0.0.2 carries no credential.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from typing import Any, Dict, List

import pytest

from tests.integration.hostile_registry import LAYER, LAYER_DIGEST, HostileRegistry
from tests.integration.playbook import REPO, playbook_command

pytestmark = pytest.mark.integration


def run_tasks(tmp_path: Path, tasks: List[Dict[str, Any]], env: Dict[str, str] | None = None) -> Dict[str, Dict[str, Any]]:
    playbook = tmp_path / "hostile.yml"
    playbook.write_text(json.dumps([{"name": "Hostile", "hosts": "all", "gather_facts": False, "tasks": tasks}]))
    args, run_env = playbook_command(playbook, env=env)
    proc = subprocess.run(args, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300, env=run_env, cwd=str(REPO), check=False)
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(proc.stdout)
    return {task["task"]["name"]: task["hosts"]["localhost"] for play in data["plays"] for task in play["tasks"]}


def mirror_task(name: str, root: Path, source: str) -> Dict[str, Any]:
    return {"name": name, "llmops.ollama.ollama_mirror": {"path": str(root), "models": ["m"], "source": source, "retries": 1}, "ignore_errors": True}


# ---------------------------------------------------------------------------- class 2: bounded reads
# (label, HostileRegistry arguments, words of the failure)
OVERLONG = [
    ("endless blob", {"blob": "endless"}, "sent more than the %d bytes" % len(LAYER)),
    ("blob announced ten times too long", {"blob": "long"}, "sent more than the %d bytes" % len(LAYER)),
    ("endless manifest", {"manifest": "endless"}, "larger than"),
]


@pytest.mark.parametrize(("label", "kwargs", "words"), OVERLONG, ids=[case[0] for case in OVERLONG])
def test_an_overlong_registry_body_stops_at_the_announced_size(tmp_path: Path, label: str, kwargs: Dict[str, Any], words: str) -> None:
    root = tmp_path / "mirror"
    with HostileRegistry(**kwargs) as registry:
        started = time.monotonic()
        result = run_tasks(tmp_path, [mirror_task("Mirror", root, registry.url)])["Mirror"]
        took = time.monotonic() - started
    assert result.get("failed") is True and words in result["msg"], (label, result.get("msg"))
    assert registry.url in result["msg"], "the failure names the URL: %s" % result["msg"]
    assert took < 120, took
    partials = list((root / ".partial").glob("*")) if (root / ".partial").exists() else []
    assert not [p for p in partials if p.stat().st_size > len(LAYER)], [(p.name, p.stat().st_size) for p in partials]
    assert not (root / "v2").exists() or not list((root / "v2").rglob("manifests/*")), "a manifest was placed"


@pytest.mark.parametrize("probe", ["version", "inference"])
def test_an_endless_ollama_answer_stops_and_names_the_url(tmp_path: Path, probe: str) -> None:
    with HostileRegistry(api="endless") as server:
        started = time.monotonic()
        task = {"name": "Info", "llmops.ollama.ollama_info": {"api_url": server.url, "probe": probe, "timeout": 30}, "ignore_errors": True}
        result = run_tasks(tmp_path, [task])["Info"]
        took = time.monotonic() - started
    text = json.dumps(result)
    assert "more than" in text and server.url in text, text[:2000]
    assert took < 120, took


# ---------------------------------------------------------------------------- class 3: netrc and redirects
def netrc_home(tmp_path: Path) -> Dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    netrc = home / ".netrc"
    netrc.write_text(
        "machine 127.0.0.1 login netrc-user password netrc-pass-1\n"
        "machine 127.0.0.2 login netrc-user password netrc-pass-2\n"
        "default login any password netrc-default\n"
    )
    netrc.chmod(0o600)
    return {"HOME": str(home), "NETRC": str(netrc)}


def test_a_netrc_login_is_never_sent_and_no_credential_crosses_a_redirect(tmp_path: Path) -> None:
    env = netrc_home(tmp_path)
    with HostileRegistry(host="127.0.0.2") as other, HostileRegistry(host="127.0.0.1", blob="redirect", api="redirect", redirect_to=other.url) as source:
        results = run_tasks(
            tmp_path,
            [
                mirror_task("Mirror through a redirect", tmp_path / "mirror", source.url),
                {"name": "Info with a key", "llmops.ollama.ollama_info": {"api_url": source.url, "api_key": "user-given-key"}, "ignore_errors": True},
                {"name": "Info without a key", "llmops.ollama.ollama_info": {"api_url": other.url}, "ignore_errors": True},
            ],
            env=env,
        )
    fill = results["Mirror through a redirect"]
    assert not fill.get("failed"), fill.get("msg")
    assert (tmp_path / "mirror" / "blobs" / ("sha256-" + LAYER_DIGEST[7:])).read_bytes() == LAYER
    assert any("/blobs/" in r["path"] for r in other.requests), "the blob came through the redirect"
    for server, name in ((source, "127.0.0.1"), (other, "127.0.0.2")):
        seen = server.headers_seen("Authorization")
        assert not [value for value in seen if value.startswith("Basic")], "%s got a netrc login: %s" % (name, seen)
    # the key the user gave goes to the host it was given for, and nowhere else
    assert "Bearer user-given-key" in source.headers_seen("Authorization")
    assert other.headers_seen("Authorization") == [], other.requests
    assert not [r for r in other.requests if r["path"].startswith("/api/") and "Authorization" in r["headers"]]
