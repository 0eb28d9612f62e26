# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two bases of the action plugins (plugin_utils/common/action_module.py): every failure has an ``error``
code, bad options included (issue 22, point 3), whichever base the action derives from."""

import ast
import glob
import os
from unittest import mock

import pytest
from action_runner import run_action
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext

from ansible_collections.eeszt.connect.plugins.action import connection_check, waf_certificate
from ansible_collections.eeszt.connect.plugins.module_utils.common import identifiers
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import (
    MIN_PASSWORD_LENGTH,
    ControllerAction,
    SiteAction,
)
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))))
ACTIONS = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "action", "*.py")))
# The required options of each action, so that the unknown option is the one error left.
REQUIRED = {
    "ca_bundle": {"src": "/nonexistent/ca.pem"},
    "connection_check": {"endpoints": [{"name": "health", "url": "https://127.0.0.1:18443/health"}],
                         "client_cert": "/c.pem", "client_key": "/k.pem", "ca_bundle": "/ca.pem",
                         "institution_id": "100001", "site_id": "10000100A"},
    "lab_pki": {"path": "/nonexistent/lab"},
    "lab_waf": {"path": "/nonexistent/lab"},
    "proofs_archive": {"archive_dir": "/nonexistent/archive", "institution_id": "100001", "site_id": "10000100A"},
    "proofs_report": {"archive_dir": "/nonexistent/archive"},
    "proofs_verify": {"archive_dir": "/nonexistent/archive"},
    "waf_certificate": {"pfx_src": "/nonexistent/site.pfx"},
}


@pytest.mark.parametrize("name", ACTIONS)
def test_an_unknown_option_fails_with_the_code_invalid_argument_before_any_work(name):
    with mock.patch("ansible.plugins.action.ActionBase._execute_module", side_effect=AssertionError("site touched")), \
            mock.patch("ansible.plugins.action.ActionBase._low_level_execute_command",
                       side_effect=AssertionError("site touched")):
        result = run_action(name, dict(REQUIRED.get(name, {}), no_such_option=1))
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


# --- the bases themselves, with actions made for the test ------------------------------------------------------

class _TestError(EESZTConnectError):
    code = "test_error"


def _action(cls, args, check_mode=False):
    task = mock.MagicMock()
    task.args = dict(args)
    task.action = "eeszt.connect.test_action"
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = False
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    return cls(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(), templar=None,
               shared_loader_obj=None)


class _Site(SiteAction):
    MODULE = "eeszt.connect.tls_files"
    ARGUMENT_SPEC = dict(path=dict(type="path", required=True), secret=dict(type="str", no_log=True),
                         local=dict(type="int", default=3))
    CONTROLLER_OPTIONS = ("local",)
    RESULT = dict(stage="test")

    def run_site(self, args, result):
        if args["local"] < 0:
            raise _TestError("local must not be negative")
        if args["local"] == 0:
            result.update(failed=True, msg="refused without a code")
            return
        result.update(self.run_on_site(self.site_args()))


def _run_site(args, answer):
    calls = []

    def execute(self, module_name, module_args, task_vars):
        calls.append((module_name, dict(module_args), task_vars))
        return dict(answer)

    with mock.patch.object(_Site, "_execute_module", execute):
        return _action(_Site, args).run(task_vars={"inventory_hostname": "site01"}), calls


def test_the_site_gets_the_options_as_given_without_the_controllers_and_no_invocation_comes_back():
    answer = {"changed": True, "invocation": {"module_args": {"secret": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}}
    result, calls = _run_site({"path": "/etc/x", "secret": "s3cret-value", "local": 5}, answer)
    assert calls == [("eeszt.connect.tls_files", {"path": "/etc/x", "secret": "s3cret-value"},
                      {"inventory_hostname": "site01"})]
    assert "invocation" not in result and result["changed"] is True and result["stage"] == "test"
    assert "error" not in result and not result.get("failed")


@pytest.mark.parametrize("answer, error", [
    ({"failed": True, "msg": "MODULE FAILURE"}, "module_failure"),
    ({"failed": True, "msg": "", "error": ""}, "module_failure"),
    ({"failed": True, "msg": "cannot write", "error": "write_failed"}, "write_failed"),
])
def test_a_failed_module_run_always_has_a_code(answer, error):
    result, calls = _run_site({"path": "/etc/x"}, answer)
    assert len(calls) == 1 and result["failed"] is True and result["error"] == error


def test_site_action_failures_without_a_module_run_have_codes():
    result, calls = _run_site({"path": "/etc/x", "local": "many"}, {})
    assert calls == [] and result["error"] == "invalid_argument" and result["stage"] == "test"
    result, calls = _run_site({"path": "/etc/x", "local": -1}, {})
    assert calls == [] and (result["error"], result["msg"]) == (_TestError.code, "local must not be negative")
    result, calls = _run_site({"path": "/etc/x", "local": 0}, {})
    assert calls == [] and (result["error"], result["msg"]) == ("action_failed", "refused without a code")


class _Controller(ControllerAction):
    ARGUMENT_SPEC = dict(mode=dict(type="str", choices=["ok", "coded", "uncoded", "raise"], default="ok"))

    def run_module(self, module):
        mode = module.params["mode"]
        if mode == "coded":
            module.fail_json(msg="coded", error="my_code")
        if mode == "uncoded":
            module.fail_json(msg="uncoded")
        if mode == "raise":
            raise _TestError("raised")
        module.exit_json(changed=False, msg="fine")


@pytest.mark.parametrize("mode, error", [("ok", None), ("coded", "my_code"), ("uncoded", "action_failed"),
                                         ("raise", _TestError.code), ("bogus", "invalid_argument")])
def test_every_controller_action_failure_has_a_code(mode, error):
    result = _action(_Controller, {"mode": mode}).run(task_vars={})
    assert result.get("error") == error and bool(result.get("failed")) is (error is not None)


def test_one_password_length_for_every_action():
    """MIN_PASSWORD_LENGTH is defined once (in the bases' file) and the actions that check one import it."""
    defined = []
    for path in glob.glob(os.path.join(ROOT, "plugins", "**", "*.py"), recursive=True):
        with open(path) as handle:
            tree = ast.parse(handle.read(), path)
        defined += [os.path.relpath(path, ROOT) for node in ast.walk(tree) if isinstance(node, ast.Assign)
                    for target in node.targets if isinstance(target, ast.Name) and target.id == "MIN_PASSWORD_LENGTH"]
    assert defined == ["plugins/plugin_utils/common/action_module.py"]
    assert connection_check.MIN_PASSWORD_LENGTH is MIN_PASSWORD_LENGTH
    assert waf_certificate.MIN_PASSWORD_LENGTH is MIN_PASSWORD_LENGTH
    assert MIN_PASSWORD_LENGTH == 8


def test_the_connection_check_uses_the_one_identifier_check():
    assert connection_check.matches is identifiers.matches
    assert connection_check.identity_problem("100001", "10000100A", {}) is None
    assert connection_check.identity_problem("10001", "10000100A", {})[0] == "identity_invalid"
    assert connection_check.identity_problem("100001", "10000100A", {"site_id": "["})[0] == "invalid_argument"
