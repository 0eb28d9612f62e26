# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/configure_tls.yml on localhost against the lab WAF.

One lab (lab PKI and WAF on a free loopback port) for the module; each test
deploys a site certificate into its own temporary site directory with
playbooks/deploy_certificate.yml and then runs configure_tls.yml. The
written files are used for real: curl with only the curl file, openssl with
only the OpenSSL file, plain HTTP through the stunnel gateway.
"""

import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
import urllib.request

import pytest

HOST = "127.0.0.1"
IO_TIMEOUT = 10
SITES = [("100001", "100001001"), ("100001", "100001002")]
PROXY_PASSWORD = "Pr0xy/pa:ss@w\"rd'"
KEYSTORE_PASSWORD = "Keystore-Pw-5521"
SOAP_BODY = (b'<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
             b'<soapenv:Body><ping/></soapenv:Body></soapenv:Envelope>')

pytestmark = pytest.mark.slow


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def run(argv, env=None, stdin=b""):
    return subprocess.run(argv, input=stdin, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=IO_TIMEOUT * 3, env=env, check=False)


def port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


class Lab:
    def __init__(self, root, run_playbook, port):
        self.root = root
        self.run_playbook = run_playbook
        self.dir = root / "lab"
        self.pki = self.dir / "pki"
        self.port = port
        self.inventory = root / "hosts.ini"
        self.inventory.write_text(
            "[eeszt_sites]\nsite01 ansible_connection=local ansible_python_interpreter=%s "
            "eeszt_institution_id=%s eeszt_site_id=%s\n" % (sys.executable, SITES[0][0], SITES[0][1]))

    def playbook(self, name, **kwargs):
        extra = {"eeszt_lab_dir": str(self.dir), "eeszt_lab_waf_port": self.port,
                 "eeszt_lab_sites": [{"institution_id": i, "site_id": s} for i, s in SITES]}
        extra.update(kwargs)
        return self.run_playbook(name, inventory=self.inventory, extra_vars=extra)

    def url(self, path):
        return "https://%s:%d%s" % (HOST, self.port, path)


class Site:
    """A simulated site: its own directory tree and the role's variables for it."""

    def __init__(self, lab, root):
        self.lab = lab
        self.root = root
        self.cert_dir = root / "etc" / "eeszt" / "tls"
        self.config_dir = root / "etc" / "eeszt"
        self.bundle = self.cert_dir / "eeszt-ca.pem"
        self.run_dir = root / "run" / "gateway"
        self.hosts_file = root / "etc" / "hosts"

    def deploy_certificate(self, index=0, **extra):
        base = self.lab.pki / "sites" / ("%s-%s" % SITES[index])
        variables = {
            "eeszt_certificate_pfx_src": str(base) + ".p12",
            "eeszt_certificate_pfx_password": (base.parent / (base.name + ".password")).read_text().strip(),
            "eeszt_certificate_dir": str(self.cert_dir),
        }
        variables.update(extra)
        result = self.lab.run_playbook("deploy_certificate.yml", inventory=self.lab.inventory,
                                       extra_vars=variables)
        assert result.ok, result.output
        return result

    def variables(self, **extra):
        variables = {
            "eeszt_certificate_dir": str(self.cert_dir),
            "eeszt_tls_ca_bundle_src": str(self.lab.pki / "eeszt-ca-bundle.pem"),
            "eeszt_tls_ca_bundle": str(self.bundle),
            "eeszt_tls_config_dir": str(self.config_dir),
            "eeszt_tls_hosts_file": str(self.hosts_file),
            "eeszt_tls_gateway_run_dir": str(self.run_dir),
            "eeszt_tls_gateway_service_manager": "daemon",
            "eeszt_tls_manage_packages": False,
            "eeszt_endpoints": [
                {"name": "health", "url": self.lab.url("/health"), "expect_status": 200},
                {"name": "soap", "url": self.lab.url("/soap"), "method": "POST", "expect_status": 200},
            ],
        }
        variables.update(extra)
        return variables

    def configure(self, *args, env=None, **extra):
        return self.lab.run_playbook("configure_tls.yml", inventory=self.lab.inventory,
                                     extra_vars=self.variables(**extra), args=args, env=env)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port):
    lab = Lab(tmp_path_factory.mktemp("tls"), run_playbook, pick_port())
    up = lab.playbook("lab.yml", eeszt_lab_state="started")
    assert up.ok, up.output
    yield lab
    down = lab.playbook("lab.yml", eeszt_lab_state="stopped")
    assert down.ok, down.output


@pytest.fixture
def site(lab, tmp_path):
    site = Site(lab, tmp_path / "site")
    site.deploy_certificate()
    yield site
    # Never leave a gateway behind, whatever the test did.
    pid_file = site.run_dir / "stunnel.pid"
    if pid_file.exists():
        lab.run_playbook("configure_tls.yml", inventory=lab.inventory,
                         extra_vars=site.variables(eeszt_tls_gateway_enabled=False))


def curl(site, url, *extra):
    return run(["curl", "--silent", "--show-error", "--max-time", str(IO_TIMEOUT),
                "--config", str(site.config_dir / "curlrc")] + list(extra) + [url])


def test_client_files_reach_the_waf_and_are_idempotent(lab, site):
    result = site.configure()
    assert result.ok, result.output
    # Issue 26: the CA bundle's validation and the role's input check happen in the tls_files task's action, so
    # configure_tls.yml runs 4 tasks for the site (ok + skipped): the preflight's two, tls_files and the skipped
    # include of the optional features (6 before).
    recap = result.recap["site01"]
    assert recap["ok"] + recap["skipped"] == 4, result.output

    files = sorted(os.listdir(str(site.config_dir)))
    assert files == ["curlrc", "eeszt.env", "openssl.cnf", "tls"]
    for name in ("curlrc", "eeszt.env", "openssl.cnf"):
        assert mode(site.config_dir / name) == 0o644, name
        header = "".join((site.config_dir / name).read_text().splitlines(True)[:3])
        assert "Ansible collection eeszt.connect" in header.replace("\n# ", " "), name
    assert mode(site.bundle) == 0o644
    assert site.bundle.read_text().startswith("-----BEGIN CERTIFICATE-----")

    # curl with nothing but the written curl file reaches the WAF with the client certificate.
    health = curl(site, lab.url("/health"))
    assert health.returncode == 0, health.stdout
    body = json.loads(health.stdout.decode())
    assert body["status"] == "ok"
    assert SITES[0][1] in body["client_subject"]
    soap = curl(site, lab.url("/soap"), "--data-binary", SOAP_BODY.decode(),
                "--header", "Content-Type: text/xml; charset=utf-8", "--fail")
    assert soap.returncode == 0 and b"<status>OK</status>" in soap.stdout, soap.stdout

    # The environment file is valid shell and names the files that exist.
    shell = run(["sh", "-c", 'set -a; . "$1"; set +a; env', "sh", str(site.config_dir / "eeszt.env")])
    assert shell.returncode == 0, shell.stdout
    env = dict(line.split("=", 1) for line in shell.stdout.decode().splitlines() if "=" in line)
    assert env["EESZT_CLIENT_CERT"] == str(site.cert_dir / "fullchain.pem")
    assert env["EESZT_CLIENT_KEY"] == str(site.cert_dir / "key.pem")
    assert env["EESZT_CA_BUNDLE"] == str(site.bundle)
    assert env["EESZT_ENDPOINT_HEALTH"] == lab.url("/health")
    assert env["EESZT_CURLRC"] == str(site.config_dir / "curlrc")
    assert "HTTPS_PROXY" not in env
    for name in ("EESZT_CLIENT_CERT", "EESZT_CLIENT_KEY", "EESZT_CA_BUNDLE", "EESZT_OPENSSL_CONF"):
        assert os.path.isfile(env[name]), name

    again = site.configure()
    assert again.ok and again.changed("site01") == 0, again.output
    check = site.configure("--check", "--diff")
    assert check.ok and check.changed("site01") == 0, check.output


def test_openssl_file_refuses_old_protocols(lab, site, tmp_path, pick_port):
    result = site.configure()
    assert result.ok, result.output
    conf_env = dict(os.environ, OPENSSL_CONF=str(site.config_dir / "openssl.cnf"))
    client = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, lab.port),
              "-cert", str(site.cert_dir / "cert.pem"), "-key", str(site.cert_dir / "key.pem"),
              "-CAfile", str(site.bundle), "-verify_return_error"]

    good = run(client, env=conf_env, stdin=b"Q\n")
    assert good.returncode == 0 and b"Verify return code: 0 (ok)" in good.stdout, good.stdout
    refused = run(client + ["-tls1_1"], env=conf_env, stdin=b"Q\n")
    assert refused.returncode != 0, refused.stdout

    # Against a server that does speak TLS 1.1 the difference is the file alone.
    key, cert = tmp_path / "old.key", tmp_path / "old.pem"
    made = run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=old",
                "-days", "1", "-keyout", str(key), "-out", str(cert)])
    assert made.returncode == 0, made.stdout
    port = pick_port()
    server = subprocess.Popen(["openssl", "s_server", "-accept", "%s:%d" % (HOST, port), "-cert", str(cert),
                               "-key", str(key), "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"],
                              stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + IO_TIMEOUT
        while not port_open(port):
            assert time.time() < deadline, "openssl s_server did not listen"
            time.sleep(0.1)
        old = ["openssl", "s_client", "-connect", "%s:%d" % (HOST, port), "-no_tls1_2", "-no_tls1_3",
               "-cipher", "DEFAULT:@SECLEVEL=0"]
        plain_env = dict(os.environ)
        plain_env.pop("OPENSSL_CONF", None)
        without = run(old, env=plain_env, stdin=b"Q\n")
        assert b"Protocol  : TLSv1.1" in without.stdout and b"Cipher is (NONE)" not in without.stdout, \
            without.stdout
        with_conf = run(old, env=conf_env, stdin=b"Q\n")
        assert b"no protocols available" in with_conf.stdout, with_conf.stdout
    finally:
        server.stdin.close()
        server.kill()
        server.wait(timeout=IO_TIMEOUT)


def gateway_get(port, path="/health"):
    with urllib.request.urlopen("http://%s:%d%s" % (HOST, port, path), timeout=IO_TIMEOUT) as response:
        return response.status, json.loads(response.read().decode())


def test_gateway_forwards_restarts_on_renewal_and_goes_away(lab, site, pick_port):
    ports = {"health": pick_port(), "soap": pick_port()}
    enabled = dict(eeszt_tls_gateway_enabled=True, eeszt_tls_gateway_ports=ports)
    result = site.configure(**enabled)
    assert result.ok, result.output
    config = site.config_dir / "stunnel-gateway.conf"
    text = config.read_text()
    assert "accept = 127.0.0.1:%d" % ports["health"] in text
    assert "verifyChain = yes" in text and "checkIP = 127.0.0.1" in text
    assert "0.0.0.0" not in text
    status, body = gateway_get(ports["health"])
    assert status == 200 and body["status"] == "ok"
    assert SITES[0][1] in body["client_subject"]
    request = urllib.request.Request("http://%s:%d/soap" % (HOST, ports["soap"]), data=SOAP_BODY,
                                     headers={"Content-Type": "text/xml; charset=utf-8"})
    with urllib.request.urlopen(request, timeout=IO_TIMEOUT) as response:
        assert response.status == 200 and b"<status>OK</status>" in response.read()
    env = (site.config_dir / "eeszt.env").read_text()
    assert "EESZT_GATEWAY_HEALTH='http://127.0.0.1:%d/health'" % ports["health"] in env
    pid = int((site.run_dir / "stunnel.pid").read_text())

    again = site.configure(**enabled)
    assert again.ok and again.changed("site01") == 0, again.output
    assert int((site.run_dir / "stunnel.pid").read_text()) == pid

    # A renewed certificate (here: another site's) restarts the gateway, which then presents it.
    site.deploy_certificate(index=1)
    renewed = site.configure(**enabled)
    assert renewed.ok and renewed.changed("site01") >= 1, renewed.output
    assert int((site.run_dir / "stunnel.pid").read_text()) != pid
    status, body = gateway_get(ports["health"])
    assert status == 200 and SITES[1][1] in body["client_subject"]

    off = site.configure()
    assert off.ok, off.output
    assert not config.exists() and not site.run_dir.exists()
    assert "EESZT_GATEWAY_" not in (site.config_dir / "eeszt.env").read_text()
    deadline = time.time() + IO_TIMEOUT
    while os.path.exists("/proc/%d" % pid) and time.time() < deadline:
        time.sleep(0.1)
    assert not port_open(ports["health"]) and not port_open(ports["soap"])
    still_off = site.configure()
    assert still_off.ok and still_off.changed("site01") == 0, still_off.output


def test_proxy_hosts_trust_and_java_then_switched_off(lab, site):
    trust_dir = site.root / "trust"
    trust_dir.mkdir(parents=True)
    update_log = site.root / "trust-updates.log"
    site.hosts_file.write_text("127.0.0.1 localhost\n")
    trust = {
        "eeszt_tls_system_trust_dir": str(trust_dir),
        "eeszt_tls_system_trust_update_command": ["sh", "-c", 'echo "update:" $(ls "$1") >> "$2"', "update",
                                                  str(trust_dir), str(update_log)],
    }
    everything = dict(
        trust,
        eeszt_tls_system_trust=True,
        eeszt_tls_proxy="http://127.0.0.1:3128",
        eeszt_tls_proxy_username="clinic",
        eeszt_tls_proxy_password=PROXY_PASSWORD,
        eeszt_tls_hosts_entries=[{"ip": "127.0.0.1", "names": ["eeszt-lab.localhost", "waf.eeszt.test"]}],
        eeszt_certificate_formats=["pem", "java"],
        eeszt_certificate_export_password=KEYSTORE_PASSWORD,
    )
    site.deploy_certificate(eeszt_certificate_formats=["pem", "java"],
                            eeszt_certificate_export_password=KEYSTORE_PASSWORD)
    result = site.configure("-vvv", **everything)
    assert result.ok, result.output
    for secret in (PROXY_PASSWORD, "Pr0xy", KEYSTORE_PASSWORD):
        assert secret not in result.stdout and secret not in result.stderr

    assert sorted(os.listdir(str(site.config_dir))) == ["curlrc", "eeszt.env", "java.properties",
                                                        "openssl.cnf", "tls"]
    for name in ("curlrc", "eeszt.env", "java.properties"):
        assert mode(site.config_dir / name) == 0o640, name
    assert mode(site.config_dir / "openssl.cnf") == 0o644
    curlrc = (site.config_dir / "curlrc").read_text()
    assert 'proxy = "http://127.0.0.1:3128"' in curlrc
    assert 'proxy-user = "clinic:Pr0xy/pa:ss@w\\"rd\'"' in curlrc
    shell = run(["sh", "-c", 'set -a; . "$1"; set +a; env', "sh", str(site.config_dir / "eeszt.env")])
    env = dict(line.split("=", 1) for line in shell.stdout.decode().splitlines() if "=" in line)
    assert env["HTTPS_PROXY"] == "http://clinic:Pr0xy%2Fpa%3Ass%40w%22rd%27@127.0.0.1:3128"
    assert env["NO_PROXY"] == "localhost,127.0.0.1,::1"
    java = (site.config_dir / "java.properties").read_text()
    assert "javax.net.ssl.keyStore=%s" % (site.cert_dir / "keystore.p12") in java
    assert "javax.net.ssl.keyStorePassword=%s" % KEYSTORE_PASSWORD in java
    assert "https.proxyHost=127.0.0.1" in java and "https.proxyPort=3128" in java
    # curl honours the proxy and the no-proxy list from the file: the WAF is on loopback, reached directly.
    health = curl(site, lab.url("/health"))
    assert health.returncode == 0 and b'"status": "ok"' in health.stdout, health.stdout

    hosts = site.hosts_file.read_text()
    assert hosts.startswith("127.0.0.1 localhost\n")
    assert "# BEGIN eeszt.connect tls_client" in hosts
    assert "127.0.0.1 eeszt-lab.localhost waf.eeszt.test\n" in hosts
    anchors = os.listdir(str(trust_dir))
    assert len(anchors) == 1 and anchors[0].startswith("eeszt-connect-") and anchors[0].endswith(".crt")
    assert (trust_dir / anchors[0]).read_text() == site.bundle.read_text()
    assert update_log.read_text().splitlines() == ["update: " + anchors[0]]

    again = site.configure(**everything)
    assert again.ok and again.changed("site01") == 0, again.output
    assert update_log.read_text().splitlines() == ["update: " + anchors[0]]

    off = site.configure(**trust)
    assert off.ok, off.output
    assert os.listdir(str(trust_dir)) == []
    assert update_log.read_text().splitlines() == ["update: " + anchors[0], "update:"]
    assert site.hosts_file.read_text() == "127.0.0.1 localhost\n"
    assert sorted(os.listdir(str(site.config_dir))) == ["curlrc", "eeszt.env", "openssl.cnf", "tls"]
    assert mode(site.config_dir / "curlrc") == 0o644
    curlrc = (site.config_dir / "curlrc").read_text()
    assert "proxy = " not in curlrc and "proxy-user" not in curlrc and "noproxy" not in curlrc
    assert "HTTPS_PROXY=" not in (site.config_dir / "eeszt.env").read_text()

    only_curl = site.configure(eeszt_tls_client_files=["curl"], **trust)
    assert only_curl.ok, only_curl.output
    assert sorted(os.listdir(str(site.config_dir))) == ["curlrc", "tls"]


def test_clock_skew_warns_or_fails(lab, site, tmp_path):
    # The site's clock runs 2 hours ahead: its Python (the interpreter of the one module run that writes
    # the files and reads the site's clock) sees time.time() shifted.
    fake = tmp_path / "fake-clock"
    fake.mkdir()
    (fake / "sitecustomize.py").write_text(
        "import time\n_real_time = time.time\ntime.time = lambda: _real_time() + 7200\n")
    interpreter = tmp_path / "python-ahead"
    interpreter.write_text('#!/bin/sh\nPYTHONPATH="%s${PYTHONPATH:+:$PYTHONPATH}" exec "%s" "$@"\n'
                           % (fake, sys.executable))
    interpreter.chmod(0o755)
    ahead = dict(ansible_python_interpreter=str(interpreter))

    warned = site.configure(**ahead)
    assert warned.ok, warned.output
    assert "ahead of the controller" in warned.stderr + warned.stdout
    failed = site.configure(eeszt_tls_clock_skew_action="fail", **ahead)
    assert not failed.ok
    assert re.search(r"the site's clock is 7(199|200) s ahead of the controller's \(limit 60 s\)",
                     failed.stdout), failed.output
    relaxed = site.configure(eeszt_tls_clock_skew_action="fail", eeszt_tls_clock_skew_max=10000, **ahead)
    assert relaxed.ok, relaxed.output
    unchecked = site.configure(eeszt_tls_clock_check=False, **ahead)
    assert unchecked.ok and "ahead of the controller" not in unchecked.stderr + unchecked.stdout, unchecked.output


def test_bad_ca_bundle_is_refused_before_the_site_is_touched(lab, site, tmp_path):
    not_ca = site.cert_dir / "cert.pem"
    result = site.configure(eeszt_tls_ca_bundle_src=str(not_ca))
    assert not result.ok
    assert "is not a CA certificate" in result.stdout and str(not_ca) in result.stdout, result.output
    assert not (site.config_dir / "curlrc").exists() and not site.bundle.exists()

    with_key = tmp_path / "with-key.pem"
    with_key.write_text((lab.pki / "eeszt-ca-bundle.pem").read_text() + (site.cert_dir / "key.pem").read_text())
    result = site.configure(eeszt_tls_ca_bundle_src=str(with_key))
    assert not result.ok and "contains a private key" in result.stdout, result.output
    assert (site.cert_dir / "key.pem").read_text().splitlines()[1] not in result.stdout
