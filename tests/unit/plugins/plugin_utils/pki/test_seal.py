# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Seals: detached CMS signatures made with cryptography, checked by our own
verifier and by the OpenSSL command line."""

import datetime
import subprocess

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import load_pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import SealError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import (
    SealDigestMismatchError,
    SealMalformedError,
    SealSignatureError,
    SealUntrustedError,
    Signer,
    load_pem_signer,
    sign_detached,
    verify_detached,
)

SITE = ("100001", "100001001")
PROOF = b'{\n  "passed": true,\n  "schema": "eeszt.connect/proof/v1"\n}\n'


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": SITE[0], "site_id": SITE[1]}])
    return lab / "pki"


@pytest.fixture(scope="module")
def signer(pki):
    base = pki / "sites" / ("%s-%s" % SITE)
    contents = load_pfx(str(base) + ".p12", (pki / "sites" / ("%s-%s.password" % SITE)).read_text().strip())
    return Signer(contents.key, contents.certificate, contents.additional)


def anchors(pki):
    return x509.load_pem_x509_certificates((pki / "client-ca-bundle.pem").read_bytes())


def openssl_verify(tmp_path, data, seal, ca_file):
    (tmp_path / "proof.json").write_bytes(data)
    (tmp_path / "proof.json.p7s").write_bytes(seal)
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-purpose", "any", "-inform", "DER", "-CAfile", str(ca_file),
         "-content", str(tmp_path / "proof.json"), "-in", str(tmp_path / "proof.json.p7s"), "-out", "/dev/null"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)


def ec_signer(tmp_path):
    """A self-made EC CA and an EC signing certificate, as PEM files."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vendor seal CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
          .not_valid_after(now + datetime.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vendor proof seal")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    paths = {"key": tmp_path / "seal-key.pem", "cert": tmp_path / "seal-cert.pem", "ca": tmp_path / "seal-ca.pem"}
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.BestAvailableEncryption(b"Seal-Pw-1")))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths


def test_waf_ssl_seal_verifies_with_openssl_and_our_verifier(pki, signer, tmp_path):
    seal = sign_detached(PROOF, signer)
    assert seal[:1] == b"\x30"  # DER
    result = openssl_verify(tmp_path, PROOF, seal, pki / "client-ca-bundle.pem")
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    facts = verify_detached(PROOF, seal, anchors(pki))
    assert facts["subject"] == signer.subject
    assert "OU=%s" % SITE[1] in facts["subject"]
    assert facts["digest_algorithm"] == "sha256"
    assert facts["signing_time"].endswith("Z")


def test_seal_carries_the_chain(signer):
    seal = sign_detached(PROOF, signer)
    for cert in [signer.certificate] + signer.chain:
        assert cert.public_bytes(serialization.Encoding.DER) in seal


def test_altered_proof_is_a_digest_mismatch(pki, signer, tmp_path):
    seal = sign_detached(PROOF, signer)
    altered = PROOF.replace(b"true", b"fals")
    with pytest.raises(SealDigestMismatchError, match="altered after sealing"):
        verify_detached(altered, seal)
    assert openssl_verify(tmp_path, altered, seal, pki / "client-ca-bundle.pem").returncode != 0


def test_altered_signature_is_reported_as_seal_altered(signer):
    seal = bytearray(sign_detached(PROOF, signer))
    seal[-10] ^= 0x01  # inside the RSA signature, the last field of the only SignerInfo
    with pytest.raises(SealSignatureError, match="seal was altered"):
        verify_detached(PROOF, bytes(seal))


def test_damaged_seal_is_malformed(signer):
    seal = sign_detached(PROOF, signer)
    for damaged in (b"", b"not a seal", seal[:len(seal) // 2], seal + b"\x00"):
        with pytest.raises(SealMalformedError):
            verify_detached(PROOF, damaged)


def test_seal_with_a_damaged_certificate_is_malformed(pki, signer):
    # Found by tests/unit/fuzz: a flipped bit in the version of a certificate in the
    # seal made cryptography raise InvalidVersion, which is not a ValueError.
    seal = sign_detached(PROOF, signer)
    version_v3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2 (v3), in every certificate
    assert version_v3 in seal
    for damaged in (seal.replace(version_v3, b"\xa0\x03\x02\x01\x03", 1),
                    seal.replace(version_v3, b"\xa0\x03\x02\x01\x03")):
        with pytest.raises(SealMalformedError, match="certificate"):
            verify_detached(PROOF, damaged, anchors(pki))


def test_signer_outside_the_anchors_is_untrusted(signer, tmp_path):
    seal = sign_detached(PROOF, signer)
    other = x509.load_pem_x509_certificates(ec_signer(tmp_path)["ca"].read_bytes())
    with pytest.raises(SealUntrustedError, match="does not chain"):
        verify_detached(PROOF, seal, other)
    assert verify_detached(PROOF, seal)["subject"] == signer.subject  # without anchors: signature only


def test_configured_ec_key_with_password(tmp_path):
    paths = ec_signer(tmp_path)
    with pytest.raises(SealError, match="encrypted"):
        load_pem_signer(paths["key"].read_bytes(), paths["cert"].read_bytes())
    with pytest.raises(SealError, match="password is wrong"):
        load_pem_signer(paths["key"].read_bytes(), paths["cert"].read_bytes(), "wrong")
    signer = load_pem_signer(paths["key"].read_bytes(), paths["cert"].read_bytes(), "Seal-Pw-1",
                             chain_data=paths["ca"].read_bytes())
    seal = sign_detached(PROOF, signer)
    result = openssl_verify(tmp_path, PROOF, seal, paths["ca"])
    assert result.returncode == 0, result.stderr
    ca = x509.load_pem_x509_certificates(paths["ca"].read_bytes())
    assert verify_detached(PROOF, seal, ca)["subject"] == "CN=Vendor proof seal"


def test_key_must_belong_to_the_certificate(signer, tmp_path):
    paths = ec_signer(tmp_path)
    other_cert = x509.load_pem_x509_certificate(paths["cert"].read_bytes())
    with pytest.raises(SealError, match="does not belong"):
        Signer(signer.key, other_cert)
    with pytest.raises(SealError, match="none of the signing certificates"):
        load_pem_signer(signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()), paths["cert"].read_bytes())
