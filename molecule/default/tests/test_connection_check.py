# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the proofs of the connection check (role eeszt.connect.connection_check).

Every converge ran the check on every site against the nginx lab WAF; each
run left one proof file in /var/lib/eeszt/proofs. Each proof carries every
required field of DESIGN.md, records a passed check of both endpoints with
the site's own certificate, and holds no key material and no password. The
WAF's access log shows, for each proof, the check's requests with the site's
certificate, so the proofs record real exchanges.
"""

import datetime
import hashlib
import json
import os
import pathlib
import re

import pytest
import testinfra.utils.ansible_runner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("eeszt_sites")

LAB = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "lab"
PROOF_DIR = "/var/lib/eeszt/proofs"
REQUIRED = {
    "schema", "institution_id", "site_id", "host", "environment", "started_at", "finished_at",
    "client_certificate", "endpoints", "passed", "failure", "tool",
}
CERT_FIELDS = {"subject", "issuer", "serial", "sha256", "not_after"}
ENDPOINT_FIELDS = {"name", "url", "passed", "steps"}
STEPS = ["dns", "tcp", "tls", "http"]
NAME = re.compile(r"^(\d{8}T\d{6}Z)_(\w+)_(\w+)\.json$")
USER_AGENT = "eeszt.connect-connection-check/"


def utc(text):
    assert text.endswith("Z") or text.endswith("+00:00"), text
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


# Runs on the site with its python3: stat of the proof directory, stat and
# text of each proof file.
READ_PROOFS = r"""
import grp, json, os, pwd, stat, sys
def entry(path):
    st = os.stat(path)
    return {"user": pwd.getpwuid(st.st_uid).pw_name, "group": grp.getgrgid(st.st_gid).gr_name,
            "mode": stat.S_IMODE(st.st_mode)}
out = {"dir": entry(sys.argv[1]), "files": {}}
for name in sorted(os.listdir(sys.argv[1])):
    path = os.path.join(sys.argv[1], name)
    out["files"][name] = dict(entry(path), text=open(path).read())
json.dump(out, sys.stdout)
"""


class Proofs:
    """The proof files of one site (one docker exec) and its lab certificate."""

    def __init__(self, host):
        self.name = host.backend.get_hostname()
        self.variables = RUNNER.get_variables(self.name)
        state = json.loads(host.check_output("python3 -c %s %s", READ_PROOFS, PROOF_DIR))
        self.dir, self.files = state["dir"], state["files"]
        self.texts = {name: entry["text"] for name, entry in self.files.items()}
        stem = LAB / "pki" / "sites" / "{0}-{1}".format(self.variables["eeszt_institution_id"], self.variables["eeszt_site_id"])
        self.pfx_password = stem.with_suffix(".password").read_text().strip()
        cert = pkcs12.load_pkcs12(stem.with_suffix(".p12").read_bytes(), self.pfx_password.encode()).cert.certificate
        self.cert_sha256 = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        self.serial_number = cert.serial_number


_PROOFS = {}


@pytest.fixture(name="proofs")
def fixture_proofs(host):
    name = host.backend.get_hostname()
    if name not in _PROOFS:
        _PROOFS[name] = Proofs(host)
    return _PROOFS[name]


def test_proof_files_named_and_protected(proofs):
    assert proofs.dir["mode"] == 0o750
    # converge and idempotence each ran the check once.
    assert len(proofs.files) >= 2, sorted(proofs.files)
    for name, entry in proofs.files.items():
        match = NAME.match(name)
        assert match, name
        assert match.group(2, 3) == (proofs.variables["eeszt_institution_id"], proofs.variables["eeszt_site_id"])
        assert (entry["user"], entry["group"], entry["mode"]) == ("root", "root", 0o640), name


def test_proofs_carry_every_required_field_and_passed(proofs):
    for name, text in proofs.texts.items():
        proof = json.loads(text)
        assert REQUIRED <= set(proof), name
        assert proof["schema"] == "eeszt.connect/proof/v1"
        assert (proof["institution_id"], proof["site_id"]) == (
            proofs.variables["eeszt_institution_id"], proofs.variables["eeszt_site_id"])
        assert proof["host"] == proofs.name
        assert proof["environment"] == "test"
        started, finished = utc(proof["started_at"]), utc(proof["finished_at"])
        assert started <= finished
        assert NAME.match(name).group(1) == finished.strftime("%Y%m%dT%H%M%SZ")
        assert proof["tool"]["name"] and proof["tool"]["version"]
        assert proof["passed"] is True and proof["failure"] is None


def test_proofs_record_the_sites_certificate(proofs):
    for text in proofs.texts.values():
        cert = json.loads(text)["client_certificate"]
        assert CERT_FIELDS <= set(cert)
        assert cert["sha256"].lower() == proofs.cert_sha256
        assert int(cert["serial"], 16) == proofs.serial_number
        assert "CN={0}".format(proofs.variables["eeszt_institution_id"]) in cert["subject"]
        assert "OU={0}".format(proofs.variables["eeszt_site_id"]) in cert["subject"]
        assert utc(cert["not_after"]) > datetime.datetime.now(datetime.timezone.utc)


def test_proofs_record_every_endpoint_step_by_step(proofs):
    expected = [(e["name"], e["url"]) for e in proofs.variables["eeszt_endpoints"]]
    for text in proofs.texts.values():
        endpoints = json.loads(text)["endpoints"]
        assert [(e["name"], e["url"]) for e in endpoints] == expected
        for endpoint in endpoints:
            assert ENDPOINT_FIELDS <= set(endpoint)
            assert endpoint["passed"] is True
            assert [step["name"] for step in endpoint["steps"]] == STEPS
            assert all(step["ok"] for step in endpoint["steps"]), endpoint
            steps = {step["name"]: step["details"] for step in endpoint["steps"]}
            assert steps["tls"]["protocol"] in ("TLSv1.2", "TLSv1.3")
            assert steps["tls"]["server_certificate"]["subject"].startswith("CN=waf,")
            assert steps["http"]["status"] == 200


def test_proofs_hold_no_key_material_or_password(proofs):
    secrets = [proofs.pfx_password, (LAB / "export.password").read_text().strip()]
    if proofs.variables.get("eeszt_tls_proxy_password"):
        secrets.append(proofs.variables["eeszt_tls_proxy_password"])
    for name, text in proofs.texts.items():
        assert "PRIVATE KEY" not in text, name
        for secret in secrets:
            assert secret not in text, name


def logged_serial(line):
    """The client serial at the start of an access log line, or None ("-")."""
    field = line.split(" ", 1)[0]
    return int(field, 16) if field not in ("", "-") else None


def test_waf_saw_each_check_with_the_sites_certificate(proofs):
    # One GET /health and one POST /soap by the check per proof, each with
    # the site's certificate verified by nginx. nginx prints the serial in
    # whole bytes (a leading 0 where the number has an odd count of hex
    # digits), so serials are compared as numbers.
    log = RUNNER.get_host("waf").file("/var/log/eeszt-waf/access.log").content_string.splitlines()
    for request in ('"GET /health" 200', '"POST /soap" 200'):
        seen = [line for line in log
                if logged_serial(line) == proofs.serial_number
                and line.split(" ", 1)[1].startswith("SUCCESS " + request)
                and USER_AGENT in line]
        assert len(seen) == len(proofs.files), request
