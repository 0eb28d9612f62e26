# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A per-site lock: one eeszt.connect run at a time changes a site's files.
The same lock guards the central proof archive's ledger and report on the
controller (``ArchiveLock``).

Standard library only. The lock is an ``fcntl.flock`` on ``<dir>/.lock``,
taken without blocking and retried until a bounded timeout. The kernel drops
it when the holder exits, even on SIGKILL, so a killed run never leaves a
stale lock behind. While held, the file records who holds it (process id,
user, site host, controller host and process, start time; no secrets), so the
second run can say whom it waits for.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import fcntl
import json
import os
import socket
import time

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

LOCK_NAME = ".lock"
LOCK_MODE = 0o600
LOCK_SCHEMA = "eeszt.connect/site-lock/v1"
POLL_INTERVAL = 0.1


class SiteLockError(EESZTConnectError):
    """The site's lock could not be taken in time (``code`` ``locked``)."""

    code = "locked"

    def __init__(self, message, holder=None):
        super(SiteLockError, self).__init__(message)
        self.holder = holder or {}


def _user():
    try:
        import pwd
        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return str(os.geteuid())


def describe_holder(holder):
    """'since <time> (pid N on <host>, user U, controller C pid P)' from a lock record."""
    if not holder:
        return "(holder unknown: the lock file records nobody yet)"
    parts = ["pid %s on %s" % (holder.get("pid", "?"), holder.get("host", "?"))]
    if holder.get("user"):
        parts.append("user %s" % holder["user"])
    if holder.get("controller"):
        controller = "controller %s" % holder["controller"]
        if holder.get("controller_pid"):
            controller += " pid %s" % holder["controller_pid"]
        parts.append(controller)
    if holder.get("operation"):
        parts.append(holder["operation"])
    return "since %s (%s)" % (holder.get("since", "an unknown time"), ", ".join(parts))


class SiteLock:
    """Exclusive lock on a site directory; use as a context manager.

    ``timeout`` seconds to wait for another holder (0: do not wait).
    ``owner`` is a dict of extra facts recorded in the lock file
    (``controller``, ``controller_pid``, ``operation``).
    ``timeout_variable`` (class attribute) is the variable the message tells the user to raise.
    """

    timeout_variable = "eeszt_certificate_lock_timeout"

    def __init__(self, directory, timeout=30, owner=None, clock=time.monotonic, sleep=time.sleep):
        self.directory = directory
        self.path = os.path.join(directory, LOCK_NAME)
        self.timeout = max(0.0, float(timeout))
        self.owner = dict(owner or {})
        self.waited = 0.0
        self._fd = None
        self._clock = clock
        self._sleep = sleep

    def read_holder(self):
        """The record of the current (or last) holder, or {}."""
        try:
            with open(self.path, "rb") as handle:
                record = json.loads(handle.read(65536).decode("utf-8"))
        except (OSError, IOError, ValueError):
            return {}
        return record if isinstance(record, dict) else {}

    def acquire(self):
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, LOCK_MODE)
        except (OSError, IOError) as exc:
            raise SiteLockError("cannot open the lock file %s: %s; the lock needs a directory this user can "
                                "write to" % (self.path, exc.strerror or exc))
        started = self._clock()
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except (OSError, IOError) as exc:
                    if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                        raise
                self.waited = self._clock() - started
                if self.waited >= self.timeout:
                    holder = self.read_holder()
                    raise SiteLockError(
                        "another eeszt.connect run holds the lock on %s %s; waited %.0f s. Wait for it "
                        "to finish and run again, or raise %s. The lock is "
                        "released when that run ends (even when it is killed), so never delete %s by hand."
                        % (self.directory, describe_holder(holder), self.waited, self.timeout_variable, self.path),
                        holder)
                self._sleep(POLL_INTERVAL)
        except BaseException:
            os.close(fd)
            raise
        self.waited = self._clock() - started
        self._fd = fd
        record = {
            "schema": LOCK_SCHEMA,
            "pid": os.getpid(),
            "user": _user(),
            "host": socket.gethostname(),
            "since": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        for key in ("controller", "controller_pid", "operation"):
            if self.owner.get(key) not in (None, ""):
                record[key] = self.owner[key]
        data = (json.dumps(record, sort_keys=True) + "\n").encode("utf-8")
        os.fchmod(fd, LOCK_MODE)
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        return self

    def release(self):
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc_info):
        self.release()
        return False


class ArchiveLock(SiteLock):
    """Exclusive lock on the central proof archive (``<archive>/.lock``) on the controller.

    Taken while the run ledger (``runs/``) is written, archives are merged in
    and the report is rebuilt, so that concurrent runs on one archive (job
    slices on a shared volume) rebuild the report one after the other and the
    last one sees every proof. ``fcntl.flock`` works across processes, and
    across hosts on a shared POSIX file system whose locks work (NFSv4, or
    NFSv3 with a lock manager). The holder record is emptied on release.
    """

    timeout_variable = "eeszt_proofs_lock_timeout"

    def release(self):
        """Empty the holder record, then unlock: a run that changed nothing leaves the archive's bytes as they were."""
        if self._fd is not None:
            try:
                os.ftruncate(self._fd, 0)
            except OSError:
                pass
        super(ArchiveLock, self).release()
