# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make mutation: mutation testing of the core primitives with mutmut (not part of make test).

The tracked files are copied to .cache/mutation/ansible_collections/eeszt/connect (mutmut edits the files it
mutates in place; the checkout is never touched). For each group of core files, mutmut runs the unit tests that
pin those files' promises against every mutant; a mutant the tests do not fail "survived". Prints the score
per group and overall (killed / (killed + survived); mutants that time out count as killed, as mutmut does) and
writes .cache/mutation/report.json. MUTATION_GROUPS=name,name limits the groups.
"""

import json
import os
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, ".cache", "mutation")
TREE = os.path.join(WORK, "ansible_collections", "eeszt", "connect")
UNIT = "tests/unit/plugins"
# group: (files to mutate, the tests that pin them)
GROUPS = {
    "common": (["plugins/module_utils/common/files.py", "plugins/module_utils/common/der.py",
                "plugins/module_utils/common/identifiers.py", "plugins/module_utils/common/process.py",
                "plugins/module_utils/common/errors.py"],
               [UNIT + "/module_utils/common"]),
}


def copy_tree():
    shutil.rmtree(WORK, ignore_errors=True)
    files = subprocess.check_output(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                                    cwd=ROOT).decode().split("\0")
    for name in filter(None, files):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source) and not os.path.islink(source):
            target = os.path.join(TREE, name)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.copy2(source, target)


def run_group(name, paths, tests):
    cache = os.path.join(TREE, ".mutmut-cache")
    if os.path.exists(cache):
        os.unlink(cache)
    runner = "%s -m pytest -x -q -p no:cacheprovider -c tests/pytest.ini %s" % (sys.executable, " ".join(tests))
    env = dict(os.environ, PYTHONPATH=WORK + os.pathsep + os.path.join(TREE, "tests", "tools"))
    started = time.monotonic()
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "mutmut"), "run", "--paths-to-mutate",
                    ",".join(paths), "--runner", runner, "--tests-dir", "tests/unit", "--no-progress"],
                   cwd=TREE, env=env, check=False)
    junit = subprocess.run([os.path.join(os.path.dirname(sys.executable), "mutmut"), "junitxml"], cwd=TREE,
                           env=env, check=False, stdout=subprocess.PIPE, universal_newlines=True).stdout
    total = junit.count("<testcase ")
    survived = junit.count("<failure ")
    skipped = junit.count("<skipped")
    survivors = subprocess.run([os.path.join(os.path.dirname(sys.executable), "mutmut"), "results"], cwd=TREE,
                               env=env, check=False, stdout=subprocess.PIPE, universal_newlines=True).stdout
    return {"group": name, "files": paths, "tests": tests, "mutants": total - skipped, "survived": survived,
            "killed": total - skipped - survived, "seconds": round(time.monotonic() - started),
            "survivors": survivors.strip()}


def main():
    wanted = [g for g in os.environ.get("MUTATION_GROUPS", "").split(",") if g] or list(GROUPS)
    copy_tree()
    # The tests import the collection from this copy.
    results = [run_group(name, *GROUPS[name]) for name in wanted]
    killed = sum(r["killed"] for r in results)
    mutants = sum(r["mutants"] for r in results)
    for result in results:
        score = 100.0 * result["killed"] / result["mutants"] if result["mutants"] else 0.0
        print("mutation %-8s %4d mutants, %4d killed, %3d survived: %.1f%% (%d s)" % (
            result["group"], result["mutants"], result["killed"], result["survived"], score, result["seconds"]))
    score = 100.0 * killed / mutants if mutants else 0.0
    print("mutation score: %.1f%% (%d of %d mutants killed)" % (score, killed, mutants))
    with open(os.path.join(WORK, "report.json"), "w") as handle:
        json.dump({"score": round(score, 1), "groups": results}, handle, indent=2)
    return 0 if mutants else 1


if __name__ == "__main__":
    sys.exit(main())
