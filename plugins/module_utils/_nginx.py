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

import contextlib
import encodings.idna
import errno
import hashlib
import ipaddress
import json
import os
import re
import shutil
import stat
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils._files import atomic_write

try:  # IDNA 2008 with the UTS 46 mapping, as browsers use it; optional, the standard library has only IDNA 2003
    import idna as _idna_2008
except ImportError:  # pragma: no cover - depends on the managed node
    _idna_2008 = None

MANAGED_BY = "llmops.ollama.ollama_domain"
MANAGED_HEADER = "# Managed by %s" % MANAGED_BY
SIDECAR_FORMAT = 1
DEFAULT_UPSTREAM = "http://127.0.0.1:11434"
# Ollama only answers a loopback-bound server for Host names it trusts (localhost, 127.0.0.1).
UPSTREAM_HOST_HEADER = "localhost:11434"
TLS_MODES = ("none", "provided", "selfsigned", "acme")
TLS_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
BACKUP_DIRNAME = ".llmops-ollama-backups"

# Every pattern that validates input is applied with fullmatch: "$" would also match before a trailing newline.
_LABEL_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
# RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
_B64TOKEN_RE = re.compile(r"[A-Za-z0-9\-._~+/]+=*")
_PATH_CHARS_RE = re.compile(r"[A-Za-z0-9._/@+-]+")
_PATH_ALLOWED = "letters, digits and . _ - + @ /"
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
    labels: List[str] = []
    for label in rest.split("."):
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
        labels.append(encoded)
    ascii_name = ".".join(labels)
    if labels[-1].isdigit():
        raise ConfigError("%s %r looks like an IP address or ends in a numeric label: give a DNS name" % (option, value))
    full = ("*." if wildcard else "") + ascii_name
    if len(full) > 253:
        raise ConfigError("%s %r is %d characters long once encoded: a domain name has at most 253" % (option, value, len(full)))
    return full


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
    if "://" not in text:
        raise ConfigError("%s %r has no scheme: write it as http://HOST:PORT, for example %s" % (option, value, DEFAULT_UPSTREAM))
    scheme, _unused, rest = text.partition("://")
    scheme = scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError("%s %r has the scheme %r: only http and https are supported" % (option, value, scheme))
    if "@" in rest:
        raise ConfigError("%s must not carry credentials (user:password@): the proxy itself checks API keys" % option)
    if "?" in rest or "#" in rest:
        raise ConfigError("%s %r has a query or fragment: give only scheme, host and port" % (option, value))
    hostport, _unused, path = rest.partition("/")
    if path:
        raise ConfigError("%s %r has a path (/%s): Ollama serves its API from the root, give only scheme, host and port" % (option, value, path))
    if hostport.startswith("["):
        if "]" not in hostport:
            raise ConfigError("%s %r has an unclosed [IPv6] address" % (option, value))
        host, _unused, tail = hostport.partition("]")
        host += "]"
        if tail and not tail.startswith(":"):
            raise ConfigError("%s %r has text after the [IPv6] address: write http://[ADDRESS]:PORT" % (option, value))
        port_text: Optional[str] = tail[1:] if tail else None
    elif ":" in hostport:
        host, _unused, port_text = hostport.rpartition(":")
    else:
        host, port_text = hostport, None
    if not host:
        raise ConfigError("%s %r has no host: write it as %s://HOST:PORT" % (option, value, scheme))
    bad = sorted({c for c in host if not (c.isalnum() or c in ".-[]:")})
    if bad:
        raise ConfigError("%s %r has a host with %s: give a DNS name, an IPv4 address or an [IPv6] address" % (option, value, " ".join(repr(c) for c in bad)))
    host = _normalize_host(host, option, text)
    if port_text is None or port_text == "":
        if port_text == "":
            raise ConfigError("%s %r has an empty port: write HOST:PORT, for example %s" % (option, value, DEFAULT_UPSTREAM))
        port = 443 if scheme == "https" else 80
    else:
        port = validate_port(port_text, "%s port" % option)
    return Upstream(scheme, host, port)


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
    return result


def validate_api_keys(values: Optional[Sequence[Any]]) -> Tuple[List[str], List[str]]:
    """The bearer tokens, and warnings. Messages never contain a key."""
    keys: List[str] = []
    warnings: List[str] = []
    for index, value in enumerate(values or []):
        option = "api_keys[%d]" % index
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
        if len(value) < 16:
            warnings.append("%s is only %d characters long: use at least 32 random characters (openssl rand -hex 32)" % (option, len(value)))
        if value not in keys:
            keys.append(value)
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
    if not _PATH_CHARS_RE.fullmatch(text):
        bad = sorted({c for c in text if not (c.isalnum() and ord(c) < 128) and c not in "._/@+-"})
        raise ConfigError(
            "%s %r contains %s: paths that reach the nginx configuration may hold only %s" % (option, value, " ".join(repr(c) for c in bad), _PATH_ALLOWED)
        )
    parts = text.split("/")
    if any(part in (".", "..") for part in parts):
        raise ConfigError("%s %r contains a . or .. segment: give the path without them" % (option, value))
    normalized = "/" + "/".join(part for part in parts if part)
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
        self.config_dir: str = values.get("config_dir", "/etc/nginx/conf.d")
        self.acme_webroot: str = values.get("acme_webroot", "/var/lib/llmops-ollama/acme")

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
    def keys_file(self) -> str:
        return os.path.join(self.config_dir, self.slug + ".keys")

    @property
    def sidecar_file(self) -> str:
        return os.path.join(self.config_dir, self.slug + ".json")

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


def build_binding(params: Dict[str, Any]) -> Tuple[Binding, List[str]]:
    """Check every option that reaches the configuration; a Binding and warnings, or ConfigError."""
    warnings: List[str] = []
    domain = normalize_domain(params.get("domain"))
    aliases = normalize_aliases(params.get("aliases"), domain)
    upstreams = validate_upstreams(params.get("upstream"), params.get("upstreams"), params.get("api_url"))
    for item in upstreams:
        if item.host in (domain, *aliases):
            raise ConfigError(
                "the upstream %s is this binding's own name: the proxy would forward to itself. Give the Ollama server's address "
                "(for example %s) in upstream" % (item.url, DEFAULT_UPSTREAM)
            )
    listen_address = validate_listen_address(params.get("listen_address"))
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
    protocols = list(params.get("tls_protocols") or TLS_PROTOCOLS)
    for index, protocol in enumerate(protocols):
        if protocol not in TLS_PROTOCOLS:
            raise ConfigError("tls_protocols[%d] %r is not one of %s" % (index, protocol, ", ".join(TLS_PROTOCOLS)))
    protocols = [p for p in TLS_PROTOCOLS if p in protocols]
    public = bool(params.get("public", False))
    allow = validate_allow(params.get("allow"), public)
    keys, key_warnings = validate_api_keys(params.get("api_keys"))
    warnings.extend(key_warnings)
    if public and not keys:
        warnings.append("public: true without api_keys exposes an unauthenticated Ollama to every address that reaches the proxy")
    rate_limit = params.get("rate_limit")
    if rate_limit is not None:
        rate_limit = validate_range(rate_limit, "rate_limit", 1, 100000)
    burst = params.get("rate_limit_burst")
    if burst is not None:
        burst = validate_range(burst, "rate_limit_burst", 0, 1000000)
    read_timeout = validate_range(params.get("read_timeout", 600), "read_timeout", 1, 86400)
    send_timeout = validate_range(params.get("send_timeout", 600), "send_timeout", 1, 86400)
    config_dir = validate_path(params.get("config_dir") or "/etc/nginx/conf.d", "config_dir")
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
        rate_limit=rate_limit,
        rate_limit_burst=burst,
        read_timeout=read_timeout,
        send_timeout=send_timeout,
        config_dir=config_dir,
        acme_webroot=acme_webroot,
    )
    return binding, warnings


# ---------------------------------------------------------------------------- rendering
def _listen(address: Optional[str], port: int, ssl: bool) -> str:
    where = "%s:%d" % (address, port) if address else "%d" % port
    return "    listen %s%s;" % (where, " ssl" if ssl else "")


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
        '        return 403 \'{"error":"forbidden: this address may not use this Ollama server"}\\n\';',
        "    }",
    ]
    if b.api_keys:
        lines += [
            "",
            "    location = /_%s_auth {" % b.ident,
            "        internal;",
            "        if ($%s_key = 0) {" % b.ident,
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


def _proxy_location(b: Binding) -> List[str]:
    scheme = b.upstreams[0].scheme
    lines = ["    location / {"]
    for network in b.allow:
        lines.append("        allow %s;" % network)
    if b.allow:
        lines.append("        deny all;")
    if b.api_keys:
        lines.append("        auth_request /_%s_auth;" % b.ident)
    if b.rate_limit:
        burst = b.rate_limit if b.rate_limit_burst is None else b.rate_limit_burst
        if burst:
            lines.append("        limit_req zone=%s burst=%d nodelay;" % (b.ident, burst))
        else:
            lines.append("        limit_req zone=%s;" % b.ident)
        lines.append("        limit_req_status 429;")
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
        "        proxy_request_buffering off;",
        "        proxy_read_timeout %ds;" % b.read_timeout,
        "        proxy_send_timeout %ds;" % b.send_timeout,
        "        send_timeout %ds;" % b.send_timeout,
        "        client_max_body_size 0;",
        "    }",
    ]
    return lines


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
    if b.tls_enabled:
        paths += [b.certificate, b.private_key]
    for path in paths:
        _renderable(path, "the path", _PATH_CHARS_RE)
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
        "upstream %s {" % b.ident,
        "    least_conn;",
    ]
    for upstream in b.upstreams:
        lines.append("    server %s max_fails=3 fail_timeout=30s;" % upstream.server)
    lines += ["    keepalive 16;", "}", ""]
    if b.rate_limit:
        lines += ["limit_req_zone $binary_remote_addr zone=%s:10m rate=%dr/s;" % (b.ident, b.rate_limit), ""]
    if b.api_keys:
        lines += ["include %s;" % b.keys_file, ""]
    names = " ".join(b.names)
    # Plain HTTP: the ACME challenge location, then either a redirect or the proxy itself.
    lines += ["server {", _listen(b.listen_address, b.http_port, False), "    server_name %s;" % names, ""]
    lines += _acme_location(b)
    lines.append("")
    if b.tls_enabled and b.redirect_http:
        target = "https://$host%s$request_uri" % ("" if b.https_port == 443 else ":%d" % b.https_port)
        lines += ["    location / {", "        return 301 %s;" % target, "    }"]
    else:
        lines += _proxy_location(b)
        lines.append("")
        lines += _error_locations(b, ssl=False)
    lines += ["}"]
    if b.tls_enabled:
        lines += [
            "",
            "server {",
            _listen(b.listen_address, b.https_port, True),
            "    server_name %s;" % names,
            "",
            "    ssl_certificate %s;" % b.certificate,
            "    ssl_certificate_key %s;" % b.private_key,
            "    ssl_protocols %s;" % " ".join(b.tls_protocols),
            "    ssl_prefer_server_ciphers off;",
            "    ssl_session_timeout 1d;",
        ]
        if b.hsts:
            lines.append('    add_header Strict-Transport-Security "max-age=31536000" always;')
        lines.append("")
        lines += _proxy_location(b)
        lines.append("")
        lines += _error_locations(b, ssl=True)
        lines.append("}")
    return "\n".join(lines) + "\n"


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
        "    default 0;",
    ]
    for key in b.api_keys:
        if not isinstance(key, str) or not _B64TOKEN_RE.fullmatch(key):
            raise ConfigError("refusing to write an API key that is not an RFC 6750 bearer token into the key file (the value is not shown)")
        pattern = key.replace(".", "\\.").replace("+", "\\+")
        lines.append('    "~^(?i:bearer) +%s$" 1;' % pattern)
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
        "upstreams": [u.url for u in b.upstreams],
        "listen_address": b.listen_address,
        "http_port": b.http_port,
        "https_port": b.https_port if b.tls_enabled else None,
        "tls": {"mode": b.tls, "certificate": b.certificate, "private_key": b.private_key, "generated": generated},
        "redirect_http": b.redirect_http if b.tls_enabled else False,
        "hsts": b.hsts if b.tls_enabled else False,
        "allow": b.allow,
        "public": b.public,
        "auth": {"mode": "bearer" if b.api_keys else "none", "key_count": len(b.api_keys)},
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
            quote, i, start_line, word = c, i + 1, line, []
            while i < n and text[i] != quote:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                if text[i] == "\n":
                    line += 1
                word.append(text[i])
                i += 1
            if i >= n:
                raise ParseError("unterminated quoted string from line %d" % start_line)
            i += 1
            yield "".join(word), True, start_line
        else:
            start, start_line = i, line
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
            yield text[start:i], True, start_line


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


def server_entries(text: str) -> List[Tuple[List[str], List[Tuple[str, int]], int]]:
    """(server names, listens, line) of every server block in a configuration text."""
    result = []
    for server in _server_blocks(parse(text)):
        names: List[str] = []
        listens: List[Tuple[str, int]] = []
        has_listen = False
        for d in server.block or []:
            if d.name == "server_name":
                names += [a.lower().rstrip(".") for a in d.args if a and a != "_"]
            elif d.name == "listen":
                has_listen = True
                parsed = parse_listen(d.args)
                if parsed:
                    listens.append(parsed)
        if not has_listen:
            listens.append(("*", 80))
        result.append((names, listens, server.line))
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


def _overlaps(a: Tuple[str, int], b: Tuple[str, int]) -> bool:
    return a[1] == b[1] and (a[0] == b[0] or "*" in (a[0], b[0]))


def find_conflicts(binding: Binding, files: Dict[str, str], skip: Sequence[str] = ()) -> Tuple[List[str], List[str]]:
    """Server blocks elsewhere that answer one of the binding's names on one of its ports.

    Returns (conflicts, warnings): human-readable findings naming file and line.
    """
    conflicts: List[str] = []
    warnings: List[str] = []
    ours = binding.listens()
    wanted = set(binding.names)
    for path in sorted(files):
        if path in skip:
            continue
        try:
            entries = server_entries(files[path])
        except ParseError as exc:
            warnings.append("could not read %s to look for conflicting server blocks: %s" % (path, exc))
            continue
        for names, listens, line in entries:
            for name in sorted(wanted.intersection(names)):
                for listen in ours:
                    if any(_overlaps(listen, theirs) for theirs in listens):
                        conflicts.append("%s (line %d) already serves %s on port %d" % (path, line, name, listen[1]))
    return sorted(set(conflicts)), warnings


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


# ---------------------------------------------------------------------------- files: atomic writes, backups, roll back
def read_bytes(path: str) -> Optional[bytes]:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENOTDIR):
            return None
        raise


class FileChange:
    """The desired content of one file (None: the file must not exist) and its mode."""

    def __init__(self, path: str, content: Optional[bytes], mode: int = 0o644, secret: bool = False) -> None:
        self.path = path
        self.content = content
        self.mode = mode
        self.secret = secret
        self.previous: Optional[bytes] = None
        self.previous_mode: Optional[int] = None
        self.applied = False

    def load(self) -> FileChange:
        self.previous = read_bytes(self.path)
        if self.previous is not None:
            self.previous_mode = stat.S_IMODE(os.stat(self.path).st_mode)
        return self

    @property
    def needed(self) -> bool:
        if self.content != self.previous:
            return True
        return self.content is not None and self.previous_mode != self.mode


class Transaction:
    """A set of file changes applied together and undone together.

    Order: back up what exists (keep the last ``keep`` backups), create the missing parent
    directories of new files (mode ``dir_mode``), write each file atomically, and on
    ``rollback()`` restore every file byte for byte (or remove what was new), remove the
    directories this attempt created and drop the backup it made, so that nothing stray is left.
    """

    def __init__(self, changes: List[FileChange], backup_root: str, slug: str, keep: int, dir_mode: int = 0o755) -> None:
        self.changes = [c.load() for c in changes]
        self.backup_root = backup_root
        self.slug = slug
        self.keep = keep
        self.dir_mode = dir_mode
        self.backup_dir: Optional[str] = None
        self.created_dirs: List[str] = []

    @property
    def needed(self) -> bool:
        return any(c.needed for c in self.changes)

    def backup(self) -> Optional[str]:
        existing = [c for c in self.changes if c.previous is not None]
        if self.keep <= 0 or not existing:
            return None
        base = os.path.join(self.backup_root, self.slug)
        os.makedirs(base, mode=0o700, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime()) + "%06d" % int((time.time() % 1) * 1e6)
        path = os.path.join(base, stamp)
        suffix = 0
        while os.path.exists(path):
            suffix += 1
            path = os.path.join(base, "%s-%d" % (stamp, suffix))
        os.mkdir(path, 0o700)
        self.backup_dir = path
        for change in existing:
            atomic_write(os.path.join(path, os.path.basename(change.path)), change.previous or b"", change.previous_mode or 0o600)
        self._prune(base)
        return path

    def _prune(self, base: str) -> None:
        entries = sorted(e for e in os.listdir(base) if os.path.isdir(os.path.join(base, e)))
        for entry in entries[: max(0, len(entries) - self.keep)]:
            shutil.rmtree(os.path.join(base, entry), ignore_errors=True)

    def _make_parents(self, path: str) -> None:
        """Create the missing directories above ``path``, outermost first, and remember each one."""
        missing: List[str] = []
        parent = os.path.dirname(path)
        while parent and not os.path.isdir(parent):
            missing.append(parent)
            up = os.path.dirname(parent)
            if up == parent:
                break
            parent = up
        for directory in reversed(missing):
            try:
                os.mkdir(directory, self.dir_mode)
            except FileExistsError:
                continue
            self.created_dirs.append(directory)

    def apply(self) -> None:
        for change in self.changes:
            if not change.needed:
                continue
            if change.content is not None:
                self._make_parents(change.path)
            change.applied = True
            if change.content is None:
                os.unlink(change.path)
            else:
                atomic_write(change.path, change.content, change.mode)

    def rollback(self) -> None:
        for change in reversed(self.changes):
            if not change.applied:
                continue
            if change.previous is None:
                try:
                    os.unlink(change.path)
                except OSError as exc:
                    if exc.errno != errno.ENOENT:
                        raise
            else:
                atomic_write(change.path, change.previous, change.previous_mode or 0o644)
            change.applied = False
        for directory in reversed(self.created_dirs):
            with contextlib.suppress(OSError):  # not empty: something else put a file there meanwhile; keep it
                os.rmdir(directory)
        self.created_dirs = []
        if self.backup_dir:
            shutil.rmtree(self.backup_dir, ignore_errors=True)
            parent = os.path.dirname(self.backup_dir)
            try:
                os.rmdir(parent)
                os.rmdir(os.path.dirname(parent))
            except OSError:
                pass
            self.backup_dir = None
