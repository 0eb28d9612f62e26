# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.connection_check's action: the controller's refusals before the site is touched, one module
run, the public fact eeszt_check_result as its result, and the outcome of a check that did not pass."""

import json
from unittest import mock

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action.connection_check import ActionModule

SECRET = "pr0xy-S3cret"
PUBLIC = {"stage", "failed", "unreachable", "passed", "failure", "endpoints", "client_certificate", "started_at",
          "finished_at", "proof_path", "proof_sha256", "proof_content", "metrics_path"}
PROOF = "/var/lib/eeszt/proofs/20261202T060000Z_100002_10000200A.json"
PROXY_MESSAGE = ("eeszt_check_proxy_password (default eeszt_tls_proxy_password) must have at least 8 characters: "
                 "Ansible masks every occurrence of a secret in module output, so a shorter one would garble it "
                 "(see docs/security.md).")
DENIED = {"category": "tls_client_cert_rejected", "endpoint": "health", "step": "http",
          "message": "The server rejected the client certificate: HTTP 403 from the WAF.",
          "hint": "The WAF does not accept this WAF-SSL certificate.", "reason": "HTTP 403 from the WAF"}
DENIED_SUMMARY = ("EESZT connection check failed on site02 (100002/10000200A), endpoint health, step http: "
                  "[tls_client_cert_rejected] The server rejected the client certificate: HTTP 403 from the WAF. "
                  "The WAF does not accept this WAF-SSL certificate. Proof: " + PROOF)


def task_args(**extra):
    values = {
        "endpoints": [{"name": "health", "url": "https://127.0.0.1:18443/health"}],
        "client_cert": "/etc/eeszt/tls/cert.pem",
        "client_key": "/etc/eeszt/tls/key.pem",
        "ca_bundle": "/etc/eeszt/tls/eeszt-ca.pem",
        "institution_id": "100002",
        "site_id": "10000200A",
        "host": "site02",
    }
    values.update(extra)
    return values


def outcome(passed=True, failure=None, proof_path=PROOF, **extra):
    """What the module returns on the site (its own result, invocation included)."""
    result = {"changed": proof_path is not None, "passed": passed, "failure": failure,
              "endpoints": [{"name": "health", "passed": passed, "failure": failure, "steps": []}],
              "client_certificate": {"subject": "CN=100002", "sha256": "ab" * 32},
              "started_at": "2026-12-02T06:00:00Z", "finished_at": "2026-12-02T06:00:01Z", "proof_path": proof_path,
              "proof_sha256": "cd" * 32 if proof_path else None, "proof_content": "e30K" if proof_path else None,
              "metrics_path": None,
              "invocation": {"module_args": {"proxy_password": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}}
    result.update(extra)
    return result


def _run(args, module_result=None, hostname="site02"):
    """The action with the module answering ``module_result``; the result and the module runs it made."""
    calls = []

    def execute(self, module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args)))
        return dict(module_result if module_result is not None else outcome())

    with mock.patch.object(ActionModule, "_execute_module", execute):
        return run_action("connection_check", args, task_vars={"inventory_hostname": hostname}), calls


def test_a_passed_check_is_the_public_fact_after_one_module_run():
    result, calls = _run(task_args(fail_on_error=True, validate_identity=True,
                                   identity_patterns={"institution_id": "^[0-9]{6}$", "site_id": "^[0-9A-Z]{9}$"}))
    # The action's own options stay on the controller; the site gets the rest as given.
    assert calls == [("eeszt.connect.connection_check", task_args())]
    assert set(result) == PUBLIC | {"changed"}
    assert (result["stage"], result["failed"], result["unreachable"], result["passed"]) == ("check", False, False, True)
    assert result["proof_path"] == PROOF and result["proof_content"] == "e30K" and result["failure"] is None
    assert "warnings" not in result and "msg" not in result and "error" not in result


def test_proof_content_is_none_when_the_module_returns_none():
    module_result = outcome(proof_path=None)
    del module_result["proof_content"]
    result, dummy = _run(task_args(write_proof=False), module_result)
    assert result["proof_content"] is None and result["proof_path"] is None and result["proof_sha256"] is None
    assert set(result) == PUBLIC | {"changed"}


def test_a_failed_check_fails_the_task_with_its_summary_when_fail_on_error():
    result, calls = _run(task_args(fail_on_error=True), outcome(False, DENIED))
    assert len(calls) == 1
    assert result["failed"] is True and result["error"] == "check_failed"
    assert result["msg"] == DENIED_SUMMARY
    # The whole outcome stays in the fact: the summary callback and the proofs report read it.
    assert result["passed"] is False and result["failure"] == DENIED and result["proof_path"] == PROOF
    assert result["stage"] == "check" and result["unreachable"] is False
    assert "warnings" not in result
    # The failed task's printed result holds no base64 proof: the proof stays on the site for the proofs stage.
    assert result["proof_content"] is None and result["proof_sha256"] == "cd" * 32


def test_a_failed_check_is_a_warning_without_fail_on_error():
    for args in (task_args(fail_on_error=False), task_args()):
        result, dummy = _run(args, outcome(False, DENIED))
        assert result["failed"] is False and "error" not in result and "msg" not in result
        assert result["warnings"] == [DENIED_SUMMARY]
        assert set(result) == PUBLIC | {"changed", "warnings"}


def test_the_summary_of_a_failure_before_any_connection_names_no_endpoint_and_no_proof():
    failure = {"category": "client_cert_invalid", "endpoint": None, "step": "preflight",
               "message": "The client certificate cannot be used: expired.", "hint": "Deploy a valid one."}
    result, dummy = _run(task_args(fail_on_error=True), outcome(False, failure, proof_path=None), hostname="site9")
    assert result["msg"] == ("EESZT connection check failed on site9 (100002/10000200A), step preflight: "
                             "[client_cert_invalid] The client certificate cannot be used: expired. "
                             "Deploy a valid one.")


@pytest.mark.parametrize("password", ["Q", "Qz9#k", "Qz9#kw7"])
def test_a_short_proxy_password_is_refused_before_the_site_is_touched(password):
    result, calls = _run(task_args(proxy="http://127.0.0.1:3128", proxy_password=password, fail_on_error=True))
    assert calls == []
    assert result["failed"] is True and result["error"] == "proxy_password_too_short"
    assert result["msg"] == PROXY_MESSAGE
    assert password not in json.dumps(result)
    # A refused task has no outcome: the summary callback names its error, not a failed check.
    assert "passed" not in result and result["stage"] == "check"


def test_the_proxy_password_reaches_the_module_and_never_the_result():
    result, calls = _run(task_args(proxy="http://127.0.0.1:3128", proxy_password=SECRET, fail_on_error=True),
                         outcome(False, DENIED, invocation={"module_args": {"proxy_password": SECRET}}))
    assert calls[0][1]["proxy_password"] == SECRET
    assert SECRET not in json.dumps(result) and "invocation" not in result
    warned, dummy = _run(task_args(proxy_password=SECRET), outcome(False, DENIED))
    assert SECRET not in json.dumps(warned)


def test_identifiers_are_checked_only_when_asked():
    bad = task_args(site_id="BAD", validate_identity=True)
    result, calls = _run(bad)
    assert calls == []
    assert result["failed"] is True and result["error"] == "identity_invalid"
    assert result["msg"] == ('eeszt_institution_id "100002" must match ^[0-9]{6}$ and eeszt_site_id "BAD" must match '
                             '^[0-9A-Za-z]{9}$ (override the patterns with eeszt_check_institution_id_pattern / '
                             'eeszt_check_site_id_pattern).')
    # The identity comes before the proxy password, as in the role's former assert.
    result, calls = _run(dict(bad, proxy_password="short"))
    assert calls == [] and result["error"] == "identity_invalid"
    # Other patterns (registries change); a preflight that validated the site: no check here.
    result, calls = _run(dict(bad, identity_patterns={"site_id": "^[A-Z]{3}$"}))
    assert len(calls) == 1 and result["failed"] is False
    result, calls = _run(task_args(site_id="BAD", validate_identity=False))
    assert len(calls) == 1 and result["failed"] is False
    result, calls = _run(task_args(institution_id="1", identity_patterns={"institution_id": "^[0-9]+$"},
                                   validate_identity=True))
    assert len(calls) == 1 and result["failed"] is False


def test_a_pattern_that_is_not_a_regular_expression_is_named():
    result, calls = _run(task_args(validate_identity=True, identity_patterns={"site_id": "["}))
    assert calls == [] and result["error"] == "invalid_argument"
    assert result["msg"] == ('the pattern for eeszt_site_id, "[", is not a regular expression '
                             '(eeszt_check_site_id_pattern)')


def test_options_are_validated_against_the_module_spec_on_the_controller():
    args = task_args(proxy_password=SECRET)
    del args["endpoints"]
    result, calls = _run(args)
    assert calls == []
    assert result["failed"] is True and result["error"] == "invalid_argument"
    assert result["msg"] == "missing required arguments: endpoints"
    result, calls = _run(task_args(language="fr", proxy_password=SECRET))
    assert calls == [] and result["error"] == "invalid_argument"
    assert result["msg"] == "value of language must be one of: en, hu, got: fr"
    result, calls = _run(task_args(fail_on_error="maybe", proxy_password=SECRET))
    assert calls == [] and result["msg"].startswith(
        "argument 'fail_on_error' is of type str and we were unable to convert to bool")
    assert SECRET not in json.dumps(result)


def test_a_failed_module_run_is_passed_on_with_its_code():
    failure = {"failed": True, "error": "proof_write_failed", "msg": "cannot write the proof",
               "passed": False, "failure": DENIED, "proof_path": None}
    result, dummy = _run(task_args(fail_on_error=True), failure)
    assert (result["failed"], result["error"], result["msg"]) == (True, "proof_write_failed", "cannot write the proof")
    assert result["stage"] == "check" and "warnings" not in result
    result, dummy = _run(task_args(), {"failed": True, "msg": "MODULE FAILURE"})
    assert (result["failed"], result["error"], result["msg"]) == (True, "module_failure", "MODULE FAILURE")
