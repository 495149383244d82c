# -*- coding: utf-8 -*-
# Copyright: (c) 2026, llmops.ollama contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""TLS material for the proxy: read a certificate's facts, make a self-signed one.

Uses the ``cryptography`` library when the managed node has it. Reading facts
degrades gracefully without it (the facts are then unknown); generating a
self-signed certificate needs it.
"""

from __future__ import annotations

import datetime
import traceback
from typing import Any, Dict, List, Optional, Tuple

CRYPTOGRAPHY_IMPORT_ERROR: Optional[str]
try:
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True
    CRYPTOGRAPHY_IMPORT_ERROR = None


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def _not_after(cert: Any) -> datetime.datetime:
    value = getattr(cert, "not_valid_after_utc", None)
    if value is None:
        value = cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)
    return value


def _load_first(data: bytes) -> Any:
    """The first certificate of a PEM file (the leaf of a full chain)."""
    return x509.load_pem_x509_certificate(data)


def _dns_names(cert: Any) -> List[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    return [str(name) for name in ext.value.get_values_for_type(x509.DNSName)]


def certificate_facts(data: Optional[bytes], path: Optional[str]) -> Dict[str, Any]:
    """Issuer, subject, names, expiry and days left of a PEM certificate; None values when unknown."""
    facts: Dict[str, Any] = {"certificate": path, "issuer": None, "subject": None, "names": [], "not_after": None, "days_left": None, "error": None}
    if data is None:
        facts["error"] = "no certificate at %s" % path if path else "no certificate"
        return facts
    if not HAS_CRYPTOGRAPHY:
        facts["error"] = "the cryptography Python library is not installed on the managed node"
        return facts
    try:
        cert = _load_first(data)
    except ValueError as exc:
        facts["error"] = "%s is not a PEM certificate: %s" % (path, exc)
        return facts
    not_after = _not_after(cert)
    facts.update(
        issuer=cert.issuer.rfc4514_string(),
        subject=cert.subject.rfc4514_string(),
        names=_dns_names(cert),
        not_after=not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        days_left=int((not_after - _utcnow()).total_seconds() // 86400),
    )
    return facts


def selfsigned_renewal(cert_data: Optional[bytes], key_data: Optional[bytes], names: List[str], renew_days: int) -> Optional[str]:
    """Why a self-signed certificate must be (re)made, or None when the one there will do."""
    if cert_data is None:
        return "no certificate yet"
    if key_data is None:
        return "no private key yet"
    try:
        cert = _load_first(cert_data)
        key = serialization.load_pem_private_key(key_data, password=None)
    except (ValueError, TypeError) as exc:
        return "the present certificate or key cannot be read (%s)" % exc
    if cert.issuer != cert.subject:
        return "the present certificate is not self-signed"
    if sorted(_dns_names(cert)) != sorted(names):
        return "the names changed (certificate: %s; wanted: %s)" % (", ".join(_dns_names(cert)), ", ".join(names))
    pub = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if pub != cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        return "the private key does not match the certificate"
    days_left = (_not_after(cert) - _utcnow()).total_seconds() / 86400
    if days_left < renew_days:
        return "it expires in %.1f days (renew_days is %d)" % (days_left, renew_days)
    return None


def make_selfsigned(names: List[str], days: int) -> Tuple[bytes, bytes]:
    """A new EC P-256 key and a self-signed certificate for the names (the first is the subject CN)."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0]), x509.NameAttribute(NameOID.ORGANIZATION_NAME, "llmops.ollama self-signed")])
    now = _utcnow()
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name) for name in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    cert = builder.sign(key, hashes.SHA256())
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return cert_pem, key_pem


def leaf_der(data: Optional[bytes]) -> Optional[bytes]:
    """DER of the first certificate of a PEM file, to compare with what a server presents."""
    if data is None or not HAS_CRYPTOGRAPHY:
        return None
    try:
        return _load_first(data).public_bytes(serialization.Encoding.DER)
    except ValueError:
        return None


# The problems of a provided certificate that an explicit option may accept (accept_certificate), and those it may not.
ACCEPTABLE_CERTIFICATE_ISSUES = ("expired", "not_yet_valid", "name_mismatch", "unverifiable")


def _not_before(cert: Any) -> datetime.datetime:
    value = getattr(cert, "not_valid_before_utc", None)
    if value is None:
        value = cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)
    return value


def san_covers(pattern: str, name: str) -> bool:
    """Whether a certificate's DNS name covers a host name, as RFC 6125 section 6.4 has clients match.

    Case-insensitive, a trailing dot ignored. A wildcard is only ``*`` as the whole left-most label of a
    name with at least two more labels (``*.example.com``); it stands for exactly one label, never for
    the bare domain nor for two labels, and partial wildcards (``w*.example.com``) cover nothing, as
    browsers have it. A binding's own wildcard name (``*.example.com``) is covered only by the same wildcard.
    """
    pattern = pattern.lower().rstrip(".")
    name = name.lower().rstrip(".")
    if not pattern or not name:
        return False
    if pattern == name:
        return True
    first, _dot, rest = pattern.partition(".")
    if "*" in rest or "*" not in first:
        return False
    if first != "*" or rest.count(".") < 1:
        return False
    label, _dot, name_rest = name.partition(".")
    return bool(label) and label != "*" and name_rest == rest


def provided_certificate_issues(
    cert_data: Optional[bytes], key_data: Optional[bytes], cert_path: str, key_path: str, names: List[str], now: Optional[datetime.datetime] = None
) -> List[Tuple[str, str]]:
    """What is wrong with a certificate and key given for ``tls: provided``: (kind, message) pairs, empty when nothing.

    Kinds in ACCEPTABLE_CERTIFICATE_ISSUES may be accepted deliberately; ``unreadable`` and ``key_mismatch`` never
    (nginx could not serve them either).
    """
    if cert_data is None:
        return [("unreadable", "the certificate %s does not exist or cannot be read" % cert_path)]
    if key_data is None:
        return [("unreadable", "the private key %s does not exist or cannot be read" % key_path)]
    if not HAS_CRYPTOGRAPHY:
        return [("unverifiable", "the cryptography Python library is not installed on the managed node, so the certificate %s cannot be checked" % cert_path)]
    try:
        cert = _load_first(cert_data)
    except ValueError as exc:
        return [("unreadable", "%s is not a PEM certificate: %s" % (cert_path, exc))]
    try:
        key = serialization.load_pem_private_key(key_data, password=None)
    except TypeError:
        return [("unreadable", "the private key %s is encrypted: nginx reads it without a passphrase here, give it unencrypted (mode 0600)" % key_path)]
    except (ValueError, UnsupportedAlgorithm) as exc:
        return [("unreadable", "%s is not a PEM private key: %s" % (key_path, exc))]
    issues: List[Tuple[str, str]] = []
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(serialization.Encoding.DER, spki) != cert.public_key().public_bytes(serialization.Encoding.DER, spki):
        issues.append(("key_mismatch", "the private key %s does not belong to the certificate %s" % (key_path, cert_path)))
    now = now or _utcnow()
    not_before, not_after = _not_before(cert), _not_after(cert)
    if now < not_before:
        issues.append(("not_yet_valid", "the certificate %s is not valid before %s" % (cert_path, not_before.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    if now > not_after:
        issues.append(("expired", "the certificate %s expired on %s" % (cert_path, not_after.strftime("%Y-%m-%dT%H:%M:%SZ"))))
    sans = _dns_names(cert)
    missing = [name for name in names if not any(san_covers(pattern, name) for pattern in sans)]
    if missing:
        held = ", ".join(sans) if sans else "no DNS names in its subject alternative names (clients ignore the common name)"
        issues.append(("name_mismatch", "the certificate %s does not cover %s: it holds %s" % (cert_path, ", ".join(missing), held)))
    return issues
