# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
name: failure_reason
short_description: The message of a failed or unreachable result without Ansible's prefix
version_added: 0.1.0
description:
  - >-
    ansible-core 2.19 puts C(Task failed: ) before the message (C(msg)) of a failed or unreachable task result,
    once or several times when a message is passed on. This filter removes every leading one and changes
    nothing else, so that the message can be recorded or shown as the task gave it.
  - The same function strips the prefix in the C(eeszt.connect.fleet_summary) callback and in the
    C(eeszt.connect.proofs) role.
author:
  - eeszt.connect developers (@eeszt-connect)
options:
  _input:
    description: The message; a value that is not text is turned into text, none is the empty text.
    type: raw
    required: true
seealso:
  - plugin: eeszt.connect.fleet_summary
    plugin_type: callback
"""

EXAMPLES = r"""
- name: Record why a site was unreachable, as the connection error says it
  ansible.builtin.set_fact:
    site_reason: "{{ archive_result.msg | default('unreachable') | eeszt.connect.failure_reason }}"

# "Task failed: Task failed: ssh: connect to host 10.1.2.3 port 22: Connection refused"
# becomes "ssh: connect to host 10.1.2.3 port 22: Connection refused"
"""

RETURN = r"""
_value:
  description: "The message without the leading C(Task failed: ) prefixes."
  type: str
  sample: "ssh: connect to host 10.1.2.3 port 22: Connection refused"
"""

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import failure_reason


class FilterModule(object):
    """eeszt.connect.failure_reason."""

    def filters(self):
        return {"failure_reason": failure_reason}
