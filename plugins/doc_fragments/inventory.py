# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared documentation of eeszt.connect's inventory plugins (each adds its own C(choices) to O(plugin)), and the
configuration file name each recognises (plugin_utils/inventory/plugin_base.py: ConfigFileInventory)."""

from __future__ import annotations


class ModuleDocFragment:

    DOCUMENTATION = r"""
options:
  plugin:
    description: The name of this plugin, fully qualified (the only value of its choices).
    type: str
    required: true
notes:
  - "The configuration file is recognised by the end of its name: C(eeszt_sites.yml) or C(eeszt_sites.yaml) for
    P(eeszt.connect.sites#inventory), C(eeszt_demo.yml) or C(eeszt_demo.yaml) for
    P(eeszt.connect.demo_sites#inventory) (C(FILE_SUFFIX) in C(plugin_utils/inventory/plugin_base.py))."
"""
