# Documentation only: the action plugin eeszt.connect.ca_bundle (plugins/action/ca_bundle.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ca_bundle
short_description: Validate a PEM bundle of CA certificates on the controller
version_added: 1.0.0
description:
  - Reads a PEM file of CA certificates on the Ansible controller (typically the CAs that
    the EESZT servers chain to) and checks it before anything is sent to a site.
  - The file must hold PEM certificates only (no private key, no DER, no other PEM block),
    every certificate must be a CA certificate (C(basicConstraints CA:TRUE)) and valid now.
    Otherwise the task fails with a message that names the file and says what to do.
  - Returns the certificates in a canonical PEM form (duplicates left out), ready to be
    written to a site with M(ansible.builtin.copy), and their facts.
  - This is an action plugin that runs entirely on the controller; it does not connect to
    the site.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Only reads the controller file; the same in check mode.
  diff_mode:
    support: none
    description: Changes nothing.
  platform:
    support: full
    platforms: all
    description: Runs on the controller.
options:
  src:
    description:
      - Path of the PEM bundle on the controller. A relative path is searched like the
        C(src) of M(ansible.builtin.copy) (the role's or playbook's C(files/) directory).
    type: path
    required: true
  warn_days:
    description:
      - Warn when a CA certificate expires within this many days.
    type: int
    default: 30
extends_documentation_fragment:
  - eeszt.connect.controller_pki
notes:
  - Certificates are compared by SHA-256 fingerprint; a certificate that appears twice is
    kept once, with a warning.
seealso:
  - module: ansible.builtin.copy
"""

EXAMPLES = r"""
- name: Validate the EESZT CA bundle on the controller
  eeszt.connect.ca_bundle:
    src: files/eeszt-ca-bundle.pem
  register: eeszt_ca

- name: Install it on the site
  ansible.builtin.copy:
    content: "{{ eeszt_ca.pem }}"
    dest: /etc/eeszt/tls/eeszt-ca.pem
    mode: "0644"
"""

RETURN = r"""
src:
  description: The controller path that was read.
  returned: always
  type: str
  sample: /home/vendor/eeszt/eeszt-ca-bundle.pem
pem:
  description: The distinct certificates of the bundle as PEM text, in file order.
  returned: success
  type: str
  sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
sha256:
  description: SHA-256 (hex) of RV(pem).
  returned: success
  type: str
  sample: 0c5a8f6d2e0b4b1e9a3f0c6c1c1f7e6b9d4a0a7f2a4b6c8d0e1f2a3b4c5d6e7f
certificates:
  description: Facts about each distinct certificate, in file order.
  returned: success
  type: list
  elements: dict
  contains:
    subject:
      description: Subject distinguished name (RFC 4514).
      type: str
      sample: CN=EESZT Lab Root CA,O=eeszt.connect lab
    issuer:
      description: Issuer distinguished name (RFC 4514).
      type: str
      sample: CN=EESZT Lab Root CA,O=eeszt.connect lab
    serial:
      description: Serial number in upper-case hexadecimal.
      type: str
      sample: 4F1A2B
    sha256:
      description: SHA-256 fingerprint of the DER certificate (lower-case hex, no colons).
      type: str
      sample: 9a3f0c6c1c1f7e6b9d4a0a7f2a4b6c8d0e1f2a3b4c5d6e7f0c5a8f6d2e0b4b1e
    not_before:
      description: Start of validity (UTC, ISO 8601).
      type: str
      sample: "2026-01-01T00:00:00Z"
    not_after:
      description: End of validity (UTC, ISO 8601).
      type: str
      sample: "2036-01-01T00:00:00Z"
    days_left:
      description: Whole days until RV(certificates[].not_after).
      type: int
      sample: 3650
    self_signed:
      description: Whether subject and issuer are the same (a root CA).
      type: bool
      sample: true
    pem:
      description: The certificate as PEM text.
      type: str
      sample: "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n"
error:
  description:
    - Identifier of the failure, one of C(not_found), C(not_pem), C(private_key), C(not_ca),
      C(expired), C(not_yet_valid), C(missing_library), C(invalid_argument).
  returned: failure
  type: str
  sample: not_ca
msg:
  description: What was checked, or what is wrong and what to do.
  returned: always
  type: str
  sample: 2 CA certificate(s) in /home/vendor/eeszt/eeszt-ca-bundle.pem are valid
"""
