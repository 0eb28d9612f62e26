# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report, rebuilt from the archive: index, CSV, HTML, JUnit, upload bundles, merges."""

import csv
import datetime
import io
import json
import os
import zipfile
import xml.etree.ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.proof import serialize
from ansible_collections.eeszt.connect.plugins.module_utils.proofs_archive import merge_archive, store_proof
from ansible_collections.eeszt.connect.plugins.module_utils.proofs_common import ProofsError, sha256_hex
from ansible_collections.eeszt.connect.plugins.module_utils.report import (
    MESSAGE_MAX, build_report, one_line, problem_sites, record_run)

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
    from ansible_collections.eeszt.connect.plugins.module_utils.seal import Signer
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(9).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return Signer(key, cert)


def proof_bytes(institution_id, site_id, hour, passed, not_after):
    stamp = "2026-11-25T%02d:00:00Z" % hour
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id,
        "host": "site-" + site_id, "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=%s" % institution_id, "issuer": "CN=ca", "serial": "0A",
                               "sha256": "00" * 32, "not_after": not_after},
        "endpoints": [], "passed": passed, "failure": None if passed else FAILURE,
        "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def collect(archive, fleet, signer, controller, extra_outcomes=()):
    """What one collection run leaves in an archive."""
    outcomes = {}
    for institution_id, site_id, hour, passed, not_after in fleet:
        name = "20261125T%02d0000Z_%s_%s.json" % (hour, institution_id, site_id)
        stored = store_proof(archive, institution_id, site_id, name,
                             proof_bytes(institution_id, site_id, hour, passed, not_after), signer)
        outcome = outcomes.setdefault(site_id, {"host": "site-" + site_id, "institution_id": institution_id,
                                                "site_id": site_id, "status": "collected", "archived": []})
        outcome["archived"].append(stored)
    return record_run(archive, list(outcomes.values()) + list(extra_outcomes), controller, now=NOW)


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
    assert sorted(changed) == sorted(["index.json", "report.csv", "report.html", "junit.xml",
                                      "upload/100001_ekapu.zip", "upload/100002_ekapu.zip"])
    assert index["summary"] == {
        "sites": 5, "passed": 2, "failed": 2, "no_proof": 1, "unreachable": 1, "collection_errors": 0,
        "institutions": 2, "proofs": 6, "missing_proofs": 0, "unsealed_proofs": 0,
        "certificates_expired": 1, "certificates_expiring": 1, "warn_days": 30}
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


def test_upload_bundle_holds_latest_passing_proofs_and_seals(fleet):
    build_report(fleet, now=NOW)
    with zipfile.ZipFile(os.path.join(fleet, "upload", "100002_ekapu.zip")) as bundle:
        names = bundle.namelist()
        assert names == ["100002001/20261125T090000Z_100002_100002001.json",
                         "100002001/20261125T090000Z_100002_100002001.json.p7s",
                         "100002002/20261125T100000Z_100002_100002002.json",
                         "100002002/20261125T100000Z_100002_100002002.json.p7s", "SHA256SUMS"]
        sums = bundle.read("SHA256SUMS").decode("ascii").splitlines()
        assert sums[0] == "%s  %s" % (sha256_hex(bundle.read(names[0])), names[0])
    with zipfile.ZipFile(os.path.join(fleet, "upload", "100001_ekapu.zip")) as bundle:
        assert [n for n in bundle.namelist() if n.endswith(".json")] == [
            "100001001/20261125T100000Z_100001_100001001.json"]  # 100001002 never passed


def test_two_archives_of_disjoint_halves_merge_into_one_report(tmp_path, signer):
    first, second = str(tmp_path / "a"), str(tmp_path / "b")
    collect(first, FLEET_A, signer, "controller-a")
    collect(second, FLEET_B, signer, "controller-b", [UNREACHABLE])
    dummy, half = build_report(second, now=NOW)
    assert half["summary"]["sites"] == 3
    copied = merge_archive(second, first)
    assert len(copied) == 7  # three proofs, three seals, one run record
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
        "100001/100001002 (site-100001002): check failed: tls_client_cert_rejected",
        "100002/100002001 (site-100002001): check failed: tls_client_cert_rejected",
        "100002/100002003 (site-100002003): unreachable: ssh: connect to host 192.0.2.7 port 22: Connection timed out",
    ]
