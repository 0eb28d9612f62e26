# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validate what ``load_pfx`` opened before anything is sent to a site, and write it again.

``validate`` checks key and certificate belong together, the validity (``min_days``, ``warn_days``), the
clientAuth usage, the chain (``build_chain``, to the CA file when one is given) and the institution ID;
``build_pkcs12`` re-encrypts the key and chain for ``client.p12`` and ``keystore.p12``. Every failure is a
``PfxError`` subclass (``errors.py``) with its own ``code``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import INSTITUTION_ID_PATTERN
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import (
    certificate_facts,
    is_ca,
    issued_by,
    public_der,
    require_cryptography,
    utc,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import errors

try:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
except ImportError:  # pragma: no cover - reported by require_cryptography()
    pass


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
                raise errors.UntrustedIssuerError(
                    "the certificate in %s does not chain to a CA in the CA file (issuer not "
                    "found: %s); it was not issued by the expected CA: ask EESZT for the "
                    "right certificate or check eeszt_certificate_ca_file"
                    % (shown, current.issuer.rfc4514_string()))
            raise errors.ChainError(
                "the chain in %s is incomplete: the issuer %s is neither in the PFX nor in a "
                "CA file; set eeszt_certificate_ca_file to the issuing CA bundle"
                % (shown, current.issuer.rfc4514_string()))
        chain.append(issuer)
        current = issuer
    if anchors:
        anchor_ders = set(a.public_bytes(serialization.Encoding.DER) for a in anchors)
        path = [leaf] + chain
        if not any(c.public_bytes(serialization.Encoding.DER) in anchor_ders for c in path[1:]):
            raise errors.UntrustedIssuerError(
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


def institutions_in_subject(cert, pattern=INSTITUTION_ID_PATTERN, attributes=MATCH_ATTRIBUTES):
    """The institution IDs that ``cert`` carries: the values ``institution_values`` reads (the reader of
    eeszt_certificate_match_institution) that, stripped, are whole identifiers of ``pattern``."""
    found = re.compile(pattern)
    return sorted(set(value.strip() for value in institution_values(cert, attributes) if found.match(value.strip())))


def other_institution_in_subject(cert, institution_id, pattern=INSTITUTION_ID_PATTERN):
    """The institution IDs ``cert`` carries when it carries some but not ``institution_id`` (an exact match, as
    ``institution_matches`` decides it); [] when it carries none, or ``institution_id`` among them."""
    carried = institutions_in_subject(cert, pattern)
    if carried and not institution_matches(cert, "%s" % institution_id, MATCH_ATTRIBUTES, "exact"):
        return carried
    return []


def _key_missing_message(contents, shown):
    """What a PFX without a private key holds, and how to export it with the key."""
    certs = ([contents.certificate] if contents.certificate is not None else []) + contents.additional
    export = ("export it again with the private key included (Windows certificate export: 'Yes, export "
              "the private key'; OpenSSL: openssl pkcs12 -export -inkey key.pem -in cert.pem -certfile "
              "chain.pem), or point eeszt_certificate_pfx_src at the PFX file EESZT issued")
    if not certs:
        return "the PFX file %s holds no private key and no certificate (it is empty inside); %s" % (shown, export)
    names = "; ".join(c.subject.rfc4514_string() for c in certs[:3]) + ("; ..." if len(certs) > 3 else "")
    if all(is_ca(c) for c in certs):
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


def validate(contents, min_days=14, warn_days=30, ca_certs=None, institution_id=None,
             match_attributes=MATCH_ATTRIBUTES, match_mode="contains", now=None,
             display_path=None, require_client_auth=True):
    """Validate what ``load_pfx`` returned; raise at the first problem."""
    shown = display_path or contents.path
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if contents.certificate is None and contents.key is not None:
        # Some readers leave the leaf among the additional certificates when
        # the key's localKeyId does not pair them: take the one the key fits.
        own = public_der(contents.key.public_key())
        fitting = [c for c in contents.additional if public_der(c.public_key()) == own]
        if fitting:
            contents.certificate = fitting[0]
            contents.additional = [c for c in contents.additional if c is not fitting[0]]
        elif any(not is_ca(c) for c in contents.additional):
            raise errors.KeyMismatchError("the private key in %s belongs to none of the %d certificates in "
                                          "the file; the file was assembled from the wrong parts: download "
                                          "the original PFX again" % (shown, len(contents.additional)))
    if contents.key is None:
        raise errors.KeyMissingError(_key_missing_message(contents, shown))
    if contents.certificate is None:
        cas = len(contents.additional)
        raise errors.CertificateMissingError(
            "the PFX file %s holds a private key but not its certificate%s; export it again with the "
            "client certificate included (Windows: export the certificate, not the key alone; OpenSSL: "
            "openssl pkcs12 -export -inkey key.pem -in cert.pem -certfile chain.pem)"
            % (shown, " (only %d CA certificate%s)" % (cas, "" if cas == 1 else "s") if cas else ""))
    cert = contents.certificate
    if public_der(contents.key.public_key()) != public_der(cert.public_key()):
        raise errors.KeyMismatchError("the private key in %s does not belong to its certificate (%s); "
                                      "the file was assembled from the wrong parts: download the "
                                      "original PFX again" % (shown, cert.subject.rfc4514_string()))
    facts = certificate_facts(cert, now)
    if now < utc(cert, "not_valid_before"):
        raise errors.CertificateNotYetValidError(
            "the certificate in %s is not valid yet (valid from %s); check the controller's "
            "clock or wait until then" % (shown, facts["not_before"]))
    if now >= utc(cert, "not_valid_after"):
        raise errors.CertificateExpiredError(
            "the certificate in %s expired on %s; request a renewed WAF-SSL certificate from "
            "EESZT" % (shown, facts["not_after"]))
    warnings = []
    if facts["days_left"] < min_days:
        raise errors.CertificateExpiresSoonError(
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
            raise errors.ClientAuthMissingError(
                "the certificate in %s is not allowed for TLS client authentication (its "
                "extended key usage lacks clientAuth); it is not a WAF-SSL client certificate: "
                "use the WAF-SSL certificate EESZT issued" % shown)
    chain = build_chain(cert, contents.additional, ca_certs or [], shown)
    if institution_id:
        if not institution_matches(cert, str(institution_id), match_attributes, match_mode):
            raise errors.InstitutionMismatchError(
                "the certificate in %s does not carry institution ID %s (%s match on %s); "
                "it belongs to another institution: check eeszt_certificate_pfx_src"
                % (shown, institution_id, match_mode, ", ".join(match_attributes)))
    return ValidatedCertificate(contents.key, cert, chain, facts, warnings)


# --- export -------------------------------------------------------------------

EXPORT_LEVELS = ("modern", "compat")


def build_pkcs12(validated, password, level="modern", alias="eeszt-waf", include_root=True):
    """PKCS#12 bytes of key, leaf and chain, encrypted at ``level``.

    ``modern``: PBES2 (PBKDF2-SHA256, AES-256-CBC), SHA-256 MAC.
    ``compat``: PBE-SHA1-3DES for key and certificates, SHA-1 MAC; read by
    Java 8, older Windows and ``openssl pkcs12 -legacy``.
    The friendlyName ``alias`` marks the key entry, which makes the same
    file a Java PKCS#12 keystore with that alias.
    """
    require_cryptography(errors.MissingLibraryError, "write PKCS#12 files")
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
