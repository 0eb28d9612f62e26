# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_archive with a file that is no valid proof (issue 21): quarantined with why, not
archived nor sealed, the task failed with invalid_proof; the report then shows the site as error."""

import base64
import csv
import hashlib
import json
import os
import xml.etree.ElementTree as ET
from unittest import mock

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import proofs_archive
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.play_hosts import archive_outcome
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import problem_sites, record_run

INST = "100001"
SITE = "100001001"
NAME = "20261125T100000Z_100001_100001001.json"
REPORTED = "/var/lib/eeszt/proofs/" + NAME


def document(**changes):
    stamp = "2026-11-25T10:00:00Z"
    proof = {
        "schema": "eeszt.connect/proof/v1", "institution_id": INST, "site_id": SITE, "host": "site01",
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-06-01T00:00:00Z"},
        "endpoints": [], "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}}
    proof.update(changes)
    return serialize(proof)


@pytest.fixture(autouse=True)
def site_calls():
    with mock.patch.object(proofs_archive.ActionModule, "_execute_module") as execute:
        execute.side_effect = AssertionError("a module ran on the site")
        yield execute


def archive(tmp_path, data, **extra):
    args = dict(archive_dir=str(tmp_path / "archive"), institution_id=INST, site_id=SITE, reported_path=REPORTED,
                reported_sha256=hashlib.sha256(data).hexdigest(),
                reported_content=base64.b64encode(data).decode("ascii"))
    args.update(extra)
    return run_action("proofs_archive", args, task_vars={"inventory_hostname": "site01"})


@pytest.mark.parametrize("data, reason", [
    (document(failure="boom"), "failure: expected an object or null, got a string"),
    (document(host=["a", "b"]), "host: expected a string, got a list"),
    (document(finished_at=1764064800), "finished_at: expected a string, got an integer"),
    (b"\x00\xffnot json", "not a JSON proof document"),
])
def test_an_invalid_proof_is_quarantined_not_archived_nor_sealed(tmp_path, data, reason):
    result = archive(tmp_path, data)
    assert result["failed"] is True and result["error"] == "invalid_proof" and result["archived"] == []
    assert result["msg"].startswith("the site sent an invalid proof: %s: %s" % (NAME, reason)), result["msg"]
    [item] = result["quarantined"]
    assert (item["name"], item["path"], item["host"]) == (NAME, "quarantine/%s/%s/%s" % (INST, SITE, NAME), "site01")
    assert item["reason"].startswith(reason)
    assert result["warnings"] == ["site %s/%s (host site01) sent an invalid proof %s: %s; it is kept in %s with why, "
                                  "not archived as a proof and not sealed" % (INST, SITE, NAME, item["reason"],
                                                                              item["path"])]
    root = tmp_path / "archive"
    assert (root / item["path"]).read_bytes() == data
    record = json.loads((root / (item["path"] + ".reason.json")).read_text())
    assert (record["reason"], record["host"], record["sha256"]) == (item["reason"], "site01",
                                                                    hashlib.sha256(data).hexdigest())
    assert list(iter_unsealed(str(root))) == [] and not (root / INST).exists()


def test_a_proof_from_the_future_is_refused_naming_the_clock_skew(tmp_path):
    data = document(started_at="2099-01-01T00:00:00Z", finished_at="2099-01-01T00:00:01Z")
    result = archive(tmp_path, data, clock_tolerance=300)
    assert result["error"] == "invalid_proof"
    assert "clock skew: started_at 2099-01-01T00:00:00Z is " in result["quarantined"][0]["reason"]
    assert "more than the tolerance of 300 s (eeszt_proofs_clock_tolerance)" in result["msg"]
    negative = archive(tmp_path, document(), clock_tolerance=-1)
    assert negative["failed"] and "clock_tolerance (eeszt_proofs_clock_tolerance) must not be negative" in negative["msg"]


def test_the_report_shows_the_site_as_error_with_the_reason(tmp_path):
    root = tmp_path / "archive"
    good = archive(tmp_path, document())
    assert not good.get("failed"), good
    outcome = archive_outcome("site01", INST, SITE, good)
    record_run(str(root), [outcome], "controller")
    bad = archive(tmp_path, document(finished_at="2026-11-25T11:00:00Z", failure="boom"),
                  reported_path=REPORTED.replace("T100000Z", "T110000Z"))
    outcome = archive_outcome("site01", INST, SITE, bad)
    assert (outcome["status"], outcome["error"]) == ("error", "invalid_proof")
    record_run(str(root), [outcome], "controller")
    dummy, index = build_report(str(root))
    [site] = index["sites"]
    message = "the site sent an invalid proof: 20261125T110000Z_100001_100001001.json: failure: expected an " \
              "object or null, got a string"
    assert (site["status"], site["failure"]["category"], site["failure"]["message"]) == (
        "error", "invalid_proof", message)
    assert index["summary"]["error"] == 1 and index["summary"]["failed"] == 0
    assert [q["path"] for q in index["quarantine"]] == [
        "quarantine/100001/100001001/20261125T110000Z_100001_100001001.json"]
    with open(str(root / "report.csv"), newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert (row["status"], row["failure_message"]) == ("error", message)
    error = ET.parse(str(root / "junit.xml")).getroot().find("testsuite/testcase/error")
    assert (error.get("type"), error.get("message")) == ("invalid_proof", message)
    html = (root / "report.html").read_text()
    assert '<span class="badge error">error</span>' in html and "quarantine/100001/100001001/" in html
    assert 'eeszt_fleet_sites{status="error"} 1' in (root / "metrics.prom").read_text()
    assert problem_sites(index) == ["100001/100001001 (site01): proofs stage failed: invalid_proof: %s" % message]
    assert os.path.isfile(str(root / "quarantine" / INST / SITE / "20261125T110000Z_100001_100001001.json.reason.json"))


def test_a_file_that_cannot_be_read_is_named_and_the_rest_reported(tmp_path, monkeypatch):
    from ansible_collections.eeszt.connect.plugins.plugin_utils.report import ledger
    root = tmp_path / "archive"
    folder = root / INST / SITE
    (folder / "operator" / "files").mkdir(parents=True)
    (folder / NAME).write_bytes(document())
    (folder / "locked.json").write_bytes(document())
    (folder / "operator" / "files" / "locked.pdf").write_bytes(b"%PDF")
    real_read, real_sha = ledger.read_bytes, ledger.file_sha256

    def refuse(real):
        def call(path):
            if os.path.basename(path).startswith("locked"):
                raise PermissionError(13, "Permission denied")
            return real(path)
        return call
    monkeypatch.setattr(ledger, "read_bytes", refuse(real_read))
    monkeypatch.setattr(ledger, "file_sha256", refuse(real_sha))
    dummy, index = build_report(str(root))
    assert [(f["path"], f["reason"]) for f in index["invalid_files"]] == [
        ("%s/%s/locked.json" % (INST, SITE), "%s/%s/locked.json: cannot be read: Permission denied" % (INST, SITE)),
        ("%s/%s/operator/files/locked.pdf" % (INST, SITE),
         "%s/%s/operator/files/locked.pdf: cannot be read: Permission denied" % (INST, SITE))]
    [site] = index["sites"]
    assert (site["status"], site["latest"]) == ("passed", "%s/%s/%s" % (INST, SITE, NAME))
