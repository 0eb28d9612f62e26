# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/report/fleet_summary.py without Ansible: the Collector fed with plain results, and its rows."""

from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_summary import FAILED, Collector, failed_error, reason

IDENTITY = {"eeszt_institution_id": "100001", "eeszt_site_id": "100001001"}


def test_a_failed_task_of_the_collection_without_a_code_keeps_its_message():
    collector = Collector()
    collector.failed("site1", None, {"msg": "Unsupported parameters: x"}, "Compare the clocks",
                     action="eeszt.connect.tls_clock_skew")
    rows, totals = collector.summarize({"site1": {"failures": 1}}, {"site1": IDENTITY})
    assert (rows[0]["result"], rows[0]["error"], rows[0]["message"]) == (FAILED, None, "Unsupported parameters: x")
    assert rows[0]["reason"] == "Unsupported parameters: x (task: Compare the clocks)"
    assert totals["failed"] == 1


def test_another_task_s_message_without_a_code_stays_out_and_no_log_hides_all():
    collector = Collector()
    collector.failed("site1", None, {"msg": "for secret"}, "Fail", action="ansible.builtin.fail")
    collector.failed("site2", None, {"msg": "for secret", "error": "pfx_wrong_password"}, "Deploy", no_log=True,
                     action="eeszt.connect.waf_certificate")
    rows, dummy = collector.summarize({"site1": {"failures": 1}, "site2": {"failures": 1}},
                                      {"site1": IDENTITY, "site2": dict(IDENTITY, eeszt_site_id="100001002")})
    assert [row["reason"] for row in rows] == ["task failed: Fail", "task failed: Deploy"]
    assert failed_error({"msg": "m", "error": "not a code!"}, own=False) == (None, None)
    assert failed_error({"msg": "m", "error": "not a code!"}, own=True) == (None, "m")


def test_a_run_once_failure_is_the_run_s_and_an_ignored_one_nothing():
    collector = Collector()
    collector.failed("site1", None, {"msg": "disk full", "error": "archive_failed"}, "Report", run_once=True)
    collector.failed("site1", None, {"msg": "whatever"}, "Try", ignore_errors=True)
    assert collector.run_failures == [{"task": "Report", "host": "site1", "error": "archive_failed",
                                       "message": "disk full"}]
    rows, dummy = collector.summarize({"site1": {"failures": 1}}, {"site1": IDENTITY})
    assert (rows[0]["result"], rows[0]["reason"]) == ("OK", None)


def test_facts_and_unknown_variables_are_collected_once():
    collector = Collector()
    collector.ok("site1", None, {"ansible_facts": {"eeszt_check_result": {"passed": True, "proof_path": "/p/1.json"}}})
    unknown = {"files_opened": 1, "unknown": [{"variable": "eeszt_x", "hosts": ["site1"]}]}
    collector.ok("localhost", None, unknown)
    collector.ok("localhost", None, dict(unknown, unknown=[{"variable": "eeszt_x", "hosts": ["site2"]}]))
    assert collector.unknown() == [{"variable": "eeszt_x", "hosts": ["site1", "site2"], "did_you_mean": None}]
    rows, dummy = collector.summarize({"site1": {"ok": 1}, "localhost": {"ok": 2}}, {"site1": IDENTITY})
    assert [(row["host"], row["result"], row["proof_path"]) for row in rows] == [("site1", "PASS", "/p/1.json")]


def test_reason_of_a_failed_row():
    row = {"result": FAILED, "error": None, "message": None, "failed_task": None}
    assert reason(row) == "task failed: -"
    assert reason(dict(row, error="x_y")) == "x_y: no message (task: -)"
