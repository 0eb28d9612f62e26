# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.ca_bundle: validate a CA bundle on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.ca_bundle import (
    CaBundleError,
    bundle_sha256,
    validate_bundle,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files

ARGUMENT_SPEC = {
    "src": {"type": "path", "required": True},
    "warn_days": {"type": "int", "default": 30},
}


class ActionModule(ActionBase):
    """Runs entirely on the controller; nothing is sent to the site."""

    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        try:
            _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, error="invalid_argument", msg=to_text(exc.message))
            return result
        if args["warn_days"] < 0:
            result.update(failed=True, error="invalid_argument", msg="warn_days must not be negative")
            return result
        try:
            src = controller_files.find(args["src"], task_vars, action=self)
        except controller_files.ControllerFileNotFound as exc:
            result.update(failed=True, error="not_found", src=args["src"], msg=controller_files.not_found_message(
                "CA bundle", "src, eeszt_tls_ca_bundle_src in the tls_client role", exc))
            return result
        try:
            pem, certificates, warnings = validate_bundle(src, warn_days=args["warn_days"])
        except CaBundleError as exc:
            result.update(failed=True, error=exc.code, msg=str(exc), src=src)
            return result
        result.update(
            changed=False,
            src=src,
            pem=pem,
            sha256=bundle_sha256(pem),
            certificates=certificates,
            msg="%d CA certificate(s) in %s are valid" % (len(certificates), src),
        )
        if warnings:
            result["warnings"] = warnings
        return result
