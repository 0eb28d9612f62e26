# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The skew arithmetic of the action plugin eeszt.connect.tls_clock_skew."""

import math
import re
import time
from unittest import mock

from action_runner import run_action
from hypothesis import given
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.action.tls_clock_skew import ActionModule
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.clock import describe, skew_bounds


def test_in_sync_reports_zero():
    assert skew_bounds(1000, 1000.2, 1000.6) == 0.0
    # A slow round trip widens the window: still no false alarm.
    assert skew_bounds(1003, 1000.0, 1004.0) == 0.0


def test_site_ahead_and_behind():
    assert skew_bounds(1100, 1000.0, 1000.5) == 99.5
    assert skew_bounds(900, 1000.0, 1000.5) == -99.0


def test_describe():
    assert describe(99.5) == "100 s ahead of"
    assert describe(-7200.0) == "7200 s behind"


@given(
    before=st.floats(min_value=1e9, max_value=2e9),
    round_trip=st.floats(min_value=0.0, max_value=30.0),
    position=st.floats(min_value=0.0, max_value=1.0),
    skew=st.floats(min_value=-1e6, max_value=1e6),
)
def test_never_more_than_the_real_skew(before, round_trip, position, skew):
    after = before + round_trip
    moment = before + position * round_trip
    site = math.floor(moment + skew)
    reported = skew_bounds(site, before, after)
    tolerance = 1e-6 * max(1.0, abs(before))
    assert abs(reported) <= abs(skew) + tolerance
    assert reported == 0.0 or math.copysign(1, reported) == math.copysign(1, skew)
    if abs(skew) > round_trip + 1 + tolerance:
        assert reported != 0.0


def _run(args, stdout="", rc=0, stderr=""):
    """The action with the site's ``date -u +%s`` answering ``stdout`` (no connection is made)."""
    answer = {"rc": rc, "stdout": stdout, "stderr": stderr}
    with mock.patch.object(ActionModule, "_low_level_execute_command", return_value=answer):
        return run_action("tls_clock_skew", args)


def test_failures_carry_stable_error_codes():
    result = _run({"max_skew": -1})
    assert result["failed"] is True and result["error"] == "usage"
    assert result["msg"] == "max_skew must not be negative"
    result = _run({}, rc=127, stderr="date: not found\n")
    assert result["failed"] is True and result["error"] == "clock_unreadable"
    assert result["msg"] == "cannot read the site's clock with 'date -u +%s': date: not found"
    result = _run({"max_skew": 60, "on_skew": "fail"}, stdout="%d\n" % (time.time() + 3600))
    assert result["failed"] is True and result["error"] == "clock_skew" and result["within_limit"] is False
    assert re.match(r"the site's clock is 3(599|600) s ahead of the controller's \(limit 60 s\); TLS handshakes",
                    result["msg"])


def test_a_skew_within_the_limit_or_a_warning_is_no_failure():
    result = _run({"max_skew": 60}, stdout="%d\n" % time.time())
    assert not result.get("failed") and "error" not in result and result["within_limit"] is True
    result = _run({"max_skew": 60}, stdout="%d\n" % (time.time() - 3600))
    assert not result.get("failed") and "error" not in result
    assert result["warnings"] == [result["msg"]]
    assert re.match(r"the site's clock is 3(599|600) s behind the controller's \(limit 60 s\); TLS handshakes", result["msg"])
