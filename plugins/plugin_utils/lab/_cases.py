# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab PKI's deliberately bad (and special) PKCS#12 cases: which exist, when a file on disk is still
current, and how each is made. A mixin of the builder (``_builder.py``); needs ``cryptography``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._certs import (
    CA_BACKDATE_DAYS, EXPIRING_SOON_DAYS, EXPIRING_SOON_MIN_DAYS, FILES, MODE_PUBLIC, MODE_SECRET,
    NOT_YET_VALID_DAYS, RENEW_DAYS, ROGUE_CA_NAME, VALIDITY_DAYS, ExtendedKeyUsageOID, _cert_pem, _eku,
    _issue, _name, _new_ec_key, _new_rsa_key, manifest_facts, fingerprint, key_matches, site_subject, x509,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._pkcs12 import (
    _pkcs12_des3, _pkcs12_modern, load_pkcs12_certificates, pkcs12_key_mismatch, pkcs12_legacy_rc2,
)

SITES_DIR = "sites"
CASES_DIR = "cases"

CASE_INSTITUTION_ID = "999001"
CASE_SITE_ID = "999001001"

# Expected outcome of each case, as the connection check would classify it.
CASE_EXPECTATIONS = ("ok", "expired", "not_yet_valid", "unknown_ca", "no_client_auth", "key_mismatch", "corrupt")

CASES = (
    ("expired", "expired", "Lab-issued client certificate whose validity ended 30 days ago."),
    ("not-yet-valid", "not_yet_valid", "Lab-issued client certificate that becomes valid only in 30 days."),
    ("unknown-ca", "unknown_ca", "Client certificate issued by a rogue CA the lab WAF does not trust (cases/unknown-ca-root.pem)."),
    ("no-client-auth", "no_client_auth", "Lab-issued certificate whose extended key usage is serverAuth only."),
    ("key-mismatch", "key_mismatch",
     "PKCS#12 file whose private key belongs to none of its certificates (readers return the key without a matching certificate)."),
    ("legacy-rc2", "ok", "Good certificate in a legacy PKCS#12 file: RC2-40-CBC certificates, 3DES key, SHA-1 MAC (old Windows exports)."),
    ("des3", "ok", "Good certificate in a PKCS#12 file encrypted with PBE-SHA1-3DES throughout, SHA-1 MAC."),
    ("truncated", "corrupt", "A good PKCS#12 file cut in half: unreadable."),
    ("expiring-soon", "ok", "Good certificate with 10 days left."),
    ("ec", "ok", "Good certificate with an EC P-256 key."),
)


# What the manifest records about each site and case PKCS#12 file.
_PFX_FACTS = ("subject", "serial", "sha256", "not_before", "not_after", "issuer_sha256", "pfx_sha256")


def _pfx_facts(leaf, issuer, data):
    facts = manifest_facts(leaf)
    facts = {key: facts[key] for key in ("subject", "serial", "sha256", "not_before", "not_after")}
    facts["issuer_sha256"] = fingerprint(issuer)
    facts["pfx_sha256"] = hashlib.sha256(data).hexdigest()
    return facts


class _Cases:
    """The builder's cases (``self`` is a ``_builder._Builder``)."""

    def case_rules(self, name):
        """(times_ok, contents_ok) that a current file of case `name` satisfies."""
        day = datetime.timedelta(days=1)

        def times_ok(not_before, not_after):
            if name == "expired":
                return not_after < self.now
            if name == "not-yet-valid":
                return not_before > self.now + day
            if name == "expiring-soon":
                return EXPIRING_SOON_MIN_DAYS <= self.days_left(not_after) <= EXPIRING_SOON_DAYS
            return self.days_left(not_after) >= RENEW_DAYS

        def contents_ok(key, certs, leaf):
            wanted = ExtendedKeyUsageOID.SERVER_AUTH if name == "no-client-auth" else ExtendedKeyUsageOID.CLIENT_AUTH
            if _eku(leaf) != [wanted]:
                return False
            if name == "key-mismatch":
                return not any(key_matches(key, cert) for cert in certs)
            return key_matches(key, leaf)

        return times_ok, contents_ok

    def current_truncated(self, pfx_name, password):
        data = self.read(pfx_name)
        if not data or password is None:
            return None
        digest = hashlib.sha256(data).hexdigest()
        if self.previous.get(pfx_name, {}).get("pfx_sha256") != digest:
            try:
                load_pkcs12_certificates(data, password)
            except (ValueError, TypeError):
                pass  # unreadable, as it should be
            else:
                return None
        return {"pfx_sha256": digest}

    def ensure_cases(self, issuing, root):
        entries = []
        rogue_root = None
        rogue_pem = self.read(FILES["unknown_ca_root"])
        if rogue_pem is not None:
            try:
                rogue_root = x509.load_pem_x509_certificate(rogue_pem)
            except ValueError:
                rogue_root = None
        for name, expect, description in CASES:
            pfx_name = "%s/%s.p12" % (CASES_DIR, name)
            password_name = "%s/%s.password" % (CASES_DIR, name)
            entry = {"name": name, "pfx": pfx_name, "password_file": password_name, "expect": expect,
                     "description": description, "institution_id": CASE_INSTITUTION_ID, "site_id": CASE_SITE_ID}
            entries.append(entry)
            facts = None
            if not issuing.renewed:
                password = self.read_password(password_name)
                if name == "truncated":
                    facts = self.current_truncated(pfx_name, password)
                else:
                    issuer = rogue_root if name == "unknown-ca" else issuing.cert
                    facts = self.current_pfx(pfx_name, password, issuer, *self.case_rules(name))
            if facts is not None:
                entry.update(facts)
                self.ensure_mode(self.path(pfx_name), MODE_SECRET)
                self.ensure_mode(self.path(password_name), MODE_SECRET)
                if name == "unknown-ca":
                    self.ensure_mode(self.path(FILES["unknown_ca_root"]), MODE_PUBLIC)
                continue
            password = self.ensure_password(password_name)
            if self.check_mode:
                self.write(pfx_name, None, MODE_SECRET)
                if name == "unknown-ca":
                    self.write(FILES["unknown_ca_root"], None, MODE_PUBLIC)
                entry.update(dict.fromkeys(("pfx_sha256",) if name == "truncated" else _PFX_FACTS))
                continue
            data, leaf, issuer = self._make_case(name, password, issuing, root)
            self.write(pfx_name, data, MODE_SECRET)
            if name == "truncated":
                entry["pfx_sha256"] = hashlib.sha256(data).hexdigest()
            else:
                entry.update(_pfx_facts(leaf, issuer, data))
        return entries

    def _make_case(self, name, password, issuing, root):
        """(PKCS#12 data, leaf certificate, issuer certificate) of case `name`."""
        day = datetime.timedelta(days=1)
        subject = site_subject(CASE_INSTITUTION_ID, CASE_SITE_ID)
        friendly = "%s-%s-%s" % (CASE_INSTITUTION_ID, CASE_SITE_ID, name)
        key = _new_ec_key() if name == "ec" else _new_rsa_key()
        chain = [issuing.cert, root.cert]
        not_before, not_after = self.now - day, self.now + (VALIDITY_DAYS - 1) * day
        issuer_cert, issuer_key, ekus = issuing.cert, issuing.key, None
        if name == "expired":
            not_before, not_after = self.now - (VALIDITY_DAYS + 30) * day, self.now - 30 * day
        elif name == "not-yet-valid":
            not_before, not_after = self.now + NOT_YET_VALID_DAYS * day, self.now + (NOT_YET_VALID_DAYS + VALIDITY_DAYS) * day
        elif name == "expiring-soon":
            not_before, not_after = self.now - (VALIDITY_DAYS - EXPIRING_SOON_DAYS) * day, self.now + EXPIRING_SOON_DAYS * day
        elif name == "no-client-auth":
            ekus = [ExtendedKeyUsageOID.SERVER_AUTH]
        elif name == "unknown-ca":
            issuer_key = _new_rsa_key()
            issuer_cert = _issue(_name(ROGUE_CA_NAME, (("C", "HU"), ("O", "Rogue Lab"))), issuer_key.public_key(),
                                 None, issuer_key, self.now - CA_BACKDATE_DAYS * day,
                                 self.now + 10 * VALIDITY_DAYS * day, "ca", path_length=0)
            chain = [issuer_cert]
            self.write(FILES["unknown_ca_root"], _cert_pem(issuer_cert), MODE_PUBLIC)
        cert = _issue(subject, key.public_key(), issuer_cert, issuer_key, not_before, not_after, "client", ekus=ekus)
        if name == "key-mismatch":
            data = pkcs12_key_mismatch(friendly, _new_rsa_key(), cert, chain, password)
        elif name == "legacy-rc2":
            data = pkcs12_legacy_rc2(friendly, key, cert, chain, password)
        elif name == "des3":
            data = _pkcs12_des3(friendly, key, cert, chain, password)
        else:
            data = _pkcs12_modern(friendly, key, cert, chain, password)
            if name == "truncated":
                data = data[:len(data) // 2]
        return data, cert, issuer_cert
