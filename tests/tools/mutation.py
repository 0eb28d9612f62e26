# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""make mutation [AREA=name]: mutation testing of the code that carries the collection's promises, by area
(issue 23; not part of make test).

An area is a list of source files given by path globs (``AREAS``), optionally narrowed to the lines that match
a pattern (``secrets``). Its tests are the unit test files that import one of its files (found by reading their
imports, so they are found at their old and at their mirrored paths alike) plus the area's own test globs.

The tracked files are copied to .cache/mutation/ansible_collections/eeszt/connect; the checkout is never
touched. mutmut (requirements-mutation.txt) only makes the mutants; this script runs them itself, one at a time:
it writes one mutant into the copy, runs the area's tests against it (pytest -x, in their own process group,
with a timeout) and puts the file back. Each mutant gets exactly one outcome:

killed      pytest reported a failed or erroring test (exit 1, or exit 2 for a test module that no longer imports)
survived    every selected test passed
timeout     the tests ran past the timeout (a multiple of the area's baseline)
suspicious  a test failed, but only after much longer than the baseline (as mutmut counts it)
skipped     pytest passed without running a test (all skipped)
no-tests    pytest collected no test (exit 5)
crashed     anything else (pytest internal or usage error, a signal, an interrupted pytest)
equivalent  survived, and listed in docs/architecture.md as changing no behaviour (with the reason)
untested    sampled but not run (the run was interrupted): the area's run is then incomplete

Only "killed" counts as killed. The score is killed / (mutants run - equivalent): every other outcome counts
against it. A run that is interrupted, whose driver crashes, or whose tests fail without any mutant prints
"incomplete" and no score. When an area has more mutants than --max (default 300, the least issue 23 accepts),
a seeded random sample of --max is run and the seed, n, killed and the 95% Wilson interval are printed with the
score; a sample below 300 is a trial, never a measurement.

Results: .cache/mutation-results/<area>.json (every mutant and its outcome); ``--table`` prints the markdown
table of docs/architecture.md from the stored results of every area.
"""

from __future__ import print_function

import argparse
import ast
import datetime
import functools
import glob
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, ".cache", "mutation")
TREE = os.path.join(WORK, "ansible_collections", "eeszt", "connect")
RESULTS = os.path.join(ROOT, ".cache", "mutation-results")
PACKAGE = "ansible_collections.eeszt.connect"
ARCHITECTURE = os.path.join("docs", "architecture.md")
MIN_SAMPLE = 300  # issue 23: at least 300 mutants per area
Z95 = 1.959963984540054  # the normal quantile of a two-sided 95% interval

MU = "plugins/module_utils/"
PU = "plugins/plugin_utils/"
ACTION = "plugins/action/"
# The areas of issue 23. files/exclude: path globs (relative to the repository, ** allowed) that outlive renames
# within a directory; lines: only the mutants on lines matching this pattern; tests: test globs added to the
# importers of the area's files; tests_matching: only the importers whose text matches this pattern.
AREAS = {
    "pki": {
        "about": "PKCS#12 loading, certificate validation (dates, min_days, key match, EKU, chain), institution matching",
        "files": [PU + "pki/*.py", MU + "pki/x509.py", ACTION + "waf_certificate.py", ACTION + "waf_certificate_open.py",
                  ACTION + "ca_bundle.py"],
        "exclude": [PU + "pki/seal.py"],
    },
    "site-store": {
        "about": "the site's certificate set, the atomic switch, backups, rollback, locking",
        "files": [MU + "pki/cert_*.py", MU + "pki/deploy.py", MU + "common/locks.py"],
    },
    "check": {
        "about": "the probe steps and the failure classifier, hints, proof writing, the clock comparison",
        "files": [MU + "check/*.py", PU + "common/clock.py", ACTION + "connection_check.py", ACTION + "tls_clock_skew.py"],
    },
    "archive": {
        "about": "accepting, sealing, merging proofs and operator files (with the untrusted-site checks)",
        "files": [PU + "proofs/*.py", PU + "pki/seal.py", MU + "proofs/*.py", ACTION + "proofs_archive.py"],
        "exclude": [PU + "proofs/verify*.py"],
    },
    "verify": {
        "about": "verify_proofs' checks",
        "files": [PU + "proofs/verify*.py", ACTION + "proofs_verify.py"],
    },
    "report": {
        "about": "the index (latest, stale, status, reasons), CSV/JUnit/HTML/metrics writers, incidents",
        "files": [PU + "report/*.py", PU + "common/results.py", MU + "common/safe_text.py", ACTION + "proofs_report.py"],
    },
    "inventory": {
        "about": "the registry parser and the preflight rules",
        "files": [PU + "inventory/*.py", PU + "preflight/*.py", PU + "common/controller_files.py",
                  PU + "common/variables.py", ACTION + "site_preflight.py", ACTION + "fleet_preflight.py"],
    },
    "secrets": {
        "about": "every no_log option and every line that handles a password, a secret or a private key",
        "files": [MU + "**/*.py", PU + "pki/*.py", PU + "proofs/*.py", PU + "report/*.py", PU + "inventory/*.py",
                  PU + "preflight/*.py", PU + "common/*.py", ACTION + "*.py"],
        "lines": r"no_log|passw|passphrase|secret|private_key|PRIVATE KEY",
        "tests_matching": r"no_log|passw|secret|\*{8}|PRIVATE KEY",
    },
    "primitives": {
        "about": "the shared primitives: DER, file writes, process liveness, identifiers, errors, site paths",
        "files": [MU + "common/der.py", MU + "common/files.py", MU + "common/process.py", MU + "common/identifiers.py",
                  MU + "common/errors.py", MU + "common/paths.py"],
    },
}
# The pool the areas are drawn from (--list names what no area holds).
SCOPE = [MU + "**/*.py", PU + "pki/*.py", PU + "proofs/*.py", PU + "report/*.py", PU + "inventory/*.py",
         PU + "preflight/*.py", PU + "common/*.py", ACTION + "*.py"]
UNIT_TESTS = "tests/unit/**/test_*.py"
SLOW_TESTS = "tests/unit/fuzz/"  # run last: with -x the quick tests kill most mutants first

KILLED, SURVIVED, TIMEOUT, SUSPICIOUS = "killed", "survived", "timeout", "suspicious"
SKIPPED, NO_TESTS, CRASHED, EQUIVALENT, UNTESTED = "skipped", "no-tests", "crashed", "equivalent", "untested"
OUTCOMES = (KILLED, SURVIVED, EQUIVALENT, TIMEOUT, SUSPICIOUS, SKIPPED, NO_TESTS, CRASHED, UNTESTED)
_SUMMARY = re.compile(r"(\d+) (failed|passed|skipped|errors?|xfailed|xpassed|deselected)\b")
_COLLECTION_ERROR = re.compile(r"^Interrupted: \d+ errors? during collection", re.M)


class AreaError(Exception):
    """An area that cannot run: no file or no test matches, or an unknown name."""


class Interrupted(Exception):
    """SIGINT or SIGTERM during a run."""


# --- areas -----------------------------------------------------------------------------------------------------

def expand(patterns, root=ROOT):
    """The files (relative paths, sorted) that the globs match under ``root``; __init__.py files left out."""
    found = set()
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern), recursive=True):
            if os.path.isfile(path) and os.path.basename(path) != "__init__.py":
                found.add(os.path.relpath(path, root).replace(os.sep, "/"))
    return sorted(found)


def area_files(name, root=ROOT):
    """The source files of area ``name``; AreaError when it has none (its globs no longer match the code)."""
    if name not in AREAS:
        raise AreaError("unknown area %r: the areas are %s" % (name, ", ".join(AREAS)))
    spec = AREAS[name]
    files = sorted(set(expand(spec["files"], root)) - set(expand(spec.get("exclude", ()), root)))
    if not files:
        raise AreaError("area %s: no file matches %s (renamed? update AREAS in tests/tools/mutation.py)"
                        % (name, " ".join(spec["files"])))
    return files


def module_name(path):
    """plugins/module_utils/common/der.py -> ansible_collections.eeszt.connect.plugins.module_utils.common.der"""
    return PACKAGE + "." + path[:-len(".py")].replace("/", ".")


def imported_modules(source):
    """The collection modules a test file imports, read from its import statements and ``run_action("name")``."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(node.module + "." + alias.name for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "run_action"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(PACKAGE + ".plugins.action." + node.args[0].value)
    return names


@functools.lru_cache(maxsize=None)
def _read_test(path):
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    return source, frozenset(imported_modules(source))


def area_tests(name, files, root=ROOT):
    """The unit test files that area ``name``'s mutants run (quick ones first); AreaError when there are none."""
    spec = AREAS[name]
    wanted = set(module_name(path) for path in files)
    matching = re.compile(spec["tests_matching"]) if spec.get("tests_matching") else None
    tests = set(expand(spec.get("tests", ()), root))
    for path in expand([UNIT_TESTS], root):
        source, names = _read_test(os.path.join(root, path))
        if names & wanted and (matching is None or matching.search(source)):
            tests.add(path)
    tests -= set(expand(spec.get("exclude_tests", ()), root))
    if not tests:
        raise AreaError("area %s: no unit test imports any of its files" % name)
    # The tests beside the files' mirrored paths first, the fuzz tests last: with -x most mutants die early.
    near = tuple(set("tests/unit/" + os.path.dirname(path) + "/" for path in files))
    return sorted(tests, key=lambda path: (path.startswith(SLOW_TESTS), not path.startswith(near), path))


# --- mutants ---------------------------------------------------------------------------------------------------

def list_mutants(path, source, lines=None):
    """The mutants mutmut makes in ``source`` (``# pragma: no mutate`` lines have none), as plain dicts."""
    import mutmut  # pylint: disable=import-outside-toplevel  # only make mutation installs it

    context = mutmut.Context(source=source, filename=path, dict_synonyms=[])
    found = mutmut.list_mutations(context)
    pattern = re.compile(lines) if lines else None
    return [{"path": path, "line": mutant.line, "index": mutant.index, "line_number": mutant.line_number + 1}
            for mutant in found if pattern is None or pattern.search(mutant.line)]


def mutate(source, mutant):
    """``source`` with ``mutant`` applied, and the mutated line; ValueError unless exactly one mutation was made."""
    import mutmut  # pylint: disable=import-outside-toplevel

    ident = mutmut.RelativeMutationID(line=mutant["line"], index=mutant["index"],
                                      line_number=mutant["line_number"] - 1)
    context = mutmut.Context(source=source, filename=mutant["path"], mutation_id=ident, dict_synonyms=[])
    mutated, performed = mutmut.mutate(context)
    if performed != 1 or mutated == source:
        raise ValueError("mutmut made %d mutations for %s:%d #%d" % (performed, mutant["path"], mutant["line_number"],
                                                                     mutant["index"]))
    after = mutated.splitlines()
    before = source.splitlines()
    changed = [new for old, new in zip(before, after) if old != new]
    return mutated, (changed[0].strip() if changed else "(line removed)")


def choose(mutants, limit, seed):
    """All mutants when there are at most ``limit``, else a random sample of ``limit`` drawn with ``seed``."""
    ordered = sorted(mutants, key=lambda m: (m["path"], m["line_number"], m["index"]))
    if len(ordered) <= limit:
        return ordered
    picked = random.Random(seed).sample(ordered, limit)
    return sorted(picked, key=lambda m: (m["path"], m["line_number"], m["index"]))


# --- counting --------------------------------------------------------------------------------------------------

def pytest_counts(output):
    """The counts of pytest's last summary line ("1 failed, 12 passed in 3.2s"), e.g. {"failed": 1, "passed": 12}."""
    counts = {}
    for line in reversed(output.splitlines()):
        if re.search(r"\bin \d+(\.\d+)?s\b", line):
            for number, word in _SUMMARY.findall(line):
                counts["error" if word.startswith("error") else word] = int(number)
            break
    return counts


def classify(returncode, output, seconds, timed_out=False, suspicious_after=None):
    """The one outcome of a mutant's test run (see the module docstring)."""
    if timed_out:
        return TIMEOUT
    counts = pytest_counts(output)
    failing = counts.get("failed", 0) + counts.get("error", 0)
    if returncode == 1 and failing:
        return SUSPICIOUS if suspicious_after is not None and seconds > suspicious_after else KILLED
    if returncode == 2 and _COLLECTION_ERROR.search(output):
        return KILLED  # a test module no longer imports: its tests fail against the mutant
    if returncode == 0:
        return SURVIVED if counts.get("passed", 0) else SKIPPED
    if returncode == 5:
        return NO_TESTS
    return CRASHED


def wilson(successes, trials, z=Z95):
    """The Wilson score interval (low, high) of a proportion; None for no trials."""
    if trials <= 0:
        return None
    share = float(successes) / trials
    centre = share + z * z / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z * z / (4.0 * trials * trials))
    scale = 1 + z * z / trials
    return (max(0.0, (centre - spread) / scale), min(1.0, (centre + spread) / scale))


def summarise(result):
    """Counts, completeness and score of one area's ``result`` (its "mutants" hold each outcome)."""
    counts = dict((outcome, 0) for outcome in OUTCOMES)
    for mutant in result["mutants"]:
        counts[mutant.get("outcome") or UNTESTED] += 1
    run = len(result["mutants"])
    problems = list(result.get("problems", ()))
    if counts[UNTESTED]:
        problems.append("%d of %d sampled mutants not run" % (counts[UNTESTED], run))
    if not run:
        problems.append("no mutant ran")
    summary = {"counts": counts, "n": run, "complete": not problems, "problems": problems,
               "trial": bool(result.get("partial")) or run < min(MIN_SAMPLE, result["total"]), "score": None, "interval": None}
    judged = run - counts[EQUIVALENT]
    if summary["complete"] and judged > 0:
        summary["score"] = float(counts[KILLED]) / judged
        summary["interval"] = wilson(counts[KILLED], judged)
    return summary


def score_text(result):
    """The score as printed: "incomplete (why)", or the share killed with its interval and the sample."""
    summary = summarise(result)
    if not summary["complete"]:
        return "incomplete (%s): no score" % "; ".join(summary["problems"])
    if summary["score"] is None:
        return "no score: every mutant run is listed as equivalent"
    low, high = summary["interval"]  # pylint: disable=unpacking-non-sequence  # set with the score, just above
    sampled = "all %d mutants" % result["total"] if summary["n"] == result["total"] else \
        "seeded sample (seed %d) of n=%d of %d mutants" % (result["seed"], summary["n"], result["total"])
    text = "%.1f%% killed (%d of %d, 95%% interval %.1f-%.1f%%; %s)" % (
        100 * summary["score"], summary["counts"][KILLED], summary["n"] - summary["counts"][EQUIVALENT],
        100 * low, 100 * high, sampled)
    if summary["trial"]:
        text += " - a trial (fewer than %d mutants or a chosen line), not a measurement" % MIN_SAMPLE
    return text


def counts_text(result):
    counts = summarise(result)["counts"]
    return ", ".join("%d %s" % (counts[outcome], outcome) for outcome in OUTCOMES if counts[outcome] or outcome in (
        KILLED, SURVIVED, TIMEOUT))


TABLE_HEAD = ("| area | mutants | killed | timeouts | survived | equivalent | other | score (95% interval) | "
              "tests its mutants run | date | command |\n"
              "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- | --- | --- |")


def markdown_row(result):
    """One row of the table of docs/architecture.md for an area's result."""
    summary = summarise(result)
    counts = summary["counts"]
    mutants = str(summary["n"]) if summary["n"] == result["total"] else "%d of %d" % (summary["n"], result["total"])
    other = ", ".join("%d %s" % (counts[o], o) for o in (SUSPICIOUS, SKIPPED, NO_TESTS, CRASHED, UNTESTED)
                      if counts[o]) or "-"
    if not summary["complete"]:
        score = "incomplete"
    elif summary["score"] is None:
        score = "-"
    else:
        score = "%.1f%% (%.1f-%.1f)" % (100 * summary["score"], 100 * summary["interval"][0],
                                        100 * summary["interval"][1])
        if summary["trial"]:
            score += " trial"
    tests = ", ".join(os.path.basename(path) for path in result["tests"])
    return "| %s | %s | %d | %d | %d | %d | %s | %s | %s | %s | `%s` |" % (
        result["area"], mutants, counts[KILLED], counts[TIMEOUT], counts[SURVIVED], counts[EQUIVALENT], other, score,
        tests, result["date"], result["command"])


def markdown(results):
    return "\n".join([TABLE_HEAD] + [markdown_row(result) for result in results])


# --- equivalent mutants ------------------------------------------------------------------------------------------

def _cells(row):
    cells = [cell.strip().replace("\\|", "|") for cell in re.split(r"(?<!\\)\|", row.strip())[1:-1]]
    return [cell[1:-1] if len(cell) > 1 and cell.startswith("`") and cell.endswith("`") else cell for cell in cells]


def equivalents(text):
    """The equivalent mutants listed in docs/architecture.md between the mutation-equivalent markers: a dict
    (path, source line, mutant number on that line) -> reason."""
    block = re.search(r"<!-- mutation-equivalent: begin -->\n(.*?)<!-- mutation-equivalent: end -->", text, re.S)
    listed = {}
    for row in (block.group(1).splitlines() if block else ()):
        cells = _cells(row)
        if len(cells) != 5 or cells[0] in ("area", "") or set(cells[0]) <= set("-: "):
            continue
        area, path, line, number, reason = cells
        if not number.isdigit() or not reason:
            raise ValueError("docs/architecture.md, equivalent mutants: row %r needs a mutant number and a reason"
                             % row)
        listed[(area, path, line.strip(), int(number))] = reason
    return listed


def apply_equivalents(result, listed):
    """Survivors listed as equivalent become "equivalent"; a listed mutant that was killed is a problem."""
    for mutant in result["mutants"]:
        key = (result["area"], mutant["path"], mutant["line"].strip(), mutant["index"])
        if key in listed:
            if mutant.get("outcome") == SURVIVED:
                mutant["outcome"] = EQUIVALENT
                mutant["reason"] = listed[key]
            elif mutant.get("outcome") in (KILLED, SUSPICIOUS):
                result.setdefault("warnings", []).append(
                    "%s:%d #%d is listed as equivalent but was %s: remove it from the list" % (
                        mutant["path"], mutant["line_number"], mutant["index"], mutant["outcome"]))


# --- running -----------------------------------------------------------------------------------------------------

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
    # The copy's own .cache/collections link (make setup makes the checkout's): tests that start a module in a
    # new process find the collection through it, so they run the mutant too.
    link = os.path.join(TREE, ".cache", "collections", "ansible_collections", "eeszt", "connect")
    os.makedirs(os.path.dirname(link))
    os.symlink(TREE, link)


def test_env():
    """The environment of every test run: the copy, never the checkout, is the collection eeszt.connect."""
    env = dict(os.environ, PYTHONPATH=WORK, PYTHONDONTWRITEBYTECODE="1", ANSIBLE_COLLECTIONS_PATH=WORK,
               ANSIBLE_CONFIG=os.path.join(TREE, "ansible.cfg"), EESZT_LAB_DIR=os.path.join(WORK, "lab"))
    env.pop("EESZT_FUZZ_EXAMPLES", None)  # the fuzz tests' short, derandomized profile
    return env


def _end_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the tests' own children go too
    except OSError:
        pass


def run_tests(tests, timeout):
    """(exit code, output, seconds, timed out) of pytest -x over ``tests`` in the copy."""
    argv = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-c", "tests/pytest.ini"] + list(tests)
    started = time.monotonic()
    proc = subprocess.Popen(argv, cwd=TREE, env=test_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    timed_out = False
    try:
        output = proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        timed_out = True
        _end_group(proc)
        output = proc.communicate()[0]
    except BaseException:
        _end_group(proc)
        proc.wait()
        raise
    _end_group(proc)
    return proc.returncode, output.decode("utf-8", "replace"), time.monotonic() - started, timed_out


def check_copy_is_imported(path):
    """The tests must import the copy: a module of the area, imported as the tests do, lives in TREE."""
    code = "import %s as m; print(m.__file__)" % module_name(path)
    where = subprocess.run([sys.executable, "-c", code], cwd=TREE, env=test_env(), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, check=False, universal_newlines=True).stdout.strip()
    if os.path.realpath(where) != os.path.realpath(os.path.join(TREE, path)):
        return "the tests would import %s from %r, not from the copy" % (path, where)
    return None


def run_area(name, limit, seed, command, mutant_filter=None, log=print):
    """Run area ``name``; its result dict (complete or not) is returned and saved under RESULTS."""
    files = area_files(name)
    tests = area_tests(name, files)
    result = {"area": name, "about": AREAS[name]["about"], "files": files, "tests": tests, "seed": seed,
              "limit": limit, "command": command, "problems": [], "mutants": [], "total": 0,
              "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
              "partial": mutant_filter is not None}
    log("mutation %s: %d files, %d test files: %s" % (name, len(files), len(tests), " ".join(tests)))
    started = time.monotonic()
    sources = {}
    try:
        everything = []
        for path in files:
            with open(os.path.join(TREE, path), encoding="utf-8") as handle:
                sources[path] = handle.read()
            everything += list_mutants(path, sources[path], AREAS[name].get("lines"))
        if mutant_filter:
            everything = [m for m in everything if mutant_filter(m)]
        result["total"] = len(everything)
        result["mutants"] = choose(everything, limit, seed)
        log("mutation %s: %d mutants, %d to run (seed %d)" % (name, len(everything), len(result["mutants"]), seed))
        wrong = check_copy_is_imported(files[0])
        if wrong:
            result["problems"].append(wrong)
            return result
        code, output, baseline, timed_out = run_tests(tests, timeout=3600)
        if code != 0 or timed_out or not pytest_counts(output).get("passed"):
            result["problems"].append("the tests fail without any mutant (exit %s):\n%s" % (code, output[-3000:]))
            return result
        result["baseline_seconds"] = round(baseline, 1)
        timeout = 5 * baseline + 30
        suspicious_after = 2 * baseline + 10
        log("mutation %s: baseline %.1f s; timeout %.0f s, suspicious after %.0f s" % (
            name, baseline, timeout, suspicious_after))
        for number, mutant in enumerate(result["mutants"], 1):
            target = os.path.join(TREE, mutant["path"])
            mutated, mutant["mutated"] = mutate(sources[mutant["path"]], mutant)
            try:
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(mutated)
                code, output, seconds, timed_out = run_tests(tests, timeout)
            finally:
                with open(target, "w", encoding="utf-8") as handle:
                    handle.write(sources[mutant["path"]])
            mutant["outcome"] = classify(code, output, seconds, timed_out, suspicious_after)
            mutant["seconds"] = round(seconds, 1)
            mutant["exit"] = code  # negative: the tests' process died of that signal
            if mutant["outcome"] == CRASHED:
                mutant["output"] = output[-2000:]
            log("  %d/%d %-10s %s:%d #%d  %s  ->  %s" % (number, len(result["mutants"]), mutant["outcome"],
                                                         mutant["path"], mutant["line_number"], mutant["index"],
                                                         mutant["line"].strip(), mutant["mutated"]))
    except Interrupted:
        result["problems"].append("interrupted")
    except Exception as exc:  # pylint: disable=broad-except  # the run is reported as incomplete, never scored
        result["problems"].append("the run crashed: %s: %s" % (type(exc).__name__, exc))
    finally:
        for path, source in sources.items():
            with open(os.path.join(TREE, path), "w", encoding="utf-8") as handle:
                handle.write(source)
        result["seconds"] = round(time.monotonic() - started)
        save(result)
    return result


def save(result):
    """Keep the result; a --mutant re-check beside the area's result, never over it."""
    os.makedirs(RESULTS, exist_ok=True)
    name = result["area"] + ("-mutant" if result.get("partial") else "")
    with open(os.path.join(RESULTS, name + ".json"), "w") as handle:
        json.dump(result, handle, indent=1)


def load_results(names):
    found = []
    for name in names:
        path = os.path.join(RESULTS, name + ".json")
        if os.path.exists(path):
            with open(path) as handle:
                found.append(json.load(handle))
    return found


def report(result, log=print):
    with open(os.path.join(ROOT, ARCHITECTURE), encoding="utf-8") as handle:
        apply_equivalents(result, equivalents(handle.read()))
    save(result)
    log("mutation %s: %s" % (result["area"], counts_text(result)))
    for mutant in result["mutants"]:
        if mutant.get("outcome") in (SURVIVED, TIMEOUT, SUSPICIOUS, SKIPPED, NO_TESTS, CRASHED):
            log("  %-10s %s:%d #%d  %s  ->  %s%s" % (
                mutant["outcome"], mutant["path"], mutant["line_number"], mutant["index"], mutant["line"].strip(),
                mutant.get("mutated"), "  (pytest exit %s)" % mutant.get("exit") if mutant["outcome"] == CRASHED else ""))
    for warning in result.get("warnings", ()):
        log("  warning: " + warning)
    log("mutation %s: %s" % (result["area"], score_text(result)))


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--area", action="append", help="an area (repeatable); default: every area")
    parser.add_argument("--max", type=int, default=MIN_SAMPLE,
                        help="mutants per area; more are sampled (default %d; below %d only a trial)" % (
                            MIN_SAMPLE, MIN_SAMPLE))
    parser.add_argument("--seed", type=int, help="the sample's seed (default: a new one, printed)")
    parser.add_argument("--mutant", help="only the mutants on PATH:LINE (to re-check one survivor)")
    parser.add_argument("--markdown", action="store_true", help="print the areas' table rows after the run")
    parser.add_argument("--table", action="store_true", help="print the table of every stored area result; no run")
    parser.add_argument("--list", action="store_true", help="list each area's files and tests; no run")
    return parser.parse_args(argv)


def list_areas(names, log=print):
    for name in names:
        files = area_files(name)
        tests = area_tests(name, files)
        log("%s: %s\n  files: %s\n  tests: %s" % (name, AREAS[name]["about"], " ".join(files), " ".join(tests)))
    log("in no area: %s" % " ".join(sorted(set(expand(SCOPE)) - set(
        path for name in AREAS for path in area_files(name) if not AREAS[name].get("lines")))))


def at_line(where):
    """A filter of the mutants on PATH:LINE."""
    path, line = where.rsplit(":", 1)

    def wanted(mutant):
        return mutant["path"] == path and mutant["line_number"] == int(line)
    return wanted


def _raise_interrupted(signum, frame):
    raise Interrupted("signal %d" % signum)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = args.area or list(AREAS)
    try:
        for name in names:
            area_tests(name, area_files(name))  # every area resolves before anything runs
    except AreaError as exc:
        print("mutation: %s" % exc, file=sys.stderr)
        return 2
    if args.table:
        print(markdown(load_results(names)))
        return 0
    if args.list:
        list_areas(names)
        return 0
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 10 ** 6)
    mutant_filter = at_line(args.mutant) if args.mutant else None
    signal.signal(signal.SIGTERM, _raise_interrupted)
    signal.signal(signal.SIGINT, _raise_interrupted)
    copy_tree()
    results = []
    for name in names:
        command = "python tests/tools/mutation.py --area %s --max %d --seed %d%s" % (
            name, args.max, seed, " --mutant " + args.mutant if args.mutant else "")
        result = run_area(name, args.max, seed, command, mutant_filter)
        report(result)
        results.append(result)
        if "interrupted" in result["problems"]:
            break
    print("mutation: seed %d" % seed)
    for result in results:
        print("mutation %-10s %s" % (result["area"], score_text(result)))
    if args.markdown:
        print(markdown(results))
    return 0 if results and all(summarise(result)["complete"] for result in results) and len(results) == len(
        names) else 1


if __name__ == "__main__":
    sys.exit(main())
