# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_summary
type: aggregate
short_description: One line per EESZT site at the end of a run, with totals
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - At the end of a playbook run, prints one line per site, sorted by institution and then site, with the
    institution ID, the site ID, the host, the days left on the WAF-SSL certificate, the result and the
    proof path or the failing task; then the totals, the count of each failure category and, under
    C(problems:), one line per site that did not pass with its reason. It is printed after the C(PLAY RECAP),
    as the run's last block.
  - "Sites of one institution with the same classified problem (an error code or a check's category) and the
    same reason but for their host names, such as a mistake in the institution's group variables, share one
    C(problems:) line that names and counts them (C(institution ID, N sites (HOSTS): REASON)); the JSON keeps
    one object per site."
  - "The totals: C(sites), C(passed), C(check failed) (the connection check ran and failed), C(other stage
    failed) (a task of another stage failed, the preflight included; C(failed) in the JSON totals),
    C(unreachable) and C(not checked)."
  - "The result is one of: C(PASS) (the connection check passed), C(FAIL <category>) (the check ran and
    failed, with its C(failure.category)), C(FAILED) (a task failed on the site; the line names it),
    C(UNREACHABLE) (the line names the task), C(ERROR) (the site sent a file that is no valid proof: the proofs
    stage kept it in the archive's quarantine; the line names the file), C(REFUSED) (the preflight refused the
    host before anything was done on it: a bad variable, a controller file, a misspelt variable with
    C(eeszt_preflight_unknown_variables=fail) or a refused site registry row; its reason is C(refused by the
    preflight: bad_variables: MESSAGE)), C(OK) (the run succeeded on the site without a connection check, for
    example C(deploy_certificate.yml) alone)."
  - "The totals add C(refused: N) when the preflight refused a host (C(refused) in the JSON totals, always there);
    a refused host counts there only, not under C(failed). A host refused with no identity (a refused site
    registry row) is listed too."
  - "The days left on the certificate come from the certificate stage's C(eeszt_certificate_result), else from the
    client certificate the connection check presented (C(eeszt_check_result.client_certificate.not_after)), so a
    daily run without the certificate stage shows them too. The environment is C(eeszt_environment), else the
    check's, else C(test) (the roles' default) for a site."
  - "Under C(warnings:), once each, the C(eeszt_*) variables that nothing in the collection reads, with the hosts
    that set them counted (from M(eeszt.connect.fleet_preflight); C(warnings) in the JSON, with C(variable),
    C(hosts), C(did_you_mean) and C(message))."
  - "C(ERROR) comes from the C(quarantined) list of the result of M(eeszt.connect.proofs_archive) (the proofs
    role's archive task), whether or not the task's failure is ignored; its reason is C(the site sent an invalid
    proof: NAME: REASON), on one line and cut at 500 characters. The totals then add C(error: N) (C(error) in the
    JSON totals), absent when no site sent an invalid proof."
  - It reads the facts C(eeszt_certificate_result) and C(eeszt_check_result) from the results of the
    tasks that register them (or set them with C(set_fact)) in the C(certificate) and C(connection_check)
    roles, the host statistics, and the
    identity variables C(eeszt_institution_id) and C(eeszt_site_id) of each host. Hosts with neither the
    identity variables nor those facts (such as C(localhost) in C(lab.yml)) are not sites and are left out;
    a run without sites prints nothing.
  - Aligned plain text, readable in a terminal and in a CI log; the result is coloured only when Ansible
    colours its output (a terminal, and neither C(ANSIBLE_NOCOLOR) nor C(NO_COLOR) set).
  - "The reason of a problem site is: for C(UNREACHABLE), the connection error (for example the ssh client's
    C(Connection timed out during banner exchange)), on one line and cut at 300 characters, or C(connection
    failed) alone when the task has C(no_log); for C(FAIL), the failure category, the check's message, its remedy
    hint (C(hint:)) and the path of the proof in the central archive (C(proof:), when the proofs stage archived it);
    for C(FAILED), the error code and message of the failed result (for example C(pfx_wrong_password: the
    password for the PFX file ... is wrong)) and the name of the failing task, or the task's name alone."
  - "A failed task's message is printed only when its result carries an error code (the C(error) return value
    of the collection's modules and actions, whose messages are written never to hold a secret) and the task
    has no C(no_log); kept on one line and cut at 500 characters. Apart from that and the connection error of
    an unreachable site, it prints only the fields above, never a task's arguments or variables, so it cannot
    leak a password."
  - "A failed task that runs once for the whole play (C(run_once), such as the proofs role's report task,
    which records the run and rebuilds the report of the archive) is the run's failure, not a site's: Ansible
    counts it for the first host of the play and stops every host of the play there. It is listed under
    C(run problems:) with its error code and message (under the same conditions as a site's), the task and the
    host it ran for; the sites' lines keep what they did before."
  - "Incidents: when the run rebuilt the fleet report (the proofs role's task, M(eeszt.connect.proofs_report)),
    the incidents of its result (failing sites that share one cause: the whole fleet, one environment, one
    endpoint, one proxy or one institution; see the module's O(eeszt.connect.proofs_report#module:incident_min_sites))
    are printed once each under C(incidents:), before C(problems:): number, scope and key, category, how many sites
    and institutions, since when, the message, the one thing to do and the hosts (at most 10 named). The
    C(problems:) line of a site in an incident is shorter and points at it: C(connection check failed: CATEGORY
    (incident #N)) without the check's message, or the connection error of an unreachable site followed by
    C((incident #N)). A run without the proofs stage prints no incidents."
  - This is an aggregate callback, it runs next to the normal output and must be enabled, for example
    with C(callbacks_enabled = eeszt.connect.fleet_summary) in the C([defaults]) section of C(ansible.cfg),
    or C(ANSIBLE_CALLBACKS_ENABLED=eeszt.connect.fleet_summary).
options:
  output_json:
    description:
      - Also write the summary as JSON to this file (schema C(eeszt.connect/fleet-summary/v1)), replaced
        atomically at the end of each run that saw at least one site.
      - The object has C(schema), C(generated_at) (UTC, ISO 8601), C(sites) (one object per line, keys
        C(host), C(institution_id), C(site_id), C(environment), C(certificate_days_left),
        C(certificate_not_after), C(result), C(failure_category), C(failed_task), C(error), C(message),
        C(hint), C(proof_path), C(archive_path), C(reason)), C(totals), C(run_failures) (one object per failed task that runs
        once for the play, keys C(task), C(host), C(error), C(message)), C(warnings) and C(incidents) (those of the report,
        as M(eeszt.connect.proofs_report) returns them, in the order of their numbers; empty without one). C(reason) is
        null for sites that passed; C(error)
        and C(message) are the error code and message of a failed result that carries a code, or of a failed
        check; C(hint) the failed check's remedy hint; C(proof_path) the proof's path on the site and
        C(archive_path) its path in the central archive (null when the proofs stage did not archive it).
    type: path
    env:
      - name: EESZT_FLEET_SUMMARY_JSON
    ini:
      - section: callback_fleet_summary
        key: output_json
requirements:
  - Enabled in C(callbacks_enabled).
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = eeszt.connect.fleet_summary
# [callback_fleet_summary]
# output_json = ./fleet-summary.json

# Or for one run:
#   ANSIBLE_CALLBACKS_ENABLED=eeszt.connect.fleet_summary \
#   EESZT_FLEET_SUMMARY_JSON=fleet-summary.json ansible-playbook eeszt.connect.site
#
# Output:
#   EESZT FLEET SUMMARY ***********************************************************
#   INSTITUTION  SITE       HOST     CERT DAYS  RESULT           PROOF / FAILING TASK
#   100001       100001001  site001  364        PASS             /var/lib/eeszt/proofs/100001-100001001-20260301T101500Z.json
#   100001       100001002  site002  364        FAIL tcp_refused /var/lib/eeszt/proofs/100001-100001002-20260301T101501Z.json
#   100002       100002001  site003  -          UNREACHABLE      task: Validate the WAF-SSL certificate and install it on the site
#   sites: 3  passed: 1  check failed: 1  other stage failed: 0  unreachable: 1  not checked: 0
#   failure categories: tcp_refused=1
#   incidents:
#     #1 institution 100003: unreachable on 2 site(s) of 1 institution(s), since 2026-03-01T10:15:02Z
#        2 site(s) of 1 institution(s) (institution 100003) are unreachable over SSH: the vendor's own network ...
#        to do: Check the VPN or network path from the controller to these sites, then run the playbook again.
#        hosts: site005, site006
#   problems:
#     site002: connection check failed: tcp_refused: connection to waf.example:443 refused; hint: open port 443
#              towards EESZT in the firewall; proof: /srv/eeszt-proofs/100001/100001002/20260301T101501Z_...json
#     site003: unreachable: Data could not be sent to remote host "10.1.2.3". Make sure this host can be
#              reached over ssh: ssh: connect to host 10.1.2.3 port 22: Connection timed out
#     site004: pfx_wrong_password: the password for the PFX file site004.p12 is wrong ... (task: Validate the
#              WAF-SSL certificate and install it on the site)
"""

import datetime
import json
import os
import re

from ansible import constants as C
from ansible.inventory.helpers import get_group_vars
from ansible.plugins.callback import CallbackBase
from ansible.utils.color import stringc
from ansible.utils.vars import combine_vars

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import write_atomic
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import failure_reason, semicolons
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.site_files import unknown_warning
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
# How a total is printed: "failed" alone beside "check failed" read as a contradiction (issue 27); the JSON
# keeps the key "failed".
TOTAL_LABELS = {"failed": "other stage failed"}
COLORS = {PASS: C.COLOR_OK, OK: C.COLOR_OK, FAIL: C.COLOR_ERROR, FAILED: C.COLOR_ERROR,
          UNREACHABLE: C.COLOR_UNREACHABLE, ERROR: C.COLOR_ERROR, REFUSED: C.COLOR_ERROR}
INVALID_PROOF = "invalid_proof"
# The error code of eeszt.connect.site_preflight: the host was refused before anything was done on it.
REFUSED_ERROR = "bad_variables"
# The environment of a site that does not set eeszt_environment (the roles' default).
DEFAULT_ENVIRONMENT = "test"
HEADER = ("INSTITUTION", "SITE", "HOST", "CERT DAYS", "RESULT", "PROOF / FAILING TASK")
# A connection error is shown on one line and cut to this length.
REASON_MAX = 300
# A failed result's (or check's) message is shown on one line and cut to this length.
MESSAGE_MAX = 500
HIDDEN_REASON = "connection failed"
# An error code (the ``error`` return value of the collection's modules): a short word, never free text.
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")


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


def failed_error(payload):
    """(error code, message) of a failed result that carries a code, else (None, None).

    Only the collection's classified errors carry a code; their messages never hold a secret. A result
    without a code (any other module, a fail or assert task) may quote what it was given: not shown.
    """
    code = payload.get("error")
    if payload.get("_ansible_no_log") or not isinstance(code, str) or not ERROR_CODE.match(code):
        return None, None
    return code, one_line(payload.get("msg"), MESSAGE_MAX)


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
        if row.get("error"):
            return "%s: %s (task: %s)" % (row["error"], row.get("message") or "no message",
                                          row["failed_task"] or "-")
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


def problem_lines(rows):
    """One line per problem: sites of one institution with the same classified problem (an error code or a
    check's category), whose reason is the same but for the host's own name (a mistake in the institution's
    shared settings, its group variables), share one line that counts them."""
    groups = {}
    for row in rows:
        text = re.sub(r"(?<![\w.-])%s(?![\w-])" % re.escape(row["host"]), "\0", row["reason"])
        groups.setdefault((row["institution_id"], text), []).append(row)
    lines = []
    for (institution, text), members in groups.items():
        if len(members) == 1 or institution is None or not (members[0]["error"] or members[0]["failure_category"]) \
                or INCIDENT_MARK in text:
            # A site in an incident keeps its own short line that points at the incident (issue 24).
            lines.extend("  %s: %s" % (row["host"], row["reason"]) for row in members)
        else:
            lines.append("  institution %s, %d sites (%s): %s" % (
                institution, len(members), ", ".join(row["host"] for row in members), text.replace("\0", "each site")))
    return lines


# An incident names at most this many hosts in the summary (the report names them all).
INCIDENT_HOSTS_SHOWN = 10


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


def incident_lines(incidents):
    """The ``incidents:`` block: each incident once, its message, the one thing to do and its hosts."""
    if not incidents:
        return []
    lines = ["incidents:"]
    for number, incident in enumerate(incidents, 1):
        scope = incident["scope"] or "?"
        if scope != "fleet":
            scope += " %s" % (incident["key"] or "?")
        lines.append("  #%d %s: %s on %s site(s) of %s institution(s)%s" % (
            number, scope, incident["category"] or "?", incident["sites"], incident["institutions"],
            ", since %s" % incident["since"] if incident["since"] else ""))
        indent = " " * (len("#%d " % number) + 2)
        if incident["message"]:
            lines.append(indent + incident["message"])
        if incident["hint"]:
            lines.append(indent + "to do: " + incident["hint"])
        hosts = incident["hosts"]
        shown = ", ".join(hosts[:INCIDENT_HOSTS_SHOWN])
        if len(hosts) > INCIDENT_HOSTS_SHOWN:
            shown += " and %d more" % (len(hosts) - INCIDENT_HOSTS_SHOWN)
        lines.append(indent + "hosts: " + (shown or "-"))
    return lines


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


def run_failure_line(failure):
    """One failed run_once task: error code and message (when shown), the task and the host it ran for."""
    if failure.get("error"):
        what = "%s: %s" % (failure["error"], failure.get("message") or "no message")
    else:
        what = "task failed"
    return "%s (task: %s, run on %s's behalf)" % (what, failure["task"] or "-", failure["host"])


def unknown_lines(unknown):
    """One line per eeszt_* variable that nothing reads (fleet_preflight's ``unknown``), each once."""
    return [unknown_warning(entry) for entry in unknown]


def render(rows, totals, colorize=True, run_failures=(), unknown=(), incidents=()):
    """The summary as lines of text: header, one aligned line per site, totals, incidents, problems, run problems,
    warnings (the eeszt_* variables that nothing reads).

    ``incidents`` (clean_incidents()'s) are printed before the problems; the rows' reasons point at them
    (point_at_incidents()).
    """
    table = [HEADER]
    for row in rows:
        result = row["result"] + (" %s" % row["failure_category"] if row["failure_category"] else "")
        if row["result"] in (FAILED, UNREACHABLE, REFUSED):
            detail = "task: %s" % (row["failed_task"] or "-")
        elif row["result"] == ERROR:
            detail = "invalid proof: see problems"
        else:
            detail = row["proof_path"] or "-"
        days = row["certificate_days_left"]
        table.append((row["institution_id"] or "-", row["site_id"] or "-", row["host"],
                      "-" if days is None else str(days), result, detail))
    widths = [max(len(line[column]) for line in table) for column in range(len(HEADER))]
    lines = []
    for index, line in enumerate(table):
        cells = [cell.ljust(width) for cell, width in zip(line, widths)]
        if index and colorize:
            cells[4] = stringc(cells[4], COLORS[rows[index - 1]["result"]])
        lines.append("  ".join(cells).rstrip())
    lines.append("  ".join("%s: %d" % (TOTAL_LABELS.get(label, label), totals[label.replace(" ", "_")])
                           for label, dummy in TOTALS)
                 + ("  error: %d" % totals["error"] if totals.get("error") else "")
                 + ("  refused: %d" % totals["refused"] if totals.get("refused") else ""))
    if totals["failure_categories"]:
        lines.append("failure categories: " + ", ".join(
            "%s=%d" % item for item in totals["failure_categories"].items()))
    lines.extend(incident_lines(incidents))
    problems = [row for row in rows if row["reason"]]
    if problems:
        lines.append("problems:")
        lines.extend(problem_lines(problems))
    if run_failures:
        lines.append("run problems (tasks that run once for the whole play; every site of that play stopped there):")
        lines.extend("  %s" % run_failure_line(failure) for failure in run_failures)
    if unknown:
        lines.append("warnings:")
        lines.extend("  %s" % line for line in unknown_lines(unknown))
    return lines


def write_json(path, rows, totals, run_failures=(), unknown=(), incidents=()):
    """Write the summary to ``path`` atomically (0644: it holds no secret)."""
    generated_at = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    document = {"schema": SCHEMA, "generated_at": generated_at, "sites": rows, "totals": totals,
                "run_failures": list(run_failures),
                "warnings": [dict(entry, message=line) for entry, line in zip(unknown, unknown_lines(unknown))],
                "incidents": list(incidents)}
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n", 0o644)


class CallbackModule(CallbackBase):
    """Fleet summary of an EESZT run."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "eeszt.connect.fleet_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._records = {}
        self._run_failures = []
        self._unknown = {}
        self._play = None
        self._incidents = []

    # --- events ---------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        self._play = play

    def v2_runner_on_ok(self, result):
        record = self._record(result)
        payload = self._payload(result)
        self._take_registered(record, result, payload)
        self._take_quarantined(record, payload)
        self._take_unknown(payload)
        self._take_archived(record, payload)
        if isinstance(payload.get("incidents"), list) and isinstance(payload.get("summary"), dict):
            # The result of eeszt.connect.proofs_report: the report's incidents, the latest one wins.
            self._incidents = clean_incidents(payload["incidents"])
        for item in [payload] + [item for item in payload.get("results") or [] if isinstance(item, dict)]:
            facts = item.get("ansible_facts")
            if isinstance(facts, dict):
                if CERT_FACT in facts:
                    record.certificate = facts[CERT_FACT]
                if CHECK_FACT in facts:
                    record.check = facts[CHECK_FACT]

    @staticmethod
    def _take_registered(record, result, payload):
        """A task that registers a public fact under its own name (``register: eeszt_check_result``)."""
        task = getattr(result, "task", None)
        task = task if task is not None else result._task
        register = getattr(task, "register", None)
        if register == CERT_FACT and "fingerprint" in payload:
            record.certificate = payload
        elif register == CHECK_FACT and "passed" in payload:
            record.check = payload

    @staticmethod
    def _take_quarantined(record, payload):
        """The files the proofs stage quarantined for this site (proofs_archive's ``quarantined``), as text."""
        items = payload.get("quarantined")
        if not isinstance(items, list):
            return
        named = ["%s: %s" % (_text(item.get("name")) or "?", _text(item.get("reason")) or "no reason")
                 for item in items if isinstance(item, dict)]
        if named:
            record.invalid_proofs = " | ".join(named)

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

    @staticmethod
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

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._take_quarantined(self._record(result), self._payload(result))
        if not ignore_errors:
            record = self._record(result)
            self._take_registered(record, result, self._payload(result))
            task = getattr(result, "task", None)
            task = task if task is not None else result._task
            if getattr(task, "no_log", False) is True:
                error, message = None, None
            else:
                error, message = failed_error(self._payload(result))
            if getattr(task, "run_once", False) is True:
                record.run_once_failures += 1
                self._run_failures.append({"task": self._task_name(result), "host": record.name, "error": error,
                                           "message": message})
                return
            record.failed_task = self._task_name(result)
            record.failed_error, record.failed_message = error, message
            record.refused = error == REFUSED_ERROR

    def v2_runner_on_unreachable(self, result):
        record = self._record(result)
        record.unreachable_task = self._task_name(result)
        payload = self._payload(result)
        task = getattr(result, "task", None)
        task = task if task is not None else result._task
        if payload.get("_ansible_no_log") or getattr(task, "no_log", False) is True:
            record.unreachable_reason = HIDDEN_REASON
        else:
            record.unreachable_reason = connection_reason(payload.get("msg"))

    def v2_playbook_on_stats(self, stats):
        counts = {name: stats.summarize(name) for name in stats.processed}
        identities = {name: self._identity(name) for name in set(self._records) | set(counts)}
        rows, totals = summarize(self._records, counts, identities)
        if not rows:
            return
        unknown = [self._unknown[name] for name in sorted(self._unknown)]
        point_at_incidents(rows, self._incidents)
        self._display.banner("EESZT FLEET SUMMARY")
        for line in render(rows, totals, run_failures=self._run_failures, unknown=unknown, incidents=self._incidents):
            self._display.display(line)
        path = self.get_option("output_json")
        if path:
            try:
                write_json(path, rows, totals, self._run_failures, unknown, self._incidents)
            except OSError as exc:
                self._display.warning("fleet_summary: cannot write %s: %s" % (path, exc.strerror or exc))
            else:
                self._display.display("fleet summary written to %s" % path)

    # --- helpers --------------------------------------------------------------

    @staticmethod
    def _payload(result):
        payload = getattr(result, "result", None)
        if payload is None:
            payload = result._result
        return payload if isinstance(payload, dict) else {}

    @staticmethod
    def _host(result):
        host = getattr(result, "host", None)
        return host if host is not None else result._host

    @staticmethod
    def _task_name(result):
        task = getattr(result, "task", None)
        task = task if task is not None else result._task
        return task.get_name().strip()

    def _record(self, result):
        host = self._host(result)
        name = host.get_name()
        record = self._records.get(name)
        if record is None:
            record = self._records[name] = HostRecord(name)
        record.host = host
        return record

    def _identity(self, name):
        """The identity variables of a host: inventory host and group variables, else the play's view."""
        record = self._records.get(name)
        values = {}
        if record is not None and record.host is not None:
            host = record.host
            values = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
        identity = {key: values[key] for key in IDENTITY if key in values}
        if not all(key in identity for key in IDENTITY[:2]) and self._play is not None and record is not None:
            # group_vars/ and host_vars/ files are only visible through the variable manager.
            manager = self._play.get_variable_manager()
            if manager is not None:
                try:
                    variables = manager.get_vars(play=self._play, host=record.host, include_hostvars=False)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    self._display.vvv("fleet_summary: no variables for %s: %s" % (name, exc))
                else:
                    identity.update({key: variables[key] for key in IDENTITY
                                     if key not in identity and key in variables})
        return identity
