# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PKI primitives exist once (issue 13, points 2 and 3).

- certificate facts: one reader per tier (site ``module_utils/pki/x509.py``, controller
  ``plugin_utils/pki/crypto.py``) that give the same values for the same certificate;
- ``is_ca``, ``require_cryptography`` and the DER reader once;
- one stated ``cryptography`` minimum, the same wherever it is written.
"""

import datetime
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID, ObjectIdentifier

from ansible_collections.eeszt.connect.plugins.module_utils.pki import x509 as site_x509
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import CRYPTOGRAPHY_MINIMUM
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import ca_bundle, crypto, seal
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import certificate_facts, load_pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import SealError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
UTC = datetime.timezone.utc
NOW = datetime.datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SHARED = ("subject", "issuer", "serial", "not_before", "not_after", "sha256")


def make_cert(subject, issuer, serial, not_before, not_after, ca=False):
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(subject).issuer_name(issuer)
               .public_key(key.public_key()).serial_number(serial)
               .not_valid_before(not_before).not_valid_after(not_after))
    if ca:
        builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256())


SUBJECT = x509.Name([
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COUNTRY_NAME, "HU")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Példa Patika, Kft.")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, "VATHU-12345678")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "Labor"),
                                    x509.NameAttribute(NameOID.SERIAL_NUMBER, "123456001")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.EMAIL_ADDRESS, "it@pelda.hu")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(ObjectIdentifier("1.2.3.4"), "other")]),
    x509.RelativeDistinguishedName([x509.NameAttribute(NameOID.COMMON_NAME, "#123456 telephely ")]),
])
ISSUER = x509.Name([x509.NameAttribute(NameOID.SERIAL_NUMBER, "CA-1"),
                    x509.NameAttribute(NameOID.COMMON_NAME, "EESZT WAF-SSL CA")])


@pytest.mark.parametrize("not_after", [datetime.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),
                                       datetime.datetime(2051, 6, 7, 8, 9, 10, tzinfo=UTC)])
def test_the_same_certificate_gives_the_same_facts_on_both_tiers(not_after):
    cert = make_cert(SUBJECT, ISSUER, 0x00DEADBEEF0102030405, datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
                     not_after)
    site = site_x509.certificate_facts(cert.public_bytes(serialization.Encoding.DER))
    controller = certificate_facts(cert, NOW)
    assert dict((key, site[key]) for key in SHARED) == dict((key, controller[key]) for key in SHARED)
    assert controller["subject"] == ("CN=\\#123456 telephely\\ ,1.2.3.4=other,emailAddress=it@pelda.hu,"
                                     "OU=Labor+serialNumber=123456001,organizationIdentifier=VATHU-12345678,"
                                     "O=Példa Patika\\, Kft.,C=HU")
    assert controller["issuer"] == "CN=EESZT WAF-SSL CA,serialNumber=CA-1"
    assert controller["serial"] == "DEADBEEF0102030405"
    assert controller["not_before"] == "2026-01-02T03:04:05Z"
    assert controller["not_after"] == not_after.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert controller["sha256"] == cert.fingerprint(hashes.SHA256()).hex()


def test_ca_bundle_facts_are_the_certificate_facts_and_two_more():
    cert = make_cert(ISSUER, ISSUER, 7, NOW - datetime.timedelta(days=1), NOW + datetime.timedelta(days=400), ca=True)
    facts = ca_bundle._bundle_facts(cert, NOW)
    assert facts == dict(certificate_facts(cert, NOW), self_signed=True,
                         pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    assert facts["days_left"] == 400 and crypto.is_ca(cert) is True


def test_days_left_counts_whole_days():
    cert = make_cert(ISSUER, ISSUER, 7, NOW, NOW + datetime.timedelta(days=14))
    assert certificate_facts(cert, NOW)["days_left"] == 14
    assert certificate_facts(cert, NOW + datetime.timedelta(seconds=1))["days_left"] == 13


def _definitions(pattern):
    """Files under plugins/ (the lab included) that define ``pattern``."""
    found = []
    for folder, dummy, files in os.walk(PLUGINS):
        for name in files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, ROOT)
            if not name.endswith(".py"):
                continue
            with open(path, encoding="utf-8") as handle:
                if re.search(pattern, handle.read(), re.MULTILINE):
                    found.append(relative)
    return sorted(found)


def test_each_primitive_is_defined_once():
    assert _definitions(r"^def _?is_ca\(") == ["plugins/plugin_utils/pki/crypto.py"]
    assert _definitions(r"^def _?require_cryptography\(") == ["plugins/plugin_utils/pki/crypto.py"]
    assert _definitions(r"^def _?certificate_facts\(") == ["plugins/module_utils/pki/x509.py",
                                                           "plugins/plugin_utils/pki/crypto.py"]
    # The DER reader: der.py alone reads a length byte.
    assert _definitions(r"length & 0x7F") == ["plugins/module_utils/common/der.py"]


def test_every_pki_file_is_at_most_450_lines():
    folder = os.path.join(PLUGINS, "plugin_utils", "pki")
    for name in sorted(os.listdir(folder)) + ["../../module_utils/pki/x509.py", "../../module_utils/common/der.py"]:
        if name.endswith(".py"):
            with open(os.path.join(folder, name), encoding="utf-8") as handle:
                assert len(handle.readlines()) <= 450, name


# --- one stated cryptography minimum ----------------------------------------------------------------------

def _read(relative):
    with open(os.path.join(ROOT, relative), encoding="utf-8") as handle:
        return handle.read()


def test_the_minimum_is_what_the_code_needs_and_is_installed():
    import cryptography  # pylint: disable=import-outside-toplevel
    installed = tuple(int(part) for part in cryptography.__version__.split(".")[:2])
    assert installed >= tuple(int(part) for part in CRYPTOGRAPHY_MINIMUM.split("."))
    # The newest API called without a fallback (cryptography 40.0).
    assert hasattr(x509.Certificate, "verify_directly_issued_by")
    assert CRYPTOGRAPHY_MINIMUM == "40.0"


@pytest.mark.parametrize("relative", [
    "plugins/doc_fragments/controller_pki.py",
    "galaxy.yml",
    "README.md",
    "requirements.txt",
    "meta/ee-requirements.txt",
])
def test_every_statement_of_the_minimum_agrees(relative):
    stated = re.findall(r"cryptography`?\s*>=\s*([0-9][0-9.]*[0-9])", _read(relative))
    assert stated, "%s states no cryptography minimum" % relative
    assert set(stated) == {CRYPTOGRAPHY_MINIMUM}, relative


@pytest.mark.parametrize("module", ["waf_certificate", "ca_bundle", "proofs_archive", "proofs_verify", "lab_pki"])
def test_pki_modules_take_the_requirement_from_the_doc_fragment(module):
    text = _read("plugins/modules/%s.py" % module)
    assert "  - eeszt.connect.controller_pki\n" in text
    assert "cryptography >=" not in text and "\nrequirements:" not in text


@pytest.mark.parametrize("call, error, code", [
    (lambda: ca_bundle.parse_bundle(b"", "ca.pem"), ca_bundle.CaBundleMissingLibraryError, "missing_library"),
    (lambda: load_pfx("/nonexistent.pfx", "x"), EesztCertificateError, "missing_library"),
    (lambda: seal.sign_detached(b"x", None), SealError, None),
])
def test_missing_cryptography_names_the_minimum(monkeypatch, call, error, code):
    monkeypatch.setattr(crypto, "CRYPTOGRAPHY_IMPORT_ERROR", ImportError("No module named 'cryptography'"))
    with pytest.raises(error) as caught:
        call()
    assert "the Python library 'cryptography' (40.0 or newer) is needed on the Ansible controller to " \
        in str(caught.value)
    assert str(caught.value).endswith("install it into the controller's Python environment "
                                      "(pip install 'cryptography>=40.0')")
    if code:
        assert caught.value.code == code
