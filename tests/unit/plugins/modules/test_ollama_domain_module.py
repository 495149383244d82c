# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_domain and ollama_domain_info modules in-process, with a stand-in nginx program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import connection_argument_spec
from ansible_collections.llmops.ollama.plugins.modules import ollama_domain, ollama_domain_info, ollama_mirror
from tests.unit.plugins.modules.harness import assert_documented_exactly, documented_options, run_module

KEY = "module-key-0123456789abcdef"
MASK = "********"


@pytest.fixture
def unmasked(monkeypatch: pytest.MonkeyPatch) -> list:
    """What the module hands to exit_json, fail_json and warn, as JSON, before Ansible masks no_log values in it.

    The printed result cannot show a leak: Ansible replaces every api_keys value in it with ********.
    """
    seen: list = []
    for name in ("exit_json", "fail_json", "warn"):
        original = getattr(AnsibleModule, name)

        def spy(self, *args, _original=original, **kwargs):
            seen.append(json.dumps([args, kwargs], default=str))
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(AnsibleModule, name, spy)
    return seen


def assert_no_key(result: dict, unmasked: list) -> None:
    """The key is neither in what the module returned (before masking) nor masked anywhere in the printed result."""
    assert unmasked, "the module returned nothing through exit_json or fail_json"
    assert not any(KEY in text for text in unmasked)
    # invocation shows api_keys as VALUE_SPECIFIED_IN_NO_LOG_PARAMETER; a ******** elsewhere means a key was in the result.
    assert MASK not in json.dumps({k: v for k, v in result.items() if k != "invocation"})


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


def test_module_applies_and_never_returns_keys(fake_nginx: Path, capsys, unmasked: list) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    args = {"domain": "ollama.test", "allow": ["127.0.0.1"], "api_keys": [KEY], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}
    result = run_module(ollama_domain, args, capsys, diff=True)
    assert result["changed"] is True, result
    assert result["binding"]["auth"]["key_count"] == 1
    assert result["diff"][1]["after"] == "(1 API keys, not shown)\n"
    assert_no_key(result, unmasked)
    assert KEY in (conf_d / "ollama.test.keys").read_text()
    assert KEY not in (conf_d / "ollama.test.conf").read_text() + (conf_d / "ollama.test.json").read_text()
    unmasked.clear()
    again = run_module(ollama_domain, args, capsys)
    assert again["changed"] is False
    assert_no_key(again, unmasked)
    # ollama_domain_info has no no_log option: nothing masks its result, so this check is real as it stands.
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
def test_module_refuses_bad_input(fake_nginx: Path, capsys, unmasked: list, args: dict, fragment: str) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    result = run_module(ollama_domain, dict(args, config_dir=str(conf_d), nginx_binary=str(fake_nginx)), capsys)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert KEY not in json.dumps(result)
    assert not any(KEY in text for text in unmasked)
    assert list(conf_d.iterdir()) == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ({"api_keys": [KEY + "\n"]}, "api_keys[0] ends with a newline"),
        ({"api_keys": ["good-key-0123456789", KEY + "\n}"]}, "api_keys[1] is not an RFC 6750 bearer token"),
        ({"listen_address": "fe80::1%e0;}{$\"'"}, "IPv6 zone index"),
        ({"allow": ["fe80::1%x;internal;"]}, "allow[0] 'fe80::1%x;internal;' has an IPv6 zone index"),
    ],
)
def test_module_refuses_hostile_input_and_never_echoes_a_key(fake_nginx: Path, capsys, unmasked: list, args: dict, fragment: str) -> None:
    conf_d = fake_nginx.parent / "conf.d"
    full = dict({"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}, **args)
    result = run_module(ollama_domain, full, capsys, check_mode=True, diff=True)
    assert result["failed"] is True
    assert fragment in result["msg"]
    assert_no_key(result, unmasked)
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


@pytest.mark.parametrize(
    "args",
    [
        {"api_url": "http://admin:pw-0123456789@127.0.0.1:11434"},
        {"upstream": "http://admin:pw-0123456789@127.0.0.1:11434"},
        {"upstream": "admin:pw-0123456789@127.0.0.1:11434"},
        {"upstreams": ["http://127.0.0.1:11434", "http://u:pw-0123456789@10.0.0.1:11434/x"]},
    ],
)
def test_credentials_in_urls_are_masked_in_every_output(fake_nginx: Path, capsys, args: dict) -> None:
    """Refused, and the value appears neither in the message nor in invocation.module_args (issue 13, class 7)."""
    conf_d = fake_nginx.parent / "conf.d"
    full = dict({"domain": "ollama.test", "allow": ["127.0.0.1"], "config_dir": str(conf_d), "nginx_binary": str(fake_nginx)}, **args)
    result = run_module(ollama_domain, full, capsys)
    assert result["failed"] is True
    assert "module_args" in result.get("invocation", {}), result
    assert "pw-0123456789" not in json.dumps(result)
    assert list(conf_d.iterdir()) == []
    info = run_module(ollama_domain_info, {"config_dir": str(conf_d), "api_url": "http://admin:pw-0123456789@127.0.0.1:11434"}, capsys)
    assert "pw-0123456789" not in json.dumps(info)


# The options of the action group that these modules accept but do not use, and the ones each does use.
USED_CONNECTION_OPTIONS = {ollama_domain: {"api_url"}, ollama_domain_info: set(), ollama_mirror: {"validate_certs", "timeout"}}


@pytest.mark.parametrize("module", list(USED_CONNECTION_OPTIONS), ids=lambda module: module.__name__.rpartition(".")[2])
def test_unused_connection_options_come_from_one_spec_and_one_fragment(module) -> None:
    """ollama_domain, ollama_domain_info and ollama_mirror take the unused connection options from the same spec and doc
    fragment (one default each: none); what a module uses it declares itself, and its documentation says so."""
    assert_documented_exactly(module)
    spec, documented = module.argument_spec(), documented_options(module)
    unused = unused_connection_argument_spec()
    for name in set(unused) - USED_CONNECTION_OPTIONS[module]:
        assert spec[name] == unused[name], name
        assert documented[name]["description"][0].startswith("Not used by this module."), name
    for name in USED_CONNECTION_OPTIONS[module]:
        assert not documented[name]["description"][0].startswith("Not used"), name


def test_ollama_domain_reads_api_url_as_the_api_modules_do() -> None:
    assert ollama_domain.argument_spec()["api_url"] == connection_argument_spec()["api_url"]


def test_unused_connection_options_from_module_defaults_are_accepted_and_change_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    """What module_defaults for the group give (every connection option) is accepted; the answer is the same as without."""
    conf_d = tmp_path / "conf.d"
    conf_d.mkdir()
    group = {
        "api_url": "https://ollama.example.com:11434",
        "api_key": KEY,
        "validate_certs": False,
        "timeout": 5,
        "ca_path": "/nonexistent/ca.pem",
    }
    bare = run_module(ollama_domain_info, {"config_dir": str(conf_d)}, capsys)
    with_group = run_module(ollama_domain_info, dict(group, config_dir=str(conf_d)), capsys)
    assert bare.get("failed") is not True and with_group.get("failed") is not True, with_group
    assert with_group["bindings"] == bare["bindings"] == []
    assert KEY not in json.dumps(with_group)
    assert bare["invocation"]["module_args"]["validate_certs"] is None and bare["invocation"]["module_args"]["timeout"] is None


def _unqualified(node):
    """Documentation with O(llmops.ollama.ollama_domain#module:x) read as O(x): how ollama_domain_info names ollama_domain's options."""
    if isinstance(node, dict):
        return {key: _unqualified(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_unqualified(value) for value in node]
    if isinstance(node, str):
        return node.replace("O(llmops.ollama.ollama_domain#module:", "O(")
    return node


def test_both_modules_document_the_binding_record_alike(tmp_path: Path) -> None:
    """A RETURN block takes no doc fragment, so the binding record is documented twice: field for field the same,
    and exactly the fields that binding_record (the one owner of the record) returns."""
    import yaml

    from ansible_collections.llmops.ollama.plugins.module_utils.proxy.domain import binding_record

    written = yaml.safe_load(ollama_domain.RETURN)["binding"]["contains"]
    listed = yaml.safe_load(ollama_domain_info.RETURN)["bindings"]["contains"]
    own_to_info = {"drift", "drift_reasons", "sidecar_file"}
    assert set(written) == set(binding_record({})), "ollama_domain's RETURN against binding_record"
    assert set(listed) == set(binding_record({})) - {"backup_file"} | own_to_info, "ollama_domain_info's RETURN against list_bindings"
    for field in set(written) & set(listed):
        assert _unqualified(listed[field]) == written[field], field
