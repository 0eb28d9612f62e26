# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the outcome of the rotation (side_effect) on the site containers.

rotation-site1 rotated to its renewed certificate; the WAF refused
rotation-site2's renewed certificate (HTTP 403), so that site was rolled back
to certificate A, passed the check again and was reported failed with
``rolled_back``. On each site: the live certificate and key match and are the
expected ones, the refused set is kept aside (and only on rotation-site2), the
newest proof passed with the live certificate; the WAF's access log shows the
refused and the accepted requests; the rotation log says what happened.
"""

import json
import os
import pathlib
import re

import pytest
import testinfra.utils.ansible_runner
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("eeszt_sites")

EPHEMERAL = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
LAB = EPHEMERAL / "lab"
ROTATION = EPHEMERAL / "rotation"
CERT_DIR = "/etc/eeszt/tls"
PROOF_DIR = "/var/lib/eeszt/proofs"
REFUSED = "rotation-site2"
USER_AGENT = "eeszt.connect-connection-check/"

# Runs on the site: SHA-256 of the live certificate, whether key.pem holds
# its key (public keys compared by openssl on the site; the key stays there),
# the names in backup/, and the newest proof.
READ_SITE = r"""
import glob, hashlib, json, os, subprocess, sys
base, proofs = sys.argv[1], sys.argv[2]
def run(*argv):
    return subprocess.run(argv, check=True, stdout=subprocess.PIPE).stdout
der = run("openssl", "x509", "-in", os.path.join(base, "cert.pem"), "-outform", "DER")
cert_pub = run("openssl", "x509", "-in", os.path.join(base, "cert.pem"), "-noout", "-pubkey")
key_pub = run("openssl", "pkey", "-in", os.path.join(base, "key.pem"), "-pubout")
backup = os.path.join(base, "backup")
newest = sorted(glob.glob(os.path.join(proofs, "*.json")))
json.dump({"sha256": hashlib.sha256(der).hexdigest(), "key_matches": cert_pub == key_pub,
           "backup": sorted(os.listdir(backup)) if os.path.isdir(backup) else [],
           "proofs": len(newest), "newest_proof": json.load(open(newest[-1])) if newest else None}, sys.stdout)
"""


def fingerprint_a(variables):
    stem = LAB / "pki" / "sites" / "{0}-{1}".format(variables["eeszt_institution_id"], variables["eeszt_site_id"])
    bundle = pkcs12.load_pkcs12(stem.with_suffix(".p12").read_bytes(),
                                stem.with_suffix(".password").read_text().strip().encode())
    return bundle.cert.certificate.fingerprint(hashes.SHA256()).hex(), bundle.cert.certificate.serial_number


def renewed(name):
    return json.loads((LAB / "renewed" / (name + ".json")).read_text())


def rotation_log():
    return {entry["host"]: entry for entry in
            (json.loads(line) for line in (ROTATION / "rotation.jsonl").read_text().splitlines())}


@pytest.fixture(name="site")
def fixture_site(host):
    name = host.backend.get_hostname()
    state = json.loads(host.check_output("python3 -c %s %s %s", READ_SITE, CERT_DIR, PROOF_DIR))
    state["name"] = name
    state["a_sha256"], state["a_serial"] = fingerprint_a(RUNNER.get_variables(name))
    state["b"] = renewed(name)
    return state


def test_live_certificate_is_the_renewed_one_unless_refused(site):
    assert site["key_matches"], "key.pem does not belong to cert.pem on %s" % site["name"]
    expected = site["a_sha256"] if site["name"] == REFUSED else site["b"]["sha256"]
    assert site["sha256"] == expected


def test_refused_set_is_kept_aside_only_where_rolled_back(site):
    refused = [name for name in site["backup"] if name.endswith("-rolled-back")]
    assert len(refused) == (1 if site["name"] == REFUSED else 0), site["backup"]


def test_newest_proof_passed_with_the_live_certificate(site):
    # converge and idempotence checked once each, the rotation once more, and
    # after the rollback once again on the refused site.
    assert site["proofs"] == (4 if site["name"] == REFUSED else 3)
    proof = site["newest_proof"]
    assert proof["passed"] is True and proof["failure"] is None
    assert proof["client_certificate"]["sha256"].lower() == site["sha256"]


def test_rotation_log_says_what_happened():
    log = rotation_log()
    assert set(log) == {"rotation-site1", "rotation-site2"}
    rotated, rolled_back = log["rotation-site1"], log[REFUSED]
    assert rotated["status"] == "rotated" and rotated["check_passed"] is True
    assert rotated["to_fingerprint"] == rotated["live_fingerprint"] == renewed("rotation-site1")["sha256"]
    assert rolled_back["status"] == "rolled_back"
    assert rolled_back["category"] == "tls_client_cert_rejected"
    assert rolled_back["to_fingerprint"] == renewed(REFUSED)["sha256"]
    assert rolled_back["live_fingerprint"] == rolled_back["from_fingerprint"] != rolled_back["to_fingerprint"]
    assert rolled_back["check_passed"] is True
    assert "which passes the check again" in rolled_back["message"]


def test_rotation_run_failed_only_the_refused_site():
    out = (ROTATION / "rotation.out").read_text()
    recap = dict(re.findall(r"^(rotation-site\d)\s+:.*\bfailed=(\d+)", out, re.M))
    assert recap == {"rotation-site1": "0", REFUSED: "1"}, out
    # The refused site fails with the outcome in its message (on stderr, which
    # the side effect keeps after stdout).
    fatal = re.search(r"^fatal: \[%s\]: FAILED! => (.*)$" % REFUSED, out, re.M)
    assert fatal, out
    assert "rolled_back: the new certificate %s failed the connection check [tls_client_cert_rejected]" \
        % renewed(REFUSED)["sha256"] in fatal.group(1), out


def logged(line):
    """(serial as a number or None, request and status) of a WAF access log line."""
    serial, rest = line.split(" ", 1)
    return (int(serial, 16) if serial not in ("", "-") else None), rest


def test_waf_refused_the_renewed_certificate_then_accepted_the_restored_one():
    lines = [logged(line) for line in
             RUNNER.get_host("rotation-waf").file("/var/log/eeszt-waf/access.log").content_string.splitlines()
             if USER_AGENT in line]
    a_serial = fingerprint_a(RUNNER.get_variables(REFUSED))[1]
    b_serial = int(renewed(REFUSED)["serial"], 16)
    refused = [i for i, (serial, rest) in enumerate(lines) if serial == b_serial]
    assert refused and all('"GET /health" 403' in lines[i][1] for i in refused)
    after = [rest for serial, rest in lines[refused[-1] + 1:] if serial == a_serial]
    assert after and all('"GET /health" 200' in rest for rest in after)
    site1_b = int(renewed("rotation-site1")["serial"], 16)
    assert [rest for serial, rest in lines if serial == site1_b] \
        and all('"GET /health" 200' in rest for serial, rest in lines if serial == site1_b)
