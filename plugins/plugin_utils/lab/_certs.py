# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab issuer's certificates: names, validity rules, signing, and the facts the manifest records.

Part of the lab PKI (``pki.py`` is the entry point). Runs on the controller and needs ``cryptography``
(the stated minimum, plugin_utils/pki CRYPTOGRAPHY_MINIMUM); the import is guarded, callers check
``HAS_CRYPTOGRAPHY``. What the controller's PKI module
(``plugin_utils/pki/crypto.py``) already does is imported from it: the fingerprint, whether one
certificate issued another, whether a certificate is a CA, the public key's DER. The lab's
:func:`manifest_facts` differs on purpose: it is the ``manifest.json`` contract (``serialNumber`` spelled
out in names, lower-case hex serial, no ``days_left`` that would change the manifest every day).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import secrets
import traceback

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import fingerprint, public_der as _public_der

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
    # The other lab PKI modules import these from here; without cryptography nothing uses them.
    x509 = hashes = serialization = ec = rsa = ExtendedKeyUsageOID = NameOID = None
else:
    HAS_CRYPTOGRAPHY = True

# Lab PKI file names, relative to <lab_dir>/pki (a contract: the lab WAF,
# the certificate deployment and the connection check rely on them).
FILES = {
    "client_root_ca": "client-root-ca.pem",
    "client_root_ca_key": "client-root-ca.key",
    "client_issuing_ca": "client-issuing-ca.pem",
    "client_issuing_ca_key": "client-issuing-ca.key",
    "client_ca_bundle": "client-ca-bundle.pem",
    "server_ca": "server-ca.pem",
    "server_ca_key": "server-ca.key",
    "waf_server_cert": "waf-server.pem",
    "waf_server_key": "waf-server.key",
    "waf_server_fullchain": "waf-server-fullchain.pem",
    "eeszt_ca_bundle": "eeszt-ca-bundle.pem",
    "unknown_ca_root": "cases/unknown-ca-root.pem",
}

VALIDITY_DAYS = 365
RENEW_VALIDITY_DAYS = 365  # a renewed site certificate (renew_site_pfx)
RENEW_DAYS = 60          # leaf certificates with fewer days left are renewed
CA_MIN_DAYS = VALIDITY_DAYS + RENEW_DAYS  # a CA must outlive every leaf it issues
CA_BACKDATE_DAYS = 400   # so that the 'expired' case lies inside its issuer's validity
EXPIRING_SOON_DAYS = 10
EXPIRING_SOON_MIN_DAYS = 5  # 'expiring-soon' is re-issued when fewer days are left
NOT_YET_VALID_DAYS = 30
RSA_KEY_SIZE = 2048

_SUBJECT_BASE = (("C", "HU"), ("O", "EESZT Lab"))
CLIENT_ROOT_CA_NAME = "EESZT Lab Client Root CA"
CLIENT_ISSUING_CA_NAME = "EESZT Lab Client Issuing CA"
SERVER_CA_NAME = "EESZT Lab Server CA"
ROGUE_CA_NAME = "Rogue Lab CA (not trusted by the lab WAF)"

MODE_DIR = 0o700
MODE_SECRET = 0o600
MODE_PUBLIC = 0o644


class LabPKIError(EESZTConnectError):
    """The lab PKI cannot be built: bad input or an unusable lab directory."""


def _utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _not_before(cert):
    if hasattr(cert, "not_valid_before_utc"):
        return cert.not_valid_before_utc
    return cert.not_valid_before.replace(tzinfo=datetime.timezone.utc)


def _not_after(cert):
    if hasattr(cert, "not_valid_after_utc"):
        return cert.not_valid_after_utc
    return cert.not_valid_after.replace(tzinfo=datetime.timezone.utc)


def _iso(moment):
    return moment.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_iso(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)


def subject_string(name):
    """RFC 4514 string of a certificate name, with serialNumber spelled out."""
    return name.rfc4514_string({NameOID.SERIAL_NUMBER: "serialNumber"})


def manifest_facts(cert):
    """Public facts about a certificate (no key material)."""
    return {
        "subject": subject_string(cert.subject),
        "issuer": subject_string(cert.issuer),
        "serial": format(cert.serial_number, "x"),
        "sha256": fingerprint(cert),
        "not_before": _iso(_not_before(cert)),
        "not_after": _iso(_not_after(cert)),
    }


def _name(common_name, base=_SUBJECT_BASE):
    oids = {"C": NameOID.COUNTRY_NAME, "O": NameOID.ORGANIZATION_NAME}
    attributes = [x509.NameAttribute(oids[key], value) for key, value in base]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def site_subject(institution_id, site_id):
    """Subject of a lab WAF-SSL certificate: the institution ID in CN and serialNumber."""
    return x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "HU"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lab institution %s" % institution_id),
        x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, site_id),
        x509.NameAttribute(NameOID.COMMON_NAME, institution_id),
        x509.NameAttribute(NameOID.SERIAL_NUMBER, institution_id),
    ])


def _new_rsa_key():
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


def _new_ec_key():
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def key_matches(key, cert):
    """True when the private key belongs to the certificate."""
    return _public_der(key.public_key()) == _public_der(cert.public_key())


def _extension(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _eku(cert):
    value = _extension(cert, x509.oid.ExtensionOID.EXTENDED_KEY_USAGE)
    return list(value) if value is not None else []


def _issue(subject, public_key, issuer_cert, issuer_key, not_before, not_after, profile,
           ekus=None, path_length=None, dns_names=(), ip_addresses=()):
    """Sign a certificate. profile: 'ca', 'client' or 'server'."""
    issuer_name = subject if issuer_cert is None else issuer_cert.subject
    issuer_public = issuer_key.public_key()
    builder = (x509.CertificateBuilder()
               .subject_name(subject)
               .issuer_name(issuer_name)
               .public_key(public_key)
               .serial_number(x509.random_serial_number())
               .not_valid_before(not_before)
               .not_valid_after(not_after)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public), critical=False))
    if profile == "ca":
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False, data_encipherment=False,
            key_agreement=False, key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False),
            critical=True)
    else:
        is_rsa = isinstance(public_key, rsa.RSAPublicKey)
        builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        builder = builder.add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=is_rsa, data_encipherment=False,
            key_agreement=False, key_cert_sign=False, crl_sign=False, encipher_only=False, decipher_only=False),
            critical=True)
        if ekus is None:
            ekus = [ExtendedKeyUsageOID.CLIENT_AUTH if profile == "client" else ExtendedKeyUsageOID.SERVER_AUTH]
        builder = builder.add_extension(x509.ExtendedKeyUsage(ekus), critical=False)
        alt_names = [x509.DNSName(name) for name in dns_names] + [x509.IPAddress(ip) for ip in ip_addresses]
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def new_password():
    """A random URL-safe password of 24 characters."""
    return secrets.token_urlsafe(18)
