# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rollback of a site's certificate set: the inverse of ``CertificateStore.write``, just as atomic
(standard library only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import fsync_dir, replace_symlink
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_set import (
    MANAGED_FILES,
    set_complete,
    set_facts,
    utc_stamp,
)
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import NoBackupError

# Suffix of the backup that holds a set taken out of service by a rollback;
# such a backup is kept for forensics and never picked by a later rollback.
ROLLED_BACK_SUFFIX = "-rolled-back"


class Rollback:
    """Restore a backup set: the inverse of CertificateStore.write, just as atomic.

    The chosen backup directory is renamed into ``sets/``, ``current`` is
    switched to it with one rename, and the set that was live moves to
    ``backup/<UTC timestamp>-rolled-back`` (kept for forensics, never picked by
    a later rollback). An interrupted rollback leaves the old live set in
    service; the restored set, if already moved, returns to ``backup/`` on the
    next write.
    """

    def __init__(self, store):
        self.store = store

    def candidates(self):
        """Backup names a rollback may restore, newest first."""
        store = self.store
        return [name for name in reversed(store.list_backups())
                if not name.endswith(ROLLED_BACK_SUFFIX) and set_complete(os.path.join(store.backup_dir, name))]

    def plan(self, restore=None, only_from=None):
        """What a rollback would do: a dict with ``needed``, ``reason``, ``source``, ``before``, ``after``."""
        store = self.store
        live = store.current_set()
        before = set_facts(live) if live else store.before_facts({})
        plan = {"needed": False, "reason": None, "source": None, "before": before, "after": before, "live": live}
        if only_from and (before.get("sha256") or "").lower() != only_from.replace(":", "").lower():
            plan["reason"] = ("the live certificate (%s) is not the one to roll back from (%s): nothing to do"
                              % (before.get("sha256") or "none", only_from))
            return plan
        if restore:
            if os.path.basename(restore) != restore or restore.startswith("."):
                raise NoBackupError("restore must be the name of a directory in %s, got %r" % (store.backup_dir, restore))
            source = os.path.join(store.backup_dir, restore)
            if not os.path.isdir(source) or not set_complete(source):
                raise NoBackupError("backup %s does not exist or lacks cert.pem or key.pem; available: %s"
                                    % (source, ", ".join(store.list_backups()) or "none"))
        else:
            names = self.candidates()
            if not names:
                raise NoBackupError("no backup set to roll back to in %s (backups are kept when "
                                    "eeszt_certificate_backup is true and a certificate was replaced)" % store.backup_dir)
            source = os.path.join(store.backup_dir, names[0])
        plan.update(needed=True, source=source, after=set_facts(source))
        return plan

    def run(self, plan):
        """Carry out a plan from :meth:`plan`; returns the backup path of the set taken out of service."""
        store = self.store
        store._ensure_dir(store.sets_dir)
        stamp = utc_stamp()
        name = "%s-%s" % (stamp, (plan["after"].get("sha256") or "unknown")[:12])
        restored = os.path.join(store.sets_dir, name)
        os.rename(plan["source"], restored)
        fsync_dir(store.sets_dir)
        fsync_dir(store.backup_dir)
        previous = store.current_set()

        # The switch: one atomic rename of the `current` symlink.
        replace_symlink(os.path.join("sets", name), store.current_link)
        fsync_dir(store.dir)

        for fname in MANAGED_FILES:
            link = os.path.join(store.dir, fname)
            wanted = os.path.join("current", fname)
            if os.path.isfile(os.path.join(restored, fname)):
                if not (os.path.islink(link) and os.readlink(link) == wanted):
                    replace_symlink(wanted, link)
                    store._own(link, follow=False)
            elif os.path.islink(link):
                os.unlink(link)
        fsync_dir(store.dir)

        kept = None
        if previous is not None:
            store._ensure_dir(store.backup_dir)
            kept = os.path.join(store.backup_dir, stamp + ROLLED_BACK_SUFFIX)
            os.rename(previous, kept)
            fsync_dir(store.backup_dir)
        return kept
