# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Files stored but not sealed yet, and their sealing once per signing material.

``proofs_archive`` (once per site) fetches a site's new proofs and operator files, checks them and
keeps them, byte for byte, under ``<archive>/.unsealed/`` with the path they will have in the archive
(``INSTITUTION/SITE/NAME`` or ``INSTITUTION/SITE/operator/files/NAME``). ``proofs_report`` (once per
run, under the archive lock) seals them with :func:`seal_unsealed`: the sites are grouped by their
signing material, so each signer is loaded once, and each file is published as before (its seal
first, then the file with one hard link that never replaces one; see ``archive.store_proof``), so a
file in the archive never appears without its seal. A file of a site that has no signer in the run
(or whose signer failed) stays in ``.unsealed``: the next run of its site seals it, and
``verify_proofs.yml`` names it meanwhile (kind ``unsealed``). The folder is hidden: the report, the
merge and the bundles never read it.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes, sha256_hex, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_operator_file, store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signers import Register
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    OPERATOR_DIR,
    OPERATOR_FILES,
    SAFE_NAME,
    UNSEALED_DIR,
    check_name,
    unsealed_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import store


def stage(archive, institution_id, site_id, name, data, operator=False):
    """Keep fetched, checked bytes until they are sealed; returns the archive path they will have."""
    parts = [check_name(institution_id, "institution_id"), check_name(site_id, "site_id")]
    parts += [OPERATOR_DIR, OPERATOR_FILES, name] if operator else [name]
    relative = "/".join(parts)
    store(unsealed_path(archive, relative), data, write_new)
    return relative


def _regular_files(folder, prefix):
    if not os.path.isdir(folder) or os.path.islink(folder):
        return
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name.startswith(".") or os.path.islink(path) or not os.path.isfile(path):
            continue
        yield prefix + (name,)


def iter_unsealed(archive):
    """(institution_id, site_id, archive path) of every file waiting for its seal, sorted."""
    base = os.path.join(archive, UNSEALED_DIR)
    if not os.path.isdir(base) or os.path.islink(base):
        return
    for institution in sorted(os.listdir(base)):
        if not SAFE_NAME.match(institution) or os.path.islink(os.path.join(base, institution)) \
                or not os.path.isdir(os.path.join(base, institution)):
            continue
        for site in sorted(os.listdir(os.path.join(base, institution))):
            folder = os.path.join(base, institution, site)
            if not SAFE_NAME.match(site) or os.path.islink(folder):
                continue
            found = list(_regular_files(folder, (institution, site)))
            found += _regular_files(os.path.join(folder, OPERATOR_DIR, OPERATOR_FILES),
                                    (institution, site, OPERATOR_DIR, OPERATOR_FILES))
            for parts in found:
                yield institution, site, "/".join(parts)


def seal_unsealed(archive, signer_for, known=None):
    """Seal and publish every file waiting in ``.unsealed`` whose site has a signer.

    ``signer_for(institution_id, site_id)`` returns the site's Signer (loaded once per material by
    the caller), None when the site has none in this run (its files wait), or raises an
    EESZTConnectError (its files wait and the error is returned). A signer that the archive's signer
    register (or its certificate's subject) ties to another institution is refused the same way, before
    anything is sealed; an accepted one is registered for the institution before its first seal (see
    ``signers.py``). ``known``: archives about to be merged, whose valid seals are reused. Returns {"sealed": stored proofs, "operator_sealed": stored
    operator files, "unsealed": archive paths still waiting, "errors": [{"institution_id", "site_id",
    "message"}]}.
    """
    outcome = {"sealed": [], "operator_sealed": [], "unsealed": [], "errors": []}
    by_site = {}
    register = Register.load(archive)
    for institution, site, relative in iter_unsealed(archive):
        by_site.setdefault((institution, site), []).append(relative)
    for (institution, site), relatives in sorted(by_site.items()):
        try:
            signer = signer_for(institution, site)
            if signer is not None:
                register.register_signer(institution, signer)
        except EESZTConnectError as exc:
            outcome["errors"].append({"institution_id": institution, "site_id": site, "message": "%s" % exc})
            signer = None
        if signer is None:
            outcome["unsealed"] += relatives
            continue
        for relative in relatives:
            try:
                _publish(archive, institution, site, relative, signer, known, outcome, register)
            except EESZTConnectError as exc:
                outcome["errors"].append({"institution_id": institution, "site_id": site,
                                          "message": "%s: %s" % (relative, exc)})
                outcome["unsealed"].append(relative)
    return outcome


def _publish(archive, institution, site, relative, signer, known, outcome, register):
    path = unsealed_path(archive, relative)
    data = read_bytes(path)
    name = relative.split("/")[-1]
    if relative.count("/") == 2:
        stored, key = store_proof(archive, institution, site, name, data, signer, known=known,
                                  register=register), "sealed"
    else:
        stored, key = store_operator_file(archive, institution, site, name, data, signer, known=known,
                                          register=register), "operator_sealed"
    # The same bytes already in the archive (a run stopped after publishing): nothing more to do.
    os.unlink(path)
    if stored is not None:
        outcome[key].append(stored)
    return stored


def apply_seals(items, sealed):
    """``items`` (archived entries of a result, sealed None) with the seal and signer ``sealed`` gave them."""
    by_path = dict((item["path"], item) for item in sealed)
    applied = []
    for item in items or []:
        done = by_path.get(item.get("path"))
        if done is not None and done.get("sha256") == item.get("sha256", done.get("sha256")):
            item = dict(item, seal=done["seal"], signer=done["signer"])
        applied.append(item)
    return applied


def staged_item(relative, data):
    """The result entry of a file kept until it is sealed (seal and signer None until then)."""
    return {"name": relative.split("/")[-1], "path": relative, "sha256": sha256_hex(data), "seal": None,
            "signer": None}
