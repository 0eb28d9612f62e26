# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.waf_certificate: open and validate a WAF-SSL PFX.

The one import path for callers; the code lives in the modules beside it:

- ``pfx.py``: ``load_pfx`` opens a PKCS#12 file (AES-256, 3DES or legacy RC2-40) and tells a wrong
  password from a damaged file; ``load_ca_file`` reads the CA file;
- ``pkcs12_der.py``: the PKCS#12 structure read before ``cryptography`` opens it (``inspect_pfx``, the MAC
  check ``verify_mac``, ``unsupported_algorithms``);
- ``validation.py``: ``validate`` checks the content before anything is sent to a site; ``build_pkcs12``
  re-encrypts the key and chain for ``client.p12`` and ``keystore.p12``;
- ``crypto.py``: the ``cryptography`` import, ``certificate_facts(cert, now)``, ``issued_by``;
- ``errors.py``: every failure is an ``EesztCertificateError`` subclass with its own ``code`` and a message
  that names the file (never the password) and says what to do.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

# Re-exported: callers import these names from here.
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import (  # noqa: F401 pylint: disable=unused-import
    CRYPTOGRAPHY_IMPORT_ERROR,
    certificate_facts,
    fingerprint,
    issued_by,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.errors import (  # noqa: F401 pylint: disable=unused-import
    CaFileError,
    CertificateExpiredError,
    CertificateExpiresSoonError,
    CertificateMissingError,
    CertificateNotYetValidError,
    ChainError,
    ClientAuthMissingError,
    InstitutionMismatchError,
    KeyMismatchError,
    KeyMissingError,
    MissingLibraryError,
    PfxCorruptError,
    PfxError,
    PfxHasNoPasswordError,
    PfxLegacyUnsupportedError,
    PfxNotFoundError,
    PfxNotPkcs12Error,
    PfxPasswordError,
    PfxPasswordMissingError,
    PfxUnsupportedAlgorithmError,
    UntrustedIssuerError,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.pfx import (  # noqa: F401 pylint: disable=unused-import
    PfxContents,
    load_ca_file,
    load_pfx,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.pkcs12_der import (  # noqa: F401 pylint: disable=unused-import
    MAX_MAC_ITERATIONS,
    inspect_pfx,
    unsupported_algorithms,
    verify_mac,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.validation import (  # noqa: F401 pylint: disable=unused-import
    EXPORT_LEVELS,
    MATCH_ATTRIBUTES,
    ValidatedCertificate,
    build_chain,
    build_pkcs12,
    institution_matches,
    institution_values,
    validate,
)
