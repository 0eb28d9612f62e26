# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the controller's PKCS#12 loader (``load_pfx`` + ``validate``, used by waf_certificate).

Whatever the bytes and the password, the loader must raise an
``EESZTConnectError`` (in practice ``EesztCertificateError``) whose message
names the file and never holds the password, or return usable contents;
never another exception, never a hang. Settings and the long-run switch
(``EESZT_FUZZ_EXAMPLES``) are described in ``conftest.py`` next to this file.
"""

import datetime
import json
import os

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.module_utils.common import der
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

SHOWN = "files/site-a.pfx"
LONG = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)


def examples(default):
    return LONG or default


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """The lab's good and bad PFX files with their passwords: {name: (bytes, password)}."""
    root = tmp_path_factory.mktemp("fuzz-pki")
    build_lab_pki(str(root), [{"institution_id": "100001", "site_id": "100001001"}])
    pki = root / "pki"
    manifest = json.loads((pki / "manifest.json").read_text())
    files = {}
    for entry in manifest["sites"] + manifest["cases"]:
        name = entry.get("name", "site")
        files[name] = ((pki / entry["pfx"]).read_bytes(), (pki / entry["password_file"]).read_text().strip())
    return files


def open_pfx(data, password):
    """load_pfx + validate as the action plugin runs them; the error or the validated result."""
    try:
        contents = cert.load_pfx("/nonexistent/site-a.pfx", password, data=data, display_path=SHOWN)
        return cert.validate(contents, display_path=SHOWN, min_days=0, warn_days=0)
    except EESZTConnectError as exc:
        message = str(exc)
        assert SHOWN in message or "cryptography" in message, message
        if isinstance(password, str) and len(password) >= 4:
            assert password not in message
        return exc


def _der(tag, content):
    length = len(content)
    if length < 0x80:
        head = bytes([length])
    else:
        raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
        head = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + head + content


def with_mac_iterations(data, iterations):
    """``data`` (a PFX) with its MAC iteration count replaced; the MAC itself is left as it was."""
    _tag, start, end = der.read(data, 0)
    version, auth_safe, mac = der.children(data, start, end)
    digest_info, salt = der.children(data, mac[1], mac[2])[:2]
    count = iterations.to_bytes(max(1, (iterations.bit_length() + 8) // 8), "big")
    mac_data = _der(0x30, _der(0x30, data[digest_info[1]:digest_info[2]]) + _der(0x04, data[salt[1]:salt[2]])
                    + _der(0x02, count))
    return _der(0x30, _der(0x02, data[version[1]:version[2]]) + _der(0x30, data[auth_safe[1]:auth_safe[2]]) + mac_data)


def test_every_truncation_is_reported_as_damaged(lab, fuzz):
    """Every prefix of the site PFX, and a dense sample of every other lab PFX, is a clear 'damaged' error."""
    with fuzz.timed(60):
        for name, (data, password) in sorted(lab.items()):
            lengths = range(len(data)) if name == "site" else sorted(
                set(range(0, len(data), 11)) | set(range(max(0, len(data) - 64), len(data))))
            for length in lengths:
                with fuzz.bounded():
                    result = open_pfx(data[:length], password)
                assert isinstance(result, cert.PfxCorruptError), (name, length, result)


def test_random_bytes(fuzz):
    @settings(max_examples=examples(200))
    @given(data=st.one_of(
        st.binary(max_size=4096),
        # DER-looking starts get past the first checks
        st.tuples(st.sampled_from([b"\x30\x82", b"\x30\x80", b"\x30\x84\xff\xff\xff\xff", b"\x30\x03\x02\x01\x03"]),
                  st.binary(max_size=2048)).map(b"".join),
        st.binary(max_size=64).map(lambda tail: b" \n-----BEGIN" + tail)),
        password=st.one_of(st.none(), st.text(max_size=40)))
    @example(data=b"", password="x")
    @example(data=b"\x30\x00", password=None)
    def check(data, password):
        with fuzz.bounded():
            result = open_pfx(data, password)
        assert isinstance(result, cert.PfxError)

    with fuzz.timed(fuzz.budget(200, 1)):
        check()


def test_bit_flips_of_lab_files(lab, fuzz):
    names = sorted(lab)

    @settings(max_examples=examples(120))
    @given(name=st.sampled_from(names),
           flips=st.lists(st.tuples(st.integers(0), st.integers(0, 7)), min_size=1, max_size=8))
    def check(name, flips):
        data, password = lab[name]
        mutated = bytearray(data)
        for position, bit in flips:
            mutated[position % len(mutated)] ^= 1 << bit
        assume(bytes(mutated) != data)
        with fuzz.bounded():
            result = open_pfx(bytes(mutated), password)
        # A flip may hit a byte the MAC does not cover (such as the version): the file may still open.
        assert isinstance(result, (cert.ValidatedCertificate, EESZTConnectError))

    with fuzz.timed(fuzz.budget(120, 1)):
        check()


def test_wrong_passwords(lab, fuzz):
    data, good = lab["site"]
    ordinary = st.text(max_size=64)
    unicode = st.text(st.characters(min_codepoint=0x80), min_size=1, max_size=64)
    surrogates = st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4)
    huge = st.tuples(st.characters(), st.integers(10 ** 4, 10 ** 6)).map(lambda pair: pair[0] * pair[1])

    @settings(max_examples=examples(60))
    @given(password=st.one_of(ordinary, unicode, surrogates, huge))
    @example(password="")
    @example(password=good + "\x00")
    @example(password=good.upper() if good.upper() != good else good + "x")
    @example(password="\udcff" + good)  # a lone surrogate (undecodable byte from the command line)
    def check(password):
        assume(password != good)
        with fuzz.bounded():
            result = open_pfx(data, password)
        assert isinstance(result, cert.PfxPasswordError), result

    with fuzz.timed(fuzz.budget(60, 2)):
        check()


def test_password_of_wrong_type_is_a_clear_error(lab):
    data, good = lab["site"]
    for password in (123456, b"\xff\xfe", ["x"]):
        result = open_pfx(data, password)
        assert isinstance(result, cert.PfxPasswordError), (password, result)


def test_huge_mac_iteration_count_is_refused_quickly(lab, fuzz):
    """Regression: a count of 2**31 made the pure-Python MAC check run for hours."""
    data, password = lab["site"]
    assert isinstance(open_pfx(with_mac_iterations(data, 2048), password), cert.ValidatedCertificate)
    for iterations in (2 ** 31 - 1, 2 ** 32 + 5, 10 ** 30):
        with fuzz.timed(5), fuzz.bounded():
            result = open_pfx(with_mac_iterations(data, iterations), password)
        assert isinstance(result, cert.PfxCorruptError), result
        assert "iteration" in str(result)


@pytest.fixture(scope="module")
def leaf_material():
    """An Ed25519 key and self-signed client certificate, byte for byte the same on every run."""
    key = ed25519.Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "100001 fuzz site")])
    leaf = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc))
            .not_valid_after(datetime.datetime(2049, 12, 31, tzinfo=datetime.timezone.utc))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("site.example")]), critical=False)
            .sign(key, None))
    return key, leaf.public_bytes(serialization.Encoding.DER)


def test_damaged_certificate_inside_an_intact_pfx(leaf_material, fuzz):
    """The MAC is right, the certificate inside is garbled: validate() must still fail cleanly."""
    key, der = leaf_material
    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                  .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC).hmac_hash(hashes.SHA256())
                  .build(b"secret"))

    @settings(max_examples=examples(60))
    @given(flips=st.lists(st.tuples(st.integers(0), st.integers(0, 7)), min_size=1, max_size=4),
           ca=st.booleans(), institution=st.sampled_from([None, "100001", "999999"]))
    # Regressions: a second SAN extension (DuplicateExtension), a SAN that is a SET (ValueError).
    @example(flips=[(166, 1)], ca=False, institution=None)
    @example(flips=[(172, 0)], ca=False, institution=None)
    def check(flips, ca, institution):
        mutated = bytearray(der)
        for position, bit in flips:
            mutated[position % len(mutated)] ^= 1 << bit
        try:
            damaged = x509.load_der_x509_certificate(bytes(mutated))
            data = pkcs12.serialize_key_and_certificates(b"a", key, damaged, None, encryption)
        except (ValueError, UnsupportedAlgorithm):
            assume(False)
        with fuzz.bounded():
            try:
                contents = cert.load_pfx("/nonexistent/site-a.pfx", "secret", data=data, display_path=SHOWN)
                cert.validate(contents, display_path=SHOWN, min_days=0, warn_days=0,
                              ca_certs=[damaged] if ca else None, institution_id=institution)
            except EESZTConnectError as exc:
                assert SHOWN in str(exc)

    with fuzz.timed(fuzz.budget(60, 1)):
        check()


def test_malformed_extension_in_an_intact_pfx_is_a_clear_error(leaf_material):
    """Regression: a SAN extension that is a SET instead of a SEQUENCE raised ValueError from validate()."""
    key, der = leaf_material
    leaf = x509.load_der_x509_certificate(der)
    damaged = (x509.CertificateBuilder().subject_name(leaf.subject).issuer_name(leaf.issuer)
               .public_key(key.public_key()).serial_number(2).not_valid_before(leaf.not_valid_before_utc)
               .not_valid_after(leaf.not_valid_after_utc)
               .add_extension(x509.UnrecognizedExtension(x509.ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x31\x00"),
                              critical=False)
               .sign(key, None))
    data = pkcs12.serialize_key_and_certificates(b"a", key, damaged, None,
                                                 serialization.BestAvailableEncryption(b"secret"))
    result = open_pfx(data, "secret")
    assert isinstance(result, cert.PfxCorruptError), result
    assert "damaged certificate" in str(result) and "subject_alternative_name" in str(result)
    # A damaged chain certificate is caught the same way.
    data = pkcs12.serialize_key_and_certificates(b"a", key, leaf, [damaged],
                                                 serialization.BestAvailableEncryption(b"secret"))
    result = open_pfx(data, "secret")
    assert isinstance(result, cert.PfxCorruptError) and "a chain certificate" in str(result), result


def test_any_unicode_password_opens_its_own_file(leaf_material, fuzz):
    """The MAC check (pure Python) and OpenSSL agree on every password, so a right one is never refused."""
    key, der = leaf_material
    leaf = x509.load_der_x509_certificate(der)

    @settings(max_examples=examples(40))
    @given(password=st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
                            min_size=1, max_size=40),
           level=st.sampled_from(["modern", "compat"]))
    @example(password="árvíztűrő tükörfúrógép", level="compat")
    @example(password="\U0001F512 lakat", level="modern")
    def check(password, level):
        if level == "modern":
            encryption = serialization.BestAvailableEncryption(password.encode("utf-8"))
        else:
            encryption = (serialization.PrivateFormat.PKCS12.encryption_builder().kdf_rounds(2048)
                          .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
                          .hmac_hash(hashes.SHA1()).build(password.encode("utf-8")))
        data = pkcs12.serialize_key_and_certificates(b"a", key, leaf, None, encryption)
        with fuzz.bounded():
            result = open_pfx(data, password)
        assert isinstance(result, cert.ValidatedCertificate), result

    with fuzz.timed(fuzz.budget(40, 1)):
        check()
