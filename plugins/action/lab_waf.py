# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Action plugin eeszt.connect.lab_waf: start, stop or inspect the rehearsal lab's WAF on the controller (see
the module file for the documentation)."""

from __future__ import annotations

import sys
import traceback

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module import ControllerAction
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf import (
    LabWaf, LabWafError, WafPaths, port_available, port_in_use_message,
)

ARGUMENT_SPEC = dict(
    path=dict(type="path", required=True),
    state=dict(type="str", default="started", choices=["started", "stopped", "restarted", "status"]),
    host=dict(type="str", default="127.0.0.1"),
    port=dict(type="int", default=18443),
    hostname=dict(type="str", default="eeszt-lab.localhost"),
    config=dict(type="path"),
    script=dict(type="path"),
    python=dict(type="path"),
    startup_timeout=dict(type="float", default=15.0),
    stop_timeout=dict(type="float", default=10.0),
)


def run(module, waf):
    """Apply the requested state; returns (changed, restarted, stopped_pid)."""
    state = module.params["state"]
    status = waf.status()
    if state == "status":
        return False, False, None
    if state == "stopped":
        if not status["running"]:
            if status["stale_pid_file"] and not module.check_mode:
                waf.clean_stale()
            return False, False, None
        if module.check_mode:
            return True, False, status["pid"]
        return True, False, waf.stop()
    if state == "started" and status["running"] and waf.up_to_date():
        return False, False, None
    if not module.check_mode:
        waf.check_startable()
        moving = (status["host"], status["port"]) != (waf.host, waf.port)
        if status["running"] and moving and not port_available(waf.host, waf.port):
            # Keep the running WAF when its replacement could not listen anyway.
            raise LabWafError(port_in_use_message(waf.host, waf.port))
        if status["running"]:
            waf.stop()
        waf.start()
    return True, status["running"], None


class ActionModule(ControllerAction):

    ARGUMENT_SPEC = ARGUMENT_SPEC

    def run_module(self, module):
        params = module.params
        if not 0 < params["port"] < 65536:
            module.fail_json(msg="port must be between 1 and 65535, not %s" % params["port"], error="invalid_argument")
        paths = WafPaths(params["path"], config=params["config"], script=params["script"])
        waf = LabWaf(paths, params["host"], params["port"], params["python"] or sys.executable,
                     startup_timeout=params["startup_timeout"], stop_timeout=params["stop_timeout"])
        try:
            before = waf.status()
            changed, restarted, stopped_pid = run(module, waf)
        except LabWafError as exc:
            module.fail_json(msg=to_native(exc), error=exc.code, pid_file=paths.pid_file, log_path=paths.server_log)
        except (OSError, IOError) as exc:
            module.fail_json(msg="lab WAF: %s" % to_native(exc), error="lab_waf_os_error", exception=traceback.format_exc())

        after = waf.status()
        if module.check_mode and changed:
            after = dict(before, running=params["state"] != "stopped")
        host = after["host"] if after["running"] else params["host"]
        port = after["port"] if after["running"] else params["port"]
        result = dict(
            changed=changed,
            restarted=restarted,
            running=after["running"],
            pid=after["pid"] if after["running"] else stopped_pid,
            host=host,
            port=port,
            hostname=params["hostname"],
            url="https://%s:%s/" % ("[%s]" % host if ":" in host else host, port),
            pid_file=paths.pid_file,
            access_log=paths.access_log,
            log_path=paths.server_log,
        )
        if module._diff:
            keys = ("running", "pid", "host", "port")
            result["diff"] = dict(
                before="".join("%s: %s\n" % (key, before[key]) for key in keys),
                after="".join("%s: %s\n" % (key, after[key]) for key in keys),
                before_header="lab WAF %s" % paths.waf_dir,
                after_header="lab WAF %s" % paths.waf_dir,
            )
        module.exit_json(**result)
