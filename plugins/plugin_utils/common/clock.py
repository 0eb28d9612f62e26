# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A site's clock compared with the controller's (eeszt.connect.tls_clock_skew, eeszt.connect.tls_files)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

REMEDY = ("TLS handshakes fail when a certificate looks expired or not yet valid to one side: "
          "synchronise the site's clock (NTP: chrony or systemd-timesyncd)")


def skew_bounds(site_seconds, before, after):
    """Smallest clock difference (site minus controller, seconds) the sample allows.

    ``site_seconds`` is the site's whole-second Unix time read at some moment
    between the controller times ``before`` and ``after``; so the difference
    lies in (site - after, site + 1 - before). Returns 0 when that interval
    contains 0, else its end nearest to 0: never more than the real skew.
    """
    low = site_seconds - after
    high = site_seconds + 1 - before
    if low > 0:
        return low
    if high < 0:
        return high
    return 0.0


def describe(skew):
    return "%d s %s" % (round(abs(skew)), "ahead of" if skew > 0 else "behind")


def compare_clocks(site, before, after, max_skew, on_skew):
    """The comparison as a result: ``site_time``, ``controller_time``, ``round_trip``, ``skew``, ``max_skew``,
    ``within_limit`` and ``msg``; over the limit also ``warnings`` (``on_skew`` warn) or ``failed`` and
    ``error`` ``clock_skew`` (``on_skew`` fail)."""
    skew = round(skew_bounds(site, before, after), 3)
    within = abs(skew) <= max_skew
    result = dict(
        site_time=site,
        controller_time=round((before + after) / 2, 3),
        round_trip=round(after - before, 3),
        skew=skew,
        max_skew=max_skew,
        within_limit=within,
    )
    if within:
        result["msg"] = "the site's clock is within %d s of the controller's (%s)" % (
            max_skew, describe(skew) if skew else "no measurable skew")
        return result
    message = "the site's clock is %s the controller's (limit %d s); %s" % (describe(skew), max_skew, REMEDY)
    result["msg"] = message
    if on_skew == "fail":
        result["failed"] = True
        result["error"] = "clock_skew"
    else:
        result["warnings"] = [message]
    return result
