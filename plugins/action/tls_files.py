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
from ansible.module_utils.common.text.converters import to_text
from ansible.template import trust_as_template

from ansible_collections.eeszt.connect.plugins.module_utils.tls.files import ACTION_OPTIONS_SPEC, argument_spec
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import variables as variables_
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import SiteAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.clock import compare_clocks
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.ca_bundle import bundle_sha256, validate_bundle


class _TemplateError(Exception):
    """A template of ``templates`` that cannot be used; ``code`` is the result's ``error``."""

    def __init__(self, message, code):
        super(_TemplateError, self).__init__(message)
        self.code = code


class ActionModule(SiteAction):

    MODULE = "eeszt.connect.tls_files"
    ARGUMENT_SPEC = argument_spec()
    CONTROLLER_OPTIONS = tuple(ACTION_OPTIONS_SPEC)

    def run_site(self, args, result):
        max_skew, on_skew, publish = args["clock_max_skew"], args["clock_on_skew"], args["publish"]
        if max_skew is not None and max_skew < 0:
            result.update(failed=True, error="usage",
                          msg="clock_max_skew must be a whole number of seconds, 0 or more, and clock_on_skew "
                              "warn or fail (got %r, %r)" % (self._task.args.get("clock_max_skew"), on_skew))
            return
        problems = [problem for problem in args["problems"] if problem]
        if problems:
            # The role's input checks, computed by the task (tls_client's vars/main.yml): refused before anything.
            result.update(failed=True, changed=False, error="invalid_input", msg=" ".join(problems))
            return
        # The site gets the options as the task gave them, without the controller's own.
        module_args = self.site_args()
        bundle = None
        if args["ca_bundle"] is not None:
            # Validated here as eeszt.connect.ca_bundle does (a CaBundleError fails the task with its code),
            # then installed with the other files by the same module run.
            bundle = self._ca_bundle(args["ca_bundle"], result)
            if bundle is None:
                return
            module_args["files"] = [dict(path=args["ca_bundle"]["path"], content=bundle["pem"],
                                         mode=args["ca_bundle"]["mode"])] + list(module_args.get("files") or [])
        if args["templates"]:
            try:
                self._add_templates(module_args, args["templates"], self._task_vars)
            except _TemplateError as exc:
                result.update(failed=True, changed=False, error=exc.code, msg=to_text(exc))
                return
        before = time.time()
        result.update(self.run_on_site(module_args))
        after = time.time()
        if publish is not None and not result.get("failed"):
            result.update(publish)
            result.update(stage="tls", unreachable=False, clock=None)
        if bundle is not None:
            if bundle["warnings"]:
                result["warnings"] = list(result.get("warnings") or []) + bundle["warnings"]
            if not result.get("failed"):
                result.update(ca_bundle_sha256=bundle["sha256"], ca_certificates=bundle["certificates"])
        if max_skew is None or result.get("failed") or "site_time" not in result:
            return
        clock = compare_clocks(int(result["site_time"]), before, after, max_skew, on_skew)
        warnings = clock.pop("warnings", [])
        failed = clock.pop("failed", False)
        clock.pop("error", None)
        result["clock"] = clock
        if warnings:
            result.setdefault("warnings", []).extend(warnings)
        if failed:
            result.update(failed=True, error="clock_skew", msg=clock["msg"])

    def _ca_bundle(self, options, result):
        """The CA bundle of ``options`` validated on the controller: {pem, sha256, certificates, warnings}; None
        with ``result`` failed when it is not found or not valid."""
        if options["warn_days"] < 0:
            result.update(failed=True, changed=False, error="usage", msg="ca_bundle.warn_days must not be negative")
            return None
        try:
            src = controller_files.find(options["src"], self._task_vars, action=self)
        except controller_files.ControllerFileNotFound as exc:
            result.update(failed=True, changed=False, error="not_found", msg=controller_files.not_found_message(
                "CA bundle", "ca_bundle.src, eeszt_tls_ca_bundle_src in the tls_client role", exc))
            return None
        # A CaBundleError (an EESZTConnectError) fails the task with its code, in the action base.
        pem, certificates, warnings = validate_bundle(src, warn_days=options["warn_days"])
        return dict(pem=pem, sha256=bundle_sha256(pem), warnings=warnings, certificates=certificates)

    def _add_templates(self, args, entries, task_vars):
        """Render each template (``entries``: validated ``templates``) once and append it to ``files`` or, when
        secret, to ``secret_files``."""
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
