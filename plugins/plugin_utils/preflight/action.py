# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the two preflight actions (eeszt.connect.site_preflight, eeszt.connect.fleet_preflight).

Both derive from plugin_utils/common/action_module.py's ControllerAction, which validates their options, gives
every failure an ``error`` code and never connects to a host; what they share beyond it is here: inventory
variables templated on the controller, each once, and the end of ``run_module`` with a result they built.
"""

from __future__ import annotations

from ansible_collections.eeszt.connect.plugins.plugin_utils.common import variables as variables_


def template_values(action, variables, names, on_error=None):
    """{name: templated value} for the ``names`` set in ``variables``, each templated once with the ``action``'s
    templar (a value that others refer to is reused, plugin_utils/common/variables.py); a name that does not
    template is left out and handed to ``on_error(name, exc)`` when given."""
    return variables_.resolve(action._templar, variables, names, on_error)[0]


def finish(module, result):
    """End ``run_module`` with ``result``: a failure (``fail_json``, its ``error`` kept) when it says so, else
    ``exit_json``."""
    if result.get("failed"):
        module.fail_json(**result)
    module.exit_json(**result)
