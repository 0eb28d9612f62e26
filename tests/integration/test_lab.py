# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rehearsal lab end to end: playbooks/lab.yml brings up the lab PKI and
the lab WAF, and a client built from Python's ssl module only (no project
code) shows that the WAF accepts a good site certificate and refuses every
bad one, serves concurrent clients, logs its requests, is idempotent, fails
clearly on a taken port, and goes down cleanly.

The tests of this module share one lab and run in file order.
"""

import concurrent.futures
import json
import os
import re
import signal
import socket
import ssl
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12

HOST = "127.0.0.1"
IO_TIMEOUT = 10
SITES = [("100001", "100001001"), ("100002", "10000200A")]
GOOD_SITE = "100001-100001001"
DENIED_SITE = "100002-10000200A"
SOAP_REQUEST = (
    b'<?xml version="1.0" encoding="utf-8"?>'
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soap:Body><Ping xmlns="urn:test"/></soap:Body></soap:Envelope>'
)
# Bad cases of the lab PKI that the WAF must refuse in the TLS handshake,
# with the manifest's expectation for each.
REFUSED_CASES = {
    "expired": "expired",
    "not-yet-valid": "not_yet_valid",
    "unknown-ca": "unknown_ca",
    "no-client-auth": "no_client_auth",
}


class Lab:
    """The lab of this test module: its directory, inventory, port and variables."""

    def __init__(self, root, run_playbook, pick_port, site_inventory):
        self.root = root
        self.run_playbook = run_playbook
        self.dir = root / "lab"
        self.pki = self.dir / "pki"
        self.waf = self.dir / "waf"
        self.port = pick_port()
        self.inventory = site_inventory(root / "hosts.ini", SITES)
        self.denied = []
        self.client_cert = "required"
        self.material = root / "client"
        self.material.mkdir()

    def extra_vars(self, **overrides):
        values = {
            "eeszt_lab_dir": str(self.dir),
            "eeszt_lab_waf_port": self.port,
            "eeszt_lab_waf_denied": self.denied,
            "eeszt_lab_waf_client_cert": self.client_cert,
        }
        values.update(overrides)
        return values

    def playbook(self, **overrides):
        return self.run_playbook("lab.yml", inventory=self.inventory, extra_vars=self.extra_vars(**overrides))

    def pid(self):
        path = self.waf / "waf.pid"
        return int(path.read_text()) if path.exists() else None

    def client_pems(self, relative):
        """(cert chain PEM path, key PEM path) extracted from a lab PFX with cryptography."""
        pfx = self.pki / (relative + ".p12")
        password = (self.pki / (relative + ".password")).read_bytes().strip()
        key, cert, chain = pkcs12.load_key_and_certificates(pfx.read_bytes(), password)
        name = relative.replace("/", "_")
        cert_path, key_path = self.material / (name + ".crt"), self.material / (name + ".key")
        cert_path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert] + list(chain or [])))
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
        return str(cert_path), str(key_path), cert

    def context(self, relative=None):
        """Client context trusting the lab's server CA, with a client certificate when given."""
        context = ssl.create_default_context(cafile=str(self.pki / "eeszt-ca-bundle.pem"))
        if relative:
            cert_path, key_path, _cert = self.client_pems(relative)
            context.load_cert_chain(cert_path, key_path)
        return context


def port_free(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
        return True


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open("/proc/%d/stat" % pid) as handle:
        return handle.read().rsplit(")", 1)[1].split()[0] != "Z"


def http_request(context, port, method="GET", path="/health", body=None, headers=None):
    """One HTTPS request with the ssl module. Returns ("http", status, headers, body),
    or ("tls", exception) when TLS refused the connection (in the handshake or at the
    first read, where a TLS 1.3 client sees the server's alert)."""
    lines = ["%s %s HTTP/1.1" % (method, path), "Host: %s:%d" % (HOST, port), "Connection: close"]
    for name, value in (headers or {}).items():
        lines.append("%s: %s" % (name, value))
    if body is not None:
        lines.append("Content-Length: %d" % len(body))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")
    try:
        with socket.create_connection((HOST, port), timeout=IO_TIMEOUT) as raw:
            with context.wrap_socket(raw, server_hostname=HOST) as conn:
                conn.sendall(data)
                response = b""
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    response += chunk
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as exc:
        return ("tls", exc)
    head, _sep, payload = response.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("iso-8859-1").split("\r\n")
    parsed = {}
    for line in header_lines:
        name, _sep, value = line.partition(":")
        parsed[name.strip().lower()] = value.strip()
    return ("http", int(status_line.split()[1]), parsed, payload)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, site_inventory):
    lab = Lab(tmp_path_factory.mktemp("lab-test"), run_playbook, pick_port, site_inventory)
    yield lab
    # Whatever happened, leave no WAF running.
    if lab.pid() is not None:
        result = lab.playbook(eeszt_lab_state="stopped")
        pid = lab.pid()
        if pid is not None and pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        assert result.ok, result.output


def test_lab_comes_up(lab):
    result = lab.playbook()
    assert result.ok, result.output
    assert result.changed() > 0
    assert "https://%s:%d/" % (HOST, lab.port) in result.stdout
    assert pid_alive(lab.pid())
    manifest = json.loads((lab.pki / "manifest.json").read_text())
    assert {(s["institution_id"], s["site_id"]) for s in manifest["sites"]} == set(SITES)
    for site in SITES:
        assert (lab.pki / "sites" / ("%s-%s.p12" % site)).is_file()
        assert (lab.pki / "sites" / ("%s-%s.password" % site)).stat().st_mode & 0o777 == 0o600


def test_good_site_health(lab):
    outcome = http_request(lab.context("sites/" + GOOD_SITE), lab.port)
    assert outcome[0] == "http", outcome
    _kind, status, headers, body = outcome
    assert status == 200
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["status"] == "ok"
    assert "CN=100001" in document["client_subject"]


def test_good_site_soap(lab):
    context = lab.context("sites/" + GOOD_SITE)
    _kind, status, headers, body = http_request(context, lab.port, "POST", "/soap", SOAP_REQUEST,
                                                {"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
    assert status == 200
    assert headers["content-type"].startswith("text/xml")
    assert b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">' in body
    assert b"<status>OK</status>" in body
    # Not a SOAP envelope: a SOAP fault with 400; wrong method: 405; unknown path: 404.
    assert http_request(context, lab.port, "POST", "/soap", b"hello", {"Content-Type": "text/plain"})[1] == 400
    assert http_request(context, lab.port, "GET", "/soap")[1] == 405
    assert http_request(context, lab.port, "GET", "/nothing-here")[1] == 404


@pytest.mark.parametrize("case", sorted(REFUSED_CASES))
def test_bad_client_certificate_refused_by_tls(lab, case):
    manifest = json.loads((lab.pki / "manifest.json").read_text())
    assert {c["name"]: c["expect"] for c in manifest["cases"]}[case] == REFUSED_CASES[case]
    outcome = http_request(lab.context("cases/" + case), lab.port)
    assert outcome[0] == "tls", "%s was not refused in TLS: %r" % (case, outcome)
    assert isinstance(outcome[1], ssl.SSLError), outcome


def test_no_client_certificate_refused_by_tls(lab):
    outcome = http_request(lab.context(None), lab.port)
    assert outcome[0] == "tls", outcome
    assert "CERTIFICATE_REQUIRED" in str(outcome[1]) or "HANDSHAKE_FAILURE" in str(outcome[1]), outcome


def test_concurrent_clients_while_a_slow_client_holds_a_connection(lab):
    context = lab.context("sites/" + GOOD_SITE)
    # One client connects and never says a word; another completes TLS and sends half a request.
    silent = socket.create_connection((HOST, lab.port), timeout=IO_TIMEOUT)
    slow = context.wrap_socket(socket.create_connection((HOST, lab.port), timeout=IO_TIMEOUT), server_hostname=HOST)
    try:
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: lab\r\n")
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=20) as pool:
            outcomes = list(pool.map(lambda _i: http_request(context, lab.port), range(20), timeout=60))
        elapsed = time.monotonic() - started
        assert [o[:2] for o in outcomes] == [("http", 200)] * 20
        assert elapsed < 15, elapsed
        # The slow client is still being served once it finishes its request.
        slow.sendall(b"Connection: close\r\n\r\n")
        assert slow.recv(65536).startswith(b"HTTP/1.1 200 ")
    finally:
        slow.close()
        silent.close()


def test_access_log_names_the_client(lab):
    _cert, _key, cert = lab.client_pems("sites/" + GOOD_SITE)
    fingerprint = cert.fingerprint(hashes.SHA256()).hex()
    common_name = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0].value
    records = [json.loads(line) for line in (lab.waf / "access.log").read_text().splitlines()]
    mine = [r for r in records if r.get("client_cert_sha256") == fingerprint]
    assert mine, records[-5:]
    record = mine[-1]
    assert "CN=%s" % common_name in record["client_cert_subject"]
    assert record["client_cert_serial"] == "%040x" % cert.serial_number or \
        int(record["client_cert_serial"], 16) == cert.serial_number
    assert record["tls_version"] in ("TLSv1.2", "TLSv1.3")
    assert {"time", "client", "method", "path", "status"} <= set(record)
    statuses = {(r["method"], r["path"], r["status"]) for r in mine}
    assert ("GET", "/health", 200) in statuses and ("POST", "/soap", 200) in statuses
    assert any(r["event"] == "tls_error" and "expired" in r["error"] for r in records)


def test_second_run_changes_nothing(lab):
    pid = lab.pid()
    result = lab.playbook()
    assert result.ok, result.output
    assert result.changed() == 0, result.output
    assert lab.pid() == pid


def test_reconfigured_lab_restarts_with_deny_list_and_optional_certificates(lab):
    pid = lab.pid()
    # Deny-list the second site's certificate by its SHA-256 fingerprint, and
    # let clients without a certificate through the handshake.
    _cert, _key, cert = lab.client_pems("sites/" + DENIED_SITE)
    lab.denied = [cert.fingerprint(hashes.SHA256()).hex()]
    lab.client_cert = "optional"
    result = lab.playbook()
    assert result.ok, result.output
    assert result.changed() > 0
    assert lab.pid() != pid and not pid_alive(pid)


def test_deny_listed_certificate_gets_403(lab):
    outcome = http_request(lab.context("sites/" + DENIED_SITE), lab.port)
    assert outcome[0] == "http", outcome
    assert outcome[1] == 403
    assert b"deny list" in outcome[3]
    assert http_request(lab.context("sites/" + GOOD_SITE), lab.port)[1] == 200


def test_optional_client_certificate_gives_403(lab):
    outcome = http_request(lab.context(None), lab.port)
    assert outcome[0] == "http" and outcome[1] == 403, outcome
    assert b"client certificate required" in outcome[3]
    # Bad certificates are still refused in the handshake.
    assert http_request(lab.context("cases/expired"), lab.port)[0] == "tls"


def test_taken_port_fails_clearly(lab):
    pid = lab.pid()
    assert (lab.dir / "rehearsal.yml").is_file()  # written by the lab that started
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((HOST, 0))
        other.listen(1)
        taken = other.getsockname()[1]
        result = lab.playbook(eeszt_lab_waf_port=taken)
    assert not result.ok, result.output
    assert "port %d" % taken in result.stdout and "eeszt_lab_waf_port" in result.stdout, result.output
    assert "EESZT_LAB_WAF_PORT" in result.stdout, result.output
    # The lab did not start on the port asked for: no rehearsal.yml is left to send a rehearsal there.
    assert not (lab.dir / "rehearsal.yml").exists()
    # The running lab WAF was left alone.
    assert lab.pid() == pid and pid_alive(pid)


def test_lab_goes_down(lab):
    pid = lab.pid()
    result = lab.playbook(eeszt_lab_state="stopped")
    assert result.ok, result.output
    assert result.changed() > 0
    assert not pid_alive(pid)
    assert not (lab.waf / "waf.pid").exists()
    assert port_free(lab.port)
    again = lab.playbook(eeszt_lab_state="stopped")
    assert again.ok and again.changed() == 0, again.output


def test_lab_removed_with_state_absent(lab):
    result = lab.playbook(eeszt_lab_state="absent")
    assert result.ok, result.output
    assert not lab.dir.exists()


def test_lab_without_inventory(run_playbook, lab_dir, free_port):
    """No inventory at all: state present builds a PKI without sites and installs the WAF, not started."""
    extra = {"eeszt_lab_dir": str(lab_dir), "eeszt_lab_waf_port": free_port, "eeszt_lab_state": "present"}
    result = run_playbook("lab.yml", inventory="localhost,", extra_vars=extra)
    assert result.ok, result.output
    manifest = json.loads((lab_dir / "pki" / "manifest.json").read_text())
    assert manifest["sites"] == []
    assert {c["name"] for c in manifest["cases"]} >= set(REFUSED_CASES)
    assert (lab_dir / "waf" / "waf.json").is_file()
    assert not (lab_dir / "waf" / "eeszt_lab_waf.py").exists()  # the server runs from the collection
    assert not (lab_dir / "waf" / "waf.pid").exists()
    assert port_free(free_port)


@pytest.mark.parametrize("stale", [True, False], ids=["stale-rehearsal", "no-rehearsal"])
def test_a_lab_whose_port_is_taken_leaves_no_rehearsal(run_playbook, lab_dir, stale):
    """Issue 27 §9: a plain listening socket holds the lab's port (chosen with EESZT_LAB_WAF_PORT, as README says):
    the lab fails naming the port and EESZT_LAB_WAF_PORT, and no rehearsal.yml is left (an earlier one is removed),
    so that the next rehearsal does not talk to whatever holds the port."""
    rehearsal = lab_dir / "rehearsal.yml"
    if stale:
        rehearsal.write_text("---\n# written by an earlier lab\neeszt_endpoints: []\n")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind((HOST, 0))
        other.listen(1)
        taken = other.getsockname()[1]
        result = run_playbook("lab.yml", inventory="localhost,", extra_vars={"eeszt_lab_dir": str(lab_dir)},
                              env={"EESZT_LAB_WAF_PORT": str(taken)})
    assert not result.ok, result.output
    message = re.sub(r"\s+", " ", result.stdout)
    assert ("The lab WAF did not start, so no rehearsal.yml is left in %s: port %d on %s is already in use by another "
            "process; stop that process or choose another port (environment variable EESZT_LAB_WAF_PORT or variable "
            "eeszt_lab_waf_port, module option port)" % (lab_dir.resolve(), taken, HOST)) in message, result.output
    assert not rehearsal.exists()
    assert not (lab_dir / "waf" / "waf.pid").exists()
    assert (lab_dir / "pki" / "manifest.json").is_file()  # the PKI was built: only the WAF could not start
