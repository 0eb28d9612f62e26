# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two bases of the action plugins (plugin_utils/common/action_module.py): every failure has an ``error``
code, bad options included (issue 22, point 3), whichever base the action derives from."""

import glob
import os
from unittest import mock

import pytest
from action_runner import run_action

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))))
ACTIONS = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "action", "*.py")))


@pytest.mark.parametrize("name", ACTIONS)
def test_an_unknown_option_fails_with_the_code_invalid_argument_before_any_work(name):
    with mock.patch("ansible.plugins.action.ActionBase._execute_module", side_effect=AssertionError("site touched")), \
            mock.patch("ansible.plugins.action.ActionBase._low_level_execute_command",
                       side_effect=AssertionError("site touched")):
        result = run_action(name, {"no_such_option": 1})
    assert result["failed"] is True and result["changed"] is False
    assert result["error"] == "invalid_argument"
    assert "no_such_option" in result["msg"]


@pytest.mark.parametrize("name, args", [
    ("tls_clock_skew", {"max_skew": "soon"}),
    ("site_preflight", {"roles": {"a": 1}}),
    ("fleet_preflight", {"unknown_variables": "ignore"}),
    ("proofs_archive", {"archive_dir": "/tmp/archive", "institution_id": "100001"}),
])
def test_a_bad_value_of_the_four_that_had_no_code_fails_with_invalid_argument(name, args):
    with mock.patch("ansible.plugins.action.ActionBase._execute_module", side_effect=AssertionError("site touched")), \
            mock.patch("ansible.plugins.action.ActionBase._low_level_execute_command",
                       side_effect=AssertionError("site touched")):
        result = run_action(name, args)
    assert result["failed"] is True and result["error"] == "invalid_argument" and result["msg"]
