# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of CA bundles (plugins/plugin_utils/pki/ca_bundle.py) with real certificates."""

import base64
import datetime
import hashlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import ca_bundle
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.ca_bundle import (
    CaBundleError,
    CaBundleExpiredError,
    CaBundleFormatError,
    CaBundleNotCaError,
    CaBundleNotFoundError,
    CaBundleNotYetValidError,
    CaBundlePrivateKeyError,
    validate_bundle,
)

NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=datetime.timezone.utc)
DAY = datetime.timedelta(days=1)


def make_cert(name, ca=True, not_before=NOW - DAY, not_after=NOW + 3650 * DAY, issuer=None,
              basic_constraints=True):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    signer_name, signer_key = (issuer[0].subject, issuer[1]) if issuer else (subject, key)
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(signer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after))
    if basic_constraints:
        builder = builder.add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    cert = builder.sign(signer_key, hashes.SHA256())
    return cert, key


def pem(cert):
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def root():
    return make_cert("EESZT Test Root CA")


@pytest.fixture(scope="module")
def intermediate(root):
    return make_cert("EESZT Test Server CA", issuer=root)


def write(tmp_path, data, name="bundle.pem"):
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_valid_bundle_is_returned_canonical_with_facts(tmp_path, root, intermediate):
    text = b"Mozilla-style comment\n" + pem(root[0]).replace(b"\n", b"\r\n") + b"\n# next\n" + pem(intermediate[0])
    path = write(tmp_path, text)
    result, facts, warnings = validate_bundle(path, now=NOW)
    assert result == (pem(root[0]) + pem(intermediate[0])).decode()
    assert warnings == []
    assert [f["subject"] for f in facts] == ["CN=EESZT Test Root CA", "CN=EESZT Test Server CA"]
    assert facts[0]["self_signed"] is True and facts[1]["self_signed"] is False
    assert facts[1]["issuer"] == "CN=EESZT Test Root CA"
    assert facts[0]["sha256"] == root[0].fingerprint(hashes.SHA256()).hex()
    assert facts[0]["serial"] == "%X" % root[0].serial_number
    assert facts[0]["days_left"] == 3650
    assert facts[0]["not_after"].endswith("Z")
    assert ca_bundle.bundle_sha256(result) == hashlib.sha256(result.encode()).hexdigest()


def test_duplicates_are_dropped_with_a_warning(tmp_path, root):
    path = write(tmp_path, pem(root[0]) * 2)
    result, facts, warnings = validate_bundle(path, now=NOW)
    assert result == pem(root[0]).decode() and len(facts) == 1
    assert len(warnings) == 1 and "more than once" in warnings[0]


def test_expiring_soon_warns(tmp_path):
    cert, _key = make_cert("Old CA", not_after=NOW + 10 * DAY)
    _pem, facts, warnings = validate_bundle(write(tmp_path, pem(cert)), warn_days=30, now=NOW)
    assert facts[0]["days_left"] == 10
    assert len(warnings) == 1 and "expires on" in warnings[0] and "in 10 days" in warnings[0]
    assert validate_bundle(write(tmp_path, pem(cert)), warn_days=5, now=NOW)[2] == []


@pytest.mark.parametrize("kwargs, error, words", [
    ({"ca": False}, CaBundleNotCaError, "is not a CA certificate"),
    ({"basic_constraints": False}, CaBundleNotCaError, "basicConstraints CA:TRUE is missing"),
    ({"not_after": NOW - DAY, "not_before": NOW - 10 * DAY}, CaBundleExpiredError, "expired on"),
    ({"not_before": NOW + DAY}, CaBundleNotYetValidError, "is valid only from"),
])
def test_bad_certificates_are_refused_naming_file_and_certificate(tmp_path, root, kwargs, error, words):
    bad, _key = make_cert("Bad Cert", **kwargs)
    path = write(tmp_path, pem(root[0]) + pem(bad))
    with pytest.raises(error) as caught:
        validate_bundle(path, now=NOW)
    message = str(caught.value)
    assert words in message and path in message and "CN=Bad Cert" in message
    assert isinstance(caught.value, CaBundleError)


def test_private_key_is_refused_without_echoing_it(tmp_path, root):
    key_pem = root[1].private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    path = write(tmp_path, pem(root[0]) + key_pem)
    with pytest.raises(CaBundlePrivateKeyError) as caught:
        validate_bundle(path, now=NOW)
    message = str(caught.value)
    assert "contains a private key" in message and "PEM block 2" in message and path in message
    assert key_pem.splitlines()[1].decode() not in message
    assert caught.value.code == "private_key"


@pytest.mark.parametrize("data, words, code", [
    (b"", "is empty", "not_pem"),
    (b"just some text\n", "holds no '-----BEGIN CERTIFICATE-----' block", "not_pem"),
    (b"-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n",
     "PEM block 1", "not_pem"),
    (b"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
     "of type CERTIFICATE REQUEST", "not_pem"),
])
def test_files_that_are_not_pem_bundles(tmp_path, data, words, code):
    path = write(tmp_path, data)
    with pytest.raises(CaBundleFormatError) as caught:
        validate_bundle(path, now=NOW)
    assert words in str(caught.value) and path in str(caught.value)
    assert caught.value.code == code


def test_der_file_gets_a_conversion_hint(tmp_path, root):
    path = write(tmp_path, root[0].public_bytes(serialization.Encoding.DER), "ca.der")
    with pytest.raises(CaBundleFormatError) as caught:
        validate_bundle(path, now=NOW)
    assert "openssl x509 -inform DER" in str(caught.value)


def test_missing_file(tmp_path):
    path = str(tmp_path / "nope.pem")
    with pytest.raises(CaBundleNotFoundError) as caught:
        validate_bundle(path, now=NOW)
    assert path in str(caught.value) and caught.value.code == "not_found"


def test_certificate_with_an_invalid_version_is_a_format_error(tmp_path, root):
    # cryptography raises InvalidVersion (not a ValueError) for a version other than v1-v3.
    der = root[0].public_bytes(serialization.Encoding.DER)
    damaged = der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x03", 1)
    assert damaged != der
    body = base64.encodebytes(damaged)
    path = write(tmp_path, b"-----BEGIN CERTIFICATE-----\n" + body + b"-----END CERTIFICATE-----\n")
    with pytest.raises(CaBundleFormatError, match="PEM block 1 of the CA bundle .* is not a valid certificate"):
        validate_bundle(path, now=NOW)
