# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.fleet_preflight: the controller-side files and variable names of every
site of the play, checked once (see the module for the documentation)."""

from __future__ import annotations

from ansible.utils.vars import combine_vars

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight.action import template_values
from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight.roles import (
    COLLECTION_ROOT, REGISTRY_REFUSAL, role_defaults, split_role,
)

ARGUMENT_SPEC = {
    "roles": {"type": "list", "elements": "str", "default": ["certificate", "tls_client", "connection_check",
                                                             "proofs"]},
    "hosts": {"type": "list", "elements": "str"},
    "ignore_unknown": {"type": "list", "elements": "str", "default": []},
    "unknown_variables": {"type": "str", "choices": ["warn", "fail"], "default": "warn"},
}


class ActionModule(ControllerAction):
    """Never connects to a host: reads every host's variables from the inventory on the controller."""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        task_vars = self._task_vars
        args = module.params
        roles = [split_role(entry)[0] for entry in args["roles"]]
        hosts = args["hosts"] if args["hosts"] is not None else task_vars.get("ansible_play_hosts_all", [])
        hostvars = task_vars["hostvars"]
        defaults = {}
        for role in dict.fromkeys(roles):
            defaults = combine_vars(defaults, role_defaults(self._loader, role))
        names = sorted(set(name for name, spec in site_files.file_variables(roles))
                       | set(site_files.PFX_PASSWORDS.values()) | {"eeszt_proofs_signing_key"})

        checker = site_files.FileChecker(self._loader)
        problems = {}
        names_by_host = {}
        for host in hosts:
            raw = hostvars.raw_get(host)
            if not isinstance(raw, dict) or raw.get(REGISTRY_REFUSAL) is not None:
                continue
            names_by_host[host] = [name for name in raw if isinstance(name, str)]
            variables = combine_vars(defaults, raw)
            values = template_values(self, variables, names)
            found = checker.problems(values, roles, variables, action=self)
            if found:
                problems[host] = [problem.as_dict() for problem in found]

        unknown = site_files.unknown_variables(names_by_host, site_files.known_names(COLLECTION_ROOT),
                                               args["ignore_unknown"])
        if args["unknown_variables"] == "fail":
            # Each host that sets one is refused by eeszt.connect.site_preflight, with its other problems.
            for entry in unknown:
                for host in entry["hosts"]:
                    problems.setdefault(host, []).append(site_files.unknown_problem(entry))
        if unknown and args["unknown_variables"] == "warn":
            for entry in unknown:
                module.warn(site_files.unknown_warning(entry))
        module.exit_json(
            changed=False,
            hosts=problems,
            unknown=unknown,
            unknown_variables=args["unknown_variables"],
            files_opened=checker.opened,
            msg="%d host(s): %d distinct controller file(s) opened, %d host(s) with a file problem, %d unknown "
                "eeszt_* variable(s)" % (len(hosts), checker.opened, len(problems), len(unknown)),
        )
