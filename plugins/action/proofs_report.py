# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.proofs_report: record a run, merge archives and build the fleet report on the
controller (see the module file for the documentation)."""

from __future__ import annotations

import os
import socket

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import ArchiveLock, SiteLockError
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import read_anchors
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import MergeRefusedError, merge_archive
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import SealError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ArchiveConflictError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import ensure_dir
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.play_hosts import HostReader, read_host
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signing import SignerLoader, known_archives, signing_spec
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import apply_seals, iter_unsealed, seal_unsealed
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import (
    DEFAULT_MIN_SHARE,
    DEFAULT_MIN_SITES,
    IncidentRule,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import problem_sites, record_run

LOCK_OPERATION = "eeszt.connect.proofs_report: ledger, merge and report"

ARGUMENT_SPEC = dict(
    archive_dir=dict(type="path", required=True),
    outcomes=dict(type="list", elements="dict", default=[], options=dict(
        host=dict(type="str"),
        institution_id=dict(type="str"),
        site_id=dict(type="str"),
        status=dict(type="str", required=True, choices=["collected", "unreachable", "error", "refused"]),
        stage=dict(type="str"),
        error=dict(type="str"),
        reason=dict(type="str"),
        archived=dict(type="list", elements="dict", default=[]),
        operator_files=dict(type="list", elements="dict", default=[]),
        operator_refused=dict(type="list", elements="dict", default=[]),
    )),
    signers=dict(type="list", elements="dict", default=[], options=dict(
        signing_spec(), host=dict(type="str"), institution_id=dict(type="str", required=True),
        site_id=dict(type="str", required=True), inventory_dir=dict(type="path"))),
    hosts=dict(type="list", elements="str"),
    archive_result=dict(type="str"),
    controller=dict(type="str"),
    lock_timeout=dict(type="int", default=300),
    merge_from=dict(type="list", elements="path", default=[]),
    ca_file=dict(type="path"),
    warn_days=dict(type="int", default=30),
    stale_hours=dict(type="int", default=192),
    incident_min_sites=dict(type="int", default=DEFAULT_MIN_SITES),
    incident_min_share=dict(type="float", default=DEFAULT_MIN_SHARE),
    language=dict(type="str", default="en", choices=["en", "hu"]),
    evidence_bundles=dict(type="bool"),
    bundles=dict(type="bool"),
    title=dict(type="str"),
)


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        params = module.params
        archive = os.path.abspath(params["archive_dir"])
        if params["warn_days"] < 0:
            module.fail_json(msg="warn_days must not be negative", error="invalid_argument")
        if params["lock_timeout"] < 0:
            module.fail_json(msg="lock_timeout must not be negative (eeszt_proofs_lock_timeout), got %d"
                             % params["lock_timeout"], error="invalid_argument")
        if params["stale_hours"] < 1:
            module.fail_json(msg="stale_hours must be at least 1 (eeszt_proofs_stale_hours), got %d" % params["stale_hours"],
                             error="invalid_argument")
        try:
            incident_rule = IncidentRule(params["incident_min_sites"], params["incident_min_share"])
        except ValueError as exc:
            module.fail_json(msg="%s" % exc, error="invalid_argument")
        evidence_bundles = params["evidence_bundles"]
        if params["bundles"] is not None:
            module.deprecate("The option bundles of eeszt.connect.proofs_report (role variable eeszt_proofs_bundles) is "
                             "deprecated: use evidence_bundles (eeszt_proofs_evidence_bundles); the bundles are the "
                             "vendor's evidence, not eKapu uploads, and are written to evidence/",
                             version="2.0.0", collection_name="eeszt.connect")
            if evidence_bundles is None:
                evidence_bundles = params["bundles"]
        if params["merge_from"] and not params["ca_file"]:
            module.fail_json(msg="merging other archives (merge_from, eeszt_proofs_merge_from) checks every incoming "
                                 "seal against the CA its signer must chain to: set ca_file (eeszt_proofs_ca_file)",
                             error="merge_refused")
        result = dict(changed=False, archive_dir=archive, merged=[], run_record=None)
        self._read_hosts(module)
        try:
            if not module.check_mode:
                ensure_dir(archive)
            # Without the lock, a run that scanned the archive before another run's proofs arrived could write
            # its (incomplete) report after that run's (complete) one. Check mode writes nothing, not even the lock.
            lock = None if module.check_mode else ArchiveLock(archive, params["lock_timeout"],
                                                              owner={"operation": LOCK_OPERATION})
            if lock is not None:
                lock.acquire()
            try:
                outcomes = self._seal(module, archive, result)
                anchors = read_anchors(params["ca_file"]) if params["merge_from"] else None
                for source in params["merge_from"]:
                    result["merged"] += merge_archive(os.path.abspath(source), archive, module.check_mode, anchors)
                if outcomes:
                    result["run_record"] = record_run(archive, outcomes,
                                                      params["controller"] or socket.gethostname(),
                                                      check_mode=module.check_mode)
                changed_files, index = build_report(archive, warn_days=params["warn_days"],
                                                    bundles=evidence_bundles is not False,
                                                    title=params["title"], check_mode=module.check_mode,
                                                    stale_hours=params["stale_hours"], language=params["language"],
                                                    incident_rule=incident_rule)
            finally:
                if lock is not None:
                    result["lock_waited"] = round(lock.waited, 1)
                    lock.release()
        except SiteLockError as exc:
            module.fail_json(msg=to_text(exc), error=exc.code, **result)
        except MergeRefusedError as exc:
            module.fail_json(msg=to_text(exc), error="merge_refused", **result)
        except ArchiveConflictError as exc:
            module.fail_json(msg=to_text(exc), error="archive_conflict", **result)
        except EESZTConnectError as exc:
            module.fail_json(msg=to_text(exc), error="report_failed", **result)
        for entry in index["invalid_files"]:
            # One bad file never stops the rebuild: it is named, every other file is in the report.
            module.warn("the archive file %s is not used in the report: %s" % (entry["path"], entry["reason"]))
        result.update(
            invalid_files=index["invalid_files"],
            changed=bool(result["merged"] or result["run_record"] or changed_files or result["sealed"]),
            changed_files=changed_files,
            files=index["files"],
            report=os.path.join(archive, "report.html"),
            summary=index["summary"],
            failed_sites=["%s/%s: %s" % (s["institution_id"], s["site_id"], (s["failure"] or {}).get("category"))
                          for s in index["sites"] if s["status"] == "failed"],
            problem_sites=problem_sites(index),
            incidents=index["incidents"],
            host_outcomes=dict((o["host"], dict((k, o.get(k)) for k in ("status", "stage", "error", "reason")))
                               for o in self._outcomes + self._unrecorded if o.get("host")),
        )
        module.exit_json(**result)

    def _read_hosts(self, module):
        """The run's outcomes and signers: those read from the ``hosts`` of the play, then the options' own.

        Sets ``self._outcomes`` (each host's outcome from its registered ``archive_result``, then ``outcomes``),
        ``self._signers`` (by institution and site; an entry of ``signers`` wins over one read from a host) and
        ``self._problems`` (why a host's signing settings could not be read, by institution and site).
        """
        params = module.params
        outcomes, signers, self._problems, self._unrecorded = [], [], {}, []
        if params["hosts"]:
            reader = HostReader(self, self._task_vars)
            for host in params["hosts"]:
                signer, outcome, problem = read_host(reader.host(host), host, params["archive_result"])
                if signer is not None:
                    signers.append(signer)
                    if problem:
                        self._problems[(signer["institution_id"], signer["site_id"])] = problem
                if outcome is not None:
                    # A host without an identity is not recorded (as templates/left_run.j2 does), but its
                    # outcome is returned, so that the role can fail it.
                    (outcomes if outcome["institution_id"] and outcome["site_id"] else self._unrecorded).append(outcome)
        outcomes = _validated(module, "outcomes", outcomes) + params["outcomes"]
        signers = _validated(module, "signers", signers) + params["signers"]
        self._outcomes = outcomes
        self._signers = dict((("%s" % s["institution_id"], "%s" % s["site_id"]), s) for s in signers)
        for entry in params["signers"]:
            self._problems.pop(("%s" % entry["institution_id"], "%s" % entry["site_id"]), None)

    def _seal(self, module, archive, result):
        """Seal the files waiting in the archive (``unsealed``), loading each signing material once.

        Returns the outcomes with the seals filled in; a site whose files could not be sealed is an error
        of the proofs stage in its outcome (the other sites go on), and files that wait are named.
        """
        params = module.params
        signers = self._signers
        loader = SignerLoader(self, self._task_vars)
        result.update(sealed=[], unsealed=[], seal_errors=[], signer_loads=0)
        if module.check_mode:
            result["unsealed"] = [relative for dummy, dummy, relative in iter_unsealed(archive)]
            return self._outcomes

        def signer_for(institution, site):
            options = signers.get((institution, site))
            if options is not None and (institution, site) in self._problems:
                raise SealError(self._problems[(institution, site)])
            return None if options is None else loader.signer(options, options.get("inventory_dir"))

        sealing = seal_unsealed(archive, signer_for, known=known_archives(archive, params["merge_from"]))
        result["signer_loads"] = loader.loads
        result["sealed"] = sorted(item["path"] for item in sealing["sealed"] + sealing["operator_sealed"])
        result["unsealed"] = sealing["unsealed"]
        failed = {}
        for error in sealing["errors"]:
            key = (error["institution_id"], error["site_id"])
            host = (signers.get(key) or {}).get("host")
            result["seal_errors"].append(dict(error, host=host))
            failed.setdefault(key, []).append(error["message"])
            module.warn("the proofs of site %s/%s (host %s) could not be sealed: %s"
                        % (key[0], key[1], host or "?", error["message"]))
        if sealing["unsealed"]:
            module.warn("%d file(s) wait in %s/.unsealed for their seal: %s; the next run of their site seals them "
                        "(verify_proofs.yml names them meanwhile)" % (len(sealing["unsealed"]), archive,
                                                                      ", ".join(sealing["unsealed"])))
        self._outcomes = [_sealed_outcome(outcome, sealing, failed) for outcome in self._outcomes]
        return self._outcomes


def _validated(module, option, entries):
    """``entries`` read from the hosts, checked and converted as the option ``option`` would be."""
    if not entries:
        return []
    validated = ArgumentSpecValidator({option: ARGUMENT_SPEC[option]}).validate({option: entries})
    if validated.error_messages:
        module.fail_json(msg="eeszt.connect.proofs_report: the %s read from the hosts: %s"
                         % (option, ", ".join(validated.error_messages)), error="invalid_argument")
    return validated.validated_parameters[option]


def _sealed_outcome(outcome, sealing, failed):
    """One site's outcome with the seals of its files, or an error of the proofs stage when sealing failed."""
    key = ("%s" % outcome.get("institution_id"), "%s" % outcome.get("site_id"))
    outcome = dict(outcome)
    for field, sealed in (("archived", sealing["sealed"]), ("operator_files", sealing["operator_sealed"])):
        mine = [item for item in sealed if item["path"].split("/")[:2] == list(key)]
        listed = set(item.get("path") for item in outcome.get(field) or [])
        outcome[field] = apply_seals(outcome.get(field), mine) + [i for i in mine if i["path"] not in listed]
    if key in failed and outcome.get("status") == "collected":
        outcome.update(status="error", stage="proofs", error="seal_failed",
                       reason="the proofs could not be sealed: %s" % "; ".join(failed[key]))
    return outcome
