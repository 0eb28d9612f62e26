# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Identifier patterns (module_utils/common/identifiers.py)."""

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import identifiers


@pytest.mark.parametrize("value, problem", [
    ("123456", None),
    ("12345", "eeszt_institution_id '12345' does not match ^[0-9]{6}$"),
    ("1234567", "eeszt_institution_id '1234567' does not match ^[0-9]{6}$"),
    ("12345a", "eeszt_institution_id '12345a' does not match ^[0-9]{6}$"),
    ("", "eeszt_institution_id must be a non-empty string, got ''"),
    (123456, "eeszt_institution_id must be a non-empty string, got 123456"),
])
def test_institution_id_at_and_past_its_length(value, problem):
    assert identifiers.identifier_problem(value, identifiers.INSTITUTION_ID_PATTERN, "eeszt_institution_id") == problem


@pytest.mark.parametrize("value, ok", [("123456789", True), ("ABC456789", True), ("12345678", False),
                                       ("1234567890", False), ("12345678-", False)])
def test_site_id_at_and_past_its_length(value, ok):
    assert (identifiers.identifier_problem(value, identifiers.SITE_ID_PATTERN, "eeszt_site_id") is None) is ok


def test_a_broken_pattern_is_named():
    problem = identifiers.identifier_problem("1", "([0-9]", "eeszt_site_id")
    assert problem.startswith("the pattern for eeszt_site_id, '([0-9]', is not a regular expression")
