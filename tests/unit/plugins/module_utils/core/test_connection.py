# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""core.connection: api_url checked and named part by part, OLLAMA_HOST read as Ollama reads it, the shared options."""

from __future__ import annotations

import pytest
import yaml
from ansible.module_utils.basic import AnsibleFallbackNotFound

from ansible_collections.llmops.ollama.plugins.doc_fragments._connection import ModuleDocFragment
from ansible_collections.llmops.ollama.plugins.module_utils.core.action_group import unused_connection_argument_spec
from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import (
    InvalidApiUrl,
    connection_argument_spec,
    ollama_host_fallback,
    ollama_host_from_env,
    validate_api_url,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:11434", "http://127.0.0.1:11434"),
        ("http://127.0.0.1:11434/", "http://127.0.0.1:11434"),
        ("https://ollama.example.com", "https://ollama.example.com"),
        ("https://ollama.example.com/ollama/", "https://ollama.example.com/ollama"),
        ("http://[::1]:11434", "http://[::1]:11434"),
        ("http://ollama_host:8080", "http://ollama_host:8080"),
        ("http://[::1]", "http://[::1]"),
        ("http://[::ffff:10.0.0.1]:11434", "http://[::ffff:10.0.0.1]:11434"),
    ],
)
def test_valid_api_urls(url: str, expected: str) -> None:
    assert validate_api_url(url) == expected


@pytest.mark.parametrize("url", ["http://user:s3cret@[::1:11434", "http://user:s3cret@host :1", "ftp://user:s3cret@host", "http://user:s3cret@h/?q"])
def test_credentials_in_api_url_are_refused_without_repeating_them(url: str) -> None:
    with pytest.raises(InvalidApiUrl) as exc:
        validate_api_url(url)
    assert "must not carry credentials" in str(exc.value) and "s3cret" not in str(exc.value)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("127.0.0.1:11434", "has no scheme"),
        ("localhost", "has no scheme"),
        ("ftp://127.0.0.1", "scheme 'ftp'"),
        ("http://127.0.0.1:0", "invalid port '0'"),
        ("http://127.0.0.1:70000", "invalid port '70000'"),
        ("http://127.0.0.1:11a34", "invalid port '11a34'"),
        ("http://127.0.0.1 :11434", "white space"),
        ("http://127.0.0.1:11434\n", "white space"),
        ("http://user:pw@127.0.0.1:11434", "must not carry credentials"),
        ("http://127.0.0.1:11434/?x=1", "query or fragment"),
        ("http://:11434", "has no host"),
        ("http://exa$mple.com", "invalid host 'exa$mple.com'"),
        ("", "api_url is empty"),
        # urlsplit() itself raises ValueError for these two
        ("http://[::1:11434", "has an invalid host (Invalid IPv6 URL)"),
        ("https://[zz]:1", "has an invalid host ("),
        ("http://[::1]x:1", "invalid host '[::1]x:1': only :PORT may follow an [IPv6] address"),
        ("http://[v1.x]:11434", "invalid host '[v1.x]': square brackets must hold an IPv6 address"),
        ("http://[::1]:1]", "invalid port '1]'"),
        # non-ASCII digits pass str.isdigit() and int()
        ("http://host:\u0661\u0662\u0663", "invalid port '\u0661\u0662\u0663'"),
        ("http://host:\uff11\uff11\uff14\uff13\uff14", "in ASCII digits (0-9)"),
        ("http://host:", "invalid port ''"),
    ],
)
def test_invalid_api_urls_name_the_part(url: str, fragment: str) -> None:
    with pytest.raises(InvalidApiUrl) as exc:
        validate_api_url(url)
    assert fragment in str(exc.value)


@pytest.mark.parametrize("url", ["http://[::1:11434", "https://[zz]:1", "http://[::1]x:1", "http://[v1.x]:11434"])
def test_a_bad_ipv6_host_says_how_to_write_one(url: str) -> None:
    with pytest.raises(InvalidApiUrl) as exc:
        validate_api_url(url)
    assert str(exc.value).startswith("api_url %r has an invalid host" % url)
    assert "http://[::1]:11434" in str(exc.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ("0.0.0.0:11434", "http://127.0.0.1:11434"),
        ("0.0.0.0", "http://127.0.0.1:11434"),
        ("127.0.0.1:9999", "http://127.0.0.1:9999"),
        ("ollama.internal", "http://ollama.internal:11434"),
        ("https://ollama.example.com", "https://ollama.example.com:443"),
        ("http://box", "http://box:80"),
        ("[::1]:1234", "http://[::1]:1234"),
        ("http://box:8080/prefix", "http://box:8080/prefix"),
    ],
)
def test_ollama_host_is_read_like_ollama(env: str, expected: str) -> None:
    assert ollama_host_from_env(env) == expected
    assert validate_api_url(expected) == expected


def test_fallback_reads_ollama_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.1.2.3:11500")
    assert ollama_host_fallback() == "http://10.1.2.3:11500"
    monkeypatch.setenv("OLLAMA_HOST", "  ")
    with pytest.raises(AnsibleFallbackNotFound):
        ollama_host_fallback()
    monkeypatch.delenv("OLLAMA_HOST")
    with pytest.raises(AnsibleFallbackNotFound):
        ollama_host_fallback()


def test_argument_spec_hides_the_key_and_defaults_to_loopback() -> None:
    spec = connection_argument_spec()
    assert spec["api_key"]["no_log"] is True
    assert spec["api_url"]["default"] == "http://127.0.0.1:11434"
    assert spec["api_url"]["fallback"][0] is ollama_host_fallback
    assert set(spec) == {"api_url", "api_key", "url_username", "url_password", "validate_certs", "ca_path", "timeout"}
    assert spec["url_password"]["no_log"] is True


def test_the_unused_connection_options_are_the_connection_options_without_defaults() -> None:
    """One source: the same names, types and no_log as the options the API modules use, nothing that takes effect."""
    used, unused = connection_argument_spec(), unused_connection_argument_spec()
    assert set(unused) == set(used)
    for name, option in unused.items():
        assert option["type"] == used[name]["type"], name
        assert option.get("no_log") == used[name].get("no_log"), name
        assert set(option) <= {"type", "no_log"}, name
    assert unused["api_key"]["no_log"] is True and unused["url_password"]["no_log"] is True
    # a copy each call: a module that puts its own declaration over one option changes no other module's spec
    unused["api_url"]["default"] = "x"
    assert "default" not in unused_connection_argument_spec()["api_url"]


def test_the_unused_fragment_documents_the_unused_spec() -> None:
    documented = yaml.safe_load(ModuleDocFragment.UNUSED)["options"]
    shared = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["options"]
    spec = unused_connection_argument_spec()
    assert set(documented) == set(spec) == set(shared)
    for name, option in documented.items():
        assert option["type"] == spec[name]["type"] == shared[name]["type"], name
        assert "default" not in option, name
        assert option["description"][0].startswith("Not used by this module."), name
