# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared documentation of the actions that do PKI work on the controller (certificates, CA bundles, seals).

The version below is ``CRYPTOGRAPHY_MINIMUM`` of ``plugins/plugin_utils/pki/__init__.py``
(tests/unit/test_pki_once.py checks that they agree).
"""

from __future__ import annotations


class ModuleDocFragment:

    # ansible-doc requires every fragment to carry options or attributes: none of its own here.
    DOCUMENTATION = r"""
options: {}
requirements:
  - cryptography >= 40.0 on the controller (sites need only the Python standard library)
notes:
  - Certificates, PKCS#12 files and seals are read on the Ansible controller with the Python library
    C(cryptography), 40.0 or newer; without it the task fails and says so. Subjects and issuers are
    written as RFC 4514 strings with the same attribute names as the site's connection check
    (C(serialNumber), C(organizationIdentifier), ...).
"""
