# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, attack 6: a private key reaches the archive through operator files when it is not ASCII PEM.

One demo site against a private lab (its PKI only: collecting operator files needs no WAF): the site's own
WAF-SSL key and PFX, in every encoding the issue names, are put into the operator folder beside the operator
program's honest output. ``collect_proofs.yml`` must collect only the honest file and refuse each key file,
naming it and the reason in the run's warnings, in index.json and in report.html; no refused file, and no
byte of the key, is in the archive or in evidence/100001_evidence.zip.
"""

import base64
import bz2
import gzip
import io
import json
import lzma
import os
import re
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
HOST = "site001"
INSTITUTION, SITE = "100001", "100001001"
HONEST = b"%PDF-1.7 copy of the certificate that eesztConnect.exe issued at this site\n"

pytestmark = pytest.mark.slow


def b64_lines(data, width=76):
    text = base64.b64encode(data)
    return b"\r\n".join(text[i:i + width] for i in range(0, len(text), width)) + b"\r\n"


def key_files(pfx_data, password):
    """{file name: (bytes, what the refusal must say it holds)}: the site's key and PFX in every encoding."""
    bundle = pkcs12.load_pkcs12(pfx_data, password)
    key = bundle.key
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    traditional = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL,
                                    serialization.NoEncryption())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    if isinstance(key, rsa.RSAPrivateKey):
        kind, private = "RSA private key (PKCS#1)", key.private_numbers().d
    else:
        kind, private = "EC private key (SEC1)", key.private_numbers().private_value
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as handle:
        handle.writestr("notes.txt", b"keys of the site\n")
        handle.writestr("waf.key", der)
    return {
        "waf-key.der": (der, "a DER private key (PKCS#8)"),
        "waf-key-traditional.der": (traditional, "a DER %s" % kind),
        "waf-key.pem.gz": (gzip.compress(pem), "a PEM private key block (inside gzip)"),
        "waf-key.pem.bz2": (bz2.compress(pem), "a PEM private key block (inside bzip2)"),
        "waf-key.pem.xz": (lzma.compress(pem), "a PEM private key block (inside xz)"),
        "keys.zip": (archive.getvalue(), "a DER private key (PKCS#8) (inside zip member waf.key)"),
        "waf-key-utf16.pem": (pem.decode("ascii").encode("utf-16"), "a PEM private key block (inside UTF-16 text)"),
        "waf-key-utf32.pem": (pem.decode("ascii").encode("utf-32"), "a PEM private key block (inside UTF-32 text)"),
        "waf.pfx": (pfx_data, "a DER PKCS#12 file"),
        "waf.pfx.b64": (b64_lines(pfx_data), "a DER PKCS#12 file (inside base64)"),
        "waf-key.der.b64": (b64_lines(der), "a DER private key (PKCS#8) (inside base64)"),
    }, [der, private.to_bytes((private.bit_length() + 7) // 8, "big"), base64.b64encode(der)[-64:]]


def one_line(text):
    return re.sub(r"\s+", " ", text)


@pytest.fixture(scope="module")
def collected(tmp_path_factory, run_playbook):
    root = tmp_path_factory.mktemp("untrusted-operator-files")
    lab_dir = root / "lab"
    archive = lab_dir / "proofs"
    env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_DEMO_SITES": "1"}
    variables = {"eeszt_proofs_archive_dir": str(archive),
                 "eeszt_proofs_ca_file": str(lab_dir / "pki" / "client-ca-bundle.pem"),
                 "eeszt_proofs_operator_files": ["{{ eeszt_demo_root }}/var/lib/eeszt/operator/*"]}
    # The lab's PKI only ("present"): no WAF process is started, none is left behind.
    result = run_playbook("lab.yml", extra_vars={"eeszt_lab_state": "present"}, env=env, args=["-i", DEMO])
    assert result.ok, result.output
    stem = lab_dir / "pki" / "sites" / ("%s-%s" % (INSTITUTION, SITE))
    pfx_data = (stem.parent / (stem.name + ".p12")).read_bytes()
    password = (stem.parent / (stem.name + ".password")).read_text().strip().encode()
    files, secrets = key_files(pfx_data, password)
    operator = lab_dir / "sites" / HOST / "var" / "lib" / "eeszt" / "operator"
    operator.mkdir(parents=True)
    (operator / "igazolas.pdf").write_bytes(HONEST)
    for name, (data, dummy) in files.items():
        (operator / name).write_bytes(data)
    result = run_playbook("collect_proofs.yml", extra_vars=variables, env=env, args=["-i", DEMO])
    assert result.ok, result.output
    return {"result": result, "archive": archive, "operator": operator, "files": files, "secrets": secrets + [pfx_data[-64:]]}


def test_every_encoding_of_the_key_is_refused_and_named(collected):
    output = one_line(collected["result"].stdout + collected["result"].stderr)
    for name, (dummy, holds) in sorted(collected["files"].items()):
        expected = ("operator file %s of site %s/%s was not collected: it holds %s; a private key is never "
                    "archived (check eeszt_proofs_operator_files)" % (collected["operator"] / name, INSTITUTION,
                                                                      SITE, holds))
        assert expected in output, (name, collected["result"].output)


def test_only_the_honest_file_is_archived_and_reported(collected):
    archive = collected["archive"]
    assert sorted(p.name for p in archive.glob("*/*/operator/files/*")) == ["igazolas.pdf"]
    assert sorted(p.name for p in archive.glob("*/*/operator/seals/*")) == ["igazolas.pdf.p7s"]
    index = json.loads((archive / "index.json").read_text())
    assert [os.path.basename(r["path"]) for r in index["operator_files"]] == ["igazolas.pdf"]
    refused = dict((os.path.basename(r["path"]), r["reason"]) for r in index["operator_refused"])
    assert sorted(refused) == sorted(collected["files"])
    for name, (dummy, holds) in collected["files"].items():
        assert refused[name].startswith("holds %s;" % holds), (name, refused[name])
    html = (archive / "report.html").read_text()
    for name in collected["files"]:
        assert str(collected["operator"] / name) in html, name


def test_no_key_byte_is_in_the_archive_or_the_evidence_bundle(collected):
    archive = collected["archive"]
    with zipfile.ZipFile(str(archive / "evidence" / ("%s_evidence.zip" % INSTITUTION))) as bundle:
        names = bundle.namelist()
        contents = [bundle.read(name) for name in names]
    assert "%s/operator/files/igazolas.pdf" % SITE in names
    assert not any(os.path.basename(name) in collected["files"] for name in names), names
    blobs = contents + [p.read_bytes() for p in archive.rglob("*") if p.is_file() and p.suffix != ".zip"]
    for blob in blobs:
        for secret in collected["secrets"]:
            assert secret not in blob
