# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet report, rebuilt from the archive's contents alone.

``scan_archive`` reads every proof and seal on disk and the collection run
records (the ledger); ``build_index`` turns that into the index (every proof,
the latest per site, pass/fail, certificate expiry); the ``render_*``
functions make ``report.csv``, ``report.html`` (self-contained: inline CSS,
SVG charts and a little JavaScript for sorting; no network) and
``junit.xml``; ``build_bundles`` makes one eKapu upload bundle per
institution. Because nothing comes from a play's memory, archives of partial
runs, re-runs and other controllers merge into one report.

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

from ansible_collections.eeszt.connect.plugins.module_utils.proofs_common import (
    INDEX_SCHEMA,
    RUN_SCHEMA,
    RUNS_DIR,
    SEAL_SUFFIX,
    UPLOAD_DIR,
    ProofsError,
    canonical_json,
    ensure_dir,
    iter_archive_files,
    load_runs,
    parse_proof,
    read_bytes,
    sha256_hex,
    write_if_changed,
    write_new,
)

STATUS_ORDER = {"failed": 0, "no_proof": 1, "passed": 2}
DAY_BUCKETS = (("expired", None, 0), ("< 14", 0, 14), ("14-29", 14, 30), ("30-89", 30, 90),
               ("90-179", 90, 180), ("180-364", 180, 365), ("365+", 365, None))
CSV_COLUMNS = ("institution_id", "site_id", "host", "status", "failure_category", "failure_message", "hint",
               "proof", "finished_at", "certificate_not_after", "certificate_days_left", "certificate_serial",
               "sealed", "proofs", "last_collection", "last_collection_at", "last_collection_message")
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
    return {"proofs": proofs, "orphan_seals": orphans, "runs": load_runs(archive)}


def ledger(runs):
    """{relative path: sha256 at archive time} from the run records."""
    known = {}
    for run in runs:
        for outcome in run.get("outcomes") or []:
            for item in outcome.get("archived") or []:
                if item.get("path") and item.get("sha256"):
                    known[item["path"].replace(os.sep, "/")] = item["sha256"]
    return known


def last_collection(runs):
    """{(institution_id, site_id): the latest outcome of a collection run for that site}."""
    latest = {}
    for run in runs:
        for outcome in run.get("outcomes") or []:
            key = ("%s" % outcome.get("institution_id"), "%s" % outcome.get("site_id"))
            record = dict(outcome)
            record["at"] = run.get("finished_at")
            record["run"] = run.get("run_id")
            latest[key] = record
    return latest


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
        "sha256": entry["sha256"],
        "sealed": entry["sealed"],
        "status": "present" if entry["document"] else "unreadable",
    }


def build_index(scan, now=None, warn_days=30):
    """The index document (without generated_at) built from scan_archive()."""
    now = now or utcnow()
    known = ledger(scan["runs"])
    collections = last_collection(scan["runs"])
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
    for key in collections:
        sites.setdefault(key, [])
    site_rows = []
    for (institution, site), proofs in sorted(sites.items()):
        site_rows.append(_site_row(institution, site, proofs, entries, collections.get((institution, site)), now))
    site_rows.sort(key=lambda s: (STATUS_ORDER[s["status"]], s["institution_id"], s["site_id"]))

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
    }
    return {
        "schema": INDEX_SCHEMA,
        "summary": summary,
        "sites": site_rows,
        "proofs": rows,
        "orphan_seals": scan["orphan_seals"],
        "runs": [r["_file"] for r in scan["runs"]],
        "verify_command": VERIFY_COMMAND,
    }


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


def content_digest(index):
    return sha256_hex(canonical_json(index))


# --- CSV, JUnit -----------------------------------------------------------------

def _csv_row(site):
    failure = site["failure"] or {}
    collection = site["collection"] or {}
    return {
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


def render_csv(index):
    stream = io.StringIO()
    writer = csv.DictWriter(stream, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for site in index["sites"]:
        writer.writerow(_csv_row(site))
    return stream.getvalue().encode("utf-8")


def render_junit(index, generated_at):
    summary = index["summary"]
    failures = summary["failed"] + sum(1 for s in index["sites"] if s["status"] == "no_proof"
                                       and (s["collection"] or {}).get("status") not in ("unreachable", "error"))
    errors = sum(1 for s in index["sites"] if s["status"] == "no_proof"
                 and (s["collection"] or {}).get("status") in ("unreachable", "error"))
    lines = ['<?xml version="1.0" encoding="UTF-8"?>',
             '<testsuites name="eeszt.connect proofs" tests="%d" failures="%d" errors="%d">'
             % (len(index["sites"]), failures, errors),
             '  <testsuite name="eeszt.connect connection proofs" tests="%d" failures="%d" errors="%d" '
             'skipped="0" timestamp=%s>' % (len(index["sites"]), failures, errors, quoteattr(generated_at))]
    for site in sorted(index["sites"], key=lambda s: (s["institution_id"], s["site_id"])):
        name = site["site_id"] + (" (%s)" % site["host"] if site["host"] else "")
        classname = quoteattr("eeszt.institution_%s" % site["institution_id"])
        head = '    <testcase classname=%s name=%s' % (classname, quoteattr(name))
        collection = site["collection"] or {}
        if site["status"] == "passed":
            lines.append(head + ' file=%s/>' % quoteattr(site["latest"]))
            continue
        lines.append(head + (' file=%s>' % quoteattr(site["latest"]) if site["latest"] else '>'))
        if site["status"] == "failed":
            failure = site["failure"] or {}
            text = "%s\nhint: %s\nproof: %s" % (failure.get("message") or "", failure.get("hint") or "", site["latest"])
            lines.append('      <failure type=%s message=%s>%s</failure>' % (
                quoteattr(failure.get("category") or "failed"), quoteattr(failure.get("message") or "check failed"),
                escape(text)))
        elif collection.get("status") in ("unreachable", "error"):
            message = collection.get("message") or "the site could not be collected"
            lines.append('      <error type=%s message=%s>%s</error>' % (
                quoteattr(collection["status"]), quoteattr(message), escape(message)))
        else:
            lines.append('      <failure type="no_proof" message="no proof in the archive">No connection check '
                         'proof of this site is in the archive: run check_connection.yml and collect_proofs.yml.'
                         '</failure>')
        lines.append('    </testcase>')
    lines += ['  </testsuite>', '</testsuites>', '']
    return "\n".join(lines).encode("utf-8")


# --- upload bundles -----------------------------------------------------------------

def _zip_time(text):
    moment = _parse_time(text) or datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc)
    moment = max(moment, datetime.datetime(1980, 1, 1, tzinfo=datetime.timezone.utc))
    return moment.timetuple()[:6]


def build_bundle(archive, institution, sites):
    """The eKapu upload bundle (zip bytes) of one institution, or None without a passing proof."""
    chosen = [s for s in sites if s["latest_passing"]]
    if not chosen:
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
                data = read_bytes(source)
                member = "%s/%s" % (site["site_id"], os.path.basename(source))
                info = zipfile.ZipInfo(member, date_time=_zip_time(site["finished_at"]))
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                bundle.writestr(info, data)
                sums.append("%s  %s" % (sha256_hex(data), member))
        info = zipfile.ZipInfo("SHA256SUMS", date_time=_zip_time(max(s["finished_at"] or "" for s in chosen)))
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        bundle.writestr(info, "\n".join(sums) + "\n")
    return stream.getvalue()


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
th,td{border-bottom:1px solid var(--line);padding:6px 6px;text-align:left;vertical-align:top}
td.msg{min-width:240px}
td.when{white-space:nowrap}
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
.badge.unreachable,.badge.error{background:var(--warn)}
.hint{color:#57606a;font-size:12.5px}
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


def _status_chart(summary):
    """Stacked bar of sites by status with a legend (SVG)."""
    parts = (("passed", "Passed", "#1a7f37"), ("failed", "Failed", "#c62828"), ("no_proof", "No proof", "#6b7280"))
    total = max(summary["sites"], 1)
    width, x = 360.0, 0.0
    bars, legend = [], []
    for index, (key, label, colour) in enumerate(parts):
        count = summary[key]
        share = width * count / total
        if count:
            bars.append('<rect x="%.1f" y="10" width="%.1f" height="34" fill="%s"><title>%s: %d</title></rect>'
                        % (x, share, colour, label, count))
            if share >= 24:
                bars.append('<text x="%.1f" y="32" fill="#fff" font-size="13" font-weight="700" text-anchor="middle">'
                            '%d</text>' % (x + share / 2, count))
        x += share
        legend.append('<rect x="%d" y="58" width="12" height="12" fill="%s"/><text x="%d" y="69" font-size="12">'
                      '%s %d (%d%%)</text>' % (index * 122, colour, index * 122 + 16, label, count,
                                               round(100.0 * count / total)))
    if not summary["sites"]:
        bars.append('<rect x="0" y="10" width="360" height="34" fill="#eaeef2"/>'
                    '<text x="180" y="32" font-size="12" text-anchor="middle">no sites yet</text>')
    return ('<svg id="chart-status" role="img" aria-label="Sites by status: %d passed, %d failed, %d without proof" '
            'width="380" height="80" viewBox="0 0 380 80" xmlns="http://www.w3.org/2000/svg">%s%s</svg>'
            % (summary["passed"], summary["failed"], summary["no_proof"], "".join(bars), "".join(legend)))


def _days_chart(sites, warn_days):
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
        bars.append('<rect x="%d" y="%.1f" width="40" height="%.1f" fill="%s"><title>%s days: %d site(s)</title>'
                    '</rect><text x="%d" y="%.1f" font-size="12" text-anchor="middle">%d</text>'
                    '<text x="%d" y="128" font-size="11" text-anchor="middle">%s</text>'
                    % (x, 104 - height, height, colour, label, count, x + 20, 100 - height, count, x + 20,
                       escape(label)))
    return ('<svg id="chart-days" role="img" aria-label="Sites by certificate days left" width="380" height="140" '
            'viewBox="0 0 380 140" xmlns="http://www.w3.org/2000/svg"><line x1="4" y1="104.5" x2="374" y2="104.5" '
            'stroke="#8c959f"/>%s</svg>' % "".join(bars))


def _when(text):
    """'2026-11-25T10:00:02Z' -> '2026-11-25 10:00' for people; sorting uses the ISO text."""
    return (text or "")[:16].replace("T", " ")


def _site_html(site):
    failure = site["failure"] or {}
    collection = site["collection"] or {}
    status = site["status"]
    label = {"passed": "passed", "failed": "failed", "no_proof": "no proof"}[status]
    badges = '<span class="badge %s">%s</span>' % (status, label)
    if collection.get("status") in ("unreachable", "error"):
        badges += ' <span class="badge %s">%s</span>' % (collection["status"], collection["status"])
    days = site["certificate_days_left"]
    days_class = "num" if days is None or days >= 30 else "num bad" if days < 14 else "num warn"
    problem = ""
    if failure:
        problem = "%s<div class=\"hint\">%s</div>" % (_h(failure.get("message")), _h(failure.get("hint")))
    if collection.get("status") in ("unreachable", "error"):
        problem += "<div class=\"hint\">Last collection: %s</div>" % _h(collection.get("message"))
    elif status == "no_proof":
        problem = "No proof collected yet."
    last = ""
    if collection:
        last = "%s<div class=\"hint\">%s</div>" % (_h(collection.get("status")), _h(_when(collection.get("at"))))
    return ('<tr class="%s"><td data-sort="%d">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="msg">%s</td><td class="when" data-sort="%s">%s</td><td class="%s" data-sort="%s">%s</td>'
            '<td class="when">%s</td><td class="when" data-sort="%s">%s</td></tr>'
            % (status, STATUS_ORDER[status], badges, _h(site["institution_id"]), _h(site["site_id"]),
               _h(site["host"]), _h(failure.get("category")), problem, _h(site["finished_at"]),
               _h(_when(site["finished_at"])), days_class, "" if days is None else days, "" if days is None else days,
               _h((site["certificate_not_after"] or "")[:10]), _h(collection.get("at")), last))


def render_html(index, generated_at, title="EESZT connection proofs"):
    summary = index["summary"]
    cards = [
        ("", "Sites", summary["sites"]), ("ok", "Passed", summary["passed"]), ("bad", "Failed", summary["failed"]),
        ("none", "No proof", summary["no_proof"]), ("warn" if summary["unreachable"] else "", "Unreachable", summary["unreachable"]),
        ("warn" if summary["certificates_expiring"] else "", "Certs < %d days" % summary["warn_days"],
         summary["certificates_expiring"]),
        ("bad" if summary["certificates_expired"] else "", "Certs expired", summary["certificates_expired"]),
    ]
    cards_html = "".join('<div class="card %s"><b>%d</b>%s</div>' % (cls, value, _h(label))
                         for cls, label, value in cards)
    headers = (("Status", "number"), ("Institution", "text"), ("Site", "text"), ("Host", "text"),
               ("Failure", "text"), ("Message and hint", "text"), ("Checked (UTC)", "text"),
               ("Cert. days left", "number"), ("Cert. expires", "text"), ("Collected (UTC)", "text"))
    head_html = "".join('<th scope="col" data-type="%s"><button type="button">%s</button></th>' % (kind, _h(label))
                        for label, kind in headers)
    rows_html = "\n".join(_site_html(site) for site in index["sites"])
    if not index["sites"]:
        rows_html = '<tr><td colspan="10">No proofs in the archive yet.</td></tr>'
    problems = []
    if summary["missing_proofs"]:
        problems.append("%d proof(s) recorded in the ledger are missing from the archive" % summary["missing_proofs"])
    if summary["unsealed_proofs"]:
        problems.append("%d proof(s) have no seal" % summary["unsealed_proofs"])
    problems_html = "".join('<p class="bad">%s: run <code>playbooks/verify_proofs.yml</code>.</p>' % _h(p)
                            for p in problems)
    return ("""<!DOCTYPE html>
<html lang="en">
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
<div class="meta">Fleet report built from the proof archive at %(generated)s UTC &middot; %(institutions)d institution(s),
%(proofs)d proof(s)</div>
</header>
<main>
<section class="cards" aria-label="Summary">%(cards)s</section>
%(problems)s
<section class="charts">
<figure><figcaption>Sites by status (latest proof)</figcaption>%(status_chart)s</figure>
<figure><figcaption>Client certificates by days left</figcaption>%(days_chart)s</figure>
</section>
<h2>Sites</h2>
<p class="meta">Failed sites first. Click a column heading to sort.</p>
<table id="sites">
<thead><tr>%(head)s</tr></thead>
<tbody>
%(rows)s
</tbody>
</table>
</main>
<footer>
<p>Every proof in the archive carries a detached CMS seal (<code>.p7s</code>). Check one with
<code>%(verify)s</code>, or all of them with <code>ansible-playbook eeszt.connect.verify_proofs</code>.
The machine-readable report is <code>index.json</code> (also <code>report.csv</code>, <code>junit.xml</code>);
eKapu upload bundles are in <code>upload/</code>.</p>
</footer>
<script>%(js)s</script>
</body>
</html>
""" % {"title": _h(title), "css": _CSS, "generated": _h(generated_at), "institutions": summary["institutions"],
       "proofs": summary["proofs"], "cards": cards_html, "problems": problems_html,
       "status_chart": _status_chart(summary), "days_chart": _days_chart(index["sites"], summary["warn_days"]),
       "head": head_html, "rows": rows_html, "verify": _h(VERIFY_COMMAND), "js": _JS}).encode("utf-8")


# --- the ledger: collection run records ---------------------------------------------

OUTCOME_STATUSES = ("collected", "unreachable", "error")
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


def normalize_outcome(outcome):
    """One site's outcome of a collection run, reduced to the fields the ledger keeps."""
    status = outcome.get("status")
    if status not in OUTCOME_STATUSES:
        raise ProofsError("collection outcome status must be one of %s, got %r" % (", ".join(OUTCOME_STATUSES), status))
    archived = []
    for item in outcome.get("archived") or []:
        archived.append(dict((k, item.get(k)) for k in ("path", "sha256", "seal", "signer")))
    return {
        "host": outcome.get("host"),
        "institution_id": "%s" % outcome.get("institution_id"),
        "site_id": "%s" % outcome.get("site_id"),
        "status": status,
        "message": one_line(outcome.get("reason") or outcome.get("message")),
        "archived": archived,
    }


def problem_sites(index):
    """``INSTITUTION/SITE (host): why`` for each site of an index that did not pass or was not collected.

    A site is listed once: with its collection status and message when its last collection was
    "unreachable" or "error", else with the failure category of its latest proof, or as without proof.
    """
    problems = []
    for site in index["sites"]:
        collection = site.get("collection") or {}
        if collection.get("status") in ("unreachable", "error"):
            why = "%s: %s" % (collection["status"], collection.get("message") or "no reason recorded")
        elif site["status"] == "failed":
            why = "check failed: %s" % ((site.get("failure") or {}).get("category") or "unknown")
        elif site["status"] == "no_proof":
            why = "no proof"
        else:
            continue
        problems.append("%s/%s (%s): %s" % (site["institution_id"], site["site_id"], site.get("host") or "-", why))
    return problems


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
    news = [o for o in outcomes if o["archived"] or (o["institution_id"], o["site_id"]) not in last
            or last[(o["institution_id"], o["site_id"])].get("status") != o["status"]
            or (last[(o["institution_id"], o["site_id"])].get("message") or None) != o["message"]]
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
                  "outcomes": sorted(outcomes, key=lambda o: (o["institution_id"], o["site_id"], o["host"] or ""))}
        path = os.path.join(archive, RUNS_DIR, name)
        ensure_dir(os.path.dirname(path))
        write_new(path, canonical_json(record))
    return relative


# --- writing everything -----------------------------------------------------------

def build_report(archive, now=None, warn_days=30, bundles=True, title="EESZT connection proofs", check_mode=False):
    """Rebuild every report file of the archive; returns (changed files, index).

    generated_at changes only when the content does, so a re-run on an
    unchanged archive (on the same day) writes nothing.
    """
    now = now or utcnow()
    index = build_index(scan_archive(archive), now=now, warn_days=warn_days)
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
        ("report.html", render_html(index, generated_at, title)),
        ("junit.xml", render_junit(index, generated_at)),
    ]
    if bundles:
        by_institution = {}
        for site in index["sites"]:
            by_institution.setdefault(site["institution_id"], []).append(site)
        for institution, sites in sorted(by_institution.items()):
            data = build_bundle(archive, institution, sites)
            if data is not None:
                outputs.append(("%s/%s_ekapu.zip" % (UPLOAD_DIR, institution), data))
    changed = []
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
