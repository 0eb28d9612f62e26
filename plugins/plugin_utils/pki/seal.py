# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seals of archived proofs: detached CMS (PKCS#7) signatures, DER encoded.

``sign_detached`` makes the seal with ``cryptography``'s PKCS7SignatureBuilder
(SHA-256, detached, binary, signer certificate and chain included), which
``openssl cms -verify -binary -purpose any -inform DER -content PROOF -in
PROOF.p7s -CAfile CA.pem`` accepts.

``verify_detached`` checks a seal without the OpenSSL command line
(``cryptography`` has no CMS verification): it reads the SignedData with the
collection's one DER reader (``module_utils/common/der.py``), checks that the signed ``messageDigest`` attribute equals
the digest of the proof's bytes, that ``contentType`` is ``id-data``, verifies
the signer's RSA or ECDSA signature over the DER ``SET OF`` signed
attributes, and, given CA certificates, that the signer certificate chains to
one of them (signatures only: a seal stays valid after the certificate that
made it expires, as an archive must be checkable for years).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

from ansible_collections.eeszt.connect.plugins.module_utils.common.der import elements, oid_text, read
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import SealError, SealInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import (  # noqa: F401 pylint: disable=unused-import
    CRYPTOGRAPHY_IMPORT_ERROR,
    certificate_facts,
    issued_by,
    name_text,
    public_der,
    require_cryptography,
)

try:
    from cryptography import x509
    from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from cryptography.hazmat.primitives.serialization import pkcs7
    # What cryptography raises for a damaged certificate, at load or when a
    # field is read later (InvalidVersion and DuplicateExtension are not ValueErrors).
    _DAMAGED = (IndexError, ValueError, TypeError, x509.InvalidVersion, x509.DuplicateExtension, UnsupportedAlgorithm)
except ImportError:  # pragma: no cover - reported by require_cryptography(SealError, _PURPOSE)
    _DAMAGED = (IndexError, ValueError, TypeError)

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_DATA = "1.2.840.113549.1.7.1"
OID_CONTENT_TYPE = "1.2.840.113549.1.9.3"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
_DIGESTS = {
    "1.3.14.3.2.26": "SHA1",
    "2.16.840.1.101.3.4.2.1": "SHA256",
    "2.16.840.1.101.3.4.2.2": "SHA384",
    "2.16.840.1.101.3.4.2.3": "SHA512",
}


class SealMalformedError(SealInvalidError):
    kind = "seal_malformed"


class SealDigestMismatchError(SealInvalidError):
    kind = "digest_mismatch"


class SealSignatureError(SealInvalidError):
    kind = "bad_signature"


class SealUntrustedError(SealInvalidError):
    kind = "untrusted_signer"


_PURPOSE = "seal and verify proofs"


class CaFileError(SealError):
    """The CA file the seals' signers must chain to cannot be used (``code``: ca_file_unreadable, ca_file_invalid)."""

    def __init__(self, message, code):
        super(CaFileError, self).__init__(message)
        self.code = code


def read_anchors(path):
    """The CA certificates of the PEM file ``path`` (eeszt_proofs_ca_file); CaFileError naming it."""
    require_cryptography(SealError, _PURPOSE)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        raise CaFileError("cannot read the CA file %s: %s" % (path, exc.strerror or exc), "ca_file_unreadable")
    try:
        return x509.load_pem_x509_certificates(data)
    except _DAMAGED:
        raise CaFileError("the CA file %s holds no PEM certificate" % path, "ca_file_invalid")


# --- signing ------------------------------------------------------------------

class Signer:
    """A private key, its certificate and the certificates that chain it to a CA.

    ``vendor``: the vendor's own sealing key (``eeszt_proofs_signing_key``), which may seal the files of
    several institutions; otherwise an institution's certificate (its PFX), which seals that institution's
    files only (the archive's signer register, ``proofs/signers.py``).
    """

    def __init__(self, key, certificate, chain=(), vendor=False):
        require_cryptography(SealError, _PURPOSE)
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey)):
            raise SealError("the signing key must be an RSA or EC key")
        if certificate is None:
            raise SealError("no signing certificate")
        if public_der(key.public_key()) != public_der(certificate.public_key()):
            raise SealError("the signing key does not belong to the signing certificate %s"
                            % certificate.subject.rfc4514_string())
        self.key = key
        self.certificate = certificate
        self.vendor = bool(vendor)
        leaf = certificate.public_bytes(serialization.Encoding.DER)
        self.chain = [c for c in chain if c.public_bytes(serialization.Encoding.DER) != leaf]

    @property
    def subject(self):
        return name_text(self.certificate.subject)


def load_pem_signer(key_data, cert_data, password=None, chain_data=None, shown="the signing key", vendor=False):
    """A Signer from PEM data: the key, a certificate file (leaf first, chain may follow) and an optional chain."""
    require_cryptography(SealError, _PURPOSE)
    try:
        key = serialization.load_pem_private_key(key_data, password.encode("utf-8") if password else None)
    except TypeError:
        raise SealError("%s is encrypted: set its password (eeszt_proofs_signing_key_password)" % shown)
    except (ValueError, UnsupportedAlgorithm):
        raise SealError("%s cannot be read: not a PEM private key, or the password is wrong" % shown)
    try:
        certs = x509.load_pem_x509_certificates(cert_data)
        if chain_data:
            certs += x509.load_pem_x509_certificates(chain_data)
    except _DAMAGED:
        raise SealError("the signing certificate file holds no PEM certificate")
    mine = public_der(key.public_key())
    leaf = next((c for c in certs if public_der(c.public_key()) == mine), None)
    if leaf is None:
        raise SealError("none of the signing certificates belongs to %s" % shown)
    return Signer(key, leaf, certs, vendor=vendor)


def sign_detached(data, signer):
    """The DER detached CMS signature of ``data`` (SHA-256, signer certificate and chain included)."""
    require_cryptography(SealError, _PURPOSE)
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(signer.certificate, signer.key, hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    try:
        return builder.sign(serialization.Encoding.DER, [pkcs7.PKCS7Options.DetachedSignature,
                                                         pkcs7.PKCS7Options.Binary])
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise SealError("cannot sign with %s: %s" % (signer.subject, exc))


# --- reading the SignedData (DerError is a ValueError: verify_detached reports it as SealMalformedError) --

def _expect(item, tag, what):
    if item[0] != tag:
        raise SealMalformedError("%s: expected DER tag 0x%02x, found 0x%02x" % (what, tag, item[0]))
    return item


def _oid(data, item):
    return oid_text(data[item[2]:item[3]])


def _signed_data(seal):
    """SignedData parts: (certificates, signer infos) as raw DER slices."""
    seal = bytes(seal)
    tag, start, end = read(seal, 0, len(seal))
    top = _expect((tag, 0, start, end), 0x30, "ContentInfo")
    if top[3] != len(seal):
        raise SealMalformedError("trailing bytes after the ContentInfo")
    parts = elements(seal, top[2], top[3])
    if len(parts) != 2 or _oid(seal, _expect(parts[0], 0x06, "contentType")) != OID_SIGNED_DATA:
        raise SealMalformedError("not a CMS SignedData")
    wrapper = _expect(parts[1], 0xA0, "content")
    signed = elements(seal, wrapper[2], wrapper[3])
    signed = elements(seal, _expect(signed[0], 0x30, "SignedData")[2], signed[0][3])
    if len(signed) < 4:
        raise SealMalformedError("SignedData is incomplete")
    encap = elements(seal, _expect(signed[2], 0x30, "encapContentInfo")[2], signed[2][3])
    if _oid(seal, encap[0]) != OID_DATA:
        raise SealMalformedError("the sealed content is not id-data")
    if len(encap) > 1:
        raise SealMalformedError("the seal embeds its content: a detached seal is expected")
    certificates = []
    for part in signed[3:-1]:
        if part[0] == 0xA0:
            certificates = [seal[c[1]:c[3]] for c in elements(seal, part[2], part[3])]
    infos = _expect(signed[-1], 0x31, "signerInfos")
    return seal, certificates, elements(seal, infos[2], infos[3])


def _attributes(seal, item):
    found = {}
    for attr in elements(seal, item[2], item[3]):
        pieces = elements(seal, _expect(attr, 0x30, "Attribute")[2], attr[3])
        values = elements(seal, _expect(pieces[1], 0x31, "attrValues")[2], pieces[1][3])
        found[_oid(seal, pieces[0])] = values
    return found


def _signing_time(seal, values):
    if not values:
        return None
    tag, dummy, start, end = values[0]
    text = seal[start:end].decode("ascii", "replace")
    try:
        if tag == 0x17:  # UTCTime YYMMDDHHMMSSZ
            moment = datetime.datetime.strptime(text, "%y%m%d%H%M%SZ")
        else:  # GeneralizedTime
            moment = datetime.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    except ValueError:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _verify_signature(public_key, signature, payload, hash_name):
    algorithm = getattr(hashes, hash_name)()
    if isinstance(public_key, rsa.RSAPublicKey):
        try:
            public_key.verify(signature, payload, padding.PKCS1v15(), algorithm)
            return
        except InvalidSignature:
            public_key.verify(signature, payload, padding.PSS(padding.MGF1(algorithm), padding.PSS.AUTO), algorithm)
            return
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, payload, ec.ECDSA(algorithm))
        return
    raise SealSignatureError("the signer's key type is not supported (RSA and EC only)")


def _check_trust(leaf, pool, anchors):
    anchor_der = set(a.public_bytes(serialization.Encoding.DER) for a in anchors)
    candidates = list(pool) + list(anchors)
    current = leaf
    for dummy in range(16):
        if current.public_bytes(serialization.Encoding.DER) in anchor_der:
            return
        issuer = next((c for c in anchors if issued_by(current, c)), None)
        if issuer is not None:
            return
        issuer = next((c for c in candidates if c is not current and issued_by(current, c)), None)
        if issuer is None or issuer.issuer == issuer.subject:
            break
        current = issuer
    raise SealUntrustedError("the signer %s does not chain to a trusted CA" % leaf.subject.rfc4514_string())


def verify_detached(data, seal, anchors=None):
    """Check the detached seal of ``data``; return facts about the signer.

    Raises a SealInvalidError subclass: SealMalformedError (not a seal),
    SealDigestMismatchError (the sealed bytes differ: the proof was altered),
    SealSignatureError (the signature over the attributes is wrong: the seal
    was altered), SealUntrustedError (signer outside ``anchors``). The facts: the
    signer's ``subject``, ``issuer``, ``serial``, ``sha256`` (fingerprint),
    ``not_after``, ``signing_time``, ``digest_algorithm`` and ``certificate`` (the
    x509 object, for the signer register's rules; not for a result).
    """
    require_cryptography(SealError, _PURPOSE)
    try:
        seal, cert_ders, infos = _signed_data(seal)
    except (IndexError, ValueError) as exc:
        if isinstance(exc, SealInvalidError):
            raise
        raise SealMalformedError("damaged seal (%s)" % exc)
    if not infos:
        raise SealMalformedError("the seal has no signer")
    try:
        certs = [x509.load_der_x509_certificate(der) for der in cert_ders]
    except _DAMAGED as exc:
        raise SealMalformedError("a certificate in the seal cannot be read (%s)" % exc)
    facts = None
    for info in infos:
        try:
            facts = _verify_signer(seal, info, certs, data, anchors)
        except _DAMAGED as exc:
            if isinstance(exc, SealInvalidError):
                raise
            raise SealMalformedError("damaged signer information or certificate (%s)" % exc)
    return facts


def _verify_signer(seal, info, certs, data, anchors):
    fields = elements(seal, _expect(info, 0x30, "SignerInfo")[2], info[3])
    sid = fields[1]
    if sid[0] != 0x30:
        raise SealMalformedError("signer identified by key identifier: only issuer and serial are supported")
    sid_parts = elements(seal, sid[2], sid[3])
    issuer_der = seal[sid_parts[0][1]:sid_parts[0][3]]
    serial = int.from_bytes(seal[sid_parts[1][2]:sid_parts[1][3]], "big", signed=True)
    digest_oid = _oid(seal, elements(seal, fields[2][2], fields[2][3])[0])
    hash_name = _DIGESTS.get(digest_oid)
    if hash_name is None:
        raise SealMalformedError("unsupported digest algorithm %s" % digest_oid)
    signed_attrs = fields[3]
    if signed_attrs[0] != 0xA0:
        raise SealMalformedError("the seal has no signed attributes")
    signature = _expect(fields[5], 0x04, "signature")
    attributes = _attributes(seal, signed_attrs)
    if OID_CONTENT_TYPE not in attributes or _oid(seal, attributes[OID_CONTENT_TYPE][0]) != OID_DATA:
        raise SealMalformedError("the signed contentType attribute is missing or not id-data")
    if OID_MESSAGE_DIGEST not in attributes:
        raise SealMalformedError("the signed messageDigest attribute is missing")
    signer = next((c for c in certs if c.serial_number == serial
                   and c.issuer.public_bytes(serialization.Encoding.DER) == issuer_der), None)
    if signer is None:
        raise SealMalformedError("the signer certificate is not in the seal")
    # The signature covers the signed attributes encoded as a SET (tag 0x31), not as [0].
    payload = b"\x31" + seal[signed_attrs[1] + 1:signed_attrs[3]]
    try:
        _verify_signature(signer.public_key(), seal[signature[2]:signature[3]], payload, hash_name)
    except InvalidSignature:
        raise SealSignatureError("the signature of %s over the seal's attributes does not verify: the seal "
                                 "was altered" % signer.subject.rfc4514_string())
    digest = hashes.Hash(getattr(hashes, hash_name)())
    digest.update(bytes(data))
    sealed = attributes[OID_MESSAGE_DIGEST][0]
    if seal[sealed[2]:sealed[3]] != digest.finalize():
        raise SealDigestMismatchError("the content differs from what was sealed: it was altered after sealing")
    if anchors:
        _check_trust(signer, certs, anchors)
    facts = certificate_facts(signer, datetime.datetime.now(datetime.timezone.utc))
    return {
        "subject": facts["subject"],
        "issuer": facts["issuer"],
        "serial": facts["serial"],
        "sha256": facts["sha256"],
        "not_after": facts["not_after"],
        "signing_time": _signing_time(seal, attributes.get(OID_SIGNING_TIME)),
        "digest_algorithm": hash_name.lower(),
        "certificate": signer,
    }
