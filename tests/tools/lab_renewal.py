# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A renewed lab WAF-SSL PFX for a site, to rehearse a certificate rotation.

The renewed certificate has the site's subject, a new RSA key and serial, and
is signed by the lab's client issuing CA (as a real renewal is), so the lab
WAF trusts it unless told otherwise. Used by tests/integration/test_rotation.py
and the Molecule ``rotation`` scenario.

    python tests/tools/lab_renewal.py LAB_DIR INSTITUTION_ID SITE_ID TARGET.p12

reads the site's PFX and password from LAB_DIR/pki/sites/, writes TARGET.p12
and TARGET.password (a new random password, mode 0600; never printed) and
prints one JSON object: path, sha256 and sha1 fingerprints (hex), serial.
"""

import argparse
import datetime
import json
import os
import secrets
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID


def _write(path, data, mode):
    tmp = "%s.tmp-%d" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def renew(pki, institution_id, site_id, target, password=None):
    """Write the renewed PFX at ``target`` (and its .password); returns its facts."""
    stem = os.path.join(pki, "sites", "%s-%s" % (institution_id, site_id))
    with open(stem + ".password", "rb") as handle:
        old_password = handle.read().strip()
    with open(stem + ".p12", "rb") as handle:
        old = pkcs12.load_pkcs12(handle.read(), old_password)
    with open(os.path.join(pki, "client-issuing-ca.pem"), "rb") as handle:
        issuing = x509.load_pem_x509_certificate(handle.read())
    with open(os.path.join(pki, "client-issuing-ca.key"), "rb") as handle:
        issuing_key = serialization.load_pem_private_key(handle.read(), None)
    with open(os.path.join(pki, "client-root-ca.pem"), "rb") as handle:
        root = x509.load_pem_x509_certificate(handle.read())
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(old.cert.certificate.subject).issuer_name(issuing.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=365))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuing_key.public_key()),
                           critical=False)
            .sign(issuing_key, hashes.SHA256()))
    password = password or secrets.token_urlsafe(18)
    target = os.path.abspath(target)
    os.makedirs(os.path.dirname(target), mode=0o700, exist_ok=True)
    stem = target[:-4] if target.endswith(".p12") else target
    _write(stem + ".password", (password + "\n").encode(), 0o600)
    _write(target, pkcs12.serialize_key_and_certificates(
        b"eeszt-waf", key, cert, [issuing, root], serialization.BestAvailableEncryption(password.encode())), 0o600)
    return {"path": target, "sha256": cert.fingerprint(hashes.SHA256()).hex(),
            "sha1": cert.fingerprint(hashes.SHA1()).hex(), "serial": format(cert.serial_number, "x")}  # nosec: SHA-1 is nginx's $ssl_client_fingerprint


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("lab_dir", help="the lab directory (its pki/ holds the CAs and the sites' PFX files)")
    parser.add_argument("institution_id")
    parser.add_argument("site_id")
    parser.add_argument("target", help="path of the renewed PFX; its password goes next to it (.password)")
    args = parser.parse_args(argv)
    facts = renew(os.path.join(args.lab_dir, "pki"), args.institution_id, args.site_id, args.target)
    json.dump(facts, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
