# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the TLS client configuration (role eeszt.connect.tls_client) on every site.

The files are in place with their owner, group and mode; the CA bundle is the
lab's server CA bundle; the hosts block maps the second WAF name to the WAF
container; and the configuration really works against the nginx lab WAF
(which demands a client certificate): curl with only the written curlrc,
and plain HTTP on loopback through the stunnel gateway. The WAF reports the
serial of the client certificate it verified (X-Client-Serial), which must be
the site's own.
"""

import json
import os
import pathlib

import pytest
import testinfra.utils.ansible_runner
from cryptography.hazmat.primitives.serialization import pkcs12

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("eeszt_sites")

LAB = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "lab"
CONFIG_DIR = "/etc/eeszt"
CA_BUNDLE = "/etc/eeszt/tls/eeszt-ca.pem"
# Endpoint name -> (loopback port of the gateway, method, URL of the WAF).
GATEWAY = {
    "health": (18080, "GET", "https://waf/health"),
    "soap": (18081, "POST", "https://waf.eeszt-lab.test/soap"),
}
# Every wait on the network is bounded.
CURL = "curl --silent --show-error --max-time 10 --output /dev/null --dump-header -"


# Runs on the site with its python3: stat and text of each file, the
# addresses of both WAF names, the listening TCP sockets.
READ_SITE = r"""
import grp, json, os, pwd, socket, stat, subprocess, sys
out = {"files": {}, "resolve": {}}
for path in sys.argv[1:]:
    st = os.stat(path)
    out["files"][path] = {"user": pwd.getpwuid(st.st_uid).pw_name, "group": grp.getgrgid(st.st_gid).gr_name,
                          "mode": stat.S_IMODE(st.st_mode), "text": open(path).read()}
for name in ("waf", "waf.eeszt-lab.test"):
    out["resolve"][name] = sorted({a[4][0] for a in socket.getaddrinfo(name, 443, socket.AF_INET)})
out["listen"] = subprocess.run(["ss", "-Hltnp"], stdout=subprocess.PIPE, universal_newlines=True).stdout
json.dump(out, sys.stdout)
"""
FILES = ["eeszt.env", "openssl.cnf", "curlrc", "java.properties", "stunnel-gateway.conf"]
_SITES = {}


class Site:
    """One site: its inventory variables, files, resolver and sockets (one docker exec)."""

    def __init__(self, host):
        self.name = host.backend.get_hostname()
        self.variables = RUNNER.get_variables(self.name)
        paths = ["{0}/{1}".format(CONFIG_DIR, name) for name in FILES] + [CA_BUNDLE, "/etc/hosts"]
        state = json.loads(host.check_output("python3 -c %s " + " ".join(["%s"] * len(paths)), READ_SITE, *paths))
        self.files, self.resolve, self.listen = state["files"], state["resolve"], state["listen"]
        stem = LAB / "pki" / "sites" / "{0}-{1}".format(self.variables["eeszt_institution_id"], self.variables["eeszt_site_id"])
        password = stem.with_suffix(".password").read_text().strip().encode()
        cert = pkcs12.load_pkcs12(stem.with_suffix(".p12").read_bytes(), password).cert.certificate
        self.serial_number = cert.serial_number

    def file(self, name):
        return self.files[name if name.startswith("/") else "{0}/{1}".format(CONFIG_DIR, name)]


@pytest.fixture(name="site")
def fixture_site(host):
    name = host.backend.get_hostname()
    if name not in _SITES:
        _SITES[name] = Site(host)
    return _SITES[name]


def headers(text):
    """Status code and lower-cased header dict of a `curl --dump-header -` output."""
    lines = text.strip().splitlines()
    status = int(lines[0].split()[1])
    fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
    return status, {key.strip().lower(): value.strip() for key, value in fields.items()}


@pytest.mark.parametrize("name,secret", [
    ("eeszt.env", "proxy"),
    ("openssl.cnf", None),
    ("curlrc", "proxy"),
    ("java.properties", "always"),
])
def test_settings_files_owner_group_mode(site, name, secret):
    has_proxy_password = bool(site.variables.get("eeszt_tls_proxy_password"))
    expected = 0o640 if secret == "always" or (secret == "proxy" and has_proxy_password) else 0o644
    entry = site.file(name)
    assert (entry["user"], entry["group"]) == ("root", site.variables.get("eeszt_certificate_group") or "root")
    assert entry["mode"] == expected, oct(entry["mode"])
    # The header names the collection.
    assert "eeszt.connect" in "".join(entry["text"].splitlines()[:2])


def test_openssl_config_sets_minimum_protocol(site):
    lines = [line.strip() for line in site.file("openssl.cnf")["text"].splitlines()]
    assert "MinProtocol = TLSv1.2" in lines
    assert "openssl_conf = eeszt_openssl_init" in lines


def test_proxy_settings(site):
    variables = site.variables
    env, curlrc = site.file("eeszt.env")["text"], site.file("curlrc")["text"]
    proxy = variables.get("eeszt_tls_proxy")
    if not proxy:
        assert "PROXY" not in env and "proxy" not in curlrc
        return
    assert "NO_PROXY='{0}'".format(",".join(variables["eeszt_tls_no_proxy"])) in env
    assert 'proxy = "{0}"'.format(proxy) in curlrc
    assert 'proxy-user = "{0}:{1}"'.format(
        variables["eeszt_tls_proxy_username"], variables["eeszt_tls_proxy_password"]
    ) in curlrc


def test_ca_bundle_is_the_lab_server_ca_bundle(site):
    bundle = site.file(CA_BUNDLE)
    assert (bundle["user"], bundle["mode"]) == ("root", 0o644)
    assert bundle["text"].strip() == (LAB / "pki" / "eeszt-ca-bundle.pem").read_text().strip()


def test_hosts_block_points_at_the_waf(site):
    hosts = site.file("/etc/hosts")["text"]
    assert hosts.count("# BEGIN eeszt.connect tls_client: EESZT host names") == 1
    assert hosts.count("# END eeszt.connect tls_client: EESZT host names") == 1
    # The managed name resolves to the address Docker's DNS gives the WAF.
    assert site.resolve["waf"]
    assert site.resolve["waf.eeszt-lab.test"] == site.resolve["waf"]


def test_gateway_configuration(site):
    text = site.file("stunnel-gateway.conf")["text"]
    accepts = [line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("accept")]
    assert accepts == ["127.0.0.1:{0}".format(port) for port, dummy_method, dummy_url in GATEWAY.values()]


def test_gateway_listens_on_loopback_only(site):
    stunnel = sorted(line.split()[3] for line in site.listen.splitlines() if "stunnel" in line)
    assert stunnel == sorted("127.0.0.1:{0}".format(port) for port, dummy_method, dummy_url in GATEWAY.values())


@pytest.mark.parametrize("name", sorted(GATEWAY))
def test_gateway_forwards_with_the_client_certificate(host, site, name):
    port, method, dummy_url = GATEWAY[name]
    out = host.check_output(CURL + " --request %s http://127.0.0.1:%s/%s", method, str(port), name)
    status, fields = headers(out)
    assert status == 200
    # nginx prints $ssl_client_serial in whole bytes: compare as numbers.
    assert int(fields["x-client-serial"], 16) == site.serial_number


@pytest.mark.parametrize("name", sorted(GATEWAY))
def test_curl_with_the_written_config(host, site, name):
    dummy_port, method, url = GATEWAY[name]
    out = host.check_output(CURL + " --config %s/curlrc --request %s %s", CONFIG_DIR, method, url)
    status, fields = headers(out)
    assert status == 200
    # nginx prints $ssl_client_serial in whole bytes: compare as numbers.
    assert int(fields["x-client-serial"], 16) == site.serial_number


def test_waf_demands_a_client_certificate(host):
    # Same trust, no client certificate: nginx refuses the request, so the
    # passes above are due to the site's certificate.
    out = host.check_output(CURL + " --cacert %s https://waf/health", CA_BUNDLE)
    status, fields = headers(out)
    assert status == 400
    assert "x-client-serial" not in fields
