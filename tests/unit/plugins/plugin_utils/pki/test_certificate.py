# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller-side PFX loader and validator over every lab PFX, good and bad."""

import datetime
import json
import subprocess

import pytest

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

INSTITUTION = "100001"
SITE = "100001001"


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": INSTITUTION, "site_id": SITE}])
    root = lab / "pki"
    manifest = json.loads((root / "manifest.json").read_text())
    return root, manifest


def _password(root, name):
    return (root / name).read_text().strip()


def _case(pki, name):
    root, manifest = pki
    entry = next(c for c in manifest["cases"] if c["name"] == name)
    return str(root / entry["pfx"]), _password(root, entry["password_file"])


def _site(pki):
    root, manifest = pki
    entry = manifest["sites"][0]
    return str(root / entry["pfx"]), _password(root, entry["password_file"])


def _anchors(pki):
    return cert.load_ca_file(str(pki[0] / "client-ca-bundle.pem"))


def _load_and_validate(path, password, **kwargs):
    return cert.validate(cert.load_pfx(path, password), **kwargs)


def test_good_site_pfx_validates_with_ordered_chain(pki):
    path, password = _site(pki)
    result = _load_and_validate(path, password, ca_certs=_anchors(pki), institution_id=INSTITUTION)
    chain_cns = [c.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value for c in result.chain]
    assert chain_cns == ["EESZT Lab Client Issuing CA", "EESZT Lab Client Root CA"]
    assert result.facts["sha256"] == pki[1]["sites"][0]["sha256"]
    assert result.facts["days_left"] > 300
    assert result.warnings == []
    pem = result.pem()
    assert len(pem["chain"]) == 1  # the root is left out unless asked for
    assert len(result.pem(include_root=True)["chain"]) == 2
    assert "PRIVATE KEY" in pem["private_key"]


@pytest.mark.parametrize("name,algorithm", [("legacy-rc2", "RC2-40"), ("des3", "3DES"), ("ec", "PBES2")])
def test_good_cases_load(pki, name, algorithm):
    path, password = _case(pki, name)
    contents = cert.load_pfx(path, password)
    assert algorithm in contents.algorithms
    result = cert.validate(contents, ca_certs=_anchors(pki))
    assert result.facts["days_left"] > 300


BAD_CASES = [
    ("expired", cert.CertificateExpiredError, "expired on"),
    ("not-yet-valid", cert.CertificateNotYetValidError, "not valid yet"),
    ("unknown-ca", cert.UntrustedIssuerError, "not in the CA file"),
    ("no-client-auth", cert.ClientAuthMissingError, "clientAuth"),
    ("key-mismatch", cert.KeyMismatchError, "belongs to none"),
    ("truncated", cert.PfxCorruptError, "damaged or truncated"),
    ("expiring-soon", cert.CertificateExpiresSoonError, "fewer than the required 14"),
]


@pytest.mark.parametrize("name,error,text", BAD_CASES)
def test_bad_cases_are_refused_each_with_its_own_error(pki, name, error, text):
    path, password = _case(pki, name)
    with pytest.raises(error) as info:
        _load_and_validate(path, password, ca_certs=_anchors(pki))
    message = str(info.value)
    assert text in message
    assert path in message
    assert password not in message


def test_error_codes_are_distinct():
    codes = [e.code for dummy, e, dummy2 in BAD_CASES] + [cert.PfxPasswordError.code, cert.InstitutionMismatchError.code]
    assert len(set(codes)) == len(codes)


@pytest.mark.parametrize("name", ["legacy-rc2", "des3", "ec", "expired"])
def test_wrong_password_is_told_apart_from_damage(pki, name):
    path, password = _case(pki, name)
    with pytest.raises(cert.PfxPasswordError) as info:
        cert.load_pfx(path, password + "x")
    assert "password" in str(info.value) and "wrong" in str(info.value)


def test_site_pfx_wrong_password(pki):
    path, dummy = _site(pki)
    with pytest.raises(cert.PfxPasswordError):
        cert.load_pfx(path, "not-the-password")


def test_corrupt_byte_in_the_middle_is_not_called_a_wrong_password(pki, tmp_path):
    path, password = _site(pki)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.p12"
    damaged.write_bytes(bytes(data))
    with pytest.raises((cert.PfxCorruptError, cert.PfxPasswordError)) as info:
        cert.load_pfx(str(damaged), password)
    # A flipped byte breaks the MAC, so the message must mention both causes
    # or name the damage; it never claims the file is fine.
    assert str(damaged) in str(info.value)


def test_pem_instead_of_pfx_is_named(pki):
    with pytest.raises(cert.PfxCorruptError) as info:
        cert.load_pfx(str(pki[0] / "client-root-ca.pem"), "x")
    assert "PEM text" in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(cert.PfxNotFoundError):
        cert.load_pfx(str(tmp_path / "absent.p12"), "x")


def test_expiring_within_warn_days_warns(pki):
    path, password = _case(pki, "expiring-soon")
    result = _load_and_validate(path, password, min_days=5, warn_days=30)
    assert len(result.warnings) == 1 and "plan its renewal" in result.warnings[0]


def test_min_days_counted_from_now(pki):
    path, password = _site(pki)
    contents = cert.load_pfx(path, password)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=360)
    with pytest.raises(cert.CertificateExpiresSoonError):
        cert.validate(contents, now=later)


@pytest.mark.parametrize("attributes,mode,institution,ok", [
    (["serialNumber"], "exact", INSTITUTION, True),
    (["organizationName"], "exact", INSTITUTION, False),
    (["organizationName"], "contains", INSTITUTION, True),
    (["commonName"], "contains", "10000", False),  # a prefix of the ID is no match
    (cert.MATCH_ATTRIBUTES, "contains", "999999", False),
])
def test_institution_match(pki, attributes, mode, institution, ok):
    path, password = _site(pki)
    contents = cert.load_pfx(path, password)
    if ok:
        cert.validate(contents, institution_id=institution, match_attributes=attributes, match_mode=mode)
    else:
        with pytest.raises(cert.InstitutionMismatchError) as info:
            cert.validate(contents, institution_id=institution, match_attributes=attributes, match_mode=mode)
        assert institution in str(info.value)


def test_chain_without_issuer_is_incomplete(pki, tmp_path):
    path, password = _site(pki)
    loaded = pkcs12.load_pkcs12(open(path, "rb").read(), password.encode())
    bare = tmp_path / "bare.p12"
    bare.write_bytes(pkcs12.serialize_key_and_certificates(
        b"x", loaded.key, loaded.cert.certificate, None, serialization.BestAvailableEncryption(b"pw")))
    contents = cert.load_pfx(str(bare), "pw")
    with pytest.raises(cert.ChainError) as info:
        cert.validate(contents)
    assert "EESZT Lab Client Issuing CA" in str(info.value)
    # The CA file completes it, in order.
    result = cert.validate(contents, ca_certs=_anchors(pki))
    assert [c.subject for c in result.chain][0] == result.certificate.issuer


def test_legacy_provider_missing_is_explained(pki, monkeypatch):
    path, password = _case(pki, "legacy-rc2")

    def refuse(data, password):
        raise ValueError("Could not deserialize PKCS12 data")

    monkeypatch.setattr(pfx, "LEGACY_PROVIDER_LOADED", False)
    monkeypatch.setattr(pfx.pkcs12, "load_pkcs12", refuse)
    with pytest.raises(cert.PfxLegacyUnsupportedError) as info:
        cert.load_pfx(path, password)
    assert "RC2-40" in str(info.value) and "legacy provider" in str(info.value)


@pytest.mark.parametrize("level", ["modern", "compat"])
def test_export_levels(pki, tmp_path, level):
    path, password = _site(pki)
    result = _load_and_validate(path, password, ca_certs=_anchors(pki))
    data = cert.build_pkcs12(result, "export-pw", level, "eeszt-waf")
    reloaded = pkcs12.load_pkcs12(data, b"export-pw")
    assert reloaded.cert.friendly_name == b"eeszt-waf"
    assert reloaded.cert.certificate == result.certificate
    assert len(reloaded.additional_certs) == 2
    info = cert.inspect_pfx(data)
    expected = {"modern": "PBES2", "compat": "3DES"}[level]
    assert info["algorithms"] == [expected]
    assert info["mac"]["oid"] == {"modern": "2.16.840.1.101.3.4.2.1", "compat": "1.3.14.3.2.26"}[level]
    p12 = tmp_path / "client.p12"
    p12.write_bytes(data)
    proc = subprocess.run(["openssl", "pkcs12", "-in", str(p12), "-nokeys", "-passin", "stdin"]
                          + (["-legacy"] if level == "compat" else []),
                          input=b"export-pw\n", stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b"BEGIN CERTIFICATE") == 3
    # Same input, new random salt: different bytes.
    assert cert.build_pkcs12(result, "export-pw", level, "eeszt-waf") != data


def test_ca_file_with_an_invalid_certificate_version_is_a_ca_file_error(pki, tmp_path):
    # cryptography raises InvalidVersion (not a ValueError) for a version other than v1-v3.
    pem = (pki[0] / "client-ca-bundle.pem").read_bytes()
    der = x509.load_pem_x509_certificates(pem)[0].public_bytes(serialization.Encoding.DER)
    damaged = der.replace(b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x03", 1)
    assert damaged != der
    path = tmp_path / "ca.der"
    path.write_bytes(damaged)
    with pytest.raises(cert.CaFileError, match="holds no PEM or DER certificate"):
        cert.load_ca_file(str(path))
