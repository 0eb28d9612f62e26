# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for the lab WAF: process management (plugin_utils/lab/waf.py)
and the configuration handling of the server (plugin_utils/lab/waf_server.py, _waf_http.py).

Named after lab/waf.py, which it mostly tests; the server tests share its lab fixtures (no clean cut)."""

import json
import os
import socket
import subprocess
import sys

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab import _waf_http as http
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab import waf as lab_waf
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab import waf_server as server_module


@pytest.fixture(scope="module")
def server():
    """The server module."""
    return server_module


@pytest.fixture
def lab(tmp_path):
    """A lab directory with a configuration naming TLS files (the server is the collection's module)."""
    waf = tmp_path / "waf"
    pki = tmp_path / "pki"
    waf.mkdir()
    pki.mkdir()
    for name in ("cert.pem", "key.pem", "ca.pem"):
        (pki / name).write_text("not really PEM: %s\n" % name)
    (waf / "waf.json").write_text(json.dumps({
        "server_cert": "../pki/cert.pem", "server_key": "../pki/key.pem",
        "client_ca": "../pki/ca.pem", "access_log": "access.log",
    }))
    return tmp_path


def listening_socket():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    return sock


# -- server script: configuration ----------------------------------------------

def test_denied_entries_split_into_fingerprints_and_serials(server):
    fingerprint = "AB:" * 31 + "CD"
    fingerprints, serials = server.parse_denied([fingerprint, "00:0A:1B", "0x2f"])
    assert fingerprints == {"ab" * 31 + "cd"}
    assert serials == {"a1b", "2f"}


@pytest.mark.parametrize("entry", ["not-hex", "", "f" * 50])
def test_bad_denied_entries_are_refused(server, entry):
    with pytest.raises(server.ConfigError):
        server.parse_denied([entry])


def test_config_paths_are_relative_to_the_config_file(server, lab):
    config = server.load_config(str(lab / "waf" / "waf.json"), port=28443)
    assert config["server_cert"] == os.path.join(str(lab / "waf"), "../pki/cert.pem")
    assert config["access_log"] == str(lab / "waf" / "access.log")
    assert config["port"] == 28443 and config["host"] == "127.0.0.1"
    assert config["client_cert"] == "required" and config["health_path"] == "/health"


@pytest.mark.parametrize("change, message", [
    ({"client_cert": "sometimes"}, "client_cert"),
    ({"soap_path": "soap"}, "soap_path"),
    ({"server_key": ""}, "server_key is required"),
    ({"denied": "abc"}, "denied must be a list"),
])
def test_invalid_config_is_refused(server, lab, change, message):
    path = lab / "waf" / "waf.json"
    data = json.loads(path.read_text())
    data.update(change)
    path.write_text(json.dumps(data))
    with pytest.raises(server.ConfigError, match=message):
        server.load_config(str(path))


def test_subject_is_formatted_most_specific_first_with_escaping():
    subject = ((("countryName", "HU"),), (("organizationName", "Lab, Inc."),), (("commonName", "100001"),))
    assert http.format_subject(subject) == "CN=100001,O=Lab\\, Inc.,C=HU"


def test_soap_body_must_be_an_envelope():
    problem = http.LabWafHandler.soap_problem
    assert problem(b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>') is None
    assert problem(b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"/>') is None
    assert "SOAP Envelope" in problem(b"<Envelope/>")
    assert "well-formed" in problem(b"<a>")
    assert "DTD" in problem(b'<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>')
    assert "empty" in problem(b"  ")


# -- plugin_utils/lab/waf.py: processes, ports (pid files and liveness: module_utils/common/process) ---

def test_the_default_server_is_the_collection_module_run_with_m(lab):
    paths = lab_waf.WafPaths(str(lab))
    assert paths.script is None
    assert paths.argv("/usr/bin/python3", "127.0.0.1", 18443) == [
        "/usr/bin/python3", "-u", "-m", "ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf_server",
        "--config", str(lab / "waf" / "waf.json"), "--host", "127.0.0.1", "--port", "18443"]
    assert paths.markers() == (lab_waf.SERVER_MODULE, str(lab / "waf" / "waf.json"))
    assert [os.path.basename(path) for path in paths.server_files] == ["waf_server.py", "_waf_http.py"]
    assert os.path.isdir(os.path.join(lab_waf.collections_root(), "ansible_collections"))
    script = lab_waf.WafPaths(str(lab), script="/opt/waf.py")
    assert script.argv("py", "::1", 1)[:3] == ["py", "-u", "/opt/waf.py"] and script.markers() == ("/opt/waf.py",)


def test_process_is_waf_checks_module_and_config_of_this_lab(tmp_path):
    """The collection's server runs as -m MODULE --config CONFIG: both must be on the command line."""
    config = tmp_path / "waf.json"
    child = subprocess.Popen([sys.executable, "-c", "import sys, time; print('ready', flush=True); time.sleep(30)",
                              lab_waf.SERVER_MODULE, "--config", str(config)], stdout=subprocess.PIPE)
    try:
        assert child.stdout.readline() == b"ready\n"
        assert lab_waf.process_is_waf(child.pid, (lab_waf.SERVER_MODULE, str(config)))
        assert not lab_waf.process_is_waf(child.pid, (lab_waf.SERVER_MODULE, str(tmp_path / "other.json")))
    finally:
        child.kill()
        child.wait(timeout=10)


def test_process_is_waf_checks_the_command_line(tmp_path):
    script = tmp_path / "eeszt_lab_waf.py"
    script.write_text("import time\nprint('ready', flush=True)\ntime.sleep(30)\n")
    child = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE)
    try:
        # Right after Popen the child may not have exec'd the interpreter yet
        # (its command line is still the parent's): wait until the script runs.
        assert child.stdout.readline() == b"ready\n"
        assert lab_waf.process_is_waf(child.pid, (str(script),))
        assert not lab_waf.process_is_waf(child.pid, (str(tmp_path / "other.py"),))
        assert not lab_waf.process_is_waf(os.getpid(), (str(script),))
    finally:
        child.kill()
        child.wait(timeout=10)


def test_port_available():
    sock = listening_socket()
    port = sock.getsockname()[1]
    try:
        assert not lab_waf.port_available("127.0.0.1", port)
    finally:
        sock.close()
    assert lab_waf.port_available("127.0.0.1", port)


def test_fingerprint_follows_config_and_tls_files(lab):
    paths = lab_waf.WafPaths(str(lab))
    first = lab_waf.fingerprint(paths, sys.executable, "127.0.0.1", 18443)
    assert lab_waf.fingerprint(paths, sys.executable, "127.0.0.1", 18443) == first
    assert lab_waf.fingerprint(paths, sys.executable, "127.0.0.1", 18444) != first
    (lab / "pki" / "cert.pem").write_text("renewed\n")
    second = lab_waf.fingerprint(paths, sys.executable, "127.0.0.1", 18443)
    assert second != first
    config = json.loads((lab / "waf" / "waf.json").read_text())
    config["denied"] = ["ab"]
    (lab / "waf" / "waf.json").write_text(json.dumps(config))
    assert lab_waf.fingerprint(paths, sys.executable, "127.0.0.1", 18443) != second


# -- module_utils: start and stop ----------------------------------------------

def test_start_on_a_taken_port_names_port_and_variable(lab):
    sock = listening_socket()
    port = sock.getsockname()[1]
    try:
        waf = lab_waf.LabWaf(lab_waf.WafPaths(str(lab)), "127.0.0.1", port, sys.executable)
        with pytest.raises(lab_waf.LabWafError) as info:
            waf.start()
    finally:
        sock.close()
    assert "port %d on 127.0.0.1 is already in use" % port in str(info.value)
    assert "eeszt_lab_waf_port" in str(info.value)
    assert not os.path.exists(waf.paths.pid_file)


def test_start_failure_reports_the_server_log(lab):
    # The TLS files are not PEM: the server exits at once with a configuration error.
    sock = listening_socket()
    port = sock.getsockname()[1]
    sock.close()
    waf = lab_waf.LabWaf(lab_waf.WafPaths(str(lab)), "127.0.0.1", port, sys.executable, startup_timeout=10)
    with pytest.raises(lab_waf.LabWafError) as info:
        waf.start()
    assert "exited with status 2" in str(info.value)
    assert "cannot load TLS material" in str(info.value)
    assert waf.running_pid() is None


def test_missing_script_is_a_clear_error(tmp_path):
    paths = lab_waf.WafPaths(str(tmp_path), script=str(tmp_path / "waf.py"))
    waf = lab_waf.LabWaf(paths, "127.0.0.1", 18443, sys.executable)
    with pytest.raises(lab_waf.LabWafError) as info:
        waf.start()
    assert str(info.value) == ("the lab WAF server script %s does not exist (option script of eeszt.connect.lab_waf; "
                               "leave it unset to run the collection's server)" % (tmp_path / "waf.py"))


def test_missing_configuration_is_a_clear_error(tmp_path):
    waf = lab_waf.LabWaf(lab_waf.WafPaths(str(tmp_path)), "127.0.0.1", 18443, sys.executable)
    with pytest.raises(lab_waf.LabWafError) as info:
        waf.start()
    assert str(info.value) == ("the lab WAF configuration %s does not exist (run the eeszt.connect.lab role with "
                               "eeszt_lab_state=started to install it)" % (tmp_path / "waf" / "waf.json"))


def test_stale_pid_file_is_not_trusted(lab):
    paths = lab_waf.WafPaths(str(lab))
    # Our own pid: alive, but not the WAF (pid reuse); it must not be signalled.
    with open(paths.pid_file, "w") as handle:
        handle.write("%d\n" % os.getpid())
    waf = lab_waf.LabWaf(paths, "127.0.0.1", 18443, sys.executable)
    status = waf.status()
    assert not status["running"] and status["stale_pid_file"]
    assert waf.stop() is None
    assert not os.path.exists(paths.pid_file)


def test_stop_terminates_and_frees_the_port(lab):
    """A stand-in 'WAF' (the script path, a listening socket) is stopped with SIGTERM."""
    paths = lab_waf.WafPaths(str(lab), script=str(lab / "waf" / "stand-in.py"))
    with open(paths.script, "w") as handle:
        handle.write(
            "import signal, socket, sys, time\n"
            "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
            "s.bind(('127.0.0.1', 0)); s.listen(1)\n"
            "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))\n"
            "print(s.getsockname()[1], flush=True)\n"
            "time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, paths.script], stdout=subprocess.PIPE, universal_newlines=True)
    try:
        port = int(child.stdout.readline())
        with open(paths.pid_file, "w") as handle:
            handle.write("%d\n" % child.pid)
        with open(paths.state_file, "w") as handle:
            json.dump({"host": "127.0.0.1", "port": port}, handle)
        # A bound, not a delay: stop() returns as soon as the stand-in has exited. At a load average of 15 its
        # exit once took more than 5 s and the SIGKILL that follows the bound failed this test.
        waf = lab_waf.LabWaf(paths, "127.0.0.1", port, sys.executable, stop_timeout=60)
        assert waf.status()["running"]
        assert waf.stop() == child.pid
        assert child.wait(timeout=10) == 0
        assert lab_waf.port_available("127.0.0.1", port)
        assert not os.path.exists(paths.pid_file) and not os.path.exists(paths.state_file)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
