# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one credentials-in-URL rule (core.urls): userinfo, tokens with '/' or '@', percent-encoded forms, query tokens."""

from __future__ import annotations

from typing import Any, List, Optional, Set

import pytest

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls

# (url, userinfo, secrets that must be masked, secrets that must not be in the redacted URL)
USERINFO = [
    ("http://a:b@h", "a:b"),
    ("https://token@h:1/p", "token"),
    ("h:1", None),
    ("http://@h", ""),
    ("http://u:ab/cd@host", "u:ab/cd"),  # a base64 token with '/': RFC 3986 would end the authority at the '/'
    ("http://ab/cd@host:1/x", "ab/cd"),
    ("http://a:b@c:d@host:1/x?y#z", "a:b@c:d"),
    ("HTTP://a:b@h", "a:b"),
    (" http://a:b@h ", "a:b"),
    ("a:b@h:1", "a:b"),
    ("http://h/x?email=a@b", None),  # an '@' after '?' is the query's
    ("http://h#a@b", None),
    (None, None),
    (5, None),
]


@pytest.mark.parametrize(("url", "expected"), USERINFO)
def test_userinfo(url: Any, expected: Optional[str]) -> None:
    assert urls.userinfo(url) == expected


SECRETS = [
    ("http://admin:hunter2@127.0.0.1:11434", {"http://admin:hunter2@127.0.0.1:11434", "admin:hunter2", "hunter2"}),
    ("admin:hunter2@127.0.0.1:11434", {"admin:hunter2@127.0.0.1:11434", "admin:hunter2", "hunter2"}),
    ("https://token-only@host", {"https://token-only@host", "token-only"}),
    ("http://a:b@c:d@host:1/x?y#z", {"http://a:b@c:d@host:1/x?y#z", "a:b@c:d", "b@c:d"}),
    ("http://u:ab/cd@host", {"u:ab/cd", "ab/cd"}),
    ("http://u:p%40ss%2Fw@host", {"u:p%40ss%2Fw", "p%40ss%2Fw", "p@ss/w", "u:p@ss/w"}),
    ("http://h/?token=s3cr3t", {"http://h/?token=s3cr3t", "s3cr3t"}),
    ("http://h/?a=1&Access-Token=t%2Fk%3D#f", {"t%2Fk%3D", "t/k="}),
    ("http://h/?api_key=k3y;sig=s1g", {"k3y", "s1g"}),
    ("http://h/?password=pw1&key=abc", {"pw1", "abc"}),
]


@pytest.mark.parametrize(("url", "expected"), SECRETS)
def test_secrets_hold_every_form(url: str, expected: Set[str]) -> None:
    found = urls.secrets(url)
    assert expected <= set(found), found
    assert found[0] == url  # the whole value first: Ansible masks it as one piece
    redacted = urls.redact(url)
    for secret in expected - {url}:
        if len(secret) >= 3 and secret in url:
            assert secret not in redacted, (secret, redacted)
    assert urls.has_credentials(url)


CLEAN = ["http://127.0.0.1:11434", "https://host/v2/x?page=2", "host:1", "http://h/?tokens=no", ""]


@pytest.mark.parametrize("url", CLEAN)
def test_no_secret_no_mask(url: str) -> None:
    assert urls.secrets(url) == []
    assert urls.redact(url) == url
    assert not urls.has_credentials(url)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("http://a:b@h/p", "http://***@h/p"),
        ("https://u:ab/cd@h:1", "https://***@h:1"),
        ("http://h/?x=1&token=abc&y=2", "http://h/?x=1&token=***&y=2"),
        ("HTTPS://t@h?key=k1#z", "HTTPS://***@h?key=***#z"),
    ],
)
def test_redact(url: str, redacted: str) -> None:
    assert urls.redact(url) == redacted


NESTED = [
    ({"mirror": "u:tok3n@m:1"}, {"tok3n"}),
    ({"models": [{"name": "m", "mirror": "https://u:tok3n@m"}]}, {"tok3n", "https://u:tok3n@m"}),
    ({"models": [{"name": "m", "x": {"y": ["http://h/?token=tok3n"]}}]}, {"tok3n"}),
    ({"models": ["llama3@sha256:" + "a" * 64]}, set()),  # a pinned model is not a URL
    ({"upstreams": ["http://a:tok3n@h"]}, {"tok3n"}),
    ({"any_url": "h?token=tok3n"}, {"tok3n"}),
]


@pytest.mark.parametrize(("params", "expected"), NESTED)
def test_secrets_in_nested_params(params: dict, expected: Set[str]) -> None:
    found = urls.secrets_in(params)
    assert expected <= found
    if not expected:
        assert found == set()


def test_secrets_in_walks_nesting_and_stops_at_a_depth() -> None:
    deep: Any = "http://a:tok3n@h"
    for _level in range(10):
        deep = [{"k": deep}]
    assert "tok3n" in urls.secrets_in(deep)
    for _level in range(100_000):
        deep = [deep]
    assert urls.secrets_in(deep) == set()  # bounded: no RecursionError on a value nested 100,000 levels


class FakeModule:
    def __init__(self, params: dict) -> None:
        self.params = params
        self.no_log_values: Set[str] = set()


def test_mask_params_adds_to_no_log_values() -> None:
    module = FakeModule({"api_url": "http://127.0.0.1:1", "models": [{"name": "m", "mirror": "http://u:tok3n@h"}]})
    urls.mask_params(module)
    assert "tok3n" in module.no_log_values and "http://127.0.0.1:1" not in module.no_log_values


class Recorder:
    def __init__(self, **kwargs: Any) -> None:
        self.kwargs = kwargs


def test_request_factory_never_reads_netrc_nor_forwards_credentials() -> None:
    made = urls.request_factory(Recorder, timeout=3)()
    assert made.kwargs["use_netrc"] is False
    lowered: List[str] = [h.lower() for h in made.kwargs["unredirected_headers"]]
    assert {"authorization", "proxy-authorization", "cookie"} <= set(lowered)
    assert made.kwargs["timeout"] == 3


# ---------------------------------------------------------------------------- URLs as RFC 3986 reads them (issue 19 class 9)
NORMALIZED = [
    ("HTTP://Host:1/Path?Q=A#F", "http://host:1/Path?Q=A#F"),
    (" https://H ", "https://h"),
    ("HTTPS://Registry.Example.COM", "https://registry.example.com"),
    ("Http://[::1]:80", "http://[::1]:80"),
    ("host:1", "host:1"),
]


@pytest.mark.parametrize(("url", "expected"), NORMALIZED)
def test_normalize(url: str, expected: str) -> None:
    assert urls.normalize(url) == expected


@pytest.mark.parametrize("url", ["HTTP://127.0.0.1:11434", "Http://LocalHost:11434/", "HTTPS://[::1]:1"])
def test_api_url_scheme_and_host_are_case_insensitive(url: str) -> None:
    from ansible_collections.llmops.ollama.plugins.module_utils.core.connection import validate_api_url

    checked = validate_api_url(url)
    assert checked == urls.normalize(url).rstrip("/") and checked.startswith(("http://", "https://"))
