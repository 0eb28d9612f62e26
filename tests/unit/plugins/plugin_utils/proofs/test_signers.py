# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The archive's signer register (issue 21, point 7): a seal belongs to its institution.

Registering, refusing at sealing, merging registers and archives, adopting the signers of an archive
made before registers, and what verify_proofs names.
"""

import datetime
import json
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, sign_detached
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.validation import (
    institutions_in_subject,
    other_institution_in_subject,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import (
    MergeRefusedError,
    merge_archive,
    store_operator_file,
    store_proof,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import check_name
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signers import (
    REGISTER_SCHEMA,
    SignerRefusedError,
    adopt_existing,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed, seal_unsealed, stage
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive

A, B = "100001", "100002"
SITE_A, SITE_B = "100001001", "100002001"
NOW = datetime.datetime.now(datetime.timezone.utc)


def _cert(attributes, key, issuer_name, issuer_key, ca=False):
    return (x509.CertificateBuilder().subject_name(x509.Name(attributes)).issuer_name(issuer_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(issuer_key, hashes.SHA256()))


def _lab_signer(pki, institution, common_name=None, vendor=False):
    """A lab-like WAF-SSL signer: the institution ID in CN and serialNumber (plugins/plugin_utils/lab/_certs.py)."""
    key = ec.generate_private_key(ec.SECP256R1())
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Lab institution %s" % institution),
                  x509.NameAttribute(NameOID.COMMON_NAME, common_name or institution)]
    if common_name is None:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, institution))
    return Signer(key, _cert(attributes, key, pki["ca"].subject, pki["ca_key"]), [pki["ca"]], vendor=vendor)


@pytest.fixture(scope="module")
def pki():
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Lab client CA")])
    material = {"ca_key": ca_key, "ca": _cert(list(ca_name), ca_key, ca_name, ca_key, ca=True)}
    material[A] = _lab_signer(material, A)
    material[B] = _lab_signer(material, B)
    material["plain"] = _lab_signer(material, A, common_name="vendor seal")  # carries no institution ID
    material["vendor"] = _lab_signer(material, A, common_name="vendor seal", vendor=True)
    return material


def proof(institution, site, stamp="2026-11-25T10:00:00Z", passed=True):
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site, "host": "h" + site,
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_after": "2027-01-01T00:00:00Z"},
        "endpoints": [], "passed": passed, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def register_file(archive, institution):
    with open(os.path.join(archive, "signers", institution + ".json")) as handle:
        return json.load(handle)


def snapshot(root):
    found = {}
    for folder, dummy, names in os.walk(root):
        for name in names:
            if name != ".lock":
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    found[os.path.relpath(path, root)] = handle.read()
    return found


def kinds(result):
    return sorted((p["path"], p["kind"]) for p in result["problems"])


@pytest.fixture
def archive(tmp_path, pki):
    """One proof of each institution, each sealed with its own certificate."""
    root = str(tmp_path / "archive")
    store_proof(root, A, SITE_A, "a1.json", proof(A, SITE_A), pki[A])
    store_proof(root, B, SITE_B, "b1.json", proof(B, SITE_B), pki[B])
    return root


# --- the register -------------------------------------------------------------------------------------------

def test_the_first_seal_registers_its_certificate_with_its_facts_and_the_controller_time(archive, pki):
    document = register_file(archive, A)
    assert document["schema"] == REGISTER_SCHEMA and document["institution_id"] == A
    [entry] = document["signers"]
    facts = pki[A].certificate
    assert entry["sha256"] == facts.fingerprint(hashes.SHA256()).hex()
    assert entry["subject"] == "serialNumber=%s,CN=%s,O=Lab institution %s" % (A, A, A)
    assert entry["serial"] == "%X" % facts.serial_number
    assert entry["not_after"] == (NOW + datetime.timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert (entry["source"], entry["vendor"]) == ("sealed", False)
    registered = datetime.datetime.strptime(entry["registered_at"], "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc)
    assert abs((datetime.datetime.now(datetime.timezone.utc) - registered).total_seconds()) < 120
    assert verify_archive(archive, [pki["ca"]])["problems"] == []


def test_an_entry_is_never_rewritten_and_a_second_seal_writes_nothing(archive, pki):
    path = os.path.join(archive, "signers", A + ".json")
    before = (open(path, "rb").read(), os.stat(path).st_mtime_ns)
    store_proof(archive, A, SITE_A, "a2.json", proof(A, SITE_A, "2026-11-26T10:00:00Z"), pki[A])
    assert (open(path, "rb").read(), os.stat(path).st_mtime_ns) == before


def test_signers_is_a_reserved_name_never_an_institution_folder():
    with pytest.raises(ProofsError, match="cannot be used as a folder name"):
        check_name("signers", "institution_id")


# --- refusal at sealing -------------------------------------------------------------------------------------

def test_a_certificate_registered_for_another_institution_is_refused_and_nothing_is_written(archive, pki):
    before = snapshot(archive)
    with pytest.raises(SignerRefusedError) as raised:
        store_proof(archive, A, SITE_A, "a2.json", proof(A, SITE_A, "2026-11-26T10:00:00Z"), pki[B])
    message = str(raised.value)
    assert "is registered for institution %s" % B in message
    assert "it cannot seal the files of institution %s" % A in message
    assert "eeszt_proofs_signing_pfx (by default eeszt_certificate_pfx_src)" in message
    assert snapshot(archive) == before


def test_an_operator_file_is_refused_the_same_way(archive, pki):
    with pytest.raises(SignerRefusedError, match="registered for institution %s" % B):
        store_operator_file(archive, A, SITE_A, "igazolas.pdf", b"%PDF-1.7", pki[B])
    assert not os.path.exists(os.path.join(archive, A, SITE_A, "operator"))


def test_a_subject_carrying_another_institution_id_is_refused_even_in_an_empty_archive(tmp_path, pki):
    root = str(tmp_path / "empty")
    with pytest.raises(SignerRefusedError, match="carries institution ID %s in its subject, not %s" % (B, A)):
        store_proof(root, A, SITE_A, "a1.json", proof(A, SITE_A), pki[B])
    assert not os.path.exists(os.path.join(root, "signers"))
    assert not os.path.exists(os.path.join(root, A))


def test_the_subject_reader_takes_whole_identifiers_only(pki):
    assert institutions_in_subject(pki[A].certificate) == [A]
    assert institutions_in_subject(pki["plain"].certificate) == []
    assert other_institution_in_subject(pki[A].certificate, A) == []
    assert other_institution_in_subject(pki[A].certificate, B) == [A]
    assert other_institution_in_subject(pki["plain"].certificate, B) == []
    seven = _lab_signer(pki, "1000021", common_name="1000021")  # 7 digits: not an institution ID
    five = _lab_signer(pki, "10002", common_name="10002")       # 5 digits: neither
    assert institutions_in_subject(seven.certificate) == institutions_in_subject(five.certificate) == []
    assert other_institution_in_subject(seven.certificate, A) == []


def test_the_vendor_key_seals_several_institutions_but_never_one_registered_as_an_institutions(tmp_path, pki):
    root = str(tmp_path / "vendor")
    store_proof(root, A, SITE_A, "a1.json", proof(A, SITE_A), pki["vendor"])
    store_proof(root, B, SITE_B, "b1.json", proof(B, SITE_B), pki["vendor"])
    assert register_file(root, B)["signers"][0]["vendor"] is True
    assert verify_archive(root, [pki["ca"]])["problems"] == []
    # The same certificate as an institution's (a PFX), registered for A, cannot seal B's files.
    other = str(tmp_path / "pfx")
    store_proof(other, A, SITE_A, "a1.json", proof(A, SITE_A), pki["plain"])
    vendor_same_cert = Signer(pki["plain"].key, pki["plain"].certificate, vendor=True)
    with pytest.raises(SignerRefusedError, match="registered for institution %s" % A):
        store_proof(other, B, SITE_B, "b1.json", proof(B, SITE_B), vendor_same_cert)


def test_seal_unsealed_refuses_the_site_its_files_wait_and_the_other_sites_are_sealed(archive, pki):
    stage(archive, A, SITE_A, "a2.json", proof(A, SITE_A, "2026-11-26T10:00:00Z"))
    stage(archive, B, SITE_B, "b2.json", proof(B, SITE_B, "2026-11-26T10:00:00Z"))
    outcome = seal_unsealed(archive, lambda institution, site: pki[B])
    assert [item["path"] for item in outcome["sealed"]] == ["%s/%s/b2.json" % (B, SITE_B)]
    assert outcome["unsealed"] == ["%s/%s/a2.json" % (A, SITE_A)]
    [error] = outcome["errors"]
    assert (error["institution_id"], error["site_id"]) == (A, SITE_A)
    assert "registered for institution %s" % B in error["message"]
    assert [relative for dummy, dummy, relative in iter_unsealed(archive)] == ["%s/%s/a2.json" % (A, SITE_A)]


def test_a_seal_in_an_archive_to_merge_is_reused_only_from_an_accepted_signer(tmp_path, archive, pki):
    """known_seal: B's seal of A's proof in a foreign archive is not taken for A's; A's own seal is made."""
    foreign = str(tmp_path / "foreign")
    data = proof(A, SITE_A, "2026-11-27T10:00:00Z")
    os.makedirs(os.path.join(foreign, A, SITE_A))
    with open(os.path.join(foreign, A, SITE_A, "a3.json"), "wb") as handle:
        handle.write(data)
    with open(os.path.join(foreign, A, SITE_A, "a3.json.p7s"), "wb") as handle:
        handle.write(sign_detached(data, pki[B]))
    stored = store_proof(archive, A, SITE_A, "a3.json", data, pki[A], known=[foreign])
    assert stored["signer"] == "serialNumber=%s,CN=%s,O=Lab institution %s" % (A, A, A)
    assert verify_archive(archive, [pki["ca"]])["problems"] == []


# --- verify_proofs ------------------------------------------------------------------------------------------

def plant(archive, institution, site, name, data, signer):
    folder = os.path.join(archive, institution, site)
    with open(os.path.join(folder, name), "wb") as handle:
        handle.write(data)
    with open(os.path.join(folder, name + ".p7s"), "wb") as handle:
        handle.write(sign_detached(data, signer))


def test_verify_names_a_seal_by_another_institutions_certificate(archive, pki):
    planted = "%s/%s/a9.json" % (A, SITE_A)
    plant(archive, A, SITE_A, "a9.json", proof(A, SITE_A, "2099-01-01T00:00:00Z"), pki[B])
    result = verify_archive(archive, [pki["ca"]])
    assert kinds(result) == [(planted, "foreign_signer")]
    [problem] = result["problems"]
    assert problem["kinds"] == ["foreign_signer", "unregistered_signer"]
    assert "not in the signer register of institution %s (signers/%s.json)" % (A, A) in problem["message"]
    assert "carries institution ID %s in its subject, not %s" % (B, A) in problem["message"]
    assert result["verified"] == 2 and result["checked"] == 3


def test_verify_names_an_unregistered_signer_whose_subject_carries_no_id(archive, pki):
    plant(archive, A, SITE_A, "a9.json", proof(A, SITE_A, "2026-11-28T10:00:00Z"), pki["plain"])
    assert kinds(verify_archive(archive, [pki["ca"]])) == [("%s/%s/a9.json" % (A, SITE_A), "unregistered_signer")]


def test_verify_names_a_certificate_registered_for_two_institutions(archive, pki):
    document = register_file(archive, A)
    document["signers"].append(register_file(archive, B)["signers"][0])
    with open(os.path.join(archive, "signers", A + ".json"), "w") as handle:
        json.dump(document, handle)
    result = verify_archive(archive, [pki["ca"]])
    assert kinds(result) == [("signers/%s.json" % A, "signer_conflict"), ("signers/%s.json" % B, "signer_conflict")]
    assert "is registered for institutions %s, %s" % (A, B) in result["problems"][0]["message"]


def test_verify_names_an_institution_without_a_register_and_its_signers(archive, pki):
    os.unlink(os.path.join(archive, "signers", B + ".json"))
    result = verify_archive(archive, [pki["ca"]])
    assert kinds(result) == [("signers/%s.json" % B, "no_register")]
    message = result["problems"][0]["message"]
    assert "institution %s has sealed files but no signer register" % B in message
    assert pki[B].certificate.fingerprint(hashes.SHA256()).hex() in message
    assert "eeszt_proofs_register_existing=true" in message
    assert result["verified"] == 1


def test_a_damaged_register_is_named_the_rest_is_verified_and_its_institution_seals_nothing(archive, pki):
    with open(os.path.join(archive, "signers", B + ".json"), "w") as handle:
        handle.write('{"schema": "eeszt.connect/signer-register/v1", "institution_id": "100002", "signers": "x"}')
    result = verify_archive(archive, [pki["ca"]])
    assert kinds(result) == [("signers/%s.json" % B, "signer_conflict")]
    assert "is damaged: signers is not a list" in result["problems"][0]["message"]
    assert result["verified"] == 1
    with pytest.raises(SignerRefusedError, match="is damaged"):
        store_proof(archive, B, SITE_B, "b2.json", proof(B, SITE_B, "2026-11-26T10:00:00Z"), pki[B])


# --- adopting the signers of an archive made before registers ----------------------------------------------

def test_adopting_registers_each_institutions_signers_once_and_refuses_a_shared_one(archive, pki):
    shutil.rmtree(os.path.join(archive, "signers"))
    with pytest.raises(ProofsError, match="set eeszt_proofs_ca_file"):
        adopt_existing(archive, None)
    plant(archive, B, SITE_B, "b9.json", proof(B, SITE_B, "2026-11-28T10:00:00Z"), pki["plain"])
    plant(archive, A, SITE_A, "a9.json", proof(A, SITE_A, "2026-11-28T10:00:00Z"), pki["plain"])
    adopted, refused = adopt_existing(archive, [pki["ca"]])
    assert sorted((a["institution_id"], a["subject"].split("CN=")[1].split(",")[0]) for a in adopted) == [(A, A), (B, B)]
    assert len(refused) == 1 and "sealed files of several institutions (%s, %s): not adopted" % (A, B) in refused[0]
    assert register_file(archive, A)["signers"][0]["source"] == "adopted"
    problems = kinds(verify_archive(archive, [pki["ca"]]))
    assert problems == [("%s/%s/a9.json" % (A, SITE_A), "unregistered_signer"),
                        ("%s/%s/b9.json" % (B, SITE_B), "unregistered_signer")]
    assert adopt_existing(archive, [pki["ca"]]) == ([], refused)  # once: nothing more to adopt


def test_adopting_never_takes_a_certificate_tied_to_another_institution(archive, pki):
    plant(archive, A, SITE_A, "a9.json", proof(A, SITE_A, "2026-11-28T10:00:00Z"), pki[B])
    adopted, refused = adopt_existing(archive, [pki["ca"]])
    assert adopted == []
    assert len(refused) == 1 and "sealed files of several institutions" in refused[0]
    assert kinds(verify_archive(archive, [pki["ca"]])) == [("%s/%s/a9.json" % (A, SITE_A), "foreign_signer")]


# --- merging --------------------------------------------------------------------------------------------------

def test_registers_merge_as_a_union_and_a_merge_again_changes_nothing(tmp_path, pki):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    store_proof(first, A, SITE_A, "a1.json", proof(A, SITE_A), pki[A])
    store_proof(second, A, "100001002", "a2.json", proof(A, "100001002"), pki[A])
    store_proof(second, B, SITE_B, "b1.json", proof(B, SITE_B), pki[B])
    mine = register_file(first, A)
    copied = merge_archive(second, first, anchors=[pki["ca"]])
    assert "signers/%s.json" % B in copied and "signers/%s.json" % A not in copied
    assert register_file(first, A) == mine, "an entry here is kept as it is"
    assert register_file(first, B)["signers"][0]["source"] == "merged"
    assert verify_archive(first, [pki["ca"]])["problems"] == []
    before = snapshot(first)
    assert merge_archive(second, first, anchors=[pki["ca"]]) == []
    assert snapshot(first) == before


def test_a_merge_with_a_seal_by_another_institution_is_refused_named_and_changes_nothing(tmp_path, archive, pki):
    foreign = str(tmp_path / "foreign")
    store_proof(foreign, B, SITE_B, "b1.json", proof(B, SITE_B), pki[B])
    os.makedirs(os.path.join(foreign, A, SITE_A))
    plant(foreign, A, SITE_A, "a9.json", proof(A, SITE_A, "2026-11-28T10:00:00Z"), pki[B])
    before = snapshot(archive)
    with pytest.raises(MergeRefusedError) as raised:
        merge_archive(foreign, archive, anchors=[pki["ca"]])
    message = str(raised.value)
    assert "nothing was copied; 1 refused" in message
    assert "%s/%s/a9.json: its signer" % (A, SITE_A) in message
    assert "not in the signer register of institution %s" % A in message
    assert snapshot(archive) == before
    assert verify_archive(archive, [pki["ca"]])["problems"] == []


def test_a_merge_applies_the_clock_rule_of_a_collection_even_to_a_rightly_sealed_proof(tmp_path, archive, pki):
    """A passing proof dated 2099, sealed by its own institution's certificate: refused as clock skew, nothing
    copied (a merge checks every proof as a collection does)."""
    foreign = str(tmp_path / "foreign")
    store_proof(foreign, A, SITE_A, "a9.json", proof(A, SITE_A, "2099-01-01T00:00:00Z"), pki[A])
    before = snapshot(archive)
    with pytest.raises(MergeRefusedError) as raised:
        merge_archive(foreign, archive, anchors=[pki["ca"]])
    message = str(raised.value)
    assert "nothing was copied; 1 refused" in message
    assert "%s/%s/a9.json" % (A, SITE_A) in message and "clock skew" in message
    assert "eeszt_proofs_clock_tolerance" in message
    assert snapshot(archive) == before


def test_a_foreign_register_entry_that_contradicts_this_one_is_refused(tmp_path, archive, pki):
    """The other archive registers B's certificate for A and seals A's proof with it: both refused."""
    foreign = str(tmp_path / "foreign")
    os.makedirs(os.path.join(foreign, "signers"))
    os.makedirs(os.path.join(foreign, A, SITE_A))
    plant(foreign, A, SITE_A, "a9.json", proof(A, SITE_A, "2026-11-28T10:00:00Z"), pki[B])
    entry = register_file(archive, B)["signers"][0]
    with open(os.path.join(foreign, "signers", A + ".json"), "w") as handle:
        json.dump({"schema": REGISTER_SCHEMA, "institution_id": A, "signers": [entry]}, handle)
    before = snapshot(archive)
    with pytest.raises(MergeRefusedError) as raised:
        merge_archive(foreign, archive, anchors=[pki["ca"]])
    message = str(raised.value)
    assert "signers/%s.json of %s: the certificate" % (A, foreign) in message
    assert "is registered for institution %s" % B in message
    assert "%s/%s/a9.json: its signer" % (A, SITE_A) in message
    assert snapshot(archive) == before


def test_a_merge_checks_the_ca_and_what_collection_checks(tmp_path, archive, pki):
    foreign = str(tmp_path / "foreign")
    intruder_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "intruder")])
    intruder = Signer(intruder_key, _cert(list(name), intruder_key, name, intruder_key))
    store_proof(foreign, A, "100001002", "a2.json", proof(A, "100001002"), intruder)
    store_proof(foreign, A, "100001003", "x.json", proof(A, "100001004"), pki[A])  # another site's proof
    with pytest.raises(MergeRefusedError) as raised:
        merge_archive(foreign, archive, anchors=[pki["ca"]])
    message = str(raised.value)
    assert "%s/100001002/a2.json: its seal %s/100001002/a2.json.p7s: the signer CN=intruder does not chain to a " \
           "trusted CA" % (A, A) in message
    assert "%s/100001003/x.json: %s/100001003/x.json: the proof is for institution %s site 100001004" % (A, A, A) \
        in message
    assert "nothing was copied; 2 refused" in message
