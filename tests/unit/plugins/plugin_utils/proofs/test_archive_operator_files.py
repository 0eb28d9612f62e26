# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operator files on the controller: archived and sealed beside the proofs, never overwritten, listed in the
report and in the institution evidence bundle, verified like proofs; the bundles' rename.

A second test file of proofs/archive.py (``store_operator_file``), beside test_archive.py; it follows the
operator files on through the report, the bundles and verification (report/, proofs/verify.py)."""

import datetime
import hashlib
import os
import shutil
import zipfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import (
    merge_archive,
    operator_content_problem,
    plan_operator_files,
    store_operator_file,
    store_proof,
    version_name,
)
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ProofRejectedError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import load_runs
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, verify_detached

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
INST, SITE = "100001", "100001001"
PDF = b"%PDF-1.7 the operator program's certificate, copied to the site"
LOG = b"eesztConnect run log\n"
FILE = "100001/100001001/operator/files/igazolas.pdf"
SEAL = "100001/100001001/operator/seals/igazolas.pdf.p7s"


@pytest.fixture(scope="module")
def signer():
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vendor seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(11).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=400)).sign(key, hashes.SHA256()))
    return Signer(key, cert)


def listed(name, data, path=None):
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data),
            "path": path or "/var/lib/eeszt/operator/" + name}


def proof_bytes(site_id=SITE, passed=True):
    stamp = "2026-11-25T10:00:00Z"
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": INST, "site_id": site_id, "host": "site-" + site_id,
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_after": "2027-06-01T00:00:00Z"},
        "endpoints": [], "passed": passed, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def path_of(archive, relative):
    return os.path.join(archive, *relative.split("/"))


@pytest.fixture
def archive(tmp_path, signer):
    """One site with a passing proof and two operator files, recorded in a run record, and the report."""
    root = str(tmp_path / "archive")
    proof = store_proof(root, INST, SITE, "20261125T100000Z_100001_100001001.json", proof_bytes(), signer)
    operator = [store_operator_file(root, INST, SITE, name, data, signer,
                                    {"source": "/var/lib/eeszt/operator/" + name, "source_name": name,
                                     "collected_at": "2026-11-25T10:05:00Z"})
                for name, data in (("igazolas.pdf", PDF), ("eesztConnect.log", LOG))]
    record_run(root, [{"host": "site01", "institution_id": INST, "site_id": SITE, "status": "collected",
                       "archived": [proof], "operator_files": operator,
                       "operator_refused": [{"path": "/var/lib/eeszt/operator/shadow",
                                             "reason": "is a symbolic link to /etc/shadow, outside "
                                                       "/var/lib/eeszt/operator: not followed"}]}],
               "controller-a", now=NOW)
    build_report(root, now=NOW)
    return root


def test_stored_with_a_seal_that_verifies_and_idempotent(tmp_path, signer):
    root = str(tmp_path / "a")
    stored = store_operator_file(root, INST, SITE, "igazolas.pdf", PDF, signer, {"source": "/x/igazolas.pdf"})
    assert stored == {"name": "igazolas.pdf", "path": FILE, "size": len(PDF), "sha256": sha256_hex(PDF),
                      "seal": SEAL, "signer": "CN=Vendor seal", "source": "/x/igazolas.pdf"}
    with open(path_of(root, FILE), "rb") as handle:
        assert handle.read() == PDF
    with open(path_of(root, SEAL), "rb") as handle:
        seal = handle.read()
    assert verify_detached(PDF, seal)["subject"] == "CN=Vendor seal"
    assert oct(os.stat(path_of(root, FILE)).st_mode & 0o777) == "0o640"
    mtime = os.stat(path_of(root, SEAL)).st_mtime_ns
    # Re-collecting an unchanged file: nothing planned, nothing written, no new seal.
    assert plan_operator_files(root, INST, SITE, [listed("igazolas.pdf", PDF)]) == ([], ["igazolas.pdf"], [])
    assert store_operator_file(root, INST, SITE, "igazolas.pdf", PDF, signer) is None
    assert os.stat(path_of(root, SEAL)).st_mtime_ns == mtime
    with pytest.raises(ProofRejectedError, match="operator file '.hidden' is a hidden file"):
        store_operator_file(root, INST, SITE, ".hidden", PDF, signer)


def test_a_file_with_a_private_key_is_never_archived():
    for header in (b"-----BEGIN PRIVATE KEY-----", b"-----BEGIN RSA PRIVATE KEY-----",
                   b"-----BEGIN ENCRYPTED PRIVATE KEY-----", b"-----BEGIN EC PRIVATE KEY-----"):
        assert operator_content_problem(b"log line\n" + header + b"\nMIIE...\n") == (
            "holds a PEM private key block; a private key is never archived (check eeszt_proofs_operator_files)")
    assert operator_content_problem(b"-----BEGIN CERTIFICATE-----\n") is None
    assert operator_content_problem(PDF) is None


def test_a_changed_file_is_stored_beside_the_old_one_never_over_it(tmp_path, signer):
    root = str(tmp_path / "a")
    store_operator_file(root, INST, SITE, "igazolas.pdf", PDF, signer)
    changed = PDF + b" (run again)"
    item = listed("igazolas.pdf", changed)
    new, skipped, refused = plan_operator_files(root, INST, SITE, [item, listed("new.log", LOG)])
    versioned = "igazolas_%s.pdf" % sha256_hex(changed)[:12]
    assert version_name("igazolas.pdf", sha256_hex(changed)) == versioned
    assert (new, skipped, refused) == ([(item, versioned), (listed("new.log", LOG), "new.log")], [], [])
    store_operator_file(root, INST, SITE, versioned, changed, signer)
    assert plan_operator_files(root, INST, SITE, [item]) == ([], ["igazolas.pdf"], [])
    # Someone replaced the versioned copy: refused with a reason, never overwritten.
    with open(path_of(root, "100001/100001001/operator/files/" + versioned), "wb") as handle:
        handle.write(b"tampered")
    dummy, dummy2, refused = plan_operator_files(root, INST, SITE, [item])
    assert [reason for dummy3, reason in refused] == [
        "clashes with %s in the archive, whose content is not the SHA-256 its name says; find out who changed it"
        % path_of(root, "100001/100001001/operator/files/" + versioned)]


def test_the_report_lists_operator_files_and_refusals(archive):
    dummy, index = build_report(archive, now=NOW)
    assert index["operator_files"] == [
        {"path": "100001/100001001/operator/files/eesztConnect.log", "institution_id": INST, "site_id": SITE,
         "name": "eesztConnect.log", "source": "/var/lib/eeszt/operator/eesztConnect.log", "size": len(LOG),
         "sha256": sha256_hex(LOG), "sealed": True, "collected_at": "2026-11-25T10:05:00Z", "status": "present"},
        {"path": FILE, "institution_id": INST, "site_id": SITE, "name": "igazolas.pdf",
         "source": "/var/lib/eeszt/operator/igazolas.pdf", "size": len(PDF), "sha256": sha256_hex(PDF),
         "sealed": True, "collected_at": "2026-11-25T10:05:00Z", "status": "present"}]
    assert index["operator_refused"] == [{"institution_id": INST, "site_id": SITE,
                                          "path": "/var/lib/eeszt/operator/shadow",
                                          "reason": "is a symbolic link to /etc/shadow, outside "
                                                    "/var/lib/eeszt/operator: not followed"}]
    html = open(path_of(archive, "report.html"), encoding="utf-8").read()
    assert '<h2 id="operator-files">Operator files</h2>' in html
    assert ('<td title="/var/lib/eeszt/operator/igazolas.pdf">igazolas.pdf</td><td class="num">%d</td>'
            '<td><code>%s</code></td><td class="when"><span class="day">2026-11-25</span> 10:05\u00a0UTC</td><td>present</td>'
            % (len(PDF), sha256_hex(PDF))) in html
    assert "Not collected at 100001/100001001: /var/lib/eeszt/operator/shadow is a symbolic link" in html
    assert "They are <strong>not</strong> the proof for eKapu" in html
    assert "<code>eesztConnect.exe</code>" in html
    assert "eKapu upload" not in html and "upload/" not in html


def test_the_evidence_bundle_holds_proofs_operator_files_seals_and_a_readme(archive):
    with zipfile.ZipFile(path_of(archive, "evidence/100001_evidence.zip")) as bundle:
        names = bundle.namelist()
        assert names == [
            "100001001/20261125T100000Z_100001_100001001.json",
            "100001001/20261125T100000Z_100001_100001001.json.p7s",
            "100001001/operator/files/eesztConnect.log", "100001001/operator/files/igazolas.pdf",
            "100001001/operator/seals/eesztConnect.log.p7s", "100001001/operator/seals/igazolas.pdf.p7s",
            "SHA256SUMS", "README.txt"]
        assert bundle.read("100001001/operator/files/igazolas.pdf") == PDF
        verify_detached(PDF, bundle.read("100001001/operator/seals/igazolas.pdf.p7s"))
        sums = bundle.read("SHA256SUMS").decode("ascii").splitlines()
        assert "%s  100001001/operator/files/igazolas.pdf" % sha256_hex(PDF) in sums and len(sums) == 6
        readme = bundle.read("README.txt").decode("utf-8")
    assert readme.startswith("Institution evidence bundle: institution 100001\n")
    assert "This bundle is NOT the proof that the institution uploads to eKapu." in readme
    assert "eesztConnect.exe" in readme and "eeszt.connect uploads nothing to\neKapu" in readme
    assert not os.path.exists(path_of(archive, "upload"))


def test_an_institution_with_operator_files_but_no_passing_proof_still_gets_a_bundle(tmp_path, signer):
    root = str(tmp_path / "a")
    stored = store_operator_file(root, "100002", "100002001", "igazolas.pdf", PDF, signer)
    record_run(root, [{"host": "s", "institution_id": "100002", "site_id": "100002001", "status": "collected",
                       "operator_files": [stored]}], "controller-a", now=NOW)
    changed, dummy = build_report(root, now=NOW)
    assert "evidence/100002_evidence.zip" in changed
    with zipfile.ZipFile(path_of(root, "evidence/100002_evidence.zip")) as bundle:
        assert bundle.namelist() == ["100002001/operator/files/igazolas.pdf",
                                     "100002001/operator/seals/igazolas.pdf.p7s", "SHA256SUMS", "README.txt"]


def test_bundles_of_earlier_versions_are_removed_and_old_archives_still_read(archive):
    os.makedirs(path_of(archive, "upload"))
    with open(path_of(archive, "upload/100001_ekapu.zip"), "wb") as handle:
        handle.write(b"PK old bundle")
    assert build_report(archive, now=NOW, check_mode=True)[0] == ["upload/100001_ekapu.zip"]
    assert os.path.exists(path_of(archive, "upload/100001_ekapu.zip"))
    changed, index = build_report(archive, now=NOW)
    assert changed == ["upload/100001_ekapu.zip"]
    assert not os.path.exists(path_of(archive, "upload"))
    assert index["summary"]["passed"] == 1
    assert build_report(archive, now=NOW)[0] == []


def test_verify_checks_operator_files_like_proofs(archive, signer):
    result = verify_archive(archive)
    assert result["problems"] == []
    assert (result["operator_checked"], result["operator_verified"], result["operator_records"]) == (2, 2, 2)
    assert result["signers"] == [{"subject": "CN=Vendor seal", "proofs": 3}]


def tamper_byte(archive):
    data = bytearray(open(path_of(archive, FILE), "rb").read())
    data[-1] ^= 1
    open(path_of(archive, FILE), "wb").write(bytes(data))
    return [(FILE, "altered")]


def tamper_seal_byte(archive):
    data = bytearray(open(path_of(archive, SEAL), "rb").read())
    data[-1] ^= 1  # in the signature
    open(path_of(archive, SEAL), "wb").write(bytes(data))
    return [(FILE, "seal_invalid")]


def tamper_remove_seal(archive):
    os.unlink(path_of(archive, SEAL))
    return [(FILE, "unsigned")]


def tamper_remove_file(archive):
    os.unlink(path_of(archive, FILE))
    return [(FILE, "missing")]


def tamper_link(archive):
    outside = path_of(archive, "../outside.pdf")
    open(outside, "wb").write(b"outside")
    os.symlink(outside, path_of(archive, "100001/100001001/operator/files/stolen.pdf"))
    return [("100001/100001001/operator/files/stolen.pdf", "unreadable")]


def tamper_orphan_seal(archive):
    shutil.copy(path_of(archive, SEAL), path_of(archive, "100001/100001001/operator/seals/ghost.pdf.p7s"))
    return [("100001/100001001/operator/seals/ghost.pdf.p7s", "orphan_seal")]


@pytest.mark.parametrize("tamper", [tamper_byte, tamper_seal_byte, tamper_remove_seal, tamper_remove_file,
                                    tamper_link, tamper_orphan_seal])
def test_verify_names_exactly_the_tampered_operator_file(archive, tamper):
    expected = tamper(archive)
    problems = [(p["path"], p["kind"]) for p in verify_archive(archive)["problems"]]
    assert problems == expected


def test_operator_files_of_a_resealed_alteration_are_found_through_the_records(archive, signer):
    with open(path_of(archive, FILE), "wb") as handle:
        handle.write(b"forged")
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import sign_detached
    with open(path_of(archive, SEAL), "wb") as handle:
        handle.write(sign_detached(b"forged", signer))
    problems = verify_archive(archive)["problems"]
    assert [(p["path"], p["kind"]) for p in problems] == [(FILE, "altered")]
    assert problems[0]["message"] == "SHA-256 is %s, the archive recorded %s" % (sha256_hex(b"forged"),
                                                                                 sha256_hex(PDF))


def test_merge_copies_operator_files_and_seals(archive, tmp_path):
    target = str(tmp_path / "b")
    copied = merge_archive(archive, target)
    assert sorted(c.replace(os.sep, "/") for c in copied if "/operator/" in c.replace(os.sep, "/")) == [
        "100001/100001001/operator/files/eesztConnect.log", FILE,
        "100001/100001001/operator/seals/eesztConnect.log.p7s", SEAL]
    build_report(target, now=NOW)
    assert verify_archive(target)["operator_verified"] == 2


def test_run_records_keep_operator_files_and_refusals_only_when_something_changed(archive):
    runs = load_runs(archive)
    assert len(runs) == 1
    outcome = runs[0]["outcomes"][0]
    assert [item["path"] for item in outcome["operator_files"]] == [FILE, "100001/100001001/operator/files/"
                                                                    "eesztConnect.log"]
    same = {"host": "site01", "institution_id": INST, "site_id": SITE, "status": "collected",
            "operator_refused": outcome["operator_refused"]}
    assert record_run(archive, [same], "controller-a", now=NOW) is None
    gone = dict(same, operator_refused=[])
    assert record_run(archive, [gone], "controller-a", now=NOW) is not None
    dummy, index = build_report(archive, now=NOW)
    assert index["operator_refused"] == []
    plain = {"host": "site02", "institution_id": INST, "site_id": "100001002", "status": "collected"}
    record_run(archive, [plain], "controller-a", now=NOW)
    assert "operator_files" not in load_runs(archive)[-1]["outcomes"][0]
