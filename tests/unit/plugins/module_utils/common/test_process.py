# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process liveness and pid files (module_utils/common/process.py)."""

import os
import subprocess
import sys
import time

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import process


def test_this_process_is_alive():
    assert process.pid_alive(os.getpid()) is True


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


def test_pid_1_is_alive():
    assert process.pid_alive(1) is True


CATCHER = """
import os, signal, sys, time
def caught(number, frame):
    open(sys.argv[1] + ".signal", "w").write(str(number))
for number in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGTERM):
    signal.signal(number, caught)
open(sys.argv[1] + ".ready", "w").close()
time.sleep(30)
"""


def test_the_check_sends_no_signal(tmp_path):
    flag = str(tmp_path / "child")
    child = subprocess.Popen([sys.executable, "-c", CATCHER, flag])
    try:
        for dummy in range(200):  # at most 10 s for the child to install its handlers
            if os.path.exists(flag + ".ready"):
                break
            time.sleep(0.05)
        assert os.path.exists(flag + ".ready")
        assert process.pid_alive(child.pid) is True
        time.sleep(0.3)
        assert not os.path.exists(flag + ".signal")  # the check did not signal it
    finally:
        child.kill()
        child.wait()


def test_without_proc_a_signalled_process_counts_as_alive(monkeypatch):
    def no_proc(*args, **kwargs):
        raise OSError(2, "no /proc")

    monkeypatch.setattr(process, "open", no_proc, raising=False)
    assert process.pid_alive(os.getpid()) is True
