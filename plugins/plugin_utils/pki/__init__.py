# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PKI on the controller: PFX loading and validation, CA bundles, seals (these need ``cryptography``).

``CRYPTOGRAPHY_MINIMUM`` is the one stated minimum version of ``cryptography``: the newest API the
controller code calls without a fallback is ``Certificate.verify_directly_issued_by`` (cryptography 40.0;
``load_pem_x509_certificates`` is 39.0, the PKCS#12 ``encryption_builder`` 38.0). Every missing-library
message, galaxy.yml, README.md, requirements.txt and the modules' ``requirements`` state this value
(tests/unit/test_pki_once.py checks that they agree).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

CRYPTOGRAPHY_MINIMUM = "40.0"
