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


class CheckError(Exception):
    """Base class; the message is meant for the user."""


class CheckConfigError(CheckError):
    """An option value the check cannot work with (URL, header, proxy)."""


class CertificateParseError(CheckError):
    """A certificate file that cannot be read or decoded."""


class ProofError(CheckError):
    """The proof file cannot be written."""


class MetricsError(CheckError):
    """The metrics file cannot be written."""


class StepFailure(CheckError):
    """A step of the check failed; caught by the probe and turned into a
    classified result (never reaches the user as an error)."""

    def __init__(self, category, reason, details=None):
        super(StepFailure, self).__init__(reason)
        self.category = category
        self.reason = reason
        self.details = details or {}
