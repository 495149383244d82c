# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ollama_proxy role's settings filter: what the argument spec cannot check, one message per wrong setting."""

from __future__ import annotations

import json

import pytest

from ansible_collections.llmops.ollama.plugins.filter.proxy_settings import proxy_settings

ACME = "https://acme.test/directory"


def settings(**changes):
    base = {
        "domains": [{"domain": "ollama.example.com"}],
        "domain_defaults": {},
        "state": "present",
        "standalone": False,
        "standalone_user": "",
        "service_manager": "auto",
        "acme_terms_agreed": False,
        "acme_directory": ACME,
        "ollama_proxy_config_dir": "/etc/nginx/conf.d",
        "ollama_proxy_nginx_prefix": "",
        "ollama_proxy_nginx_conf": "",
        "ollama_proxy_pid_file": "/run/nginx.pid",
        "ollama_proxy_tls_dir": "/etc/nginx/tls",
        "ollama_proxy_acme_dir": "/etc/nginx/acme",
        "ollama_proxy_acme_webroot": "/var/www/acme",
    }
    base.update(changes)
    return base


STANDALONE = {
    "standalone": True,
    "service_manager": "binary",
    "ollama_proxy_nginx_prefix": "/srv/nginx",
    "ollama_proxy_nginx_conf": "/srv/nginx/nginx.conf",
    "ollama_proxy_pid_file": "/srv/nginx/nginx.pid",
}


def test_the_defaults_and_a_standalone_nginx_are_accepted() -> None:
    assert proxy_settings(settings()) == []
    assert proxy_settings(settings(**STANDALONE, standalone_user="www-data")) == []
    assert proxy_settings(settings(**{**STANDALONE, "standalone": "true"})) == []


def test_each_domain_once_whatever_its_case() -> None:
    twice = proxy_settings(settings(domains=[{"domain": "a.ollama.test"}, {"domain": "A.ollama.test"}]))
    assert twice == ["Every entry of ollama_proxy_domains needs a domain, and each domain may appear once (got: a.ollama.test, A.ollama.test)."]
    assert proxy_settings(settings(domains=[{"domain": ""}]))[0].endswith("(got: ).")
    assert proxy_settings(settings(domains=[{"upstream": "http://x"}]))[0].endswith("(got: ).")


def test_a_standalone_nginx_needs_absolute_paths_and_its_binary() -> None:
    message = (
        "ollama_proxy_standalone needs absolute paths in ollama_proxy_nginx_prefix, ollama_proxy_nginx_conf and ollama_proxy_pid_file"
        ' (got "", "/srv/nginx/nginx.conf", "/srv/nginx/nginx.pid"), and ollama_proxy_service_manager binary or none (got binary).'
        " Nothing was changed."
    )
    assert proxy_settings(settings(**{**STANDALONE, "ollama_proxy_nginx_prefix": ""})) == [message]
    systemd = proxy_settings(settings(**{**STANDALONE, "service_manager": "systemd"}))
    assert len(systemd) == 1 and "(got systemd)" in systemd[0]


@pytest.mark.parametrize(
    ("name", "value", "bad"),
    [
        ("ollama_proxy_config_dir", "conf.d", "none"),
        ("ollama_proxy_config_dir", "", "none"),
        ("ollama_proxy_pid_file", "/run/nginx.pid\n", '"\\n"'),
        ("ollama_proxy_pid_file", "/run/$pid", '"$"'),
        ("ollama_proxy_nginx_prefix", "/srv/{x}/{y}", '"{" "}"'),
        ("ollama_proxy_config_dir", "/etc/conf'd", '"\'"'),
        ("ollama_proxy_tls_dir", "/etc/nginx/../tls", "none"),
        ("ollama_proxy_acme_webroot", "/var/www/./acme", "none"),
        ("ollama_proxy_nginx_conf", "/etc/nginx;\nuser root", '";" "\\n" " "'),
    ],
)
def test_paths_are_absolute_of_plain_characters(name, value, bad) -> None:
    assert proxy_settings(settings(**{name: value})) == [
        "%s %s is not usable: it must be an absolute path of only letters, digits and . _ - + @ /, without . or .. segments"
        " (characters not allowed in it: %s). Nothing was changed." % (name, json.dumps(value), bad)
    ]


def test_optional_paths_may_be_empty() -> None:
    assert proxy_settings(settings(ollama_proxy_tls_dir="", ollama_proxy_acme_dir="", ollama_proxy_acme_webroot="")) == []


@pytest.mark.parametrize("user", ["root;\nworker_processes 64", "www data", "Root", "nginx\n", "1nginx"])
def test_the_standalone_user_is_a_user_name(user) -> None:
    errors = proxy_settings(settings(**STANDALONE, standalone_user=user))
    assert len(errors) == 1 and errors[0].startswith("ollama_proxy_standalone_user %s is not a user name" % json.dumps(user))
    assert errors[0].endswith("or leave it empty for nginx's default. Nothing was changed.")
    assert proxy_settings(settings(standalone_user=user)) == []  # only read for a standalone nginx


def test_acme_bindings_need_the_terms_and_ascii_names() -> None:
    message = (
        "acme.ollama.test has tls: acme. Set ollama_proxy_acme_terms_agreed: true to agree to the terms of %s, and give the"
        " domain and its aliases in ASCII (punycode for IDN), without a wildcard (http-01 cannot validate wildcards)." % ACME
    )
    acme = [{"domain": "acme.ollama.test", "tls": "acme"}]
    assert proxy_settings(settings(domains=acme)) == [message]
    assert proxy_settings(settings(domains=acme, acme_terms_agreed="yes")) == []
    assert proxy_settings(settings(domains=[dict(acme[0], aliases=["*.ollama.test"])], acme_terms_agreed=True)) == [message]
    assert len(proxy_settings(settings(domains=[{"domain": "*.ollama.test", "tls": "acme"}], acme_terms_agreed=True))) == 1
    # from the defaults of every binding; not for a binding being removed
    assert proxy_settings(settings(domains=[{"domain": "acme.ollama.test"}], domain_defaults={"tls": "acme"})) == [message]
    assert proxy_settings(settings(domains=[dict(acme[0], state="absent")])) == []
    assert proxy_settings(settings(domains=acme, state="absent")) == []
