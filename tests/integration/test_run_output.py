# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a site.yml run prints does not grow with noise, and its verdict comes last (issue 27, points 1-3).

site.yml on the demo inventory against a private lab, at 10 and at 40 sites, with the same problems each
time: site002 has a wrong PFX password (its host variables), the three sites of institution 100002 share
a bad value in their institution's group variables, site007's endpoint is a closed port (its connection
check fails). Deprecation warnings are switched on. Asserted:

- no ``[DEPRECATION WARNING]`` (ansible-core's deprecations are shown: ANSIBLE_DEPRECATION_WARNINGS);
- as many task and play headers at 40 sites as at 10 (no per-host header), and no empty play;
- each problem printed once where it happens and once in the fleet summary, counted: site002's error text
  once in the preflight task's output (the project's stdout callback, eeszt.connect.fleet, prints a failure
  once) and once in the summary; site007's failed check once in the check's warning and once in the summary
  (the verdict play fails the site without repeating the message);
- the institution's shared mistake is one line of the summary, its sites counted;
- the fleet summary is the run's last block, its totals cannot be misread, the failed check's problem line
  carries the hint and the proof's path in the archive, with no full stop before "; hint:" or "; proof:";
- tests/tools/demo_summary.py (the closing block of `make demo`) prints the verdict and exits with the run's
  status; run by make, its last line says that make reports that status in a line of its own.

The runs use the project's stdout callback (ansible.cfg's stdout_callback; conftest.py sets Ansible's default
for every other test).
"""

import configparser

import os
import re
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
DEMO_SUMMARY = os.path.join(ROOT, "tests", "tools", "demo_summary.py")
pytestmark = pytest.mark.slow
PREFLIGHT_TASK = "TASK [Check the variables of the stages to come, on the controller only]"
WRONG_PASSWORD = "is wrong (the integrity check failed)"
# The message of site007's failed check (tcp_refused), as the check words it.
REFUSED_CHECK = "refused the TCP connection"
GROUP_SITES = ["site004", "site005", "site006"]
HEADER = re.compile(r"^(TASK|PLAY|HANDLER|RUNNING HANDLER) \[")
# A message that ends with its full stop, then the next part of a problem line.
STOP_BEFORE_PART = re.compile(r"[^.]\.; (hint|proof): ")


def project_stdout_callback():
    """The stdout callback the project's ansible.cfg sets (Ansible's default when it sets none)."""
    config = configparser.ConfigParser(interpolation=None)
    config.read(os.path.join(ROOT, "ansible.cfg"))
    return config.get("defaults", "stdout_callback", fallback="ansible.builtin.default")


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    root = tmp_path_factory.mktemp("output")
    lab_dir = root / "lab"
    port = pick_port()
    env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": "40"}
    result = run_playbook("lab.yml", extra_vars={"eeszt_lab_state": "started", "eeszt_lab_waf_port": port},
                          env=env, args=["-i", DEMO])
    assert result.ok, result.output
    closed = pick_port()
    (root / "problems.yml").write_text(
        "eeszt_sites:\n"
        "  hosts:\n"
        "    site002:\n"
        "      eeszt_certificate_pfx_password: not-the-password\n"
        "    site007:\n"
        "      eeszt_endpoints: [{name: health, url: 'https://127.0.0.1:%d/health', expect_status: 200}]\n"
        "  children:\n"
        "    institution_100002:\n"
        "      vars:\n"
        "        eeszt_certificate_min_days: -3\n" % closed)
    yield root, lab_dir, env
    result = stop_lab(lab_dir, port, env=env, args=["-i", DEMO])
    assert result.ok, result.output


@pytest.fixture(scope="module")
def runs(lab, run_playbook):
    """{sites: (PlaybookResult, fleet summary JSON path)} for site.yml at 10 and at 40 sites."""
    root, lab_dir, env = lab
    outcome = {}
    for sites in (10, 40):
        summary = root / ("summary-%d.json" % sites)
        result = run_playbook("site.yml", timeout=600, env=dict(
            env, EESZT_DEMO_SITES=str(sites), ANSIBLE_DEPRECATION_WARNINGS="true",
            ANSIBLE_STDOUT_CALLBACK=project_stdout_callback(),
            EESZT_FLEET_SUMMARY_JSON=str(summary)), args=["-i", DEMO, "-i", str(root / "problems.yml")])
        assert result.returncode == 2, result.output
        outcome[sites] = (result, summary)
    return outcome


def headers(stdout):
    return [line for line in stdout.splitlines() if HEADER.match(line)]


def summary_block(stdout):
    lines = stdout.splitlines()
    start = max(index for index, line in enumerate(lines) if line.startswith("EESZT FLEET SUMMARY"))
    return lines[start:]


def test_no_deprecation_warning(runs):
    for result, dummy in runs.values():
        assert "[DEPRECATION WARNING]" not in result.stdout + result.stderr, result.output


def test_the_headers_do_not_grow_with_the_sites_and_no_play_is_empty(runs):
    small, large = runs[10][0], runs[40][0]
    assert headers(small.stdout) == headers(large.stdout), (headers(small.stdout), headers(large.stdout))
    for result in (small, large):
        assert "no hosts matched" not in result.stdout, result.output
        assert result.stdout.count(PREFLIGHT_TASK) == 1, result.output


def flat(text):
    """``text`` with every run of white space one space (Ansible wraps warnings to the terminal's width)."""
    return " ".join(text.split())


def test_an_error_is_printed_once_where_it_happens_and_once_in_the_summary(runs):
    for result, dummy in runs.values():
        lines = result.stdout.splitlines()
        summary_start = len(lines) - len(summary_block(result.stdout))
        block = None
        places = []
        for index, line in enumerate(lines):
            if HEADER.match(line) or line.startswith("EESZT FLEET SUMMARY") or line.startswith("PLAY RECAP"):
                block = line.rstrip("* ")
            places.extend(["summary" if index >= summary_start else block] * line.count(WRONG_PASSWORD))
        # Counted, not only placed: once in the preflight task's output (its failure line; ansible-core 2.19's
        # default callback prints it twice, in an [ERROR] line and in the result), once in the summary.
        assert sorted(places) == sorted([PREFLIGHT_TASK, "summary"]), (places, result.output)
        assert WRONG_PASSWORD not in result.stderr
        [failure] = [line for line in lines if line.startswith("fatal: [site002]")]
        assert WRONG_PASSWORD in failure and "bad_variables" in failure, failure
        assert "[ERROR]" not in result.stdout and "Origin:" not in result.stdout, result.output


def test_a_failed_check_is_printed_once_where_it_happens_and_once_in_the_summary(runs):
    for result, dummy in runs.values():
        summary = flat("\n".join(summary_block(result.stdout)))
        everything = flat(result.stdout) + " " + flat(result.stderr)
        # Where it happens: the check's warning (Ansible prints warnings on stderr); and the summary.
        assert flat(result.stderr).count(REFUSED_CHECK) == 1, result.output
        assert summary.count(REFUSED_CHECK) == 1, result.output
        assert everything.count(REFUSED_CHECK) == 2, result.output
        # The verdict play still fails the site (the exit status stays 2), naming the category only.
        [verdict] = [line for line in result.stdout.splitlines() if line.startswith("fatal: [site007]")]
        assert "EESZT connection check failed on site007 (tcp_refused)" in verdict, verdict


def test_a_mistake_in_an_institutions_group_variables_is_one_summary_line(runs):
    for result, dummy in runs.values():
        block = summary_block(result.stdout)
        shared = [line for line in block if "eeszt_certificate_min_days = -3" in line]
        assert shared == [
            "  institution 100002, 3 sites (site004, site005, site006): refused by the preflight: bad_variables: "
            "Preflight: 1 bad variable "
            "for each site, so nothing was done on this site: (1) eeszt_certificate_min_days = -3: "
            + shared[0].split(": (1) eeszt_certificate_min_days = -3: ", 1)[1]], block
        assert "the other sites go on" not in result.stdout


def test_the_summary_is_last_and_says_what_failed_where(runs, lab):
    root, lab_dir, env = lab
    for sites, (result, summary) in runs.items():
        block = summary_block(result.stdout)
        assert not any(HEADER.match(line) or line.startswith("PLAY RECAP") for line in block), block
        assert block[-1] == "fleet summary written to %s" % summary
        totals = [line for line in block if line.startswith("sites: ")]
        # The four hosts the preflight refused are counted once, as refused (issue 27 point 6).
        assert totals == ["sites: %d  passed: %d  check failed: 1  other stage failed: 0  unreachable: 0  "
                          "not checked: 0  refused: 4" % (sites, sites - 5)], block
        [failed_check] = [line for line in block if line.startswith("  site007: ")]
        assert failed_check.startswith("  site007: connection check failed: tcp_refused: "), failed_check
        assert "; hint: " in failed_check
        assert not STOP_BEFORE_PART.search(failed_check), failed_check
        proof = re.search(r"; proof: (\S+)$", failed_check).group(1)
        assert proof.startswith(str(lab_dir / "proofs" / "100003" / "100003001") + os.sep), failed_check
        assert os.path.isfile(proof)


def demo_summary(lab_dir, summary, rc, make=False):
    """tests/tools/demo_summary.py as `make demo` runs it (make sets MAKELEVEL in its recipes' environment)."""
    env = dict((key, value) for key, value in os.environ.items() if key not in ("MAKELEVEL", "MAKEFLAGS"))
    if make:
        env["MAKELEVEL"] = "1"
    return subprocess.run([sys.executable, DEMO_SUMMARY, str(lab_dir), str(summary), str(rc)], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False)


def test_the_demo_closing_block_is_the_verdict_and_its_exit_status(runs, lab):
    root, lab_dir, env = lab
    result, summary = runs[10]
    demo = demo_summary(lab_dir, summary, result.returncode)
    assert demo.returncode == 2, demo.stderr
    lines = demo.stdout.splitlines()
    assert lines[1] == "== eeszt.connect demo: verdict"
    assert lines[2] == "sites: 10  passed: 5  failed: 1  refused by the preflight: 4"
    assert lines[3] == "problem sites:"
    problems = lines[4:9]
    assert [line.split()[0] for line in problems] == ["site002", "site004", "site005", "site006", "site007"]
    assert WRONG_PASSWORD in problems[0] and "set the password that came with this PFX" in problems[0]
    assert "tcp_refused" in problems[4] and "; hint: " in problems[4] and "; proof: " in problems[4]
    # "...refused the TCP connection.; hint:" read as a typo (the closing note of issue 27).
    assert not STOP_BEFORE_PART.search(problems[4]), problems[4]
    assert lines[9] == "report: %s" % (lab_dir / "proofs" / "report.html")
    assert lines[10] == "result: site.yml failed (exit status 2); the demo exits with it"
    assert len(lines) == 11
    assert ".lock" not in demo.stdout
    # Run by make, the last line says what make's own line after it is.
    made = demo_summary(lab_dir, summary, result.returncode, make=True)
    assert made.returncode == 2
    assert made.stdout.splitlines()[:-1] == lines[:-1]
    assert made.stdout.splitlines()[-1] == (
        "result: site.yml failed (exit status 2); the demo exits with it, which make reports in its own last line "
        "(make: *** [...] Error 2)")
    # A run that passed: the demo exits 0, and make prints no such line.
    for make in (False, True):
        passed = demo_summary(lab_dir, summary, 0, make=make)
        assert passed.returncode == 0 and passed.stdout.splitlines()[-1] == "result: every site passed"
