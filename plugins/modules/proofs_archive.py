# Documentation only: the action plugin eeszt.connect.proofs_archive (plugins/action/proofs_archive.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: proofs_archive
short_description: Fetch a site's connection check proofs into the central archive (sealed by proofs_report)
version_added: 0.1.0
description:
  - Lists the proof files (C(*.json)) in O(proof_dir) on the site with their SHA-256, fetches the
    ones the archive does not hold yet and stores them on the controller in
    O(archive_dir)/INSTITUTION_ID/SITE_ID/, byte for byte.
  - Limits, enforced before anything is read. The listing gives each file's size (a stat on the site); a proof
    larger than O(max_proof_size) is refused without being fetched (an error of the site, listed in RV(refused) and
    a warning, naming its size and the limit), and so is a fetched one that grew over it since the listing. Of the
    new proofs, at most O(max_new_per_site) are fetched in one run, the oldest first (by file name; the connection
    check names its proofs by their UTC time, so the controller receives them in the order they were made); the
    others stay on the site, listed in RV(left_on_site) and named in a warning, and the next runs collect them.
    The proof returned in O(reported_content) is held to O(max_proof_size) too, before it is decoded.
  - Each fetched proof is checked before it is stored; its SHA-256 must equal the one computed on
    the site and, for O(reported_path), the one the connection check reported (O(reported_sha256));
    it must be a C(eeszt.connect/proof/v1) document of this site (O(institution_id), O(site_id)).
  - "A site is not trusted. Each proof is checked against the proof schema (docs/proof-schema.md: every field's
    type, the failure categories, a length limit on every text) and its C(started_at) and C(finished_at) against
    the controller's clock, before anything is stored. A time more than O(clock_tolerance) seconds in the
    controller's future, or more than O(clock_tolerance) seconds before the client certificate's C(not_before)
    (when the proof holds it), is refused as clock skew. A file that is no valid proof is not archived and not
    sealed; it is kept in O(archive_dir)/quarantine/INSTITUTION_ID/SITE_ID/NAME with C(NAME.reason.json) (why,
    when, which host), named in a warning and in RV(quarantined), and the task fails with the error code
    C(invalid_proof) and the message C(the site sent an invalid proof: NAME: REASON), so that the report shows the
    site as C(error). The same file still on the site at a later run is not fetched again but named again, until
    it is removed from the site."
  - With O(reported_content) (the proof the connection check of this run returned, C(eeszt_check_result.proof_content))
    nothing runs on the site. That proof is taken from the check's result, its SHA-256 checked against
    O(reported_sha256) on the controller, and the rules below apply to it as to a fetched one. Proofs of earlier runs
    still on the site are then not listed; they are collected by a run without O(reported_content) (the proofs stage
    run alone). Operator files (O(operator_files)) are still listed and fetched on the site.
  - Each fetched and checked file is kept in O(archive_dir)/.unsealed/ until it is sealed; it enters the archive
    only with its seal. M(eeszt.connect.proofs_report) (run once, option C(signers)) seals the files of the
    whole run, loading each signing material once (one PFX decryption per institution, not per site); this is
    what the C(eeszt.connect.proofs) role does. With O(signing_pfx) or O(signing_key) given here, this task
    seals the site's files itself (one load per site).
  - The seal is a detached CMS signature (C(PROOF.json.p7s), DER, SHA-256, with the signer certificate and its
    chain), made on the controller with C(cryptography), by default with the institution's WAF-SSL key from its
    PFX file, or with a signing key and certificate. It verifies with
    C(openssl cms -verify -binary -purpose any -inform DER -CAfile CA.pem -content PROOF.json -in PROOF.json.p7s).
  - An archived proof is never overwritten. A file of the same name and SHA-256 is skipped; a file of
    the same name with another SHA-256 is an error naming it. Problems with some files do not stop
    the others; the task fails at the end, naming each.
  - With O(operator_files), also archives the site's operator files, files that the operator's verification
    program (C(eesztConnect.exe)) or the institution produced and copied to the site. M(eeszt.connect.operator_files)
    resolves the patterns on the site and refuses, with a reason per file (a warning; the other files and the
    site go on), a file over O(operator_files_max_bytes), a file that is not regular, and a symbolic link that
    resolves outside the directory of its pattern (never followed). A fetched file is refused too, on the
    controller, when it holds key material, a PEM private key block, a DER private key (PKCS#1, PKCS#8, encrypted
    PKCS#8, SEC1), a PKCS#12 file (also without its password), a Java keystore, and any of these inside gzip,
    bzip2, xz or zip (two levels, at most 4 MiB out of each stream or member, 64 members), UTF-16 or UTF-32
    text, or base64 (what lies beyond these bounds is not inspected). Each new file is checked against the
    SHA-256 listed on the site, sealed like a proof and stored as O(archive_dir)/INSTITUTION_ID/SITE_ID/operator/files/NAME
    with its seal in C(.../operator/seals/NAME.p7s). An unchanged file is skipped; a changed file of an
    archived name is stored beside it as C(STEM_<first 12 hex digits of its SHA-256>EXT), never over it.
  - The proofs are the vendor's own sealed evidence that a site is connected. They are not the electronic
    certificate that the operator's verification program issues for the institution to upload to eKapu.
  - This module is an action plugin; all the work happens in it, on the controller, and the site
    only runs M(ansible.builtin.find), M(ansible.builtin.slurp) and, for operator files,
    M(eeszt.connect.operator_files). The signing key and its password never leave the controller.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Lists what would be archived; fetches, writes and signs nothing.
  diff_mode:
    support: none
    description: Proofs are added, never changed, so there is nothing to diff.
  platform:
    support: full
    platforms: posix
    description: The site needs Python (standard library only).
  action:
    support: full
    description: Runs on the controller; the site runs only M(ansible.builtin.find), M(ansible.builtin.slurp) and M(eeszt.connect.operator_files).
  async:
    support: none
    description: Not supported.
  bypass_host_loop:
    support: none
    description: Runs once per site.
extends_documentation_fragment:
  - eeszt.connect.controller_pki
  - eeszt.connect.proofs
  - eeszt.connect.proofs.signing
options:
  archive_dir:
    description:
      - The archive on the controller; created when missing. C(~) is expanded.
    type: path
    required: true
  proof_dir:
    description: Directory of the proof files on the site.
    type: path
    default: /var/lib/eeszt/proofs
  institution_id:
    description: Institution ID of the site; the archive folder and what every proof must name.
    type: str
    required: true
  site_id:
    description: Site ID of the site; the archive folder and what every proof must name.
    type: str
    required: true
  reported_path:
    description:
      - Path of the proof that the connection check reported (C(eeszt_check_result.proof_path)).
      - It must be among the files of O(proof_dir).
    type: path
  reported_sha256:
    description: SHA-256 the connection check reported for O(reported_path) (C(eeszt_check_result.proof_sha256)).
    type: str
  reported_content:
    description:
      - The bytes of the proof O(reported_path), base64 encoded, as the connection check returned them
        (C(eeszt_check_result.proof_content)). Needs O(reported_path) and O(reported_sha256).
      - When given, the proof is archived from it and O(proof_dir) is not listed on the site (no module run).
    type: str
    version_added: 0.2.0
  operator_files:
    description:
      - Absolute paths or globs of operator files on the site (see M(eeszt.connect.operator_files)).
      - Empty (the default) collects none.
    type: list
    elements: str
    default: []
  operator_files_max_bytes:
    description:
      - Operator files larger than this are not collected (default 10 MiB).
      - The site refuses them by their size before reading them; the controller checks the size listed by the
        site again before fetching, and refuses a fetched file that grew over the limit.
    type: int
    default: 10485760
  max_proof_size:
    description:
      - Size limit of one proof file, in bytes (the role variable C(eeszt_proofs_max_proof_size)). 64 KiB is many
        times a real proof (about 3 KiB for two endpoints).
      - A larger proof is refused by the size the site's listing gives, without being fetched.
    type: int
    default: 65536
    version_added: 0.2.0
  max_new_per_site:
    description:
      - At most this many new proofs of the site are fetched in one run, the oldest first (by file name); the
        rest wait on the site for the next runs (the role variable C(eeszt_proofs_max_new_per_site)).
      - A daily check makes one proof a day and a weekly collection finds 7; 20 catches up nearly three weeks.
    type: int
    default: 20
    version_added: 0.2.0
  merge_from:
    description:
      - Archives that are merged into O(archive_dir) in this run (the role variable C(eeszt_proofs_merge_from),
        see M(eeszt.connect.proofs_report)). A new proof or operator file that one of them already holds with the
        same bytes and a seal that verifies is stored with that seal instead of being sealed again, so that the
        merge finds one proof with one seal (a seal is not byte for byte reproducible).
      - Archives that do not exist (yet) are passed over.
    type: list
    elements: path
    default: []
  clock_tolerance:
    description:
      - How many seconds a proof's C(started_at) or C(finished_at) may lie after the controller's clock, or before
        the client certificate's C(not_before), before the proof is refused as clock skew (role variable
        C(eeszt_proofs_clock_tolerance)). Exactly the tolerance is accepted.
    type: int
    default: 300
notes:
  - The archive layout, the seal and the report are described in the C(eeszt.connect.proofs) role's README.
seealso:
  - module: eeszt.connect.operator_files
  - module: eeszt.connect.connection_check
"""

EXAMPLES = r"""
- name: Fetch and check this site's proofs (eeszt.connect.proofs_report seals the run's proofs once per PFX)
  eeszt.connect.proofs_archive:
    archive_dir: ~/eeszt-proofs
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    reported_path: "{{ eeszt_check_result.proof_path | default(omit) }}"
    reported_sha256: "{{ eeszt_check_result.proof_sha256 | default(omit) }}"
    # The proof this run's check returned: archived without any module run on the site.
    reported_content: "{{ eeszt_check_result.proof_content | default(omit, true) }}"

- name: Archive and seal this site's proofs in this task (sealed with the institution's WAF-SSL key)
  eeszt.connect.proofs_archive:
    archive_dir: ~/eeszt-proofs
    proof_dir: /var/lib/eeszt/proofs
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    reported_path: "{{ eeszt_check_result.proof_path | default(omit) }}"
    reported_sha256: "{{ eeszt_check_result.proof_sha256 | default(omit) }}"
    signing_pfx: "{{ eeszt_certificate_pfx_src }}"
    signing_pfx_password: "{{ eeszt_certificate_pfx_password }}"

- name: Seal with the vendor's own signing key instead
  eeszt.connect.proofs_archive:
    archive_dir: /srv/eeszt/proofs
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    signing_key: files/seal-key.pem
    signing_key_password: "{{ vault_seal_key_password }}"
    signing_cert: files/seal-cert.pem

- name: Archive the proofs and the copies of the operator program's output
  eeszt.connect.proofs_archive:
    archive_dir: /srv/eeszt/proofs
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    signing_pfx: "{{ eeszt_certificate_pfx_src }}"
    signing_pfx_password: "{{ eeszt_certificate_pfx_password }}"
    operator_files:
      - /var/lib/eeszt/operator/*
    operator_files_max_bytes: 5242880
"""

RETURN = r"""
site_dir:
  description: The site's folder in the archive, on the controller.
  returned: always
  type: str
  sample: /home/vendor/eeszt-proofs/100001/100001001
listed:
  description: Number of proof files found on the site; V(0) when RV(source) is V(check_result) (nothing listed).
  returned: always
  type: int
  sample: 3
source:
  description:
    - Where the proofs came from. V(check_result) the proof of O(reported_content), without a module run on the
      site; V(site) the files listed in O(proof_dir) and fetched.
  returned: always
  type: str
  sample: check_result
archived:
  description: Proofs stored (in check mode, that would be stored) by this run.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: File name.
      type: str
      sample: 20261125T221500Z_100001_100001001.json
    path:
      description: Path relative to the archive.
      type: str
      sample: 100001/100001001/20261125T221500Z_100001_100001001.json
    sha256:
      description: SHA-256 of the proof (none in check mode).
      type: str
    seal:
      description:
        - Path of the seal relative to the archive; none in check mode and while the proof waits for
          M(eeszt.connect.proofs_report) to seal it (no signing option given to this task).
      type: str
      sample: 100001/100001001/20261125T221500Z_100001_100001001.json.p7s
    signer:
      description: Subject of the signing certificate; none when RV(archived[].seal) is none.
      type: str
skipped:
  description: Names of proofs already in the archive with the same SHA-256.
  returned: always
  type: list
  elements: str
quarantined:
  description:
    - Files the site sent as proofs that are no valid proof (the task fails when there is any, error code
      C(invalid_proof)); each kept in the archive's quarantine, not archived and not sealed.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file's name on the site.
      type: str
    path:
      description: Its path in the quarantine, relative to the archive (its reason beside it, C(.reason.json)).
      type: str
      sample: quarantine/100001/100001001/20261125T221500Z_100001_100001001.json
    sha256:
      description: SHA-256 of the file.
      type: str
    reason:
      description: Why it is no valid proof (the first schema problem as path and reason, or the clock skew).
      type: str
      sample: "failure: expected an object or null, got a string"
    host:
      description: The inventory host it came from.
      type: str
    quarantined_at:
      description: When it was first quarantined (the controller's clock, UTC).
      type: str
errors:
  description: One message per file that could not be archived (the task fails when there is any).
  returned: always
  type: list
  elements: str
refused:
  description:
    - Proofs refused before they were read, each with C(name), C(path) (on the site), C(size) (bytes, as listed;
      none when the listing gave none) and C(reason); each is also in RV(errors) and a warning.
  returned: always
  type: list
  elements: dict
  sample: [{"name": "big.json", "path": "/var/lib/eeszt/proofs/big.json", "size": 65537,
            "reason": "it is 65537 bytes, over the limit of 65536 bytes (eeszt_proofs_max_proof_size), so it is not fetched; ..."}]
left_on_site:
  description: Names of new proofs left on the site for the next runs (over O(max_new_per_site)), oldest first.
  returned: always
  type: list
  elements: str
operator_archived:
  description: Operator files stored (in check mode, that would be stored) by this run.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: File name in the archive.
      type: str
      sample: igazolas.pdf
    path:
      description: Path relative to the archive.
      type: str
      sample: 100001/100001001/operator/files/igazolas.pdf
    source:
      description: Path of the file on the site.
      type: str
      sample: /var/lib/eeszt/operator/igazolas.pdf
    source_name:
      description: File name on the site.
      type: str
    size:
      description: Size in bytes.
      type: int
    sha256:
      description: SHA-256 of the file.
      type: str
    seal:
      description: Path of the seal relative to the archive; none in check mode and until it is sealed.
      type: str
      sample: 100001/100001001/operator/seals/igazolas.pdf.p7s
    signer:
      description: Subject of the signing certificate; none until it is sealed.
      type: str
    modified_at:
      description: Modification time of the file on the site, UTC.
      type: str
    collected_at:
      description: When the file was archived, UTC (none in check mode).
      type: str
operator_skipped:
  description: Names of operator files already in the archive with the same SHA-256.
  returned: always
  type: list
  elements: str
operator_refused:
  description: Operator files not collected, each with C(path) (on the site) and C(reason); each is also a warning.
  returned: always
  type: list
  elements: dict
operator_unmatched:
  description: Patterns of O(operator_files) that matched no file on the site.
  returned: always
  type: list
  elements: str
"""
