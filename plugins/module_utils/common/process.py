# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process liveness, once for the collection (standard library only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate

import errno
import os


def read_pid(path):
    """The pid in a pid file, or None when the file is missing or holds no positive number."""
    try:
        with open(path) as handle:
            text = handle.read().strip()
    except (IOError, OSError):
        return None
    return int(text) if text.isdigit() and int(text) > 0 else None


def pid_alive(pid):
    """True when process ``pid`` exists and is not a zombie (exists but not ours counts as alive)."""
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except OSError as exc:
        if exc.errno != errno.EPERM:
            return False
    try:  # a zombie (exited, not yet reaped) is not running
        with open("/proc/%d/stat" % pid) as handle:
            # The state follows the command name, which may hold ')': split after the last one.
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"  # pragma: no mutate
    except (IOError, OSError, IndexError):
        return True
