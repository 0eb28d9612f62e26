# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operator files on a site: files that the operator's verification program
(``eesztConnect.exe``) or the institution produced and that were copied to the
site, for the proofs role to archive beside the site's proofs.

Runs on the site (module ``eeszt.connect.operator_files``): standard library
only. Patterns are absolute paths or globs, resolved here, on the site.
A match is refused, with one reason per file and without failing the others,
when it is larger than the size limit, when it is not a regular file, when
its name cannot be a file name in the archive, or when it is (or is reached
through) a symbolic link that resolves outside the directory of its pattern:
such a link is never followed.

The directory of a pattern is its longest leading part without a wildcard
(``/var/lib/eeszt/operator`` for ``/var/lib/eeszt/operator/*.pdf``, ``/srv``
for ``/srv/*/result.xml``); for a plain path, the directory it is in.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import glob
import os
import stat

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
WILDCARDS = frozenset("*?[")
NAME_MAX = 200
LIMIT_VARIABLE = "eeszt_proofs_operator_files_max_bytes"
PATTERNS_VARIABLE = "eeszt_proofs_operator_files"


class OperatorFileRefused(EESZTConnectError):
    """One file that is not collected, with why."""

    code = "operator_file_refused"


def shown(text):
    """``text`` made printable: bytes that are not UTF-8 (surrogate escapes) become U+FFFD."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def name_problem(name, limit=NAME_MAX):
    """Why ``name`` cannot be an operator file's name in the archive, or None when it can."""
    if not name or name in (".", ".."):
        return "has no file name"
    if shown(name) != name:
        return "has a name that is not valid UTF-8"
    if name.startswith("."):
        return "is a hidden file (its name starts with '.')"
    if "/" in name or "\\" in name or any(ord(c) < 32 or ord(c) == 127 for c in name):
        return "has a name with a path separator or a control character"
    if len(name) > limit:
        return "has a name longer than %d characters" % limit
    return None


def pattern_dir(pattern):
    """The directory of a pattern: its longest leading part without a wildcard."""
    parts = pattern.split("/")
    for index, part in enumerate(parts):
        if WILDCARDS & set(part):
            return "/".join(parts[:index]) or "/"
    return os.path.dirname(pattern) or "/"


def pattern_problem(pattern):
    """Why ``pattern`` cannot be used, or None."""
    if not isinstance(pattern, str) or not pattern:
        return "is empty"
    if not os.path.isabs(pattern):
        return "is not an absolute path on the site"
    if ".." in pattern.split("/"):
        return "contains '..'"
    if "\x00" in pattern:
        return "contains a NUL character"
    return None


def _inside(path, directory):
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _utc(timestamp):
    moment = datetime.datetime.fromtimestamp(int(timestamp), datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def check_file(path, directory, max_bytes):
    """(real path, os.stat_result) of a match that may be collected; OperatorFileRefused else.

    ``directory`` is the real path of the pattern's directory.
    """
    try:
        link = stat.S_ISLNK(os.lstat(path).st_mode)
        real = os.path.realpath(path)
    except OSError as exc:
        raise OperatorFileRefused("cannot be read: %s" % (exc.strerror or exc))
    if not _inside(real, directory):
        how = "is a symbolic link" if link else "is reached through a symbolic link"
        raise OperatorFileRefused("%s to %s, outside %s: not followed (copy the file into that directory)"
                                  % (how, shown(real), shown(directory)))
    try:
        info = os.stat(real)
    except OSError as exc:
        raise OperatorFileRefused("cannot be read: %s" % (exc.strerror or exc))
    if not stat.S_ISREG(info.st_mode):
        raise OperatorFileRefused("is not a regular file")
    if info.st_size > max_bytes:
        raise OperatorFileRefused("is %d bytes, over the limit of %d bytes; copy a smaller file or raise %s"
                                  % (info.st_size, max_bytes, LIMIT_VARIABLE))
    return real, info


def read_limited(real, max_bytes):
    """The bytes of the regular file ``real`` (a path without symbolic links), at most ``max_bytes``.

    Opened without following a symbolic link, so a file swapped for a link
    since it was listed is refused, not followed; a file that grew over the
    limit is refused.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        handle = os.open(real, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OperatorFileRefused("became a symbolic link while it was collected: not followed")
        raise OperatorFileRefused("cannot be read: %s" % (exc.strerror or exc))
    with os.fdopen(handle, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            raise OperatorFileRefused("is not a regular file")
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise OperatorFileRefused("grew over the limit of %d bytes while it was collected; copy a smaller file "
                                  "or raise %s" % (max_bytes, LIMIT_VARIABLE))
    return data


def _sha256(real, max_bytes):
    return sha256_hex(read_limited(real, max_bytes))


def resolve(patterns, max_bytes=DEFAULT_MAX_BYTES, with_sha256=True):
    """Resolve the patterns on this host.

    Returns ``{"files": [...], "refused": [...], "unmatched": [...]}``: each
    file with its ``pattern``, ``path`` (as matched), ``real_path``, ``name``,
    ``size``, ``modified_at`` (UTC) and ``sha256``; each refused match with its
    ``pattern``, ``path`` and ``reason``; the patterns that matched nothing.
    A file matched by several patterns is listed once; two files of the same
    name are not both collected (the second is refused).
    """
    files, refused, unmatched = [], [], []
    names, seen = {}, set()
    for pattern in patterns:
        problem = pattern_problem(pattern)
        if problem:
            refused.append({"pattern": shown("%s" % pattern), "path": shown("%s" % pattern),
                            "reason": problem})
            continue
        directory = os.path.realpath(pattern_dir(pattern))
        matches = sorted(glob.glob(pattern)) if WILDCARDS & set(pattern) else (
            [pattern] if os.path.lexists(pattern) else [])
        matched = False
        for path in matches:
            try:
                if os.path.isdir(path) and not os.path.islink(path):
                    continue
            except OSError:
                pass
            matched = True
            if path in seen:
                continue
            seen.add(path)
            name = os.path.basename(path)
            try:
                problem = name_problem(name)
                if problem:
                    raise OperatorFileRefused(problem)
                real, info = check_file(path, directory, max_bytes)
                if name in names:
                    raise OperatorFileRefused("has the same name as %s, which is collected; rename one of them or "
                                              "narrow %s" % (names[name], PATTERNS_VARIABLE))
                entry = {"pattern": pattern, "path": path, "real_path": real, "name": name, "size": info.st_size,
                         "modified_at": _utc(info.st_mtime), "sha256": None}
                if with_sha256:
                    entry["sha256"] = _sha256(real, max_bytes)
            except OperatorFileRefused as exc:
                refused.append({"pattern": pattern, "path": shown(path), "reason": "%s" % exc})
                continue
            names[name] = path
            files.append(entry)
        if not matched:
            unmatched.append(pattern)
    return {"files": files, "refused": refused, "unmatched": unmatched}


def read_listed(patterns, path, max_bytes=DEFAULT_MAX_BYTES):
    """The bytes of ``path``, which must be one of the files ``resolve(patterns)`` accepts now."""
    listing = resolve(patterns, max_bytes, with_sha256=False)
    for entry in listing["files"]:
        if entry["path"] == path:
            return entry, read_limited(entry["real_path"], max_bytes)
    for entry in listing["refused"]:
        if entry["path"] == path:
            raise OperatorFileRefused(entry["reason"])
    raise OperatorFileRefused("is no longer among the files of %s on the site" % PATTERNS_VARIABLE)
