# Documentation only: the action plugin eeszt.connect.site_preflight (plugins/action/site_preflight.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: site_preflight
short_description: Check a site's variables on the controller before any stage touches the site
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - Runs on the controller only (an action plugin that never opens a connection to the host) and
    validates, for the current host, every variable that the given roles of this collection will use,
    so that a bad variable fails the site before any site is changed.
  - For each role it takes the role's C(defaults/main.yml) and the host's variables, templates each
    option of the role's C(meta/argument_specs.yml) and validates them with that argument spec (types,
    choices, required). The argument specs stay the single source of truth.
  - Then it checks what argument specs cannot express. The identity (C(eeszt_institution_id) and
    C(eeszt_site_id) against the site registry's patterns, overridable with
    C(eeszt_check_institution_id_pattern) / C(eeszt_institution_id_pattern) and the C(site_id) ones;
    C(eeszt_environment) among the environments the connection_check role knows). Every endpoint
    (C(eeszt_endpoints), else the environment's entry of C(eeszt_check_endpoints_by_environment)) with an
    https URL that has a host and a valid port, an HTTP method, C(expect_status) from 100 to
    599 and a positive C(timeout). Days and counts not negative, with
    C(eeszt_certificate_warn_days) >= C(eeszt_certificate_min_days). Positive timeouts. Proxy URLs
    shaped C(http://host:port). Absolute site-side paths. An octal key mode. Gateway ports from 1 to
    65535.
  - A host whose site registry row was refused (the variable C(eeszt_registry_refusal) that the
    C(eeszt.connect.sites) inventory plugin sets, with C(file), C(line), C(field) and C(reason)) fails with that
    reason alone (nothing else of its row was kept, so nothing else is checked).
  - With C(eeszt_preflight_unknown_variables=fail), an C(eeszt_*) variable that nothing reads is one of the
    host's problems (handed over by M(eeszt.connect.fleet_preflight) in O(fleet)).
  - Fails the host with one message that names the host and, for each bad variable, its name, its
    value and what to do. The value of a secret (an option marked C(no_log)) is never shown, only its
    name. Other hosts go on.
  - The playbooks of this collection run it as their first play (C(playbooks/preflight.yml)), after
    M(eeszt.connect.fleet_preflight).
options:
  roles:
    description:
      - The roles whose variables to check, as C(ROLE) or C(ROLE:ENTRY_POINT) (for example
        C(certificate:rollback)); a C(eeszt.connect.) prefix is allowed.
      - The identity variables are checked whatever the list holds when they are set; they are required
        when a role of the list requires them (C(connection_check), C(proofs)).
    type: list
    elements: str
    default: [certificate, tls_client, connection_check, proofs]
  fleet:
    description:
      - The registered result of M(eeszt.connect.fleet_preflight), run once for all sites before this
        task; the file problems it found for this host (PFX that does not open with its password, CA bundle
        that is not PEM, a file that is not found) are reported with the variable problems.
    type: dict
    default: {}
  checked:
    description:
      - The roles (and entry points) that an earlier preflight of the same run has already checked and
        passed for this host. They are not checked again, and RV(roles) lists them with O(roles).
      - When O(roles) is empty, nothing is checked and the result passes with RV(roles) set to these.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - eeszt.connect.attributes.controller_check
notes:
  - Variables set by earlier tasks of the same run (facts) are not known yet; the roles still validate
    their arguments when they start.
seealso:
  - module: ansible.builtin.validate_argument_spec
"""

EXAMPLES = r"""
- name: Check every variable of the whole flow before the first stage
  eeszt.connect.site_preflight:

- name: Check only what the certificate stage and its rollback use
  eeszt.connect.site_preflight:
    roles:
      - certificate
      - certificate:rollback
"""

RETURN = r"""
error:
  description:
    - On failure, what went wrong, for reports; V(bad_variables) (see RV(problems)) or
      V(argument_spec_unreadable).
  returned: failure
  type: str
  sample: bad_variables
checked:
  description: How many variables were checked (the options of the roles' argument specs and the identity).
  returned: always
  type: int
  sample: 98
roles:
  description: The roles (and entry points) whose variables were checked, in this task or (O(checked)) by an
    earlier preflight of the same run.
  returned: always
  type: list
  elements: str
  sample: [certificate, tls_client, connection_check, proofs]
problems:
  description: One entry per bad variable; empty when every variable is valid.
  returned: always
  type: list
  elements: dict
  contains:
    variable:
      description: The variable, with the path into it for lists and mappings (C(eeszt_endpoints[0].url)).
      type: str
      sample: eeszt_endpoints[0].url
    value:
      description: The value as JSON, shortened; null for a secret or a variable that is not set.
      type: str
      sample: '"htps://waf.example"'
    message:
      description: What is wrong with it.
      type: str
      sample: must use https:// (got scheme "htps")
    remedy:
      description: What to do about it.
      type: str
      sample: write it as https://host[:port]/path (from the EESZT connection documents)
  sample:
    - variable: eeszt_certificate_min_days
      value: "-3"
      message: must be a number >= 0
      remedy: set a non-negative number
msg:
  description: On failure the host and every problem in one line; otherwise a short confirmation.
  returned: always
  type: str
"""
