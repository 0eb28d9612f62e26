# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The index: every proof, the latest state of each site (its latest run at every stage), the summary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import INDEX_SCHEMA
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import ledger, operator_ledger
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.bundles import VERIFY_COMMAND
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import build_incidents
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import (
    earliest,
    host_latest,
    last_collection,
    outcome_key,
    parse_time,
    receipts,
    site_history,
    utcnow,
)


# A proof older than this is marked stale (see the proofs role's eeszt_proofs_stale_hours).
DEFAULT_STALE_HOURS = 192


STATUS_ORDER = {"error": 0, "failed": 0, "no_proof": 1, "passed": 2}
# The error code of a site that sent a file that is no valid proof (proofs_archive): the site's status is "error".
INVALID_PROOF = "invalid_proof"


# --- the index ------------------------------------------------------------------

def _days_left(not_after, now):
    moment = parse_time(not_after)
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


def build_index(scan, now=None, warn_days=30, stale_hours=DEFAULT_STALE_HOURS, incident_rule=None):
    """The index document (without generated_at) built from scan_archive().

    ``incident_rule`` (incidents.IncidentRule, None: the defaults) groups the failing sites into incidents
    (message and hint in English, as every value of index.json; report.html says them in its language).
    """
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
    received = receipts(scan["runs"], scan["proofs"])
    sites = {}
    for row in rows:
        sites.setdefault((row["institution_id"], row["site_id"]), []).append(row)
    for key in list(collections) + list(rotations):
        if key not in sites and not _superseded(key, collections.get(key), hosts):
            sites[key] = []
    site_rows = []
    for (institution, site), proofs in sorted(sites.items()):
        row = _site_row(institution, site, proofs, entries, collections.get((institution, site)), now, received)
        if _refused_now(row, collections.get((institution, site)), hosts):
            continue
        refusal = hosts.get(row["host"] or (collections.get((institution, site)) or {}).get("host"))
        _latest_run(row, entries, histories.get((institution, site)) or [], rotations.get((institution, site)),
                    refusal if (refusal or {}).get("status") == "refused" else None, now, stale_hours)
        row["trend"] = _trend(proofs, entries, institution, site, received)
        site_rows.append(row)
    site_rows.sort(key=lambda s: (STATUS_ORDER[s["status"]], s["institution_id"], s["site_id"]))
    refused = refused_hosts(hosts)

    summary = {
        "sites": len(site_rows),
        "passed": sum(1 for s in site_rows if s["status"] == "passed"),
        "failed": sum(1 for s in site_rows if s["status"] == "failed"),
        "error": sum(1 for s in site_rows if s["status"] == "error"),
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
        "invalid_files": invalid_files(scan),
        "quarantine": scan.get("quarantine") or [],
        "incidents": build_incidents(site_rows, entries, received, histories, parse_time, incident_rule),
    }


def invalid_files(scan):
    """The files in the site folders that the report could not use (unreadable, or no valid proof), with why."""
    return [{"path": entry["path"], "institution_id": entry["folder_institution_id"],
             "site_id": entry["folder_site_id"], "reason": entry["error"]}
            for entry in scan["proofs"] if entry["document"] is None] + list(scan.get("unreadable") or [])


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


def _site_row(institution, site, proofs, entries, collection, now, received):
    """The site's row from its latest proof: the one the controller received last (``received``: ledger.receipts),
    whatever the site's clock wrote in it."""
    own = [p for p in proofs if p["status"] in ("present", "altered")
           and (entries[p["path"]]["document"] or {}).get("institution_id") == institution
           and (entries[p["path"]]["document"] or {}).get("site_id") == site]
    own.sort(key=lambda p: received[p["path"]][0])
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
        "received_at": received[latest["path"]][1] if latest else None,
        "latest_passing_received_at": received[passing[-1]["path"]][1] if passing else None,
        "sealed": bool(latest and latest["sealed"]),
        "proofs": len(own),
        "collection": collection_row,
    }


# --- the latest run: no stale green -------------------------------------------------

# Latest rotation outcomes shown as a problem (rotate_certificate.yml's statuses).
ROTATION_PROBLEMS = ("rolled_back", "check_failed", "failed")


def _after(moment_text, since):
    moment = parse_time(moment_text)
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
    events.sort(key=lambda e: parse_time(e["at"]))
    return events


def _proof_time(finished_at, received_at):
    """The earlier of a proof's ``finished_at`` (the site's clock) and when the controller received it."""
    return earliest(finished_at, received_at)


def _age_days(moment, now):
    if moment is None:
        return None
    return max(int((now - moment).total_seconds() // 86400), 0)


def _latest_run(row, entries, history, rotation, refusal, now, stale_hours):
    """Make ``row`` (from _site_row) reflect the site's latest run; add history, age, staleness, rotation.

    The latest proof's time is the earlier of its ``finished_at`` and its receipt by the controller
    (``received_at``): a site's clock can make its proof look older, never younger than when the controller
    received it. Failures recorded after that time, staleness and the age count from it.
    """
    since = _proof_time(row["finished_at"], row["received_at"]) if row["latest"] else None
    if row["failure"] is not None:
        row["failure"].update(stage="check", at=row["finished_at"])
    events = _failure_events(since, history, rotation, refusal)
    row["latest_proof_status"] = None if row["status"] == "no_proof" else row["status"]
    if events:
        row["failure"] = events[-1]
        if events[-1]["category"] == INVALID_PROOF:
            row["status"] = "error"
        elif row["status"] == "passed":
            row["status"] = "failed"
    passing = entries[row["latest_passing"]]["document"] if row["latest_passing"] else None
    row["latest_passing_at"] = passing.get("finished_at") if passing else None
    passing_since = _proof_time(row["latest_passing_at"], row["latest_passing_received_at"])
    row["latest_passing_age_days"] = _age_days(passing_since, now)
    row["proof_age_days"] = _age_days(since, now) if row["latest"] else None
    row["stale"] = bool(since is not None and (now - since).total_seconds() > stale_hours * 3600)
    # The evidence bundle holds the latest passing proof; after it the site failed.
    row["bundle_outdated"] = bool(row["latest_passing"] and row["status"] != "passed")
    row["rotation"] = None if not rotation else dict(
        (k, rotation.get(k)) for k in ("status", "at", "category", "message", "check_passed"))
    if row["host"] is None and history:
        row["host"] = history[-1].get("host")
    return row


TREND_CHECKS = 10


def _trend(proofs, entries, institution, site, received):
    """The site's last TREND_CHECKS checks from its proofs in the archive, in the order the controller received
    them, oldest first: when (the proof's finished_at), passed, ms."""
    own = [p for p in proofs if p["status"] in ("present", "altered") and p["finished_at"]
           and (entries[p["path"]]["document"] or {}).get("institution_id") == institution
           and (entries[p["path"]]["document"] or {}).get("site_id") == site]
    own.sort(key=lambda p: received[p["path"]][0])
    return [{"at": p["finished_at"], "passed": p["passed"] is True, "ms": p["duration_ms"]}
            for p in own[-TREND_CHECKS:]]


def _superseded(key, collection, hosts):
    """True for a site without proofs whose host was last recorded under another identity (or refused).

    Such a row is a ghost: the identity was a typo since corrected, or one the preflight now refuses.
    """
    host = (collection or {}).get("host")
    if not host or host not in hosts:
        return False
    return outcome_key(hosts[host]) != key


def _refused_now(row, collection, hosts):
    """True for a site whose host was refused by the preflight at its latest run (issue 27).

    The host is listed once, under its inventory name, with the refused hosts; it keeps no row under the
    identity it had before (its proofs stay in the archive), so that every refused host is counted in one
    place. The host is the site's latest collection's, else its latest proof's.
    """
    host = (collection or {}).get("host") or row["host"]
    return bool(host) and (hosts.get(host) or {}).get("status") == "refused"


def refused_hosts(hosts):
    """Hosts whose latest outcome is a refusal by the preflight: listed under their inventory name."""
    refused = []
    for host, record in sorted(hosts.items()):
        if record.get("status") == "refused":
            refused.append({"host": host, "at": record.get("at"), "run": record.get("run"),
                            "stage": record.get("stage") or "preflight", "error": record.get("error"),
                            "message": record.get("message")})
    return refused
