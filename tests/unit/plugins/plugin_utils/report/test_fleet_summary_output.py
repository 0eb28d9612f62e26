# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/report/fleet_summary_output.py: the summary's text and its JSON file."""

import json
import os
import stat

from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_summary_output import render, run_failure_line, write_json

ROW = {"host": "site1", "institution_id": "100001", "site_id": "100001001", "result": "FAILED",
       "failure_category": None, "failed_task": "Deploy", "certificate_days_left": 3, "proof_path": None,
       "error": None, "message": "bad", "reason": "bad (task: Deploy)"}
TOTALS = {"sites": 1, "passed": 0, "check_failed": 0, "failed": 1, "unreachable": 0, "not_checked": 0,
          "refused": 0, "failure_categories": {}}


def test_a_run_failure_line_with_and_without_a_code_or_a_message():
    failure = {"task": "Report", "host": "site1", "error": None, "message": None}
    assert run_failure_line(failure) == "task failed (task: Report, run on site1's behalf)"
    assert run_failure_line(dict(failure, message="m")) == "m (task: Report, run on site1's behalf)"
    assert run_failure_line(dict(failure, error="c")) == "c: no message (task: Report, run on site1's behalf)"


def test_render_without_colour():
    assert render([ROW], TOTALS, colorize=False) == [
        "INSTITUTION  SITE       HOST   CERT DAYS  RESULT  PROOF / FAILING TASK",
        "100001       100001001  site1  3          FAILED  task: Deploy",
        "sites: 1  passed: 0  check failed: 0  other stage failed: 1  unreachable: 0  not checked: 0",
        "problems:",
        "  site1: bad (task: Deploy)",
    ]


def test_the_json_file_and_its_new_folder(tmp_path):
    path = tmp_path / "reports" / "summary.json"
    write_json(str(path), [ROW], TOTALS)
    document = json.loads(path.read_text())
    assert (document["sites"], document["totals"], document["run_failures"]) == ([ROW], TOTALS, [])
    assert stat.S_IMODE(os.stat(str(path)).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(str(path.parent)).st_mode) == 0o755
