# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.proofs_archive (see the module for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import hashlib
import os
import posixpath

from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import load_pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import (
    accept_proof,
    operator_content_problem,
    plan_operator_files,
    plan_site,
    store_operator_file,
    store_proof,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.common import (
    ProofsError,
    SealError,
    ensure_dir,
    read_bytes,
    site_dir,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, load_pem_signer
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files


def argument_spec():
    return dict(
        archive_dir=dict(type="path", required=True),
        proof_dir=dict(type="path", default="/var/lib/eeszt/proofs"),
        institution_id=dict(type="str", required=True),
        site_id=dict(type="str", required=True),
        reported_path=dict(type="path"),
        reported_sha256=dict(type="str"),
        signing_pfx=dict(type="path"),
        signing_pfx_password=dict(type="str", no_log=True),
        signing_key=dict(type="path", no_log=False),
        signing_key_password=dict(type="str", no_log=True),
        signing_cert=dict(type="path"),
        signing_chain=dict(type="path"),
        operator_files=dict(type="list", elements="str", default=[]),
        operator_files_max_bytes=dict(type="int", default=10485760),
        merge_from=dict(type="list", elements="path", default=[]),
    )


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _task_vars = None

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        self._task_vars = task_vars or {}
        dummy, args = self.validate_argument_spec(
            argument_spec=argument_spec(),
            required_together=[("signing_key", "signing_cert")],
            required_one_of=[("signing_pfx", "signing_key")],
            mutually_exclusive=[("signing_pfx", "signing_key")],
        )
        result.update(changed=False, archived=[], skipped=[], errors=[], listed=0, operator_archived=[],
                      operator_skipped=[], operator_refused=[], operator_unmatched=[])
        self._cached_signer = None
        try:
            try:
                self._archive(args, task_vars, result)
            except EESZTConnectError as exc:
                result["errors"].append(to_text(exc))
            if args["operator_files"]:
                try:
                    self._operator_files(args, task_vars, result)
                except EESZTConnectError as exc:
                    result["errors"].append("operator files: %s" % to_text(exc))
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if result["operator_refused"]:
            result["warnings"] = ["operator file %s of site %s/%s was not collected: it %s" % (
                item["path"], args["institution_id"], args["site_id"], item["reason"])
                for item in result["operator_refused"]]
        if result["errors"]:
            result["failed"] = True
            result["msg"] = "%d proof file(s) of site %s/%s could not be archived: %s" % (
                len(result["errors"]), args["institution_id"], args["site_id"], " | ".join(result["errors"]))
        return result

    # --- the site --------------------------------------------------------------

    def _remote(self, module, module_args, task_vars):
        found = self._execute_module(module_name=module, module_args=module_args, task_vars=task_vars)
        if found.get("failed"):
            raise ProofsError("%s on the site failed: %s" % (module, found.get("msg", "no message")))
        return found

    def _list(self, proof_dir, task_vars):
        found = self._remote("ansible.builtin.find", dict(
            paths=[proof_dir], patterns=["*.json"], file_type="file", recurse=False, hidden=False,
            get_checksum=True, checksum_algorithm="sha256"), task_vars)
        if found.get("skipped_paths"):
            reason = found["skipped_paths"].get(proof_dir, "")
            if "not exist" not in reason and "not a directory" not in reason.lower():
                raise ProofsError("cannot list the proof directory %s on the site: %s" % (proof_dir, reason))
        return [{"name": posixpath.basename(f["path"]), "path": f["path"], "sha256": f.get("checksum")}
                for f in found.get("files", [])]

    def _fetch(self, path, task_vars):
        slurped = self._remote("ansible.builtin.slurp", dict(src=path), task_vars)
        return base64.b64decode(slurped["content"])

    # --- the controller ----------------------------------------------------------

    def _controller_file(self, path, what):
        try:
            found = controller_files.find(path, self._task_vars, action=self)
        except controller_files.ControllerFileNotFound as exc:
            raise SealError(controller_files.not_found_message(what, "see eeszt_proofs_signing_*", exc))
        return found, self._loader.get_real_file(found, decrypt=True)

    def _read_controller(self, path, what):
        shown, real = self._controller_file(path, what)
        try:
            return shown, read_bytes(real)
        except (IOError, OSError) as exc:
            raise SealError("cannot read the %s %s: %s" % (what, shown, exc.strerror or exc))
        finally:
            self._loader.cleanup_tmp_file(real)

    def _signer(self, args):
        if self._cached_signer is None:
            self._cached_signer = self._load_signer(args)
        return self._cached_signer

    def _load_signer(self, args):
        if args["signing_key"]:
            shown, key = self._read_controller(args["signing_key"], "signing key")
            dummy, cert = self._read_controller(args["signing_cert"], "signing certificate")
            chain = self._read_controller(args["signing_chain"], "signing chain")[1] if args["signing_chain"] else None
            return load_pem_signer(key, cert, args["signing_key_password"], chain, shown)
        shown, real = self._controller_file(args["signing_pfx"], "signing PFX file")
        try:
            contents = load_pfx(real, args["signing_pfx_password"], display_path=shown,
                                src_variable="eeszt_proofs_signing_pfx",
                                password_variable="eeszt_proofs_signing_pfx_password")
        finally:
            self._loader.cleanup_tmp_file(real)
        if contents.key is None or contents.certificate is None:
            raise SealError("the PFX file %s holds no key and certificate to seal the proofs with" % shown)
        return Signer(contents.key, contents.certificate, contents.additional)

    @staticmethod
    def _known(args):
        """The archives about to be merged into this one: their seals are reused, not made a second time."""
        archive = os.path.realpath(args["archive_dir"])
        return [os.path.abspath(path) for path in args["merge_from"] or []
                if os.path.isdir(path) and os.path.realpath(path) != archive]

    def _archive(self, args, task_vars, result):
        archive = os.path.abspath(args["archive_dir"])
        institution_id, site_id = args["institution_id"], args["site_id"]
        result["site_dir"] = site_dir(archive, institution_id, site_id)
        remote = self._list(args["proof_dir"], task_vars)
        result["listed"] = len(remote)
        by_name = dict((item["name"], item) for item in remote)
        reported_name = None
        if args["reported_path"]:
            reported_name = posixpath.basename(args["reported_path"])
            listed = by_name.get(reported_name)
            if listed is None or posixpath.normpath(listed["path"]) != posixpath.normpath(args["reported_path"]):
                result["errors"].append("%s: the connection check reported this proof, but it is not in %s on the "
                                        "site" % (args["reported_path"], args["proof_dir"]))
                reported_name = None
        new, skipped, errors = plan_site(archive, institution_id, site_id, remote)
        result["skipped"] = skipped
        result["errors"].extend(errors)
        if reported_name and args["reported_sha256"] and by_name[reported_name]["sha256"] != args["reported_sha256"]:
            result["errors"].append("%s: the connection check reported SHA-256 %s, the file on the site has %s"
                                    % (args["reported_path"], args["reported_sha256"], by_name[reported_name]["sha256"]))
            new = [name for name in new if name != reported_name]
        if not new:
            return
        if self._play_context.check_mode:
            result["archived"] = [{"name": n, "path": "/".join((institution_id, site_id, n)), "sha256": None,
                                   "seal": None, "signer": None} for n in new]
            result["changed"] = True
            return
        signer = self._signer(args)
        ensure_dir(archive)
        for name in new:
            expected = [("the site's listing", by_name[name]["sha256"])]
            if name == reported_name:
                expected.append(("the connection check", args["reported_sha256"]))
            try:
                data = self._fetch(by_name[name]["path"], task_vars)
                accept_proof(data, name, institution_id, site_id, expected)
                stored = store_proof(archive, institution_id, site_id, name, data, signer, known=self._known(args))
            except ProofsError as exc:
                result["errors"].append(to_text(exc))
                continue
            if stored is not None:
                result["archived"].append(stored)
                result["changed"] = True

    # --- operator files ------------------------------------------------------------

    def _operator_files(self, args, task_vars, result):
        """Archive, seal and record the operator files of the site (eeszt.connect.operator_files lists them)."""
        archive = os.path.abspath(args["archive_dir"])
        institution_id, site_id = args["institution_id"], args["site_id"]
        if args["operator_files_max_bytes"] < 1:
            raise ProofsError("operator_files_max_bytes (eeszt_proofs_operator_files_max_bytes) must be at least 1, "
                              "got %d" % args["operator_files_max_bytes"])
        site_args = dict(patterns=args["operator_files"], max_bytes=args["operator_files_max_bytes"])
        listing = self._remote("eeszt.connect.operator_files", site_args, task_vars)
        result["operator_unmatched"] = listing.get("unmatched", [])
        refused = [{"path": item["path"], "reason": item["reason"]} for item in listing.get("refused", [])]
        new, skipped, not_taken = plan_operator_files(archive, institution_id, site_id, listing.get("files", []))
        result["operator_skipped"] = skipped
        refused += [{"path": item["path"], "reason": reason} for item, reason in not_taken]
        result["operator_refused"] = refused
        if not new:
            return
        if self._play_context.check_mode:
            result["operator_archived"] = [
                {"name": name, "path": "/".join((institution_id, site_id, "operator", "files", name)),
                 "source": item["path"], "size": item["size"], "sha256": item["sha256"], "seal": None,
                 "signer": None, "collected_at": None} for item, name in new]
            result["changed"] = True
            return
        signer = self._signer(args)
        ensure_dir(archive)
        for item, name in new:
            read = dict(site_args, read=item["path"])
            fetched = self._execute_module(module_name="eeszt.connect.operator_files", module_args=read,
                                           task_vars=task_vars)
            if fetched.get("failed"):
                refused.append({"path": item["path"], "reason": fetched.get("reason") or
                                "could not be read on the site: %s" % fetched.get("msg", "no message")})
                continue
            data = base64.b64decode(fetched["content"])
            digest = hashlib.sha256(data).hexdigest()
            if len(data) > args["operator_files_max_bytes"] or digest != item["sha256"]:
                refused.append({"path": item["path"], "reason": "changed while it was collected (SHA-256 %s when "
                                "listed, %s when read); it is collected at the next run" % (item["sha256"], digest)})
                continue
            problem = operator_content_problem(data)
            if problem:
                refused.append({"path": item["path"], "reason": problem})
                continue
            facts = {"source": item["path"], "source_name": item["name"], "modified_at": item.get("modified_at"),
                     "collected_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}
            try:
                stored = store_operator_file(archive, institution_id, site_id, name, data, signer, facts,
                                             known=self._known(args))
            except ProofsError as exc:
                result["errors"].append(to_text(exc))
                continue
            if stored is not None:
                result["operator_archived"].append(stored)
                result["changed"] = True
