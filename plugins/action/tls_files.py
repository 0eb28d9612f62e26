# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.tls_files (see the module for the documentation): runs the module
once and, when clock_max_skew is set, compares the site's clock it returns with the controller's, read
just before and just after the run (plugin_utils/common/clock.py), so the clock check costs no run of its own."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.clock import compare_clocks

_CLOCK_OPTIONS = ("clock_max_skew", "clock_on_skew")


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        max_skew = args.pop("clock_max_skew", None)
        on_skew = args.pop("clock_on_skew", None) or "warn"
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
        before = time.time()
        result.update(self._execute_module(module_name="eeszt.connect.tls_files", module_args=args,
                                           task_vars=task_vars))
        after = time.time()
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
