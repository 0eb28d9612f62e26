# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Signing material and proofs for the unit tests of eeszt.connect.proofs_report (sealing)."""

import datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize

NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
PASSWORD = "Sms-Jelszo-2026-abcdefgh"


def make_pfx(path, institution):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WAF-SSL %s" % institution)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(int(institution)).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=400)).sign(key, hashes.SHA256()))
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"waf", key, cert, None,
                                                           BestAvailableEncryption(PASSWORD.encode())))
    return str(path)


def proof(institution, site):
    stamp = "2026-11-25T10:00:00Z"
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site, "host": "h" + site,
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                               "not_after": "2027-11-25T00:00:00Z"},
        "endpoints": [], "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})
