# Documentation only: the action plugin eeszt.connect.fleet_preflight (plugins/action/fleet_preflight.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: fleet_preflight
short_description: Check every site's controller-side files and variable names once, before any stage
version_added: 0.2.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - Runs on the controller only (an action plugin; the module file holds only this documentation) and
    never connects to a host. Meant to run once per play (C(run_once)); its result is handed to
    M(eeszt.connect.site_preflight), which fails each site with its own problems.
  - For every host of the play it templates, with the roles' defaults, the variables that point to files on
    the controller and checks each file. The institution's PFX (C(eeszt_certificate_pfx_src), and the seal's
    C(eeszt_proofs_signing_pfx)) must open with its password; the CA bundle (C(eeszt_tls_ca_bundle_src)) must
    be PEM CA certificates; the CA files (C(eeszt_certificate_ca_file), C(eeszt_proofs_ca_file)) must parse;
    the signing key, certificate and chain must be readable.
  - Each distinct file (and, for a PFX, password) is opened once per run, however many sites share it;
    the password stays in memory and is never returned.
  - A relative path is looked up relative to the host's C(inventory_dir) (the directory of the inventory
    file that defines the host), then in the C(files/) folders of the role and the playbook; a file that is
    not found is reported with every place that was looked at.
  - Warns about every C(eeszt_*) variable that nothing in the collection reads (a misspelt name passes
    silently otherwise), with the closest known name ("did you mean ..."), once per variable with the hosts that
    set it. Your own C(eeszt_*) variables go into O(ignore_unknown). With O(unknown_variables=fail), each host
    that sets one is refused by M(eeszt.connect.site_preflight) instead (the variable is one of its RV(hosts)
    problems), before anything is done on it. Either way the fleet summary (the C(eeszt.connect.fleet_summary)
    callback) lists them under C(warnings:), each once.
  - A host that the site registry refused (the variable C(eeszt_registry_refusal) of the C(eeszt.connect.sites)
    inventory plugin) is left out; M(eeszt.connect.site_preflight) refuses it with the registry's reason.
options:
  roles:
    description:
      - The roles whose files to check, as C(ROLE) or C(ROLE:ENTRY_POINT); a C(eeszt.connect.) prefix is
        allowed. Roles without controller-side files are accepted and add nothing.
    type: list
    elements: str
    default: [certificate, tls_client, connection_check, proofs]
  hosts:
    description:
      - The hosts to check; default all hosts of the play (C(ansible_play_hosts_all)).
    type: list
    elements: str
  ignore_unknown:
    description:
      - Names or shell patterns (C(eeszt_local_*)) of your own C(eeszt_*) variables, never warned about.
      - The preflight playbook sets it from C(eeszt_preflight_ignore_unknown).
    type: list
    elements: str
    default: []
  unknown_variables:
    description:
      - What an C(eeszt_*) variable that nothing reads does. C(warn) warns (the site runs); C(fail) refuses
        every host that sets one, naming the host, the variable and the closest known name.
      - The preflight playbook sets it from C(eeszt_preflight_unknown_variables) (default C(warn)).
    type: str
    choices: [warn, fail]
    default: warn
    version_added: 0.2.0
extends_documentation_fragment:
  - eeszt.connect.attributes.controller_check
notes:
  - Variables set by earlier tasks of the same run (facts) are not known yet.
  - A variable that does not template is left to M(eeszt.connect.site_preflight), which names it.
seealso:
  - module: eeszt.connect.site_preflight
  - module: eeszt.connect.waf_certificate
  - module: eeszt.connect.ca_bundle
"""

EXAMPLES = r"""
- name: Check the controller-side files and variable names of every site, once
  eeszt.connect.fleet_preflight:
    roles: [certificate, tls_client, connection_check, proofs]
    ignore_unknown: "{{ eeszt_preflight_ignore_unknown | default([]) }}"
  run_once: true
  register: __fleet

- name: Fail each site with its own problems (variables and files)
  eeszt.connect.site_preflight:
    fleet: "{{ __fleet }}"
"""

RETURN = r"""
hosts:
  description:
    - The file problems of each host that has any, in the shape of M(eeszt.connect.site_preflight)'s C(problems).
    - With O(unknown_variables=fail), also one problem per unknown variable the host sets.
  returned: always
  type: dict
  sample:
    site-07:
      - variable: eeszt_certificate_pfx_src
        value: '"pfx/123456.pfx"'
        message: "was not found on the controller (looked in: /srv/vendor/pfx/123456.pfx (relative to the inventory directory of the host))"
        remedy: set an absolute path, or a path relative to the directory of the inventory file that defines the host
unknown:
  description: The C(eeszt_*) variables that nothing in the collection reads, with the hosts that set them.
  returned: always
  type: list
  elements: dict
  contains:
    variable:
      description: The variable's name.
      type: str
      sample: eeszt_check_timout
    hosts:
      description: The hosts that have it.
      type: list
      elements: str
      sample: [site-01, site-02]
    did_you_mean:
      description: The closest variable the collection knows, or null.
      type: str
      sample: eeszt_check_timeout
unknown_variables:
  description: The O(unknown_variables) mode of this run.
  returned: always
  type: str
  sample: warn
files_opened:
  description: How many distinct files (and PFX passwords) were opened for all hosts together.
  returned: always
  type: int
  sample: 3
msg:
  description: A one-line summary.
  returned: always
  type: str
"""
