# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Archiving proofs on the controller: what is new, what is refused, never overwriting, merging archives."""

import datetime
import os
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import (
    accept_proof,
    merge_archive,
    plan_site,
    store_proof,
)
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ArchiveConflictError, ProofRejectedError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import DIR_MODE, site_dir
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import ensure_dir, store
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, verify_detached

INST, SITE = "100001", "100001001"


@pytest.fixture(scope="module")
def signer():
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return Signer(key, cert)


def proof_bytes(institution_id=INST, site_id=SITE, finished_at="2026-11-25T10:00:00Z", passed=True):
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id, "host": "site01",
        "environment": "test", "started_at": finished_at, "finished_at": finished_at,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_after": "2027-01-01T00:00:00Z"},
        "endpoints": [{"name": "health", "url": "https://127.0.0.1/health", "passed": passed, "steps": []}],
        "passed": passed, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"},
    })


def test_plan_sorts_new_skipped_and_conflicting(tmp_path, signer):
    archive = str(tmp_path)
    same, changed = proof_bytes(), proof_bytes(finished_at="2026-11-25T11:00:00Z")
    store_proof(archive, INST, SITE, "a.json", same, signer)
    store_proof(archive, INST, SITE, "b.json", same, signer)
    new, skipped, errors = plan_site(archive, INST, SITE, [
        {"name": "c.json", "sha256": "1" * 64}, {"name": "a.json", "sha256": sha256_hex(same)},
        {"name": "b.json", "sha256": sha256_hex(changed)}, {"name": "../x.json", "sha256": "2" * 64}])
    assert new == ["c.json"]
    assert skipped == ["a.json"]
    assert len(errors) == 2
    assert errors[0].startswith("../x.json: not a proof file name")
    assert errors[1].startswith("b.json: the archive already holds") and "never overwritten" in errors[1]


def test_store_seals_first_and_never_overwrites(tmp_path, signer):
    archive = str(tmp_path)
    data = proof_bytes()
    stored = store_proof(archive, INST, SITE, "p.json", data, signer)
    path = os.path.join(archive, INST, SITE, "p.json")
    assert stored == {"name": "p.json", "path": "%s/%s/p.json" % (INST, SITE), "sha256": sha256_hex(data),
                      "seal": "%s/%s/p.json.p7s" % (INST, SITE), "signer": "CN=seal"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    with open(path + ".p7s", "rb") as handle:
        assert verify_detached(data, handle.read())["subject"] == "CN=seal"
    assert store_proof(archive, INST, SITE, "p.json", data, signer) is None  # same bytes: nothing to do
    with pytest.raises(ArchiveConflictError, match="never overwritten"):
        store_proof(archive, INST, SITE, "p.json", proof_bytes(passed=False), signer)
    with open(path, "rb") as handle:
        assert handle.read() == data
    assert sorted(os.listdir(os.path.join(archive, INST, SITE))) == ["p.json", "p.json.p7s"]


def test_accept_checks_every_reported_hash_and_the_site(tmp_path):
    data = proof_bytes()
    assert accept_proof(data, "p.json", INST, SITE, [("the site's listing", sha256_hex(data))])["passed"] is True
    with pytest.raises(ProofRejectedError, match="the connection check reported 0000"):
        accept_proof(data, "p.json", INST, SITE, [("the site's listing", sha256_hex(data)),
                                                  ("the connection check", "0" * 64)])
    with pytest.raises(ProofRejectedError, match="institution 100001 site 100001002, but this host"):
        accept_proof(proof_bytes(site_id="100001002"), "p.json", INST, SITE)
    with pytest.raises(ProofRejectedError, match="not a JSON proof"):
        accept_proof(b"\xff{", "p.json", INST, SITE)
    with pytest.raises(ProofRejectedError, match="schema"):
        accept_proof(b'{"schema": "other"}', "p.json", INST, SITE)
    with pytest.raises(ProofRejectedError, match="lacks the required field"):
        accept_proof(b'{"schema": "eeszt.connect/proof/v1", "institution_id": "100001"}', "p.json", INST, SITE)


def test_unsafe_identifiers_are_refused(tmp_path):
    for bad in ("..", "a/b", "runs", "upload", ""):
        with pytest.raises(ProofsError, match="cannot be used as a folder name"):
            site_dir(str(tmp_path), bad, SITE)


def test_write_new_refuses_other_content(tmp_path):
    path = str(tmp_path / "f")
    assert store(path, b"one", write_new) is True
    assert store(path, b"one", write_new) is False
    with pytest.raises(ArchiveConflictError):
        store(path, b"two", write_new)


def test_merge_copies_proofs_seals_and_runs_and_refuses_conflicts(tmp_path, signer):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    store_proof(first, INST, SITE, "p1.json", proof_bytes(), signer)
    store_proof(second, INST, "100001002", "p2.json", proof_bytes(site_id="100001002"), signer)
    os.makedirs(os.path.join(second, "runs"))
    with open(os.path.join(second, "runs", "r.json"), "w") as handle:
        handle.write("{}")
    with open(os.path.join(second, "index.json"), "w") as handle:
        handle.write("{}")
    copied = merge_archive(second, first)
    assert copied == ["%s/100001002/p2.json" % INST, "%s/100001002/p2.json.p7s" % INST, "runs/r.json"]
    assert not os.path.exists(os.path.join(first, "index.json"))  # reports are rebuilt, not copied
    assert merge_archive(second, first) == []  # idempotent
    store_proof(second, INST, SITE, "p1.json", proof_bytes(passed=False), signer)
    with pytest.raises(ArchiveConflictError, match="p1.json"):
        merge_archive(second, first, check_mode=True)


def test_ensure_dir_makes_every_missing_folder_0750_whatever_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        assert ensure_dir(str(tmp_path / "archive" / "100001" / "100001001")) is True
        assert ensure_dir(str(tmp_path / "archive" / "100001" / "100001001")) is False
    finally:
        os.umask(old)
    for relative in ("archive", "archive/100001", "archive/100001/100001001"):
        assert stat.S_IMODE(os.stat(str(tmp_path / relative)).st_mode) == DIR_MODE == 0o750, relative


# --- the same proof sealed twice (job slices into separate archives, then merged) ------------------------

def _seal_of(archive, relative):
    with open(os.path.join(archive, *relative.split("/")), "rb") as handle:
        return handle.read()


def _twice_sealed(tmp_path, signer, name="p1.json"):
    """Two archives holding the same proof bytes under two different (valid) seals."""
    first, second = str(tmp_path / "node0"), str(tmp_path / "merged")
    data = proof_bytes()
    store_proof(first, INST, SITE, name, data, signer)
    store_proof(second, INST, SITE, name, data, signer)
    relative = "%s/%s/%s" % (INST, SITE, name)
    assert _seal_of(first, relative + ".p7s") != _seal_of(second, relative + ".p7s")  # ECDSA: never twice the same
    return first, second, relative, data


def test_merge_keeps_one_of_two_valid_seals_of_the_same_proof_whatever_the_order(tmp_path, signer):
    first, second, relative, data = _twice_sealed(tmp_path, signer)
    seals = sorted([_seal_of(first, relative + ".p7s"), _seal_of(second, relative + ".p7s")], key=sha256_hex)
    # Copies, to merge the other way round as well.
    import shutil
    first_copy, second_copy = str(tmp_path / "node0-copy"), str(tmp_path / "merged-copy")
    shutil.copytree(first, first_copy)
    shutil.copytree(second, second_copy)
    merge_archive(first, second)
    merge_archive(second_copy, first_copy)
    for archive in (second, first_copy):
        kept = _seal_of(archive, relative + ".p7s")
        assert kept == seals[0], "the seal with the lower SHA-256 is kept, whichever archive is merged into which"
        assert verify_detached(data, kept)["subject"] == "CN=seal"
    assert merge_archive(first, second) == []  # idempotent


def test_merge_reports_a_replaced_seal_and_writes_nothing_in_check_mode(tmp_path, signer):
    first, second, relative, dummy = _twice_sealed(tmp_path, signer)
    seal = relative + ".p7s"
    before = _seal_of(second, seal)
    lower_is_first = sha256_hex(_seal_of(first, seal)) < sha256_hex(before)
    assert merge_archive(first, second, check_mode=True) == ([seal] if lower_is_first else [])
    assert _seal_of(second, seal) == before
    assert merge_archive(first, second) == ([seal] if lower_is_first else [])


def test_merge_refuses_two_seals_of_the_same_proof_when_one_does_not_verify(tmp_path, signer):
    first, second, relative, dummy = _twice_sealed(tmp_path, signer)
    seal = os.path.join(first, *relative.split("/")) + ".p7s"
    damaged = bytearray(_seal_of(first, relative + ".p7s"))
    damaged[-5] ^= 0xFF  # a byte of the signature
    with open(seal, "wb") as handle:
        handle.write(bytes(damaged))
    with pytest.raises(ArchiveConflictError) as caught:
        merge_archive(first, second)
    assert str(caught.value) == (
        "cannot merge %s into %s: these seals of the same proof do not both verify: %s.p7s (the seal in %s: "
        "the signature of CN=seal over the seal's attributes does not verify: the seal was altered)"
        % (first, second, relative, first))


def test_merge_still_refuses_a_proof_whose_bytes_differ_and_names_it(tmp_path, signer):
    first, second = str(tmp_path / "node0"), str(tmp_path / "merged")
    store_proof(first, INST, SITE, "p1.json", proof_bytes(), signer)
    store_proof(second, INST, SITE, "p1.json", proof_bytes(passed=False), signer)
    with pytest.raises(ArchiveConflictError) as caught:
        merge_archive(first, second)
    assert str(caught.value) == (
        "cannot merge %s into %s: these files exist in both with different content: %s/%s/p1.json, "
        "%s/%s/p1.json.p7s" % (first, second, INST, SITE, INST, SITE))


def test_a_proof_already_sealed_in_an_archive_to_merge_is_stored_with_that_seal(tmp_path, signer):
    node = str(tmp_path / "node0")
    merged = str(tmp_path / "merged")
    data = proof_bytes()
    store_proof(node, INST, SITE, "p1.json", data, signer)
    relative = "%s/%s/p1.json" % (INST, SITE)
    stored = store_proof(merged, INST, SITE, "p1.json", data, signer, known=[str(tmp_path / "absent"), node])
    assert _seal_of(merged, relative + ".p7s") == _seal_of(node, relative + ".p7s"), "not sealed a second time"
    assert stored == {"name": "p1.json", "path": relative, "sha256": sha256_hex(data), "seal": relative + ".p7s",
                      "signer": "CN=seal"}
    assert merge_archive(node, merged) == []
    # Other bytes under the same name there: sealed here, as usual.
    other = proof_bytes(finished_at="2026-11-26T10:00:00Z")
    store_proof(merged, INST, SITE, "p2.json", other, signer, known=[node])
    assert verify_detached(other, _seal_of(merged, relative.replace("p1", "p2") + ".p7s"))
