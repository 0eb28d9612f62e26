# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/proofs/errors.py: the archive's refusals."""

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ArchiveConflictError, ProofInvalidError, ProofRejectedError


def test_an_invalid_proof_is_a_rejected_proof_that_keeps_what_and_why():
    error = ProofInvalidError("100001/100001001/p.json", "not a JSON object (a JSON list)")
    assert isinstance(error, ProofRejectedError) and isinstance(error, ProofsError)
    assert str(error) == "100001/100001001/p.json: not a JSON object (a JSON list)"
    assert (error.shown, error.reason) == ("100001/100001001/p.json", "not a JSON object (a JSON list)")
    assert error.data is None


def test_a_conflict_is_an_archive_error_but_no_rejected_proof():
    assert issubclass(ArchiveConflictError, ProofsError)
    assert not issubclass(ArchiveConflictError, ProofRejectedError)
