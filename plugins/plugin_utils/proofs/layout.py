# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The central proof archive's layout: its folders, the names it accepts and where each file goes.

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

The archive's errors are in ``proofs/errors.py`` (their root in ``common/errors.py``), its careful writes in
``store.py``, its run records in ``ledger.py``.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError

INDEX_SCHEMA = "eeszt.connect/proof-index/v1"
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


def check_name(value, what):
    """Refuse a folder or file name that could leave the archive."""
    text = "%s" % (value,)
    if not SAFE_NAME.match(text) or text in RESERVED or text in (".", ".."):
        raise ProofsError("%s %r cannot be used as a folder name in the proof archive (letters, digits, "
                          "'.', '_' and '-' only, not %s)" % (what, text, ", ".join(sorted(RESERVED))))
    return text


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
