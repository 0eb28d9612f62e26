# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One bad registry row does not stop the fleet (issue 27, point 10).

A site registry (eeszt.connect.sites) of three demo sites whose second row has an institution ID with a
letter: site.yml runs the whole flow for the other two rows against a private lab, and the bad row's host is
refused by the preflight (nothing done on it), named with file, line, field and reason in the preflight, the
fleet summary and the report. With ``bad_rows: fail`` the inventory fails as a whole, as before.
"""

import json
import os
import shutil

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 3
pytestmark = pytest.mark.slow
REASON = "registry.csv, line 3, field institution_id: '10000l' does not match ^[0-9]{6}$"


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    root = tmp_path_factory.mktemp("registry")
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


def registry_inventory(root, **options):
    """The demo's group variables beside a registry of the three demo sites, the second row bad."""
    directory = root / ("inventory-%s" % "-".join(sorted(options)) if options else "inventory")
    shutil.copytree(os.path.join(DEMO, "group_vars"), str(directory / "group_vars"))
    (directory / "registry.csv").write_text(
        "host,institution_id,site_id\n"
        "site001,100001,100001001\n"
        "site002,10000l,100001002\n"
        "site003,100001,100001003\n")
    (directory / "sites.eeszt_sites.yml").write_text(json.dumps(dict({"plugin": "eeszt.connect.sites",
                                                                      "registry": "registry.csv"}, **options)))
    return directory


def test_a_bad_row_is_refused_and_the_other_rows_run(lab, run_playbook):
    root, lab_dir, env = lab
    archive = lab_dir / "proofs"
    directory = registry_inventory(root)
    result = run_playbook("site.yml", env=env, timeout=300, args=["-i", str(directory)],
                          extra_vars={"eeszt_proofs_archive_dir": str(archive)})

    assert result.returncode == 2, result.output
    # Said when the inventory is read, with what happens next.
    assert "the host site002 is kept in the inventory, refused" in " ".join(result.stderr.split()), result.output
    for host in ("site001", "site003"):
        assert result.recap[host]["failed"] == 0 and result.recap[host]["unreachable"] == 0, result.output
        assert list((lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json")), host
    assert (result.recap["site002"]["failed"], result.recap["site002"]["changed"]) == (1, 0), result.output
    assert not (lab_dir / "sites" / "site002").exists()
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal: [site002]")]
    assert len(fatal) == 1 and REASON in fatal[0] and "eeszt_registry_refusal" in fatal[0], result.output
    assert "Preflight: 1 bad variable for site002" in fatal[0], fatal[0]

    document = json.loads((root / "summary.json").read_text())
    results = dict((s["host"], s["result"]) for s in document["sites"])
    assert results == {"site001": "PASS", "site002": "REFUSED", "site003": "PASS"}, document
    assert REASON in [s for s in document["sites"] if s["host"] == "site002"][0]["reason"]

    index = json.loads((archive / "index.json").read_text())
    assert sorted(s["host"] for s in index["sites"]) == ["site001", "site003"]
    assert [entry["host"] for entry in index["refused"]] == ["site002"]
    assert REASON in index["refused"][0]["message"]
    html = (archive / "report.html").read_text()
    assert '<div class="card bad"><b>1</b>Refused by preflight</div>' in html
    assert "<li><b>site002</b>" in html


def test_bad_rows_fail_makes_the_whole_inventory_fail(lab, run_playbook):
    root, lab_dir, env = lab
    directory = registry_inventory(root, bad_rows="fail")
    result = run_playbook("preflight.yml", env=env, timeout=120, args=["-i", str(directory)])
    assert not result.ok
    assert REASON in " ".join((result.stdout + result.stderr).split()), result.output
    assert "site001" not in result.recap, result.output
