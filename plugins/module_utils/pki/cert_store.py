# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Site side of eeszt.connect.waf_certificate: write a certificate set atomically.

Standard library only: sites need not have ``cryptography``.

Layout of the certificate directory ``<dir>``::

    <dir>/cert.pem      -> current/cert.pem     (stable relative symlinks)
    <dir>/key.pem       -> current/key.pem
    <dir>/chain.pem, fullchain.pem, client.p12, keystore.p12  (same)
    <dir>/current       -> sets/<UTC timestamp>-<fingerprint prefix>
    <dir>/sets/<name>/  the files of the live set and its state.json (0600)
    <dir>/backup/<UTC timestamp>/  previous sets (the newest ``backups`` kept)

A new set is written completely (temporary files, fsync) into a staging
directory, renamed into ``sets/`` and then made live by replacing the
``current`` symlink with ``os.replace``: one atomic step, so a reader or an
interrupted run sees the old set or the new set, never a mix of the two
(file primitives: ``module_utils/common/files``; the set's names and state:
``cert_set``; the inverse, a rollback: ``cert_rollback``).

Idempotence: ``state.json`` records, per file, its SHA-256 and, for the
PKCS#12 files, what they encode (certificate fingerprint, source digest,
encryption level, alias and a salted PBKDF2 digest of the export password).
A PKCS#12 file re-exported with a new random salt therefore does not count
as a change, while a tampered file, another export password or another
encryption level does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import grp
import json
import os
import pwd
import shutil
import stat

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import (
    file_sha256,
    fsync_dir,
    make_dirs,
    read_bytes,
    replace_symlink,
    sha256_hex,
    write_atomic,
)
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_set import (
    DIR_MODE,
    MANAGED_FILES,
    PEM_FILES,
    PKCS12_FILES,
    PUBLIC_MODE,
    SECRET_FILES,
    STATE_FILE,
    STATE_MODE,
    STATE_SCHEMA,
    password_digest,
    password_matches,
    pem_der_sha256,
    utc_stamp,
)


class EesztCertificateError(EESZTConnectError):
    """Root of the exception hierarchy of eeszt.connect.waf_certificate.

    ``code`` is a stable identifier of the failure (returned as ``error``),
    the message says what is wrong and what to do about it.
    """

    code = "certificate_error"


class CertStoreError(EesztCertificateError):
    """The certificate set could not be written on the site."""

    code = "write_failed"


class NoBackupError(EesztCertificateError):
    """A rollback found no complete backup set to restore."""

    code = "no_backup"


def _resolve_id(value, lookup, what):
    """The number of a user or group name (or number); -1 (leave as is) when not set."""
    if value in (None, ""):
        return -1
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return lookup(value)
    except KeyError:
        raise CertStoreError("%s %r does not exist on this host: create the %s or set another %s"
                             % (what, value, "user" if what == "owner" else "group", what))


def resolve_ids(owner, group):
    """uid/gid for owner and group names (or numbers); -1 leaves as is."""
    return (_resolve_id(owner, lambda name: pwd.getpwnam(name).pw_uid, "owner"),
            _resolve_id(group, lambda name: grp.getgrnam(name).gr_gid, "group"))


class DesiredSet:
    """What the set should contain: file name -> bytes, plus facts and state."""

    def __init__(self, certificate, private_key, chain, facts, pkcs12=None,
                 export_password=None, export_encryption="modern", alias="eeszt-waf"):
        certificate = certificate.strip() + "\n"
        private_key = private_key.strip() + "\n"
        chain_text = "".join(c.strip() + "\n" for c in chain)
        self.facts = dict(facts)
        self.fingerprint = pem_der_sha256(certificate)
        self.files = {
            "cert.pem": certificate.encode("ascii"),
            "key.pem": private_key.encode("ascii"),
            "chain.pem": chain_text.encode("ascii"),
            "fullchain.pem": (certificate + chain_text).encode("ascii"),
        }
        self.source_sha256 = sha256_hex(self.files["fullchain.pem"] + self.files["key.pem"])
        self.pkcs12 = dict(pkcs12 or {})
        self.export_password = export_password
        self.export_encryption = export_encryption
        self.alias = alias
        for name in self.pkcs12:
            if name not in PKCS12_FILES.values():
                raise CertStoreError("unknown PKCS#12 file name %r" % name)
            if export_password is None:
                raise CertStoreError("export_password is required for %s" % name)

    def names(self):
        return list(PEM_FILES) + sorted(self.pkcs12)

    def pkcs12_matches(self, name, recorded, on_disk_sha256):
        """Whether a PKCS#12 file on the site already encodes this set."""
        if not isinstance(recorded, dict) or on_disk_sha256 is None:
            return False
        return (recorded.get("sha256") == on_disk_sha256
                and recorded.get("certificate_sha256") == self.fingerprint
                and recorded.get("source_sha256") == self.source_sha256
                and recorded.get("encryption") == self.export_encryption
                and recorded.get("alias") == self.alias
                and password_matches(self.export_password, recorded.get("export_password")))


class CertificateStore:
    """The certificate directory on the site."""

    def __init__(self, directory, owner=None, group=None, key_mode=None):
        self.dir = directory
        self.owner = owner
        self.group = group
        if key_mode is None:
            key_mode = 0o640 if group not in (None, "") else 0o600
        self.key_mode = key_mode
        self.sets_dir = os.path.join(directory, "sets")
        self.backup_dir = os.path.join(directory, "backup")
        self.current_link = os.path.join(directory, "current")

    # -- reading the current state ------------------------------------------

    def current_set(self):
        """Absolute path of the live set directory, or None."""
        if not os.path.islink(self.current_link):
            return None
        target = os.path.realpath(self.current_link)
        return target if os.path.isdir(target) else None

    def read_state(self):
        live = self.current_set()
        if live is None:
            return {}
        try:
            state = json.loads(read_bytes(os.path.join(live, STATE_FILE)).decode("utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and state.get("schema") == STATE_SCHEMA else {}

    def file_sha256(self, name):
        try:
            return file_sha256(os.path.join(self.dir, name))
        except OSError:
            return None

    def before_facts(self, state):
        if state.get("facts"):
            return dict(state["facts"])
        try:
            text = read_bytes(os.path.join(self.dir, "cert.pem")).decode("ascii", "replace")
        except OSError:
            return {}
        fingerprint = pem_der_sha256(text)
        return {"sha256": fingerprint} if fingerprint else {}

    # -- deciding -------------------------------------------------------------

    def plan(self, desired):
        """Compare the site with ``desired``; return the planned changes."""
        state = self.read_state()
        recorded = state.get("files", {})
        changed = []
        for name in desired.names():
            on_disk = self.file_sha256(name)
            if name in desired.pkcs12:
                if not desired.pkcs12_matches(name, recorded.get(name), on_disk):
                    changed.append(name)
            elif on_disk != sha256_hex(desired.files[name]):
                changed.append(name)
        removed = [name for name in PKCS12_FILES.values()
                   if name not in desired.pkcs12 and os.path.lexists(os.path.join(self.dir, name))]
        managed = self.current_set() is not None and all(
            os.path.islink(os.path.join(self.dir, name)) for name in desired.names())
        content_changed = bool(changed or removed or not managed)
        return {
            "state": state,
            "changed_files": changed,
            "removed_files": removed,
            "content_changed": content_changed,
            "attributes_changed": (not content_changed) and self._attributes_differ(desired),
            "before": self.before_facts(state),
        }

    def _modes(self, desired):
        modes = {}
        for name in desired.names():
            modes[name] = self.key_mode if name in SECRET_FILES else PUBLIC_MODE
        modes[STATE_FILE] = STATE_MODE
        return modes

    def _attributes_differ(self, desired):
        uid, gid = resolve_ids(self.owner, self.group)
        live = self.current_set()
        paths = {self.dir: DIR_MODE, self.sets_dir: DIR_MODE, live: DIR_MODE}
        for name, mode in self._modes(desired).items():
            paths[os.path.join(live, name)] = mode
        for path, mode in paths.items():
            try:
                st = os.lstat(path)
            except OSError:
                return True
            if stat.S_IMODE(st.st_mode) != mode:
                return True
            if uid != -1 and st.st_uid != uid:
                return True
            if gid != -1 and st.st_gid != gid:
                return True
        return False

    # -- writing --------------------------------------------------------------

    def _own(self, path, mode=None, follow=True):
        uid, gid = resolve_ids(self.owner, self.group)
        if uid != -1 or gid != -1:
            if follow:
                os.chown(path, uid, gid)
            else:
                os.lchown(path, uid, gid)
        if mode is not None:
            os.chmod(path, mode)

    def _ensure_dir(self, path):
        # Two runs that start together on a new site both find no directory and both make it (make_dirs).
        make_dirs(path, DIR_MODE)
        self._own(path, DIR_MODE)

    def fix_attributes(self, desired):
        live = self.current_set()
        for path in (self.dir, self.sets_dir, live):
            self._own(path, DIR_MODE)
        for name, mode in self._modes(desired).items():
            self._own(os.path.join(live, name), mode)
        for name in desired.names():
            self._own(os.path.join(self.dir, name), follow=False)

    def _state_document(self, desired, contents):
        files = {}
        for name, data in contents.items():
            entry = {"sha256": sha256_hex(data)}
            if name in desired.pkcs12:
                entry.update({
                    "certificate_sha256": desired.fingerprint,
                    "source_sha256": desired.source_sha256,
                    "encryption": desired.export_encryption,
                    "alias": desired.alias,
                    "export_password": password_digest(desired.export_password),
                })
            files[name] = entry
        return {
            "schema": STATE_SCHEMA,
            "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            "facts": desired.facts,
            "files": files,
        }

    def _cleanup_leftovers(self, keep_backup):
        """Remove staging directories and orphaned sets of interrupted runs."""
        if not os.path.isdir(self.sets_dir):
            return
        live = self.current_set()
        for entry in sorted(os.listdir(self.sets_dir)):
            path = os.path.join(self.sets_dir, entry)
            if path == live or not os.path.isdir(path) or os.path.islink(path):
                continue
            if entry.startswith(".staging-") or not keep_backup:
                shutil.rmtree(path, ignore_errors=True)
            else:
                self._ensure_dir(self.backup_dir)
                target = os.path.join(self.backup_dir, entry.split("-", 1)[0])
                if os.path.exists(target):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.rename(path, target)

    def write(self, desired, plan, backup=True, backups=5):
        """Write a new set and make it live; return the backup path or None."""
        self._ensure_dir(self.dir)
        self._ensure_dir(self.sets_dir)
        self._cleanup_leftovers(backup)
        previous = self.current_set()
        contents = dict(desired.files)
        # Keep PKCS#12 files that already encode this set byte for byte.
        for name, data in desired.pkcs12.items():
            if name not in plan["changed_files"]:
                contents[name] = read_bytes(os.path.join(self.dir, name))
            else:
                contents[name] = data
        stamp = utc_stamp()
        name = "%s-%s" % (stamp, (desired.fingerprint or "unknown")[:12])
        staging = os.path.join(self.sets_dir, ".staging-" + name)
        os.mkdir(staging, DIR_MODE)
        self._own(staging, DIR_MODE)
        modes = self._modes(desired)
        for fname, data in contents.items():
            path = os.path.join(staging, fname)
            write_atomic(path, data, modes[fname])
            self._own(path, modes[fname])
        state = json.dumps(self._state_document(desired, contents), indent=2, sort_keys=True)
        write_atomic(os.path.join(staging, STATE_FILE), state.encode("utf-8") + b"\n", STATE_MODE)
        self._own(os.path.join(staging, STATE_FILE), STATE_MODE)
        fsync_dir(staging)
        final = os.path.join(self.sets_dir, name)
        os.rename(staging, final)
        fsync_dir(self.sets_dir)

        backup_path = None
        if backup and (previous or self._has_unmanaged_files()):
            self._ensure_dir(self.backup_dir)
            backup_path = os.path.join(self.backup_dir, stamp)
            if previous is None:
                self._copy_unmanaged(backup_path)

        # The switch: one atomic rename of the `current` symlink.
        replace_symlink(os.path.join("sets", name), self.current_link)
        fsync_dir(self.dir)

        for fname in desired.names():
            link = os.path.join(self.dir, fname)
            wanted = os.path.join("current", fname)
            if not (os.path.islink(link) and os.readlink(link) == wanted):
                replace_symlink(wanted, link)
            self._own(link, follow=False)
        for fname in plan["removed_files"]:
            os.unlink(os.path.join(self.dir, fname))
        fsync_dir(self.dir)

        if previous is not None:
            if backup_path:
                os.rename(previous, backup_path)
            else:
                shutil.rmtree(previous, ignore_errors=True)
        if backup:
            self.rotate_backups(backups)
        return backup_path

    def _has_unmanaged_files(self):
        return any(os.path.isfile(os.path.join(self.dir, n)) and not os.path.islink(os.path.join(self.dir, n))
                   for n in MANAGED_FILES)

    def _copy_unmanaged(self, backup_path):
        """First run over hand-installed files: keep a copy of them."""
        os.makedirs(backup_path, DIR_MODE)
        self._own(backup_path, DIR_MODE)
        for fname in MANAGED_FILES:
            src = os.path.join(self.dir, fname)
            if os.path.isfile(src) and not os.path.islink(src):
                mode = self.key_mode if fname in SECRET_FILES else PUBLIC_MODE
                write_atomic(os.path.join(backup_path, fname), read_bytes(src), mode)

    def list_backups(self):
        if not os.path.isdir(self.backup_dir):
            return []
        return sorted(e for e in os.listdir(self.backup_dir)
                      if os.path.isdir(os.path.join(self.backup_dir, e)) and not e.startswith("."))

    def rotate_backups(self, keep):
        """Keep the newest ``keep`` backup sets; return the removed paths."""
        removed = []
        entries = self.list_backups()
        for entry in entries[:max(0, len(entries) - keep)]:
            path = os.path.join(self.backup_dir, entry)
            shutil.rmtree(path)
            removed.append(path)
        return removed
