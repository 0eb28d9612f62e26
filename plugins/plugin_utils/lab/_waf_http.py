# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP side of the rehearsal lab WAF (``waf_server``): one handler per TLS connection, the deny list,
the health and SOAP paths, and the JSON-lines access log.

Python standard library only, like ``waf_server``, which imports it: the server runs standalone with the
controller's Python (``python -m ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf_server``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import hashlib
import http.server
import json
import os
import sys
import threading
import uuid
from xml.etree import ElementTree
from xml.sax.saxutils import escape as xml_escape

SERVICE = "eeszt-lab-waf"
VERSION = "1.0.0"

SOAP_NAMESPACES = (
    "http://schemas.xmlsoap.org/soap/envelope/",
    "http://www.w3.org/2003/05/soap-envelope",
)
SUBJECT_SHORT_NAMES = {
    "commonName": "CN",
    "organizationName": "O",
    "organizationalUnitName": "OU",
    "countryName": "C",
    "localityName": "L",
    "stateOrProvinceName": "ST",
    "streetAddress": "STREET",
    "domainComponent": "DC",
    "userId": "UID",
}


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def format_subject(subject):
    """RFC 4514-like string (most specific first) from ``getpeercert()``."""
    parts = []
    for rdn in reversed(subject or ()):
        values = []
        for name, value in rdn:
            value = value.replace("\\", "\\\\").replace(",", "\\,").replace("+", "\\+")
            values.append("%s=%s" % (SUBJECT_SHORT_NAMES.get(name, name), value))
        parts.append("+".join(values))
    return ",".join(parts)


class AccessLog(object):
    """Thread-safe JSON-lines writer."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        directory = os.path.dirname(path)
        if directory and not os.path.isdir(directory):
            os.makedirs(directory, 0o700)
        self.handle = open(path, "a", buffering=1)

    def write(self, record):
        line = json.dumps(record, sort_keys=True, separators=(",", ":"))
        with self.lock:
            self.handle.write(line + "\n")

    def close(self):
        with self.lock:
            self.handle.close()


class PeerInfo(object):
    """What the WAF knows about the client of one TLS connection."""

    def __init__(self, conn):
        self.tls_version = conn.version()
        self.cipher = (conn.cipher() or (None,))[0]
        der = conn.getpeercert(binary_form=True)
        details = conn.getpeercert() if der else None
        self.present = bool(der)
        self.sha256 = hashlib.sha256(der).hexdigest() if der else None
        self.subject = format_subject(details.get("subject")) if details else None
        self.issuer = format_subject(details.get("issuer")) if details else None
        self.serial = details.get("serialNumber", "").lower() if details else None
        self.not_after = details.get("notAfter") if details else None

    def as_log(self):
        return {
            "client_cert_subject": self.subject,
            "client_cert_issuer": self.issuer,
            "client_cert_serial": self.serial,
            "client_cert_sha256": self.sha256,
            "tls_version": self.tls_version,
        }


class LabWafHandler(http.server.BaseHTTPRequestHandler):
    """One TLS connection (possibly several keep-alive requests)."""

    server_version = "%s/%s" % (SERVICE, VERSION)
    sys_version = ""
    protocol_version = "HTTP/1.1"
    # The socket timeout is set by the server after the handshake.
    timeout = None

    def __init__(self, request, client_address, server, peer):
        self.peer = peer
        self.request_id = None
        super(LabWafHandler, self).__init__(request, client_address, server)

    # -- logging -------------------------------------------------------------

    def log_request(self, code="-", size="-"):
        record = {
            "time": utcnow(),
            "event": "request",
            "request_id": self.request_id,
            "client": "%s:%s" % self.client_address[:2],
            "method": getattr(self, "command", None),
            "path": getattr(self, "path", None),
            "status": None,
        }
        try:
            record["status"] = int(code)
        except (TypeError, ValueError):
            pass
        record.update(self.peer.as_log())
        self.server.access_log.write(record)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s:%s %s\n" % (utcnow(), self.client_address[0], self.client_address[1], format % args))

    # -- responses -----------------------------------------------------------

    def respond(self, status, body, content_type="text/plain; charset=utf-8", headers=None, close=False):
        payload = body.encode("utf-8") if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("X-Request-Id", self.request_id)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def denial_reason(self):
        """Why the WAF answers 403 to this client, or None."""
        peer = self.peer
        if not peer.present:
            return "client certificate required"
        if peer.sha256 in self.server.config["denied_sha256"]:
            return "client certificate is not trusted (deny list, sha256 %s)" % peer.sha256
        if (peer.serial or "").lstrip("0") in self.server.config["denied_serials"]:
            return "client certificate is not trusted (deny list, serial %s)" % peer.serial
        return None

    def dispatch(self):
        self.request_id = uuid.uuid4().hex
        reason = self.denial_reason()
        if reason:
            self.discard_body()
            self.respond(403, "403 Forbidden: %s\n" % reason, close=True)
            return
        path = self.path.split("?", 1)[0]
        config = self.server.config
        if path == config["health_path"]:
            if self.command in ("GET", "HEAD"):
                self.health()
            else:
                self.discard_body()
                self.respond(405, "405 Method Not Allowed\n", headers={"Allow": "GET, HEAD"})
        elif path == config["soap_path"]:
            if self.command == "POST":
                self.soap()
            else:
                self.discard_body()
                self.respond(405, "405 Method Not Allowed\n", headers={"Allow": "POST"})
        else:
            self.discard_body()
            self.respond(404, "404 Not Found\n")

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = dispatch

    def read_body(self):
        """Body of a request that declares Content-Length, or None after an error response."""
        if self.headers.get("Transfer-Encoding"):
            self.respond(411, "411 Length Required: chunked bodies are not accepted\n", close=True)
            return None
        length = self.headers.get("Content-Length")
        if length is None:
            self.respond(411, "411 Length Required\n", close=True)
            return None
        try:
            length = int(length)
        except ValueError:
            self.respond(400, "400 Bad Request: invalid Content-Length\n", close=True)
            return None
        if length < 0 or length > self.server.config["max_body_bytes"]:
            self.respond(413, "413 Payload Too Large\n", close=True)
            return None
        return self.rfile.read(length)

    def discard_body(self):
        length = self.headers.get("Content-Length")
        if length and length.isdigit() and int(length) <= self.server.config["max_body_bytes"]:
            self.rfile.read(int(length))
        elif length or self.headers.get("Transfer-Encoding"):
            self.close_connection = True

    def health(self):
        body = json.dumps({
            "status": "ok",
            "service": SERVICE,
            "time": utcnow(),
            "tls_version": self.peer.tls_version,
            "client_subject": self.peer.subject,
        }, sort_keys=True)
        self.respond(200, body + "\n", content_type="application/json")

    def soap(self):
        body = self.read_body()
        if body is None:
            return
        fault = self.soap_problem(body)
        if fault:
            self.respond(400, soap_envelope("<soap:Fault><faultcode>soap:Client</faultcode><faultstring>%s</faultstring></soap:Fault>"
                                            % xml_escape(fault)), content_type="text/xml; charset=utf-8")
            return
        payload = ("<LabResponse xmlns=\"urn:eeszt:connect:lab\"><status>OK</status><requestId>%s</requestId>"
                   "<clientSubject>%s</clientSubject><time>%s</time></LabResponse>"
                   % (self.request_id, xml_escape(self.peer.subject or ""), utcnow()))
        self.respond(200, soap_envelope(payload), content_type="text/xml; charset=utf-8")

    @staticmethod
    def soap_problem(body):
        """None when the body is a SOAP envelope, else why it is not."""
        if not body.strip():
            return "empty body, a SOAP envelope is required"
        if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
            return "DTDs are not accepted"
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError as exc:
            return "body is not well-formed XML: %s" % exc
        namespace, _sep, local = root.tag[1:].partition("}") if root.tag.startswith("{") else ("", "", root.tag)
        if local != "Envelope" or namespace not in SOAP_NAMESPACES:
            return "root element must be a SOAP Envelope"
        return None


def soap_envelope(inner):
    return ("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
            "<soap:Envelope xmlns:soap=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            "<soap:Body>%s</soap:Body></soap:Envelope>\n" % inner)
