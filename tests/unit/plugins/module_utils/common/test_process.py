# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process liveness and pid files (module_utils/common/process.py)."""

import os
import signal
import subprocess
import sys
import time

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import process


@pytest.fixture
def signals_sent(monkeypatch):
    """The signals ``pid_alive`` sends; any but 0 fails the test at once instead of reaching its target.

    The tests of this process (pytest itself) and of pid 1 must never deliver a real signal: a mutant that
    sent SIGHUP would kill the test run (counted as a crash, not a failed test) or signal init.
    """
    sent = []
    real_kill = os.kill

    def kill(pid, number):
        sent.append(number)
        if number != 0:
            raise AssertionError("pid_alive sent signal %d to pid %d; only 0 (a liveness probe) is allowed" % (number, pid))
        return real_kill(pid, number)

    monkeypatch.setattr(os, "kill", kill)
    return sent


def test_this_process_is_alive(signals_sent):
    assert process.pid_alive(os.getpid()) is True
    assert signals_sent == [0]


@pytest.mark.parametrize("pid", [0, -1, None, "12", True])
def test_no_pid_is_not_alive(pid):
    assert process.pid_alive(pid) is False


def test_an_exited_process_is_not_alive_even_as_a_zombie():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)  # exited, not reaped: a zombie
    try:
        assert process.pid_alive(child.pid) is False
    finally:
        child.wait()
    assert process.pid_alive(child.pid) is False


@pytest.mark.parametrize("text, pid", [("4242\n", 4242), ("1", 1), ("0", None), ("-5", None), ("x", None),
                                       ("", None)])
def test_read_pid(tmp_path, text, pid):
    path = tmp_path / "pid"
    path.write_text(text)
    assert process.read_pid(str(path)) == pid


def test_read_pid_of_a_missing_file(tmp_path):
    assert process.read_pid(str(tmp_path / "none")) is None


def test_pid_1_is_alive(signals_sent):
    assert process.pid_alive(1) is True
    assert signals_sent == [0]


CATCHER = """
import signal, sys, time
def caught(number, frame):
    with open(sys.argv[1] + ".signals", "a") as log:
        log.write("%d\\n" % number)
for number in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
    signal.signal(number, caught)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(30)
"""


def wait_for(condition, what, seconds=10.0):
    """Poll ``condition`` until it holds; fail naming ``what`` after ``seconds`` (a bound, not a delay)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within %.0f s: %s" % (seconds, what)
        time.sleep(0.01)


def signals_logged(flag):
    try:
        with open(flag + ".signals") as log:
            return [int(line) for line in log.read().split()]
    except FileNotFoundError:
        return []


def test_the_check_sends_no_signal(tmp_path):
    """No sleep that has to be long enough: after the check, the test sends the child a marker signal and waits
    for the child to log it. A signal the check sent was sent before the marker; it is logged no later than the
    marker: two signals pending at once are delivered lowest number first (Linux) and their Python handlers run
    in that order too, and the marker, SIGTERM, has the highest number of the signals the child catches."""
    flag = str(tmp_path / "child")
    child = subprocess.Popen([sys.executable, "-c", CATCHER, flag])
    try:
        wait_for(lambda: os.path.exists(flag + ".ready"), "the child installs its signal handlers")
        assert process.pid_alive(child.pid) is True
        os.kill(child.pid, signal.SIGTERM)
        wait_for(lambda: signal.SIGTERM in signals_logged(flag), "the child logs the marker signal")
        assert signals_logged(flag) == [signal.SIGTERM]  # the check itself did not signal it
    finally:
        child.kill()
        child.wait()


def test_without_proc_a_signalled_process_counts_as_alive(monkeypatch, signals_sent):
    def no_proc(*args, **kwargs):
        raise OSError(2, "no /proc")

    monkeypatch.setattr(process, "open", no_proc, raising=False)
    assert process.pid_alive(os.getpid()) is True
    assert signals_sent == [0]
