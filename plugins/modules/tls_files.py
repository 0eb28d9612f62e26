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
  - The same run can take away what a disabled feature left on the site, so that the feature costs no
    task of its own; marked blocks in other files (O(absent_blocks), the hosts entries) and a local
    gateway (O(absent_gateway)).
  - Returns the site's clock (RV(site_time)); the action plugin compares it with the controller's
    when O(clock_max_skew) is set, so the clock check needs no run of its own.
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
  action:
    support: full
    description: An action plugin runs the module once and compares the site's clock with the controller's.
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
  absent_blocks:
    description:
      - Marked blocks to take out of files, as M(ansible.builtin.blockinfile) with C(state=absent)
        would; a missing file or block is left alone.
      - The file is rewritten in place (a bind-mounted C(/etc/hosts) cannot be replaced).
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path of the file.
        type: path
        required: true
      marker:
        description: The marker line, with C({mark}) where C(BEGIN) and C(END) go.
        type: str
        required: true
  absent_gateway:
    description:
      - A local gateway that is no longer wanted (see M(eeszt.connect.tls_gateway)). When O(absent_gateway.unit)
        exists, the service is disabled and stopped with C(systemctl), the unit removed and systemd reloaded; a
        daemon started from O(absent_gateway.config) is stopped; the configuration, pid, state and log files
        and the pid file's directory (when left empty) are removed.
    type: dict
    suboptions:
      config:
        description: The gateway's configuration file.
        type: path
        required: true
      pid_file:
        description: The daemon's pid file.
        type: path
        required: true
      log_file:
        description: The daemon's log file.
        type: path
      unit:
        description: The gateway's systemd unit file.
        type: path
  clock_max_skew:
    description:
      - Compare the site's clock with the controller's, read just before and after the run, as
        M(eeszt.connect.tls_clock_skew) does; the largest difference in seconds that is accepted.
      - Not set, no comparison.
    type: int
  clock_on_skew:
    description: What to do when the skew exceeds O(clock_max_skew); V(warn) or V(fail) (after the files are written).
    type: str
    choices: [warn, fail]
    default: warn
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
    absent_blocks:
      - path: /etc/hosts
        marker: "# {mark} eeszt.connect tls_client: EESZT host names"
    absent_gateway:
      config: /etc/eeszt/stunnel-gateway.conf
      pid_file: /run/eeszt-tls-gateway/stunnel.pid
      unit: /etc/systemd/system/eeszt-tls-gateway.service
    clock_max_skew: 60
"""

RETURN = r"""
error:
  description:
    - On failure, a stable code for reports; the message names the file and why.
    - V(usage) (a mode that is not octal, a relative path, a path given twice), V(write_failed)
      (a file or directory could not be read, written or removed, or a directory is in the way),
      V(stop_failed) or V(gateway_failed) (the disabled gateway could not be stopped or removed),
      V(clock_skew) (the skew is over O(clock_max_skew) and O(clock_on_skew=fail)).
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
removed_blocks:
  description: The files of O(absent_blocks) whose block was removed (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/hosts]
gateway_removed:
  description: The gateway's unit, files and directory that were removed (or would be in check mode).
  returned: always
  type: list
  elements: str
  sample: [/etc/eeszt/stunnel-gateway.conf, /run/eeszt-tls-gateway/stunnel.pid, /run/eeszt-tls-gateway]
site_time:
  description: The site's Unix time (whole seconds) during the run.
  returned: always
  type: int
  sample: 1767225600
clock:
  description:
    - The clock comparison when O(clock_max_skew) is set, with the keys of M(eeszt.connect.tls_clock_skew)'s
      result (V(site_time), V(controller_time), V(round_trip), V(skew), V(max_skew), V(within_limit), V(msg)).
  returned: when O(clock_max_skew) is set
  type: dict
  sample: {skew: 0.0, max_skew: 60, within_limit: true, msg: "the site's clock is within 60 s of the controller's (no measurable skew)"}
"""

import os
import stat
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes, to_native

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.tls.gateway import remove_gateway

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


def main():
    module = AnsibleModule(
        argument_spec=dict(
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
            # Read by the action plugin (the controller's clock); accepted here so that a direct run works too.
            clock_max_skew=dict(type="int"),
            clock_on_skew=dict(type="str", default="warn", choices=["warn", "fail"]),
        ),
        supports_check_mode=True,
    )
    site_time = int(time.time())
    files = FileSet(module)
    try:
        files.run(module.params)
    except EESZTConnectError as exc:
        module.fail_json(msg=str(exc), error=error_code(exc), changed_files=files.changed_files, removed=files.removed,
                         created_directories=files.created_directories, removed_blocks=files.removed_blocks,
                         gateway_removed=files.gateway_removed, site_time=site_time)
    result = dict(
        changed=bool(files.changed_files or files.removed or files.created_directories or files.removed_blocks
                     or files.gateway_removed),
        changed_files=files.changed_files,
        removed=files.removed,
        created_directories=files.created_directories,
        removed_blocks=files.removed_blocks,
        gateway_removed=files.gateway_removed,
        site_time=site_time,
    )
    if files.diff:
        result["diff"] = files.diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
