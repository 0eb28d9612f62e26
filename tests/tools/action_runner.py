# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run one of the collection's controller-only action plugins in-process, as a task would (unit tests)."""

import importlib
from unittest import mock

from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext


def run_action(name, args, check_mode=False, diff=False, task_vars=None):
    """The result of action plugin ``eeszt.connect.NAME`` with ``args`` (no connection is made)."""
    plugin = importlib.import_module("ansible_collections.eeszt.connect.plugins.action." + name)
    task = mock.MagicMock()
    task.args = dict(args)
    task.action = "eeszt.connect." + name
    task.async_val = 0
    task.check_mode = check_mode
    task.diff = diff
    connection = mock.MagicMock()
    connection._shell.tmpdir = None
    action = plugin.ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=DataLoader(),
                                 templar=None, shared_loader_obj=None)
    return action.run(task_vars=dict(task_vars or {}))
