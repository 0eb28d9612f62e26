# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SVG charts of ``report.html``: sites by status, days left, expiries by month, a site's trend."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import html_text as html_escape
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.html_text import when
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.ledger import parse_time, utcnow


DAY_BUCKETS = (("expired", None, 0), ("< 14", 0, 14), ("14-29", 14, 30), ("30-89", 30, 90),
               ("90-179", 90, 180), ("180-364", 180, 365), ("365+", 365, None))


def status_chart(summary, text):
    """Stacked bar of sites by status with a legend (SVG)."""
    parts = (("passed", text["cards"]["passed"], "#1a7f37"), ("failed", text["cards"]["failed"], "#c62828"),
             ("no_proof", text["cards"]["no_proof"], "#6b7280"))
    if summary.get("error"):
        parts += (("error", text["cards"]["error"], "#8b0000"),)
    total = max(summary["sites"], 1)
    width, x = 360.0, 0.0
    bars, legend = [], []
    spot_x, spot_y = 0, 58
    for key, label, colour in parts:
        count = summary[key]
        share = width * count / total
        if count:
            bars.append('<rect x="%.1f" y="10" width="%.1f" height="34" fill="%s"><title>%s: %d</title></rect>'
                        % (x, share, colour, html_escape(label), count))
            if share >= 24:
                bars.append('<text x="%.1f" y="32" fill="#fff" font-size="13" font-weight="700" text-anchor="middle">'
                            '%d</text>' % (x + share / 2, count))
        x += share
        entry = "%s %d (%d%%)" % (label, count, round(100.0 * count / total))
        room = 16 + 7 * len(entry) + 14  # box, text at about 7 px a character, gap
        if spot_x and spot_x + room > 380:
            spot_x, spot_y = 0, spot_y + 20
        legend.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d" font-size="12">'
                      '%s</text>' % (spot_x, spot_y, colour, spot_x + 16, spot_y + 11, html_escape(entry)))
        spot_x += room
    if not summary["sites"]:
        bars.append('<rect x="0" y="10" width="360" height="34" fill="#eaeef2"/>'
                    '<text x="180" y="32" font-size="12" text-anchor="middle">%s</text>' % html_escape(text["no_sites"]))
    height = spot_y + 22
    return ('<svg id="chart-status" role="img" aria-label="%s" '
            'width="380" height="%d" viewBox="0 0 380 %d" xmlns="http://www.w3.org/2000/svg">%s%s</svg>'
            % (html_escape(text["chart_aria"] % (summary["passed"], summary["failed"], summary["no_proof"])), height, height,
               "".join(bars), "".join(legend)))


def days_chart(sites, warn_days, text):
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
        shown = text["expired_bucket"] if low is None else label
        bars.append('<rect x="%d" y="%.1f" width="40" height="%.1f" fill="%s"><title>%s</title>'
                    '</rect><text x="%d" y="%.1f" font-size="12" text-anchor="middle">%d</text>'
                    '<text x="%d" y="128" font-size="11" text-anchor="middle">%s</text>'
                    % (x, 104 - height, height, colour, html_escape(text["chart_days_title"] % (shown, count)), x + 20,
                       100 - height, count, x + 20, html_escape(shown)))
    return ('<svg id="chart-days" role="img" aria-label="%s" width="380" height="140" '
            'viewBox="0 0 380 140" xmlns="http://www.w3.org/2000/svg"><line x1="4" y1="104.5" x2="374" y2="104.5" '
            'stroke="#8c959f"/>%s</svg>' % (html_escape(text["chart_days_aria"]), "".join(bars)))


MONTHS_AHEAD = 12


def months_chart(sites, generated_at, warn_days, text):
    """Sites by the month their certificate expires, for this month and the next eleven, then later (SVG).

    The months count from the report's own time, so that the same archive gives the same page.
    """
    start = parse_time(generated_at) or utcnow()
    months = []
    year, month = start.year, start.month
    for dummy in range(MONTHS_AHEAD):
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    counts = dict((key, 0) for key in months)
    later = 0
    for site in sites:
        moment = parse_time(site.get("certificate_not_after"))
        if moment is None or moment < start:
            continue  # no certificate known, or already expired: the days chart shows those
        key = (moment.year, moment.month)
        if key in counts:
            counts[key] += 1
        else:
            later += 1
    columns = [("%04d-%02d" % key, "%02d" % key[1], "%04d" % key[0] if key[1] == 1 or number == 0 else "",
                counts[key]) for number, key in enumerate(months)]
    columns.append((text["later"], text["later"], "", later))
    peak = max([count for dummy, dummy2, dummy3, count in columns] + [1])
    bars = []
    for number, (name, label, year_label, count) in enumerate(columns):
        days_away = number * 30
        colour = ("#c62828" if days_away < 14 else "#b26a00" if days_away < max(warn_days, 30) else "#1a7f37")
        height = 90.0 * count / peak
        x = 8 + number * 28
        bars.append('<rect x="%d" y="%.1f" width="22" height="%.1f" fill="%s"><title>%s</title></rect>'
                    '<text x="%d" y="%.1f" font-size="11" text-anchor="middle">%s</text>'
                    '<text x="%d" y="120" font-size="10" text-anchor="middle">%s</text>'
                    '<text x="%d" y="133" font-size="10" text-anchor="middle" fill="#57606a">%s</text>'
                    % (x, 104 - height, height, colour, html_escape(text["chart_months_title"] % (name, count)), x + 11,
                       100 - height, count if count else "", x + 11, html_escape(label if number < MONTHS_AHEAD else "+"),
                       x + 11, html_escape(year_label)))
    return ('<svg id="chart-months" role="img" aria-label="%s" width="380" height="140" viewBox="0 0 380 140" '
            'xmlns="http://www.w3.org/2000/svg"><line x1="4" y1="104.5" x2="374" y2="104.5" stroke="#8c959f"/>%s'
            '</svg>' % (html_escape(text["chart_months_aria"]), "".join(bars)))


# A trend mark: a fixed size, whatever the check's duration (in the mark's title), so that a fast failure is as
# visible as a slow pass.
TREND_MARK_WIDTH = 8
TREND_MARK_HEIGHT = 14
TREND_MARK_STEP = 11


def trend_svg(trend, text):
    """The site's last checks as marks of one size, oldest first: green passed, red failed (and crossed, for those
    who cannot tell the colours apart); each mark's title gives its time and duration."""
    if not trend:
        return ""
    marks = []
    for number, point in enumerate(trend):
        outcome = text["trend_passed"] if point["passed"] else text["trend_failed"]
        took = "?" if point["ms"] is None else "%.0f" % point["ms"]
        x = number * TREND_MARK_STEP
        cross = ""
        if not point["passed"]:
            cross = ('<path d="M%d 4l%d %dM%d 4l-%d %d" stroke="#fff" stroke-width="1.5"/>'
                     % (x + 1, TREND_MARK_WIDTH - 2, TREND_MARK_HEIGHT - 8, x + TREND_MARK_WIDTH - 1,
                        TREND_MARK_WIDTH - 2, TREND_MARK_HEIGHT - 8))
        marks.append('<g class="%s"><title>%s</title><rect x="%d" y="0" width="%d" height="%d" rx="1.5" fill="%s"/>%s</g>'
                     % ("passed" if point["passed"] else "failed", html_escape(text["trend_bar"] % (when(point["at"]), outcome, took)),
                        x, TREND_MARK_WIDTH, TREND_MARK_HEIGHT, "#1a7f37" if point["passed"] else "#c62828", cross))
    width = TREND_MARK_STEP * (len(trend) - 1) + TREND_MARK_WIDTH
    return ('<div class="trend"><svg role="img" aria-label="%s" width="%d" height="%d" viewBox="0 0 %d %d" '
            'xmlns="http://www.w3.org/2000/svg">%s</svg></div>'
            % (html_escape(text["trend_title"] % len(trend)), width, TREND_MARK_HEIGHT, width, TREND_MARK_HEIGHT,
               "".join(marks)))
