# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_report seals the run's proofs once per signing material (issue 13, point 6).

proofs_archive (per site) keeps fetched, checked proofs in ``<archive>/.unsealed``; the run-once
report step seals them, grouped by signing material: three sites of one institution sealed with its
PFX decrypt that PFX once. A proof that waits (no signer in the run, or the signer failed) is named,
never silently left.
"""

import hashlib
import json
import os

import pytest
from action_runner import run_action
from proof_material import PASSWORD, make_pfx, proof

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import signing
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import load_runs
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import verify_detached
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed, stage
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import UNSEALED_MESSAGE, verify_archive

SITES = [("100001", "100001001"), ("100001", "100001002"), ("100001", "100001003"), ("100002", "100002001")]


@pytest.fixture
def fleet(tmp_path, monkeypatch):
    """An archive with one fetched, unsealed proof per site, the outcomes and signers of the run, and a load count."""
    archive = str(tmp_path / "archive")
    pfx = {"100001": make_pfx(tmp_path / "100001.pfx", "100001"), "100002": make_pfx(tmp_path / "100002.pfx", "100002")}
    outcomes, signers = [], []
    for institution, site in SITES:
        data = proof(institution, site)
        relative = stage(archive, institution, site, "proof-%s.json" % site, data)
        outcomes.append({"host": "h" + site, "institution_id": institution, "site_id": site, "status": "collected",
                         "archived": [{"name": relative.rsplit("/", maxsplit=1)[-1], "path": relative, "seal": None,
                                       "signer": None, "sha256": hashlib.sha256(data).hexdigest()}]})
        signers.append({"host": "h" + site, "institution_id": institution, "site_id": site,
                        "signing_pfx": pfx[institution], "signing_pfx_password": PASSWORD})
    loads = []
    real = signing.load_pfx

    def counting(path, *args, **kwargs):
        loads.append(kwargs.get("display_path") or path)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(signing, "load_pfx", counting)
    return archive, outcomes, signers, loads, pfx


def test_three_sites_of_one_institution_decrypt_its_pfx_once(fleet):
    archive, outcomes, signers, loads, pfx = fleet
    result = run_action("proofs_report", dict(archive_dir=archive, outcomes=outcomes, signers=signers))
    assert not result.get("failed"), result
    assert sorted(loads) == sorted([pfx["100001"], pfx["100002"]]), "one PFX decryption per institution"
    assert result["signer_loads"] == 2
    assert result["sealed"] == sorted("%s/%s/proof-%s.json" % (i, s, s) for i, s in SITES)
    assert result["unsealed"] == [] and result["seal_errors"] == []
    assert list(iter_unsealed(archive)) == []
    for institution, site in SITES:
        path = os.path.join(archive, institution, site, "proof-%s.json" % site)
        facts = verify_detached(open(path, "rb").read(), open(path + ".p7s", "rb").read())
        assert facts["subject"] == "CN=WAF-SSL %s" % institution
    recorded = dict((o["site_id"], o["archived"][0]) for o in load_runs(archive)[0]["outcomes"])
    assert recorded["100001002"]["seal"] == "100001/100001002/proof-100001002.json.p7s"
    assert recorded["100001002"]["signer"] == "CN=WAF-SSL 100001"
    assert verify_archive(archive)["problems"] == []
    assert PASSWORD not in json.dumps(result)


def test_a_site_without_a_signer_in_the_run_waits_and_is_named(fleet):
    archive, outcomes, signers, loads, pfx = fleet
    result = run_action("proofs_report", dict(archive_dir=archive, outcomes=outcomes[:3], signers=signers[:3]))
    assert result["unsealed"] == ["100002/100002001/proof-100002001.json"]
    assert result["warnings"] == [
        "1 file(s) wait in %s/.unsealed for their seal: 100002/100002001/proof-100002001.json; the next run of "
        "their site seals them (verify_proofs.yml names them meanwhile)" % archive]
    assert loads == [pfx["100001"]]
    problems = verify_archive(archive)["problems"]
    assert problems == [{"path": "100002/100002001/proof-100002001.json", "kind": "unsealed", "kinds": ["unsealed"],
                         "message": UNSEALED_MESSAGE}]
    # The next run of that site seals it.
    result = run_action("proofs_report", dict(archive_dir=archive, outcomes=outcomes[3:], signers=signers[3:]))
    assert result["sealed"] == ["100002/100002001/proof-100002001.json"]
    assert verify_archive(archive)["problems"] == []


def test_a_wrong_password_fails_only_that_institutions_sites_and_never_shows_it(fleet):
    archive, outcomes, signers, loads, pfx = fleet
    for entry in signers[:3]:
        entry["signing_pfx_password"] = "wrong-password-123"
    result = run_action("proofs_report", dict(archive_dir=archive, outcomes=outcomes, signers=signers))
    assert not result.get("failed"), result
    assert result["sealed"] == ["100002/100002001/proof-100002001.json"]
    assert sorted(e["host"] for e in result["seal_errors"]) == ["h100001001", "h100001002", "h100001003"]
    assert result["signer_loads"] == 1, "the failed PFX is not counted as loaded"
    assert sorted(loads) == sorted([pfx["100001"], pfx["100002"]]), "the wrong password is tried once, not per site"
    assert len(result["unsealed"]) == 3
    recorded = dict((o["site_id"], o) for o in load_runs(archive)[0]["outcomes"])
    assert recorded["100001001"]["status"] == "error"
    assert recorded["100001001"]["error"] == "seal_failed"
    assert recorded["100001001"]["stage"] == "proofs"
    assert recorded["100001001"]["message"].startswith("the proofs could not be sealed: ")
    assert recorded["100002001"]["status"] == "collected"
    assert "wrong-password-123" not in json.dumps(result) and PASSWORD not in json.dumps(result)
    kinds = set(p["kind"] for p in verify_archive(archive)["problems"])
    assert kinds == {"unsealed"}, "a recorded proof that waits is unsealed, not missing"


def test_check_mode_seals_nothing_and_names_what_waits(fleet):
    archive, outcomes, signers, loads, pfx = fleet
    result = run_action("proofs_report", dict(archive_dir=archive, outcomes=outcomes, signers=signers),
                        check_mode=True)
    assert loads == [] and result["sealed"] == []
    assert len(result["unsealed"]) == 4
    assert len(list(iter_unsealed(archive))) == 4
