# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests of the action plugin eeszt.connect.lab_pki, run in-process as a task would run it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest
import yaml

from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import lab_pki as action
from ansible_collections.eeszt.connect.plugins.modules import lab_pki as module

SITES = [{"institution_id": "100001", "site_id": "100001001"}]


def run_module(capsys, args):
    """Run the action with `args`; return (exit code as a module would, result as JSON, result)."""
    del capsys
    check_mode = args.pop("_ansible_check_mode", False)
    result = run_action("lab_pki", args, check_mode=check_mode)
    return (1 if result.get("failed") else 0), json.dumps(result), result


def documented_keys():
    return set(yaml.safe_load(module.RETURN))


def test_builds_the_lab_and_returns_the_documented_keys(tmp_path, capsys):
    code, out, result = run_module(capsys, {"path": str(tmp_path), "sites": SITES})
    assert code == 0, result
    assert result["changed"] is True
    assert set(result) - {"changed", "invocation"} == documented_keys()
    assert result["pki_dir"] == str(tmp_path / "pki")
    assert "sites/100001-100001001.p12" in result["created"]
    assert result["manifest"]["sites"][0]["pfx"] == "sites/100001-100001001.p12"
    assert json.loads((tmp_path / "pki" / "manifest.json").read_text()) == result["manifest"]

    passwords = [os.path.join(base, name) for base, _dirs, names in os.walk(str(tmp_path))
                 for name in names if name.endswith(".password")]
    assert len(passwords) == 11
    for path in passwords:
        with open(path) as handle:
            assert handle.read() not in out
    assert "PRIVATE KEY" not in out

    code, out, result = run_module(capsys, {"path": str(tmp_path), "sites": SITES})
    assert code == 0
    assert (result["changed"], result["created"], result["updated"]) == (False, [], [])


def test_check_mode_writes_nothing(tmp_path, capsys):
    code, _out, result = run_module(capsys, {"path": str(tmp_path), "sites": SITES, "_ansible_check_mode": True})
    assert code == 0, result
    assert result["changed"] is True
    assert "client-root-ca.key" in result["created"]
    assert "sites/100001-100001001.password" in result["created"]
    assert os.listdir(str(tmp_path)) == []


@pytest.mark.parametrize("args, message", [
    ({"sites": [{"institution_id": "1234", "site_id": "100001001"}]},
     "sites[0].institution_id '1234' does not match institution_id_pattern"),
    ({"sites": SITES + SITES}, "sites[1]: duplicate site"),
    ({"sites": [{"institution_id": "A00001", "site_id": "100001001"}], "institution_id_pattern": "^[0-9]{6}$"},
     "sites[0].institution_id 'A00001'"),
    ({"sites": SITES, "waf_ips": ["not-an-ip"]}, "waf_ips[0] 'not-an-ip' is not an IP address"),
])
def test_bad_input_fails_with_a_clear_message(tmp_path, capsys, args, message):
    args = dict(args, path=str(tmp_path))
    code, _out, result = run_module(capsys, args)
    assert code == 1
    assert result["failed"] is True
    assert message in result["msg"]
    assert os.listdir(str(tmp_path)) == []


def test_missing_site_id_is_refused_by_the_argument_spec(tmp_path, capsys):
    code, _out, result = run_module(capsys, {"path": str(tmp_path), "sites": [{"institution_id": "100001"}]})
    assert code == 1
    assert "site_id" in result["msg"]


def test_missing_cryptography(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(action, "HAS_CRYPTOGRAPHY", False)
    code, _out, result = run_module(capsys, {"path": str(tmp_path), "sites": SITES})
    assert code == 1
    assert "Failed to import the required Python library (cryptography >= 40.0)" in result["msg"]
    assert os.listdir(str(tmp_path)) == []
