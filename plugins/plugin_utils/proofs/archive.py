# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.proofs_archive: decide which proofs of a
site are new, check them, store them in the archive and seal them (``unsealed``
keeps them until the run's one sealing step); and merge another archive into
this one.

An archived proof is never overwritten: the same name with the same SHA-256
is skipped, the same name with another SHA-256 is an error that names the
file. A proof becomes visible only after its seal is written, so an archived
proof without a seal means tampering, not an interrupted run.

A seal is not byte for byte reproducible (it holds its signing time, and an
ECDSA signature is randomised), so the same proof sealed in two archives (job
slices on separate execution nodes, then a run that collects the same sites
into the merged archive) has two seals. It is the same proof when its bytes
are the same and both seals verify: the merge keeps one, the seal whose
SHA-256 is lower, so that the merged archive is the same whatever the order of
the merges; and a proof that an archive about to be merged already holds with
a valid seal is stored with that seal instead of being sealed again.

A seal belongs to its institution (``signers.py``): the signer is registered for the institution before
its first seal is written, and refused when the register or its certificate's subject ties it to another
institution. A merge checks every incoming file as collection does (``accept_proof``) and every incoming
seal against the CA and the registers before it copies anything.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os

from ansible_collections.eeszt.connect.plugins.module_utils.proofs.operator_files import NAME_MAX, name_problem
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import file_sha256, read_bytes, sha256_hex, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError, SealInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import (
    ArchiveConflictError,
    ProofInvalidError,
    ProofRejectedError,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    OPERATOR_DIR,
    OPERATOR_FILES,
    OPERATOR_SEALS,
    PROOF_NAME,
    RUNS_DIR,
    SEAL_SUFFIX,
    iter_archive_files,
    iter_operator_entries,
    operator_dir,
    operator_file_path,
    operator_seal_path,
    site_dir,
    unsealed_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import ensure_dir, store
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import fingerprint
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import DEFAULT_CLOCK_TOLERANCE, parse_proof, time_problem
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import sign_detached, verify_detached
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.key_material import private_key_problem
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signers import Register, register_relative


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
            path = unsealed_path(archive, "/".join((institution_id, site_id, name)))
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


def accept_proof(data, name, institution_id, site_id, expected_sha256=(), now=None,
                 clock_tolerance=DEFAULT_CLOCK_TOLERANCE):
    """Check fetched bytes: every expected SHA-256 matches, a v1 proof of this site that keeps the proof
    schema, its times not in the controller's future (``now``, default the controller's clock) nor before its
    certificate's validity beyond ``clock_tolerance`` seconds. Returns the document.

    A file that is no valid proof raises ProofInvalidError (with its bytes in ``data``): it is quarantined,
    not archived.
    """
    digest = sha256_hex(data)
    for source, expected in expected_sha256:
        if expected and expected.lower() != digest:
            raise ProofRejectedError("%s: SHA-256 of the fetched file is %s but %s reported %s; the file changed "
                                     "on the site or in transit: run the check again" % (name, digest, source, expected))
    try:
        document = parse_proof(data, name)
    except ProofInvalidError as exc:
        exc.data = data
        raise
    mine = ("%s" % institution_id, "%s" % site_id)
    theirs = ("%s" % document.get("institution_id"), "%s" % document.get("site_id"))
    if mine != theirs:
        raise ProofRejectedError("%s: the proof is for institution %s site %s, but this host is institution %s "
                                 "site %s; check eeszt_institution_id / eeszt_site_id and the site's proof "
                                 "directory" % ((name,) + theirs + mine))
    problem = time_problem(document, now or datetime.datetime.now(datetime.timezone.utc), clock_tolerance)
    if problem:
        invalid = ProofInvalidError(name, problem)
        invalid.data = data
        raise invalid
    return document


def known_seal(known, relative, seal_relative, data, acceptable=None):
    """(seal bytes, signer subject) of ``data`` as one of the archives ``known`` already sealed it, or None.

    ``relative`` is the file's path in an archive, ``seal_relative`` its seal's. Only a file with exactly
    these bytes and a seal that verifies counts, and, given ``acceptable(facts)``, whose signer it accepts;
    of several, the seal with the lowest SHA-256 (as the merge keeps it).
    """
    found = []
    for other in known or ():
        path = os.path.join(other, *relative.split("/"))
        seal_path = os.path.join(other, *seal_relative.split("/"))
        if os.path.islink(path) or os.path.islink(seal_path) or not os.path.isfile(path) \
                or not os.path.isfile(seal_path):
            continue
        try:
            if file_sha256(path) != sha256_hex(data):
                continue
            seal = read_bytes(seal_path)
            facts = verify_detached(data, seal)
        except (IOError, OSError, SealInvalidError):
            continue
        if acceptable is not None and not acceptable(facts):
            continue
        found.append((sha256_hex(seal), seal, facts["subject"]))
    if not found:
        return None
    dummy, seal, subject = min(found)
    return seal, subject


def _own_seal(register, institution_id, signer):
    """Whether a seal found in another archive may stand for ``signer``'s: made by the same certificate, or by
    one registered here for the institution that nothing ties to another institution."""
    mine = fingerprint(signer.certificate)

    def acceptable(facts):
        if facts["sha256"] == mine:
            return True
        entry = register.entries.get("%s" % institution_id, {}).get(facts["sha256"])
        return entry is not None and register.problem(institution_id, facts["sha256"], facts["subject"],
                                                      entry.get("vendor", False), facts["certificate"]) is None
    return acceptable


def store_proof(archive, institution_id, site_id, name, data, signer, known=None, register=None):
    """Seal and store one new proof; returns a dict describing it.

    The signer is registered for the institution first (``register``: the archive's Register, loaded when
    None; SignerRefusedError when it must not seal this institution's files), then the seal is written
    (replacing the leftover of an interrupted run, which is safe while the proof itself is absent), then the
    proof appears with one hard link that never replaces an existing file. A proof that one of the archives
    ``known`` (about to be merged into this one) holds with the same bytes and a valid seal of an accepted
    signer gets that seal: it is not sealed twice.
    """
    folder = site_dir(archive, institution_id, site_id)
    path = os.path.join(folder, name)
    if os.path.lexists(path):
        if os.path.isfile(path) and file_sha256(path) == sha256_hex(data):
            return None
        raise ArchiveConflictError("%s is already in the archive with other content; it is never overwritten" % path)
    register = register if register is not None else Register.load(archive)
    register.register_signer(institution_id, signer)
    ensure_dir(folder)
    relative = "/".join((institution_id, site_id, name))
    adopted = known_seal(known, relative, relative + SEAL_SUFFIX, data, _own_seal(register, institution_id, signer))
    seal, subject = adopted if adopted else (sign_detached(data, signer), signer.subject)
    store(path + SEAL_SUFFIX, seal)
    store(path, data, write_new)
    return {
        "name": name,
        "path": os.path.relpath(path, archive),
        "sha256": sha256_hex(data),
        "seal": os.path.relpath(path + SEAL_SUFFIX, archive),
        "signer": subject,
    }


# --- operator files -------------------------------------------------------------

def version_name(name, sha256):
    """The archive name of another version of the operator file ``name``: ``STEM_<12 hex of SHA-256>EXT``."""
    stem, ext = os.path.splitext(name)
    return "%s_%s%s" % (stem, sha256[:12], ext)


def operator_content_problem(data):
    """Why fetched operator file bytes must not be archived, or None: a private key never enters the archive,
    in no encoding (PEM, DER, PKCS#12, compressed, UTF-16/32, base64: see key_material)."""
    return private_key_problem(data)


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
                relative = (institution_id, site_id, OPERATOR_DIR, OPERATOR_FILES, candidate)
                path = unsealed_path(archive, "/".join(relative))
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


def store_operator_file(archive, institution_id, site_id, name, data, signer, facts=None, known=None, register=None):
    """Seal and store one new operator file as ``name``; returns a dict describing it.

    As for proofs: the signer registered first, then the seal, then the file with one hard link that never
    replaces an existing one; a file that one of the archives ``known`` holds
    with the same bytes and a valid seal gets that seal. ``facts`` (source,
    source_name, collected_at) are returned with it.
    """
    problem = name_problem(name, limit=NAME_MAX + 13)  # room for version_name's suffix
    if problem:
        raise ProofRejectedError("operator file %r %s" % (name, problem))
    files = operator_dir(archive, institution_id, site_id, OPERATOR_FILES)
    seals = operator_dir(archive, institution_id, site_id, OPERATOR_SEALS)
    path = os.path.join(files, name)
    if os.path.lexists(path):
        if os.path.isfile(path) and not os.path.islink(path) and file_sha256(path) == sha256_hex(data):
            return None
        raise ArchiveConflictError("%s is already in the archive with other content; it is never overwritten" % path)
    register = register if register is not None else Register.load(archive)
    register.register_signer(institution_id, signer)
    ensure_dir(files)
    ensure_dir(seals)
    seal = os.path.join(seals, name + SEAL_SUFFIX)
    relative = os.path.relpath(path, archive).replace(os.sep, "/")
    seal_relative = os.path.relpath(seal, archive).replace(os.sep, "/")
    adopted = known_seal(known, relative, seal_relative, data, _own_seal(register, institution_id, signer))
    seal_data, subject = adopted if adopted else (sign_detached(data, signer), signer.subject)
    store(seal, seal_data)
    store(path, data, write_new)
    stored = {
        "name": name,
        "path": relative,
        "size": len(data),
        "sha256": sha256_hex(data),
        "seal": seal_relative,
        "signer": subject,
    }
    stored.update(facts or {})
    return stored


def _sealed_content(seal_relative):
    """The file that the seal ``seal_relative`` (a path with "/") belongs to: a proof or an operator file."""
    parts = seal_relative.split("/")
    if len(parts) == 3:
        return seal_relative[:-len(SEAL_SUFFIX)]
    return operator_file_path(seal_relative)


def _same_content_sealed_twice(source, archive, seal_relative):
    """A seal in both archives with other bytes: are they two valid seals of the same bytes?

    Returns (why, keep_source): why is "" when both seals are of the same bytes and verify (keep_source:
    the source's seal has the lower SHA-256 and replaces the archive's), a message when a seal does not
    verify, None when the sealed files differ or are missing (a plain conflict).
    """
    content = _sealed_content(seal_relative)
    if content is None:
        return "not the seal of a proof or an operator file", False
    mine, theirs = os.path.join(archive, *content.split("/")), os.path.join(source, *content.split("/"))
    for path in (mine, theirs):
        if os.path.islink(path) or not os.path.isfile(path):
            return None, None  # no content to compare: the plain conflict
    data = read_bytes(mine)
    if sha256_hex(data) != file_sha256(theirs):
        return None, None  # the content differs too: the plain conflict names both
    seals = []
    for where in (archive, source):
        seal_path = os.path.join(where, *seal_relative.split("/"))
        seal = read_bytes(seal_path)
        try:
            verify_detached(data, seal)
        except SealInvalidError as exc:
            return "the seal in %s: %s" % (where, exc), False
        seals.append(sha256_hex(seal))
    return "", seals[1] < seals[0]


class MergeRefusedError(ArchiveConflictError):
    """An archive to merge holds files or register entries that this archive does not accept."""


def _seal_of(relative):
    """The seal path ("/") of the proof or operator file ``relative``, or None for anything else."""
    parts = relative.split("/")
    if len(parts) == 3 and parts[2].endswith(".json"):
        return relative + SEAL_SUFFIX
    if len(parts) == 5 and parts[2:4] == [OPERATOR_DIR, OPERATOR_FILES]:
        return operator_seal_path(relative)
    return None


def _incoming_problem(source, content, seal_relative, anchors, register, allowed):
    """Why the file ``content`` of ``source`` with its seal must not enter this archive, or None.

    The same checks as collection (``accept_proof`` for a proof: what its site folder says it is), the seal
    verified against ``anchors``, and its signer in the institution's register (here, or in ``allowed``: the
    other archive's entries that contradict nothing here) and not tied to another institution.
    """
    parts = content.split("/")
    institution_id, site_id = parts[0], parts[1]
    path, seal_path = os.path.join(source, *parts), os.path.join(source, *seal_relative.split("/"))
    if os.path.islink(path) or not os.path.isfile(path):
        return "its file is not in that archive"
    if os.path.islink(seal_path) or not os.path.isfile(seal_path):
        return "it has no seal %s there" % seal_relative
    data = read_bytes(path)
    if len(parts) == 3:
        try:
            accept_proof(data, content, institution_id, site_id)
        except ProofsError as exc:
            return "%s" % exc
    try:
        facts = verify_detached(data, read_bytes(seal_path), anchors)
    except SealInvalidError as exc:
        return "its seal %s: %s" % (seal_relative, exc)
    digest = facts["sha256"]
    entry = register.entries.get(institution_id, {}).get(digest) or allowed.get((institution_id, digest))
    reasons = []
    if entry is None:
        reasons.append("its signer %s (SHA-256 %s) is not in the signer register of institution %s, neither here "
                       "nor (without contradiction) in that archive's" % (facts["subject"], digest, institution_id))
    why = register.problem(institution_id, digest, facts["subject"], (entry or {}).get("vendor", False),
                           facts["certificate"])
    if why:
        reasons.append("its signer: %s" % why)
    return "; ".join(reasons) or None


def _incoming_refusals(source, archive, incoming, anchors):
    """(refusals, register entries to add) for the files ``incoming`` (relative paths) of ``source``."""
    register = Register.load(archive)
    theirs = Register.load(source)
    refused = ["this archive's %s" % why for why in register.damaged.values()]
    refused += ["%s" % why for why in theirs.damaged.values()]
    plan, contradicted = register.merge_plan(theirs)
    refused += contradicted
    allowed = dict(((institution, entry["sha256"]), entry) for institution, entry in plan)
    checked = set()
    for relative in sorted(r.replace(os.sep, "/") for r in incoming):
        if relative.startswith(RUNS_DIR + "/"):
            continue
        content = _sealed_content(relative) if relative.endswith(SEAL_SUFFIX) else relative
        seal_relative = relative if relative.endswith(SEAL_SUFFIX) else _seal_of(relative)
        if content is None or seal_relative is None or _seal_of(content) != seal_relative:
            refused.append("%s: not a proof, an operator file or the seal of one" % relative)
            continue
        if content in checked:
            continue
        checked.add(content)
        why = _incoming_problem(source, content, seal_relative, anchors, register, allowed)
        if why:
            refused.append("%s: %s" % (content, why))
    return refused, register, plan


def merge_archive(source, archive, check_mode=False, anchors=None):
    """Copy the proofs, operator files, seals and run records of ``source`` into ``archive``.

    Files already present with the same content are skipped; the same name
    with other content is an ArchiveConflictError naming both, except two
    seals of the same bytes that both verify: the one with the lower SHA-256
    is kept (replacing the other when it is the source's). Report files are
    not copied: the report is rebuilt from the merged contents.
    Before anything is copied, every incoming file is checked as collection
    checks it (``accept_proof``) and every incoming seal against ``anchors``
    (the CA certificates; None: signatures only) and the signer registers
    (``_incoming_problem``); the other archive's register entries are added
    where they contradict nothing here. One refusal refuses the merge
    (MergeRefusedError naming every refused file and entry): this archive stays as it was.
    Returns the list of files copied, seals replaced and registers extended (relative paths).
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
    conflicts, unverified, copied, resealed = [], [], [], []
    for relative in relatives:
        target = os.path.join(archive, relative)
        if os.path.lexists(target):
            if not os.path.isfile(target) or os.path.islink(target):
                conflicts.append(relative)
            elif file_sha256(target) != file_sha256(os.path.join(source, relative)):
                why, keep_source = None, None
                if relative.endswith(SEAL_SUFFIX) and not relative.startswith(RUNS_DIR + os.sep):
                    why, keep_source = _same_content_sealed_twice(source, archive, relative.replace(os.sep, "/"))
                if why is None:
                    conflicts.append(relative)
                elif why:
                    unverified.append("%s (%s)" % (relative, why))
                elif keep_source:
                    resealed.append(relative)
            continue
        copied.append(relative)
    if conflicts or unverified:
        problems = []
        if conflicts:
            problems.append("these files exist in both with different content: %s" % ", ".join(conflicts))
        if unverified:
            problems.append("these seals of the same proof do not both verify: %s" % ", ".join(unverified))
        raise ArchiveConflictError("cannot merge %s into %s: %s" % (source, archive, "; ".join(problems)))
    refused, register, plan = _incoming_refusals(source, archive, copied + resealed, anchors)
    if refused:
        raise MergeRefusedError("cannot merge %s into %s: nothing was copied; %d refused (checked as collection "
                                "checks a proof, each seal against the CA file and the signer registers): %s"
                                % (source, archive, len(refused), "; ".join(refused)))
    registers = sorted(set(register_relative(institution) for institution, dummy in plan))
    if not check_mode:
        # The registers first: every seal copied below is allowed by them.
        for institution, entry in plan:
            register.add(institution, entry)
        register.save()
        # Seals before proofs, so that no proof is ever visible without its seal.
        for relative in sorted(copied, key=lambda r: (not r.endswith(SEAL_SUFFIX), r)):
            target = os.path.join(archive, relative)
            ensure_dir(os.path.dirname(target))
            store(target, read_bytes(os.path.join(source, relative)), write_new)
        # Another valid seal of the same bytes: the lower SHA-256 is kept, whatever the order of the merges.
        for relative in resealed:
            store(os.path.join(archive, relative), read_bytes(os.path.join(source, relative)))
    return sorted(copied + resealed + registers)
