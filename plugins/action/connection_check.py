# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of eeszt.connect.connection_check (see the module for the documentation).

On the controller, before anything runs on the site: the options against the module's argument spec, the
length of the proxy password and, when asked, the site's identifiers. Then the module once, on the site. Its
result is returned as the public fact ``eeszt_check_result`` (the role registers it under that name), and a
check that did not pass fails the task (``fail_on_error``) or warns, with a one-line summary. The connection
check's whole stage is this one task per site.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.eeszt.connect.plugins.module_utils.check.runner import (
    ACTION_OPTIONS_SPEC,
    IDENTITY_PATTERNS_SPEC,
    argument_spec,
)
from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import matches
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import MIN_PASSWORD_LENGTH, SiteAction

MODULE = "eeszt.connect.connection_check"

PROXY_PASSWORD_MESSAGE = (
    "eeszt_check_proxy_password (default eeszt_tls_proxy_password) must have at least %d characters: "
    "Ansible masks every occurrence of a secret in module output, so a shorter one would garble it "
    "(see docs/security.md)." % MIN_PASSWORD_LENGTH)

IDENTITY_MESSAGE = (
    "eeszt_institution_id %s must match %s and eeszt_site_id %s must match %s (override the patterns with "
    "eeszt_check_institution_id_pattern / eeszt_check_site_id_pattern).")

# The keys of the public fact eeszt_check_result that the module returns (none when it does not).
OUTCOME = ("passed", "failure", "endpoints", "client_certificate", "started_at", "finished_at", "proof_path",
           "proof_sha256", "proof_content", "metrics_path")


def identity_problem(institution_id, site_id, patterns):
    """None when both identifiers match their patterns; otherwise (error code, message)."""
    patterns = dict((key, (patterns or {}).get(key) or spec["default"]) for key, spec in IDENTITY_PATTERNS_SPEC.items())
    found = dict(institution_id=matches(patterns["institution_id"], institution_id),
                 site_id=matches(patterns["site_id"], site_id))
    broken = [key for key in ("institution_id", "site_id") if found[key] is None]
    if broken:
        return "invalid_argument", "; ".join(
            "the pattern for eeszt_%s, %s, is not a regular expression (eeszt_check_%s_pattern)"
            % (key, json.dumps(patterns[key]), key) for key in broken)
    if found["institution_id"] and found["site_id"]:
        return None
    return "identity_invalid", IDENTITY_MESSAGE % (json.dumps(institution_id), patterns["institution_id"],
                                                   json.dumps(site_id), patterns["site_id"])


def failure_summary(host, institution_id, site_id, failure, proof_path):
    """One line on a check that did not pass: where, which endpoint and step, category, message, hint, proof."""
    failure = failure if isinstance(failure, dict) else {}
    endpoint = failure.get("endpoint")
    return "EESZT connection check failed on %s (%s/%s)%s, step %s: [%s] %s %s%s" % (
        host, institution_id, site_id, (", endpoint %s" % endpoint) if endpoint else "", failure.get("step"),
        failure.get("category"), failure.get("message"), failure.get("hint"),
        (" Proof: %s" % proof_path) if proof_path else "")


class ActionModule(SiteAction):

    MODULE = MODULE
    ARGUMENT_SPEC = argument_spec()
    CONTROLLER_OPTIONS = tuple(ACTION_OPTIONS_SPEC)
    RESULT = dict(stage="check", unreachable=False)

    def run_site(self, args, result):
        refused = self._refusal(args)
        if refused:
            result.update(failed=True, changed=False, error=refused[0], msg=refused[1])
            return
        # The site gets the options as the task gave them, without the controller's own; the public fact
        # carries no invocation (the module's arguments, proxy credentials masked or not).
        result.update(self.run_on_site(self.site_args()))
        result["failed"] = bool(result.get("failed"))
        if result["failed"]:
            return
        for key in OUTCOME:
            result.setdefault(key, None)
        if not result.get("passed"):
            summary = failure_summary(self._task_vars.get("inventory_hostname") or args["host"], args["institution_id"],
                                      args["site_id"], result.get("failure"), result.get("proof_path"))
            if args["fail_on_error"]:
                # A failed task's whole result is printed: without the proof's base64 text, which stays on the
                # site (proof_path, proof_sha256) for the proofs stage to fetch.
                result.update(failed=True, error="check_failed", msg=summary, proof_content=None)
            else:
                result["warnings"] = list(result.get("warnings") or []) + [summary]

    @staticmethod
    def _refusal(args):
        """(error code, message) when the options must not reach the site, else None."""
        if args["validate_identity"]:
            problem = identity_problem(args["institution_id"], args["site_id"], args["identity_patterns"])
            if problem:
                return problem
        if args["proxy_password"] and len(args["proxy_password"]) < MIN_PASSWORD_LENGTH:
            # Refused here, on the controller: the module's own message would be masked too.
            return "proxy_password_too_short", PROXY_PASSWORD_MESSAGE
        return None
