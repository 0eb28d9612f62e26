#!/usr/bin/python
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_files
short_description: Write a set of small text files on a site in one module run
version_added: 1.0.0
description:
  - Writes every file of O(files) and O(secret_files) with the given content and mode, and removes
    every path of O(absent), in one module run. The TLS client role's CA bundle and client settings
    files cost one run per site instead of two per file (as with M(ansible.builtin.template)).
  - A file is rewritten only when its content differs, atomically (a temporary file in the same
    directory, then a rename), with its mode set before the content is written.
  - Missing parent directories are created with O(directory_mode); existing directories are left as
    they are.
  - Owner, group and mode are set on every file, changed or not.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Reports what would change and changes nothing.
  diff_mode:
    support: full
    description: Shows the old and new content of the files of O(files); never of O(secret_files).
  platform:
    support: full
    platforms: posix
    description: Runs on POSIX sites with Python 3.
options:
  files:
    description: Files whose content may be shown in a diff.
    type: list
    elements: dict
    default: []
    suboptions: &file_suboptions
      path:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The file's text.
        type: str
        required: true
      mode:
        description: The file's mode, in octal (C("0644"); C("0640") for a file with secrets).
        type: str
        required: true
  secret_files:
    description:
      - Files that hold secrets (passwords, proxy credentials); the same suboptions as O(files).
      - Their content is never shown in a diff, a log or a result.
    type: list
    elements: dict
    default: []
    suboptions: *file_suboptions
  absent:
    description: Paths of regular files to remove if they exist.
    type: list
    elements: path
    default: []
  owner:
    description: Owner of the files; the connecting user's when not set.
    type: str
  group:
    description: Group of the files; the connecting user's primary group when not set.
    type: str
  directory_mode:
    description: Mode of the parent directories this module creates.
    type: str
    default: "0755"
"""

EXAMPLES = r"""
- name: Write the CA bundle and the client settings in one run
  eeszt.connect.tls_files:
    files:
      - path: /etc/eeszt/tls/eeszt-ca.pem
        content: "{{ bundle_pem }}"
        mode: "0644"
      - path: /etc/eeszt/openssl.cnf
        content: "{{ lookup('ansible.builtin.template', 'openssl.cnf.j2') }}"
        mode: "0644"
    secret_files:
      - path: /etc/eeszt/java.properties
        content: "{{ lookup('ansible.builtin.template', 'java.properties.j2') }}"
        mode: "0640"
    absent:
      - /etc/eeszt/curlrc
"""

RETURN = r"""
error:
  description:
    - On failure, a stable code for reports; the message names the file and why.
    - V(usage) (a mode that is not octal, a relative path, a path given twice) or V(write_failed)
      (a file or directory could not be read, written or removed, or a directory is in the way).
  returned: failure
  type: str
  sample: write_failed
changed_files:
  description: The files whose content, owner, group or mode changed (or would change in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/eeszt/eeszt.env]
removed:
  description: The paths of O(absent) that were removed (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/eeszt/java.properties]
created_directories:
  description: The parent directories that were created (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/eeszt]
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import write_atomic

FILE_SPEC = dict(
    path=dict(type="path", required=True),
    content=dict(type="str", required=True),
    mode=dict(type="str", required=True),
)
# Only the content is secret: paths and modes stay readable in results.
SECRET_FILE_SPEC = dict(FILE_SPEC, content=dict(type="str", required=True, no_log=True))


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
    """Create path and its missing parents with mode; record what was created."""
    if os.path.isdir(path):
        return
    ensure_directory(os.path.dirname(path), mode, check_mode, created)
    created.append(path)
    if check_mode:
        return
    try:
        os.mkdir(path, mode)
        os.chmod(path, mode)  # mkdir applies the umask
    except OSError as exc:
        raise TlsFilesError("cannot create the directory %s: %s" % (path, to_native(exc)))


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


def main():
    module = AnsibleModule(
        argument_spec=dict(
            files=dict(type="list", elements="dict", default=[], options=FILE_SPEC),
            secret_files=dict(type="list", elements="dict", default=[], options=SECRET_FILE_SPEC, no_log=False),
            absent=dict(type="list", elements="path", default=[]),
            owner=dict(type="str"),
            group=dict(type="str"),
            directory_mode=dict(type="str", default="0755"),
        ),
        supports_check_mode=True,
    )
    files = FileSet(module)
    try:
        files.run(module.params)
    except EESZTConnectError as exc:
        module.fail_json(msg=str(exc), error=error_code(exc), changed_files=files.changed_files, removed=files.removed,
                         created_directories=files.created_directories)
    result = dict(
        changed=bool(files.changed_files or files.removed or files.created_directories),
        changed_files=files.changed_files,
        removed=files.removed,
        created_directories=files.created_directories,
    )
    if files.diff:
        result["diff"] = files.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
