# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)

__metaclass__ = type

DOCUMENTATION = r"""
name: fleet
type: stdout
short_description: Ansible's default screen output, with each failure printed once and short
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - "Ansible's default output (C(ansible.builtin.default), with all its options), except for a failed or
    unreachable task at verbosity 0. ansible-core 2.19's default output prints such a task's message twice, as
    C([ERROR]: Task failed: ...) with an C(Origin:) snippet of the playbook and again in the C(fatal:) line with
    the whole result as JSON; on a fleet of sites that is two blocks per failing site."
  - "This callback prints it once, on one line: C(fatal: [HOST]: FAILED! CODE: MESSAGE; hint: HINT). C(CODE) is the
    result's error code (the C(error) return value of the collection's modules and actions), when it has one;
    C(MESSAGE) is the result's C(msg) on one line, without Ansible's C(Task failed: ) prefix; C(HINT) is the
    result's C(hint) or its C(failure.hint) (the connection check's remedy), when it has one that the message does
    not already hold. A message's closing full stop is left out before C(; hint:)."
  - "An unreachable host is C(fatal: [HOST]: UNREACHABLE! MESSAGE) and a failed item of a loop C(failed: [HOST]
    (item=LABEL): CODE: MESSAGE; hint: HINT); C(...ignoring) follows when the task ignores the failure, as before."
  - "A result without a message (C(msg) as text), or one that carries a program's output (a non-empty C(stdout),
    C(stderr), C(module_stdout) or C(module_stderr), such as a failed command or a module that crashed), is printed
    as the default callback prints it, in its C(fatal:) line with the whole result, but without the C([ERROR])
    block that repeats its message."
  - The result's warnings and deprecation warnings are printed as before. The task's path is printed with
    O(show_task_path_on_failure), as before.
  - With C(-v) or more, Ansible's full output as the default callback prints it, the C([ERROR]) block with its
    C(Origin:) included.
  - Set it as the stdout callback in C(ansible.cfg) (C(stdout_callback = eeszt.connect.fleet) in C([defaults]))
    or with C(ANSIBLE_STDOUT_CALLBACK=eeszt.connect.fleet); the fleet summary (P(eeszt.connect.fleet_summary#callback),
    C(callbacks_enabled)) is printed next to it as before, and is where each problem is said the second time.
extends_documentation_fragment:
  - default_callback
  - result_format_callback
requirements:
  - Set as the stdout callback in the configuration.
"""

from ansible import constants as C
from ansible.plugins.callback.default import CallbackModule as DefaultCallbackModule

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import ERROR_CODE, failure_reason, semicolons

# A result with one of these (non-empty) carries a program's output: it is shown whole.
OUTPUT_KEYS = ("stdout", "stderr", "module_stdout", "module_stderr")


def _one_line(text):
    return " ".join(text.split())


def failure_text(result):
    """What a failed (or unreachable) result says, on one line: ``CODE: MESSAGE; hint: HINT``.

    None when the result is to be shown whole: it has no message (``msg`` as text), or it carries a
    program's output (OUTPUT_KEYS).
    """
    message = result.get("msg")
    if not isinstance(message, str) or any(result.get(key) for key in OUTPUT_KEYS):
        return None
    message = _one_line(failure_reason(message))
    if not message:
        return None
    code = result.get("error")
    if isinstance(code, str) and ERROR_CODE.match(code):
        message = "%s: %s" % (code, message)
    hint = result.get("hint")
    if not isinstance(hint, str) and isinstance(result.get("failure"), dict):
        hint = result["failure"].get("hint")
    hint = _one_line(hint) if isinstance(hint, str) else ""
    if hint and hint not in message:
        message = semicolons(message, "hint: %s" % hint)
    return message


class CallbackModule(DefaultCallbackModule):
    """ansible.builtin.default, with a failure said once and short at verbosity 0."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "stdout"
    CALLBACK_NAME = "eeszt.connect.fleet"

    def _short(self, result):
        """The one-line text of a failed result, or None when Ansible's own output is wanted."""
        if self._display.verbosity > 0:
            return None
        return failure_text(result.result)

    def _begin(self, result):
        """The task's banner when not printed yet, the result's warnings; its [ERROR] block is dropped: the
        failure line says the same."""
        if self._last_task_banner != result.task._uuid:
            self._print_task_banner(result.task)
        self._handle_warnings(result.result)
        result.result.pop("exception", None)

    def _drop_error_block(self, result):
        """At verbosity 0, the [ERROR] block of a result shown whole: its fatal line holds the same message."""
        if self._display.verbosity == 0:
            result.result.pop("exception", None)

    def _stderr(self):
        return self.get_option("display_failed_stderr")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        # A loop's own result: its failed items were shown one by one (v2_runner_item_on_failed).
        text = None if result.task.loop and "results" in result.result else self._short(result)
        if text is None:
            self._drop_error_block(result)
            super().v2_runner_on_failed(result, ignore_errors=ignore_errors)
            return
        self._begin(result)
        if self.get_option("show_task_path_on_failure"):
            self._print_task_path(result.task)
        self._display.display("fatal: [%s]: FAILED! %s" % (self.host_label(result), text), color=C.COLOR_ERROR,
                              stderr=self._stderr())
        if ignore_errors:
            self._display.display("...ignoring", color=C.COLOR_SKIP)

    def v2_runner_item_on_failed(self, result):
        text = self._short(result)
        if text is None:
            self._drop_error_block(result)
            super().v2_runner_item_on_failed(result)
            return
        self._begin(result)
        line = "failed: [%s] (item=%s): %s" % (self.host_label(result), self._get_item_label(result.result), text)
        self._display.display(line, color=C.COLOR_ERROR, stderr=self._stderr())

    def v2_runner_on_unreachable(self, result):
        text = self._short(result)
        if text is None:
            self._drop_error_block(result)
            super().v2_runner_on_unreachable(result)
            return
        self._begin(result)
        self._display.display("fatal: [%s]: UNREACHABLE! %s" % (self.host_label(result), text), color=C.COLOR_UNREACHABLE,
                              stderr=self._stderr())
        if result.task.ignore_unreachable:
            self._display.display("...ignoring", color=C.COLOR_SKIP)
