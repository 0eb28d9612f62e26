# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The default paths on a site, stated once for the whole collection.

The modules take their option defaults from here, and the roles' defaults from here through the lookup
``eeszt.connect.site_path`` (a role run alone cannot see another role's defaults, so each role that needs
the certificate directory asks for the same value instead of repeating it).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate

SITE_PATHS = {
    # The certificate set (cert.pem, key.pem, chain.pem, fullchain.pem, ...): eeszt_certificate_dir.
    "certificate_dir": "/etc/eeszt/tls",
    # EESZT's server CA bundle on the site: eeszt_tls_ca_bundle.
    "ca_bundle": "/etc/eeszt/tls/eeszt-ca.pem",
    # The client settings files (eeszt.env, openssl.cnf, curlrc, java.properties): eeszt_tls_config_dir.
    "config_dir": "/etc/eeszt",
    # The connection check's proof files: eeszt_check_proof_dir.
    "proof_dir": "/var/lib/eeszt/proofs",
}

CERTIFICATE_DIR = SITE_PATHS["certificate_dir"]
CA_BUNDLE = SITE_PATHS["ca_bundle"]
CONFIG_DIR = SITE_PATHS["config_dir"]
PROOF_DIR = SITE_PATHS["proof_dir"]
