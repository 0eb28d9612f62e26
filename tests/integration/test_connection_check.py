# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The connection check against real peers on 127.0.0.1.

Part 1 runs the module's check function against ``openssl s_server``, small
proxies and silent listeners: one test per failure category they can
produce, plus the good paths (TLS 1.3, TLS 1.2, through a proxy).
Part 2 uses the rehearsal lab's WAF (started with playbooks/lab.yml): an
unexpected HTTP status, an expired client certificate, a deny-listed
certificate (HTTP 403) and an unknown-CA one; then playbooks/check_connection.yml
on two sites, one good and one deny-listed.
"""

import hashlib
import json
import stat
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.module_utils.check.endpoints import parse_endpoint, parse_proxy
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import Settings, run_check
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import REQUIRED_FIELDS

import peers
import prom

SHORT = 1.5


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """Server CA (trusted), a rogue CA, two client CAs, and certificates from them."""
    directory = str(tmp_path_factory.mktemp("check-pki"))
    maker = peers.TestPKI(directory)

    class Material:
        pass

    m = Material()
    m.server_ca = maker.ca("server-ca", "Test EESZT Server CA")
    m.rogue_ca = maker.ca("rogue-ca", "Rogue CA")
    m.client_ca = maker.ca("client-ca", "Test WAF-SSL CA")
    m.other_client_ca = maker.ca("other-client-ca", "Another Client CA")
    m.server = maker.server("server", m.server_ca)
    m.rogue_server = maker.server("rogue-server", m.rogue_ca)
    m.wrong_name = maker.server("wrong-name", m.server_ca, dns=("other.example",), ips=())
    m.client = maker.client("client", m.client_ca)
    return m


def check(pki, url, timeout=5.0, proxy=None, language="en", **endpoint):
    endpoint = parse_endpoint(dict(endpoint, name="ep", url=url), timeout)
    settings = Settings(pki.client.cert_path, pki.client.key_path, pki.server_ca.cert_path, proxy, language)
    started = time.monotonic()
    result = run_check([endpoint], settings)
    result["elapsed"] = time.monotonic() - started
    return result


def verify_client(pki, *args):
    return ["-Verify", "1", "-verify_return_error", "-CAfile", pki.client_ca.cert_path] + list(args)


def assert_failed(result, category, step):
    assert result["passed"] is False
    failure = result["failure"]
    assert failure["category"] == category, failure
    assert failure["step"] == step, failure
    assert failure["message"] and failure["hint"]
    steps = result["endpoints"][0]["steps"]
    assert [s["name"] for s in steps] == ["dns", "tcp", "tls", "http"][:len(steps)]
    assert steps[-1]["ok"] is False and all(s["ok"] for s in steps[:-1])
    assert steps[-1]["details"]["category"] == category
    return failure


# --- part 1: openssl s_server and friends ---------------------------------------------

@pytest.mark.parametrize("version, protocol", [("-tls1_3", "TLSv1.3"), ("-tls1_2", "TLSv1.2")])
def test_good_path_openssl(pki, version, protocol):
    with peers.OpenSSLServer(pki.server.cert_path, pki.server.key_path, verify_client(pki, version)) as server:
        result = check(pki, server.url(path="/health"))
    assert result["passed"] is True, result["failure"]
    assert result["failure"] is None
    endpoint = result["endpoints"][0]
    assert endpoint["passed"] is True
    steps = {s["name"]: s for s in endpoint["steps"]}
    assert list(steps) == ["dns", "tcp", "tls", "http"]
    assert all(s["ok"] and s["ms"] >= 0 for s in steps.values())
    assert steps["dns"]["details"]["addresses"] == ["127.0.0.1"]
    assert steps["tls"]["details"]["protocol"] == protocol
    server_cert = steps["tls"]["details"]["server_certificate"]
    expected_fp = pki.server.cert.fingerprint(hashes.SHA256()).hex()
    assert server_cert["sha256"] == expected_fp
    assert server_cert["subject"] == pki.server.cert.subject.rfc4514_string()
    assert server_cert["issuer"] == pki.server_ca.cert.subject.rfc4514_string()
    assert steps["http"]["details"]["status"] == 200
    facts = result["client_certificate"]
    assert facts["sha256"] == pki.client.cert.fingerprint(hashes.SHA256()).hex()
    assert facts["serial"] == "%X" % pki.client.cert.serial_number


def test_host_name_through_resolver(pki):
    with peers.OpenSSLServer(pki.server.cert_path, pki.server.key_path, verify_client(pki)) as server:
        result = check(pki, server.url(host="localhost"))
    assert result["passed"] is True, result["failure"]
    assert "127.0.0.1" in result["endpoints"][0]["steps"][0]["details"]["addresses"]


def test_server_from_untrusted_ca(pki):
    with peers.OpenSSLServer(pki.rogue_server.cert_path, pki.rogue_server.key_path) as server:
        failure = assert_failed(check(pki, server.url()), "tls_server_untrusted", "tls")
    assert "X509 error 20" in failure["reason"]


@pytest.mark.parametrize("host, code", [("localhost", 62), ("127.0.0.1", 64)])
def test_host_name_mismatch(pki, host, code):
    with peers.OpenSSLServer(pki.wrong_name.cert_path, pki.wrong_name.key_path) as server:
        failure = assert_failed(check(pki, server.url(host=host)), "tls_hostname_mismatch", "tls")
    assert "X509 error %d" % code in failure["reason"]
    assert host in failure["message"]


@pytest.mark.parametrize("version, step", [
    # TLS 1.3: the handshake completes on the client's side; the server's alert
    # arrives on the first read.
    ("-tls1_3", "http"),
    # TLS 1.2: the alert comes inside the handshake.
    ("-tls1_2", "tls"),
])
def test_client_certificate_from_another_ca(pki, version, step):
    args = ["-Verify", "1", "-verify_return_error", "-CAfile", pki.other_client_ca.cert_path, version]
    with peers.OpenSSLServer(pki.server.cert_path, pki.server.key_path, args) as server:
        failure = assert_failed(check(pki, server.url()), "tls_client_cert_rejected", step)
    assert failure["reason"] == "TLS alert TLSV1_ALERT_UNKNOWN_CA"


def test_tls_version_the_client_refuses(pki):
    args = ["-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0"]
    with peers.OpenSSLServer(pki.server.cert_path, pki.server.key_path, args) as server:
        failure = assert_failed(check(pki, server.url()), "tls_protocol", "tls")
    assert "PROTOCOL_VERSION" in failure["reason"] or "UNSUPPORTED_PROTOCOL" in failure["reason"]


def test_plain_http_port_is_a_protocol_error(pki):
    with peers.PlainHTTP() as plain:
        failure = assert_failed(check(pki, "https://127.0.0.1:%d/" % plain.port), "tls_protocol", "tls")
    assert "WRONG_VERSION_NUMBER" in failure["reason"] or "RECORD_LAYER" in failure["reason"]


def test_port_closed(pki):
    result = check(pki, "https://127.0.0.1:%d/" % peers.closed_port())
    failure = assert_failed(result, "tcp_refused", "tcp")
    assert "ECONNREFUSED" in failure["reason"]
    assert result["elapsed"] < SHORT


def test_unresolvable_name(pki):
    failure = assert_failed(check(pki, "https://eeszt-check-test.invalid/"), "dns", "dns")
    assert "eeszt-check-test.invalid" in failure["message"]


@pytest.mark.parametrize("status", [403, 407])
def test_proxy_refuses_connect(pki, status):
    with peers.Proxy(status=status) as proxy:
        settings_proxy = parse_proxy("http://127.0.0.1:%d" % proxy.port, "site-user", "s3cret-proxy-pw")
        result = check(pki, "https://127.0.0.1:%d/" % peers.closed_port(), proxy=settings_proxy)
    failure = assert_failed(result, "proxy", "tcp")
    assert failure["reason"].startswith("HTTP %d" % status)
    assert result["endpoints"][0]["steps"][1]["details"]["proxy_status"] == status
    # The proxy got the credentials; the result never shows them.
    assert "Proxy-Authorization: Basic " in proxy.requests[0]
    dumped = json.dumps(result)
    assert "s3cret-proxy-pw" not in dumped and "site-user" not in dumped
    assert "c2l0ZS11c2Vy" not in dumped  # base64 of the user name


def test_good_path_through_proxy_with_credentials(pki):
    with peers.OpenSSLServer(pki.server.cert_path, pki.server.key_path, verify_client(pki)) as server, \
            peers.Proxy(status=200, credentials=("site-user", "pw")) as proxy:
        result = check(pki, server.url(), proxy=parse_proxy("http://127.0.0.1:%d" % proxy.port, "site-user", "pw"))
    assert result["passed"] is True, result["failure"]
    dns, tcp = result["endpoints"][0]["steps"][:2]
    assert dns["details"]["via_proxy"] is True
    assert tcp["details"]["proxy_status"] == 200 and tcp["details"]["proxy_auth"] is True
    assert proxy.requests[0].startswith("CONNECT 127.0.0.1:%d HTTP/1.1" % server.port)


def test_peer_that_never_answers(pki):
    with peers.BlackHole() as hole:
        result = check(pki, "https://127.0.0.1:%d/" % hole.port, timeout=1.0)
    failure = assert_failed(result, "timeout", "tls")
    assert "1.0" in failure["message"]
    assert 0.9 < result["elapsed"] < 1.0 + SHORT


def test_connect_that_never_completes(pki):
    with peers.FullBacklog() as full:
        result = check(pki, "https://127.0.0.1:%d/" % full.port, timeout=1.0)
    assert_failed(result, "tcp_timeout", "tcp")
    assert 0.9 < result["elapsed"] < 1.0 + SHORT


def test_hungarian_messages(pki):
    result = check(pki, "https://127.0.0.1:%d/" % peers.closed_port(), language="hu")
    failure = assert_failed(result, "tcp_refused", "tcp")
    assert "elutasította" in failure["message"]
    assert "tűzfal" in failure["hint"]


# --- part 2: the lab WAF ------------------------------------------------------------------

SITES = [("100001", "100001001"), ("100002", "10000200A")]


class LabSites:
    """A lab (PKI + WAF) and two simulated sites with their certificates installed."""

    def __init__(self, root, run_playbook, pick_port):
        self.root = root
        self.run_playbook = run_playbook
        self.lab_dir = root / "lab"
        self.pki = self.lab_dir / "pki"
        self.port = pick_port()
        self.denied = []

    def pems(self, relative, target):
        """Extract cert.pem/key.pem of a lab PFX into target; returns the certificate."""
        pfx = (self.pki / (relative + ".p12")).read_bytes()
        password = (self.pki / (relative + ".password")).read_bytes().strip()
        key, cert, _chain = pkcs12.load_key_and_certificates(pfx, password)
        target.mkdir(parents=True, exist_ok=True)
        (target / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_path = target / "key.pem"
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        (target / "eeszt-ca.pem").write_bytes((self.pki / "eeszt-ca-bundle.pem").read_bytes())
        return cert

    def site_dir(self, host):
        return self.root / "sites" / host

    def inventory(self, **group_vars):
        hosts = {}
        for index, (institution_id, site_id) in enumerate(SITES, 1):
            host = "site%02d" % index
            base = self.site_dir(host)
            hosts[host] = {
                "eeszt_institution_id": institution_id,
                "eeszt_site_id": site_id,
                "eeszt_certificate_dir": str(base / "tls"),
                "eeszt_tls_ca_bundle": str(base / "tls" / "eeszt-ca.pem"),
                "eeszt_check_proof_dir": str(base / "proofs"),
            }
        variables = {
            "ansible_connection": "local",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "eeszt_endpoints": [
                {"name": "health", "url": "https://localhost:%d/health" % self.port},
                {"name": "soap", "url": "https://127.0.0.1:%d/soap" % self.port, "method": "POST",
                 "headers": {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '"urn:test"'},
                 "body": '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                         '<soap:Body><Ping xmlns="urn:test"/></soap:Body></soap:Envelope>'},
            ],
        }
        variables.update(group_vars)
        path = self.root / "inventory.json"
        path.write_text(json.dumps({"all": {"children": {"eeszt_sites": {"hosts": hosts, "vars": variables}}}}))
        return path

    def lab(self, state="started"):
        return self.run_playbook("lab.yml", inventory=self.inventory(), extra_vars={
            "eeszt_lab_dir": str(self.lab_dir), "eeszt_lab_waf_port": self.port,
            "eeszt_lab_waf_denied": self.denied, "eeszt_lab_state": state})

    def settings(self, host, **kwargs):
        tls = self.site_dir(host) / "tls"
        return Settings(str(tls / "cert.pem"), str(tls / "key.pem"), str(tls / "eeszt-ca.pem"), **kwargs)

    def metrics_dir_var(self):
        """eeszt_check_metrics_dir for every site: metrics/ in the site's directory."""
        return str(self.root / "sites" / "{{ inventory_hostname }}" / "metrics")

    def metrics(self, host):
        """{file name: bytes} of the site's metrics directory."""
        directory = self.site_dir(host) / "metrics"
        return dict((p.name, p.read_bytes()) for p in directory.iterdir()) if directory.is_dir() else {}

    def proofs(self, host):
        directory = self.site_dir(host) / "proofs"
        return sorted(directory.glob("*.json")) if directory.is_dir() else []


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port):
    lab = LabSites(tmp_path_factory.mktemp("check-lab"), run_playbook, pick_port)
    build_lab_pki(str(lab.lab_dir), [{"institution_id": i, "site_id": s} for i, s in SITES])
    lab.pems("sites/100001-100001001", lab.site_dir("site01") / "tls")
    denied = lab.pems("sites/100002-10000200A", lab.site_dir("site02") / "tls")
    lab.denied = [denied.fingerprint(hashes.SHA256()).hex()]
    result = lab.lab()
    assert result.ok, result.output
    yield lab
    result = lab.lab("stopped")
    assert result.ok, result.output


def lab_check(lab, host, url_path="/health", **kwargs):
    endpoint = parse_endpoint({"name": "ep", "url": "https://127.0.0.1:%d%s" % (lab.port, url_path)}, 5.0)
    return run_check([endpoint], lab.settings(host, **kwargs))


def test_lab_good_path(lab):
    result = lab_check(lab, "site01")
    assert result["passed"] is True, result["failure"]
    assert "100001" in result["client_certificate"]["subject"]


def test_lab_unexpected_http_status(lab):
    failure = assert_failed(lab_check(lab, "site01", "/nope"), "http_status", "http")
    assert failure["reason"] == "HTTP 404"
    assert "404" in failure["message"] and "200" in failure["message"]


def test_lab_denied_certificate_is_http_403(lab):
    failure = assert_failed(lab_check(lab, "site02"), "tls_client_cert_rejected", "http")
    assert failure["reason"] == "HTTP 403 from the WAF"


@pytest.mark.parametrize("case, category, step", [
    ("expired", "client_cert_invalid", "preflight"),
    ("not-yet-valid", "client_cert_invalid", "preflight"),
    ("unknown-ca", "tls_client_cert_rejected", None),
])
def test_lab_bad_client_certificates(lab, case, category, step):
    target = lab.root / "cases" / case
    lab.pems("cases/" + case, target)
    endpoint = parse_endpoint({"name": "ep", "url": "https://127.0.0.1:%d/health" % lab.port}, 5.0)
    settings = Settings(str(target / "cert.pem"), str(target / "key.pem"), str(target / "eeszt-ca.pem"))
    result = run_check([endpoint], settings)
    assert result["passed"] is False
    assert result["failure"]["category"] == category, result["failure"]
    if step == "preflight":
        # Refused locally: no connection was tried.
        assert result["failure"]["step"] == "preflight"
        assert result["endpoints"][0]["steps"] == []
        assert result["client_certificate"]["sha256"]
    else:
        assert result["failure"]["step"] in ("tls", "http")


def load_proof(path, lab):
    data = path.read_bytes()
    assert b"PRIVATE KEY" not in data
    for secret in lab.pki.glob("sites/*.password"):
        assert secret.read_bytes().strip() not in data
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    document = json.loads(data)
    assert set(REQUIRED_FIELDS) <= set(document)
    return document, hashlib.sha256(data).hexdigest()


def test_role_good_site_and_denied_site(lab):
    result = lab.run_playbook("check_connection.yml", inventory=lab.inventory(
        eeszt_check_language="hu", eeszt_check_metrics_dir=lab.metrics_dir_var()))
    assert not result.ok
    assert result.recap["site01"]["failed"] == 0, result.output
    assert result.recap["site02"]["failed"] == 1, result.output
    assert result.recap["site01"]["changed"] == 0
    assert "[tls_client_cert_rejected]" in result.stdout
    assert "elutasította a kliens tanúsítványt" in result.stdout
    assert "100002/10000200A" in result.stdout
    # One task per site: the action fails the site itself, with the summary and a stable code.
    assert [line for line in result.stdout.splitlines() if line.startswith("TASK [eeszt.connect.connection_check")] \
        == ["TASK [eeszt.connect.connection_check : Check the connection to EESZT] **********"], result.output
    assert ('"msg": "EESZT connection check failed on site02 (100002/10000200A), endpoint health, step http: '
            '[tls_client_cert_rejected] ') in result.stdout, result.output
    assert '"error": "check_failed"' in result.stdout and '"stage": "check"' in result.stdout

    (good,) = lab.proofs("site01")
    (bad,) = lab.proofs("site02")
    document, _digest = load_proof(good, lab)
    assert good.name.endswith("_100001_100001001.json")
    assert document["schema"] == "eeszt.connect/proof/v1"
    assert document["passed"] is True and document["failure"] is None
    assert document["host"] == "site01" and document["environment"] == "test"
    assert [e["name"] for e in document["endpoints"]] == ["health", "soap"]
    assert all(e["passed"] for e in document["endpoints"])
    assert document["tool"]["name"] == "eeszt.connect.connection_check"
    assert set(document["client_certificate"]) >= {"subject", "issuer", "serial", "sha256", "not_after"}
    document, _digest = load_proof(bad, lab)
    assert document["passed"] is False
    assert document["failure"]["category"] == "tls_client_cert_rejected"

    # Metrics for node_exporter, the failing site's too, with its category.
    good_labels = 'institution="100001",site="100001001",environment="test"'
    bad_labels = 'institution="100002",site="10000200A",environment="test"'
    good_metrics = lab.metrics("site01")
    bad_metrics = lab.metrics("site02")
    assert list(good_metrics) == ["eeszt_check_100001_100001001_test.prom"]
    assert list(bad_metrics) == ["eeszt_check_100002_10000200A_test.prom"]
    good_text = good_metrics["eeszt_check_100001_100001001_test.prom"].decode()
    bad_text = bad_metrics["eeszt_check_100002_10000200A_test.prom"].decode()
    assert "eeszt_check_up{%s} 1\n" % good_labels in good_text
    assert "eeszt_check_failure" not in good_text
    assert "eeszt_check_up{%s} 0\n" % bad_labels in bad_text
    assert 'eeszt_check_failure{%s,category="tls_client_cert_rejected",step="http",endpoint="health"} 1\n' \
        % bad_labels in bad_text
    assert "eeszt_check_last_success_timestamp_seconds" not in bad_text
    for host in ("site01", "site02"):
        path = lab.site_dir(host) / "metrics" / next(iter(lab.metrics(host)))
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        prom.check_metrics(path)


def test_role_without_failing_and_in_check_mode(lab):
    before = {host: lab.proofs(host) for host in ("site01", "site02")}
    metrics_before = {host: lab.metrics(host) for host in ("site01", "site02")}
    result = lab.run_playbook("check_connection.yml", inventory=lab.inventory(
        eeszt_check_fail_on_error=False, eeszt_check_metrics_dir=lab.metrics_dir_var()), args=["--check"])
    assert result.ok, result.output
    assert result.recap["site02"]["failed"] == 0 and result.recap["site02"]["changed"] == 0
    # Without eeszt_check_fail_on_error the summary is a warning (stderr) and the site goes on.
    warnings = " ".join(result.stderr.split())
    assert ("[WARNING]: EESZT connection check failed on site02 (100002/10000200A), endpoint health, step http: "
            "[tls_client_cert_rejected] ") in warnings, result.output
    assert "failed on site01" not in warnings
    # Check mode probes but writes no proof and no metrics.
    assert {host: lab.proofs(host) for host in before} == before
    assert {host: lab.metrics(host) for host in metrics_before} == metrics_before
