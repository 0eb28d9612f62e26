# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unknown (misspelt) eeszt_* variables (issue 27, point 5).

``eeszt_preflight_unknown_variables: warn`` (the default) warns and the site runs; ``fail`` refuses the host
in the preflight, before anything is done on it, naming the host, the variable and the closest known name.
Either way the fleet summary lists each unknown variable once under ``warnings:``, with its hosts counted
(a typo in group variables is one line, not one per host).
"""

import json

import pytest

pytestmark = pytest.mark.slow


def inventory(tmp_path, group_typo=True):
    path = tmp_path / "hosts.yml"
    lines = ["eeszt_sites:", "  hosts:"]
    for name, site, extra in (("typo-site", "100001001", "      eeszt_check_timout: 5\n"),
                              ("good-site", "100001002", "")):
        lines.append("    %s:\n      ansible_connection: local\n      eeszt_institution_id: '100001'\n"
                     "      eeszt_site_id: '%s'\n      eeszt_check_proof_dir: %s\n%s"
                     % (name, site, tmp_path / name / "proofs", extra.rstrip("\n")))
    lines.append("  vars:")
    lines.append("    ansible_python_interpreter: '{{ ansible_playbook_python }}'")
    if group_typo:
        lines.append("    eeszt_certifcate_min_days: 14")
    path.write_text("\n".join(line.rstrip("\n") for line in lines) + "\n")
    return path


def summary_lines(stdout):
    lines = stdout.splitlines()
    start = next(number for number, line in enumerate(lines) if line.startswith("EESZT FLEET SUMMARY"))
    return lines[start:]


def run_check(run_playbook, tmp_path, hosts, **extra):
    summary = tmp_path / "summary.json"
    variables = {"eeszt_endpoints": [{"name": "waf", "url": "https://127.0.0.1:9/"}],
                 "eeszt_check_fail_on_error": False}
    variables.update(extra)
    result = run_playbook("check_connection.yml", inventory=hosts, timeout=120, extra_vars=variables,
                          env={"EESZT_FLEET_SUMMARY_JSON": str(summary)})
    return result, json.loads(summary.read_text())


def test_warn_is_the_default_the_site_runs_and_the_summary_lists_each_typo_once(tmp_path, run_playbook):
    result, document = run_check(run_playbook, tmp_path, inventory(tmp_path))

    # Warned, not refused: both sites were checked (the endpoint is closed: the check fails on the site).
    assert result.recap["typo-site"]["failed"] == 0, result.output
    sites = dict((row["host"], row) for row in document["sites"])
    assert sites["typo-site"]["result"] == "FAIL" and sites["good-site"]["result"] == "FAIL", document
    summary = summary_lines(result.stdout)
    start = summary.index("warnings:")
    assert summary[start + 1:start + 3] == [
        "  eeszt_certifcate_min_days is set for 2 host(s) (good-site, typo-site) but nothing in eeszt.connect reads "
        "it: did you mean eeszt_certificate_min_days? If it is your own variable, add it to "
        "eeszt_preflight_ignore_unknown.",
        "  eeszt_check_timout is set for 1 host(s) (typo-site) but nothing in eeszt.connect reads it: did you mean "
        "eeszt_check_timeout? If it is your own variable, add it to eeszt_preflight_ignore_unknown."]
    assert "\n".join(summary).count("eeszt_certifcate_min_days") == 1
    assert [(w["variable"], len(w["hosts"])) for w in document["warnings"]] == [
        ("eeszt_certifcate_min_days", 2), ("eeszt_check_timout", 1)]


def test_fail_refuses_the_host_before_anything_is_done_on_it(tmp_path, run_playbook):
    hosts = inventory(tmp_path, group_typo=False)
    result, document = run_check(run_playbook, tmp_path, hosts, eeszt_preflight_unknown_variables="fail")

    recap = result.recap["typo-site"]
    assert (recap["failed"], recap["changed"]) == (1, 0) and recap["ok"] <= 1, result.output
    fatal = [line for line in result.stdout.splitlines() if line.startswith("fatal: [typo-site]")]
    assert len(fatal) == 1, result.output
    assert "Preflight: 1 bad variable for typo-site, so nothing was done on this site" in fatal[0]
    assert "eeszt_check_timout: is set but nothing in eeszt.connect reads it" in fatal[0]
    assert "did you mean eeszt_check_timeout?" in fatal[0]
    # Nothing was done on it: no proof directory; the other site was checked.
    assert not (tmp_path / "typo-site").exists()
    assert (tmp_path / "good-site" / "proofs").is_dir()
    sites = dict((row["host"], row) for row in document["sites"])
    assert (sites["typo-site"]["result"], sites["good-site"]["result"]) == ("REFUSED", "FAIL"), document
    assert document["totals"]["refused"] == 1
    assert [w["variable"] for w in document["warnings"]] == ["eeszt_check_timout"]
    # Said once where it happens (the refusal), not also as a run-time warning.
    assert "[WARNING]: eeszt_check_timout" not in result.stdout + result.stderr
