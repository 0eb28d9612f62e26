# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench keeps the costliest tasks of each run, read from ansible.posix.profile_tasks' recap."""

import bench

LOG = """TASK [eeszt.connect.proofs : Show the fleet report] ******
ok: [site001] => {}
eeszt.connect.tls_client : Only in the task log ---------------------------- 99.00s
PLAY RECAP *********************************************************************
site001                    : ok=21   changed=0    unreachable=0    failed=0    skipped=11

TASKS RECAP ********************************************************************
Wednesday 02 December 2026  05:51:55 +0000 (0:00:00.506)       0:01:18.487 ****
===============================================================================
eeszt.connect.tls_client : Install the CA bundle and write the client settings files -- 22.26s
eeszt.connect.connection_check : Check the connection to EESZT --------- 10.55s
Check the variables of the stages to come, on the controller only ------- 5.80s
eeszt.connect.proofs : Show the fleet report ---------------------------- 0.04s
"""


def test_the_recap_gives_the_tasks_costliest_first():
    assert bench.task_profile(LOG) == [
        {"task": "eeszt.connect.tls_client : Install the CA bundle and write the client settings files", "s": 22.26},
        {"task": "eeszt.connect.connection_check : Check the connection to EESZT", "s": 10.55},
        {"task": "Check the variables of the stages to come, on the controller only", "s": 5.8},
        {"task": "eeszt.connect.proofs : Show the fleet report", "s": 0.04},
    ]


def test_at_most_the_top_tasks_are_kept_and_a_log_without_recap_gives_none():
    lines = "\n".join("Task %02d ----- %d.00s" % (index, index) for index in range(30))
    kept = bench.task_profile("TASKS RECAP ****\n" + lines)
    assert [entry["s"] for entry in kept] == [float(index) for index in range(29, 29 - bench.PROFILE_TOP, -1)]
    assert bench.task_profile("PLAY RECAP\nsite001 : ok=1 changed=0 unreachable=0 failed=0") == []


def test_the_runs_enable_the_profile_and_keep_the_projects_summary():
    env = bench.ansible_env("/tmp/lab", 10, 20010)
    assert env["ANSIBLE_CALLBACKS_ENABLED"].split(",") == ["eeszt.connect.fleet_summary", "ansible.posix.profile_tasks"]
    assert env["PROFILE_TASKS_TASK_OUTPUT_LIMIT"] == "all"
