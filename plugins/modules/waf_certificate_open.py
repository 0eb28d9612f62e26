# Documentation only: the action plugin eeszt.connect.waf_certificate_open (plugins/action/waf_certificate_open.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: waf_certificate_open
short_description: Open each distinct institution PFX of the play once, for eeszt.connect.waf_certificate
version_added: 0.1.0
description:
  - Runs once (C(run_once)) on the controller and never connects to a host. For each host of the play it
    reads the certificate role's variables C(eeszt_certificate_pfx_src) and C(eeszt_certificate_pfx_password) of
    the host and opens each
    distinct pair of PFX file and password once, however many sites of the institution use it.
  - Each host's task M(eeszt.connect.waf_certificate) then takes the opened contents from this result
    (its option O(eeszt.connect.waf_certificate#module:pfx_opened)) and validates them for that host (days
    left, institution, chain) with the same messages and error codes as when it opens the PFX itself.
  - A PFX that cannot be opened (wrong password, damaged file) is not a failure of this task. The error
    code and message are handed to each host that uses the file, and that host's task fails with them.
  - The result holds the private keys in clear text. Run the task with C(no_log) and C(register) only
    (registered results are never written to a fact cache), never store it with C(set_fact).
  - This module file holds only the documentation; the action plugin of the same name does the work.
author:
  - eeszt.connect developers (@eeszt-connect)
extends_documentation_fragment:
  - eeszt.connect.attributes.controller_check
options:
  hosts:
    description: The hosts to open the PFX of; by default the hosts of the play (C(ansible_play_hosts)).
    type: list
    elements: str
notes:
  - A host without the PFX variable, or whose variables do not template, is left out; its
    M(eeszt.connect.waf_certificate) task opens (and refuses) the file itself.
seealso:
  - module: eeszt.connect.waf_certificate
"""

EXAMPLES = r"""
- name: Open each distinct institution PFX once, on the controller
  eeszt.connect.waf_certificate_open:
  run_once: true
  no_log: true
  register: pfx_opened

- name: Install the certificate on each site from the opened PFX
  eeszt.connect.waf_certificate:
    pfx_src: "{{ eeszt_certificate_pfx_src }}"
    pfx_opened: "{{ pfx_opened.sources[pfx_opened.hosts[inventory_hostname]] }}"
    dir: /etc/eeszt/tls
"""

RETURN = r"""
opened:
  description: How many distinct PFX files (file and password) were opened.
  returned: success
  type: int
  sample: 2
hosts:
  description: For each host with a PFX, the key of its entry in RV(sources).
  returned: success
  type: dict
  sample: {"site001": "pfx0", "site002": "pfx0", "site004": "pfx1"}
sources:
  description:
    - One entry per distinct PFX, for the hosts' M(eeszt.connect.waf_certificate) tasks only; it holds the
      private key in clear text (C(no_log)).
    - An entry of a PFX that could not be opened holds C(error) (the code) and C(msg) instead.
  returned: success
  type: dict
"""
