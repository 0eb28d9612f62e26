# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One truth in the report (issue 27, point 6).

Six demo sites against a private lab: a first site.yml run where every site passes, then a second one with one
site of each mistake: a wrong PFX password (site002), an institution ID with a letter (site003, which had rows
under its real ID), a misspelt variable with eeszt_preflight_unknown_variables=fail (site004) and a CA bundle in
DER (site005); site001 and site006 pass. Every refused host is counted in one place, refused, and the same
hosts are named by the report's tile and section (report.html), the table (index.json, report.csv), the
console (the proofs stage's line and the fleet summary) and the fleet summary's JSON; no refused host keeps
a row. The summary's JSON carries each site's environment, and the certificate days in site.yml and in the
daily run (from the check's client certificate).
"""

import csv
import json
import os
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 6
pytestmark = pytest.mark.slow
DER_CA = "ca-bundle.der"
MISTAKES = {
    "site002": {"eeszt_certificate_pfx_password": "not-the-password"},
    "site003": {"eeszt_institution_id": "10000l"},
    "site004": {"eeszt_check_timout": 5},
    "site005": {"eeszt_tls_ca_bundle_src": "@ROOT@/" + DER_CA},
}
REFUSED = sorted(MISTAKES)
PASSING = ["site001", "site006"]


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, run_playbook, pick_port, stop_lab):
    root = tmp_path_factory.mktemp("truth")
    lab_dir = root / "lab"
    port = pick_port()
    env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": str(SITES),
           "EESZT_FLEET_SUMMARY_JSON": str(root / "summary.json")}
    result = run_playbook("lab.yml", extra_vars={"eeszt_lab_state": "started", "eeszt_lab_waf_port": port},
                          env=env, args=["-i", DEMO])
    assert result.ok, result.output
    yield root, lab_dir, env
    result = stop_lab(lab_dir, port, env=env, args=["-i", DEMO])
    assert result.ok, result.output


def summary_block(stdout):
    lines = stdout.splitlines()
    start = max(number for number, line in enumerate(lines) if line.startswith("EESZT FLEET SUMMARY"))
    return lines[start + 1:]


def test_tile_table_console_and_json_agree(fleet, run_playbook):
    root, lab_dir, env = fleet
    archive = lab_dir / "proofs"
    variables = {"eeszt_proofs_archive_dir": str(archive)}
    first = run_playbook("site.yml", env=env, timeout=300, extra_vars=variables, args=["-i", DEMO])
    assert first.ok, first.output
    before = json.loads((archive / "index.json").read_text())
    assert sorted(s["host"] for s in before["sites"]) == ["site%03d" % n for n in range(1, SITES + 1)]

    der = x509.load_pem_x509_certificates((lab_dir / "pki" / "eeszt-ca-bundle.pem").read_bytes())[0]
    (root / DER_CA).write_bytes(der.public_bytes(serialization.Encoding.DER))
    overrides = root / "mistakes.yml"
    overrides.write_text("eeszt_sites:\n  hosts:\n" + "".join(
        "    %s: %s\n" % (host, json.dumps(values).replace("@ROOT@", str(root))) for host, values in MISTAKES.items()))
    second = run_playbook("site.yml", env=env, timeout=300, args=["-i", DEMO, "-i", str(overrides)],
                          extra_vars=dict(variables, eeszt_preflight_unknown_variables="fail"))
    assert second.returncode == 2, second.output
    for host in REFUSED:
        assert (second.recap[host]["failed"], second.recap[host]["changed"]) == (1, 0), second.output

    # index.json: the refused hosts once each, no row for any of them (site003 had rows under 100001).
    index = json.loads((archive / "index.json").read_text())
    assert sorted(entry["host"] for entry in index["refused"]) == REFUSED
    assert index["summary"]["refused"] == len(REFUSED)
    assert sorted(s["host"] for s in index["sites"]) == PASSING
    assert (index["summary"]["sites"], index["summary"]["passed"], index["summary"]["failed"]) == (2, 2, 0)
    reasons = dict((entry["host"], entry["message"]) for entry in index["refused"])
    assert "[pfx_wrong_password]" in reasons["site002"] and "10000l" in reasons["site003"]
    assert "eeszt_check_timout" in reasons["site004"] and "DER" in reasons["site005"]
    with open(str(archive / "report.csv"), newline="") as handle:
        assert sorted(row["host"] for row in csv.DictReader(handle)) == PASSING

    # report.html: the tile, the section, and the table rows.
    html = (archive / "report.html").read_text()
    assert '<div class="card bad"><b>%d</b>Refused by preflight</div>' % len(REFUSED) in html
    section = html[html.index('<section id="refused">'):]
    section = section[:section.index("</section>")]
    assert sorted(re.findall(r"<li><b>([^<]+)</b>", section)) == REFUSED
    table = html[html.index("<tbody>"):html.index("</tbody>")]
    for host in REFUSED:
        assert host not in table, host
    for host in PASSING:
        assert host in table, host

    # The console: the proofs stage's line and the fleet summary.
    assert "%d host(s) refused by the preflight" % len(REFUSED) in second.stdout
    block = summary_block(second.stdout)
    rows = dict((line.split()[2], line.split()[4]) for line in block[1:] if re.match(r"^(\d{6}|10000l|-)\s", line))
    assert sorted(host for host, result in rows.items() if result == "REFUSED") == REFUSED, block
    assert sorted(host for host, result in rows.items() if result == "PASS") == PASSING, block
    totals = [line for line in block if line.startswith("sites: ")][0]
    assert totals.endswith("  refused: %d" % len(REFUSED)) and "  other stage failed: 0  " in totals, totals

    # The fleet summary's JSON.
    document = json.loads((root / "summary.json").read_text())
    assert document["totals"]["refused"] == len(REFUSED) and document["totals"]["passed"] == len(PASSING)
    assert sorted(s["host"] for s in document["sites"] if s["result"] == "REFUSED") == REFUSED
    assert sorted(s["host"] for s in document["sites"] if s["result"] == "PASS") == PASSING
    assert set(s["environment"] for s in document["sites"]) == {"test"}, document["sites"]
    for site in document["sites"]:
        if site["result"] == "PASS":
            assert isinstance(site["certificate_days_left"], int), site
    assert [w["variable"] for w in document["warnings"]] == ["eeszt_check_timout"]


def test_the_daily_run_knows_environment_and_certificate_days(fleet, run_playbook):
    root, lab_dir, env = fleet
    result = run_playbook("daily.yml", env=env, timeout=300, args=["-i", DEMO, "--limit", ",".join(PASSING)],
                          extra_vars={"eeszt_proofs_archive_dir": str(lab_dir / "proofs")})
    assert result.ok, result.output
    document = json.loads((root / "summary.json").read_text())
    assert sorted(s["host"] for s in document["sites"]) == PASSING
    for site in document["sites"]:
        assert site["result"] == "PASS" and site["environment"] == "test", site
        assert isinstance(site["certificate_days_left"], int) and site["certificate_days_left"] > 0, site
        assert site["certificate_not_after"], site
    block = summary_block(result.stdout)
    for line in block[1:1 + len(PASSING)]:
        assert line.split()[3] != "-", block
