# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_report reads the play's sites itself (issue 14): no per-site set_fact.

The proofs role registers each site's proofs_archive result and passes ``hosts`` and ``archive_result``; the
run-once step derives each site's outcome from that result (collected, unreachable, error) and reads its
signing settings from its variables, exactly as the role's set_facts did, and never shows a password.
"""

import hashlib
import json

from action_runner import run_action
from proof_material import PASSWORD, make_pfx, proof

from ansible.errors import AnsibleError

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import load_runs
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.play_hosts import UNDEFINED, read_host
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed, stage

RESULT = "__eeszt_proofs_archive"
UNREACHABLE_MSG = ("Task failed: Failed to connect to the host via ssh: ssh: connect to host 192.0.2.7 port 22: "
                   "Connection timed out")


def site(institution, site_id, archive_result, **variables):
    values = {"eeszt_institution_id": int(institution), "eeszt_site_id": site_id, "inventory_dir": "/nonexistent",
              RESULT: archive_result}
    values.update(variables)
    return values


def report(archive, hostvars, **args):
    task_args = dict(archive_dir=archive, hosts=list(hostvars), archive_result=RESULT)
    task_args.update(args)
    return run_action("proofs_report", task_args, task_vars={"hostvars": hostvars,
                                                             "ansible_play_hosts": list(hostvars)})


def recorded(archive):
    return dict((o["host"], o) for o in load_runs(archive)[0]["outcomes"])


def test_a_failed_archive_result_is_the_site_s_error_with_its_code_and_message(tmp_path):
    archive = str(tmp_path / "archive")
    hostvars = {
        "site1": site("100001", "100001001", {"failed": True, "error": "proof_mismatch", "changed": False,
                                              "msg": "the proof /var/lib/eeszt/proofs/p.json changed on the way"}),
        "site2": site("100001", "100001002", {"failed": True, "msg": "", "error": ""}),
        "site3": site("100001", "100001003", {"failed": True}),
    }
    result = report(archive, hostvars)
    assert not result.get("failed"), result
    assert result["host_outcomes"] == {
        "site1": {"status": "error", "stage": "proofs", "error": "proof_mismatch",
                  "reason": "the proof /var/lib/eeszt/proofs/p.json changed on the way"},
        # ansible_failed_result.error | default('archive_failed', true); .msg | default('...') (kept when empty)
        "site2": {"status": "error", "stage": "proofs", "error": "archive_failed", "reason": ""},
        "site3": {"status": "error", "stage": "proofs", "error": "archive_failed",
                  "reason": "the proofs could not be archived"},
    }
    runs = recorded(archive)
    assert runs["site1"]["status"] == "error" and runs["site1"]["error"] == "proof_mismatch"
    assert runs["site1"]["institution_id"] == "100001" and runs["site1"]["stage"] == "proofs"
    assert runs["site1"]["message"] == "the proof /var/lib/eeszt/proofs/p.json changed on the way"
    assert runs["site3"]["message"] == "the proofs could not be archived"


def test_an_unreachable_site_is_recorded_with_its_connection_error(tmp_path):
    archive = str(tmp_path / "archive")
    hostvars = {"site1": site("100001", "100001001", {"unreachable": True, "changed": False, "msg": UNREACHABLE_MSG,
                                                      "archived": []}),
                "site2": site("100001", "100001002", {"unreachable": True})}
    result = report(archive, hostvars)
    reason = UNREACHABLE_MSG[len("Task failed: "):]
    assert result["host_outcomes"] == {
        "site1": {"status": "unreachable", "stage": "proofs", "error": None, "reason": reason},
        "site2": {"status": "unreachable", "stage": "proofs", "error": None, "reason": "unreachable"}}
    runs = recorded(archive)
    assert (runs["site1"]["status"], runs["site1"]["message"]) == ("unreachable", reason)
    assert result["summary"]["unreachable"] == 2


def test_a_collected_site_is_sealed_with_the_pfx_read_from_its_variables(tmp_path):
    archive = str(tmp_path / "archive")
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    data = proof("100001", "100001001")
    relative = stage(archive, "100001", "100001001", "proof.json", data)
    archived = [{"name": "proof.json", "path": relative, "seal": None, "signer": None,
                 "sha256": hashlib.sha256(data).hexdigest()}]
    hostvars = {"site1": site("100001", "100001001", {"changed": True, "archived": archived,
                                                      "operator_archived": [], "operator_refused": []},
                              eeszt_proofs_signing_pfx=pfx, eeszt_proofs_signing_pfx_password=PASSWORD,
                              eeszt_proofs_signing_key=None)}
    result = report(archive, hostvars)
    assert not result.get("failed"), result
    assert result["sealed"] == ["100001/100001001/proof.json"] and result["seal_errors"] == []
    assert result["host_outcomes"] == {"site1": {"status": "collected", "stage": None, "error": None, "reason": ""}}
    assert list(iter_unsealed(archive)) == []
    entry = recorded(archive)["site1"]
    assert entry["status"] == "collected"
    assert entry["archived"][0]["seal"] == "100001/100001001/proof.json.p7s"
    assert PASSWORD not in json.dumps(result)


def test_a_wrong_signing_password_fails_the_site_and_never_shows_the_password(tmp_path):
    archive = str(tmp_path / "archive")
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    stage(archive, "100001", "100001001", "proof.json", proof("100001", "100001001"))
    wrong = "Wrong-Sms-Jelszo-2026-xyz"
    hostvars = {"site1": site("100001", "100001001", {"changed": True}, eeszt_proofs_signing_pfx=pfx,
                              eeszt_proofs_signing_pfx_password=wrong)}
    result = report(archive, hostvars)
    assert not result.get("failed"), result
    assert [(e["host"], e["institution_id"], e["site_id"]) for e in result["seal_errors"]] == [
        ("site1", "100001", "100001001")]
    message = result["seal_errors"][0]["message"]
    assert result["host_outcomes"]["site1"] == {"status": "error", "stage": "proofs", "error": "seal_failed",
                                                "reason": "the proofs could not be sealed: %s" % message}
    assert wrong not in json.dumps(result) and wrong not in json.dumps(load_runs(archive))


def test_a_signing_key_wins_over_the_pfx_as_the_role_s_set_fact_did(tmp_path):
    archive = str(tmp_path / "archive")
    stage(archive, "100001", "100001001", "proof.json", proof("100001", "100001001"))
    hostvars = {"site1": site("100001", "100001001", {"changed": True}, eeszt_proofs_signing_pfx="/nonexistent.pfx",
                              eeszt_proofs_signing_pfx_password=PASSWORD, eeszt_proofs_signing_key="missing-key.pem")}
    result = report(archive, hostvars)
    message = result["seal_errors"][0]["message"]
    # Not "signing_pfx and signing_key are both set": the PFX is dropped when a key is set.
    assert message.startswith("signing_key is set without signing_cert"), message


def test_a_signers_entry_wins_over_the_settings_read_from_the_host(tmp_path):
    archive = str(tmp_path / "archive")
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    stage(archive, "100001", "100001001", "proof.json", proof("100001", "100001001"))
    hostvars = {"site1": site("100001", "100001001", {"changed": True}, eeszt_proofs_signing_pfx="/nonexistent.pfx")}
    signers = [{"institution_id": "100001", "site_id": "100001001", "signing_pfx": pfx,
                "signing_pfx_password": PASSWORD}]
    result = report(archive, hostvars, signers=signers)
    assert result["sealed"] == ["100001/100001001/proof.json"] and result["seal_errors"] == []


def test_a_host_without_identity_is_returned_but_not_recorded(tmp_path):
    archive = str(tmp_path / "archive")
    hostvars = {"site1": {RESULT: {"failed": True, "msg": "'eeszt_institution_id' is undefined"}},
                "site2": site("100001", "100001002", {"changed": False})}
    result = report(archive, hostvars)
    assert result["host_outcomes"]["site1"] == {"status": "error", "stage": "proofs", "error": "archive_failed",
                                                "reason": "'eeszt_institution_id' is undefined"}
    assert sorted(recorded(archive)) == ["site2"]


def test_the_left_run_outcomes_come_after_the_play_s_hosts(tmp_path):
    archive = str(tmp_path / "archive")
    left = {"host": "site9", "institution_id": "100009", "site_id": "100009001", "status": "error",
            "stage": "certificate", "error": "pfx_wrong_password", "reason": "wrong password"}
    result = report(archive, {"site1": site("100001", "100001001", {"unreachable": True, "msg": "down"})},
                    outcomes=[left])
    assert list(result["host_outcomes"]) == ["site1", "site9"]
    assert result["host_outcomes"]["site9"] == {"status": "error", "stage": "certificate",
                                                "error": "pfx_wrong_password", "reason": "wrong password"}


def test_a_password_that_cannot_be_templated_is_named_never_quoted():
    def get(variable, template=True):
        if variable == "eeszt_proofs_signing_pfx_password":
            raise AnsibleError("template error while templating string: Sms-Jelszo-2026-abcdefgh}}")
        if variable == "eeszt_proofs_signing_chain":
            raise AnsibleError("'vault_chain' is undefined")
        return {"eeszt_institution_id": 100001, "eeszt_site_id": "100001001",
                "eeszt_proofs_signing_pfx": "x.pfx"}.get(variable, UNDEFINED)
    signer, outcome, problem = read_host(get, "site1")
    assert outcome is None
    assert problem == "the variable eeszt_proofs_signing_pfx_password of host site1 could not be templated"
    assert signer == {"host": "site1", "institution_id": "100001", "site_id": "100001001", "inventory_dir": None,
                      "signing_pfx": "x.pfx", "signing_pfx_password": None, "signing_key": None,
                      "signing_cert": None, "signing_key_password": None, "signing_chain": None}


def test_a_setting_that_cannot_be_templated_fails_sealing_of_that_site_only(tmp_path, monkeypatch):
    from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import play_hosts
    archive = str(tmp_path / "archive")
    stage(archive, "100001", "100001001", "proof.json", proof("100001", "100001001"))
    real = play_hosts.read_host

    def broken(get, name, archive_result=None):
        signer, outcome, dummy = real(get, name, archive_result)
        return signer, outcome, "the variable eeszt_proofs_signing_pfx of host %s could not be templated: x" % name
    monkeypatch.setattr("ansible_collections.eeszt.connect.plugins.action.proofs_report.read_host", broken)
    result = report(archive, {"site1": site("100001", "100001001", {"changed": True})})
    assert result["seal_errors"][0]["message"] == (
        "the variable eeszt_proofs_signing_pfx of host site1 could not be templated: x")
    assert result["host_outcomes"]["site1"]["error"] == "seal_failed"
