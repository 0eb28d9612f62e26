# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the central proof archive's modules share: its layout, its errors
and careful file writes.

Layout of the archive (``eeszt_proofs_archive_dir``)::

    <archive>/<institution_id>/<site_id>/<proof>.json       the proof, byte for byte as on the site
    <archive>/<institution_id>/<site_id>/<proof>.json.p7s   its detached CMS seal (DER)
    <archive>/<institution_id>/<site_id>/operator/files/<name>       an operator file, byte for byte as on the site
    <archive>/<institution_id>/<site_id>/operator/seals/<name>.p7s   its detached CMS seal (DER)
    <archive>/.unsealed/<institution_id>/<site_id>/...   fetched and checked, waiting for its seal
                                                         (the same path as in the archive; see unsealed.py)
    <archive>/quarantine/<institution_id>/<site_id>/<name>   a file a site sent as a proof that is not a
    <archive>/quarantine/<institution_id>/<site_id>/<name>.reason.json   valid one, and why (quarantine.py)
    <archive>/runs/<run id>.json        one record per collection run (the ledger)
    <archive>/signers/<institution_id>.json   the certificates that seal the institution's files (signers.py)
    <archive>/index.json report.csv report.html junit.xml   the fleet report
    <archive>/evidence/<institution_id>_evidence.zip        institution evidence bundle
    <archive>/upload/<institution_id>_ekapu.zip             the bundle under its earlier name (removed when
                                                            the report is rebuilt)

The evidence is the vendor's own; it is not the certificate that the
operator's verification program (eesztConnect.exe) issues for eKapu.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import json
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common import files
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import (
    PROOF_JSON_SCHEMA,
    PROOF_SCHEMA_ID,
    json_type,
    validate,
)

PROOF_SCHEMA = PROOF_SCHEMA_ID
INDEX_SCHEMA = "eeszt.connect/proof-index/v1"
RUN_SCHEMA = "eeszt.connect/proof-run/v1"
REQUIRED_FIELDS = tuple(PROOF_JSON_SCHEMA["required"])
SEAL_SUFFIX = ".p7s"
RUNS_DIR = "runs"
UPLOAD_DIR = "upload"  # bundles of earlier versions (<id>_ekapu.zip); still a reserved name
EVIDENCE_DIR = "evidence"
OPERATOR_DIR = "operator"
OPERATOR_FILES = "files"
OPERATOR_SEALS = "seals"
UNSEALED_DIR = ".unsealed"
SIGNERS_DIR = "signers"  # <archive>/signers/<institution_id>.json: the signer registers (signers.py)
REPORT_FILES = ("index.json", "report.csv", "report.html", "junit.xml")
QUARANTINE_DIR = "quarantine"  # invalid files sites sent as proofs (quarantine.py)
RESERVED = frozenset((RUNS_DIR, UPLOAD_DIR, EVIDENCE_DIR, SIGNERS_DIR, QUARANTINE_DIR))
FILE_MODE = 0o640
DIR_MODE = 0o750
# Names of folders and proof files in the archive: no separators, no dot files.
SAFE_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*$")
PROOF_NAME = re.compile(r"^[0-9A-Za-z][0-9A-Za-z._-]*\.json$")


class ProofsError(EESZTConnectError):
    """Base of the proof archive's errors."""


class ProofRejectedError(ProofsError):
    """A proof from a site that cannot be archived (damaged, another site's, hash mismatch)."""


class ProofInvalidError(ProofRejectedError):
    """A file a site sent as a proof that is not one: not JSON, or it breaks the proof schema, or its times
    cannot be true. It is quarantined (``quarantine.py``), never archived as a proof nor sealed."""

    def __init__(self, shown, reason):
        super(ProofInvalidError, self).__init__("%s: %s" % (shown, reason))
        self.shown = shown
        self.reason = reason
        self.data = None  # the bytes, when the caller has them (for the quarantine)


class ArchiveConflictError(ProofsError):
    """An archived file with the same name but other content: never overwritten."""


class SealError(ProofsError):
    """Signing failed: no usable key or certificate."""


class SealInvalidError(ProofsError):
    """A seal that does not verify."""


def check_name(value, what):
    """Refuse a folder or file name that could leave the archive."""
    text = "%s" % (value,)
    if not SAFE_NAME.match(text) or text in RESERVED or text in (".", ".."):
        raise ProofsError("%s %r cannot be used as a folder name in the proof archive (letters, digits, "
                          "'.', '_' and '-' only, not %s)" % (what, text, ", ".join(sorted(RESERVED))))
    return text


def ensure_dir(path):
    """Create ``path`` and every missing parent with DIR_MODE, whatever the umask."""
    if os.path.isdir(path):
        return False
    missing = []
    head = os.path.abspath(path)
    while head and not os.path.isdir(head):
        missing.append(head)
        parent = os.path.dirname(head)
        if parent == head:
            break
        head = parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, DIR_MODE)
            os.chmod(directory, DIR_MODE)
        except OSError as exc:
            if exc.errno != errno.EEXIST or not os.path.isdir(directory):
                raise ProofsError("cannot create the directory %s: %s" % (directory, exc.strerror or exc))
    return True


def write_atomic(path, data, mode=FILE_MODE):
    """Replace ``path`` with ``data`` in one step (``files.write_atomic``); its folder is created when missing."""
    ensure_dir(os.path.dirname(path))
    try:
        files.write_atomic(path, data, mode)
    except (IOError, OSError) as exc:
        raise ProofsError("cannot write %s: %s" % (path, exc.strerror or exc))


def write_if_changed(path, data, mode=FILE_MODE):
    """Write only when the content differs; True when written."""
    if os.path.isfile(path) and read_bytes(path) == data:
        return False
    write_atomic(path, data, mode)
    return True


def write_new(path, data, mode=FILE_MODE):
    """Create ``path`` with ``data``; never replace an existing file (``files.write_new``).

    Returns True when created, False when the file exists with the same
    content; raises ArchiveConflictError when it exists with other content.
    """
    ensure_dir(os.path.dirname(path))
    try:
        return files.write_new(path, data, mode)
    except FileExistsError:
        raise ArchiveConflictError(
            "%s is already in the archive with other content; an archived file is never "
            "overwritten: find out why the two differ" % path)
    except (IOError, OSError) as exc:
        raise ProofsError("cannot write %s: %s" % (path, exc.strerror or exc))


def canonical_json(document):
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def _no_constant(name):
    raise ValueError("%s is not a JSON number" % name)


def parse_proof(data, shown):
    """The proof document in ``data``; ProofInvalidError when it is not a v1 proof that keeps the proof schema.

    The schema (``schema.PROOF_JSON_SCHEMA``) gives every field its type and every text a length limit, so a
    document returned here can be rendered and sealed without further checks of its shape.
    """
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProofInvalidError(shown, "not a JSON proof document (%s)" % ("%s" % exc)[:200])
    if not isinstance(document, dict):
        raise ProofInvalidError(shown, "not a JSON object (a JSON %s)" % json_type(document))
    if document.get("schema") != PROOF_SCHEMA:
        shown_schema = repr(document.get("schema"))
        raise ProofInvalidError(shown, "has schema %s, expected %r" % (
            shown_schema if len(shown_schema) <= 80 else shown_schema[:77] + "...", PROOF_SCHEMA))
    problem = validate(document)
    if problem:
        raise ProofInvalidError(shown, problem)
    return document


def site_dir(archive, institution_id, site_id):
    return os.path.join(archive, check_name(institution_id, "institution_id"), check_name(site_id, "site_id"))


def unsealed_path(archive, relative):
    """Where the file of the archive path ``relative`` ("I/S/NAME") waits for its seal (see unsealed.py)."""
    return os.path.join(archive, UNSEALED_DIR, *relative.split("/"))


def _is_real_dir(path):
    return os.path.isdir(path) and not os.path.islink(path)


def _walk_sites(archive):
    """(relative path, is a symbolic link) of site folders' entries; links are listed, never followed."""
    if not _is_real_dir(archive):
        return
    for institution in sorted(os.listdir(archive)):
        path = os.path.join(archive, institution)
        if institution in RESERVED or not SAFE_NAME.match(institution):
            continue
        if os.path.islink(path):
            yield (institution,), True
            continue
        if not os.path.isdir(path):
            continue
        for site in sorted(os.listdir(path)):
            folder = os.path.join(path, site)
            if not SAFE_NAME.match(site):
                continue
            if os.path.islink(folder):
                yield (institution, site), True
                continue
            if not os.path.isdir(folder):
                continue
            for name in sorted(os.listdir(folder)):
                entry = os.path.join(folder, name)
                if name.startswith("."):
                    continue
                if os.path.islink(entry):
                    yield (institution, site, name), True
                elif os.path.isfile(entry):
                    yield (institution, site, name), False


def iter_archive_files(archive):
    """(institution_id, site_id, name) of every regular file in the site folders, sorted.

    Symbolic links (files or folders) are skipped: whatever they point to is
    outside what the archive holds and is never read. ``iter_archive_links``
    lists them.
    """
    for parts, link in _walk_sites(archive):
        if not link:
            yield parts


def iter_archive_links(archive):
    """Relative paths ("a/b/c") of the symbolic links among the site folders and their files."""
    for parts, link in _walk_sites(archive):
        if link:
            yield "/".join(parts)


def operator_dir(archive, institution_id, site_id, part):
    """``<site folder>/operator/files`` or ``.../seals`` (``part``: OPERATOR_FILES or OPERATOR_SEALS)."""
    return os.path.join(site_dir(archive, institution_id, site_id), OPERATOR_DIR, part)


def iter_operator_entries(archive):
    """(relative path, what) of every entry of the site folders' ``operator`` folders, sorted.

    ``what`` is ``file`` (a regular file in ``operator/files``), ``seal`` (a
    regular file in ``operator/seals``) or ``link`` (a symbolic link there, or
    an ``operator``, ``files`` or ``seals`` folder that is one: never followed).
    """
    if not _is_real_dir(archive):
        return
    for institution in sorted(os.listdir(archive)):
        base = os.path.join(archive, institution)
        if institution in RESERVED or not SAFE_NAME.match(institution) or not _is_real_dir(base):
            continue
        for site in sorted(os.listdir(base)):
            folder = os.path.join(base, site, OPERATOR_DIR)
            if not SAFE_NAME.match(site) or not _is_real_dir(os.path.join(base, site)):
                continue
            relative = (institution, site, OPERATOR_DIR)
            if os.path.islink(folder):
                yield "/".join(relative), "link"
                continue
            if not os.path.isdir(folder):
                continue
            for part, what in ((OPERATOR_FILES, "file"), (OPERATOR_SEALS, "seal")):
                path = os.path.join(folder, part)
                if os.path.islink(path):
                    yield "/".join(relative + (part,)), "link"
                    continue
                if not os.path.isdir(path):
                    continue
                for name in sorted(os.listdir(path)):
                    entry = os.path.join(path, name)
                    if name.startswith("."):
                        continue
                    if os.path.islink(entry):
                        yield "/".join(relative + (part, name)), "link"
                    elif os.path.isfile(entry):
                        yield "/".join(relative + (part, name)), what


def operator_seal_path(relative):
    """``I/S/operator/seals/NAME.p7s`` for the operator file ``I/S/operator/files/NAME``."""
    parts = relative.split("/")
    return "/".join(parts[:3] + [OPERATOR_SEALS, parts[-1] + SEAL_SUFFIX])


def operator_file_path(seal):
    """The operator file that the seal ``I/S/operator/seals/NAME.p7s`` belongs to, or None."""
    parts = seal.split("/")
    if len(parts) != 5 or not parts[-1].endswith(SEAL_SUFFIX):
        return None
    return "/".join(parts[:3] + [OPERATOR_FILES, parts[-1][:-len(SEAL_SUFFIX)]])


def _damaged_run(name, why):
    return ProofsError("the run record %s is damaged (%s); restore it from a backup" % (name, why))


def _check_run(record, shown):
    """Refuse a run record whose outcomes are not of the shape record_run writes."""
    outcomes = record.get("outcomes")
    if outcomes is None:
        return
    if not isinstance(outcomes, list):
        raise _damaged_run(shown, "outcomes is not a list")
    for number, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict):
            raise _damaged_run(shown, "outcome %d is not a mapping" % number)
        for key in ("archived", "operator_files"):
            _check_run_items(outcome.get(key), key, number, shown)


def _check_run_items(items, key, number, shown):
    if items is None:
        return
    if not isinstance(items, list):
        raise _damaged_run(shown, "outcome %d: %s is not a list" % (number, key))
    for item in items:
        if not isinstance(item, dict):
            raise _damaged_run(shown, "outcome %d: an entry of %s is not a mapping" % (number, key))
        for field in ("path", "sha256"):
            if item.get(field) is not None and not isinstance(item[field], str):
                raise _damaged_run(shown, "outcome %d: a %s entry's %s is not text" % (number, key, field))


def load_runs(archive):
    """Every collection run record of the archive, oldest first."""
    folder = os.path.join(archive, RUNS_DIR)
    runs = []
    if not os.path.isdir(folder):
        return runs
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(folder, name)
        if os.path.islink(path):
            raise ProofsError("the run record %s is a symbolic link, not a file of the archive; it is not "
                              "followed: restore the record from a backup" % path)
        try:
            record = json.loads(read_bytes(path).decode("utf-8"))
        except (IOError, OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProofsError("the run record %s cannot be read (%s); restore it from a backup" % (path, exc))
        if isinstance(record, dict) and record.get("schema") == RUN_SCHEMA:
            _check_run(record, path)
            record["_file"] = name
            runs.append(record)
    runs.sort(key=_run_order)
    return runs


def _run_order(record):
    sequence = record.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        sequence = 0
    return ("%s" % (record.get("finished_at") or ""), sequence, record["_file"])
