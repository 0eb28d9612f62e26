# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the controller reads out of task results, once for the callback, the filters and the roles."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_TASK_FAILED = re.compile(r"^(Task failed: )+")


def failure_reason(message):
    """``message`` (a failed or unreachable result's ``msg``) without Ansible's ``Task failed: `` prefix.

    ansible-core 2.19 puts the prefix before the messages of failed and unreachable results, once or
    several times when a message is passed on; every leading one is removed, nothing else is changed.
    None is the empty text.
    """
    return _TASK_FAILED.sub("", "" if message is None else "%s" % (message,))
