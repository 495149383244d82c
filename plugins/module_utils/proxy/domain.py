# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The backend of ollama_domain and ollama_domain_info: one domain bound to Ollama through nginx.

Safe apply, in this order: render and compare; back up; write atomically;
``nginx -t`` (on failure restore every file byte for byte and fail with
nginx's own words); reload; optionally verify through the proxy.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import http.client
import json
import os
import shlex
import socket
import ssl
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ansible_collections.llmops.ollama.plugins.module_utils.core.ports import describe, family_of, foreign_holders
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.access_log import NJS_FIELDS, NJS_PACKAGE_HINT, njs_loaded, render_njs
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.balance import MODEL_JS, NJS_MISSING, js_file, njs_missing
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.file_transaction import FileChange, Transaction, read_bytes
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.nginx import (
    BACKUP_DIRNAME,
    DEFAULT_CONFIG_DIR,
    HEALTH_PATH,
    IDENTITY_HEADER,
    MANAGED_BY,
    Binding,
    ConfigError,
    Nginx,
    Runner,
    build_binding,
    default_server_conflicts,
    file_slug,
    find_conflicts,
    is_managed,
    nginx_name_conflicts,
    nginx_pid_file,
    normalize_domain,
    read_config_dir,
    render_config,
    render_keys,
    render_sidecar,
    sha256_text,
    split_dump,
    validate_path,
    validate_range,
)
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.tls import (
    ACCEPTABLE_CERTIFICATE_ISSUES,
    HAS_CRYPTOGRAPHY,
    certificate_facts,
    leaf_der,
    make_selfsigned,
    provided_certificate_issues,
    selfsigned_renewal,
)
from ansible_collections.llmops.ollama.plugins.module_utils.proxy.worker import unreadable, worker_user

DEFAULT_TLS_DIR = "/etc/ssl/llmops-ollama"
NJS_MODES = ("auto", "required", "disabled")


class DomainError(Exception):
    """A failure the module reports with ``fail_json``; ``details`` go into the result."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class MissingCryptography(DomainError):
    """tls: selfsigned needs the cryptography library on the managed node."""


def nginx_from_params(params: Dict[str, Any], runner: Runner) -> Nginx:
    binary = params.get("nginx_binary") or "nginx"
    if any(c.isspace() for c in binary):
        raise ConfigError("nginx_binary %r contains white space: give the path of the nginx program alone" % binary)
    reload_command = params.get("reload_command")
    argv = None
    if reload_command:
        try:
            argv = shlex.split(reload_command)
        except ValueError as exc:
            raise ConfigError("reload_command %r cannot be split into arguments: %s" % (reload_command, exc)) from None
    return Nginx(
        runner,
        binary=binary,
        conf=validate_path(params.get("nginx_conf"), "nginx_conf", required=False),
        prefix=validate_path(params.get("nginx_prefix"), "nginx_prefix", required=False),
        reload_command=argv,
    )


class DirectoryLock:
    """An exclusive flock on the config directory, so that two runs on one host do not interleave."""

    def __init__(self, path: str, timeout: float = 60) -> None:
        self.path = path
        self.timeout = timeout
        self.fd: Optional[int] = None

    def __enter__(self) -> DirectoryLock:
        self.fd = os.open(self.path, os.O_RDONLY)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    os.close(self.fd)
                    raise DomainError("another run holds the lock on %s for more than %d seconds" % (self.path, self.timeout)) from None
                time.sleep(0.1)

    def __exit__(self, *exc: Any) -> None:
        if self.fd is not None:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


def load_sidecar(path: str) -> Optional[Dict[str, Any]]:
    data = read_bytes(path)
    if data is None:
        return None
    try:
        loaded = json.loads(data.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(loaded, dict) or loaded.get("managed_by") != MANAGED_BY:
        return None
    return loaded


def binding_record(meta: Dict[str, Any], backup_file: Optional[str] = None) -> Dict[str, Any]:
    """The ``binding`` return value from sidecar metadata, with live certificate facts."""
    tls = dict(meta.get("tls") or {})
    mode = tls.get("mode", "none")
    facts: Dict[str, Any] = {}
    if mode != "none" and tls.get("certificate"):
        facts = certificate_facts(read_bytes(tls["certificate"]), tls["certificate"])
    files = meta.get("files") or {}
    keys = files.get("keys") or {}
    return {
        "domain": meta.get("domain"),
        "aliases": list(meta.get("aliases") or []),
        "url": meta.get("url"),
        "upstreams": list(meta.get("upstreams") or []),
        "mirror_path": meta.get("mirror_path"),
        "balance": meta.get("balance") or (None if meta.get("mirror_path") else "least_conn"),
        "default_server": bool(meta.get("default_server")),
        "listen_address": meta.get("listen_address"),
        "http_port": meta.get("http_port"),
        "https_port": meta.get("https_port"),
        "tls": {
            "mode": mode,
            "certificate": tls.get("certificate"),
            "private_key": tls.get("private_key"),
            "issuer": facts.get("issuer"),
            "not_after": facts.get("not_after"),
            "days_left": facts.get("days_left"),
        },
        "redirect_http": bool(meta.get("redirect_http")),
        "hsts": bool(meta.get("hsts")),
        "allow": list(meta.get("allow") or []),
        "public": bool(meta.get("public")),
        "auth": dict(meta.get("auth") or {"mode": "none", "key_count": 0}),
        "key_names": list(meta.get("key_names") or []),
        "access_log": _access_log_record(meta.get("access_log")),
        "identity": meta.get("identity"),
        "rate_limit": meta.get("rate_limit"),
        "config_file": (files.get("config") or {}).get("path"),
        "keys_file": keys.get("path"),
        "backup_file": backup_file,
    }


def sample_manifest(mirror_path: str) -> Optional[Tuple[str, str]]:
    """One manifest the mirror serves by tag: (URL path, file), the first in name order; None for an empty mirror."""
    pattern = os.path.join(glob.escape(mirror_path), "v2", "*", "*", "manifests", "*")
    for path in sorted(glob.glob(pattern)):
        name = os.path.basename(path)
        if os.path.isfile(path) and not name.startswith(("sha256:", ".")):
            return "/" + os.path.relpath(path, mirror_path).replace(os.sep, "/"), path
    return None


def _access_log_record(entry: Any) -> Optional[Dict[str, Any]]:
    """What the JSON access log holds: its path, and which fields stay empty without njs."""
    if not isinstance(entry, dict) or not entry.get("path"):
        return None
    njs = bool(entry.get("njs"))
    return {"path": entry["path"], "njs": njs, "fields_missing": [] if njs else list(NJS_FIELDS)}


def drift_of(meta: Dict[str, Any]) -> List[str]:
    """What changed by hand since the module wrote the files: empty when nothing did."""
    reasons: List[str] = []
    files = meta.get("files") or {}
    for label in ("config", "keys"):
        entry = files.get(label)
        if not entry:
            continue
        data = read_bytes(entry["path"])
        if data is None:
            reasons.append("%s was removed" % entry["path"])
        elif sha256_text(data) != entry.get("sha256"):
            reasons.append("%s was edited by hand" % entry["path"])
    return reasons


def _diff_entries(changes: List[FileChange], keys_count: Tuple[int, int]) -> List[Dict[str, str]]:
    entries: List[Dict[str, str]] = []
    for change in changes:
        if not change.needed:
            continue
        if change.secret and change.path.endswith(".keys"):
            before = "" if change.previous is None else "(%d API keys, not shown)\n" % keys_count[0]
            after = "" if change.content is None else "(%d API keys, not shown%s)\n" % (keys_count[1], "; changed" if change.previous is not None else "")
        elif change.path.endswith(".conf"):
            before = "" if change.previous is None else change.previous.decode("utf-8", "replace")
            after = "" if change.content is None else change.content.decode("utf-8", "replace")
        else:
            continue
        entries.append({"before_header": change.path, "after_header": change.path, "before": before, "after": after})
    return entries


class DomainManager:
    """Binds, updates or removes one domain. ``runner`` runs a command: (argv) -> (rc, stdout, stderr)."""

    def __init__(self, params: Dict[str, Any], runner: Runner, check_mode: bool = False) -> None:
        self.params = params
        self.runner = runner
        self.check_mode = check_mode
        self.warnings: List[str] = []

    # ------------------------------------------------------------------ shared steps
    def _paths(self) -> Tuple[str, str]:
        config_dir = validate_path(self.params.get("config_dir") or DEFAULT_CONFIG_DIR, "config_dir")
        backup_dir = validate_path(self.params.get("backup_dir"), "backup_dir", required=False) or os.path.join(config_dir, BACKUP_DIRNAME)
        return config_dir, backup_dir

    def _check_config_dir(self, config_dir: str) -> None:
        if not os.path.isdir(config_dir):
            raise DomainError(
                "config_dir %s does not exist: install nginx first (the ollama_proxy role does), or point config_dir at the directory "
                "that nginx includes with *.conf" % config_dir
            )

    def _commit(self, transaction: Transaction, nginx: Nginx, what: str, names: Sequence[str] = ()) -> Optional[str]:
        """Back up, write, nginx -t, reload; restore everything on failure. Returns the backup's config path.

        With ``names``, nginx's own verdict counts too: when ``nginx -t`` warns that one of them is a
        conflicting server name (so nginx would silently drop it from one block), the change is undone.
        """
        backup = transaction.backup()
        try:
            transaction.apply()
        except OSError as exc:
            transaction.rollback()
            raise DomainError("could not write the files for %s: %s; the previous files were restored" % (what, exc)) from None
        ok, message = nginx.test()
        clashes = nginx_name_conflicts(message, names) if ok and names and not self.params.get("force") else []
        if clashes:
            transaction.rollback()
            raise DomainError(
                "nginx reports that another server block already answers for %s on the same address and port (%s), so the previous files "
                "were restored and nginx was not reloaded. Remove or rename that server block, choose other names or ports, or set force: true"
                % (what, "; ".join(clashes)),
                conflicts=clashes,
                nginx_message=message,
            )
        if not ok:
            transaction.rollback()
            still_ok, before_message = nginx.test()
            if not still_ok:
                raise DomainError(
                    "nginx -t rejects the configuration even without this change, so it was not applied (the previous files are back): %s" % before_message,
                    nginx_message=before_message,
                )
            raise DomainError(
                "nginx -t rejected the new configuration for %s, so the previous files were restored and nginx was not reloaded: %s%s"
                % (what, message, (". " + NJS_MISSING) if njs_missing(message) else ""),
                nginx_message=message,
            )
        if self.params.get("reload", True):
            ok, message = nginx.reload()
            if not ok:
                transaction.rollback()
                raise DomainError(
                    "the configuration for %s is valid, but reloading nginx failed, so the previous files were restored: %s. "
                    "Is nginx running? Start it, or set reload_command." % (what, message),
                    nginx_message=message,
                )
        if backup:
            config = [c for c in transaction.changes if c.path.endswith(".conf")]
            return os.path.join(backup, os.path.basename(config[0].path)) if config and config[0].previous is not None else backup
        return None

    # ------------------------------------------------------------------ state=present
    def _tls_material(self, binding: Binding) -> Tuple[List[FileChange], Optional[str]]:
        """For tls: selfsigned, the certificate and key paths, and new files when (re)generation is due."""
        if binding.tls != "selfsigned":
            return [], None
        tls_dir = validate_path(self.params.get("tls_dir") or DEFAULT_TLS_DIR, "tls_dir")
        binding.certificate = binding.certificate or os.path.join(tls_dir, file_slug(binding.domain) + ".crt")
        binding.private_key = binding.private_key or os.path.join(tls_dir, file_slug(binding.domain) + ".key")
        if not HAS_CRYPTOGRAPHY:
            raise MissingCryptography("tls: selfsigned needs the cryptography Python library on the managed node")
        renew_days = validate_range(self.params.get("renew_days", 30), "renew_days", 0, 3650)
        valid_days = validate_range(self.params.get("selfsigned_days", 365), "selfsigned_days", 1, 3650)
        if renew_days >= valid_days:
            raise ConfigError("renew_days (%d) must be less than selfsigned_days (%d), or every run would renew" % (renew_days, valid_days))
        reason = selfsigned_renewal(read_bytes(binding.certificate), read_bytes(binding.private_key), binding.names, renew_days)
        if reason is None:
            return [], None
        if self.check_mode:
            cert_pem, key_pem = b"(new self-signed certificate)\n", b"(new key)\n"
        else:
            cert_pem, key_pem = make_selfsigned(binding.names, valid_days)
        return [FileChange(binding.certificate, cert_pem, 0o644), FileChange(binding.private_key, key_pem, 0o600, secret=True)], reason

    def _check_provided_certificate(self, binding: Binding) -> None:
        """tls: provided: validity, names (SAN, RFC 6125) and key, before anything is touched."""
        if binding.tls != "provided" or not binding.certificate or not binding.private_key:
            return
        accepted = list(self.params.get("accept_certificate") or [])
        for index, kind in enumerate(accepted):
            if kind not in ACCEPTABLE_CERTIFICATE_ISSUES:
                raise ConfigError("accept_certificate[%d] %r is not one of %s" % (index, kind, ", ".join(ACCEPTABLE_CERTIFICATE_ISSUES)))
        issues = provided_certificate_issues(
            read_bytes(binding.certificate), read_bytes(binding.private_key), binding.certificate, binding.private_key, binding.names
        )
        refused = [message for kind, message in issues if kind not in accepted]
        if refused:
            acceptable = sorted({kind for kind, _message in issues if kind in ACCEPTABLE_CERTIFICATE_ISSUES and kind not in accepted})
            hint = (
                " If this is deliberate, set accept_certificate: [%s] (it is then applied with a warning)." % ", ".join(acceptable)
                if acceptable and len(acceptable) == len(refused)
                else ""
            )
            raise DomainError(
                "the certificate for %s was refused before anything was changed: %s.%s" % (binding.domain, "; ".join(refused), hint),
                certificate_issues=[kind for kind, _message in issues],
            )
        for kind, message in issues:
            self.warnings.append("%s (accepted by accept_certificate: %s)" % (message, kind))

    def _njs(self, nginx: Nginx, dump: Optional[str]) -> bool:
        """Whether the access log gets the model and token counts: njs is wanted (access_log_njs) and nginx has it."""
        mode = self.params.get("access_log_njs") or "auto"
        if mode not in NJS_MODES:
            raise ConfigError("access_log_njs %r is not one of %s" % (mode, ", ".join(NJS_MODES)))
        missing = ", ".join(NJS_FIELDS)
        if mode == "disabled":
            self.warnings.append("the access log leaves %s empty: access_log_njs is disabled" % missing)
            return False
        if njs_loaded(dump) or njs_loaded(None, nginx.version()):
            return True
        if mode == "required":
            raise DomainError(
                "access_log_njs is required, but nginx has not loaded the njs module (%s): install %s, or set access_log_njs: auto"
                % ("ngx_http_js_module", NJS_PACKAGE_HINT)
            )
        self.warnings.append(
            "the access log leaves %s empty: nginx has not loaded the njs module (ngx_http_js_module). Install %s, "
            "or set access_log_njs: disabled to say that this is deliberate" % (missing, NJS_PACKAGE_HINT)
        )
        return False

    def _check_mirror_readable(self, binding: Binding, dump: Optional[str], nginx: Nginx) -> None:
        """A mirror path nginx's workers cannot read is refused before anything is written."""
        if not binding.mirror_path:
            return
        if not os.path.isdir(binding.mirror_path):
            raise DomainError(
                "mirror_path %s is not a directory: fill it first with llmops.ollama.ollama_mirror (path: %s), then bind it"
                % (binding.mirror_path, binding.mirror_path)
            )
        user = worker_user(dump, nginx.version())
        v2 = os.path.join(binding.mirror_path, "v2")
        sample = sample_manifest(binding.mirror_path)
        reason = unreadable(v2 if os.path.isdir(v2) else binding.mirror_path, user, [sample[1]] if sample else [])
        if reason:
            raise DomainError(
                "mirror_path %s cannot be served: nginx's workers run as %s, and %s. Nothing was changed. Make the path readable "
                "for %s (chmod o+x on every parent directory, or move the mirror), or run nginx's workers as a user that may read it"
                % (binding.mirror_path, user, reason, user)
            )

    def present(self) -> Dict[str, Any]:
        config_dir, backup_dir = self._paths()
        params = dict(self.params)
        params["config_dir"] = config_dir
        binding, warnings = build_binding(params)
        self.warnings += warnings
        nginx = nginx_from_params(self.params, self.runner)
        self._check_config_dir(config_dir)
        self._check_provided_certificate(binding)
        dump = nginx.dump() if binding.access_log or binding.mirror_path else None
        self._check_mirror_readable(binding, dump, nginx)
        if binding.access_log:
            if not os.path.isdir(binding.access_log_dir):
                raise DomainError(
                    "access_log_dir %s is not a directory: create it (nginx writes the JSON access log %s there), "
                    "give another one, or set access_log: false" % (binding.access_log_dir, os.path.basename(binding.access_log_file))
                )
            binding.njs = self._njs(nginx, dump)
        tls_changes, renew_reason = self._tls_material(binding)

        current = read_bytes(binding.config_file)
        force = bool(self.params.get("force"))
        if current is not None and not is_managed(current):
            if not force:
                raise DomainError(
                    "%s exists and was not written by ollama_domain (it has no managed header): move it away, or set force: true to replace it"
                    % binding.config_file
                )
            self.warnings.append("replacing %s, which ollama_domain did not write (force: true)" % binding.config_file)

        files = read_config_dir(config_dir)
        dump = dump or nginx.dump()
        if dump:
            for path, text in split_dump(dump).items():
                files.setdefault(path, text)
        conflicts, scan_warnings = find_conflicts(binding, files, skip=[binding.config_file])
        if binding.default_server:
            conflicts += default_server_conflicts(binding, files, skip=[binding.config_file])
        self.warnings += scan_warnings
        if conflicts and not force:
            raise DomainError(
                "another server block already answers for this domain: %s. Remove or rename it, choose other names or ports, or set force: true"
                % "; ".join(conflicts),
                conflicts=conflicts,
            )
        for conflict in conflicts:
            self.warnings.append("conflict overridden by force: true: %s" % conflict)

        config_text = render_config(binding)
        keys_text = render_keys(binding)
        sidecar_text = render_sidecar(binding, config_text, keys_text, generated=binding.tls == "selfsigned")
        changes = [
            FileChange(binding.config_file, config_text.encode("utf-8"), 0o644),
            FileChange(binding.keys_file, None if keys_text is None else keys_text.encode("utf-8"), 0o600, secret=True),
            # 0600: the sidecar holds the checksum of the keys file, which would allow guessing weak keys offline.
            FileChange(binding.sidecar_file, sidecar_text.encode("utf-8"), 0o600),
            FileChange(binding.js_file, MODEL_JS.encode("utf-8") if binding.balance == "model" and not binding.mirror_path else None, 0o644),
            FileChange(binding.njs_file, render_njs().encode("utf-8") if binding.access_log and binding.njs else None, 0o644),
            *tls_changes,
        ]
        old_meta = load_sidecar(binding.sidecar_file) or {}
        old_keys = (old_meta.get("auth") or {}).get("key_count", 0)
        transaction = Transaction(changes, backup_dir, file_slug(binding.domain), validate_range(self.params.get("backups", 5), "backups", 0, 1000))
        changed = transaction.needed
        diff = _diff_entries(transaction.changes, (old_keys, len(binding.api_keys)))
        if renew_reason and changed:
            diff.append({"prepared": "certificate %s: a new self-signed certificate, because %s\n" % (binding.certificate, renew_reason)})
        backup_file = None
        if changed and not self.check_mode:
            # The transaction creates missing directories (the tls_dir) itself, and removes them again on roll back.
            with DirectoryLock(config_dir):
                backup_file = self._commit(transaction, nginx, binding.domain, binding.names)
        record = binding_record(json.loads(sidecar_text), backup_file)
        result: Dict[str, Any] = {"changed": changed, "binding": record, "diff": diff}
        if self.params.get("verify") and not self.check_mode:
            result["verified"] = self.verify(binding, nginx)
        if renew_reason:
            result["certificate_renewed"] = renew_reason
        return result

    # ------------------------------------------------------------------ state=absent
    def absent(self) -> Dict[str, Any]:
        config_dir, backup_dir = self._paths()
        domain = normalize_domain(self.params.get("domain"))
        slug = file_slug(domain)
        config_file = os.path.join(config_dir, slug + ".conf")
        keys_file = os.path.join(config_dir, slug + ".keys")
        sidecar_file = os.path.join(config_dir, slug + ".json")
        nginx = nginx_from_params(self.params, self.runner)
        current = read_bytes(config_file)
        if current is not None and not is_managed(current) and not self.params.get("force"):
            raise DomainError("%s exists and was not written by ollama_domain (it has no managed header): remove it yourself, or set force: true" % config_file)
        meta = load_sidecar(sidecar_file)
        paths = [config_file, keys_file, sidecar_file, js_file(config_dir, slug), os.path.join(config_dir, slug + ".js")]
        tls = (meta or {}).get("tls") or {}
        if tls.get("generated"):
            paths += [p for p in (tls.get("certificate"), tls.get("private_key")) if p]
        changes = [FileChange(path, None, secret=path in (keys_file, tls.get("private_key"))) for path in paths]
        transaction = Transaction(changes, backup_dir, slug, validate_range(self.params.get("backups", 5), "backups", 0, 1000))
        changed = transaction.needed
        diff = _diff_entries(transaction.changes, (((meta or {}).get("auth") or {}).get("key_count", 0), 0))
        backup_file = None
        if changed and not self.check_mode:
            with DirectoryLock(config_dir):
                backup_file = self._commit(transaction, nginx, domain)
        record = binding_record(meta, backup_file) if meta else {"domain": domain, "config_file": config_file, "backup_file": backup_file}
        return {"changed": changed, "binding": record, "diff": diff}

    # ------------------------------------------------------------------ verify
    def verify(self, binding: Binding, nginx: Optional[Nginx] = None) -> Dict[str, Any]:
        """Check the binding from outside, on its listen address, and return what was seen.

        First it proves that the answer comes from the configuration just written: ``GET /healthz`` (no key)
        must carry the configuration's identity in the ``X-Llmops-Ollama-Config`` header (another process on
        the port, or an nginx that did not load the new files, cannot). With TLS, the certificate presented
        (under the binding's name) must be the one just configured. Then ``GET /api/version`` must answer 200
        with the first API key, and 401 without one when the binding has keys. A mirror binding reads a real
        manifest instead (byte for byte, with the identity header), or ``/v2/`` when it holds none yet.
        Retried while nginx reloads; a failure names the port's holder when another process listens there.
        """
        timeout = float(self.params.get("verify_timeout") or 10)
        address = binding.listen_address or "127.0.0.1"
        if address in ("0.0.0.0", "*"):  # noqa: S104 - a listen-on-all address is reached over loopback
            address = "127.0.0.1"
        elif address == "[::]":
            address = "::1"
        address = address.strip("[]")
        port = binding.https_port if binding.tls_enabled else binding.http_port
        name = binding.domain if not binding.domain.startswith("*") else "verify" + binding.domain[1:]
        expected = leaf_der(read_bytes(binding.certificate)) if binding.tls_enabled and binding.certificate else None
        plain = {"Host": name if port in (80, 443) else "%s:%d" % (name, port), "Connection": "close"}
        keyed = dict(plain)
        if binding.api_keys:
            keyed["Authorization"] = "Bearer %s" % binding.api_keys[0]
        deadline = time.monotonic() + timeout
        reason = ""
        manifest = sample_manifest(binding.mirror_path) if binding.mirror_path else None
        path = (manifest[0] if manifest else "/v2/") if binding.mirror_path else "/api/version"
        identity = binding.identity
        while True:
            # Any status: /healthz answers 502 while Ollama is down, and the API check below says so in its own words.
            reason = self._probe(address, port, name, plain, binding.tls_enabled, expected, HEALTH_PATH, want=None, identity=identity)
            if not reason:
                content = read_bytes(manifest[1]) if manifest else None
                reason = self._probe(address, port, name, keyed, binding.tls_enabled, expected, path, identity=identity if manifest else None, content=content)
            if not reason and binding.api_keys:
                reason = self._probe(address, port, name, plain, binding.tls_enabled, expected, path, want=401)
            if not reason:
                break
            if time.monotonic() > deadline:
                raise DomainError("the binding is applied, but verify failed: %s%s" % (reason, self._port_holders_note(nginx, port, binding.listen_address)))
            time.sleep(0.2)
        if binding.mirror_path and not manifest:
            self.warnings.append("verify read no manifest: the mirror %s holds none yet, so only /v2/ and %s were checked" % (binding.mirror_path, HEALTH_PATH))
        return {
            "address": address,
            "port": port,
            "path": path,
            "certificate_sha256": hashlib.sha256(expected).hexdigest() if expected else None,
            "identity": identity,
            "with_key": 200,
            "without_key": 401 if binding.api_keys else None,
        }

    def _port_holders_note(self, nginx: Optional[Nginx], port: int, listen_address: Optional[str]) -> str:
        """Who else listens on the port, when it is not this nginx (its master from its pid file, and the workers)."""
        if nginx is None:
            return ""
        pid_file = nginx_pid_file(nginx.dump() or "", nginx.prefix)
        if pid_file is None:
            return ""
        own: List[int] = []
        data = read_bytes(pid_file)
        if data is not None and data.strip().isdigit():
            own = sorted(family_of(int(data.strip())))
        address = None if listen_address in (None, "0.0.0.0", "[::]") else listen_address.strip("[]")  # noqa: S104 - comparing
        try:
            holders = foreign_holders(port, address, own)
        except OSError:
            return ""
        if not holders:
            return ""
        return ". Port %d is held by %s, not by the nginx this module configures%s" % (
            port,
            describe(holders),
            "" if own else " (which does not run: %s has no pid)" % pid_file,
        )

    @staticmethod
    def _probe(
        address: str,
        port: int,
        name: str,
        headers: Dict[str, str],
        tls: bool,
        expected: Optional[bytes],
        path: str = "/api/version",
        want: Optional[int] = 200,
        identity: Optional[str] = None,
        content: Optional[bytes] = None,
    ) -> str:
        try:
            sock = socket.create_connection((address, port), timeout=5)
        except OSError as exc:
            return "cannot connect to %s port %d: %s" % (address, port, exc)
        try:
            if tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # compared below with the configured certificate instead
                sock = context.wrap_socket(sock, server_hostname=name)
                if expected is not None and sock.getpeercert(binary_form=True) != expected:
                    return "the proxy at %s port %d presents another certificate than the configured one for %s" % (address, port, name)
            conn = http.client.HTTPConnection(address, port, timeout=5)
            conn.sock = sock
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            raw = response.read(len(content) + 1 if content is not None else 300)
            body = raw[:300].decode("utf-8", "replace")
            if want is not None and response.status != want:
                key = "without an API key " if want == 401 else ""
                return "GET %s through the proxy %sanswered HTTP %d (expected %d): %s" % (path, key, response.status, want, body.strip()[:200])
            seen = response.getheader(IDENTITY_HEADER)
            if identity is not None and seen != identity:
                server = response.getheader("Server") or "unknown"
                found = "with %s %s" % (IDENTITY_HEADER, seen[:40]) if seen else "without the header %s" % IDENTITY_HEADER
                return (
                    "GET %s at %s port %d answered HTTP %d %s (Server: %s), not the configuration just written (%s %s): another process "
                    "answers on this port, or nginx did not load the new configuration (look at its error log)"
                    % (path, address, port, response.status, found, server[:60], IDENTITY_HEADER, identity)
                )
            if content is not None and raw != content:
                return "GET %s through the proxy answered other bytes than the manifest file on disk" % path
            return ""
        except (OSError, ssl.SSLError, http.client.HTTPException) as exc:
            return "GET %s through the proxy at %s port %d failed: %s" % (path, address, port, exc)
        finally:
            sock.close()

    def run(self) -> Dict[str, Any]:
        if self.params.get("state", "present") == "absent":
            return self.absent()
        return self.present()


def list_bindings(config_dir: str, domain: Optional[str] = None) -> List[Dict[str, Any]]:
    """Every managed binding in config_dir (or the one for ``domain``), with drift and certificate facts."""
    config_dir = validate_path(config_dir, "config_dir") or ""
    pattern = file_slug(normalize_domain(domain)) + ".json" if domain else "*.json"
    paths = sorted(glob.glob(os.path.join(glob.escape(config_dir), pattern)))
    result = []
    for path in paths:
        meta = load_sidecar(path)
        if meta is None:
            continue
        record = binding_record(meta)
        record.pop("backup_file", None)
        reasons = drift_of(meta)
        record["drift"] = bool(reasons)
        record["drift_reasons"] = reasons
        record["sidecar_file"] = path
        result.append(record)
    return result
