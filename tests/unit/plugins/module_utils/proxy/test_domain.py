# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the domain manager with a scripted nginx: safe apply, roll back, conflicts, drift, TLS."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain import DomainError, DomainManager, list_bindings
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import ConfigError
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.tls import make_selfsigned

KEY = "unit-key-0123456789abcdefABCDEF"


class FakeNginx:
    """Plays nginx: ``-t`` answers from a script of outcomes, ``-T`` dumps nothing, reload records."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.test_results: list[tuple[int, str]] = []
        self.reload_rc = 0

    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        self.calls.append(argv)
        if argv[-1] == "-t":
            rc, err = self.test_results.pop(0) if self.test_results else (0, "")
            return rc, "", err
        if argv[-1] == "-T":
            return 1, "", "not now"
        if argv[-2:] == ["-s", "reload"]:
            return self.reload_rc, "", "" if self.reload_rc == 0 else 'nginx: [error] open() "/run/nginx.pid" failed (2: No such file or directory)'
        raise AssertionError("unexpected command %s" % argv)

    @property
    def reloads(self) -> int:
        return sum(1 for argv in self.calls if argv[-2:] == ["-s", "reload"])


def snapshot(root: Path) -> dict:
    return {str(p.relative_to(root)): (p.read_bytes() if p.is_file() else None, oct(p.stat().st_mode)) for p in sorted(root.rglob("*"))}


@pytest.fixture
def env(tmp_path: Path):
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    return tmp_path, conf_d, FakeNginx()


def params(conf_d: Path, **extra):
    values = {"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(conf_d), "tls_dir": str(conf_d.parent / "tls"), "nginx_binary": "nginx"}
    values.update(extra)
    return values


def run(conf_d: Path, nginx: FakeNginx, check_mode: bool = False, **extra):
    manager = DomainManager(params(conf_d, **extra), nginx, check_mode=check_mode)
    return manager.run(), manager.warnings


def test_present_writes_files_once_and_is_idempotent(env) -> None:
    _unused, conf_d, nginx = env
    result, warnings = run(conf_d, nginx, api_keys=[KEY])
    assert result["changed"] is True
    assert warnings == []
    assert sorted(p.name for p in conf_d.iterdir()) == ["ollama.test.conf", "ollama.test.json", "ollama.test.keys"]
    assert oct((conf_d / "ollama.test.keys").stat().st_mode & 0o777) == "0o600"
    assert oct((conf_d / "ollama.test.conf").stat().st_mode & 0o777) == "0o644"
    assert nginx.reloads == 1
    binding = result["binding"]
    assert binding["auth"] == {"mode": "bearer", "key_count": 1}
    assert binding["config_file"] == str(conf_d / "ollama.test.conf")
    assert KEY not in json.dumps(result)
    assert KEY not in (conf_d / "ollama.test.conf").read_text()
    assert KEY not in (conf_d / "ollama.test.json").read_text()
    assert result["diff"][0]["after"].startswith("# Managed by llmops.ollama.ollama_domain")
    assert result["diff"][1]["after"] == "(1 API keys, not shown)\n"

    again, _unused = run(conf_d, nginx, api_keys=[KEY])
    assert again["changed"] is False
    assert again["diff"] == []
    assert nginx.reloads == 1


def test_check_mode_writes_nothing(env) -> None:
    tmp, conf_d, nginx = env
    before = snapshot(tmp)
    result, _unused = run(conf_d, nginx, check_mode=True, tls="selfsigned")
    assert result["changed"] is True
    assert result["certificate_renewed"] == "no certificate yet"
    assert snapshot(tmp) == before
    assert nginx.reloads == 0
    assert not any(argv[-1] == "-t" for argv in nginx.calls)


def test_failed_nginx_test_restores_everything(env) -> None:
    tmp, conf_d, nginx = env
    run(conf_d, nginx)
    # A certificate that passes the checks before any change (the scripted nginx -t then refuses the configuration).
    cert_pem, key_pem = make_selfsigned(["ollama.test"], 30)
    (tmp / "ok.pem").write_bytes(cert_pem)
    (tmp / "ok.key").write_bytes(key_pem)
    before = snapshot(tmp)
    nginx.test_results = [(1, 'nginx: [emerg] cannot load certificate "/nope.pem"\nnginx: configuration file test failed'), (0, "")]
    with pytest.raises(DomainError) as info:
        run(conf_d, nginx, tls="provided", certificate=str(tmp / "ok.pem"), private_key=str(tmp / "ok.key"), api_keys=[KEY])
    assert "nginx -t rejected the new configuration for ollama.test" in str(info.value)
    assert 'cannot load certificate "/nope.pem"' in str(info.value)
    assert info.value.details["nginx_message"] == 'nginx: [emerg] cannot load certificate "/nope.pem"'
    assert snapshot(tmp) == before
    assert nginx.reloads == 1


def test_config_broken_before_the_change_is_said_so(env) -> None:
    _unused, conf_d, nginx = env
    nginx.test_results = [(1, "nginx: [emerg] unknown directive in other.conf"), (1, "nginx: [emerg] unknown directive in other.conf")]
    with pytest.raises(DomainError, match="even without this change"):
        run(conf_d, nginx)
    assert list(conf_d.iterdir()) == []


def test_failed_reload_restores_everything(env) -> None:
    _unused, conf_d, nginx = env
    nginx.reload_rc = 1
    with pytest.raises(DomainError) as info:
        run(conf_d, nginx)
    assert "reloading nginx failed" in str(info.value)
    assert "nginx.pid" in str(info.value)
    assert list(conf_d.iterdir()) == []


def test_backups_are_kept_and_returned(env) -> None:
    _unused, conf_d, nginx = env
    run(conf_d, nginx)
    first = (conf_d / "ollama.test.conf").read_bytes()
    result, _unused = run(conf_d, nginx, allow=["127.0.0.2"])
    backup = Path(result["binding"]["backup_file"])
    assert backup.read_bytes() == first
    assert backup.parent.parent.parent == conf_d / ".llmops-ollama-backups"
    for index in range(6):
        run(conf_d, nginx, allow=["10.0.0.%d" % index], backups=3)
    assert len(list((conf_d / ".llmops-ollama-backups" / "ollama.test").iterdir())) == 3


def test_unmanaged_file_in_the_way(env) -> None:
    _unused, conf_d, nginx = env
    (conf_d / "ollama.test.conf").write_text("server { listen 80; server_name other.test; }\n")
    with pytest.raises(DomainError, match="was not written by ollama_domain"):
        run(conf_d, nginx)
    result, warnings = run(conf_d, nginx, force=True)
    assert result["changed"] is True
    assert any("did not write" in w for w in warnings)


def test_conflict_names_the_file_unless_forced(env) -> None:
    _unused, conf_d, nginx = env
    (conf_d / "hand.conf").write_text("server {\n    listen 80;\n    server_name www.test ollama.test;\n}\n")
    with pytest.raises(DomainError) as info:
        run(conf_d, nginx)
    assert "%s (line 1) already serves ollama.test on port 80" % (conf_d / "hand.conf") in str(info.value)
    assert info.value.details["conflicts"]
    assert not (conf_d / "ollama.test.conf").exists()
    result, warnings = run(conf_d, nginx, force=True)
    assert result["changed"] is True
    assert any("conflict overridden" in w for w in warnings)
    # Another managed binding that claims the name as an alias conflicts too.
    with pytest.raises(DomainError, match=r"already serves ollama\.test"):
        run(conf_d, nginx, domain="other.test", aliases=["ollama.test"])


def test_absent_removes_files_and_selfsigned_material(env) -> None:
    tmp, conf_d, nginx = env
    run(conf_d, nginx, tls="selfsigned", api_keys=[KEY])
    assert (tmp / "tls" / "ollama.test.key").exists()
    result, _unused = run(conf_d, nginx, state="absent")
    assert result["changed"] is True
    assert sorted(p.name for p in conf_d.iterdir()) == [".llmops-ollama-backups"]
    assert not (tmp / "tls" / "ollama.test.key").exists()
    assert result["binding"]["domain"] == "ollama.test"
    assert Path(result["binding"]["backup_file"]).is_file()
    again, _unused = run(conf_d, nginx, state="absent")
    assert again["changed"] is False
    assert nginx.reloads == 2


def test_selfsigned_is_renewed_only_when_due(env) -> None:
    tmp, conf_d, nginx = env
    result, _unused = run(conf_d, nginx, tls="selfsigned")
    key = tmp / "tls" / "ollama.test.key"
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert result["binding"]["tls"]["issuer"] == "O=llmops.ollama self-signed,CN=ollama.test"
    assert result["binding"]["tls"]["days_left"] in (364, 365)
    cert = (tmp / "tls" / "ollama.test.crt").read_bytes()
    same, _unused = run(conf_d, nginx, tls="selfsigned")
    assert same["changed"] is False
    renewed, _unused = run(conf_d, nginx, tls="selfsigned", renew_days=366, selfsigned_days=400)
    assert renewed["changed"] is True
    assert "expires in" in renewed["certificate_renewed"]
    alias, _unused = run(conf_d, nginx, tls="selfsigned", aliases=["llm.test"])
    assert "names changed" in alias["certificate_renewed"]
    assert (tmp / "tls" / "ollama.test.crt").read_bytes() != cert


def test_drift_is_reported(env) -> None:
    _unused, conf_d, nginx = env
    run(conf_d, nginx, api_keys=[KEY])
    run(conf_d, nginx, domain="b.test", allow=["10.0.0.0/8"])
    (conf_d / "unmanaged.json").write_text("{}")
    found = list_bindings(str(conf_d))
    assert [b["domain"] for b in found] == ["b.test", "ollama.test"]
    assert [b["drift"] for b in found] == [False, False]
    with open(conf_d / "ollama.test.conf", "a") as handle:
        handle.write("# edited\n")
    os.unlink(conf_d / "ollama.test.keys")
    one = list_bindings(str(conf_d), "Ollama.Test")
    assert len(one) == 1
    assert one[0]["drift"] is True
    assert one[0]["drift_reasons"] == ["%s was edited by hand" % (conf_d / "ollama.test.conf"), "%s was removed" % (conf_d / "ollama.test.keys")]
    # The next apply repairs it.
    result, _unused = run(conf_d, nginx, api_keys=[KEY])
    assert result["changed"] is True
    assert list_bindings(str(conf_d), "ollama.test")[0]["drift"] is False


def test_missing_config_dir_is_explained(tmp_path: Path) -> None:
    with pytest.raises(DomainError, match="install nginx first"):
        DomainManager(params(tmp_path / "nope"), FakeNginx()).run()


def test_invalid_input_raises_config_error(env) -> None:
    _unused, conf_d, nginx = env
    with pytest.raises(ConfigError, match="renew_days"):
        run(conf_d, nginx, tls="selfsigned", renew_days=400)
    with pytest.raises(ConfigError, match="reload_command"):
        run(conf_d, nginx, reload_command="nginx 'unclosed")
    assert list(conf_d.iterdir()) == []
