# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the lab PKI (plugins/plugin_utils/lab/pki.py).

One lab is built per session (RSA key generation is the slow part); tests
that change a lab work on a copy of it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re
import shutil
import socket
import ssl
import stat
import subprocess
import threading

import pytest

from cryptography import x509
from cryptography.hazmat.decrepit.ciphers.algorithms import RC2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab import _certs, _pkcs12
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab import pki as lab_pki
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import (
    LabPKIError,
    build_lab_pki,
)

SITES = [
    {"institution_id": "100001", "site_id": "100001001"},
    {"institution_id": "100002", "site_id": "10000200A"},
]
CASE_EXPECT = {
    "expired": "expired",
    "not-yet-valid": "not_yet_valid",
    "unknown-ca": "unknown_ca",
    "no-client-auth": "no_client_auth",
    "key-mismatch": "key_mismatch",
    "legacy-rc2": "ok",
    "des3": "ok",
    "truncated": "corrupt",
    "expiring-soon": "ok",
    "ec": "ok",
}
GOOD_CASES = sorted(name for name, expect in CASE_EXPECT.items() if expect == "ok")
OPENSSL = shutil.which("openssl")
DAY = datetime.timedelta(days=1)


def expected_files(sites):
    files = set(lab_pki.FILES.values()) | {"manifest.json"}
    for site in sites:
        stem = "sites/%s-%s" % (site["institution_id"], site["site_id"])
        files |= {stem + ".p12", stem + ".password"}
    for name in CASE_EXPECT:
        files |= {"cases/%s.p12" % name, "cases/%s.password" % name}
    return files


def snapshot(pki):
    """{relative path: (sha256, mtime_ns, mode)} of every file under pki."""
    result = {}
    for base, _dirs, names in os.walk(str(pki)):
        for name in names:
            path = os.path.join(base, name)
            with open(path, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
            info = os.stat(path)
            result[os.path.relpath(path, str(pki))] = (digest, info.st_mtime_ns, stat.S_IMODE(info.st_mode))
    return result


class Lab:
    def __init__(self, lab_dir, result):
        self.dir = lab_dir
        self.pki = lab_dir / "pki"
        self.result = result
        self.manifest = json.loads((self.pki / "manifest.json").read_text())

    def cert(self, relative):
        return x509.load_pem_x509_certificate((self.pki / relative).read_bytes())

    def password(self, stem):
        return (self.pki / (stem + ".password")).read_bytes()

    def open(self, stem):
        """(key, cert, additional certs) of <stem>.p12."""
        return pkcs12.load_key_and_certificates((self.pki / (stem + ".p12")).read_bytes(), self.password(stem))

    def leaf(self, stem):
        key, cert, extra = self.open(stem)
        certs = ([cert] if cert is not None else []) + list(extra)
        leaves = [c for c in certs if not c.extensions.get_extension_for_class(x509.BasicConstraints).value.ca]
        assert len(leaves) == 1
        return key, leaves[0], [c for c in certs if c is not leaves[0]]


@pytest.fixture(scope="session")
def lab(tmp_path_factory):
    lab_dir = tmp_path_factory.mktemp("lab")
    return Lab(lab_dir, build_lab_pki(str(lab_dir), SITES))


@pytest.fixture
def lab_copy(lab, tmp_path):
    """A private copy of the session lab (modes and times preserved)."""
    destination = tmp_path / "lab"
    shutil.copytree(str(lab.dir), str(destination))
    return Lab(destination, None)


def now():
    return datetime.datetime.now(datetime.timezone.utc)


def openssl(*args):
    assert OPENSSL, "the openssl command line tool is needed by these tests"
    proc = subprocess.run([OPENSSL] + list(args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=30, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def openssl_verify(tmp_path, cafile, cert, *options):
    leaf = tmp_path / "leaf.pem"
    leaf.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return openssl("verify", "-CAfile", str(cafile), *(list(options) + [str(leaf)]))


def fingerprint(cert):
    return cert.fingerprint(hashes.SHA256())


def public_der(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def cert_public_der(cert):
    return cert.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def ekus(cert):
    return list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


# --- layout, modes, manifest -------------------------------------------------

def test_first_build_creates_every_file(lab):
    assert lab.result["changed"] is True
    assert set(lab.result["created"]) == expected_files(SITES)
    assert len(lab.result["created"]) == len(set(lab.result["created"]))
    assert lab.result["updated"] == []
    assert lab.result["pki_dir"] == str(lab.pki)
    assert set(snapshot(lab.pki)) == expected_files(SITES)


def test_modes(lab):
    for base, dirs, names in os.walk(str(lab.pki)):
        assert stat.S_IMODE(os.stat(base).st_mode) == 0o700, base
        for name in names:
            mode = stat.S_IMODE(os.stat(os.path.join(base, name)).st_mode)
            secret = name.endswith((".key", ".p12", ".password"))
            assert mode == (0o600 if secret else 0o644), (name, oct(mode))


def test_passwords(lab):
    passwords = [lab.pki.joinpath(name) for name in expected_files(SITES) if name.endswith(".password")]
    assert len(passwords) == len(SITES) + len(CASE_EXPECT)
    values = set()
    for path in passwords:
        value = path.read_bytes()
        assert re.fullmatch(rb"[A-Za-z0-9_-]{24}", value), path
        values.add(value)
    assert len(values) == len(passwords)


def test_manifest_describes_the_lab_without_secrets(lab):
    manifest = lab.manifest
    assert manifest == lab.result["manifest"]
    assert manifest["schema"] == "eeszt.connect/lab-pki/v1"
    for relative in manifest["files"].values():
        assert (lab.pki / relative).is_file(), relative
    assert [(s["institution_id"], s["site_id"]) for s in manifest["sites"]] == [
        (s["institution_id"], s["site_id"]) for s in SITES]
    assert {c["name"]: c["expect"] for c in manifest["cases"]} == CASE_EXPECT
    for case in manifest["cases"]:
        assert case["pfx"] == "cases/%s.p12" % case["name"]
        assert case["password_file"] == "cases/%s.password" % case["name"]
        assert case["description"]
    text = (lab.pki / "manifest.json").read_text()
    for name in expected_files(SITES):
        if name.endswith(".password"):
            assert (lab.pki / name).read_text() not in text
    assert "PRIVATE KEY" not in text


# --- CAs and the lab WAF's server certificate ----------------------------------

def test_client_ca_chain(lab, tmp_path):
    root = lab.cert("client-root-ca.pem")
    issuing = lab.cert("client-issuing-ca.pem")
    assert root.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "EESZT Lab Client Root CA"
    root.verify_directly_issued_by(root)
    issuing.verify_directly_issued_by(root)
    for cert in (root, issuing):
        assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    bundle = x509.load_pem_x509_certificates((lab.pki / "client-ca-bundle.pem").read_bytes())
    assert [fingerprint(c) for c in bundle] == [fingerprint(issuing), fingerprint(root)]
    assert openssl_verify(tmp_path, lab.pki / "client-root-ca.pem", issuing)[0] == 0


def test_server_certificate(lab, tmp_path):
    server_ca = lab.cert("server-ca.pem")
    assert server_ca.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "EESZT Lab Server CA"
    leaf = lab.cert("waf-server.pem")
    assert ekus(leaf) == [ExtendedKeyUsageOID.SERVER_AUTH]
    san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["eeszt-lab.localhost", "localhost"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]
    key = serialization.load_pem_private_key((lab.pki / "waf-server.key").read_bytes(), None)
    assert public_der(key) == cert_public_der(leaf)
    fullchain = x509.load_pem_x509_certificates((lab.pki / "waf-server-fullchain.pem").read_bytes())
    assert [fingerprint(c) for c in fullchain] == [fingerprint(leaf), fingerprint(server_ca)]
    bundle = x509.load_pem_x509_certificates((lab.pki / "eeszt-ca-bundle.pem").read_bytes())
    assert [fingerprint(c) for c in bundle] == [fingerprint(server_ca)]
    cafile = lab.pki / "eeszt-ca-bundle.pem"
    for name in ("eeszt-lab.localhost", "localhost"):
        assert openssl_verify(tmp_path, cafile, leaf, "-purpose", "sslserver", "-verify_hostname", name)[0] == 0
    assert openssl_verify(tmp_path, cafile, leaf, "-purpose", "sslserver", "-verify_ip", "127.0.0.1")[0] == 0
    assert openssl_verify(tmp_path, cafile, leaf, "-verify_hostname", "other.example")[0] != 0
    assert openssl_verify(tmp_path, cafile, leaf, "-verify_ip", "127.0.0.2")[0] != 0


def tls_handshake(lab, server_name):
    """Handshake over a socket pair: lab WAF credentials against a client trusting eeszt-ca-bundle.pem."""
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(str(lab.pki / "waf-server-fullchain.pem"), str(lab.pki / "waf-server.key"))
    client_context = ssl.create_default_context(cafile=str(lab.pki / "eeszt-ca-bundle.pem"))
    server_sock, client_sock = socket.socketpair()
    server_sock.settimeout(10)
    client_sock.settimeout(10)
    server_errors = []

    def serve():
        try:
            with server_context.wrap_socket(server_sock, server_side=True) as tls:
                tls.recv(1)
        except (OSError, ssl.SSLError) as exc:
            server_errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client_context.wrap_socket(client_sock, server_hostname=server_name) as tls:
            return tls.getpeercert()["subject"]
    finally:
        client_sock.close()
        thread.join(10)
        server_sock.close()
        assert not thread.is_alive()


@pytest.mark.parametrize("server_name", ["127.0.0.1", "localhost", "eeszt-lab.localhost"])
def test_server_certificate_verifies_in_tls(lab, server_name):
    assert (("commonName", "eeszt-lab.localhost"),) in tls_handshake(lab, server_name)


def test_server_certificate_rejected_for_other_names(lab):
    with pytest.raises(ssl.SSLCertVerificationError):
        tls_handshake(lab, "waf.other.example")


# --- site PKCS#12 files -----------------------------------------------------------

@pytest.mark.parametrize("site", SITES, ids=lambda site: site["site_id"])
def test_site_pfx(lab, site, tmp_path):
    stem = "sites/%s-%s" % (site["institution_id"], site["site_id"])
    key, cert, extra = lab.open(stem)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert public_der(key) == cert_public_der(cert)
    assert [fingerprint(c) for c in extra] == [
        fingerprint(lab.cert("client-issuing-ca.pem")), fingerprint(lab.cert("client-root-ca.pem"))]
    assert ekus(cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.key_encipherment and not usage.key_cert_sign

    def attribute(oid):
        return [a.value for a in cert.subject.get_attributes_for_oid(oid)]

    assert attribute(NameOID.COMMON_NAME) == [site["institution_id"]]
    assert attribute(NameOID.SERIAL_NUMBER) == [site["institution_id"]]
    assert attribute(NameOID.ORGANIZATIONAL_UNIT_NAME) == [site["site_id"]]
    assert attribute(NameOID.ORGANIZATION_NAME) == ["Lab institution %s" % site["institution_id"]]
    assert attribute(NameOID.COUNTRY_NAME) == ["HU"]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == 365 * DAY
    assert abs(cert.not_valid_before_utc - (now() - DAY)) < datetime.timedelta(hours=1)

    entry = [s for s in lab.manifest["sites"] if s["site_id"] == site["site_id"]][0]
    assert entry["pfx"] == stem + ".p12" and entry["password_file"] == stem + ".password"
    assert entry["sha256"] == fingerprint(cert).hex()
    assert entry["serial"] == format(cert.serial_number, "x")
    assert entry["subject"] == "serialNumber=%s,CN=%s,OU=%s,O=Lab institution %s,C=HU" % (
        site["institution_id"], site["institution_id"], site["site_id"], site["institution_id"])
    assert entry["not_after"] == cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")

    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", cert, "-purpose", "sslclient")
    assert rc == 0, output
    rc, output = openssl("pkcs12", "-info", "-noout", "-in", str(lab.pki / (stem + ".p12")),
                         "-passin", "file:" + str(lab.pki / (stem + ".password")))
    assert rc == 0, output
    assert "MAC: sha256" in output
    assert output.count("PBES2, PBKDF2, AES-256-CBC") == 2, output


# --- the cases ------------------------------------------------------------------------

def test_case_expired(lab, tmp_path):
    key, leaf, _chain = lab.leaf("cases/expired")
    assert public_der(key) == cert_public_der(leaf)
    assert leaf.not_valid_after_utc < now()
    leaf.verify_directly_issued_by(lab.cert("client-issuing-ca.pem"))
    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", leaf, "-purpose", "sslclient")
    assert rc != 0 and "error 10 at 0 depth" in output, output  # X509_V_ERR_CERT_HAS_EXPIRED


def test_case_not_yet_valid(lab, tmp_path):
    key, leaf, _chain = lab.leaf("cases/not-yet-valid")
    assert public_der(key) == cert_public_der(leaf)
    assert leaf.not_valid_before_utc > now() + 29 * DAY
    leaf.verify_directly_issued_by(lab.cert("client-issuing-ca.pem"))
    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", leaf, "-purpose", "sslclient")
    assert rc != 0 and "error 9 at 0 depth" in output, output  # X509_V_ERR_CERT_NOT_YET_VALID


def test_case_unknown_ca(lab, tmp_path):
    key, leaf, chain = lab.leaf("cases/unknown-ca")
    rogue = lab.cert("cases/unknown-ca-root.pem")
    assert public_der(key) == cert_public_der(leaf)
    assert [fingerprint(c) for c in chain] == [fingerprint(rogue)]
    leaf.verify_directly_issued_by(rogue)
    assert rogue.subject != lab.cert("client-root-ca.pem").subject
    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", leaf, "-purpose", "sslclient")
    assert rc != 0 and "error 20 at 0 depth" in output, output  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
    rc, output = openssl_verify(tmp_path, lab.pki / "cases/unknown-ca-root.pem", leaf, "-purpose", "sslclient")
    assert rc == 0, output


def test_case_no_client_auth(lab, tmp_path):
    key, leaf, _chain = lab.leaf("cases/no-client-auth")
    assert public_der(key) == cert_public_der(leaf)
    assert ekus(leaf) == [ExtendedKeyUsageOID.SERVER_AUTH]
    cafile = lab.pki / "client-ca-bundle.pem"
    rc, output = openssl_verify(tmp_path, cafile, leaf, "-purpose", "sslclient")
    assert rc != 0 and "error 26 at 0 depth" in output, output  # X509_V_ERR_INVALID_PURPOSE
    assert openssl_verify(tmp_path, cafile, leaf)[0] == 0  # nothing else is wrong with it


def test_case_key_mismatch(lab, tmp_path):
    key, cert, extra = lab.open("cases/key-mismatch")
    certs = ([cert] if cert is not None else []) + list(extra)
    assert key is not None
    assert len(certs) == 3
    assert not any(public_der(key) == cert_public_der(c) for c in certs)
    _key, leaf, _chain = lab.leaf("cases/key-mismatch")
    assert ekus(leaf) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", leaf, "-purpose", "sslclient")
    assert rc == 0, output  # the certificate itself is good: only the key is wrong


@pytest.mark.parametrize("case", GOOD_CASES)
def test_good_cases(lab, case, tmp_path):
    key, cert, extra = lab.open("cases/" + case)
    assert cert is not None and public_der(key) == cert_public_der(cert)
    assert [fingerprint(c) for c in extra] == [
        fingerprint(lab.cert("client-issuing-ca.pem")), fingerprint(lab.cert("client-root-ca.pem"))]
    assert ekus(cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "999001"
    rc, output = openssl_verify(tmp_path, lab.pki / "client-ca-bundle.pem", cert, "-purpose", "sslclient")
    assert rc == 0, output
    days_left = (cert.not_valid_after_utc - now()) / DAY
    if case == "expiring-soon":
        assert 9 < days_left <= 10
    else:
        assert days_left > 360
    if case == "ec":
        assert isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name == "secp256r1"
    else:
        assert isinstance(key, rsa.RSAPrivateKey)


@pytest.mark.parametrize("case, certificates, key", [
    ("legacy-rc2", "pbeWithSHA1And40BitRC2-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC"),
    ("des3", "pbeWithSHA1And3-KeyTripleDES-CBC", "pbeWithSHA1And3-KeyTripleDES-CBC"),
])
def test_legacy_encryption(lab, case, certificates, key):
    # cryptography (test_good_cases) and the OpenSSL command line both read them.
    rc, output = openssl("pkcs12", "-legacy", "-info", "-noout", "-in", str(lab.pki / ("cases/%s.p12" % case)),
                         "-passin", "file:" + str(lab.pki / ("cases/%s.password" % case)))
    assert rc == 0, output
    assert "MAC: sha1" in output
    assert "PKCS7 Encrypted data: %s" % certificates in output
    assert "Shrouded Keybag: %s" % key in output
    assert output.count("Certificate bag") == 3


def test_case_truncated(lab):
    data = (lab.pki / "cases/truncated.p12").read_bytes()
    assert len(data) > 1000
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, lab.password("cases/truncated"))
    rc, _output = openssl("pkcs12", "-info", "-noout", "-in", str(lab.pki / "cases/truncated.p12"),
                          "-passin", "file:" + str(lab.pki / "cases/truncated.password"))
    assert rc != 0


# --- idempotence and updates -----------------------------------------------------------

def test_second_build_changes_nothing(lab_copy):
    before = snapshot(lab_copy.pki)
    for check_mode in (True, False):
        result = build_lab_pki(str(lab_copy.dir), SITES, check_mode=check_mode)
        assert (result["changed"], result["created"], result["updated"]) == (False, [], [])
        assert result["manifest"] == lab_copy.manifest
    assert snapshot(lab_copy.pki) == before


def test_adding_a_site_adds_only_its_files(lab_copy):
    before = snapshot(lab_copy.pki)
    sites = SITES + [{"institution_id": "100003", "site_id": "100003001"}]
    new_files = ["sites/100003-100003001.p12", "sites/100003-100003001.password"]

    result = build_lab_pki(str(lab_copy.dir), sites, check_mode=True)
    assert (result["changed"], sorted(result["created"]), result["updated"]) == (True, new_files, ["manifest.json"])
    assert result["manifest"]["sites"][2]["sha256"] is None
    assert snapshot(lab_copy.pki) == before

    result = build_lab_pki(str(lab_copy.dir), sites)
    assert (result["changed"], sorted(result["created"]), result["updated"]) == (True, new_files, ["manifest.json"])
    after = snapshot(lab_copy.pki)
    assert set(after) == set(before) | set(new_files)
    assert {k: v for k, v in after.items() if k in before and k != "manifest.json"} == {
        k: v for k, v in before.items() if k != "manifest.json"}
    assert [s["site_id"] for s in json.loads((lab_copy.pki / "manifest.json").read_text())["sites"]] == [
        "100001001", "10000200A", "100003001"]


def test_site_certificate_renewed_when_expiring(lab_copy):
    stem = "sites/100001-100001001"
    password = lab_copy.password(stem)
    key, cert, extra = lab_copy.open(stem)
    issuing_key = serialization.load_pem_private_key((lab_copy.pki / "client-issuing-ca.key").read_bytes(), None)
    short = _certs._issue(cert.subject, key.public_key(), lab_copy.cert("client-issuing-ca.pem"), issuing_key,
                          now() - 300 * DAY, now() + 59 * DAY, "client")
    (lab_copy.pki / (stem + ".p12")).write_bytes(
        _pkcs12._pkcs12_modern("site", key, short, extra, password.decode()))
    before = snapshot(lab_copy.pki)

    result = build_lab_pki(str(lab_copy.dir), SITES)
    assert result["created"] == [stem + ".p12"]
    assert result["updated"] == ["manifest.json"]
    assert lab_copy.password(stem) == password
    _key, renewed, _extra = lab_copy.open(stem)
    assert renewed.not_valid_after_utc > now() + 360 * DAY
    after = snapshot(lab_copy.pki)
    assert {k for k in after if after[k] != before[k]} == {stem + ".p12", "manifest.json"}


def test_lost_manifest_is_rebuilt_from_the_files(lab_copy):
    # Without the manifest every PKCS#12 file is opened and checked in full.
    (lab_copy.pki / "manifest.json").unlink()
    result = build_lab_pki(lab_copy.dir, SITES)
    assert (result["changed"], result["created"], result["updated"]) == (True, ["manifest.json"], [])
    assert json.loads((lab_copy.pki / "manifest.json").read_text()) == lab_copy.manifest


def test_changed_password_file_reissues_the_pfx(lab_copy):
    stem = "sites/100002-10000200A"
    (lab_copy.pki / (stem + ".password")).write_bytes(b"ChangedPassword_0123456789")
    result = build_lab_pki(str(lab_copy.dir), SITES)
    assert result["created"] == [stem + ".p12"]
    key, cert, _extra = lab_copy.open(stem)
    assert public_der(key) == cert_public_der(cert)


def test_swapped_case_file_is_reissued(lab_copy):
    for suffix in (".p12", ".password"):
        shutil.copy(str(lab_copy.pki / ("cases/expired" + suffix)), str(lab_copy.pki / ("cases/not-yet-valid" + suffix)))
    result = build_lab_pki(str(lab_copy.dir), SITES)
    assert result["created"] == ["cases/not-yet-valid.p12"]
    _key, leaf, _chain = lab_copy.leaf("cases/not-yet-valid")
    assert leaf.not_valid_before_utc > now() + 29 * DAY


def test_new_issuing_ca_reissues_what_it_signed(lab_copy):
    old_root = lab_copy.cert("client-root-ca.pem")
    (lab_copy.pki / "client-issuing-ca.key").unlink()
    predicted = build_lab_pki(str(lab_copy.dir), SITES, check_mode=True)
    result = build_lab_pki(str(lab_copy.dir), SITES)
    assert sorted(predicted["created"]) == sorted(result["created"])
    created = set(result["created"])
    assert {"client-issuing-ca.key", "client-issuing-ca.pem", "client-ca-bundle.pem"} <= created
    assert {"client-root-ca.pem", "server-ca.pem", "waf-server.pem"}.isdisjoint(created)
    assert {"cases/%s.p12" % name for name in CASE_EXPECT} <= created
    assert not any(name.endswith(".password") for name in created)
    issuing = lab_copy.cert("client-issuing-ca.pem")
    issuing.verify_directly_issued_by(old_root)
    for site in SITES:
        _key, leaf, _chain = lab_copy.leaf("sites/%s-%s" % (site["institution_id"], site["site_id"]))
        leaf.verify_directly_issued_by(issuing)


def test_new_waf_names_reissue_only_the_server_certificate(lab_copy):
    result = build_lab_pki(str(lab_copy.dir), SITES, waf_hostnames=["waf.lab.example"], waf_ips=["127.0.0.1", "::1"])
    assert sorted(result["created"]) == ["waf-server-fullchain.pem", "waf-server.key", "waf-server.pem"]
    san = lab_copy.cert("waf-server.pem").extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["waf.lab.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1", "::1"]


def test_modes_are_repaired(lab_copy):
    os.chmod(str(lab_copy.pki / "client-root-ca.key"), 0o644)
    os.chmod(str(lab_copy.pki / "sites"), 0o755)
    result = build_lab_pki(str(lab_copy.dir), SITES)
    assert (result["changed"], result["created"], result["updated"]) == (True, [], [])
    assert stat.S_IMODE(os.stat(str(lab_copy.pki / "client-root-ca.key")).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(str(lab_copy.pki / "sites")).st_mode) == 0o700


# --- check mode ---------------------------------------------------------------------------

def test_check_mode_on_an_empty_directory_writes_nothing(tmp_path):
    result = build_lab_pki(str(tmp_path), SITES, check_mode=True)
    assert result["changed"] is True
    assert set(result["created"]) == expected_files(SITES)
    assert os.listdir(str(tmp_path)) == []
    assert [s["sha256"] for s in result["manifest"]["sites"]] == [None, None]
    assert result["manifest"]["certificates"]["client_root_ca"] is None


# --- input validation ----------------------------------------------------------------------

@pytest.mark.parametrize("sites, kwargs, message", [
    ([{"institution_id": "12345", "site_id": "100001001"}], {}, "sites[0].institution_id '12345' does not match"),
    ([{"institution_id": "1234567", "site_id": "100001001"}], {}, "sites[0].institution_id"),
    ([{"institution_id": "100001", "site_id": "10000100"}], {}, "sites[0].site_id '10000100' does not match"),
    ([{"institution_id": "100001", "site_id": "100001001\n"}], {}, "sites[0].site_id"),
    (SITES + [{"institution_id": "100001", "site_id": "100001001"}], {},
     "sites[2]: duplicate site institution_id 100001, site_id 100001001 (already given as sites[0])"),
    ([{"institution_id": "100001"}], {}, "sites[0].site_id is required"),
    (["100001"], {}, "sites[0] must be a dictionary"),
    ("100001", {}, "sites must be a list"),
    ([{"institution_id": True, "site_id": "100001001"}], {}, "sites[0].institution_id must be a string"),
    ([{"institution_id": "../etc", "site_id": "100001001"}], {"institution_id_pattern": ".*"},
     "sites[0].institution_id '../etc' cannot be used in a file name"),
    (SITES, {"site_id_pattern": "[0-9"}, "site_id_pattern '[0-9' is not a valid regular expression"),
    (SITES, {"waf_ips": ["127.0.0.1", "localhost"]}, "waf_ips[1] 'localhost' is not an IP address"),
    (SITES, {"waf_hostnames": ["good.example", "bad name"]}, "waf_hostnames[1] 'bad name' is not a valid DNS name"),
    (SITES, {"waf_hostnames": []}, "waf_hostnames must be a non-empty list"),
])
def test_bad_input_is_refused_before_anything_is_written(tmp_path, sites, kwargs, message):
    with pytest.raises(LabPKIError) as caught:
        build_lab_pki(str(tmp_path), sites, **kwargs)
    assert message in str(caught.value)
    assert isinstance(caught.value, EESZTConnectError)
    assert os.listdir(str(tmp_path)) == []


def test_patterns_can_be_overridden(tmp_path):
    sites = [{"institution_id": "A12345", "site_id": 100001001001}]
    result = build_lab_pki(str(tmp_path), sites, check_mode=True,
                           institution_id_pattern=r"^[A-Z][0-9]{5}$", site_id_pattern=r"^[0-9]{9,12}$")
    assert result["manifest"]["sites"][0]["pfx"] == "sites/A12345-100001001001.p12"


def test_unusable_lab_directory(tmp_path):
    (tmp_path / "pki").write_text("not a directory")
    with pytest.raises(LabPKIError, match="is not a directory"):
        build_lab_pki(str(tmp_path), SITES)


# --- the PKCS#12 building blocks -----------------------------------------------------------

def test_rc2_matches_rfc2268_and_cryptography():
    # RFC 2268, section 5: 63 effective bits, zero key; 128 bits.
    words = _pkcs12._rc2_expand(bytes(8), 63)
    assert _pkcs12._rc2_encrypt_block(words, bytes(8)).hex() == "ebb773f993278eff"
    words = _pkcs12._rc2_expand(bytes.fromhex("88bca90e90875a7f0f79c384627bafb2"), 128)
    assert _pkcs12._rc2_encrypt_block(words, bytes(8)).hex() == "2269552ab0f85ca6"
    key, iv, data = os.urandom(16), os.urandom(8), os.urandom(45)
    encryptor = Cipher(RC2(key), modes.CBC(iv)).encryptor()
    pad = 8 - len(data) % 8
    expected = encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()
    assert _pkcs12._rc2_cbc_encrypt(key, 128, iv, data) == expected


def test_key_mismatch_builder_refuses_a_matching_key(lab):
    key, cert, extra = lab.open("sites/100001-100001001")
    with pytest.raises(LabPKIError):
        _pkcs12.pkcs12_key_mismatch("x", key, cert, extra, "password-0123456789")


# --- renewal by the lab issuer (renew_site_pfx) ----------------------------------------------

def test_renewal_keeps_subject_and_issuer_with_a_new_key_and_serial(lab_copy, tmp_path):
    stem = "sites/100001-100001001"
    old_key, old_cert, _extra = lab_copy.leaf(stem)
    target = tmp_path / "renewed" / "site.p12"
    facts = lab_pki.renew_site_pfx(str(lab_copy.dir), "100001", "100001001", str(target))
    password = (tmp_path / "renewed" / "site.password").read_text()
    assert password.endswith("\n") and len(password.strip()) == 24
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "renewed" / "site.password").stat().st_mode) == 0o600
    key, cert, extra = pkcs12.load_key_and_certificates(target.read_bytes(), password.strip().encode())
    issuing = lab_copy.cert("client-issuing-ca.pem")
    assert cert.subject == old_cert.subject and cert.issuer == issuing.subject
    cert.verify_directly_issued_by(issuing)
    assert cert.serial_number != old_cert.serial_number and public_der(key) != public_der(old_key)
    assert public_der(key) == cert_public_der(cert)
    assert ekus(cert) == [ExtendedKeyUsageOID.CLIENT_AUTH]
    assert sorted(fingerprint(c) for c in extra) == sorted(
        fingerprint(lab_copy.cert(name)) for name in ("client-issuing-ca.pem", "client-root-ca.pem"))
    assert 364 <= (cert.not_valid_after_utc - now()).days <= 365
    assert facts == {"path": str(target), "sha256": fingerprint(cert).hex(), "serial": format(cert.serial_number, "x"),
                     "sha1": cert.fingerprint(hashes.SHA1()).hex()}
    assert password.strip() not in json.dumps(facts)
    # The lab's own PFX of the site is left as it was.
    assert lab_copy.leaf(stem)[1] == old_cert


def test_renewal_in_place_with_a_given_password(lab_copy):
    target = lab_copy.pki / "sites" / "100001-100001001.p12"
    facts = lab_pki.renew_site_pfx(str(lab_copy.dir), "100001", "100001001", str(target), password="given-password-0123")
    assert (lab_copy.pki / "sites" / "100001-100001001.password").read_text() == "given-password-0123\n"
    cert = pkcs12.load_key_and_certificates(target.read_bytes(), b"given-password-0123")[1]
    assert fingerprint(cert).hex() == facts["sha256"]


@pytest.mark.parametrize("institution_id, site_id, message", [
    ("100009", "100009001", "has no PFX and password for institution 100009, site 100009001 "
                            "(sites/100009-100009001.p12); build the lab with this site first"),
    ("../x", "100001001", "institution_id '../x' cannot be used in a file name"),
])
def test_renewal_of_an_unknown_site_is_refused(lab_copy, tmp_path, institution_id, site_id, message):
    with pytest.raises(LabPKIError) as caught:
        lab_pki.renew_site_pfx(str(lab_copy.dir), institution_id, site_id, str(tmp_path / "new.p12"))
    assert message in str(caught.value)
    assert not (tmp_path / "new.p12").exists()
