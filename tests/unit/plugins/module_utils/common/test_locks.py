# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The per-site lock: exclusive across processes, bounded wait, clear message, dies with its holder."""

import json
import os
import signal
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import SiteLock, SiteLockError

HOLDER = r"""
import sys
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import SiteLock
lock = SiteLock(sys.argv[1], 5, owner={"controller": "ctl-a", "controller_pid": 4242, "operation": "deploy"})
lock.acquire()
print("locked", flush=True)
sys.stdin.readline()  # holds the lock until told (a line) or until the test's end closes the pipe
lock.release()
print("released", flush=True)
"""


@pytest.fixture
def holder(tmp_path):
    """Start a process that holds the lock on tmp_path until a line is written to its stdin; yields a starter."""
    procs = []

    def start():
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
        proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, universal_newlines=True, env=env)
        procs.append(proc)
        assert proc.stdout.readline().strip() == "locked"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        proc.stdin.close()
        proc.stdout.close()


def test_record_and_mode(tmp_path):
    with SiteLock(str(tmp_path), owner={"controller": "ctl", "controller_pid": 7, "password": "x"}) as lock:
        record = json.loads((tmp_path / ".lock").read_text())
        assert record["pid"] == os.getpid()
        assert record["controller"] == "ctl" and record["controller_pid"] == 7
        assert "password" not in record
        assert record["since"].endswith("Z")
        assert stat.S_IMODE((tmp_path / ".lock").stat().st_mode) == 0o600
        assert lock.waited < 1
    # Released: it can be taken again at once.
    with SiteLock(str(tmp_path), timeout=0):
        pass


def test_second_run_fails_after_bounded_wait_naming_the_holder(tmp_path, holder):
    proc = holder()
    started = time.monotonic()
    with pytest.raises(SiteLockError) as info:
        SiteLock(str(tmp_path), timeout=1).acquire()
    elapsed = time.monotonic() - started
    assert 1 <= elapsed < 5
    message = str(info.value)
    assert message.startswith("another eeszt.connect run holds the lock on %s since " % tmp_path)
    assert "pid %d" % proc.pid in message
    assert "controller ctl-a pid 4242" in message
    assert "eeszt_certificate_lock_timeout" in message
    assert info.value.code == "locked"
    assert info.value.holder["pid"] == proc.pid


def test_zero_timeout_fails_at_once(tmp_path, holder):
    holder()
    started = time.monotonic()
    with pytest.raises(SiteLockError):
        SiteLock(str(tmp_path), timeout=0).acquire()
    assert time.monotonic() - started < 1


def test_waiter_gets_the_lock_when_holder_finishes(tmp_path, holder):
    """The holder lets go only once the waiter has found the lock taken and waits (its first pause): no sleep
    of the holder has to outlast the waiter's start."""
    proc = holder()
    pauses = []

    def pause(seconds):
        if not pauses:
            proc.stdin.write("release\n")
            proc.stdin.flush()
            assert proc.stdout.readline().strip() == "released"
        pauses.append(seconds)
        time.sleep(seconds)

    with SiteLock(str(tmp_path), timeout=15, sleep=pause) as lock:
        assert pauses and lock.waited > 0
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()


def test_lock_dies_with_a_killed_holder(tmp_path, holder):
    proc = holder()
    with pytest.raises(SiteLockError):
        SiteLock(str(tmp_path), timeout=0).acquire()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    with SiteLock(str(tmp_path), timeout=5) as lock:
        assert lock.waited < 5
