# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The standard-library DER reader of the connection check, compared with
what ``cryptography`` says about the same certificates."""

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.pki.errors import CertificateParseError
from ansible_collections.eeszt.connect.plugins.module_utils.pki.x509 import (
    certificate_facts,
    pem_certificates,
    public_facts,
    read_pem_certificate,
)

UTC = datetime.timezone.utc


def make_cert(subject, not_before, not_after, serial=0x1234ABCD, issuer=None):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer or subject)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(not_before).not_valid_after(not_after))
    return builder.sign(key, hashes.SHA256())


def test_facts_match_cryptography():
    subject = x509.Name([
        x509.NameAttribute(NameOID.COUNTRY_NAME, "HU"),
        x509.NameAttribute(NameOID.LOCALITY_NAME, "Győr"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Példa Patika, Kft."),
        x509.NameAttribute(NameOID.COMMON_NAME, "123456 #1 telephely"),
    ])
    issuer = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EESZT WAF-SSL CA")])
    start = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    # After 2049 certificates use GeneralizedTime instead of UTCTime.
    end = datetime.datetime(2051, 6, 7, 8, 9, 10, tzinfo=UTC)
    cert = make_cert(subject, start, end, serial=0x00DEADBEEF01, issuer=issuer)
    der = cert.public_bytes(serialization.Encoding.DER)
    facts = certificate_facts(der)
    assert facts["subject"] == cert.subject.rfc4514_string()
    assert facts["subject"] == "CN=123456 #1 telephely,O=Példa Patika\\, Kft.,L=Győr,C=HU"
    assert facts["issuer"] == "CN=EESZT WAF-SSL CA"
    assert facts["serial"] == "DEADBEEF01"
    assert facts["sha256"] == cert.fingerprint(hashes.SHA256()).hex()
    assert facts["not_before"] == "2026-01-02T03:04:05Z"
    assert facts["not_after"] == "2051-06-07T08:09:10Z"
    assert facts["not_after_dt"] == end
    assert "not_after_dt" not in public_facts(facts)


def test_serial_number_attribute_and_multi_valued_rdn():
    subject = x509.Name([
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Labor"),
                                        x509.NameAttribute(NameOID.SERIAL_NUMBER, "123456001")]),
        x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, " lead space")]),
    ])
    now = datetime.datetime.now(UTC).replace(microsecond=0)
    facts = certificate_facts(make_cert(subject, now, now + datetime.timedelta(days=1)).public_bytes(
        serialization.Encoding.DER))
    assert facts["subject"].startswith("CN=\\ lead space,")
    assert set(facts["subject"].split(",", 1)[1].split("+")) == {"OU=Labor", "serialNumber=123456001"}


def test_utc_time_before_2000_and_1950_rule():
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "old")])
    cert = make_cert(subject, datetime.datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC),
                     datetime.datetime(2049, 12, 31, 0, 0, 0, tzinfo=UTC))
    facts = certificate_facts(cert.public_bytes(serialization.Encoding.DER))
    assert facts["not_before"] == "1999-12-31T23:59:59Z"
    assert facts["not_after"] == "2049-12-31T00:00:00Z"


def test_generalized_time_from_2050():
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "far")])
    cert = make_cert(subject, datetime.datetime(2050, 1, 1, 0, 0, 0, tzinfo=UTC),
                     datetime.datetime(2051, 6, 30, 12, 30, 45, tzinfo=UTC))
    facts = certificate_facts(cert.public_bytes(serialization.Encoding.DER))
    assert facts["not_before"] == "2050-01-01T00:00:00Z"
    assert facts["not_after"] == "2051-06-30T12:30:45Z"


def test_pem_file_with_chain(tmp_path):
    now = datetime.datetime.now(UTC)
    leaf = make_cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "leaf")]), now, now)
    ca = make_cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ca")]), now, now)
    path = tmp_path / "fullchain.pem"
    path.write_bytes(b"junk before\n" + leaf.public_bytes(serialization.Encoding.PEM)
                     + ca.public_bytes(serialization.Encoding.PEM))
    facts = read_pem_certificate(str(path))
    assert facts["subject"] == "CN=leaf"
    assert facts["chain_length"] == 2
    assert len(pem_certificates(path.read_text())) == 2


@pytest.mark.parametrize("der, message", [
    (b"", "truncated"),
    (b"\x30\x82\xff\xff\x00", "runs past"),
    (b"\x04\x00", "expected Certificate"),
    (b"\x30\x03\x30\x01\x00", "truncated"),
    (b"\x30\x02\x30\x00", "too few fields"),
])
def test_garbage_is_a_parse_error(der, message):
    with pytest.raises(CertificateParseError, match=message):
        certificate_facts(der)


def test_truncated_real_certificate():
    now = datetime.datetime.now(UTC)
    der = make_cert(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "x")]), now, now).public_bytes(
        serialization.Encoding.DER)
    with pytest.raises(CertificateParseError):
        certificate_facts(der[:-10])


def test_file_problems(tmp_path):
    with pytest.raises(CertificateParseError, match="cannot read"):
        read_pem_certificate(str(tmp_path / "missing.pem"))
    empty = tmp_path / "key-only.pem"
    empty.write_text("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    with pytest.raises(CertificateParseError, match="no PEM certificate"):
        read_pem_certificate(str(empty))
    broken = tmp_path / "broken.pem"
    broken.write_text("-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateParseError, match="base64"):
        read_pem_certificate(str(broken))
