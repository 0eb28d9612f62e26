# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.proofs_verify: verify a proof archive on the controller (see the module file
for the documentation)."""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import ArchiveLock, SiteLockError
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import CRYPTOGRAPHY_IMPORT_ERROR, CaFileError, read_anchors
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signers import adopt_existing
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive

ARGUMENT_SPEC = dict(
    archive_dir=dict(type="path", required=True),
    ca_file=dict(type="path"),
    register_existing=dict(type="bool", default=False),
    lock_timeout=dict(type="int", default=300),
)
LOCK_OPERATION = "eeszt.connect.proofs_verify: adopting the signers of existing seals"


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        if CRYPTOGRAPHY_IMPORT_ERROR is not None:
            module.fail_json(msg=missing_required_lib("cryptography"), exception=to_text(CRYPTOGRAPHY_IMPORT_ERROR),
                             error="missing_library")
        params = module.params
        try:
            anchors = read_anchors(params["ca_file"]) if params["ca_file"] else None
        except CaFileError as exc:
            module.fail_json(msg=to_text(exc), error=exc.code)
        adoption = {}
        if params["register_existing"]:
            adoption = self._adopt(module, anchors)
        result = verify_archive(params["archive_dir"], anchors)
        result.update(adoption)
        for entry in result["quarantined"]:
            # Listed, not a failure: never archived as a proof nor sealed (see verify.py).
            module.warn("quarantined (not evidence, not a problem of the archive): %s from host %s at %s UTC: %s"
                        % (entry["path"], entry["host"] or "?", entry["at"] or "?", entry["reason"]))
        if result["problems"]:
            module.fail_json(
                msg="%d problem(s) in the proof archive %s (%d proof file(s) and %d operator file(s) checked): %s" % (
                    len(result["problems"]), params["archive_dir"], result["checked"],
                    result["operator_checked"],
                    "; ".join("%s [%s]: %s" % (p["path"], p["kind"], p["message"]) for p in result["problems"])),
                error="archive_problems", **result)
        module.exit_json(**result)

    def _adopt(self, module, anchors):
        """eeszt_proofs_register_existing: register the signers of the existing seals, under the archive lock."""
        if module.check_mode:
            module.fail_json(msg="register_existing (eeszt_proofs_register_existing) writes the signer registers: "
                                 "run it without check mode", error="check_mode")
        lock = ArchiveLock(module.params["archive_dir"], module.params["lock_timeout"],
                           owner={"operation": LOCK_OPERATION})
        try:
            lock.acquire()
            try:
                adopted, refused = adopt_existing(module.params["archive_dir"], anchors)
            finally:
                lock.release()
        except SiteLockError as exc:
            module.fail_json(msg=to_text(exc), error=exc.code)
        except EESZTConnectError as exc:
            module.fail_json(msg=to_text(exc), error="register_failed")
        for why in refused:
            module.warn(why)
        return {"adopted": adopted, "not_adopted": refused, "changed": bool(adopted)}
