# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 24: the fleet summary names each incident once, before ``problems:``, and the problem lines of its
sites are shorter and point at it."""

from ansible_collections.eeszt.connect.plugins.plugin_utils.report import fleet_summary, fleet_summary_output

MESSAGE = "The server certificate of localhost is not trusted: unable to get local issuer certificate."


def record(name, passed, category=None, message=MESSAGE):
    host = fleet_summary.HostRecord(name)
    host.check = {"passed": passed, "proof_path": "/p/%s.json" % name,
                  "failure": None if passed else {"category": category, "message": message}}
    return host


def rows_of(records, unreachable=()):
    stats = dict((name, {"ok": 1, "failures": 0, "unreachable": 0}) for name in records)
    identities = dict((name, {"eeszt_institution_id": "10000%s" % name[-1], "eeszt_site_id": "1000%s01" % name[-1]})
                      for name in records)
    for name in unreachable:
        records[name] = fleet_summary.HostRecord(name)
        records[name].unreachable_reason = "ssh: connect to host %s port 22: Connection timed out" % name
        records[name].unreachable_task = "Reach the site"
        stats[name] = {"ok": 0, "failures": 0, "unreachable": 1}
        identities[name] = {"eeszt_institution_id": "100009", "eeszt_site_id": "100009%03d" % len(identities)}
    return fleet_summary.summarize(records, stats, identities)


INCIDENTS = [
    {"scope": "fleet", "key": "all", "category": "tls_server_untrusted", "sites": 3, "institutions": 3,
     "hosts": ["site1", "site2", "site3"], "since": "2026-12-08T02:10:00Z",
     "message": "3 site(s) of 3 institution(s) (the whole fleet) do not trust the EESZT server's certificate: the "
                "EESZT server chain changed.",
     "hint": "Update eeszt_tls_ca_bundle_src from the new connection documents and run configure_tls.yml."},
    {"scope": "institution", "key": "100009", "category": "unreachable", "sites": 2, "institutions": 1,
     "hosts": ["down1", "down2"], "since": "2026-12-08T02:00:00Z", "message": "2 site(s) are unreachable.",
     "hint": "Check the VPN."},
]


def test_incidents_are_printed_once_before_the_problems_and_the_sites_point_at_them():
    records = dict((name, record(name, False, "tls_server_untrusted")) for name in ("site1", "site2", "site3"))
    records["site4"] = record("site4", False, "http_status", "HTTP 404 Not Found")
    records["site5"] = record("site5", True)
    rows, totals = rows_of(records, unreachable=("down1", "down2"))
    incidents = fleet_summary.clean_incidents(INCIDENTS)
    fleet_summary.point_at_incidents(rows, incidents)
    lines = fleet_summary_output.render(rows, totals, colorize=False, incidents=incidents)
    start, problems = lines.index("incidents:"), lines.index("problems:")
    assert start < problems
    assert lines[start + 1:problems] == [
        "  #1 fleet: tls_server_untrusted on 3 site(s) of 3 institution(s), since 2026-12-08T02:10:00Z",
        "     " + INCIDENTS[0]["message"],
        "     to do: " + INCIDENTS[0]["hint"],
        "     hosts: site1, site2, site3",
        "  #2 institution 100009: unreachable on 2 site(s) of 1 institution(s), since 2026-12-08T02:00:00Z",
        "     2 site(s) are unreachable.",
        "     to do: Check the VPN.",
        "     hosts: down1, down2",
    ]
    problem_lines = dict(line.strip().split(": ", 1) for line in lines[problems + 1:])
    for name in ("site1", "site2", "site3"):
        assert problem_lines[name] == "connection check failed: tls_server_untrusted (incident #1)"
    # The cause is said once: the check's message is in no problem line any more.
    assert sum(MESSAGE in line for line in lines) == 0
    assert problem_lines["down1"] == "unreachable: ssh: connect to host down1 port 22: Connection timed out (incident #2)"
    # A site outside every incident keeps its full line.
    assert problem_lines["site4"] == "connection check failed: http_status: HTTP 404 Not Found"
    assert "site5" not in problem_lines


def test_without_incidents_the_summary_is_as_before():
    records = dict((name, record(name, False, "tls_server_untrusted")) for name in ("site1", "site2"))
    rows, totals = rows_of(records)
    before = fleet_summary_output.render([dict(row) for row in rows], totals, colorize=False)
    fleet_summary.point_at_incidents(rows, [])
    assert fleet_summary_output.render(rows, totals, colorize=False, incidents=[]) == before
    assert "incidents:" not in before and "  site1: connection check failed: tls_server_untrusted: " + MESSAGE in before


def test_an_incident_names_at_most_ten_hosts_and_bad_entries_are_dropped():
    incident = dict(INCIDENTS[0], hosts=["site%02d" % n for n in range(12)], sites=12,
                    message="line one\nline two")
    kept = fleet_summary.clean_incidents([incident, "not an incident", None])
    assert len(kept) == 1 and kept[0]["message"] == "line one line two"
    lines = fleet_summary_output.incident_lines(kept)
    assert lines[-1] == "     hosts: %s and 2 more" % ", ".join("site%02d" % n for n in range(10))
    assert fleet_summary.clean_incidents("nope") == []
