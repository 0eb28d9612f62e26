# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the two preflight actions (eeszt.connect.site_preflight, eeszt.connect.fleet_preflight) share: they
never connect to a host, validate their options against ``ARGUMENT_SPEC`` and template inventory variables
on the controller."""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.eeszt.connect.plugins.plugin_utils.common import variables as variables_


class PreflightAction(ActionBase):
    """Base of the preflight actions; subclasses set ``ARGUMENT_SPEC``."""

    TRANSFERS_FILES = False
    _requires_connection = False
    ARGUMENT_SPEC = {}

    def _start(self, tmp, task_vars):
        """The base result and the validated options of this task."""
        result = super(PreflightAction, self).run(tmp, task_vars)
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        return result, args

    def _template_values(self, variables, names, on_error=None):
        """{name: templated value} for the ``names`` set in ``variables``, each templated once (a value that
        others refer to is reused, plugin_utils/common/variables.py); a name that does not template is left
        out and handed to ``on_error(name, exc)`` when given."""
        return variables_.resolve(self._templar, variables, names, on_error)[0]
