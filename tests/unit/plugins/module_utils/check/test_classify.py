# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Classification, option parsing and the pre-flight of the connection check.

The classifiers get real exception objects: TLS errors come from real
handshakes between two ssl contexts over memory BIOs (no network), socket
errors from real connects and look-ups on 127.0.0.1 and ``.invalid``.

Named after check/classify.py, which it mostly tests; it also tests check/endpoints.py (option parsing),
check/probe.py (the pre-flight) and check/messages.py, sharing the lab PKI fixture (no clean cut).
"""

import datetime
import errno
import os
import pathlib
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check import messages as check_messages
from ansible_collections.eeszt.connect.plugins.module_utils.check import classify as check_classify
from ansible_collections.eeszt.connect.plugins.module_utils.check import probe as check_probe
from ansible_collections.eeszt.connect.plugins.module_utils.check.classify import (
    classify_connect_error,
    classify_dns_error,
    classify_http_status,
    classify_tls_error,
)
from ansible_collections.eeszt.connect.plugins.module_utils.check.endpoints import parse_endpoint, parse_proxy
from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import CheckConfigError
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import Settings, preflight

UTC = datetime.timezone.utc
DESIGN_CATEGORIES = {"dns", "tcp_refused", "tcp_timeout", "proxy", "tls_server_untrusted", "tls_hostname_mismatch",
                     "tls_client_cert_rejected", "tls_protocol", "http_status", "timeout", "client_cert_invalid"}
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))


class Pair:
    def __init__(self, directory, name, cert, key):
        self.cert, self.key = cert, key
        self.cert_path = str(directory / (name + ".pem"))
        self.key_path = str(directory / (name + ".key"))
        with open(self.cert_path, "wb") as handle:
            handle.write(cert.public_bytes(serialization.Encoding.PEM))
        with open(self.key_path, "wb") as handle:
            handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))


def issue(directory, name, issuer=None, ca=False, dns=(), client=False, days=(-1, 30)):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer.cert.subject if issuer else subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now + datetime.timedelta(days=days[0]))
               .not_valid_after(now + datetime.timedelta(days=days[1]))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if dns:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns]), critical=False)
    if not ca:
        builder = builder.add_extension(x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
    return Pair(directory, name, builder.sign(issuer.key if issuer else key, hashes.SHA256()), key)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    directory = tmp_path_factory.mktemp("pki")

    class PKI:
        server_ca = issue(directory, "server-ca", ca=True)
        client_ca = issue(directory, "client-ca", ca=True)
        other_ca = issue(directory, "other-ca", ca=True)
    PKI.server = issue(directory, "server", PKI.server_ca, dns=("eeszt.test",))
    PKI.client = issue(directory, "client", PKI.client_ca, client=True)
    PKI.expired = issue(directory, "expired", PKI.client_ca, client=True, days=(-30, -1))
    PKI.future = issue(directory, "future", PKI.client_ca, client=True, days=(2, 30))
    return PKI


def handshake(client_ctx, server_ctx, hostname, rounds=20):
    """Run a TLS handshake over memory BIOs; returns (client error, server error)."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _index in range(4))
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname=hostname)
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    errors = {"client": None, "server": None}
    done = {"client": False, "server": False}
    for _round in range(rounds):
        for side, obj, out, peer in (("client", client, c_out, s_in), ("server", server, s_out, c_in)):
            if not done[side] and errors[side] is None:
                try:
                    obj.do_handshake()
                    done[side] = True
                except ssl.SSLWantReadError:
                    pass
                except ssl.SSLError as exc:
                    errors[side] = exc
            data = out.read()
            if data:
                peer.write(data)
        if (done["client"] or errors["client"]) and (done["server"] or errors["server"]):
            break
    if done["client"] and errors["client"] is None:
        # TLS 1.3: the server's verdict on the client certificate arrives now.
        try:
            client.read(1)
        except ssl.SSLWantReadError:
            pass
        except ssl.SSLError as exc:
            errors["client"] = exc
    return errors["client"], errors["server"]


def contexts(pki, server_pair=None, client_ca=None, max_version=None):
    client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client.minimum_version = ssl.TLSVersion.TLSv1_2
    client.load_verify_locations(pki.server_ca.cert_path)
    client.load_cert_chain(pki.client.cert_path, pki.client.key_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    pair = server_pair or pki.server
    server.load_cert_chain(pair.cert_path, pair.key_path)
    if client_ca:
        server.verify_mode = ssl.CERT_REQUIRED
        server.load_verify_locations(client_ca.cert_path)
    if max_version:
        server.maximum_version = max_version
    return client, server


# --- TLS classification with real handshakes ----------------------------------------------

def test_good_handshake_has_no_error(pki):
    client, server = contexts(pki, client_ca=pki.client_ca)
    assert handshake(client, server, "eeszt.test") == (None, None)


def test_untrusted_server(pki):
    rogue = issue(pathlib.Path(os.path.dirname(pki.server.cert_path)), "rogue", pki.other_ca, dns=("eeszt.test",))
    client, server = contexts(pki, server_pair=rogue)
    error, _server_error = handshake(client, server, "eeszt.test")
    assert isinstance(error, ssl.SSLCertVerificationError)
    category, reason = classify_tls_error(error)
    assert category == "tls_server_untrusted"
    assert "X509 error 20" in reason


def test_host_name_mismatch(pki):
    client, server = contexts(pki)
    error, _server_error = handshake(client, server, "other.test")
    assert classify_tls_error(error)[0] == "tls_hostname_mismatch"


@pytest.mark.parametrize("version", [ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2])
def test_client_certificate_rejected(pki, version):
    client, server = contexts(pki, client_ca=pki.other_ca, max_version=version)
    error, server_error = handshake(client, server, "eeszt.test")
    assert server_error is not None
    assert check_classify.ssl_reason(error) == "TLSV1_ALERT_UNKNOWN_CA"
    # In TLS 1.3 the client sees it after the handshake, on its first read.
    assert classify_tls_error(error, after_handshake=version == ssl.TLSVersion.TLSv1_3) == (
        "tls_client_cert_rejected", "TLS alert TLSV1_ALERT_UNKNOWN_CA")


def test_protocol_version(pki):
    client, server = contexts(pki)
    client.minimum_version = ssl.TLSVersion.TLSv1_3
    server.maximum_version = ssl.TLSVersion.TLSv1_2
    error, _server_error = handshake(client, server, "eeszt.test")
    category, reason = classify_tls_error(error)
    assert category == "tls_protocol"
    assert reason in ("TLSV1_ALERT_PROTOCOL_VERSION", "UNSUPPORTED_PROTOCOL")


@pytest.mark.parametrize("reason", sorted(check_classify.CLIENT_CERT_ALERTS))
def test_every_client_certificate_alert(reason):
    error = ssl.SSLError(1, "[SSL: %s] tlsv13 alert (_ssl.c:2580)" % reason)
    assert classify_tls_error(error) == ("tls_client_cert_rejected", "TLS alert %s" % reason)


@pytest.mark.parametrize("exc", [ConnectionResetError(errno.ECONNRESET, "Connection reset by peer"),
                                 BrokenPipeError(errno.EPIPE, "Broken pipe"),
                                 ssl.SSLEOFError(8, "EOF occurred in violation of protocol")])
def test_connection_closed_after_and_during_handshake(exc):
    assert classify_tls_error(exc, after_handshake=True)[0] == "tls_client_cert_rejected"
    assert classify_tls_error(exc)[0] == "tls_protocol"


def test_timeouts_in_tls_and_http():
    assert classify_tls_error(socket.timeout("timed out"))[0] == "timeout"
    assert classify_tls_error(socket.timeout("timed out"), after_handshake=True)[0] == "timeout"


# --- socket-level classification ------------------------------------------------------------

def test_refused_connect_is_tcp_refused():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with socket.socket() as sock:
        sock.settimeout(2)
        with pytest.raises(OSError) as info:
            sock.connect(("127.0.0.1", port))
    category, reason = classify_connect_error(info.value)
    assert category == "tcp_refused" and "ECONNREFUSED" in reason


def test_connect_timeouts_and_unreachable():
    assert classify_connect_error(socket.timeout("timed out"))[0] == "tcp_timeout"
    assert classify_connect_error(OSError(errno.ETIMEDOUT, "Connection timed out"))[0] == "tcp_timeout"
    category, reason = classify_connect_error(OSError(errno.EHOSTUNREACH, os.strerror(errno.EHOSTUNREACH)))
    assert category == "tcp_unreachable" and "EHOSTUNREACH" in reason
    assert classify_connect_error(OSError(errno.ENETUNREACH, "x"))[0] == "tcp_unreachable"


def test_unresolvable_name_is_dns():
    with pytest.raises(socket.gaierror) as info:
        check_probe.resolve("no-such-host.invalid", 443, 5.0)
    category, reason = classify_dns_error(info.value)
    assert category == "dns" and reason
    assert classify_dns_error(socket.timeout("x")) == ("dns", "the resolver did not answer in time")


def test_resolve_literal_and_name():
    assert check_probe.resolve("127.0.0.1", 443, 1.0) == [(socket.AF_INET, ("127.0.0.1", 443))]
    assert ("127.0.0.1", 443) in [sockaddr[:2] for _family, sockaddr in check_probe.resolve("localhost", 443, 5.0)]


# --- HTTP ---------------------------------------------------------------------------------------

def test_http_status_classification():
    assert classify_http_status(200, 200) is None
    assert classify_http_status(404, 404) is None
    assert classify_http_status(404, 200) == ("http_status", "HTTP 404")
    assert classify_http_status(500, 200) == ("http_status", "HTTP 500")
    assert classify_http_status(403, 200) == ("tls_client_cert_rejected", "HTTP 403 from the WAF")
    assert classify_http_status(496, 200)[0] == "tls_client_cert_rejected"
    # nginx turns its 495/496 into 400 with a telling body.
    body = b"<html><center>The SSL certificate error</center></html>"
    assert classify_http_status(400, 200, body)[0] == "tls_client_cert_rejected"
    assert classify_http_status(400, 200, b"bad request")[0] == "http_status"


def test_parse_status():
    status, reason, headers = check_probe.parse_status(b"HTTP/1.1 403 Forbidden\r\nServer: waf\r\n\r\nbody")
    assert (status, reason, headers) == (403, "Forbidden", {"server": "waf"})
    with pytest.raises(ValueError):
        check_probe.parse_status(b"SSH-2.0-OpenSSH\r\n\r\n")


# --- options ---------------------------------------------------------------------------------------

def test_parse_endpoint_defaults_and_values():
    endpoint = parse_endpoint({"name": "soap", "url": "https://[::1]:8443/ws/soap?wsdl", "method": "post",
                               "headers": {"SOAPAction": '"x"'}, "body": "é", "timeout": 3}, 10)
    assert (endpoint.host, endpoint.port, endpoint.target, endpoint.method) == ("::1", 8443, "/ws/soap?wsdl", "POST")
    assert endpoint.host_header == "[::1]:8443"
    assert endpoint.body == "é".encode("utf-8") and endpoint.timeout == 3.0 and endpoint.expect_status == 200
    default = parse_endpoint({"name": "h", "url": "https://eeszt.test"}, 7)
    assert (default.port, default.target, default.host_header, default.timeout) == (443, "/", "eeszt.test", 7.0)


@pytest.mark.parametrize("spec, message", [
    ({"name": "x", "url": "http://eeszt.test/"}, "scheme must be https"),
    ({"name": "x", "url": "https://user:pw@eeszt.test/"}, "credentials"),
    ({"name": "x", "url": "https:///path"}, "no host"),
    ({"name": "x", "url": "https://eeszt.test:99999/"}, "invalid port"),
    ({"name": "x", "url": "https://eeszt.test/", "headers": {"X-A": "1\r\nInjected: yes"}}, "invalid header"),
    ({"name": "x", "url": "https://eeszt.test/", "headers": {"Host": "evil"}}, "set by the check"),
    ({"name": "x", "url": "https://eeszt.test/", "method": "GE T"}, "invalid method"),
    ({"name": "x", "url": "https://eeszt.test/", "expect_status": 999}, "100-599"),
    ({"url": "https://eeszt.test/"}, "name and a url"),
])
def test_parse_endpoint_rejects(spec, message):
    with pytest.raises(CheckConfigError, match=message):
        parse_endpoint(spec, 10)


def test_proxy_parsing_and_no_proxy():
    assert parse_proxy(None) is None
    proxy = parse_proxy("http://proxy.example.hu:3128", "user", "pw", [".lan", "localhost"])
    assert proxy.url == "http://proxy.example.hu:3128"
    assert proxy.authorization() == "Basic dXNlcjpwdw=="
    assert proxy.applies_to("example.hu") and not proxy.applies_to("host.lan")
    assert not proxy.applies_to("LOCALHOST") and proxy.applies_to("notlocalhost")
    assert parse_proxy("http://p:8080").authorization() is None
    with pytest.raises(CheckConfigError, match="credentials"):
        parse_proxy("http://user:pw@proxy:3128")
    with pytest.raises(CheckConfigError, match="scheme"):
        parse_proxy("https://proxy:3128")


# --- pre-flight ---------------------------------------------------------------------------------------

def settings(pki, pair=None, key=None, ca=None):
    pair = pair or pki.client
    return Settings(pair.cert_path, key or pair.key_path, ca or pki.server_ca.cert_path)


def test_preflight_good(pki):
    facts, context, problem = preflight(settings(pki))
    assert problem is None and isinstance(context, ssl.SSLContext)
    assert facts["sha256"] == pki.client.cert.fingerprint(hashes.SHA256()).hex()
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2 and context.check_hostname


@pytest.mark.parametrize("which, reason", [("expired", "expired on"), ("future", "not valid before")])
def test_preflight_validity(pki, which, reason):
    facts, context, problem = preflight(settings(pki, getattr(pki, which)))
    assert context is None and problem[0] == "client_cert_invalid" and problem[1].startswith(reason)
    assert facts["serial"]


def test_preflight_validity_uses_the_given_clock(pki):
    later = datetime.datetime.now(UTC) + datetime.timedelta(days=60)
    check = settings(pki)
    check.now = later
    assert preflight(check)[2][0] == "client_cert_invalid"


def test_preflight_key_problems(pki, tmp_path):
    assert "does not belong" in preflight(settings(pki, key=pki.future.key_path))[2][1]
    assert preflight(settings(pki, key=str(tmp_path / "none.key")))[2][0] == "client_cert_invalid"
    encrypted = tmp_path / "encrypted.key"
    encrypted.write_bytes(pki.client.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"secret-pass")))
    problem = preflight(settings(pki, key=str(encrypted)))[2]
    assert problem[0] == "client_cert_invalid" and "encrypted keys are not supported" in problem[1]


def test_preflight_certificate_and_bundle_problems(pki, tmp_path):
    missing = Settings(str(tmp_path / "none.pem"), pki.client.key_path, pki.server_ca.cert_path)
    facts, _context, problem = preflight(missing)
    assert facts is None and problem[0] == "client_cert_invalid"
    problem = preflight(settings(pki, ca=str(tmp_path / "none-ca.pem")))[2]
    assert problem[0] == "tls_server_untrusted" and "CA bundle" in problem[1]


# --- messages --------------------------------------------------------------------------------------------

def test_every_category_has_both_languages():
    assert DESIGN_CATEGORIES <= set(check_messages.CATEGORIES)
    for category, texts in check_messages.CATEGORIES.items():
        assert set(texts) == set(check_messages.LANGUAGES), category
        for language in check_messages.LANGUAGES:
            message, hint = check_messages.describe(category, language, {})
            assert message and hint


def test_messages_are_filled_in():
    message, hint = check_messages.describe("http_status", "hu", {"url": "https://x/", "status": 404,
                                                                  "expected": 200})
    assert message == "A(z) https://x/ HTTP 404 választ adott, 200 helyett."
    assert "útvonalát" in hint
    message, _hint = check_messages.describe("dns", "en", {"host": "x.invalid", "reason": None})
    assert message == "The name x.invalid cannot be resolved: ?."


def test_tool_version_follows_galaxy_yml():
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = [line.split(":", 1)[1].strip() for line in handle if line.startswith("version:")][0]
    assert check_probe.TOOL_VERSION == version.strip("'\"")
