# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Exceptions of the connection check (module eeszt.connect.connection_check).

A failing connection is not an exception: it is a classified result. These
are for what stops the module itself (bad options, an unwritable proof
directory); the module turns them into ``fail_json`` in one place.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError


class CheckError(EESZTConnectError):
    """Base class; the message is meant for the user, ``code`` is the result's ``error``."""

    code = "check_failed"


class CheckConfigError(CheckError):
    """An option value the check cannot work with (URL, header, proxy)."""

    code = "check_config"


class ProofError(CheckError):
    """The proof file cannot be written."""

    code = "proof_write_failed"


class MetricsError(CheckError):
    """The metrics file cannot be written."""

    code = "metrics_write_failed"


class StepFailure(CheckError):
    """A step of the check failed; caught by the probe and turned into a
    classified result (never reaches the user as an error)."""

    code = "step_failed"

    def __init__(self, category, reason, details=None):
        super(StepFailure, self).__init__(reason)
        self.category = category
        self.reason = reason
        self.details = details or {}
