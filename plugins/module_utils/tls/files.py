# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The files of eeszt.connect.tls_files on a site (standard library only): the options' specs, which the
action plugin shares, and the set of files brought to their content, owner, group and mode in one run."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import stat

from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, missing_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.tls.gateway import remove_gateway

FILE_SPEC = dict(
    path=dict(type="path", required=True),
    content=dict(type="str", required=True),
    mode=dict(type="str", required=True),
)
# Only the content is secret: paths and modes stay readable in results.
SECRET_FILE_SPEC = dict(FILE_SPEC, content=dict(type="str", required=True, no_log=True))
# Templates that the action plugin renders on the controller into entries of files or secret_files. The
# path stays a string there: it is expanded (as a path of files) on the site, not on the controller.
TEMPLATE_SPEC = dict(
    src=dict(type="str", required=True),
    path=dict(type="str", required=True),
    mode=dict(type="str", required=True),
    secret=dict(type="bool", default=False),
)

# Read by the action plugin on the controller (plugins/action/tls_files.py) and never sent to the site: the
# controller's clock, the templates it renders into files and secret_files, the public fact it returns.
# Accepted by the module too, so that its argument spec is the whole documented one.
ACTION_OPTIONS_SPEC = dict(
    clock_max_skew=dict(type="int"),
    clock_on_skew=dict(type="str", default="warn", choices=["warn", "fail"]),
    templates=dict(type="list", elements="dict", default=[], options=TEMPLATE_SPEC),
    publish=dict(type="dict"),
    ca_bundle=dict(type="dict", options=dict(
        src=dict(type="path", required=True), path=dict(type="str", required=True),
        warn_days=dict(type="int", default=30), mode=dict(type="str", default="0644"))),
    problems=dict(type="list", elements="str", default=[]),
)


def argument_spec():
    """The options of eeszt.connect.tls_files (one spec for the action and the module)."""
    spec = dict(
        files=dict(type="list", elements="dict", default=[], options=FILE_SPEC),
        secret_files=dict(type="list", elements="dict", default=[], options=SECRET_FILE_SPEC, no_log=False),
        absent=dict(type="list", elements="path", default=[]),
        owner=dict(type="str"),
        group=dict(type="str"),
        directory_mode=dict(type="str", default="0755"),
        absent_blocks=dict(type="list", elements="dict", default=[], options=dict(
            path=dict(type="path", required=True), marker=dict(type="str", required=True))),
        absent_gateway=dict(type="dict", options=dict(
            config=dict(type="path", required=True), pid_file=dict(type="path", required=True),
            log_file=dict(type="path"), unit=dict(type="path"))),
    )
    spec.update(ACTION_OPTIONS_SPEC)
    return spec


class TlsFilesError(EESZTConnectError):
    """A file could not be written or removed."""

    code = "write_failed"


class TlsFilesUsageError(TlsFilesError):
    """An entry the module cannot work with (mode, path)."""

    code = "usage"


def parse_mode(text, what):
    """An octal mode string as an int (0 to 0o7777)."""
    try:
        mode = int(text, 8)
    except (TypeError, ValueError):
        raise TlsFilesUsageError("%s must be an octal mode like 0644, got %r" % (what, text))
    if not 0 <= mode <= 0o7777:
        raise TlsFilesUsageError("%s must be an octal mode from 0000 to 7777, got %r" % (what, text))
    return mode


def read_bytes(path):
    """The file's content, or None when it does not exist."""
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise TlsFilesError("cannot read %s: %s" % (path, to_native(exc)))


def ensure_directory(path, mode, check_mode, created):
    """Create path and its missing parents with mode (common/files.make_dirs); record what was created."""
    if check_mode:
        created.extend(missing_dirs(path))
        return
    try:
        make_dirs(path, mode, created, parents_mode=mode)
    except OSError as exc:
        raise TlsFilesError("cannot create the directory %s: %s" % (exc.filename or path, to_native(exc)))


def _write(path, data, mode):
    """Replace path by a file with data and mode, atomically (common/files.write_atomic)."""
    try:
        write_atomic(path, data, mode)
    except OSError as exc:
        raise TlsFilesError("cannot write %s: %s" % (path, to_native(exc)))


class FileSet:
    """Brings a set of files to their wanted content, owner, group and mode."""

    def __init__(self, module):
        self.module = module
        self.check_mode = module.check_mode
        self.changed_files = []
        self.removed = []
        self.created_directories = []
        self.removed_blocks = []
        self.gateway_removed = []
        self.diff = []

    def write(self, entry, secret):
        path = entry["path"]
        if not os.path.isabs(path):
            raise TlsFilesUsageError("%s: the path must be absolute" % path)
        mode = parse_mode(entry["mode"], "the mode of %s" % path)
        if os.path.isdir(path):
            raise TlsFilesError("%s is a directory, not a file" % path)
        data = to_bytes(entry["content"], errors="surrogate_or_strict")
        ensure_directory(os.path.dirname(path), self.dir_mode, self.check_mode, self.created_directories)
        before = read_bytes(path)
        changed = before != data
        if changed:
            if not secret and self.module._diff:
                self.diff.append(dict(before_header=path, after_header=path,
                                      before="" if before is None else to_native(before, errors="surrogate_or_replace"),
                                      after=entry["content"]))
            if not self.check_mode:
                _write(path, data, mode)
        attributes = dict(path=path, mode=entry["mode"], owner=self.owner, group=self.group, secontext=None,
                          attributes=None)
        if before is None and self.check_mode:
            attributes_changed = False  # nothing to compare with yet
        else:
            attributes_changed = self.module.set_fs_attributes_if_different(attributes, False)
        if changed or attributes_changed:
            self.changed_files.append(path)

    def remove(self, path):
        try:
            info = os.lstat(path)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise TlsFilesError("cannot read %s: %s" % (path, to_native(exc)))
        if stat.S_ISDIR(info.st_mode):
            raise TlsFilesError("%s is a directory; only files are removed" % path)
        self.removed.append(path)
        if not self.check_mode:
            try:
                os.unlink(path)
            except OSError as exc:
                raise TlsFilesError("cannot remove %s: %s" % (path, to_native(exc)))

    def remove_block(self, path, marker):
        before = read_bytes(path)
        if before is None:
            return
        begin, end = (to_bytes(marker.replace("{mark}", mark)) for mark in ("BEGIN", "END"))
        lines = before.splitlines(True)
        stripped = [line.rstrip(b"\r\n") for line in lines]
        if begin not in stripped or end not in stripped[stripped.index(begin):]:
            return
        first = stripped.index(begin)
        last = stripped.index(end, first)
        self.removed_blocks.append(path)
        if self.check_mode:
            return
        try:
            # In place, not renamed over: /etc/hosts is a bind mount in containers.
            with open(path, "r+b") as handle:
                handle.write(b"".join(lines[:first] + lines[last + 1:]))
                handle.truncate()
        except OSError as exc:
            raise TlsFilesError("cannot write %s: %s" % (path, to_native(exc)))

    def run(self, params):
        self.owner, self.group = params["owner"], params["group"]
        self.dir_mode = parse_mode(params["directory_mode"], "directory_mode")
        paths = [entry["path"] for entry in params["files"] + params["secret_files"]]
        duplicates = sorted(set(path for path in paths if paths.count(path) > 1) | (set(paths) & set(params["absent"])))
        if duplicates:
            raise TlsFilesUsageError("each path may appear only once in files, secret_files and absent: %s"
                                     % ", ".join(duplicates))
        for entry in params["files"]:
            self.write(entry, secret=False)
        for entry in params["secret_files"]:
            self.write(entry, secret=True)
        for path in params["absent"]:
            self.remove(path)
        for block in params["absent_blocks"]:
            self.remove_block(block["path"], block["marker"])
        gateway = params["absent_gateway"]
        if gateway:
            self.gateway_removed = remove_gateway(self.module, gateway["config"], gateway["pid_file"],
                                                  gateway["log_file"], gateway["unit"])
