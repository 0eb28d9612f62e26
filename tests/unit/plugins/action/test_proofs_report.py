# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_report as Ansible runs it (a separate process): the archive lock.

The ledger and the report rebuild run under ``<archive>/.lock``, so that job
slices writing into one archive rebuild the report one after the other.
"""

import fcntl
import json
import os
import socket
import time
import types

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import ArchiveLock, SiteLockError


def run_module(tmp_path, **args):
    """The action plugin's result for ``args``, run in this process as a task would run it."""
    del tmp_path
    result = run_action("proofs_report", args)
    return result, types.SimpleNamespace(stderr="")


def hold_lock(archive, holder):
    fd = os.open(os.path.join(archive, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.pwrite(fd, (json.dumps(holder) + "\n").encode(), 0)
    return fd


def test_the_report_waits_for_the_archive_lock_and_names_its_holder(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    fd = hold_lock(str(archive), {"pid": 4242, "host": "node-b", "since": "2026-12-01T10:00:00Z",
                                  "operation": "eeszt.connect.proofs_report"})
    try:
        started = time.monotonic()
        result, proc = run_module(tmp_path, archive_dir=str(archive), lock_timeout=1,
                                  outcomes=[{"host": "site01", "institution_id": "100001", "site_id": "100001001",
                                             "status": "unreachable", "stage": "proofs", "reason": "down"}])
        waited = time.monotonic() - started
    finally:
        os.close(fd)
    assert result.get("failed") is True, (result, proc.stderr)
    lock = os.path.join(str(archive), ".lock")
    assert result["msg"] == (
        "another eeszt.connect run holds the lock on %s since 2026-12-01T10:00:00Z (pid 4242 on node-b, "
        "eeszt.connect.proofs_report); waited 1 s. Wait for it to finish and run again, or raise "
        "eeszt_proofs_lock_timeout. The lock is released when that run ends (even when it is killed), so never "
        "delete %s by hand." % (archive, lock))
    assert result["error"] == "locked"
    assert waited >= 1
    # Nothing was written while another run held the lock: no ledger record, no report.
    assert sorted(os.listdir(str(archive))) == [".lock"]


def test_the_report_takes_the_lock_records_itself_and_releases_it(tmp_path):
    archive = tmp_path / "archive"
    result, proc = run_module(tmp_path, archive_dir=str(archive), lock_timeout=5,
                              outcomes=[{"host": "site01", "institution_id": "100001", "site_id": "100001001",
                                         "status": "unreachable", "stage": "proofs", "reason": "down"}])
    assert result.get("failed") is not True, (result, proc.stderr)
    assert result["summary"]["sites"] == 1
    assert result["lock_waited"] == 0.0
    # Released, with an empty holder record (a re-run that changes nothing leaves the same bytes): the lock
    # can be taken at once.
    assert (archive / ".lock").read_bytes() == b""
    os.close(hold_lock(str(archive), {"pid": 1}))


def test_the_archive_lock_records_its_holder_while_held(tmp_path):
    lock = ArchiveLock(str(tmp_path), 0, owner={"operation": "eeszt.connect.proofs_report: ledger, merge and report"})
    with lock:
        holder = json.loads((tmp_path / ".lock").read_text())
        assert (holder["pid"], holder["host"], holder["operation"]) == (
            os.getpid(), socket.gethostname(), "eeszt.connect.proofs_report: ledger, merge and report")
        assert holder["since"].endswith("Z")
        with pytest.raises(SiteLockError) as caught:
            ArchiveLock(str(tmp_path), 0).acquire()
        assert "pid %d on %s" % (os.getpid(), socket.gethostname()) in str(caught.value)
        assert "raise eeszt_proofs_lock_timeout" in str(caught.value)
    assert (tmp_path / ".lock").read_bytes() == b""


def test_a_negative_lock_timeout_is_refused(tmp_path):
    result, dummy = run_module(tmp_path, archive_dir=str(tmp_path / "archive"), lock_timeout=-1)
    assert result["failed"] is True
    assert result["msg"] == "lock_timeout must not be negative (eeszt_proofs_lock_timeout), got -1"
