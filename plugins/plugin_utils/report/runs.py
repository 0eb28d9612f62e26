# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Collection run records: one site's outcome normalised, the run record written when it adds something,
and the list of problem sites."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import sha256_hex, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import ERROR_CODE
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import RUNS_DIR
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import RUN_SCHEMA, load_runs
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json, store
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import (
    host_latest,
    iso,
    last_collection,
    one_line,
    outcome_key,
    utcnow,
)


# --- the ledger: collection run records ---------------------------------------------

OUTCOME_STATUSES = ("collected", "unreachable", "error", "refused")


STAGES = ("preflight", "certificate", "tls", "check", "proofs", "rotation")


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
    key = outcome_key(outcome)
    previous = hosts.get(outcome["host"]) if key is None else last.get(key)
    if previous is None or (key is None and previous.get("status") != "refused"):
        return True
    if key is not None and (hosts.get(outcome["host"]) or {}).get("status") == "refused":
        return True  # the host was refused since: its site is back
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
        record = {"schema": RUN_SCHEMA, "run_id": name[:-5], "controller": controller, "finished_at": iso(now),
                  "sequence": sequence,
                  "outcomes": sorted(outcomes, key=lambda o: (
                      o["institution_id"] or "", o["site_id"] or "", o["host"] or ""))}
        path = os.path.join(archive, RUNS_DIR, name)
        store(path, canonical_json(record), write_new)
    return relative
