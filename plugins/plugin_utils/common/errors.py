# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors that more than one controller folder raises or catches: the proof archive's root and the seals'.

``pki/seal.py`` raises the seal errors and ``proofs/`` and ``report/`` catch them as errors of the archive, so
they live here, below all three (``tests/unit/test_import_tiers.py``). The archive's own refusals are in
``proofs/errors.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError


class ProofsError(EESZTConnectError):
    """Base of the proof archive's errors."""


class SealError(ProofsError):
    """Signing failed: no usable key or certificate."""


class SealInvalidError(ProofsError):
    """A seal that does not verify."""
