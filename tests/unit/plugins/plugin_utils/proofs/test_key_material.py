# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, point 6: no private key in any encoding leaves a site as an operator file.

``operator_content_problem`` (what the proofs_archive action asks of every fetched operator file) refuses a
file that holds a private key or a PKCS#12 file: PEM, DER, encrypted, behind bounded gzip/bzip2/xz/zip
unpacking, UTF-16/UTF-32 text and base64. Honest files (certificates, XML, PDF, random bytes, an empty file)
pass, and a decompression bomb is inspected within bounded memory.
"""

import base64
import bz2
import datetime
import gzip
import io
import lzma
import random
import tracemalloc
import zipfile
import zlib

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._pkcs12 import pkcs12_legacy_rc2
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import operator_content_problem


def limits():
    """The module that holds the limits (imported here: before issue 21 it did not exist, and the other tests
    of this file must fail on their assertions there, not on an import)."""
    from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import key_material
    return key_material


NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
NEVER = "a private key is never archived (check eeszt_proofs_operator_files)"
DER = serialization.Encoding.DER
PEM = serialization.Encoding.PEM
PKCS8 = serialization.PrivateFormat.PKCS8
TRADITIONAL = serialization.PrivateFormat.TraditionalOpenSSL
PLAIN = serialization.NoEncryption()
XML = (b'<?xml version="1.0" encoding="UTF-8"?>\n<eredmeny><intezmeny>100001</intezmeny>'
       b'<telephely>100001001</telephely><allapot>sikeres</allapot>'
       b'<tanusitvany>MIIBszCCAVmgAwIBAgIUQ0vB</tanusitvany></eredmeny>\n')
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


@pytest.fixture(scope="module")
def keys():
    return {"rsa": rsa.generate_private_key(public_exponent=65537, key_size=2048),
            "ec": ec.generate_private_key(ec.SECP256R1()),
            "ed25519": ed25519.Ed25519PrivateKey.generate()}


@pytest.fixture(scope="module")
def cert(keys):
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "100001 site 100001001")])
    return (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(keys["ec"].public_key())
            .serial_number(7).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=400)).sign(keys["ec"], hashes.SHA256()))


def key_bytes(key, encoding=DER, fmt=PKCS8, encryption=PLAIN):
    return key.private_bytes(encoding, fmt, encryption)


def pfx(keys, cert, password=b"sms-password-1234"):
    return pkcs12.serialize_key_and_certificates(b"waf", keys["ec"], cert, None,
                                                 serialization.BestAvailableEncryption(password))


def zipped(members):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def b64_lines(data, width=64):
    text = base64.b64encode(data)
    return b"\n".join(text[i:i + width] for i in range(0, len(text), width)) + b"\n"


def refused(data):
    problem = operator_content_problem(data)
    assert problem is not None, "not refused"
    assert problem.endswith(NEVER), problem
    return problem


# --- each encoding of a private key is refused, and the reason names what was found ------------------

def test_der_pkcs1_rsa(keys):
    assert refused(key_bytes(keys["rsa"], fmt=TRADITIONAL)).startswith("holds a DER RSA private key (PKCS#1)")


@pytest.mark.parametrize("kind", ["rsa", "ec", "ed25519"])
def test_der_pkcs8(keys, kind):
    assert refused(key_bytes(keys[kind])).startswith("holds a DER private key (PKCS#8)")


def test_der_sec1_ec(keys):
    assert refused(key_bytes(keys["ec"], fmt=TRADITIONAL)).startswith("holds a DER EC private key (SEC1)")


def test_der_encrypted_pkcs8(keys):
    data = key_bytes(keys["rsa"], encryption=serialization.BestAvailableEncryption(b"secret-pass"))
    assert refused(data).startswith("holds a DER encrypted private key (PKCS#8)")


def test_der_key_with_trailing_bytes(keys):
    assert refused(key_bytes(keys["ec"]) + b"\r\n\x00garbage").startswith("holds a DER private key (PKCS#8)")


@pytest.mark.parametrize("fmt, encryption", [
    (PKCS8, PLAIN), (TRADITIONAL, PLAIN), (PKCS8, serialization.BestAvailableEncryption(b"secret-pass")),
    (serialization.PrivateFormat.OpenSSH, PLAIN)], ids=["pkcs8", "pkcs1", "encrypted-pkcs8", "openssh"])
def test_pem(keys, fmt, encryption):
    kind = "ed25519" if fmt is serialization.PrivateFormat.OpenSSH else "rsa"
    data = b"log line\n" + key_bytes(keys[kind], PEM, fmt, encryption)
    assert refused(data) == "holds a PEM private key block; " + NEVER


def test_pem_marker_alone_is_enough():
    # Any text that holds a PEM private key marker, even without a loadable body.
    for marker in (b"-----BEGIN PRIVATE KEY-----", b"-----END EC PRIVATE KEY-----",
                   b"-----BEGIN PGP PRIVATE KEY BLOCK-----"):
        assert refused(b"junk " + marker + b"\nMIIE...\n") == "holds a PEM private key block; " + NEVER


def test_gzip_of_pem(keys):
    data = gzip.compress(key_bytes(keys["rsa"], PEM))
    assert refused(data) == "holds a PEM private key block (inside gzip); " + NEVER


def test_second_gzip_member(keys):
    data = gzip.compress(b"first member: a log\n") + gzip.compress(key_bytes(keys["ec"], PEM))
    assert refused(data) == "holds a PEM private key block (inside gzip); " + NEVER


def test_bzip2_of_der(keys):
    data = bz2.compress(key_bytes(keys["rsa"], fmt=TRADITIONAL))
    assert refused(data) == "holds a DER RSA private key (PKCS#1) (inside bzip2); " + NEVER


def test_xz_of_pem(keys):
    data = lzma.compress(key_bytes(keys["ec"], PEM))
    assert refused(data) == "holds a PEM private key block (inside xz); " + NEVER


def test_zip_containing_a_key(keys):
    data = zipped([("readme.txt", b"the operator's files\n"), ("site/key.der", key_bytes(keys["ec"]))])
    assert refused(data) == "holds a DER private key (PKCS#8) (inside zip member site/key.der); " + NEVER


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-16-le"])
def test_utf16_pem(keys, codec):
    text = key_bytes(keys["rsa"], PEM).decode("ascii")
    data = ("\ufeff" + text).encode(codec) if codec != "utf-16" else text.encode(codec)
    assert data[:2] in (b"\xff\xfe", b"\xfe\xff")
    assert refused(data) == "holds a PEM private key block (inside UTF-16 text); " + NEVER


def test_utf16_pem_without_byte_order_mark(keys):
    data = key_bytes(keys["ec"], PEM).decode("ascii").encode("utf-16-le")
    assert refused(data) == "holds a PEM private key block (inside UTF-16 text); " + NEVER


@pytest.mark.parametrize("codec", ["utf-32", "utf-32-be"])
def test_utf32_pem(keys, codec):
    data = key_bytes(keys["ec"], PEM).decode("ascii").encode(codec)
    assert refused(data) == "holds a PEM private key block (inside UTF-32 text); " + NEVER


def test_pkcs12_password_protected(keys, cert):
    data = pfx(keys, cert)
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(data, None)  # not readable without the password: still refused
    assert refused(data) == "holds a DER PKCS#12 file; " + NEVER


def test_pkcs12_legacy_rc2(keys, cert):
    data = pkcs12_legacy_rc2("waf", keys["ec"], cert, None, "sms-password-1234")
    assert refused(data) == "holds a DER PKCS#12 file; " + NEVER


def test_pkcs12_with_an_empty_password_and_only_certificates(cert):
    data = pkcs12.serialize_key_and_certificates(None, None, cert, None, PLAIN)
    assert refused(data) == "holds a DER PKCS#12 file; " + NEVER


def test_pkcs12_in_ber_with_indefinite_lengths(keys, cert):
    """Windows and Java write a PFX in BER with indefinite lengths; the outer structure is recognised."""
    data = pfx(keys, cert)
    outer = data[data.index(b"\x02\x01\x03"):]
    ber = b"\x30\x80" + outer + b"\x00\x00"
    assert refused(ber) == "holds a DER PKCS#12 file; " + NEVER


def test_base64_of_pkcs12(keys, cert):
    data = b64_lines(pfx(keys, cert), 76)
    assert refused(data) == "holds a DER PKCS#12 file (inside base64); " + NEVER


def test_base64_of_der_key_one_line_and_in_xml(keys):
    der = key_bytes(keys["rsa"], fmt=TRADITIONAL)
    assert refused(base64.b64encode(der)) == "holds a DER RSA private key (PKCS#1) (inside base64); " + NEVER
    xml = b"<keystore>\n  <key>\n    " + b64_lines(der).replace(b"\n", b"\n    ") + b"</key>\n</keystore>\n"
    assert refused(xml) == "holds a DER RSA private key (PKCS#1) (inside base64); " + NEVER


def test_base64_of_gzip_of_utf16_pem(keys):
    data = base64.b64encode(gzip.compress(key_bytes(keys["ec"], PEM).decode("ascii").encode("utf-16")))
    assert refused(data) == "holds a PEM private key block (inside base64, gzip, UTF-16 text); " + NEVER


def test_java_keystore_magic():
    assert refused(b"\xfe\xed\xfe\xed\x00\x00\x00\x02" + bytes(40)) == "holds a Java KeyStore (JKS); " + NEVER
    assert refused(b"\xce\xce\xce\xce\x00\x00\x00\x02" + bytes(40)) == "holds a Java KeyStore (JCEKS); " + NEVER


# --- the nesting limit: exactly at it refused, one past it not inspected --------------------------------

def test_nesting_at_the_limit_and_one_past(keys):
    assert limits().MAX_UNPACK_DEPTH == 2
    pem = key_bytes(keys["ec"], PEM)
    at_limit = zipped([("inner.gz", gzip.compress(pem))])
    assert refused(at_limit) == "holds a PEM private key block (inside zip member inner.gz, gzip); " + NEVER
    past = gzip.compress(at_limit)
    assert operator_content_problem(past) is None


def test_unpacked_output_limit_exactly_and_one_past():
    """A stream is inspected up to UNPACK_LIMIT bytes: a marker that ends exactly there is found, one byte
    later it is cut and the file passes."""
    marker = b"-----BEGIN PRIVATE KEY-----"
    padding = b"x" * (limits().UNPACK_LIMIT - len(marker))
    assert refused(gzip.compress(padding + marker)) == "holds a PEM private key block (inside gzip); " + NEVER
    assert operator_content_problem(gzip.compress(b"x" + padding + marker)) is None


# --- honest files pass -----------------------------------------------------------------------------

def test_honest_files_pass(cert):
    for data in (cert.public_bytes(PEM), cert.public_bytes(DER), XML, PDF, b"", b"\n",
                 b"-----BEGIN CERTIFICATE-----\n", b"eesztConnect run log\nkapcsolat rendben\n",
                 b"0" * 5000, b"M" * 5000,  # all base64, decodes to junk
                 b64_lines(cert.public_bytes(DER)), gzip.compress(cert.public_bytes(PEM)),
                 zipped([("igazolas.xml", XML), ("cert.der", cert.public_bytes(DER))]),
                 XML.decode().encode("utf-16"), bz2.compress(XML), lzma.compress(PDF)):
        assert operator_content_problem(data) is None, data[:40]


def test_a_seal_and_a_certificate_bundle_pass(keys, cert):
    """CMS structures an operator folder may hold (a detached signature, a .p7b chain) are not PKCS#12."""
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, sign_detached
    from cryptography.hazmat.primitives.serialization import pkcs7

    seal = sign_detached(XML, Signer(keys["ec"], cert))
    chain = pkcs7.serialize_certificates([cert], DER)
    for data in (seal, chain, base64.b64encode(seal), gzip.compress(chain)):
        assert operator_content_problem(data) is None


def test_random_bytes_pass():
    generator = random.Random(21)
    for size in (1, 2, 3, 4, 31, 1024, 65536, 1024 * 1024):
        data = bytes(generator.getrandbits(8) for dummy in range(min(size, 4096)))
        data = (data * (size // len(data) + 1))[:size]
        assert operator_content_problem(data) is None
    # Random bytes behind every magic number the check unpacks are broken archives, not keys.
    for magic in (b"\x1f\x8b\x08", b"BZh9", b"\xfd7zXZ\x00", b"PK\x03\x04", b"\xff\xfe", b"\x30\x82\x01\x00"):
        assert operator_content_problem(magic + bytes(generator.getrandbits(8) for dummy in range(512))) is None


def bomb_zip(size):
    buffer = io.BytesIO()
    chunk = bytes(1024 * 1024)
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("zeros.bin", "w", force_zip64=True) as member:
            for dummy in range(size // len(chunk)):
                member.write(chunk)
    return buffer.getvalue()


def bomb_gzip(size):
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1024 * 1024)
    return b"".join([compressor.compress(chunk) for dummy in range(size // len(chunk))] + [compressor.flush()])


def test_decompression_bombs_are_inspected_in_bounded_memory():
    bombs = [bomb_zip(256 * 1024 * 1024), bomb_gzip(256 * 1024 * 1024)]
    bombs.append(zipped([("a.zip", bombs[0]), ("b.gz", bombs[1])]))  # nested: bounded per level too
    for bomb in bombs:
        assert len(bomb) < 1024 * 1024
        tracemalloc.start()
        try:
            assert operator_content_problem(bomb) is None
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert peak < limits().TOTAL_LIMIT + 8 * 1024 * 1024, peak


def test_a_zip_with_many_members_is_inspected_up_to_the_member_limit(keys):
    pem = key_bytes(keys["ec"], PEM)
    members = [("log%04d.txt" % index, b"line\n") for index in range(limits().ZIP_MEMBERS - 1)]
    assert refused(zipped(members + [("key.pem", pem)])).startswith("holds a PEM private key block")
    assert operator_content_problem(zipped(members + [("one-more.txt", b"x"), ("key.pem", pem)])) is None


def test_the_public_function_is_the_one_the_archive_uses(keys):
    data = key_bytes(keys["ec"])
    assert limits().private_key_problem(data) == operator_content_problem(data)
