# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.proofs_archive: decide which proofs of a
site are new, check them, store them in the archive and seal them; and merge
another archive into this one.

An archived proof is never overwritten: the same name with the same SHA-256
is skipped, the same name with another SHA-256 is an error that names the
file. A proof becomes visible only after its seal is written, so an archived
proof without a seal means tampering, not an interrupted run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.operator_files import NAME_MAX, name_problem
from ansible_collections.eeszt.connect.plugins.module_utils.proofs_common import (
    OPERATOR_FILES,
    OPERATOR_SEALS,
    PROOF_NAME,
    RUNS_DIR,
    SEAL_SUFFIX,
    ArchiveConflictError,
    ProofRejectedError,
    ProofsError,
    ensure_dir,
    file_sha256,
    iter_archive_files,
    iter_operator_entries,
    operator_dir,
    parse_proof,
    read_bytes,
    sha256_hex,
    site_dir,
    write_atomic,
    write_new,
)
from ansible_collections.eeszt.connect.plugins.module_utils.seal import sign_detached


def plan_site(archive, institution_id, site_id, remote_files):
    """Sort the files listed on a site into new, already archived and conflicting.

    ``remote_files``: [{"name": file name, "sha256": hex}] as listed on the site.
    Returns (new, skipped, errors): lists of names and of error messages.
    """
    folder = site_dir(archive, institution_id, site_id)
    new, skipped, errors = [], [], []
    for item in sorted(remote_files, key=lambda i: i["name"]):
        name = item["name"]
        if not PROOF_NAME.match(name):
            errors.append("%s: not a proof file name this archive accepts (letters, digits, '.', '_', '-', "
                          "ending in .json)" % name)
            continue
        path = os.path.join(folder, name)
        if not os.path.lexists(path):
            new.append(name)
            continue
        archived = file_sha256(path) if os.path.isfile(path) else None
        if archived == item["sha256"]:
            skipped.append(name)
        else:
            errors.append("%s: the archive already holds %s with SHA-256 %s, the site's file has %s; an "
                          "archived proof is never overwritten: find out which one was changed"
                          % (name, path, archived, item["sha256"]))
    return new, skipped, errors


def accept_proof(data, name, institution_id, site_id, expected_sha256=()):
    """Check fetched bytes: every expected SHA-256 matches, a v1 proof of this site. Returns the document."""
    digest = sha256_hex(data)
    for source, expected in expected_sha256:
        if expected and expected.lower() != digest:
            raise ProofRejectedError("%s: SHA-256 of the fetched file is %s but %s reported %s; the file changed "
                                     "on the site or in transit: run the check again" % (name, digest, source, expected))
    document = parse_proof(data, name)
    mine = ("%s" % institution_id, "%s" % site_id)
    theirs = ("%s" % document.get("institution_id"), "%s" % document.get("site_id"))
    if mine != theirs:
        raise ProofRejectedError("%s: the proof is for institution %s site %s, but this host is institution %s "
                                 "site %s; check eeszt_institution_id / eeszt_site_id and the site's proof "
                                 "directory" % ((name,) + theirs + mine))
    return document


def store_proof(archive, institution_id, site_id, name, data, signer):
    """Seal and store one new proof; returns a dict describing it.

    The seal is written first (replacing the leftover of an interrupted run,
    which is safe while the proof itself is absent), then the proof appears
    with one hard link that never replaces an existing file.
    """
    folder = site_dir(archive, institution_id, site_id)
    ensure_dir(folder)
    path = os.path.join(folder, name)
    if os.path.lexists(path):
        if os.path.isfile(path) and file_sha256(path) == sha256_hex(data):
            return None
        raise ArchiveConflictError("%s is already in the archive with other content; it is never overwritten" % path)
    seal = sign_detached(data, signer)
    write_atomic(path + SEAL_SUFFIX, seal)
    write_new(path, data)
    return {
        "name": name,
        "path": os.path.relpath(path, archive),
        "sha256": sha256_hex(data),
        "seal": os.path.relpath(path + SEAL_SUFFIX, archive),
        "signer": signer.subject,
    }


# --- operator files -------------------------------------------------------------

def version_name(name, sha256):
    """The archive name of another version of the operator file ``name``: ``STEM_<12 hex of SHA-256>EXT``."""
    stem, ext = os.path.splitext(name)
    return "%s_%s%s" % (stem, sha256[:12], ext)


PRIVATE_KEY_BLOCK = re.compile(br"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")


def operator_content_problem(data):
    """Why fetched operator file bytes must not be archived, or None: a private key never enters the archive."""
    if PRIVATE_KEY_BLOCK.search(data):
        return "holds a PEM private key block; a private key is never archived (check eeszt_proofs_operator_files)"
    return None


def plan_operator_files(archive, institution_id, site_id, listed):
    """Sort the operator files listed on a site into new and already archived.

    ``listed``: [{"name", "sha256", ...}] as the site listed them. An archived
    operator file is never overwritten: a file whose name is taken by other
    content is stored as another version (``version_name``). Returns (new,
    skipped, refused): new is [(listed item, archive name)], skipped the names
    already archived with the same SHA-256, refused [(listed item, reason)].
    """
    folder = operator_dir(archive, institution_id, site_id, OPERATOR_FILES)
    new, skipped, refused = [], [], []
    for item in sorted(listed, key=lambda i: i["name"]):
        problem = name_problem(item["name"])
        if problem:
            refused.append((item, problem))
            continue
        for candidate in (item["name"], version_name(item["name"], item["sha256"])):
            path = os.path.join(folder, candidate)
            if not os.path.lexists(path):
                new.append((item, candidate))
                break
            if os.path.isfile(path) and not os.path.islink(path) and file_sha256(path) == item["sha256"]:
                skipped.append(item["name"])
                break
        else:
            refused.append((item, "clashes with %s in the archive, whose content is not the SHA-256 its name "
                                  "says; find out who changed it" % os.path.join(folder, candidate)))
    return new, skipped, refused


def store_operator_file(archive, institution_id, site_id, name, data, signer, facts=None):
    """Seal and store one new operator file as ``name``; returns a dict describing it.

    As for proofs: the seal first, then the file with one hard link that never
    replaces an existing one. ``facts`` (source, source_name, collected_at) are
    returned with it.
    """
    problem = name_problem(name, limit=NAME_MAX + 13)  # room for version_name's suffix
    if problem:
        raise ProofRejectedError("operator file %r %s" % (name, problem))
    files = operator_dir(archive, institution_id, site_id, OPERATOR_FILES)
    seals = operator_dir(archive, institution_id, site_id, OPERATOR_SEALS)
    ensure_dir(files)
    ensure_dir(seals)
    path = os.path.join(files, name)
    if os.path.lexists(path):
        if os.path.isfile(path) and not os.path.islink(path) and file_sha256(path) == sha256_hex(data):
            return None
        raise ArchiveConflictError("%s is already in the archive with other content; it is never overwritten" % path)
    seal = os.path.join(seals, name + SEAL_SUFFIX)
    write_atomic(seal, sign_detached(data, signer))
    write_new(path, data)
    stored = {
        "name": name,
        "path": os.path.relpath(path, archive).replace(os.sep, "/"),
        "size": len(data),
        "sha256": sha256_hex(data),
        "seal": os.path.relpath(seal, archive).replace(os.sep, "/"),
        "signer": signer.subject,
    }
    stored.update(facts or {})
    return stored


def merge_archive(source, archive, check_mode=False):
    """Copy the proofs, operator files, seals and run records of ``source`` into ``archive``.

    Files already present with the same content are skipped; the same name
    with other content is an ArchiveConflictError naming both. Report files
    are not copied: the report is rebuilt from the merged contents.
    Returns the list of files copied (relative paths).
    """
    if not os.path.isdir(source):
        raise ProofsError("the archive to merge, %s, is not a directory" % source)
    if os.path.realpath(source) == os.path.realpath(archive):
        return []
    relatives = [os.path.join(i, s, n) for i, s, n in iter_archive_files(source)]
    relatives += [os.path.join(*r.split("/")) for r, what in iter_operator_entries(source) if what != "link"]
    runs = os.path.join(source, RUNS_DIR)
    if os.path.isdir(runs):
        relatives += [os.path.join(RUNS_DIR, n) for n in sorted(os.listdir(runs))
                      if n.endswith(".json") and not n.startswith(".")]
    conflicts, copied = [], []
    for relative in relatives:
        target = os.path.join(archive, relative)
        if os.path.lexists(target):
            if not os.path.isfile(target) or file_sha256(target) != file_sha256(os.path.join(source, relative)):
                conflicts.append(relative)
            continue
        copied.append(relative)
    if conflicts:
        raise ArchiveConflictError("cannot merge %s into %s: these files exist in both with different content: %s"
                                   % (source, archive, ", ".join(conflicts)))
    if not check_mode:
        # Seals before proofs, so that no proof is ever visible without its seal.
        for relative in sorted(copied, key=lambda r: (not r.endswith(SEAL_SUFFIX), r)):
            target = os.path.join(archive, relative)
            ensure_dir(os.path.dirname(target))
            write_new(target, read_bytes(os.path.join(source, relative)))
    return copied
