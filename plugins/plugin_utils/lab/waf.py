# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Start, stop and inspect the rehearsal lab WAF process.

Standard library only. The process is the collection's lab WAF server
(``waf_server.py`` and ``_waf_http.py`` next to this file) run with the
controller's Python as ``PYTHON -u -m SERVER_MODULE --config CONFIG --host HOST
--port PORT`` (the directory holding ``ansible_collections`` on PYTHONPATH), or a
server script given as ``script`` run as ``PYTHON -u SCRIPT ...``, in its own
session, with its output appended to the server log. Its pid goes to the
pid file; a state file next to it records a fingerprint of everything the
process was started from (server code, configuration, the TLS files it names,
interpreter, address) so that an unchanged lab is left alone and a changed
one (a renewed certificate, say) is restarted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import errno
import hashlib
import json
import os
import signal
import socket
import ssl
import subprocess
import time

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.common.files import make_dirs, write_atomic
from ansible_collections.eeszt.connect.plugins.module_utils.common.process import pid_alive, read_pid

PID_FILE = "waf.pid"
STATE_FILE = "waf.state.json"
SERVER_LOG = "server.log"
ACCESS_LOG = "access.log"
CONFIG_FILE = "waf.json"
SERVER_MODULE = "ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf_server"
# The files the server module is made of (a change to them restarts a running lab WAF).
_HERE = os.path.dirname(os.path.abspath(__file__))
SERVER_FILES = tuple(os.path.join(_HERE, name) for name in ("waf_server.py", "_waf_http.py"))
# Keys of the server configuration that name files the process loads at start.
CONFIG_FILE_KEYS = ("server_cert", "server_key", "client_ca")
EXIT_ADDRESS_IN_USE = 3
PORT_HINT = "eeszt_lab_waf_port"
PORT_ENV = "EESZT_LAB_WAF_PORT"


class LabWafError(EESZTConnectError):
    """Any failure to manage the lab WAF; the message is meant for the user."""

    code = "lab_waf_error"


class WafPaths:
    """Where the WAF's files live inside the lab directory."""

    def __init__(self, lab_dir, config=None, script=None):
        self.lab_dir = lab_dir
        self.waf_dir = os.path.join(lab_dir, "waf")
        self.pid_file = os.path.join(self.waf_dir, PID_FILE)
        self.state_file = os.path.join(self.waf_dir, STATE_FILE)
        self.server_log = os.path.join(self.waf_dir, SERVER_LOG)
        self.access_log = os.path.join(self.waf_dir, ACCESS_LOG)
        self.config = config or os.path.join(self.waf_dir, CONFIG_FILE)
        # None: the collection's server module (SERVER_MODULE); else a server script run as a file.
        self.script = script

    @property
    def server_files(self):
        """The files whose content the running server depends on (besides its configuration)."""
        return (self.script,) if self.script else SERVER_FILES

    def argv(self, python, host, port):
        """The command line that starts the server."""
        server = [self.script] if self.script else ["-m", SERVER_MODULE]
        return [python, "-u"] + server + ["--config", self.config, "--host", host, "--port", str(port)]

    def markers(self):
        """Arguments that the command line of this lab's WAF holds (checked in /proc)."""
        return (self.script,) if self.script else (SERVER_MODULE, self.config)


def collections_root():
    """The directory that holds ``ansible_collections`` (what the server module needs on PYTHONPATH)."""
    root = _HERE
    for dummy in SERVER_MODULE.split(".")[:-1]:
        root = os.path.dirname(root)
    if not os.path.isdir(os.path.join(root, "ansible_collections")):
        raise LabWafError("cannot find the ansible_collections directory above %s to run the lab WAF server %s; "
                          "install the collection eeszt.connect in a collections path" % (_HERE, SERVER_MODULE))
    return root


def _remove_quietly(path):
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def tail(path, lines=20):
    """Last lines of a text file, or a note that it is empty or missing."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 8192))
            data = handle.read().decode("utf-8", "replace")
    except (IOError, OSError):
        return "(no server log at %s)" % path
    text = "\n".join(data.splitlines()[-lines:])
    return text or "(server log %s is empty)" % path


def read_state(state_file):
    try:
        with open(state_file) as handle:
            data = json.load(handle)
    except (IOError, OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def process_is_waf(pid, markers):
    """True when pid is alive and (where /proc tells) its command line holds every marker.

    A marker is a path (compared after resolving links) or a module name (compared as is).
    """
    if not pid_alive(pid):
        return False
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = [arg.decode("utf-8", "replace") for arg in handle.read().split(b"\0") if arg]
    except (IOError, OSError):
        return True
    resolved = set(argv) | {os.path.realpath(arg) for arg in argv if os.sep in arg}
    return all(marker in resolved or os.path.realpath(marker) in resolved for marker in markers)


def fingerprint(paths, python, host, port):
    """SHA-256 over everything the running process depends on."""
    digest = hashlib.sha256()
    digest.update(json.dumps([python, host, port], sort_keys=True).encode())
    files = list(paths.server_files) + [paths.config]
    try:
        with open(paths.config) as handle:
            config = json.load(handle)
        base = os.path.dirname(os.path.abspath(paths.config))
        files.extend(os.path.join(base, str(config[key])) for key in CONFIG_FILE_KEYS if config.get(key))
    except (IOError, OSError, ValueError, AttributeError):
        pass
    for path in files:
        digest.update(path.encode())
        try:
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
        except (IOError, OSError):
            digest.update(b"missing")
    return digest.hexdigest()


def port_available(host, port):
    """True when nothing listens on host:port (bound the way the server binds)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        return True
    except OSError as exc:
        if exc.errno in (errno.EADDRINUSE, errno.EACCES):
            return False
        raise LabWafError("cannot use address %s:%s: %s" % (host, port, exc))
    finally:
        sock.close()


def port_in_use_message(host, port):
    return ("port %s on %s is already in use by another process; stop that process or choose another port "
            "(environment variable %s or variable %s, module option port)" % (port, host, PORT_ENV, PORT_HINT))


def tls_ready(host, port, timeout=2.0):
    """True when a TLS server answers on host:port.

    The WAF demands a client certificate, so the probe (which has none) may be
    refused with a TLS alert: that still proves TLS is up.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError:
        return False
    try:
        with context.wrap_socket(sock, server_hostname=None) as conn:
            conn.settimeout(timeout)
            return bool(conn.version())
    except ssl.SSLError:
        return True
    except OSError:
        return False
    finally:
        sock.close()


class LabWaf:
    """The lab WAF of one lab directory."""

    def __init__(self, paths, host, port, python, startup_timeout=15.0, stop_timeout=10.0):
        self.paths = paths
        self.host = host
        self.port = port
        self.python = python
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout

    # -- inspection ----------------------------------------------------------

    def running_pid(self):
        """Pid of the running WAF of this lab, or None (a stale pid file is not a WAF)."""
        pid = read_pid(self.paths.pid_file)
        if pid is not None and process_is_waf(pid, self.paths.markers()):
            return pid
        return None

    def status(self):
        pid = self.running_pid()
        state = read_state(self.paths.state_file) if pid else {}
        return {
            "running": pid is not None,
            "pid": pid,
            "host": state.get("host", self.host),
            "port": state.get("port", self.port),
            "fingerprint": state.get("fingerprint") if pid else None,
            "stale_pid_file": pid is None and os.path.exists(self.paths.pid_file),
        }

    def desired_fingerprint(self):
        return fingerprint(self.paths, self.python, self.host, self.port)

    def up_to_date(self):
        status = self.status()
        return status["running"] and status["fingerprint"] == self.desired_fingerprint()

    # -- actions -------------------------------------------------------------

    def check_startable(self):
        if self.paths.script and not os.path.isfile(self.paths.script):
            raise LabWafError("the lab WAF server script %s does not exist (option script of "
                              "eeszt.connect.lab_waf; leave it unset to run the collection's server)" % self.paths.script)
        if not os.path.isfile(self.paths.config):
            raise LabWafError("the lab WAF configuration %s does not exist (run the eeszt.connect.lab role with "
                              "eeszt_lab_state=started to install it)" % self.paths.config)
        if not os.path.isfile(self.python) or not os.access(self.python, os.X_OK):
            raise LabWafError("python interpreter %s is not an executable file" % self.python)

    def clean_stale(self):
        """Remove pid and state files that no longer describe a running WAF."""
        if self.running_pid() is None:
            _remove_quietly(self.paths.pid_file)
            _remove_quietly(self.paths.state_file)

    def start(self):
        """Start the WAF and wait until it answers TLS; returns the pid."""
        self.check_startable()
        self.clean_stale()
        if not port_available(self.host, self.port):
            raise LabWafError(port_in_use_message(self.host, self.port))
        make_dirs(self.paths.waf_dir, 0o700)
        env = dict(os.environ)
        if not self.paths.script:
            env["PYTHONPATH"] = os.pathsep.join([collections_root()] + [p for p in [env.get("PYTHONPATH")] if p])
        with open(self.paths.server_log, "ab") as log:
            os.chmod(self.paths.server_log, 0o600)
            with open(os.devnull, "rb") as devnull:
                proc = subprocess.Popen(self.paths.argv(self.python, self.host, self.port), stdin=devnull,
                                        stdout=log, stderr=subprocess.STDOUT, cwd=self.paths.waf_dir,
                                        close_fds=True, start_new_session=True, env=env)
        self._wait_ready(proc)
        write_atomic(self.paths.pid_file, "%d\n" % proc.pid, 0o644)
        write_atomic(self.paths.state_file, json.dumps({
            "pid": proc.pid,
            "host": self.host,
            "port": self.port,
            "python": self.python,
            "fingerprint": self.desired_fingerprint(),
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, indent=2, sort_keys=True) + "\n", 0o644)
        return proc.pid

    def _wait_ready(self, proc):
        deadline = time.monotonic() + self.startup_timeout
        while True:
            code = proc.poll()
            if code is not None:
                if code == EXIT_ADDRESS_IN_USE:
                    raise LabWafError("%s. Server log:\n%s" % (port_in_use_message(self.host, self.port),
                                                               tail(self.paths.server_log)))
                raise LabWafError("the lab WAF exited with status %s while starting. Server log %s:\n%s"
                                  % (code, self.paths.server_log, tail(self.paths.server_log)))
            if tls_ready(self.host, self.port, timeout=min(2.0, max(0.1, deadline - time.monotonic()))):
                return
            if time.monotonic() >= deadline:
                self._terminate(proc.pid)
                proc.wait()
                raise LabWafError("the lab WAF did not answer TLS on %s:%s within %s seconds. Server log %s:\n%s"
                                  % (self.host, self.port, self.startup_timeout, self.paths.server_log,
                                     tail(self.paths.server_log)))
            time.sleep(0.1)

    def _terminate(self, pid):
        """SIGTERM, bounded wait, then SIGKILL; True when the process is gone."""
        for sig, wait in ((signal.SIGTERM, self.stop_timeout), (signal.SIGKILL, 5.0)):
            try:
                os.kill(pid, sig)
            except OSError as exc:
                if exc.errno == errno.ESRCH:
                    return True
                raise LabWafError("cannot signal the lab WAF (pid %d): %s" % (pid, exc))
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline:
                if not pid_alive(pid):
                    return True
                time.sleep(0.05)
        return not pid_alive(pid)

    def stop(self):
        """Stop the WAF if it runs; returns the pid that was stopped, or None."""
        pid = self.running_pid()
        state = read_state(self.paths.state_file)
        if pid is not None:
            if not self._terminate(pid):
                raise LabWafError("the lab WAF (pid %d) did not exit after SIGTERM and SIGKILL" % pid)
            host, port = state.get("host", self.host), state.get("port", self.port)
            deadline = time.monotonic() + 5.0
            while not port_available(host, port):
                if time.monotonic() >= deadline:
                    raise LabWafError("the lab WAF (pid %d) stopped but port %s on %s is still in use" % (pid, port, host))
                time.sleep(0.05)
        _remove_quietly(self.paths.pid_file)
        _remove_quietly(self.paths.state_file)
        return pid
