# Documentation only: the action plugin eeszt.connect.proofs_verify (plugins/action/proofs_verify.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: proofs_verify
short_description: Re-verify every seal and hash of the EESZT proof archive
version_added: 0.1.0
description:
  - Checks every proof of an archive made by M(eeszt.connect.proofs_archive) and fails naming each
    proof that was altered, is unsigned or whose seal is broken, each proof the archive's records list
    but that is gone, and each proof that lies in another institution's or site's folder than the one
    it names.
  - A file in a site folder that cannot be read or is no proof that keeps the proof schema (docs/proof-schema.md;
    for example one archived by an earlier version, sealed or not) is a problem of kind C(unreadable), named with
    the first way it breaks the schema; every other file is still checked.
  - The quarantine is listed in RV(quarantined) and in one warning per file, with why, when and from which host;
    it does not fail the verification (see the notes).
  - Checks the operator files archived beside the proofs (C(INSTITUTION/SITE/operator/files/NAME) with the
    seal C(INSTITUTION/SITE/operator/seals/NAME.p7s)) the same way; problems name their paths.
  - The records are the collection run records (C(runs/*.json), the SHA-256 of each proof at archive
    time) and C(index.json).
  - Each seal is verified cryptographically in Python with C(cryptography), without the OpenSSL command
    line; the signed C(messageDigest) must equal the SHA-256 of the proof, the signer's RSA or ECDSA
    signature over the signed attributes must verify, and, with O(ca_file), the signer certificate
    must chain to one of its CAs. The signer certificate's validity dates are not checked, so that a
    seal stays verifiable after the certificate that made it expires.
  - A seal belongs to its institution. Every seal that verifies is checked against the archive's signer
    register C(ARCHIVE/signers/INSTITUTION.json) (the certificates that sealed the institution's files, each
    registered when that institution's signing material sealed); a signer not in the register of the file's
    institution is V(unregistered_signer); a signer whose subject carries institution IDs, none of them the
    file's, is V(foreign_signer); a certificate registered for two institutions (other than the vendor's own
    sealing key) or a damaged register is V(signer_conflict); an institution with sealed files but no register
    (an archive made before registers existed) is V(no_register), naming its signers.
  - With O(register_existing), once, first registers the signers of the existing seals (see the option).
author:
  - eeszt.connect developers (@eeszt-connect)
extends_documentation_fragment:
  - eeszt.connect.controller_pki
  - eeszt.connect.attributes.controller_check
  - eeszt.connect.proofs
  - eeszt.connect.proofs.archive
options:
  archive_dir:
    description: The proof archive.
    type: path
    required: true
  register_existing:
    description:
      - One-off adoption for an archive made before signer registers existed. Under the archive lock, the signer
        of every existing seal that verifies and chains to O(ca_file) (required) is registered (source
        C(adopted)) for the institution whose files it sealed, unless it sealed the files of several institutions
        (and is not registered as the vendor's own key), is registered for another institution, or its subject
        carries another institution's ID; those are named in RV(not_adopted) and warnings. Then the archive is
        verified as usual. Check the signers that a run without it names (V(no_register)) first.
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Verify every proof of the archive
  eeszt.connect.proofs_verify:
    archive_dir: ~/eeszt-proofs
    ca_file: /etc/eeszt/client-ca-bundle.pem
  run_once: true
"""

RETURN = r"""
quarantined:
  description: The files of the archive's quarantine, with why (they do not fail the verification).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Its path in the quarantine, relative to the archive (its reason beside it, C(.reason.json)).
      type: str
      sample: quarantine/100001/100001001/20261125T221500Z_100001_100001001.json
    institution_id:
      description: The institution of the site that sent it.
      type: str
    site_id:
      description: The site that sent it.
      type: str
    name:
      description: Its name on the site.
      type: str
    host:
      description: The inventory host it came from.
      type: str
    sha256:
      description: SHA-256 of the file.
      type: str
    reason:
      description: Why it is no valid proof.
      type: str
    at:
      description: When it was quarantined (the controller's clock, UTC).
      type: str
checked:
  description: Proof files checked.
  returned: always
  type: int
  sample: 12
verified:
  description: Proof files without any problem.
  returned: always
  type: int
  sample: 11
records:
  description: Proofs listed in the archive's records (run records and index).
  returned: always
  type: int
problems:
  description: One entry per file with a problem (the task fails when there is any).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: Path relative to the archive.
      type: str
      sample: 100001/100001001/20261125T221500Z_100001_100001001.json
    kind:
      description:
        - The main problem, one of V(missing), V(altered), V(seal_invalid), V(unsigned), V(untrusted),
          V(foreign_signer), V(unregistered_signer), V(misplaced), V(unreadable), V(orphan_seal), V(unsealed)
          (fetched and checked, waiting in C(.unsealed/) for its seal; the next collection run of its site seals
          it), V(signer_conflict) and V(no_register) (both with the path C(signers/INSTITUTION.json)).
      type: str
    kinds:
      description: Every problem found with this file.
      type: list
      elements: str
    message:
      description: What was found.
      type: str
adopted:
  description: With O(register_existing), the signers registered, one entry per institution and certificate.
  returned: with O(register_existing)
  type: list
  elements: dict
  sample: [{"institution_id": "100001", "sha256": "3f1c...", "subject": "CN=100001,O=Lab institution 100001"}]
not_adopted:
  description: With O(register_existing), why each signer that was not adopted was refused.
  returned: with O(register_existing)
  type: list
  elements: str
operator_checked:
  description: Operator files (C(INSTITUTION/SITE/operator/files/NAME)) checked against their seals and records.
  returned: always
  type: int
  sample: 2
operator_verified:
  description: Operator files without any problem.
  returned: always
  type: int
  sample: 2
operator_records:
  description: Operator files listed in the archive's records (run records and index).
  returned: always
  type: int
signers:
  description: Signers of the seals that verified, with the number of proofs and operator files each sealed.
  returned: always
  type: list
  elements: dict
  contains:
    subject:
      description: Subject of the signing certificate.
      type: str
    proofs:
      description: Number of proofs and operator files.
      type: int
"""
