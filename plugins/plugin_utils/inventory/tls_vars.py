# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tls_client role's input checks (roles/tls_client/vars/main.yml, __eeszt_tls_input_checks), in the preflight.

The preflight runs them for every site, so the role skips its own assert when the preflight has
validated the site in the same run; the role keeps the assert for a run without the preflight.
"""

from __future__ import annotations

import re

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_vars

_PLAIN = ("eeszt_tls_ca_bundle", "eeszt_tls_client_cert", "eeszt_tls_client_key", "eeszt_tls_config_dir",
          "eeszt_tls_java_keystore", "eeszt_tls_java_truststore", "eeszt_tls_proxy", "eeszt_tls_cipher_string",
          "eeszt_tls_ciphersuites")
_SECRETS = ("eeszt_tls_proxy_username", "eeszt_tls_proxy_password", "eeszt_tls_java_keystore_password",
            "eeszt_tls_java_truststore_password")
_UNSAFE = re.compile("['\"\\\\\r\n]")
_PRINTABLE = re.compile(r"^[ -~]*$")
_GATEWAY_URL = re.compile(r"^https://[^/:]+(:[0-9]+)?(/.*)?$")


def _port(value):
    return site_vars.is_number(value) and int(value) == value and 1 <= value <= 65535


def _text(value):
    return value if isinstance(value, str) else ""


def _plain_problems(values, skip):
    problems = []
    named = [(name, values.get(name)) for name in _PLAIN]
    named += [("eeszt_tls_no_proxy[%d]" % index, entry) for index, entry in enumerate(values.get("eeszt_tls_no_proxy") or [])]
    for name, value in named:
        if name not in skip and _UNSAFE.search(_text(value)):
            problems.append(site_vars.Problem(name, site_vars.show(value), "contains a quote, a backslash or a line "
                                              "break, which the client settings files cannot hold",
                                              "write the path, URL or host name without them"))
    for name in _SECRETS:
        if name not in skip and not _PRINTABLE.match(_text(values.get(name))):
            problems.append(site_vars.Problem(name, site_vars.show(None, secret=True), "must be printable ASCII (it is "
                                              "written into curl, shell and Java properties syntax)",
                                              "choose a value of printable ASCII characters"))
    return problems


def _gateway_problems(values, skip):
    endpoints = values.get("eeszt_tls_gateway_endpoints") or []
    if not values.get("eeszt_tls_gateway_enabled") or "eeszt_tls_gateway_endpoints" in skip:
        return []
    base, ports = values.get("eeszt_tls_gateway_base_port"), values.get("eeszt_tls_gateway_ports") or {}
    urls = [endpoint.get("url") if isinstance(endpoint, dict) else None for endpoint in endpoints]
    accept = []
    for index, endpoint in enumerate(endpoints):
        name = endpoint.get("name") if isinstance(endpoint, dict) else None
        accept.append(ports.get(name, base + index if site_vars.is_number(base) else None))
    if endpoints and all(_GATEWAY_URL.match(_text(url)) for url in urls) \
            and all(_port(port) for port in accept) and len(set(accept)) == len(accept):
        return []
    return [site_vars.Problem(
        "eeszt_tls_gateway_endpoints", site_vars.show(endpoints),
        "the gateway needs at least one endpoint, each with an https:// URL (IPv6 literals are not supported), "
        "and distinct loopback ports from 1 to 65535 (got ports %s)" % site_vars.show(accept),
        "set eeszt_tls_gateway_endpoints (default eeszt_endpoints), eeszt_tls_gateway_base_port and "
        "eeszt_tls_gateway_ports")]


def tls_client_problems(values, skip=()):
    """The problems the role's input checks find, for validated values of the tls_client role's variables."""
    problems = _plain_problems(values, skip)
    proxy, user = _text(values.get("eeszt_tls_proxy")), _text(values.get("eeszt_tls_proxy_username"))
    password = _text(values.get("eeszt_tls_proxy_password"))
    if (user or password) and (not proxy or not user) and "eeszt_tls_proxy_username" not in skip:
        problems.append(site_vars.Problem("eeszt_tls_proxy_username", None, "proxy credentials need eeszt_tls_proxy, "
                                          "and a proxy password needs a user name",
                                          "set eeszt_tls_proxy and eeszt_tls_proxy_username, or neither credential"))
    if 0 < len(password) < 8 and "eeszt_tls_proxy_password" not in skip:
        problems.append(site_vars.Problem("eeszt_tls_proxy_password", site_vars.show(None, secret=True),
                                          "has fewer than 8 characters: Ansible masks every occurrence of a secret "
                                          "in module output, so a shorter one would garble it (docs/security.md)",
                                          "use a password of at least 8 characters"))
    if "java" in (values.get("eeszt_tls_client_files") or []) and not _text(values.get("eeszt_tls_java_keystore_password")) \
            and "eeszt_tls_java_keystore_password" not in skip:
        problems.append(site_vars.Problem("eeszt_tls_java_keystore_password", None, "is empty but "
                                          "eeszt_tls_client_files contains java",
                                          "set it (by default eeszt_certificate_export_password, the password of "
                                          "keystore.p12)"))
    return problems + _gateway_problems(values, skip)
