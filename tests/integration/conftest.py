# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the integration tests: run real ansible-playbook
subprocesses against this checkout, pick free loopback ports, give each test
module its own lab directory.

Reuse from any test under tests/integration (fixtures ``run_playbook``,
``pick_port``, ``site_inventory``, ``free_port``, ``lab_dir``, ``stop_lab``)::

    def test_something(run_playbook, free_port, lab_dir):
        result = run_playbook("lab.yml", extra_vars={"eeszt_lab_dir": str(lab_dir),
                                                     "eeszt_lab_waf_port": free_port})
        assert result.ok, result.output
        assert result.recap["localhost"]["changed"] == 0
"""

import json
import os
import re
import signal
import socket
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
ANSIBLE_CFG = os.path.join(ROOT, "ansible.cfg")
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
BIN = os.path.dirname(sys.executable)
# Generous per-playbook bound; a lab run takes seconds.
PLAYBOOK_TIMEOUT = 300

RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")


class PlaybookResult:
    """Outcome of one ansible-playbook run."""

    def __init__(self, argv, returncode, stdout, stderr):
        self.argv = argv
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.recap = parse_recap(stdout)

    @property
    def ok(self):
        return self.returncode == 0

    @property
    def output(self):
        """Everything the run printed, for assertion messages."""
        return "$ %s\n--- stdout ---\n%s\n--- stderr ---\n%s" % (" ".join(self.argv), self.stdout, self.stderr)

    def changed(self, host="localhost"):
        return self.recap[host]["changed"]


def parse_recap(stdout):
    """{host: {ok, changed, unreachable, failed, skipped, rescued, ignored}} from PLAY RECAP."""
    recap = {}
    in_recap = False
    for line in stdout.splitlines():
        if line.startswith("PLAY RECAP"):
            in_recap = True
            continue
        match = RECAP_LINE.match(line.strip()) if in_recap else None
        if match:
            recap[match.group("host")] = {
                key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group("counts"))
            }
    return recap


def ansible_env(extra=None):
    """Environment for ansible-playbook: this checkout's ansible.cfg and collection link."""
    env = dict(os.environ)
    env.update({
        "ANSIBLE_CONFIG": ANSIBLE_CFG,
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.default",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    env.update(extra or {})
    return env


def run_ansible_playbook(playbook, inventory=None, extra_vars=None, args=(), env=None, timeout=PLAYBOOK_TIMEOUT):
    """Run ansible-playbook from the repository root; returns a PlaybookResult.

    ``playbook`` is a path, or a file name under playbooks/. ``inventory`` is a
    path or None (then ansible.cfg's default applies). ``extra_vars`` is a
    dict passed as one JSON ``-e``, so lists and numbers keep their types.
    """
    path = playbook if os.path.isabs(playbook) else os.path.join(PLAYBOOKS, playbook)
    argv = [os.path.join(BIN, "ansible-playbook"), path]
    if inventory is not None:
        argv += ["-i", str(inventory)]
    if extra_vars:
        argv += ["-e", json.dumps(extra_vars)]
    argv += list(args)
    proc = subprocess.run(argv, cwd=ROOT, env=ansible_env(env), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True,
                          timeout=timeout, check=False)
    return PlaybookResult(argv, proc.returncode, proc.stdout, proc.stderr)


def pick_free_port(host="127.0.0.1"):
    """A TCP port nothing listens on right now (bound with port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def write_inventory(path, sites):
    """A YAML-free INI inventory: group eeszt_sites with one local host per (institution_id, site_id)."""
    lines = ["[eeszt_sites]"]
    for index, (institution_id, site_id) in enumerate(sites, 1):
        lines.append("site%02d ansible_connection=local eeszt_institution_id=\"%s\" eeszt_site_id=\"%s\""
                     % (index, institution_id, site_id))
    path.write_text("\n".join(lines) + "\n")
    return path


def stop_lab_waf(lab_dir, port, env=None, args=()):
    """Stop the lab WAF of ``lab_dir`` with lab.yml; when that fails, kill it by its
    pid file, so that no WAF is left running whatever happened. Returns the
    PlaybookResult of lab.yml for the caller to assert on."""
    result = run_ansible_playbook("lab.yml", extra_vars={"eeszt_lab_state": "stopped", "eeszt_lab_waf_port": port},
                                  env=env, args=args)
    pid_file = os.path.join(str(lab_dir), "waf", "waf.pid")
    if not result.ok and os.path.exists(pid_file):
        try:
            with open(pid_file) as handle:
                os.kill(int(handle.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass
    return result


@pytest.fixture(scope="session")
def run_playbook():
    """The run_ansible_playbook helper (usable from fixtures of any scope)."""
    return run_ansible_playbook


@pytest.fixture(scope="session")
def pick_port():
    """The pick_free_port helper, for fixtures wider than one test."""
    return pick_free_port


@pytest.fixture(scope="session")
def stop_lab():
    """The stop_lab_waf helper: stop_lab(lab_dir, port, env=..., args=...) -> PlaybookResult."""
    return stop_lab_waf


@pytest.fixture(scope="session")
def site_inventory():
    """The write_inventory helper: site_inventory(path, [(institution_id, site_id), ...])."""
    return write_inventory


@pytest.fixture
def free_port():
    """A free loopback TCP port."""
    return pick_free_port()


@pytest.fixture
def lab_dir(tmp_path):
    """An empty lab directory for one test (removed with pytest's tmp_path)."""
    path = tmp_path / "lab"
    path.mkdir(mode=0o700)
    return path
