# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.waf_certificate (see the module for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import socket

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import (
    build_pkcs12,
    load_ca_file,
    load_pfx,
    validate,
)
from ansible_collections.eeszt.connect.plugins.module_utils.pki.deploy import argument_spec
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import pfx_once
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import MIN_PASSWORD_LENGTH, SiteAction

# Options that only the controller uses: they are never sent to the site.
CONTROLLER_ONLY = ("pfx_src", "pfx_password", "pfx_opened", "ca_file", "chain_include_root", "min_days",
                   "warn_days", "institution_id", "match_attributes", "match_mode")


# Options that only the action plugin sets for the module.
INTERNAL = ("material", "certificate_facts", "lock_owner")


class _ActionError(EesztCertificateError):
    """A failure of this action with its own ``code``: ``invalid_argument``, ``controller_file_unreadable``."""

    def __init__(self, message, code):
        super(_ActionError, self).__init__(message)
        self.code = code


class ControllerFileNotFoundError(_ActionError):
    """A controller-side file of this action was not found (code ``pfx_not_found`` or ``ca_file_not_found``)."""


def _published(args):
    """What the result adds for later stages: it is the public fact ``eeszt_certificate_result`` itself
    (the role registers it under that name), so no ``set_fact`` task per site is needed to publish it."""
    directory = args["dir"].rstrip("/") or "/"
    return dict(
        stage="certificate",
        unreachable=False,
        dir=args["dir"],
        cert_path=os.path.join(directory, "cert.pem"),
        key_path=os.path.join(directory, "key.pem"),
        keystore_path=os.path.join(directory, "keystore.p12") if "java" in args["formats"] else None,
        keystore_alias=args["keystore_alias"],
    )


class ActionModule(SiteAction):

    MODULE = "eeszt.connect.waf_certificate"
    # The module's spec without what only this action sets for it. pfx_password may be empty or unset: a PFX
    # exported without a password opens with either, and load_pfx names a missing password when the file has
    # one (error pfx_password_missing).
    ARGUMENT_SPEC = dict((k, v) for k, v in argument_spec().items() if k not in INTERNAL)
    VALIDATION = dict(required_if=[("state", "present", ("pfx_src",))])
    CONTROLLER_OPTIONS = CONTROLLER_ONLY

    def _controller_file(self, path, what, option):
        """Find a controller file (relative to the host's inventory directory); decrypt it if vaulted."""
        found = self._controller_path(path, what, option)
        return found, self._real_file(found, what, option)

    def _controller_path(self, path, what, option):
        """Where a controller file is (relative to the host's inventory directory, then Ansible's search)."""
        try:
            return controller_files.find(path, self._task_vars, action=self)
        except controller_files.ControllerFileNotFound as exc:
            raise ControllerFileNotFoundError(controller_files.not_found_message(
                what, "%s, eeszt_certificate_%s in the role" % (option, option), exc),
                "pfx_not_found" if option == "pfx_src" else "ca_file_not_found")

    def _real_file(self, found, what, option):
        """The readable (vault-decrypted if need be) copy of a found controller file."""
        try:
            return self._loader.get_real_file(found, decrypt=True)
        except AnsibleError as exc:
            raise _ActionError("cannot read the %s %s on the controller (%s, eeszt_certificate_%s in the role): "
                               "%s; if it is vault-encrypted, check the vault password given to this run"
                               % (what, found, option, option, to_text(exc.message)), "controller_file_unreadable")

    def run_site(self, args, result):
        if args["export_password"] and len(args["export_password"]) < MIN_PASSWORD_LENGTH:
            # Refused here, on the controller: a module's own message would be masked too.
            result.update(failed=True, changed=False, error="export_password_too_short", msg=(
                "export_password (eeszt_certificate_export_password) must have at least %d characters: "
                "Ansible masks every occurrence of a secret in module output, so a shorter one would "
                "garble it (see docs/security.md)" % MIN_PASSWORD_LENGTH))
            return
        # Recorded in the site's lock file, so that a second run can say who holds it.
        lock_owner = dict(controller=socket.gethostname(), controller_pid=os.getppid())
        if args["state"] == "rollback":
            module_args = self.site_args(args)
            module_args["lock_owner"] = lock_owner
            result.update(self.run_on_site(module_args))
            return
        validated, module_args, extra = self._prepare(args)
        module_args["lock_owner"] = lock_owner
        result.update(self.run_on_site(module_args))
        if not result.get("failed"):
            result.update(extra)
            result.update(_published(args))
        result.setdefault("warnings", [])
        result["warnings"] = list(result["warnings"] or []) + validated.warnings

    def _prepare(self, args):
        if args["min_days"] < 0 or args["warn_days"] < 0 or args["backups"] < 0:
            raise _ActionError("min_days, warn_days and backups must not be negative", "invalid_argument")
        if set(args["formats"]) & set(("pkcs12", "java")) and not args["export_password"]:
            raise _ActionError("export_password is required when formats include pkcs12 or java", "invalid_argument")
        opened = args["pfx_opened"]
        pfx_shown = self._controller_path(args["pfx_src"], "PFX file", "pfx_src")
        if opened is not None and pfx_once.matches(opened, pfx_shown, args["pfx_password"]):
            # Opened once for every site of the institution by eeszt.connect.waf_certificate_open.
            contents, pfx_shown = pfx_once.from_material(opened)
        else:
            # Not opened yet, or this task was given another file or password than the inventory's.
            pfx_real = self._real_file(pfx_shown, "PFX file", "pfx_src")
            try:
                contents = load_pfx(pfx_real, args["pfx_password"], display_path=pfx_shown)
            finally:
                self._loader.cleanup_tmp_file(pfx_real)
        anchors = []
        if args["ca_file"]:
            ca_shown, ca_real = self._controller_file(args["ca_file"], "CA file", "ca_file")
            try:
                anchors = load_ca_file(ca_real, display_path=ca_shown)
            finally:
                self._loader.cleanup_tmp_file(ca_real)
        validated = validate(
            contents, min_days=args["min_days"], warn_days=args["warn_days"], ca_certs=anchors,
            institution_id=args["institution_id"], match_attributes=args["match_attributes"],
            match_mode=args["match_mode"], display_path=pfx_shown)
        pem = validated.pem(include_root=args["chain_include_root"])
        pkcs12 = {}
        for fmt, name in (("pkcs12", "client.p12"), ("java", "keystore.p12")):
            if fmt in args["formats"]:
                pkcs12[name] = base64.b64encode(build_pkcs12(
                    validated, args["export_password"], args["export_encryption"],
                    args["keystore_alias"])).decode("ascii")
        facts = dict(validated.facts)
        facts.pop("days_left")
        module_args = self.site_args(args)
        module_args["material"] = dict(certificate=pem["certificate"], private_key=pem["private_key"],
                                       chain=pem["chain"], pkcs12=pkcs12)
        module_args["certificate_facts"] = facts
        extra = dict(
            fingerprint=validated.facts["sha256"],
            subject=validated.facts["subject"],
            issuer=validated.facts["issuer"],
            serial=validated.facts["serial"],
            not_before=validated.facts["not_before"],
            not_after=validated.facts["not_after"],
            days_left=validated.facts["days_left"],
            pfx_encryption=contents.algorithms,
        )
        return validated, module_args, extra
