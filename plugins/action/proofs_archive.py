# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.proofs_archive (see the module for the documentation)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import binascii
import datetime
import hashlib
import os
import posixpath

from ansible.module_utils.common.text.converters import to_text

from ansible_collections.eeszt.connect.plugins.module_utils.common.paths import PROOF_DIR
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import ArchiveLock
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import SiteAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import (
    accept_proof,
    operator_content_problem,
    plan_operator_files,
    plan_site,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ProofInvalidError, ProofRejectedError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import site_dir
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import ensure_dir
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import quarantine
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import CLOCK_VARIABLE, DEFAULT_CLOCK_TOLERANCE
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signing import SignerLoader, known_archives, signing_spec
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import (
    apply_seals,
    iter_unsealed,
    seal_unsealed,
    stage,
    staged_item,
)


# A proof is a few KiB (about 3 KiB for two endpoints); 64 KiB leaves room for many endpoints and long messages.
DEFAULT_MAX_PROOF_SIZE = 65536
# A daily check makes one proof a day: a weekly collect_proofs.yml finds 7; 20 catches up nearly three weeks.
DEFAULT_MAX_NEW_PER_SITE = 20
MAX_PROOF_SIZE_VARIABLE = "eeszt_proofs_max_proof_size"
MAX_NEW_VARIABLE = "eeszt_proofs_max_new_per_site"
SEAL_LOCK_TIMEOUT = 300


def argument_spec():
    spec = signing_spec()
    spec.update(
        archive_dir=dict(type="path", required=True),
        proof_dir=dict(type="path", default=PROOF_DIR),
        institution_id=dict(type="str", required=True),
        site_id=dict(type="str", required=True),
        reported_path=dict(type="path"),
        reported_sha256=dict(type="str"),
        reported_content=dict(type="str"),
        operator_files=dict(type="list", elements="str", default=[]),
        operator_files_max_bytes=dict(type="int", default=10485760),
        max_proof_size=dict(type="int", default=DEFAULT_MAX_PROOF_SIZE),
        max_new_per_site=dict(type="int", default=DEFAULT_MAX_NEW_PER_SITE),
        merge_from=dict(type="list", elements="path", default=[]),
        clock_tolerance=dict(type="int", default=DEFAULT_CLOCK_TOLERANCE),
    )
    return spec


class ActionModule(SiteAction):

    # Every option is the controller's: the site's modules (ansible.builtin.find and slurp, and
    # eeszt.connect.operator_files) get only what this action gives each of them.
    MODULE = "eeszt.connect.operator_files"
    ARGUMENT_SPEC = argument_spec()
    CONTROLLER_OPTIONS = tuple(ARGUMENT_SPEC)
    VALIDATION = dict(required_together=[("signing_key", "signing_cert")], mutually_exclusive=[("signing_pfx", "signing_key")])

    def run_site(self, args, result):
        result.update(changed=False, source="site", archived=[], skipped=[], errors=[], listed=0, operator_archived=[],
                      operator_skipped=[], operator_refused=[], operator_unmatched=[], refused=[], left_on_site=[],
                      quarantined=[])
        warnings = []
        try:
            try:
                if args["clock_tolerance"] < 0:
                    raise ProofsError("clock_tolerance (%s) must not be negative, got %d"
                                      % (CLOCK_VARIABLE, args["clock_tolerance"]))
                self._archive(args, result)
            except EESZTConnectError as exc:
                result["errors"].append(to_text(exc))
            if args["operator_files"]:
                try:
                    self._operator_files(args, result)
                except EESZTConnectError as exc:
                    result["errors"].append("operator files: %s" % to_text(exc))
            if (args["signing_pfx"] or args["signing_key"]) and not self._play_context.check_mode:
                self._seal_here(args, result)
        finally:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        warnings += ["proof %s of site %s/%s was not collected: %s" % (
            item["path"], args["institution_id"], args["site_id"], item["reason"]) for item in result["refused"]]
        if result["left_on_site"]:
            warnings.append(
                "%d new proof(s) of site %s/%s were left on the site: at most %d are collected per run (%s), the "
                "oldest first (by name); the next run collects the next ones: %s" % (
                    len(result["left_on_site"]), args["institution_id"], args["site_id"], args["max_new_per_site"],
                    MAX_NEW_VARIABLE, ", ".join(result["left_on_site"])))
        warnings += ["operator file %s of site %s/%s was not collected: it %s" % (
            item["path"], args["institution_id"], args["site_id"], item["reason"])
            for item in result["operator_refused"]]
        messages = []
        if result["quarantined"]:
            # The site's error: it sent what is no valid proof (the report shows the site as "error").
            result["error"] = "invalid_proof"
            messages.append("the site sent an invalid proof: %s" % " | ".join(
                "%s: %s" % (item["name"], item["reason"]) for item in result["quarantined"]))
            warnings.extend(
                "site %s/%s (host %s) sent an invalid proof %s: %s; it is kept in %s with why, not archived as a "
                "proof and not sealed" % (args["institution_id"], args["site_id"], item["host"] or "?", item["name"],
                                          item["reason"], item["path"]) for item in result["quarantined"])
        if warnings:
            result["warnings"] = warnings
        if result["errors"]:
            messages.append("%d proof file(s) of site %s/%s could not be archived: %s" % (
                len(result["errors"]), args["institution_id"], args["site_id"], " | ".join(result["errors"])))
        if messages:
            result["failed"] = True
            result["msg"] = "; ".join(messages)
            # A site's file that could not be archived (the proofs role's outcome names it so too).
            result.setdefault("error", "archive_failed")

    # --- the site --------------------------------------------------------------

    def _remote(self, module, module_args):
        found = self.run_on_site(module_args, module)
        if found.get("failed"):
            raise ProofsError("%s on the site failed: %s" % (module, found.get("msg", "no message")))
        return found

    def _list(self, proof_dir):
        found = self._remote("ansible.builtin.find", dict(
            paths=[proof_dir], patterns=["*.json"], file_type="file", recurse=False, hidden=False,
            get_checksum=True, checksum_algorithm="sha256"))
        if found.get("skipped_paths"):
            reason = found["skipped_paths"].get(proof_dir, "")
            if "not exist" not in reason and "not a directory" not in reason.lower():
                raise ProofsError("cannot list the proof directory %s on the site: %s" % (proof_dir, reason))
        return [{"name": posixpath.basename(f["path"]), "path": f["path"], "sha256": f.get("checksum"),
                 "size": f.get("size")} for f in found.get("files", [])]

    def _fetch(self, path, max_size):
        slurped = self._remote("ansible.builtin.slurp", dict(src=path))
        content = slurped.get("content") or ""
        if len(content) > _base64_length(max_size):
            raise ProofRejectedError("%s: grew over the limit of %d bytes (%s) between the listing and the fetch; "
                                     "it is not archived" % (posixpath.basename(path), max_size, MAX_PROOF_SIZE_VARIABLE))
        return base64.b64decode(content)

    def _archive(self, args, result):
        for option, variable in (("max_proof_size", MAX_PROOF_SIZE_VARIABLE), ("max_new_per_site", MAX_NEW_VARIABLE)):
            if args[option] < 1:
                raise ProofsError("%s (%s) must be at least 1, got %d" % (option, variable, args[option]))
        archive = os.path.abspath(args["archive_dir"])
        institution_id, site_id = args["institution_id"], args["site_id"]
        result["site_dir"] = site_dir(archive, institution_id, site_id)
        if args["reported_content"] is not None:
            # This run's check returned its proof: archived from the result, no module run on the site.
            result["source"] = "check_result"
            new, fetch = self._plan_reported(args, archive, result)
        else:
            new, fetch = self._plan_listed(args, archive, result)
        if not new:
            return
        if self._play_context.check_mode:
            result["archived"] = [{"name": n, "path": "/".join((institution_id, site_id, n)), "sha256": None,
                                   "seal": None, "signer": None} for n in new]
            result["changed"] = True
            return
        self._keep(args, new, fetch, "archived", result)

    def _plan_reported(self, args, archive, result):
        """(new names, fetch) for the proof the connection check returned (O(reported_content))."""
        institution_id, site_id = args["institution_id"], args["site_id"]
        if not args["reported_path"] or not args["reported_sha256"]:
            raise ProofsError("reported_content needs reported_path and reported_sha256 (eeszt_check_result.proof_path "
                              "and proof_sha256 of the same check)")
        name = posixpath.basename(args["reported_path"])
        if len(args["reported_content"]) > _base64_length(args["max_proof_size"]):
            # Not decoded: it is larger than any proof this archive takes.
            size = len(args["reported_content"]) * 3 // 4
            self._refuse(result, name, args["reported_path"], size, args["max_proof_size"], "about ")
            return [], None
        try:
            data = base64.b64decode(args["reported_content"], validate=True)
        except (binascii.Error, ValueError, TypeError):
            raise ProofsError("%s: reported_content (eeszt_check_result.proof_content) is not base64; run the check "
                              "again" % args["reported_path"])
        if len(data) > args["max_proof_size"]:
            self._refuse(result, name, args["reported_path"], len(data), args["max_proof_size"])
            return [], None
        new, skipped, errors = plan_site(archive, institution_id, site_id,
                                         [{"name": name, "sha256": args["reported_sha256"].lower()}])
        result["skipped"] = skipped
        result["errors"].extend(errors)

        def fetch(entry):
            accept_proof(data, entry, institution_id, site_id, [("the connection check", args["reported_sha256"])],
                         clock_tolerance=args["clock_tolerance"])
            return entry, data, {}

        return new, fetch

    def _plan_listed(self, args, archive, result):
        """(new names, fetch) for the proofs listed in O(proof_dir) on the site (``find``, then a ``slurp`` each)."""
        institution_id, site_id = args["institution_id"], args["site_id"]
        remote = self._list(args["proof_dir"])
        result["listed"] = len(remote)
        by_name = dict((item["name"], item) for item in remote)
        reported_name = None
        if args["reported_path"]:
            reported_name = posixpath.basename(args["reported_path"])
            listed = by_name.get(reported_name)
            if listed is None or posixpath.normpath(listed["path"]) != posixpath.normpath(args["reported_path"]):
                result["errors"].append("%s: the connection check reported this proof, but it is not in %s on the "
                                        "site" % (args["reported_path"], args["proof_dir"]))
                reported_name = None
        new, skipped, errors = plan_site(archive, institution_id, site_id, remote)
        result["skipped"] = skipped
        result["errors"].extend(errors)
        if reported_name and args["reported_sha256"] and by_name[reported_name]["sha256"] != args["reported_sha256"]:
            result["errors"].append("%s: the connection check reported SHA-256 %s, the file on the site has %s"
                                    % (args["reported_path"], args["reported_sha256"], by_name[reported_name]["sha256"]))
            new = [name for name in new if name != reported_name]
        new = self._within_limits(args, new, by_name, result)

        def fetch(name):
            known = quarantine.find(archive, institution_id, site_id, name, by_name[name]["sha256"])
            if known is not None:
                # Still on the site, the same bytes as quarantined before: not fetched again, named again.
                raise _Quarantined(known)
            expected = [("the site's listing", by_name[name]["sha256"])]
            if name == reported_name:
                expected.append(("the connection check", args["reported_sha256"]))
            data = self._fetch(by_name[name]["path"], args["max_proof_size"])
            accept_proof(data, name, institution_id, site_id, expected, clock_tolerance=args["clock_tolerance"])
            return name, data, {}

        return new, fetch

    def _within_limits(self, args, new, by_name, result):
        """The new proofs to fetch: those the site's listing (a stat) shows within the size limit, at most
        ``max_new_per_site`` of them, the oldest first (``new`` is sorted by name, which starts with the
        check's UTC time). Larger ones are refused without being fetched; the rest wait on the site."""
        within = []
        for name in new:
            size = by_name[name].get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                self._refuse(result, name, by_name[name]["path"], None, args["max_proof_size"])
            elif size > args["max_proof_size"]:
                self._refuse(result, name, by_name[name]["path"], size, args["max_proof_size"])
            else:
                within.append(name)
        result["left_on_site"] = within[args["max_new_per_site"]:]
        return within[:args["max_new_per_site"]]

    @staticmethod
    def _refuse(result, name, path, size, limit, about=""):
        """A proof refused before it is read: an error of the site, and named in ``refused`` and a warning."""
        if size is None:
            reason = "the site's listing gives no size for it, so it is not fetched (%s is %d bytes)" % (
                MAX_PROOF_SIZE_VARIABLE, limit)
        else:
            reason = ("it is %s%d bytes, over the limit of %d bytes (%s), so it is not fetched; find out what wrote "
                      "it, remove it from the site or raise %s"
                      % (about, size, limit, MAX_PROOF_SIZE_VARIABLE, MAX_PROOF_SIZE_VARIABLE))
        result["refused"].append({"name": name, "path": path, "size": size, "reason": reason})
        result["errors"].append("%s: %s" % (name, reason))

    # --- operator files ------------------------------------------------------------

    def _operator_files(self, args, result):
        """Archive, seal and record the operator files of the site (eeszt.connect.operator_files lists them)."""
        archive = os.path.abspath(args["archive_dir"])
        institution_id, site_id = args["institution_id"], args["site_id"]
        if args["operator_files_max_bytes"] < 1:
            raise ProofsError("operator_files_max_bytes (eeszt_proofs_operator_files_max_bytes) must be at least 1, "
                              "got %d" % args["operator_files_max_bytes"])
        site_args = dict(patterns=args["operator_files"], max_bytes=args["operator_files_max_bytes"])
        listing = self._remote("eeszt.connect.operator_files", site_args)
        result["operator_unmatched"] = listing.get("unmatched", [])
        refused = [{"path": item["path"], "reason": item["reason"]} for item in listing.get("refused", [])]
        new, skipped, not_taken = plan_operator_files(archive, institution_id, site_id, listing.get("files", []))
        result["operator_skipped"] = skipped
        refused += [{"path": item["path"], "reason": reason} for item, reason in not_taken]
        # The site's module refuses a file over the limit; its listing is checked here too, before any fetch.
        within = []
        for item, name in new:
            size = item.get("size")
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                refused.append({"path": item["path"], "reason": "has no size in the site's listing: not fetched"})
            elif size > args["operator_files_max_bytes"]:
                refused.append({"path": item["path"], "reason": "is %d bytes, over the limit of %d bytes; copy a "
                                "smaller file or raise eeszt_proofs_operator_files_max_bytes"
                                % (size, args["operator_files_max_bytes"])})
            else:
                within.append((item, name))
        new = within
        result["operator_refused"] = refused
        if not new:
            return
        if self._play_context.check_mode:
            result["operator_archived"] = [
                {"name": name, "path": "/".join((institution_id, site_id, "operator", "files", name)),
                 "source": item["path"], "size": item["size"], "sha256": item["sha256"], "seal": None,
                 "signer": None, "collected_at": None} for item, name in new]
            result["changed"] = True
            return

        def fetch(entry):
            item, name = entry
            read = dict(site_args, read=item["path"])
            fetched = self.run_on_site(read)
            if fetched.get("failed"):
                raise _Refused(item["path"], fetched.get("reason") or
                               "could not be read on the site: %s" % fetched.get("msg", "no message"))
            content = fetched.get("content") or ""
            if len(content) > _base64_length(args["operator_files_max_bytes"]):
                raise _Refused(item["path"], "grew over the limit of %d bytes while it was collected; copy a smaller "
                                             "file or raise eeszt_proofs_operator_files_max_bytes"
                               % args["operator_files_max_bytes"])
            data = base64.b64decode(content)
            digest = hashlib.sha256(data).hexdigest()
            if len(data) > args["operator_files_max_bytes"] or digest != item["sha256"]:
                raise _Refused(item["path"], "changed while it was collected (SHA-256 %s when listed, %s when "
                                             "read); it is collected at the next run" % (item["sha256"], digest))
            problem = operator_content_problem(data)
            if problem:
                raise _Refused(item["path"], problem)
            return name, data, {
                "size": len(data), "source": item["path"], "source_name": item["name"],
                "modified_at": item.get("modified_at"),
                "collected_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")}

        self._keep(args, new, fetch, "operator_archived", result)

    # --- keeping and sealing ---------------------------------------------------------

    def _keep(self, args, entries, fetch, key, result):
        """Fetch and check each new file (``fetch(entry)``: name, bytes, facts) and keep it until it is sealed.

        A proof that fails a check is an error of the site; an operator file is refused (a warning).
        """
        archive = os.path.abspath(args["archive_dir"])
        ensure_dir(archive)
        for entry in entries:
            try:
                name, data, facts = fetch(entry)
                relative = stage(archive, args["institution_id"], args["site_id"], name, data,
                                 operator=key == "operator_archived")
            except _Refused as refused:
                result["operator_refused"].append({"path": refused.path, "reason": refused.reason})
                continue
            except _Quarantined as known:
                result["quarantined"].append(_quarantined_item(known.record))
                continue
            except ProofInvalidError as exc:
                self._quarantine(args, entry, exc, result)
                continue
            except ProofsError as exc:
                result["errors"].append(to_text(exc))
                continue
            item = staged_item(relative, data)
            item.update(facts)
            result[key].append(item)
            result["changed"] = True

    def _quarantine(self, args, name, invalid, result):
        """Keep a file the site sent as the proof ``name`` that is none in the archive's quarantine, with why."""
        if invalid.data is None:
            result["errors"].append(to_text(invalid))
            return
        archive = os.path.abspath(args["archive_dir"])
        try:
            record = quarantine.quarantine(archive, args["institution_id"], args["site_id"], name, invalid.data,
                                           invalid.reason, host=self._task_vars.get("inventory_hostname"))
        except (EESZTConnectError, ValueError) as exc:
            result["errors"].append("%s (and it could not be quarantined: %s)" % (to_text(invalid), to_text(exc)))
            return
        result["quarantined"].append(_quarantined_item(record))
        result["changed"] = True

    def _seal_here(self, args, result):
        """With signing options given to this task, seal the site's files now (the proofs role seals them once
        per signing material in eeszt.connect.proofs_report instead)."""
        archive = os.path.abspath(args["archive_dir"])
        loader = SignerLoader(self, self._task_vars)
        mine = ("%s" % args["institution_id"], "%s" % args["site_id"])
        if not any(iter_unsealed(archive)):
            return
        # The signer registers are written under the archive lock, as eeszt.connect.proofs_report writes them.
        lock = ArchiveLock(archive, SEAL_LOCK_TIMEOUT, owner={"operation": "eeszt.connect.proofs_archive: sealing"})
        try:
            lock.acquire()
        except EESZTConnectError as exc:
            result["errors"].append(to_text(exc))
            return
        try:
            sealing = seal_unsealed(archive, lambda institution, site: loader.signer(args)
                                    if (institution, site) == mine else None,
                                    known=known_archives(archive, args["merge_from"]))
        finally:
            lock.release()
        result["errors"] += [error["message"] for error in sealing["errors"]
                             if (error["institution_id"], error["site_id"]) == mine]
        for key, sealed in (("archived", sealing["sealed"]), ("operator_archived", sealing["operator_sealed"])):
            listed = set(item["path"] for item in result[key])
            result[key] = apply_seals(result[key], sealed) + [item for item in sealed if item["path"] not in listed]
            result["changed"] = result["changed"] or bool(sealed)


def _base64_length(size):
    """The length of the base64 text of ``size`` bytes."""
    return 4 * ((size + 2) // 3)


def _quarantined_item(record):
    return dict((key, record.get(key)) for key in ("name", "path", "sha256", "reason", "host", "quarantined_at"))


class _Quarantined(Exception):
    """A file of the site that the quarantine holds already (the same bytes), with its record."""

    def __init__(self, record):
        super(_Quarantined, self).__init__(record.get("reason"))
        self.record = record


class _Refused(Exception):
    """An operator file that is not archived, with the reason (a warning, not an error of the site)."""

    def __init__(self, path, reason):
        super(_Refused, self).__init__(reason)
        self.path = path
        self.reason = reason
