# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/common/errors.py: the archive's root error and the seal errors, shared by pki/, proofs/ and report/."""

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError, SealError, SealInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import SealDigestMismatchError, SealMalformedError


@pytest.mark.parametrize("error", [SealError, SealInvalidError, SealMalformedError, SealDigestMismatchError])
def test_a_seal_error_is_an_archive_error(error):
    # proofs/ and the actions catch ProofsError around sealing and verifying: every seal error must reach them.
    assert issubclass(error, ProofsError)
    assert issubclass(error, EESZTConnectError)


def test_the_codes():
    assert error_code(ProofsError("x")) == "error"
    assert error_code(SealError("x", code="seal_failed")) == "seal_failed"
    assert not issubclass(SealError, SealInvalidError) and not issubclass(SealInvalidError, SealError)
