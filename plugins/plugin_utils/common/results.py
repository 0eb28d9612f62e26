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


# An error code (the ``error`` return value of the collection's modules and actions): a short word, never free
# text. (plugins/callback/fleet_summary.py checks codes with the same pattern.)
ERROR_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,63}$")


def clause(text):
    """``text`` without the one full stop that ends it, for a text that another part follows after ``; ``.

    "refused the TCP connection.; hint: ..." reads as a typo; an ellipsis ("...", a text cut short) and any
    other ending are kept.
    """
    text = "" if text is None else "%s" % (text,)
    if text.endswith(".") and not text.endswith(".."):
        return text[:-1]
    return text


def semicolons(*parts):
    """The parts that are not empty, joined with ``; ``, each but the last without its closing full stop
    (clause()): ``semicolons("tcp_refused: refused.", "hint: open it.")`` is
    ``tcp_refused: refused; hint: open it.``."""
    kept = [part for part in parts if part]
    return "; ".join([clause(part) for part in kept[:-1]] + kept[-1:])
