# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet summary as text and as JSON (callback ``eeszt.connect.fleet_summary``), from the rows and totals of
``fleet_summary.py``: an aligned table, the totals, the incidents, the problems (sites of one institution with
the same problem on one line), the run's problems and the warnings."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import os
import re

from ansible import constants as C
from ansible.utils.color import stringc

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.site_files import unknown_warning
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_summary import (
    ERROR,
    FAIL,
    FAILED,
    INCIDENT_MARK,
    OK,
    PASS,
    REFUSED,
    SCHEMA,
    TOTALS,
    UNREACHABLE,
    coded_message,
)

# How a total is printed: "failed" alone beside "check failed" read as a contradiction (issue 27); the JSON
# keeps the key "failed".
TOTAL_LABELS = {"failed": "other stage failed"}
COLORS = {PASS: C.COLOR_OK, OK: C.COLOR_OK, FAIL: C.COLOR_ERROR, FAILED: C.COLOR_ERROR,
          UNREACHABLE: C.COLOR_UNREACHABLE, ERROR: C.COLOR_ERROR, REFUSED: C.COLOR_ERROR}
HEADER = ("INSTITUTION", "SITE", "HOST", "CERT DAYS", "RESULT", "PROOF / FAILING TASK")


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


def run_failure_line(failure):
    """One failed run_once task: error code and message (when shown), the task and the host it ran for."""
    what = coded_message(failure.get("error"), failure.get("message")) or "task failed"
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
    make_dirs(os.path.dirname(os.path.abspath(path)), 0o755)
    write_atomic(path, json.dumps(document, indent=2, sort_keys=True) + "\n", 0o644)
