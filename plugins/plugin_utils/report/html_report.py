# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``report.html``: self-contained (inline CSS, SVG charts, a little JavaScript for sorting; no network)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Every value in the page is escaped with html_escape, which also replaces what HTML forbids (NUL, C0 controls
# but whitespace, C1 controls, noncharacters, lone surrogates) by U+FFFD (common/safe_text.py).
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import html_text as html_escape
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.bundles import VERIFY_COMMAND
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.charts import (
    days_chart,
    months_chart,
    status_chart,
    trend_svg,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.html_text import (
    CSS,
    JS,
    PAGE_PADDING_PX,
    TEXT,
    TILE_GAP_PX,
    TILE_MIN_PX,
    when,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.index import STATUS_ORDER
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import PAGE as INCIDENT_WORDS
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import describe as describe_incident


def _when_html(moment):
    """A time of a table cell, as when() writes it, that a narrow column breaks after the date only."""
    day, dummy, clock = when(moment).partition(" ")
    return '<span class="day">%s</span> %s' % (html_escape(day), html_escape(clock)) if clock else html_escape(day)


def _age(days, text):
    if days is None:
        return ""
    return text["today"] if days == 0 else text["days_ago"] % days


def _site_html(site, text):
    failure = site["failure"] or {}
    collection = site["collection"] or {}
    rotation = site["rotation"] or {}
    status = site["status"]
    badges = '<span class="badge %s">%s</span>' % (status, html_escape(text["status"][status]))
    trend = trend_svg(site.get("trend") or [], text)
    if collection.get("status") in ("unreachable", "error"):
        badges += ' <span class="badge %s">%s</span>' % (collection["status"],
                                                         html_escape(text["collection"][collection["status"]]))
    days = site["certificate_days_left"]
    days_class = "num" if days is None or days >= 30 else "num bad" if days < 14 else "num warn"
    failure_cell = ""
    if failure:
        # An error code breaks after its underscores, never inside a word.
        failure_cell = "<span title=\"%s\">%s</span><div class=\"hint\">%s</div>" % (
            html_escape(failure.get("category")), html_escape(failure.get("category")).replace("_", "_<wbr>"),
            html_escape(text["stage"].get(failure.get("stage"), failure.get("stage"))))
        if failure.get("endpoint"):
            # The endpoint (its name in eeszt_endpoints) whose check failed.
            failure_cell += "<div class=\"hint endpoint\">%s</div>" % html_escape(text["endpoint"] % failure["endpoint"])
    problem = ""
    if failure:
        problem = html_escape(failure.get("message"))
        if failure.get("hint"):
            problem += "<div class=\"hint\">%s</div>" % html_escape(failure["hint"])
        if failure.get("at") and failure.get("stage") != "check":
            problem += "<div class=\"hint when\">%s</div>" % html_escape(when(failure["at"]))
    if collection.get("status") in ("unreachable", "error") and collection.get("message") != failure.get("message"):
        problem += "<div class=\"hint\">%s</div>" % html_escape(text["last_collection"] % collection.get("message"))
    elif status == "no_proof" and not failure:
        problem = html_escape(text["no_proof_yet"])
    if site["bundle_outdated"]:
        problem += "<div class=\"hint warn\">%s</div>" % html_escape(text["bundle_outdated"] % when(site["latest_passing_at"]))
    latest = ""
    if site["latest"]:
        latest = "%s<div class=\"hint\">%s%s</div>" % (
            _when_html(site["finished_at"]), html_escape(_age(site["proof_age_days"], text)),
            ' <span class="badge stale">%s</span>' % html_escape(text["stale"]) if site["stale"] else "")
    history = html_escape(text["never"]) if site["latest"] else ""
    if site["latest_passing"]:
        history = "%s<div class=\"hint\">%s</div>" % (_when_html(site["latest_passing_at"]),
                                                      html_escape(_age(site["latest_passing_age_days"], text)))
    rotation_cell = ""
    if rotation:
        kind = "failed_rotation" if rotation.get("status") == "failed" else rotation.get("status") or ""
        rotation_cell = '<span class="badge %s" title="%s">%s</span><div class="hint">%s</div>' % (
            html_escape(kind), html_escape(rotation.get("message")),
            html_escape(text["rotation"].get(rotation.get("status"), rotation.get("status"))),
            _when_html(rotation.get("at")))
    last = ""
    if collection:
        last = "%s<div class=\"hint\">%s</div>" % (
            html_escape(text["collection"].get(collection.get("status"), collection.get("status"))),
            _when_html(collection.get("at")))
    environment = text["environment"].get(site["environment"], site["environment"])
    expires = ""
    if days is not None or site["certificate_not_after"]:
        expires = "%s<div class=\"hint when\">%s</div>" % (
            "" if days is None else days, html_escape((site["certificate_not_after"] or "")[:10]))
    return ('<tr class="%s"><td data-sort="%d">%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td>'
            '<td class="code">%s</td><td class="msg">%s</td><td class="when" data-sort="%s">%s</td>'
            '<td class="when" data-sort="%s">%s</td><td data-sort="%s">%s</td><td class="%s" data-sort="%s">%s</td>'
            '<td class="when" data-sort="%s">%s</td></tr>'
            % (status, STATUS_ORDER[status], badges + trend, html_escape(site["institution_id"]), html_escape(site["site_id"]),
               html_escape(site["host"]), html_escape(environment), failure_cell, problem, html_escape(site["finished_at"]), latest,
               html_escape(site["latest_passing_at"]), history, html_escape(rotation.get("status")), rotation_cell, days_class,
               "" if days is None else days, expires, html_escape(collection.get("at")), last))


def _refused_html(refused, text):
    if not refused:
        return ""
    items = "".join('<li><b>%s</b>: %s%s<div class="hint">%s</div></li>' % (
        html_escape(entry["host"]), "<code>%s</code> " % html_escape(entry["error"]) if entry.get("error") else "",
        html_escape(entry.get("message")), html_escape(when(entry.get("at")))) for entry in refused)
    return ('<section id="refused"><h2>%s</h2><p class="meta">%s</p><ul class="msg">%s</ul></section>'
            % (html_escape(text["refused_title"]), html_escape(text["refused_note"]), items))


def _unusable_files_html(index, text):
    """Files the report did not use: invalid files in the site folders, and the quarantine (sent by sites)."""
    invalid, quarantined = index.get("invalid_files") or [], index.get("quarantine") or []
    if not invalid and not quarantined:
        return ""
    words = text["unusable"]
    items = ["<li><code>%s</code>: %s</li>" % (html_escape(entry["path"]), html_escape(entry["reason"]))
             for entry in invalid]
    items += ["<li><code>%s</code> (%s %s, %s): %s</li>" % (
        html_escape(entry["path"]), html_escape(words["host"]), html_escape(entry.get("host") or "?"),
        html_escape(when(entry.get("at"))), html_escape(entry.get("reason"))) for entry in quarantined]
    return ('<section id="unusable-files"><h2>%s</h2><p class="meta">%s</p><ul class="msg">%s</ul></section>'
            % (html_escape(words["title"]), html_escape(words["note"]), "".join(items)))


def _operator_files_html(index, text):
    """The section of report.html that lists each site's operator files and the ones refused."""
    rows, refused = index.get("operator_files") or [], index.get("operator_refused") or []
    if not rows and not refused:
        return ""
    words = text["operator"]
    parts = ['<h2 id="operator-files">%s</h2>' % html_escape(words["title"]), '<p class="meta">%s</p>' % html_escape(words["note"])]
    if rows:
        parts.append('<table id="operator"><thead><tr>%s</tr></thead><tbody>'
                     % "".join('<th scope="col">%s</th>' % html_escape(column) for column in words["columns"]))
        for row in rows:
            status = words["status"].get(row["status"], row["status"])
            if not row["sealed"] and row["status"] != "missing":
                status = "%s, %s" % (status, words["no_seal"])
            parts.append('<tr class="operator-%s"><td>%s</td><td>%s</td><td title="%s">%s</td><td class="num">%s</td>'
                         '<td><code>%s</code></td><td class="when">%s</td><td>%s</td></tr>'
                         % (html_escape(row["status"]), html_escape(row["institution_id"]), html_escape(row["site_id"]), html_escape(row["source"]),
                            html_escape(row["name"]), html_escape(row["size"]), html_escape(row["sha256"]), _when_html(row["collected_at"]),
                            html_escape(status)))
        parts.append('</tbody></table>')
    for item in refused:
        parts.append('<p class="warn">%s %s/%s: %s %s</p>'
                     % (html_escape(words["not_collected"]), html_escape(item["institution_id"]), html_escape(item["site_id"]), html_escape(item["path"]),
                        html_escape(item["reason"])))
    return "\n".join(parts)


def tile_columns(count):
    """The layouts the ``count`` tiles may take, fewest columns first, as (columns, span of the first tile): every
    row full but the last, which holds at least two tiles (or all tiles on one row). Where one tile would be left
    alone, the first tile (all sites) spans two columns, if the rows have three or more."""
    layouts = []
    for rows in range(1, count + 1):
        columns = -(-count // rows)
        last = count - (-(-count // columns) - 1) * columns
        if columns == count or last >= 2:
            layout = (columns, 1)
        elif columns >= 3:
            layout = (columns, 2)
        else:
            continue
        if layout[0] not in [known for known, dummy in layouts]:
            layouts.append(layout)
    return sorted(layouts) or [(1, 1)]


def tiles_css(count):
    """CSS that sets the tiles' layout per window width: the fewest columns at the narrowest, then each larger
    number from the width where that many tiles of TILE_MIN_PX fit (with the page's padding and a scroll bar)."""
    layouts = tile_columns(count)
    rule = ".cards{--tile-columns:%d;--first-tile-span:%d}"
    rules = [rule % layouts[0]]
    for columns, span in layouts[1:]:
        width = columns * TILE_MIN_PX + (columns - 1) * TILE_GAP_PX + 2 * PAGE_PADDING_PX + 20
        rules.append("@media (min-width:%dpx){%s}" % (width, rule % (columns, span)))
    return "\n".join(rules)


def _incidents_html(index, language):
    """The section that opens the page: one block per open incident, in the page's language; empty without one."""
    incidents = [incident for incident in index.get("incidents") or [] if isinstance(incident, dict)]
    if not incidents:
        return ""
    words = INCIDENT_WORDS.get(language) or INCIDENT_WORDS["en"]
    items = []
    for number, incident in enumerate(incidents, 1):
        message, hint = describe_incident(incident, language)
        scope = words["scope"].get(incident.get("scope"), incident.get("scope"))
        key = "" if incident.get("scope") == "fleet" else " <code>%s</code>" % html_escape(incident.get("key"))
        items.append(
            '<li class="incident" style="border:1px solid var(--bad);border-left:6px solid var(--bad);border-radius:8px;'
            'padding:8px 14px;margin:0 0 10px;list-style:none"><div><b>#%d</b> <span class="badge failed">%s</span> '
            '<b>%s</b>%s &middot; %s &middot; <span class="when">%s</span></div><div class="bad">%s</div>'
            '<div><b>%s</b> %s</div><div class="hint">%s %s</div></li>'
            % (number, html_escape(incident.get("category")), html_escape(scope), key,
               html_escape(words["sites"] % (incident.get("sites") or 0, incident.get("institutions") or 0)),
               html_escape(words["since"] % when(incident.get("since"))) if incident.get("since") else "",
               html_escape(message), html_escape(words["todo"]), html_escape(hint), html_escape(words["hosts"]),
               html_escape(", ".join("%s" % host for host in incident.get("hosts") or []))))
    return ('<section id="incidents"><h2 class="bad">%s</h2><p class="meta">%s</p><ul style="padding:0;margin:0">%s</ul>'
            '</section>\n' % (html_escape(words["title"]), html_escape(words["note"]), "".join(items)))


def render_html(index, generated_at, title=None, language="en", bundles=True):
    text = TEXT[language]
    title = title or text["title"]
    summary = index["summary"]
    cards = text["cards"]
    tiles = [
        ("", cards["sites"], summary["sites"]), ("ok", cards["passed"], summary["passed"]),
        ("bad", cards["failed"], summary["failed"]), ("none", cards["no_proof"], summary["no_proof"]),
    ]
    if summary.get("error"):
        # Sites that sent a file that is no valid proof (shown only when there is one).
        tiles.append(("bad", cards["error"], summary["error"]))
    tiles += [
        ("warn" if summary["unreachable"] else "", cards["unreachable"], summary["unreachable"]),
        ("warn" if summary["stale"] else "", cards["stale"] % summary["stale_hours"], summary["stale"]),
        ("bad" if summary["refused"] else "", cards["refused"], summary["refused"]),
        ("warn" if summary["rotation_problems"] else "", cards["rotation"], summary["rotation_problems"]),
        ("warn" if summary["certificates_expiring"] else "", cards["expiring"] % summary["warn_days"],
         summary["certificates_expiring"]),
        ("bad" if summary["certificates_expired"] else "", cards["expired"], summary["certificates_expired"]),
    ]
    cards_html = "".join('<div class="card %s"><b>%d</b>%s</div>' % (cls, value, html_escape(label))
                         for cls, label, value in tiles)
    kinds = ("number", "text", "text", "text", "text", "text", "text", "text", "text", "text", "number", "text")
    head_html = "".join('<th scope="col" data-type="%s"><button type="button">%s</button></th>' % (kind, html_escape(label))
                        for label, kind in zip(text["headers"], kinds))
    rows_html = "\n".join(_site_html(site, text) for site in index["sites"])
    if not index["sites"]:
        rows_html = '<tr><td colspan="%d">%s</td></tr>' % (len(kinds), html_escape(text["no_rows"]))
    problems = []
    if summary["missing_proofs"]:
        problems.append(text["missing"] % summary["missing_proofs"])
    if summary["unsealed_proofs"]:
        problems.append(text["unsealed"] % summary["unsealed_proofs"])
    problems_html = "".join('<p class="bad">%s</p>' % (text["run_verify"] % html_escape(p)) for p in problems)
    if summary["bundle_outdated"]:
        problems_html += '<p class="warn">%s</p>' % (text["outdated_note"] % summary["bundle_outdated"])
    problems_html += _refused_html(index.get("refused") or [], text)
    problems_html += _unusable_files_html(index, text)
    return ("""<!DOCTYPE html>
<html lang="%(lang)s">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>%(title)s</title>
<style>%(css)s%(tiles_css)s</style>
</head>
<body>
<header>
<h1>%(title)s</h1>
<div class="meta">%(meta)s</div>
</header>
<main>
%(incidents)s<section class="cards" aria-label="%(summary_label)s">%(cards)s</section>
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
""" % {"lang": text["lang"], "title": html_escape(title), "css": CSS, "tiles_css": tiles_css(len(tiles)),
       "meta": text["meta"] % {"generated": html_escape(when(generated_at)), "institutions": summary["institutions"],
                               "proofs": summary["proofs"]},
       "incidents": _incidents_html(index, language),
       "summary_label": html_escape(text["summary"]), "cards": cards_html, "problems": problems_html,
       "chart_status_caption": html_escape(text["chart_status"]), "chart_days_caption": html_escape(text["chart_days"]),
       "chart_months_caption": html_escape(text["chart_months"]),
       "months_chart": months_chart(index["sites"], generated_at, summary["warn_days"], text),
       "status_chart": status_chart(summary, text), "days_chart": days_chart(index["sites"], summary["warn_days"], text),
       "sites_heading": html_escape(text["sites"]), "sites_note": html_escape(text["sites_note"] % summary["stale_hours"]),
       "head": head_html, "rows": rows_html,
       "footer": text["footer"] % {"verify": html_escape(VERIFY_COMMAND), "bundles": text["footer_bundles"] if bundles else ""},
       "js": JS, "operator": _operator_files_html(index, text),
       # The note on operator files only when the page lists some (archived ones).
       "what_it_is": text["what_it_is"] % {"operator": text["what_it_is_operator"] if index.get("operator_files") else ""},
       }).encode("utf-8")
