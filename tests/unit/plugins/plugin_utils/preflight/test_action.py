# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/preflight/action.py: the helpers the two preflight actions share beside their base."""

from unittest import mock

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ActionModuleAPI
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight import action


class _Exit(Exception):
    pass


def _module():
    module = mock.Mock(spec=ActionModuleAPI)
    module.fail_json.side_effect = _Exit("fail")
    module.exit_json.side_effect = _Exit("exit")
    return module


def test_a_failed_result_ends_with_fail_json_and_keeps_its_code():
    module = _module()
    with pytest.raises(_Exit, match="fail"):
        action.finish(module, {"failed": True, "error": "bad_variables", "msg": "Preflight: 1 bad variable"})
    module.fail_json.assert_called_once_with(failed=True, error="bad_variables", msg="Preflight: 1 bad variable")
    module.exit_json.assert_not_called()


@pytest.mark.parametrize("result", [{"changed": False, "msg": "3 variables are valid"}, {"failed": False, "msg": "x"}])
def test_any_other_result_ends_with_exit_json(result):
    module = _module()
    with pytest.raises(_Exit, match="exit"):
        action.finish(module, dict(result))
    module.exit_json.assert_called_once_with(**result)
    module.fail_json.assert_not_called()


def test_values_are_templated_with_the_actions_templar():
    owner = mock.Mock()
    on_error = mock.Mock()
    with mock.patch.object(action.variables_, "resolve", return_value=({"a": 1}, {"layer": True})) as resolve:
        assert action.template_values(owner, {"a": "{{ 1 }}"}, ["a"], on_error) == {"a": 1}
    resolve.assert_called_once_with(owner._templar, {"a": "{{ 1 }}"}, ["a"], on_error)
