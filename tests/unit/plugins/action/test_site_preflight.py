# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""site_preflight reads each role's argument spec once per process, with libyaml when PyYAML has it
(issue 14: a pure-Python parse per site was a third of the preflight's time), and hands out copies."""

import os

import pytest
import yaml

from ansible_collections.eeszt.connect.plugins.action import site_preflight
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight import roles

ROLES = ("certificate", "tls_client", "connection_check", "proofs")


@pytest.mark.parametrize("role", ROLES)
def test_the_parsed_spec_is_the_file_parsed_plainly(role):
    with open(os.path.join(roles.ROLES_DIR, role, "meta", "argument_specs.yml"), "rb") as handle:
        assert roles.argument_specs(role) == yaml.safe_load(handle)


def test_libyaml_is_used_when_present_and_each_file_is_parsed_once(monkeypatch):
    assert roles.SAFE_LOADER is getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    roles.argument_specs.cache_clear()
    opened = []
    real_open = open

    def counting_open(path, *args, **kwargs):
        opened.append(path)
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr("builtins.open", counting_open)
    action = site_preflight.ActionModule.__new__(site_preflight.ActionModule)
    for dummy in range(3):
        for role in ROLES:
            action._spec_options(role, "main")
    assert sorted(opened) == sorted(os.path.join(roles.ROLES_DIR, role, "meta", "argument_specs.yml")
                                    for role in ROLES)


def test_a_caller_changing_its_options_does_not_change_the_next_callers():
    action = site_preflight.ActionModule.__new__(site_preflight.ActionModule)
    first = action._spec_options("connection_check", "main")
    first["eeszt_environment"]["choices"] = ["changed"]
    first.pop("eeszt_check_timeout", None)
    second = action._spec_options("connection_check", "main")
    assert second["eeszt_environment"]["choices"] != ["changed"] and "eeszt_check_timeout" in second
