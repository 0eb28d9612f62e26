# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection check: dns -> tcp (direct or through an HTTP proxy) ->
tls (client certificate, verified server chain and name) -> http, each step
timed, the first failure classified into one category of DESIGN.md.

Standard library only; every wait is bounded by the endpoint's deadline.
Entry point: :func:`run_check`; its options come from ``check/endpoints.py``
(:func:`parse_endpoint`, :func:`parse_proxy`), its categories from the pure
classifiers in ``check/classify.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import errno
import re
import socket
import ssl
import time

from ansible_collections.eeszt.connect.plugins.module_utils.check.classify import (
    CONNECTION_CLOSED,
    classify_connect_error,
    classify_dns_error,
    classify_http_status,
    classify_tls_error,
    ssl_reason,
)
from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import StepFailure
from ansible_collections.eeszt.connect.plugins.module_utils.check.messages import describe
from ansible_collections.eeszt.connect.plugins.module_utils.pki.errors import CertificateParseError
from ansible_collections.eeszt.connect.plugins.module_utils.pki.x509 import (
    certificate_facts,
    iso,
    public_facts,
    read_pem_certificate,
)

TOOL_NAME = "eeszt.connect.connection_check"
# Kept equal to galaxy.yml's version (a unit test checks it).
TOOL_VERSION = "0.1.0"
USER_AGENT = "eeszt.connect-connection-check/%s" % TOOL_VERSION

STEPS = ("dns", "tcp", "tls", "http")
MAX_HEADER_BYTES = 65536
MAX_BODY_PEEK = 4096

_STATUS_LINE = re.compile(r"^HTTP/(\d)\.(\d) (\d{3})(?: (.*))?$")


def _ms(start):
    return round((time.monotonic() - start) * 1000.0, 1)


# --- steps ----------------------------------------------------------------------

class _Deadline:
    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self):
        return max(0.0, self.end - time.monotonic())


def _ip_literal_family(host):
    """AF_INET or AF_INET6 when host is an address literal, else None."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
            return family
        except (OSError, ValueError):
            continue
    return None


def resolve(host, port, timeout):
    """getaddrinfo bounded in time: [(family, sockaddr), ...] without duplicates."""
    literal = _ip_literal_family(host)
    if literal is not None:
        # An address needs no look-up (and no resolver start-up cost).
        sockaddr = (host, port) if literal == socket.AF_INET else (host, port, 0, 0)
        infos = [(literal, socket.SOCK_STREAM, 0, "", sockaddr)]
    else:
        import threading  # only names need a bounded look-up thread

        box = {}

        def work():
            try:
                box["value"] = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
            except Exception as exc:  # handed over to the caller's thread
                box["error"] = exc

        worker = threading.Thread(target=work, name="eeszt-check-dns")
        worker.daemon = True
        worker.start()
        worker.join(timeout)
        if worker.is_alive():
            raise socket.timeout("name resolution timed out")
        if "error" in box:
            raise box["error"]
        infos = box["value"]
    seen, result = set(), []
    for family, _type, _proto, _name, sockaddr in infos:
        if sockaddr[0] not in seen:
            seen.add(sockaddr[0])
            result.append((family, sockaddr))
    return result


def connect(addresses, deadline):
    """Connect to the first address that accepts; raises the last error."""
    last = None
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.settimeout(max(0.001, deadline.remaining()))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.connect(sockaddr)
            return sock, sockaddr
        except (OSError, socket.timeout) as exc:
            sock.close()
            last = exc
            if isinstance(exc, socket.timeout) or deadline.remaining() <= 0:
                break
    raise last if last is not None else socket.gaierror("no address")


def read_head(sock, deadline, limit=MAX_HEADER_BYTES):
    """Bytes up to the end of an HTTP header block (and whatever came with it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        if len(data) > limit:
            raise ValueError("header block larger than %d bytes" % limit)
        sock.settimeout(max(0.001, deadline.remaining()))
        chunk = sock.recv(16384)
        if not chunk:
            break
        data += chunk
    return data


def parse_status(head):
    """(status, reason, headers dict lower-case) of an HTTP response head; ValueError if not HTTP."""
    text = head.split(b"\r\n\r\n", 1)[0].decode("iso-8859-1")
    lines = text.split("\r\n")
    match = _STATUS_LINE.match(lines[0])
    if not match:
        raise ValueError("not an HTTP response: %r" % lines[0][:80])
    headers = {}
    for line in lines[1:]:
        key, sep, value = line.partition(":")
        if sep:
            headers[key.strip().lower()] = value.strip()
    return int(match.group(3)), (match.group(4) or "").strip(), headers


def proxy_connect(sock, proxy, endpoint, deadline):
    """CONNECT through the proxy; returns the proxy's status. StepFailure('proxy') unless 200."""
    authority = endpoint.host_header if endpoint.port != 443 else "%s:443" % endpoint.host_header
    lines = ["CONNECT %s HTTP/1.1" % authority, "Host: %s" % authority, "User-Agent: %s" % USER_AGENT]
    authorization = proxy.authorization()
    if authorization:
        lines.append("Proxy-Authorization: %s" % authorization)
    details = {"proxy": proxy.url, "proxy_auth": bool(authorization)}
    try:
        sock.settimeout(max(0.001, deadline.remaining()))
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        head = read_head(sock, deadline)
        status, reason, _headers = parse_status(head)
    except socket.timeout:
        raise StepFailure("proxy", "the proxy did not answer CONNECT in time", details)
    except (OSError, ValueError) as exc:
        raise StepFailure("proxy", "invalid answer to CONNECT: %s" % exc, details)
    details["proxy_status"] = status
    if status != 200:
        raise StepFailure("proxy", "HTTP %d %s" % (status, reason), details)
    return details


def _client_cert_rejected_on_close(sock, deadline, exc):
    """After a write failed, a TLS 1.3 server's alert may still be readable."""
    try:
        sock.settimeout(min(1.0, max(0.001, deadline.remaining())))
        sock.recv(1)
    except (OSError, ssl.SSLError) as read_exc:
        return read_exc
    return exc


def http_exchange(tls, endpoint, deadline):
    """Send the request, read the status; (details, failure or None)."""
    names = set(key.lower() for key, _value in endpoint.headers)
    defaults = [("User-Agent", USER_AGENT), ("Accept", "*/*")]
    head = ["%s %s HTTP/1.1" % (endpoint.method, endpoint.target), "Host: %s" % endpoint.host_header,
            "Connection: close"]
    head += ["%s: %s" % pair for pair in defaults if pair[0].lower() not in names]
    head += ["%s: %s" % pair for pair in endpoint.headers]
    body = endpoint.body if endpoint.body is not None else b""
    if endpoint.body is not None or endpoint.method in ("POST", "PUT", "PATCH"):
        head.append("Content-Length: %d" % len(body))
    request = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    details = {"method": endpoint.method, "path": endpoint.target, "expect_status": endpoint.expect_status,
               "request_headers": sorted(names), "request_bytes": len(request)}
    try:
        tls.settimeout(max(0.001, deadline.remaining()))
        try:
            tls.sendall(request)
        except CONNECTION_CLOSED as exc:
            raise _client_cert_rejected_on_close(tls, deadline, exc)
        data = read_head(tls, deadline)
        if not data:
            raise ConnectionResetError(errno.ECONNRESET, "connection closed without a response")
        status, reason, headers = parse_status(data)
    except (ssl.SSLError, socket.timeout, OSError) as exc:
        category, why = classify_tls_error(exc, after_handshake=True)
        if category == "timeout":
            why = "no HTTP response"
        raise StepFailure(category, why, details)
    except ValueError as exc:
        raise StepFailure("http_status", str(exc), details)
    details.update({"status": status, "reason_phrase": reason})
    if headers.get("server"):
        details["server"] = headers["server"][:100]
    peek = b""
    if status == 400:
        peek = data.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in data else b""
        try:
            while len(peek) < MAX_BODY_PEEK and deadline.remaining() > 0:
                tls.settimeout(max(0.001, min(1.0, deadline.remaining())))
                chunk = tls.recv(MAX_BODY_PEEK)
                if not chunk:
                    break
                peek += chunk
        except (OSError, ssl.SSLError):
            pass
    verdict = classify_http_status(status, endpoint.expect_status, peek)
    if verdict:
        raise StepFailure(verdict[0], verdict[1], details)
    return details


# --- the check ------------------------------------------------------------------

class Settings:
    """What the whole run needs besides the endpoints."""

    def __init__(self, client_cert, client_key, ca_bundle, proxy=None, language="en", now=None):
        self.client_cert = client_cert
        self.client_key = client_key
        self.ca_bundle = ca_bundle
        self.proxy = proxy
        self.language = language
        self.now = now


def _no_password():
    # An encrypted key fails to load instead of prompting on a terminal.
    return b""


def preflight(settings):
    """Client certificate facts and the TLS context, before any connection.
    Returns (facts or None, context or None, failure (category, reason, details) or None)."""
    now = settings.now or datetime.datetime.now(datetime.timezone.utc)
    try:
        facts = read_pem_certificate(settings.client_cert)
    except CertificateParseError as exc:
        return None, None, ("client_cert_invalid", str(exc), {"path": settings.client_cert})
    shown = public_facts(facts)
    if now < facts["not_before_dt"]:
        return shown, None, ("client_cert_invalid", "not valid before %s (now %s)" % (facts["not_before"], iso(now)),
                             {"not_before": facts["not_before"]})
    if now > facts["not_after_dt"]:
        return shown, None, ("client_cert_invalid", "expired on %s (now %s)" % (facts["not_after"], iso(now)),
                             {"not_after": facts["not_after"]})
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.post_handshake_auth = True
    try:
        context.load_cert_chain(settings.client_cert, settings.client_key, password=_no_password)
    except (ssl.SSLError, OSError) as exc:
        code = ssl_reason(exc) if isinstance(exc, ssl.SSLError) else None
        if code == "KEY_VALUES_MISMATCH":
            reason = "the key %s does not belong to the certificate" % settings.client_key
        elif isinstance(exc, ssl.SSLError):
            reason = "the key %s cannot be loaded (%s; encrypted keys are not supported)" % (
                settings.client_key, code or exc)
        else:
            reason = "cannot read %s" % (getattr(exc, "filename", None) or settings.client_key)
        return shown, None, ("client_cert_invalid", reason, {"path": settings.client_key})
    try:
        context.load_verify_locations(cafile=settings.ca_bundle)
    except (ssl.SSLError, OSError) as exc:
        return shown, None, ("tls_server_untrusted", "the CA bundle %s cannot be loaded (%s)" % (
            settings.ca_bundle, getattr(exc, "strerror", None) or ssl_reason(exc) or exc),
            {"path": settings.ca_bundle})
    return shown, context, None


def _step(steps, name, function, *args):
    start = time.monotonic()
    entry = {"name": name, "ok": False, "ms": 0.0, "details": {}}
    steps.append(entry)
    try:
        result = function(*args)
    except StepFailure as failure:
        entry["ms"] = _ms(start)
        entry["details"] = dict(failure.details, error=failure.reason, category=failure.category)
        raise
    entry["ms"] = _ms(start)
    entry["ok"] = True
    entry["details"] = result[1]
    return result[0]


def _dns(endpoint, proxy, deadline):
    host, port = (proxy.host, proxy.port) if proxy else (endpoint.host, endpoint.port)
    details = {"host": host}
    if proxy:
        details["via_proxy"] = True
    try:
        addresses = resolve(host, port, deadline.remaining())
    except (OSError, socket.timeout) as exc:
        category, reason = classify_dns_error(exc)
        if proxy:
            category, reason = "proxy", "the proxy name %s cannot be resolved: %s" % (host, reason)
        raise StepFailure(category, reason, details)
    details["addresses"] = [sockaddr[0] for _family, sockaddr in addresses]
    return addresses, details


def _tcp(endpoint, proxy, addresses, deadline):
    try:
        sock, sockaddr = connect(addresses, deadline)
    except (OSError, socket.timeout) as exc:
        category, reason = classify_connect_error(exc)
        details = {"port": proxy.port if proxy else endpoint.port}
        if proxy:
            details["proxy"] = proxy.url
            category, reason = "proxy", "cannot connect to the proxy: %s" % reason
        raise StepFailure(category, reason, details)
    details = {"address": sockaddr[0], "port": sockaddr[1]}
    if proxy:
        try:
            details.update(proxy_connect(sock, proxy, endpoint, deadline))
        except StepFailure:
            sock.close()
            raise
    return sock, details


def _tls(sock, endpoint, context, deadline):
    tls = context.wrap_socket(sock, server_hostname=endpoint.host, do_handshake_on_connect=False)
    try:
        tls.settimeout(max(0.001, deadline.remaining()))
        tls.do_handshake()
    except (ssl.SSLError, socket.timeout, OSError) as exc:
        tls.close()
        category, reason = classify_tls_error(exc)
        if category == "timeout":
            reason = "no TLS handshake"
        raise StepFailure(category, reason, {})
    cipher = tls.cipher()
    details = {"protocol": tls.version(), "cipher": cipher[0] if cipher else None}
    try:
        server = certificate_facts(tls.getpeercert(binary_form=True))
        details["server_certificate"] = dict((key, server[key]) for key in ("subject", "issuer", "not_after", "sha256"))
    except (CertificateParseError, TypeError) as exc:
        details["server_certificate"] = {"error": str(exc)}
    return tls, details


def check_endpoint(endpoint, settings, context):
    """Run the four steps against one endpoint; the endpoint's result dict."""
    proxy = settings.proxy if settings.proxy and settings.proxy.applies_to(endpoint.host) else None
    deadline = _Deadline(endpoint.timeout)
    steps = []
    result = {"name": endpoint.name, "url": endpoint.url, "method": endpoint.method,
              "expect_status": endpoint.expect_status, "passed": False, "steps": steps, "failure": None}
    if proxy is not None:
        # The proxy's URL without credentials (endpoints.parse_proxy): the report groups the sites behind one proxy.
        result["proxy"] = proxy.url
    start = time.monotonic()
    tls = sock = None
    try:
        addresses = _step(steps, "dns", _dns, endpoint, proxy, deadline)
        sock = _step(steps, "tcp", _tcp, endpoint, proxy, addresses, deadline)
        tls = _step(steps, "tls", _tls, sock, endpoint, context, deadline)
        _step(steps, "http", lambda: (None, http_exchange(tls, endpoint, deadline)))
        result["passed"] = True
    except StepFailure as failure:
        details = {"host": endpoint.host, "port": endpoint.port, "url": endpoint.url, "step": steps[-1]["name"],
                   "timeout": endpoint.timeout, "expected": endpoint.expect_status,
                   "proxy": proxy.url if proxy else None, "reason": failure.reason}
        details.update(failure.details)
        details["reason"] = failure.reason
        result["failure"] = make_failure(failure.category, settings.language, details, endpoint.name,
                                         steps[-1]["name"])
    finally:
        for item in (tls, sock):
            if item is not None:
                item.close()
    result["ms"] = _ms(start)
    return result


def make_failure(category, language, details, endpoint=None, step=None):
    message, hint = describe(category, language, details)
    return {"category": category, "endpoint": endpoint, "step": step, "message": message, "hint": hint,
            "reason": details.get("reason")}


def run_check(endpoints, settings):
    """The whole check. Returns {passed, started_at, finished_at, client_certificate,
    endpoints, failure}; never raises for a failing connection."""
    started = datetime.datetime.now(datetime.timezone.utc)
    facts, context, problem = preflight(settings)
    results = []
    failure = None
    if problem:
        category, reason, extra = problem
        details = dict(extra, reason=reason)
        failure = make_failure(category, settings.language, details, step="preflight")
        for endpoint in endpoints:
            results.append({"name": endpoint.name, "url": endpoint.url, "method": endpoint.method,
                            "expect_status": endpoint.expect_status, "passed": False, "steps": [],
                            "failure": failure, "ms": 0.0})
    else:
        for endpoint in endpoints:
            result = check_endpoint(endpoint, settings, context)
            results.append(result)
            if failure is None and result["failure"]:
                failure = result["failure"]
    finished = datetime.datetime.now(datetime.timezone.utc)
    return {
        "passed": failure is None and bool(results),
        "started_at": iso(started),
        "finished_at": iso(finished),
        "client_certificate": facts,
        "endpoints": results,
        "failure": failure,
    }
