# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every refusal of the controller's PFX loader names exactly what is wrong.

Fed with pyca/cryptography's own PKCS#12 test vectors (the ``cryptography-vectors``
package, pinned to the installed cryptography) and with the lab's good and bad
files. Each file and password gives one outcome: it opens, or it is refused
with one stable ``error`` code and a message that names the file, says what
is wrong and what to do, and never holds the password.

Named after pki/pfx.py (``load_pfx``), which it mostly tests through the ``certificate`` facade; it also
tests the PKCS#12 reader of pki/pkcs12_der.py (``inspect_pfx``, ``verify_mac``) on the same vectors.
"""

import base64
import datetime
import hashlib
import hmac
import io
import json
import os
import subprocess
import zipfile

import pytest

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.kdf import pkcs12_kdf
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.module_utils.common import der
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

cryptography_vectors = pytest.importorskip("cryptography_vectors")

VECTORS = os.path.join(os.path.dirname(cryptography_vectors.__file__), "pkcs12")
SHOWN = "files/site-a.pfx"
# The vectors' passwords, as pyca/cryptography's tests use them.
CRYPTOGRAPHY = "cryptography"
PASSWORD = "password"
WRONG = "Wr0ng-Secret-7391"
# Inside the validity of every vector certificate that opens (2017..2038).
NOW = datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)

OPENS = None
NO_KEY = ("key_missing", "holds no private key")
NO_KEY_CA_ONLY = ("key_missing", "it is a trust store, not a client certificate")
NO_KEY_LEAF = ("key_missing", "the certificate was exported without its key")
NO_CERT = ("certificate_missing", "holds a private key but not its certificate")

# file -> (its password: None for a file exported without one, outcome with that password)
VECTOR_TABLE = {
    "cert-aes256cbc-no-key.p12": (CRYPTOGRAPHY, NO_KEY_CA_ONLY),  # a certificate and no private key
    "cert-key-aes256cbc.p12": (CRYPTOGRAPHY, OPENS),               # AES-256-CBC (PBES2)
    "cert-none-key-none.p12": (CRYPTOGRAPHY, OPENS),               # not encrypted, MAC with a password
    "cert-rc2-key-3des.p12": (CRYPTOGRAPHY, OPENS),                # legacy RC2-40 certificates, 3DES key
    "java-truststore.p12": (None, NO_KEY_CA_ONLY),                 # CA certificates only
    "name-1-no-pwd.p12": (None, OPENS),
    "name-1-pwd.p12": (PASSWORD, OPENS),
    "name-2-3-no-pwd.p12": (None, OPENS),
    "name-2-3-pwd.p12": (PASSWORD, OPENS),
    "name-2-no-pwd.p12": (None, OPENS),
    "name-2-pwd.p12": (PASSWORD, OPENS),
    "name-3-no-pwd.p12": (None, OPENS),
    "name-3-pwd.p12": (PASSWORD, OPENS),
    "name-all-no-pwd.p12": (None, OPENS),
    "name-all-pwd.p12": (PASSWORD, OPENS),
    "name-unicode-no-pwd.p12": (None, OPENS),
    "name-unicode-pwd.p12": (PASSWORD, OPENS),
    "no-cert-key-aes256cbc.p12": (CRYPTOGRAPHY, NO_CERT),          # a private key and no certificate
    "no-cert-name-2-no-pwd.p12": (None, NO_KEY_LEAF),               # certificates, none with a key
    "no-cert-name-2-pwd.p12": (PASSWORD, NO_KEY_LEAF),
    "no-cert-name-3-no-pwd.p12": (None, NO_KEY_LEAF),
    "no-cert-name-3-pwd.p12": (PASSWORD, NO_KEY_LEAF),
    "no-cert-name-all-no-pwd.p12": (None, NO_KEY_LEAF),
    "no-cert-name-all-pwd.p12": (PASSWORD, NO_KEY_LEAF),
    "no-cert-name-unicode-no-pwd.p12": (None, NO_KEY_LEAF),
    "no-cert-name-unicode-pwd.p12": (PASSWORD, NO_KEY_LEAF),
    "no-cert-no-name-no-pwd.p12": (None, NO_KEY_LEAF),
    "no-cert-no-name-pwd.p12": (PASSWORD, NO_KEY_LEAF),
    "no-name-no-pwd.p12": (None, OPENS),
    "no-name-pwd.p12": (PASSWORD, OPENS),
    "no-password.p12": (None, OPENS),                               # made with an empty password, RC2/3DES
}


def vector(name):
    with open(os.path.join(VECTORS, name), "rb") as handle:
        return handle.read()


def outcome(data, password, **kwargs):
    """load_pfx + validate as the action plugin runs them: ('opens', result) or (code, message)."""
    try:
        contents = cert.load_pfx("/nonexistent/site-a.pfx", password, data=data, display_path=SHOWN, **kwargs)
        result = cert.validate(contents, display_path=SHOWN, min_days=0, warn_days=0, now=NOW)
    except cert.PfxError as exc:
        message = str(exc)
        assert SHOWN in message, message
        # The vectors' passwords are words of the messages ("password", "cryptography CA"): the others
        # must never show up.
        if isinstance(password, str) and password.strip() not in ("", PASSWORD, CRYPTOGRAPHY):
            assert password.strip() not in message, message
        return exc.code, message
    return "opens", result


def assert_outcome(got, expected):
    if expected is OPENS:
        assert got[0] == "opens", got
        assert got[1].key is not None and got[1].certificate is not None
    else:
        code, phrase = expected
        assert got[0] == code, got
        assert phrase in got[1], got[1]


def test_the_table_covers_every_pkcs12_vector():
    names = set(name for name in os.listdir(VECTORS) if name.endswith(".p12"))
    assert names == set(VECTOR_TABLE)


def test_vectors_are_of_the_installed_cryptography():
    from importlib.metadata import version
    assert version("cryptography-vectors") == version("cryptography")


@pytest.mark.parametrize("name", sorted(VECTOR_TABLE))
def test_vector_with_its_own_password(name):
    password, expected = VECTOR_TABLE[name]
    assert_outcome(outcome(vector(name), password), expected)


@pytest.mark.parametrize("name", sorted(n for n, (p, e) in VECTOR_TABLE.items() if p is None))
@pytest.mark.parametrize("password", [None, ""], ids=["absent", "empty"])
def test_file_without_a_password_opens_with_an_empty_or_absent_one(name, password):
    assert_outcome(outcome(vector(name), password), VECTOR_TABLE[name][1])


@pytest.mark.parametrize("name", sorted(n for n, (p, e) in VECTOR_TABLE.items() if p is None))
@pytest.mark.parametrize("password", [CRYPTOGRAPHY, PASSWORD, WRONG])
def test_file_without_a_password_is_named_when_one_is_given(name, password):
    code, message = outcome(vector(name), password)
    assert code == "pfx_has_no_password"
    assert message == (
        "the PFX file %s has no password (it was exported without one), but eeszt_certificate_pfx_password "
        "is set; set it to an empty string or leave it unset for this file, or, if a password was meant to "
        "protect it, point eeszt_certificate_pfx_src at the password-protected file" % SHOWN)


@pytest.mark.parametrize("name", sorted(n for n, (p, e) in VECTOR_TABLE.items() if p is not None))
@pytest.mark.parametrize("password", [None, ""], ids=["absent", "empty"])
def test_file_with_a_password_names_the_missing_password(name, password):
    code, message = outcome(vector(name), password)
    assert code == "pfx_password_missing"
    assert message == (
        "the PFX file %s is protected by a password, but eeszt_certificate_pfx_password is empty or not "
        "set; set it (from Ansible Vault) to the password EESZT sent by SMS" % SHOWN)


@pytest.mark.parametrize("name", sorted(n for n, (p, e) in VECTOR_TABLE.items() if p is not None))
def test_file_with_a_password_refuses_a_wrong_one(name):
    own = VECTOR_TABLE[name][0]
    other = PASSWORD if own == CRYPTOGRAPHY else CRYPTOGRAPHY
    for password in (WRONG, other):
        code, message = outcome(vector(name), password)
        assert code == "pfx_wrong_password"
        assert message == (
            "the password for the PFX file %s is wrong (the integrity check failed); check "
            "eeszt_certificate_pfx_password (the password EESZT sent by SMS)" % SHOWN)


def test_certificate_without_private_key_says_the_key_is_missing():
    """Issue 12 §3: it said 'holds no certificate; export it again with the certificate included'."""
    code, message = outcome(vector("cert-aes256cbc-no-key.p12"), CRYPTOGRAPHY)
    assert code == "key_missing"
    assert message == (
        "the PFX file %s holds no private key, only 1 CA certificate (CN=cryptography CA,C=US): it is a "
        "trust store, not a client certificate; export it again with the private key included (Windows "
        "certificate export: 'Yes, export the private key'; OpenSSL: openssl pkcs12 -export -inkey key.pem "
        "-in cert.pem -certfile chain.pem), or point eeszt_certificate_pfx_src at the PFX file EESZT issued"
        % SHOWN)
    code, message = outcome(vector("no-cert-name-2-pwd.p12"), PASSWORD)
    assert code == "key_missing"
    assert message.startswith(
        "the PFX file %s holds no private key, only 2 certificates (CN=www.cryptography.io," % SHOWN)
    assert message.endswith(
        "): the certificate was exported without its key; export it again with the private key included "
        "(Windows certificate export: 'Yes, export the private key'; OpenSSL: openssl pkcs12 -export -inkey "
        "key.pem -in cert.pem -certfile chain.pem), or point eeszt_certificate_pfx_src at the PFX file EESZT "
        "issued")
    assert "holds no certificate" not in message


def test_private_key_without_certificate_says_the_certificate_is_missing():
    code, message = outcome(vector("no-cert-key-aes256cbc.p12"), CRYPTOGRAPHY)
    assert code == "certificate_missing"
    assert message == (
        "the PFX file %s holds a private key but not its certificate; export it again with the client "
        "certificate included (Windows: export the certificate, not the key alone; OpenSSL: openssl pkcs12 "
        "-export -inkey key.pem -in cert.pem -certfile chain.pem)" % SHOWN)


def test_legacy_vector_reports_its_algorithms():
    contents = cert.load_pfx("x", CRYPTOGRAPHY, data=vector("cert-rc2-key-3des.p12"))
    assert contents.algorithms == ["RC2-40", "3DES"]


def test_the_ber_encoded_vector_opens_without_a_warning(recwarn):
    cert.load_pfx("x", "", data=vector("no-password.p12"))
    assert [str(w.message) for w in recwarn] == []


# --- passwords with a trailing line break or whitespace (issue 11) --------------------------------------------

@pytest.mark.parametrize("suffix,odd", [
    ("\n", "ends with a line break"),
    ("\r\n", "ends with a line break"),
    ("\n ", "ends with a line break"),
    (" ", "begins or ends with whitespace"),
    ("\t", "begins or ends with whitespace"),
])
def test_trailing_line_break_is_named_and_the_fix_given(suffix, odd):
    code, message = outcome(vector("cert-key-aes256cbc.p12"), CRYPTOGRAPHY + suffix)
    assert code == "pfx_wrong_password"
    assert message == (
        "the password for the PFX file %s is wrong: the value of eeszt_certificate_pfx_password %s, and "
        "without it the password is right. A secret encrypted with 'echo PASSWORD | ansible-vault "
        "encrypt_string' keeps echo's line break; encrypt it again without it: printf '%%s' 'PASSWORD' | "
        "ansible-vault encrypt_string --stdin-name vault_pfx_password_123456 (or echo -n), and paste the "
        "result into the inventory" % (SHOWN, odd))
    assert CRYPTOGRAPHY not in message


def test_leading_whitespace_is_named_too():
    code, message = outcome(vector("cert-key-aes256cbc.p12"), " " + CRYPTOGRAPHY)
    assert code == "pfx_wrong_password"
    assert "begins or ends with whitespace, and without it the password is right" in message


def test_wrong_password_with_a_line_break_is_still_called_wrong():
    code, message = outcome(vector("cert-key-aes256cbc.p12"), WRONG + "\n")
    assert code == "pfx_wrong_password"
    assert ("ends with a line break (without it the password is still wrong: check it against the SMS "
            "from EESZT)") in message
    assert "printf '%s' 'PASSWORD' | ansible-vault encrypt_string" in message


def test_a_line_break_for_a_file_without_a_password_names_the_file_as_such():
    code, dummy = outcome(vector("no-password.p12"), "\n")
    assert code == "pfx_has_no_password"


def test_the_messages_name_the_variables_of_the_caller():
    """The proofs role seals with its own variables: the messages name those."""
    names = dict(src_variable="eeszt_proofs_signing_pfx", password_variable="eeszt_proofs_signing_pfx_password")
    code, message = outcome(vector("cert-key-aes256cbc.p12"), "", **names)
    assert code == "pfx_password_missing" and "eeszt_proofs_signing_pfx_password is empty" in message
    code, message = outcome(vector("no-password.p12"), WRONG, **names)
    assert code == "pfx_has_no_password"
    assert "eeszt_proofs_signing_pfx_password is set" in message and "point eeszt_proofs_signing_pfx at" in message
    assert "eeszt_certificate_pfx" not in message


# --- damaged files, other kinds of files, unsupported encryption ---------------------------------------------

@pytest.mark.parametrize("cut", [1, 2, 100, -200, -1])
def test_truncated_vector_is_damaged(cut):
    data = vector("cert-key-aes256cbc.p12")
    code, message = outcome(data[:cut], CRYPTOGRAPHY)
    assert code == "pfx_corrupt"
    assert message.startswith("the PFX file %s is damaged or truncated (" % SHOWN)
    assert message.endswith("); download the certificate again or copy the complete file")


def test_trailing_garbage_is_damage():
    code, message = outcome(vector("cert-key-aes256cbc.p12") + b"\0" * 3, CRYPTOGRAPHY)
    assert code == "pfx_corrupt"
    assert "(3 trailing bytes after the PKCS#12 structure)" in message


def test_empty_file():
    assert outcome(b"", CRYPTOGRAPHY) == (
        "pfx_corrupt", "the PFX file %s is empty (0 bytes); download the certificate again or copy the "
        "complete file" % SHOWN)


def _ca_der():
    with open(os.path.join(VECTORS, "ca", "ca.pem"), "rb") as handle:
        pem = handle.read()
    from cryptography import x509
    return pem, x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


def _zip(data):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("123456.pfx", data)
    return buffer.getvalue()


@pytest.mark.parametrize("kind,make,text", [
    ("pem", lambda: _ca_der()[0], "is PEM text, not a PKCS#12 (PFX) file; point eeszt_certificate_pfx_src at "
     "the .pfx/.p12 file from EESZT"),
    ("der-certificate", lambda: _ca_der()[1], "is a single certificate (DER, like a .cer/.crt file), not a "
     "PKCS#12 (PFX) file: it holds no private key; point eeszt_certificate_pfx_src at the .pfx/.p12 file "
     "from EESZT, which holds the certificate with its private key"),
    ("zip", lambda: _zip(vector("cert-key-aes256cbc.p12")), "is a ZIP archive, not a PKCS#12 (PFX) file; "
     "unpack it and point eeszt_certificate_pfx_src at the .pfx/.p12 file inside"),
    ("base64", lambda: base64.encodebytes(vector("cert-key-aes256cbc.p12")), "is base64 text, not a binary "
     "PKCS#12 (PFX) file; decode it once (base64 -d FILE > FILE.pfx) and point eeszt_certificate_pfx_src at "
     "the result"),
    ("text", lambda: b"password: 123456\n", "is not a PKCS#12 (PFX) file (it does not begin with the DER "
     "structure every PFX file begins with); point eeszt_certificate_pfx_src at the .pfx/.p12 file from EESZT"),
])
def test_another_kind_of_file_is_named(kind, make, text):
    assert outcome(make(), CRYPTOGRAPHY) == ("pfx_not_pkcs12", "the file %s %s" % (SHOWN, text))


def _remac(data, password):
    """``data`` with its SHA-1 MAC recomputed for ``password`` (after an edit of its content)."""
    info = cert.inspect_pfx(data)
    mac = info["mac"]
    key = pkcs12_kdf(hashlib.sha1, 64, password.encode("utf-16-be") + b"\0\0", mac["salt"],
                     mac["iterations"], 3, 20)
    return data.replace(mac["digest"], hmac.new(key, info["auth_safe"], hashlib.sha1).digest())


def test_unsupported_encryption_is_named_with_its_oid():
    data = vector("cert-key-aes256cbc.p12")
    aes256cbc, aes256ofb = der.encode_oid("2.16.840.1.101.3.4.1.42"), der.encode_oid("2.16.840.1.101.3.4.1.43")
    assert data.count(aes256cbc) == 2
    data = _remac(data.replace(aes256cbc, aes256ofb), CRYPTOGRAPHY)
    assert cert.unsupported_algorithms(cert.inspect_pfx(data)) == ["2.16.840.1.101.3.4.1.43"]
    assert outcome(data, CRYPTOGRAPHY) == (
        "pfx_unsupported_algorithm", "the PFX file %s is encrypted with an algorithm that the controller's "
        "cryptography library cannot decrypt (OID 2.16.840.1.101.3.4.1.43); export it again with AES-256-CBC "
        "(PBES2) or 3DES encryption" % SHOWN)


@pytest.mark.parametrize("name", ["cert-key-aes256cbc.p12", "cert-rc2-key-3des.p12", "name-all-pwd.p12"])
def test_supported_encryption_is_not_called_unsupported(name):
    assert cert.unsupported_algorithms(cert.inspect_pfx(vector(name))) == []


def _encrypted_key_end(data):
    """Offset in ``data`` of the last byte of the encrypted private key (the shrouded key bag)."""
    auth_safe = cert.inspect_pfx(data)["auth_safe"]
    base = data.index(auth_safe)
    children = der.children
    outer = children(auth_safe, 0, len(auth_safe))[0]
    for content_info in children(auth_safe, outer[1], outer[2]):
        oid, explicit = children(auth_safe, content_info[1], content_info[2])
        if der.oid_text(auth_safe[oid[1]:oid[2]]) != "1.2.840.113549.1.7.1":
            continue
        octet = children(auth_safe, explicit[1], explicit[2])[0]
        bags = children(auth_safe, octet[1], octet[2])[0]
        for bag in children(auth_safe, bags[1], bags[2]):
            bag_id, value = children(auth_safe, bag[1], bag[2])[:2]
            if der.oid_text(auth_safe[bag_id[1]:bag_id[2]]) == "1.2.840.113549.1.12.10.1.2":
                encrypted = children(auth_safe, *children(auth_safe, value[1], value[2])[0][1:])[1]
                return base + encrypted[2] - 1
    raise AssertionError("no shrouded key bag")


def test_damaged_content_behind_a_valid_mac_is_damage():
    data = bytearray(vector("cert-key-aes256cbc.p12"))
    data[_encrypted_key_end(bytes(data))] ^= 0xFF  # breaks the CBC padding of the key
    damaged = _remac(bytes(data), CRYPTOGRAPHY)  # as if the file had been made that way
    assert cert.verify_mac(cert.inspect_pfx(damaged), CRYPTOGRAPHY) is True
    code, message = outcome(damaged, CRYPTOGRAPHY)
    assert code == "pfx_corrupt"
    assert message.startswith("the PFX file %s has a valid password but its content cannot be decoded (" % SHOWN)
    assert message.endswith("); download the certificate again")


def test_missing_file_names_the_variable(tmp_path):
    with pytest.raises(cert.PfxNotFoundError) as info:
        cert.load_pfx(str(tmp_path / "absent.p12"), "x", display_path="files/absent.p12")
    assert info.value.code == "pfx_not_found"
    assert str(info.value) == ("cannot read the PFX file files/absent.p12: No such file or directory; check "
                               "eeszt_certificate_pfx_src")


def test_password_that_is_no_text():
    assert outcome(vector("no-password.p12"), 123456) == (
        "pfx_wrong_password", "the password for the PFX file %s must be text, got int; quote "
        "eeszt_certificate_pfx_password" % SHOWN)


def _openssl_nomac(tmp_path, password, encrypt):
    """A PFX without a MAC (openssl pkcs12 -nomac), encrypted or not."""
    pem, dummy = _ca_der()
    with open(os.path.join(VECTORS, "ca", "ca_key.pem"), "rb") as handle:
        key = handle.read()
    (tmp_path / "in.pem").write_bytes(pem + key)
    out = tmp_path / "nomac.p12"
    args = ["openssl", "pkcs12", "-export", "-nomac", "-in", str(tmp_path / "in.pem"), "-out", str(out),
            "-passout", "pass:" + password]
    if not encrypt:
        args += ["-keypbe", "NONE", "-certpbe", "NONE"]
    subprocess.run(args, check=True, timeout=60, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return out.read_bytes()


def test_without_a_mac_a_wrong_password_cannot_be_told_from_damage(tmp_path):
    data = _openssl_nomac(tmp_path, CRYPTOGRAPHY, encrypt=True)
    assert cert.inspect_pfx(data)["mac"] is None
    assert outcome(data, CRYPTOGRAPHY)[0] == "opens"
    assert outcome(data, WRONG) == (
        "pfx_wrong_password", "the PFX file %s cannot be opened, and it has no integrity check (MAC) that "
        "could tell a wrong password from damaged content; check eeszt_certificate_pfx_password and the file"
        % SHOWN)
    assert outcome(data, "")[1].endswith("check eeszt_certificate_pfx_password (it is empty) and the file")


def test_without_a_mac_and_encryption_a_given_password_is_named(tmp_path):
    data = _openssl_nomac(tmp_path, "", encrypt=False)
    info = cert.inspect_pfx(data)
    assert info["mac"] is None and info["algorithms"] == []
    assert outcome(data, None)[0] == "opens"
    assert outcome(data, "")[0] == "opens"
    assert outcome(data, CRYPTOGRAPHY)[0] == "pfx_has_no_password"


def test_key_that_does_not_belong_to_its_certificate():
    with_cert = cert.load_pfx("x", CRYPTOGRAPHY, data=vector("cert-key-aes256cbc.p12"))
    contents = cert.PfxContents("x", ec.generate_private_key(ec.SECP256R1()), with_cert.certificate, [], [])
    with pytest.raises(cert.KeyMismatchError) as info:
        cert.validate(contents, display_path=SHOWN, now=NOW, min_days=0, warn_days=0)
    assert info.value.code == "key_mismatch"
    assert str(info.value) == (
        "the private key in %s does not belong to its certificate (CN=cryptography CA,C=US); the file was "
        "assembled from the wrong parts: download the original PFX again" % SHOWN)


def test_empty_inside():
    contents = cert.PfxContents("x", None, None, [], [])
    with pytest.raises(cert.KeyMissingError) as info:
        cert.validate(contents, display_path=SHOWN, now=NOW)
    assert str(info.value).startswith("the PFX file %s holds no private key and no certificate (it is empty "
                                      "inside); export it again with the private key included" % SHOWN)


def test_every_refusal_has_its_own_code():
    classes = [cert.PfxNotFoundError, cert.PfxCorruptError, cert.PfxNotPkcs12Error, cert.PfxPasswordError,
               cert.PfxPasswordMissingError, cert.PfxHasNoPasswordError, cert.PfxLegacyUnsupportedError,
               cert.PfxUnsupportedAlgorithmError, cert.KeyMissingError, cert.CertificateMissingError,
               cert.KeyMismatchError, cert.CertificateExpiredError, cert.CertificateNotYetValidError,
               cert.CertificateExpiresSoonError, cert.ClientAuthMissingError, cert.ChainError,
               cert.UntrustedIssuerError, cert.InstitutionMismatchError]
    codes = [c.code for c in classes]
    assert len(set(codes)) == len(codes)
    # Codes that playbooks, Molecule and the docs already match on stay as they were.
    kept = (cert.PfxCorruptError, cert.PfxPasswordError, cert.KeyMissingError, cert.CertificateMissingError)
    assert [c.code for c in kept] == ["pfx_corrupt", "pfx_wrong_password", "key_missing", "certificate_missing"]
    # The finer codes stay catchable as the broader ones.
    assert issubclass(cert.PfxNotPkcs12Error, cert.PfxCorruptError)
    assert issubclass(cert.PfxPasswordMissingError, cert.PfxPasswordError)
    assert issubclass(cert.PfxHasNoPasswordError, cert.PfxPasswordError)


# --- the lab's files -------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(root), [{"institution_id": "100001", "site_id": "100001001"}])
    pki = root / "pki"
    manifest = json.loads((pki / "manifest.json").read_text())
    files = {}
    for entry in manifest["sites"] + manifest["cases"]:
        files[entry.get("name", "site")] = ((pki / entry["pfx"]).read_bytes(),
                                            (pki / entry["password_file"]).read_text().strip())
    files["anchors"] = cert.load_ca_file(str(pki / "client-ca-bundle.pem"))
    return files


LAB_CASES = {
    "site": ("opens", None),
    "legacy-rc2": ("opens", None),
    "des3": ("opens", None),
    "ec": ("opens", None),
    "expiring-soon": ("certificate_expires_soon", "fewer than the required 14 (eeszt_certificate_min_days)"),
    "expired": ("certificate_expired", "expired on"),
    "not-yet-valid": ("certificate_not_yet_valid", "is not valid yet"),
    "unknown-ca": ("issuer_untrusted", "which is not in the CA file"),
    "no-client-auth": ("client_auth_missing", "its extended key usage lacks clientAuth"),
    "key-mismatch": ("key_mismatch", "belongs to none of the 3 certificates in the file"),
    "truncated": ("pfx_corrupt", "is damaged or truncated"),
}


@pytest.mark.parametrize("name", sorted(LAB_CASES))
def test_lab_files(lab, name):
    data, password = lab[name]
    code, phrase = LAB_CASES[name]
    try:
        contents = cert.load_pfx("/lab/x.p12", password, data=data, display_path=SHOWN)
        cert.validate(contents, ca_certs=lab["anchors"], display_path=SHOWN)
        got, message = "opens", ""
    except cert.PfxError as exc:
        got, message = exc.code, str(exc)
    assert got == code, message
    if phrase:
        assert phrase in message and SHOWN in message and password not in message


@pytest.mark.parametrize("name", ["site", "legacy-rc2", "des3", "ec", "expired"])
def test_lab_files_refuse_missing_and_whitespace_passwords(lab, name):
    data, password = lab[name]
    assert outcome(data, "")[0] == "pfx_password_missing"
    assert outcome(data, None)[0] == "pfx_password_missing"
    code, message = outcome(data, password + "\n")
    assert code == "pfx_wrong_password" and "ends with a line break, and without it the password is right" in message


def _without_password(lab):
    data, password = lab["site"]
    loaded = pkcs12.load_pkcs12(data, password.encode())
    return pkcs12.serialize_key_and_certificates(
        b"site", loaded.key, loaded.cert.certificate, [c.certificate for c in loaded.additional_certs],
        serialization.NoEncryption())


@pytest.mark.parametrize("password", [None, ""], ids=["absent", "empty"])
def test_lab_site_pfx_without_a_password_opens_and_validates(lab, password):
    contents = cert.load_pfx("/lab/x.p12", password, data=_without_password(lab), display_path=SHOWN)
    result = cert.validate(contents, ca_certs=lab["anchors"], display_path=SHOWN)
    assert result.facts["days_left"] > 300


def test_lab_site_pfx_without_a_password_refuses_the_old_one(lab):
    code, message = outcome(_without_password(lab), lab["site"][1])
    assert code == "pfx_has_no_password"
