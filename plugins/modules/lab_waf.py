# Documentation only: the action plugin eeszt.connect.lab_waf (plugins/action/lab_waf.py) does the work on the controller.
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lab_waf
short_description: Start, stop and inspect the rehearsal lab WAF
version_added: 0.1.0
description:
  - Manages the process of the rehearsal lab WAF, the mutual-TLS HTTPS server
    of the rehearsal lab that stands in for EESZT's Web Application Firewall.
  - The server is part of the collection (standard library only) and runs with
    O(python); its JSON configuration is written by the role
    C(eeszt.connect.lab). This module starts the server in the background
    (in its own session, output appended to C(<path>/waf/server.log)),
    records its pid in C(<path>/waf/waf.pid) and waits until it answers TLS.
  - Idempotent. A running WAF started from the same server code, configuration,
    TLS files, interpreter and address is left alone; when any of them
    changed, the WAF is restarted. A stale pid file (its process is gone, or
    is not the WAF) is cleaned up.
  - Stopping sends C(SIGTERM), waits, then sends C(SIGKILL), and waits until
    the port is free.
  - Runs without root on the host where the lab lives (normally the controller).
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  diff_mode:
    support: full
    description: Shows the WAF's running state, pid and address before and after.
extends_documentation_fragment:
  - eeszt.connect.attributes.controller_action
options:
  path:
    description:
      - The lab directory. The WAF's files are in its C(waf) subdirectory.
    type: path
    required: true
  state:
    description:
      - V(started) starts the WAF when it is not running, and restarts it when
        what it was started from changed.
      - V(stopped) stops it when it is running.
      - V(restarted) always (re)starts it.
      - V(status) only reports; it never changes anything.
    type: str
    choices: [started, stopped, restarted, status]
    default: started
  host:
    description:
      - Address the WAF listens on. Keep it a loopback address.
    type: str
    default: 127.0.0.1
  port:
    description:
      - TCP port the WAF listens on.
    type: int
    default: 18443
  hostname:
    description:
      - Host name the lab WAF's server certificate is issued for; only used
        in the returned O(hostname) and does not change how the WAF runs.
    type: str
    default: eeszt-lab.localhost
  config:
    description:
      - The WAF's JSON configuration file.
      - Defaults to C(<path>/waf/waf.json).
    type: path
  script:
    description:
      - A WAF server script to run (as C(python -u SCRIPT --config CONFIG --host HOST --port PORT)) instead of
        the collection's server.
      - By default the collection's server runs as the module
        C(ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf_server) (C(python -u -m ...)), with the
        directory that holds C(ansible_collections) on C(PYTHONPATH); nothing is copied into the lab directory.
    type: path
  python:
    description:
      - Python interpreter (3.6 or later, standard library only) that runs the script.
      - Defaults to the interpreter that runs this module.
    type: path
  startup_timeout:
    description:
      - Seconds to wait for the WAF to answer TLS after starting it.
    type: float
    default: 15
  stop_timeout:
    description:
      - Seconds to wait after C(SIGTERM) before sending C(SIGKILL).
    type: float
    default: 10
notes:
  - When the port is already in use by another process, the module fails
    with a message naming the port and the role variable C(eeszt_lab_waf_port).
  - When the WAF does not come up, the error contains the tail of the server log.
seealso:
  - module: eeszt.connect.lab_pki
"""

EXAMPLES = r"""
- name: Start the lab WAF on the default loopback port
  eeszt.connect.lab_waf:
    path: "{{ lookup('ansible.builtin.env', 'HOME') }}/.cache/eeszt-lab"
    state: started

- name: Start it on another port
  eeszt.connect.lab_waf:
    path: /srv/eeszt-lab
    port: 28443

- name: Is the lab WAF running?
  eeszt.connect.lab_waf:
    path: /srv/eeszt-lab
    state: status
  register: waf

- name: Stop the lab WAF
  eeszt.connect.lab_waf:
    path: /srv/eeszt-lab
    state: stopped
"""

RETURN = r"""
running:
  description: Whether the WAF runs after the task.
  returned: always
  type: bool
  sample: true
pid:
  description: Process id of the running WAF; with O(state=stopped), the pid that was stopped (null when none ran).
  returned: always
  type: int
  sample: 41237
url:
  description: Base URL of the WAF (address, not host name).
  returned: always
  type: str
  sample: https://127.0.0.1:18443/
hostname:
  description: The host name the WAF's server certificate is issued for (O(hostname)).
  returned: always
  type: str
  sample: eeszt-lab.localhost
host:
  description: Address the WAF listens on.
  returned: always
  type: str
  sample: 127.0.0.1
port:
  description: Port the WAF listens on.
  returned: always
  type: int
  sample: 18443
pid_file:
  description: The pid file.
  returned: always
  type: str
  sample: /home/user/.cache/eeszt-lab/waf/waf.pid
access_log:
  description: The access log, one JSON object per line (request, client certificate subject, serial, SHA-256, TLS version).
  returned: always
  type: str
  sample: /home/user/.cache/eeszt-lab/waf/access.log
log_path:
  description: The server log (start-up messages, errors).
  returned: always
  type: str
  sample: /home/user/.cache/eeszt-lab/waf/server.log
restarted:
  description: Whether a running WAF was stopped and started again.
  returned: always
  type: bool
  sample: false
"""
