# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared option documentation of the proof archive's actions (proofs_archive, proofs_report, proofs_verify).

One home for what several module files would otherwise write again: the signing options (the spec is
``plugin_utils/proofs/signing.py: signing_spec()``), the archive's CA file and lock, the quarantine, and the
three modules' "see also" of each other. The entries of proofs_report's ``signers`` take their ``suboptions``
from SIGNERS (the module keeps the option's description); their signing options refer to SIGNING's text as
proofs_archive shows it.
"""

from __future__ import annotations


class ModuleDocFragment:

    # ansible-doc requires every fragment to carry options or attributes: none of its own here.
    DOCUMENTATION = r"""
options: {}
notes:
  - "The archive's quarantine (C(quarantine/INSTITUTION/SITE/NAME) with C(NAME.reason.json): why, when, from which
    host) holds the files sites sent as proofs that are no valid proof (M(eeszt.connect.proofs_archive) puts them
    there). Nothing in it is archived as a proof or sealed, so it never makes the archive's evidence doubtful;
    M(eeszt.connect.proofs_verify) lists it, and the report shows a site whose latest collection quarantined a
    file as C(error)."
seealso:
  - module: eeszt.connect.proofs_archive
    description: Fetches each site's proofs into the archive, checked, and seals them or leaves them to seal.
  - module: eeszt.connect.proofs_report
    description: Seals the waiting proofs, records the collection run and rebuilds the fleet report, once per run.
  - module: eeszt.connect.proofs_verify
    description: Re-verifies every seal and hash of the archive against its records.
"""

    # The signing material of plugin_utils/proofs/signing.py: signing_spec(), as proofs_archive's options.
    SIGNING = r"""
options:
  signing_pfx:
    description:
      - PKCS#12 file on the controller whose key and certificate seal the site's files; normally the
        institution's WAF-SSL PFX (C(eeszt_certificate_pfx_src)). May be Ansible Vault encrypted.
      - One of O(signing_pfx) and O(signing_key) seals; without either, the site's files are not sealed here and
        wait in the archive's C(.unsealed/) folder.
    type: path
  signing_pfx_password:
    description: Password of O(signing_pfx).
    type: str
  signing_key:
    description:
      - PEM private key (RSA or EC) on the controller that seals the site's files, instead of O(signing_pfx).
      - Requires O(signing_cert).
    type: path
  signing_key_password:
    description: Password of an encrypted O(signing_key).
    type: str
  signing_cert:
    description: PEM certificate of O(signing_key) on the controller; CA certificates may follow it.
    type: path
  signing_chain:
    description: PEM file of further CA certificates to include in each seal.
    type: path
"""

    # proofs_report's signers entries: a site, and the signing options, documented once in SIGNING (ansible-test
    # reads every fragment as one literal string, so the entries name them instead of repeating them).
    SIGNERS = r"""
options:
  signers:
    suboptions:
      host:
        description: Inventory name of the site, for messages.
        type: str
      institution_id:
        description: Institution ID of the site.
        type: str
        required: true
      site_id:
        description: Site ID of the site.
        type: str
        required: true
      inventory_dir:
        description: The site's C(inventory_dir); relative signing file paths are taken relative to it.
        type: path
      signing_pfx:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_pfx), documented there.
        type: path
      signing_pfx_password:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_pfx_password).
        type: str
      signing_key:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_key); requires O(signers[].signing_cert).
        type: path
      signing_key_password:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_key_password).
        type: str
      signing_cert:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_cert).
        type: path
      signing_chain:
        description: The entry's O(eeszt.connect.proofs_archive#module:signing_chain).
        type: path
"""

    # The archive's CA file and lock, as proofs_report and proofs_verify read them.
    ARCHIVE = r"""
options:
  ca_file:
    description:
      - PEM file of the CA certificates that the seals' signers must chain to (for WAF-SSL keys, the EESZT
        client CA chain; the role variable C(eeszt_proofs_ca_file)).
      - M(eeszt.connect.proofs_verify) without it checks only the signatures and hashes;
        M(eeszt.connect.proofs_report) requires it to merge other archives (C(merge_from)), whose every incoming
        seal is checked against it.
    type: path
  lock_timeout:
    description:
      - Seconds to wait for the archive lock C(ARCHIVE_DIR/.lock) while another run writes into the same archive
        (the role variable C(eeszt_proofs_lock_timeout)); V(0) does not wait.
      - M(eeszt.connect.proofs_report) always takes the lock; M(eeszt.connect.proofs_verify) only to register
        existing signers (C(register_existing)).
    type: int
    default: 300
"""
