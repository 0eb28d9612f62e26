# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The signers that seal the archive, loaded on the controller once per signing material.

A site's signing options (``signing_pfx`` and ``signing_pfx_password``, or ``signing_key``,
``signing_cert``, ``signing_key_password`` and ``signing_chain``; the proofs role's
``eeszt_proofs_signing_*``) name controller files. :class:`SignerLoader` resolves them (relative
to the host's ``inventory_dir``, then the ``files/`` folders, as every controller file of the
collection), decrypts Vault-encrypted files through the action's loader, and keeps each loaded
signer by its material (the resolved files and the passwords), so that the sites of one institution,
which seal with the same PFX, decrypt it once per run. The passwords stay in memory: they are never
part of a result or a message.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import SealError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import load_pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, load_pem_signer

SIGNING_OPTIONS = ("signing_pfx", "signing_pfx_password", "signing_key", "signing_key_password", "signing_cert",
                   "signing_chain")
_FILES = {"signing_pfx": "signing PFX file", "signing_key": "signing key", "signing_cert": "signing certificate",
          "signing_chain": "signing chain"}
VARIABLES = "eeszt_proofs_signing_pfx (default eeszt_certificate_pfx_src) or eeszt_proofs_signing_key and " \
            "eeszt_proofs_signing_cert"


def signing_spec():
    """The argument spec of the signing options (proofs_archive's options, proofs_report's ``signers``)."""
    return dict(
        signing_pfx=dict(type="path"),
        signing_pfx_password=dict(type="str", no_log=True),
        signing_key=dict(type="path", no_log=False),
        signing_key_password=dict(type="str", no_log=True),
        signing_cert=dict(type="path"),
        signing_chain=dict(type="path"),
    )


def options_problem(options):
    """Why a site's signing options cannot seal anything, or None."""
    if options.get("signing_pfx") and options.get("signing_key"):
        return "signing_pfx and signing_key are both set; set one of %s" % VARIABLES
    if options.get("signing_key") and not options.get("signing_cert"):
        return "signing_key is set without signing_cert (eeszt_proofs_signing_cert)"
    if not options.get("signing_pfx") and not options.get("signing_key"):
        return "no signing material: set %s" % VARIABLES
    return None


class SignerLoader:
    """Signers for one action run, each distinct signing material loaded once (``loads`` counts the loads).

    A material that fails to load is tried once too: its other sites get the same error.
    """

    def __init__(self, action, task_vars):
        self._action = action
        self._task_vars = task_vars or {}
        self._signers = {}
        self.loads = 0

    def signer(self, options, inventory_dir=None):
        """The Signer of ``options`` (a site's signing options); SealError naming the file and variable."""
        problem = options_problem(options)
        if problem:
            raise SealError(problem)
        where = dict(self._task_vars)
        if inventory_dir:
            where["inventory_dir"] = inventory_dir
        material = tuple((name, self._find(options[name], _FILES[name], where)
                          if name in _FILES and options.get(name) else options.get(name)) for name in SIGNING_OPTIONS)
        if material not in self._signers:
            try:
                self._signers[material] = self._load(dict(material))
            except EESZTConnectError as exc:
                self._signers[material] = exc  # tried once: the other sites of the material get the same error
                raise
            self.loads += 1
        if isinstance(self._signers[material], EESZTConnectError):
            raise self._signers[material]
        return self._signers[material]

    def _find(self, path, what, task_vars):
        try:
            return controller_files.find(path, task_vars, action=self._action)
        except controller_files.ControllerFileNotFound as exc:
            raise SealError(controller_files.not_found_message(what, "see eeszt_proofs_signing_*", exc))

    def _read(self, found, what):
        real = self._action._loader.get_real_file(found, decrypt=True)
        try:
            return read_bytes(real)
        except (IOError, OSError) as exc:
            raise SealError("cannot read the %s %s: %s" % (what, found, exc.strerror or exc))
        finally:
            self._action._loader.cleanup_tmp_file(real)

    def _load(self, found):
        if found["signing_key"]:
            key = self._read(found["signing_key"], "signing key")
            cert = self._read(found["signing_cert"], "signing certificate")
            chain = self._read(found["signing_chain"], "signing chain") if found["signing_chain"] else None
            # The vendor's own sealing key: it may seal the files of several institutions (signers.py).
            return load_pem_signer(key, cert, found["signing_key_password"], chain, found["signing_key"], vendor=True)
        real = self._action._loader.get_real_file(found["signing_pfx"], decrypt=True)
        try:
            contents = load_pfx(real, found["signing_pfx_password"], display_path=found["signing_pfx"],
                                src_variable="eeszt_proofs_signing_pfx",
                                password_variable="eeszt_proofs_signing_pfx_password")
        finally:
            self._action._loader.cleanup_tmp_file(real)
        if contents.key is None or contents.certificate is None:
            raise SealError("the PFX file %s holds no key and certificate to seal the proofs with"
                            % found["signing_pfx"])
        return Signer(contents.key, contents.certificate, contents.additional)


def known_archives(archive, merge_from):
    """The archives about to be merged into ``archive``: their seals are reused, not made a second time."""
    archive = os.path.realpath(archive)
    return [os.path.abspath(path) for path in merge_from or []
            if os.path.isdir(path) and os.path.realpath(path) != archive]
