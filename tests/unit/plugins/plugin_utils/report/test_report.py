# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report, rebuilt from the archive: index, CSV, HTML, JUnit, evidence bundles, merges."""

import csv
import datetime
import io
import json
import os
import re
import shutil
import subprocess
import zipfile
import xml.etree.ElementTree as ET

import prerequisites
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import merge_archive, store_proof
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import MESSAGE_MAX, one_line
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import problem_sites, record_run

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
FAILURE = {"category": "tls_client_cert_rejected", "endpoint": "health", "step": "tls",
           "message": "The WAF rejected the client certificate.", "hint": "Ask EESZT to enable <this> certificate."}
# (institution, site, hour, passed, certificate not_after)
FLEET_A = [("100001", "100001001", 9, False, "2026-12-01T00:00:00Z"),
           ("100001", "100001001", 10, True, "2026-12-01T00:00:00Z"),
           ("100001", "100001002", 10, False, "2027-06-01T00:00:00Z")]
FLEET_B = [("100002", "100002001", 9, True, "2026-11-20T00:00:00Z"),
           ("100002", "100002001", 11, False, "2026-11-20T00:00:00Z"),
           ("100002", "100002002", 10, True, "2028-01-01T00:00:00Z")]


@pytest.fixture(scope="module")
def signer():
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(9).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return Signer(key, cert, vendor=True)  # the vendor's own key seals both institutions' proofs


def proof_bytes(institution_id, site_id, hour, passed, not_after):
    stamp = "2026-11-25T%02d:00:00Z" % hour
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id,
        "host": "site-" + site_id, "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=%s" % institution_id, "issuer": "CN=ca", "serial": "0A",
                               "sha256": "00" * 32, "not_after": not_after},
        "endpoints": [], "passed": passed, "failure": None if passed else FAILURE,
        "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def collect(archive, fleet, signer, controller, extra_outcomes=(), now=NOW):
    """What one collection run leaves in an archive (its run record written at ``now``, the controller's time)."""
    outcomes = {}
    for institution_id, site_id, hour, passed, not_after in fleet:
        name = "20261125T%02d0000Z_%s_%s.json" % (hour, institution_id, site_id)
        stored = store_proof(archive, institution_id, site_id, name,
                             proof_bytes(institution_id, site_id, hour, passed, not_after), signer)
        outcome = outcomes.setdefault(site_id, {"host": "site-" + site_id, "institution_id": institution_id,
                                                "site_id": site_id, "status": "collected", "archived": []})
        outcome["archived"].append(stored)
    return record_run(archive, list(outcomes.values()) + list(extra_outcomes), controller, now=now)


UNREACHABLE = {"host": "site-100002003", "institution_id": "100002", "site_id": "100002003", "status": "unreachable",
               "reason": "ssh: connect to host 192.0.2.7 port 22: Connection timed out"}


@pytest.fixture
def fleet(tmp_path, signer):
    archive = str(tmp_path / "archive")
    collect(archive, FLEET_A + FLEET_B, signer, "controller-a", [UNREACHABLE])
    return archive


def read(archive, name):
    with open(os.path.join(archive, name), "rb") as handle:
        return handle.read()


def test_index_latest_per_site_and_summary(fleet):
    changed, index = build_report(fleet, now=NOW)
    assert sorted(changed) == sorted(["index.json", "report.csv", "report.html", "junit.xml", "metrics.prom",
                                      "evidence/100001_evidence.zip", "evidence/100002_evidence.zip"])
    assert index["summary"] == {
        "sites": 5, "passed": 2, "failed": 2, "error": 0, "no_proof": 1, "unreachable": 1, "collection_errors": 0,
        "institutions": 2, "proofs": 6, "missing_proofs": 0, "unsealed_proofs": 0,
        "certificates_expired": 1, "certificates_expiring": 1, "warn_days": 30,
        "stale": 0, "stale_hours": 192, "refused": 0, "bundle_outdated": 1, "rotation_problems": 0}
    sites = dict((s["site_id"], s) for s in index["sites"])
    assert [s["status"] for s in index["sites"]] == ["failed", "failed", "no_proof", "passed", "passed"]
    assert sites["100001001"]["status"] == "passed"  # the 10:00 proof replaced the failed 09:00 one
    assert sites["100001001"]["proofs"] == 2
    assert sites["100002001"]["status"] == "failed"
    assert sites["100002001"]["latest_passing"].endswith("20261125T090000Z_100002_100002001.json")
    assert sites["100002001"]["failure"]["category"] == "tls_client_cert_rejected"
    assert sites["100002001"]["certificate_days_left"] == -6
    assert sites["100001001"]["certificate_days_left"] == 5
    assert sites["100002003"]["collection"]["status"] == "unreachable"
    assert sites["100002003"]["host"] == "site-100002003"
    on_disk = json.loads(read(fleet, "index.json"))
    assert on_disk["generated_at"] == "2026-11-25T12:00:00Z"
    assert len(on_disk["proofs"]) == 6 and all(p["sealed"] for p in on_disk["proofs"])


def test_second_build_on_the_same_archive_changes_nothing(fleet):
    build_report(fleet, now=NOW)
    before = dict((n, read(fleet, n)) for n in ("index.json", "report.html", "junit.xml", "report.csv"))
    changed, dummy = build_report(fleet, now=NOW + datetime.timedelta(hours=1))
    assert changed == []
    assert before == dict((n, read(fleet, n)) for n in before)


def test_csv_one_row_per_site(fleet):
    build_report(fleet, now=NOW)
    rows = list(csv.DictReader(io.StringIO(read(fleet, "report.csv").decode("utf-8"))))
    assert [(r["site_id"], r["status"]) for r in rows] == [
        ("100001002", "failed"), ("100002001", "failed"), ("100002003", "no_proof"),
        ("100001001", "passed"), ("100002002", "passed")]
    assert rows[0]["failure_category"] == "tls_client_cert_rejected"
    assert rows[0]["hint"] == FAILURE["hint"]
    assert rows[2]["last_collection"] == "unreachable"
    assert rows[1]["certificate_days_left"] == "-6"


def test_junit_one_testcase_per_site(fleet):
    build_report(fleet, now=NOW)
    root = ET.fromstring(read(fleet, "junit.xml"))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("5", "2", "1")
    cases = dict((c.get("name").split()[0], c) for c in suite.findall("testcase"))
    assert sorted(cases) == ["100001001", "100001002", "100002001", "100002002", "100002003"]
    failure = cases["100001002"].find("failure")
    assert failure.get("type") == "tls_client_cert_rejected"
    assert failure.get("message") == FAILURE["message"]
    assert "<this>" in failure.text  # escaped in the file, intact after parsing
    assert cases["100002003"].find("error").get("type") == "unreachable"
    assert cases["100001001"].find("failure") is None and cases["100001001"].find("error") is None


def test_html_is_self_contained_with_rows_and_charts(fleet):
    build_report(fleet, now=NOW)
    html = read(fleet, "report.html").decode("utf-8")
    assert html.count('<tr class="failed">') == 2 and html.count('<tr class="passed">') == 2
    assert html.count('<tr class="no_proof">') == 1
    assert '<svg id="chart-status"' in html and '<svg id="chart-days"' in html
    assert "2 passed, 2 failed, 1 without proof" in html
    assert "Ask EESZT to enable &lt;this&gt; certificate." in html
    for remote in ("http://", "https://", "//cdn", "src=\"http"):
        assert remote not in html.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
            "https://127.0.0.1", "")
    assert "openssl cms -verify -binary -purpose any" in html


def test_evidence_bundle_holds_latest_passing_proofs_and_seals(fleet):
    build_report(fleet, now=NOW)
    with zipfile.ZipFile(os.path.join(fleet, "evidence", "100002_evidence.zip")) as bundle:
        names = bundle.namelist()
        assert names == ["100002001/20261125T090000Z_100002_100002001.json",
                         "100002001/20261125T090000Z_100002_100002001.json.p7s",
                         "100002002/20261125T100000Z_100002_100002002.json",
                         "100002002/20261125T100000Z_100002_100002002.json.p7s", "SHA256SUMS", "README.txt",
                         "NOTICE-LATER-FAILURES.txt"]
        sums = bundle.read("SHA256SUMS").decode("ascii").splitlines()
        assert sums[0] == "%s  %s" % (sha256_hex(bundle.read(names[0])), names[0])
        assert len(sums) == 4
        # 100002001 failed at 11:00, after the 09:00 proof in the bundle: the bundle says so.
        assert bundle.read("NOTICE-LATER-FAILURES.txt").decode("utf-8").splitlines()[3:] == [
            "100002001 (site-100002001): passing proof of 2026-11-25T09:00:00Z; failed at 2026-11-25T11:00:00Z in "
            "the check stage: tls_client_cert_rejected: The WAF rejected the client certificate."]
    with zipfile.ZipFile(os.path.join(fleet, "evidence", "100001_evidence.zip")) as bundle:
        assert [n for n in bundle.namelist() if n.endswith(".json")] == [
            "100001001/20261125T100000Z_100001_100001001.json"]  # 100001002 never passed
        assert "NOTICE-LATER-FAILURES.txt" not in bundle.namelist()  # 100001001 passes now


def test_two_archives_of_disjoint_halves_merge_into_one_report(tmp_path, signer):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    collect(first, FLEET_A, signer, "controller-a")
    collect(second, FLEET_B, signer, "controller-b", [UNREACHABLE])
    dummy, half = build_report(second, now=NOW)
    assert half["summary"]["sites"] == 3
    copied = merge_archive(second, first)
    assert len(copied) == 8  # three proofs, three seals, one run record, the signer register of 100002
    assert "signers/100002.json" in copied
    dummy, index = build_report(first, now=NOW)
    assert index["summary"]["sites"] == 5
    assert index["summary"]["institutions"] == 2
    assert len(index["runs"]) == 2
    assert sorted(s["site_id"] for s in index["sites"]) == [
        "100001001", "100001002", "100002001", "100002002", "100002003"]


def test_two_runs_into_one_archive_merge_too(tmp_path, signer):
    archive = str(tmp_path / "a")
    collect(archive, FLEET_A, signer, "controller-a")
    collect(archive, FLEET_B, signer, "controller-a")
    dummy, index = build_report(archive, now=NOW)
    assert index["summary"]["sites"] == 4 and index["summary"]["proofs"] == 6


def test_run_records_only_when_something_changed(fleet):
    again = [{"host": "site-100001001", "institution_id": "100001", "site_id": "100001001", "status": "collected"},
             UNREACHABLE]
    assert record_run(fleet, again, "controller-a", now=NOW) is None
    back = dict(UNREACHABLE, status="collected", reason=None)
    written = record_run(fleet, [back], "controller-a", now=NOW)
    assert written.startswith("runs/20261125T120000Z_controller-a_")
    dummy, index = build_report(fleet, now=NOW)
    assert index["summary"]["unreachable"] == 0
    with pytest.raises(ProofsError, match="status must be one of"):
        record_run(fleet, [dict(back, status="bogus")], "controller-a")


def test_missing_proof_is_shown_in_the_report(fleet):
    build_report(fleet, now=NOW)
    os.unlink(os.path.join(fleet, "100002", "100002002", "20261125T100000Z_100002_100002002.json"))
    dummy, index = build_report(fleet, now=NOW)
    assert index["summary"]["missing_proofs"] == 1
    assert "proof(s) recorded in the ledger are missing" in read(fleet, "report.html").decode("utf-8")


def test_a_multi_line_connection_error_is_kept_on_one_line_and_cut(tmp_path):
    archive = str(tmp_path / "archive")
    hang = dict(UNREACHABLE, host="site-hang", site_id="100002004",
                reason="Data could not be sent to remote host \"127.0.0.1\". Make sure this host can be reached "
                       "over ssh: Connection timed out during banner exchange\r\nConnection to 127.0.0.1 port 2222 "
                       "timed out\n")
    long = dict(UNREACHABLE, host="site-long", site_id="100002005", reason="x" * 2000)
    error = dict(UNREACHABLE, host="site-error", site_id="100002006", status="error", reason="  \n ")
    record_run(archive, [hang, long, error], "controller-a", now=NOW)
    dummy, index = build_report(archive, now=NOW)

    messages = dict((s["host"], s["collection"]["message"]) for s in index["sites"])
    assert messages["site-hang"] == (
        "Data could not be sent to remote host \"127.0.0.1\". Make sure this host can be reached over ssh: "
        "Connection timed out during banner exchange Connection to 127.0.0.1 port 2222 timed out")
    assert messages["site-long"] == "x" * (MESSAGE_MAX - 3) + "..."
    assert messages["site-error"] is None
    cases = dict((c.get("name").split()[0], c) for c in ET.fromstring(read(archive, "junit.xml")).iter("testcase"))
    assert cases["100002004"].find("error").get("message") == messages["site-hang"]
    assert cases["100002006"].find("error").get("message") == "the site could not be collected"
    assert "banner exchange Connection to 127.0.0.1" in read(archive, "report.html").decode("utf-8")
    assert one_line(None) is None and one_line("a\tb") == "a b"


def test_problem_sites_name_each_site_that_did_not_pass_with_why(fleet):
    dummy, index = build_report(fleet, now=NOW)
    assert problem_sites(index) == [
        "100001/100001002 (site-100001002): check failed: tls_client_cert_rejected: "
        "The WAF rejected the client certificate.",
        "100002/100002001 (site-100002001): check failed: tls_client_cert_rejected: "
        "The WAF rejected the client certificate. (last passed 2026-11-25T09:00:00Z)",
        "100002/100002003 (site-100002003): unreachable: ssh: connect to host 192.0.2.7 port 22: Connection timed out",
    ]


# --- the latest run at every stage: never a stale green (issue 11 §4-5) -------------------------------

LATER = NOW + datetime.timedelta(hours=1)
TLS_ERROR = {"host": "site-100001001", "institution_id": "100001", "site_id": "100001001", "status": "error",
             "stage": "tls", "error": "ca_bundle_not_found",
             "reason": "the EESZT CA bundle /srv/eeszt/eeszt-ca.pem does not exist: set eeszt_tls_ca_bundle_src"}


def site_of(index, site_id):
    return [s for s in index["sites"] if s["site_id"] == site_id][0]


def csv_rows(archive):
    return dict((r["site_id"], r) for r in csv.DictReader(io.StringIO(read(archive, "report.csv").decode("utf-8"))))


def junit_cases(archive):
    return dict((c.get("name").split()[0], c) for c in ET.fromstring(read(archive, "junit.xml")).iter("testcase"))


def test_a_site_that_passed_and_then_failed_in_the_tls_stage_is_failed_everywhere(fleet, signer):
    dummy, before = build_report(fleet, now=NOW)
    assert site_of(before, "100001001")["status"] == "passed"
    assert record_run(fleet, [TLS_ERROR], "controller-a", now=LATER)
    dummy, index = build_report(fleet, now=LATER)

    site = site_of(index, "100001001")
    assert site["status"] == "failed"
    assert site["latest_proof_status"] == "passed"  # the proof itself passed: history
    assert site["failure"] == {"stage": "tls", "category": "ca_bundle_not_found", "message": TLS_ERROR["reason"],
                               "hint": None, "endpoint": None, "step": None, "at": "2026-11-25T13:00:00Z"}
    assert (site["latest_passing_at"], site["latest_passing_age_days"]) == ("2026-11-25T10:00:00Z", 0)
    assert site["bundle_outdated"] is True
    assert (index["summary"]["passed"], index["summary"]["failed"]) == (1, 3)

    row = csv_rows(fleet)["100001001"]
    assert (row["status"], row["failure_stage"], row["failure_category"], row["failure_message"]) == (
        "failed", "tls", "ca_bundle_not_found", TLS_ERROR["reason"])
    assert (row["last_passed_at"], row["bundle_outdated"], row["environment"]) == (
        "2026-11-25T10:00:00Z", "yes", "test")

    failure = junit_cases(fleet)["100001001"].find("failure")
    assert (failure.get("type"), failure.get("message")) == ("ca_bundle_not_found", TLS_ERROR["reason"])
    assert "stage: tls" in failure.text and "last passed: 2026-11-25T10:00:00Z" in failure.text

    html = read(fleet, "report.html").decode("utf-8")
    assert html.count('<tr class="passed">') == 1 and html.count('<tr class="failed">') == 3
    assert '<div class="card ok"><b>1</b>Passed</div>' in html
    assert '<div class="card bad"><b>3</b>Failed</div>' in html
    assert "<span title=\"ca_bundle_not_found\">ca_<wbr>bundle_<wbr>not_<wbr>found</span><div class=\"hint\">tls stage</div>" in html
    assert "The evidence bundle holds the passing proof of 2026-11-25 10:00\u00a0UTC, older than this failure." in html
    assert ("100001/100001001 (site-100001001): tls stage failed: ca_bundle_not_found: %s (last passed "
            "2026-11-25T10:00:00Z)" % TLS_ERROR["reason"]) in problem_sites(index)
    with zipfile.ZipFile(os.path.join(fleet, "evidence", "100001_evidence.zip")) as bundle:
        assert "failed at 2026-11-25T13:00:00Z in the tls stage: ca_bundle_not_found" in bundle.read(
            "NOTICE-LATER-FAILURES.txt").decode("utf-8")

    # A later collection without a newer proof does not turn it green again: the failure stays ...
    collected = {"host": "site-100001001", "institution_id": "100001", "site_id": "100001001", "status": "collected"}
    assert record_run(fleet, [collected], "controller-a", now=LATER + datetime.timedelta(hours=1))
    dummy, index = build_report(fleet, now=LATER + datetime.timedelta(hours=1))
    assert site_of(index, "100001001")["status"] == "failed"
    # ... until a newer proof: it passes again, and the bundle notice is gone.
    # (Received by the controller after the failure: the run that collects it is recorded at 15:00.)
    collect(fleet, [("100001", "100001001", 15, True, "2026-12-01T00:00:00Z")], signer, "controller-a",
            now=LATER + datetime.timedelta(hours=2))
    dummy, index = build_report(fleet, now=LATER + datetime.timedelta(hours=2))
    site = site_of(index, "100001001")
    assert (site["status"], site["failure"], site["bundle_outdated"]) == ("passed", None, False)
    with zipfile.ZipFile(os.path.join(fleet, "evidence", "100001_evidence.zip")) as bundle:
        assert "NOTICE-LATER-FAILURES.txt" not in bundle.namelist()


def test_an_unreachable_site_is_failed_while_unreachable_is_its_latest_outcome(fleet):
    down = {"host": "site-100002002", "institution_id": "100002", "site_id": "100002002", "status": "unreachable",
            "stage": "certificate", "reason": "ssh: connect to host 192.0.2.9 port 22: Connection timed out"}
    record_run(fleet, [down], "controller-a", now=LATER)
    dummy, index = build_report(fleet, now=LATER)
    site = site_of(index, "100002002")
    assert (site["status"], site["failure"]["category"], site["failure"]["stage"]) == (
        "failed", "unreachable", "certificate")
    assert "100002/100002002 (site-100002002): unreachable: %s" % down["reason"] in problem_sites(index)
    assert junit_cases(fleet)["100002002"].find("failure").get("type") == "unreachable"
    # Reached again: nothing changed on the site since its proof, which stands.
    back = dict(down, status="collected", reason=None, stage=None)
    record_run(fleet, [back], "controller-a", now=LATER + datetime.timedelta(hours=1))
    dummy, index = build_report(fleet, now=LATER + datetime.timedelta(hours=1))
    assert site_of(index, "100002002")["status"] == "passed"


REFUSAL = {"host": "site-typo", "status": "refused", "stage": "preflight", "error": "bad_variables",
           "reason": "Preflight: 1 bad variable for site-typo, so nothing was done on this site: (1) eeszt_site_id "
                     "\"65432l\": must match ^[0-9]{9}$ ..."}


def test_a_host_refused_by_the_preflight_is_a_problem_under_its_name_never_a_row(fleet):
    # An older run recorded it under its bad identity (before this fix): a ghost row and institution.
    ghost = {"host": "site-typo", "institution_id": "65432l", "site_id": "65432l001", "status": "error",
             "reason": "not collected: the site left the run before the proofs stage"}
    record_run(fleet, [ghost], "controller-a", now=NOW)
    dummy, index = build_report(fleet, now=NOW)
    assert "65432l" in [s["institution_id"] for s in index["sites"]]

    assert record_run(fleet, [REFUSAL], "controller-a", now=LATER)
    assert record_run(fleet, [REFUSAL], "controller-a", now=LATER) is None  # nothing new
    dummy, index = build_report(fleet, now=LATER)
    assert "65432l" not in [s["institution_id"] for s in index["sites"]]
    assert (index["summary"]["sites"], index["summary"]["institutions"], index["summary"]["refused"]) == (5, 2, 1)
    assert index["refused"] == [{"host": "site-typo", "at": "2026-11-25T13:00:00Z", "run": index["refused"][0]["run"],
                                 "stage": "preflight", "error": "bad_variables", "message": REFUSAL["reason"]}]
    assert problem_sites(index)[-1] == "site-typo: refused by the preflight: bad_variables: %s" % REFUSAL["reason"]
    assert "65432l" not in read(fleet, "report.csv").decode("utf-8")
    case = junit_cases(fleet)["site-typo"]
    assert case.get("classname") == "eeszt.preflight"
    assert (case.find("error").get("type"), case.find("error").get("message")) == ("bad_variables", REFUSAL["reason"])
    suite = ET.fromstring(read(fleet, "junit.xml")).find("testsuite")
    assert (suite.get("tests"), suite.get("errors")) == ("6", "2")
    html = read(fleet, "report.html").decode("utf-8")
    assert '<section id="refused"><h2>Refused by the preflight</h2>' in html
    assert "<li><b>site-typo</b>: <code>bad_variables</code> Preflight: 1 bad variable" in html

    # Fixed in the inventory and collected under its real identity: no longer listed.
    fixed = {"host": "site-typo", "institution_id": "100002", "site_id": "100002004", "status": "collected"}
    record_run(fleet, [fixed], "controller-a", now=LATER + datetime.timedelta(hours=1))
    dummy, index = build_report(fleet, now=LATER + datetime.timedelta(hours=1))
    assert index["refused"] == [] and not [p for p in problem_sites(index) if "refused" in p]
    assert site_of(index, "100002004")["host"] == "site-typo"


def test_a_site_with_proofs_whose_host_is_refused_later_is_refused_once_without_its_old_row(fleet):
    """Issue 27: a host refused this run never keeps a row under an earlier identity; it is counted once, as
    refused, in the summary (the report's tile), the refused list, the problems and junit.xml."""
    dummy, before = build_report(fleet, now=NOW)
    assert site_of(before, "100002002")["status"] == "passed"
    refused = dict(REFUSAL, host="site-100002002")
    record_run(fleet, [refused], "controller-a", now=LATER)
    dummy, index = build_report(fleet, now=LATER)
    assert "100002002" not in [s["site_id"] for s in index["sites"]]
    assert (index["summary"]["sites"], index["summary"]["refused"]) == (before["summary"]["sites"] - 1, 1)
    assert [entry["host"] for entry in index["refused"]] == ["site-100002002"]
    assert [p for p in problem_sites(index) if "100002002" in p] == [
        "site-100002002: refused by the preflight: bad_variables: %s" % REFUSAL["reason"]]
    suite = ET.fromstring(read(fleet, "junit.xml")).find("testsuite")
    assert suite.get("tests") == "%d" % before["summary"]["sites"]
    # Its proofs stay in the archive; fixed and collected again, its row is back.
    assert [r for r in index["proofs"] if r["site_id"] == "100002002"]
    back = {"host": "site-100002002", "institution_id": "100002", "site_id": "100002002", "status": "collected"}
    record_run(fleet, [back], "controller-a", now=LATER + datetime.timedelta(hours=1))
    dummy, index = build_report(fleet, now=LATER + datetime.timedelta(hours=1))
    assert site_of(index, "100002002")["host"] == "site-100002002" and index["refused"] == []


def write_rotation(archive, *entries):
    with open(os.path.join(archive, "rotation.jsonl"), "a") as handle:
        for entry in entries:
            handle.write((entry if isinstance(entry, str) else json.dumps(entry)) + "\n")


def rotation(site_id, status, hour, check_passed, **extra):
    entry = {"host": "site-" + site_id, "institution_id": site_id[:6], "site_id": site_id, "status": status,
             "at": "2026-11-25T%02d:00:00Z" % hour, "check_passed": check_passed, "category": None,
             "message": "%s at %02d" % (status, hour), "check_mode": False}
    entry.update(extra)
    return entry


def test_rotation_outcomes_are_shown_and_a_failed_one_after_the_proof_fails_the_site(fleet):
    write_rotation(
        fleet,
        rotation("100001001", "rotated", 11, True),
        rotation("100001001", "rolled_back", 13, True, category="tls_client_cert_rejected"),
        rotation("100001001", "rotated", 14, True, check_mode=True),  # check mode: nothing happened
        "not json {",
        rotation("100002002", "check_failed", 13, False, category="tls_client_cert_rejected",
                 message="the certificate is unchanged and the connection check fails"),
        rotation("100003001", "rotated", 12, True, institution_id=None))
    dummy, index = build_report(fleet, now=LATER)
    rolled = site_of(index, "100001001")
    assert rolled["status"] == "passed"  # rolled back to a certificate that passes
    assert rolled["rotation"] == {"status": "rolled_back", "at": "2026-11-25T13:00:00Z",
                                  "category": "tls_client_cert_rejected", "message": "rolled_back at 13",
                                  "check_passed": True}
    failed = site_of(index, "100002002")
    assert (failed["status"], failed["failure"]["stage"], failed["failure"]["category"],
            failed["failure"]["message"]) == ("failed", "rotation", "tls_client_cert_rejected",
                                              "the certificate is unchanged and the connection check fails")
    assert index["summary"]["rotation_problems"] == 2 and index["summary"]["sites"] == 5
    rows = csv_rows(fleet)
    assert (rows["100001001"]["rotation_status"], rows["100001001"]["rotation_at"]) == (
        "rolled_back", "2026-11-25T13:00:00Z")
    html = read(fleet, "report.html").decode("utf-8")
    assert '<span class="badge rolled_back" title="rolled_back at 13">rolled back</span>' in html


def test_age_and_staleness_of_the_latest_proof(fleet):
    dummy, index = build_report(fleet, now=NOW + datetime.timedelta(days=3), stale_hours=48)
    site = site_of(index, "100002002")
    assert (site["proof_age_days"], site["stale"]) == (3, True)
    assert site_of(index, "100002003")["stale"] is False  # no proof: nothing to be stale
    assert (index["summary"]["stale"], index["summary"]["stale_hours"]) == (4, 48)
    assert csv_rows(fleet)["100002002"]["stale"] == "yes"
    html = read(fleet, "report.html").decode("utf-8")
    assert '<div class="card warn"><b>4</b>Stale (&gt; 48 h)</div>' in html
    assert '3 day(s) ago <span class="badge stale">stale</span>' in html
    dummy, index = build_report(fleet, now=NOW + datetime.timedelta(days=3))
    assert index["summary"]["stale"] == 0  # 192 hours by default


def test_the_report_in_hungarian_keeps_the_machine_readable_files_english(fleet):
    build_report(fleet, now=NOW)
    english = dict((n, read(fleet, n)) for n in ("index.json", "report.csv", "junit.xml"))
    changed, dummy = build_report(fleet, now=NOW, language="hu")
    assert changed == ["report.html"]
    assert english == dict((n, read(fleet, n)) for n in english)
    html = read(fleet, "report.html").decode("utf-8")
    assert '<html lang="hu">' in html and "<title>EESZT kapcsolódási igazolások</title>" in html
    for words in ("Sikeres", "Sikertelen", "Nincs igazolás", "Nem elérhető", "Telephely", "Intézmény", "Környezet",
                  "Lejár", "Legutóbbi igazolás", "Utolsó sikeres", "Tanúsítványcsere",
                  "Elöl a sikertelen telephelyek.", "Az archívum minden igazolásához külön CMS-pecsét",
                  '<span class="badge failed">sikertelen</span>', '<span class="badge passed">sikeres</span>',
                  '<span class="badge unreachable">nem elérhető</span>', "<td>teszt</td>",
                  "2 sikeres, 2 sikertelen, 1 igazolás nélkül", "A bizonyítékcsomagban a(z) 2026-11-25 09:00"):
        assert words in html, words
    for english_words in ("Passed", "Failed sites first", "No proof", "Unreachable", "Institution", "Every proof"):
        assert english_words not in html, english_words
    with pytest.raises(ProofsError, match="report language must be one of en, hu, got 'de'"):
        build_report(fleet, now=NOW, language="de")


def test_outcomes_are_checked_before_they_enter_the_ledger(tmp_path):
    archive = str(tmp_path / "archive")
    with pytest.raises(ProofsError, match="a refused outcome must name the host"):
        record_run(archive, [dict(REFUSAL, host=None)], "c")
    with pytest.raises(ProofsError, match=r"the collection outcome of host h \(status error\) must have institution_id and site_id"):
        record_run(archive, [{"host": "h", "status": "error", "site_id": "100001001"}], "c")
    with pytest.raises(ProofsError, match="stage must be one of preflight, certificate, tls, check, proofs, "
                                          "rotation, got 'deploy'"):
        record_run(archive, [dict(TLS_ERROR, stage="deploy")], "c")
    record_run(archive, [dict(TLS_ERROR, error="not a code: free text")], "c", now=NOW)
    dummy, index = build_report(archive, now=NOW)
    assert index["sites"][0]["failure"]["category"] == "error"  # free text is never taken for a code


# --- issue 16: fleet metrics beside index.json, history in report.html ----------------------------------------

PROMTOOL = shutil.which("promtool")


def test_fleet_metrics_hold_the_fleet_from_the_archive(fleet):
    changed, index = build_report(fleet, now=NOW)
    assert "metrics.prom" in changed and "metrics.prom" in index["files"]
    text = read(fleet, "metrics.prom").decode("utf-8")
    lines = set(text.splitlines())
    site = 'institution="%s",site="%s",environment="%s"'
    for line in (
            'eeszt_fleet_sites{status="passed"} 2', 'eeszt_fleet_sites{status="failed"} 2',
            'eeszt_fleet_sites{status="no_proof"} 1', "eeszt_fleet_sites_unreachable 1", "eeszt_fleet_hosts_refused 0",
            # days left at NOW: 5 (100001001), 187 (100001002), expired (100002001), 767 (100002002)
            'eeszt_fleet_certificates{days_left="expired"} 1', 'eeszt_fleet_certificates{days_left="0-13"} 1',
            'eeszt_fleet_certificates{days_left="14-29"} 0', 'eeszt_fleet_certificates{days_left="180-364"} 1',
            'eeszt_fleet_certificates{days_left="365+"} 1',
            'eeszt_fleet_institution_proofs{institution="100001"} 3',
            'eeszt_fleet_institution_proofs{institution="100002"} 3',
            "eeszt_fleet_site_up{%s} 1" % (site % ("100001", "100001001", "test")),
            "eeszt_fleet_site_up{%s} 0" % (site % ("100002", "100002001", "test")),
            'eeszt_fleet_site_failure{%s,stage="check",category="tls_client_cert_rejected"} 1'
            % (site % ("100002", "100002001", "test")),
            # The unreachable site, which never sent a proof, is in the scrape too.
            "eeszt_fleet_site_unreachable{%s} 1" % (site % ("100002", "100002003", "")),
            # 2026-11-25T11:00:00Z (failed) and T09:00:00Z (passed)
            "eeszt_fleet_site_last_proof_timestamp_seconds{%s} 1795604400" % (site % ("100002", "100002001", "test")),
            "eeszt_fleet_site_last_passing_proof_timestamp_seconds{%s} 1795597200"
            % (site % ("100002", "100002001", "test")),
            # 2028-01-01T00:00:00Z
            "eeszt_fleet_site_client_certificate_not_after_timestamp_seconds{%s} 1830297600"
            % (site % ("100002", "100002002", "test"))):
        assert line in lines, (line, text)
    # No site without a proof gets an up or a last-proof series; no timestamps on samples; nothing secret.
    assert 'eeszt_fleet_site_up{institution="100002",site="100002003"' not in text
    assert "PRIVATE" not in text and "password" not in text.lower()
    for line in text.splitlines():
        assert line.startswith("#") or len(line.split(" ")) == 2, line
    # The same archive gives the same bytes: a rebuild writes nothing.
    assert build_report(fleet, now=NOW + datetime.timedelta(minutes=5))[0] == []


def test_fleet_metrics_pass_promtool(fleet):
    prerequisites.need("promtool")
    build_report(fleet, now=NOW)
    check = subprocess.run([PROMTOOL, "check", "metrics"], input=read(fleet, "metrics.prom"),
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=False, timeout=60)
    assert check.returncode == 0, check.stdout.decode()


def test_report_shows_each_site_s_trend_and_the_expiry_months(fleet):
    dummy, index = build_report(fleet, now=NOW)
    sites = dict((s["site_id"], s) for s in index["sites"])
    # Oldest first, as many checks as the archive holds (up to ten).
    assert [(p["at"], p["passed"]) for p in sites["100002001"]["trend"]] == [
        ("2026-11-25T09:00:00Z", True), ("2026-11-25T11:00:00Z", False)]
    assert sites["100002003"]["trend"] == []
    html = read(fleet, "report.html").decode("utf-8")
    assert html.count('<div class="trend">') == 4  # every site with a proof
    assert "<title>2026-11-25 11:00\u00a0UTC: failed, ? ms</title>" in html
    months = re.search(r'<svg id="chart-months".*?</svg>', html, re.S).group(0)
    # From November 2026 (the report's month): 100001001 expires in December, 100001002 in June 2027;
    # 100002002 (2028) is later; 100002001 has expired already and is left to the days chart.
    assert "<title>2026-12: 1 certificate(s) expire</title>" in months
    assert "<title>2027-06: 1 certificate(s) expire</title>" in months
    assert "<title>later: 1 certificate(s) expire</title>" in months
    assert "<title>2026-11: 0 certificate(s) expire</title>" in months
    assert months.count("<rect") == 13


def test_trend_keeps_the_last_ten_checks_and_their_times(tmp_path, signer):
    archive = str(tmp_path / "archive")
    for hour in range(12):
        stamp = "2026-11-25T%02d:00:00Z" % hour
        document = serialize({
            "schema": "eeszt.connect/proof/v1", "institution_id": "100001", "site_id": "100001001",
            "host": "site-100001001", "environment": "test", "started_at": stamp, "finished_at": stamp,
            "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                                   "not_after": "2027-01-01T00:00:00Z"},
            "endpoints": [{"name": "health", "url": "https://a.example/", "passed": hour % 3 != 0, "ms": 10.0 * hour,
                           "steps": []},
                          {"name": "soap", "url": "https://a.example/s", "passed": True, "ms": 5.5, "steps": []}],
            "passed": hour % 3 != 0, "failure": None if hour % 3 else FAILURE,
            "tool": {"name": "eeszt.connect", "version": "0.1.0"}})
        store_proof(archive, "100001", "100001001", "20261125T%02d0000Z_100001_100001001.json" % hour, document,
                    signer)
    dummy, index = build_report(archive, now=NOW)
    trend = index["sites"][0]["trend"]
    assert [(p["at"][11:13], p["passed"], p["ms"]) for p in trend] == [
        ("%02d" % hour, hour % 3 != 0, 10.0 * hour + 5.5) for hour in range(2, 12)]
    html = read(archive, "report.html").decode("utf-8")
    assert "<title>2026-11-25 11:00\u00a0UTC: passed, 116 ms</title>" in html


def test_hungarian_report_has_the_new_charts_in_hungarian(fleet):
    build_report(fleet, now=NOW, language="hu")
    html = read(fleet, "report.html").decode("utf-8")
    assert "Lejáró kliens-tanúsítványok havonta" in html
    assert "<title>2026-12: 1 tanúsítvány jár le</title>" in html
    assert "sikertelen, ? ms</title>" in html


@pytest.mark.parametrize("text, expected", [
    ("1979-12-31T23:59:59Z", (1980, 1, 1, 0, 0, 0)), ("1980-01-01T00:00:00Z", (1980, 1, 1, 0, 0, 0)),
    ("2107-12-31T23:59:58Z", (2107, 12, 31, 23, 59, 58)), ("2107-12-31T23:59:59Z", (2107, 12, 31, 23, 59, 58)),
    ("9999-12-31T23:59:59Z", (2107, 12, 31, 23, 59, 58)), ("not a time", (1980, 1, 1, 0, 0, 0))])
def test_a_bundle_member_time_is_clamped_to_what_zip_holds(text, expected):
    """Issue 21: a proof dated past 2107 (zip's last year) no longer stops the report rebuild."""
    from ansible_collections.eeszt.connect.plugins.plugin_utils.report.bundles import _zip_time
    assert _zip_time(text) == expected
    stream = io.BytesIO()
    with zipfile.ZipFile(stream, "w") as bundle:
        bundle.writestr(zipfile.ZipInfo("member", date_time=_zip_time(text)), b"x")
    assert zipfile.ZipFile(io.BytesIO(stream.getvalue())).infolist()[0].date_time == expected
