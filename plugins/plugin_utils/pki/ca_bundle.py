# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate a PEM bundle of CA certificates (the trust for EESZT's server chain).

Used on the controller by the action plugin eeszt.connect.ca_bundle before
anything is sent to a site. ``validate_bundle`` reads the file, accepts PEM
certificates only (no private keys, no DER, nothing else), requires every
certificate to be a CA certificate (basicConstraints CA:TRUE) that is valid
now, and returns the certificates in a canonical PEM form with their facts.
Every failure is a ``CaBundleError`` subclass with a stable ``code`` and a
message that names the file and says what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import (
    certificate_facts,
    is_ca,
    require_cryptography,
    utc,
)

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
except ImportError:  # pragma: no cover - reported by require_cryptography()
    pass


PEM_BLOCK = re.compile(
    br"-----BEGIN ([A-Z0-9 ]+)-----\r?\n(.*?)-----END \1-----", re.DOTALL)
CERTIFICATE_LABELS = (b"CERTIFICATE", b"TRUSTED CERTIFICATE", b"X509 CERTIFICATE")


class CaBundleError(EESZTConnectError):
    """Root of eeszt.connect.ca_bundle's errors: ``code`` is returned as ``error``, the message names the file and the remedy."""

    code = "ca_bundle_error"


class CaBundleMissingLibraryError(CaBundleError):
    """The controller's Python lacks ``cryptography``."""

    code = "missing_library"


class CaBundleNotFoundError(CaBundleError):
    """The bundle cannot be read on the controller."""

    code = "not_found"


class CaBundleFormatError(CaBundleError):
    """Not a PEM file of certificates (empty, DER, another PEM block, a damaged certificate)."""

    code = "not_pem"


class CaBundlePrivateKeyError(CaBundleError):
    """The bundle holds a private key."""

    code = "private_key"


class CaBundleNotCaError(CaBundleError):
    """A certificate is not a CA certificate (basicConstraints CA:TRUE missing)."""

    code = "not_ca"


class CaBundleExpiredError(CaBundleError):
    """A CA certificate has expired."""

    code = "expired"


class CaBundleNotYetValidError(CaBundleError):
    """A CA certificate is not valid yet."""

    code = "not_yet_valid"


def _bundle_facts(cert, now):
    """Public facts about one CA certificate (nothing secret): the certificate facts, self_signed and pem."""
    facts = certificate_facts(cert, now)
    facts.update(self_signed=cert.subject == cert.issuer,
                 pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return facts


def read_bundle(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise CaBundleNotFoundError(
            "cannot read the CA bundle %s: %s; point the source at the PEM file of the CA "
            "certificates that EESZT's servers chain to" % (path, exc.strerror or exc))


def parse_bundle(data, path):
    """Return the certificates of a PEM bundle; refuse anything that is not one."""
    require_cryptography(CaBundleMissingLibraryError, "validate the CA bundle")
    blocks = PEM_BLOCK.findall(data)
    if not blocks:
        if data.strip():
            hint = ("it looks like a DER (binary) certificate; convert it with "
                    "'openssl x509 -inform DER -in FILE -out FILE.pem'" if data[:1] == b"\x30"
                    else "it holds no '-----BEGIN CERTIFICATE-----' block")
            raise CaBundleFormatError("the CA bundle %s is not a PEM file: %s" % (path, hint))
        raise CaBundleFormatError(
            "the CA bundle %s is empty; it must hold the PEM certificates of the CAs that "
            "EESZT's servers chain to" % path)
    certs = []
    for index, (label, body) in enumerate(blocks, 1):
        if b"PRIVATE KEY" in label:
            raise CaBundlePrivateKeyError(
                "the CA bundle %s contains a private key (PEM block %d, %s); a CA bundle must "
                "hold certificates only: remove the key from the file and keep it secret"
                % (path, index, label.decode("ascii")))
        if label not in CERTIFICATE_LABELS:
            raise CaBundleFormatError(
                "the CA bundle %s contains a PEM block %d of type %s; a CA bundle must hold "
                "certificates only" % (path, index, label.decode("ascii")))
        try:
            der = base64.b64decode(re.sub(br"\s+", b"", body), validate=True)
            certs.append(x509.load_der_x509_certificate(der))
        except (ValueError, x509.InvalidVersion) as exc:
            raise CaBundleFormatError(
                "PEM block %d of the CA bundle %s is not a valid certificate (%s); obtain the "
                "bundle again" % (index, path, exc))
    return certs


def validate_bundle(path, warn_days=30, now=None):
    """Validate the bundle at ``path``.

    Return ``(pem, certificates, warnings)``: the canonical PEM text of the
    distinct certificates in file order, the facts of each, and warnings
    (duplicates, certificates that expire within ``warn_days`` days).
    """
    if now is None:
        now = datetime.datetime.now(datetime.timezone.utc)
    certs = parse_bundle(read_bundle(path), path)
    facts, warnings, seen = [], [], set()
    for cert in certs:
        item = _bundle_facts(cert, now)
        if item["sha256"] in seen:
            warnings.append("the CA bundle %s holds the certificate %s more than once; the "
                            "duplicate is left out" % (path, item["subject"]))
            continue
        seen.add(item["sha256"])
        if not is_ca(cert):
            raise CaBundleNotCaError(
                "the certificate %s (serial %s) in the CA bundle %s is not a CA certificate "
                "(basicConstraints CA:TRUE is missing); it is probably a server or client "
                "certificate: put the certificates of the issuing CAs into the bundle instead"
                % (item["subject"], item["serial"], path))
        if utc(cert, "not_valid_after") <= now:
            raise CaBundleExpiredError(
                "the CA certificate %s (serial %s) in the CA bundle %s expired on %s; obtain "
                "the current CA certificates from EESZT and replace the bundle"
                % (item["subject"], item["serial"], path, item["not_after"]))
        if utc(cert, "not_valid_before") > now:
            raise CaBundleNotYetValidError(
                "the CA certificate %s (serial %s) in the CA bundle %s is valid only from %s; "
                "check the controller's clock or use the bundle that is valid now"
                % (item["subject"], item["serial"], path, item["not_before"]))
        if item["days_left"] < warn_days:
            warnings.append("the CA certificate %s in the CA bundle %s expires on %s (in %d "
                            "days); obtain its successor from EESZT"
                            % (item["subject"], path, item["not_after"], item["days_left"]))
        facts.append(item)
    pem = "".join(item["pem"] for item in facts)
    return pem, facts, warnings


def bundle_sha256(pem):
    return hashlib.sha256(pem.encode("ascii")).hexdigest()
