# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local mutual-TLS gateway's process and files on a site (standard library only).

Used by the module eeszt.connect.tls_gateway (start, stop, restart, remove) and by
eeszt.connect.tls_files, which removes a disabled gateway in the run that writes the client files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import signal
import subprocess
import time

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import remove_if_present, write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.common.process import pid_alive, read_pid

EXECUTABLES = ("stunnel4", "stunnel", "stunnel5")
SYSTEM_DIRS = ["/usr/bin", "/usr/sbin", "/bin", "/sbin", "/usr/local/bin"]
STATE_SUFFIX = ".state.json"


class GatewayError(EESZTConnectError):
    """The gateway could not be started or stopped; the message says why, ``code`` is one of
    ``config_missing`` (no configuration to start with), ``start_failed`` (stunnel refused to start, did
    not return, or left no running process), ``stop_failed`` (the process did not stop) or ``gateway_failed``."""

    code = "gateway_failed"


def runs_config(pid, config):
    """Whether ``pid`` is a process started with ``config`` (true where /proc is absent)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = handle.read().split(b"\0")
    except (IOError, OSError):
        return True
    return os.fsencode(config) in argv


class Gateway:
    def __init__(self, config, pid_file, executable, timeout):
        self.config = config
        self.pid_file = pid_file
        self.state_file = pid_file + STATE_SUFFIX
        self.executable = executable
        self.timeout = timeout

    def running_pid(self):
        pid = read_pid(self.pid_file)
        if pid_alive(pid) and runs_config(pid, self.config):
            return pid
        return None

    def started_sha256(self):
        try:
            with open(self.state_file) as handle:
                return json.load(handle).get("config_sha256")
        except (IOError, OSError, ValueError, AttributeError):
            return None

    def _write_state(self, sha256):
        write_atomic(self.state_file, json.dumps({"config_sha256": sha256, "executable": self.executable}), 0o600)

    def start(self, sha256):
        if not os.path.isfile(self.config):
            raise GatewayError("the gateway configuration %s does not exist" % self.config, code="config_missing")
        pid_dir = os.path.dirname(self.pid_file)
        if pid_dir and not os.path.isdir(pid_dir):
            os.makedirs(pid_dir, 0o755)
        remove_if_present(self.pid_file)
        try:
            proc = subprocess.run(
                [self.executable, self.config], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise GatewayError("%s did not return within %d s; it must run with 'foreground = no'"
                               % (self.executable, self.timeout), code="start_failed")
        output = proc.stdout.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            raise GatewayError("stunnel refused to start (exit code %d): %s" % (
                proc.returncode, output[-2000:] or "no output; see the log file the configuration names"),
                code="start_failed")
        deadline = time.time() + self.timeout
        while time.time() < deadline:
            pid = self.running_pid()
            if pid:
                self._write_state(sha256)
                return pid
            time.sleep(0.1)
        raise GatewayError("stunnel started but no running process is recorded in %s after %d s; "
                           "check that the configuration names this pid file and read its log"
                           % (self.pid_file, self.timeout), code="start_failed")

    def stop(self, pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.time() + self.timeout
        while time.time() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)
        if pid_alive(pid):
            raise GatewayError("the gateway (pid %d) did not stop" % pid, code="stop_failed")
        remove_if_present(self.pid_file)
        remove_if_present(self.state_file)

    def leftovers(self, log_file):
        """Files (and the pid file's directory) that state=absent removes."""
        paths = [p for p in (self.config, self.pid_file, self.state_file, log_file)
                 if p and os.path.lexists(p)]
        pid_dir = os.path.dirname(self.pid_file)
        if pid_dir and os.path.isdir(pid_dir):
            others = set(os.listdir(pid_dir)) - set(os.path.basename(p) for p in paths)
            if not others:
                paths.append(pid_dir)
        return paths

    def remove(self, paths):
        for path in paths:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                remove_if_present(path)


def remove_gateway(module, config, pid_file, log_file=None, unit=None):
    """Stop and remove a gateway that is no longer wanted; return the paths removed (or that would be).

    ``unit`` is the path of the gateway's systemd unit: when it exists, the service is disabled and
    stopped with ``systemctl``, the unit removed and systemd reloaded. A daemon started from ``config``
    (pid in ``pid_file``) is stopped, then the configuration, the pid and state files, ``log_file`` and
    the pid file's directory (when left empty) are removed. Nothing is changed in check mode. Raises
    GatewayError (``stop_failed``, ``gateway_failed``).
    """
    removed = []
    if unit and os.path.lexists(unit):
        removed.append(unit)
        if not module.check_mode:
            systemctl = module.get_bin_path("systemctl", required=False)
            name = os.path.basename(unit)
            if systemctl:
                _systemctl(module, [systemctl, "disable", "--now", name], unit)
            remove_if_present(unit)
            if systemctl:
                _systemctl(module, [systemctl, "daemon-reload"], unit)
    gateway = Gateway(config, pid_file, None, 15)
    pid = gateway.running_pid()
    leftovers = gateway.leftovers(log_file)
    removed += leftovers
    if not module.check_mode:
        try:
            if pid:
                gateway.stop(pid)
            gateway.remove(leftovers)
        except OSError as exc:
            raise GatewayError("the disabled gateway could not be removed: %s" % exc)
    return removed


def _systemctl(module, argv, unit):
    rc, out, err = module.run_command(argv)
    if rc != 0:
        raise GatewayError("%s failed (exit code %d) while removing the disabled gateway's unit %s: %s"
                           % (" ".join(argv), rc, unit, (err or out or "no output").strip()))
