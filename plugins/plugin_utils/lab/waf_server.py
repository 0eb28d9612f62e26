# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The eeszt.connect rehearsal lab WAF.

A small HTTPS server that behaves like EESZT's Web Application Firewall as
seen by a client: mutual TLS against the lab client CA (unknown-CA, expired,
not-yet-valid and non-clientAuth certificates fail the handshake with a TLS
alert), HTTP 403 for deny-listed client certificates (and for a missing
client certificate when client certificates are optional), a health path, a
SOAP path, and one JSON line per request in the access log (``_waf_http``).

Python standard library only, so it runs anywhere Python 3.6+ runs, apart
from Ansible. Started and stopped by the action eeszt.connect.lab_waf (see
``waf.py``), which runs it with the controller's Python; can also be run by
hand, with the directory that holds ``ansible_collections`` on PYTHONPATH::

    python3 -m ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf_server \
        --config waf.json [--host 127.0.0.1] [--port 18443]

The configuration file is JSON; see ``load_config`` for the keys.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import errno
import http.server
import json
import os
import signal
import socket
import socketserver
import ssl
import sys
import threading
import time

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab._waf_http import (
    SERVICE,
    VERSION,
    AccessLog,
    LabWafHandler,
    PeerInfo,
    utcnow,
)

DEFAULTS = {
    "host": "127.0.0.1",
    "port": 18443,
    "client_cert": "required",
    "denied": [],
    "health_path": "/health",
    "soap_path": "/soap",
    "handshake_timeout": 10.0,
    "request_timeout": 30.0,
    "max_body_bytes": 1048576,
    "min_tls_version": "TLSv1.2",
}
REQUIRED_FILES = ("server_cert", "server_key", "client_ca", "access_log")
EXIT_CONFIG = 2
EXIT_ADDRESS_IN_USE = 3


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


def normalize_hex(value):
    """Lower-case hex without separators or leading zeros kept as given."""
    return "".join(ch for ch in str(value).strip().lower() if ch not in ":- ")


def parse_denied(entries):
    """Split deny-list entries into SHA-256 fingerprints and serial numbers.

    An entry of 64 hex digits (colons allowed) is a SHA-256 fingerprint of the
    DER certificate; a shorter hex string is a serial number (as printed by
    ``openssl x509 -serial``). Leading zeros of serials are ignored.
    """
    fingerprints, serials = set(), set()
    for entry in entries:
        value = normalize_hex(entry)
        if value.startswith("0x"):
            value = value[2:]
        if not value or any(ch not in "0123456789abcdef" for ch in value):
            raise ConfigError("denied entry %r is neither a SHA-256 fingerprint nor a hex serial number" % (entry,))
        if len(value) == 64:
            fingerprints.add(value)
        elif len(value) <= 40:
            serials.add(value.lstrip("0") or "0")
        else:
            raise ConfigError("denied entry %r is too long for a serial number and is not a SHA-256 fingerprint" % (entry,))
    return fingerprints, serials


def load_config(path, host=None, port=None):
    """Read the JSON configuration and fill in defaults.

    Keys: ``server_cert`` (PEM, server certificate followed by its chain),
    ``server_key`` (PEM, unencrypted), ``client_ca`` (PEM bundle of the CAs
    trusted for client certificates), ``access_log`` (JSON lines),
    ``client_cert`` (``required`` or ``optional``), ``denied`` (list of
    SHA-256 fingerprints or hex serials), ``health_path``, ``soap_path``,
    ``handshake_timeout``, ``request_timeout`` (seconds), ``max_body_bytes``,
    ``min_tls_version`` (``TLSv1.2`` or ``TLSv1.3``), ``host``, ``port``.
    Relative paths are relative to the configuration file.
    """
    try:
        with open(path, "r") as handle:
            data = json.load(handle)
    except (OSError, IOError, ValueError) as exc:
        raise ConfigError("cannot read configuration %s: %s" % (path, exc))
    if not isinstance(data, dict):
        raise ConfigError("configuration %s must be a JSON object" % path)
    config = dict(DEFAULTS)
    config.update(data)
    if host:
        config["host"] = host
    if port:
        config["port"] = port
    base = os.path.dirname(os.path.abspath(path))
    for key in REQUIRED_FILES:
        if not config.get(key):
            raise ConfigError("configuration %s: %s is required" % (path, key))
        config[key] = os.path.join(base, os.path.expanduser(config[key]))
    if config["client_cert"] not in ("required", "optional"):
        raise ConfigError("client_cert must be 'required' or 'optional', not %r" % (config["client_cert"],))
    if config["min_tls_version"] not in ("TLSv1.2", "TLSv1.3"):
        raise ConfigError("min_tls_version must be 'TLSv1.2' or 'TLSv1.3'")
    for key in ("health_path", "soap_path"):
        if not str(config[key]).startswith("/"):
            raise ConfigError("%s must start with '/'" % key)
    try:
        config["port"] = int(config["port"])
        config["handshake_timeout"] = float(config["handshake_timeout"])
        config["request_timeout"] = float(config["request_timeout"])
        config["max_body_bytes"] = int(config["max_body_bytes"])
    except (TypeError, ValueError) as exc:
        raise ConfigError("invalid number in configuration: %s" % exc)
    if not 0 < config["port"] < 65536:
        raise ConfigError("port must be between 1 and 65535")
    if not isinstance(config["denied"], list):
        raise ConfigError("denied must be a list")
    config["denied_sha256"], config["denied_serials"] = parse_denied(config["denied"])
    return config


def build_ssl_context(config):
    """Server context: client certificates verified against the lab client CA.

    OpenSSL checks the ``sslclient`` purpose on the server side, so a
    certificate whose extended key usage lacks clientAuth is refused in the
    handshake, like unknown-CA, expired and not-yet-valid ones.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = getattr(ssl.TLSVersion, config["min_tls_version"].replace(".", "_"))
    context.options |= getattr(ssl, "OP_NO_COMPRESSION", 0)
    try:
        context.load_cert_chain(config["server_cert"], config["server_key"])
        context.load_verify_locations(cafile=config["client_ca"])
    except (OSError, IOError, ssl.SSLError) as exc:
        raise ConfigError("cannot load TLS material: %s" % exc)
    context.verify_mode = ssl.CERT_REQUIRED if config["client_cert"] == "required" else ssl.CERT_OPTIONAL
    return context


def describe_tls_error(exc):
    """Short reason for a failed handshake, with the verification detail when there is one."""
    reason = getattr(exc, "reason", None) or str(exc) or exc.__class__.__name__
    detail = getattr(exc, "verify_message", None)
    return "%s: %s" % (reason, detail) if detail else reason


def lingering_close(conn, linger=2.0):
    """Close after a refused handshake so that the client reliably reads the TLS alert.

    Closing a socket with unread input makes the kernel send a reset, which
    can overtake the alert (a TLS 1.3 client often has already sent its
    request). Half-close, drain what the client sent (bounded), then close.
    """
    try:
        conn.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + linger
        while time.monotonic() < deadline:
            conn.settimeout(max(0.05, deadline - time.monotonic()))
            if not conn.recv(65536):
                break
    except (ssl.SSLError, OSError):
        pass
    finally:
        try:
            conn.close()
        except OSError:
            pass


class LabWafServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    """Accepts plain TCP connections; each worker thread does its own TLS handshake."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, config, context, access_log):
        self.config = config
        self.ssl_context = context
        self.access_log = access_log
        if ":" in config["host"]:
            self.address_family = socket.AF_INET6
        http.server.HTTPServer.__init__(self, (config["host"], config["port"]), LabWafHandler)

    def server_bind(self):
        # HTTPServer.server_bind resolves the host name (getfqdn), which can
        # block on DNS; the lab does not need it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.config["host"]
        self.server_port = self.server_address[1]

    def finish_request(self, request, client_address):
        """Runs in the worker thread: handshake, then HTTP, all with timeouts."""
        request.settimeout(self.config["handshake_timeout"])
        conn = self.ssl_context.wrap_socket(request, server_side=True, do_handshake_on_connect=False)
        try:
            conn.do_handshake()
        except (ssl.SSLError, OSError) as exc:
            self.access_log.write({
                "time": utcnow(),
                "event": "tls_error",
                "client": "%s:%s" % client_address[:2],
                "status": None,
                "error": describe_tls_error(exc),
            })
            lingering_close(conn)
            return
        try:
            conn.settimeout(self.config["request_timeout"])
            peer = PeerInfo(conn)
            self.RequestHandlerClass(conn, client_address, self, peer)
        except (ssl.SSLError, OSError) as exc:
            sys.stderr.write("%s %s:%s connection error: %s\n" % (utcnow(), client_address[0], client_address[1], exc))
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        sys.stderr.write("%s %s:%s unexpected error\n" % (utcnow(), client_address[0], client_address[1]))
        super(LabWafServer, self).handle_error(request, client_address)


def main(argv=None):
    parser = argparse.ArgumentParser(description="eeszt.connect rehearsal lab WAF")
    parser.add_argument("--config", required=True, help="JSON configuration file")
    parser.add_argument("--host", help="address to listen on (overrides the configuration)")
    parser.add_argument("--port", type=int, help="port to listen on (overrides the configuration)")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config, args.host, args.port)
        context = build_ssl_context(config)
        access_log = AccessLog(config["access_log"])
    except ConfigError as exc:
        sys.stderr.write("%s configuration error: %s\n" % (utcnow(), exc))
        return EXIT_CONFIG
    try:
        server = LabWafServer(config, context, access_log)
    except OSError as exc:
        sys.stderr.write("%s cannot listen on %s:%s: %s\n" % (utcnow(), config["host"], config["port"], exc))
        return EXIT_ADDRESS_IN_USE if exc.errno == errno.EADDRINUSE else EXIT_CONFIG

    stop = threading.Event()

    def request_stop(signum, _frame):
        sys.stderr.write("%s signal %d received, stopping\n" % (utcnow(), signum))
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    worker = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, name="accept")
    worker.daemon = True
    worker.start()
    sys.stderr.write("%s %s %s listening on https://%s:%d (pid %d, client certificates %s, %d denied)\n" % (
        utcnow(), SERVICE, VERSION, config["host"], server.server_port, os.getpid(), config["client_cert"],
        len(config["denied"])))
    sys.stderr.flush()
    while not stop.wait(0.5):
        if not worker.is_alive():
            sys.stderr.write("%s accept loop ended unexpectedly\n" % utcnow())
            break
    server.shutdown()
    server.server_close()
    access_log.close()
    sys.stderr.write("%s stopped\n" % utcnow())
    return 0


if __name__ == "__main__":
    sys.exit(main())
