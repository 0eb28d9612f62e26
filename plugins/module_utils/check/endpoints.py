# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The connection check's options: an endpoint and an HTTP proxy, validated (standard library only)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import re

from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import CheckConfigError

_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


class Endpoint:
    """One endpoint to check, validated."""

    def __init__(self, name, url, host, port, target, method, headers, body, expect_status, timeout):
        self.name = name
        self.url = url
        self.host = host
        self.port = port
        self.target = target
        self.method = method
        self.headers = headers
        self.body = body
        self.expect_status = expect_status
        self.timeout = timeout

    @property
    def host_header(self):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return host if self.port == 443 else "%s:%d" % (host, self.port)


def _split_url(url, what, schemes):
    try:
        from urllib.parse import urlsplit
    except ImportError:  # pragma: no cover - Python 2 is not supported by the module
        raise CheckConfigError("Python 3 is required")
    parts = urlsplit(url)
    if parts.scheme.lower() not in schemes:
        raise CheckConfigError("%s %r: the scheme must be %s" % (what, url, " or ".join(schemes)))
    try:
        port = parts.port
    except ValueError:
        raise CheckConfigError("%s %r has an invalid port" % (what, url))
    if not parts.hostname:
        raise CheckConfigError("%s %r has no host name" % (what, url))
    if parts.username is not None or parts.password is not None:
        raise CheckConfigError("%s must not contain credentials" % what)
    return parts, parts.hostname, port


def parse_endpoint(spec, default_timeout):
    """Validate one endpoint dict (name, url, method, headers, body, expect_status, timeout)."""
    name = spec.get("name")
    url = spec.get("url")
    if not name or not url:
        raise CheckConfigError("every endpoint needs a name and a url: %r" % (spec,))
    parts, host, port = _split_url(url, "endpoint %s: url" % name, ("https",))
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    method = (spec.get("method") or "GET").upper()
    if not _TOKEN.match(method):
        raise CheckConfigError("endpoint %s: invalid method %r" % (name, method))
    headers = []
    for key, value in (spec.get("headers") or {}).items():
        key, value = str(key), str(value)
        if not _TOKEN.match(key) or any(c in value for c in "\r\n\x00"):
            raise CheckConfigError("endpoint %s: invalid header %r" % (name, key))
        if key.lower() in ("host", "content-length", "connection", "transfer-encoding"):
            raise CheckConfigError("endpoint %s: header %s is set by the check itself" % (name, key))
        headers.append((key, value))
    body = spec.get("body")
    body = None if body is None else str(body).encode("utf-8")
    try:
        expect_status = int(spec.get("expect_status") or 200)
        timeout = float(spec.get("timeout") or default_timeout)
    except (TypeError, ValueError):
        raise CheckConfigError("endpoint %s: expect_status and timeout must be numbers" % name)
    if not 100 <= expect_status <= 599 or timeout <= 0:
        raise CheckConfigError("endpoint %s: expect_status must be 100-599 and timeout positive" % name)
    return Endpoint(name, url, host, port or 443, target, method, headers, body, expect_status, timeout)


class Proxy:
    """An HTTP proxy for CONNECT tunnels; the credentials are never shown."""

    def __init__(self, url, host, port, username=None, password=None, no_proxy=()):
        self.url = url
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.no_proxy = [entry.strip().lower() for entry in no_proxy if entry and entry.strip()]

    def applies_to(self, host):
        host = host.lower()
        for entry in self.no_proxy:
            if entry == "*" or host == entry.lstrip(".") or host.endswith("." + entry.lstrip(".")):
                return False
        return True

    def authorization(self):
        if not self.username:
            return None
        token = ("%s:%s" % (self.username, self.password or "")).encode("utf-8")
        return "Basic " + binascii.b2a_base64(token).decode("ascii").strip()


def parse_proxy(url, username=None, password=None, no_proxy=()):
    """Proxy from an http:// URL without credentials (they go in username/password); None for none."""
    if not url:
        return None
    parts, host, port = _split_url(url, "proxy URL", ("http",))
    shown = "http://%s:%d" % ("[%s]" % host if ":" in host else host, port or 8080)
    return Proxy(shown, host, port or 8080, username, password, no_proxy)
