# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every failure of the waf_certificate and ca_bundle actions returns a stable ``error`` (issue 13, point 2)."""

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import waf_certificate as waf_action

VAULTED = ("$ANSIBLE_VAULT;1.1;AES256\n"
           "6132336134643437363265623364353830396236303431633366653337396335613763633137343836\n")


def test_ca_bundle_wrong_option_type_is_invalid_argument():
    result = run_action("ca_bundle", {"src": "/nonexistent.pem", "warn_days": "soon"})
    assert result["failed"] is True and result["error"] == "invalid_argument"
    assert "warn_days" in result["msg"]


def test_ca_bundle_missing_option_is_invalid_argument():
    result = run_action("ca_bundle", {})
    assert result["error"] == "invalid_argument" and result["msg"] == "eeszt.connect.ca_bundle: missing required arguments: src"


def test_waf_certificate_unknown_state_is_invalid_argument():
    result = run_action("waf_certificate", {"state": "gone", "pfx_src": "/x.pfx"})
    assert result["failed"] is True and result["error"] == "invalid_argument"
    assert "state" in result["msg"] and "gone" in result["msg"]


def test_waf_certificate_negative_days_are_invalid_argument():
    result = run_action("waf_certificate", {"pfx_src": "/nonexistent.pfx", "min_days": -1})
    assert result == dict(result, failed=True, changed=False, error="invalid_argument",
                          msg="min_days, warn_days and backups must not be negative")


def test_waf_certificate_pkcs12_without_export_password_is_invalid_argument():
    result = run_action("waf_certificate", {"pfx_src": "/nonexistent.pfx", "formats": ["pem", "pkcs12"]})
    assert result["error"] == "invalid_argument"
    assert result["msg"] == "export_password is required when formats include pkcs12 or java"


def test_waf_certificate_unreadable_vaulted_pfx_is_controller_file_unreadable(tmp_path):
    pfx = tmp_path / "site.pfx"
    pfx.write_text(VAULTED)
    result = run_action("waf_certificate", {"pfx_src": str(pfx)})
    assert result["failed"] is True and result["error"] == "controller_file_unreadable"
    assert result["msg"].startswith("cannot read the PFX file %s on the controller (pfx_src, "
                                    "eeszt_certificate_pfx_src in the role): " % pfx)
    assert result["msg"].endswith("if it is vault-encrypted, check the vault password given to this run")


@pytest.mark.parametrize("module_result, error", [
    ({"failed": True, "msg": "MODULE FAILURE"}, "module_failure"),
    ({"failed": True, "msg": "no backup", "error": "no_backup"}, "no_backup"),
])
def test_waf_certificate_rollback_failure_always_has_an_error(monkeypatch, module_result, error):
    monkeypatch.setattr(waf_action.ActionModule, "_execute_module", lambda self, **kwargs: dict(module_result))
    result = run_action("waf_certificate", {"state": "rollback"})
    assert result["failed"] is True and result["error"] == error and result["msg"] == module_result["msg"]


def test_a_successful_rollback_has_no_error(monkeypatch):
    monkeypatch.setattr(waf_action.ActionModule, "_execute_module",
                        lambda self, **kwargs: {"changed": True, "msg": "rolled back"})
    result = run_action("waf_certificate", {"state": "rollback"})
    assert "error" not in result and not result.get("failed")
