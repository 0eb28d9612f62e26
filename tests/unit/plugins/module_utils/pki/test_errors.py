# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""module_utils/pki/errors.py: the certificate reader's error, below the check that catches it."""

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError, error_code
from ansible_collections.eeszt.connect.plugins.module_utils.pki.errors import CertificateParseError
from ansible_collections.eeszt.connect.plugins.module_utils.pki.x509 import read_pem_certificate


def test_the_reader_raises_it_with_its_stable_code(tmp_path):
    path = tmp_path / "empty.pem"
    path.write_text("no certificate here\n")
    try:
        read_pem_certificate(str(path))
    except CertificateParseError as exc:
        assert isinstance(exc, EESZTConnectError)
        assert error_code(exc) == "client_cert_unreadable"
        assert str(exc) == "%s holds no PEM certificate" % path
    else:
        raise AssertionError("no CertificateParseError")
