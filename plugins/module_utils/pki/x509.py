# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Public facts of an X.509 certificate, read with the standard library only.

The connection check runs on sites that may not have ``cryptography``. It
needs a certificate's subject, issuer, serial, validity and SHA-256
fingerprint, which a small DER reader of the TBSCertificate gives without
any private API. Nothing here looks at keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import datetime
import hashlib
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.der import (
    DerError,
    children,
    elements,
    expect,
    oid_text,
    read,
)
from ansible_collections.eeszt.connect.plugins.module_utils.pki.errors import CertificateParseError

_PEM_CERT = re.compile(
    r"-----BEGIN CERTIFICATE-----\s*([A-Za-z0-9+/=\s]+?)\s*-----END CERTIFICATE-----")

# Short names of RFC 4514 and the attributes WAF-SSL certificates carry. The controller's reader
# (plugin_utils/pki/crypto.py) names attributes with this table too, so both tiers write the same subject.
ATTRIBUTE_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "STREET",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.42": "GN",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
}

_UTC = datetime.timezone.utc
_SEQUENCE, _SET, _INTEGER, _OID = 0x30, 0x31, 0x02, 0x06
_UTC_TIME, _GENERALIZED_TIME = 0x17, 0x18
_VERSION_TAG = 0xA0
# String types of a DirectoryString and how to decode them.
_STRING_CODECS = {
    0x0C: "utf-8",        # UTF8String
    0x13: "ascii",        # PrintableString
    0x16: "ascii",        # IA5String
    0x12: "ascii",        # NumericString
    0x14: "latin-1",      # TeletexString (T.61; latin-1 is what issuers mean)
    0x1E: "utf-16-be",    # BMPString
    0x1C: "utf-32-be",    # UniversalString
}


def _escape(value):
    """RFC 4514 escaping of an attribute value."""
    out = []
    for index, char in enumerate(value):
        if char in ',+"\\<>;' or (char == "#" and index == 0) or (char == " " and index in (0, len(value) - 1)):
            out.append("\\" + char)
        elif char == "\x00":
            out.append("\\00")
        else:
            out.append(char)
    return "".join(out)


def _attribute_value(data, pos, end, der):
    tag, start, stop = read(data, pos, end)
    codec = _STRING_CODECS.get(tag)
    if codec is None:
        # RFC 4514: unknown syntax as '#' and the hex of the whole DER element.
        return "#" + binascii.hexlify(der[pos:stop]).decode("ascii")
    try:
        return _escape(bytes(data[start:stop]).decode(codec))
    except UnicodeDecodeError:
        raise CertificateParseError("undecodable attribute value")


def _name(data, start, end):
    """RFC 4514 string of a Name (last RDN first, as RFC 4514 writes it)."""
    rdns = []
    for tag, _pos, set_start, set_end in elements(data, start, end):
        if tag != _SET:
            raise CertificateParseError("malformed name: RDN is not a SET")
        parts = []
        for atag, _apos, a_start, a_end in elements(data, set_start, set_end):
            if atag != _SEQUENCE:
                raise CertificateParseError("malformed name: attribute is not a SEQUENCE")
            oid_start, oid_end = expect(data, a_start, a_end, _OID, "attribute type")
            oid = oid_text(bytes(data[oid_start:oid_end]))
            value = _attribute_value(data, oid_end, a_end, data)
            parts.append("%s=%s" % (ATTRIBUTE_NAMES.get(oid, oid), value))
        rdns.append("+".join(parts))
    return ",".join(reversed(rdns))


def _time(data, pos, end):
    tag, start, stop = read(data, pos, end)
    text = bytes(data[start:stop]).decode("ascii", "replace")
    # Parsed by hand: strptime costs a module import and regex compilation on
    # first use, which would dominate a one-shot check.
    if tag == _UTC_TIME:
        digits, year_digits = text[:-1] if text.endswith("Z") else None, 2
    elif tag == _GENERALIZED_TIME:
        digits, year_digits = text.split(".", 1)[0].rstrip("Z") if text.endswith("Z") else None, 4
    else:
        raise CertificateParseError("validity time has tag 0x%02x" % tag)
    if digits is None or len(digits) != 10 + year_digits or not digits.isdigit():
        raise CertificateParseError("invalid validity time %r" % text)
    year = int(digits[:year_digits])
    if year_digits == 2:
        # RFC 5280: two-digit years 50-99 are 19xx, 00-49 are 20xx.
        year += 1900 if year >= 50 else 2000
    fields = [int(digits[i:i + 2]) for i in range(year_digits, len(digits), 2)]
    try:
        moment = datetime.datetime(year, *fields, tzinfo=_UTC)
    except ValueError:
        raise CertificateParseError("invalid validity time %r" % text)
    return moment, stop


def iso(moment):
    """UTC ISO 8601 with a Z, whole seconds."""
    return moment.astimezone(_UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def certificate_facts(der):
    """Facts of a DER certificate: subject, issuer, serial (hex, upper case),
    sha256 (hex), not_before, not_after (ISO 8601 strings) and the datetimes
    ``not_before_dt``/``not_after_dt`` (removed before anything is returned).

    The keys it shares with the controller's ``plugin_utils/pki/crypto.py: certificate_facts`` hold the same
    values for the same certificate (tests/unit/test_pki_once.py). Damaged DER is a
    ``CertificateParseError`` with the reader's message."""
    try:
        return _facts(der)
    except DerError as exc:
        raise CertificateParseError(str(exc))


def _facts(der):
    data = bytearray(der)
    end = len(data)
    cert_start, cert_end = expect(data, 0, end, _SEQUENCE, "Certificate")
    if cert_end != end:
        raise CertificateParseError("trailing data after the certificate")
    tbs_start, tbs_end = expect(data, cert_start, cert_end, _SEQUENCE, "TBSCertificate")
    fields = children(data, tbs_start, tbs_end)
    if fields and fields[0][0] == _VERSION_TAG:
        fields = fields[1:]
    if len(fields) < 6:
        raise CertificateParseError("TBSCertificate has too few fields")
    (serial_tag, serial_start, serial_end), _alg, issuer, validity, subject = fields[:5]
    if serial_tag != _INTEGER or serial_end == serial_start:
        raise CertificateParseError("serial number is not an INTEGER")
    serial = int.from_bytes(bytes(data[serial_start:serial_end]), "big", signed=True)
    for what, field in (("issuer", issuer), ("validity", validity), ("subject", subject)):
        if field[0] != _SEQUENCE:
            raise CertificateParseError("%s is not a SEQUENCE" % what)
    not_before, pos = _time(data, validity[1], validity[2])
    not_after, _pos = _time(data, pos, validity[2])
    return {
        "subject": _name(data, subject[1], subject[2]),
        "issuer": _name(data, issuer[1], issuer[2]),
        "serial": "%X" % serial,
        "sha256": hashlib.sha256(bytes(der)).hexdigest(),
        "not_before": iso(not_before),
        "not_after": iso(not_after),
        "not_before_dt": not_before,
        "not_after_dt": not_after,
    }


def public_facts(facts):
    """The facts without the datetime helpers (JSON-safe)."""
    return dict((key, value) for key, value in facts.items() if not key.endswith("_dt"))


def pem_certificates(text):
    """DER bytes of every CERTIFICATE block of a PEM text, in file order."""
    ders = []
    for match in _PEM_CERT.finditer(text):
        try:
            ders.append(binascii.a2b_base64("".join(match.group(1).split()).encode("ascii")))
        except (binascii.Error, ValueError):
            raise CertificateParseError("a CERTIFICATE block is not valid base64")
    return ders


def read_pem_certificate(path):
    """Facts of the first certificate of a PEM file and the number of certificates in it."""
    try:
        with open(path, "rb") as handle:
            text = handle.read().decode("ascii", "replace")
    except (IOError, OSError) as exc:
        raise CertificateParseError("cannot read %s: %s" % (path, exc.strerror or exc))
    ders = pem_certificates(text)
    if not ders:
        raise CertificateParseError("%s holds no PEM certificate" % path)
    facts = certificate_facts(ders[0])
    facts["chain_length"] = len(ders)
    return facts
