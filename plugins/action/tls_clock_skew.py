# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.tls_clock_skew: compare a site's clock with the controller's."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import SiteAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.clock import compare_clocks

ARGUMENT_SPEC = {
    "max_skew": {"type": "int", "default": 60},
    "on_skew": {"type": "str", "default": "warn", "choices": ["warn", "fail"]},
}


class ActionModule(SiteAction):
    """Reads the site's clock with ``date -u +%s`` (a command, no module: no Python needed on the site)."""

    ARGUMENT_SPEC = ARGUMENT_SPEC
    CONTROLLER_OPTIONS = tuple(ARGUMENT_SPEC)

    def run_site(self, args, result):
        if args["max_skew"] < 0:
            result.update(failed=True, error="usage", msg="max_skew must not be negative")
            return
        before = time.time()
        out = self._low_level_execute_command("date -u +%s", sudoable=False)
        after = time.time()
        stdout = (out.get("stdout") or "").strip()
        if out.get("rc") != 0 or not stdout.isdigit():
            result.update(failed=True, rc=out.get("rc"), error="clock_unreadable",
                          msg="cannot read the site's clock with 'date -u +%%s': %s"
                          % ((out.get("stderr") or stdout or "no output").strip()))
            return
        result["changed"] = False
        result.update(compare_clocks(int(stdout), before, after, args["max_skew"], args["on_skew"]))
