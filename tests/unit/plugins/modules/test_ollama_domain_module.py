# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_domain and ollama_domain_info modules in-process, with a stand-in nginx program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.modules import ollama_domain, ollama_domain_info
from tests.unit.plugins.modules.harness import run_module

KEY = "module-key-0123456789abcdef"


@pytest.fixture
def fake_nginx(tmp_path: Path) -> Path:
    """A program that accepts -t, -T and -s reload like nginx; it fails -t when FAIL exists beside it."""
    script = tmp_path / "nginx"
    script.write_text(
        "#!/bin/sh\n"
        'for a in "$@"; do last="$a"; done\n'
        'if [ "$last" = "-t" ] && [ -e "%s" ]; then echo "nginx: [emerg] scripted failure" >&2; exit 1; fi\n'
        'if [ "$last" = "-T" ]; then exit 1; fi\n'
        "exit 0\n" % (tmp_path / "FAIL")
    )
    script.chmod(0o755)
    (tmp_path / "conf.d").mkdir()
    return script


def test_module_applies_and_never_returns_keys(fake_nginx: Path, capsys) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    args = {"domain": "ollama.test", "allow": ["127.0.0.1"], "api_keys": [KEY], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}
    result = run_module(ollama_domain, args, capsys)
    assert result["changed"] is True, result
    assert result["binding"]["auth"]["key_count"] == 1
    assert KEY not in json.dumps(result)
    again = run_module(ollama_domain, args, capsys)
    assert again["changed"] is False
    info = run_module(ollama_domain_info, {"config_dir": str(conf_d)}, capsys)
    assert [b["domain"] for b in info["bindings"]] == ["ollama.test"]
    assert info["bindings"][0]["drift"] is False
    assert KEY not in json.dumps(info)


def test_module_fails_with_nginx_message_and_restores(fake_nginx: Path, capsys) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    (fake_nginx.parent / "FAIL").touch()
    result = run_module(ollama_domain, {"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}, capsys)
    assert result["failed"] is True
    assert "nginx: [emerg] scripted failure" in result["msg"]
    assert list(conf_d.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"domain": "bad;name"}, "contains ';'"),
        ({"domain": "ollama.test", "allow": []}, "allow is empty"),
        ({"domain": "ollama.test", "allow": ["127.0.0.1"], "api_keys": ["bad key " + KEY]}, "api_keys[0] is not an RFC 6750"),
        ({"domain": "ollama.test", "allow": ["127.0.0.1"], "upstream": "http://a", "upstreams": ["http://b"]}, "mutually exclusive"),
    ],
)
def test_module_refuses_bad_input(fake_nginx: Path, capsys, args: dict, fragment: str) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    result = run_module(ollama_domain, dict(args, config_dir=str(conf_d), nginx_binary=str(fake_nginx)), capsys)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert KEY not in json.dumps(result)
    assert list(conf_d.iterdir()) == []


def test_module_reports_a_missing_nginx(tmp_path: Path, capsys) -> None:
    result = run_module(ollama_domain, {"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(tmp_path), "nginx_binary": "no-such-nginx"}, capsys)
    assert result["failed"] is True
    assert "nginx_binary 'no-such-nginx' was not found" in result["msg"]


def test_module_check_mode(fake_nginx: Path, capsys) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    args = {"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}
    result = run_module(ollama_domain, args, capsys, check_mode=True)
    assert result["changed"] is True
    assert list(conf_d.iterdir()) == []
