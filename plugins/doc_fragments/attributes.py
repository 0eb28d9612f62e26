# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared C(attributes) documentation of eeszt.connect's plugins."""

from __future__ import annotations


class ModuleDocFragment:

    # An action plugin that only reads on the controller and never contacts the host.
    CONTROLLER_CHECK = r"""
attributes:
  action:
    support: full
    description: Runs entirely on the controller.
  check_mode:
    support: full
    description: Changes nothing, in check mode or not.
  diff_mode:
    support: none
    description: Changes nothing, so there is no diff.
  platform:
    support: full
    platforms: all
    description: Runs on the controller; no host is contacted.
"""

    # An action plugin that is the whole plugin and writes on the controller only (check mode writes nothing).
    CONTROLLER_ACTION = r"""
attributes:
  action:
    support: full
    description: Runs entirely on the controller (an action plugin; the module file holds only this documentation).
  check_mode:
    support: full
    description: Writes nothing in check mode and reports what would change.
  diff_mode:
    support: none
    description: Not supported.
  platform:
    support: full
    platforms: all
    description: Runs on the controller; no host is contacted.
"""
