#!/usr/bin/python
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: operator_files
short_description: List (or read one of) the operator files on a site
version_added: 0.1.0
description:
  - Operator files are files on a site that the operator's verification program (C(eesztConnect.exe),
    the "ellenőrző keretprogram") or the institution produced and that were copied there, for example the
    program's output. M(eeszt.connect.proofs_archive) runs this module on the site to find them, then
    archives, seals and bundles them beside the site's proofs.
  - Runs on the site with the Python standard library only. Resolves O(patterns) (absolute paths or
    globs) on the site and lists each matching regular file with its size, modification time and SHA-256.
  - A match is refused, with a reason, and the others go on, when it is larger than O(max_bytes), when it is
    not a regular file, when its name is hidden, has a control character or is not UTF-8, when another
    collected file has the same name, or when it is (or is reached through) a symbolic link that resolves
    outside the directory of its pattern; such a link is never followed. The directory of a pattern is its
    longest leading part without a wildcard (C(/var/lib/eeszt/operator) for
    C(/var/lib/eeszt/operator/*.pdf)); for a plain path, the directory it is in.
  - With O(read), returns the content of that one file (base64), after the same checks, read without
    following a symbolic link and never more than O(max_bytes).
  - Read only.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Reads only; the same in check mode.
  diff_mode:
    support: none
    description: Reads only.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with Python 3.8 or newer.
options:
  patterns:
    description:
      - Absolute paths or globs (C(*), C(?), C([...])) of the operator files on the site. C(..) is refused.
      - Hidden files (names starting with C(.)) are not matched by C(*).
    type: list
    elements: str
    required: true
  max_bytes:
    description: Files larger than this are refused (default 10 MiB).
    type: int
    default: 10485760
  read:
    description:
      - A path as listed in RV(files[].path); the module returns its content in RV(content).
      - It must be one of the files that O(patterns) accept at the time of reading.
    type: str
seealso:
  - module: eeszt.connect.proofs_archive
"""

EXAMPLES = r"""
- name: List the copies of the operator program's output on the site
  eeszt.connect.operator_files:
    patterns:
      - /var/lib/eeszt/operator/*.pdf
      - /var/lib/eeszt/operator/eesztConnect.log
  register: operator_files

- name: Show what was found and what was refused
  ansible.builtin.debug:
    msg: "{{ operator_files.files | map(attribute='name') | list }}; refused: {{ operator_files.refused }}"
"""

RETURN = r"""
error:
  description:
    - On failure, a stable code for reports; V(usage) (O(max_bytes) below 1) or
      V(operator_file_refused) (the file of O(read) is not collected; RV(reason) says why).
  returned: failure
  type: str
  sample: operator_file_refused
reason:
  description: With O(read), why the file is not collected.
  returned: when the file of O(read) is refused
  type: str
  sample: is not a regular file
files:
  description: Files that can be collected.
  returned: always
  type: list
  elements: dict
  contains:
    pattern:
      description: The pattern that matched the file.
      type: str
    path:
      description: The path as matched.
      type: str
      sample: /var/lib/eeszt/operator/igazolas.pdf
    real_path:
      description: The path with every symbolic link resolved (inside the directory of the pattern).
      type: str
    name:
      description: File name.
      type: str
      sample: igazolas.pdf
    size:
      description: Size in bytes.
      type: int
    modified_at:
      description: Modification time, UTC, ISO 8601.
      type: str
      sample: "2026-11-25T10:00:00Z"
    sha256:
      description: SHA-256 of the content.
      type: str
refused:
  description: Matches that are not collected, each with why.
  returned: always
  type: list
  elements: dict
  contains:
    pattern:
      description: The pattern.
      type: str
    path:
      description: The path as matched.
      type: str
    reason:
      description: Why it is not collected.
      type: str
      sample: "is a symbolic link to /etc/shadow, outside /var/lib/eeszt/operator: not followed (copy the file into that directory)"
unmatched:
  description: Patterns that matched no file.
  returned: always
  type: list
  elements: str
content:
  description: With O(read), the file's content, base64.
  returned: when O(read) is given
  type: str
sha256:
  description: With O(read), the SHA-256 of RV(content).
  returned: when O(read) is given
  type: str
size:
  description: With O(read), the number of bytes read.
  returned: when O(read) is given
  type: int
"""

import base64

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex
from ansible_collections.eeszt.connect.plugins.module_utils.proofs.operator_files import (
    OperatorFileRefused,
    read_listed,
    resolve,
)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            patterns=dict(type="list", elements="str", required=True),
            max_bytes=dict(type="int", default=10485760),
            read=dict(type="str"),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["max_bytes"] < 1:
        module.fail_json(msg="max_bytes must be at least 1, got %d" % params["max_bytes"], error="usage")
    if params["read"] is None:
        module.exit_json(changed=False, **resolve(params["patterns"], params["max_bytes"]))
    try:
        entry, data = read_listed(params["patterns"], params["read"], params["max_bytes"])
    except OperatorFileRefused as exc:
        module.fail_json(msg="%s %s" % (params["read"], exc), error=exc.code, refused=True, reason="%s" % exc)
    module.exit_json(changed=False, files=[entry], refused=[], unmatched=[], size=len(data),
                     sha256=sha256_hex(data), content=base64.b64encode(data).decode("ascii"))


if __name__ == "__main__":
    main()
