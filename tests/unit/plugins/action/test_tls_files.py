# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.tls_files' action: one module run, and the clock check from the site's time it returns."""

import time
from unittest import mock

from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action.tls_files import ActionModule

REMEDY = ("TLS handshakes fail when a certificate looks expired or not yet valid to one side: "
          "synchronise the site's clock (NTP: chrony or systemd-timesyncd)")


def _run(args, ahead=0, module_result=None):
    """The action with the module answering ``module_result`` (default: nothing changed, the site's clock
    ``ahead`` seconds ahead); returns the result and the arguments the module got."""
    calls = []

    def execute(self, module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        return dict(module_result or {"changed": False, "site_time": int(time.time()) + ahead})

    with mock.patch.object(ActionModule, "_execute_module", execute):
        return run_action("tls_files", args), calls


def test_without_clock_options_the_module_result_is_passed_on():
    result, calls = _run({"files": []}, ahead=7200)
    assert calls == [("eeszt.connect.tls_files", {"files": []})]
    assert "clock" not in result and not result.get("failed") and not result.get("warnings")


def test_the_clock_options_stay_on_the_controller_and_a_clock_in_sync_passes():
    result, calls = _run({"files": [], "clock_max_skew": 60, "clock_on_skew": "fail"})
    assert calls == [("eeszt.connect.tls_files", {"files": []})]
    assert not result.get("failed") and result["clock"]["skew"] == 0.0
    assert result["clock"]["within_limit"] is True and result["clock"]["max_skew"] == 60
    assert result["clock"]["msg"] == "the site's clock is within 60 s of the controller's (no measurable skew)"


def test_a_skewed_clock_warns_or_fails():
    warned, dummy = _run({"clock_max_skew": 60}, ahead=7200)
    message = warned["clock"]["msg"]
    assert message.startswith("the site's clock is 7") and " s ahead of the controller's (limit 60 s); " in message
    assert message.endswith(REMEDY)
    assert not warned.get("failed") and warned["warnings"] == [message]
    assert warned["clock"]["within_limit"] is False
    failed, dummy = _run({"clock_max_skew": 60, "clock_on_skew": "fail"}, ahead=-7200)
    assert failed["failed"] is True and failed["error"] == "clock_skew"
    assert failed["msg"] == failed["clock"]["msg"] and " s behind the controller's (limit 60 s); " in failed["msg"]


def test_a_failed_module_run_is_passed_on_without_a_clock_check():
    failure = {"failed": True, "error": "write_failed", "msg": "cannot write /etc/eeszt/curlrc", "site_time": 1}
    result, dummy = _run({"clock_max_skew": 60}, module_result=failure)
    assert result["error"] == "write_failed" and result["msg"] == "cannot write /etc/eeszt/curlrc"
    assert "clock" not in result


def test_bad_clock_options_are_refused_before_the_site_is_touched():
    result, calls = _run({"clock_max_skew": -1})
    assert calls == [] and result["failed"] is True and result["error"] == "usage"
    assert result["msg"] == ("clock_max_skew must be a whole number of seconds, 0 or more, and clock_on_skew warn "
                             "or fail (got -1, 'warn')")


PUBLISHED = {"ca_bundle": "/etc/eeszt/ca.pem", "ca_bundle_sha256": "ab" * 32, "client_cert": "/etc/eeszt/cert.pem",
             "client_key": "/etc/eeszt/key.pem", "config_dir": "/etc/eeszt", "client_files": ["env", "curl"],
             "proxy": None}


def test_publish_stays_on_the_controller_and_makes_the_result_the_public_fact():
    result, calls = _run({"files": [], "publish": dict(PUBLISHED)})
    assert calls == [("eeszt.connect.tls_files", {"files": []})]
    assert dict((key, result[key]) for key in PUBLISHED) == PUBLISHED
    assert result["stage"] == "tls" and result["unreachable"] is False and result["clock"] is None
    clocked, dummy = _run({"files": [], "publish": dict(PUBLISHED), "clock_max_skew": 60})
    assert clocked["stage"] == "tls" and clocked["clock"]["within_limit"] is True


def test_a_failed_run_publishes_nothing_and_a_publish_that_is_no_dictionary_is_refused():
    failure = {"failed": True, "error": "write_failed", "msg": "cannot write /etc/eeszt/curlrc"}
    result, dummy = _run({"publish": dict(PUBLISHED)}, module_result=failure)
    assert result["error"] == "write_failed" and "stage" not in result and "ca_bundle" not in result
    refused, calls = _run({"publish": ["ca_bundle"]})
    # Checked against the module's spec on the controller (module_utils/tls/files.py), as every option is.
    assert calls == [] and refused["failed"] is True and refused["error"] == "invalid_argument"
    assert refused["msg"] == ("argument 'publish' is of type list and we were unable to convert to dict: "
                              "<class 'list'> cannot be converted to a dict")
