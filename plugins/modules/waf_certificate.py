#!/usr/bin/python
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: waf_certificate
short_description: Install an EESZT WAF-SSL client certificate from a PFX file
version_added: 0.1.0
description:
  - Opens the institution's WAF-SSL PKCS#12 (PFX) file on the controller, validates it
    and installs the certificate set on the site in the formats its software reads.
  - This is an action plugin and module pair. The action plugin runs on the controller
    with the Python library C(cryptography); it opens PFX files encrypted with AES-256,
    3DES or legacy RC2-40 and refuses a bad file before any site is touched, each problem
    with its own message (wrong password, damaged or truncated file, missing or mismatched
    key, expired, not yet valid, too few days left, no clientAuth extended key usage,
    incomplete or untrusted chain, another institution's certificate).
  - Only PEM material (and, on request, PKCS#12 files re-encrypted on the controller with
    O(export_password)) is sent to the site. The PFX file and its password never leave
    the controller. The site needs nothing but the Python standard library.
  - On the site the set lives in O(dir)/sets/NAME/ and becomes live through one atomic
    rename of the O(dir)/current symlink; O(dir)/cert.pem, O(dir)/key.pem and the other
    file names are stable symlinks into O(dir)/current/. An interrupted run leaves the
    old set or the new set, never a mix of the two.
  - With O(state=rollback) it restores the previous certificate set instead (no PFX needed);
    the newest backup becomes live through the same atomic switch, and the set that was live
    is kept as C(backup/UTC-TIMESTAMP-rolled-back) for forensics. A later rollback never picks
    such a set.
  - Every change of a site runs under a per-site lock (C(flock) on O(dir)/.lock, which records
    who holds it, never a secret). A second run on the same site waits up to O(lock_timeout)
    seconds and then fails with a message naming the holder. The lock dies with its holder,
    even when the run is killed.
  - Idempotent by SHA-256. A state file (0600) in the set records the fingerprint of
    every file and what the PKCS#12 files encode (a salted PBKDF2 digest stands for the
    export password), so re-exported PKCS#12 files with new random salts do not count as
    a change, while tampered files, another export password or another encryption level do.
author:
  - eeszt.connect developers (@eeszt-connect)
extends_documentation_fragment:
  - eeszt.connect.controller_pki
attributes:
  check_mode:
    support: full
    description: Writes nothing and reports which files would change.
  diff_mode:
    support: full
    description: The diff shows certificate facts (subject, issuer, serial, validity,
      SHA-256 fingerprint) and file names, never key material.
  platform:
    support: full
    platforms: posix
    description: The site needs Python 3.8 or later and its standard library.
  action:
    support: full
    description: The validation and the PKCS#12 export run in the action plugin on the controller.
options:
  state:
    description:
      - C(present) - install the certificate set from O(pfx_src).
      - C(rollback) - restore a backup set (the newest one not taken out of service by an
        earlier rollback, or O(restore)). O(pfx_src) and the other certificate options are
        not used.
    type: str
    choices: [present, rollback]
    default: present
  restore:
    description:
      - With O(state=rollback), the name of the directory in O(dir)/backup/ to restore
        (for example C(20260101T120000000000Z)). Default is the newest usable backup.
    type: str
  rollback_from:
    description:
      - With O(state=rollback), roll back only when the live certificate has this SHA-256
        fingerprint (hex, colons allowed); otherwise report no change. This makes a rollback
        after a failed rotation safe to repeat.
    type: str
  lock_timeout:
    description:
      - Seconds to wait for the per-site lock when another run holds it; C(0) fails at once.
    type: int
    default: 30
  pfx_src:
    description:
      - Path of the PKCS#12 file on the controller. A relative path is looked up like the
        O(ansible.builtin.copy#module:src) of M(ansible.builtin.copy) (the role's or
        playbook's C(files/) directory). The file may be Ansible Vault encrypted.
      - Required with O(state=present); the action plugin never sends it to the site.
    type: path
  pfx_password:
    description:
      - Password of the PFX file (EESZT sends it by SMS); keep it in Ansible Vault.
      - Empty or unset for a PFX file exported without a password. A password-protected file
        without it fails with C(pfx_password_missing); a password given for a file that has
        none fails with C(pfx_has_no_password).
      - A password with a trailing line break (as C(echo PASSWORD | ansible-vault encrypt_string)
        stores it) is refused as wrong with a message that says so; the password is never shown.
      - The action plugin never sends it to the site.
    type: str
  dir:
    description: Directory on the site that receives the certificate set (mode 0750).
    type: path
    default: /etc/eeszt/tls
  owner:
    description: Owner of the files and directories; default is the user the module runs as.
    type: str
  group:
    description:
      - Group of the files and directories. When set, the private key files are 0640
        so that members of this group can read them; otherwise 0600.
    type: str
  key_mode:
    description:
      - Mode of C(key.pem), C(client.p12) and C(keystore.p12) as an octal string.
      - Default C(0640) when O(group) is set, otherwise C(0600).
    type: str
  formats:
    description:
      - Which files to write. C(pem) (always written, needed by the connection check) -
        C(cert.pem), C(key.pem), C(chain.pem), C(fullchain.pem). C(pkcs12) adds
        C(client.p12), C(java) adds C(keystore.p12), a Java PKCS#12 keystore whose key
        entry has the alias O(keystore_alias).
    type: list
    elements: str
    choices: [pem, pkcs12, java]
    default: [pem]
  export_password:
    description:
      - Password of C(client.p12) and C(keystore.p12). Required when O(formats) has C(pkcs12) or C(java).
      - At least 8 characters, checked on the controller before the site is touched. Ansible replaces
        every occurrence of a C(no_log) value in a module's output with C(********), so a shorter
        password would garble the output (and betray itself where it is masked).
    type: str
  export_encryption:
    description:
      - Encryption of C(client.p12) and C(keystore.p12).
      - C(modern) is PBES2 with PBKDF2-SHA256 and AES-256-CBC and a SHA-256 MAC.
      - C(compat) is PBE-SHA1-3DES with a SHA-1 MAC, which Java 8, older Windows and
        C(openssl pkcs12 -legacy) read.
    type: str
    choices: [modern, compat]
    default: modern
  keystore_alias:
    description: Alias (friendlyName) of the key entry in C(keystore.p12) and C(client.p12).
    type: str
    default: eeszt-waf
  ca_file:
    description:
      - PEM file on the controller with the CA certificates the client certificate must chain
        to (the issuing and root CA). When set, the chain must end at one of them.
      - Without it the chain is built from the certificates in the PFX alone.
    type: path
  chain_include_root:
    description: Also write the self-signed root CA into C(chain.pem) and C(fullchain.pem).
    type: bool
    default: false
  min_days:
    description: Refuse a certificate with fewer days of validity left.
    type: int
    default: 14
  warn_days:
    description: Warn about a certificate with fewer days of validity left.
    type: int
    default: 30
  institution_id:
    description:
      - When set, the certificate must carry this institution ID (C(eeszt_institution_id))
        in one of O(match_attributes).
    type: str
  match_attributes:
    description:
      - Subject attributes (and C(subjectAltName) for every SAN value) searched for O(institution_id).
    type: list
    elements: str
    choices: [commonName, organizationName, organizationalUnitName, serialNumber, organizationIdentifier, subjectAltName]
    default: [commonName, organizationName, serialNumber, organizationIdentifier, subjectAltName]
  match_mode:
    description:
      - C(exact) - a value equals O(institution_id).
      - C(contains) - a value contains O(institution_id) as a whole token (not as part of a longer number).
    type: str
    choices: [exact, contains]
    default: contains
  backup:
    description: Move the previous set into O(dir)/backup/UTC-TIMESTAMP/ when the set changes.
    type: bool
    default: true
  backups:
    description: How many backup sets to keep (the newest).
    type: int
    default: 5
  pfx_opened:
    description:
      - This host's entry of the RV(eeszt.connect.waf_certificate_open#module:sources) that
        M(eeszt.connect.waf_certificate_open) returned, that is the PFX opened once for every site that uses it.
        When set, the action validates these contents instead of opening O(pfx_src) again; the messages
        and error codes are the same. Controller only, it is never sent to the site.
      - It holds the private key in clear text, so pass it only from a registered, C(no_log) result.
    type: dict
  material:
    description:
      - Internal, set by the action plugin from the validated PFX; do not set it.
      - The PEM certificate, private key and chain and the base64 PKCS#12 files for the site.
    type: dict
  certificate_facts:
    description:
      - Internal, set by the action plugin; do not set it.
      - Subject, issuer, serial, validity and fingerprint of the certificate, for the state file and the diff.
    type: dict
  lock_owner:
    description:
      - Internal, set by the action plugin; do not set it.
      - The controller's host name and process id, recorded in the lock file.
    type: dict
seealso:
  - name: The certificate role
    description: Deploys the certificate with these options from C(eeszt_certificate_*) variables.
    link: https://github.com/eeszt/connect/tree/main/roles/certificate
notes:
  - Re-running with the same PFX reports no change. A renewed certificate writes a new set
    and keeps the previous one as a backup.
  - Programs should read the stable names (O(dir)/cert.pem and so on); they resolve to the live set.
"""

EXAMPLES = r"""
- name: Install the WAF-SSL certificate as PEM files
  eeszt.connect.waf_certificate:
    pfx_src: files/123456.pfx
    pfx_password: "{{ vault_waf_pfx_password }}"
    dir: /etc/eeszt/tls
    ca_file: files/eeszt-client-ca.pem
    institution_id: "{{ eeszt_institution_id }}"

- name: Also write client.p12 and a Java keystore readable by Java 8
  eeszt.connect.waf_certificate:
    pfx_src: files/123456.pfx
    pfx_password: "{{ vault_waf_pfx_password }}"
    formats: [pem, pkcs12, java]
    export_password: "{{ vault_keystore_password }}"
    export_encryption: compat
    keystore_alias: eeszt-waf
    group: tomcat
  register: waf_cert

- name: Roll back to the previous set when the new certificate is refused
  eeszt.connect.waf_certificate:
    state: rollback
    dir: /etc/eeszt/tls
    rollback_from: "{{ waf_cert.fingerprint }}"
  register: waf_rollback

- name: Show when the certificate expires
  ansible.builtin.debug:
    msg: "{{ waf_cert.subject }} expires {{ waf_cert.not_after }} ({{ waf_cert.days_left }} days)"
"""

RETURN = r"""
stage:
  description:
    - C(certificate). With the values below, the result is the public fact C(eeszt_certificate_result) that the
      role eeszt.connect.certificate registers for later stages.
  returned: success and O(state=present)
  type: str
  sample: certificate
unreachable:
  description: Always false in a result (an unreachable site has no result of this task).
  returned: success and O(state=present)
  type: bool
  sample: false
dir:
  description: The certificate directory on the site (O(dir)).
  returned: success and O(state=present)
  type: str
  sample: /etc/eeszt/tls
cert_path:
  description: The client certificate on the site (PEM), C(cert.pem) in O(dir).
  returned: success and O(state=present)
  type: str
  sample: /etc/eeszt/tls/cert.pem
key_path:
  description: The private key on the site (PEM), C(key.pem) in O(dir).
  returned: success and O(state=present)
  type: str
  sample: /etc/eeszt/tls/key.pem
keystore_path:
  description: The Java keystore on the site, C(keystore.p12) in O(dir) when O(formats) has C(java), else null.
  returned: success and O(state=present)
  type: str
  sample: /etc/eeszt/tls/keystore.p12
keystore_alias:
  description: The alias of the key entry in the keystores (O(keystore_alias)).
  returned: success and O(state=present)
  type: str
  sample: eeszt-waf
fingerprint:
  description:
    - SHA-256 fingerprint of the certificate (lowercase hex, no colons).
    - With O(state=rollback), the fingerprint of the certificate live after the task.
  returned: success
  type: str
  sample: 3f2a9c0d5e7b4a1f8c6d2e0b9a7f5c3e1d4b6a8f0c2e4d6b8a0f1e3d5c7b9a2f
subject:
  description: Subject of the certificate (RFC 4514).
  returned: success and O(state=present)
  type: str
  sample: CN=123456 Example Kft,O=123456,serialNumber=123456
issuer:
  description: Issuer of the certificate (RFC 4514).
  returned: success and O(state=present)
  type: str
  sample: CN=EESZT Issuing CA
serial:
  description: Serial number of the certificate (hex).
  returned: success and O(state=present)
  type: str
  sample: 1A2B3C
not_before:
  description: Start of validity (UTC, ISO 8601).
  returned: success and O(state=present)
  type: str
  sample: "2026-01-01T00:00:00Z"
not_after:
  description: End of validity (UTC, ISO 8601).
  returned: success and O(state=present)
  type: str
  sample: "2027-01-01T00:00:00Z"
days_left:
  description: Whole days of validity left, counted on the controller.
  returned: success and O(state=present)
  type: int
  sample: 180
changed_files:
  description: Files of the set that were (or in check mode would be) written anew.
  returned: success and O(state=present)
  type: list
  elements: str
  sample: [cert.pem, key.pem, chain.pem, fullchain.pem]
removed_files:
  description: PKCS#12 files removed because their format is no longer requested.
  returned: success and O(state=present)
  type: list
  elements: str
  sample: []
certificate_changed:
  description: Whether the certificate itself (its fingerprint) differs from the one installed before.
  returned: success
  type: bool
  sample: true
previous_fingerprint:
  description: SHA-256 fingerprint of the certificate installed before the task, or null.
  returned: success
  type: str
  sample: 9b1c7e5a3d2f4b6a8c0e1d3f5a7b9c2e4d6f8a0b1c3e5d7f9a2b4c6d8e0f1a3b
rolled_back:
  description: Whether a backup set was (or in check mode would be) restored.
  returned: success and O(state=rollback)
  type: bool
  sample: true
from_fingerprint:
  description: SHA-256 fingerprint of the certificate that was live before the rollback, or null.
  returned: success and O(state=rollback)
  type: str
  sample: 3f2a9c0d5e7b4a1f8c6d2e0b9a7f5c3e1d4b6a8f0c2e4d6b8a0f1e3d5c7b9a2f
to_fingerprint:
  description: SHA-256 fingerprint of the restored certificate (the live one when nothing was rolled back).
  returned: success and O(state=rollback)
  type: str
  sample: 9b1c7e5a3d2f4b6a8c0e1d3f5a7b9c2e4d6f8a0b1c3e5d7f9a2b4c6d8e0f1a3b
restored_from:
  description: Backup directory that was (or would be) restored, or null.
  returned: success and O(state=rollback)
  type: str
  sample: /etc/eeszt/tls/backup/20260101T120000000000Z
reason:
  description: Why a rollback did nothing (the live certificate is not O(rollback_from)), or null.
  returned: success and O(state=rollback)
  type: str
  sample: null
lock_waited:
  description: Seconds spent waiting for another run's lock on the site (0 in check mode).
  returned: success
  type: float
  sample: 0.0
backup_path:
  description:
    - Directory that holds the previous set, or null when no backup was made.
    - With O(state=rollback), the directory that keeps the set taken out of service
      (C(backup/UTC-TIMESTAMP-rolled-back)).
  returned: success
  type: str
  sample: /etc/eeszt/tls/backup/20260101T120000000000Z
set_path:
  description: Directory of the live set (the target of O(dir)/current).
  returned: success
  type: str
  sample: /etc/eeszt/tls/sets/20260101T120000000000Z-3f2a9c0d5e7b
files:
  description: Stable paths of the written files by name.
  returned: success
  type: dict
  sample: {"cert.pem": /etc/eeszt/tls/cert.pem, "key.pem": /etc/eeszt/tls/key.pem}
pfx_encryption:
  description: Encryption algorithms found in the PFX file (for example C(PBES2), C(3DES), C(RC2-40)).
  returned: success
  type: list
  elements: str
  sample: [PBES2]
error:
  description:
    - Stable code of the failure, for example C(pfx_not_found), C(pfx_wrong_password),
      C(pfx_password_missing) (the file has a password, none was given),
      C(pfx_has_no_password) (a password was given for a file without one), C(pfx_corrupt),
      C(pfx_not_pkcs12) (PEM text, a single certificate, a ZIP archive or base64 text instead of
      the PFX), C(pfx_legacy_unsupported), C(pfx_unsupported_algorithm), C(key_missing) (no private
      key in the file), C(certificate_missing) (a key without its certificate), C(key_mismatch),
      C(certificate_expired), C(certificate_not_yet_valid), C(certificate_expires_soon),
      C(client_auth_missing), C(chain_incomplete), C(issuer_untrusted),
      C(institution_mismatch), C(ca_file_not_found), C(ca_file_invalid),
      C(controller_file_unreadable) (the PFX or CA file cannot be read or decrypted on the
      controller, for example a wrong vault password), C(write_failed), C(locked) (another run
      holds the site's lock), C(no_backup) (nothing to roll back to),
      C(export_password_too_short) (O(export_password) has fewer than 8 characters),
      C(invalid_argument) (an option has a wrong type or value, or a required one is missing),
      C(missing_library) (C(cryptography) is missing on the controller), C(usage) (the module
      was called without its action plugin), C(module_failure) (the module on the site failed
      without saying why, for example its Python crashed; the message says what was seen).
  returned: failure
  type: str
  sample: pfx_wrong_password
lock_holder:
  description: Who holds the site's lock (pid, user, host, controller, since), when the error is C(locked).
  returned: failure
  type: dict
  sample: {"pid": 4242, "host": "site01", "user": "root", "controller": "ctl1", "since": "2026-01-01T12:00:00Z"}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import SiteLockError
from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import EesztCertificateError
from ansible_collections.eeszt.connect.plugins.module_utils.pki.deploy import argument_spec, run


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    try:
        result = run(module)
    except SiteLockError as exc:
        module.fail_json(msg=str(exc), error=exc.code, lock_holder=exc.holder)
    except EesztCertificateError as exc:
        module.fail_json(msg=str(exc), error=exc.code)
    except (IOError, OSError) as exc:
        module.fail_json(msg="writing the certificate set in %s failed: %s" % (module.params["dir"], exc),
                         error="write_failed")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
