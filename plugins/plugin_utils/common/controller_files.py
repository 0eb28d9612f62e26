# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where a controller-side file variable points: one rule for every action plugin and the preflight.

A vendor's files (the institution's PFX, the CA bundles, a signing key) live in the vendor's own
project, not in the installed collection, whose playbooks are the ones that run. So a relative path
is taken relative to the host's ``inventory_dir`` (the directory of the inventory file that defines
the host), as Ansible users expect of inventory variables; then, for compatibility, where Ansible's
``copy`` would look (the ``files/`` folders of the role and of the playbook). ``~`` is expanded.
When nothing is found, the error lists every place that was looked at.
"""

from __future__ import annotations

import os

from ansible.errors import AnsibleError


class ControllerFileNotFound(Exception):
    """A controller-side file was not found; ``looked`` lists where it was looked for."""

    def __init__(self, path, looked):
        super(ControllerFileNotFound, self).__init__(path)
        self.path = path
        self.looked = looked

    def where(self):
        """The places looked at, for a message."""
        return "; ".join(self.looked)


def candidates(path, inventory_dir):
    """The paths a relative or absolute ``path`` stands for, in the order they are tried."""
    path = os.path.expanduser(path)
    if os.path.isabs(path):
        return [os.path.normpath(path)]
    return [os.path.normpath(os.path.join(inventory_dir, path))] if inventory_dir else []


def find(path, task_vars, action=None):
    """The absolute path of an existing controller-side file, or ``ControllerFileNotFound``.

    ``task_vars`` gives the host's ``inventory_dir``; ``action`` (an ActionBase) adds Ansible's own
    search of ``files/`` folders for relative paths.
    """
    inventory_dir = (task_vars or {}).get("inventory_dir")
    looked = []
    for candidate in candidates(path, inventory_dir):
        if os.path.exists(candidate):
            return candidate
        looked.append(candidate + (" (relative to the inventory directory of the host)"
                                   if not os.path.isabs(os.path.expanduser(path)) else ""))
    if not os.path.isabs(os.path.expanduser(path)):
        if not inventory_dir:
            looked.append("no inventory directory (the host is not defined in an inventory file)")
        if action is not None:
            try:
                return action._find_needle("files", path)
            except AnsibleError:
                looked.append("the files/ folders of the role and of the playbook")
    raise ControllerFileNotFound(path, looked)


def not_found_message(what, variable, error):
    """The message for a file that was not found: what, which variable, where it was looked for."""
    return ("the %s %s (%s) was not found on the controller; looked in: %s. Set an absolute path, or a "
            "path relative to the directory of the inventory file that defines the host"
            % (what, error.path, variable, error.where()))
