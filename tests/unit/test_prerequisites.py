# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""tests/tools/prerequisites.py: `make test` never skips silently (issue 25, point 5).

README's list of prerequisites is the script's list; .ci/run installs from that list; a missing tool is
named in one message and fails the run under CI=true only.
"""

import os
import re
import subprocess
import sys

import prerequisites
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "tools", "prerequisites.py")


def read(*parts):
    with open(os.path.join(ROOT, *parts)) as handle:
        return handle.read()


def test_readme_lists_exactly_the_script_s_prerequisites():
    readme = read("README.md")
    block = re.search(r"<!-- prerequisites: begin -->\n(.*?)\n<!-- prerequisites: end -->", readme, re.S)
    assert block, "README.md has no prerequisites block"
    rows = block.group(1).splitlines()
    assert rows[:2] == ["| tool | program on PATH | Debian package | needed by |", "| --- | --- | --- | --- |"]
    assert "\n".join(rows[2:]) == prerequisites.markdown()


def test_ci_installs_the_packages_of_the_list_and_runs_under_ci():
    run = read(".ci", "run")
    assert 'export CI="${CI:-true}"' in run
    assert "$(python3 tests/tools/prerequisites.py --packages)" in run
    assert '"${need[@]}"' in run.split("prerequisites.py --packages", 1)[1]


def test_make_test_checks_them_first():
    makefile = read("Makefile")
    test_line = [line for line in makefile.splitlines() if line.startswith("test:")][0]
    assert test_line.split()[1] == "prerequisites"
    assert "\tpython3 tests/tools/prerequisites.py" in makefile.replace("$(PYTHON)", "python3")


def fake_path(tmp_path, leave_out=()):
    """A directory with a stub of every program of the list but those in leave_out; docker info answers."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program in prerequisites.PROGRAM_TOOLS:
        if program in leave_out:
            continue
        stub = bin_dir / program
        stub.write_text("#!/bin/sh\nexit 0\n")
        stub.chmod(0o755)
    return str(bin_dir)


def run(path, ci=None, *args):
    env = dict((key, value) for key, value in os.environ.items() if key != "CI")
    env["PATH"] = path
    if ci is not None:
        env["CI"] = ci
    proc = subprocess.run([sys.executable, SCRIPT] + list(args), env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True, timeout=60, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def test_everything_there_passes_quietly(tmp_path):
    code, out, err = run(fake_path(tmp_path), "true")
    assert (code, err) == (0, "") and out.startswith("make test: every prerequisite is there (")


NO_PROMETHEUS = ("prometheus", "promtool")


@pytest.mark.parametrize("ci", ["true", "TRUE", "1"])
def test_a_missing_tool_fails_under_ci_with_one_message(tmp_path, ci):
    code, out, err = run(fake_path(tmp_path, NO_PROMETHEUS), ci)
    assert (code, out) == (1, "")
    assert err.startswith("make test: 1 prerequisite missing:\n  - Prometheus (prometheus): prometheus, promtool not found")
    assert "sudo apt-get install prometheus\n" in err and "CI=true: a missing tool fails the run" in err


@pytest.mark.parametrize("ci", [None, "", "false", "0"])
def test_without_ci_the_same_message_and_the_run_goes_on(tmp_path, ci):
    code, out, err = run(fake_path(tmp_path, NO_PROMETHEUS), ci)
    assert (code, out) == (0, "")
    assert "  - Prometheus (prometheus): prometheus, promtool not found" in err and "Going on:" in err


def test_every_missing_tool_is_in_the_one_message(tmp_path):
    code, dummy, err = run(fake_path(tmp_path, ("promtool", "chromium", "chromium-browser", "google-chrome", "stunnel4")),
                           "true")
    assert code == 1 and err.count("make test: ") == 1
    assert err.startswith("make test: 2 prerequisites missing:")
    assert "  - Chromium (chromium): chromium or chromium-browser or google-chrome not found" in err
    assert "  - Prometheus (prometheus): promtool not found" in err
    # stunnel is there as `stunnel` (Red Hat's name): one of a group is enough.
    assert "stunnel" not in err
    assert "sudo apt-get install chromium prometheus\n" in err


def test_an_engine_that_does_not_answer_is_named(tmp_path):
    path = fake_path(tmp_path)
    docker = os.path.join(path, "docker")
    with open(docker, "w") as handle:
        handle.write("#!/bin/sh\nexit 1\n")
    code, dummy, err = run(path, "true")
    assert code == 1 and "  - Docker engine (docker.io): `docker info` gets no answer" in err
    # The program is there: nothing to install, .ci/run starts the engine.
    assert run(path, "true", "--packages")[:2] == (0, "")


def test_packages_of_what_is_missing(tmp_path):
    code, out, dummy = run(fake_path(tmp_path, NO_PROMETHEUS + ("debootstrap", "prometheus-node-exporter", "node_exporter")),
                           "true", "--packages")
    assert (code, out) == (0, "debootstrap prometheus prometheus-node-exporter\n")


def test_need_skips_naming_the_tool_and_fails_under_ci(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", fake_path(tmp_path, NO_PROMETHEUS))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"not installed: promtool \(Debian package prometheus\)"):
        prerequisites.need("promtool")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"CI=true: not installed: promtool \(Debian package prometheus\)"):
        prerequisites.need("promtool")
    assert prerequisites.need("openssl") == os.path.join(str(tmp_path), "bin", "openssl")
