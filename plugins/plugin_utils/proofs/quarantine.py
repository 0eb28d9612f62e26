# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The archive's quarantine: files a site sent as proofs that are not valid proofs.

A file that is not JSON, breaks the proof schema (``schema.py``) or whose times cannot be true is never
archived as a proof nor sealed. Its bytes are kept, for whoever investigates, with a record of why::

    <archive>/quarantine/<institution_id>/<site_id>/<name>               the bytes, as the site sent them
    <archive>/quarantine/<institution_id>/<site_id>/<name>.reason.json   why, when, from which host

``quarantine`` is a reserved name: never an institution's folder. A file already quarantined with the same
bytes is not stored twice; another file under a quarantined name is kept as ``STEM_<12 hex of SHA-256>.json``.
Nothing in the quarantine is read as a proof: the report and verify_proofs.yml list its records.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import file_sha256, read_bytes, sha256_hex, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    PROOF_NAME,
    QUARANTINE_DIR,
    SAFE_NAME,
    check_name,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json, store

QUARANTINE_SCHEMA = "eeszt.connect/quarantine/v1"
REASON_SUFFIX = ".reason.json"
# A quarantine record is the controller's own file; still, a damaged one is read with limits.
RECORD_MAX_BYTES = 65536
REASON_MAX = 1000


def _folder(archive, institution_id, site_id):
    return os.path.join(archive, QUARANTINE_DIR, check_name(institution_id, "institution_id"),
                        check_name(site_id, "site_id"))


def _candidates(name, sha256):
    stem, ext = os.path.splitext(name)
    return (name, "%s_%s%s" % (stem, sha256[:12], ext))


def find(archive, institution_id, site_id, name, sha256):
    """The record of ``name`` quarantined earlier with this SHA-256, or None."""
    if not sha256 or not PROOF_NAME.match(name or ""):
        return None
    folder = _folder(archive, institution_id, site_id)
    for candidate in _candidates(name, sha256.lower()):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path) and not os.path.islink(path) and file_sha256(path) == sha256.lower():
            record = _read_record(path + REASON_SUFFIX)
            if record is not None:
                return record
    return None


def quarantine(archive, institution_id, site_id, name, data, reason, host=None, now=None):
    """Keep ``data`` (a file the site sent as ``name``) in the quarantine with why; returns its record."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    folder = _folder(archive, institution_id, site_id)
    digest = sha256_hex(data)
    safe = name if PROOF_NAME.match(name or "") else "unnamed.json"
    for candidate in _candidates(safe, digest):
        path = os.path.join(folder, candidate)
        if os.path.lexists(path):
            if os.path.isfile(path) and not os.path.islink(path) and file_sha256(path) == digest:
                record = _read_record(path + REASON_SUFFIX)
                if record is not None:
                    return record
                break  # the bytes without their record (an interrupted run): write the record
            continue
        break
    else:
        raise ValueError("both quarantine names of %s are taken by other content" % name)
    relative = "/".join((QUARANTINE_DIR, institution_id, site_id, candidate))
    record = {
        "schema": QUARANTINE_SCHEMA,
        "path": relative,
        "name": name,
        "institution_id": institution_id,
        "site_id": site_id,
        "host": host,
        "size": len(data),
        "sha256": digest,
        "reason": reason[:REASON_MAX],
        "quarantined_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    # The bytes first, then the record: a record never names bytes that are not there.
    store(path, data, write_new)
    store(path + REASON_SUFFIX, canonical_json(record), write_new)
    return record


def _read_record(path):
    if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > RECORD_MAX_BYTES:
        return None
    try:
        record = json.loads(read_bytes(path).decode("utf-8"))
    except (IOError, OSError, UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(record, dict) or record.get("schema") != QUARANTINE_SCHEMA:
        return None
    return record


def _text(value, limit):
    return value[:limit] if isinstance(value, str) else None


def scan(archive):
    """Every file of the quarantine with why: [{path, institution_id, site_id, name, host, sha256, reason, at}].

    The record's text fields are taken only when they are text (and cut); a file without a readable record
    is listed with that as its reason. Symbolic links are listed, never followed.
    """
    base = os.path.join(archive, QUARANTINE_DIR)
    found = []
    if os.path.islink(base) or not os.path.isdir(base):
        return found
    for institution in sorted(os.listdir(base)):
        folder = os.path.join(base, institution)
        if not SAFE_NAME.match(institution) or os.path.islink(folder) or not os.path.isdir(folder):
            continue
        for site in sorted(os.listdir(folder)):
            inner = os.path.join(folder, site)
            if not SAFE_NAME.match(site) or os.path.islink(inner) or not os.path.isdir(inner):
                continue
            for name in sorted(os.listdir(inner)):
                path = os.path.join(inner, name)
                if name.endswith(REASON_SUFFIX) or name.startswith("."):
                    continue
                relative = "/".join((QUARANTINE_DIR, institution, site, name))
                entry = {"path": relative, "institution_id": institution, "site_id": site, "name": name,
                         "host": None, "sha256": None, "reason": None, "at": None}
                if os.path.islink(path):
                    entry["reason"] = "a symbolic link in the quarantine: not followed"
                    found.append(entry)
                    continue
                if not os.path.isfile(path):
                    continue
                record = _read_record(path + REASON_SUFFIX)
                entry["sha256"] = file_sha256(path)
                if record is None:
                    entry["reason"] = "no readable record of why it was quarantined (%s%s)" % (name, REASON_SUFFIX)
                else:
                    entry.update(host=_text(record.get("host"), 255), reason=_text(record.get("reason"), REASON_MAX),
                                 at=_text(record.get("quarantined_at"), 32), name=_text(record.get("name"), 255) or name)
                found.append(entry)
    return found
