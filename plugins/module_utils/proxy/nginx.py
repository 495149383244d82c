# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Nginx in front of Ollama: validate, render, parse, and apply with roll back.

Every string that reaches an nginx configuration is treated as hostile. It is
checked against a strict grammar (domain labels, IP networks, URL parts, path
characters, RFC 6750 tokens) and refused when it does not fit; nothing is
quoted or escaped into shape. Only values that passed these checks, or values
re-serialised by ``ipaddress``, are rendered.

Standard library only, so that managed nodes need no extra Python package.
"""

from __future__ import annotations

import encodings.idna
import hashlib
import ipaddress
import json
import os
import re
import socket
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core import urls
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.access_log import render_njs

try:  # IDNA 2008 with the UTS 46 mapping, as browsers use it; optional, the standard library has only IDNA 2003
    import idna as _idna_2008
except ImportError:  # pragma: no cover - depends on the managed node
    _idna_2008 = None

from ansible_collections.llmops.ollama.plugins.module_utils.proxy.balance import BALANCE_MODES, body_lines, js_file, upstream_block
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.paths import PATH_ALLOWED, PATH_CHARS_RE, disallowed_characters, has_dot_segment

MANAGED_BY = "llmops.ollama.ollama_domain"
MANAGED_HEADER = "# Managed by %s" % MANAGED_BY
SIDECAR_FORMAT = 1
DEFAULT_UPSTREAM = "http://127.0.0.1:11434"
# Ollama only answers a loopback-bound server for Host names it trusts (localhost, 127.0.0.1).
UPSTREAM_HOST_HEADER = "localhost:11434"
TLS_MODES = ("none", "provided", "selfsigned", "acme")
TLS_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
BACKUP_DIRNAME = ".llmops-ollama-backups"
# The directory nginx includes *.conf from: the one definition for the modules and the role defaults.
DEFAULT_CONFIG_DIR = "/etc/nginx/conf.d"
# Where the JSON access logs go (Debian's logrotate rotates /var/log/nginx/*.log), and their name: <prefix><domain>.access.log.
DEFAULT_ACCESS_LOG_DIR = "/var/log/nginx"
ACCESS_LOG_PREFIX = "llmops-ollama-"
# The response header of /healthz (and of a mirror's manifests) that carries the configuration's identity.
IDENTITY_HEADER = "X-Llmops-Ollama-Config"
HEALTH_PATH = "/healthz"
IDENTITY_PLACEHOLDER = "@LLMOPS_OLLAMA_CONFIG_IDENTITY@"
FORBIDDEN_ADDRESS_BODY = '{"error":"forbidden: this address may not use this Ollama server"}'
FORBIDDEN_OTHER_BODY = '{"error":"forbidden: nginx may not read what was asked for (check the permissions of the files it serves)"}'

# Every pattern that validates input is applied with fullmatch: "$" would also match before a trailing newline.
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_IPV4_LIKE_RE = re.compile(r"[0-9.]+")
_PORT_RE = re.compile(r"[0-9]{1,5}")
# What the renderer accepts, whatever the validation before it let through (a second line of defence).
_RENDER_ADDRESS_RE = re.compile(r"[0-9A-Fa-f:.\[\]/]+")
_RENDER_HOST_RE = re.compile(r"[a-z0-9.\-\[\]:]+")
_RENDER_NAME_RE = re.compile(r"(?:\*\.)?[a-z0-9.-]+")
# Characters that IDNA 2003 (Python's codec) and IDNA 2008 (browsers, resolvers) encode differently.
_IDNA_DEVIATIONS = (
    ("\u00df", "\u00df (sharp s)"),
    ("\u1e9e", "\u1e9e (capital sharp s)"),
    ("\u03c2", "\u03c2 (final sigma)"),
    ("\u200c", "U+200C (zero width non-joiner)"),
    ("\u200d", "U+200D (zero width joiner)"),
)


class ConfigError(ValueError):
    """An input that cannot go into an nginx configuration; the message names the option."""


# ---------------------------------------------------------------------------- validation
def _has_control_or_space(value: str) -> bool:
    return any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in value)


def _require_text(value: Any, option: str, example: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("%s is empty: give a value, for example %s" % (option, example))
    if _has_control_or_space(value):
        raise ConfigError("%s %r contains white space or a control character: remove it (example: %s)" % (option, value, example))
    return value


def normalize_domain(value: Any, option: str = "domain", allow_wildcard: bool = True) -> str:
    """An FQDN in the form nginx gets it: lower case, IDN as punycode, at most one leading ``*.``.

    Raises ConfigError naming the option and what is wrong with the value.
    """
    text = _require_text(value, option, "ollama.example.com")
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1]
    wildcard = text.startswith("*.")
    rest = text[2:] if wildcard else text
    if "*" in rest:
        if allow_wildcard:
            raise ConfigError("%s %r has a misplaced wildcard: only one leading label may be '*', as in *.example.com" % (option, value))
        raise ConfigError("%s %r contains a wildcard: give one exact host name" % (option, value))
    if wildcard and not allow_wildcard:
        raise ConfigError("%s %r contains a wildcard: give one exact host name" % (option, value))
    bad = sorted({c for c in rest if ord(c) < 128 and not (c.isalnum() or c in ".-")})
    if bad:
        raise ConfigError(
            "%s %r contains %s: a domain name has only letters, digits, hyphens and dots (internationalized names are converted to punycode)"
            % (option, value, " ".join(repr(c) for c in bad))
        )
    for dot in ("\u3002", "\uff0e", "\uff61"):  # the dots IDNA treats as label separators
        rest = rest.replace(dot, ".")
    labels = [_encode_label(label, option, value) for label in rest.split(".")]
    ascii_name = ".".join(labels)
    if labels[-1].isdigit():
        raise ConfigError("%s %r looks like an IP address or ends in a numeric label: give a DNS name" % (option, value))
    full = ("*." if wildcard else "") + ascii_name
    if len(full) > 253:
        raise ConfigError("%s %r is %d characters long once encoded: a domain name has at most 253" % (option, value, len(full)))
    return full


def _encode_label(label: str, option: str, value: Any) -> str:
    """One label of a domain name in the form nginx gets it (lower case, punycode); ConfigError naming the option."""
    if not label:
        raise ConfigError("%s %r has an empty label: write labels separated by single dots, as in ollama.example.com" % (option, value))
    encoded = label.lower() if label.isascii() else _idn_label_to_ascii(label, option, value)
    if encoded.startswith("xn--"):
        # A label written as punycode must decode, or browsers and resolvers will not agree on it.
        _check_punycode_label(encoded, option, value)
    if len(encoded) > 63:
        raise ConfigError("%s %r has a label of %d characters: each label must have 1 to 63" % (option, value, len(encoded)))
    if not _LABEL_RE.fullmatch(encoded):
        bad = sorted({c for c in encoded if not (c.isascii() and (c.isalnum() or c == "-"))})
        if bad:
            # Only IDN mapping can get here (for example a fullwidth semicolon becomes ';').
            raise ConfigError(
                "%s %r has the label %r, which becomes %r with %s: a domain name has only letters, digits, hyphens and dots"
                % (option, value, label, encoded, " ".join(repr(c) for c in bad))
            )
        raise ConfigError("%s %r has the label %r: a label must not start or end with a hyphen" % (option, value, encoded))
    return encoded


def _idn_label_to_ascii(label: str, option: str, value: Any) -> str:
    """One internationalized label as punycode, the way browsers encode it (IDNA 2008, UTS 46 non-transitional).

    With the ``idna`` package that is exact. Without it only Python's IDNA 2003 codec is there, which
    maps some characters away (``faß`` becomes ``fass``, a zero width joiner vanishes) where IDNA 2008
    keeps them: such a label would name another host than the browser's, so it is refused.
    """
    if _idna_2008 is not None:
        try:
            return _idna_2008.encode(label, uts46=True, transitional=False).decode("ascii").lower()
        except UnicodeError as exc:  # idna.IDNAError is a UnicodeError
            raise ConfigError(
                "%s %r has the label %r, which is not valid in an internationalized domain name (IDNA 2008): %s" % (option, value, label, exc)
            ) from None
    found = [name for char, name in _IDNA_DEVIATIONS if char in label]
    if found:
        raise ConfigError(
            "%s %r has the label %r with %s, which IDNA 2003 (the only IDN codec of this Python) and IDNA 2008 (browsers) encode "
            "differently: give that label in its punycode form (xn--...) as IDNA 2008 encodes it, or install the Python package idna "
            "on the managed node" % (option, value, label, ", ".join(found))
        )
    try:
        return label.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise ConfigError("%s %r has the label %r, which cannot be converted to punycode: %s" % (option, value, label, exc)) from None


def _check_punycode_label(encoded: str, option: str, value: Any) -> None:
    """A label written as ``xn--...`` must be valid punycode (and valid IDNA 2008 when ``idna`` is there)."""
    try:
        if _idna_2008 is not None:
            _idna_2008.decode(encoded)
            return
        # Python's IDNA 2003 codec would refuse IDNA 2008 labels such as xn--fa-hia (fa\u00df): check the punycode itself.
        decoded = encoded[4:].encode("ascii").decode("punycode")
        if not decoded or decoded.isascii() or not decoded.isprintable() or decoded.encode("punycode").decode("ascii") != encoded[4:]:
            raise UnicodeError("not the punycode of an internationalized label")
        encodings.idna.nameprep(decoded)  # refuses the characters that no IDNA version allows (controls, private use, ...)
    except UnicodeError as exc:
        raise ConfigError("%s %r is not a valid internationalized domain name: %s" % (option, value, exc)) from None


def normalize_aliases(values: Optional[Sequence[Any]], domain: str) -> List[str]:
    aliases: List[str] = []
    for index, value in enumerate(values or []):
        name = normalize_domain(value, "aliases[%d]" % index)
        if name != domain and name not in aliases:
            aliases.append(name)
    return aliases


def file_slug(domain: str) -> str:
    """The file name stem for a domain: the name itself, a leading ``*`` spelled ``_wildcard``.

    ``_`` never occurs in a validated domain, so a slug cannot collide with another name.
    """
    return "_wildcard" + domain[1:] if domain.startswith("*") else domain


def nginx_id(domain: str) -> str:
    """A short identifier, unique per domain, for nginx upstream, zone and variable names."""
    return "llmops_ollama_" + hashlib.sha256(domain.encode("ascii")).hexdigest()[:12]


class Upstream:
    """One Ollama server behind the proxy."""

    def __init__(self, scheme: str, host: str, port: int) -> None:
        self.scheme = scheme
        self.host = host
        self.port = port

    @property
    def server(self) -> str:
        return "%s:%d" % (self.host, self.port)

    @property
    def is_ip(self) -> bool:
        """An IP address rather than a name (nginx sends no SNI for an address)."""
        return self.host.startswith("[") or bool(_IPV4_LIKE_RE.fullmatch(self.host))

    @property
    def url(self) -> str:
        return "%s://%s" % (self.scheme, self.server)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Upstream) and self.url == other.url

    def __hash__(self) -> int:
        return hash(self.url)

    def __repr__(self) -> str:
        return "Upstream(%r)" % self.url


def validate_port(value: Any, option: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        text = str(value)
        if not _PORT_RE.fullmatch(text):
            raise ConfigError("%s %r is not a port number: give a number from 1 to 65535" % (option, value))
        value = int(text)
    if not 1 <= value <= 65535:
        raise ConfigError("%s %s is out of range: a port is a number from 1 to 65535" % (option, value))
    return value


def _normalize_host(host: str, option: str, value: str) -> str:
    if host.startswith("["):
        if not host.endswith("]"):
            raise ConfigError("%s %r has an unclosed [IPv6] address" % (option, value))
        try:
            return "[%s]" % ipaddress.IPv6Address(host[1:-1]).compressed
        except ValueError:
            raise ConfigError("%s %r has an invalid IPv6 address %r" % (option, value, host)) from None
    if _IPV4_LIKE_RE.fullmatch(host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise ConfigError("%s %r has an invalid IPv4 address %r" % (option, value, host)) from None
    try:
        return normalize_domain(host, "%s host" % option, allow_wildcard=False)
    except ConfigError as exc:
        raise ConfigError("%s %r has an invalid host: %s" % (option, value, exc)) from None


def validate_upstream(value: Any, option: str = "upstream") -> Upstream:
    """An Ollama base URL: http(s), a host, an optional port; no path, credentials, query or fragment."""
    text = _require_text(value, option, DEFAULT_UPSTREAM)
    if urls.has_credentials(text):
        # first, so that no later message repeats a secret
        raise ConfigError("%s must not carry credentials (user:password@ or a ?token= query): the proxy itself checks API keys" % option)
    if "://" not in text:
        raise ConfigError("%s %r has no scheme: write it as http://HOST:PORT, for example %s" % (option, value, DEFAULT_UPSTREAM))
    scheme, _unused, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError("%s %r has the scheme %r: only http and https are supported" % (option, value, scheme))
    if "?" in rest or "#" in rest:
        raise ConfigError("%s %r has a query or fragment: give only scheme, host and port" % (option, value))
    hostport, _unused, path = rest.partition("/")
    if path:
        raise ConfigError("%s %r has a path (/%s): Ollama serves its API from the root, give only scheme, host and port" % (option, value, path))
    host, port_text = _split_hostport(hostport, option, value)
    if not host:
        raise ConfigError("%s %r has no host: write it as %s://HOST:PORT" % (option, value, scheme))
    bad = sorted({c for c in host if not (c.isalnum() or c in ".-[]:")})
    if bad:
        raise ConfigError("%s %r has a host with %s: give a DNS name, an IPv4 address or an [IPv6] address" % (option, value, " ".join(repr(c) for c in bad)))
    host = _normalize_host(host, option, text)
    return Upstream(scheme, host, _upstream_port(port_text, scheme, option, value))


def _split_hostport(hostport: str, option: str, value: Any) -> Tuple[str, Optional[str]]:
    """(host, port text or None) of ``HOST``, ``HOST:PORT`` or ``[IPv6]:PORT``; the host keeps its brackets."""
    if hostport.startswith("["):
        if "]" not in hostport:
            raise ConfigError("%s %r has an unclosed [IPv6] address" % (option, value))
        host, _unused, tail = hostport.partition("]")
        if tail and not tail.startswith(":"):
            raise ConfigError("%s %r has text after the [IPv6] address: write http://[ADDRESS]:PORT" % (option, value))
        return host + "]", tail[1:] if tail else None
    if ":" in hostport:
        host, _unused, port_text = hostport.rpartition(":")
        return host, port_text
    return hostport, None


def _upstream_port(port_text: Optional[str], scheme: str, option: str, value: Any) -> int:
    """The port given after the host, else the scheme's own."""
    if port_text == "":
        raise ConfigError("%s %r has an empty port: write HOST:PORT, for example %s" % (option, value, DEFAULT_UPSTREAM))
    if port_text is None:
        return 443 if scheme == "https" else 80
    return validate_port(port_text, "%s port" % option)


def validate_upstreams(upstream: Optional[str], upstreams: Optional[Sequence[Any]], api_url: Optional[str] = None) -> List[Upstream]:
    """The upstream group: ``upstreams``, else ``upstream``, else ``api_url`` (the action group's Ollama URL), else the default."""
    if upstreams is not None:
        if not upstreams:
            raise ConfigError("upstreams is empty: give at least one Ollama URL, for example %s" % DEFAULT_UPSTREAM)
        result: List[Upstream] = []
        for index, value in enumerate(upstreams):
            item = validate_upstream(value, "upstreams[%d]" % index)
            if item not in result:
                result.append(item)
        if len({u.scheme for u in result}) > 1:
            raise ConfigError("upstreams mix http and https: nginx talks to one upstream group with one scheme")
        hosts = {u.host for u in result}
        if result[0].scheme == "https" and len(hosts) > 1 and any(not u.is_ip for u in result):
            raise ConfigError(
                "upstreams use https with different hosts (%s): nginx sends one TLS server name (SNI) to the whole group. "
                "Give https upstreams that share one host name (different ports are fine), IP addresses only, or separate domains" % ", ".join(sorted(hosts))
            )
        return result
    if upstream is None and api_url:
        return [validate_upstream(api_url, "api_url (the upstream, as neither upstream nor upstreams is set)")]
    return [validate_upstream(DEFAULT_UPSTREAM if upstream is None else upstream, "upstream")]


def _refuse_zone_index(text: str, option: str, value: Any, example: str) -> None:
    """Python's ipaddress accepts an IPv6 zone index (``fe80::1%eth0``) of any characters and keeps it."""
    if "%" in text:
        raise ConfigError(
            "%s %r has an IPv6 zone index (the part from '%%'): nginx takes no zone index there, and it is not checked. "
            "Give the address without it, for example %s" % (option, value, example)
        )


def validate_listen_address(value: Any) -> Optional[str]:
    """An IP address to listen on, in nginx's notation (IPv6 in brackets); None for all IPv4 addresses."""
    if value is None or value == "":
        return None
    text = _require_text(value, "listen_address", "127.0.0.1")
    _refuse_zone_index(text, "listen_address", value, "fe80::1")
    try:
        address = ipaddress.ip_address(text[1:-1] if text.startswith("[") and text.endswith("]") else text)
    except ValueError:
        raise ConfigError("listen_address %r is not an IP address: give one such as 127.0.0.1, 0.0.0.0 or ::" % value) from None
    if address.version == 6:
        return "[%s]" % address.compressed
    return str(address)


def validate_allow(values: Optional[Sequence[Any]], public: bool) -> List[str]:
    """The allowlist as nginx ``allow`` arguments (re-serialised by ipaddress)."""
    values = list(values or [])
    if public and values:
        raise ConfigError("public: true opens the proxy to every address, and allow limits it to some: set one or the other")
    if not values:
        if not public:
            raise ConfigError(
                "allow is empty: list the addresses or networks that may reach Ollama through this proxy (for example 10.0.0.0/8), "
                "or set public: true to accept every address (then use api_keys)"
            )
        return []
    result: List[str] = []
    for index, value in enumerate(values):
        option = "allow[%d]" % index
        text = _require_text(value if isinstance(value, str) else str(value), option, "10.0.0.0/8")
        _refuse_zone_index(text, option, value, "fe80::/10")
        try:
            network = ipaddress.ip_network(text, strict=True)
        except ValueError as exc:
            try:
                loose: Optional[Any] = ipaddress.ip_network(text, strict=False)
            except ValueError:
                loose = None
            if loose is not None:
                raise ConfigError("%s %r has host bits set: did you mean %s?" % (option, value, loose)) from None
            raise ConfigError("%s %r is not an IP address or CIDR network: %s" % (option, value, exc)) from None
        if network.prefixlen == 0:
            raise ConfigError("%s %r allows every address: set public: true instead, and protect the proxy with api_keys" % (option, value))
        rendered = str(network.network_address) if network.prefixlen == network.max_prefixlen else str(network)
        if rendered not in result:
            result.append(rendered)
    _refuse_everyone(result, values)
    return result


_EVERY_IPV4 = ipaddress.IPv4Network("0.0.0.0/0")
_EVERY_IPV6 = ipaddress.IPv6Network("::/0")
# nginx matches an IPv4 client on an IPv6 socket as the mapped address (::ffff:a.b.c.d), so these cover IPv4 too.
_IPV4_IN_IPV6 = (ipaddress.IPv6Network("::ffff:0:0/96"),)


def allow_coverage(networks: Sequence[str]) -> List[str]:
    """Which whole address families the networks cover together: ``IPv4``, ``IPv6`` (empty when neither)."""
    v4: List[ipaddress.IPv4Network] = []
    v6: List[ipaddress.IPv6Network] = []
    for text in networks:
        network = ipaddress.ip_network(text, strict=False)
        if isinstance(network, ipaddress.IPv4Network):
            v4.append(network)
        else:
            v6.append(network)
            for mapped in _IPV4_IN_IPV6:
                if network.overlaps(mapped):
                    # The IPv4 part of an IPv6 network that (partly) covers the mapped range.
                    low = max(int(network.network_address), int(mapped.network_address)) - int(mapped.network_address)
                    high = min(int(network.broadcast_address), int(mapped.broadcast_address)) - int(mapped.network_address)
                    v4 += ipaddress.summarize_address_range(ipaddress.IPv4Address(low), ipaddress.IPv4Address(high))
    covered: List[str] = []
    if _EVERY_IPV4 in list(ipaddress.collapse_addresses(v4)):
        covered.append("IPv4")
    if _EVERY_IPV6 in list(ipaddress.collapse_addresses(v6)):
        covered.append("IPv6")
    return covered


def _refuse_everyone(networks: Sequence[str], values: Sequence[Any]) -> None:
    """An allowlist that adds up to every address of a family is ``public: true`` in disguise: refused."""
    covered = allow_coverage(networks)
    if covered:
        raise ConfigError(
            "allow %s covers %s together (however the networks are split, their union is the whole address space): "
            "that is not an allowlist. Set public: true instead (and protect the proxy with api_keys), or list only the networks "
            "that should reach Ollama" % (", ".join(str(v) for v in values), " and ".join("every %s address" % family for family in covered))
        )


KEY_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
KEY_NAME_RULE = "1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit"
# What the access log writes for a request without (a valid) key, and for a binding without keys.
NO_KEY = "-"


def derived_key_name(key: str) -> str:
    """The non-secret id of a key given as a plain string: ``key-`` and the first 8 hex digits of its SHA-256."""
    return "key-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:8]


def _check_key(value: Any, option: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError("%s is empty: an API key is a bearer token such as the output of: openssl rand -hex 32" % option)
    if value.endswith("\n") and _B64TOKEN_RE.fullmatch(value.rstrip("\r\n")):
        raise ConfigError(
            "%s ends with a newline (the value is not shown), so no request could ever carry it. Strip the newline: write the key "
            "with a YAML |- block instead of |, or apply the trim filter to it (the key is not stripped for you)" % option
        )
    if not _B64TOKEN_RE.fullmatch(value):
        raise ConfigError(
            "%s is not an RFC 6750 bearer token: use only A-Z a-z 0-9 - . _ ~ + / (and = only at the end), "
            "no white space or quotes (the value is not shown)" % option
        )
    if len(value) > 512:
        raise ConfigError("%s is longer than 512 characters (the value is not shown)" % option)
    return value


def validate_named_api_keys(values: Optional[Sequence[Any]]) -> Tuple[List[str], List[str], List[str]]:
    """The bearer tokens, their names (a plain string gets ``key-<8 hex>``), and warnings. Messages never contain a key.

    An entry is a key (a string) or ``{name, key}``. Names go into the access log and metric labels, so they are
    checked against a small alphabet and must be unique (without regard to case); a key listed twice under one
    name is kept once, under two names it is refused (the proxy could not tell which one a request used).
    """
    keys: List[str] = []
    names: List[str] = []
    warnings: List[str] = []
    for index, value in enumerate(values or []):
        option = "api_keys[%d]" % index
        if isinstance(value, dict):
            unknown = sorted(str(k) for k in value if k not in ("name", "key"))
            if unknown:
                raise ConfigError("%s has the field(s) %s: an entry is a key, or {name: NAME, key: KEY}" % (option, ", ".join(unknown)))
            name = value.get("name")
            if not isinstance(name, str) or not KEY_NAME_RE.fullmatch(name):
                shown = repr(name) if isinstance(name, str) and len(name) <= 80 and name.isprintable() else "(not shown)"
                raise ConfigError("%s has the name %s: a key name has %s" % (option, shown, KEY_NAME_RULE))
            key = _check_key(value.get("key"), "%s.key (name %s)" % (option, name))
        elif isinstance(value, str):
            key = _check_key(value, option)
            name = derived_key_name(key)
        else:
            raise ConfigError("%s is a %s: an entry is a key (a string), or {name: NAME, key: KEY}" % (option, type(value).__name__))
        if len(key) < 16:
            warnings.append("%s is only %d characters long (key %s): use at least 32 random characters (openssl rand -hex 32)" % (option, len(key), name))
        if key in keys:
            other = names[keys.index(key)]
            if other != name:
                raise ConfigError("%s (%s) is the same key as the one named %s: give each key one name" % (option, name, other))
            continue
        if name.lower() in [n.lower() for n in names]:
            raise ConfigError("%s: the key name %s is used twice; key names must be unique (without regard to case)" % (option, name))
        keys.append(key)
        names.append(name)
    return keys, names, warnings


def validate_api_keys(values: Optional[Sequence[Any]]) -> Tuple[List[str], List[str]]:
    """The bearer tokens, and warnings (see validate_named_api_keys). Messages never contain a key."""
    keys, _names, warnings = validate_named_api_keys(values)
    return keys, warnings


def validate_path(value: Any, option: str, required: bool = True) -> Optional[str]:
    """An absolute path that may be written unquoted into an nginx configuration."""
    if value is None or value == "":
        if required:
            raise ConfigError("%s is required: give an absolute path" % option)
        return None
    text = _require_text(value if isinstance(value, str) else str(value), option, "/etc/nginx/conf.d")
    if not text.startswith("/"):
        raise ConfigError("%s %r is not an absolute path: start it with /" % (option, value))
    bad = sorted(disallowed_characters(text))
    if bad:
        raise ConfigError(
            "%s %r contains %s: paths that reach the nginx configuration may hold only %s" % (option, value, " ".join(repr(c) for c in bad), PATH_ALLOWED)
        )
    if has_dot_segment(text):
        raise ConfigError("%s %r contains a . or .. segment: give the path without them" % (option, value))
    normalized = "/" + "/".join(part for part in text.split("/") if part)
    return normalized


def validate_range(value: Any, option: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError("%s %r is out of range: give a whole number from %d to %d" % (option, value, low, high))
    return value


# ---------------------------------------------------------------------------- the binding
class Binding:
    """A validated domain binding: everything the renderer needs, nothing unchecked."""

    def __init__(self, **values: Any) -> None:
        self.domain: str = values["domain"]
        self.aliases: List[str] = list(values.get("aliases") or [])
        self.upstreams: List[Upstream] = list(values.get("upstreams") or [validate_upstream(DEFAULT_UPSTREAM)])
        self.listen_address: Optional[str] = values.get("listen_address")
        self.http_port: int = values.get("http_port", 80)
        self.https_port: int = values.get("https_port", 443)
        self.tls: str = values.get("tls", "none")
        self.certificate: Optional[str] = values.get("certificate")
        self.private_key: Optional[str] = values.get("private_key")
        self.redirect_http: bool = values.get("redirect_http", True)
        self.hsts: bool = values.get("hsts", False)
        self.tls_protocols: List[str] = list(values.get("tls_protocols") or TLS_PROTOCOLS)
        self.allow: List[str] = list(values.get("allow") or [])
        self.public: bool = values.get("public", False)
        self.api_keys: List[str] = list(values.get("api_keys") or [])
        self.rate_limit: Optional[int] = values.get("rate_limit")
        self.rate_limit_burst: Optional[int] = values.get("rate_limit_burst")
        self.read_timeout: int = values.get("read_timeout", 600)
        self.send_timeout: int = values.get("send_timeout", 600)
        self.config_dir: str = values.get("config_dir", DEFAULT_CONFIG_DIR)
        self.acme_webroot: str = values.get("acme_webroot", "/var/lib/llmops-ollama/acme")
        self.default_server: bool = values.get("default_server", False)
        self.mirror_path: Optional[str] = values.get("mirror_path")
        self.balance: str = values.get("balance", "least_conn")
        names = values.get("key_names")
        self.key_names: List[str] = list(names) if names is not None else [derived_key_name(k) for k in self.api_keys]
        self.access_log: bool = values.get("access_log", False)
        self.access_log_dir: str = values.get("access_log_dir", DEFAULT_ACCESS_LOG_DIR)
        self.njs: bool = values.get("njs", False)
        # The configuration's identity (set by render_config): served at /healthz, checked by verify.
        self.identity: Optional[str] = None

    @property
    def names(self) -> List[str]:
        return [self.domain, *self.aliases]

    @property
    def tls_enabled(self) -> bool:
        return self.tls != "none"

    @property
    def slug(self) -> str:
        return file_slug(self.domain)

    @property
    def ident(self) -> str:
        return nginx_id(self.domain)

    @property
    def config_file(self) -> str:
        return os.path.join(self.config_dir, self.slug + ".conf")

    @property
    def access_log_file(self) -> str:
        """The JSON access log (one line per request) that the mtail program reads."""
        return os.path.join(self.access_log_dir, ACCESS_LOG_PREFIX + self.slug + ".access.log")

    @property
    def njs_file(self) -> str:
        """The njs script that reads the request's model and the answer's token counts for the access log."""
        return os.path.join(self.config_dir, self.slug + ".js")

    @property
    def keys_file(self) -> str:
        return os.path.join(self.config_dir, self.slug + ".keys")

    @property
    def sidecar_file(self) -> str:
        return os.path.join(self.config_dir, self.slug + ".json")

    @property
    def js_file(self) -> str:
        return js_file(self.config_dir, self.slug)

    @property
    def url(self) -> str:
        if self.tls_enabled:
            return "https://%s%s" % (self.domain, "" if self.https_port == 443 else ":%d" % self.https_port)
        return "http://%s%s" % (self.domain, "" if self.http_port == 80 else ":%d" % self.http_port)

    def listens(self) -> List[Tuple[str, int]]:
        """(address, port) pairs this binding listens on; ``*`` for every address."""
        address = self.listen_address or "*"
        if address in ("0.0.0.0", "[::]"):  # noqa: S104 - comparing, not binding
            address = "*"
        pairs = [(address, self.http_port)]
        if self.tls_enabled:
            pairs.append((address, self.https_port))
        return pairs


def _binding_upstreams(params: Dict[str, Any], mirror_path: Optional[str], names: Tuple[str, ...]) -> List[Upstream]:
    """The upstreams of a binding (a placeholder for a mirror binding), none of them one of its own ``names``."""
    if mirror_path is not None:
        if mirror_path == "/":
            raise ConfigError("mirror_path is /: give the directory that ollama_mirror fills (its path), never the root of the file system")
        if params.get("upstream") is not None or params.get("upstreams") is not None:
            raise ConfigError(
                "mirror_path serves a mirror directory, and upstream or upstreams proxy to Ollama: one binding does one of them. "
                "Bind the mirror under a name of its own"
            )
        upstreams = [validate_upstream(DEFAULT_UPSTREAM)]  # not rendered: a mirror binding has no upstream group
    else:
        upstreams = validate_upstreams(params.get("upstream"), params.get("upstreams"), params.get("api_url"))
    for item in upstreams:
        if item.host in names:
            raise ConfigError(
                "the upstream %s is this binding's own name: the proxy would forward to itself. Give the Ollama server's address "
                "(for example %s) in upstream" % (item.url, DEFAULT_UPSTREAM)
            )
    return upstreams


def _binding_balance(params: Dict[str, Any], mirror_path: Optional[str]) -> str:
    balance = params.get("balance") or "least_conn"
    if balance not in BALANCE_MODES:
        raise ConfigError("balance %r is not one of %s" % (balance, ", ".join(BALANCE_MODES)))
    if balance == "model" and mirror_path is not None:
        raise ConfigError("balance: model spreads requests for models over Ollama servers; a mirror binding (mirror_path) has none")
    return balance


def _binding_tls(params: Dict[str, Any]) -> Tuple[int, int, str, Optional[str], Optional[str]]:
    """(http_port, https_port, tls, certificate, private_key) of a binding, checked together."""
    http_port = validate_port(params.get("http_port", 80), "http_port")
    https_port = validate_port(params.get("https_port", 443), "https_port")
    tls = params.get("tls") or "none"
    if tls not in TLS_MODES:
        raise ConfigError("tls %r is not one of %s" % (tls, ", ".join(TLS_MODES)))
    if tls != "none" and http_port == https_port:
        raise ConfigError("http_port and https_port are both %d: give them different ports" % http_port)
    certificate = validate_path(params.get("certificate"), "certificate", required=False)
    private_key = validate_path(params.get("private_key"), "private_key", required=False)
    if tls in ("provided", "acme"):
        if not certificate or not private_key:
            raise ConfigError("tls: %s needs both certificate and private_key (absolute paths of the PEM files)" % tls)
    elif tls == "none" and (certificate or private_key):
        raise ConfigError("certificate and private_key are only used with tls: provided, selfsigned or acme (tls is none)")
    return http_port, https_port, tls, certificate, private_key


def _tls_protocols(params: Dict[str, Any]) -> List[str]:
    """The TLS protocols asked for, in TLS_PROTOCOLS order."""
    protocols = list(params.get("tls_protocols") or TLS_PROTOCOLS)
    for index, protocol in enumerate(protocols):
        if protocol not in TLS_PROTOCOLS:
            raise ConfigError("tls_protocols[%d] %r is not one of %s" % (index, protocol, ", ".join(TLS_PROTOCOLS)))
    return [p for p in TLS_PROTOCOLS if p in protocols]


def _optional_range(value: Any, option: str, low: int, high: int) -> Optional[int]:
    return None if value is None else validate_range(value, option, low, high)


def build_binding(params: Dict[str, Any]) -> Tuple[Binding, List[str]]:
    """Check every option that reaches the configuration; a Binding and warnings, or ConfigError."""
    warnings: List[str] = []
    domain = normalize_domain(params.get("domain"))
    aliases = normalize_aliases(params.get("aliases"), domain)
    mirror_path = validate_path(params.get("mirror_path"), "mirror_path", required=False)
    upstreams = _binding_upstreams(params, mirror_path, (domain, *aliases))
    balance = _binding_balance(params, mirror_path)
    listen_address = validate_listen_address(params.get("listen_address"))
    http_port, https_port, tls, certificate, private_key = _binding_tls(params)
    protocols = _tls_protocols(params)
    public = bool(params.get("public", False))
    allow = validate_allow(params.get("allow"), public)
    keys, key_names, key_warnings = validate_named_api_keys(params.get("api_keys"))
    warnings.extend(key_warnings)
    if public and not keys:
        warnings.append("public: true without api_keys exposes an unauthenticated Ollama to every address that reaches the proxy")
    rate_limit = _optional_range(params.get("rate_limit"), "rate_limit", 1, 100000)
    burst = _optional_range(params.get("rate_limit_burst"), "rate_limit_burst", 0, 1000000)
    read_timeout = validate_range(params.get("read_timeout", 600), "read_timeout", 1, 86400)
    send_timeout = validate_range(params.get("send_timeout", 600), "send_timeout", 1, 86400)
    config_dir = validate_path(params.get("config_dir") or DEFAULT_CONFIG_DIR, "config_dir")
    acme_webroot = validate_path(params.get("acme_webroot") or "/var/lib/llmops-ollama/acme", "acme_webroot")
    binding = Binding(
        domain=domain,
        aliases=aliases,
        upstreams=upstreams,
        listen_address=listen_address,
        http_port=http_port,
        https_port=https_port,
        tls=tls,
        certificate=certificate,
        private_key=private_key,
        redirect_http=bool(params.get("redirect_http", True)),
        hsts=bool(params.get("hsts", False)),
        tls_protocols=protocols,
        allow=allow,
        public=public,
        api_keys=keys,
        key_names=key_names,
        rate_limit=rate_limit,
        rate_limit_burst=burst,
        read_timeout=read_timeout,
        send_timeout=send_timeout,
        config_dir=config_dir,
        acme_webroot=acme_webroot,
        default_server=bool(params.get("default_server", False)),
        mirror_path=mirror_path,
        balance=balance,
        access_log=bool(params.get("access_log", False)),
        access_log_dir=validate_path(params.get("access_log_dir") or DEFAULT_ACCESS_LOG_DIR, "access_log_dir"),
        njs=bool(params.get("njs", False)),
    )
    return binding, warnings


# ---------------------------------------------------------------------------- rendering
def _listen(address: Optional[str], port: int, ssl: bool, default: bool = False) -> str:
    where = "%s:%d" % (address, port) if address else "%d" % port
    return "    listen %s%s%s;" % (where, " ssl" if ssl else "", " default_server" if default else "")


def _host_check(b: Binding) -> List[str]:
    """Unless the binding is the default server: a request for a name it does not serve gets 421.

    nginx hands every request whose Host matches no server_name to the default server of the
    address and port, which is the first server block there unless one says ``default_server``.
    Without this check a binding that happens to be first would answer for any name (an IP
    address, a forgotten DNS name) by accident.
    """
    if b.default_server:
        return []
    return ["    if ($%s_host = 0) {" % b.ident, "        return 421;", "    }", ""]


def _host_map(b: Binding) -> List[str]:
    """``$<id>_host`` is 1 for the binding's own names, matched as server_name matches them (``hostnames``).

    A specific listen address counts as a name too: a request addressed to it by IP (a health probe)
    is meant for this binding's address, not a name it never heard of.
    """
    if b.default_server:
        return []
    known = list(b.names)
    if b.listen_address and b.listen_address not in ("0.0.0.0", "[::]"):  # noqa: S104 - comparing, not binding
        known.append(b.listen_address)
    return ["", "map $host $%s_host {" % b.ident, "    hostnames;", "    default 0;", *("    %s 1;" % name for name in known), "}"]


MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"


def _access_lines(b: Binding, indent: str = "        ") -> List[str]:
    """The allowlist, the API key check and the rate limit of a location (access phase: before any content)."""
    lines = ["%sallow %s;" % (indent, network) for network in b.allow]
    if b.allow:
        lines.append("%sdeny all;" % indent)
    if b.api_keys:
        lines.append("%sauth_request /_%s_auth;" % (indent, b.ident))
    if b.rate_limit:
        burst = b.rate_limit if b.rate_limit_burst is None else b.rate_limit_burst
        if burst:
            lines.append("%slimit_req zone=%s burst=%d nodelay;" % (indent, b.ident, burst))
        else:
            lines.append("%slimit_req zone=%s;" % (indent, b.ident))
        lines.append("%slimit_req_status 429;" % indent)
    return lines


# What a mirror's file paths may hold once nginx has decoded them: a request whose path has anything else (a
# decoded %0d, a quote) matches neither pattern, so no response header is ever built from it.
_MIRROR_NAME = "[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)*"
_MIRROR_MANIFEST_RE = "^/v2/%s/manifests/[A-Za-z0-9._:-]+$" % _MIRROR_NAME
_MIRROR_BLOB_RE = "^/v2/%s/blobs/sha256:[0-9a-f]{64}$" % _MIRROR_NAME


def _identity_line(indent: str = "        ") -> str:
    return "%sadd_header %s %s always;" % (indent, IDENTITY_HEADER, IDENTITY_PLACEHOLDER)


def _mirror_locations(b: Binding) -> List[str]:
    """A mirror directory as a registry's read paths: /v2/<name>/manifests/<ref> and /v2/<name>/blobs/sha256:<hex>.

    Only files under ``<mirror_path>/v2`` are reachable; other /v2/ paths get 404. nginx's static
    module serves GET and HEAD (with Range) and answers 405 to other methods, after the access checks.
    The version check ``/v2/`` answers through a named location reached by try_files, so that the
    allowlist and the key check run first (``return`` would run before them). Manifests carry the
    configuration's identity header, so that verify proves it read one through this configuration.
    """
    access = _access_lines(b)
    return [
        "    location = /v2/ {",
        *access,
        "        try_files /.llmops-ollama-no-such-file @%s_v2;" % b.ident,
        "    }",
        "",
        "    location @%s_v2 {" % b.ident,
        "        default_type application/json;",
        "        add_header Docker-Distribution-Api-Version registry/2.0 always;",
        "        return 200 '{}';",
        "    }",
        "",
        "    location ^~ /v2/ {",
        *access,
        "        root %s;" % b.mirror_path,
        "        autoindex off;",
        "        sendfile on;",
        "        tcp_nopush on;",
        "        types { }",
        "        default_type application/octet-stream;",
        "",
        '        location ~ "%s" {' % _MIRROR_MANIFEST_RE,
        "            types { }",
        "            default_type %s;" % MANIFEST_TYPE,
        '            add_header Cache-Control "no-cache" always;',
        _identity_line("            "),
        "        }",
        "",
        '        location ~ "%s" {' % _MIRROR_BLOB_RE,
        "            types { }",
        "            default_type application/octet-stream;",
        '            add_header Cache-Control "public, max-age=31536000, immutable" always;',
        # Ollama reads the download URL of a blob from Location, on a 200 too (server/download.go). $uri is
        # decoded, but this location only matches paths of the strict alphabet above.
        "            add_header Location $uri always;",
        "        }",
        "",
        "        return 404;",
        "    }",
        "",
        "    location / {",
        "        return 404;",
        "    }",
    ]


def _health_location(b: Binding) -> List[str]:
    """``GET /healthz``: the allowlist applies, no key is needed, and it shows no model data.

    A proxy binding asks Ollama's ``/api/version`` through the same upstream group as clients do, so a
    monitor sees what a client would: 200 with the version, or 502/504 (with a JSON body) when Ollama
    is down or hangs. A mirror binding answers 200. Both carry the configuration's identity header.
    """
    allow = ["        allow %s;" % network for network in b.allow]
    if b.allow:
        allow.append("        deny all;")
    lines = ["    location = %s {" % HEALTH_PATH, *allow, _identity_line()]
    if b.mirror_path:
        lines += ["        try_files /.llmops-ollama-no-such-file @%s_healthy;" % b.ident, "    }", ""]
        return [*lines, *_health_answer(b, "healthy", 200, '{"status":"ok"}')]
    scheme = b.upstreams[0].scheme
    lines += [
        "        proxy_pass %s://%s/api/version;" % (scheme, b.ident),
        "        proxy_method GET;",
        "        proxy_pass_request_body off;",
        '        proxy_set_header Content-Length "";',
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_set_header Host %s;" % UPSTREAM_HOST_HEADER,
        '        proxy_set_header Authorization "";',
    ]
    if scheme == "https":
        lines.append("        proxy_ssl_server_name on;")
        ssl_name = _ssl_name(b)
        if ssl_name:
            lines.append("        proxy_ssl_name %s;" % ssl_name)
    lines += [
        "        proxy_connect_timeout 5s;",
        "        proxy_read_timeout 10s;",
        "        proxy_intercept_errors on;",
        # Replaces the server's error_page list here: the allowlist's 403 must keep its own answer.
        "        error_page 403 = @%s_forbidden;" % b.ident,
        "        error_page 500 502 503 504 @%s_unhealthy;" % b.ident,
        "    }",
        "",
        # Without "=", the status stays the upstream's (502, 504, ...), only the body is replaced.
        *_health_answer(b, "unhealthy", 200, '{"status":"unavailable","error":"Ollama does not answer through the proxy"}'),
    ]
    return lines


def _health_answer(b: Binding, name: str, status: int, body: str) -> List[str]:
    return [
        "    location @%s_%s {" % (b.ident, name),
        _identity_line(),
        "        default_type application/json;",
        "        return %d '%s\\n';" % (status, body),
        "    }",
    ]


def _error_locations(b: Binding, ssl: bool) -> List[str]:
    """Named locations that give Ollama-style JSON errors for what nginx itself refuses."""
    hsts = ['        add_header Strict-Transport-Security "max-age=31536000" always;'] if ssl and b.hsts else []
    lines = ["    error_page 403 = @%s_forbidden;" % b.ident]
    if b.api_keys:
        lines.append("    error_page 401 = @%s_unauthorized;" % b.ident)
    if b.rate_limit:
        lines.append("    error_page 429 = @%s_too_many;" % b.ident)
    lines += [
        "",
        "    location @%s_forbidden {" % b.ident,
        *hsts,
        "        default_type application/json;",
        # The allowlist's words only for an address the allowlist refuses; any other 403 of nginx (a file it may not read) says so.
        *(["        if ($%s_allowed = 0) {" % b.ident, "            return 403 '%s\\n';" % FORBIDDEN_ADDRESS_BODY, "        }"] if b.allow else []),
        "        return 403 '%s\\n';" % FORBIDDEN_OTHER_BODY,
        "    }",
    ]
    if b.api_keys:
        lines += [
            "",
            "    location = /_%s_auth {" % b.ident,
            "        internal;",
            '        if ($%s_key = "%s") {' % (b.ident, NO_KEY),
            "            return 401;",
            "        }",
            "        return 204;",
            "    }",
            "",
            "    location @%s_unauthorized {" % b.ident,
            *hsts,
            "        add_header WWW-Authenticate 'Bearer realm=\"ollama\"' always;",
            "        default_type application/json;",
            '        return 401 \'{"error":"unauthorized: send a valid API key as Authorization: Bearer <key>"}\\n\';',
            "    }",
        ]
    if b.rate_limit:
        lines += [
            "",
            "    location @%s_too_many {" % b.ident,
            *hsts,
            "        default_type application/json;",
            '        return 429 \'{"error":"too many requests: slow down"}\\n\';',
            "    }",
        ]
    return lines


# The endpoints whose request body names a model: with njs, nginx reads these (small JSON) bodies whole before it
# sends them on, so that the access log can name the model. Every other path (blob uploads of gigabytes) streams.
MODEL_ENDPOINTS = (
    "/api/generate",
    "/api/chat",
    "/api/embed",
    "/api/embeddings",
    "/api/show",
    "/api/pull",
    "/api/push",
    "/api/create",
    "/api/copy",
    "/api/delete",
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
)
# The endpoint label of the access log: the Ollama and OpenAI paths by name, every other path "other" (bounded cardinality).
LOGGED_ENDPOINTS = (*MODEL_ENDPOINTS, "/api/tags", "/api/ps", "/api/version", "/v1/models", "/", HEALTH_PATH)
# Bodies up to this size are read in memory (larger ones, such as chats with big images, are logged without a model).
MODEL_BODY_BUFFER = "4m"


def _proxy_location(b: Binding) -> List[str]:
    if b.mirror_path:
        return _mirror_locations(b)
    lines = _proxy_block(b, "location /", request_buffering=False)
    if b.access_log and b.njs:
        pattern = "|".join(re.escape(e[1:]) for e in MODEL_ENDPOINTS)
        lines += ["", *_proxy_block(b, 'location ~ "^/(?:%s)$"' % pattern, request_buffering=True)]
    return lines


def _proxy_block(b: Binding, opening: str, request_buffering: bool) -> List[str]:
    scheme = b.upstreams[0].scheme
    lines = ["    %s {" % opening, *_access_lines(b)]
    lines += [
        "        proxy_pass %s://%s;" % (scheme, b.ident),
        "        proxy_http_version 1.1;",
        '        proxy_set_header Connection "";',
        "        proxy_set_header Host %s;" % UPSTREAM_HOST_HEADER,
    ]
    if b.api_keys:
        lines.append('        proxy_set_header Authorization "";')
    lines += [
        "        proxy_set_header X-Real-IP $remote_addr;",
        "        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;",
        "        proxy_set_header X-Forwarded-Proto $scheme;",
    ]
    if scheme == "https":
        lines.append("        proxy_ssl_server_name on;")
        ssl_name = _ssl_name(b)
        if ssl_name:
            # Without it nginx sends the upstream block's name (llmops_ollama_...) as SNI.
            lines.append("        proxy_ssl_name %s;" % ssl_name)
    lines += [
        "        proxy_buffering off;",
        "        proxy_cache off;",
    ]
    if b.balance == "model":
        # the upstream is chosen by the body's model: nginx reads the whole body first (balance.body_lines)
        lines += body_lines(b.balance)
    else:
        lines.append("        proxy_request_buffering %s;" % ("on" if request_buffering else "off"))
        if request_buffering:
            lines.append("        client_body_buffer_size %s;" % MODEL_BODY_BUFFER)
    if b.access_log and b.njs:
        # Passes every chunk on at once, unchanged; it only scans it for the answer's token counts.
        lines.append("        js_body_filter %s.scan buffer_type=buffer;" % b.ident)
    lines += [
        "        proxy_read_timeout %ds;" % b.read_timeout,
        "        proxy_send_timeout %ds;" % b.send_timeout,
        "        send_timeout %ds;" % b.send_timeout,
        "        client_max_body_size 0;",
        "    }",
    ]
    return lines


def _log_lines(b: Binding) -> List[str]:
    """The http-level parts of the JSON access log: the endpoint label, the format, the njs variables."""
    if not b.access_log:
        return []
    lines = ["map $uri $%s_endpoint {" % b.ident, "    default other;"]
    lines += ["    %s %s;" % (endpoint, endpoint) for endpoint in LOGGED_ENDPOINTS]
    lines += ['    "~^/api/blobs/" /api/blobs;', '    "~^/v1/models/" /v1/models;', "}", ""]
    if b.njs:
        lines += [
            "js_import %s from %s;" % (b.ident, b.njs_file),
            "js_set $%s_model %s.model;" % (b.ident, b.ident),
            "js_set $%s_prompt_tokens %s.prompt_tokens;" % (b.ident, b.ident),
            "js_set $%s_completion_tokens %s.completion_tokens;" % (b.ident, b.ident),
            "",
        ]
    fields = [
        ("time", "$time_iso8601"),
        ("domain", b.domain),
        ("key", "$%s_key" % b.ident if b.api_keys else NO_KEY),
        ("method", "$request_method"),
        ("endpoint", "$%s_endpoint" % b.ident),
        ("model", "$%s_model" % b.ident if b.njs else ""),
        ("status", "$status"),
        ("request_time", "$request_time"),
        ("ttfb", "$upstream_header_time"),
        ("bytes_sent", "$bytes_sent"),
        ("request_length", "$request_length"),
        ("prompt_tokens", "$%s_prompt_tokens" % b.ident if b.njs else ""),
        ("completion_tokens", "$%s_completion_tokens" % b.ident if b.njs else ""),
    ]
    text = ",".join('"%s":"%s"' % item for item in fields)
    return [*lines, "log_format %s_json escape=json '{%s}';" % (b.ident, text), ""]


def _ssl_name(b: Binding) -> Optional[str]:
    """The TLS server name for https upstreams: their one host name; None for IP addresses (no SNI)."""
    hosts = {u.host for u in b.upstreams}
    if len(hosts) != 1:
        # validate_upstreams refuses named https hosts that differ; several addresses get no SNI.
        if any(not u.is_ip for u in b.upstreams):
            raise ConfigError("https upstreams with different hosts cannot share one TLS server name")
        return None
    upstream = b.upstreams[0]
    return None if upstream.is_ip else upstream.host


def _renderable(value: Any, what: str, pattern: Any) -> None:
    """The renderer's own check: whatever validation let through, nothing outside a strict alphabet is written."""
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ConfigError("refusing to write %s %r into the nginx configuration: it has characters an nginx value may not hold here" % (what, value))


def _check_renderable(b: Binding) -> None:
    for name in b.names:
        _renderable(name, "the server name", _RENDER_NAME_RE)
    if b.listen_address is not None:
        _renderable(b.listen_address, "the listen address", _RENDER_ADDRESS_RE)
    for network in b.allow:
        _renderable(network, "the allow entry", _RENDER_ADDRESS_RE)
    for upstream in b.upstreams:
        if upstream.scheme not in ("http", "https"):
            raise ConfigError("refusing to write the upstream scheme %r into the nginx configuration" % (upstream.scheme,))
        _renderable(upstream.host, "the upstream host", _RENDER_HOST_RE)
        if isinstance(upstream.port, bool) or not isinstance(upstream.port, int) or not 1 <= upstream.port <= 65535:
            raise ConfigError("refusing to write the upstream port %r into the nginx configuration" % (upstream.port,))
    paths = [b.keys_file, b.acme_webroot]
    if b.mirror_path:
        paths.append(b.mirror_path)
    if b.balance == "model":
        paths.append(b.js_file)
    if b.tls_enabled:
        paths += [b.certificate, b.private_key]
    for path in paths:
        _renderable(path, "the path", PATH_CHARS_RE)
    for protocol in b.tls_protocols:
        if protocol not in TLS_PROTOCOLS:
            raise ConfigError("refusing to write the TLS protocol %r into the nginx configuration" % (protocol,))


def _acme_location(b: Binding) -> List[str]:
    return [
        "    location ^~ /.well-known/acme-challenge/ {",
        "        root %s;" % b.acme_webroot,
        "        default_type text/plain;",
        "        try_files $uri =404;",
        "    }",
    ]


def render_config(b: Binding) -> str:
    """The vhost file: upstream group, optional rate-limit zone and key include, server blocks."""
    _check_renderable(b)
    lines = [
        "%s for %s: do not edit by hand." % (MANAGED_HEADER, b.domain),
        "# The next run overwrites hand edits; ollama_domain_info reports them as drift. Metadata: %s" % os.path.basename(b.sidecar_file),
        "",
    ]
    if not b.mirror_path:
        lines += upstream_block(b.ident, [u.server for u in b.upstreams], b.balance, b.js_file)
    if b.rate_limit:
        lines += ["limit_req_zone $binary_remote_addr zone=%s:10m rate=%dr/s;" % (b.ident, b.rate_limit), ""]
    if b.api_keys:
        lines += ["include %s;" % b.keys_file, ""]
    lines += _log_lines(b)
    names = " ".join(b.names)
    # Plain HTTP: the ACME challenge location, then either a redirect or the proxy itself.
    lines += ["server {", _listen(b.listen_address, b.http_port, False, b.default_server), "    server_name %s;" % names, ""]
    lines += _access_log_line(b)
    lines += _host_check(b)
    lines += _acme_location(b)
    lines.append("")
    if b.tls_enabled and b.redirect_http:
        target = "https://$host%s$request_uri" % ("" if b.https_port == 443 else ":%d" % b.https_port)
        lines += ["    location / {", "        return 301 %s;" % target, "    }"]
    else:
        lines += _health_location(b)
        lines.append("")
        lines += _proxy_location(b)
        lines.append("")
        lines += _error_locations(b, ssl=False)
    lines += ["}"]
    if b.tls_enabled:
        lines += [
            "",
            "server {",
            _listen(b.listen_address, b.https_port, True, b.default_server),
            "    server_name %s;" % names,
            "",
            *_access_log_line(b),
            *_host_check(b),
            "    ssl_certificate %s;" % b.certificate,
            "    ssl_certificate_key %s;" % b.private_key,
            "    ssl_protocols %s;" % " ".join(b.tls_protocols),
            "    ssl_prefer_server_ciphers off;",
            "    ssl_session_timeout 1d;",
        ]
        if b.hsts:
            lines.append('    add_header Strict-Transport-Security "max-age=31536000" always;')
        lines.append("")
        lines += _health_location(b)
        lines.append("")
        lines += _proxy_location(b)
        lines.append("")
        lines += _error_locations(b, ssl=True)
        lines.append("}")
    lines += _host_map(b)
    if b.allow:
        # 1 for an address of the allowlist: the 403 answer names the allowlist only when it was the reason.
        lines += ["", "geo $%s_allowed {" % b.ident, "    default 0;", *("    %s 1;" % network for network in b.allow), "}"]
    text = "\n".join(lines) + "\n"
    b.identity = config_identity(text, b)
    return text.replace(IDENTITY_PLACEHOLDER, b.identity)


def config_identity(text: str, b: Binding) -> str:
    """16 hex digits that change with the configuration: its text (before the identity is put in), the njs
    script, and the names and number of the keys (never the keys: the header is public)."""
    digest = hashlib.sha256(text.encode("utf-8"))
    if b.access_log and b.njs:
        digest.update(render_njs().encode("utf-8"))
    digest.update(("\0keys:" + ",".join(b.key_names)).encode("utf-8"))
    return digest.hexdigest()[:16]


def _access_log_line(b: Binding) -> List[str]:
    if not b.access_log:
        return []
    return ["    access_log %s %s_json;" % (b.access_log_file, b.ident), ""]


def render_keys(b: Binding) -> Optional[str]:
    """The key map: ``$<id>_key`` is 1 for a request that carries one of the keys. None without keys.

    Regular expressions, not plain strings: nginx matches plain map strings without regard to
    case, and a bearer token is case-sensitive. The b64token alphabet is checked before, so only
    ``.`` and ``+`` need a backslash.
    """
    if not b.api_keys:
        return None
    lines = [
        "%s for %s: API keys (mode 0600). Do not edit by hand." % (MANAGED_HEADER, b.domain),
        "map $http_authorization $%s_key {" % b.ident,
        '    default "%s";' % NO_KEY,
    ]
    if len(b.key_names) != len(b.api_keys):
        raise ConfigError("refusing to write the key file: every API key needs one name")
    for key, name in zip(b.api_keys, b.key_names):
        if not isinstance(key, str) or not _B64TOKEN_RE.fullmatch(key):
            raise ConfigError("refusing to write an API key that is not an RFC 6750 bearer token into the key file (the value is not shown)")
        if not isinstance(name, str) or not KEY_NAME_RE.fullmatch(name):
            raise ConfigError("refusing to write the key name %r into the key file: a key name has %s" % (name, KEY_NAME_RULE))
        pattern = key.replace(".", "\\.").replace("+", "\\+")
        # The value is the key's name: the key check tests it, the access log writes it.
        lines.append('    "~^(?i:bearer) +%s$" %s;' % (pattern, name))
    lines.append("}")
    return "\n".join(lines) + "\n"


def sha256_text(data: Optional[bytes]) -> Optional[str]:
    return None if data is None else hashlib.sha256(data).hexdigest()


def render_sidecar(b: Binding, config_text: str, keys_text: Optional[str], generated: bool) -> str:
    """The JSON metadata beside the vhost file: what was bound, and the checksums that reveal hand edits."""
    data = {
        "managed_by": MANAGED_BY,
        "format": SIDECAR_FORMAT,
        "domain": b.domain,
        "aliases": b.aliases,
        "url": b.url,
        "upstreams": [] if b.mirror_path else [u.url for u in b.upstreams],
        "mirror_path": b.mirror_path,
        "balance": None if b.mirror_path else b.balance,
        "default_server": b.default_server,
        "listen_address": b.listen_address,
        "http_port": b.http_port,
        "https_port": b.https_port if b.tls_enabled else None,
        "tls": {"mode": b.tls, "certificate": b.certificate, "private_key": b.private_key, "generated": generated},
        "redirect_http": b.redirect_http if b.tls_enabled else False,
        "hsts": b.hsts if b.tls_enabled else False,
        "allow": b.allow,
        "public": b.public,
        "auth": {"mode": "bearer" if b.api_keys else "none", "key_count": len(b.api_keys)},
        "key_names": list(b.key_names),
        "access_log": {"path": b.access_log_file, "njs": b.njs} if b.access_log else None,
        "identity": b.identity,
        "rate_limit": b.rate_limit,
        "files": {
            "config": {"path": b.config_file, "sha256": sha256_text(config_text.encode("utf-8"))},
            "keys": {"path": b.keys_file, "sha256": sha256_text(keys_text.encode("utf-8"))} if keys_text is not None else None,
        },
    }
    return json.dumps(data, indent=2, sort_keys=True) + "\n"


# ---------------------------------------------------------------------------- parsing (conflict detection)
class Directive:
    """One nginx directive: its name, arguments, block (None for a simple directive) and line."""

    def __init__(self, name: str, args: List[str], block: Optional[List[Directive]], line: int) -> None:
        self.name = name
        self.args = args
        self.block = block
        self.line = line


class ParseError(ValueError):
    """A configuration text that is not well formed."""


def _read_quoted(text: str, i: int, line: int) -> Tuple[str, int, int]:
    """The quoted word that starts at ``text[i]`` (its quote): (word, index after the closing quote, line there)."""
    n = len(text)
    quote, i, start_line, word = text[i], i + 1, line, []
    while i < n and text[i] != quote:
        if text[i] == "\\" and i + 1 < n:
            i += 1
        if text[i] == "\n":
            line += 1
        word.append(text[i])
        i += 1
    if i >= n:
        raise ParseError("unterminated quoted string from line %d" % start_line)
    return "".join(word), i + 1, line


def _word_end(text: str, start: int) -> int:
    """The index after the unquoted word that starts at ``text[start]``; ``${variable}`` is part of it."""
    i, n = start, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace() or ch in ";}":
            break
        if ch == "{":
            if i == start or text[i - 1] != "$":
                break
            # ${variable}: part of the word
            end = text.find("}", i)
            i = n if end < 0 else end + 1
            continue
        i += 1
    return i


def tokenize(text: str) -> Iterator[Tuple[str, bool, int]]:
    """(token, is_word, line): words (quotes removed), and ``{`` ``}`` ``;`` as punctuation."""
    i, n, line = 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
            i += 1
        elif c.isspace():
            i += 1
        elif c == "#":
            while i < n and text[i] != "\n":
                i += 1
        elif c in "{};":
            yield c, False, line
            i += 1
        elif c in "\"'":
            start_line = line
            word, i, line = _read_quoted(text, i, line)
            yield word, True, start_line
        else:
            start = i
            i = _word_end(text, start)
            yield text[start:i], True, line


def parse(text: str) -> List[Directive]:
    """The directive tree of a configuration text. Raises ParseError on unbalanced braces."""
    root: List[Directive] = []
    stack: List[List[Directive]] = [root]
    words: List[str] = []
    first_line = 0
    for piece, is_word, line in tokenize(text):
        if is_word:
            if not words:
                first_line = line
            words.append(piece)
        elif piece == ";":
            if words:
                stack[-1].append(Directive(words[0], words[1:], None, first_line))
            words = []
        elif piece == "{":
            if not words:
                raise ParseError("a block without a directive name on line %d" % line)
            block: List[Directive] = []
            stack[-1].append(Directive(words[0], words[1:], block, first_line))
            stack.append(block)
            words = []
        else:
            if len(stack) == 1:
                raise ParseError("an unexpected } on line %d" % line)
            stack.pop()
            words = []
    if len(stack) != 1:
        raise ParseError("a block is not closed at the end of the file")
    return root


def _server_blocks(directives: List[Directive]) -> Iterator[Directive]:
    for d in directives:
        if d.block is None:
            continue
        if d.name == "server":
            yield d
        elif d.name == "http":
            yield from _server_blocks(d.block)


def parse_listen(args: List[str]) -> Optional[Tuple[str, int]]:
    """(address, port) of an nginx ``listen``; ``*`` for every address; None for a unix socket."""
    if not args:
        return None
    spec = args[0]
    if spec.startswith("unix:"):
        return None
    if spec.startswith("["):
        host, _unused, tail = spec.partition("]")
        address = host + "]"
        port = tail[1:] if tail.startswith(":") else "80"
        address = "*" if address in ("[::]", "[0:0:0:0:0:0:0:0]") else address
    elif spec.isdigit():
        address, port = "*", spec
    elif ":" in spec:
        address, _unused, port = spec.rpartition(":")
    else:
        address, port = spec, "80"
    if address in ("*", "0.0.0.0"):  # noqa: S104 - reading a listen directive
        address = "*"
    if not port.isdigit():
        return None
    return address.lower(), int(port)


def default_listen_port() -> int:
    """The port of a server block without ``listen``: nginx takes *:80 when it runs as root, else *:8000."""
    return 80 if os.getuid() == 0 else 8000


def server_entries(text: str, default_port: int = 80) -> List[Tuple[List[str], List[Tuple[str, int]], int]]:
    """(server names, listens, line) of every server block in a configuration text.

    Names are nginx's patterns, lower-cased (exact names, ``.example.com``, ``*.example.com``,
    ``www.example.*``, ``~regex``); ``_`` and the empty name, which match no host, are left out.
    """
    return [(names, listens, line) for names, listens, line, _default in _server_entries(text, default_port)]


def _server_entries(text: str, default_port: int) -> List[Tuple[List[str], List[Tuple[str, int]], int, bool]]:
    result = []
    for server in _server_blocks(parse(text)):
        names: List[str] = []
        listens: List[Tuple[str, int]] = []
        has_listen = False
        default = False
        for d in server.block or []:
            if d.name == "server_name":
                for arg in d.args:
                    if not arg or arg == "_":
                        continue
                    name = socket.gethostname() if arg == "$hostname" else arg
                    names.append(name if name.startswith("~") else name.lower())
            elif d.name == "listen":
                has_listen = True
                default = default or any(flag in ("default_server", "default") for flag in d.args[1:])
                parsed = parse_listen(d.args)
                if parsed:
                    listens.append(parsed)
        if not has_listen:
            listens.append(("*", default_port))
        result.append((names, listens, server.line, default))
    return result


def split_dump(dump: str) -> Dict[str, str]:
    """The files of an ``nginx -T`` dump, by path."""
    files: Dict[str, str] = {}
    current: Optional[str] = None
    chunk: List[str] = []
    for line in dump.splitlines(True):
        match = re.match(r"^# configuration file (.+):\s*$", line)
        if match:
            if current is not None:
                files[current] = "".join(chunk)
            current, chunk = match.group(1), []
        elif current is not None:
            chunk.append(line)
    if current is not None:
        files[current] = "".join(chunk)
    return files


def listen_addresses(address: str) -> Optional[List[str]]:
    """The IP addresses a listen address stands for, normalised (``[v6]``); None for every address.

    A host name is resolved as nginx resolves it when it loads the configuration (``localhost`` is
    127.0.0.1 and ::1); a name that does not resolve stands for itself.
    """
    if address == "*":
        return None
    text = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        try:
            infos = socket.getaddrinfo(text, None, 0, socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return [address.lower()]
        found = sorted({str(info[4][0]) for info in infos})
        return [item for value in found for item in (listen_addresses(value) or ["*"])]
    if ip.is_unspecified:
        return None
    return ["[%s]" % ip.compressed if ip.version == 6 else str(ip)]


def _overlaps(a: Tuple[str, int], b: Tuple[str, int]) -> bool:
    """Whether two listens share a port and an address (every address, IPv4 or IPv6, shares with all on its port)."""
    if a[1] != b[1]:
        return False
    first, second = listen_addresses(a[0]), listen_addresses(b[0])
    return first is None or second is None or bool(set(first) & set(second))


_PCRE_NAMED_GROUP_RE = re.compile(r"\(\?<(?=[A-Za-z_])")


def _regex(pattern: str) -> Optional[Any]:
    """A server_name regular expression (``~...``) compiled by Python: PCRE's (?<name>) becomes (?P<name>)."""
    try:
        return re.compile(_PCRE_NAMED_GROUP_RE.sub("(?P<", pattern[1:]), re.IGNORECASE)
    except re.error:
        return None


def name_matches(pattern: str, host: str) -> Optional[bool]:
    """Whether nginx's server_name ``pattern`` answers the (lower-case) ``host``; None for a regex Python cannot read.

    Exact names compare without case and without a trailing dot (nginx strips it from the Host header);
    ``.example.com`` is example.com and every name under it; ``*.example.com`` every name under it (any
    depth); ``www.example.*`` www.example and any ending; ``~`` a regular expression, searched as nginx
    does (anchors are the pattern's own).
    """
    host = host.lower().rstrip(".")
    if pattern.startswith("~"):
        compiled = _regex(pattern)
        return None if compiled is None else bool(compiled.search(host))
    pattern = pattern.lower().rstrip(".") if not pattern.endswith(".*") else pattern.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    if pattern.startswith("."):
        return host == pattern[1:] or host.endswith(pattern)
    if pattern.endswith(".*"):
        return host.startswith(pattern[:-1]) and len(host) > len(pattern) - 1
    return host == pattern


def _wildcard_overlap(pattern: str, suffix: str) -> Optional[bool]:
    """Whether nginx's ``pattern`` answers some name under our wildcard ``*.suffix``."""
    if pattern.startswith("~"):
        samples = ["llmops-probe." + suffix, "a.b." + suffix, "www." + suffix]
        found = [name_matches(pattern, sample) for sample in samples]
        return None if None in found else any(found)
    pattern = pattern.lower().rstrip(".") if not pattern.endswith(".*") else pattern.lower()
    if pattern.startswith("*.") or pattern.startswith("."):
        theirs = pattern.lstrip("*").lstrip(".")
        return theirs == suffix or theirs.endswith("." + suffix) or suffix.endswith("." + theirs)
    if pattern.endswith(".*"):
        return True  # www.example.* and *.suffix both answer www.example.suffix
    return pattern.endswith("." + suffix)


def _serves(pattern: str, name: str) -> Optional[bool]:
    if name.startswith("*."):
        return _wildcard_overlap(pattern, name[2:])
    return name_matches(pattern, name)


def find_conflicts(binding: Binding, files: Dict[str, str], skip: Sequence[str] = (), default_port: Optional[int] = None) -> Tuple[List[str], List[str]]:
    """Server blocks elsewhere that answer one of the binding's names on one of its ports, the way nginx matches names.

    Every form of server_name (any case, a trailing dot, ``.name``, wildcards at either end, regular
    expressions, ``$hostname``) and of listen (none, a port alone, ``*``, an IP, ``[::]``, a host name such
    as ``localhost``) is considered. Returns (conflicts, warnings): findings naming file and line.
    """
    conflicts: List[str] = []
    warnings: List[str] = []
    ours = binding.listens()
    port = default_listen_port() if default_port is None else default_port
    for path in sorted(files):
        if path in skip:
            continue
        try:
            entries = _server_entries(files[path], port)
        except ParseError as exc:
            warnings.append("could not read %s to look for conflicting server blocks: %s" % (path, exc))
            continue
        for names, listens, line, _default in entries:
            shared = [listen for listen in ours if any(_overlaps(listen, theirs) for theirs in listens)]
            if not shared:
                continue
            for name in binding.names:
                for pattern in names:
                    verdict = _serves(pattern, name)
                    if verdict is None:
                        warnings.append(
                            "%s (line %d) has the server_name %s, a regular expression this module cannot evaluate: check by hand that it "
                            "does not answer %s" % (path, line, pattern, name)
                        )
                        continue
                    if not verdict:
                        continue
                    how = "" if pattern == name else " (server_name %s)" % pattern
                    for listen in shared:
                        conflicts.append("%s (line %d) already serves %s on port %d%s" % (path, line, name, listen[1], how))
    return sorted(set(conflicts)), sorted(set(warnings))


def default_server_conflicts(binding: Binding, files: Dict[str, str], skip: Sequence[str] = (), default_port: Optional[int] = None) -> List[str]:
    """For ``default_server: true``: the server blocks that already are the default server of one of the binding's ports."""
    found: List[str] = []
    port = default_listen_port() if default_port is None else default_port
    for path in sorted(files):
        if path in skip:
            continue
        try:
            entries = _server_entries(files[path], port)
        except ParseError:
            continue
        for _names, listens, line, default in entries:
            if not default:
                continue
            for listen in binding.listens():
                if any(_overlaps(listen, theirs) for theirs in listens):
                    found.append("%s (line %d) is already the default server on port %d (default_server)" % (path, line, listen[1]))
    return sorted(set(found))


_CONFLICT_WARNING_RE = re.compile(r'conflicting server name "([^"]*)" on (\S+), ignored')


def nginx_name_conflicts(message: str, names: Sequence[str]) -> List[str]:
    """nginx's own verdict from ``nginx -t``: the binding's names it reports as conflicting (and ignores in one block)."""
    found = []
    wanted = {n.lower() for n in names}
    for match in _CONFLICT_WARNING_RE.finditer(message or ""):
        if match.group(1).lower().rstrip(".") in wanted:
            found.append('nginx -t: conflicting server name "%s" on %s' % (match.group(1), match.group(2)))
    return sorted(set(found))


def read_config_dir(config_dir: str) -> Dict[str, str]:
    """The ``*.conf`` files of a directory, by path (unreadable ones are skipped)."""
    files: Dict[str, str] = {}
    try:
        names = sorted(os.listdir(config_dir))
    except OSError:
        return files
    for name in names:
        path = os.path.join(config_dir, name)
        if name.endswith(".conf") and os.path.isfile(path):
            try:
                with open(path, "rb") as handle:
                    files[path] = handle.read().decode("utf-8", "replace")
            except OSError:
                continue
    return files


def is_managed(text: Optional[bytes]) -> bool:
    return text is not None and text.startswith(MANAGED_HEADER.encode("ascii"))


def nginx_pid_file(dump: str, prefix: Optional[str] = None) -> Optional[str]:
    """The pid file from an ``nginx -T`` dump: the main file's top-level ``pid`` directive (relative to the prefix); None if absent."""
    files = split_dump(dump)
    if not files:
        return None
    main = next(iter(files.values()))
    try:
        directives = parse(main)
    except ParseError:
        return None
    for d in directives:
        if d.name == "pid" and d.block is None and d.args:
            path = d.args[0]
            return path if path.startswith("/") else os.path.join(prefix or "/etc/nginx", path)
    return None


# ---------------------------------------------------------------------------- nginx commands
Runner = Callable[[List[str]], Tuple[int, str, str]]


class Nginx:
    """How to reach the nginx binary: test (``-t``), dump (``-T``), reload."""

    def __init__(
        self, runner: Runner, binary: str = "nginx", conf: Optional[str] = None, prefix: Optional[str] = None, reload_command: Optional[List[str]] = None
    ) -> None:
        self.runner = runner
        self.binary = binary
        self.conf = conf
        self.prefix = prefix
        self.reload_command = reload_command

    def _base(self) -> List[str]:
        args = [self.binary]
        if self.prefix:
            args += ["-p", self.prefix]
        if self.conf:
            args += ["-c", self.conf]
        return args

    def test(self) -> Tuple[bool, str]:
        rc, out, err = self.runner([*self._base(), "-t"])
        return rc == 0, nginx_message(out, err)

    def dump(self) -> Optional[str]:
        rc, out, _err = self.runner([*self._base(), "-T"])
        return out if rc == 0 else None

    def version(self) -> Optional[str]:
        """What ``nginx -V`` prints (version and configure arguments); None when it cannot run."""
        rc, out, err = self.runner([self.binary, "-V"])
        return (err or "") + (out or "") if rc == 0 else None

    def reload(self) -> Tuple[bool, str]:
        command = self.reload_command or [*self._base(), "-s", "reload"]
        rc, out, err = self.runner(command)
        return rc == 0, nginx_message(out, err) or "exit code %d" % rc


def nginx_message(out: str, err: str) -> str:
    """nginx's own words: its [emerg]/[error]/[warn] lines, else all it printed."""
    text = "\n".join(part for part in (err or "", out or "") if part).strip()
    # "2026/11/22 10:00:00 [emerg] 123#123: msg" (once the error log is set up) reads as "nginx: [emerg] msg".
    lines = [re.sub(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (\[\w+\]) \d+#\d+: ", r"nginx: \1 ", line.strip()) for line in text.splitlines() if line.strip()]
    important = [line for line in lines if re.search(r"\[(emerg|alert|crit|error)\]", line)]
    return "; ".join(important or lines)
