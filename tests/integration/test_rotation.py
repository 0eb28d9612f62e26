# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/rotate_certificate.yml on three demo sites against the lab WAF.

The lab WAF answers 403 to certificate B of site002 (``eeszt_lab_waf_denied``):
a rotation to B is rolled back to the certificate that was live (A), the
check passes again and the site is reported failed with ``rolled_back``.
Rotations to accepted certificates (C) succeed; with ``serial: 1`` the
rotation stops at the first failed site.
"""

import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki
from lab_renewal import renew

SITES = {"site001": ("100001", "100001001"), "site002": ("100001", "100001002"), "site003": ("100001", "100001003")}
DEMO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                    "inventories", "demo")


class Fleet:
    def __init__(self, root, run_playbook, port):
        self.root = root
        self.lab_dir = root / "lab"
        self.pki = self.lab_dir / "pki"
        self.archive = root / "archive"
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(len(SITES))}

    def tls_dir(self, host):
        return self.lab_dir / "sites" / host / "etc" / "eeszt" / "tls"

    def live_fingerprint(self, host):
        cert = x509.load_pem_x509_certificate((self.tls_dir(host) / "cert.pem").read_bytes())
        key = serialization.load_pem_private_key((self.tls_dir(host) / "key.pem").read_bytes(), None)
        spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        assert cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki), host
        return cert.fingerprint(hashes.SHA256()).hex()

    def run(self, playbook, extra=None, args=()):
        extra_vars = {"eeszt_proofs_archive_dir": str(self.archive)}
        extra_vars.update(extra or {})
        return self.run_playbook(playbook, inventory=DEMO, extra_vars=extra_vars, args=args, env=self.env)

    def rotate(self, new_dir, **extra):
        variables = {
            "eeszt_certificate_pfx_src": "%s/{{ inventory_hostname }}.p12" % new_dir,
            "eeszt_certificate_pfx_password":
                "{{ lookup('ansible.builtin.file', '%s/' ~ inventory_hostname ~ '.password') }}" % new_dir,
        }
        variables.update(extra)
        return self.run("rotate_certificate.yml", variables)

    def log(self):
        path = self.archive / "rotation.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, run_playbook, pick_port):
    fleet = Fleet(tmp_path_factory.mktemp("rotation"), run_playbook, pick_port())
    build_lab_pki(str(fleet.lab_dir), [{"institution_id": i, "site_id": s} for i, s in SITES.values()])
    fleet.new_dir = fleet.root / "new"
    fleet.new = {}
    for host in SITES:
        fleet.new[host] = renew(str(fleet.pki), *SITES[host], str(fleet.new_dir / (host + ".p12")))["sha256"]
    # The lab WAF no longer trusts site002's new certificate.
    result = fleet.run("lab.yml", {"eeszt_lab_waf_denied": [fleet.new["site002"]]})
    assert result.ok, result.output
    yield fleet
    result = fleet.run("lab.yml", {"eeszt_lab_state": "stopped"})
    assert result.ok, result.output


def by_host(entries):
    return {entry["host"]: entry for entry in entries}


def test_rotation_rolls_back_refused_certificate_and_stops(fleet):
    # Certificate A on every site, through the same playbook: first deployment, the check passes.
    first = fleet.run("rotate_certificate.yml", {"eeszt_rotate_serial": 3})
    assert first.ok, first.output
    initial = {host: fleet.live_fingerprint(host) for host in SITES}
    log = by_host(fleet.log())
    assert {entry["status"] for entry in log.values()} == {"rotated"}
    assert all(log[h]["from_fingerprint"] is None and log[h]["to_fingerprint"] == initial[h] for h in SITES)

    # serial 1: site001 rotates to C, site002's B is refused and rolled back, the play stops there.
    result = fleet.rotate(fleet.new_dir, eeszt_rotate_serial=1, eeszt_rotate_max_fail_percentage=10)
    assert not result.ok, result.output
    assert result.recap["site001"]["failed"] == 0, result.output
    assert result.recap["site002"]["failed"] == 1, result.output
    # site003 passed the preflight (one controller-side task) and was never rotated.
    assert result.recap["site003"] == dict(result.recap["site003"], ok=1, changed=0, failed=0), result.output
    assert fleet.live_fingerprint("site001") == fleet.new["site001"]
    assert fleet.live_fingerprint("site002") == initial["site002"]
    assert fleet.live_fingerprint("site003") == initial["site003"]
    assert "rolled_back: the new certificate %s failed the connection check [tls_client_cert_rejected]" \
        % fleet.new["site002"] in result.stdout, result.output
    assert "rolled back to %s, which passes the check again" % initial["site002"] in result.stdout

    entries = fleet.log()[len(SITES):]
    assert [e["host"] for e in entries] == ["site001", "site002"]
    rotated, rolled = entries
    assert rotated["status"] == "rotated" and rotated["category"] is None and rotated["check_passed"] is True
    assert rotated["from_fingerprint"] == initial["site001"]
    assert rotated["to_fingerprint"] == rotated["live_fingerprint"] == fleet.new["site001"]
    assert rolled["status"] == "rolled_back"
    assert rolled["category"] == "tls_client_cert_rejected"
    assert rolled["from_fingerprint"] == initial["site002"]
    assert rolled["to_fingerprint"] == fleet.new["site002"]
    assert rolled["live_fingerprint"] == initial["site002"]
    assert rolled["check_passed"] is True
    # The proof written after the rollback shows the restored certificate passing.
    proof = json.loads(open(rolled["proof_path"]).read())
    assert proof["passed"] is True
    assert proof["client_certificate"]["sha256"] == initial["site002"]
    # The refused set is kept for forensics.
    kept = sorted((fleet.tls_dir("site002") / "backup").glob("*-rolled-back"))
    assert len(kept) == 1
    refused = x509.load_pem_x509_certificate((kept[0] / "cert.pem").read_bytes())
    assert refused.fingerprint(hashes.SHA256()).hex() == fleet.new["site002"]


def test_rotation_continues_below_the_failure_threshold(fleet):
    before = len(fleet.log())
    # The TLS client stage ran in the first test; here the certificate and check stages alone.
    result = fleet.rotate(fleet.new_dir, eeszt_rotate_serial=3, eeszt_rotate_max_fail_percentage=50,
                          eeszt_rotate_tls=False)
    assert not result.ok, result.output
    assert result.recap["site002"]["failed"] == 1, result.output
    assert result.recap["site001"]["failed"] == 0 and result.recap["site003"]["failed"] == 0, result.output
    entries = by_host(fleet.log()[before:])
    assert entries["site001"]["status"] == "unchanged"
    assert entries["site002"]["status"] == "rolled_back"
    assert entries["site003"]["status"] == "rotated"
    assert fleet.live_fingerprint("site003") == fleet.new["site003"]
    assert fleet.live_fingerprint("site002") == entries["site002"]["from_fingerprint"]
    # Second refusal of B: a second forensic copy, the original A live, never B.
    assert len(list((fleet.tls_dir("site002") / "backup").glob("*-rolled-back"))) == 2


def test_check_mode_touches_nothing(fleet):
    live = {host: fleet.live_fingerprint(host) for host in SITES}
    before = len(fleet.log())
    result = fleet.run("rotate_certificate.yml", {"eeszt_rotate_serial": 3, "eeszt_rotate_tls": False},
                       args=("--check",))
    # A preview: site002 would change back to its original PFX, nothing is written.
    assert result.recap["site002"]["failed"] == 0, result.output
    assert {host: fleet.live_fingerprint(host) for host in SITES} == live
    assert len(fleet.log()) == before
