# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rehearsal lab's PKI: CAs, the lab WAF's server certificate, one
WAF-SSL-like PKCS#12 file per site and a set of deliberately bad ones.

Entry point: :func:`build_lab_pki`. Everything lives under ``<lab_dir>/pki``
with fixed file names (see ``FILES``); an existing lab PKI is reused, only
missing, stale or inconsistent parts are (re)generated.

Runs on the controller. Needs ``cryptography`` (41.0 or newer); the import
is guarded, callers check ``HAS_CRYPTOGRAPHY``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac
import ipaddress
import json
import os
import re
import secrets
import tempfile
import traceback

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.kdf import pkcs12_kdf
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:  # cryptography < 43
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
except ImportError:
    HAS_CRYPTOGRAPHY = False
    CRYPTOGRAPHY_IMPORT_ERROR = traceback.format_exc()
else:
    HAS_CRYPTOGRAPHY = True


MANIFEST_SCHEMA = "eeszt.connect/lab-pki/v1"
PKI_SUBDIR = "pki"
MANIFEST_FILE = "manifest.json"

DEFAULT_WAF_HOSTNAMES = ("eeszt-lab.localhost", "localhost")
DEFAULT_WAF_IPS = ("127.0.0.1",)
DEFAULT_INSTITUTION_ID_PATTERN = r"^[0-9]{6}$"
DEFAULT_SITE_ID_PATTERN = r"^[0-9A-Za-z]{9}$"

# Whatever the patterns allow, identifiers become file names: keep them safe.
# (Matched with fullmatch: '$' would let a trailing newline through.)
_SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
_PASSWORD = re.compile(r"[0-9A-Za-z_-]{16,}")
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(\*\.)?[0-9A-Za-z]([0-9A-Za-z-]{0,61}[0-9A-Za-z])?(\.[0-9A-Za-z]([0-9A-Za-z-]{0,61}[0-9A-Za-z])?)*")

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
SITES_DIR = "sites"
CASES_DIR = "cases"

CASE_INSTITUTION_ID = "999001"
CASE_SITE_ID = "999001001"

# Expected outcome of each case, as the connection check would classify it.
CASE_EXPECTATIONS = ("ok", "expired", "not_yet_valid", "unknown_ca", "no_client_auth", "key_mismatch", "corrupt")

CASES = (
    ("expired", "expired", "Lab-issued client certificate whose validity ended 30 days ago."),
    ("not-yet-valid", "not_yet_valid", "Lab-issued client certificate that becomes valid only in 30 days."),
    ("unknown-ca", "unknown_ca", "Client certificate issued by a rogue CA the lab WAF does not trust (cases/unknown-ca-root.pem)."),
    ("no-client-auth", "no_client_auth", "Lab-issued certificate whose extended key usage is serverAuth only."),
    ("key-mismatch", "key_mismatch",
     "PKCS#12 file whose private key belongs to none of its certificates (readers return the key without a matching certificate)."),
    ("legacy-rc2", "ok", "Good certificate in a legacy PKCS#12 file: RC2-40-CBC certificates, 3DES key, SHA-1 MAC (old Windows exports)."),
    ("des3", "ok", "Good certificate in a PKCS#12 file encrypted with PBE-SHA1-3DES throughout, SHA-1 MAC."),
    ("truncated", "corrupt", "A good PKCS#12 file cut in half: unreadable."),
    ("expiring-soon", "ok", "Good certificate with 10 days left."),
    ("ec", "ok", "Good certificate with an EC P-256 key."),
)

VALIDITY_DAYS = 365
RENEW_DAYS = 60          # leaf certificates with fewer days left are renewed
CA_MIN_DAYS = VALIDITY_DAYS + RENEW_DAYS  # a CA must outlive every leaf it issues
CA_BACKDATE_DAYS = 400   # so that the 'expired' case lies inside its issuer's validity
EXPIRING_SOON_DAYS = 10
EXPIRING_SOON_MIN_DAYS = 5  # 'expiring-soon' is re-issued when fewer days are left
NOT_YET_VALID_DAYS = 30
RSA_KEY_SIZE = 2048
PKCS12_KDF_ROUNDS = 20000       # PBKDF2 rounds of the modern PKCS#12 files
PKCS12_MAC_ITERATIONS = 2048    # as cryptography and OpenSSL use for the MAC
LEGACY_PKCS12_ITERATIONS = 2048

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


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------

def _compile(pattern, name):
    if not isinstance(pattern, str) or not pattern:
        raise LabPKIError("%s must be a non-empty regular expression" % name)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise LabPKIError("%s %r is not a valid regular expression: %s" % (name, pattern, exc))


def _identifier(value, field, regex, pattern_name):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LabPKIError("%s must be a string, got %r" % (field, value))
    value = str(value)
    if not regex.search(value):
        raise LabPKIError("%s %r does not match %s %r" % (field, value, pattern_name, regex.pattern))
    if not _SAFE_ID.fullmatch(value):
        raise LabPKIError("%s %r cannot be used in a file name (letters, digits, '.', '_' and '-' only)" % (field, value))
    return value


def validate_sites(sites, institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN, site_id_pattern=DEFAULT_SITE_ID_PATTERN):
    """Check the site list; return it as a list of {institution_id, site_id} with string values."""
    institution_re = _compile(institution_id_pattern, "institution_id_pattern")
    site_re = _compile(site_id_pattern, "site_id_pattern")
    if sites is None:
        return []
    if not isinstance(sites, (list, tuple)):
        raise LabPKIError("sites must be a list of {institution_id, site_id} dictionaries")
    result = []
    seen = {}
    for index, site in enumerate(sites):
        where = "sites[%d]" % index
        if not isinstance(site, dict):
            raise LabPKIError("%s must be a dictionary with institution_id and site_id" % where)
        for key in ("institution_id", "site_id"):
            if site.get(key) is None:
                raise LabPKIError("%s.%s is required" % (where, key))
        institution_id = _identifier(site["institution_id"], where + ".institution_id", institution_re, "institution_id_pattern")
        site_id = _identifier(site["site_id"], where + ".site_id", site_re, "site_id_pattern")
        key = (institution_id, site_id)
        if key in seen:
            raise LabPKIError("%s: duplicate site institution_id %s, site_id %s (already given as %s)"
                              % (where, institution_id, site_id, seen[key]))
        seen[key] = where
        result.append({"institution_id": institution_id, "site_id": site_id})
    return result


def _validate_waf_names(waf_hostnames, waf_ips):
    if isinstance(waf_hostnames, str) or not waf_hostnames:
        raise LabPKIError("waf_hostnames must be a non-empty list of DNS names")
    hostnames = []
    for index, name in enumerate(waf_hostnames):
        if not isinstance(name, str) or not _HOSTNAME.fullmatch(name):
            raise LabPKIError("waf_hostnames[%d] %r is not a valid DNS name" % (index, name))
        if name.lower() not in hostnames:
            hostnames.append(name.lower())
    if isinstance(waf_ips, str) or waf_ips is None:
        raise LabPKIError("waf_ips must be a list of IP addresses")
    ips = []
    for index, value in enumerate(waf_ips):
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            raise LabPKIError("waf_ips[%d] %r is not an IP address" % (index, value))
        if address not in ips:
            ips.append(address)
    return hostnames, ips


# ---------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------

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


def _fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def subject_string(name):
    """RFC 4514 string of a certificate name, with serialNumber spelled out."""
    return name.rfc4514_string({NameOID.SERIAL_NUMBER: "serialNumber"})


def certificate_facts(cert):
    """Public facts about a certificate (no key material)."""
    return {
        "subject": subject_string(cert.subject),
        "issuer": subject_string(cert.issuer),
        "serial": format(cert.serial_number, "x"),
        "sha256": _fingerprint(cert),
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


def _key_pem(key):
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def key_matches(key, cert):
    """True when the private key belongs to the certificate."""
    return _public_der(key.public_key()) == _public_der(cert.public_key())


def _issued_by(cert, issuer):
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _extension(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def _eku(cert):
    value = _extension(cert, x509.oid.ExtensionOID.EXTENDED_KEY_USAGE)
    return list(value) if value is not None else []


def _is_ca(cert):
    value = _extension(cert, x509.oid.ExtensionOID.BASIC_CONSTRAINTS)
    return bool(value is not None and value.ca)


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


def _pkcs12_modern(name, key, cert, cas, password):
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                  .kdf_rounds(PKCS12_KDF_ROUNDS)
                  .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                  .hmac_hash(hashes.SHA256())
                  .build(password.encode("utf-8")))
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, cas, encryption)


def _pkcs12_des3(name, key, cert, cas, password):
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                  .kdf_rounds(LEGACY_PKCS12_ITERATIONS)
                  .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                  .hmac_hash(hashes.SHA1())
                  .build(password.encode("utf-8")))
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, cas, encryption)


# ---------------------------------------------------------------------------
# Just enough DER and PKCS#12 (RFC 7292) to write what cryptography will
# not: RC2-40 encrypted certificates, and a key that does not match its
# certificate.
# ---------------------------------------------------------------------------

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_OID_PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
_OID_PBE_SHA1_RC2_40 = "1.2.840.113549.1.12.1.6"
_MAC_DIGESTS = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1"}


def _der(tag, content):
    length = len(content)
    if length < 0x80:
        header = bytes([tag, length])
    else:
        size = length.to_bytes((length.bit_length() + 7) // 8, "big")
        header = bytes([tag, 0x80 | len(size)]) + size
    return header + content


def _der_seq(*items):
    return _der(0x30, b"".join(items))


def _der_int(value):
    return _der(0x02, value.to_bytes(value.bit_length() // 8 + 1, "big", signed=True))


def _der_octets(value):
    return _der(0x04, value)


def _der_oid(dotted):
    parts = [int(part) for part in dotted.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _der(0x06, bytes(body))


def _der_read(data, pos=0):
    """Read one DER element at pos: return (tag, content, end)."""
    try:
        tag = data[pos]
        length = data[pos + 1]
        pos += 2
        if length & 0x80:
            count = length & 0x7F
            if count == 0 or count > 4:
                raise LabPKIError("unsupported DER length encoding")
            length = int.from_bytes(data[pos:pos + count], "big")
            pos += count
    except IndexError:
        raise LabPKIError("truncated DER data")
    end = pos + length
    if end > len(data):
        raise LabPKIError("truncated DER data")
    return tag, data[pos:end], end


def _der_children(content):
    """Split the content of a constructed element into (tag, content, raw) triples."""
    children = []
    pos = 0
    while pos < len(content):
        tag, value, end = _der_read(content, pos)
        children.append((tag, value, content[pos:end]))
        pos = end
    return children


def _pkcs12_kdf(password, salt, purpose, iterations, size, digest="sha1"):
    """The collection's PKCS#12 key derivation for a text password (BMPString with its terminating zero)."""
    return pkcs12_kdf(lambda data=b"": hashlib.new(digest, data), hashlib.new(digest).block_size,
                      password.encode("utf-16-be") + b"\x00\x00", salt, iterations, purpose, size)


# RC2 (RFC 2268), encryption only: cryptography has no 40-bit RC2.
_RC2_PITABLE = bytes.fromhex(
    "d978f9c419ddb5ed28e9fd794aa0d89dc67e37832b76538e624c6488448bfba2"
    "179a59f587b34f1361456d8d09817d32bd8f40eb86b77b0bf09521225c6b4e82"
    "54d66593ce60b21c7356c014a78cf1dc1275ca1f3bbee4d1423dd430a33cb626"
    "6fbf0eda4669075727f21d9bbc944303f811c7f690ef3ee706c3d52fc8661ed7"
    "08e8eade8052eef784aa72ac354d6a2a961ad2715a1549744b9fd05e0418a4ec"
    "c2e0416e0f51cbcc2491af50a1f47039997c3a8523b8b47afc02365b25559731"
    "2d5dfa98e38a92ae05df2910676cbac9d300e6cfe19ea82c6316013f58e289a9"
    "0d38341bab33ffb0bb480c5fb9b1cd2ec5f3db47e5a59c770aa62068fe7fc1ad")


def _rc2_expand(key, effective_bits):
    table = bytearray(128)
    table[:len(key)] = key
    for i in range(len(key), 128):
        table[i] = _RC2_PITABLE[(table[i - 1] + table[i - len(key)]) & 0xFF]
    t8 = (effective_bits + 7) // 8
    mask = 0xFF % (1 << (8 + effective_bits - 8 * t8))
    table[128 - t8] = _RC2_PITABLE[table[128 - t8] & mask]
    for i in range(127 - t8, -1, -1):
        table[i] = _RC2_PITABLE[table[i + 1] ^ table[i + t8]]
    return [table[2 * i] | (table[2 * i + 1] << 8) for i in range(64)]


def _rc2_encrypt_block(words, block):
    r = [block[0] | block[1] << 8, block[2] | block[3] << 8, block[4] | block[5] << 8, block[6] | block[7] << 8]
    j = 0
    for rounds in (5, 0, 6, 0, 5):
        if rounds == 0:  # mashing round
            for i in range(4):
                r[i] = (r[i] + words[r[i - 1] & 63]) & 0xFFFF
            continue
        for dummy in range(rounds):  # mixing rounds
            for i, shift in enumerate((1, 2, 3, 5)):
                value = (r[i] + words[j] + (r[i - 1] & r[i - 2]) + ((~r[i - 1]) & r[i - 3])) & 0xFFFF
                j += 1
                r[i] = ((value << shift) | (value >> (16 - shift))) & 0xFFFF
    return bytes(byte for word in r for byte in (word & 0xFF, word >> 8))


def _rc2_cbc_encrypt(key, effective_bits, iv, data):
    pad = 8 - len(data) % 8
    data = data + bytes([pad]) * pad
    words = _rc2_expand(key, effective_bits)
    previous = iv
    out = []
    for start in range(0, len(data), 8):
        previous = _rc2_encrypt_block(words, bytes(a ^ b for a, b in zip(data[start:start + 8], previous)))
        out.append(previous)
    return b"".join(out)


def _des3_pbe_decrypt(password, salt, iterations, data):
    key = _pkcs12_kdf(password, salt, 1, iterations, 24)
    iv = _pkcs12_kdf(password, salt, 2, iterations, 8)
    decryptor = Cipher(TripleDES(key), modes.CBC(iv)).decryptor()
    plain = decryptor.update(data) + decryptor.finalize()
    if not plain or not 1 <= plain[-1] <= 8:
        raise LabPKIError("PKCS#12 decryption failed (bad padding)")
    return plain[:-plain[-1]]


def _pfx_content_infos(pfx):
    """The ContentInfo elements (raw DER) of a password-integrity PFX."""
    tag, body, end = _der_read(pfx)
    if tag != 0x30 or end != len(pfx):
        raise LabPKIError("not a PKCS#12 PFX")
    auth_safe = _der_children(body)[1]
    content_type, explicit = [child[1] for child in _der_children(auth_safe[1])]
    if content_type != _der_oid(_OID_DATA)[2:]:
        raise LabPKIError("PKCS#12 PFX does not use password integrity")
    octets = _der_children(explicit)[0][1]
    safe = _der_children(octets)[0][1]
    return [child[2] for child in _der_children(safe)]


def _assemble_pfx(content_infos, password, mac_digest, iterations):
    """PFX with the given ContentInfos and an HMAC over them (password integrity)."""
    auth_safe = _der_seq(*content_infos)
    salt = secrets.token_bytes(8)
    mac_key = _pkcs12_kdf(password, salt, 3, iterations, hashlib.new(mac_digest).digest_size, mac_digest)
    mac = hmac.new(mac_key, auth_safe, mac_digest).digest()
    mac_data = _der_seq(_der_seq(_der_seq(_der_oid(_MAC_DIGESTS[mac_digest]), _der(0x05, b"")), _der_octets(mac)),
                        _der_octets(salt), _der_int(iterations))
    return _der_seq(_der_int(3), _der_seq(_der_oid(_OID_DATA), _der(0xA0, _der_octets(auth_safe))), mac_data)


def pkcs12_legacy_rc2(name, key, cert, cas, password):
    """PKCS#12 as old Windows exports it: RC2-40-CBC certificates, 3DES key, SHA-1 MAC.

    cryptography writes the 3DES file; its encrypted certificate bags are
    then re-encrypted with pbeWithSHAAnd40BitRC2-CBC and the MAC recomputed.
    """
    source = _pkcs12_des3(name, key, cert, cas, password)
    infos = []
    for raw in _pfx_content_infos(source):
        content_type, explicit = [child[1] for child in _der_children(_der_read(raw)[1])]
        if content_type == _der_oid(_OID_ENCRYPTED_DATA)[2:]:
            encrypted_data = _der_children(_der_children(explicit)[0][1])
            content_info = _der_children(encrypted_data[1][1])
            algorithm = _der_children(content_info[1][1])
            if algorithm[0][1] != _der_oid(_OID_PBE_SHA1_3DES)[2:]:
                raise LabPKIError("unexpected PKCS#12 certificate encryption")
            salt, rounds = [child[1] for child in _der_children(algorithm[1][1])]
            plain = _des3_pbe_decrypt(password, salt, int.from_bytes(rounds, "big"), content_info[2][1])
            new_salt = secrets.token_bytes(8)
            rc2_key = _pkcs12_kdf(password, new_salt, 1, LEGACY_PKCS12_ITERATIONS, 5)
            rc2_iv = _pkcs12_kdf(password, new_salt, 2, LEGACY_PKCS12_ITERATIONS, 8)
            encrypted = _rc2_cbc_encrypt(rc2_key, 40, rc2_iv, plain)
            raw = _der_seq(_der_oid(_OID_ENCRYPTED_DATA), _der(0xA0, _der_seq(
                _der_int(0),
                _der_seq(_der_oid(_OID_DATA),
                         _der_seq(_der_oid(_OID_PBE_SHA1_RC2_40),
                                  _der_seq(_der_octets(new_salt), _der_int(LEGACY_PKCS12_ITERATIONS))),
                         _der(0x80, encrypted)))))
        infos.append(raw)
    return _assemble_pfx(infos, password, "sha1", LEGACY_PKCS12_ITERATIONS)


def pkcs12_key_mismatch(name, key, cert, cas, password):
    """Modern PKCS#12 holding `key` and a certificate that belongs to another key."""
    if key_matches(key, cert):
        raise LabPKIError("pkcs12_key_mismatch needs a key that does not match the certificate")
    certificates = _pkcs12_modern(name, None, cert, cas, password)
    private_key = _pkcs12_modern(name, key, None, None, password)
    infos = _pfx_content_infos(certificates) + _pfx_content_infos(private_key)
    return _assemble_pfx(infos, password, "sha256", PKCS12_MAC_ITERATIONS)


def load_pkcs12_certificates(data, password):
    """Open a PKCS#12 file: (key, [every certificate in it]). Raises ValueError."""
    bundle = pkcs12.load_pkcs12(data, password.encode("utf-8"))
    certs = [bundle.cert.certificate] if bundle.cert is not None else []
    certs.extend(item.certificate for item in bundle.additional_certs)
    return bundle.key, certs


def pkcs12_mac_verifies(data, password):
    """True when the PKCS#12 MAC of `data` verifies with `password` (no decryption)."""
    try:
        tag, body, end = _der_read(data)
        if tag != 0x30 or end != len(data):
            return False
        parts = _der_children(body)
        explicit = _der_children(parts[1][1])[1][1]
        auth_safe = _der_children(explicit)[0][1]
        mac_data = _der_children(parts[2][1])
        digest_info = _der_children(mac_data[0][1])
        algorithm = _der_children(digest_info[0][1])[0][2]
        salt = mac_data[1][1]
        iterations = int.from_bytes(mac_data[2][1], "big") if len(mac_data) > 2 else 1
    except (LabPKIError, IndexError):
        return False
    names = [name for name, oid in _MAC_DIGESTS.items() if _der_oid(oid) == algorithm]
    if not names or not 1 <= iterations <= 100000:  # beyond: let the full check decide
        return False
    mac_key = _pkcs12_kdf(password, salt, 3, iterations, hashlib.new(names[0]).digest_size, names[0])
    return hmac.compare_digest(hmac.new(mac_key, auth_safe, names[0]).digest(), digest_info[1][1])


def _leaf(certs):
    leaves = [cert for cert in certs if not _is_ca(cert)]
    return leaves[0] if len(leaves) == 1 else None


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------

# What the manifest records about each site and case PKCS#12 file.
_PFX_FACTS = ("subject", "serial", "sha256", "not_before", "not_after", "issuer_sha256", "pfx_sha256")


def _pfx_facts(leaf, issuer, data):
    facts = certificate_facts(leaf)
    facts = {key: facts[key] for key in ("subject", "serial", "sha256", "not_before", "not_after")}
    facts["issuer_sha256"] = _fingerprint(issuer)
    facts["pfx_sha256"] = hashlib.sha256(data).hexdigest()
    return facts


class _Issued:
    """A CA or leaf that is either current (cert, key) or (re)created by this run."""

    def __init__(self, cert=None, key=None, renewed=False):
        self.cert = cert
        self.key = key
        self.renewed = renewed


class _Builder:
    def __init__(self, lab_dir, check_mode):
        try:
            lab_dir = os.fspath(lab_dir)
        except TypeError:
            lab_dir = None
        if not isinstance(lab_dir, str) or not lab_dir:
            raise LabPKIError("lab_dir must be a non-empty path")
        self.pki_dir = os.path.join(os.path.abspath(lab_dir), PKI_SUBDIR)
        self.check_mode = check_mode
        self.now = _utcnow()
        self.created = []
        self.updated = []
        self.changed = False
        self.previous = {}

    def load_previous_manifest(self):
        """Index the site and case entries of the existing manifest by PKCS#12 path."""
        data = self.read(MANIFEST_FILE)
        try:
            manifest = json.loads(data.decode("utf-8")) if data is not None else None
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
            return
        for section in ("sites", "cases"):
            entries = manifest.get(section)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("pfx"), str):
                    self.previous[entry["pfx"]] = entry

    # --- file system --------------------------------------------------------

    def path(self, relative):
        return os.path.join(self.pki_dir, relative)

    def read(self, relative):
        try:
            with open(self.path(relative), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LabPKIError("cannot read %s: %s" % (self.path(relative), exc))

    def ensure_dir(self, relative):
        path = self.path(relative) if relative else self.pki_dir
        if os.path.isdir(path):
            self.ensure_mode(path, MODE_DIR)
            return
        self.changed = True
        if self.check_mode:
            return
        try:
            os.makedirs(path, MODE_DIR)
            os.chmod(path, MODE_DIR)
        except OSError as exc:
            raise LabPKIError("cannot create directory %s: %s" % (path, exc))

    def ensure_mode(self, path, mode):
        try:
            current = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            return
        if current == mode:
            return
        self.changed = True
        if not self.check_mode:
            try:
                os.chmod(path, mode)
            except OSError as exc:
                raise LabPKIError("cannot set the mode of %s: %s" % (path, exc))

    def write(self, relative, data, mode, report=True):
        """Atomically write a file (unless in check mode) and record it."""
        self.changed = True
        if report:
            self.created.append(relative)
        if self.check_mode:
            return
        path = self.path(relative)
        directory = os.path.dirname(path)
        fd, temp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", dir=directory)
        try:
            os.fchmod(fd, mode)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp, path)
        except OSError as exc:
            if os.path.exists(temp):
                os.unlink(temp)
            raise LabPKIError("cannot write %s: %s" % (path, exc))
        except BaseException:
            if os.path.exists(temp):
                os.unlink(temp)
            raise

    def load_pair(self, cert_name, key_name):
        cert_data = self.read(cert_name)
        key_data = self.read(key_name)
        if cert_data is None or key_data is None:
            return None, None
        try:
            cert = x509.load_pem_x509_certificate(cert_data)
            key = serialization.load_pem_private_key(key_data, password=None)
        except (ValueError, TypeError):
            return None, None
        if not key_matches(key, cert):
            return None, None
        return cert, key

    def read_password(self, relative):
        data = self.read(relative)
        if data is None:
            return None
        try:
            password = data.decode("ascii")
        except UnicodeDecodeError:
            return None
        return password if _PASSWORD.fullmatch(password) else None

    def days_left(self, cert_or_not_after):
        not_after = cert_or_not_after
        if not isinstance(not_after, datetime.datetime):
            not_after = _not_after(cert_or_not_after)
        return (not_after - self.now).total_seconds() / 86400.0

    def certificate_file_facts(self, relative):
        data = self.read(relative)
        try:
            return certificate_facts(x509.load_pem_x509_certificate(data)) if data is not None else None
        except ValueError:
            return None

    # --- CAs and the WAF server certificate --------------------------------

    def ensure_ca(self, base, common_name, parent, force, validity_days, path_length):
        cert_name, key_name = base + ".pem", base + ".key"
        subject = _name(common_name)
        if not force:
            cert, key = self.load_pair(cert_name, key_name)
            if (cert is not None and cert.subject == subject and _is_ca(cert)
                    and self.days_left(cert) >= CA_MIN_DAYS
                    and _issued_by(cert, parent.cert if parent is not None else cert)):
                self.ensure_mode(self.path(cert_name), MODE_PUBLIC)
                self.ensure_mode(self.path(key_name), MODE_SECRET)
                return _Issued(cert, key)
        if self.check_mode:
            self.write(key_name, None, MODE_SECRET)
            self.write(cert_name, None, MODE_PUBLIC)
            return _Issued(renewed=True)
        key = _new_rsa_key()
        cert = _issue(subject, key.public_key(),
                      parent.cert if parent is not None else None,
                      parent.key if parent is not None else key,
                      self.now - datetime.timedelta(days=CA_BACKDATE_DAYS),
                      self.now + datetime.timedelta(days=validity_days),
                      "ca", path_length=path_length)
        self.write(key_name, _key_pem(key), MODE_SECRET)
        self.write(cert_name, _cert_pem(cert), MODE_PUBLIC)
        return _Issued(cert, key, True)

    def ensure_server(self, server_ca, hostnames, ips):
        cert_name, key_name = FILES["waf_server_cert"], FILES["waf_server_key"]
        subject = _name(hostnames[0])
        if not server_ca.renewed:
            cert, key = self.load_pair(cert_name, key_name)
            if cert is not None and cert.subject == subject and _issued_by(cert, server_ca.cert) \
                    and self.days_left(cert) >= RENEW_DAYS and _eku(cert) == [ExtendedKeyUsageOID.SERVER_AUTH]:
                san = _extension(cert, x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
                if san is not None and sorted(san.get_values_for_type(x509.DNSName)) == sorted(hostnames) \
                        and sorted(san.get_values_for_type(x509.IPAddress), key=str) == sorted(ips, key=str):
                    self.ensure_mode(self.path(cert_name), MODE_PUBLIC)
                    self.ensure_mode(self.path(key_name), MODE_SECRET)
                    return _Issued(cert, key)
        if self.check_mode:
            self.write(key_name, None, MODE_SECRET)
            self.write(cert_name, None, MODE_PUBLIC)
            return _Issued(renewed=True)
        key = _new_rsa_key()
        cert = _issue(subject, key.public_key(), server_ca.cert, server_ca.key,
                      self.now - datetime.timedelta(days=1), self.now + datetime.timedelta(days=VALIDITY_DAYS),
                      "server", dns_names=hostnames, ip_addresses=ips)
        self.write(key_name, _key_pem(key), MODE_SECRET)
        self.write(cert_name, _cert_pem(cert), MODE_PUBLIC)
        return _Issued(cert, key, True)

    def ensure_bundle(self, relative, issued):
        """A PEM file made of the given certificates, in order."""
        if any(item.cert is None for item in issued):
            self.write(relative, None, MODE_PUBLIC)
            return
        data = b"".join(_cert_pem(item.cert) for item in issued)
        if self.read(relative) != data:
            self.write(relative, data, MODE_PUBLIC)
        else:
            self.ensure_mode(self.path(relative), MODE_PUBLIC)

    # --- PKCS#12 files ------------------------------------------------------

    def ensure_password(self, relative):
        """The password stored in `relative`, created when missing or unusable."""
        password = self.read_password(relative)
        if password is not None:
            self.ensure_mode(self.path(relative), MODE_SECRET)
            return password
        password = new_password()
        self.write(relative, password.encode("ascii"), MODE_SECRET)
        return password

    def current_pfx(self, pfx_name, password, issuer, times_ok, contents_ok, subject=None):
        """Facts of <pfx_name> when it is still current, else None.

        Fast path: the file is byte for byte what the previous manifest records,
        from the same issuer, and its MAC verifies with the password, so the
        recorded facts hold (opening a PKCS#12 file validates its RSA key,
        which is slow). Otherwise the file is opened and checked in full.
        """
        data = self.read(pfx_name)
        if data is None or password is None or issuer is None:
            return None
        record = self.previous.get(pfx_name, {})
        if record.get("pfx_sha256") == hashlib.sha256(data).hexdigest() \
                and record.get("issuer_sha256") == _fingerprint(issuer) and pkcs12_mac_verifies(data, password):
            try:
                recorded = (_parse_iso(record["not_before"]), _parse_iso(record["not_after"]))
            except (KeyError, TypeError, ValueError):
                recorded = None
            if recorded is not None and (subject is None or record.get("subject") == subject_string(subject)):
                if not times_ok(*recorded):
                    return None
                return {key: record.get(key) for key in _PFX_FACTS}
        try:
            key, certs = load_pkcs12_certificates(data, password)
        except (ValueError, TypeError):
            return None
        leaf = _leaf(certs)
        if leaf is None or key is None or not _issued_by(leaf, issuer) \
                or (subject is not None and leaf.subject != subject) \
                or not times_ok(_not_before(leaf), _not_after(leaf)) or not contents_ok(key, certs, leaf):
            return None
        return _pfx_facts(leaf, issuer, data)

    def ensure_site(self, site, issuing, root):
        stem = "%s/%s-%s" % (SITES_DIR, site["institution_id"], site["site_id"])
        pfx_name, password_name = stem + ".p12", stem + ".password"
        subject = site_subject(site["institution_id"], site["site_id"])
        entry = {
            "institution_id": site["institution_id"],
            "site_id": site["site_id"],
            "pfx": pfx_name,
            "password_file": password_name,
        }
        facts = None
        if not issuing.renewed:
            expected_chain = sorted(_fingerprint(ca.cert) for ca in (issuing, root))

            def contents_ok(key, certs, leaf):
                return (key_matches(key, leaf) and ExtendedKeyUsageOID.CLIENT_AUTH in _eku(leaf)
                        and sorted(_fingerprint(cert) for cert in certs if cert is not leaf) == expected_chain)

            facts = self.current_pfx(pfx_name, self.read_password(password_name), issuing.cert,
                                     lambda not_before, not_after: self.days_left(not_after) >= RENEW_DAYS,
                                     contents_ok, subject)
        if facts is not None:
            self.ensure_mode(self.path(pfx_name), MODE_SECRET)
            self.ensure_mode(self.path(password_name), MODE_SECRET)
            entry.update(facts)
            return entry
        password = self.ensure_password(password_name)
        if self.check_mode:
            self.write(pfx_name, None, MODE_SECRET)
            entry.update(dict.fromkeys(_PFX_FACTS), subject=subject_string(subject))
            return entry
        key = _new_rsa_key()
        leaf = _issue(subject, key.public_key(), issuing.cert, issuing.key,
                      self.now - datetime.timedelta(days=1), self.now + datetime.timedelta(days=VALIDITY_DAYS - 1),
                      "client")
        name = "%s-%s" % (site["institution_id"], site["site_id"])
        data = _pkcs12_modern(name, key, leaf, [issuing.cert, root.cert], password)
        self.write(pfx_name, data, MODE_SECRET)
        entry.update(_pfx_facts(leaf, issuing.cert, data))
        return entry

    # --- the deliberately bad (and special) cases ---------------------------

    def case_rules(self, name):
        """(times_ok, contents_ok) that a current file of case `name` satisfies."""
        day = datetime.timedelta(days=1)

        def times_ok(not_before, not_after):
            if name == "expired":
                return not_after < self.now
            if name == "not-yet-valid":
                return not_before > self.now + day
            if name == "expiring-soon":
                return EXPIRING_SOON_MIN_DAYS <= self.days_left(not_after) <= EXPIRING_SOON_DAYS
            return self.days_left(not_after) >= RENEW_DAYS

        def contents_ok(key, certs, leaf):
            wanted = ExtendedKeyUsageOID.SERVER_AUTH if name == "no-client-auth" else ExtendedKeyUsageOID.CLIENT_AUTH
            if _eku(leaf) != [wanted]:
                return False
            if name == "key-mismatch":
                return not any(key_matches(key, cert) for cert in certs)
            return key_matches(key, leaf)

        return times_ok, contents_ok

    def current_truncated(self, pfx_name, password):
        data = self.read(pfx_name)
        if not data or password is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if self.previous.get(pfx_name, {}).get("pfx_sha256") != digest:
            try:
                load_pkcs12_certificates(data, password)
            except (ValueError, TypeError):
                pass  # unreadable, as it should be
            else:
                return None
        return {"pfx_sha256": digest}

    def ensure_cases(self, issuing, root):
        entries = []
        rogue_root = None
        rogue_pem = self.read(FILES["unknown_ca_root"])
        if rogue_pem is not None:
            try:
                rogue_root = x509.load_pem_x509_certificate(rogue_pem)
            except ValueError:
                rogue_root = None
        for name, expect, description in CASES:
            pfx_name = "%s/%s.p12" % (CASES_DIR, name)
            password_name = "%s/%s.password" % (CASES_DIR, name)
            entry = {"name": name, "pfx": pfx_name, "password_file": password_name, "expect": expect,
                     "description": description, "institution_id": CASE_INSTITUTION_ID, "site_id": CASE_SITE_ID}
            entries.append(entry)
            facts = None
            if not issuing.renewed:
                password = self.read_password(password_name)
                if name == "truncated":
                    facts = self.current_truncated(pfx_name, password)
                else:
                    issuer = rogue_root if name == "unknown-ca" else issuing.cert
                    facts = self.current_pfx(pfx_name, password, issuer, *self.case_rules(name))
            if facts is not None:
                entry.update(facts)
                self.ensure_mode(self.path(pfx_name), MODE_SECRET)
                self.ensure_mode(self.path(password_name), MODE_SECRET)
                if name == "unknown-ca":
                    self.ensure_mode(self.path(FILES["unknown_ca_root"]), MODE_PUBLIC)
                continue
            password = self.ensure_password(password_name)
            if self.check_mode:
                self.write(pfx_name, None, MODE_SECRET)
                if name == "unknown-ca":
                    self.write(FILES["unknown_ca_root"], None, MODE_PUBLIC)
                entry.update(dict.fromkeys(("pfx_sha256",) if name == "truncated" else _PFX_FACTS))
                continue
            data, leaf, issuer = self._make_case(name, password, issuing, root)
            self.write(pfx_name, data, MODE_SECRET)
            if name == "truncated":
                entry["pfx_sha256"] = hashlib.sha256(data).hexdigest()
            else:
                entry.update(_pfx_facts(leaf, issuer, data))
        return entries

    def _make_case(self, name, password, issuing, root):
        """(PKCS#12 data, leaf certificate, issuer certificate) of case `name`."""
        day = datetime.timedelta(days=1)
        subject = site_subject(CASE_INSTITUTION_ID, CASE_SITE_ID)
        friendly = "%s-%s-%s" % (CASE_INSTITUTION_ID, CASE_SITE_ID, name)
        key = ec.generate_private_key(ec.SECP256R1()) if name == "ec" else _new_rsa_key()
        chain = [issuing.cert, root.cert]
        not_before, not_after = self.now - day, self.now + (VALIDITY_DAYS - 1) * day
        issuer_cert, issuer_key, ekus = issuing.cert, issuing.key, None
        if name == "expired":
            not_before, not_after = self.now - (VALIDITY_DAYS + 30) * day, self.now - 30 * day
        elif name == "not-yet-valid":
            not_before, not_after = self.now + NOT_YET_VALID_DAYS * day, self.now + (NOT_YET_VALID_DAYS + VALIDITY_DAYS) * day
        elif name == "expiring-soon":
            not_before, not_after = self.now - (VALIDITY_DAYS - EXPIRING_SOON_DAYS) * day, self.now + EXPIRING_SOON_DAYS * day
        elif name == "no-client-auth":
            ekus = [ExtendedKeyUsageOID.SERVER_AUTH]
        elif name == "unknown-ca":
            issuer_key = _new_rsa_key()
            issuer_cert = _issue(_name(ROGUE_CA_NAME, (("C", "HU"), ("O", "Rogue Lab"))), issuer_key.public_key(),
                                 None, issuer_key, self.now - CA_BACKDATE_DAYS * day,
                                 self.now + 10 * VALIDITY_DAYS * day, "ca", path_length=0)
            chain = [issuer_cert]
            self.write(FILES["unknown_ca_root"], _cert_pem(issuer_cert), MODE_PUBLIC)
        cert = _issue(subject, key.public_key(), issuer_cert, issuer_key, not_before, not_after, "client", ekus=ekus)
        if name == "key-mismatch":
            data = pkcs12_key_mismatch(friendly, _new_rsa_key(), cert, chain, password)
        elif name == "legacy-rc2":
            data = pkcs12_legacy_rc2(friendly, key, cert, chain, password)
        elif name == "des3":
            data = _pkcs12_des3(friendly, key, cert, chain, password)
        else:
            data = _pkcs12_modern(friendly, key, cert, chain, password)
            if name == "truncated":
                data = data[:len(data) // 2]
        return data, cert, issuer_cert

    # --- manifest -------------------------------------------------------------

    def ensure_manifest(self, manifest):
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
        existing = self.read(MANIFEST_FILE)
        if existing == data:
            self.ensure_mode(self.path(MANIFEST_FILE), MODE_PUBLIC)
            return
        if existing is None:
            self.write(MANIFEST_FILE, data, MODE_PUBLIC)
        else:
            self.updated.append(MANIFEST_FILE)
            self.write(MANIFEST_FILE, data, MODE_PUBLIC, report=False)


def _ca_facts(issued):
    if issued.cert is None:
        return None
    return certificate_facts(issued.cert)


def build_lab_pki(lab_dir, sites, waf_hostnames=DEFAULT_WAF_HOSTNAMES, waf_ips=DEFAULT_WAF_IPS, check_mode=False,
                  institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN, site_id_pattern=DEFAULT_SITE_ID_PATTERN):
    """Create or update the lab PKI under <lab_dir>/pki.

    sites: list of dicts {"institution_id": "100001", "site_id": "100001001"}.
    Returns a dict: {"changed": bool, "created": [relative paths], "manifest": <manifest dict>,
    "updated": [relative paths], "pki_dir": <absolute path>}. In check mode nothing is
    written; "created" lists what would be written, and certificate facts of what
    would be created are None. Raises LabPKIError on bad input or an unusable directory.
    """
    if not HAS_CRYPTOGRAPHY:
        raise LabPKIError("the lab PKI needs the Python library cryptography: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    sites = validate_sites(sites, institution_id_pattern, site_id_pattern)
    hostnames, ips = _validate_waf_names(waf_hostnames, waf_ips)
    builder = _Builder(lab_dir, check_mode)
    if os.path.exists(builder.pki_dir) and not os.path.isdir(builder.pki_dir):
        raise LabPKIError("%s exists and is not a directory" % builder.pki_dir)

    builder.load_previous_manifest()
    for directory in ("", SITES_DIR, CASES_DIR):
        builder.ensure_dir(directory)
    root = builder.ensure_ca("client-root-ca", CLIENT_ROOT_CA_NAME, None, False, 10 * VALIDITY_DAYS, 1)
    issuing = builder.ensure_ca("client-issuing-ca", CLIENT_ISSUING_CA_NAME, root, root.renewed, 5 * VALIDITY_DAYS, 0)
    builder.ensure_bundle(FILES["client_ca_bundle"], [issuing, root])
    server_ca = builder.ensure_ca("server-ca", SERVER_CA_NAME, None, False, 10 * VALIDITY_DAYS, 0)
    waf = builder.ensure_server(server_ca, hostnames, ips)
    builder.ensure_bundle(FILES["waf_server_fullchain"], [waf, server_ca])
    builder.ensure_bundle(FILES["eeszt_ca_bundle"], [server_ca])
    site_entries = [builder.ensure_site(site, issuing, root) for site in sites]
    case_entries = builder.ensure_cases(issuing, root)

    manifest = {
        "schema": MANIFEST_SCHEMA,
        "files": dict(FILES),
        "certificates": {
            "client_root_ca": _ca_facts(root),
            "client_issuing_ca": _ca_facts(issuing),
            "server_ca": _ca_facts(server_ca),
            "waf_server": _ca_facts(waf),
            "unknown_ca_root": builder.certificate_file_facts(FILES["unknown_ca_root"]),
        },
        "waf_server": {
            "dns_names": hostnames,
            "ip_addresses": [str(ip) for ip in ips],
        },
        "sites": site_entries,
        "cases": case_entries,
    }
    builder.ensure_manifest(manifest)
    return {
        "changed": builder.changed,
        "created": builder.created,
        "updated": builder.updated,
        "manifest": manifest,
        "pki_dir": builder.pki_dir,
    }
