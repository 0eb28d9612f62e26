# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tls_client role's input checks in the preflight (plugin_utils/inventory/tls_vars.py)."""

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.tls_vars import tls_client_problems

GOOD = {
    "eeszt_tls_ca_bundle": "/etc/eeszt/tls/eeszt-ca.pem", "eeszt_tls_client_cert": "/etc/eeszt/tls/cert.pem",
    "eeszt_tls_client_key": "/etc/eeszt/tls/key.pem", "eeszt_tls_config_dir": "/etc/eeszt",
    "eeszt_tls_java_keystore": "/etc/eeszt/tls/keystore.p12", "eeszt_tls_java_truststore": None,
    "eeszt_tls_proxy": None, "eeszt_tls_cipher_string": "DEFAULT", "eeszt_tls_ciphersuites": "TLS_AES_256_GCM_SHA384",
    "eeszt_tls_no_proxy": ["localhost"], "eeszt_tls_client_files": ["env", "openssl", "curl"],
    "eeszt_tls_gateway_enabled": False, "eeszt_tls_gateway_endpoints": [], "eeszt_tls_gateway_base_port": 8443,
    "eeszt_tls_gateway_ports": {},
}


def problems(**changes):
    values = dict(GOOD, **changes)
    return [str(problem) for problem in tls_client_problems(values)]


def test_good_values_pass():
    assert problems() == []


def test_quotes_and_line_breaks_are_refused_by_name():
    assert problems(eeszt_tls_config_dir="/etc/ee'szt", eeszt_tls_no_proxy=["a\nb"]) == [
        "eeszt_tls_config_dir = \"/etc/ee'szt\": contains a quote, a backslash or a line break, which the client "
        "settings files cannot hold; write the path, URL or host name without them",
        "eeszt_tls_no_proxy[0] = \"a\\nb\": contains a quote, a backslash or a line break, which the client "
        "settings files cannot hold; write the path, URL or host name without them"]


def test_secrets_are_checked_never_shown():
    found = problems(eeszt_tls_proxy="http://proxy.example.hu:3128", eeszt_tls_proxy_username="clinic",
                     eeszt_tls_proxy_password="sh\u00f6rt")
    assert found == [
        "eeszt_tls_proxy_password = (secret, not shown): must be printable ASCII (it is written into curl, shell "
        "and Java properties syntax); choose a value of printable ASCII characters",
        "eeszt_tls_proxy_password = (secret, not shown): has fewer than 8 characters: Ansible masks every "
        "occurrence of a secret in module output, so a shorter one would garble it (docs/security.md); use a "
        "password of at least 8 characters"]
    assert "sh\u00f6rt" not in " ".join(found)


def test_credentials_need_a_proxy_and_java_a_keystore_password():
    assert problems(eeszt_tls_proxy_password="long enough",
                    eeszt_tls_client_files=["java"], eeszt_tls_java_keystore_password=None) == [
        "eeszt_tls_proxy_username: proxy credentials need eeszt_tls_proxy, and a proxy password needs a user name; "
        "set eeszt_tls_proxy and eeszt_tls_proxy_username, or neither credential",
        "eeszt_tls_java_keystore_password: is empty but eeszt_tls_client_files contains java; set it (by default "
        "eeszt_certificate_export_password, the password of keystore.p12)"]


def test_the_gateway_needs_https_endpoints_and_distinct_ports():
    endpoints = [{"name": "health", "url": "https://waf.example.hu/health"},
                 {"name": "soap", "url": "https://waf.example.hu/soap"}]
    assert problems(eeszt_tls_gateway_enabled=True, eeszt_tls_gateway_endpoints=endpoints) == []
    clash = problems(eeszt_tls_gateway_enabled=True, eeszt_tls_gateway_endpoints=endpoints,
                     eeszt_tls_gateway_ports={"soap": 8443})
    assert len(clash) == 1 and clash[0].startswith("eeszt_tls_gateway_endpoints = ")
    assert "distinct loopback ports from 1 to 65535 (got ports [8443, 8443])" in clash[0]
    assert len(problems(eeszt_tls_gateway_enabled=True)) == 1
    plain = [{"name": "health", "url": "http://waf.example.hu/health"}]
    assert len(problems(eeszt_tls_gateway_enabled=True, eeszt_tls_gateway_endpoints=plain)) == 1
    assert problems(eeszt_tls_gateway_enabled=False, eeszt_tls_gateway_endpoints=plain) == []
