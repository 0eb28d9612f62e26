# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/mutation.py (make mutation, issue 23): counting that cannot flatter, sampling, the interval, areas.

Synthetic results only: nothing here runs mutmut or a mutant.
"""

import os

import mutation
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mutant(outcome, line="x = 1", index=0, path="plugins/module_utils/common/der.py", number=1):
    return {"path": path, "line": line, "index": index, "line_number": number, "outcome": outcome}


def result(outcomes, total=None, seed=7, problems=(), area="primitives"):
    mutants = [mutant(outcome, number=number) for number, outcome in enumerate(outcomes, 1)]
    return {"area": area, "mutants": mutants, "total": len(mutants) if total is None else total, "seed": seed,
            "problems": list(problems), "tests": ["tests/unit/plugins/module_utils/common/test_der.py"],
            "date": "2026-12-08", "command": "python tests/tools/mutation.py --area %s" % area}


# --- what one test run of a mutant counts as ----------------------------------------------------------------------

@pytest.mark.parametrize("code, output, outcome", [
    (1, "F\n1 failed, 12 passed in 3.21s\n", mutation.KILLED),
    (1, "E\n1 error, 3 passed in 0.50s\n", mutation.KILLED),
    (2, "ERROR collecting tests/unit/test_x.py\nInterrupted: 1 error during collection\n1 error in 0.40s\n",
     mutation.KILLED),
    (0, "13 passed in 3.00s\n", mutation.SURVIVED),
    (0, "13 skipped in 0.10s\n", mutation.SKIPPED),
    (5, "no tests ran in 0.01s\n", mutation.NO_TESTS),
    (1, "Traceback (most recent call last):\nImportError: no pytest\n", mutation.CRASHED),
    (2, "!!! KeyboardInterrupt !!!\n3 passed in 1.00s\n", mutation.CRASHED),
    (3, "INTERNALERROR> boom\n", mutation.CRASHED),
    (4, "ERROR: file or directory not found: tests/unit/gone.py\n", mutation.CRASHED),
    (-9, "", mutation.CRASHED),
])
def test_only_a_failing_test_kills(code, output, outcome):
    assert mutation.classify(code, output, seconds=1.0, suspicious_after=10.0) == outcome


def test_a_timeout_is_a_timeout_whatever_pytest_said():
    assert mutation.classify(1, "1 failed in 3.00s\n", 99.0, timed_out=True, suspicious_after=10.0) == mutation.TIMEOUT
    assert mutation.classify(None, "", 99.0, timed_out=True) == mutation.TIMEOUT


def test_a_kill_slower_than_the_bound_is_suspicious_and_at_the_bound_killed():
    assert mutation.classify(1, "1 failed in 10.00s\n", 10.0, suspicious_after=10.0) == mutation.KILLED
    assert mutation.classify(1, "1 failed in 10.01s\n", 10.01, suspicious_after=10.0) == mutation.SUSPICIOUS


def test_pytest_counts_read_the_last_summary_line_only():
    output = "3 passed in 1.0s (an earlier line)\n...\n2 failed, 1 passed, 1 skipped, 2 errors in 4.2s\n"
    assert mutation.pytest_counts(output) == {"failed": 2, "passed": 1, "skipped": 1, "error": 2}
    assert mutation.pytest_counts("no summary at all\n") == {}


# --- counting -------------------------------------------------------------------------------------------------------

def test_every_outcome_has_its_own_column_and_only_killed_counts_as_killed():
    outcomes = [mutation.KILLED] * 8 + [mutation.TIMEOUT, mutation.SUSPICIOUS, mutation.NO_TESTS, mutation.SKIPPED,
                                        mutation.CRASHED, mutation.SURVIVED, mutation.EQUIVALENT]
    summary = mutation.summarise(result(outcomes))
    assert summary["counts"] == {"killed": 8, "survived": 1, "equivalent": 1, "timeout": 1, "suspicious": 1,
                                 "skipped": 1, "no-tests": 1, "crashed": 1, "untested": 0}
    assert summary["complete"] and summary["n"] == 15
    # 8 of the 14 that are not equivalent: timeouts, crashes and the rest count against the score.
    assert summary["score"] == pytest.approx(8 / 14.0)
    assert summary["interval"] == pytest.approx(mutation.wilson(8, 14))


def test_a_mutant_without_an_outcome_is_untested_and_makes_the_run_incomplete():
    data = result([mutation.KILLED] * 9)
    data["mutants"].append(mutant(None, number=10))
    summary = mutation.summarise(data)
    assert summary["counts"]["untested"] == 1 and summary["counts"]["killed"] == 9
    assert not summary["complete"] and summary["score"] is None and summary["interval"] is None
    text = mutation.score_text(data)
    assert text.startswith("incomplete (1 of 10 sampled mutants not run)") and "%" not in text


@pytest.mark.parametrize("problem", ["interrupted", "the run crashed: OSError: disk full",
                                     "the tests fail without any mutant (exit 1):\n1 failed in 1s"])
def test_an_interrupted_or_crashed_run_prints_incomplete_and_no_score(problem):
    data = result([mutation.KILLED] * 300, problems=[problem])
    assert mutation.summarise(data)["score"] is None
    assert mutation.score_text(data).startswith("incomplete (%s" % problem)
    assert "%" not in mutation.score_text(data)
    row = mutation.markdown_row(data)
    assert "| incomplete |" in row and "%" not in row


def test_no_mutant_run_is_incomplete():
    assert mutation.score_text(result([])).startswith("incomplete (no mutant ran)")


def test_the_score_line_names_seed_n_killed_and_interval_of_a_sample():
    data = result([mutation.KILLED] * 270 + [mutation.SURVIVED] * 30, total=1000, seed=4242)
    low, high = mutation.wilson(270, 300)
    assert mutation.score_text(data) == (
        "90.0%% killed (270 of 300, 95%% interval %.1f-%.1f%%; seeded sample (seed 4242) of n=300 of 1000 mutants)"
        % (100 * low, 100 * high))


def test_all_mutants_of_a_small_area_are_no_sample_and_no_trial():
    data = result([mutation.KILLED] * 40, total=40)
    assert mutation.score_text(data).startswith("100.0% killed (40 of 40, 95% interval ")
    assert mutation.score_text(data).endswith("; all 40 mutants)")


def test_a_sample_below_300_is_a_trial_and_300_is_not():
    assert mutation.summarise(result([mutation.KILLED] * 299, total=1000))["trial"]
    assert not mutation.summarise(result([mutation.KILLED] * 300, total=1000))["trial"]
    assert "a trial" in mutation.score_text(result([mutation.KILLED] * 40, total=1000))
    assert mutation.markdown_row(result([mutation.KILLED] * 40, total=1000)).count(" trial |") == 1
    partial = result([mutation.KILLED], total=1)
    partial["partial"] = True  # --mutant PATH:LINE
    assert mutation.summarise(partial)["trial"]


# --- the 95% interval -----------------------------------------------------------------------------------------------

def test_wilson_interval_known_values():
    # Published values: 5 of 10 -> 0.2366-0.7634; at the edges the closed forms n/(n+z^2) and z^2/(n+z^2).
    assert mutation.wilson(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert mutation.wilson(0, 10) == pytest.approx((0.0, 1.959964 ** 2 / (10 + 1.959964 ** 2)))
    assert mutation.wilson(10, 10) == pytest.approx((10 / (10 + 1.959964 ** 2), 1.0))
    assert mutation.wilson(0, 0) is None


def test_wilson_interval_holds_the_share_and_narrows_with_n():
    previous = 1.0
    for trials in (10, 100, 300, 3000):
        low, high = mutation.wilson(trials * 9 // 10, trials)
        assert low < 0.9 < high
        assert high - low < previous
        previous = high - low
    low, high = mutation.wilson(270, 300)
    assert (low, high) == pytest.approx((0.8608, 0.9291), abs=1e-4)  # by hand: (0.9064 -+ 0.0345) / 1.0128


# --- sampling -------------------------------------------------------------------------------------------------------

def many(count):
    return [{"path": "p.py", "line": "x = %d" % n, "index": 0, "line_number": n} for n in range(1, count + 1)]


def test_a_sample_is_exactly_max_seeded_and_repeatable():
    first = mutation.choose(many(1000), 300, seed=11)
    assert len(first) == 300 and len(set(m["line_number"] for m in first)) == 300
    assert first == mutation.choose(many(1000), 300, seed=11)
    assert first != mutation.choose(many(1000), 300, seed=12)
    assert [m["line_number"] for m in first] == sorted(m["line_number"] for m in first)


def test_at_most_max_mutants_all_run():
    assert mutation.choose(many(300), 300, seed=1) == many(300)
    assert len(mutation.choose(many(301), 300, seed=1)) == 300


# --- areas ----------------------------------------------------------------------------------------------------------

def test_every_area_has_files_and_tests_today():
    for name in mutation.AREAS:
        files = mutation.area_files(name)
        assert files and all(path.endswith(".py") for path in files), name
        assert mutation.area_tests(name, files), name
    assert mutation.area_files("primitives") == ["plugins/module_utils/common/%s.py" % name for name in (
        "der", "errors", "files", "identifiers", "paths", "process")]


def test_an_area_that_matches_no_file_fails_with_a_clear_message(tmp_path, monkeypatch):
    monkeypatch.setitem(mutation.AREAS, "gone", {"about": "renamed away", "files": ["plugins/nowhere/*.py"]})
    with pytest.raises(mutation.AreaError) as caught:
        mutation.area_files("gone", root=str(tmp_path))
    assert str(caught.value) == ("area gone: no file matches plugins/nowhere/*.py (renamed? update AREAS in "
                                 "tests/tools/mutation.py)")
    with pytest.raises(mutation.AreaError, match="unknown area 'nope'"):
        mutation.area_files("nope")
    assert mutation.main(["--area", "gone", "--list"]) == 2


def test_an_area_without_tests_fails(tmp_path, monkeypatch):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "lonely.py").write_text("x = 1\n")
    monkeypatch.setitem(mutation.AREAS, "lonely", {"about": "untested", "files": ["plugins/*.py"]})
    files = mutation.area_files("lonely", root=str(tmp_path))
    with pytest.raises(mutation.AreaError, match="area lonely: no unit test imports any of its files"):
        mutation.area_tests("lonely", files, root=str(tmp_path))


def test_tests_are_found_by_what_they_import_at_any_path(tmp_path, monkeypatch):
    tests = tmp_path / "tests" / "unit"
    (tests / "plugins" / "module_utils" / "common").mkdir(parents=True)
    (tests / "fuzz").mkdir()
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "thing.py").write_text("x = 1\n")
    (tests / "test_old_place.py").write_text("from ansible_collections.eeszt.connect.plugins import thing\n")
    (tests / "plugins" / "module_utils" / "common" / "test_thing.py").write_text(
        "from ansible_collections.eeszt.connect.plugins.thing import x\n")
    (tests / "fuzz" / "test_fuzz_thing.py").write_text("import ansible_collections.eeszt.connect.plugins.thing\n")
    (tests / "test_other.py").write_text("from ansible_collections.eeszt.connect.plugins import other\n")
    monkeypatch.setitem(mutation.AREAS, "thing", {"about": "t", "files": ["plugins/*.py"]})
    assert mutation.area_tests("thing", ["plugins/thing.py"], root=str(tmp_path)) == [
        "tests/unit/plugins/module_utils/common/test_thing.py", "tests/unit/test_old_place.py",
        "tests/unit/fuzz/test_fuzz_thing.py"]  # the slow fuzz tests last


def test_imports_and_actions_run_by_name_are_read():
    source = ("import os\nfrom action_runner import run_action\n"
              "from ansible_collections.eeszt.connect.plugins.module_utils.common import der\n"
              "run_action('proofs_verify', {})\n"
              "TEXT = \"run_action('lab_waf', {})\"\n")
    names = mutation.imported_modules(source)
    assert mutation.module_name("plugins/module_utils/common/der.py") in names
    assert mutation.module_name("plugins/action/proofs_verify.py") in names
    assert mutation.module_name("plugins/action/lab_waf.py") not in names  # a call, not a string that shows one
    assert mutation.module_name("plugins/module_utils/common/files.py") not in names


# --- equivalent mutants and the table -------------------------------------------------------------------------------

DOC = """text
<!-- mutation-equivalent: begin -->
| area | file | line | mutant | reason |
| --- | --- | --- | --- | --- |
| primitives | `plugins/module_utils/common/der.py` | `x = a \\| b` | 1 | the same bits either way |
<!-- mutation-equivalent: end -->
"""


def test_equivalents_are_read_from_the_docs_table():
    assert mutation.equivalents(DOC) == {
        ("primitives", "plugins/module_utils/common/der.py", "x = a | b", 1): "the same bits either way"}
    with pytest.raises(ValueError, match="needs a mutant number and a reason"):
        mutation.equivalents(DOC.replace("| 1 |", "| one |"))


def test_the_docs_list_of_equivalents_parses():
    with open(os.path.join(ROOT, "docs", "architecture.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert "<!-- mutation-equivalent: begin -->" in text
    for (area, path, line, number) in mutation.equivalents(text):
        assert area in mutation.AREAS and os.path.exists(os.path.join(ROOT, path)) and line and number >= 0


def test_only_a_listed_survivor_becomes_equivalent_and_a_listed_kill_is_a_warning():
    data = result([mutation.SURVIVED, mutation.KILLED, mutation.SURVIVED])
    data["mutants"][0]["line"] = data["mutants"][1]["line"] = "x = a | b"
    data["mutants"][0]["index"] = data["mutants"][1]["index"] = 1
    mutation.apply_equivalents(data, mutation.equivalents(DOC))
    assert [m["outcome"] for m in data["mutants"]] == [mutation.EQUIVALENT, mutation.KILLED, mutation.SURVIVED]
    assert data["mutants"][0]["reason"] == "the same bits either way"
    assert data["warnings"] == ["plugins/module_utils/common/der.py:2 #1 is listed as equivalent but was killed: "
                                "remove it from the list"]


def test_the_markdown_table_has_the_columns_of_the_docs():
    data = result([mutation.KILLED] * 297 + [mutation.TIMEOUT, mutation.SURVIVED, mutation.EQUIVALENT, mutation.CRASHED],
                  total=900, seed=5)
    table = mutation.markdown([data]).splitlines()
    assert table[0] == ("| area | mutants | killed | timeouts | survived | equivalent | other | score (95% interval) | "
                        "tests its mutants run | date | command |")
    low, high = mutation.wilson(297, 300)
    assert table[2] == ("| primitives | 301 of 900 | 297 | 1 | 1 | 1 | 1 crashed | %.1f%% (%.1f-%.1f) | test_der.py | "
                        "2026-12-08 | `python tests/tools/mutation.py --area primitives` |"
                        % (100 * 297 / 300.0, 100 * low, 100 * high))
