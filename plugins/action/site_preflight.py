# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.site_preflight: validate a site's variables on the controller only."""

from __future__ import annotations

import copy

import yaml

from ansible.utils.vars import combine_vars

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_vars, tls_vars
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight.action import finish, template_values
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight.roles import (
    REGISTRY_REFUSAL, STAGE_ROLES, argument_specs, registry_problem, role_defaults, split_role,
)

IDENTITY = ("eeszt_institution_id", "eeszt_site_id", "eeszt_environment", "eeszt_institution_id_pattern",
            "eeszt_site_id_pattern", "eeszt_check_institution_id_pattern", "eeszt_check_site_id_pattern")
ARGUMENT_SPEC = {
    "roles": {"type": "list", "elements": "str", "default": list(STAGE_ROLES)},
    "fleet": {"type": "dict", "default": {}},
    "checked": {"type": "list", "elements": "str", "default": []},
}


class ActionModule(ControllerAction):
    """Templates and validates the variables of the given roles; never connects to the host."""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        task_vars = self._task_vars
        args = module.params
        result = {}
        host = task_vars.get("inventory_hostname", "?")
        done = list(dict.fromkeys(args["checked"]))
        if not args["roles"] and done:
            # An earlier preflight of this run passed every role wanted here: its result is handed on.
            result.update(changed=False, checked=0, roles=done, problems=[],
                          msg="%s already checked by a preflight of this run" % ", ".join(done))
            finish(module, result)
        problems = []
        checked = set()
        values = {}
        reported = set()

        specs = []
        for entry in args["roles"]:
            role, entry_point = split_role(entry)
            try:
                specs.append((role, self._spec_options(role, entry_point)))
            except (OSError, ValueError, yaml.YAMLError) as exc:
                result.update(failed=True, error="argument_spec_unreadable",
                              msg="site_preflight: cannot read the argument spec of role %s: %s"
                              % (entry, exc))
                finish(module, result)

        # A row the site registry refused (eeszt.connect.sites): its reason is the whole story, nothing of the
        # row is set (no identity, no address), so nothing else of this host is checked.
        refusal = task_vars.get(REGISTRY_REFUSAL)
        if refusal is not None:
            problems.append(registry_problem(refusal))
            finish(module, self._verdict(result, host, problems, args, 0))

        # The identity: required when a role to check requires it (its argument spec says so).
        environments = self._spec_options("connection_check", "main")["eeszt_environment"].get("choices") or []
        required = any((options.get("eeszt_institution_id") or {}).get("required") for dummy, options in specs)
        identity = self._template_all(task_vars, IDENTITY, frozenset(), problems)
        checked.update(identity)
        problems.extend(site_vars.check_identity(identity, environments, required))
        reported.update(problem.variable for problem in problems)

        for role, options in specs:
            variables = combine_vars(self._defaults(role), task_vars)
            secrets = site_vars.secret_options(options)
            templated = self._template_all(variables, options, secrets, problems)
            checked.update(options)
            reported.update(problem.variable for problem in problems)
            templated = dict((name, value) for name, value in templated.items() if name not in reported)
            validated, spec_problems = site_vars.validate_options(options, templated, role)
            for problem in spec_problems:
                if problem.variable not in reported:
                    problems.append(problem)
                    reported.add(problem.variable)
            for name in templated:
                values.setdefault(name, validated.get(name, templated[name]))

        values.update((name, value) for name, value in identity.items() if name not in values)
        problems.extend(site_vars.check_values(values, skip=reported))
        if "eeszt_tls_client_files" in values:  # the tls_client role is checked: its input checks too
            problems.extend(tls_vars.tls_client_problems(values, skip=reported))
        # The controller-side files, checked once for the whole fleet by eeszt.connect.fleet_preflight.
        for found in ((args["fleet"].get("hosts") or {}).get(task_vars.get("inventory_hostname")) or []):
            if found.get("variable") not in reported:
                problems.append(site_vars.Problem(found.get("variable"), found.get("value"), found.get("message"),
                                                  found.get("remedy")))
        finish(module, self._verdict(result, host, problems, args, len(checked)))

    @staticmethod
    def _verdict(result, host, problems, args, checked):
        """The task's result: failed with every problem, or the count of valid variables."""
        result.update(changed=False, checked=checked, roles=list(dict.fromkeys(list(args["checked"]) + list(args["roles"]))),
                      problems=[problem.as_dict() for problem in problems])
        if problems:
            result["failed"] = True
            result["error"] = "bad_variables"
            result["msg"] = (
                "Preflight: %d bad variable%s for %s, so nothing was done on this site: %s. Fix %s in the "
                "inventory (host_vars, group_vars or the site registry) and run again."
                % (len(problems), "" if len(problems) == 1 else "s", host,
                   " ".join("(%d) %s" % (index, problem) for index, problem in enumerate(problems, 1)),
                   "it" if len(problems) == 1 else "them"))
        else:
            result["msg"] = "%d variables of %s are valid" % (checked, ", ".join(args["roles"]))
        return result

    def _spec_options(self, role, entry_point):
        # A copy: the cached document is shared by every call of this process.
        return copy.deepcopy(site_vars.spec_options(argument_specs(role), role, entry_point))

    def _defaults(self, role):
        return role_defaults(self._loader, role)

    def _template_all(self, variables, names, secrets, problems):
        """{name: templated value} for the names set in ``variables``; templating errors become problems."""
        def unresolved(name, exc):
            reason = "a variable it refers to is undefined or a template in it fails" if name in secrets \
                else str(getattr(exc, "message", "") or exc).splitlines()[0]
            problems.append(site_vars.Problem(name, None, "cannot be resolved (%s)" % reason,
                                              "define what it refers to, or correct the template"))
        return template_values(self, variables, names, unresolved)
