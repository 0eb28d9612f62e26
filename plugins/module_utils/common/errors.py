# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The root of the collection's exception tree.

Every error raised by the collection's module_utils and plugin_utils derives from
EESZTConnectError. Each module and action plugin catches it once and turns
its message into ``fail_json`` / a failed result; messages are written for
the operator: what is wrong and what to do, never a secret.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate


class EESZTConnectError(Exception):
    """Base of every error raised by the collection's module_utils and plugin_utils.

    ``code`` is the stable, machine-readable ``error`` value of the failed result; subclasses set their own
    (a playbook may test ``result.error == 'pfx_wrong_password'``); ``code=`` gives one instance its own.
    """

    code = "error"

    def __init__(self, *args, **kwargs):
        code = kwargs.pop("code", None)
        super(EESZTConnectError, self).__init__(*args, **kwargs)
        if code is not None:
            self.code = code


def error_code(exc):
    """The stable ``error`` code of an exception of the collection (``error`` for any other)."""
    return getattr(exc, "code", None) or "error"
