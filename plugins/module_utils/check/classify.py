# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection check's classifiers (pure: exceptions and statuses in, a category of DESIGN.md and a
reason out). Standard library only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import re
import socket
import ssl

# Alerts a server sends when it does not accept the client certificate
# (OpenSSL reason codes as ssl.SSLError.reason shows them).
CLIENT_CERT_ALERTS = frozenset((
    "TLSV13_ALERT_CERTIFICATE_REQUIRED",
    "SSLV3_ALERT_BAD_CERTIFICATE",
    "SSLV3_ALERT_UNSUPPORTED_CERTIFICATE",
    "SSLV3_ALERT_CERTIFICATE_REVOKED",
    "SSLV3_ALERT_CERTIFICATE_EXPIRED",
    "SSLV3_ALERT_CERTIFICATE_UNKNOWN",
    "TLSV1_ALERT_UNKNOWN_CA",
    "TLSV1_ALERT_ACCESS_DENIED",
))
# X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH
HOSTNAME_VERIFY_CODES = frozenset((62, 64))
# nginx answers a refused client certificate with 400 and one of these
# (its internal statuses 495/496); other servers may send 495/496 as they are.
CLIENT_CERT_HTTP_STATUSES = frozenset((403, 495, 496))
NGINX_CERT_ERRORS = (b"The SSL certificate error", b"No required SSL certificate was sent")
CONNECTION_CLOSED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError, ssl.SSLEOFError,
                     ssl.SSLZeroReturnError)


def _errno_name(exc):
    code = getattr(exc, "errno", None)
    return errno.errorcode.get(code, str(code)) if code is not None else None


def _os_reason(exc):
    name = _errno_name(exc)
    text = getattr(exc, "strerror", None) or str(exc) or exc.__class__.__name__
    return "%s (%s)" % (text, name) if name else text


def ssl_reason(exc):
    """OpenSSL's reason code of an SSLError ('TLSV13_ALERT_CERTIFICATE_REQUIRED'), or None."""
    reason = getattr(exc, "reason", None)
    if reason:
        return reason
    match = re.search(r"\[SSL: ([A-Z0-9_]+)\]", str(exc))
    return match.group(1) if match else None


# --- classification (pure: exceptions and statuses in, category out) ------------

def classify_dns_error(exc):
    if isinstance(exc, socket.gaierror):
        return "dns", exc.strerror or str(exc)
    if isinstance(exc, socket.timeout):
        return "dns", "the resolver did not answer in time"
    return "dns", _os_reason(exc)


def classify_connect_error(exc):
    """Category of a failed TCP connect (to the endpoint)."""
    if isinstance(exc, ConnectionRefusedError):
        return "tcp_refused", _os_reason(exc)
    if isinstance(exc, socket.timeout) or getattr(exc, "errno", None) == errno.ETIMEDOUT:
        return "tcp_timeout", "connect timed out"
    if getattr(exc, "errno", None) in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return "tcp_unreachable", _os_reason(exc)
    return "tcp_refused", _os_reason(exc)


def classify_tls_error(exc, after_handshake=False):
    """Category of an error during the TLS handshake or, after_handshake, on the
    first write/read of the request (where a TLS 1.3 client sees the server's
    verdict on its certificate)."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        reason = "%s (X509 error %s)" % (exc.verify_message or ssl_reason(exc), exc.verify_code)
        if exc.verify_code in HOSTNAME_VERIFY_CODES:
            return "tls_hostname_mismatch", reason
        return "tls_server_untrusted", reason
    if isinstance(exc, socket.timeout):
        return "timeout", "no answer"
    code = ssl_reason(exc) if isinstance(exc, ssl.SSLError) else None
    if code in CLIENT_CERT_ALERTS:
        return "tls_client_cert_rejected", "TLS alert %s" % code
    if after_handshake and isinstance(exc, CONNECTION_CLOSED):
        return "tls_client_cert_rejected", "the server closed the connection right after the handshake (%s)" % (
            code or _errno_name(exc) or exc.__class__.__name__)
    if isinstance(exc, ssl.SSLError):
        return "tls_protocol", code or str(exc)
    if isinstance(exc, CONNECTION_CLOSED):
        return "tls_protocol", "the server closed the connection during the handshake (%s)" % (
            _errno_name(exc) or exc.__class__.__name__)
    return "tls_protocol", _os_reason(exc)


def classify_http_status(status, expected, body=b""):
    """None when the status is the expected one, else (category, reason)."""
    if status == expected:
        return None
    if status in CLIENT_CERT_HTTP_STATUSES or (status == 400 and any(m in body for m in NGINX_CERT_ERRORS)):
        return "tls_client_cert_rejected", "HTTP %d from the WAF" % status
    return "http_status", "HTTP %d" % status
