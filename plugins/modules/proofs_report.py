# Documentation only: the action plugin eeszt.connect.proofs_report (plugins/action/proofs_report.py) does the work on the controller.
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: proofs_report
short_description: Build the EESZT fleet report from the proof archive
version_added: 0.1.0
description:
  - Rebuilds the fleet report of a proof archive from the archive's contents alone (the proofs, their
    seals and the collection run records), so that partial runs, re-runs and runs of several
    controllers merge into one report.
  - Writes C(index.json) (every proof, the latest per site, pass or fail, client certificate expiry and
    days left), C(report.csv), C(report.html) (a self-contained page with summary counts, SVG charts
    of sites by status, of certificate days left and of certificates expiring per month over the
    coming twelve months, one row per site with the failure category, message and hint and the trend
    of its last ten checks, sortable columns; no network access needed), C(junit.xml) (one test case
    per site), C(metrics.prom) (fleet metrics in Prometheus' text format for node_exporter's textfile
    collector, with sites by status, certificates by days left, proofs per institution, and per site
    up, failure, unreachable and the times of its last proof, last passing proof and certificate expiry;
    the same archive gives the same bytes) and, per institution, the institution evidence bundle
    C(evidence/INSTITUTION_ID_evidence.zip) (the latest passing proof of each site with its seal, the sites' operator files with theirs,
    C(SHA256SUMS) and a C(README.txt) that says what the bundle is and is not).
  - The proofs and the bundles are the vendor's own sealed evidence that each site is connected. They are
    not the proof for eKapu, which is the electronic certificate that the operator's verification program
    (C(eesztConnect.exe)) issues after a successful run at the site; the institution's administrator uploads
    that file to eKapu. This module uploads nothing.
  - Bundles that earlier versions wrote as C(upload/INSTITUTION_ID_ekapu.zip) are removed when the report is
    rebuilt; the same content is in C(evidence/).
  - C(report.html) and C(index.json) list each site's operator files (name, size, SHA-256, when collected) and
    the ones the site's latest collection refused, with why.
  - "A site's row reflects its latest run at every stage, never a stale green: a failure recorded after its
    latest proof (a stage that failed, in the run ledger with its stage, error code and message; a refusal of
    its host by the preflight; a rotation from C(rotation.jsonl) whose final check failed) makes the site
    failed with that reason until a newer proof is archived, and a site unreachable at its last run is failed
    until it is reached again. Its last passing proof is shown as history, with its age; a bundle whose proof
    of a site is older than such a failure holds C(NOTICE-LATER-FAILURES.txt) saying so."
  - A host refused by the preflight (status V(refused)) is recorded under its inventory name only and listed
    as a problem (C(refused) in C(index.json), a test case in C(junit.xml), a section of C(report.html)), never
    as a site row under identifiers that may be the very thing the preflight refused. A site row without
    proofs whose host was later recorded under another identity (a typo since corrected) is left out.
  - The latest outcome of each site in C(rotation.jsonl) (written by C(playbooks/rotate_certificate.yml);
    check-mode entries are left out) is shown in the row; the latest proof's age and a staleness marker
    past O(stale_hours), and the site's environment, too.
  - With O(outcomes), first records the collection run in C(runs/) (the ledger that
    M(eeszt.connect.proofs_verify) uses to notice removed proofs); a record is written only when it
    adds something (new proofs, or a site whose collection status changed).
  - With O(merge_from), first copies the proofs, seals and run records of other archives into this one
    (never overwriting a proof or a record; a file of the same name with other content is an error that names
    it). A proof sealed in both archives with different seals (a seal is not byte for byte reproducible, it
    holds its signing time) is the same proof when its bytes are the same and both seals verify; one seal is
    kept, the same whatever the order of the merges (the one whose SHA-256 is lower). A seal that does not
    verify is a conflict.
  - Before anything is copied, every incoming proof is checked as collection checks it, and every incoming
    seal against O(ca_file) (required with O(merge_from)) and the signer registers
    (C(ARCHIVE/signers/INSTITUTION.json)); its signer must be registered for the file's institution, here or in
    the other archive's register where that entry contradicts nothing here, and must not carry another
    institution's ID in its subject. One refusal refuses that merge (error C(merge_refused), naming every
    refused file and register entry); the archive is left as it was. The registers merge as a union.
  - When sealing, a signer whose certificate is registered for another institution, or whose subject carries
    institution IDs none of which is the site's, is refused for that site (its files wait in C(.unsealed/));
    an accepted one is registered for the institution before its first seal.
  - Outputs are rewritten only when their content changes, so an unchanged archive reports no change.
  - "The ledger, the merge and the report rebuild run under the archive lock C(ARCHIVE_DIR/.lock) (an
    C(fcntl.flock); the file records the holder's process ID, host and start time), so that runs writing into
    one archive at the same time, such as the jobs of a sliced job template on a shared volume, rebuild the
    report one after the other and the last one sees every proof. A run waits at most O(lock_timeout) seconds
    for another, then fails naming the lock file and its holder. On a shared volume the file system's locks must
    work across hosts (NFSv4, or NFSv3 with a lock manager)."
  - An action plugin that runs on the controller (no interpreter, no host contacted); use C(run_once) V(true).
author:
  - eeszt.connect developers (@eeszt-connect)
extends_documentation_fragment:
  - eeszt.connect.attributes.controller_action
  - eeszt.connect.proofs
  - eeszt.connect.proofs.archive
  - eeszt.connect.proofs.signers
options:
  archive_dir:
    description: The proof archive (created when missing).
    type: path
    required: true
  outcomes:
    description:
      - The collection run's outcome per site, to record in the ledger before the report is built.
    type: list
    elements: dict
    default: []
    suboptions:
      host:
        description: Inventory name of the site. Required with O(outcomes[].status=refused).
        type: str
      institution_id:
        description: Institution ID of the site. Required unless O(outcomes[].status=refused).
        type: str
      site_id:
        description: Site ID of the site. Required unless O(outcomes[].status=refused).
        type: str
      status:
        description:
          - V(collected), V(unreachable) or V(error) (a stage failed on the site, or its proofs could not be
            archived).
          - V(refused) for a host the preflight refused; it is recorded under O(outcomes[].host) only, its
            identifiers are not used.
        type: str
        required: true
        choices: [collected, unreachable, error, refused]
      stage:
        description:
          - The stage where the site failed or was unreachable; V(preflight), V(certificate), V(tls),
            V(check), V(proofs) or V(rotation). Null for a site that was collected.
        type: str
      error:
        description:
          - The error code of the failed stage's result (its C(error) return value, for example
            V(pfx_wrong_password)). Anything that is not a short code is dropped.
        type: str
      reason:
        description:
          - Why the site was not collected, for example the connection error of an unreachable site.
          - Kept on one line and cut at 500 characters. It goes into the run record and the report, so
            it must not hold a secret (a connection error does not; a task's arguments may).
        type: str
      archived:
        description: The RV(eeszt.connect.proofs_archive#module:archived) list of the site.
        type: list
        elements: dict
        default: []
      operator_files:
        description: The RV(eeszt.connect.proofs_archive#module:operator_archived) list of the site.
        type: list
        elements: dict
        default: []
      operator_refused:
        description: The RV(eeszt.connect.proofs_archive#module:operator_refused) list of the site.
        type: list
        elements: dict
        default: []
  signers:
    description:
      - How each site of the run seals its files; the files that M(eeszt.connect.proofs_archive) kept in
        O(archive_dir)/.unsealed/ are sealed first, under the archive lock, each distinct signing material
        loaded once (the sites of one institution sealed with its PFX decrypt it once per run).
      - A site's files that cannot be sealed (its signer fails to load) wait, its outcome becomes an error of
        the V(proofs) stage (error V(seal_failed)), and the other sites go on; files of sites that have no entry
        here wait too. Every waiting file is named in a warning and in RV(unsealed), and C(verify_proofs.yml)
        names it (kind V(unsealed)) until a later run of its site seals it.
      - The C(eeszt.connect.proofs) role does not use it; it passes O(hosts), and each site's signing settings are
        read from its variables. An entry here wins over the one read from a host of O(hosts) for the same site.
      - An entry names its site and how it seals; its C(signing_*) options mean what those of
        M(eeszt.connect.proofs_archive) mean (one spec, C(plugin_utils/proofs/signing.py), and one text).
    type: list
    elements: dict
    default: []
  hosts:
    description:
      - Hosts of the play (the C(eeszt.connect.proofs) role passes C(ansible_play_hosts)) whose signing settings
        and, with O(archive_result), collection outcomes are read from their variables on the controller, so that
        no per-site task has to copy them into facts.
      - Each host's signing settings are its C(eeszt_proofs_signing_pfx) and C(eeszt_proofs_signing_pfx_password)
        (used only when C(eeszt_proofs_signing_key) is not set), C(eeszt_proofs_signing_key),
        C(eeszt_proofs_signing_cert), C(eeszt_proofs_signing_key_password) and C(eeszt_proofs_signing_chain), with
        C(eeszt_institution_id), C(eeszt_site_id) and C(inventory_dir), templated in the host's own context as a
        task of the role on that host sees them (role defaults, inventory, play and role variables, facts, extra
        variables). They are handled as O(signers) entries are; passwords never appear in a result or a message. A
        setting that cannot be templated makes that site's sealing fail (error V(seal_failed)), naming the
        variable.
      - Their outcomes are recorded before O(outcomes) and returned in RV(host_outcomes).
    type: list
    elements: str
  archive_result:
    description:
      - Name of the variable in which each host of O(hosts) registered the result of its
        M(eeszt.connect.proofs_archive) task (run with C(ignore_errors) and C(ignore_unreachable)).
      - Each host's outcome is derived from it and recorded before O(outcomes).
      - V(unreachable) (stage V(proofs), its connection error as the reason) when the host was unreachable;
          V(error) (stage V(proofs), the result's C(error) code or V(archive_failed), its message or
          V(the proofs could not be archived)) when the task failed; V(collected) otherwise; with the result's
          C(archived), C(operator_archived) and C(operator_refused) lists.
      - A host without C(eeszt_institution_id) or C(eeszt_site_id) is not recorded; its outcome is returned in
        RV(host_outcomes) only.
    type: str
  controller:
    description: Name of the controller recorded in the run record (default the controller's host name).
    type: str
  merge_from:
    description: Other archives whose proofs, seals and run records are copied into O(archive_dir) first.
    type: list
    elements: path
    default: []
  warn_days:
    description: Certificates with fewer days left are counted and shown as expiring.
    type: int
    default: 30
  stale_hours:
    description: A site whose latest proof is older than this many hours is counted and marked stale.
    type: int
    default: 192
  incident_min_sites:
    description:
      - The least number of failing sites that make an incident (the role variable
        C(eeszt_proofs_incident_min_sites)); at least V(2), so that a lone site's failure stays a site problem.
      - "The rule: failing sites are grouped by failure category and by the scope that explains them: the whole
        fleet, one environment, one endpoint URL, one proxy or one institution (sites unreachable over SSH: the
        fleet or one institution; a proxy failure: no endpoint, and its proxy comes first on a tie). A scope
        qualifies when at least O(incident_min_sites) of its sites fail with
        the category and they are at least O(incident_min_share) of its sites. Of the qualifying scopes, the one
        that explains the most failing sites wins; on a tie, the one where they are the larger share; on a tie
        again, the widest. Its sites are one incident; the rule runs again on the sites left."
      - Incidents are listed in C(index.json) (C(incidents)), returned as RV(incidents), shown at the top of
        C(report.html), printed by the C(eeszt.connect.fleet_summary) callback and exported in C(metrics.prom)
        (C(eeszt_fleet_incident)).
    type: int
    default: 2
  incident_min_share:
    description:
      - The least share (greater than V(0), at most V(1)) of a scope's sites that must fail with one category for
        an incident (the role variable C(eeszt_proofs_incident_min_share)); inclusive, so with V(0.5) two failing
        sites of four are an incident and two of five are not. See O(incident_min_sites).
    type: float
    default: 0.5
  language:
    description:
      - Language of C(report.html) (headings, tiles, status words, legends, notes); V(hu) is Hungarian.
      - C(index.json), C(report.csv), C(junit.xml) and the bundles keep English keys and values.
    type: str
    choices: [en, hu]
    default: en
  evidence_bundles:
    description:
      - Build the per-institution evidence bundles (C(evidence/INSTITUTION_ID_evidence.zip)).
      - Default V(true), or O(bundles) when only that is given.
    type: bool
  bundles:
    description:
      - Deprecated, use O(evidence_bundles). The same switch under its earlier name (the role variable
        C(eeszt_proofs_bundles)); setting it gives a deprecation warning. O(evidence_bundles) wins when both are given.
      - Will be removed in version 2.0.0 of eeszt.connect.
    type: bool
  title:
    description:
      - Title of the HTML report.
      - Default V(EESZT connection proofs), or V(EESZT kapcsolódási igazolások) with O(language=hu).
    type: str
"""

EXAMPLES = r"""
- name: Archive the proofs of each site
  eeszt.connect.proofs_archive:
    archive_dir: ~/eeszt-proofs
    institution_id: "{{ eeszt_institution_id | string }}"
    site_id: "{{ eeszt_site_id | string }}"
  register: proofs_archived
  ignore_errors: true
  ignore_unreachable: true

- name: Seal the run's proofs (each institution's PFX decrypted once), record the run and rebuild the report
  eeszt.connect.proofs_report:
    archive_dir: ~/eeszt-proofs
    hosts: "{{ ansible_play_hosts }}"
    archive_result: proofs_archived
  run_once: true

- name: Seal the waiting proofs of one site with the vendor's own key
  eeszt.connect.proofs_report:
    archive_dir: /srv/eeszt/proofs
    signers:
      - institution_id: "100001"
        site_id: "100001001"
        signing_key: /srv/eeszt/seal-key.pem
        signing_key_password: "{{ vault_seal_key_password }}"
        signing_cert: /srv/eeszt/seal-cert.pem
  run_once: true

- name: Merge the archive of a second controller and rebuild the report
  eeszt.connect.proofs_report:
    archive_dir: /srv/eeszt/proofs
    merge_from:
      - /mnt/controller-b/eeszt-proofs
  run_once: true
"""

RETURN = r"""
invalid_files:
  description:
    - Files in the archive's site folders that cannot be read or are no valid proof (docs/proof-schema.md), for
      example one an earlier version archived; each is named here, in a warning, in C(index.json)
      (C(invalid_files)), C(junit.xml) and C(report.html), and every other file is in the report.
    - "A site whose latest collection quarantined a file it sent as a proof has the status C(error) with the
      message C(the site sent an invalid proof: NAME: REASON); C(index.json) lists the quarantine
      (C(quarantine))."
  returned: success
  type: list
  elements: dict
  contains:
    path:
      description: Path relative to the archive.
      type: str
    institution_id:
      description: Its institution folder.
      type: str
    site_id:
      description: Its site folder.
      type: str
    reason:
      description: Why it is not used.
      type: str
archive_dir:
  description: The archive.
  returned: always
  type: str
lock_waited:
  description: Seconds this run waited for the archive lock.
  returned: success
  type: float
  sample: 0.0
error:
  description:
    - Why the module failed, a short code; its message (C(msg)) never holds a secret.
    - V(locked) when the archive lock could not be taken within O(lock_timeout), V(archive_conflict) when an
      archive to merge holds a file of the same name with other content (or a seal that does not verify),
      V(report_failed) for any other problem (a damaged run record, a folder that cannot be written).
  returned: failure
  type: str
  sample: locked
sealed:
  description: Files sealed by this run (proofs and operator files), relative to the archive.
  returned: success
  type: list
  elements: str
  sample: [100001/100001001/20261125T221500Z_100001_100001001.json]
unsealed:
  description: Files that still wait in C(.unsealed/) for their seal (in check mode, every waiting file).
  returned: success
  type: list
  elements: str
  sample: []
seal_errors:
  description: One entry per site whose files could not be sealed; its outcome is recorded as an error.
  returned: success
  type: list
  elements: dict
  contains:
    host:
      description: Inventory name of the site (from O(hosts) or O(signers[].host)).
      type: str
    institution_id:
      description: Institution ID.
      type: str
    site_id:
      description: Site ID.
      type: str
    message:
      description: What failed (names the file and the variable; never a password).
      type: str
signer_loads:
  description: Number of signing materials loaded (PFX files decrypted or PEM keys read) to seal this run.
  returned: success
  type: int
  sample: 1
report:
  description: Absolute path of C(report.html).
  returned: always
  type: str
  sample: /home/vendor/eeszt-proofs/report.html
files:
  description: Report files of the archive, relative to it.
  returned: always
  type: list
  elements: str
  sample: [index.json, report.csv, report.html, junit.xml, metrics.prom, evidence/100001_evidence.zip]
changed_files:
  description:
    - Report files written (or, in check mode, that would be written) by this run, and the bundles of earlier
      versions (C(upload/*_ekapu.zip)) removed.
  returned: always
  type: list
  elements: str
run_record:
  description: The run record written, relative to the archive, or none.
  returned: always
  type: str
  sample: runs/20261125T221502Z_controller_1a2b3c4d.json
merged:
  description: Files copied from O(merge_from), relative to the archive.
  returned: always
  type: list
  elements: str
summary:
  description: The summary counts of the report.
  returned: always
  type: dict
  contains:
    sites:
      description: Sites in the report.
      type: int
    passed:
      description: Sites whose latest proof passed.
      type: int
    failed:
      description: Sites whose latest proof failed.
      type: int
    no_proof:
      description: Sites without any proof.
      type: int
    unreachable:
      description: Sites that were unreachable at their last collection.
      type: int
    collection_errors:
      description: Sites whose last collection failed with an error.
      type: int
    institutions:
      description: Institutions in the report.
      type: int
    proofs:
      description: Proofs in the archive.
      type: int
    missing_proofs:
      description: Proofs the ledger records that are no longer in the archive.
      type: int
    unsealed_proofs:
      description: Proofs without a seal.
      type: int
    certificates_expired:
      description: Sites whose client certificate has expired.
      type: int
    certificates_expiring:
      description: Sites whose client certificate has fewer than O(warn_days) days left.
      type: int
    warn_days:
      description: The O(warn_days) used.
      type: int
    stale:
      description: Sites whose latest proof is older than O(stale_hours).
      type: int
    stale_hours:
      description: The O(stale_hours) used.
      type: int
    refused:
      description: Hosts whose latest outcome is a refusal by the preflight (they have no site row).
      type: int
    bundle_outdated:
      description: Sites that failed after the passing proof their institution's bundle holds.
      type: int
    rotation_problems:
      description: Sites whose latest rotation was V(rolled_back), V(check_failed) or V(failed).
      type: int
host_outcomes:
  description:
    - The outcome of this run of each host (the hosts of O(hosts) and the entries of O(outcomes) that name a host),
      by inventory name, as recorded (a site whose files could not be sealed is an V(error) of the V(proofs) stage
      with error V(seal_failed)).
  returned: always
  type: dict
  sample:
    site001: {status: collected, stage: null, error: null, reason: ""}
    site002: {status: unreachable, stage: proofs, error: null, reason: "Failed to connect to the host via ssh"}
incidents:
  description:
    - Failing sites that share one cause (see O(incident_min_sites)), the most sites first; the same list as
      C(index.json)'s C(incidents). Empty when no incident is open.
  returned: success
  type: list
  elements: dict
  contains:
    scope:
      description: One of V(fleet), V(environment), V(endpoint), V(proxy), V(institution).
      type: str
    key:
      description: The scope's key (V(all) for the fleet, the environment, the endpoint URL, the proxy URL without
        credentials, or the institution ID).
      type: str
    category:
      description: The failure category (C(failure.category)), or V(unreachable) (SSH).
      type: str
    sites:
      description: The number of sites in the incident.
      type: int
    institutions:
      description: The number of institutions they belong to.
      type: int
    hosts:
      description: Their hosts (as their proofs name them), sorted.
      type: list
      elements: str
    since:
      description:
        - "When it started (UTC, ISO 8601): the earliest run, in the ledger's order of receipt, in which one of
          its sites began to fail this way without passing since (the controller's time, never a site's clock)."
      type: str
    message:
      description: What happened, one line in English (C(report.html) says it in its language).
      type: str
    hint:
      description: The one thing to do, in English.
      type: str
  sample:
    - scope: fleet
      key: all
      category: tls_server_untrusted
      sites: 12
      institutions: 3
      hosts: [site001, site002]
      since: "2026-12-08T02:10:00Z"
      message: "12 site(s) of 3 institution(s) (the whole fleet) do not trust the EESZT server's certificate: the EESZT server chain changed."
      hint: Update eeszt_tls_ca_bundle_src from the new connection documents and run configure_tls.yml.
failed_sites:
  description:
    - C(INSTITUTION_ID/SITE_ID) of each failed site, with the failure category of its latest proof or the
      error code of the stage that failed after it.
  returned: always
  type: list
  elements: str
  sample: ["100001/100001002: tls_client_cert_rejected"]
problem_sites:
  description:
    - One string per site that did not pass, with its institution ID, site ID, host and why it is listed
      (see the samples); why is the failure of its latest run (the stage, the error code or failure category
      and the message, and when it last passed), the connection error of a site unreachable at its last run,
      or C(no proof).
    - Then one string per host refused by the preflight, under its inventory name.
  returned: always
  type: list
  elements: str
  sample:
    - "100001/100001002 (site002): check failed: tls_client_cert_rejected: The WAF rejected the client certificate."
    - "100001/100001003 (site003): certificate stage failed: pfx_wrong_password: the password for the PFX file
      site003.p12 is wrong (last passed 2026-11-20T10:00:02Z)"
    - "100002/100002003 (site006): unreachable: Data could not be sent to remote host \"site006.example\". Make sure
      this host can be reached over ssh: ssh: Could not resolve hostname site006.example: Name or service not known"
    - "site-typo: refused by the preflight: bad_variables: Preflight: 1 bad variable for site-typo, ..."
"""
