# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Prometheus metrics of a connection check, for node_exporter's textfile
collector: rendered in the text exposition format (version 0.0.4) and
written atomically (temporary file in the same directory, then
``os.replace``), mode 0644 so that node_exporter can read them.

Standard library only. The metrics hold public facts only: identifiers,
endpoint names, failure categories, step durations, timestamps and the
client certificate's serial, fingerprint, subject and not-after; never key
material, passwords, URLs with credentials or request bodies.

Every series carries the labels ``institution``, ``site`` and
``environment`` (the label set the fleet metrics share); per-endpoint
series add ``endpoint``. The names are documented in docs/monitoring/README.md.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import calendar
import errno
import math
import os
import re
import time

from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import MetricsError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import prom_help, prom_label_value

METRICS_FILE_MODE = 0o644
METRICS_DIR_MODE = 0o755
PREFIX = "eeszt_check_"
LAST_SUCCESS = PREFIX + "last_success_timestamp_seconds"
STEPS = ("dns", "tcp", "tls", "http")
_UNSAFE = re.compile(r"[^0-9A-Za-z._-]")
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{.*\})?\s+(?P<value>\S+)(?:\s+-?\d+)?\s*$")

# (name, help text), in the order they are written.
FAMILIES = (
    ("up", "Whether the last connection check of the site passed on every endpoint (1) or not (0)."),
    ("failure", "The first failure of the last check, 1 with its category, step and endpoint (endpoint is "
                "empty for a failure before any connection); no series when the check passed."),
    ("endpoint_up", "Whether the endpoint passed every step (dns, tcp, tls, http) in the last check (1) or not (0)."),
    ("endpoint_failure", "The endpoint's failure in the last check, 1 with its category and step; no series "
                         "when the endpoint passed."),
    ("endpoint_duration_seconds", "Seconds the last check spent on the endpoint, all steps together."),
    ("step_duration_seconds", "Seconds each step (dns, tcp, tls, http) of the last check took, per endpoint; a "
                              "failed step's time until it failed; no series for steps not run."),
    ("last_run_timestamp_seconds", "Unix time the last connection check finished."),
    ("last_success_timestamp_seconds", "Unix time the last passing connection check finished (kept across "
                                       "failing checks; no series until a check has passed)."),
    ("client_certificate_not_after_timestamp_seconds", "Unix time the client (WAF-SSL) certificate expires."),
    ("client_certificate_info", "The client (WAF-SSL) certificate the check presented: serial, SHA-256 "
                                "fingerprint and subject; always 1."),
)


def metrics_filename(institution_id, site_id, environment):
    """'eeszt_check_<institution>_<site>_<environment>.prom': one file per site and environment, so
    that sites sharing a machine (and a textfile directory) do not overwrite each other."""
    return "eeszt_check_%s_%s_%s.prom" % tuple(_UNSAFE.sub("_", str(part))
                                               for part in (institution_id, site_id, environment))


def format_value(value):
    """A sample value: integers as integers, floats in Python's shortest round-trip form."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return "%d" % value
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value.is_integer() and abs(value) < 1e15:
        return "%d" % value
    return repr(value)


def timestamp(iso_text):
    """Unix seconds of a UTC ISO 8601 time like 2026-11-25T22:15:00Z (None when unset or malformed)."""
    if not iso_text:
        return None
    try:
        return calendar.timegm(time.strptime(iso_text, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None


def _labels(pairs):
    return "{%s}" % ",".join('%s="%s"' % (name, prom_label_value(value)) for name, value in pairs)


def _endpoint_names(endpoints):
    """Endpoint label values in order; a repeated name gets '#2', '#3'... so no series is duplicated
    (node_exporter refuses a whole file with a duplicate series)."""
    seen = {}
    names = []
    for endpoint in endpoints:
        name = str(endpoint.get("name") or "")
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else "%s#%d" % (name, seen[name]))
    return names


def collect(result, institution_id, site_id, environment, last_success=None):
    """{family: [(label pairs, value)]} of a run_check() result. ``last_success`` is the Unix time of the
    last passing check before this one (used when this one failed)."""
    base = [("institution", institution_id), ("site", site_id), ("environment", environment)]
    samples = dict((name, []) for name, _help in FAMILIES)
    passed = bool(result.get("passed"))
    samples["up"].append((base, 1 if passed else 0))
    failure = result.get("failure")
    if failure and not passed:
        samples["failure"].append((base + [("category", failure.get("category") or ""),
                                           ("step", failure.get("step") or ""),
                                           ("endpoint", failure.get("endpoint") or "")], 1))
    endpoints = result.get("endpoints") or []
    for label, endpoint in zip(_endpoint_names(endpoints), endpoints):
        labels = base + [("endpoint", label)]
        samples["endpoint_up"].append((labels, 1 if endpoint.get("passed") else 0))
        problem = endpoint.get("failure")
        if problem and not endpoint.get("passed"):
            samples["endpoint_failure"].append((labels + [("category", problem.get("category") or ""),
                                                          ("step", problem.get("step") or "")], 1))
        samples["endpoint_duration_seconds"].append((labels, round(float(endpoint.get("ms") or 0.0) / 1000.0, 6)))
        for step in endpoint.get("steps") or []:
            if step.get("name") in STEPS:
                samples["step_duration_seconds"].append(
                    (labels + [("step", step["name"])], round(float(step.get("ms") or 0.0) / 1000.0, 6)))
    finished = timestamp(result.get("finished_at"))
    if finished is not None:
        samples["last_run_timestamp_seconds"].append((base, finished))
    success = finished if passed else last_success
    if success is not None:
        samples["last_success_timestamp_seconds"].append((base, success))
    certificate = result.get("client_certificate") or {}
    not_after = timestamp(certificate.get("not_after"))
    if not_after is not None:
        samples["client_certificate_not_after_timestamp_seconds"].append((base, not_after))
    if certificate.get("sha256"):
        samples["client_certificate_info"].append((base + [("serial", certificate.get("serial") or ""),
                                                           ("sha256", certificate["sha256"]),
                                                           ("subject", certificate.get("subject") or "")], 1))
    return samples


def render_metrics(result, institution_id, site_id, environment, last_success=None):
    """The text of the metrics file (text exposition format 0.0.4): HELP and TYPE once per family, then its
    samples; families without samples are left out."""
    samples = collect(result, institution_id, site_id, environment, last_success)
    lines = []
    for name, help_text in FAMILIES:
        if not samples[name]:
            continue
        full = PREFIX + name
        lines.append("# HELP %s %s" % (full, prom_help(help_text)))
        lines.append("# TYPE %s gauge" % full)
        for labels, value in samples[name]:
            lines.append("%s%s %s" % (full, _labels(labels), format_value(value)))
    return "\n".join(lines) + "\n"


def read_last_success(path):
    """The last-success timestamp of an earlier metrics file (None when there is none or it cannot be read)."""
    try:
        with open(path, "rb") as handle:
            text = handle.read(1024 * 1024).decode("utf-8", "replace")
    except (IOError, OSError):
        return None
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group("name") == LAST_SUCCESS:
            try:
                value = float(match.group("value"))
            except ValueError:
                return None
            if math.isnan(value) or math.isinf(value) or value <= 0:
                return None
            return int(value) if value.is_integer() else value
    return None


def _ensure_dir(directory):
    try:
        make_dirs(directory, METRICS_DIR_MODE)  # whatever the umask: node_exporter must read it
    except OSError as exc:
        raise MetricsError("cannot create the metrics directory %s: %s; create it, writable for the user the "
                           "check runs as and readable for node_exporter, or unset metrics_dir "
                           "(eeszt_check_metrics_dir)" % (directory, exc.strerror or exc))


def write_metrics(directory, result, institution_id, site_id, environment):
    """Write the check's metrics file into ``directory`` atomically (0644), replacing the site's previous one and
    keeping its last-success time when this check failed. Returns the path."""
    _ensure_dir(directory)
    path = os.path.join(directory, metrics_filename(institution_id, site_id, environment))
    last_success = None if result.get("passed") else read_last_success(path)
    data = render_metrics(result, institution_id, site_id, environment, last_success).encode("utf-8")
    try:
        # The temporary name is hidden, not *.prom: node_exporter never reads a half-written file.
        write_atomic(path, data, METRICS_FILE_MODE)
    except (IOError, OSError) as exc:
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise MetricsError("cannot write in the metrics directory %s: %s; make it writable for the user the check "
                               "runs as, or unset metrics_dir (eeszt_check_metrics_dir)"
                               % (directory, exc.strerror or exc))
        raise MetricsError("cannot write the metrics file %s: %s" % (path, exc.strerror or exc))
    return path
