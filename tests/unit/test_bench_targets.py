# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make bench (issue 26): the same-count floor, the tasks per site from the recap, and the targets at every size."""

import bench

RECAP = """TASK [eeszt.connect.proofs : Show the fleet report] ******
site009 : ok=99 changed=0 unreachable=0 failed=0 skipped=99 is not a recap line before PLAY RECAP
PLAY RECAP *********************************************************************
site001                    : ok=10   changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0
site002                    : ok=6    changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0
site003                    : ok=6    changed=3    unreachable=0    failed=0    skipped=4    rescued=0    ignored=0
site004                    : ok=7    changed=3    unreachable=0    failed=0    skipped=2    rescued=0    ignored=0

TASKS RECAP ********************************************************************
"""


def test_tasks_per_site_are_ok_plus_skipped_typical_and_most():
    assert bench.tasks_per_site(RECAP) == {"typical": 10, "most": 14, "most_host": "site001"}


def test_a_tie_gives_the_lower_typical_count_and_the_first_host_with_the_most():
    text = ("PLAY RECAP ***\n"
            "b : ok=3 changed=0 unreachable=0 failed=0 skipped=0\n"
            "a : ok=3 changed=0 unreachable=0 failed=0 skipped=0\n"
            "c : ok=2 changed=0 unreachable=0 failed=0 skipped=0\n"
            "d : ok=1 changed=0 unreachable=0 failed=0 skipped=1\n")
    assert bench.tasks_per_site(text) == {"typical": 2, "most": 3, "most_host": "a"}


def test_a_log_without_recap_has_no_tasks_per_site():
    assert bench.tasks_per_site("PLAY [x]\nfatal: [site001]: boom\n") is None


def test_the_same_count_floor_runs_as_many_pings_as_site_yml_ran_modules(tmp_path):
    assert [bench.floor_tasks(value) for value in (3, 2.6, 3.4, 0, None)] == [3, 3, 3, 1, 1]
    path = bench.floor_playbook(str(tmp_path / "floor.yml"), 3)
    text = open(path, encoding="utf-8").read()
    assert text.count("ansible.builtin.ping:") == 3
    assert text.count("- name:") == 4  # the play and its three tasks
    assert "gather_facts: false" in text
    assert "eeszt_hosts | default('eeszt_sites')" in text


def _row(sites=20, full=24.0, rerun=21.0, daily=7.8, ping=6.0, floor=16.0, modules=(3, 1), tasks=(8, 3)):
    def run(wall, runs, most):
        return {"wall_s": wall, "max_rss_bytes": 1, "tree_peak_rss_bytes": 1, "controller_peak_pss_bytes": 1,
                "module_runs_per_site": runs, "tasks_per_site": {"typical": most, "most": most, "most_host": "site001"}}
    return {"sites": sites, "runs": {"full": run(full, modules[0], tasks[0]), "rerun": run(rerun, modules[0], tasks[0]),
                                     "daily": run(daily, modules[1], tasks[1]), "ping": run(ping, 1, 1),
                                     "floor": run(floor, modules[0], modules[0])}}


def _issue_26(results):
    return {entry["target"]: (entry["value"], entry["met"]) for entry in results if entry["issue"] == 26}


def test_each_target_of_issue_26_passes_exactly_at_its_limit_at_every_size():
    rows = [_row(sites=20), _row(sites=50)]
    found = _issue_26(bench.summarise(rows)[1])
    assert len(found) == 2 * len(bench.TARGETS_26)
    assert all(met for _value, met in found.values())
    assert found["site.yml / same-count floor, (a)/(f) <= 1.5 at 20 sites"] == (1.5, True)
    assert found["site.yml / ping, (a)/(c) <= 4 at 50 sites"] == (4.0, True)
    assert found["re-run / ping, (b)/(c) <= 3.5 at 50 sites"] == (3.5, True)
    assert found["daily run / ping, (d)/(c) <= 1.3 at 50 sites"] == (1.3, True)
    assert found["tasks per site in site.yml (a), on the site with the most <= 8 at 20 sites"] == (8, True)
    assert found["tasks per site in the daily run (d), on the site with the most <= 3 at 50 sites"] == (3, True)
    assert found["module runs per site in site.yml (a) <= 3 at 20 sites"] == (3, True)
    assert found["module runs per site in the daily run (d) <= 1 at 20 sites"] == (1, True)


def test_each_target_of_issue_26_misses_one_past_its_limit():
    found = _issue_26(bench.summarise([_row(full=24.16, rerun=21.06, daily=7.86, ping=6.0, floor=16.0,
                                            modules=(4, 2), tasks=(9, 4))])[1])
    assert found == {
        "site.yml / same-count floor, (a)/(f) <= 1.5 at 20 sites": (1.51, False),
        "site.yml / ping, (a)/(c) <= 4 at 20 sites": (4.03, False),
        "re-run / ping, (b)/(c) <= 3.5 at 20 sites": (3.51, False),
        "daily run / ping, (d)/(c) <= 1.3 at 20 sites": (1.31, False),
        "module runs per site in site.yml (a) <= 3 at 20 sites": (4, False),
        "module runs per site in the daily run (d) <= 1 at 20 sites": (2, False),
        "tasks per site in site.yml (a), on the site with the most <= 8 at 20 sites": (9, False),
        "tasks per site in the daily run (d), on the site with the most <= 3 at 20 sites": (4, False),
    }


def test_a_figure_not_measured_is_a_miss_and_the_old_targets_stay():
    row = _row()
    row["runs"]["full"]["tasks_per_site"] = None
    slopes, targets = bench.summarise([row])
    assert slopes == []
    found = _issue_26(targets)
    assert found["tasks per site in site.yml (a), on the site with the most <= 8 at 20 sites"] == (None, False)
    assert [entry["target"] for entry in targets if entry["issue"] == 14] == ["(a) at most 4 module runs per site at 20 sites"]


def test_the_table_prints_the_floor_the_tasks_and_a_pass_or_miss_line_per_target(capsys):
    rows = [_row(full=24.06)]
    rows[0]["runs"]["floor"]["floor_tasks"] = 3
    for run in rows[0]["runs"].values():
        run.update(cpu_s=1.0, profile=[{"task": "eeszt.connect.proofs : Seal the proofs", "s": 1.25}])
    slopes, targets = bench.summarise(rows)
    bench.print_table(rows, slopes, targets)
    out = capsys.readouterr().out
    assert "20 sites: (f) runs 3 ping tasks per site; tasks per site (ok + skipped): (a) 8 on a typical site, " \
           "8 on site001; (d) 3 on a typical site, 3 on site001" in out
    assert "PASS site.yml / same-count floor, (a)/(f) <= 1.5 at 20 sites: 1.5" in out
    assert "MISS site.yml / ping, (a)/(c) <= 4 at 20 sites: 4.01" in out
    assert out.count("\nPASS ") + out.count("\nMISS ") == len(targets)
    # The profile of (a) and (d) at every size, not only at 50 sites.
    assert "costliest tasks of run full at 20 sites (ansible.posix.profile_tasks):\n     1.25 s  eeszt.connect.proofs : Seal" \
        in out
    assert "costliest tasks of run daily at 20 sites" in out
