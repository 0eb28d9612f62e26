# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus' own programs for the monitoring tests (Debian packages
``prometheus`` and ``prometheus-node-exporter``; ``.ci/run`` installs them):

- :func:`check_metrics`: ``promtool check metrics`` on a metrics file;
- :class:`Server`: a Prometheus server or a node_exporter started on a
  loopback port, waited for with a bound, and stopped by its pid;
- :func:`api`: a GET of Prometheus' HTTP API.

Nothing here is started through systemd or left running.
"""

import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import prerequisites

HOST = "127.0.0.1"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
PROMTOOL = shutil.which("promtool")
PROMETHEUS = shutil.which("prometheus")
NODE_EXPORTER = shutil.which("prometheus-node-exporter") or shutil.which("node_exporter")


def need(*programs):
    """Skip unless every program is installed, naming it and its Debian package; under CI=true, fail."""
    prerequisites.need(*programs)


def check_metrics(path):
    """Assert that ``promtool check metrics`` accepts the file (no error, no lint problem)."""
    need("promtool")
    with open(str(path), "rb") as handle:
        proc = subprocess.run([PROMTOOL, "check", "metrics"], stdin=handle, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60, check=False)
    assert (proc.returncode, proc.stdout.decode("utf-8", "replace")) == (0, ""), path


def http_get(url, timeout=5.0):
    """(status, body bytes) of a GET; (None, error text) when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        return None, str(exc).encode()


class Server:
    """One server process on 127.0.0.1:port, its output in ``log``."""

    def __init__(self, name, argv, port, ready_path, log):
        self.name = name
        self.argv = argv
        self.port = port
        self.ready_path = ready_path
        self.log = log
        self.process = None

    @property
    def url(self):
        return "http://%s:%d" % (HOST, self.port)

    def start(self):
        with open(str(self.log), "wb") as output:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=output,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError("%s exited with %s:\n%s" % (self.name, self.process.returncode, self.output()))
            status, _body = http_get(self.url + self.ready_path, timeout=1.0)
            if status == 200:
                return self
            time.sleep(0.2)
        raise AssertionError("%s not ready on port %d within %d s:\n%s" % (
            self.name, self.port, START_TIMEOUT, self.output()))

    def output(self, tail=4000):
        try:
            with open(str(self.log), "rb") as handle:
                return handle.read().decode("utf-8", "replace")[-tail:]
        except OSError:
            return ""

    def stop(self):
        """SIGTERM by pid, SIGKILL after a bound; safe to call twice."""
        if self.process is None or self.process.poll() is not None:
            return
        os.kill(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)


def node_exporter(port, textfile_dir, log):
    """node_exporter with only the textfile collector, reading ``textfile_dir``."""
    need("prometheus-node-exporter")
    return Server("node_exporter", [NODE_EXPORTER, "--web.listen-address=%s:%d" % (HOST, port),
                                    "--collector.disable-defaults", "--collector.textfile",
                                    "--collector.textfile.directory=%s" % textfile_dir], port, "/metrics", log)


def prometheus(port, config, data_dir, log):
    need("prometheus")
    return Server("prometheus", [PROMETHEUS, "--config.file=%s" % config, "--storage.tsdb.path=%s" % data_dir,
                                 "--web.listen-address=%s:%d" % (HOST, port)], port, "/-/ready", log)


def api(server, path, **params):
    """The ``data`` of a Prometheus API answer (asserting status success)."""
    url = "%s/api/v1/%s" % (server.url, path)
    if params:
        url += "?" + urllib.parse.urlencode(params)
    status, body = http_get(url)
    assert status == 200, (url, status, body[:500])
    answer = json.loads(body.decode("utf-8"))
    assert answer["status"] == "success", answer
    return answer["data"]


def wait_until(what, function, timeout=START_TIMEOUT, interval=0.5):
    """Call function until it returns something true; its last value, or AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    value = None
    while time.monotonic() < deadline:
        value = function()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("%s: not within %d s (last: %r)" % (what, timeout, value))
