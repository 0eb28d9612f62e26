# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two bases of the collection's action plugins, and the one rule of the seam between controller and site.

Every ``plugins/action/*.py`` derives its ``ActionModule`` from exactly one of them, and only they run modules
(``_execute_module``) and validate argument specs (``validate_argument_spec``, ``ArgumentSpecValidator`` on the
task's options); tests/unit/plugins/action/test_bases.py enforces it (docs/architecture.md, "The seam").

- :class:`ControllerAction`: the work is wholly on the controller, backed by ``plugin_utils`` (it may use
  ``cryptography``); its module file holds only the documentation. It gives the action what a module has: its
  options validated against one argument spec (the one its documentation describes), ``check_mode`` and ``diff``
  from the play, and ``fail_json``/``exit_json``/``warn``/``deprecate`` on an :class:`ActionModuleAPI` object,
  so that the plugin's ``run_module(module)`` reads like a module's ``main()``. Nothing here connects to the host.
- :class:`SiteAction`: the action prepares on the controller (files, secrets and checks that must not reach the
  site) and then runs one module on the site (``MODULE``; :meth:`SiteAction.run_on_site`), or several, each
  through that one call. Its options are validated against ``ARGUMENT_SPEC`` (the module's own spec, shared from
  ``module_utils/<area>/``, which also holds the controller-only options); ``CONTROLLER_OPTIONS`` are never sent
  to the site.

Both turn the collection's exception tree into a failed result in one place (an :class:`EESZTConnectError`
fails the task with its message and its stable ``error`` code), and every failed result leaves a base with an
``error`` code: bad options are ``invalid_argument``.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code

# Ansible replaces every occurrence of a no_log value in a module's result with ******** (docs/security.md): a
# shorter secret option (a password that a module on the site gets) would garble the module's output, so the
# actions refuse one on the controller, before the site is touched.
MIN_PASSWORD_LENGTH = 8
# The code of a failed result that was given none (every failure of an action has one).
FAILED = "action_failed"


def coded(result, code=FAILED):
    """``result`` with an ``error`` code when it failed without one (``code``)."""
    if result.get("failed") and not result.get("error"):
        result["error"] = code
    return result


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
        return coded(result)


class SiteAction(ActionBase):
    """Base of the collection's actions that prepare on the controller and run a module on the site.

    Subclasses set ``MODULE`` (the module that :meth:`run_on_site` runs), ``ARGUMENT_SPEC`` (every option of the
    task, the module's and the controller's; a spec the module shares lives in ``module_utils/<area>/``),
    ``CONTROLLER_OPTIONS`` (the names of the options only the controller reads: :meth:`site_args` leaves them
    out) and, when needed, ``VALIDATION`` (``required_if``, ``mutually_exclusive``, ... for the validator). They
    implement ``run_site(args, result)``: ``args`` are the validated options, ``result`` the task's result, to
    update. ``RESULT`` is what every result of the action carries, failures included (set before the options
    are validated). An :class:`EESZTConnectError` that reaches the base fails the task with its ``error`` code.
    """

    TRANSFERS_FILES = False
    MODULE = None
    ARGUMENT_SPEC = {}
    CONTROLLER_OPTIONS = ()
    VALIDATION = {}
    RESULT = {}
    _task_vars = None

    def run_site(self, args, result):  # pragma: no cover - every subclass implements it
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super(SiteAction, self).run(tmp, task_vars)
        del tmp
        self._task_vars = task_vars or {}
        result.update(self.RESULT)
        try:
            dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC, **self.VALIDATION)
        except AnsibleActionFail as exc:
            result.update(failed=True, changed=False, error="invalid_argument", msg=to_text(exc.message))
            return result
        try:
            self.run_site(args, result)
        except EESZTConnectError as exc:
            result.update(failed=True, changed=False, msg=to_text(exc), error=error_code(exc))
        return coded(result)

    def site_args(self, options=None):
        """The options the site gets: ``options`` (default: the task's, as the task gave them) without the
        controller-only ones."""
        options = self._task.args if options is None else options
        return dict((key, value) for key, value in options.items() if key not in self.CONTROLLER_OPTIONS)

    def run_on_site(self, module_args, module=None):
        """The result of one run of ``module`` (default ``MODULE``) on the site with ``module_args``.

        Without ``invocation`` (the module's arguments, secrets masked or not, stay out of results and facts),
        and with an ``error`` code when it failed (``module_failure`` when the module gave none).
        """
        found = self._execute_module(module_name=module or self.MODULE, module_args=module_args,
                                     task_vars=self._task_vars)
        found.pop("invocation", None)
        return coded(found, "module_failure")
