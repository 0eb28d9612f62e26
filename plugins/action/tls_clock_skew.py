# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.tls_clock_skew: compare a site's clock with the controller's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase

ARGUMENT_SPEC = {
    "max_skew": {"type": "int", "default": 60},
    "on_skew": {"type": "str", "default": "warn", "choices": ["warn", "fail"]},
}
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


class ActionModule(ActionBase):
    """Reads the site's clock with ``date -u +%s`` (no Python needed on the site)."""

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        _validation, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        if args["max_skew"] < 0:
            result.update(failed=True, error="usage", msg="max_skew must not be negative")
            return result
        before = time.time()
        out = self._low_level_execute_command("date -u +%s", sudoable=False)
        after = time.time()
        stdout = (out.get("stdout") or "").strip()
        if out.get("rc") != 0 or not stdout.isdigit():
            result.update(failed=True, rc=out.get("rc"), error="clock_unreadable",
                          msg="cannot read the site's clock with 'date -u +%%s': %s"
                          % ((out.get("stderr") or stdout or "no output").strip()))
            return result
        site = int(stdout)
        skew = round(skew_bounds(site, before, after), 3)
        within = abs(skew) <= args["max_skew"]
        result.update(
            changed=False,
            site_time=site,
            controller_time=round((before + after) / 2, 3),
            round_trip=round(after - before, 3),
            skew=skew,
            max_skew=args["max_skew"],
            within_limit=within,
        )
        if within:
            result["msg"] = "the site's clock is within %d s of the controller's (%s)" % (
                args["max_skew"], describe(skew) if skew else "no measurable skew")
            return result
        message = "the site's clock is %s the controller's (limit %d s); %s" % (
            describe(skew), args["max_skew"], REMEDY)
        result["msg"] = message
        if args["on_skew"] == "fail":
            result["failed"] = True
            result["error"] = "clock_skew"
        else:
            result["warnings"] = [message]
        return result
