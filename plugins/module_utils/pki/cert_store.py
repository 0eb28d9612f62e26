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
interrupted run sees the old set or the new set, never a mix of the two.

Idempotence: ``state.json`` records, per file, its SHA-256 and, for the
PKCS#12 files, what they encode (certificate fingerprint, source digest,
encryption level, alias and a salted PBKDF2 digest of the export password).
A PKCS#12 file re-exported with a new random salt therefore does not count
as a change, while a tampered file, another export password or another
encryption level does.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import errno
import grp
import hashlib
import hmac
import json
import os
import pwd
import shutil
import stat

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

STATE_FILE = "state.json"
STATE_SCHEMA = "eeszt.connect/certificate-state/v1"
PEM_FILES = ("cert.pem", "key.pem", "chain.pem", "fullchain.pem")
PKCS12_FILES = {"pkcs12": "client.p12", "java": "keystore.p12"}
MANAGED_FILES = PEM_FILES + tuple(PKCS12_FILES.values())
SECRET_FILES = ("key.pem", "client.p12", "keystore.p12")
PBKDF2_ITERATIONS = 200000
DIR_MODE = 0o750
PUBLIC_MODE = 0o644
STATE_MODE = 0o600
# Suffix of the backup that holds a set taken out of service by a rollback;
# such a backup is kept for forensics and never picked by a later rollback.
ROLLED_BACK_SUFFIX = "-rolled-back"


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


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def pem_der_sha256(pem_text):
    """SHA-256 (hex) of the DER of the first PEM block, or None."""
    lines = []
    inside = False
    for line in pem_text.splitlines():
        line = line.strip()
        if line.startswith("-----BEGIN "):
            inside = True
            continue
        if line.startswith("-----END "):
            break
        if inside:
            lines.append(line)
    if not lines:
        return None
    try:
        return sha256_hex(base64.b64decode("".join(lines)))
    except (ValueError, TypeError):
        return None


def password_digest(password, salt=None, iterations=PBKDF2_ITERATIONS):
    """Salted PBKDF2-SHA256 of an export password, as stored in state.json."""
    if salt is None:
        salt = os.urandom(16)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return {
        "algorithm": "pbkdf2-sha256",
        "iterations": iterations,
        "salt": base64.b64encode(salt).decode("ascii"),
        "digest": base64.b64encode(digest).decode("ascii"),
    }


def password_matches(password, recorded):
    """True when ``password`` produces the digest recorded in state.json."""
    if not isinstance(recorded, dict) or recorded.get("algorithm") != "pbkdf2-sha256":
        return False
    try:
        salt = base64.b64decode(recorded["salt"])
        iterations = int(recorded["iterations"])
        expected = base64.b64decode(recorded["digest"])
    except (KeyError, ValueError, TypeError):
        return False
    actual = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return hmac.compare_digest(actual, expected)


def utc_stamp(now=None):
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y%m%dT%H%M%S") + "%06dZ" % now.microsecond


def _fsync_dir(path):
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_file(path, data, mode):
    """Write ``data`` to a new file at ``path`` (temp + fsync + rename)."""
    directory = os.path.dirname(path)
    tmp = os.path.join(directory, ".%s.tmp-%s" % (os.path.basename(path), os.getpid()))
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        os.unlink(tmp)
        raise
    os.close(fd)
    os.replace(tmp, path)


def _replace_symlink(target, link_path):
    """Point ``link_path`` at ``target`` in one atomic rename."""
    tmp = "%s.tmp-%s" % (link_path, os.getpid())
    try:
        os.unlink(tmp)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
    os.symlink(target, tmp)
    os.replace(tmp, link_path)


def _read(path):
    with open(path, "rb") as handle:
        return handle.read()


def resolve_ids(owner, group):
    """uid/gid for owner and group names (or numbers); -1 leaves as is."""
    uid = gid = -1
    if owner not in (None, ""):
        try:
            uid = int(owner)
        except ValueError:
            try:
                uid = pwd.getpwnam(owner).pw_uid
            except KeyError:
                raise CertStoreError("owner %r does not exist on this host: create the user or set another owner" % owner)
    if group not in (None, ""):
        try:
            gid = int(group)
        except ValueError:
            try:
                gid = grp.getgrnam(group).gr_gid
            except KeyError:
                raise CertStoreError("group %r does not exist on this host: create the group or set another group" % group)
    return uid, gid


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
            state = json.loads(_read(os.path.join(live, STATE_FILE)).decode("utf-8"))
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and state.get("schema") == STATE_SCHEMA else {}

    def file_sha256(self, name):
        path = os.path.join(self.dir, name)
        try:
            return sha256_hex(_read(path))
        except OSError:
            return None

    def before_facts(self, state):
        if state.get("facts"):
            return dict(state["facts"])
        try:
            text = _read(os.path.join(self.dir, "cert.pem")).decode("ascii", "replace")
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
        # exist_ok: two runs that start together on a new site both find no directory and both make it.
        os.makedirs(path, DIR_MODE, exist_ok=True)
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
                contents[name] = _read(os.path.join(self.dir, name))
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
            _write_file(path, data, modes[fname])
            self._own(path, modes[fname])
        state = json.dumps(self._state_document(desired, contents), indent=2, sort_keys=True)
        _write_file(os.path.join(staging, STATE_FILE), state.encode("utf-8") + b"\n", STATE_MODE)
        self._own(os.path.join(staging, STATE_FILE), STATE_MODE)
        _fsync_dir(staging)
        final = os.path.join(self.sets_dir, name)
        os.rename(staging, final)
        _fsync_dir(self.sets_dir)

        backup_path = None
        if backup and (previous or self._has_unmanaged_files()):
            self._ensure_dir(self.backup_dir)
            backup_path = os.path.join(self.backup_dir, stamp)
            if previous is None:
                self._copy_unmanaged(backup_path)

        # The switch: one atomic rename of the `current` symlink.
        _replace_symlink(os.path.join("sets", name), self.current_link)
        _fsync_dir(self.dir)

        for fname in desired.names():
            link = os.path.join(self.dir, fname)
            wanted = os.path.join("current", fname)
            if not (os.path.islink(link) and os.readlink(link) == wanted):
                _replace_symlink(wanted, link)
            self._own(link, follow=False)
        for fname in plan["removed_files"]:
            os.unlink(os.path.join(self.dir, fname))
        _fsync_dir(self.dir)

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
                _write_file(os.path.join(backup_path, fname), _read(src), mode)

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


def set_facts(path):
    """Certificate facts of a set directory: its state.json facts, else cert.pem's fingerprint."""
    try:
        state = json.loads(_read(os.path.join(path, STATE_FILE)).decode("utf-8"))
    except (OSError, ValueError):
        state = None
    if isinstance(state, dict) and state.get("schema") == STATE_SCHEMA and isinstance(state.get("facts"), dict) \
            and state["facts"].get("sha256"):
        return dict(state["facts"])
    try:
        fingerprint = pem_der_sha256(_read(os.path.join(path, "cert.pem")).decode("ascii", "replace"))
    except OSError:
        return {}
    return {"sha256": fingerprint} if fingerprint else {}


def set_complete(path):
    """Whether a set (or backup) directory holds at least a certificate and its key as regular files."""
    return all(os.path.isfile(os.path.join(path, name)) and not os.path.islink(os.path.join(path, name))
               for name in ("cert.pem", "key.pem"))


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
        _fsync_dir(store.sets_dir)
        _fsync_dir(store.backup_dir)
        previous = store.current_set()

        # The switch: one atomic rename of the `current` symlink.
        _replace_symlink(os.path.join("sets", name), store.current_link)
        _fsync_dir(store.dir)

        for fname in MANAGED_FILES:
            link = os.path.join(store.dir, fname)
            wanted = os.path.join("current", fname)
            if os.path.isfile(os.path.join(restored, fname)):
                if not (os.path.islink(link) and os.readlink(link) == wanted):
                    _replace_symlink(wanted, link)
                    store._own(link, follow=False)
            elif os.path.islink(link):
                os.unlink(link)
        _fsync_dir(store.dir)

        kept = None
        if previous is not None:
            store._ensure_dir(store.backup_dir)
            kept = os.path.join(store.backup_dir, stamp + ROLLED_BACK_SUFFIX)
            os.rename(previous, kept)
            _fsync_dir(store.backup_dir)
        return kept


def facts_text(facts, files):
    """A diff-friendly rendering of certificate facts (never key material)."""
    if not facts:
        return ""
    lines = []
    for key in ("subject", "issuer", "serial", "not_before", "not_after", "sha256"):
        if facts.get(key) is not None:
            lines.append("%s: %s" % (key, facts[key]))
    if files:
        lines.append("files: %s" % ", ".join(files))
    return "\n".join(lines) + "\n"
