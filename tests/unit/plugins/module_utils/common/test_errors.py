# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The error root (module_utils/common/errors.py)."""

from ansible_collections.eeszt.connect.plugins.module_utils.common import errors


def test_error_codes_are_stable():
    class Specific(errors.EESZTConnectError):
        code = "specific"

    assert errors.error_code(Specific("x")) == "specific"
    assert errors.error_code(errors.EESZTConnectError("x")) == "error"
    assert errors.error_code(ValueError("x")) == "error"
    instance = errors.EESZTConnectError("x")
    instance.code = "overridden"
    assert errors.error_code(instance) == "overridden"


def test_the_root_code():
    assert errors.EESZTConnectError.code == "error"


def test_one_instance_may_carry_its_own_code():
    class Specific(errors.EESZTConnectError):
        code = "specific"

    raised = Specific("the message", code="narrower")
    assert (str(raised), errors.error_code(raised), Specific.code) == ("the message", "narrower", "specific")
    assert errors.error_code(Specific("x")) == "specific"
