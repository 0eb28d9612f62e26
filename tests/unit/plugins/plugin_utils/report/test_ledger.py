# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, point 3 (attack 2): the controller's order of receipt (the run ledger) decides a site's latest proof,
its staleness and its age, never the finished_at a site wrote; proofs that no run record names come first.

Named after report/ledger.py, whose order of receipt (``receipts``) it pins through the report built from the
archive (report/report.py, report/index.py, report/fleet_metrics.py)."""

import datetime
import os
import shutil

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import merge_archive, store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_metrics import render
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
HOUR = datetime.timedelta(hours=1)
INST, SITE = "100001", "100001001"
FAILURE = {"category": "tcp_refused", "endpoint": "health", "step": "tcp", "message": "refused", "hint": "h"}


@pytest.fixture(scope="module")
def signer():
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(9).not_valid_before(NOW).not_valid_after(NOW + datetime.timedelta(days=1))
            .sign(key, hashes.SHA256()))
    return Signer(key, cert)


def proof(finished_at, passed):
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": INST, "site_id": SITE, "host": "site01",
        "environment": "test", "started_at": finished_at, "finished_at": finished_at,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                               "not_after": "2027-06-01T00:00:00Z"},
        "endpoints": [], "passed": passed, "failure": None if passed else FAILURE,
        "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def receive(archive, signer, name, finished_at, passed, at, record=True):
    """One collection run at the controller's time ``at`` that archives one proof of the site."""
    stored = store_proof(archive, INST, SITE, name, proof(finished_at, passed), signer)
    if record:
        assert record_run(archive, [{"host": "site01", "institution_id": INST, "site_id": SITE,
                                     "status": "collected", "archived": [stored]}], "controller-a", now=at)
    return stored


def site(archive, now, **kwargs):
    dummy, index = build_report(archive, now=now, **kwargs)
    return index["sites"][0], index


def test_the_proof_received_last_decides_whatever_its_finished_at(tmp_path, signer):
    archive = str(tmp_path / "archive")
    receive(archive, signer, "a.json", "2026-11-25T11:00:00Z", False, NOW)
    receive(archive, signer, "b.json", "2001-01-01T00:00:00Z", True, NOW + HOUR)  # an old-looking date
    row, dummy = site(archive, NOW + HOUR)
    assert (row["status"], row["latest"], row["received_at"]) == ("passed", "100001/100001001/b.json",
                                                                  "2026-11-25T13:00:00Z")
    receive(archive, signer, "c.json", "2000-01-01T00:00:00Z", False, NOW + 2 * HOUR)
    row, dummy = site(archive, NOW + 2 * HOUR)
    assert (row["status"], row["latest"], row["latest_passing"]) == (
        "failed", "100001/100001001/c.json", "100001/100001001/b.json")
    assert [point["passed"] for point in row["trend"]] == [False, True, False]  # in the order received


def test_a_passing_proof_dated_2099_does_not_pin_the_site(tmp_path, signer):
    archive = str(tmp_path / "archive")
    receive(archive, signer, "future.json", "2099-01-01T00:00:00Z", True, NOW)
    row, dummy = site(archive, NOW)
    assert row["status"] == "passed" and row["stale"] is False
    # Staleness counts from the receipt: ten days later the site is stale, and its age is ten days.
    row, index = site(archive, NOW + datetime.timedelta(days=10), stale_hours=48)
    assert (row["stale"], row["proof_age_days"], row["latest_passing_age_days"]) == (True, 10, 10)
    metrics = render(index).decode("utf-8")
    assert "eeszt_fleet_site_last_proof_timestamp_seconds{institution=\"100001\",site=\"100001001\"," \
           "environment=\"test\"} %d" % int(NOW.timestamp()) in metrics
    # A failure recorded by a later run counts after it ...
    tls_error = {"host": "site01", "institution_id": INST, "site_id": SITE, "status": "error", "stage": "tls",
                 "error": "ca_bundle_not_found", "reason": "no CA bundle"}
    record_run(archive, [tls_error], "controller-a", now=NOW + HOUR)
    row, dummy = site(archive, NOW + HOUR)
    assert (row["status"], row["failure"]["stage"]) == ("failed", "tls")
    # ... and so does a real failing check received later.
    receive(archive, signer, "real.json", "2026-11-25T14:00:00Z", False, NOW + 2 * HOUR)
    row, dummy = site(archive, NOW + 2 * HOUR)
    assert (row["status"], row["latest"], row["failure"]["category"]) == (
        "failed", "100001/100001001/real.json", "tcp_refused")


def test_an_honest_proof_keeps_its_finished_at_for_age_and_later_failures(tmp_path, signer):
    archive = str(tmp_path / "archive")
    receive(archive, signer, "p.json", "2026-11-25T10:00:00Z", True, NOW)
    row, dummy = site(archive, NOW + datetime.timedelta(days=2, hours=-1), stale_hours=48)
    assert (row["finished_at"], row["received_at"], row["stale"]) == ("2026-11-25T10:00:00Z", "2026-11-25T12:00:00Z",
                                                                      True)  # 49 h after the check itself


def test_proofs_no_run_record_names_come_before_the_recorded_ones(tmp_path, signer):
    archive = str(tmp_path / "archive")
    # An older archive's proofs (no run record), one of them dated far in the future.
    receive(archive, signer, "old-future.json", "2099-01-01T00:00:00Z", True, None, record=False)
    receive(archive, signer, "old.json", "2026-11-20T10:00:00Z", False, None, record=False)
    row, dummy = site(archive, NOW)
    # Among them: the earlier of finished_at and the time of storage (today's, on this controller).
    assert row["latest"] == "100001/100001001/old-future.json"
    assert row["received_at"] is not None and row["received_at"] < "2099"
    receive(archive, signer, "new.json", "2026-11-01T00:00:00Z", False, NOW)
    row, dummy = site(archive, NOW)
    assert (row["latest"], row["status"]) == ("100001/100001001/new.json", "failed")


def test_merged_archives_agree_on_the_latest_whatever_the_order(tmp_path, signer):
    first, second = str(tmp_path / "first"), str(tmp_path / "second")
    # Finished after late.json (by the site's clock), received before it: a merge refuses a proof from the
    # future (the clock tolerance), so the site's word is a plausible past time here.
    receive(first, signer, "early.json", "2026-11-25T12:59:00Z", True, NOW)
    receive(second, signer, "late.json", "2026-11-25T12:30:00Z", False, NOW + HOUR)
    latest = []
    for name, sources in (("ab", (first, second)), ("ba", (second, first))):
        target = str(tmp_path / name)
        os.makedirs(target)
        for source in sources:
            merge_archive(source, target)
        row, dummy = site(target, NOW + HOUR)
        latest.append((row["latest"], row["status"], row["received_at"]))
        shutil.rmtree(target)
    assert latest == [("100001/100001001/late.json", "failed", "2026-11-25T13:00:00Z")] * 2
