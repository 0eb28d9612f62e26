# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The PKCS#12 structure of a PFX file, read before ``cryptography`` opens it.

``inspect_pfx`` checks the outer structure and finds the MAC parameters and the encryption algorithms;
``verify_mac`` tells a wrong password from a damaged file (the PKCS#12 KDF in ``kdf.py``);
``unsupported_algorithms`` names encryption that ``cryptography`` cannot decrypt. The DER is read with
the collection's one reader (``module_utils/common/der.py``); every structural problem is a ``DerError``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import hmac

from ansible_collections.eeszt.connect.plugins.module_utils.common.der import (
    DerError,
    children,
    encode_oid,
    oid_text,
    read,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.kdf import pkcs12_kdf

_MAC_HASHES = {
    "1.3.14.3.2.26": (hashlib.sha1, 64),
    "2.16.840.1.101.3.4.2.1": (hashlib.sha256, 64),
    "2.16.840.1.101.3.4.2.2": (hashlib.sha384, 128),
    "2.16.840.1.101.3.4.2.3": (hashlib.sha512, 128),
    "1.2.840.113549.2.5": (hashlib.md5, 64),
}
# The PKCS#12 KDF runs in Python here: a damaged or hostile MAC iteration
# count (up to 2**32 and more) would keep it busy for hours. Real files use
# 1 to a few hundred thousand (OpenSSL 2048, Windows 2000, Java 10000).
MAX_MAC_ITERATIONS = 1000000
LEGACY_OIDS = {
    "1.2.840.113549.1.12.1.1": "RC4-128",
    "1.2.840.113549.1.12.1.2": "RC4-40",
    "1.2.840.113549.1.12.1.5": "RC2-128",
    "1.2.840.113549.1.12.1.6": "RC2-40",
}
_ENCRYPTION_OIDS = dict(LEGACY_OIDS)
_ENCRYPTION_OIDS.update({
    "1.2.840.113549.1.12.1.3": "3DES",
    "1.2.840.113549.1.12.1.4": "2DES",
    "1.2.840.113549.1.5.13": "PBES2",
})


def inspect_pfx(data):
    """Check the PFX outer structure; return the MAC parameters and algorithms.

    Raises ``DerError`` when the file is not a complete DER PKCS#12 structure.
    """
    tag, start, end = read(data, 0)
    if tag != 0x30:
        raise DerError("does not start with a DER SEQUENCE")
    if end != len(data):
        raise DerError("%d trailing bytes after the PKCS#12 structure" % (len(data) - end))
    parts = children(data, start, end)
    if len(parts) < 2 or parts[0][0] != 0x02 or parts[1][0] != 0x30:
        raise DerError("not a PKCS#12 PFX structure")
    # authSafe ContentInfo: SEQUENCE { OID, [0] EXPLICIT OCTET STRING }
    ci = children(data, parts[1][1], parts[1][2])
    if len(ci) != 2 or ci[0][0] != 0x06 or ci[1][0] != 0xA0:
        raise DerError("authSafe is not a ContentInfo")
    content_type = oid_text(data[ci[0][1]:ci[0][2]])
    info = {"content_type": content_type, "mac": None, "algorithms": []}
    if content_type == "1.2.840.113549.1.7.1":
        octet = children(data, ci[1][1], ci[1][2])
        if len(octet) != 1 or octet[0][0] not in (0x04, 0x24):
            raise DerError("authSafe data is not an OCTET STRING")
        info["auth_safe"] = data[octet[0][1]:octet[0][2]]
        children(info["auth_safe"], 0, len(info["auth_safe"]))
    if len(parts) >= 3 and parts[2][0] == 0x30:
        mac = children(data, parts[2][1], parts[2][2])
        digest_info = children(data, mac[0][1], mac[0][2])
        alg = children(data, digest_info[0][1], digest_info[0][2])
        info["mac"] = {
            "oid": oid_text(data[alg[0][1]:alg[0][2]]),
            "digest": data[digest_info[1][1]:digest_info[1][2]],
            "salt": data[mac[1][1]:mac[1][2]],
            "iterations": int.from_bytes(data[mac[2][1]:mac[2][2]], "big") if len(mac) > 2 else 1,
        }
    for oid, name in _ENCRYPTION_OIDS.items():
        encoded = encode_oid(oid)
        if encoded in data and name not in info["algorithms"]:
            info["algorithms"].append(name)
    return info


def verify_mac(info, password):
    """True/False for a MAC check with ``password``; None when not checkable."""
    mac = info.get("mac")
    if not mac or "auth_safe" not in info or mac["oid"] not in _MAC_HASHES:
        return None
    if not 1 <= mac["iterations"] <= MAX_MAC_ITERATIONS:
        raise DerError("MAC iteration count %d is outside 1..%d" % (mac["iterations"], MAX_MAC_ITERATIONS))
    factory, block = _MAC_HASHES[mac["oid"]]
    bmp = password.encode("utf-16-be") + b"\x00\x00" if password else b""
    candidates = [bmp] if password else [b"", b"\x00\x00"]
    for candidate in candidates:
        key = pkcs12_kdf(factory, block, candidate, mac["salt"], mac["iterations"], 3,
                         factory().digest_size)
        if hmac.compare_digest(hmac.new(key, info["auth_safe"], factory).digest(), mac["digest"]):
            return True
    return False


# Encryption that cryptography (OpenSSL 3) decrypts in a PKCS#12 file: the
# PKCS#12 PBE schemes above, and PBES2 with PBKDF2, these ciphers and PRFs.
_PBES2 = "1.2.840.113549.1.5.13"
_PBKDF2 = "1.2.840.113549.1.5.12"
_PBES2_CIPHERS = {
    "2.16.840.1.101.3.4.1.2": "AES-128-CBC",
    "2.16.840.1.101.3.4.1.22": "AES-192-CBC",
    "2.16.840.1.101.3.4.1.42": "AES-256-CBC",
    "1.2.840.113549.3.7": "DES-EDE3-CBC",
}
_PBES2_PRFS = {
    "1.2.840.113549.2.7": "HMAC-SHA1",
    "1.2.840.113549.2.8": "HMAC-SHA224",
    "1.2.840.113549.2.9": "HMAC-SHA256",
    "1.2.840.113549.2.10": "HMAC-SHA384",
    "1.2.840.113549.2.11": "HMAC-SHA512",
}
_PKCS7_DATA = "1.2.840.113549.1.7.1"
_PKCS7_ENCRYPTED_DATA = "1.2.840.113549.1.7.6"
_SHROUDED_KEY_BAG = "1.2.840.113549.1.12.10.1.2"


def _algorithm_oids(data, start, end):
    """OIDs of an AlgorithmIdentifier; for PBES2 also its KDF, PRF and cipher."""
    alg = children(data, start, end)
    oid = oid_text(data[alg[0][1]:alg[0][2]])
    if oid != _PBES2 or len(alg) < 2:
        return [oid]
    kdf, cipher = children(data, alg[1][1], alg[1][2])[:2]
    kdf_items = children(data, kdf[1], kdf[2])
    found = [oid_text(data[kdf_items[0][1]:kdf_items[0][2]])]
    if found[0] == _PBKDF2 and len(kdf_items) > 1:
        params = children(data, kdf_items[1][1], kdf_items[1][2])
        prf = [p for p in params if p[0] == 0x30]  # absent: the default, HMAC-SHA1
        if prf:
            prf_oid = children(data, prf[0][1], prf[0][2])[0]
            found.append(oid_text(data[prf_oid[1]:prf_oid[2]]))
    cipher_items = children(data, cipher[1], cipher[2])
    found.append(oid_text(data[cipher_items[0][1]:cipher_items[0][2]]))
    return found


def unsupported_algorithms(info):
    """Encryption algorithm OIDs in the PFX that cryptography cannot decrypt (best effort).

    Looks at the encrypted certificate containers and the shrouded key bags
    of the authSafe; returns [] when nothing unknown is found or the
    structure cannot be followed.
    """
    auth_safe = info.get("auth_safe")
    if not auth_safe:
        return []
    known = set(_ENCRYPTION_OIDS) | set(_PBES2_CIPHERS) | set(_PBES2_PRFS) | set([_PBKDF2])
    found = []
    try:
        outer = children(auth_safe, 0, len(auth_safe))
        for content_info in children(auth_safe, outer[0][1], outer[0][2]):
            ci = children(auth_safe, content_info[1], content_info[2])
            content_type = oid_text(auth_safe[ci[0][1]:ci[0][2]])
            if content_type == _PKCS7_ENCRYPTED_DATA:
                encrypted = children(auth_safe, ci[1][1], ci[1][2])[0]
                info_items = children(auth_safe, *children(auth_safe, encrypted[1], encrypted[2])[1][1:])
                found.extend(_algorithm_oids(auth_safe, info_items[1][1], info_items[1][2]))
            elif content_type == _PKCS7_DATA:
                octet = children(auth_safe, ci[1][1], ci[1][2])[0]
                bags = children(auth_safe, octet[1], octet[2])[0]
                for bag in children(auth_safe, bags[1], bags[2]):
                    items = children(auth_safe, bag[1], bag[2])
                    if oid_text(auth_safe[items[0][1]:items[0][2]]) == _SHROUDED_KEY_BAG:
                        epki = children(auth_safe, items[1][1], items[1][2])[0]
                        alg = children(auth_safe, epki[1], epki[2])[0]
                        found.extend(_algorithm_oids(auth_safe, alg[1], alg[2]))
    except (DerError, IndexError, ValueError):
        return []
    unknown = []
    for oid in found:
        if oid not in known and oid not in unknown:
            unknown.append(oid)
    return unknown
