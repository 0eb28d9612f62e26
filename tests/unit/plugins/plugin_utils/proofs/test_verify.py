# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Re-verifying the archive: each kind of tampering is found and named, and only that file."""

import datetime
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, sign_detached

SITES = [("100001", "100001001"), ("100001", "100001002"), ("100002", "100002001")]


def _certificate(name, key, issuer_name, issuer_key, ca):
    now = datetime.datetime.now(datetime.timezone.utc)
    return (x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


@pytest.fixture(scope="module")
def pki():
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = _certificate("Seal CA", ca_key, "Seal CA", ca_key, True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = _certificate("Vendor seal", key, "Seal CA", ca_key, False)
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = _certificate("Intruder", other_key, "Intruder", other_key, False)
    # The vendor's own sealing key: it seals the files of both institutions (the signer registers allow it).
    return {"signer": Signer(key, leaf, [ca], vendor=True), "ca": ca, "intruder": Signer(other_key, other)}


def proof_bytes(institution_id, site_id, stamp, passed=True):
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id,
        "host": "site-" + site_id, "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=%s" % institution_id, "issuer": "CN=ca", "serial": "01",
                               "sha256": "00" * 32, "not_after": "2027-01-01T00:00:00Z"},
        "endpoints": [], "passed": passed, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


@pytest.fixture
def archive(tmp_path, pki):
    """Three sites, two proofs each, recorded in a run record and an index."""
    root = str(tmp_path / "archive")
    outcomes = []
    for institution_id, site_id in SITES:
        archived = []
        for hour in (9, 10):
            name = "20261125T%02d0000Z_%s_%s.json" % (hour, institution_id, site_id)
            archived.append(store_proof(root, institution_id, site_id, name,
                                        proof_bytes(institution_id, site_id, "2026-11-25T%02d:00:00Z" % hour), pki["signer"]))
        outcomes.append({"host": site_id, "institution_id": institution_id, "site_id": site_id, "status": "collected",
                         "archived": archived})
    record_run(root, outcomes, "controller-a")
    build_report(root)
    return root


def path_of(archive, relative):
    return os.path.join(archive, *relative.split("/"))


TARGET = "100001/100001002/20261125T100000Z_100001_100001002.json"


def only_problem(result):
    assert len(result["problems"]) == 1, result["problems"]
    return result["problems"][0]


def test_intact_archive_verifies(archive, pki):
    result = verify_archive(archive, [pki["ca"]])
    assert result["problems"] == []
    assert result["checked"] == result["verified"] == 6
    assert result["records"] == 6
    assert result["signers"] == [{"subject": "CN=Vendor seal", "proofs": 6}]


def test_altered_proof(archive, pki):
    path = path_of(archive, TARGET)
    with open(path, "rb") as handle:
        data = handle.read()
    with open(path, "wb") as handle:
        handle.write(data.replace(b'"passed": true', b'"passed": false'))
    problem = only_problem(verify_archive(archive, [pki["ca"]]))
    assert problem["path"] == TARGET
    assert problem["kind"] == "altered"
    assert "recorded" in problem["message"] and "altered after sealing" in problem["message"]


def test_altered_proof_resealed_by_someone_else(archive, pki):
    """A forger with their own key: the seal is untrusted and the ledger's hash differs."""
    path = path_of(archive, TARGET)
    forged = proof_bytes("100001", "100001002", "2026-11-25T10:00:00Z", passed=False)
    with open(path, "wb") as handle:
        handle.write(forged)
    with open(path + ".p7s", "wb") as handle:
        handle.write(sign_detached(forged, pki["intruder"]))
    problem = only_problem(verify_archive(archive, [pki["ca"]]))
    assert problem["path"] == TARGET
    assert problem["kinds"] == ["altered", "untrusted"]


def test_altered_seal(archive, pki):
    with open(path_of(archive, TARGET) + ".p7s", "r+b") as handle:
        seal = bytearray(handle.read())
        seal[-10] ^= 0x01
        handle.seek(0)
        handle.write(bytes(seal))
    problem = only_problem(verify_archive(archive))
    assert (problem["path"], problem["kind"]) == (TARGET, "seal_invalid")


def test_missing_seal(archive):
    os.unlink(path_of(archive, TARGET) + ".p7s")
    problem = only_problem(verify_archive(archive))
    assert (problem["path"], problem["kind"]) == (TARGET, "unsigned")


def test_removed_proof_with_its_seal(archive):
    os.unlink(path_of(archive, TARGET))
    os.unlink(path_of(archive, TARGET) + ".p7s")
    problem = only_problem(verify_archive(archive))
    assert (problem["path"], problem["kind"]) == (TARGET, "missing")


def test_removed_proof_is_found_through_the_index_alone(archive):
    shutil.rmtree(os.path.join(archive, "runs"))
    os.unlink(path_of(archive, TARGET))
    os.unlink(path_of(archive, TARGET) + ".p7s")
    problem = only_problem(verify_archive(archive))
    assert (problem["path"], problem["kind"]) == (TARGET, "missing")


def test_proof_moved_to_another_site_folder(archive):
    moved = "100001/100001001/20261125T100000Z_100001_100001002.json"
    for suffix in ("", ".p7s"):
        os.rename(path_of(archive, TARGET) + suffix, path_of(archive, moved) + suffix)
    problems = verify_archive(archive)["problems"]
    assert [(p["path"], p["kind"]) for p in problems] == [(moved, "misplaced"), (TARGET, "missing")]
    assert "institution 100001 site 100001002 but lies in the folder 100001/100001001" in problems[0]["message"]


def test_orphan_seal_and_unrecorded_unsigned_proof(archive):
    extra = "100002/100002001/stray.json"
    with open(path_of(archive, extra) + ".p7s", "wb") as handle:
        handle.write(b"0")
    unsigned = "100002/100002001/20261126T000000Z_100002_100002001.json"
    with open(path_of(archive, unsigned), "wb") as handle:
        handle.write(proof_bytes("100002", "100002001", "2026-11-26T00:00:00Z"))
    problems = verify_archive(archive)["problems"]
    assert [(p["path"], p["kind"]) for p in problems] == [(unsigned, "unsigned"), (extra + ".p7s", "orphan_seal")]


def test_no_archive_is_an_error(tmp_path):
    with pytest.raises(ProofsError, match="does not exist"):
        verify_archive(str(tmp_path / "none"))
