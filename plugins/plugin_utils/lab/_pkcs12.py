# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab issuer's PKCS#12 files: modern and 3DES ones through ``cryptography``, and (RFC 7292, with the
collection's one DER reader and writer, ``module_utils/common/der.py``, and its PKCS#12 KDF,
``plugin_utils/pki/kdf.py``) what ``cryptography`` will not write: RC2-40 encrypted certificates, and a key
that does not match its certificate. Part of the lab PKI (``pki.py``); needs ``cryptography``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac
import secrets

from ansible_collections.eeszt.connect.plugins.module_utils.common import der
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._certs import LabPKIError, key_matches
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.kdf import pkcs12_kdf

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.ciphers import Cipher, modes
    from cryptography.hazmat.primitives.serialization import pkcs12
    try:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
    except ImportError:  # cryptography < 43
        from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
except ImportError:
    pass  # _certs.HAS_CRYPTOGRAPHY tells; nothing here is called without it

PKCS12_KDF_ROUNDS = 20000       # PBKDF2 rounds of the modern PKCS#12 files
PKCS12_MAC_ITERATIONS = 2048    # as cryptography and OpenSSL use for the MAC
LEGACY_PKCS12_ITERATIONS = 2048

_OID_DATA = "1.2.840.113549.1.7.1"
_OID_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_OID_PBE_SHA1_3DES = "1.2.840.113549.1.12.1.3"
_OID_PBE_SHA1_RC2_40 = "1.2.840.113549.1.12.1.6"
_MAC_DIGESTS = {"sha1": "1.3.14.3.2.26", "sha256": "2.16.840.1.101.3.4.2.1"}
_EXPLICIT_0 = 0xA0
_IMPLICIT_0 = 0x80


def _parts(data):
    """The elements inside ``data`` (the content of a constructed element), as (tag, content, raw) bytes."""
    parts, pos = [], 0
    for tag, start, end in der.children(data):
        parts.append((tag, data[start:end], data[pos:end]))
        pos = end
    return parts


def _content(data):
    """The content of the one SEQUENCE that ``data`` is."""
    tag, start, end = der.read(data)
    if tag != der.SEQUENCE or end != len(data):
        raise der.DerError("not one DER SEQUENCE")
    return data[start:end]


def _serialize(name, key, cert, cas, password, rounds, algorithm, mac_hash):
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(rounds)
                  .key_cert_algorithm(algorithm).hmac_hash(mac_hash).build(password.encode("utf-8")))
    return pkcs12.serialize_key_and_certificates(name.encode("utf-8"), key, cert, cas, encryption)


def _pkcs12_modern(name, key, cert, cas, password):
    """AES-256-CBC with PBKDF2, SHA-256 MAC."""
    return _serialize(name, key, cert, cas, password, PKCS12_KDF_ROUNDS, pkcs12.PBES.PBESv2SHA256AndAES256CBC,
                      hashes.SHA256())


def _pkcs12_des3(name, key, cert, cas, password):
    """PBE-SHA1-3DES throughout, SHA-1 MAC."""
    return _serialize(name, key, cert, cas, password, LEGACY_PKCS12_ITERATIONS,
                      pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC, hashes.SHA1())


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
    try:
        auth_safe = _parts(_content(pfx))[1]
        content_type, explicit = [child[1] for child in _parts(auth_safe[1])]
        integrity = der.oid_text(content_type)
        octets = _parts(explicit)[0][1]
        safe = _parts(octets)[0][1]
        infos = [child[2] for child in _parts(safe)]
    except (IndexError, ValueError) as exc:  # der.DerError is a ValueError
        raise LabPKIError("not a PKCS#12 PFX: %s" % exc)
    if integrity != _OID_DATA:
        raise LabPKIError("PKCS#12 PFX does not use password integrity")
    return infos


def _assemble_pfx(content_infos, password, mac_digest, iterations):
    """PFX with the given ContentInfos and an HMAC over them (password integrity)."""
    auth_safe = der.sequence(*content_infos)
    salt = secrets.token_bytes(8)
    mac_key = _pkcs12_kdf(password, salt, 3, iterations, hashlib.new(mac_digest).digest_size, mac_digest)
    mac = hmac.new(mac_key, auth_safe, mac_digest).digest()
    algorithm = der.sequence(der.encode_oid(_MAC_DIGESTS[mac_digest]), der.encode(der.NULL, b""))
    mac_data = der.sequence(der.sequence(algorithm, der.encode_octets(mac)),
                            der.encode_octets(salt), der.encode_integer(iterations))
    content_info = der.sequence(der.encode_oid(_OID_DATA), der.encode(_EXPLICIT_0, der.encode_octets(auth_safe)))
    return der.sequence(der.encode_integer(3), content_info, mac_data)


def _rc2_content_info(password, plain):
    """An EncryptedData ContentInfo of ``plain`` with pbeWithSHAAnd40BitRC2-CBC."""
    salt = secrets.token_bytes(8)
    rc2_key = _pkcs12_kdf(password, salt, 1, LEGACY_PKCS12_ITERATIONS, 5)
    rc2_iv = _pkcs12_kdf(password, salt, 2, LEGACY_PKCS12_ITERATIONS, 8)
    algorithm = der.sequence(der.encode_oid(_OID_PBE_SHA1_RC2_40),
                             der.sequence(der.encode_octets(salt), der.encode_integer(LEGACY_PKCS12_ITERATIONS)))
    encrypted = der.sequence(der.encode_oid(_OID_DATA), algorithm,
                             der.encode(_IMPLICIT_0, _rc2_cbc_encrypt(rc2_key, 40, rc2_iv, plain)))
    return der.sequence(der.encode_oid(_OID_ENCRYPTED_DATA),
                        der.encode(_EXPLICIT_0, der.sequence(der.encode_integer(0), encrypted)))


def pkcs12_legacy_rc2(name, key, cert, cas, password):
    """PKCS#12 as old Windows exports it: RC2-40-CBC certificates, 3DES key, SHA-1 MAC.

    cryptography writes the 3DES file; its encrypted certificate bags are
    then re-encrypted with pbeWithSHAAnd40BitRC2-CBC and the MAC recomputed.
    """
    source = _pkcs12_des3(name, key, cert, cas, password)
    infos = []
    for raw in _pfx_content_infos(source):
        content_type, explicit = [child[1] for child in _parts(_content(raw))]
        if der.oid_text(content_type) == _OID_ENCRYPTED_DATA:
            encrypted_data = _parts(_parts(explicit)[0][1])
            content_info = _parts(encrypted_data[1][1])
            algorithm = _parts(content_info[1][1])
            if der.oid_text(algorithm[0][1]) != _OID_PBE_SHA1_3DES:
                raise LabPKIError("unexpected PKCS#12 certificate encryption")
            salt, rounds = [child[1] for child in _parts(algorithm[1][1])]
            plain = _des3_pbe_decrypt(password, salt, der.integer(rounds), content_info[2][1])
            raw = _rc2_content_info(password, plain)
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
        parts = _parts(_content(data))
        explicit = _parts(parts[1][1])[1][1]
        auth_safe = _parts(explicit)[0][1]
        mac_data = _parts(parts[2][1])
        digest_info = _parts(mac_data[0][1])
        algorithm = der.oid_text(_parts(digest_info[0][1])[0][1])
        salt = mac_data[1][1]
        iterations = der.integer(mac_data[2][1]) if len(mac_data) > 2 else 1
    except (der.DerError, IndexError):
        return False
    names = [name for name, oid in _MAC_DIGESTS.items() if oid == algorithm]
    if not names or not 1 <= iterations <= 100000:  # beyond: let the full check decide
        return False
    mac_key = _pkcs12_kdf(password, salt, 3, iterations, hashlib.new(names[0]).digest_size, names[0])
    return hmac.compare_digest(hmac.new(mac_key, auth_safe, names[0]).digest(), digest_info[1][1])
