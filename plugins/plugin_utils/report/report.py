# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report, rebuilt from the archive's contents alone.

``scan_archive`` reads every proof and seal on disk and the collection run
records (the ledger); ``build_index`` turns that into the index (every proof,
the latest per site, pass/fail, certificate expiry); the ``render_*``
functions make ``report.csv``, ``report.html`` (self-contained: inline CSS,
SVG charts and a little JavaScript for sorting; no network) and
``junit.xml``; ``build_bundle`` makes one institution evidence bundle per
institution (the vendor's sealed evidence, not the eKapu certificate that the
operator's verification program issues). Because nothing comes from a play's memory, archives of partial
runs, re-runs and other controllers merge into one report.

A site's row reflects its latest run at every stage, never a stale green: a
failure recorded after its latest proof (a stage that failed, the site
unreachable at its last run, a rotation whose check failed) makes the site
failed with that reason until a newer proof is archived; the last passing
proof is kept as history, with its age. ``report.html`` is rendered in English
or Hungarian (``language``); the machine-readable files keep English keys.

Standard library only. Outputs are deterministic: the same archive on the
same day gives the same bytes, so a second run changes nothing.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import datetime
import io
import json
import os
import re
import zipfile
from xml.sax.saxutils import escape, quoteattr

from ansible_collections.eeszt.connect.plugins.plugin_utils.report import fleet_metrics
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.common import (
    INDEX_SCHEMA,
    RUN_SCHEMA,
    RUNS_DIR,
    EVIDENCE_DIR,
    SEAL_SUFFIX,
    UPLOAD_DIR,
    ProofsError,
    canonical_json,
    ensure_dir,
    file_sha256,
    iter_archive_files,
    iter_operator_entries,
    operator_seal_path,
    load_runs,
    parse_proof,
    read_bytes,
    sha256_hex,
    write_if_changed,
    write_new,
)

ROTATION_LOG = "rotation.jsonl"
# A proof older than this is marked stale (see the proofs role's eeszt_proofs_stale_hours).
DEFAULT_STALE_HOURS = 192
LANGUAGES = ("en", "hu")

STATUS_ORDER = {"failed": 0, "no_proof": 1, "passed": 2}
DAY_BUCKETS = (("expired", None, 0), ("< 14", 0, 14), ("14-29", 14, 30), ("30-89", 30, 90),
               ("90-179", 90, 180), ("180-364", 180, 365), ("365+", 365, None))
CSV_COLUMNS = ("institution_id", "site_id", "host", "status", "failure_category", "failure_message", "hint",
               "proof", "finished_at", "certificate_not_after", "certificate_days_left", "certificate_serial",
               "sealed", "proofs", "last_collection", "last_collection_at", "last_collection_message",
               "environment", "failure_stage", "failure_at", "proof_age_days", "stale", "last_passed",
               "last_passed_at", "bundle_outdated", "rotation_status", "rotation_at", "rotation_message")
VERIFY_COMMAND = ("openssl cms -verify -binary -purpose any -inform DER -CAfile CA.pem "
                  "-content PROOF.json -in PROOF.json.p7s -out /dev/null")


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)


def _iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(text):
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
        data = read_bytes(os.path.join(archive, institution, site, name))
        entry = {"path": relative, "folder_institution_id": institution, "folder_site_id": site, "name": name,
                 "sha256": sha256_hex(data), "document": None, "error": None}
        try:
            entry["document"] = parse_proof(data, relative)
        except ProofsError as exc:
            entry["error"] = "%s" % exc
        proofs.append(entry)
    for entry in proofs:
        entry["sealed"] = entry["path"] + SEAL_SUFFIX in seals
    present = set(p["path"] for p in proofs)
    orphans = sorted(s for s in seals if s[:-len(SEAL_SUFFIX)] not in present)
    return {"proofs": proofs, "orphan_seals": orphans, "runs": load_runs(archive), "rotations": load_rotations(archive),
            "operator_files": scan_operator_files(archive)}


def scan_operator_files(archive):
    """Every operator file of the archive: path, institution, site, name, size, SHA-256, sealed."""
    entries = list(iter_operator_entries(archive))
    seals = set(relative for relative, what in entries if what == "seal")
    found = []
    for relative, what in entries:
        if what != "file":
            continue
        parts = relative.split("/")
        path = os.path.join(archive, *parts)
        found.append({"path": relative, "institution_id": parts[0], "site_id": parts[1], "name": parts[-1],
                      "size": os.path.getsize(path), "sha256": file_sha256(path),
                      "sealed": operator_seal_path(relative) in seals})
    return found


def ledger(runs):
    """{relative path: sha256 at archive time} from the run records."""
    known = {}
    for run in runs:
        for outcome in run.get("outcomes") or []:
            for item in outcome.get("archived") or []:
                if item.get("path") and item.get("sha256"):
                    known[item["path"].replace(os.sep, "/")] = item["sha256"]
    return known


def operator_ledger(runs):
    """{relative path: the run record's entry (with the run's finished_at)} of every operator file archived."""
    known = {}
    for run in runs:
        for outcome in run.get("outcomes") or []:
            for item in outcome.get("operator_files") or []:
                if item.get("path") and item.get("sha256"):
                    known[item["path"].replace(os.sep, "/")] = dict(item, run_finished_at=run.get("finished_at"))
    return known


def _outcome_records(runs):
    """Every outcome of the ledger with its run's time ("at") and id ("run"), oldest first."""
    for run in runs:
        for outcome in run.get("outcomes") or []:
            record = dict(outcome)
            record["at"] = run.get("finished_at")
            record["run"] = run.get("run_id")
            yield record


def _outcome_key(outcome):
    """(institution_id, site_id) of an outcome; None for a site refused by the preflight (no valid identity)."""
    if outcome.get("status") == "refused":
        return None
    return ("%s" % outcome.get("institution_id"), "%s" % outcome.get("site_id"))


def last_collection(runs):
    """{(institution_id, site_id): the latest outcome of a collection run for that site}."""
    latest = {}
    for record in _outcome_records(runs):
        key = _outcome_key(record)
        if key is not None:
            latest[key] = record
    return latest


def site_history(runs):
    """{(institution_id, site_id): every outcome recorded for that site, oldest first}."""
    history = {}
    for record in _outcome_records(runs):
        key = _outcome_key(record)
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
        order = (_parse_time(at) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc), number)
        if key not in latest or order >= latest[key][0]:
            latest[key] = (order, record)
    return dict((key, record) for key, (dummy, record) in latest.items())


# --- the index ------------------------------------------------------------------

def _days_left(not_after, now):
    moment = _parse_time(not_after)
    if moment is None:
        return None
    return int((moment - now).total_seconds() // 86400)


def _proof_row(entry):
    document = entry["document"] or {}
    failure = document.get("failure") or {}
    certificate = document.get("client_certificate") or {}
    return {
        "path": entry["path"],
        "institution_id": entry["folder_institution_id"],
        "site_id": entry["folder_site_id"],
        "host": document.get("host"),
        "started_at": document.get("started_at"),
        "finished_at": document.get("finished_at"),
        "passed": document.get("passed") if entry["document"] else None,
        "failure_category": failure.get("category"),
        "certificate_not_after": certificate.get("not_after"),
        "duration_ms": _duration_ms(document),
        "sha256": entry["sha256"],
        "sealed": entry["sealed"],
        "status": "present" if entry["document"] else "unreadable",
    }


def _duration_ms(document):
    """The check's total time: the sum of its endpoints' times (ms), or None when the proof has none."""
    times = [endpoint.get("ms") for endpoint in document.get("endpoints") or [] if isinstance(endpoint, dict)]
    times = [value for value in times if isinstance(value, (int, float)) and not isinstance(value, bool)]
    return round(sum(times), 1) if times else None


def build_index(scan, now=None, warn_days=30, stale_hours=DEFAULT_STALE_HOURS):
    """The index document (without generated_at) built from scan_archive()."""
    now = now or utcnow()
    known = ledger(scan["runs"])
    collections = last_collection(scan["runs"])
    histories = site_history(scan["runs"])
    hosts = host_latest(scan["runs"])
    rotations = scan.get("rotations") or {}
    rows = [_proof_row(entry) for entry in scan["proofs"]]
    present = set(row["path"] for row in rows)
    for path in sorted(set(known) - present):
        parts = path.split("/")
        rows.append({"path": path, "institution_id": parts[0], "site_id": parts[1] if len(parts) > 2 else None,
                     "host": None, "started_at": None, "finished_at": None, "passed": None,
                     "failure_category": None, "certificate_not_after": None, "sha256": known[path],
                     "sealed": False, "status": "missing"})
    for row in rows:
        if row["status"] == "present" and known.get(row["path"]) not in (None, row["sha256"]):
            row["status"] = "altered"
    rows.sort(key=lambda r: r["path"])

    entries = dict((e["path"], e) for e in scan["proofs"])
    sites = {}
    for row in rows:
        sites.setdefault((row["institution_id"], row["site_id"]), []).append(row)
    for key in list(collections) + list(rotations):
        if key not in sites and not _superseded(key, collections.get(key), hosts):
            sites[key] = []
    site_rows = []
    for (institution, site), proofs in sorted(sites.items()):
        row = _site_row(institution, site, proofs, entries, collections.get((institution, site)), now)
        refusal = hosts.get(row["host"] or (collections.get((institution, site)) or {}).get("host"))
        _latest_run(row, entries, histories.get((institution, site)) or [], rotations.get((institution, site)),
                    refusal if (refusal or {}).get("status") == "refused" else None, now, stale_hours)
        row["trend"] = _trend(proofs, entries, institution, site)
        site_rows.append(row)
    site_rows.sort(key=lambda s: (STATUS_ORDER[s["status"]], s["institution_id"], s["site_id"]))
    refused = refused_hosts(hosts)

    summary = {
        "sites": len(site_rows),
        "passed": sum(1 for s in site_rows if s["status"] == "passed"),
        "failed": sum(1 for s in site_rows if s["status"] == "failed"),
        "no_proof": sum(1 for s in site_rows if s["status"] == "no_proof"),
        "unreachable": sum(1 for s in site_rows if (s["collection"] or {}).get("status") == "unreachable"),
        "collection_errors": sum(1 for s in site_rows if (s["collection"] or {}).get("status") == "error"),
        "institutions": len(set(s["institution_id"] for s in site_rows)),
        "proofs": sum(1 for r in rows if r["status"] != "missing"),
        "missing_proofs": sum(1 for r in rows if r["status"] == "missing"),
        "unsealed_proofs": sum(1 for r in rows if r["status"] != "missing" and not r["sealed"]),
        "certificates_expired": sum(1 for s in site_rows if s["certificate_days_left"] is not None
                                    and s["certificate_days_left"] < 0),
        "certificates_expiring": sum(1 for s in site_rows if s["certificate_days_left"] is not None
                                     and 0 <= s["certificate_days_left"] < warn_days),
        "warn_days": warn_days,
        "stale": sum(1 for s in site_rows if s["stale"]),
        "stale_hours": stale_hours,
        "refused": len(refused),
        "bundle_outdated": sum(1 for s in site_rows if s["bundle_outdated"]),
        "rotation_problems": sum(1 for s in site_rows if (s["rotation"] or {}).get("status") in ROTATION_PROBLEMS),
    }
    return {
        "schema": INDEX_SCHEMA,
        "summary": summary,
        "sites": site_rows,
        "refused": refused,
        "proofs": rows,
        "orphan_seals": scan["orphan_seals"],
        "runs": [r["_file"] for r in scan["runs"]],
        "verify_command": VERIFY_COMMAND,
        "operator_files": operator_file_rows(scan),
        "operator_refused": operator_refusals(collections),
    }


def operator_file_rows(scan):
    """One row per operator file in the archive or in the ledger: name, size, SHA-256, collected at, status."""
    known = operator_ledger(scan["runs"])
    rows = []
    for entry in scan.get("operator_files") or []:
        record = known.get(entry["path"]) or {}
        status = "present" if record.get("sha256") in (None, entry["sha256"]) else "altered"
        rows.append({"path": entry["path"], "institution_id": entry["institution_id"], "site_id": entry["site_id"],
                     "name": entry["name"], "source": record.get("source"), "size": entry["size"],
                     "sha256": entry["sha256"], "sealed": entry["sealed"],
                     "collected_at": record.get("collected_at") or record.get("run_finished_at"), "status": status})
    present = set(row["path"] for row in rows)
    for path in sorted(set(known) - present):
        record, parts = known[path], path.split("/")
        rows.append({"path": path, "institution_id": parts[0], "site_id": parts[1] if len(parts) > 1 else None,
                     "name": parts[-1], "source": record.get("source"), "size": record.get("size"),
                     "sha256": record["sha256"], "sealed": False,
                     "collected_at": record.get("collected_at") or record.get("run_finished_at"), "status": "missing"})
    rows.sort(key=lambda r: r["path"])
    return rows


def operator_refusals(collections):
    """The operator files that each site's latest collection refused, with why."""
    refused = []
    for (institution, site), outcome in sorted(collections.items()):
        for item in outcome.get("operator_refused") or []:
            if isinstance(item, dict):
                refused.append({"institution_id": institution, "site_id": site, "path": item.get("path"),
                                "reason": item.get("reason")})
    return refused


def _site_row(institution, site, proofs, entries, collection, now):
    own = [p for p in proofs if p["status"] in ("present", "altered")
           and (entries[p["path"]]["document"] or {}).get("institution_id") == institution
           and (entries[p["path"]]["document"] or {}).get("site_id") == site]
    own.sort(key=lambda p: (p["finished_at"] or "", p["path"]))
    latest = own[-1] if own else None
    passing = [p for p in own if p["passed"] is True]
    document = entries[latest["path"]]["document"] if latest else {}
    failure = document.get("failure") or {}
    certificate = document.get("client_certificate") or {}
    if latest is None:
        status = "no_proof"
    else:
        status = "passed" if latest["passed"] is True else "failed"
    collection_row = None
    if collection:
        collection_row = {"status": collection.get("status"), "at": collection.get("at"),
                          "run": collection.get("run"), "message": collection.get("message")}
    return {
        "institution_id": institution,
        "site_id": site,
        "host": document.get("host") or (collection or {}).get("host"),
        "status": status,
        "environment": document.get("environment"),
        "latest": latest["path"] if latest else None,
        "latest_passing": passing[-1]["path"] if passing else None,
        "finished_at": document.get("finished_at"),
        "failure": None if not failure else {
            "category": failure.get("category"), "endpoint": failure.get("endpoint"),
            "step": failure.get("step"), "message": failure.get("message"), "hint": failure.get("hint")},
        "certificate_subject": certificate.get("subject"),
        "certificate_serial": certificate.get("serial"),
        "certificate_not_after": certificate.get("not_after"),
        "certificate_days_left": _days_left(certificate.get("not_after"), now),
        "sealed": bool(latest and latest["sealed"]),
        "proofs": len(own),
        "collection": collection_row,
    }


# --- the latest run: no stale green -------------------------------------------------

# Latest rotation outcomes shown as a problem (rotate_certificate.yml's statuses).
ROTATION_PROBLEMS = ("rolled_back", "check_failed", "failed")


def _after(moment_text, since):
    moment = _parse_time(moment_text)
    return moment is not None and (since is None or moment > since)


def _failure_events(since, history, rotation, refusal):
    """The failures recorded after ``since`` (the latest proof's time; None: no proof), as failure dicts.

    A stage that failed (an ``error`` outcome), a rotation whose final check failed and a refusal of the
    site's host by the preflight stay until a newer proof; an unreachable site counts only while
    "unreachable" is its latest outcome.
    """
    events = []
    if refusal and _after(refusal.get("at"), since):
        events.append({"stage": "preflight", "category": refusal.get("error") or "refused",
                       "message": refusal.get("message"), "hint": None, "endpoint": None, "step": None,
                       "at": refusal.get("at")})
    for number, record in enumerate(history):
        status = record.get("status")
        if status == "error" or (status == "unreachable" and number == len(history) - 1):
            if _after(record.get("at"), since):
                events.append({"stage": record.get("stage"),
                               "category": record.get("error") or status,
                               "message": record.get("message"), "hint": None, "endpoint": None, "step": None,
                               "at": record.get("at")})
    if rotation and not rotation["check_passed"] and _after(rotation.get("at"), since):
        events.append({"stage": "rotation", "category": rotation.get("category") or rotation.get("status"),
                       "message": rotation.get("message"), "hint": None, "endpoint": None, "step": None,
                       "at": rotation.get("at")})
    events.sort(key=lambda e: _parse_time(e["at"]))
    return events


def _age_days(text, now):
    moment = _parse_time(text)
    if moment is None:
        return None
    return max(int((now - moment).total_seconds() // 86400), 0)


def _latest_run(row, entries, history, rotation, refusal, now, stale_hours):
    """Make ``row`` (from _site_row) reflect the site's latest run; add history, age, staleness, rotation."""
    since = _parse_time(row["finished_at"]) if row["latest"] else None
    if row["failure"] is not None:
        row["failure"].update(stage="check", at=row["finished_at"])
    events = _failure_events(since, history, rotation, refusal)
    row["latest_proof_status"] = None if row["status"] == "no_proof" else row["status"]
    if events:
        row["failure"] = events[-1]
        if row["status"] == "passed":
            row["status"] = "failed"
    passing = entries[row["latest_passing"]]["document"] if row["latest_passing"] else None
    row["latest_passing_at"] = passing.get("finished_at") if passing else None
    row["latest_passing_age_days"] = _age_days(row["latest_passing_at"], now)
    row["proof_age_days"] = _age_days(row["finished_at"], now) if row["latest"] else None
    row["stale"] = bool(since is not None and (now - since).total_seconds() > stale_hours * 3600)
    # The evidence bundle holds the latest passing proof; after it the site failed.
    row["bundle_outdated"] = bool(row["latest_passing"] and row["status"] != "passed")
    row["rotation"] = None if not rotation else dict(
        (k, rotation.get(k)) for k in ("status", "at", "category", "message", "check_passed"))
    if row["host"] is None and history:
        row["host"] = history[-1].get("host")
    return row


TREND_CHECKS = 10


def _trend(proofs, entries, institution, site):
    """The site's last TREND_CHECKS checks from its proofs in the archive, oldest first: when, passed, ms."""
    own = [p for p in proofs if p["status"] in ("present", "altered") and p["finished_at"]
           and (entries[p["path"]]["document"] or {}).get("institution_id") == institution
           and (entries[p["path"]]["document"] or {}).get("site_id") == site]
    own.sort(key=lambda p: (p["finished_at"], p["path"]))
    return [{"at": p["finished_at"], "passed": p["passed"] is True, "ms": p["duration_ms"]}
            for p in own[-TREND_CHECKS:]]


def _superseded(key, collection, hosts):
    """True for a site without proofs whose host was last recorded under another identity (or refused).

    Such a row is a ghost: the identity was a typo since corrected, or one the preflight now refuses.
    """
    host = (collection or {}).get("host")
    if not host or host not in hosts:
        return False
    return _outcome_key(hosts[host]) != key


def refused_hosts(hosts):
    """Hosts whose latest outcome is a refusal by the preflight: listed under their inventory name."""
    refused = []
    for host, record in sorted(hosts.items()):
        if record.get("status") == "refused":
            refused.append({"host": host, "at": record.get("at"), "run": record.get("run"),
                            "stage": record.get("stage") or "preflight", "error": record.get("error"),
                            "message": record.get("message")})
    return refused


def content_digest(index):
    return sha256_hex(canonical_json(index))


# --- CSV, JUnit -----------------------------------------------------------------

def _csv_row(site):
    failure = site["failure"] or {}
    collection = site["collection"] or {}
    row = {
        "institution_id": site["institution_id"], "site_id": site["site_id"], "host": site["host"] or "",
        "status": site["status"], "failure_category": failure.get("category") or "",
        "failure_message": failure.get("message") or "", "hint": failure.get("hint") or "",
        "proof": site["latest"] or "", "finished_at": site["finished_at"] or "",
        "certificate_not_after": site["certificate_not_after"] or "",
        "certificate_days_left": "" if site["certificate_days_left"] is None else site["certificate_days_left"],
        "certificate_serial": site["certificate_serial"] or "", "sealed": "yes" if site["sealed"] else "no",
        "proofs": site["proofs"], "last_collection": collection.get("status") or "",
        "last_collection_at": collection.get("at") or "", "last_collection_message": collection.get("message") or "",
    }
    row.update(_csv_latest_run(site))
    return row


def _csv_latest_run(site):
    """The CSV columns of the latest run: environment, failure stage and time, age, history, rotation."""
    failure = site["failure"] or {}
    rotation = site["rotation"] or {}
    return {
        "environment": site["environment"] or "", "failure_stage": failure.get("stage") or "",
        "failure_at": failure.get("at") or "",
        "proof_age_days": "" if site["proof_age_days"] is None else site["proof_age_days"],
        "stale": "yes" if site["stale"] else "no", "last_passed": site["latest_passing"] or "",
        "last_passed_at": site["latest_passing_at"] or "", "bundle_outdated": "yes" if site["bundle_outdated"] else "no",
        "rotation_status": rotation.get("status") or "", "rotation_at": rotation.get("at") or "",
        "rotation_message": rotation.get("message") or "",
    }


def render_csv(index):
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for site in index["sites"]:
        writer.writerow(_csv_row(site))
    return stream.getvalue().encode("utf-8")


def _junit_failure_text(site):
    failure = site["failure"] or {}
    lines = [failure.get("message") or ""]
    if failure.get("stage"):
        lines.append("stage: %s" % failure["stage"])
    if failure.get("hint"):
        lines.append("hint: %s" % failure["hint"])
    if failure.get("at"):
        lines.append("at: %s" % failure["at"])
    lines.append("proof: %s" % (site["latest"] or "none"))
    if site["bundle_outdated"]:
        lines.append("last passed: %s (%s); the evidence bundle holds that proof, older than this failure"
                     % (site["latest_passing_at"], site["latest_passing"]))
    return "\n".join(lines)


def render_junit(index, generated_at):
    summary = index["summary"]
    refused = index.get("refused") or []

    def collection_error(site):
        return (site["collection"] or {}).get("status") in ("unreachable", "error") or \
            (site["failure"] or {}).get("category") == "unreachable"

    failures = summary["failed"] + sum(1 for s in index["sites"] if s["status"] == "no_proof"
                                       and not collection_error(s))
    errors = sum(1 for s in index["sites"] if s["status"] == "no_proof" and collection_error(s)) + len(refused)
    tests = len(index["sites"]) + len(refused)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites name="eeszt.connect proofs" tests="%d" failures="%d" errors="%d">'
             % (tests, failures, errors),
             '  <testsuite name="eeszt.connect connection proofs" tests="%d" failures="%d" errors="%d" '
             'skipped="0" timestamp=%s>' % (tests, failures, errors, quoteattr(generated_at))]
    for site in sorted(index["sites"], key=lambda s: (s["institution_id"], s["site_id"])):
        name = site["site_id"] + (" (%s)" % site["host"] if site["host"] else "")
        classname = quoteattr("eeszt.institution_%s" % site["institution_id"])
        head = '    <testcase classname=%s name=%s' % (classname, quoteattr(name))
        collection = site["collection"] or {}
        failure = site["failure"] or {}
        if site["status"] == "passed":
            lines.append(head + ' file=%s/>' % quoteattr(site["latest"]))
            continue
        lines.append(head + (' file=%s>' % quoteattr(site["latest"]) if site["latest"] else '>'))
        if site["status"] == "failed":
            lines.append('      <failure type=%s message=%s>%s</failure>' % (
                quoteattr(failure.get("category") or "failed"), quoteattr(failure.get("message") or "check failed"),
                escape(_junit_failure_text(site))))
        elif collection_error(site):
            kind = failure.get("category") or collection["status"]
            message = failure.get("message") or collection.get("message") or "the site could not be collected"
            lines.append('      <error type=%s message=%s>%s</error>' % (
                quoteattr(kind), quoteattr(message), escape(_junit_failure_text(site) if failure else message)))
        elif failure:
            lines.append('      <failure type=%s message=%s>%s</failure>' % (
                quoteattr(failure.get("category") or "failed"), quoteattr(failure.get("message") or "failed"),
                escape(_junit_failure_text(site))))
        else:
            lines.append('      <failure type="no_proof" message="no proof in the archive">No connection check '
                         'proof of this site is in the archive: run check_connection.yml and collect_proofs.yml.'
                         '</failure>')
        lines.append('    </testcase>')
    for entry in refused:
        message = entry["message"] or "refused by the preflight"
        lines += ['    <testcase classname="eeszt.preflight" name=%s>' % quoteattr(entry["host"]),
                  '      <error type=%s message=%s>%s</error>' % (
                      quoteattr(entry["error"] or "refused"), quoteattr(message),
                      escape("%s\nThe host is refused by the preflight and has no site row until its variables are "
                             "fixed in the inventory." % message)),
                  '    </testcase>']
    lines += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(lines).encode("utf-8")


# --- institution evidence bundles ---------------------------------------------------

def _zip_time(text):
    moment = _parse_time(text) or datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc)
    moment = max(moment, datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc))
    return moment.timetuple()[:6]


EVIDENCE_README = """Institution evidence bundle: institution %(institution)s
==========================================================

What this is
------------
The IT vendor's own sealed evidence that the institution's sites are
connected to EESZT, collected with the Ansible collection eeszt.connect:

- per site, the latest passing connection check proof of the collection
  (SITE_ID/*.json), with its detached CMS seal (*.json.p7s);
- per site, the operator files archived from it (SITE_ID/operator/files/),
  each with its seal (SITE_ID/operator/seals/NAME.p7s): files that the
  operator's verification program or the institution produced and that
  were copied to the site;
- SHA256SUMS: the SHA-256 of every file in this bundle.

What this is not
----------------
This bundle is NOT the proof that the institution uploads to eKapu. The
official step: the EESZT operator's verification program, eesztConnect.exe
(the "ellenőrző keretprogram"), is run at the site; after a successful run
it issues an electronic certificate. The institution's administrator
uploads that file to the eKapu portal, and the operator checks it. Nothing
in this bundle replaces that file, and eeszt.connect uploads nothing to
eKapu. Operator files in this bundle are archived copies, sealed by the
vendor; the originals are whatever the operator's program issued.

Checking a seal
---------------
openssl cms -verify -binary -purpose any -inform DER -CAfile CA.pem \\
  -content FILE -in FILE_SEAL.p7s -out /dev/null

(CA.pem: the CA chain of the sealing certificate; for the institution's
WAF-SSL key, the EESZT client CA chain.)
"""


def _zip_member(bundle, member, data, when, sums):
    info = zipfile.ZipInfo(member, date_time=_zip_time(when))
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    bundle.writestr(info, data)
    if sums is not None:
        sums.append("%s  %s" % (sha256_hex(data), member))


def _operator_members(archive, index, institution):
    """{site_id: [(member, archive path, collected_at)]}: the operator files of the institution, with seals."""
    members = {}
    for row in index.get("operator_files") or []:
        if row["institution_id"] != institution or row["status"] == "missing":
            continue
        seal = operator_seal_path(row["path"])
        for relative in (row["path"], seal):
            source = os.path.join(archive, *relative.split("/"))
            if os.path.isfile(source) and not os.path.islink(source):
                member = "/".join(relative.split("/")[1:])
                members.setdefault(row["site_id"], []).append((member, source, row["collected_at"]))
    return members


def build_bundle(archive, institution, sites, index=None):
    """The institution evidence bundle (zip bytes) of one institution, or None when it has nothing to hold.

    The latest passing proof of each site with its seal, the operator files of
    each site with theirs, SHA256SUMS and README.txt (what the bundle is, and
    that it is not the eKapu certificate of the operator's verification program).
    """
    chosen = [s for s in sites if s["latest_passing"]]
    operator = _operator_members(archive, index or {}, institution)
    if not chosen and not operator:
        return None
    stream = io.BytesIO()
    sums = []
    with zipfile.ZipFile(stream, "w", zipfile.ZIP_DEFLATED) as bundle:
        for site in sorted(chosen, key=lambda s: s["site_id"]):
            relative = site["latest_passing"]
            for suffix in ("", SEAL_SUFFIX):
                source = os.path.join(archive, *(relative + suffix).split("/"))
                if not os.path.isfile(source):
                    continue
                member = "%s/%s" % (site["site_id"], os.path.basename(source))
                _zip_member(bundle, member, read_bytes(source), site["finished_at"], sums)
        for site_id in sorted(operator):
            for member, source, collected_at in sorted(operator[site_id]):
                _zip_member(bundle, member, read_bytes(source), collected_at, sums)
        latest = max([s["finished_at"] or "" for s in chosen]
                     + [c or "" for items in operator.values() for dummy, dummy2, c in items])
        _zip_member(bundle, "SHA256SUMS", "\n".join(sums) + "\n", latest, None)
        _zip_member(bundle, "README.txt", EVIDENCE_README % {"institution": institution}, latest, None)
        notice = bundle_notice(chosen)
        if notice:
            _zip_member(bundle, BUNDLE_NOTICE, notice, max((s["failure"] or {}).get("at") or "" for s in chosen), None)
    return stream.getvalue()


BUNDLE_NOTICE = "NOTICE-LATER-FAILURES.txt"


def bundle_notice(sites):
    """Text that names each bundled site whose passing proof is older than a later failure, or None."""
    outdated = [s for s in sorted(sites, key=lambda s: s["site_id"]) if s.get("bundle_outdated")]
    if not outdated:
        return None
    lines = ["This bundle holds the latest passing proof of each site. The sites below failed AFTER the proof",
             "bundled for them: that proof is history, not their current state (see report.html).", ""]
    for site in outdated:
        failure = site["failure"] or {}
        lines.append("%s (%s): passing proof of %s; failed at %s in the %s stage: %s: %s" % (
            site["site_id"], site["host"] or "-", site["latest_passing_at"] or "?", failure.get("at") or "?",
            failure.get("stage") or "collection", failure.get("category") or "failed",
            failure.get("message") or "no message recorded"))
    return "\n".join(lines) + "\n"


def legacy_bundles(archive):
    """Bundles that earlier versions wrote as upload/<institution>_ekapu.zip (relative paths)."""
    folder = os.path.join(archive, UPLOAD_DIR)
    if not os.path.isdir(folder) or os.path.islink(folder):
        return []
    return ["%s/%s" % (UPLOAD_DIR, name) for name in sorted(os.listdir(folder))
            if re.match(r"^[0-9A-Za-z][0-9A-Za-z._-]*_ekapu\.zip$", name)
            and os.path.isfile(os.path.join(folder, name)) and not os.path.islink(os.path.join(folder, name))]


def remove_legacy_bundles(archive, check_mode=False):
    """Remove upload/*_ekapu.zip (and upload/ when then empty); their content is in evidence/ now."""
    removed = legacy_bundles(archive)
    if check_mode:
        return removed
    for relative in removed:
        os.unlink(os.path.join(archive, *relative.split("/")))
    folder = os.path.join(archive, UPLOAD_DIR)
    if removed and not os.listdir(folder):
        os.rmdir(folder)
    return removed


# --- HTML ------------------------------------------------------------------------

_CSS = """
:root{--ok:#1a7f37;--bad:#c62828;--warn:#b26a00;--none:#6b7280;--ink:#1f2328;--line:#d0d7de;--bg:#f6f8fa}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;color:var(--ink);margin:0;background:#fff}
header{padding:18px 28px;border-bottom:1px solid var(--line);background:var(--bg)}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:16px;margin:24px 0 8px}
main{padding:8px 28px 28px}
.meta{color:#57606a;font-size:13px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:8px;padding:8px 14px;min-width:118px;background:#fff}
.card b{display:block;font-size:26px;line-height:1.2}
.card.ok b{color:var(--ok)}.card.bad b{color:var(--bad)}.card.warn b{color:var(--warn)}.card.none b{color:var(--none)}
.charts{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
figure{margin:0;border:1px solid var(--line);border-radius:8px;padding:10px 14px}
figcaption{font-weight:600;margin-bottom:6px}
table{border-collapse:collapse;width:100%;margin-top:8px;font-size:13px}
th,td{border-bottom:1px solid var(--line);padding:6px 5px;text-align:left;vertical-align:top}
td.msg{min-width:200px;overflow-wrap:anywhere}
td.code{min-width:110px;max-width:170px;overflow-wrap:break-word}
td.when,div.when{white-space:nowrap}
th{background:var(--bg);position:sticky;top:0}
th button{all:unset;cursor:pointer;font-weight:600}
th button::after{content:" \\2195";color:#8c959f}
th[aria-sort=ascending] button::after{content:" \\2191"}
th[aria-sort=descending] button::after{content:" \\2193"}
td.num{text-align:right;font-variant-numeric:tabular-nums}
tr.failed td:first-child{box-shadow:inset 4px 0 var(--bad)}
tr.no_proof td:first-child{box-shadow:inset 4px 0 var(--none)}
tr.passed td:first-child{box-shadow:inset 4px 0 var(--ok)}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;color:#fff}
.badge.passed{background:var(--ok)}.badge.failed{background:var(--bad)}.badge.no_proof{background:var(--none)}
.badge.unreachable,.badge.error,.badge.stale,.badge.rolled_back,.badge.check_failed{background:var(--warn)}
.badge.failed_rotation{background:var(--bad)}.badge.rotated,.badge.unchanged{background:#57606a}
.badge.history{background:#fff;color:var(--ok);border:1px solid var(--ok)}
.hint{color:#57606a;font-size:12.5px}
.trend{margin-top:4px;line-height:0}
.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn);font-weight:600}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:4px}
footer{padding:0 28px 28px;color:#57606a;font-size:12.5px}
"""

_JS = """
(function(){
  var table=document.getElementById('sites');if(!table)return;
  var heads=table.tHead.rows[0].cells;
  function key(cell,numeric){var v=cell.getAttribute('data-sort');if(v===null)v=cell.textContent.trim();
    if(numeric){var n=parseFloat(v);return isNaN(n)?Infinity:n;}return v.toLowerCase();}
  Array.prototype.forEach.call(heads,function(th,col){
    var button=th.querySelector('button');if(!button)return;
    button.addEventListener('click',function(){
      var ascending=th.getAttribute('aria-sort')!=='ascending';
      Array.prototype.forEach.call(heads,function(h){h.removeAttribute('aria-sort');});
      th.setAttribute('aria-sort',ascending?'ascending':'descending');
      var numeric=th.getAttribute('data-type')==='number';
      var rows=Array.prototype.slice.call(table.tBodies[0].rows);
      rows.sort(function(a,b){var x=key(a.cells[col],numeric),y=key(b.cells[col],numeric);
        return (x<y?-1:x>y?1:0)*(ascending?1:-1);});
      rows.forEach(function(r){table.tBodies[0].appendChild(r);});
    });
  });
})();
"""


def _h(value):
    return escape("" if value is None else "%s" % value, {'"': "&quot;"})


# Every word of report.html, per language. index.json, report.csv and junit.xml keep English keys.
TEXT = {
    "en": {
        "lang": "en",
        "title": "EESZT connection proofs",
        "meta": "Fleet report built from the proof archive at %(generated)s UTC &middot; %(institutions)d "
                "institution(s), %(proofs)d proof(s)",
        "summary": "Summary",
        "cards": {"sites": "Sites", "passed": "Passed", "failed": "Failed", "no_proof": "No proof",
                  "unreachable": "Unreachable", "stale": "Stale (> %d h)", "refused": "Refused by preflight",
                  "expiring": "Certs < %d days", "expired": "Certs expired", "rotation": "Rotation problems"},
        "chart_status": "Sites by status (latest run)",
        "chart_days": "Client certificates by days left",
        "chart_aria": "Sites by status: %d passed, %d failed, %d without proof",
        "chart_days_aria": "Sites by certificate days left",
        "chart_days_title": "%s days: %d site(s)",
        "chart_months": "Client certificates expiring per month",
        "chart_months_aria": "Sites by the month their client certificate expires, for the coming twelve months",
        "chart_months_title": "%s: %d certificate(s) expire",
        "later": "later",
        "trend_title": "The last %d checks, oldest first: green passed, red failed; bar height: total time",
        "trend_bar": "%s UTC: %s, %s ms",
        "trend_passed": "passed",
        "trend_failed": "failed",
        "expired_bucket": "expired",
        "no_sites": "no sites yet",
        "sites": "Sites",
        "sites_note": "Failed sites first. Click a column heading to sort. A site is shown as it was at its latest "
                      "run: a failure after its latest proof makes it failed until a newer proof; its last "
                      "passing proof is shown as history. A proof older than %d hours is marked stale.",
        "headers": ("Status", "Institution", "Site", "Host", "Environment", "Failure", "Message and hint",
                    "Latest proof (UTC)", "Last passed (UTC)", "Rotation", "Cert. expires (days left)",
                    "Collected (UTC)"),
        "status": {"passed": "passed", "failed": "failed", "no_proof": "no proof"},
        "collection": {"collected": "collected", "unreachable": "unreachable", "error": "error"},
        "stale": "stale",
        "environment": {"test": "test", "production": "production"},
        "stage": {"preflight": "preflight", "certificate": "certificate stage", "tls": "tls stage",
                  "check": "connection check", "proofs": "proofs stage", "rotation": "rotation", None: "collection"},
        "rotation": {"rotated": "rotated", "rolled_back": "rolled back", "unchanged": "unchanged",
                     "check_failed": "check failed", "failed": "failed"},
        "no_proof_yet": "No proof collected yet.",
        "last_collection": "Last collection: %s",
        "bundle_outdated": "The evidence bundle holds the passing proof of %s, older than this failure.",
        "never": "never",
        "today": "today",
        "days_ago": "%d day(s) ago",
        "no_rows": "No proofs in the archive yet.",
        "missing": "%d proof(s) recorded in the ledger are missing from the archive",
        "unsealed": "%d proof(s) have no seal",
        "run_verify": "%s: run <code>playbooks/verify_proofs.yml</code>.",
        "refused_title": "Refused by the preflight",
        "refused_note": "These hosts took no part in the run and have no row, because their variables are not "
                        "valid. Fix them in the inventory (host_vars, group_vars or the site registry) and run again.",
        "outdated_note": "%d site(s) failed after the passing proof that their institution's evidence bundle holds; "
                         "the bundle says so in <code>NOTICE-LATER-FAILURES.txt</code>.",
        "footer": "Every proof in the archive carries a detached CMS seal (<code>.p7s</code>). Check one with "
                  "<code>%(verify)s</code>, or all of them with "
                  "<code>ansible-playbook eeszt.connect.verify_proofs</code>. The machine-readable report is "
                  "<code>index.json</code> (also <code>report.csv</code>, <code>junit.xml</code>); institution "
                  "evidence bundles are in <code>evidence/</code>.",
        "what_it_is": (
            '<p id="what-it-is">These proofs are the IT vendor\'s own sealed evidence that each site is connected '
            'to EESZT. They are <strong>not</strong> the proof for eKapu: that is the electronic certificate that the '
            'EESZT operator\'s verification program, <code>eesztConnect.exe</code> (the &ldquo;ellen&#337;rz&#337; '
            'keretprogram&rdquo;), issues after a successful run at the site; the institution\'s administrator '
            'uploads that file to eKapu and the operator checks it. Operator files listed above are archived, sealed '
            'copies of files found on the sites.</p>'),
        "operator": {
            "title": "Operator files",
            "note": "Files that the operator's verification program or the institution produced and that were "
                    "copied to the site, archived and sealed beside the site's proofs.",
            "columns": ["Institution", "Site", "Name", "Size (bytes)", "SHA-256", "Collected (UTC)", "Status"],
            "status": {"present": "present", "altered": "altered", "missing": "missing"},
            "no_seal": "no seal",
            "not_collected": "Not collected at",
        },
    },
    "hu": {
        "lang": "hu",
        "title": "EESZT kapcsolódási igazolások",
        "meta": "Összesítő jelentés az igazolásarchívum tartalmából, készült: %(generated)s UTC &middot; "
                "%(institutions)d intézmény, %(proofs)d igazolás",
        "summary": "Összesítés",
        "cards": {"sites": "Telephely", "passed": "Sikeres", "failed": "Sikertelen", "no_proof": "Nincs igazolás",
                  "unreachable": "Nem elérhető", "stale": "Elavult (> %d óra)",
                  "refused": "Előellenőrzésen elutasítva", "expiring": "Tanúsítvány < %d nap",
                  "expired": "Lejárt tanúsítvány", "rotation": "Tanúsítványcsere-hiba"},
        "chart_status": "Telephelyek állapot szerint (legutóbbi futás)",
        "chart_days": "Kliens-tanúsítványok a lejáratig hátralévő napok szerint",
        "chart_aria": "Telephelyek állapot szerint: %d sikeres, %d sikertelen, %d igazolás nélkül",
        "chart_days_aria": "Telephelyek a tanúsítvány lejáratáig hátralévő napok szerint",
        "chart_days_title": "%s nap: %d telephely",
        "chart_months": "Lejáró kliens-tanúsítványok havonta",
        "chart_months_aria": "Telephelyek aszerint, hogy melyik hónapban jár le a kliens-tanúsítványuk, a következő "
                             "tizenkét hónapra",
        "chart_months_title": "%s: %d tanúsítvány jár le",
        "later": "később",
        "trend_title": "Az utolsó %d ellenőrzés, a legrégebbivel kezdve: zöld sikeres, piros sikertelen; az oszlop "
                       "magassága: a teljes idő",
        "trend_bar": "%s UTC: %s, %s ms",
        "trend_passed": "sikeres",
        "trend_failed": "sikertelen",
        "expired_bucket": "lejárt",
        "no_sites": "még nincs telephely",
        "sites": "Telephelyek",
        "sites_note": "Elöl a sikertelen telephelyek. Rendezéshez kattintson egy oszlopfejlécre. Minden telephely "
                      "a legutóbbi futása szerint látszik: a legutóbbi igazolása utáni hiba miatt sikertelen, amíg "
                      "újabb igazolás nem készül; az utolsó sikeres igazolás előzményként látszik. A %d óránál "
                      "régebbi igazolás elavultként van jelölve.",
        "headers": ("Állapot", "Intézmény", "Telephely", "Gép", "Környezet", "Hiba", "Üzenet és teendő",
                    "Legutóbbi igazolás (UTC)", "Utolsó sikeres (UTC)", "Tanúsítványcsere",
                    "Tanúsítvány lejár (hátralévő nap)", "Begyűjtve (UTC)"),
        "status": {"passed": "sikeres", "failed": "sikertelen", "no_proof": "nincs igazolás"},
        "collection": {"collected": "begyűjtve", "unreachable": "nem elérhető", "error": "hiba"},
        "stale": "elavult",
        "environment": {"test": "teszt", "production": "éles"},
        "stage": {"preflight": "előellenőrzés", "certificate": "tanúsítvány-telepítés", "tls": "TLS-beállítás",
                  "check": "kapcsolatellenőrzés", "proofs": "igazolásgyűjtés", "rotation": "tanúsítványcsere",
                  None: "begyűjtés"},
        "rotation": {"rotated": "lecserélve", "rolled_back": "visszaállítva", "unchanged": "változatlan",
                     "check_failed": "ellenőrzés sikertelen", "failed": "sikertelen"},
        "no_proof_yet": "Még nincs begyűjtött igazolás.",
        "last_collection": "Utolsó begyűjtés: %s",
        "bundle_outdated": "A bizonyítékcsomagban a(z) %s időpontú sikeres igazolás van, amely régebbi ennél a "
                           "hibánál.",
        "never": "még soha",
        "today": "ma",
        "days_ago": "%d napja",
        "no_rows": "Az archívumban még nincs igazolás.",
        "missing": "%d, a nyilvántartásban szereplő igazolás hiányzik az archívumból",
        "unsealed": "%d igazolásnak nincs pecsétje",
        "run_verify": "%s: futtassa a <code>playbooks/verify_proofs.yml</code> playbookot.",
        "refused_title": "Az előellenőrzés elutasította",
        "refused_note": "Ezek a gépek nem vettek részt a futásban, és nincs soruk, mert a változóik hibásak. "
                        "Javítsa őket a leltárban (host_vars, group_vars vagy a telephely-nyilvántartás), majd "
                        "futtassa újra.",
        "outdated_note": "%d telephely hibásodott meg az intézményi bizonyítékcsomagban lévő sikeres igazolása "
                         "után; ezt a csomag <code>NOTICE-LATER-FAILURES.txt</code> fájlja is jelzi.",
        "footer": "Az archívum minden igazolásához külön CMS-pecsét (<code>.p7s</code>) tartozik. Egyet így "
                  "ellenőrizhet: <code>%(verify)s</code>, az összeset pedig így: "
                  "<code>ansible-playbook eeszt.connect.verify_proofs</code>. A géppel olvasható jelentés az "
                  "<code>index.json</code> (valamint a <code>report.csv</code> és a <code>junit.xml</code>); az "
                  "intézményi bizonyítékcsomagok az <code>evidence/</code> mappában vannak.",
        "what_it_is": (
            '<p id="what-it-is">Ezek az igazolások az informatikai szolgáltató saját, lepecsételt bizonyítékai arról, '
            'hogy a telephelyek kapcsolódnak az EESZT-hez. <strong>Nem</strong> ezeket kell az eKapun feltölteni: '
            'azt az elektronikus tanúsítványt, amelyet az EESZT üzemeltetőjének ellenőrző keretprogramja '
            '(<code>eesztConnect.exe</code>) a telephelyen sikeres futás után kiad, az intézmény adminisztrátora '
            'tölti fel az eKapura, és az üzemeltető ellenőrzi. A fent felsorolt üzemeltetői fájlok a telephelyeken '
            'talált fájlok archivált, lepecsételt másolatai.</p>'),
        "operator": {
            "title": "Üzemeltetői fájlok",
            "note": "Az üzemeltető ellenőrző programja vagy az intézmény által készített, a telephelyre másolt "
                    "fájlok, a telephely igazolásai mellé archiválva és lepecsételve.",
            "columns": ["Intézmény", "Telephely", "Név", "Méret (bájt)", "SHA-256", "Begyűjtve (UTC)", "Állapot"],
            "status": {"present": "megvan", "altered": "megváltozott", "missing": "hiányzik"},
            "no_seal": "pecsét nélkül",
            "not_collected": "Nem lett begyűjtve:",
        },
    },
}


def _status_chart(summary, text):
    """Stacked bar of sites by status with a legend (SVG)."""
    parts = (("passed", text["cards"]["passed"], "#1a7f37"), ("failed", text["cards"]["failed"], "#c62828"),
             ("no_proof", text["cards"]["no_proof"], "#6b7280"))
    total = max(summary["sites"], 1)
    width, x = 360.0, 0.0
    bars, legend = [], []
    spot_x, spot_y = 0, 58
    for key, label, colour in parts:
        count = summary[key]
        share = width * count / total
        if count:
            bars.append('<rect x="%.1f" y="10" width="%.1f" height="34" fill="%s"><title>%s: %d</title></rect>'
                        % (x, share, colour, _h(label), count))
            if share >= 24:
                bars.append('<text x="%.1f" y="32" fill="#fff" font-size="13" font-weight="700" text-anchor="middle">'
                            '%d</text>' % (x + share / 2, count))
        x += share
        entry = "%s %d (%d%%)" % (label, count, round(100.0 * count / total))
        room = 16 + 7 * len(entry) + 14  # box, text at about 7 px a character, gap
        if spot_x and spot_x + room > 380:
            spot_x, spot_y = 0, spot_y + 20
        legend.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">'
                      '%s</text>' % (spot_x, spot_y, colour, spot_x + 16, spot_y + 11, _h(entry)))
        spot_x += room
    if not summary["sites"]:
        bars.append('<rect x="0" y="10" width="360" height="34" fill="#eaeef2"/>'
                    '<text x="180" y="32" font-size="12" text-anchor="middle">%s</text>' % _h(text["no_sites"]))
    height = spot_y + 22
    return ('<svg id="chart-status" role="img" aria-label="%s" '
            'width="380" height="%d" viewBox="0 0 380 %d" xmlns="http://www.w3.org/2000/svg">%s%s</svg>'
            % (_h(text["chart_aria"] % (summary["passed"], summary["failed"], summary["no_proof"])), height, height,
               "".join(bars), "".join(legend)))


def _days_chart(sites, warn_days, text):
    """Histogram of the sites' certificate days left (SVG)."""
    counts = []
    for label, low, high in DAY_BUCKETS:
        counts.append((label, low, sum(1 for s in sites if s["certificate_days_left"] is not None
                                       and (low is None or s["certificate_days_left"] >= low)
                                       and (high is None or s["certificate_days_left"] < high))))
    peak = max([c for dummy, dummy2, c in counts] + [1])
    bars = []
    for index, (label, low, count) in enumerate(counts):
        colour = "#c62828" if low is None or low < 14 else "#b26a00" if low < warn_days else "#1a7f37"
        height = 90.0 * count / peak
        x = 10 + index * 52
        shown = text["expired_bucket"] if low is None else label
        bars.append('<rect x="%d" y="%.1f" width="40" height="%.1f" fill="%s"><title>%s</title>'
                    '</rect><text x="%d" y="%.1f" font-size="12" text-anchor="middle">%d</text>'
                    '<text x="%d" y="128" font-size="11" text-anchor="middle">%s</text>'
                    % (x, 104 - height, height, colour, _h(text["chart_days_title"] % (shown, count)), x + 20,
                       100 - height, count, x + 20, escape(shown)))
    return ('<svg id="chart-days" role="img" aria-label="%s" width="380" height="140" '
            'viewBox="0 0 380 140" xmlns="http://www.w3.org/2000/svg"><line x1="4" y1="104.5" x2="374" y2="104.5" '
            'stroke="#8c959f"/>%s</svg>' % (_h(text["chart_days_aria"]), "".join(bars)))


MONTHS_AHEAD = 12


def _months_chart(sites, generated_at, warn_days, text):
    """Sites by the month their certificate expires, for this month and the next eleven, then later (SVG).

    The months count from the report's own time, so that the same archive gives the same page.
    """
    start = _parse_time(generated_at) or utcnow()
    months = []
    year, month = start.year, start.month
    for dummy in range(MONTHS_AHEAD):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    counts = dict((key, 0) for key in months)
    later = 0
    for site in sites:
        moment = _parse_time(site.get("certificate_not_after"))
        if moment is None or moment < start:
            continue  # no certificate known, or already expired: the days chart shows those
        key = (moment.year, moment.month)
        if key in counts:
            counts[key] += 1
        else:
            later += 1
    columns = [("%04d-%02d" % key, "%02d" % key[1], "%04d" % key[0] if key[1] == 1 or number == 0 else "",
                counts[key]) for number, key in enumerate(months)]
    columns.append((text["later"], text["later"], "", later))
    peak = max([count for dummy, dummy2, dummy3, count in columns] + [1])
    bars = []
    for number, (name, label, year_label, count) in enumerate(columns):
        days_away = number * 30
        colour = ("#c62828" if days_away < 14 else "#b26a00" if days_away < max(warn_days, 30) else "#1a7f37")
        height = 90.0 * count / peak
        x = 8 + number * 28
        bars.append('<rect x="%d" y="%.1f" width="22" height="%.1f" fill="%s"><title>%s</title></rect>'
                    '<text x="%d" y="%.1f" font-size="11" text-anchor="middle">%s</text>'
                    '<text x="%d" y="120" font-size="10" text-anchor="middle">%s</text>'
                    '<text x="%d" y="133" font-size="10" text-anchor="middle" fill="#57606a">%s</text>'
                    % (x, 104 - height, height, colour, _h(text["chart_months_title"] % (name, count)), x + 11,
                       100 - height, count if count else "", x + 11, _h(label if number < MONTHS_AHEAD else "+"),
                       x + 11, _h(year_label)))
    return ('<svg id="chart-months" role="img" aria-label="%s" width="380" height="140" viewBox="0 0 380 140" '
            'xmlns="http://www.w3.org/2000/svg"><line x1="4" y1="104.5" x2="374" y2="104.5" stroke="#8c959f"/>%s'
            '</svg>' % (_h(text["chart_months_aria"]), "".join(bars)))


def _trend_svg(trend, text):
    """The site's last checks as small bars, oldest first: colour pass/fail, height the total time."""
    if not trend:
        return ""
    peak = max([point["ms"] or 0 for point in trend] + [1])
    bars = []
    for number, point in enumerate(trend):
        height = 3 + 15.0 * (point["ms"] or 0) / peak
        outcome = text["trend_passed"] if point["passed"] else text["trend_failed"]
        took = "?" if point["ms"] is None else "%.0f" % point["ms"]
        bars.append('<rect x="%d" y="%.1f" width="5" height="%.1f" fill="%s"><title>%s</title></rect>'
                    % (number * 6, 18 - height, height, "#1a7f37" if point["passed"] else "#c62828",
                       _h(text["trend_bar"] % (_when(point["at"]), outcome, took))))
    return ('<div class="trend"><svg role="img" aria-label="%s" width="%d" height="18" viewBox="0 0 %d 18" '
            'xmlns="http://www.w3.org/2000/svg">%s</svg></div>'
            % (_h(text["trend_title"] % len(trend)), 6 * len(trend), 6 * len(trend), "".join(bars)))


def _when(text):
    """'2026-11-25T10:00:02Z' -> '2026-11-25 10:00' for people; sorting uses the ISO text."""
    return (text or "")[:16].replace("T", " ")


def _age(days, text):
    if days is None:
        return ""
    return text["today"] if days == 0 else text["days_ago"] % days


def _site_html(site, text):
    failure = site["failure"] or {}
    collection = site["collection"] or {}
    rotation = site["rotation"] or {}
    status = site["status"]
    badges = '<span class="badge %s">%s</span>' % (status, _h(text["status"][status]))
    trend = _trend_svg(site.get("trend") or [], text)
    if collection.get("status") in ("unreachable", "error"):
        badges += ' <span class="badge %s">%s</span>' % (collection["status"],
                                                         _h(text["collection"][collection["status"]]))
    days = site["certificate_days_left"]
    days_class = "num" if days is None or days >= 30 else "num bad" if days < 14 else "num warn"
    failure_cell = ""
    if failure:
        # An error code breaks after its underscores, never inside a word.
        failure_cell = "<span title=\"%s\">%s</span><div class=\"hint\">%s</div>" % (
            _h(failure.get("category")), _h(failure.get("category")).replace("_", "_<wbr>"),
            _h(text["stage"].get(failure.get("stage"), failure.get("stage"))))
    problem = ""
    if failure:
        problem = _h(failure.get("message"))
        if failure.get("hint"):
            problem += "<div class=\"hint\">%s</div>" % _h(failure["hint"])
        if failure.get("at") and failure.get("stage") != "check":
            problem += "<div class=\"hint when\">%s UTC</div>" % _h(_when(failure["at"]))
    if collection.get("status") in ("unreachable", "error") and collection.get("message") != failure.get("message"):
        problem += "<div class=\"hint\">%s</div>" % _h(text["last_collection"] % collection.get("message"))
    elif status == "no_proof" and not failure:
        problem = _h(text["no_proof_yet"])
    if site["bundle_outdated"]:
        problem += "<div class=\"hint warn\">%s</div>" % _h(text["bundle_outdated"] % _when(site["latest_passing_at"]))
    latest = ""
    if site["latest"]:
        latest = "%s<div class=\"hint\">%s%s</div>" % (
            _h(_when(site["finished_at"])), _h(_age(site["proof_age_days"], text)),
            ' <span class="badge stale">%s</span>' % _h(text["stale"]) if site["stale"] else "")
    history = _h(text["never"]) if site["latest"] else ""
    if site["latest_passing"]:
        history = "%s<div class=\"hint\">%s</div>" % (_h(_when(site["latest_passing_at"])),
                                                      _h(_age(site["latest_passing_age_days"], text)))
    rotation_cell = ""
    if rotation:
        kind = "failed_rotation" if rotation.get("status") == "failed" else rotation.get("status") or ""
        rotation_cell = '<span class="badge %s" title="%s">%s</span><div class="hint">%s</div>' % (
            _h(kind), _h(rotation.get("message")), _h(text["rotation"].get(rotation.get("status"),
                                                                           rotation.get("status"))),
            _h(_when(rotation.get("at"))))
    last = ""
    if collection:
        last = "%s<div class=\"hint\">%s</div>" % (
            _h(text["collection"].get(collection.get("status"), collection.get("status"))),
            _h(_when(collection.get("at"))))
    environment = text["environment"].get(site["environment"], site["environment"])
    expires = ""
    if days is not None or site["certificate_not_after"]:
        expires = "%s<div class=\"hint when\">%s</div>" % (
            "" if days is None else days, _h((site["certificate_not_after"] or "")[:10]))
    return ('<tr class="%s"><td data-sort="%d">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="code">%s</td><td class="msg">%s</td><td class="when" data-sort="%s">%s</td>'
            '<td class="when" data-sort="%s">%s</td><td data-sort="%s">%s</td><td class="%s" data-sort="%s">%s</td>'
            '<td class="when" data-sort="%s">%s</td></tr>'
            % (status, STATUS_ORDER[status], badges + trend, _h(site["institution_id"]), _h(site["site_id"]),
               _h(site["host"]), _h(environment), failure_cell, problem, _h(site["finished_at"]), latest,
               _h(site["latest_passing_at"]), history, _h(rotation.get("status")), rotation_cell, days_class,
               "" if days is None else days, expires, _h(collection.get("at")), last))


def _refused_html(refused, text):
    if not refused:
        return ""
    items = "".join('<li><b>%s</b>: %s%s<div class="hint">%s UTC</div></li>' % (
        _h(entry["host"]), "<code>%s</code> " % _h(entry["error"]) if entry.get("error") else "",
        _h(entry.get("message")), _h(_when(entry.get("at")))) for entry in refused)
    return ('<section id="refused"><h2>%s</h2><p class="meta">%s</p><ul class="msg">%s</ul></section>'
            % (_h(text["refused_title"]), _h(text["refused_note"]), items))


def _operator_files_html(index, text):
    """The section of report.html that lists each site's operator files and the ones refused."""
    rows, refused = index.get("operator_files") or [], index.get("operator_refused") or []
    if not rows and not refused:
        return ""
    words = text["operator"]
    parts = ['<h2 id="operator-files">%s</h2>' % _h(words["title"]), '<p class="meta">%s</p>' % _h(words["note"])]
    if rows:
        parts.append('<table id="operator"><thead><tr>%s</tr></thead><tbody>'
                     % "".join('<th scope="col">%s</th>' % _h(column) for column in words["columns"]))
        for row in rows:
            status = words["status"].get(row["status"], row["status"])
            if not row["sealed"] and row["status"] != "missing":
                status = "%s, %s" % (status, words["no_seal"])
            parts.append('<tr class="operator-%s"><td>%s</td><td>%s</td><td title="%s">%s</td><td class="num">%s</td>'
                         '<td><code>%s</code></td><td class="when">%s</td><td>%s</td></tr>'
                         % (_h(row["status"]), _h(row["institution_id"]), _h(row["site_id"]), _h(row["source"]),
                            _h(row["name"]), _h(row["size"]), _h(row["sha256"]), _h(_when(row["collected_at"])),
                            _h(status)))
        parts.append('</tbody></table>')
    for item in refused:
        parts.append('<p class="warn">%s %s/%s: %s %s</p>'
                     % (_h(words["not_collected"]), _h(item["institution_id"]), _h(item["site_id"]), _h(item["path"]),
                        _h(item["reason"])))
    return "\n".join(parts)


def render_html(index, generated_at, title=None, language="en"):
    text = TEXT[language]
    title = title or text["title"]
    summary = index["summary"]
    cards = text["cards"]
    tiles = [
        ("", cards["sites"], summary["sites"]), ("ok", cards["passed"], summary["passed"]),
        ("bad", cards["failed"], summary["failed"]), ("none", cards["no_proof"], summary["no_proof"]),
        ("warn" if summary["unreachable"] else "", cards["unreachable"], summary["unreachable"]),
        ("warn" if summary["stale"] else "", cards["stale"] % summary["stale_hours"], summary["stale"]),
        ("bad" if summary["refused"] else "", cards["refused"], summary["refused"]),
        ("warn" if summary["rotation_problems"] else "", cards["rotation"], summary["rotation_problems"]),
        ("warn" if summary["certificates_expiring"] else "", cards["expiring"] % summary["warn_days"],
         summary["certificates_expiring"]),
        ("bad" if summary["certificates_expired"] else "", cards["expired"], summary["certificates_expired"]),
    ]
    cards_html = "".join('<div class="card %s"><b>%d</b>%s</div>' % (cls, value, _h(label))
                         for cls, label, value in tiles)
    kinds = ("number", "text", "text", "text", "text", "text", "text", "text", "text", "text", "number", "text")
    head_html = "".join('<th scope="col" data-type="%s"><button type="button">%s</button></th>' % (kind, _h(label))
                        for label, kind in zip(text["headers"], kinds))
    rows_html = "\n".join(_site_html(site, text) for site in index["sites"])
    if not index["sites"]:
        rows_html = '<tr><td colspan="%d">%s</td></tr>' % (len(kinds), _h(text["no_rows"]))
    problems = []
    if summary["missing_proofs"]:
        problems.append(text["missing"] % summary["missing_proofs"])
    if summary["unsealed_proofs"]:
        problems.append(text["unsealed"] % summary["unsealed_proofs"])
    problems_html = "".join('<p class="bad">%s</p>' % (text["run_verify"] % _h(p)) for p in problems)
    if summary["bundle_outdated"]:
        problems_html += '<p class="warn">%s</p>' % (text["outdated_note"] % summary["bundle_outdated"])
    problems_html += _refused_html(index.get("refused") or [], text)
    return ("""<!DOCTYPE html>
<html lang="%(lang)s">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>%(title)s</title>
<style>%(css)s</style>
</head>
<body>
<header>
<h1>%(title)s</h1>
<div class="meta">%(meta)s</div>
</header>
<main>
<section class="cards" aria-label="%(summary_label)s">%(cards)s</section>
%(problems)s
<section class="charts">
<figure><figcaption>%(chart_status_caption)s</figcaption>%(status_chart)s</figure>
<figure><figcaption>%(chart_days_caption)s</figcaption>%(days_chart)s</figure>
<figure><figcaption>%(chart_months_caption)s</figcaption>%(months_chart)s</figure>
</section>
<h2>%(sites_heading)s</h2>
<p class="meta">%(sites_note)s</p>
<table id="sites">
<thead><tr>%(head)s</tr></thead>
<tbody>
%(rows)s
</tbody>
</table>
%(operator)s
</main>
<footer>
<p>%(footer)s</p>
%(what_it_is)s
</footer>
<script>%(js)s</script>
</body>
</html>
""" % {"lang": text["lang"], "title": _h(title), "css": _CSS,
       "meta": text["meta"] % {"generated": _h(generated_at), "institutions": summary["institutions"],
                               "proofs": summary["proofs"]},
       "summary_label": _h(text["summary"]), "cards": cards_html, "problems": problems_html,
       "chart_status_caption": _h(text["chart_status"]), "chart_days_caption": _h(text["chart_days"]),
       "chart_months_caption": _h(text["chart_months"]),
       "months_chart": _months_chart(index["sites"], generated_at, summary["warn_days"], text),
       "status_chart": _status_chart(summary, text), "days_chart": _days_chart(index["sites"], summary["warn_days"], text),
       "sites_heading": _h(text["sites"]), "sites_note": _h(text["sites_note"] % summary["stale_hours"]),
       "head": head_html, "rows": rows_html, "footer": text["footer"] % {"verify": _h(VERIFY_COMMAND)},
       "js": _JS, "operator": _operator_files_html(index, text), "what_it_is": text["what_it_is"]}).encode("utf-8")


# --- the ledger: collection run records ---------------------------------------------

OUTCOME_STATUSES = ("collected", "unreachable", "error", "refused")
# A collection message (an ssh error, for example) is kept on one line and cut to this length.
MESSAGE_MAX = 500
# An error code (eeszt.connect's ``error`` return value): a short word, never free text.
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")
STAGES = ("preflight", "certificate", "tls", "check", "proofs", "rotation")


def one_line(text, limit=MESSAGE_MAX):
    """``text`` with every run of whitespace (CR/LF included) made one space, cut to ``limit`` characters."""
    if text is None:
        return None
    text = re.sub(r"\s+", " ", "%s" % text).strip()
    if not text:
        return None
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def _error_code(value):
    return value if isinstance(value, str) and ERROR_CODE.match(value) else None


def normalize_outcome(outcome):
    """One site's outcome of a collection run, reduced to the fields the ledger keeps.

    ``refused`` is a host the preflight refused: it is kept under its inventory name (``host``) only,
    never under identifiers that may be the very thing the preflight refused.
    """
    status = outcome.get("status")
    if status not in OUTCOME_STATUSES:
        raise ProofsError("collection outcome status must be one of %s, got %r" % (", ".join(OUTCOME_STATUSES), status))
    refused = status == "refused"
    if refused and not outcome.get("host"):
        raise ProofsError("a refused outcome must name the host (its inventory name)")
    if not refused and (outcome.get("institution_id") in (None, "") or outcome.get("site_id") in (None, "")):
        raise ProofsError("the collection outcome of host %s (status %s) must have institution_id and site_id"
                          % (outcome.get("host") or "?", status))
    stage = outcome.get("stage")
    if stage is not None and stage not in STAGES:
        raise ProofsError("collection outcome stage must be one of %s, got %r" % (", ".join(STAGES), stage))
    archived = []
    for item in outcome.get("archived") or []:
        archived.append(dict((k, item.get(k)) for k in ("path", "sha256", "seal", "signer")))
    normalized = {
        "host": outcome.get("host"),
        "institution_id": None if refused else "%s" % outcome.get("institution_id"),
        "site_id": None if refused else "%s" % outcome.get("site_id"),
        "status": status,
        "stage": stage,
        "error": _error_code(outcome.get("error")),
        "message": one_line(outcome.get("reason") or outcome.get("message")),
        "archived": archived,
    }
    normalized.update(_normalize_operator(outcome))
    return normalized


OPERATOR_FIELDS = ("path", "name", "source", "size", "sha256", "seal", "signer", "modified_at", "collected_at")


def _normalize_operator(outcome):
    """The operator files archived and refused in one site's outcome; only the keys that hold something."""
    kept = {}
    archived = [dict((k, item.get(k)) for k in OPERATOR_FIELDS) for item in outcome.get("operator_files") or []]
    refused = [{"path": item.get("path"), "reason": one_line(item.get("reason"))}
               for item in outcome.get("operator_refused") or []]
    if archived:
        kept["operator_files"] = archived
    if refused:
        kept["operator_refused"] = refused
    return kept


def _operator_news(outcome, last):
    """True when an outcome adds operator files or refuses others than the site's last recorded one."""
    return bool(outcome.get("operator_files")) or (
        (outcome.get("operator_refused") or []) != ((last or {}).get("operator_refused") or []))


def _why(site):
    """Why a site that did not pass is listed: the stage, the error code or category, and the message."""
    failure = site.get("failure") or {}
    collection = site.get("collection") or {}
    if failure.get("category") == "unreachable":
        return "unreachable: %s" % (failure.get("message") or "no reason recorded")
    if failure.get("stage") == "check":
        why = "check failed: %s" % (failure.get("category") or "unknown")
    elif failure.get("stage"):
        why = "%s stage failed: %s" % (failure["stage"], failure.get("category") or "error")
    elif failure:
        why = "%s" % (failure.get("category") or "error")
    elif collection.get("status") in ("unreachable", "error"):
        return "%s: %s" % (collection["status"], collection.get("message") or "no reason recorded")
    elif site["status"] == "no_proof":
        return "no proof"
    else:
        why = "check failed: unknown"
    if failure.get("message"):
        why += ": %s" % failure["message"]
    if site.get("bundle_outdated"):
        why += " (last passed %s)" % (site.get("latest_passing_at") or "?")
    return why


def problem_sites(index):
    """``INSTITUTION/SITE (host): why`` for each site of an index that did not pass, and
    ``HOST: refused by the preflight: why`` for each host the preflight refused.

    Why is the failure of the site's latest run (stage, error code or failure category, message), the
    connection error of a site unreachable at its last run, or "no proof".
    """
    problems = []
    for site in index["sites"]:
        if site["status"] == "passed":
            continue
        problems.append("%s/%s (%s): %s" % (site["institution_id"], site["site_id"], site.get("host") or "-",
                                            _why(site)))
    for entry in index.get("refused") or []:
        problems.append("%s: refused by the preflight: %s%s" % (
            entry["host"], "%s: " % entry["error"] if entry.get("error") else "",
            entry.get("message") or "no reason recorded"))
    return problems


def _changed(outcome, last, hosts):
    """True when ``outcome`` says something the ledger's latest record of that site (or refused host) does not."""
    key = _outcome_key(outcome)
    previous = hosts.get(outcome["host"]) if key is None else last.get(key)
    if previous is None or (key is None and previous.get("status") != "refused"):
        return True
    return any((previous.get(field) or None) != outcome[field] for field in ("status", "message", "stage", "error"))


def record_run(archive, outcomes, controller, now=None, check_mode=False):
    """Write the run record of a collection run when it adds something to the ledger.

    A record is written when a site got new proofs or its collection status
    (or message) differs from the last one recorded for it, so an unchanged
    re-run writes nothing. Returns the record's relative path or None.
    """
    now = now or utcnow()
    outcomes = [normalize_outcome(o) for o in outcomes]
    runs = load_runs(archive)
    last = last_collection(runs)
    hosts = host_latest(runs)
    news = [o for o in outcomes if o["archived"] or _changed(o, last, hosts)
            or _operator_news(o, last.get((o["institution_id"], o["site_id"])))]
    if not news:
        return None
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    name = "%s_%s_%s.json" % (stamp, "".join(c if c.isalnum() or c in "-." else "-" for c in controller)[:64],
                              sha256_hex(canonical_json(outcomes) + os.urandom(8))[:8])
    relative = "%s/%s" % (RUNS_DIR, name)
    if not check_mode:
        # sequence orders the runs of one archive that finished within the same second.
        sequence = max([r.get("sequence") or 0 for r in runs] + [0]) + 1
        record = {"schema": RUN_SCHEMA, "run_id": name[:-5], "controller": controller, "finished_at": _iso(now),
                  "sequence": sequence,
                  "outcomes": sorted(outcomes, key=lambda o: (
                      o["institution_id"] or "", o["site_id"] or "", o["host"] or ""))}
        path = os.path.join(archive, RUNS_DIR, name)
        ensure_dir(os.path.dirname(path))
        write_new(path, canonical_json(record))
    return relative


# --- writing everything -----------------------------------------------------------

def build_report(archive, now=None, warn_days=30, bundles=True, title=None, check_mode=False,
                 stale_hours=DEFAULT_STALE_HOURS, language="en"):
    """Rebuild every report file of the archive; returns (changed files, index).

    generated_at changes only when the content does, so a re-run on an
    unchanged archive (on the same day) writes nothing. ``language`` (en, hu)
    is the language of report.html; ``title`` None is that language's default.
    """
    if language not in LANGUAGES:
        raise ProofsError("the report language must be one of %s, got %r" % (", ".join(LANGUAGES), language))
    now = now or utcnow()
    index = build_index(scan_archive(archive), now=now, warn_days=warn_days, stale_hours=stale_hours)
    digest = content_digest(index)
    index_path = os.path.join(archive, "index.json")
    generated_at = _iso(now)
    if os.path.isfile(index_path):
        try:
            previous = json.loads(read_bytes(index_path).decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            previous = {}
        if isinstance(previous, dict) and previous.get("content_sha256") == digest and previous.get("generated_at"):
            generated_at = previous["generated_at"]
    document = dict(index)
    document["generated_at"] = generated_at
    document["content_sha256"] = digest
    outputs = [
        ("index.json", canonical_json(document)),
        ("report.csv", render_csv(index)),
        ("report.html", render_html(index, generated_at, title, language)),
        ("junit.xml", render_junit(index, generated_at)),
        ("metrics.prom", fleet_metrics.render(index)),
    ]
    if bundles:
        by_institution = {}
        for site in index["sites"]:
            by_institution.setdefault(site["institution_id"], []).append(site)
        for row in index["operator_files"]:
            by_institution.setdefault(row["institution_id"], [])
        for institution, sites in sorted(by_institution.items()):
            data = build_bundle(archive, institution, sites, index)
            if data is not None:
                outputs.append(("%s/%s_evidence.zip" % (EVIDENCE_DIR, institution), data))
    changed = remove_legacy_bundles(archive, check_mode)
    for relative, data in outputs:
        path = os.path.join(archive, *relative.split("/"))
        if check_mode:
            if not os.path.isfile(path) or read_bytes(path) != data:
                changed.append(relative)
            continue
        ensure_dir(os.path.dirname(path))
        if write_if_changed(path, data):
            changed.append(relative)
    document["files"] = [relative for relative, dummy in outputs]
    return changed, document
