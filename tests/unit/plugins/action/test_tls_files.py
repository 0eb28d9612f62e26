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


def _ca_pem(tmp_path, days=3650, ca=True):
    """A self-signed CA certificate valid for ``days`` more days, written to tmp_path: (path, PEM text)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "EESZT Test Root CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    text = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    path = tmp_path / "eeszt-ca.pem"
    path.write_text(text)
    return str(path), text


def test_the_ca_bundle_is_validated_on_the_controller_and_installed_in_the_same_run(tmp_path):
    """Issue 26: the CA bundle's validation (eeszt.connect.ca_bundle's) is part of the tls_files task, no task of
    its own per site; the site gets the bundle as one more file, never the controller-only options."""
    src, text = _ca_pem(tmp_path)
    result, calls = _run({"files": [], "ca_bundle": {"src": src, "path": "/etc/eeszt/tls/eeszt-ca.pem"},
                          "publish": dict(PUBLISHED, ca_bundle_sha256=None)})
    assert calls == [("eeszt.connect.tls_files", {"files": [
        {"path": "/etc/eeszt/tls/eeszt-ca.pem", "content": text, "mode": "0644"}]})]
    assert not result.get("failed") and not result.get("warnings"), result
    assert len(result["ca_bundle_sha256"]) == 64
    assert [entry["subject"] for entry in result["ca_certificates"]] == ["CN=EESZT Test Root CA"]
    assert result["ca_bundle"] == PUBLISHED["ca_bundle"] and result["stage"] == "tls"


def test_a_ca_bundle_that_expires_soon_warns_under_warn_days_and_not_at_them(tmp_path):
    src, dummy = _ca_pem(tmp_path, days=20)
    warned, calls = _run({"ca_bundle": {"src": src, "path": "/etc/ca.pem", "warn_days": 20}})
    assert len(calls) == 1 and not warned.get("failed")
    assert len(warned["warnings"]) == 1 and "EESZT Test Root CA" in warned["warnings"][0]
    quiet, dummy = _run({"ca_bundle": {"src": src, "path": "/etc/ca.pem", "warn_days": 19}})
    assert not quiet.get("warnings"), quiet


def test_a_bad_or_missing_ca_bundle_fails_before_the_site_is_touched(tmp_path):
    src, dummy = _ca_pem(tmp_path, ca=False)
    result, calls = _run({"ca_bundle": {"src": src, "path": "/etc/ca.pem"}})
    assert calls == [] and result["failed"] is True and result["error"] == "not_ca", result
    missing, calls = _run({"ca_bundle": {"src": str(tmp_path / "nothing.pem"), "path": "/etc/ca.pem"}})
    assert calls == [] and missing["failed"] is True and missing["error"] == "not_found"
    assert "eeszt_tls_ca_bundle_src" in missing["msg"]


def test_input_problems_fail_the_task_before_the_site_is_touched_and_none_pass():
    """Issue 26: the role's input check (an assert task per site before) is the tls_files task's ``problems``."""
    problems = ["eeszt_tls_proxy_password must have at least 8 characters.", "", "The gateway needs an endpoint."]
    result, calls = _run({"files": [], "problems": problems})
    assert calls == [] and result["failed"] is True and result["error"] == "invalid_input"
    assert result["msg"] == "eeszt_tls_proxy_password must have at least 8 characters. The gateway needs an endpoint."
    fine, calls = _run({"files": [], "problems": ["", ""]})
    assert len(calls) == 1 and not fine.get("failed")
