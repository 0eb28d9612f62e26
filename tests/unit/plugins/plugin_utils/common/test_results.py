# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/common/results.py: the parts of a problem line joined without "full stop; " (issue 27)."""

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import ERROR_CODE, clause, semicolons


@pytest.mark.parametrize("text, expected", [
    ("refused the TCP connection.", "refused the TCP connection"),
    ("refused the TCP connection", "refused the TCP connection"),
    ("cut short...", "cut short..."),
    ("two..", "two.."),
    ("ends with a question?", "ends with a question?"),
    ("version 1.2.", "version 1.2"),
    (".", ""),
    ("", ""),
    (None, ""),
])
def test_clause_drops_one_closing_full_stop_only(text, expected):
    assert clause(text) == expected


def test_semicolons_drop_the_full_stop_before_each_next_part_and_keep_the_last():
    assert semicolons("tcp_refused: 127.0.0.1 port 1 refused the TCP connection.", "hint: Check the port.",
                      "proof: /archive/p.json") == (
        "tcp_refused: 127.0.0.1 port 1 refused the TCP connection; hint: Check the port; proof: /archive/p.json")
    assert semicolons("message.", "hint: Check the port.") == "message; hint: Check the port."
    assert semicolons("message.") == "message."


def test_semicolons_leave_out_empty_parts():
    assert semicolons("tcp_refused", "", None, "proof: /p.json") == "tcp_refused; proof: /p.json"
    assert semicolons("message.", "", None) == "message."
    assert semicolons() == ""


@pytest.mark.parametrize("code, matches", [
    ("bad_variables", True), ("tcp_refused", True), ("a" * 64, True), ("a" * 65, False),
    ("not a code", False), ("1abc", False), ("", False),
])
def test_error_code(code, matches):
    assert bool(ERROR_CODE.match(code)) is matches
