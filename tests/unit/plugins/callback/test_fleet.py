# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The eeszt.connect.fleet stdout callback: a failure printed once, on one line, at verbosity 0 (issue 27).

ansible-core 2.19's default callback prints a failed task's message twice: in an ``[ERROR]`` block (the
result's ``exception``, with an ``Origin:`` snippet) and in the ``fatal:`` line with the result as JSON. The
callback is loaded through the plugin loader, as ansible-playbook loads it, with its documented options.
"""

import os
import subprocess
import sys

import pytest

from ansible.plugins.loader import callback_loader

from ansible_collections.eeszt.connect.plugins.callback import fleet
from plugin_loading import load_collection_plugins

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PREFLIGHT = ("Task failed: Preflight: 1 bad variable for site002, so nothing was done on this site:\n"
             "(1) eeszt_certificate_pfx_password: the password for the PFX file pfx/100001.pfx is wrong.")
CHECK_MESSAGE = "127.0.0.1 port 1 refused the TCP connection."
CHECK_HINT = "Nothing accepts connections on that address and port: check the endpoint URL and port."


@pytest.fixture(scope="module", autouse=True)
def collection_loader():
    """Load the callback through the plugin loader (tests/tools/plugin_loading.py)."""
    load_collection_plugins()


class FakeDisplay:
    """Collects what the callback prints: lines, and the [ERROR] blocks and warnings apart."""

    def __init__(self, verbosity=0):
        self.verbosity = verbosity
        self.lines = []
        self.errors = []
        self.warnings = []

    def banner(self, msg, color=None, cows=True):
        self.lines.append("== %s" % msg)

    def display(self, msg, color=None, stderr=False, screen_only=False, log_only=False, newline=True):
        self.lines.append(msg)

    def _error(self, summary, stderr=False):
        self.errors.append(summary)

    def _warning(self, summary):
        self.warnings.append(summary)

    def _deprecated(self, summary):
        self.warnings.append(summary)

    def vvvv(self, msg, host=None):
        pass


class Host:
    def __init__(self, name):
        self.name = name

    def get_name(self):
        return self.name


class Task:
    """What the default callback reads of a task."""

    def __init__(self, name="Check the variables of the stages to come, on the controller only", loop=None):
        self.name = name
        self._uuid = "uuid-%s" % name
        self.loop = loop
        self.no_log = False
        self.args = {}
        self.check_mode = False
        self.delegate_to = None
        self.ignore_unreachable = False
        self.action = "eeszt.connect.site_preflight"

    def get_name(self, include_role_fqcn=True):
        return self.name

    def get_path(self):
        return "/project/playbooks/preflight.yml:63"


class Result:
    """The public shape of a callback task result."""

    def __init__(self, result, host="site002", task=None, warnings=()):
        self.host = Host(host)
        self.task = task or Task()
        self.result = dict(result)
        self.warnings = list(warnings)
        self.exception = result.get("exception")


def callback(verbosity=0):
    plugin = callback_loader.get("eeszt.connect.fleet")
    plugin._display = FakeDisplay(verbosity)
    plugin.set_options()
    return plugin


def failed(plugin, ignore_errors=False, **result):
    task_result = Result(dict(result, failed=True))
    plugin._current_task_result = task_result
    plugin.v2_runner_on_failed(task_result, ignore_errors=ignore_errors)
    return plugin._display


# --- what a failure says, on one line ------------------------------------------------------------------------

def test_the_message_on_one_line_with_its_code_without_ansibles_prefix():
    assert fleet.failure_text({"msg": PREFLIGHT, "error": "bad_variables"}) == (
        "bad_variables: Preflight: 1 bad variable for site002, so nothing was done on this site: "
        "(1) eeszt_certificate_pfx_password: the password for the PFX file pfx/100001.pfx is wrong.")


def test_the_checks_hint_follows_the_message_without_its_full_stop():
    result = {"msg": CHECK_MESSAGE, "error": "check_failed", "failure": {"category": "tcp_refused", "hint": CHECK_HINT}}
    assert fleet.failure_text(result) == ("check_failed: 127.0.0.1 port 1 refused the TCP connection; hint: "
                                          + CHECK_HINT)
    # A hint of the result itself comes first.
    assert fleet.failure_text(dict(result, hint="Open it.")) == (
        "check_failed: 127.0.0.1 port 1 refused the TCP connection; hint: Open it.")


def test_a_hint_the_message_already_holds_is_not_repeated():
    summary = "EESZT connection check failed on site007: [tcp_refused] %s %s" % (CHECK_MESSAGE, CHECK_HINT)
    result = {"msg": summary, "error": "check_failed", "failure": {"hint": CHECK_HINT}}
    assert fleet.failure_text(result) == "check_failed: " + summary


def test_a_code_that_is_no_code_is_left_out():
    assert fleet.failure_text({"msg": "it broke", "error": "not a code"}) == "it broke"
    assert fleet.failure_text({"msg": "it broke", "error": 3}) == "it broke"
    assert fleet.failure_text({"msg": "it broke", "error": "a" * 64}) == "%s: it broke" % ("a" * 64)
    assert fleet.failure_text({"msg": "it broke", "error": "a" * 65}) == "it broke"


@pytest.mark.parametrize("result", [
    {},
    {"msg": None},
    {"msg": ["a", "list"]},
    {"msg": "  \n "},
    {"msg": "Task failed: "},
    {"msg": "non-zero return code", "rc": 2, "stderr": "ls: cannot access 'x'"},
    {"msg": "MODULE FAILURE: See stdout/stderr for the exact error", "module_stderr": "Traceback ..."},
    {"msg": "MODULE FAILURE", "module_stdout": "garbage"},
    {"msg": "failed", "stdout": "what the program said"},
])
def test_a_result_without_a_message_or_with_a_programs_output_is_shown_whole(result):
    assert fleet.failure_text(result) is None


def test_empty_program_output_does_not_count():
    assert fleet.failure_text({"msg": "it broke", "stdout": "", "stderr": ""}) == "it broke"


# --- the callback ----------------------------------------------------------------------------------------------

def test_a_failure_is_one_line_and_no_error_block():
    display = failed(callback(), msg=PREFLIGHT, error="bad_variables", exception="the [ERROR] block",
                     problems=[{"variable": "eeszt_certificate_pfx_password"}])
    assert display.lines == [
        "== TASK [Check the variables of the stages to come, on the controller only]",
        "fatal: [site002]: FAILED! bad_variables: Preflight: 1 bad variable for site002, so nothing was done on "
        "this site: (1) eeszt_certificate_pfx_password: the password for the PFX file pfx/100001.pfx is wrong."]
    assert display.errors == []
    # Said once: the message is in one line only.
    assert sum(line.count("is wrong") for line in display.lines) == 1


def test_the_warnings_of_a_failed_result_are_still_printed():
    plugin = callback()
    task_result = Result({"msg": "it broke", "failed": True, "warnings": ["w"]}, warnings=["a warning"])
    plugin._current_task_result = task_result
    plugin.v2_runner_on_failed(task_result)
    assert plugin._display.warnings == ["a warning"]
    assert plugin._display.lines[-1] == "fatal: [site002]: FAILED! it broke"


def test_an_ignored_failure_says_so():
    display = failed(callback(), ignore_errors=True, msg="it broke", error="some_code")
    assert display.lines[-2:] == ["fatal: [site002]: FAILED! some_code: it broke", "...ignoring"]


def test_the_banner_is_printed_once_per_task():
    plugin = callback()
    failed(plugin, msg="first")
    task_result = Result({"msg": "second", "failed": True}, host="site003")
    plugin.v2_runner_on_failed(task_result)
    assert [line for line in plugin._display.lines if line.startswith("== ")] == [
        "== TASK [Check the variables of the stages to come, on the controller only]"]
    assert plugin._display.lines[-1] == "fatal: [site003]: FAILED! second"


def test_a_programs_output_is_shown_whole_once_without_the_error_block():
    display = failed(callback(), msg="non-zero return code", rc=2, stderr="ls: cannot access 'x'",
                     exception="the [ERROR] block")
    assert display.errors == []
    [fatal] = [line for line in display.lines if line.startswith("fatal: ")]
    assert fatal.startswith("fatal: [site002]: FAILED! => {") and "ls: cannot access 'x'" in fatal, fatal
    assert "non-zero return code" in fatal


@pytest.mark.parametrize("verbosity", [1, 2])
def test_with_v_ansibles_full_output_as_before(verbosity):
    display = failed(callback(verbosity), msg=PREFLIGHT, error="bad_variables", exception="the [ERROR] block")
    # The default callback shows the result's exception (an ErrorSummary in a real run) and the whole result.
    assert display.errors == ["the [ERROR] block"]
    [fatal] = [line for line in display.lines if line.startswith("fatal: ")]
    assert fatal.startswith("fatal: [site002]: FAILED! => {") and '"error": "bad_variables"' in fatal, fatal


def test_an_unreachable_host_is_one_line():
    plugin = callback()
    task_result = Result({"msg": "Task failed: Failed to connect to the host via ssh: Connection refused",
                          "unreachable": True, "exception": "the [ERROR] block"})
    plugin.v2_runner_on_unreachable(task_result)
    assert plugin._display.lines[-1] == (
        "fatal: [site002]: UNREACHABLE! Failed to connect to the host via ssh: Connection refused")
    assert plugin._display.errors == []


def test_a_failed_item_is_one_line_and_the_loops_own_result_adds_nothing():
    plugin = callback()
    task = Task("Install the files", loop="{{ files }}")
    item = Result({"msg": "cannot write", "error": "write_failed", "failed": True, "item": "cert.pem",
                   "exception": "the [ERROR] block"}, task=task)
    plugin.v2_runner_item_on_failed(item)
    whole = Result({"msg": "One or more items failed", "failed": True, "results": [item.result],
                    "exception": "the [ERROR] block"}, task=task)
    plugin.v2_runner_on_failed(whole)
    assert plugin._display.lines == ["== TASK [Install the files]",
                                     "failed: [site002] (item=cert.pem): write_failed: cannot write"]
    assert plugin._display.errors == []


def test_ansible_doc_renders_it():
    bin_dir = os.path.dirname(sys.executable)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"), ANSIBLE_NOCOLOR="1",
               PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))
    proc = subprocess.run([os.path.join(bin_dir, "ansible-doc"), "-t", "callback", "eeszt.connect.fleet"], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, check=False,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "This callback prints it once, on one line" in text
    # The options of the default callback, from its documentation fragments.
    assert "display_failed_stderr" in text and "result_format" in text and "show_task_path_on_failure" in text
