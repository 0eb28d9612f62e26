# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.waf_certificate_open: each distinct institution PFX of the play's hosts
opened once, on the controller (see the module file for the documentation)."""

from __future__ import annotations

from ansible.errors import AnsibleError

from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import load_pfx
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.pfx_once import OnceOpener

ARGUMENT_SPEC = dict(
    hosts=dict(type="list", elements="str"),
)
# The certificate role's variables of each host that this action reads.
SRC_VARIABLE = "eeszt_certificate_pfx_src"
PASSWORD_VARIABLE = "eeszt_certificate_pfx_password"


class ActionModule(ControllerAction):
    """Never connects to a host: reads the hosts' variables on the controller."""

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        params = module.params
        hosts = params["hosts"] if params["hosts"] is not None else self._task_vars.get("ansible_play_hosts", [])
        hostvars = self._task_vars.get("hostvars") or {}
        opener = OnceOpener(self._open)
        for host in hosts:
            try:
                variables = hostvars[host]
                src = variables.get(SRC_VARIABLE)
                password = variables.get(PASSWORD_VARIABLE)
                inventory_dir = variables.get("inventory_dir")
            except (KeyError, AnsibleError):
                continue  # left to eeszt.connect.waf_certificate, which names the variable
            if not src:
                continue
            try:
                found = controller_files.find(src, dict(inventory_dir=inventory_dir), action=self)
            except controller_files.ControllerFileNotFound as exc:
                opener.failed(host, "pfx_not_found", controller_files.not_found_message(
                    "PFX file", "pfx_src, eeszt_certificate_pfx_src in the role", exc))
                continue
            opener.add(host, found, password)
        module.exit_json(
            changed=False, sources=opener.sources, hosts=opener.hosts, opened=opener.opened,
            msg="%d host(s): %d distinct PFX file(s) opened" % (len(opener.hosts), opener.opened))

    def _open(self, found, password):
        real = self._loader.get_real_file(found, decrypt=True)
        try:
            return load_pfx(real, password, display_path=found)
        finally:
            self._loader.cleanup_tmp_file(real)
