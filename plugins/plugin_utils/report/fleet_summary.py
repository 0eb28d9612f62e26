# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet summary's logic (callback ``eeszt.connect.fleet_summary``): what the run told about each host, and
the rows and totals made of it.

``Collector`` takes the task results the callback hands over (plain dicts and names: no Ansible object but the
host, kept for its variables) and keeps a ``HostRecord`` per host, the failures of tasks that run once for the
play, the unknown ``eeszt_*`` variables and the report's incidents. ``summarize`` turns the records, Ansible's
host statistics and the hosts' identities into one row per site (sorted) and the totals; ``reason`` says why a
row is a problem; ``point_at_incidents`` points a problem at the incident it belongs to. The text and the JSON
file are written by ``fleet_summary_output.py``.

A failed result's message is kept when it has an error code, or when the task ran one of the collection's own
modules or actions (``failed_error``), unless ``no_log`` hides it (the result's ``_ansible_no_log`` or the task's
``no_log``). Its error code is kept when it is one (``ERROR_CODE``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import os
import re

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import ERROR_CODE, failure_reason, semicolons
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import incident_of_hosts

SCHEMA = "eeszt.connect/fleet-summary/v1"
CERT_FACT = "eeszt_certificate_result"
CHECK_FACT = "eeszt_check_result"
IDENTITY = ("eeszt_institution_id", "eeszt_site_id", "eeszt_environment")

PASS = "PASS"
FAIL = "FAIL"
FAILED = "FAILED"
UNREACHABLE = "UNREACHABLE"
ERROR = "ERROR"
OK = "OK"
REFUSED = "REFUSED"
TOTALS = (("sites", None), ("passed", PASS), ("check failed", FAIL), ("failed", FAILED),
          ("unreachable", UNREACHABLE), ("not checked", OK))
INVALID_PROOF = "invalid_proof"
# The error code of eeszt.connect.site_preflight: the host was refused before anything was done on it.
REFUSED_ERROR = "bad_variables"
# The environment of a site that does not set eeszt_environment (the roles' default).
DEFAULT_ENVIRONMENT = "test"
# A connection error is shown on one line and cut to this length.
REASON_MAX = 300
# A failed result's (or check's) message is shown on one line and cut to this length.
MESSAGE_MAX = 500
HIDDEN_REASON = "connection failed"
# The collection's own modules and actions (a task's resolved action).
OWN_PREFIX = "eeszt.connect."


def _boolean(value):
    if isinstance(value, str):
        return value.strip().lower() in ("true", "yes", "on", "1")
    return bool(value)


def _integer(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text(value):
    return None if value is None or value == "" else str(value)


def one_line(message, limit):
    """``message`` on one line, without Ansible's prefix, cut to ``limit`` characters; None when empty."""
    text = failure_reason(re.sub(r"\s+", " ", str(message or "")).strip())
    if not text:
        return None
    return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def connection_reason(message):
    """A connection error as one line of at most REASON_MAX characters, without Ansible's prefix."""
    return one_line(message, REASON_MAX) or HIDDEN_REASON


def own_action(action):
    """Whether ``action`` (a task's resolved action) is one of the collection's modules or actions."""
    return isinstance(action, str) and action.startswith(OWN_PREFIX)


def failed_error(payload, own=False):
    """(error code, message) of a failed result; either is None when not shown.

    The message is shown when the result carries a code (the collection's classified errors) or, without a
    code, when the task ran one of the collection's own modules or actions (``own``: bad options to an action
    carry no code; the collection's messages never quote a secret). Any other task's message (a fail or assert
    task, another collection's module) may quote what it was given: not shown. A result under ``no_log`` gives
    (None, None). The code is kept only when it is one (``ERROR_CODE``: a short word, never free text).
    """
    if payload.get("_ansible_no_log"):
        return None, None
    code = payload.get("error")
    if not isinstance(code, str) or not ERROR_CODE.match(code):
        code = None
    if code is None and not own:
        return None, None
    return code, one_line(payload.get("msg"), MESSAGE_MAX)


def coded_message(error, message):
    """``CODE: MESSAGE``, the message alone without a code, None without either."""
    if error:
        return "%s: %s" % (error, message or "no message")
    return message or None


def reason(row, unreachable_reason=None):
    """Why a summary row is a problem, or None for a site that passed (PASS, OK)."""
    if row["result"] == UNREACHABLE:
        return "unreachable: %s" % (unreachable_reason or HIDDEN_REASON)
    if row["result"] == FAIL:
        return "connection check failed: %s" % semicolons(
            row["failure_category"] + (": %s" % row["message"] if row.get("message") else ""),
            "hint: %s" % row["hint"] if row.get("hint") else "",
            "proof: %s" % row["archive_path"] if row.get("archive_path") else "")
    if row["result"] == ERROR:
        return row.get("message") or "the site sent an invalid proof"
    if row["result"] == REFUSED:
        return "refused by the preflight: %s: %s" % (row["error"], row.get("message") or "no message")
    if row["result"] == FAILED:
        what = coded_message(row.get("error"), row.get("message"))
        if what:
            return "%s (task: %s)" % (what, row["failed_task"] or "-")
        return "task failed: %s" % (row["failed_task"] or "-")
    return None


class HostRecord:
    """What the run told us about one host."""

    __slots__ = ("name", "host", "certificate", "check", "failed_task", "failed_error", "failed_message",
                 "unreachable_task", "unreachable_reason", "run_once_failures", "invalid_proofs", "refused",
                 "archived")

    def __init__(self, name):
        self.name = name
        self.host = None
        self.certificate = None
        self.check = None
        self.failed_task = None
        self.failed_error = None
        self.failed_message = None
        self.unreachable_task = None
        self.unreachable_reason = None
        self.run_once_failures = 0
        self.invalid_proofs = None
        self.refused = False
        self.archived = {}


def days_left(not_after, now=None):
    """Whole days from ``now`` to ``not_after`` (UTC ISO 8601 text) as the report counts them, or None."""
    if not isinstance(not_after, str):
        return None
    try:
        moment = datetime.datetime.fromisoformat(not_after.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return int((moment - now).total_seconds() // 86400)


def _certificate(record):
    """(days left, not_after) of the site's WAF-SSL certificate: the certificate stage's figure when it ran,
    else the client certificate the connection check presented (the daily run has no certificate stage)."""
    certificate = record.certificate if isinstance(record.certificate, dict) else {}
    if certificate.get("days_left") is not None or certificate.get("not_after"):
        return _integer(certificate.get("days_left")), _text(certificate.get("not_after"))
    check = record.check if isinstance(record.check, dict) else {}
    client = check.get("client_certificate") if isinstance(check.get("client_certificate"), dict) else {}
    not_after = _text(client.get("not_after"))
    return days_left(not_after), not_after


def summarize(records, stats, identities):
    """Rows (sorted) and totals from host records, ``{host: stats.summarize(host)}`` and identities.

    ``identities`` maps a host name to ``{eeszt_institution_id, eeszt_site_id, eeszt_environment}``
    (missing keys allowed). Hosts that are not sites are left out.
    """
    rows = []
    for name in set(records) | set(stats):
        record = records.get(name) or HostRecord(name)
        identity = identities.get(name) or {}
        if not (identity.get("eeszt_institution_id") or identity.get("eeszt_site_id")
                or record.certificate is not None or record.check is not None or record.refused):
            continue
        counts = dict(stats.get(name) or {})
        # The failure of a run_once task is counted for the host it ran on: it is the run's, not that site's.
        counts["failures"] = max((counts.get("failures") or 0) - record.run_once_failures, 0)
        check = record.check if isinstance(record.check, dict) else None
        days, not_after = _certificate(record)
        environment = _text(identity.get("eeszt_environment")) or _text((check or {}).get("environment"))
        if environment is None and (identity.get("eeszt_institution_id") or identity.get("eeszt_site_id")):
            environment = DEFAULT_ENVIRONMENT
        row = {
            "host": name,
            "institution_id": _text(identity.get("eeszt_institution_id")),
            "site_id": _text(identity.get("eeszt_site_id")),
            "environment": environment,
            "certificate_days_left": days,
            "certificate_not_after": not_after,
            "result": OK,
            "failure_category": None,
            "failed_task": None,
            "proof_path": _text(check.get("proof_path")) if check else None,
            "archive_path": None,
            "hint": None,
            "error": None,
            "message": None,
            "reason": None,
        }
        if counts.get("unreachable"):
            row["result"] = UNREACHABLE
            row["failed_task"] = record.unreachable_task
        elif record.invalid_proofs:
            # The site sent what is no valid proof: whatever else it did, its evidence is in question.
            row["result"] = ERROR
            row["error"] = INVALID_PROOF
            row["failed_task"] = record.failed_task
            row["message"] = one_line("the site sent an invalid proof: %s" % record.invalid_proofs, MESSAGE_MAX)
        elif check is not None and not _boolean(check.get("passed")):
            failure = check.get("failure") if isinstance(check.get("failure"), dict) else {}
            row["result"] = FAIL
            row["failure_category"] = _text(failure.get("category")) or "unknown"
            row["message"] = one_line(failure.get("message"), MESSAGE_MAX)
            row["hint"] = one_line(failure.get("hint"), MESSAGE_MAX)
        elif counts.get("failures") and record.refused:
            # Refused by the preflight (a bad variable, file or registry row): nothing was done on this site.
            row["result"] = REFUSED
            row["failed_task"] = record.failed_task
            row["error"] = record.failed_error
            row["message"] = record.failed_message
        elif counts.get("failures"):
            row["result"] = FAILED
            row["failed_task"] = record.failed_task
            row["error"] = record.failed_error
            row["message"] = record.failed_message
        elif check is not None:
            row["result"] = PASS
        if row["proof_path"]:
            # The proof's copy in the central archive (proofs_archive's result), where the report reads it.
            row["archive_path"] = record.archived.get(os.path.basename(row["proof_path"]))
        row["reason"] = reason(row, record.unreachable_reason)
        rows.append(row)
    rows.sort(key=lambda r: (r["institution_id"] is None, r["institution_id"] or "", r["site_id"] or "", r["host"]))
    totals = {label.replace(" ", "_"): (len(rows) if result is None else sum(r["result"] == result for r in rows))
              for label, result in TOTALS}
    categories = {}
    for row in rows:
        if row["failure_category"]:
            categories[row["failure_category"]] = categories.get(row["failure_category"], 0) + 1
    totals["failure_categories"] = dict(sorted(categories.items()))
    errors = sum(row["result"] == ERROR for row in rows)
    if errors:
        totals["error"] = errors
    totals["refused"] = sum(row["result"] == REFUSED for row in rows)
    return rows, totals


# How a problem line points at an incident (point_at_incidents()).
INCIDENT_MARK = "(incident #"


def clean_incidents(incidents):
    """The incidents of a proofs_report result, their fields kept to one line each; [] for anything else."""
    kept = []
    for incident in incidents if isinstance(incidents, list) else []:
        if not isinstance(incident, dict):
            continue
        hosts = incident.get("hosts") if isinstance(incident.get("hosts"), list) else []
        kept.append({"scope": one_line(incident.get("scope"), 40), "key": one_line(incident.get("key"), 300),
                     "category": one_line(incident.get("category"), 80), "sites": _integer(incident.get("sites")),
                     "institutions": _integer(incident.get("institutions")),
                     "hosts": [h for h in (one_line(host, 200) for host in hosts) if h],
                     "since": one_line(incident.get("since"), 40), "message": one_line(incident.get("message"), MESSAGE_MAX),
                     "hint": one_line(incident.get("hint"), MESSAGE_MAX)})
    return kept


def point_at_incidents(rows, incidents):
    """Shorten the reason of each problem row whose host is in an incident, and point it at the incident."""
    found = incident_of_hosts(incidents)
    for row in rows:
        if not row.get("reason") or row["host"] not in found:
            continue
        number, incident = found[row["host"]]
        if row["result"] == FAIL and row["failure_category"] == incident.get("category"):
            row["reason"] = "connection check failed: %s %s%d)" % (row["failure_category"], INCIDENT_MARK, number)
        elif row["result"] == UNREACHABLE and incident.get("category") == "unreachable":
            row["reason"] = "%s %s%d)" % (row["reason"], INCIDENT_MARK, number)
    return rows


def _take_registered(record, register, payload):
    """A task that registers a public fact under its own name (``register: eeszt_check_result``)."""
    if register == CERT_FACT and "fingerprint" in payload:
        record.certificate = payload
    elif register == CHECK_FACT and "passed" in payload:
        record.check = payload


def _take_quarantined(record, payload):
    """The files the proofs stage quarantined for this site (proofs_archive's ``quarantined``), as text."""
    items = payload.get("quarantined")
    if not isinstance(items, list):
        return
    named = ["%s: %s" % (_text(item.get("name")) or "?", _text(item.get("reason")) or "no reason")
             for item in items if isinstance(item, dict)]
    if named:
        record.invalid_proofs = " | ".join(named)


def _take_archived(record, payload):
    """Where the proofs stage keeps this site's proofs in the archive (proofs_archive's ``site_dir`` with the
    names it ``archived`` or ``skipped`` as already there): {file name: path on the controller}."""
    site_dir = payload.get("site_dir")
    if not isinstance(site_dir, str) or not site_dir:
        return
    names = [item.get("name") for item in payload.get("archived") or [] if isinstance(item, dict)]
    names += [name for name in payload.get("skipped") or [] if isinstance(name, str)]
    for name in names:
        if isinstance(name, str) and name and os.path.basename(name) == name:
            record.archived[name] = os.path.join(site_dir, name)


class Collector:
    """What a run told, task result by task result: a HostRecord per host, the failures of tasks that run once
    for the whole play, the eeszt_* variables that nothing reads and the fleet report's incidents."""

    def __init__(self):
        self.records = {}
        self.run_failures = []
        self.incidents = []
        self._unknown = {}

    def record(self, name, host=None):
        """The record of the host ``name``, made when first seen; ``host`` (Ansible's) is kept for its variables."""
        record = self.records.get(name)
        if record is None:
            record = self.records[name] = HostRecord(name)
        if host is not None:
            record.host = host
        return record

    def ok(self, name, host, payload, register=None):
        """A task that succeeded: its result ``payload`` and the name it registers its result under."""
        record = self.record(name, host)
        _take_registered(record, register, payload)
        _take_quarantined(record, payload)
        self._take_unknown(payload)
        _take_archived(record, payload)
        if isinstance(payload.get("incidents"), list) and isinstance(payload.get("summary"), dict):
            # The result of eeszt.connect.proofs_report: the report's incidents, the latest one wins.
            self.incidents = clean_incidents(payload["incidents"])
        for item in [payload] + [item for item in payload.get("results") or [] if isinstance(item, dict)]:
            facts = item.get("ansible_facts")
            if isinstance(facts, dict):
                if CERT_FACT in facts:
                    record.certificate = facts[CERT_FACT]
                if CHECK_FACT in facts:
                    record.check = facts[CHECK_FACT]

    def failed(self, name, host, payload, task, register=None, no_log=False, run_once=False, ignore_errors=False,
               action=None):
        """A failed task (``task``: its name; ``no_log``, ``run_once``: the task's keywords; ``action``: its resolved
        action)."""
        record = self.record(name, host)
        _take_quarantined(record, payload)
        if ignore_errors:
            return
        _take_registered(record, register, payload)
        error, message = (None, None) if no_log else failed_error(payload, own_action(action))
        if run_once:
            record.run_once_failures += 1
            self.run_failures.append({"task": task, "host": name, "error": error, "message": message})
            return
        record.failed_task = task
        record.failed_error, record.failed_message = error, message
        record.refused = error == REFUSED_ERROR

    def unreachable(self, name, host, payload, task, no_log=False):
        """A host that could not be reached in the task named ``task``."""
        record = self.record(name, host)
        record.unreachable_task = task
        if payload.get("_ansible_no_log") or no_log:
            record.unreachable_reason = HIDDEN_REASON
        else:
            record.unreachable_reason = connection_reason(payload.get("msg"))

    def _take_unknown(self, payload):
        """The eeszt_* variables that nothing reads, from eeszt.connect.fleet_preflight's result: each variable
        once per run however often the preflight ran, with every host that set it."""
        entries = payload.get("unknown")
        if not isinstance(entries, list) or "files_opened" not in payload:
            return
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("variable"), str):
                continue
            known = self._unknown.setdefault(entry["variable"], {"variable": entry["variable"], "hosts": [],
                                                                 "did_you_mean": _text(entry.get("did_you_mean"))})
            hosts = [str(host) for host in entry.get("hosts") or [] if isinstance(host, str)]
            known["hosts"] = sorted(set(known["hosts"]) | set(hosts))

    def unknown(self):
        """The unknown eeszt_* variables, sorted by name."""
        return [self._unknown[name] for name in sorted(self._unknown)]

    def summarize(self, stats, identities):
        """(rows, totals) of the run (``summarize``), the problems pointed at the report's incidents."""
        rows, totals = summarize(self.records, stats, identities)
        return point_at_incidents(rows, self.incidents), totals
