# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.lab_pki: the rehearsal lab's PKI, made on the controller (see the module file
for the documentation)."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import CRYPTOGRAPHY_MINIMUM
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import (
    CRYPTOGRAPHY_IMPORT_ERROR, DEFAULT_INSTITUTION_ID_PATTERN, DEFAULT_SITE_ID_PATTERN, DEFAULT_WAF_HOSTNAMES,
    DEFAULT_WAF_IPS, HAS_CRYPTOGRAPHY, build_lab_pki,
)

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    sites=dict(type="list", elements="dict", default=[], options=dict(
        institution_id=dict(type="str", required=True),
        site_id=dict(type="str", required=True),
    )),
    waf_hostnames=dict(type="list", elements="str", default=list(DEFAULT_WAF_HOSTNAMES)),
    waf_ips=dict(type="list", elements="str", default=list(DEFAULT_WAF_IPS)),
    institution_id_pattern=dict(type="str", default=DEFAULT_INSTITUTION_ID_PATTERN),
    site_id_pattern=dict(type="str", default=DEFAULT_SITE_ID_PATTERN),
)


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        if not HAS_CRYPTOGRAPHY:
            module.fail_json(msg=missing_required_lib("cryptography >= %s" % CRYPTOGRAPHY_MINIMUM), exception=CRYPTOGRAPHY_IMPORT_ERROR,
                             error="missing_library")
        params = module.params
        module.exit_json(**build_lab_pki(
            params["path"], params["sites"], waf_hostnames=params["waf_hostnames"], waf_ips=params["waf_ips"],
            check_mode=module.check_mode, institution_id_pattern=params["institution_id_pattern"],
            site_id_pattern=params["site_id_pattern"]))
