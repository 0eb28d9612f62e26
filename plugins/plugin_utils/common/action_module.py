# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The controller side of the seam: a base for action plugins that are the whole plugin.

Code that runs on the controller is an action plugin backed by ``plugin_utils`` (it may use
``cryptography``); its module file holds only the documentation. :class:`ControllerAction` gives such an
action what a module has: its options validated against one argument spec (the one its documentation
describes), ``check_mode`` and ``diff`` from the play, and ``fail_json``/``exit_json``/``warn``/``deprecate`` on
an :class:`ActionModuleAPI` object, so that the plugin's ``run_module(module)`` reads like a module's
``main()``. The collection's exception tree is turned into a failed result in one place: an
:class:`EESZTConnectError` that reaches the base fails the task with its message and its stable ``error``
code. Nothing here connects to the host.
"""

from __future__ import annotations

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code


class _ModuleExit(Exception):
    """Raised by ``exit_json``/``fail_json`` to leave ``run_module``; carries the result."""

    def __init__(self, result):
        super(_ModuleExit, self).__init__()
        self.result = result


class ActionModuleAPI:
    """The part of ``AnsibleModule`` that the collection's controller code uses."""

    def __init__(self, action, argument_spec, supports_check_mode=True, mutually_exclusive=None,
                 required_if=None, required_one_of=None, required_together=None):
        self._action = action
        self.warnings = []
        self.deprecations = []
        validator = ArgumentSpecValidator(
            argument_spec, mutually_exclusive=mutually_exclusive, required_if=required_if,
            required_one_of=required_one_of, required_together=required_together)
        validated = validator.validate(action._task.args)
        self.no_log_values = validated._no_log_values
        for warning in validated._warnings:
            self.warn("Both option %s and its alias %s are set." % (warning["option"], warning["alias"]))
        for deprecation in validated._deprecations:
            self.deprecate("Alias '%s' is deprecated." % deprecation["name"], version=deprecation.get("version"),
                           collection_name=deprecation.get("collection_name"))
        self.params = validated.validated_parameters
        if validated.error_messages:
            self.fail_json(msg="%s: %s" % (action._task.action, ", ".join(validated.error_messages)),
                           error="invalid_argument")
        self.check_mode = bool(action._task.check_mode)
        if self.check_mode and not supports_check_mode:
            self.exit_json(skipped=True, msg="remote module (%s) does not support check mode" % action._task.action)
        self._diff = bool(action._task.diff)

    def warn(self, warning):
        self.warnings.append(to_text(warning))

    def deprecate(self, msg, version=None, date=None, collection_name=None):
        entry = dict(msg=to_text(msg), collection_name=collection_name)
        if version is not None:
            entry["version"] = version
        if date is not None:
            entry["date"] = date
        self.deprecations.append(entry)

    def exit_json(self, **result):
        result.setdefault("changed", False)
        raise _ModuleExit(result)

    def fail_json(self, msg, **result):
        result.update(failed=True, msg=to_text(msg))
        result.setdefault("changed", False)
        raise _ModuleExit(result)


class ControllerAction(ActionBase):
    """Base of the collection's controller-only action plugins.

    Subclasses set ``ARGUMENT_SPEC`` (and optionally ``MODULE_KWARGS``) and implement
    ``run_module(module)``, ending with ``module.exit_json`` or ``module.fail_json``.
    """

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}
    MODULE_KWARGS = {}

    def run_module(self, module):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(ControllerAction, self).run(tmp, task_vars)
        del tmp
        self._task_vars = task_vars or {}
        module = None
        try:
            module = ActionModuleAPI(self, self.ARGUMENT_SPEC, **self.MODULE_KWARGS)
            self.run_module(module)
            raise _ModuleExit(dict(changed=False))
        except _ModuleExit as exit_:
            result.update(exit_.result)
        except EESZTConnectError as exc:
            result.update(failed=True, changed=False, msg=to_text(exc), error=error_code(exc))
        if module is not None:
            if module.warnings:
                result["warnings"] = list(result.get("warnings") or []) + module.warnings
            if module.deprecations:
                result["deprecations"] = list(result.get("deprecations") or []) + module.deprecations
        return result
