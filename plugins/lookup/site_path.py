# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Lookup plugin eeszt.connect.site_path: the collection's default paths on a site, stated once."""

from __future__ import annotations

DOCUMENTATION = r"""
name: site_path
author:
  - eeszt.connect developers (@eeszt-connect)
short_description: The collection's default paths on a site
description:
  - Returns the default path of the given name, as the collection's modules and roles use it, so that a
    default such as the certificate directory is stated once (C(plugins/module_utils/common/paths.py)).
  - The roles' defaults use it; set the role variables (for example C(eeszt_certificate_dir)) to use other paths.
options:
  _terms:
    description: Names of the paths.
    type: list
    elements: str
    required: true
    choices: [certificate_dir, ca_bundle, config_dir, proof_dir]
"""

EXAMPLES = r"""
- name: Where the certificate role installs the certificate set by default
  ansible.builtin.debug:
    msg: "{{ lookup('eeszt.connect.site_path', 'certificate_dir') }}"
"""

RETURN = r"""
_raw:
  description: The paths, in the order of the names.
  type: list
  elements: path
  sample: [/etc/eeszt/tls]
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase

from ansible_collections.eeszt.connect.plugins.module_utils.common.paths import SITE_PATHS


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        found = []
        for term in terms:
            if term not in SITE_PATHS:
                raise AnsibleLookupError("eeszt.connect.site_path: unknown path %r; one of %s"
                                         % (term, ", ".join(sorted(SITE_PATHS))))
            found.append(SITE_PATHS[term])
        return found
