#!/usr/bin/python
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: tls_gateway
short_description: Run the local mutual-TLS gateway (stunnel) as a daemon without a service manager
version_added: 1.0.0
description:
  - Starts, stops or restarts an C(stunnel) process that runs in the background with a pid
    file, for sites where systemd does not run (containers, the demo). Where systemd runs,
    the role eeszt.connect.tls_client manages a systemd unit instead.
  - The configuration must daemonise (C(foreground = no)) and name the same pid file as
    O(pid_file).
  - O(state=absent) also removes the configuration, the pid file, the log file and the
    pid file's directory when that is left empty.
  - Idempotent by content. The SHA-256 of the configuration the process was started with is
    kept next to the pid file; with O(state=started) a running gateway whose configuration
    has changed since (a new certificate, another endpoint) is restarted, an unchanged one
    is left alone.
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: Reports what would be done without starting or stopping anything.
  diff_mode:
    support: none
    description: Manages a process, not a file.
  platform:
    support: full
    platforms: posix
    description: Needs C(stunnel) on the site.
options:
  state:
    description:
      - V(started) starts the gateway unless it runs with the current configuration, and
        restarts it when the configuration changed; V(restarted) always (re)starts it;
        V(stopped) stops it; V(absent) stops it and removes its files.
    type: str
    choices: [started, stopped, restarted, absent]
    default: started
  config:
    description: Path of the stunnel configuration file on the site.
    type: path
    required: true
  pid_file:
    description: The pid file that the configuration names (its C(pid) option).
    type: path
    required: true
  log_file:
    description:
      - The log file that the configuration names (its C(output) option), removed with
        O(state=absent).
    type: path
  executable:
    description:
      - The stunnel program. Default the first of C(stunnel4), C(stunnel) and C(stunnel5)
        found on the PATH and in the usual system directories.
    type: path
  timeout:
    description: Seconds to wait for the gateway to start or stop.
    type: int
    default: 15
seealso:
  - name: stunnel manual
    description: Configuration options of stunnel.
    link: https://www.stunnel.org/static/stunnel.html
"""

EXAMPLES = r"""
- name: Run the gateway
  eeszt.connect.tls_gateway:
    config: /etc/eeszt/stunnel-gateway.conf
    pid_file: /run/eeszt-tls-gateway/stunnel.pid

- name: Stop the gateway
  eeszt.connect.tls_gateway:
    config: /etc/eeszt/stunnel-gateway.conf
    pid_file: /run/eeszt-tls-gateway/stunnel.pid
    state: stopped

- name: Stop the gateway and remove its files
  eeszt.connect.tls_gateway:
    config: /etc/eeszt/stunnel-gateway.conf
    pid_file: /run/eeszt-tls-gateway/stunnel.pid
    log_file: /run/eeszt-tls-gateway/stunnel.log
    state: absent
"""

RETURN = r"""
error:
  description:
    - On failure, a stable code for reports; the message names the file or process and why.
    - V(usage) (an option value the module cannot work with), V(stunnel_missing) (no stunnel
      program on the site), V(config_missing) (the configuration file does not exist),
      V(start_failed) (stunnel refused to start, did not return, or recorded no running
      process), V(stop_failed) (the process did not stop), V(gateway_failed) (the operating
      system refused a file or process operation).
  returned: failure
  type: str
  sample: start_failed
pid:
  description: Process id of the running gateway; V(null) when it is stopped.
  returned: always
  type: int
  sample: 4242
running:
  description: Whether the gateway runs after the task.
  returned: always
  type: bool
  sample: true
config_sha256:
  description: SHA-256 of the configuration file (hex).
  returned: when the configuration file exists
  type: str
  sample: 5a1b0c6e9d7f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3
action:
  description: What was done to the process, one of V(none), V(started), V(restarted), V(stopped).
  returned: always
  type: str
  sample: started
removed:
  description: Files and directories removed (O(state=absent)).
  returned: always
  type: list
  elements: str
  sample: [/etc/eeszt/stunnel-gateway.conf, /run/eeszt-tls-gateway]
msg:
  description: What was done, in words.
  returned: always
  type: str
  sample: the gateway was started (pid 4242)
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import error_code
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import file_sha256
from ansible_collections.eeszt.connect.plugins.module_utils.tls.gateway import (
    EXECUTABLES,
    SYSTEM_DIRS,
    Gateway,
    GatewayError,
)


def find_executable(module):
    for name in EXECUTABLES:
        path = module.get_bin_path(name, opt_dirs=SYSTEM_DIRS)
        if path:
            return path
    module.fail_json(msg="stunnel is not installed on the site (looked for %s); install the "
                         "distribution's package (stunnel4 on Debian and Ubuntu, stunnel on Red Hat "
                         "family systems)" % ", ".join(EXECUTABLES), error="stunnel_missing", pid=None, running=False,
                     action="none")
    return None


def run_module():
    module = AnsibleModule(
        argument_spec=dict(
            state=dict(type="str", default="started", choices=["started", "stopped", "restarted", "absent"]),
            config=dict(type="path", required=True),
            pid_file=dict(type="path", required=True),
            log_file=dict(type="path"),
            executable=dict(type="path"),
            timeout=dict(type="int", default=15),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["timeout"] <= 0:
        module.fail_json(msg="timeout must be a positive number of seconds", error="usage", pid=None, running=False,
                         action="none")
    state = params["state"]
    executable = params["executable"]
    if state in ("started", "restarted") and not executable:
        executable = find_executable(module)
    gateway = Gateway(params["config"], params["pid_file"], executable, params["timeout"])
    pid = gateway.running_pid()
    result = dict(changed=False, pid=pid, running=bool(pid), action="none", removed=[])
    sha256 = file_sha256(params["config"]) if os.path.isfile(params["config"]) else None
    if sha256:
        result["config_sha256"] = sha256

    if state in ("stopped", "absent"):
        action = "stopped" if pid else "none"
    elif state == "restarted":
        action = "restarted" if pid else "started"
    elif not pid:
        action = "started"
    elif gateway.started_sha256() != sha256:
        action = "restarted"
    else:
        action = "none"

    result["action"] = action
    leftovers = gateway.leftovers(params["log_file"]) if state == "absent" else []
    if action == "none" and not leftovers:
        result["msg"] = "the gateway is %s" % ("running (pid %d)" % pid if pid else "stopped")
        module.exit_json(**result)
    result["changed"] = True
    result["removed"] = leftovers
    if module.check_mode:
        result["msg"] = "the gateway would be %s" % (action if action != "none" else "removed")
        module.exit_json(**result)
    try:
        if pid:
            gateway.stop(pid)
            result.update(pid=None, running=False)
        if action in ("started", "restarted"):
            if not sha256:
                raise GatewayError("the gateway configuration %s does not exist" % params["config"],
                                   code="config_missing")
            new_pid = gateway.start(sha256)
            result.update(pid=new_pid, running=True)
        gateway.remove(leftovers)
    except (GatewayError, OSError) as exc:
        result["msg"] = "the gateway could not be %s: %s" % (action, exc)
        module.fail_json(error=error_code(exc) if isinstance(exc, GatewayError) else "gateway_failed", **result)
    if action == "none":
        result["msg"] = "the gateway's files were removed"
    else:
        result["msg"] = "the gateway was %s%s" % (action, " (pid %d)" % result["pid"] if result["pid"] else "")
        if leftovers:
            result["msg"] += " and its files were removed"
    module.exit_json(**result)


def main():
    run_module()


if __name__ == "__main__":
    main()
