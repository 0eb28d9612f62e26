# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors of eeszt.connect.waf_certificate's controller side: each has a stable ``code``
(returned as ``error``) and a message that names the file (never the password) and says what to do."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError


class PfxError(EesztCertificateError):
    code = "pfx_error"


class PfxNotFoundError(PfxError):
    code = "pfx_not_found"


class PfxCorruptError(PfxError):
    code = "pfx_corrupt"


class PfxNotPkcs12Error(PfxCorruptError):
    """A complete file of another kind (PEM text, a single certificate, a ZIP archive, base64 text)."""
    code = "pfx_not_pkcs12"


class PfxPasswordError(PfxError):
    code = "pfx_wrong_password"


class PfxPasswordMissingError(PfxPasswordError):
    """The file is protected by a password and none (or an empty one) was given."""
    code = "pfx_password_missing"


class PfxHasNoPasswordError(PfxPasswordError):
    """A password was given for a file exported without one."""
    code = "pfx_has_no_password"


class PfxLegacyUnsupportedError(PfxError):
    code = "pfx_legacy_unsupported"


class PfxUnsupportedAlgorithmError(PfxError):
    code = "pfx_unsupported_algorithm"


class KeyMissingError(PfxError):
    code = "key_missing"


class CertificateMissingError(PfxError):
    code = "certificate_missing"


class KeyMismatchError(PfxError):
    code = "key_mismatch"


class CertificateExpiredError(PfxError):
    code = "certificate_expired"


class CertificateNotYetValidError(PfxError):
    code = "certificate_not_yet_valid"


class CertificateExpiresSoonError(PfxError):
    code = "certificate_expires_soon"


class ClientAuthMissingError(PfxError):
    code = "client_auth_missing"


class ChainError(PfxError):
    code = "chain_incomplete"


class UntrustedIssuerError(ChainError):
    code = "issuer_untrusted"


class InstitutionMismatchError(PfxError):
    code = "institution_mismatch"


class MissingLibraryError(EesztCertificateError):
    """The controller's Python lacks ``cryptography``."""
    code = "missing_library"


class CaFileError(EesztCertificateError):
    code = "ca_file_invalid"
