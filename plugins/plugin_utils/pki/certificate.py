# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.waf_certificate: open and validate a WAF-SSL PFX.

``load_pfx`` opens a PKCS#12 file (AES-256, 3DES or legacy RC2-40) and tells
a wrong password from a damaged file; ``validate`` checks the content before
anything is sent to a site; ``build_pkcs12`` re-encrypts the key and chain for
``client.p12`` and ``keystore.p12``. Every failure is an
``EesztCertificateError`` subclass with its own ``code`` and a message that
names the file (never the password) and says what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import hmac
import re
import warnings

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.kdf import pkcs12_kdf
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError

CRYPTOGRAPHY_IMPORT_ERROR = None
try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError as exc:  # pragma: no cover - exercised only without cryptography
    CRYPTOGRAPHY_IMPORT_ERROR = exc

try:
    from cryptography.hazmat.bindings._rust import openssl as _rust_openssl
    LEGACY_PROVIDER_LOADED = bool(getattr(_rust_openssl, "_legacy_provider_loaded", True))
except ImportError:  # pragma: no cover - older or absent cryptography
    LEGACY_PROVIDER_LOADED = True


# --- the exception hierarchy --------------------------------------------------

class PfxError(EesztCertificateError):
    code = "pfx_error"


class PfxNotFoundError(PfxError):
    code = "pfx_not_found"


class PfxCorruptError(PfxError):
    code = "pfx_corrupt"


class PfxNotPkcs12Error(PfxCorruptError):
    """A complete file of another kind (PEM text, a single certificate, a ZIP archive, base64 text)."""
    code = "pfx_not_pkcs12"


class PfxPasswordError(PfxError):
    code = "pfx_wrong_password"


class PfxPasswordMissingError(PfxPasswordError):
    """The file is protected by a password and none (or an empty one) was given."""
    code = "pfx_password_missing"


class PfxHasNoPasswordError(PfxPasswordError):
    """A password was given for a file exported without one."""
    code = "pfx_has_no_password"


class PfxLegacyUnsupportedError(PfxError):
    code = "pfx_legacy_unsupported"


class PfxUnsupportedAlgorithmError(PfxError):
    code = "pfx_unsupported_algorithm"


class KeyMissingError(PfxError):
    code = "key_missing"


class CertificateMissingError(PfxError):
    code = "certificate_missing"


class KeyMismatchError(PfxError):
    code = "key_mismatch"


class CertificateExpiredError(PfxError):
    code = "certificate_expired"


class CertificateNotYetValidError(PfxError):
    code = "certificate_not_yet_valid"


class CertificateExpiresSoonError(PfxError):
    code = "certificate_expires_soon"


class ClientAuthMissingError(PfxError):
    code = "client_auth_missing"


class ChainError(PfxError):
    code = "chain_incomplete"


class UntrustedIssuerError(ChainError):
    code = "issuer_untrusted"


class InstitutionMismatchError(PfxError):
    code = "institution_mismatch"


class CaFileError(EesztCertificateError):
    code = "ca_file_invalid"


# --- a minimal DER reader (structure checks and the PKCS#12 MAC) --------------

class _DerError(ValueError):
    pass


def _der_item(data, pos, end=None):
    """Read one DER TLV at ``pos``; return (tag, content_start, content_end)."""
    end = len(data) if end is None else end
    if pos + 2 > end:
        raise _DerError("truncated header at offset %d" % pos)
    tag = data[pos]
    length = data[pos + 1]
    pos += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or pos + count > end:
            raise _DerError("bad length at offset %d" % pos)
        length = int.from_bytes(data[pos:pos + count], "big")
        pos += count
    if pos + length > end:
        raise _DerError("structure declares %d bytes at offset %d, only %d present" % (length, pos, end - pos))
    return tag, pos, pos + length


def _der_children(data, start, end):
    items = []
    pos = start
    while pos < end:
        tag, cstart, cend = _der_item(data, pos, end)
        items.append((tag, cstart, cend))
        pos = cend
    return items


def _oid_text(raw):
    first = raw[0]
    parts = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    value = 0
    for byte in raw[1:]:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            parts.append(str(value))
            value = 0
    return ".".join(parts)


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
_LEGACY_OIDS = {
    "1.2.840.113549.1.12.1.1": "RC4-128",
    "1.2.840.113549.1.12.1.2": "RC4-40",
    "1.2.840.113549.1.12.1.5": "RC2-128",
    "1.2.840.113549.1.12.1.6": "RC2-40",
}
_ENCRYPTION_OIDS = dict(_LEGACY_OIDS)
_ENCRYPTION_OIDS.update({
    "1.2.840.113549.1.12.1.3": "3DES",
    "1.2.840.113549.1.12.1.4": "2DES",
    "1.2.840.113549.1.5.13": "PBES2",
})


def inspect_pfx(data):
    """Check the PFX outer structure; return the MAC parameters and algorithms.

    Raises ``_DerError`` when the file is not a complete DER PKCS#12 structure.
    """
    tag, start, end = _der_item(data, 0)
    if tag != 0x30:
        raise _DerError("does not start with a DER SEQUENCE")
    if end != len(data):
        raise _DerError("%d trailing bytes after the PKCS#12 structure" % (len(data) - end))
    children = _der_children(data, start, end)
    if len(children) < 2 or children[0][0] != 0x02 or children[1][0] != 0x30:
        raise _DerError("not a PKCS#12 PFX structure")
    # authSafe ContentInfo: SEQUENCE { OID, [0] EXPLICIT OCTET STRING }
    ci = _der_children(data, children[1][1], children[1][2])
    if len(ci) != 2 or ci[0][0] != 0x06 or ci[1][0] != 0xA0:
        raise _DerError("authSafe is not a ContentInfo")
    content_type = _oid_text(data[ci[0][1]:ci[0][2]])
    info = {"content_type": content_type, "mac": None, "algorithms": []}
    if content_type == "1.2.840.113549.1.7.1":
        octet = _der_children(data, ci[1][1], ci[1][2])
        if len(octet) != 1 or octet[0][0] not in (0x04, 0x24):
            raise _DerError("authSafe data is not an OCTET STRING")
        info["auth_safe"] = data[octet[0][1]:octet[0][2]]
        _der_children(info["auth_safe"], 0, len(info["auth_safe"]))
    if len(children) >= 3 and children[2][0] == 0x30:
        mac = _der_children(data, children[2][1], children[2][2])
        digest_info = _der_children(data, mac[0][1], mac[0][2])
        alg = _der_children(data, digest_info[0][1], digest_info[0][2])
        info["mac"] = {
            "oid": _oid_text(data[alg[0][1]:alg[0][2]]),
            "digest": data[digest_info[1][1]:digest_info[1][2]],
            "salt": data[mac[1][1]:mac[1][2]],
            "iterations": int.from_bytes(data[mac[2][1]:mac[2][2]], "big") if len(mac) > 2 else 1,
        }
    for oid, name in _ENCRYPTION_OIDS.items():
        encoded = _encode_oid(oid)
        if encoded in data and name not in info["algorithms"]:
            info["algorithms"].append(name)
    return info


def _encode_oid(oid):
    parts = [int(p) for p in oid.split(".")]
    body = bytearray([40 * parts[0] + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.insert(0, 0x80 | (part & 0x7F))
            part >>= 7
        body.extend(chunk)
    return bytes([0x06, len(body)]) + bytes(body)


def verify_mac(info, password):
    """True/False for a MAC check with ``password``; None when not checkable."""
    mac = info.get("mac")
    if not mac or "auth_safe" not in info or mac["oid"] not in _MAC_HASHES:
        return None
    if not 1 <= mac["iterations"] <= MAX_MAC_ITERATIONS:
        raise _DerError("MAC iteration count %d is outside 1..%d" % (mac["iterations"], MAX_MAC_ITERATIONS))
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
    alg = _der_children(data, start, end)
    oid = _oid_text(data[alg[0][1]:alg[0][2]])
    if oid != _PBES2 or len(alg) < 2:
        return [oid]
    kdf, cipher = _der_children(data, alg[1][1], alg[1][2])[:2]
    kdf_items = _der_children(data, kdf[1], kdf[2])
    found = [_oid_text(data[kdf_items[0][1]:kdf_items[0][2]])]
    if found[0] == _PBKDF2 and len(kdf_items) > 1:
        params = _der_children(data, kdf_items[1][1], kdf_items[1][2])
        prf = [p for p in params if p[0] == 0x30]  # absent: the default, HMAC-SHA1
        if prf:
            prf_oid = _der_children(data, prf[0][1], prf[0][2])[0]
            found.append(_oid_text(data[prf_oid[1]:prf_oid[2]]))
    cipher_items = _der_children(data, cipher[1], cipher[2])
    found.append(_oid_text(data[cipher_items[0][1]:cipher_items[0][2]]))
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
        outer = _der_children(auth_safe, 0, len(auth_safe))
        for content_info in _der_children(auth_safe, outer[0][1], outer[0][2]):
            ci = _der_children(auth_safe, content_info[1], content_info[2])
            content_type = _oid_text(auth_safe[ci[0][1]:ci[0][2]])
            if content_type == _PKCS7_ENCRYPTED_DATA:
                encrypted = _der_children(auth_safe, ci[1][1], ci[1][2])[0]
                info_items = _der_children(auth_safe, *_der_children(auth_safe, encrypted[1], encrypted[2])[1][1:])
                found.extend(_algorithm_oids(auth_safe, info_items[1][1], info_items[1][2]))
            elif content_type == _PKCS7_DATA:
                octet = _der_children(auth_safe, ci[1][1], ci[1][2])[0]
                bags = _der_children(auth_safe, octet[1], octet[2])[0]
                for bag in _der_children(auth_safe, bags[1], bags[2]):
                    items = _der_children(auth_safe, bag[1], bag[2])
                    if _oid_text(auth_safe[items[0][1]:items[0][2]]) == _SHROUDED_KEY_BAG:
                        epki = _der_children(auth_safe, items[1][1], items[1][2])[0]
                        alg = _der_children(auth_safe, epki[1], epki[2])[0]
                        found.extend(_algorithm_oids(auth_safe, alg[1], alg[2]))
    except (_DerError, IndexError, ValueError):
        return []
    unknown = []
    for oid in found:
        if oid not in known and oid not in unknown:
            unknown.append(oid)
    return unknown


# --- loading ------------------------------------------------------------------

class PfxContents:
    """What a PFX holds: key, leaf certificate, additional certificates."""

    def __init__(self, path, key, certificate, additional, algorithms):
        self.path = path
        self.key = key
        self.certificate = certificate
        self.additional = list(additional)
        self.algorithms = list(algorithms)


def require_cryptography():
    if CRYPTOGRAPHY_IMPORT_ERROR is not None:
        raise EesztCertificateError(
            "the Python library 'cryptography' is needed on the Ansible controller to open "
            "PKCS#12 files; install it into the controller's Python environment "
            "(pip install cryptography)")


def _password_text(password, shown, variable):
    """The PFX password as text that encodes to UTF-8; PfxPasswordError otherwise (never shown).

    None (the variable is not set) counts as the empty password: a file
    exported without a password opens with either.
    """
    if password is None:
        return ""
    if not isinstance(password, str):
        raise PfxPasswordError("the password for the PFX file %s must be text, got %s; quote "
                               "%s" % (shown, type(password).__name__, variable))
    try:
        password.encode("utf-8")
    except UnicodeEncodeError:
        raise PfxPasswordError("the password for the PFX file %s holds characters that are not valid "
                               "Unicode text (bytes of another encoding?); check %s" % (shown, variable))
    return password


def _not_pkcs12(data, shown, src_variable):
    """A PfxNotPkcs12Error when ``data`` is recognisably another kind of file, else None."""
    head = data.lstrip()
    if head.startswith(b"-----BEGIN"):
        return PfxNotPkcs12Error("the file %s is PEM text, not a PKCS#12 (PFX) file; point "
                                 "%s at the .pfx/.p12 file from EESZT" % (shown, src_variable))
    if data.startswith(b"PK\x03\x04"):
        return PfxNotPkcs12Error("the file %s is a ZIP archive, not a PKCS#12 (PFX) file; unpack it and "
                                 "point %s at the .pfx/.p12 file inside" % (shown, src_variable))
    if head.startswith(b"MII"):
        return PfxNotPkcs12Error("the file %s is base64 text, not a binary PKCS#12 (PFX) file; decode it "
                                 "once (base64 -d FILE > FILE.pfx) and point %s at the result"
                                 % (shown, src_variable))
    try:
        single = x509.load_der_x509_certificate(data)
    except (ValueError, x509.InvalidVersion):
        single = None
    if single is not None:
        return PfxNotPkcs12Error("the file %s is a single certificate (DER, like a .cer/.crt file), not a "
                                 "PKCS#12 (PFX) file: it holds no private key; point %s at the .pfx/.p12 "
                                 "file from EESZT, which holds the certificate with its private key"
                                 % (shown, src_variable))
    if data[:1] != b"\x30":
        return PfxNotPkcs12Error("the file %s is not a PKCS#12 (PFX) file (it does not begin with the DER "
                                 "structure every PFX file begins with); point %s at the .pfx/.p12 file "
                                 "from EESZT" % (shown, src_variable))
    return None


def _whitespace_hint(password):
    """What is odd about the ends of ``password`` (never the password itself), or None."""
    if password == password.strip():
        return None
    if password.rstrip(" \t").endswith(("\n", "\r")):
        return "ends with a line break"
    return "begins or ends with whitespace"


def load_pfx(path, password, data=None, display_path=None,
             src_variable="eeszt_certificate_pfx_src", password_variable="eeszt_certificate_pfx_password"):
    """Open a PKCS#12 file; raise a PfxError subclass that says what is wrong.

    ``password`` None or empty opens a file exported without a password.
    ``src_variable`` and ``password_variable`` are the variables the messages
    tell the user to check.
    """
    require_cryptography()
    shown = display_path or path
    if data is None:
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except (IOError, OSError) as exc:
            raise PfxNotFoundError("cannot read the PFX file %s: %s; check %s"
                                   % (shown, exc.strerror or exc, src_variable))
    if not data:
        raise PfxCorruptError("the PFX file %s is empty (0 bytes); download the certificate again or copy "
                              "the complete file" % shown)
    other = _not_pkcs12(data, shown, src_variable)
    if other is not None:
        raise other
    password = _password_text(password, shown, password_variable)
    try:
        info = inspect_pfx(data)
        mac_ok = verify_mac(info, password)
    except (_DerError, IndexError) as exc:
        raise PfxCorruptError("the PFX file %s is damaged or truncated (%s); download the "
                              "certificate again or copy the complete file" % (shown, exc))
    if mac_ok is False:
        _refuse_password(info, password, shown, src_variable, password_variable)
    legacy = [a for a in info["algorithms"] if a in _LEGACY_OIDS.values()]
    with warnings.catch_warnings():
        # Files such as OpenSSL's password-less exports encode a DEFAULT value;
        # cryptography reads them as BER and warns, which is no concern of the user.
        warnings.filterwarnings("ignore", message="PKCS#12 bundle could not be parsed as DER")
        try:
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password else None)
            error = None
        except (ValueError, UnsupportedAlgorithm) as exc:
            loaded, error = None, exc
        if error is not None and password and mac_ok is None and info["mac"] is None:
            # No integrity check: a file without any password opens without one.
            try:
                pkcs12.load_pkcs12(data, None)
            except (ValueError, UnsupportedAlgorithm):
                pass
            else:
                raise _has_no_password(shown, src_variable, password_variable)
    if error is not None:
        if legacy and not LEGACY_PROVIDER_LOADED:
            raise PfxLegacyUnsupportedError(
                "the PFX file %s uses legacy %s encryption, which this controller's OpenSSL "
                "cannot open because its legacy provider is not loaded; unset "
                "CRYPTOGRAPHY_OPENSSL_NO_LEGACY or use a cryptography build that ships the "
                "legacy provider, or convert the file once with 'openssl pkcs12 -legacy' and "
                "re-export it with AES-256" % (shown, "/".join(legacy)))
        unknown = unsupported_algorithms(info)
        if unknown:
            raise PfxUnsupportedAlgorithmError(
                "the PFX file %s is encrypted with an algorithm that the controller's cryptography "
                "library cannot decrypt (OID %s); export it again with AES-256-CBC (PBES2) or 3DES "
                "encryption" % (shown, ", ".join(unknown)))
        if mac_ok:
            raise PfxCorruptError("the PFX file %s has a valid password but its content cannot be "
                                  "decoded (%s); download the certificate again" % (shown, error))
        raise PfxPasswordError("the PFX file %s cannot be opened, and it has no integrity check (MAC) that "
                               "could tell a wrong password from damaged content; check %s%s and the file"
                               % (shown, password_variable, "" if password else " (it is empty)"))
    if password and info["mac"] is None and not info["algorithms"]:
        # Neither encrypted nor protected by a MAC: the password was not used at all.
        raise _has_no_password(shown, src_variable, password_variable)
    key = loaded.key
    cert = loaded.cert.certificate if loaded.cert is not None else None
    additional = [c.certificate for c in loaded.additional_certs]
    for index, item in enumerate([cert] + additional):
        if item is not None:
            _check_readable(item, shown, leaf=index == 0)
    return PfxContents(path, key, cert, additional, info["algorithms"])


def _has_no_password(shown, src_variable, variable):
    return PfxHasNoPasswordError(
        "the PFX file %s has no password (it was exported without one), but %s is set; set it to an "
        "empty string or leave it unset for this file, or, if a password was meant to protect it, "
        "point %s at the password-protected file" % (shown, variable, src_variable))


def _refuse_password(info, password, shown, src_variable, variable):
    """Raise the PfxPasswordError that says why the MAC check failed with ``password``."""
    if not password:
        raise PfxPasswordMissingError(
            "the PFX file %s is protected by a password, but %s is empty or not set; set it (from "
            "Ansible Vault) to the password EESZT sent by SMS" % (shown, variable))
    if verify_mac(info, ""):
        raise _has_no_password(shown, src_variable, variable)
    odd = _whitespace_hint(password)
    if odd:
        stripped = password.strip()
        fits = bool(stripped) and verify_mac(info, stripped)
        raise PfxPasswordError(
            "the password for the PFX file %s is wrong: the value of %s %s%s. A secret encrypted with "
            "'echo PASSWORD | ansible-vault encrypt_string' keeps echo's line break; encrypt it again "
            "without it: printf '%%s' 'PASSWORD' | ansible-vault encrypt_string --stdin-name "
            "vault_pfx_password_123456 (or echo -n), and paste the result into the inventory"
            % (shown, variable, odd, ", and without it the password is right" if fits else
               " (without it the password is still wrong: check it against the SMS from EESZT)"))
    raise PfxPasswordError("the password for the PFX file %s is wrong (the integrity check "
                           "failed); check %s (the password EESZT sent by SMS)" % (shown, variable))


def _check_readable(cert, shown, leaf):
    """Parse now what cryptography parses lazily, so that validate() meets no damaged field."""
    try:
        subject = cert.subject.rfc4514_string()
        cert.issuer.rfc4514_string()
        _utc(cert, "not_valid_before")
        _utc(cert, "not_valid_after")
        cert.extensions
        if leaf:
            _public_der(cert.public_key())
    except (ValueError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.UnsupportedGeneralNameType) as exc:
        raise PfxCorruptError("the PFX file %s holds a damaged certificate (%s: %s); download the "
                              "certificate again" % (shown, "the client certificate" if leaf else "a chain "
                                                     "certificate", exc))
    return subject


def load_ca_file(path, display_path=None):
    require_cryptography()
    shown = display_path or path
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise CaFileError("cannot read the CA file %s: %s" % (shown, exc.strerror or exc))
    try:
        certs = x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion):
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except (ValueError, x509.InvalidVersion):
            raise CaFileError("the CA file %s holds no PEM or DER certificate" % shown)
    return certs


# --- validation ---------------------------------------------------------------

def _utc(cert, attr):
    value = getattr(cert, attr + "_utc", None)
    if value is None:  # cryptography < 42
        value = getattr(cert, attr).replace(tzinfo=datetime.timezone.utc)
    return value


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256()).hex()


def certificate_facts(cert, now):
    not_after = _utc(cert, "not_valid_after")
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": "%X" % cert.serial_number,
        "not_before": _utc(cert, "not_valid_before").strftime("%Y-%m-%dT%H:%M:%SZ"),
        "not_after": not_after.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "days_left": int((not_after - now).total_seconds() // 86400),
        "sha256": fingerprint(cert),
    }


def _public_der(public_key):
    return public_key.public_bytes(serialization.Encoding.DER,
                                   serialization.PublicFormat.SubjectPublicKeyInfo)


def issued_by(cert, issuer):
    """True when issuer's subject names cert's issuer and its key signed cert."""
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def build_chain(leaf, pool, anchors, shown):
    """Order the issuers of ``leaf`` leaf->root from ``pool`` and ``anchors``."""
    candidates = list(pool) + [a for a in anchors if a not in pool]
    chain = []
    current = leaf
    for dummy in range(16):
        if current.issuer == current.subject and issued_by(current, current):
            break
        issuer = next((c for c in candidates if c not in chain and c != current and issued_by(current, c)), None)
        if issuer is None:
            if anchors:
                raise UntrustedIssuerError(
                    "the certificate in %s does not chain to a CA in the CA file (issuer not "
                    "found: %s); it was not issued by the expected CA: ask EESZT for the "
                    "right certificate or check eeszt_certificate_ca_file"
                    % (shown, current.issuer.rfc4514_string()))
            raise ChainError(
                "the chain in %s is incomplete: the issuer %s is neither in the PFX nor in a "
                "CA file; set eeszt_certificate_ca_file to the issuing CA bundle"
                % (shown, current.issuer.rfc4514_string()))
        chain.append(issuer)
        current = issuer
    if anchors:
        anchor_ders = set(a.public_bytes(serialization.Encoding.DER) for a in anchors)
        path = [leaf] + chain
        if not any(c.public_bytes(serialization.Encoding.DER) in anchor_ders for c in path[1:]):
            raise UntrustedIssuerError(
                "the certificate in %s chains to %s, which is not in the CA file; it was not "
                "issued by the expected CA: ask EESZT for the right certificate or check "
                "eeszt_certificate_ca_file" % (shown, path[-1].subject.rfc4514_string()))
    return chain


_NAME_ATTRIBUTES = {
    "commonName": "COMMON_NAME",
    "organizationName": "ORGANIZATION_NAME",
    "organizationalUnitName": "ORGANIZATIONAL_UNIT_NAME",
    "serialNumber": "SERIAL_NUMBER",
    "organizationIdentifier": "ORGANIZATION_IDENTIFIER",
}
MATCH_ATTRIBUTES = tuple(_NAME_ATTRIBUTES) + ("subjectAltName",)


def institution_values(cert, attributes):
    """The subject/SAN values that an institution ID is looked for in."""
    values = []
    for attr in attributes:
        if attr == "subjectAltName":
            try:
                san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            except x509.ExtensionNotFound:
                continue
            for name in san:
                if isinstance(name, x509.DirectoryName):
                    values.extend(str(a.value) for a in name.value)
                elif isinstance(name, x509.OtherName):
                    values.append(name.value.decode("latin-1", "replace"))
                else:
                    values.append(str(name.value))
        else:
            oid = getattr(NameOID, _NAME_ATTRIBUTES[attr])
            values.extend(str(a.value) for a in cert.subject.get_attributes_for_oid(oid))
    return values


def institution_matches(cert, institution_id, attributes, mode):
    pattern = re.compile(r"(?<![0-9A-Za-z])%s(?![0-9A-Za-z])" % re.escape(institution_id))
    for value in institution_values(cert, attributes):
        if mode == "exact" and value.strip() == institution_id:
            return True
        if mode == "contains" and pattern.search(value):
            return True
    return False


def _key_missing_message(contents, shown):
    """What a PFX without a private key holds, and how to export it with the key."""
    certs = ([contents.certificate] if contents.certificate is not None else []) + contents.additional
    export = ("export it again with the private key included (Windows certificate export: 'Yes, export "
              "the private key'; OpenSSL: openssl pkcs12 -export -inkey key.pem -in cert.pem -certfile "
              "chain.pem), or point eeszt_certificate_pfx_src at the PFX file EESZT issued")
    if not certs:
        return "the PFX file %s holds no private key and no certificate (it is empty inside); %s" % (shown, export)
    names = "; ".join(c.subject.rfc4514_string() for c in certs[:3]) + ("; ..." if len(certs) > 3 else "")
    if all(_is_ca(c) for c in certs):
        return ("the PFX file %s holds no private key, only %d CA certificate%s (%s): it is a trust store, "
                "not a client certificate; %s" % (shown, len(certs), "" if len(certs) == 1 else "s", names, export))
    return ("the PFX file %s holds no private key, only %d certificate%s (%s): the certificate was exported "
            "without its key; %s" % (shown, len(certs), "" if len(certs) == 1 else "s", names, export))


class ValidatedCertificate:
    """A validated key, leaf and ordered chain, with facts and warnings."""

    def __init__(self, key, certificate, chain, facts, warnings):
        self.key = key
        self.certificate = certificate
        self.chain = chain
        self.facts = facts
        self.warnings = warnings

    def pem(self, include_root=False):
        chain = [c for c in self.chain if include_root or c.issuer != c.subject]
        return {
            "certificate": self.certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"),
            "private_key": self.key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption()).decode("ascii"),
            "chain": [c.public_bytes(serialization.Encoding.PEM).decode("ascii") for c in chain],
        }

    def chain_for_export(self, include_root=False):
        return [c for c in self.chain if include_root or c.issuer != c.subject]


def _is_ca(cert):
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def validate(contents, min_days=14, warn_days=30, ca_certs=None, institution_id=None,
             match_attributes=MATCH_ATTRIBUTES, match_mode="contains", now=None,
             display_path=None, require_client_auth=True):
    """Validate what ``load_pfx`` returned; raise at the first problem."""
    shown = display_path or contents.path
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if contents.certificate is None and contents.key is not None:
        # Some readers leave the leaf among the additional certificates when
        # the key's localKeyId does not pair them: take the one the key fits.
        own = _public_der(contents.key.public_key())
        fitting = [c for c in contents.additional if _public_der(c.public_key()) == own]
        if fitting:
            contents.certificate = fitting[0]
            contents.additional = [c for c in contents.additional if c is not fitting[0]]
        elif any(not _is_ca(c) for c in contents.additional):
            raise KeyMismatchError("the private key in %s belongs to none of the %d certificates in "
                                   "the file; the file was assembled from the wrong parts: download "
                                   "the original PFX again" % (shown, len(contents.additional)))
    if contents.key is None:
        raise KeyMissingError(_key_missing_message(contents, shown))
    if contents.certificate is None:
        cas = len(contents.additional)
        raise CertificateMissingError(
            "the PFX file %s holds a private key but not its certificate%s; export it again with the "
            "client certificate included (Windows: export the certificate, not the key alone; OpenSSL: "
            "openssl pkcs12 -export -inkey key.pem -in cert.pem -certfile chain.pem)"
            % (shown, " (only %d CA certificate%s)" % (cas, "" if cas == 1 else "s") if cas else ""))
    cert = contents.certificate
    if _public_der(contents.key.public_key()) != _public_der(cert.public_key()):
        raise KeyMismatchError("the private key in %s does not belong to its certificate (%s); "
                               "the file was assembled from the wrong parts: download the "
                               "original PFX again" % (shown, cert.subject.rfc4514_string()))
    facts = certificate_facts(cert, now)
    if now < _utc(cert, "not_valid_before"):
        raise CertificateNotYetValidError(
            "the certificate in %s is not valid yet (valid from %s); check the controller's "
            "clock or wait until then" % (shown, facts["not_before"]))
    if now >= _utc(cert, "not_valid_after"):
        raise CertificateExpiredError(
            "the certificate in %s expired on %s; request a renewed WAF-SSL certificate from "
            "EESZT" % (shown, facts["not_after"]))
    warnings = []
    if facts["days_left"] < min_days:
        raise CertificateExpiresSoonError(
            "the certificate in %s expires on %s, in %d days, fewer than the required %d "
            "(eeszt_certificate_min_days); renew it with EESZT first"
            % (shown, facts["not_after"], facts["days_left"], min_days))
    if facts["days_left"] < warn_days:
        warnings.append("the certificate in %s expires on %s, in %d days (fewer than "
                        "eeszt_certificate_warn_days=%d); plan its renewal"
                        % (shown, facts["not_after"], facts["days_left"], warn_days))
    if require_client_auth:
        try:
            eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = None
        if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku \
                and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku:
            raise ClientAuthMissingError(
                "the certificate in %s is not allowed for TLS client authentication (its "
                "extended key usage lacks clientAuth); it is not a WAF-SSL client certificate: "
                "use the WAF-SSL certificate EESZT issued" % shown)
    chain = build_chain(cert, contents.additional, ca_certs or [], shown)
    if institution_id:
        if not institution_matches(cert, str(institution_id), match_attributes, match_mode):
            raise InstitutionMismatchError(
                "the certificate in %s does not carry institution ID %s (%s match on %s); "
                "it belongs to another institution: check eeszt_certificate_pfx_src"
                % (shown, institution_id, match_mode, ", ".join(match_attributes)))
    return ValidatedCertificate(contents.key, cert, chain, facts, warnings)


# --- re-export ----------------------------------------------------------------

EXPORT_LEVELS = ("modern", "compat")


def build_pkcs12(validated, password, level="modern", alias="eeszt-waf", include_root=True):
    """PKCS#12 bytes of key, leaf and chain, encrypted at ``level``.

    ``modern``: PBES2 (PBKDF2-SHA256, AES-256-CBC), SHA-256 MAC.
    ``compat``: PBE-SHA1-3DES for key and certificates, SHA-1 MAC; read by
    Java 8, older Windows and ``openssl pkcs12 -legacy``.
    The friendlyName ``alias`` marks the key entry, which makes the same
    file a Java PKCS#12 keystore with that alias.
    """
    require_cryptography()
    if level not in EXPORT_LEVELS:
        raise EesztCertificateError("unknown export encryption %r; use one of %s"
                                    % (level, ", ".join(EXPORT_LEVELS)))
    builder = serialization.PrivateFormat.PKCS12.encryption_builder()
    if level == "modern":
        builder = builder.kdf_rounds(100000).key_cert_algorithm(
            pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
    else:
        builder = builder.kdf_rounds(10000).key_cert_algorithm(
            pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC).hmac_hash(hashes.SHA1())
    encryption = builder.build(password.encode("utf-8"))
    return pkcs12.serialize_key_and_certificates(
        alias.encode("utf-8"), validated.key, validated.certificate,
        validated.chain_for_export(include_root) or None, encryption)
