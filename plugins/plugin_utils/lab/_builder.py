# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab PKI builder: reads what is under ``<lab_dir>/pki``, keeps what is current, (re)issues the rest,
and writes atomically (``module_utils/common/files``). Used by ``pki.py``; needs ``cryptography``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import json
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._cases import (
    SITES_DIR,
    _Cases,
    _PFX_FACTS,
    _pfx_facts,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._certs import (
    CA_BACKDATE_DAYS, CA_MIN_DAYS, FILES, MODE_DIR, MODE_PUBLIC, MODE_SECRET, RENEW_DAYS, VALIDITY_DAYS,
    ExtendedKeyUsageOID, LabPKIError, _cert_pem, _eku, _extension, _issue, _key_pem, _name, _new_rsa_key,
    _not_after, _not_before, _parse_iso, _utcnow, manifest_facts, fingerprint, key_matches, new_password,
    serialization, site_subject, subject_string, x509,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._pkcs12 import (
    _pkcs12_modern,
    load_pkcs12_certificates,
    pkcs12_mac_verifies,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.crypto import is_ca as _is_ca, issued_by

MANIFEST_SCHEMA = "eeszt.connect/lab-pki/v1"
PKI_SUBDIR = "pki"
MANIFEST_FILE = "manifest.json"
_PASSWORD = re.compile(r"[0-9A-Za-z_-]{16,}")


def _leaf(certs):
    leaves = [cert for cert in certs if not _is_ca(cert)]
    return leaves[0] if len(leaves) == 1 else None


# ---------------------------------------------------------------------------
# The builder
# ---------------------------------------------------------------------------


class _Issued:
    """A CA or leaf that is either current (cert, key) or (re)created by this run."""

    def __init__(self, cert=None, key=None, renewed=False):
        self.cert = cert
        self.key = key
        self.renewed = renewed


class _Builder(_Cases):
    def __init__(self, lab_dir, check_mode):
        try:
            lab_dir = os.fspath(lab_dir)
        except TypeError:
            lab_dir = None
        if not isinstance(lab_dir, str) or not lab_dir:
            raise LabPKIError("lab_dir must be a non-empty path")
        self.pki_dir = os.path.join(os.path.abspath(lab_dir), PKI_SUBDIR)
        self.check_mode = check_mode
        self.now = _utcnow()
        self.created = []
        self.updated = []
        self.changed = False
        self.previous = {}

    def load_previous_manifest(self):
        """Index the site and case entries of the existing manifest by PKCS#12 path."""
        data = self.read(MANIFEST_FILE)
        try:
            manifest = json.loads(data.decode("utf-8")) if data is not None else None
        except ValueError:
            manifest = None
        if not isinstance(manifest, dict) or manifest.get("schema") != MANIFEST_SCHEMA:
            return
        for section in ("sites", "cases"):
            entries = manifest.get(section)
            for entry in entries if isinstance(entries, list) else []:
                if isinstance(entry, dict) and isinstance(entry.get("pfx"), str):
                    self.previous[entry["pfx"]] = entry

    # --- file system --------------------------------------------------------

    def path(self, relative):
        return os.path.join(self.pki_dir, relative)

    def read(self, relative):
        try:
            with open(self.path(relative), "rb") as handle:
                return handle.read()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise LabPKIError("cannot read %s: %s" % (self.path(relative), exc))

    def ensure_dir(self, relative):
        path = self.path(relative) if relative else self.pki_dir
        if os.path.isdir(path):
            self.ensure_mode(path, MODE_DIR)
            return
        self.changed = True
        if self.check_mode:
            return
        try:
            make_dirs(path, MODE_DIR)
        except OSError as exc:
            raise LabPKIError("cannot create directory %s: %s" % (path, exc))

    def ensure_mode(self, path, mode):
        try:
            current = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            return
        if current == mode:
            return
        self.changed = True
        if not self.check_mode:
            try:
                os.chmod(path, mode)
            except OSError as exc:
                raise LabPKIError("cannot set the mode of %s: %s" % (path, exc))

    def write(self, relative, data, mode, report=True):
        """Atomically write a file (unless in check mode) and record it."""
        self.changed = True
        if report:
            self.created.append(relative)
        if self.check_mode:
            return
        path = self.path(relative)
        try:
            write_atomic(path, data, mode)
        except OSError as exc:
            raise LabPKIError("cannot write %s: %s" % (path, exc))

    def load_pair(self, cert_name, key_name):
        cert_data = self.read(cert_name)
        key_data = self.read(key_name)
        if cert_data is None or key_data is None:
            return None, None
        try:
            cert = x509.load_pem_x509_certificate(cert_data)
            key = serialization.load_pem_private_key(key_data, password=None)
        except (ValueError, TypeError):
            return None, None
        if not key_matches(key, cert):
            return None, None
        return cert, key

    def read_password(self, relative):
        data = self.read(relative)
        if data is None:
            return None
        try:
            password = data.decode("ascii")
        except UnicodeDecodeError:
            return None
        return password if _PASSWORD.fullmatch(password) else None

    def days_left(self, cert_or_not_after):
        not_after = cert_or_not_after
        if not isinstance(not_after, datetime.datetime):
            not_after = _not_after(cert_or_not_after)
        return (not_after - self.now).total_seconds() / 86400.0

    def certificate_file_facts(self, relative):
        data = self.read(relative)
        try:
            return manifest_facts(x509.load_pem_x509_certificate(data)) if data is not None else None
        except ValueError:
            return None

    # --- CAs and the WAF server certificate --------------------------------

    def keep_pair(self, cert_name, key_name, cert, key):
        """A current certificate and key, kept (with their modes put right)."""
        self.ensure_mode(self.path(cert_name), MODE_PUBLIC)
        self.ensure_mode(self.path(key_name), MODE_SECRET)
        return _Issued(cert, key)

    def new_pair(self, cert_name, key_name, sign):
        """A new RSA key and the certificate ``sign(key)`` issues for it (only recorded in check mode)."""
        if self.check_mode:
            self.write(key_name, None, MODE_SECRET)
            self.write(cert_name, None, MODE_PUBLIC)
            return _Issued(renewed=True)
        key = _new_rsa_key()
        cert = sign(key)
        self.write(key_name, _key_pem(key), MODE_SECRET)
        self.write(cert_name, _cert_pem(cert), MODE_PUBLIC)
        return _Issued(cert, key, True)

    def ensure_ca(self, base, common_name, parent, force, validity_days, path_length):
        cert_name, key_name = base + ".pem", base + ".key"
        subject = _name(common_name)
        if not force:
            cert, key = self.load_pair(cert_name, key_name)
            if (cert is not None and cert.subject == subject and _is_ca(cert)
                    and self.days_left(cert) >= CA_MIN_DAYS
                    and issued_by(cert, parent.cert if parent is not None else cert)):
                return self.keep_pair(cert_name, key_name, cert, key)
        return self.new_pair(cert_name, key_name, lambda key: _issue(
            subject, key.public_key(), parent.cert if parent is not None else None,
            parent.key if parent is not None else key, self.now - datetime.timedelta(days=CA_BACKDATE_DAYS),
            self.now + datetime.timedelta(days=validity_days), "ca", path_length=path_length))

    def ensure_server(self, server_ca, hostnames, ips):
        cert_name, key_name = FILES["waf_server_cert"], FILES["waf_server_key"]
        subject = _name(hostnames[0])
        if not server_ca.renewed:
            cert, key = self.load_pair(cert_name, key_name)
            if cert is not None and cert.subject == subject and issued_by(cert, server_ca.cert) \
                    and self.days_left(cert) >= RENEW_DAYS and _eku(cert) == [ExtendedKeyUsageOID.SERVER_AUTH]:
                san = _extension(cert, x509.oid.ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
                if san is not None and sorted(san.get_values_for_type(x509.DNSName)) == sorted(hostnames) \
                        and sorted(san.get_values_for_type(x509.IPAddress), key=str) == sorted(ips, key=str):
                    return self.keep_pair(cert_name, key_name, cert, key)
        return self.new_pair(cert_name, key_name, lambda key: _issue(
            subject, key.public_key(), server_ca.cert, server_ca.key, self.now - datetime.timedelta(days=1),
            self.now + datetime.timedelta(days=VALIDITY_DAYS), "server", dns_names=hostnames, ip_addresses=ips))

    def ensure_bundle(self, relative, issued):
        """A PEM file made of the given certificates, in order."""
        if any(item.cert is None for item in issued):
            self.write(relative, None, MODE_PUBLIC)
            return
        data = b"".join(_cert_pem(item.cert) for item in issued)
        if self.read(relative) != data:
            self.write(relative, data, MODE_PUBLIC)
        else:
            self.ensure_mode(self.path(relative), MODE_PUBLIC)

    # --- PKCS#12 files ------------------------------------------------------

    def ensure_password(self, relative):
        """The password stored in `relative`, created when missing or unusable."""
        password = self.read_password(relative)
        if password is not None:
            self.ensure_mode(self.path(relative), MODE_SECRET)
            return password
        password = new_password()
        self.write(relative, password.encode("ascii"), MODE_SECRET)
        return password

    def current_pfx(self, pfx_name, password, issuer, times_ok, contents_ok, subject=None):
        """Facts of <pfx_name> when it is still current, else None.

        Fast path: the file is byte for byte what the previous manifest records,
        from the same issuer, and its MAC verifies with the password, so the
        recorded facts hold (opening a PKCS#12 file validates its RSA key,
        which is slow). Otherwise the file is opened and checked in full.
        """
        data = self.read(pfx_name)
        if data is None or password is None or issuer is None:
            return None
        record = self.previous.get(pfx_name, {})
        if record.get("pfx_sha256") == hashlib.sha256(data).hexdigest() \
                and record.get("issuer_sha256") == fingerprint(issuer) and pkcs12_mac_verifies(data, password):
            try:
                recorded = (_parse_iso(record["not_before"]), _parse_iso(record["not_after"]))
            except (KeyError, TypeError, ValueError):
                recorded = None
            if recorded is not None and (subject is None or record.get("subject") == subject_string(subject)):
                if not times_ok(*recorded):
                    return None
                return {key: record.get(key) for key in _PFX_FACTS}
        try:
            key, certs = load_pkcs12_certificates(data, password)
        except (ValueError, TypeError):
            return None
        leaf = _leaf(certs)
        if leaf is None or key is None or not issued_by(leaf, issuer) \
                or (subject is not None and leaf.subject != subject) \
                or not times_ok(_not_before(leaf), _not_after(leaf)) or not contents_ok(key, certs, leaf):
            return None
        return _pfx_facts(leaf, issuer, data)

    def ensure_site(self, site, issuing, root):
        stem = "%s/%s-%s" % (SITES_DIR, site["institution_id"], site["site_id"])
        pfx_name, password_name = stem + ".p12", stem + ".password"
        subject = site_subject(site["institution_id"], site["site_id"])
        entry = {
            "institution_id": site["institution_id"],
            "site_id": site["site_id"],
            "pfx": pfx_name,
            "password_file": password_name,
        }
        facts = None
        if not issuing.renewed:
            expected_chain = sorted(fingerprint(ca.cert) for ca in (issuing, root))

            def contents_ok(key, certs, leaf):
                return (key_matches(key, leaf) and ExtendedKeyUsageOID.CLIENT_AUTH in _eku(leaf)
                        and sorted(fingerprint(cert) for cert in certs if cert is not leaf) == expected_chain)

            facts = self.current_pfx(pfx_name, self.read_password(password_name), issuing.cert,
                                     lambda not_before, not_after: self.days_left(not_after) >= RENEW_DAYS,
                                     contents_ok, subject)
        if facts is not None:
            self.ensure_mode(self.path(pfx_name), MODE_SECRET)
            self.ensure_mode(self.path(password_name), MODE_SECRET)
            entry.update(facts)
            return entry
        password = self.ensure_password(password_name)
        if self.check_mode:
            self.write(pfx_name, None, MODE_SECRET)
            entry.update(dict.fromkeys(_PFX_FACTS), subject=subject_string(subject))
            return entry
        key = _new_rsa_key()
        leaf = _issue(subject, key.public_key(), issuing.cert, issuing.key,
                      self.now - datetime.timedelta(days=1), self.now + datetime.timedelta(days=VALIDITY_DAYS - 1),
                      "client")
        name = "%s-%s" % (site["institution_id"], site["site_id"])
        data = _pkcs12_modern(name, key, leaf, [issuing.cert, root.cert], password)
        self.write(pfx_name, data, MODE_SECRET)
        entry.update(_pfx_facts(leaf, issuing.cert, data))
        return entry

    # --- manifest -------------------------------------------------------------

    def ensure_manifest(self, manifest):
        data = (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8")
        existing = self.read(MANIFEST_FILE)
        if existing == data:
            self.ensure_mode(self.path(MANIFEST_FILE), MODE_PUBLIC)
            return
        if existing is None:
            self.write(MANIFEST_FILE, data, MODE_PUBLIC)
        else:
            self.updated.append(MANIFEST_FILE)
            self.write(MANIFEST_FILE, data, MODE_PUBLIC, report=False)
