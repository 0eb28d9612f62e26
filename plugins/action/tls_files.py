# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.tls_files (see the module for the documentation): renders the templates of
``templates`` on the controller, each once, as ansible.builtin.template's action does (no template lookup, no
copy of the task's variables), runs the module once and, when clock_max_skew is set, compares the site's clock
it returns with the controller's, read just before and just after the run (plugin_utils/common/clock.py), so
the clock check costs no run of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible.errors import AnsibleError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase
from ansible.template import trust_as_template

from ansible_collections.eeszt.connect.plugins.module_utils.tls.files import TEMPLATE_SPEC
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import variables as variables_
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.clock import compare_clocks

_CLOCK_OPTIONS = ("clock_max_skew", "clock_on_skew")
_TEMPLATES_SPEC = dict(templates=dict(type="list", elements="dict", default=[], options=TEMPLATE_SPEC))


class _TemplateError(Exception):
    """A template of ``templates`` that cannot be used; ``code`` is the result's ``error``."""

    def __init__(self, message, code):
        super(_TemplateError, self).__init__(message)
        self.code = code


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        max_skew = args.pop("clock_max_skew", None)
        on_skew = args.pop("clock_on_skew", None) or "warn"
        templates = args.pop("templates", None)
        publish = args.pop("publish", None)
        if publish is not None and not isinstance(publish, dict):
            result.update(failed=True, changed=False, error="usage",
                          msg="publish must be a dictionary (got %s)" % type(publish).__name__)
            return result
        if max_skew is not None:
            try:
                max_skew = int(max_skew)
            except (TypeError, ValueError):
                max_skew = -1
            if max_skew < 0 or on_skew not in ("warn", "fail"):
                result.update(failed=True, error="usage",
                              msg="clock_max_skew must be a whole number of seconds, 0 or more, and clock_on_skew "
                                  "warn or fail (got %r, %r)" % (self._task.args.get("clock_max_skew"), on_skew))
                return result
        if templates:
            try:
                self._add_templates(args, templates, task_vars or {})
            except _TemplateError as exc:
                result.update(failed=True, changed=False, error=exc.code, msg=to_text(exc))
                return result
        before = time.time()
        result.update(self._execute_module(module_name="eeszt.connect.tls_files", module_args=args,
                                           task_vars=task_vars))
        after = time.time()
        if publish is not None and not result.get("failed"):
            result.update(publish)
            result.update(stage="tls", unreachable=False, clock=None)
        if max_skew is None or result.get("failed") or "site_time" not in result:
            return result
        clock = compare_clocks(int(result["site_time"]), before, after, max_skew, on_skew)
        warnings = clock.pop("warnings", [])
        failed = clock.pop("failed", False)
        clock.pop("error", None)
        result["clock"] = clock
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        if failed:
            result.update(failed=True, error="clock_skew", msg=clock["msg"])
        return result

    def _add_templates(self, args, templates, task_vars):
        """Render each template once and append it to ``files`` or, when secret, to ``secret_files``."""
        checked = ArgumentSpecValidator(_TEMPLATES_SPEC).validate(dict(templates=templates))
        if checked.errors.errors:
            raise _TemplateError("templates: %s" % "; ".join(
                ("unsupported option " if isinstance(error, UnsupportedError) else "") + to_text(error.msg)
                for error in checked.errors.errors), "usage")
        entries = checked.validated_parameters["templates"]
        sources = [self._read(entry["src"], index) for index, entry in enumerate(entries)]
        # The variables the templates refer to, each templated once for all of them (plugin_utils/common/
        # variables.py); values that call a lookup stay for the template to resolve only where it needs them.
        names = set()
        for dummy, data in sources:
            names.update(variables_.referenced_names(data))
        eager = sorted(name for name in names if name in task_vars and not variables_.calls_a_lookup(task_vars[name]))
        layer = variables_.resolve(self._templar, task_vars, eager)[1]
        rendered = dict(files=[], secret_files=[])
        for index, entry in enumerate(entries):
            content = self._render(entry["src"], index, sources[index], layer)
            rendered["secret_files" if entry["secret"] else "files"].append(
                dict(path=entry["path"], content=content, mode=entry["mode"]))
        for option, entries in rendered.items():
            if entries:
                args[option] = list(args.get(option) or []) + entries

    def _read(self, src, index):
        """(path, trusted text) of template ``src``, found as ansible.builtin.template finds its source."""
        try:
            source = self._find_needle("templates", src)
        except AnsibleError as exc:
            raise _TemplateError("the template %s (templates[%d]) was not found on the controller: %s"
                                 % (src, index, to_text(exc.message)), "template_not_found")
        try:
            return source, trust_as_template(self._loader.get_text_file_contents(source))
        except AnsibleError as exc:
            raise _TemplateError("the template %s (templates[%d]) cannot be rendered: %s"
                                 % (src, index, to_text(exc.message)), "template_failed")

    def _render(self, src, index, read, variables):
        """The text of a template read by ``_read``, rendered with ``variables`` (ansible.builtin.template's
        way: includes and imports are looked for beside the template, then in each search path)."""
        source, data = read
        searchpath = [os.path.dirname(source)]
        for path in list(variables.get("ansible_search_path") or []) + [self._loader.get_basedir()]:
            searchpath.extend([os.path.join(path, "templates"), path])
        try:
            templar = self._templar.copy_with_new_env(searchpath=searchpath, available_variables=variables)
            text = templar.template(data, escape_backslashes=False, overrides=dict(trim_blocks=True))
        except AnsibleError as exc:
            raise _TemplateError("the template %s (templates[%d]) cannot be rendered: %s"
                                 % (src, index, to_text(exc.message)), "template_failed")
        return "" if text is None else to_text(text)
