# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fleet metrics: the archive's state in Prometheus' text format (``metrics.prom`` beside ``index.json``).

Rebuilt with the report from the index (so from the archive's contents: partial and sliced runs merge),
for node_exporter's textfile collector on the controller, so that one scrape covers the whole fleet,
unreachable sites included. Every series of a site carries the labels of the site's own metrics
(``institution``, ``site``, ``environment``; see check_metrics.py), so site and fleet series join.
No timestamps on samples and nothing that depends on the time of the run: the same archive gives the
same bytes (ages are computed in PromQL: ``time() - eeszt_fleet_site_last_proof_timestamp_seconds``).

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.check.metrics import format_value, timestamp
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import prom_help, prom_label_value

PREFIX = "eeszt_fleet_"
STATUSES = ("passed", "failed", "no_proof", "error")
# Certificate days left, in the buckets of the report's chart: (label, lowest, highest) days, inclusive.
DAYS_BUCKETS = (("expired", None, -1), ("0-13", 0, 13), ("14-29", 14, 29), ("30-89", 30, 89),
                ("90-179", 90, 179), ("180-364", 180, 364), ("365+", 365, None))

FAMILIES = (
    ("sites", "Sites of the archive by the status of their latest run (passed, failed, no_proof, error: the site "
              "sent a file that is no valid proof)."),
    ("sites_unreachable", "Sites whose latest collection found them unreachable."),
    ("sites_stale", "Sites whose latest proof is older than eeszt_proofs_stale_hours."),
    ("hosts_refused", "Hosts refused by the preflight at their latest run (no site row: bad identifiers)."),
    ("certificates", "Client (WAF-SSL) certificates of the sites by days left, in the report's buckets."),
    ("institution_proofs", "Proofs in the archive per institution."),
    ("site_up", "Whether the site's latest run passed (1) or not (0); no series for a site without a proof."),
    ("site_failure", "The failure that makes the site failed, 1 with its stage and category; no series when it "
                     "passed."),
    ("site_unreachable", "Whether the site's latest collection found it unreachable (1) or not (0)."),
    ("site_last_proof_timestamp_seconds", "Unix time the site's newest proof in the archive finished."),
    ("site_last_passing_proof_timestamp_seconds", "Unix time the site's newest passing proof finished."),
    ("site_client_certificate_not_after_timestamp_seconds",
     "Unix time the site's client (WAF-SSL) certificate expires, from its newest proof."),
    ("incident", "One series per open incident (failing sites that share one cause: index.json incidents) with its "
                 "scope, key and category; the value is the number of its sites."),
    ("site_incident", "1 for each site in an open incident, with the incident's scope, key and category (to keep "
                      "per-site alerts quiet while the incident's alert fires)."),
)


def _labels(pairs):
    return "{%s}" % ",".join('%s="%s"' % (name, prom_label_value(value))
                             for name, value in pairs)


def _bucket(days):
    for label, low, high in DAYS_BUCKETS:
        if (low is None or days >= low) and (high is None or days <= high):
            return label
    return DAYS_BUCKETS[-1][0]


def collect(index):
    """{family: [(labels, value)]} of the fleet, from a report index (build_index's document)."""
    sites = index.get("sites") or []
    samples = dict((name, []) for name, dummy in FAMILIES)
    for status in STATUSES:
        samples["sites"].append(([("status", status)], sum(1 for s in sites if s.get("status") == status)))
    unreachable = sum(1 for s in sites if (s.get("collection") or {}).get("status") == "unreachable")
    samples["sites_unreachable"].append(([], unreachable))
    samples["sites_stale"].append(([], sum(1 for s in sites if s.get("stale"))))
    samples["hosts_refused"].append(([], len(index.get("refused") or [])))
    buckets = dict((label, 0) for label, dummy, dummy2 in DAYS_BUCKETS)
    for site in sites:
        if site.get("certificate_days_left") is not None:
            buckets[_bucket(site["certificate_days_left"])] += 1
    for label, dummy, dummy2 in DAYS_BUCKETS:
        samples["certificates"].append(([("days_left", label)], buckets[label]))
    proofs = {}
    for row in index.get("proofs") or []:
        if row.get("status") != "missing":
            proofs[row["institution_id"]] = proofs.get(row["institution_id"], 0) + 1
    for institution in sorted(proofs):
        samples["institution_proofs"].append(([("institution", institution)], proofs[institution]))
    for site in sorted(sites, key=lambda s: (s["institution_id"], s["site_id"])):
        labels = [("institution", site["institution_id"]), ("site", site["site_id"]),
                  ("environment", site.get("environment"))]
        if site.get("status") in ("passed", "failed", "error"):
            samples["site_up"].append((labels, site["status"] == "passed"))
        failure = site.get("failure") or {}
        if site.get("status") in ("failed", "error"):
            samples["site_failure"].append((labels + [("stage", failure.get("stage") or "check"),
                                                      ("category", failure.get("category") or "unknown")], 1))
        samples["site_unreachable"].append((labels, (site.get("collection") or {}).get("status") == "unreachable"))
        # A proof's time is never later than when the controller received it (a site's clock running ahead, or a
        # proof dated in the future, must not hold back the staleness alert).
        for family, value in (("site_last_proof_timestamp_seconds",
                               _earlier(site.get("finished_at"), site.get("received_at"))),
                              ("site_last_passing_proof_timestamp_seconds",
                               _earlier(site.get("latest_passing_at"), site.get("latest_passing_received_at"))),
                              ("site_client_certificate_not_after_timestamp_seconds",
                               timestamp(site.get("certificate_not_after")))):
            if value is not None:
                samples[family].append((labels, value))
    _collect_incidents(index, sites, samples)
    return samples


def _collect_incidents(index, sites, samples):
    """The incident families: one series per open incident, one per site in one (label values: safe_text)."""
    by_host = dict((site.get("host"), site) for site in sites if site.get("host"))
    members = []
    for incident in index.get("incidents") or []:
        labels = [("scope", incident.get("scope")), ("key", incident.get("key")), ("category", incident.get("category"))]
        samples["incident"].append((labels, incident.get("sites") or 0))
        for host in incident.get("hosts") or []:
            site = by_host.get(host)
            if site is not None:
                site_labels = [("institution", site["institution_id"]), ("site", site["site_id"]),
                               ("environment", site.get("environment"))]
                members.append((site_labels + labels, 1))
    members.sort(key=lambda item: [("%s" % value) for dummy, value in item[0]])
    samples["site_incident"].extend(members)


def _earlier(*texts):
    """The earliest of the Unix times of ``texts`` that can be read, or None."""
    values = [value for value in (timestamp(text) for text in texts) if value is not None]
    return min(values) if values else None


def render(index):
    """metrics.prom's bytes: HELP and TYPE for every family, one line per sample."""
    samples = collect(index)
    lines = []
    for family, text in FAMILIES:
        name = PREFIX + family
        lines.append("# HELP %s %s" % (name, prom_help(text)))
        lines.append("# TYPE %s gauge" % name)
        for labels, value in samples[family]:
            lines.append("%s%s %s" % (name, _labels(labels) if labels else "", format_value(value)))
    return ("\n".join(lines) + "\n").encode("utf-8")
