# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.ca_bundle: validate a CA bundle on the controller."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
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


class ActionModule(ControllerAction):
    """Runs entirely on the controller; nothing is sent to the site."""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        args = module.params
        if args["warn_days"] < 0:
            module.fail_json(msg="warn_days must not be negative", error="invalid_argument")
        try:
            src = controller_files.find(args["src"], self._task_vars, action=self)
        except controller_files.ControllerFileNotFound as exc:
            module.fail_json(error="not_found", src=args["src"], msg=controller_files.not_found_message(
                "CA bundle", "src, eeszt_tls_ca_bundle_src in the tls_client role", exc))
        try:
            pem, certificates, warnings = validate_bundle(src, warn_days=args["warn_days"])
        except CaBundleError as exc:
            module.fail_json(error=exc.code, msg=str(exc), src=src)
        for warning in warnings:
            module.warn(warning)
        module.exit_json(
            changed=False,
            src=src,
            pem=pem,
            sha256=bundle_sha256(pem),
            certificates=certificates,
            msg="%d CA certificate(s) in %s are valid" % (len(certificates), src),
        )
