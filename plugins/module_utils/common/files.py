# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File primitives, once for the whole collection (standard library only: they run on sites too).

- :func:`write_atomic`: a reader sees the old file or the new one, never a part (temporary file in the same
  directory, ``fchmod`` before any byte, ``fsync``, ``os.replace``, then the directory ``fsync``); the
  temporary file is removed whatever fails.
- :func:`write_new`: create a file that must not exist yet (``os.link`` of a complete temporary file, so two
  writers cannot both win); an existing file with the same bytes is not an error.
- :func:`replace_symlink`: point a link elsewhere in one rename.
- :func:`remove_if_present`: unlink, a missing file being no error.
- :func:`make_dirs`: a directory and its missing parents with one mode whatever the umask; a concurrent creator
  of any of them is no error (the one helper for it: archive, certificate store, proof and metrics folders,
  TLS files, the lab).
- :func:`sha256_hex`, :func:`file_sha256`: the hashes the proofs, seals and certificate sets are compared by.

Errors are the operating system's (``OSError``): each caller names what it was writing in its own message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate

import binascii
import errno
import hashlib
import os

CHUNK = 1024 * 1024  # pragma: no mutate


def sha256_hex(data):
    """The SHA-256 of ``data`` (bytes), as lower-case hex."""
    return hashlib.sha256(data).hexdigest()


def file_sha256(path):
    """The SHA-256 of a file's content, read in chunks, as lower-case hex."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def read_bytes(path):
    with open(path, "rb") as handle:
        return handle.read()


def fsync_dir(path):
    """Make a rename in ``path`` durable; file systems that cannot fsync a directory are let be."""
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


def temp_path(path):
    """A fresh, hidden name in ``path``'s directory for a temporary file."""
    return os.path.join(os.path.dirname(path) or ".", ".%s.tmp-%s" % (
        os.path.basename(path), binascii.hexlify(os.urandom(6)).decode("ascii")))  # pragma: no mutate


def _write_temp(temp, data, mode):
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_if_present(path):
    """Unlink ``path``; a missing file is not an error (any other ``OSError`` is raised)."""
    try:
        os.unlink(path)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise


def write_atomic(path, data, mode=0o644):
    """Replace ``path`` with ``data`` (bytes, or text written as UTF-8) in one step, with ``mode``."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    temp = temp_path(path)
    try:
        _write_temp(temp, data, mode)
        os.replace(temp, path)
    except BaseException:
        remove_if_present(temp)
        raise
    fsync_dir(os.path.dirname(path) or ".")


def write_if_changed(path, data, mode=0o644):
    """:func:`write_atomic` unless the file holds these bytes already; True when written."""
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    if os.path.isfile(path) and not os.path.islink(path) and read_bytes(path) == data:
        return False
    write_atomic(path, data, mode)
    return True


def write_new(path, data, mode=0o644):
    """Create ``path`` with ``data``; never replace a file.

    Returns True when created, False when the file exists with the same bytes; raises ``FileExistsError``
    when it exists with other content (or is not a regular file).
    """
    if not isinstance(data, bytes):
        data = data.encode("utf-8")
    for dummy in range(2):
        if os.path.lexists(path):
            if os.path.isfile(path) and not os.path.islink(path) and read_bytes(path) == data:
                return False
            raise FileExistsError(errno.EEXIST, "exists with other content", path)
        temp = temp_path(path)
        try:
            _write_temp(temp, data, mode)
            try:
                os.link(temp, path)  # fails when the name appeared meanwhile: no overwrite
            except OSError as exc:
                if exc.errno == errno.EEXIST:
                    continue  # look again: the same bytes are not a conflict
                if os.path.lexists(path):
                    raise
                os.rename(temp, path)  # file systems without hard links
        finally:
            remove_if_present(temp)
        fsync_dir(os.path.dirname(path) or ".")
        return True
    raise FileExistsError(errno.EEXIST, "exists with other content", path)


def replace_symlink(target, link_path):
    """Point ``link_path`` at ``target`` in one atomic rename (never a moment without the link)."""
    temp = temp_path(link_path)
    os.symlink(target, temp)
    try:
        os.replace(temp, link_path)
    except BaseException:
        remove_if_present(temp)
        raise
    fsync_dir(os.path.dirname(link_path) or ".")


def missing_dirs(path):
    """The directories of ``path`` (itself, then its parents) that do not exist yet, the topmost first."""
    missing = []
    head = os.path.normpath(path)
    while not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent in ("", head):
            break
        head = parent
    return missing[::-1]


def make_dirs(path, mode, created=None, parents_mode=None):
    """Create ``path`` with ``mode``, whatever the umask, and its missing parents; the directories created.

    The missing parents get ``parents_mode`` when it is given (the archive and the TLS files want their own
    mode on every level they make); without it they are made as ``os.makedirs`` makes them (0o777 less the
    umask), so that a folder such as ``/var/lib/eeszt`` stays as readable as its neighbours. Each directory this
    call creates is appended, as soon as it exists, to ``created`` (when given; else a new list), which is
    returned: a caller that reports progress sees it even when a later level fails. A directory that another
    process creates between the look and the ``mkdir`` is no error: it is used as its creator made it (not
    chmod-ed, not listed). Any other ``OSError`` is raised (``filename`` names the directory), e.g. a file where
    a directory should be.
    """
    created = [] if created is None else created
    leaf = os.path.normpath(path)
    for directory in missing_dirs(path):
        wanted = mode if directory == leaf else parents_mode
        try:
            os.mkdir(directory, 0o777 if wanted is None else wanted)
        except OSError as exc:
            if exc.errno == errno.EEXIST and os.path.isdir(directory):
                continue  # a concurrent creator won
            raise
        if wanted is not None:
            os.chmod(directory, wanted)  # mkdir applies the umask
        created.append(directory)
    return created
