# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.waf_certificate's result is the public fact eeszt_certificate_result itself (issue 14): the
role registers it under that name and publishes it with no set_fact task per site."""

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import waf_certificate as waf_action
from pfx_factory import PASSWORD, make_pfx

EXPORT = "export-secret-9"


@pytest.fixture
def module_ran(monkeypatch):
    calls = []

    def execute(self, module_name=None, module_args=None, task_vars=None):
        calls.append(module_args)
        return {"changed": True, "certificate_changed": True, "previous_fingerprint": None,
                "changed_files": ["cert.pem", "key.pem"], "backup_path": None}
    monkeypatch.setattr(waf_action.ActionModule, "_execute_module", execute)
    return calls


@pytest.mark.parametrize("formats, directory, keystore", [
    (["pem"], "/etc/eeszt/tls", None),
    (["pem", "java"], "/etc/eeszt/tls/", "/etc/eeszt/tls/keystore.p12"),
])
def test_the_result_has_the_public_shape(tmp_path, module_ran, formats, directory, keystore):
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    result = run_action("waf_certificate", {
        "pfx_src": pfx, "pfx_password": PASSWORD, "dir": directory, "formats": formats,
        "export_password": EXPORT, "keystore_alias": "eeszt-waf"})
    assert not result.get("failed"), result
    assert len(module_ran) == 1
    keys = ("stage", "unreachable", "dir", "cert_path", "key_path", "keystore_path", "keystore_alias")
    published = dict((key, result[key]) for key in keys)
    root = directory.rstrip("/")
    assert published == {"stage": "certificate", "unreachable": False, "dir": directory,
                         "cert_path": root + "/cert.pem", "key_path": root + "/key.pem",
                         "keystore_path": keystore, "keystore_alias": "eeszt-waf"}
    for key in ("fingerprint", "subject", "issuer", "serial", "not_after", "days_left", "previous_fingerprint",
                "certificate_changed", "changed", "changed_files", "backup_path"):
        assert key in result, key
    assert PASSWORD not in repr(result) and EXPORT not in repr(result)


def test_a_failed_run_is_not_dressed_as_a_published_result(tmp_path, monkeypatch):
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    monkeypatch.setattr(waf_action.ActionModule, "_execute_module",
                        lambda self, **kwargs: {"failed": True, "msg": "locked", "error": "lock_timeout"})
    result = run_action("waf_certificate", {"pfx_src": pfx, "pfx_password": PASSWORD, "dir": "/etc/eeszt/tls"})
    assert result["failed"] is True and result["error"] == "lock_timeout"
    assert "stage" not in result and "cert_path" not in result
