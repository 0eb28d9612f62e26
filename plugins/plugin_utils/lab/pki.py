# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The rehearsal lab's PKI, issued by the lab itself: CAs, the lab WAF's server certificate, one
WAF-SSL-like PKCS#12 file per site, a set of deliberately bad ones, and renewed site certificates.

Entry points: :func:`build_lab_pki` and :func:`renew_site_pfx`. Everything lives under ``<lab_dir>/pki``
with fixed file names (see ``FILES``); an existing lab PKI is reused, only missing, stale or inconsistent
parts are (re)generated. The parts: ``_certs`` (names, validity, signing, facts), ``_pkcs12`` (PKCS#12
writers, legacy ones included), ``_builder`` (the files on disk) and ``_cases`` (the bad cases).

Runs on the controller. Needs ``cryptography`` (the stated minimum, ``plugin_utils/pki`` CRYPTOGRAPHY_MINIMUM); the import
is guarded, callers check ``HAS_CRYPTOGRAPHY``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import ipaddress
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import (
    INSTITUTION_ID_PATTERN,
    SITE_ID_PATTERN,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._builder import MANIFEST_SCHEMA, _Builder, _leaf
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._cases import CASES_DIR, SITES_DIR
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._certs import (
    CLIENT_ISSUING_CA_NAME, CLIENT_ROOT_CA_NAME, CRYPTOGRAPHY_IMPORT_ERROR, FILES, HAS_CRYPTOGRAPHY, MODE_DIR,
    MODE_SECRET, RENEW_VALIDITY_DAYS, SERVER_CA_NAME, VALIDITY_DAYS, LabPKIError, _issue, _new_rsa_key,
    _utcnow, manifest_facts, fingerprint, hashes, new_password, x509,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._pkcs12 import (
    _pkcs12_modern,
    load_pkcs12_certificates,
)

DEFAULT_WAF_HOSTNAMES = ("eeszt-lab.localhost", "localhost")
DEFAULT_WAF_IPS = ("127.0.0.1",)
DEFAULT_INSTITUTION_ID_PATTERN = INSTITUTION_ID_PATTERN
DEFAULT_SITE_ID_PATTERN = SITE_ID_PATTERN
RENEWED_FRIENDLY_NAME = "eeszt-waf"

# Whatever the patterns allow, identifiers become file names: keep them safe.
# (Matched with fullmatch: '$' would let a trailing newline through.)
_SAFE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]*")
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(\*\.)?[0-9A-Za-z]([0-9A-Za-z-]{0,61}[0-9A-Za-z])?(\.[0-9A-Za-z]([0-9A-Za-z-]{0,61}[0-9A-Za-z])?)*")


# ---------------------------------------------------------------------------
# Input validation
# ---------------------------------------------------------------------------

def _compile(pattern, name):
    if not isinstance(pattern, str) or not pattern:
        raise LabPKIError("%s must be a non-empty regular expression" % name)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise LabPKIError("%s %r is not a valid regular expression: %s" % (name, pattern, exc))


def _identifier(value, field, regex, pattern_name):
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise LabPKIError("%s must be a string, got %r" % (field, value))
    value = str(value)
    if not regex.search(value):
        raise LabPKIError("%s %r does not match %s %r" % (field, value, pattern_name, regex.pattern))
    if not _SAFE_ID.fullmatch(value):
        raise LabPKIError("%s %r cannot be used in a file name (letters, digits, '.', '_' and '-' only)" % (field, value))
    return value


def validate_sites(sites, institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN, site_id_pattern=DEFAULT_SITE_ID_PATTERN):
    """Check the site list; return it as a list of {institution_id, site_id} with string values."""
    institution_re = _compile(institution_id_pattern, "institution_id_pattern")
    site_re = _compile(site_id_pattern, "site_id_pattern")
    if sites is None:
        return []
    if not isinstance(sites, (list, tuple)):
        raise LabPKIError("sites must be a list of {institution_id, site_id} dictionaries")
    result = []
    seen = {}
    for index, site in enumerate(sites):
        where = "sites[%d]" % index
        if not isinstance(site, dict):
            raise LabPKIError("%s must be a dictionary with institution_id and site_id" % where)
        for key in ("institution_id", "site_id"):
            if site.get(key) is None:
                raise LabPKIError("%s.%s is required" % (where, key))
        institution_id = _identifier(site["institution_id"], where + ".institution_id", institution_re, "institution_id_pattern")
        site_id = _identifier(site["site_id"], where + ".site_id", site_re, "site_id_pattern")
        key = (institution_id, site_id)
        if key in seen:
            raise LabPKIError("%s: duplicate site institution_id %s, site_id %s (already given as %s)"
                              % (where, institution_id, site_id, seen[key]))
        seen[key] = where
        result.append({"institution_id": institution_id, "site_id": site_id})
    return result


def _validate_waf_names(waf_hostnames, waf_ips):
    if isinstance(waf_hostnames, str) or not waf_hostnames:
        raise LabPKIError("waf_hostnames must be a non-empty list of DNS names")
    hostnames = []
    for index, name in enumerate(waf_hostnames):
        if not isinstance(name, str) or not _HOSTNAME.fullmatch(name):
            raise LabPKIError("waf_hostnames[%d] %r is not a valid DNS name" % (index, name))
        if name.lower() not in hostnames:
            hostnames.append(name.lower())
    if isinstance(waf_ips, str) or waf_ips is None:
        raise LabPKIError("waf_ips must be a list of IP addresses")
    ips = []
    for index, value in enumerate(waf_ips):
        try:
            address = ipaddress.ip_address(str(value))
        except ValueError:
            raise LabPKIError("waf_ips[%d] %r is not an IP address" % (index, value))
        if address not in ips:
            ips.append(address)
    return hostnames, ips


# ---------------------------------------------------------------------------
# Small helpers


def _ca_facts(issued):
    if issued.cert is None:
        return None
    return manifest_facts(issued.cert)


def build_lab_pki(lab_dir, sites, waf_hostnames=DEFAULT_WAF_HOSTNAMES, waf_ips=DEFAULT_WAF_IPS, check_mode=False,
                  institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN, site_id_pattern=DEFAULT_SITE_ID_PATTERN):
    """Create or update the lab PKI under <lab_dir>/pki.

    sites: list of dicts {"institution_id": "100001", "site_id": "100001001"}.
    Returns a dict: {"changed": bool, "created": [relative paths], "manifest": <manifest dict>,
    "updated": [relative paths], "pki_dir": <absolute path>}. In check mode nothing is
    written; "created" lists what would be written, and certificate facts of what
    would be created are None. Raises LabPKIError on bad input or an unusable directory.
    """
    if not HAS_CRYPTOGRAPHY:
        raise LabPKIError("the lab PKI needs the Python library cryptography: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    sites = validate_sites(sites, institution_id_pattern, site_id_pattern)
    hostnames, ips = _validate_waf_names(waf_hostnames, waf_ips)
    builder = _Builder(lab_dir, check_mode)
    if os.path.exists(builder.pki_dir) and not os.path.isdir(builder.pki_dir):
        raise LabPKIError("%s exists and is not a directory" % builder.pki_dir)

    builder.load_previous_manifest()
    for directory in ("", SITES_DIR, CASES_DIR):
        builder.ensure_dir(directory)
    root = builder.ensure_ca("client-root-ca", CLIENT_ROOT_CA_NAME, None, False, 10 * VALIDITY_DAYS, 1)
    issuing = builder.ensure_ca("client-issuing-ca", CLIENT_ISSUING_CA_NAME, root, root.renewed, 5 * VALIDITY_DAYS, 0)
    builder.ensure_bundle(FILES["client_ca_bundle"], [issuing, root])
    server_ca = builder.ensure_ca("server-ca", SERVER_CA_NAME, None, False, 10 * VALIDITY_DAYS, 0)
    waf = builder.ensure_server(server_ca, hostnames, ips)
    builder.ensure_bundle(FILES["waf_server_fullchain"], [waf, server_ca])
    builder.ensure_bundle(FILES["eeszt_ca_bundle"], [server_ca])
    site_entries = [builder.ensure_site(site, issuing, root) for site in sites]
    case_entries = builder.ensure_cases(issuing, root)

    manifest = {
        "schema": MANIFEST_SCHEMA,
        "files": dict(FILES),
        "certificates": {
            "client_root_ca": _ca_facts(root),
            "client_issuing_ca": _ca_facts(issuing),
            "server_ca": _ca_facts(server_ca),
            "waf_server": _ca_facts(waf),
            "unknown_ca_root": builder.certificate_file_facts(FILES["unknown_ca_root"]),
        },
        "waf_server": {
            "dns_names": hostnames,
            "ip_addresses": [str(ip) for ip in ips],
        },
        "sites": site_entries,
        "cases": case_entries,
    }
    builder.ensure_manifest(manifest)
    return {
        "changed": builder.changed,
        "created": builder.created,
        "updated": builder.updated,
        "manifest": manifest,
        "pki_dir": builder.pki_dir,
    }


def renew_site_pfx(lab_dir, institution_id, site_id, target, password=None):
    """Issue a renewed WAF-SSL PFX for a site of the lab, as a real renewal is, to rehearse a rotation.

    The renewed certificate has the subject of the site's current lab PFX, a new RSA key and serial, and is
    signed by the lab's client issuing CA, so the lab WAF trusts it unless told otherwise. Writes ``target``
    (mode 0600) and its password (``target`` without ``.p12``, plus ``.password``; a new random password
    unless one is given; mode 0600, never returned). Returns the public facts of the new certificate:
    ``path``, ``sha256`` and ``sha1`` fingerprints (hex; SHA-1 is what nginx logs) and ``serial`` (hex).
    Raises LabPKIError when the lab has no PFX for the site or no usable client issuing CA.
    """
    if not HAS_CRYPTOGRAPHY:
        raise LabPKIError("the lab PKI needs the Python library cryptography: %s" % CRYPTOGRAPHY_IMPORT_ERROR)
    for value, field in ((institution_id, "institution_id"), (site_id, "site_id")):
        if not isinstance(value, str) or not _SAFE_ID.fullmatch(value):
            raise LabPKIError("%s %r cannot be used in a file name (letters, digits, '.', '_' and '-' only)"
                              % (field, value))
    builder = _Builder(lab_dir, False)
    stem = "%s/%s-%s" % (SITES_DIR, institution_id, site_id)
    data, old_password = builder.read(stem + ".p12"), builder.read(stem + ".password")
    if data is None or old_password is None:
        raise LabPKIError("the lab %s has no PFX and password for institution %s, site %s (%s.p12); build the lab "
                          "with this site first (eeszt.connect.lab_pki, option sites)"
                          % (builder.pki_dir, institution_id, site_id, stem))
    try:
        leaf = _leaf(load_pkcs12_certificates(data, old_password.strip().decode("utf-8"))[1])
    except (ValueError, TypeError) as exc:
        raise LabPKIError("cannot open the lab PFX %s with its password file: %s" % (builder.path(stem + ".p12"), exc))
    issuing, issuing_key = builder.load_pair(FILES["client_issuing_ca"], FILES["client_issuing_ca_key"])
    root = builder.read(FILES["client_root_ca"])
    if leaf is None or issuing is None or root is None:
        raise LabPKIError("the lab PKI %s has no usable site certificate or client CA for institution %s, site %s; "
                          "run eeszt.connect.lab_pki on it again" % (builder.pki_dir, institution_id, site_id))
    key = _new_rsa_key()
    now = _utcnow()
    cert = _issue(leaf.subject, key.public_key(), issuing, issuing_key, now - datetime.timedelta(minutes=5),
                  now + datetime.timedelta(days=RENEW_VALIDITY_DAYS), "client")
    password = password or new_password()
    target = os.path.abspath(target)
    make_dirs(os.path.dirname(target), MODE_DIR)
    password_file = (target[:-4] if target.endswith(".p12") else target) + ".password"
    write_atomic(password_file, password + "\n", MODE_SECRET)
    write_atomic(target, _pkcs12_modern(RENEWED_FRIENDLY_NAME, key, cert,
                                        [issuing, x509.load_pem_x509_certificate(root)], password), MODE_SECRET)
    return {"path": target, "sha256": fingerprint(cert), "serial": format(cert.serial_number, "x"),
            "sha1": cert.fingerprint(hashes.SHA1()).hex()}  # nosec: SHA-1 is nginx's $ssl_client_fingerprint
