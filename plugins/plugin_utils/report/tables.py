# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``report.csv`` and ``junit.xml`` from an index, and the digest of an index's content.

Every value from a site or an inventory goes through ``common/safe_text.py``: in ``report.csv`` as a cell
whose control characters are U+FFFD and whose formula prefix is neutralised (``csv_cell``), while the numbers
the report computes stay numbers (``csv_number``); in ``junit.xml`` cleaned of what XML 1.0 forbids and
escaped (``xml_text``, ``xml_attr``), so that the file always parses.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import csv
import io

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import (
    csv_cell,
    csv_number,
    xml_attr,
    xml_text,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json


# The columns whose value the report computes itself: numbers, written as numbers (never quoted).
CSV_NUMBERS = ("certificate_days_left", "proofs", "proof_age_days")
CSV_COLUMNS = ("institution_id", "site_id", "host", "status", "failure_category", "failure_message", "hint",
               "proof", "finished_at", "certificate_not_after", "certificate_days_left", "certificate_serial",
               "sealed", "proofs", "last_collection", "last_collection_at", "last_collection_message",
               "environment", "failure_stage", "failure_at", "proof_age_days", "stale", "last_passed",
               "last_passed_at", "bundle_outdated", "rotation_status", "rotation_at", "rotation_message",
               "failure_endpoint")


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
        "certificate_days_left": site["certificate_days_left"],
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
        "proof_age_days": site["proof_age_days"],
        "stale": "yes" if site["stale"] else "no", "last_passed": site["latest_passing"] or "",
        "last_passed_at": site["latest_passing_at"] or "", "bundle_outdated": "yes" if site["bundle_outdated"] else "no",
        "rotation_status": rotation.get("status") or "", "rotation_at": rotation.get("at") or "",
        "rotation_message": rotation.get("message") or "",
        # The endpoint (its name in eeszt_endpoints) whose check failed; empty for a failure of another stage.
        "failure_endpoint": failure.get("endpoint") or "",
    }


def render_csv(index):
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for site in index["sites"]:
        writer.writerow(dict((column, csv_number(value) if column in CSV_NUMBERS else csv_cell(value))
                             for column, value in _csv_row(site).items()))
    return stream.getvalue().encode("utf-8")


def _junit_failure_text(site):
    failure = site["failure"] or {}
    lines = [failure.get("message") or ""]
    if failure.get("endpoint"):
        lines.append("endpoint: %s" % failure["endpoint"])
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
    invalid = index.get("invalid_files") or []
    errors = sum(1 for s in index["sites"] if s["status"] == "no_proof" and collection_error(s)) + len(refused) \
        + sum(1 for s in index["sites"] if s["status"] == "error") + len(invalid)
    tests = len(index["sites"]) + len(refused) + len(invalid)
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites name="eeszt.connect proofs" tests="%d" failures="%d" errors="%d">'
             % (tests, failures, errors),
             '  <testsuite name="eeszt.connect connection proofs" tests="%d" failures="%d" errors="%d" '
             'skipped="0" timestamp=%s>' % (tests, failures, errors, xml_attr(generated_at))]
    for site in sorted(index["sites"], key=lambda s: (s["institution_id"], s["site_id"])):
        name = site["site_id"] + (" (%s)" % site["host"] if site["host"] else "")
        classname = xml_attr("eeszt.institution_%s" % site["institution_id"])
        head = '    <testcase classname=%s name=%s' % (classname, xml_attr(name))
        collection = site["collection"] or {}
        failure = site["failure"] or {}
        if site["status"] == "passed":
            lines.append(head + ' file=%s/>' % xml_attr(site["latest"]))
            continue
        lines.append(head + (' file=%s>' % xml_attr(site["latest"]) if site["latest"] else '>'))
        if site["status"] == "error":
            # The site sent a file that is no valid proof (kept in the archive's quarantine).
            message = failure.get("message") or "the site sent an invalid proof"
            lines.append('      <error type=%s message=%s>%s</error>' % (
                xml_attr(failure.get("category") or "invalid_proof"), xml_attr(message), xml_text(message)))
        elif site["status"] == "failed":
            lines.append('      <failure type=%s message=%s>%s</failure>' % (
                xml_attr(failure.get("category") or "failed"), xml_attr(failure.get("message") or "check failed"),
                xml_text(_junit_failure_text(site))))
        elif collection_error(site):
            kind = failure.get("category") or collection["status"]
            message = failure.get("message") or collection.get("message") or "the site could not be collected"
            lines.append('      <error type=%s message=%s>%s</error>' % (
                xml_attr(kind), xml_attr(message), xml_text(_junit_failure_text(site) if failure else message)))
        elif failure:
            lines.append('      <failure type=%s message=%s>%s</failure>' % (
                xml_attr(failure.get("category") or "failed"), xml_attr(failure.get("message") or "failed"),
                xml_text(_junit_failure_text(site))))
        else:
            lines.append('      <failure type="no_proof" message="no proof in the archive">No connection check '
                         'proof of this site is in the archive: run check_connection.yml and collect_proofs.yml.'
                         '</failure>')
        lines.append('    </testcase>')
    for entry in refused:
        message = entry["message"] or "refused by the preflight"
        lines += ['    <testcase classname="eeszt.preflight" name=%s>' % xml_attr(entry["host"]),
                  '      <error type=%s message=%s>%s</error>' % (
                      xml_attr(entry["error"] or "refused"), xml_attr(message),
                      xml_text("%s\nThe host is refused by the preflight and has no site row until its variables are "
                               "fixed in the inventory." % message)),
                  '    </testcase>']
    for entry in invalid:
        message = entry["reason"] or "cannot be used"
        lines += ['    <testcase classname="eeszt.archive" name=%s>' % xml_attr(entry["path"]),
                  '      <error type="invalid_file" message=%s>%s</error>' % (
                      xml_attr(message),
                      xml_text("%s\nThis file of the archive is not used in the report (every other file is)." % message)),
                  '    </testcase>']
    lines += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(lines).encode("utf-8")
