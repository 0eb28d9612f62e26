# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What `make test` needs beyond the Python packages that `make setup` installs (issue 25, point 5).

    python3 tests/tools/prerequisites.py              # the first step of `make test`
    python3 tests/tools/prerequisites.py --packages   # Debian packages of the missing tools (.ci/run installs them)
    python3 tests/tools/prerequisites.py --markdown   # the list as README's "Tests" section has it

Every missing tool is named in one message, with the Debian package that brings it. Under CI (the
environment variable CI is ``true``, as CI services and .ci/run set it) a missing tool fails the run (exit
1); elsewhere the message is printed and `make test` goes on, and each test that needs the tool then skips,
naming it (need() below). Runs with the system's Python 3 (standard library only): it is checked before
the virtual environment exists.
"""

from __future__ import absolute_import, division, print_function

import os
import shutil
import subprocess
import sys

# (what, the programs of which one must be on PATH, Debian package, what needs it). README's list of
# prerequisites is this list (tests/unit/test_prerequisites.py compares them).
TOOLS = (
    ("Python venv", ("python3",), "python3-venv", "`make setup` and `ansible-test sanity --venv`"),
    ("git", ("git",), "git", "`make sanity` (ansible-test), tests/integration/test_awx_runner.py"),
    ("Docker engine", ("docker",), "docker.io", "the Molecule scenarios (site containers)"),
    ("debootstrap", ("debootstrap",), "debootstrap", "the Molecule site images (tests/images/build-site-image.sh)"),
    ("shellcheck", ("shellcheck",), "shellcheck", "`ansible-test sanity` (its shellcheck test)"),
    ("OpenSSL", ("openssl",), "openssl", "unit and integration tests (certificates, seals, `openssl s_server`)"),
    ("curl", ("curl",), "curl", "tests/integration/test_tls_client.py"),
    ("stunnel", ("stunnel4|stunnel",), "stunnel4", "the TLS gateway in tests/integration/test_tls_client.py"),
    ("keytool", ("keytool",), "default-jdk-headless", "tests/integration/test_certificate.py (the Java keystore)"),
    ("Chromium", ("chromium|chromium-browser|google-chrome",), "chromium", "tests/integration/test_proofs.py (the report rendered)"),
    ("Prometheus", ("prometheus", "promtool"), "prometheus", "tests/integration/test_prometheus.py, every `promtool check metrics`"),
    ("node_exporter", ("prometheus-node-exporter|node_exporter",), "prometheus-node-exporter", "tests/integration/test_prometheus.py"),
)
PROGRAM_TOOLS = dict((program, tool) for tool in TOOLS for group in tool[1] for program in group.split("|"))


def under_ci(environ=None):
    """CI=true (GitHub, GitLab, .ci/run), also 1 or yes."""
    return (environ if environ is not None else os.environ).get("CI", "").strip().lower() in ("true", "1", "yes")


def found(group, path=None):
    """The first of ``a|b|c`` on PATH, or None."""
    for program in group.split("|"):
        where = shutil.which(program, path=path)
        if where:
            return where
    return None


def _venv_works():
    proc = subprocess.run([sys.executable, "-c", "import ensurepip, venv"], stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL, check=False)
    return proc.returncode == 0


def _docker_answers(path=None):
    docker = found("docker", path)
    if not docker:
        return False
    try:
        proc = subprocess.run([docker, "info"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              timeout=30, check=False, env=dict(os.environ, PATH=path) if path else None)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return proc.returncode == 0


def missing(path=None, engines=True):
    """[(tool, why)] of everything that is not there. engines=False: only programs, not running services."""
    result = []
    for tool in TOOLS:
        name, groups = tool[0], tool[1]
        absent = [group.replace("|", " or ") for group in groups if not found(group, path)]
        if absent:
            result.append((tool, "%s not found on PATH" % ", ".join(absent)))
        elif name == "Python venv" and not _venv_works():
            result.append((tool, "python3 cannot import ensurepip and venv"))
        elif engines and name == "Docker engine" and not _docker_answers(path):
            result.append((tool, "`docker info` gets no answer: start the engine (systemctl start docker, or dockerd &)"))
    return result


def message(absent, ci):
    lines = ["make test: %d prerequisite%s missing:" % (len(absent), "" if len(absent) == 1 else "s")]
    for (name, dummy, package, used_by), why in absent:
        lines.append("  - %s (%s): %s; needed by %s" % (name, package, why, used_by))
    packages = sorted(set(tool[2] for tool, dummy in absent))
    lines.append("Install them on Debian/Ubuntu: sudo apt-get install %s" % " ".join(packages))
    lines.append(".ci/run installs them (and starts the Docker engine) on a CI machine.")
    if ci:
        lines.append("CI=true: a missing tool fails the run instead of skipping its tests.")
    else:
        lines.append("Going on: the tests that need them skip, naming the tool (CI=true makes this an error).")
    return "\n".join(lines)


def markdown():
    """README's table of prerequisites (without its header)."""
    return "\n".join("| %s | `%s` | %s | %s |" % (name, "`, `".join(g.replace("|", "` or `") for g in groups), package, used_by)
                     for name, groups, package, used_by in TOOLS)


def need(*programs):
    """In a test: skip (fail under CI) unless every program is on PATH; returns their paths."""
    import pytest  # only in tests: this file also runs before the virtual environment exists

    paths, absent = [], []
    for program in programs:
        tool = PROGRAM_TOOLS[program]
        group = [g for g in tool[1] if program in g.split("|")][0]
        where = found(group)
        paths.append(where)
        if not where:
            absent.append("%s (Debian package %s)" % (program, tool[2]))
    if absent:
        text = "not installed: %s; see tests/tools/prerequisites.py" % ", ".join(absent)
        if under_ci():
            pytest.fail("CI=true: " + text)
        pytest.skip(text)
    return paths[0] if len(paths) == 1 else paths


def main(argv):
    if argv[1:] == ["--markdown"]:
        print(markdown())
        return 0
    if argv[1:] == ["--packages"]:
        packages = sorted(set(tool[2] for tool, dummy in missing(engines=False)))
        if packages:
            print(" ".join(packages))
        return 0
    if argv[1:]:
        sys.stderr.write(__doc__)
        return 2
    absent = missing()
    if not absent:
        print("make test: every prerequisite is there (%s)" % ", ".join(tool[0] for tool in TOOLS))
        return 0
    ci = under_ci()
    sys.stderr.write(message(absent, ci) + "\n")
    return 1 if ci else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
