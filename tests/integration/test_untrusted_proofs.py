# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, attacks 1 and 2 (the future half): the site is not trusted.

Three demo sites against a private lab. After a normal site.yml run, site002's certificate is denied by the
WAF and the check runs again (every site gets a new result); then, between the check and the proofs stage,
site001's proof directory gets three malformed proofs (``"failure": "boom"``, ``host`` as a list,
``finished_at`` as a number) and the archive gets a malformed file of an older version in site003's folder.
collect_proofs.yml must still rebuild the report of every other site with its new result, show site001 as
``error`` with the reason in index.json, report.csv, junit.xml, report.html and the fleet summary, keep the
files in the quarantine with why, unsealed, and verify_proofs.yml must list them. Then a passing proof dated
2099 on site003 is refused, naming the clock skew.
"""

import csv
import json
import os
import xml.etree.ElementTree as ET

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, sign_detached

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = {"site001": ("100001", "100001001"), "site002": ("100001", "100001002"), "site003": ("100001", "100001003")}
INSTITUTION = "100001"
TAMPERED = {
    "20261201T000001Z_boom.json": ("failure", "boom", "failure: expected an object or null, got a string"),
    "20261201T000002Z_host.json": ("host", ["site001", "evil"], "host: expected a string, got a list"),
    "20261201T000003Z_time.json": ("finished_at", 1764547200, "finished_at: expected a string, got an integer"),
}
OLD_BAD = "20261101T000000Z_100001_100001003_old.json"

pytestmark = pytest.mark.slow


class Fleet:
    def __init__(self, root, run_playbook, port):
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.summary = root / "fleet-summary.json"
        self.port = port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(len(SITES)), "EESZT_FLEET_SUMMARY_JSON": str(self.summary),
                    "ANSIBLE_CALLBACKS_ENABLED": "eeszt.connect.fleet_summary"}
        self.variables = {"eeszt_proofs_archive_dir": str(self.archive),
                          "eeszt_proofs_ca_file": str(self.lab_dir / "pki" / "client-ca-bundle.pem")}

    def play(self, playbook, *args, **extra):
        variables = dict(self.variables)
        variables.update(extra)
        return self.run_playbook(playbook, extra_vars=variables, env=self.env, args=["-i", DEMO] + list(args))

    def proof_dir(self, host):
        return self.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs"

    def latest_on_site(self, host):
        return sorted(self.proof_dir(host).glob("*.json"))[-1]

    def index(self):
        return json.loads((self.archive / "index.json").read_text())

    def sites(self):
        return dict((s["host"], s) for s in self.index()["sites"])


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, run_playbook, pick_port, stop_lab):
    fleet = Fleet(tmp_path_factory.mktemp("untrusted"), run_playbook, pick_port())
    result = fleet.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=fleet.port)
    assert result.ok, result.output
    try:
        result = fleet.play("site.yml")
        assert result.ok, result.output
        assert all(s["status"] == "passed" for s in fleet.sites().values()), fleet.sites()
        yield fleet
    finally:
        result = stop_lab(fleet.lab_dir, fleet.port, env=fleet.env, args=["-i", DEMO])
        assert result.ok, result.output


def pfx(fleet, host):
    base = fleet.lab_dir / "pki" / "sites" / ("%s-%s" % SITES[host])
    return pkcs12.load_pkcs12((base.parent / (base.name + ".p12")).read_bytes(),
                              (base.parent / (base.name + ".password")).read_text().strip().encode())


def seal(fleet, host, data):
    """A detached CMS seal of ``data`` with the site's WAF-SSL key, as the proofs stage of any version makes it."""
    bundle = pfx(fleet, host)
    return sign_detached(data, Signer(bundle.key, bundle.cert.certificate,
                                      [c.certificate for c in bundle.additional_certs]))


def deny(fleet, host):
    denied = pfx(fleet, host).cert.certificate.fingerprint(hashes.SHA256()).hex()
    result = fleet.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=fleet.port,
                        eeszt_lab_waf_denied=[denied])
    assert result.ok, result.output


def test_malformed_proofs_never_freeze_the_report(fleet):
    before = fleet.sites()
    deny(fleet, "site002")
    result = fleet.play("check_connection.yml", eeszt_check_fail_on_error=False)
    assert result.ok, result.output
    honest = json.loads(fleet.latest_on_site("site001").read_text())
    for name, (field, value, dummy) in TAMPERED.items():
        tampered = dict(honest, **{field: value})
        (fleet.proof_dir("site001") / name).write_text(json.dumps(tampered, indent=2))
    # An archive of an earlier version may hold a malformed proof already, sealed.
    old = dict(json.loads(fleet.latest_on_site("site003").read_text()), failure="boom")
    folder = fleet.archive / INSTITUTION / SITES["site003"][1]
    (folder / OLD_BAD).write_text(json.dumps(old))
    (folder / (OLD_BAD + ".p7s")).write_bytes(seal(fleet, "site003", (folder / OLD_BAD).read_bytes()))

    result = fleet.play("collect_proofs.yml")
    # site001 fails (eeszt_proofs_fail_on_error); the run goes on for every other site.
    assert result.recap["site001"]["failed"] == 1, result.output
    assert result.recap["site002"]["failed"] == 0 and result.recap["site003"]["failed"] == 0, result.output
    output = " ".join((result.stdout + result.stderr).split())
    for name, (dummy, dummy2, reason) in TAMPERED.items():
        assert ("site 100001/100001001 (host site001) sent an invalid proof %s: %s" % (name, reason)) in output, \
            result.output
    assert "the archive file 100001/100001003/%s is not used in the report: " % OLD_BAD in output, result.output

    # Every other site's report is rebuilt with its new result.
    sites = fleet.sites()
    assert sites["site002"]["status"] == "failed"
    assert sites["site002"]["failure"]["category"] == "tls_client_cert_rejected"
    assert sites["site003"]["status"] == "passed"
    for host in ("site002", "site003"):
        assert sites[host]["latest"] != before[host]["latest"]
        assert sites[host]["latest"].endswith(fleet.latest_on_site(host).name)
    # The bad site is an error with the reason.
    message = sites["site001"]["failure"]["message"]
    assert sites["site001"]["status"] == "error" and sites["site001"]["failure"]["category"] == "invalid_proof"
    assert message.startswith("the site sent an invalid proof: ")
    for name, (dummy, dummy2, reason) in TAMPERED.items():
        assert "%s: %s" % (name, reason) in message
    index = fleet.index()
    assert index["summary"]["error"] == 1
    assert [(f["path"], f["reason"].split(": ", 1)[1]) for f in index["invalid_files"]] == [
        ("100001/100001003/%s" % OLD_BAD, "failure: expected an object or null, got a string")]
    assert sorted(q["name"] for q in index["quarantine"]) == sorted(TAMPERED)

    with open(str(fleet.archive / "report.csv"), newline="") as handle:
        rows = dict((r["host"], r) for r in csv.DictReader(handle))
    assert (rows["site001"]["status"], rows["site001"]["failure_message"]) == ("error", message)
    assert (rows["site002"]["status"], rows["site003"]["status"]) == ("failed", "passed")
    cases = dict((case.get("name"), case) for case in ET.parse(str(fleet.archive / "junit.xml")).iter("testcase"))
    error = cases["100001001 (site001)"].find("error")
    assert (error.get("type"), error.get("message")) == ("invalid_proof", message)
    assert cases["100001/100001003/%s" % OLD_BAD].find("error") is not None
    html = (fleet.archive / "report.html").read_text()
    assert "the site sent an invalid proof: " in html and OLD_BAD in html
    summary = dict((s["host"], s) for s in json.loads(fleet.summary.read_text())["sites"])
    assert summary["site001"]["result"] == "ERROR" and summary["site001"]["error"] == "invalid_proof"
    assert summary["site001"]["reason"].startswith("the site sent an invalid proof: 20261201T000001Z_boom.json: "
                                                   "failure: expected an object or null, got a string")
    assert "site001: the site sent an invalid proof: " in output

    # Quarantined with why, never archived as a proof nor sealed.
    quarantine = fleet.archive / "quarantine" / INSTITUTION / SITES["site001"][1]
    for name, (dummy, dummy2, reason) in TAMPERED.items():
        assert (quarantine / name).read_bytes() == (fleet.proof_dir("site001") / name).read_bytes()
        record = json.loads((quarantine / (name + ".reason.json")).read_text())
        assert (record["reason"], record["host"]) == (reason, "site001")
        assert not list(fleet.archive.glob("*/*/%s*" % name)) and not list(fleet.archive.glob(".unsealed/**/%s" % name))
    assert not list(fleet.archive.glob("quarantine/**/*.p7s"))

    verify = fleet.play("verify_proofs.yml")
    verify_output = " ".join((verify.stdout + verify.stderr).split())
    # The old archive's bad file fails the verification; the quarantine is listed, not a failure.
    assert not verify.ok
    assert "100001/100001003/%s [unreadable]: " % OLD_BAD in verify_output, verify.output
    for name in TAMPERED:
        assert ("quarantined (not evidence, not a problem of the archive): quarantine/100001/100001001/%s from "
                "host site001" % name) in verify_output, verify.output

    # The same files still on the site at the next run: not fetched again, still named; the site stays error.
    again = fleet.play("collect_proofs.yml", "--limit", "site001")
    assert again.recap["site001"]["failed"] == 1
    assert fleet.sites()["site001"]["status"] == "error"
    assert len(list(quarantine.glob("*.reason.json"))) == len(TAMPERED)


def test_a_passing_proof_from_2099_is_refused_naming_the_clock_skew(fleet):
    honest = json.loads(fleet.latest_on_site("site003").read_text())
    assert honest["passed"] is True
    future = dict(honest, started_at="2099-01-01T00:00:00Z", finished_at="2099-01-01T00:00:01Z")
    name = "20990101T000001Z_100001_100001003.json"
    (fleet.proof_dir("site003") / name).write_text(json.dumps(future, indent=2, sort_keys=True) + "\n")
    result = fleet.play("collect_proofs.yml", "--limit", "site003")
    assert result.recap["site003"]["failed"] == 1, result.output
    output = " ".join((result.stdout + result.stderr).split())
    assert ("sent an invalid proof %s: clock skew: started_at 2099-01-01T00:00:00Z is " % name) in output
    assert "more than the tolerance of 300 s (eeszt_proofs_clock_tolerance)" in output
    site = fleet.sites()["site003"]
    assert site["status"] == "error" and "clock skew" in site["failure"]["message"]
    assert site["latest"] != "%s/%s/%s" % (INSTITUTION, SITES["site003"][1], name)
    assert not (fleet.archive / INSTITUTION / SITES["site003"][1] / name).exists()
    assert (fleet.archive / "quarantine" / INSTITUTION / SITES["site003"][1] / name).is_file()
