# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every failure of the ca_bundle action returns a stable ``error`` (issue 13, point 2)."""

from action_runner import run_action


def test_ca_bundle_wrong_option_type_is_invalid_argument():
    result = run_action("ca_bundle", {"src": "/nonexistent.pem", "warn_days": "soon"})
    assert result["failed"] is True and result["error"] == "invalid_argument"
    assert "warn_days" in result["msg"]


def test_ca_bundle_missing_option_is_invalid_argument():
    result = run_action("ca_bundle", {})
    assert result["error"] == "invalid_argument" and result["msg"] == "eeszt.connect.ca_bundle: missing required arguments: src"
