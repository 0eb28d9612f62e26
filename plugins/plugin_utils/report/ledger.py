# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the archive: proofs, operator files, the run records (the ledger) and the rotation log."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import file_sha256, read_bytes, sha256_hex
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import quarantine
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import (
    SEAL_SUFFIX,
    iter_archive_files,
    iter_operator_entries,
    operator_seal_path,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import load_runs
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import parse_proof


ROTATION_LOG = "rotation.jsonl"


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text):
    if not text:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%S%z"):
        try:
            moment = datetime.datetime.strptime(text, fmt)
        except (TypeError, ValueError):
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment
    return None


# --- reading the archive ------------------------------------------------------

def scan_archive(archive):
    """Every proof file of the archive with its facts, the run records and orphan seals."""
    proofs, seals = [], set()
    for institution, site, name in iter_archive_files(archive):
        relative = "/".join((institution, site, name))
        if name.endswith(SEAL_SUFFIX):
            seals.add(relative)
            continue
        if not name.endswith(".json"):
            continue
        entry = {"path": relative, "folder_institution_id": institution, "folder_site_id": site, "name": name,
                 "sha256": None, "document": None, "error": None,
                 "stored_at": _stored_at(os.path.join(archive, institution, site, name))}
        try:
            data = read_bytes(os.path.join(archive, institution, site, name))
        except (IOError, OSError) as exc:
            entry["error"] = "%s: cannot be read: %s" % (relative, exc.strerror or exc)
            proofs.append(entry)
            continue
        entry["sha256"] = sha256_hex(data)
        try:
            entry["document"] = parse_proof(data, relative)
        except ProofsError as exc:
            # Named as a problem of the report (index.json invalid_files); every other file is used.
            entry["error"] = "%s" % exc
        proofs.append(entry)
    for entry in proofs:
        entry["sealed"] = entry["path"] + SEAL_SUFFIX in seals
    present = set(p["path"] for p in proofs)
    orphans = sorted(s for s in seals if s[:-len(SEAL_SUFFIX)] not in present)
    unreadable = []
    return {"proofs": proofs, "orphan_seals": orphans, "runs": load_runs(archive), "rotations": load_rotations(archive),
            "operator_files": scan_operator_files(archive, unreadable), "quarantine": quarantine.scan(archive),
            "unreadable": unreadable}


def _stored_at(path):
    """When the controller stored the proof ``path``: the modification time of its seal (written just before the
    proof is published), else of the proof, UTC; None when neither can be read."""
    for candidate in (path + SEAL_SUFFIX, path):
        try:
            if not os.path.islink(candidate):
                return iso(datetime.datetime.fromtimestamp(int(os.stat(candidate).st_mtime), datetime.timezone.utc))
        except (OSError, ValueError, OverflowError):
            continue
    return None


def scan_operator_files(archive, unreadable=None):
    """Every operator file of the archive: path, institution, site, name, size, SHA-256, sealed.

    A file that cannot be read is left out and added to ``unreadable`` (a list) with why.
    """
    entries = list(iter_operator_entries(archive))
    seals = set(relative for relative, what in entries if what == "seal")
    found = []
    for relative, what in entries:
        if what != "file":
            continue
        parts = relative.split("/")
        path = os.path.join(archive, *parts)
        try:
            size, digest = os.path.getsize(path), file_sha256(path)
        except (IOError, OSError) as exc:
            if unreadable is not None:
                unreadable.append({"path": relative, "institution_id": parts[0], "site_id": parts[1],
                                   "reason": "%s: cannot be read: %s" % (relative, exc.strerror or exc)})
            continue
        found.append({"path": relative, "institution_id": parts[0], "site_id": parts[1], "name": parts[-1],
                      "size": size, "sha256": digest, "sealed": operator_seal_path(relative) in seals})
    return found


def receipts(runs, proofs):
    """When and in which order the controller received each proof: {relative path: (order, received_at)}.

    The order of receipt is the ledger's, never a site's clock: runs in the order ``load_runs`` gives (the
    controller's time of each run record, then its sequence number, then its name: the same order in an archive
    and in any merge of archives, which copies the run records), and within a run the order its outcomes list
    the proofs archived (the order they were fetched, the oldest name first). A proof named by several run
    records (the same proof collected into two archives that were merged) counts from the first. ``received_at``
    is the time of that run record.

    A proof in the archive that no run record names (an archive written before a run record could be written,
    by a run stopped between its seal and its record, or by hand) comes before every recorded proof, as what
    was received before the ledger began: it can never outrank a recorded proof. Among such proofs, the order
    is by the earlier of the proof's ``finished_at`` and the time the controller stored it (the seal file's
    modification time; ``stored_at`` of scan_archive), then by path; ``received_at`` is that storage time.
    ``order`` tuples compare across both kinds.
    """
    found = {}
    for number, run in enumerate(runs):
        position = 0
        for outcome in run.get("outcomes") or []:
            for item in outcome.get("archived") or []:
                path = item.get("path") if isinstance(item, dict) else None
                if isinstance(path, str) and path:
                    found.setdefault(path.replace(os.sep, "/"), ((1, number, position, ""), run.get("finished_at")))
                position += 1
    for entry in proofs:
        if entry["path"] not in found:
            document = entry.get("document") if isinstance(entry.get("document"), dict) else {}
            stored = entry.get("stored_at")
            moment = earliest(document.get("finished_at") if isinstance(document.get("finished_at"), str) else None,
                              stored)
            found[entry["path"]] = ((0, iso(moment) if moment else "", 0, entry["path"]), stored)
    return found


def earliest(*texts):
    """The earliest of the times ``texts`` (ISO 8601 text; unreadable ones and None are left out), or None."""
    moments = [moment for moment in (parse_time(text) for text in texts if isinstance(text, str)) if moment]
    return min(moments) if moments else None


def _outcome_records(runs):
    """Every outcome of the ledger with its run's time ("at") and id ("run"), oldest first."""
    for run in runs:
        for outcome in run.get("outcomes") or []:
            record = dict(outcome)
            record["at"] = run.get("finished_at")
            record["run"] = run.get("run_id")
            yield record


def outcome_key(outcome):
    """(institution_id, site_id) of an outcome; None for a site refused by the preflight (no valid identity)."""
    if outcome.get("status") == "refused":
        return None
    return ("%s" % outcome.get("institution_id"), "%s" % outcome.get("site_id"))


def last_collection(runs):
    """{(institution_id, site_id): the latest outcome of a collection run for that site}."""
    latest = {}
    for record in _outcome_records(runs):
        key = outcome_key(record)
        if key is not None:
            latest[key] = record
    return latest


def site_history(runs):
    """{(institution_id, site_id): every outcome recorded for that site, oldest first}."""
    history = {}
    for record in _outcome_records(runs):
        key = outcome_key(record)
        if key is not None:
            history.setdefault(key, []).append(record)
    return history


def host_latest(runs):
    """{inventory host: its latest outcome}, whatever identity it had then (refusals included)."""
    latest = {}
    for record in _outcome_records(runs):
        if record.get("host"):
            latest["%s" % record["host"]] = record
    return latest


def _truthy(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1)


def load_rotations(archive):
    """{(institution_id, site_id): the latest rotation outcome} from ``<archive>/rotation.jsonl``.

    ``playbooks/rotate_certificate.yml`` appends one JSON object per site and run. Lines that are not such
    objects, entries of a check-mode run (nothing changed) and entries without an identity are left out;
    a symbolic link is not followed.
    """
    path = os.path.join(archive, ROTATION_LOG)
    if os.path.islink(path) or not os.path.isfile(path):
        return {}
    latest = {}
    for number, line in enumerate(read_bytes(path).decode("utf-8", "replace").splitlines()):
        try:
            entry = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if not isinstance(entry, dict) or _truthy(entry.get("check_mode")):
            continue
        institution, site = entry.get("institution_id"), entry.get("site_id")
        if institution in (None, "", "None") or site in (None, "", "None") or isinstance(institution, (dict, list)) \
                or isinstance(site, (dict, list)):
            continue
        at = entry.get("at") if isinstance(entry.get("at"), str) else None
        record = {"status": one_line(entry.get("status"), 40), "at": at, "host": one_line(entry.get("host"), 200),
                  "category": one_line(entry.get("category"), 80), "message": one_line(entry.get("message")),
                  "check_passed": _truthy(entry.get("check_passed"))}
        if record["category"] in ("None", ""):
            record["category"] = None
        key = ("%s" % institution, "%s" % site)
        order = (parse_time(at) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc), number)
        if key not in latest or order >= latest[key][0]:
            latest[key] = (order, record)
    return dict((key, record) for key, (dummy, record) in latest.items())


# A collection message (an ssh error, for example) is kept on one line and cut to this length.
MESSAGE_MAX = 500


def one_line(text, limit=MESSAGE_MAX):
    """``text`` with every run of whitespace (CR/LF included) made one space, cut to ``limit`` characters."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", "%s" % text).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."
