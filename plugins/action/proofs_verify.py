# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.proofs_verify: verify a proof archive on the controller (see the module file
for the documentation)."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import CRYPTOGRAPHY_IMPORT_ERROR
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive

try:
    from cryptography import x509
except ImportError:  # pragma: no cover - reported through CRYPTOGRAPHY_IMPORT_ERROR
    x509 = None

ARGUMENT_SPEC = dict(
    archive_dir=dict(type="path", required=True),
    ca_file=dict(type="path"),
)


def _anchors(module, path):
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except (IOError, OSError) as exc:
        module.fail_json(msg="cannot read the CA file %s: %s" % (path, exc.strerror or exc), error="ca_file_unreadable")
    try:
        return x509.load_pem_x509_certificates(data)
    except (ValueError, x509.InvalidVersion):
        module.fail_json(msg="the CA file %s holds no PEM certificate" % path, error="ca_file_invalid")


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        if CRYPTOGRAPHY_IMPORT_ERROR is not None:
            module.fail_json(msg=missing_required_lib("cryptography"), exception=to_text(CRYPTOGRAPHY_IMPORT_ERROR),
                             error="missing_library")
        anchors = _anchors(module, module.params["ca_file"]) if module.params["ca_file"] else None
        result = verify_archive(module.params["archive_dir"], anchors)
        for entry in result["quarantined"]:
            # Listed, not a failure: never archived as a proof nor sealed (see verify.py).
            module.warn("quarantined (not evidence, not a problem of the archive): %s from host %s at %s UTC: %s"
                        % (entry["path"], entry["host"] or "?", entry["at"] or "?", entry["reason"]))
        if result["problems"]:
            module.fail_json(
                msg="%d problem(s) in the proof archive %s (%d proof file(s) and %d operator file(s) checked): %s" % (
                    len(result["problems"]), module.params["archive_dir"], result["checked"],
                    result["operator_checked"],
                    "; ".join("%s [%s]: %s" % (p["path"], p["kind"], p["message"]) for p in result["problems"])),
                error="archive_problems", **result)
        module.exit_json(**result)
