# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every controller PKI plugin shares, once: the ``cryptography`` import and its missing-library
error, and the public facts of a certificate.

``certificate_facts(cert, now)`` is the controller's reader of certificate facts; the site's is
``module_utils/pki/x509.py: certificate_facts(der)``. Both write subject and issuer as RFC 4514 strings
with the same attribute names (``x509.ATTRIBUTE_NAMES``), the serial in upper-case hex, the times as
ISO 8601 UTC and the SHA-256 fingerprint in lower-case hex, so the same certificate gives the same
values on both tiers.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.eeszt.connect.plugins.module_utils.pki.x509 import ATTRIBUTE_NAMES
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import CRYPTOGRAPHY_MINIMUM

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
except ImportError as exc:  # pragma: no cover - exercised only without cryptography
    CRYPTOGRAPHY_IMPORT_ERROR = exc
    _NAME_OVERRIDES = {}
else:
    _NAME_OVERRIDES = dict((x509.ObjectIdentifier(oid), name) for oid, name in ATTRIBUTE_NAMES.items())

TIME_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def missing_cryptography_message(purpose):
    """The message for a controller without ``cryptography`` (``purpose``: what it is needed for)."""
    return ("the Python library 'cryptography' (%s or newer) is needed on the Ansible controller to %s; "
            "install it into the controller's Python environment (pip install 'cryptography>=%s')"
            % (CRYPTOGRAPHY_MINIMUM, purpose, CRYPTOGRAPHY_MINIMUM))


def require_cryptography(error_class, purpose):
    """Raise ``error_class`` (the caller's error, with its ``code``) when ``cryptography`` is missing."""
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise error_class(missing_cryptography_message(purpose))


def utc(cert, attr):
    """``not_valid_before`` or ``not_valid_after`` of ``cert`` as an aware UTC datetime."""
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def is_ca(cert):
    """True when ``cert`` says it is a CA (basicConstraints CA:TRUE)."""
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def public_der(public_key):
    """The DER SubjectPublicKeyInfo of a key: what tells whether a key and a certificate belong together."""
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def fingerprint(cert):
    """The SHA-256 fingerprint of ``cert``, lower-case hex."""
    return cert.fingerprint(hashes.SHA256()).hex()


def name_text(name):
    """RFC 4514 string of an ``x509.Name`` with the site reader's attribute names (``serialNumber=...``)."""
    return name.rfc4514_string(_NAME_OVERRIDES)


def issued_by(cert, issuer):
    """True when issuer's subject names cert's issuer and its key signed cert."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def certificate_facts(cert, now):
    """Public facts of ``cert``: subject, issuer, serial, not_before, not_after, days_left (from ``now``), sha256."""
    not_after = utc(cert, "not_valid_after")
    return {
        "subject": name_text(cert.subject),
        "issuer": name_text(cert.issuer),
        "serial": "%X" % cert.serial_number,
        "not_before": utc(cert, "not_valid_before").strftime(TIME_FORMAT),
        "not_after": not_after.strftime(TIME_FORMAT),
        "days_left": int((not_after - now).total_seconds() // 86400),
        "sha256": fingerprint(cert),
    }
