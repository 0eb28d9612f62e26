# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Re-verify a proof archive: every seal, every hash, nothing removed or moved.

Records of what was archived: the collection run records (``runs/*.json``,
each archived proof with its SHA-256 at archive time) and ``index.json``.
Problems found, one entry per file, each with a kind:

``altered``      the proof's bytes differ from what was sealed or recorded
``unsigned``     the proof has no seal (``.p7s``)
``seal_invalid`` the seal is damaged or its signature does not verify
``untrusted``    the seal verifies but its signer does not chain to the given CAs
``missing``      a proof the records list is not in the archive (removed or moved away)
``misplaced``    the proof names another institution or site than the folder it is in
``unreadable``   cannot be read, or not a proof document that keeps the proof schema (docs/proof-schema.md)
                 although it is in a site folder (sealed garbage, or a file of an archive older than the
                 schema check)
``orphan_seal``  a seal without its proof, and no record of the proof
``unsealed``     fetched and checked, but waiting in ``.unsealed`` for its seal (the run stopped
                 before its sealing step, or the site's signer failed); the next run of the site
                 seals it
``unregistered_signer``  the seal verifies, but its signer is not in the signer register of the file's
                 institution (``signers/<institution_id>.json``, see signers.py)
``foreign_signer`` the seal verifies, but its signer's subject carries another institution's ID than the
                 file's institution
``no_register``  (path ``signers/<institution_id>.json``) the institution has sealed files but no signer
                 register: an archive made before registers existed; its signers are named, and
                 ``eeszt_proofs_register_existing`` adopts them once (nothing is trusted silently)
``signer_conflict`` (path ``signers/<institution_id>.json``) a certificate registered for two
                 institutions or more (other than the vendor's own sealing key), or a damaged register

Operator files (``<site>/operator/files/NAME`` with the seal
``<site>/operator/seals/NAME.p7s``) are checked the same way against their
seals and the run records' ``operator_files`` (and ``index.json``'s), with the
same kinds except ``misplaced`` and ``unreadable`` for their content (they are
not proof documents).

Symbolic links in the site folders are reported (``unreadable``) and never
followed: nothing outside the archive is read.

The quarantine (``<archive>/quarantine/``: files sites sent as proofs that are no valid proof, never archived
as proofs nor sealed) is listed in ``quarantined`` with why, when and from which host. It does not fail the
verification: nothing in it is evidence, and the archive's evidence is intact; the report shows each such site
as ``error`` while the file is on the site.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes, sha256_hex
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError, SealInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import quarantine
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    SEAL_SUFFIX,
    iter_archive_files,
    iter_archive_links,
    iter_operator_entries,
    operator_file_path,
    operator_seal_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import ledger, load_runs, operator_ledger
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import parse_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signers import Register, register_relative
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import (
    SealDigestMismatchError,
    SealUntrustedError,
    verify_detached,
)

KIND_ORDER = ("missing", "altered", "seal_invalid", "unsigned", "untrusted", "foreign_signer", "unregistered_signer",
              "misplaced", "unreadable", "orphan_seal", "unsealed", "signer_conflict", "no_register")
UNSEALED_MESSAGE = ("fetched and checked, but not sealed yet (kept in .unsealed/): the next collection run of its "
                    "site seals it; if its signer failed, fix the eeszt_proofs_signing_* variables first")


def _load_index(archive):
    path = os.path.join(archive, "index.json")
    if os.path.islink(path):
        raise ProofsError("%s is a symbolic link, not a file of the archive; it is not followed: rebuild it "
                          "with collect_proofs.yml or restore it" % path)
    if not os.path.isfile(path):
        return None
    try:
        index = json.loads(read_bytes(path).decode("utf-8"))
    except (IOError, OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProofsError("%s cannot be read (%s); rebuild it with collect_proofs.yml or restore it" % (path, exc))
    if not isinstance(index, dict):
        raise ProofsError("%s is damaged (not an index with a list of proofs); rebuild it with "
                          "collect_proofs.yml or restore it" % path)
    return path, index


def _index_rows(archive, key):
    """{path: sha256} of the index's ``key`` list (``proofs`` or ``operator_files``)."""
    loaded = _load_index(archive)
    if not loaded:
        return {}
    path, index = loaded
    rows = index.get(key)
    if not isinstance(rows, (list, type(None))):
        raise ProofsError("%s is damaged (%s is not a list); rebuild it with collect_proofs.yml or restore it"
                          % (path, key))
    known = {}
    for number, row in enumerate(rows or []):
        if isinstance(row, dict) and row.get("path") and row.get("sha256"):
            if not isinstance(row["path"], str) or not isinstance(row["sha256"], str):
                raise ProofsError("%s is damaged (%s[%d]: path and sha256 must be text); rebuild it with "
                                  "collect_proofs.yml or restore it" % (path, key, number))
            known[row["path"]] = row["sha256"]
    return known


def _index_records(archive):
    return _index_rows(archive, "proofs")


def _read_seal(archive, seal_path):
    try:
        return read_bytes(os.path.join(archive, *seal_path.split("/")))
    except (IOError, OSError) as exc:
        raise SealInvalidError("cannot be read: %s" % (exc.strerror or exc))


class _SignerCheck:
    """The signer register's rules for every seal that verifies; the findings per institution at the end."""

    def __init__(self, archive):
        self.register = Register.load(archive)
        self.unregistered = {}  # institution: {sha256: subject} of the seals of an institution without a register

    def check(self, relative, facts, findings):
        """False (and a finding) when the seal of ``relative`` by ``facts``' signer breaks a rule."""
        institution = relative.split("/")[0]
        digest, subject = facts["sha256"], facts["subject"]
        entry = self.register.entries.get(institution, {}).get(digest)
        good = True
        if institution not in self.register.entries:
            self.unregistered.setdefault(institution, {})[digest] = subject
            good = False
        elif entry is None:
            findings.add(relative, "unregistered_signer", "sealed by %s (SHA-256 %s), which is not in the signer "
                                                          "register of institution %s (%s)"
                         % (subject, digest, institution, register_relative(institution)))
            good = False
        # A certificate registered for two institutions is named once, as a signer_conflict of the registers.
        why = self.register.subject_problem(institution, digest, subject, facts["certificate"])
        if why:
            findings.add(relative, "foreign_signer", "sealed by %s" % why)
            good = False
        return good

    def finish(self, findings):
        for institution, why in sorted(self.register.damaged.items()):
            findings.add(register_relative(institution), "signer_conflict", why)
        for digest, institutions, subject in self.register.conflicts():
            for institution in institutions:
                findings.add(register_relative(institution), "signer_conflict",
                             "the certificate %s (SHA-256 %s) is registered for institutions %s: a certificate "
                             "seals one institution's files (only the vendor's own sealing key, "
                             "eeszt_proofs_signing_key, may seal several)" % (subject, digest, ", ".join(institutions)))
        for institution, signers in sorted(self.unregistered.items()):
            if institution in self.register.damaged:
                continue
            findings.add(register_relative(institution), "no_register",
                         "institution %s has sealed files but no signer register (an archive made before registers "
                         "existed): its seals' signers are %s; check them, then adopt them once with "
                         "verify_proofs.yml -e eeszt_proofs_register_existing=true"
                         % (institution, "; ".join("%s (SHA-256 %s)" % (subject, digest)
                                                   for digest, subject in sorted(signers.items()))))


class _Findings:
    def __init__(self):
        self.by_path = {}

    def add(self, path, kind, message):
        kinds, messages = self.by_path.setdefault(path, ([], []))
        if kind not in kinds:
            kinds.append(kind)
        messages.append(message)

    def problems(self):
        result = []
        for path in sorted(self.by_path):
            kinds, messages = self.by_path[path]
            kinds = sorted(kinds, key=KIND_ORDER.index)
            result.append({"path": path, "kind": kinds[0], "kinds": kinds, "message": "; ".join(messages)})
        return result


def verify_archive(archive, anchors=None):
    """Check everything; returns {"checked", "verified", "problems", "signers", "records"}."""
    if not os.path.isdir(archive):
        raise ProofsError("the proof archive %s does not exist" % archive)
    recorded = dict(_index_records(archive))
    runs = load_runs(archive)
    recorded.update(ledger(runs))  # the run records win over the index
    findings = _Findings()
    files = list(iter_archive_files(archive))
    present = set("/".join(item) for item in files)
    checked = verified = 0
    signers = {}
    check = _SignerCheck(archive)
    for relative in iter_archive_links(archive):
        findings.add(relative, "unreadable", "a symbolic link, not a file of the archive: not followed; an archive "
                                             "holds only regular files and folders")
    for institution, site, name in files:
        relative = "/".join((institution, site, name))
        if name.endswith(SEAL_SUFFIX):
            proof = relative[:-len(SEAL_SUFFIX)]
            if proof not in present and proof not in recorded:
                findings.add(relative, "orphan_seal", "a seal without its proof %s, and no record of that proof" % proof)
            continue
        if not name.endswith(".json"):
            continue
        checked += 1
        good, data = verify_file(archive, relative, relative + SEAL_SUFFIX, present, recorded, anchors, findings,
                                 signers, check)
        if data is None:
            continue
        try:
            document = parse_proof(data, relative)
        except ProofsError as exc:
            findings.add(relative, "unreadable", "%s" % exc)
            good = False
        else:
            theirs = ("%s" % document.get("institution_id"), "%s" % document.get("site_id"))
            if theirs != (institution, site):
                findings.add(relative, "misplaced", "the proof is for institution %s site %s but lies in the folder "
                                                    "%s/%s" % (theirs + (institution, site)))
                good = False
        if good:
            verified += 1
    waiting = set(relative for dummy, dummy, relative in iter_unsealed(archive))
    for relative in sorted(waiting):
        findings.add(relative, "unsealed", UNSEALED_MESSAGE)
    for relative in sorted(set(recorded) - present - waiting):
        findings.add(relative, "missing", "recorded with SHA-256 %s but no longer in the archive" % recorded[relative])
    operator = _verify_operator_files(archive, runs, anchors, findings, signers, waiting, check)
    check.finish(findings)
    return {"checked": checked, "verified": verified, "problems": findings.problems(),
            "quarantined": quarantine.scan(archive),
            "signers": [{"subject": s, "proofs": n} for s, n in sorted(signers.items())], "records": len(recorded),
            "operator_checked": operator["checked"], "operator_verified": operator["verified"],
            "operator_records": operator["records"]}


def verify_file(archive, relative, seal_path, sealed, recorded, anchors, findings, signers, check=None):
    """Check one archived file (a proof or an operator file) against the records and its seal.

    ``sealed``: the seal paths present; ``recorded``: {path: SHA-256 at archive time}; ``check``: the signer
    register's rules (``_SignerCheck``). Returns (good, the file's bytes, None when it cannot be read); every
    problem is added to ``findings``.
    """
    try:
        data = read_bytes(os.path.join(archive, *relative.split("/")))
    except (IOError, OSError) as exc:
        findings.add(relative, "unreadable", "cannot be read: %s" % (exc.strerror or exc))
        return False, None
    digest = sha256_hex(data)
    good = True
    if relative in recorded and recorded[relative] != digest:
        findings.add(relative, "altered", "SHA-256 is %s, the archive recorded %s" % (digest, recorded[relative]))
        good = False
    if seal_path not in sealed:
        findings.add(relative, "unsigned", "no seal %s" % seal_path)
        good = False
    elif not _check_seal(archive, relative, data, seal_path, anchors, findings, signers, check):
        good = False
    return good, data


def _check_seal(archive, relative, data, seal_path, anchors, findings, signers, check=None):
    """Verify the seal of ``relative``; True when it verifies (findings are added when not)."""
    try:
        facts = verify_detached(data, _read_seal(archive, seal_path), anchors)
    except SealDigestMismatchError as exc:
        findings.add(relative, "altered", "%s" % exc)
    except SealUntrustedError as exc:
        findings.add(relative, "untrusted", "%s" % exc)
    except SealInvalidError as exc:
        findings.add(relative, "seal_invalid", "seal %s: %s" % (seal_path, exc))
    else:
        signers[facts["subject"]] = signers.get(facts["subject"], 0) + 1
        return check is None or check.check(relative, facts, findings)
    return False


def _verify_operator_files(archive, runs, anchors, findings, signers, waiting, check=None):
    """Check every operator file against its seal and the records; returns the counts."""
    recorded = _index_rows(archive, "operator_files")
    recorded.update((path, item["sha256"]) for path, item in operator_ledger(runs).items())
    entries = list(iter_operator_entries(archive))
    present = set(relative for relative, what in entries if what == "file")
    seals = set(relative for relative, what in entries if what == "seal")
    checked = verified = 0
    for relative, what in entries:
        if what == "link":
            findings.add(relative, "unreadable", "a symbolic link, not a file of the archive: not followed; an "
                                                 "archive holds only regular files and folders")
            continue
        if what == "seal":
            content = operator_file_path(relative)
            if content not in present and content not in recorded:
                findings.add(relative, "orphan_seal", "a seal without its operator file %s, and no record of that "
                                                      "file" % content)
            continue
        checked += 1
        good, dummy = verify_file(archive, relative, operator_seal_path(relative), seals, recorded, anchors,
                                  findings, signers, check)
        if good:
            verified += 1
    for relative in sorted(set(recorded) - present - waiting):
        findings.add(relative, "missing", "recorded with SHA-256 %s but no longer in the archive" % recorded[relative])
    return {"checked": checked, "verified": verified, "records": len(recorded)}
