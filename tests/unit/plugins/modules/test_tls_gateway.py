# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process handling of eeszt.connect.tls_gateway with a real daemonising program.

The program stands in for stunnel with the same contract: ``PROG CONFIG``
reads ``pid = PATH`` from the configuration, forks, the child writes its pid
there and keeps running, the parent exits 0; a configuration with ``fail``
in it makes it exit 1 with a message, as stunnel does for a bad one.
"""

import json
import os
import subprocess
import sys
import time

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common.process import pid_alive as is_alive
from ansible_collections.eeszt.connect.plugins.module_utils.common.process import read_pid
from ansible_collections.eeszt.connect.plugins.modules.tls_gateway import (
    Gateway,
    GatewayError,
)

FAKE_DAEMON = r'''#!{python}
import os, sys, time
config = sys.argv[1]
text = open(config).read()
if "fail" in text:
    sys.stderr.write("[!] bad configuration in %s\n" % config)
    sys.exit(1)
pid_file = [l.split("=", 1)[1].strip() for l in text.splitlines() if l.startswith("pid")][0]
if os.fork():
    sys.exit(0)
os.setsid()
for fd in (0, 1, 2):
    os.dup2(os.open(os.devnull, os.O_RDWR), fd)
with open(pid_file, "w") as handle:
    handle.write("%d\n" % os.getpid())
time.sleep(120)
'''


@pytest.fixture
def gateway(tmp_path):
    program = tmp_path / "fake-stunnel"
    program.write_text(FAKE_DAEMON.format(python=sys.executable))
    program.chmod(0o755)
    run_dir = tmp_path / "run"
    config = tmp_path / "gateway.conf"
    config.write_text("pid = %s\n" % (run_dir / "stunnel.pid"))
    gw = Gateway(str(config), str(run_dir / "stunnel.pid"), str(program), timeout=10)
    yield gw
    pid = gw.running_pid()
    if pid:
        gw.stop(pid)


def test_start_records_config_and_stop_cleans_up(gateway):
    assert gateway.running_pid() is None
    pid = gateway.start("sha-1")
    assert is_alive(pid) and gateway.running_pid() == pid
    assert read_pid(gateway.pid_file) == pid
    assert gateway.started_sha256() == "sha-1"
    assert oct(os.stat(gateway.state_file).st_mode & 0o777) == "0o600"

    gateway.stop(pid)
    deadline = time.time() + 5
    while is_alive(pid) and time.time() < deadline:
        time.sleep(0.05)
    assert not is_alive(pid)
    assert gateway.running_pid() is None
    assert not os.path.exists(gateway.pid_file) and not os.path.exists(gateway.state_file)


def test_pid_of_another_program_is_not_taken_for_the_gateway(gateway, tmp_path):
    os.makedirs(os.path.dirname(gateway.pid_file))
    with open(gateway.pid_file, "w") as handle:
        handle.write("%d\n" % os.getpid())  # alive, but not started with this configuration
    assert is_alive(os.getpid())
    assert gateway.running_pid() is None


def test_refused_configuration_reports_the_programs_message(gateway):
    with open(gateway.config, "a") as handle:
        handle.write("fail\n")
    with pytest.raises(GatewayError) as caught:
        gateway.start("sha-2")
    assert "exit code 1" in str(caught.value) and "bad configuration" in str(caught.value)


def test_missing_configuration(gateway):
    os.unlink(gateway.config)
    with pytest.raises(GatewayError, match="does not exist"):
        gateway.start("sha-3")


def test_leftovers_and_removal(gateway, tmp_path):
    pid = gateway.start("sha-4")
    log = os.path.join(os.path.dirname(gateway.pid_file), "stunnel.log")
    with open(log, "w") as handle:
        handle.write("log\n")
    paths = gateway.leftovers(log)
    assert paths == [gateway.config, gateway.pid_file, gateway.state_file, log, os.path.dirname(gateway.pid_file)]
    gateway.stop(pid)
    gateway.remove(paths)
    assert not os.path.exists(gateway.config) and not os.path.exists(os.path.dirname(gateway.pid_file))


def test_a_foreign_file_keeps_the_run_directory(gateway):
    pid = gateway.start("sha-5")
    foreign = os.path.join(os.path.dirname(gateway.pid_file), "keep.me")
    with open(foreign, "w") as handle:
        handle.write("x")
    paths = gateway.leftovers(None)
    assert os.path.dirname(gateway.pid_file) not in paths
    gateway.stop(pid)
    gateway.remove(paths)
    assert os.path.exists(foreign)


def test_failures_carry_stable_codes(gateway):
    with open(gateway.config, "a") as handle:
        handle.write("fail\n")
    with pytest.raises(GatewayError) as caught:
        gateway.start("sha-6")
    assert caught.value.code == "start_failed"
    os.unlink(gateway.config)
    with pytest.raises(GatewayError) as caught:
        gateway.start("sha-7")
    assert caught.value.code == "config_missing"


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def run_module(tmp_path, **args):
    """The module as Ansible runs it: a Python process reading its arguments from a file."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".cache", "collections"))
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.eeszt.connect.plugins.modules.tls_gateway",
                           str(args_file)], capture_output=True, text=True, env=env, timeout=60, check=False)
    return json.loads(proc.stdout)


@pytest.mark.parametrize("args, error, message", [
    (dict(timeout=0), "usage", "timeout must be a positive number of seconds"),
    (dict(executable="/nonexistent/stunnel"), "gateway_failed", "the gateway could not be started: "),
    (dict(state="restarted", config_text="fail\n"), "start_failed", "stunnel refused to start (exit code 1)"),
    (dict(state="started", config_text=None), "config_missing", "the gateway configuration %(config)s does not exist"),
])
def test_module_failures_return_their_error_code(gateway, tmp_path, args, error, message):
    args = dict(args)
    config_text = args.pop("config_text", "keep")
    if config_text is None:
        os.unlink(gateway.config)
    elif config_text != "keep":
        with open(gateway.config, "a") as handle:
            handle.write(config_text)
    args.setdefault("executable", gateway.executable)
    result = run_module(tmp_path, config=gateway.config, pid_file=gateway.pid_file, **args)
    assert result["failed"] is True
    assert result["error"] == error
    assert message % {"config": gateway.config} in result["msg"]
    assert result["running"] is False and result["pid"] is None
