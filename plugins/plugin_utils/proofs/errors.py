# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The proof archive's refusals (their root, ``ProofsError``, and the seals' errors are in ``common/errors.py``)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError


class ProofRejectedError(ProofsError):
    """A proof from a site that cannot be archived (damaged, another site's, hash mismatch)."""


class ProofInvalidError(ProofRejectedError):
    """A file a site sent as a proof that is not one: not JSON, or it breaks the proof schema, or its times
    cannot be true. It is quarantined (``quarantine.py``), never archived as a proof nor sealed."""

    def __init__(self, shown, reason):
        super(ProofInvalidError, self).__init__("%s: %s" % (shown, reason))
        self.shown = shown
        self.reason = reason
        self.data = None  # the bytes, when the caller has them (for the quarantine)


class ArchiveConflictError(ProofsError):
    """An archived file with the same name but other content: never overwritten."""
