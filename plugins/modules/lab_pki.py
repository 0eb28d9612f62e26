# Documentation only: the action plugin eeszt.connect.lab_pki (plugins/action/lab_pki.py) does the work on the controller.
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lab_pki
short_description: Create the rehearsal lab's PKI
version_added: 0.1.0
description:
  - Creates, or brings up to date, the PKI of the rehearsal lab in the C(pki) subdirectory of O(path),
    with fixed file names, using the Python library C(cryptography).
  - Two client CAs (C(client-root-ca.pem), C(client-issuing-ca.pem); C(client-ca-bundle.pem) is what
    the lab WAF trusts for client certificates), a server CA (C(server-ca.pem); also written as
    C(eeszt-ca-bundle.pem), what sites trust to verify the lab WAF), and the lab WAF's server
    certificate (C(waf-server.pem), C(waf-server.key), C(waf-server-fullchain.pem)) with the host
    names in O(waf_hostnames) and the addresses in O(waf_ips) as subject alternative names.
  - For every entry in O(sites), a WAF-SSL-like PKCS#12 file C(sites/<institution_id>-<site_id>.p12)
    (PBES2 AES-256-CBC, SHA-256 MAC; RSA-2048 key, client certificate with the institution ID in its
    subject, issuing and root CA) and its random password in C(sites/<institution_id>-<site_id>.password).
  - A fixed set of deliberately bad and special PKCS#12 files under C(cases/) for tests (expired, not yet
    valid, unknown CA, no clientAuth, key mismatch, legacy RC2-40, 3DES, truncated, expiring soon, EC key),
    each with its expected outcome in C(manifest.json).
  - An existing lab PKI is reused. Missing files are created; a CA or certificate that no longer fits
    (wrong issuer, changed host names, fewer than 60 days left for a site or server certificate) is
    re-issued together with everything it signed. Files of sites no longer listed are left in place.
  - Private keys, PKCS#12 and password files are mode C(0600), directories C(0700). Passwords are never
    returned; C(manifest.json) holds no secrets.
author:
  - eeszt.connect developers (@eeszt-connect)
extends_documentation_fragment:
  - eeszt.connect.controller_pki
  - eeszt.connect.attributes.controller_action
options:
  path:
    description:
      - The lab directory. The PKI is kept in its C(pki) subdirectory, which is created when missing.
    type: path
    required: true
  sites:
    description:
      - The sites to issue a lab WAF-SSL certificate for.
      - Each (O(sites[].institution_id), O(sites[].site_id)) pair may appear once.
    type: list
    elements: dict
    default: []
    suboptions:
      institution_id:
        description:
          - The institution identifier; must match O(institution_id_pattern).
          - It becomes the subject's C(CN) and C(serialNumber) and part of the file names.
        type: str
        required: true
      site_id:
        description:
          - The site code; must match O(site_id_pattern). It becomes the subject's C(OU).
        type: str
        required: true
  waf_hostnames:
    description:
      - DNS names of the lab WAF, written as DNS subject alternative names of its server certificate.
      - The first one is also the certificate's common name.
    type: list
    elements: str
    default: [eeszt-lab.localhost, localhost]
  waf_ips:
    description:
      - IP addresses of the lab WAF, written as IP subject alternative names of its server certificate.
    type: list
    elements: str
    default: ['127.0.0.1']
  institution_id_pattern:
    description:
      - Regular expression every O(sites[].institution_id) must match.
      - Whatever the pattern allows, identifiers may only contain letters, digits, C(.), C(_) and C(-).
    type: str
    default: '^[0-9]{6}$'
  site_id_pattern:
    description:
      - Regular expression every O(sites[].site_id) must match (same restriction as above).
    type: str
    default: '^[0-9A-Za-z]{9}$'
notes:
  - The lab PKI is for rehearsal only. Its CA keys are stored unencrypted (mode C(0600)) in the lab directory.
  - The C(legacy-rc2) case is written without the OpenSSL command line; reading it needs an OpenSSL with the
    legacy provider (C(cryptography) wheels include it; C(openssl pkcs12) needs C(-legacy)).
seealso:
  - name: "RFC 7292: PKCS #12"
    description: The PKCS#12 file format.
    link: https://www.rfc-editor.org/rfc/rfc7292
"""

EXAMPLES = r"""
- name: Create the lab PKI for two sites
  eeszt.connect.lab_pki:
    path: "{{ playbook_dir }}/../.lab"
    sites:
      - institution_id: "100001"
        site_id: "100001001"
      - institution_id: "100002"
        site_id: "100002001"
  run_once: true
  register: lab_pki

- name: Show where the first site's PKCS#12 file is
  ansible.builtin.debug:
    msg: "{{ lab_pki.pki_dir }}/{{ lab_pki.manifest.sites[0].pfx }}"

- name: Lab WAF reachable under another name, site codes from a newer registry
  eeszt.connect.lab_pki:
    path: /srv/eeszt-lab
    waf_hostnames: [waf.lab.example, localhost]
    waf_ips: ['127.0.0.1', '::1']
    site_id_pattern: '^[0-9A-Z]{9,12}$'
    sites:
      - institution_id: "100001"
        site_id: "1000010010A"
  run_once: true

- name: See what would be created, without writing anything
  eeszt.connect.lab_pki:
    path: /srv/eeszt-lab
    sites: "{{ lab_sites }}"
  check_mode: true
  run_once: true
"""

RETURN = r"""
pki_dir:
  description: Absolute path of the lab PKI directory (the C(pki) subdirectory of O(path)); every path below is relative to it.
  returned: success
  type: str
  sample: /srv/eeszt-lab/pki
created:
  description:
    - Files written by this run (new, or re-issued because they no longer fitted), relative to RV(pki_dir).
    - In check mode, the files that would be written.
  returned: success
  type: list
  elements: str
  sample: [sites/100003-100003001.password, sites/100003-100003001.p12]
updated:
  description: Existing files rewritten with new content other than key material (the manifest).
  returned: success
  type: list
  elements: str
  sample: [manifest.json]
manifest:
  description:
    - The content of C(manifest.json) (schema C(eeszt.connect/lab-pki/v1)). It holds no secrets.
    - In check mode, certificate facts of what would be created are V(null).
  returned: success
  type: dict
  contains:
    schema:
      description: Schema identifier.
      type: str
      sample: eeszt.connect/lab-pki/v1
    files:
      description:
        - Paths of the CA and lab WAF files, relative to RV(pki_dir). Keys are C(client_root_ca),
          C(client_root_ca_key), C(client_issuing_ca), C(client_issuing_ca_key), C(client_ca_bundle),
          C(server_ca), C(server_ca_key), C(waf_server_cert), C(waf_server_key), C(waf_server_fullchain),
          C(eeszt_ca_bundle) and C(unknown_ca_root).
      type: dict
      sample:
        client_ca_bundle: client-ca-bundle.pem
        eeszt_ca_bundle: eeszt-ca-bundle.pem
        waf_server_fullchain: waf-server-fullchain.pem
    certificates:
      description:
        - Facts (C(subject), C(issuer), C(serial) in hexadecimal, C(sha256) fingerprint, C(not_before),
          C(not_after) in UTC ISO 8601) of C(client_root_ca), C(client_issuing_ca), C(server_ca), C(waf_server)
          and C(unknown_ca_root) (the rogue CA of the C(unknown-ca) case).
      type: dict
    waf_server:
      description: Subject alternative names of the lab WAF's server certificate.
      type: dict
      contains:
        dns_names:
          description: DNS names.
          type: list
          elements: str
          sample: [eeszt-lab.localhost, localhost]
        ip_addresses:
          description: IP addresses.
          type: list
          elements: str
          sample: ['127.0.0.1']
    sites:
      description: One entry per site in O(sites), in the same order.
      type: list
      elements: dict
      contains:
        institution_id:
          description: Institution identifier.
          type: str
          sample: '100001'
        site_id:
          description: Site code.
          type: str
          sample: '100001001'
        pfx:
          description: The site's PKCS#12 file.
          type: str
          sample: sites/100001-100001001.p12
        password_file:
          description: The file holding the PKCS#12 password (mode C(0600)).
          type: str
          sample: sites/100001-100001001.password
        subject:
          description: Subject of the site's client certificate (RFC 4514).
          type: str
          sample: serialNumber=100001,CN=100001,OU=100001001,O=Lab institution 100001,C=HU
        serial:
          description: Serial number of the certificate, hexadecimal.
          type: str
          sample: 3faf4a72a98ccc2a1b3d3cfaa0b47bb2325cd5d0
        sha256:
          description: SHA-256 fingerprint of the certificate (DER), hexadecimal.
          type: str
          sample: 71d9e3c688e7de8bdad0af29efb296b65546b6d770422811f2ac0a7ad2e30528
        not_before:
          description: Start of validity, UTC, ISO 8601.
          type: str
          sample: '2026-11-24T22:03:57Z'
        not_after:
          description: End of validity, UTC, ISO 8601.
          type: str
          sample: '2027-11-24T22:03:57Z'
        issuer_sha256:
          description: SHA-256 fingerprint of the issuing CA certificate.
          type: str
        pfx_sha256:
          description:
            - SHA-256 of the PKCS#12 file. With C(issuer_sha256) it lets a later run reuse the file
              without decrypting it (the password is still checked against the file's MAC).
          type: str
    cases:
      description: The deliberately bad and special PKCS#12 files, all for institution C(999001), site C(999001001).
      type: list
      elements: dict
      contains:
        name:
          description:
            - Case name; one of C(expired), C(not-yet-valid), C(unknown-ca), C(no-client-auth), C(key-mismatch),
              C(legacy-rc2), C(des3), C(truncated), C(expiring-soon), C(ec).
          type: str
          sample: expired
        pfx:
          description: The case's PKCS#12 file.
          type: str
          sample: cases/expired.p12
        password_file:
          description: The file holding its password.
          type: str
          sample: cases/expired.password
        expect:
          description: What a client or the lab WAF should make of it.
          type: str
          choices: [ok, expired, not_yet_valid, unknown_ca, no_client_auth, key_mismatch, corrupt]
          sample: expired
        description:
          description: What is special about the file.
          type: str
        institution_id:
          description: Institution identifier in the certificate.
          type: str
          sample: '999001'
        site_id:
          description: Site code in the certificate.
          type: str
          sample: '999001001'
        subject:
          description: Subject of the certificate. Not present for C(truncated).
          type: str
        serial:
          description: Serial number of the certificate, hexadecimal. Not present for C(truncated).
          type: str
        sha256:
          description: SHA-256 fingerprint of the certificate. Not present for C(truncated).
          type: str
        not_before:
          description: Start of validity, UTC, ISO 8601. Not present for C(truncated).
          type: str
        not_after:
          description: End of validity, UTC, ISO 8601. Not present for C(truncated).
          type: str
        issuer_sha256:
          description: SHA-256 fingerprint of the issuing CA certificate. Not present for C(truncated).
          type: str
        pfx_sha256:
          description: SHA-256 of the PKCS#12 file.
          type: str
"""
