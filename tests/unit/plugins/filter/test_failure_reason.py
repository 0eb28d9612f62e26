# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one function that strips Ansible's "Task failed: " prefix, its filter, and its users."""

import os

import pytest

from ansible_collections.eeszt.connect.plugins.filter.failure_reason import FilterModule
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import failure_reason

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))


@pytest.mark.parametrize("message, expected", [
    ("Task failed: ssh: connect refused", "ssh: connect refused"),
    ("Task failed: Task failed: ssh: connect refused", "ssh: connect refused"),
    ("ssh: Task failed: later", "ssh: Task failed: later"),
    ("Task failed:no space", "Task failed:no space"),
    (" Task failed: leading blank", " Task failed: leading blank"),
    ("line one\nTask failed: two", "line one\nTask failed: two"),
    ("", ""),
    (None, ""),
    (42, "42"),
])
def test_failure_reason_strips_every_leading_prefix_and_nothing_else(message, expected):
    assert failure_reason(message) == expected


def test_the_filter_is_the_function():
    assert FilterModule().filters() == {"failure_reason": failure_reason}


def test_the_role_uses_the_filter_not_a_regex_of_its_own():
    with open(os.path.join(ROOT, "roles", "proofs", "tasks", "main.yml")) as stream:
        tasks = stream.read()
    with open(os.path.join(ROOT, "roles", "proofs", "templates", "left_run.j2")) as stream:
        left_run = stream.read()
    assert "Task failed" not in tasks and "Task failed" not in left_run
    assert "| eeszt.connect.failure_reason" in left_run


def test_the_report_step_uses_the_filter_s_function_for_the_play_s_unreachable_sites():
    from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import play_hosts
    outcome = play_hosts.archive_outcome("h", "1", "2", {"unreachable": True, "msg": "Task failed: Task failed: down"})
    assert outcome["reason"] == "down"
