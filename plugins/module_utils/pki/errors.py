# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Errors of the site's certificate reader (``x509.py``); the connection check above catches them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError


class CertificateParseError(EESZTConnectError):
    """A certificate file that cannot be read or decoded."""

    code = "client_cert_unreadable"
