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
  - The action plugin renders the templates of O(templates) on the controller, each once, as
    M(ansible.builtin.template) does, and sends them to the site as entries of O(files) or O(secret_files).
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
    description:
      - An action plugin renders O(templates) on the controller, runs the module once and compares the site's
        clock with the controller's.
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
  publish:
    description:
      - Values the action plugin returns in the task's result as they are, with RV(stage=tls), once the files
        are written, so that the registered result is a role's public fact (the role eeszt.connect.tls_client
        registers it as C(eeszt_tls_result), with C(ca_bundle), C(ca_bundle_sha256), C(client_cert), C(client_key),
        C(config_dir), C(client_files), C(proxy)); the module never receives this option.
      - Give no secret here, the values are returned unmasked.
    type: dict
  templates:
    description:
      - Templates to render on the controller and write on the site. The action plugin finds each
        O(templates[].src) as M(ansible.builtin.template) finds its source (the role's, then the playbook's
        C(templates) folder), renders it with the task's variables (without the C(template_*) variables of
        M(ansible.builtin.template)) and adds the text to O(files), or to O(secret_files) when
        O(templates[].secret=true); the module never receives this option.
      - A template that is not found or cannot be rendered fails the task before the site is touched (RV(error)).
    type: list
    elements: dict
    default: []
    suboptions:
      src:
        description: The template's name or path.
        type: str
        required: true
      path:
        description: Absolute path of the file on the site.
        type: str
        required: true
      mode:
        description: The file's mode, in octal.
        type: str
        required: true
      secret:
        description: The rendered text holds secrets; it goes to O(secret_files), never into a diff, a log or a result.
        type: bool
        default: false
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
  ca_bundle:
    description:
      - A CA bundle on the controller to validate as M(eeszt.connect.ca_bundle) does (PEM certificates only, each a
        CA, none expired or not yet valid; a warning for each that expires within O(ca_bundle.warn_days) days), then
        to install on the site with the other files; the module never receives this option.
      - A bundle that is not found or not valid fails the task before the site is touched (RV(error)).
    type: dict
    suboptions:
      src:
        description: The bundle on the controller (PEM), found as M(eeszt.connect.ca_bundle) finds it.
        type: path
        required: true
      path:
        description: Absolute path of the bundle on the site.
        type: str
        required: true
      warn_days:
        description: Warn about a CA certificate that expires within this many days.
        type: int
        default: 30
      mode:
        description: The bundle's mode on the site, in octal.
        type: str
        default: "0644"
  problems:
    description:
      - Messages of input checks made by the calling role (the role eeszt.connect.tls_client computes them when no
        preflight has checked its variables); when any is not empty, the task fails with them, joined, and
        RV(error=invalid_input) before anything else is done. The module never receives this option.
    type: list
    elements: str
    default: []
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
    # Rendered on the controller, each once; java.properties holds a password.
    templates:
      - src: openssl.cnf.j2
        path: /etc/eeszt/openssl.cnf
        mode: "0644"
      - src: java.properties.j2
        path: /etc/eeszt/java.properties
        mode: "0640"
        secret: true
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
stage:
  description: C(tls), with the values of O(publish) beside it (the public fact C(eeszt_tls_result)).
  returned: success, when O(publish) is given
  type: str
  sample: tls
error:
  description:
    - On failure, a stable code for reports; the message names the file and why.
    - V(usage) (a mode that is not octal, a relative path, a path given twice, a wrong entry of O(templates)),
      V(template_not_found) or V(template_failed) (a template of O(templates) is not found or cannot be rendered
      on the controller), V(write_failed)
      (a file or directory could not be read, written or removed, or a directory is in the way),
      V(stop_failed) or V(gateway_failed) (the disabled gateway could not be stopped or removed),
      V(clock_skew) (the skew is over O(clock_max_skew) and O(clock_on_skew=fail)),
      V(invalid_input) (O(problems) holds a message), V(not_found) or a code of M(eeszt.connect.ca_bundle)
      (the bundle of O(ca_bundle) is not found or not valid).
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
ca_bundle_sha256:
  description: The SHA-256 of the installed bundle's PEM text (the distinct certificates, in file order).
  returned: success, when O(ca_bundle) is given
  type: str
  sample: 5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef
ca_certificates:
  description: The public facts of each certificate of the bundle, as M(eeszt.connect.ca_bundle) returns them.
  returned: success, when O(ca_bundle) is given
  type: list
  elements: dict
  sample: [{subject: "CN=EESZT Test Root CA", sha256: "5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"}]
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

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code
from ansible_collections.eeszt.connect.plugins.module_utils.tls.files import FileSet, argument_spec


def main():
    # clock_max_skew, clock_on_skew, templates and publish are read by the action plugin; accepted here so that
    # a direct run works too (templates and publish are refused below).
    module = AnsibleModule(
        argument_spec=argument_spec(),
        supports_check_mode=True,
    )
    if module.params["templates"]:
        module.fail_json(msg="templates are rendered on the controller by the action plugin eeszt.connect.tls_files; "
                             "give this module their content in files or secret_files", error="usage")
    if module.params["ca_bundle"] is not None or module.params["problems"]:
        module.fail_json(msg="ca_bundle and problems are read by the action plugin eeszt.connect.tls_files, which a "
                             "direct module run lacks; give this module the bundle in files", error="usage")
    if module.params["publish"] is not None:
        module.fail_json(msg="publish is returned by the action plugin eeszt.connect.tls_files, which a direct "
                             "module run lacks", error="usage")
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
