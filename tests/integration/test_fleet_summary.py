# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet_summary callback in a real ansible-playbook run: local sites that set the roles' facts with
set_fact, one failing task, one failed check, one unreachable site (SSH to a closed loopback port)."""

import json
import re

import pytest

PLAYBOOK = """
- name: A small fleet
  hosts: eeszt_sites
  gather_facts: false
  tasks:
    - name: Reach the site
      ansible.builtin.ping:

    - name: Publish the certificate facts
      ansible.builtin.set_fact:
        eeszt_certificate_result:
          days_left: "{{ 364 if inventory_hostname != 'site-old' else 9 }}"
          not_after: "2027-03-01T00:00:00Z"
          fingerprint: "{{ 'ab' * 32 }}"

    - name: Install the CA bundle
      ansible.builtin.fail:
        msg: "cannot write the bundle for {{ vault_pfx_password }}"
      when: inventory_hostname == 'site-broken'

    - name: Expose the result for later roles as eeszt_check_result
      ansible.builtin.set_fact:
        eeszt_check_result:
          passed: "{{ inventory_hostname != 'site-refused' }}"
          failure: "{{ {'category': 'tcp_refused', 'message': 'refused', 'hint': 'open 443'}
                       if inventory_hostname == 'site-refused' else none }}"
          proof_path: "/var/lib/eeszt/proofs/{{ eeszt_institution_id }}-{{ eeszt_site_id }}.json"
      when: inventory_hostname != 'site-certonly'
"""

# (host, institution, site, expected result column, expected detail)
SITES = [
    ("site-ok", "100001", "100001001", "PASS", "/var/lib/eeszt/proofs/100001-100001001.json"),
    ("site-refused", "100001", "100001002", "FAIL tcp_refused", "/var/lib/eeszt/proofs/100001-100001002.json"),
    ("site-broken", "100001", "100001003", "FAILED", "task: Install the CA bundle"),
    ("site-old", "200002", "200002001", "PASS", "/var/lib/eeszt/proofs/200002-200002001.json"),
    ("site-certonly", "200002", "200002002", "OK", "-"),
    ("site-down", "200002", "200002003", "UNREACHABLE", "task: Reach the site"),
]


@pytest.fixture(scope="module")
def fleet_run(tmp_path_factory, run_playbook, pick_port):
    """Run the playbook once with the callback enabled; (result, summary JSON path)."""
    tmp_path = tmp_path_factory.mktemp("fleet")
    closed_port = pick_port()
    lines = ["[eeszt_sites]"]
    for host, institution, site, dummy, dummy2 in SITES:
        if host == "site-down":
            lines.append("%s ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d ansible_user=nobody "
                         "ansible_ssh_timeout=5 eeszt_institution_id=%s eeszt_site_id=%s"
                         % (host, closed_port, institution, site))
        elif host == "site-old":
            # Identity from host_vars/ (only the variable manager sees it), not from the inventory file.
            lines.append("%s ansible_connection=local" % host)
        else:
            lines.append("%s ansible_connection=local eeszt_institution_id=%s eeszt_site_id=%s"
                         % (host, institution, site))
    lines += ["[eeszt_sites:vars]", "ansible_python_interpreter={{ ansible_playbook_python }}",
              "vault_pfx_password=not-for-the-summary"]
    (tmp_path / "hosts.ini").write_text("\n".join(lines) + "\n")
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "host_vars" / "site-old.yml").write_text(
        "eeszt_institution_id: '200002'\neeszt_site_id: '200002001'\neeszt_environment: production\n")
    (tmp_path / "fleet.yml").write_text(PLAYBOOK)
    summary = tmp_path / "fleet-summary.json"
    result = run_playbook(str(tmp_path / "fleet.yml"), inventory=tmp_path / "hosts.ini", env={
        "ANSIBLE_CALLBACKS_ENABLED": "eeszt.connect.fleet_summary",
        "EESZT_FLEET_SUMMARY_JSON": str(summary),
    }, timeout=120)
    return result, summary


def summary_lines(stdout):
    """The lines after the EESZT FLEET SUMMARY banner."""
    start = next(i for i, line in enumerate(stdout.splitlines()) if line.startswith("EESZT FLEET SUMMARY"))
    return stdout.splitlines()[start + 1:]


def test_every_site_appears_once_with_its_result(fleet_run):
    result, dummy = fleet_run
    assert result.returncode == 4, result.output  # a host was unreachable (and one failed)
    assert result.recap["site-down"]["unreachable"] == 1
    lines = summary_lines(result.stdout)

    assert lines[0].split() == ["INSTITUTION", "SITE", "HOST", "CERT", "DAYS", "RESULT", "PROOF", "/", "FAILING",
                                "TASK"]
    rows = lines[1:1 + len(SITES)]
    expected = sorted(SITES, key=lambda site: (site[1], site[2]))
    for line, (host, institution, site, outcome, detail) in zip(rows, expected):
        pattern = r"^%s +%s +%s +(364|9|-) +%s +%s$" % (
            institution, site, host, re.escape(outcome), re.escape(detail))
        assert re.match(pattern, line), line
    for host, dummy2, dummy3, dummy4, dummy5 in SITES:
        assert sum(re.search(r"\s%s\s" % host, line) is not None for line in lines) == 1, host
    assert lines[1 + len(SITES)] == ("sites: 6  passed: 2  check failed: 1  other stage failed: 1  unreachable: 1  "
                                     "not checked: 1")
    assert lines[2 + len(SITES)] == "failure categories: tcp_refused=1"
    assert "\x1b[" not in result.stdout
    assert "not-for-the-summary" not in "\n".join(lines)


def test_summary_json_matches_the_run(fleet_run):
    result, summary = fleet_run
    document = json.loads(summary.read_text())

    assert [(s["host"], s["result"], s["failure_category"]) for s in document["sites"]] == [
        ("site-ok", "PASS", None), ("site-refused", "FAIL", "tcp_refused"), ("site-broken", "FAILED", None),
        ("site-old", "PASS", None), ("site-certonly", "OK", None), ("site-down", "UNREACHABLE", None)]
    old = document["sites"][3]
    assert (old["institution_id"], old["site_id"], old["environment"], old["certificate_days_left"]) == (
        "200002", "200002001", "production", 9)
    assert document["totals"]["sites"] == 6
    assert "not-for-the-summary" not in summary.read_text()
