#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: connection_check
short_description: Check a site's mutual-TLS connection to EESZT and write a proof
version_added: 1.0.0
description:
  - Runs on the site, with the Python standard library only (no C(cryptography) needed).
  - Before any connection, reads the client certificate and fails the check as V(client_cert_invalid)
    when it is expired, not yet valid, unreadable, or its key does not match.
  - For each endpoint, in order, runs the steps C(dns) (all addresses), C(tcp) (directly or through an
    HTTP proxy with C(CONNECT)), C(tls) (client certificate, server chain verified against O(ca_bundle),
    host name verified; TLS 1.2 or newer) and C(http) (the request, then the status compared with
    C(expect_status)). Each step is timed and reports its details.
  - The first failure is classified into exactly one category (see RV(failure)) with a message and a
    remediation hint in English or Hungarian. A server that rejects the client certificate after a
    TLS 1.3 handshake (seen on the first read) or answers HTTP 403 counts as V(tls_client_cert_rejected).
  - Every wait is bounded by the endpoint's timeout, which is a deadline for all four steps.
  - Writes a proof file (schema C(eeszt.connect/proof/v1), JSON, mode C(0640), atomic, never overwriting)
    into O(proof_dir), named C(<finished_at>_<institution_id>_<site_id>.json) so proofs sort by time.
    Proofs and results hold no key material, no password and no request body.
  - With O(metrics_dir), also writes the check's Prometheus metrics (text exposition format) for node_exporter's
    textfile collector, whether the check passed or failed (see O(metrics_dir)).
  - An action plugin runs first, on the controller, and refuses before anything runs on the site an option that
    does not fit the argument spec, a O(proxy_password) shorter than 8 characters and, with
    O(validate_identity=true), identifiers that do not match O(identity_patterns). Then it runs the module on the
    site once and returns its result as the public fact the role C(eeszt.connect.connection_check) registers as
    C(eeszt_check_result) (RV(stage), RV(failed), RV(unreachable) and the check's outcome), without the module's
    arguments.
  - A failing check does not fail the task; the result says RV(passed=false) and carries a warning with a
    one-line summary (host, identifiers, endpoint, step, category, message, hint, proof path). With
    O(fail_on_error=true) the task fails instead, with that summary as its message and RV(error=check_failed).
author:
  - eeszt.connect developers (@eeszt-connect)
attributes:
  check_mode:
    support: full
    description: The check runs against the endpoints; no proof file and no metrics file is written.
  diff_mode:
    support: none
    description: A proof is a new file, not a change to show.
  platform:
    support: full
    platforms: posix
    description: Any POSIX host with Python 3.8 or newer and its C(ssl) module.
  action:
    support: full
    description: An action plugin checks the options on the controller, runs the module once and handles the outcome.
options:
  endpoints:
    description:
      - Endpoints to check, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Short name of the endpoint, used in results and proofs.
        type: str
        required: true
      url:
        description: C(https://) URL; an IP address or a non-default port is allowed.
        type: str
        required: true
      method:
        description: HTTP method.
        type: str
        default: GET
      headers:
        description:
          - Extra request headers. C(Host), C(Content-Length), C(Connection) and C(Transfer-Encoding)
            are set by the check. Only header names appear in results.
        type: dict
      body:
        description: Request body (for example a SOAP envelope), sent as UTF-8 with a C(Content-Length).
        type: str
      expect_status:
        description: The HTTP status that passes.
        type: int
        default: 200
      timeout:
        description: Seconds for all steps of this endpoint; default O(timeout).
        type: float
  client_cert:
    description:
      - PEM file of the client (WAF-SSL) certificate, optionally followed by its chain.
      - The first certificate in the file is the one checked and recorded.
    type: path
    required: true
  client_key:
    description: PEM file of the unencrypted private key of O(client_cert). Never read into results.
    type: path
    required: true
  ca_bundle:
    description: PEM file of the CA certificates that the servers' chains must lead to. Only these are trusted.
    type: path
    required: true
  proxy:
    description:
      - HTTP proxy URL (C(http://host:port), no credentials in it) for C(CONNECT) tunnels. Unset, direct.
    type: str
  proxy_username:
    description:
      - User name for the proxy's Basic authentication.
      - Not treated as a secret (it is shown with the module's arguments), because Ansible masks
        every occurrence of a C(no_log) value in the result and a short user name would garble it.
    type: str
  proxy_password:
    description:
      - Password for the proxy's Basic authentication. Never returned.
      - At least 8 characters (the action refuses a shorter one on the controller, naming C(eeszt_check_proxy_password),
        error V(proxy_password_too_short)), because Ansible replaces every occurrence of it in the result with C(********).
    type: str
  no_proxy:
    description:
      - Host names and domains (C(.example.hu) or C(example.hu) match sub-domains too; C(*) matches all)
        reached without the proxy.
    type: list
    elements: str
    default: []
  timeout:
    description: Default seconds per endpoint for all its steps (an endpoint's C(timeout) overrides it).
    type: float
    default: 10
  language:
    description: Language of the failure message and hint.
    type: str
    choices: [en, hu]
    default: en
  institution_id:
    description: Institution identifier, recorded in the proof and its file name.
    type: str
    required: true
  site_id:
    description: Site identifier, recorded in the proof and its file name.
    type: str
    required: true
  environment:
    description: EESZT environment the endpoints belong to, recorded in the proof.
    type: str
    choices: [test, production]
    default: test
  host:
    description: Name of the site's host recorded in the proof; default the machine's host name.
    type: str
  proof_dir:
    description: Directory of the proof files; created (mode C(0750)) when missing.
    type: path
    default: /var/lib/eeszt/proofs
  write_proof:
    description: Write a proof file. Never written in check mode.
    type: bool
    default: true
  metrics_dir:
    description:
      - Directory of node_exporter's textfile collector (Debian's default is C(/var/lib/prometheus/node-exporter));
        unset, no metrics are written.
      - The check writes C(eeszt_check_<institution_id>_<site_id>_<environment>.prom) there, passed or failed,
        atomically (a temporary file in the same directory, then a rename) with mode C(0644) so that node_exporter
        can read it; the directory is created (mode C(0755)) when missing. Never written in check mode.
      - Every series has the labels C(institution), C(site) and C(environment); per endpoint C(endpoint) too.
        C(eeszt_check_up), C(eeszt_check_failure) (C(category), C(step), C(endpoint)), C(eeszt_check_endpoint_up),
        C(eeszt_check_endpoint_failure) (C(category), C(step)), C(eeszt_check_endpoint_duration_seconds),
        C(eeszt_check_step_duration_seconds) (C(step)), C(eeszt_check_last_run_timestamp_seconds),
        C(eeszt_check_last_success_timestamp_seconds) (kept from the previous file when this check failed),
        C(eeszt_check_client_certificate_not_after_timestamp_seconds) and C(eeszt_check_client_certificate_info)
        (C(serial), C(sha256), C(subject)). The collection's C(docs/monitoring/README.md) describes them.
      - The file holds no key material, password, proxy or request body.
    type: path
  fail_on_error:
    description:
      - Fail the task when the check did not pass, with a one-line summary as its message (RV(error=check_failed));
        the result still holds the whole outcome.
      - V(false), the task is ok and the summary is a warning.
      - Read by the action plugin on the controller; never sent to the site.
    type: bool
    default: false
  validate_identity:
    description:
      - Refuse, on the controller and before anything runs on the site, an O(institution_id) or O(site_id) that does
        not match its pattern in O(identity_patterns) (RV(error=identity_invalid)).
      - The role C(eeszt.connect.connection_check) sets it when no preflight of the run validated the site.
      - Read by the action plugin on the controller; never sent to the site.
    type: bool
    default: false
  identity_patterns:
    description:
      - Regular expressions that the identifiers must match (searched, as Jinja's C(regex) test) with
        O(validate_identity=true). Read by the action plugin on the controller; never sent to the site.
    type: dict
    suboptions:
      institution_id:
        description: Pattern of O(institution_id).
        type: str
        default: ^[0-9]{6}$
      site_id:
        description: Pattern of O(site_id).
        type: str
        default: ^[0-9A-Za-z]{9}$
notes:
  - Name resolution honours the site's resolver; with a proxy, the C(dns) step resolves the proxy and
    the proxy resolves the endpoint.
  - The failure categories are those of the collection's design. C(tcp_unreachable) (no route to the
    host) is added to them.
  - An unwritable O(metrics_dir) fails the module (after the proof was written); the result still holds the check's
    outcome.
seealso:
  - module: ansible.builtin.uri
  - name: EESZT
    description: The Hungarian national eHealth service space.
    link: https://e-egeszsegugy.gov.hu/
"""

EXAMPLES = r"""
- name: Check the EESZT endpoints with the installed WAF-SSL certificate
  eeszt.connect.connection_check:
    endpoints:
      - name: health
        url: https://eeszt-lab.localhost:18443/health
      - name: soap
        url: https://eeszt-lab.localhost:18443/soap
        method: POST
        headers:
          Content-Type: text/xml; charset=utf-8
          SOAPAction: '"urn:eeszt:lab:ping"'
        body: <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body/></soapenv:Envelope>
    client_cert: /etc/eeszt/tls/cert.pem
    client_key: /etc/eeszt/tls/key.pem
    ca_bundle: /etc/eeszt/tls/eeszt-ca.pem
    institution_id: "123456"
    site_id: "123456001"
    language: hu
  register: check

- name: Check and hand the outcome to Prometheus through node_exporter's textfile collector
  eeszt.connect.connection_check:
    endpoints: "{{ eeszt_endpoints }}"
    client_cert: /etc/eeszt/tls/cert.pem
    client_key: /etc/eeszt/tls/key.pem
    ca_bundle: /etc/eeszt/tls/eeszt-ca.pem
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    metrics_dir: /var/lib/prometheus/node-exporter
  register: check

- name: Through a proxy that wants a password
  eeszt.connect.connection_check:
    endpoints: "{{ eeszt_endpoints }}"
    client_cert: /etc/eeszt/tls/cert.pem
    client_key: /etc/eeszt/tls/key.pem
    ca_bundle: /etc/eeszt/tls/eeszt-ca.pem
    proxy: http://proxy.example.hu:3128
    proxy_username: eeszt
    proxy_password: "{{ vault_proxy_password }}"
    institution_id: "{{ eeszt_institution_id }}"
    site_id: "{{ eeszt_site_id }}"
    # This site fails when its check does not pass; the message sums the failure up.
    fail_on_error: true
  register: check
"""

RETURN = r"""
stage:
  description: V(check), the stage of the flow this result belongs to (the public fact C(eeszt_check_result)).
  returned: always
  type: str
  sample: check
failed:
  description: Whether the task failed (refused options, a module failure, a failed check with O(fail_on_error=true)).
  returned: always
  type: bool
  sample: false
unreachable:
  description: V(false); a site that cannot be reached gives Ansible's own unreachable result instead.
  returned: always
  type: bool
  sample: false
passed:
  description: Whether every endpoint passed every step.
  returned: when the check ran (not when the controller refused the options)
  type: bool
  sample: true
failure:
  description:
    - The first failure (none when RV(passed)).
  returned: when the check ran (not when the controller refused the options)
  type: dict
  sample:
    category: tls_client_cert_rejected
    endpoint: health
    step: http
    message: "The server rejected the client certificate: TLS alert TLSV13_ALERT_CERTIFICATE_REQUIRED."
    hint: "The WAF does not accept this WAF-SSL certificate: ..."
    reason: TLS alert TLSV13_ALERT_CERTIFICATE_REQUIRED
  contains:
    category:
      description:
        - One of V(client_cert_invalid), V(dns), V(tcp_refused), V(tcp_unreachable), V(tcp_timeout),
          V(proxy), V(tls_server_untrusted), V(tls_hostname_mismatch), V(tls_client_cert_rejected),
          V(tls_protocol), V(http_status), V(timeout).
      type: str
    endpoint:
      description: Name of the endpoint (none for a failure before any connection).
      type: str
    step:
      description: V(preflight) (before connecting), V(dns), V(tcp), V(tls) or V(http).
      type: str
    message:
      description: What failed, in O(language).
      type: str
    hint:
      description: What to do about it, in O(language).
      type: str
    reason:
      description: The technical cause (alert, errno, status) in English.
      type: str
endpoints:
  description: One result per endpoint, in order.
  returned: when the check ran (not when the controller refused the options)
  type: list
  elements: dict
  contains:
    name:
      description: The endpoint's name.
      type: str
    url:
      description: The endpoint's URL.
      type: str
    method:
      description: HTTP method used.
      type: str
    expect_status:
      description: The status that passes.
      type: int
    passed:
      description: Whether all steps passed.
      type: bool
    ms:
      description: Milliseconds for the whole endpoint.
      type: float
    failure:
      description: This endpoint's failure, like RV(failure), or none.
      type: dict
    proxy:
      description:
        - The HTTP proxy the endpoint was checked through, as its URL without credentials (C(http://HOST:PORT));
          absent when the endpoint was reached directly. The proof keeps it (C(endpoints[].proxy)), so that the
          fleet report can group the sites behind one proxy into an incident.
      type: str
      returned: when the endpoint was checked through a proxy
    steps:
      description:
        - Steps run, in order, up to the first that failed (none when the check stopped before connecting).
        - Each has C(name) (V(dns), V(tcp), V(tls), V(http)), C(ok), C(ms) and C(details).
        - C(dns) details are C(host), C(addresses) and C(via_proxy); C(tcp) details C(address), C(port) and, through a
          proxy, C(proxy), C(proxy_auth), C(proxy_status); C(tls) details C(protocol), C(cipher) and
          C(server_certificate) (C(subject), C(issuer), C(not_after), C(sha256)); C(http) details C(method), C(path),
          C(status), C(reason_phrase), C(expect_status), C(request_headers) (names only), C(request_bytes), C(server).
          A failed step's details add C(error) and C(category).
      type: list
      elements: dict
      sample:
        - {name: dns, ok: true, ms: 0.2, details: {host: 127.0.0.1, addresses: [127.0.0.1]}}
        - {name: tcp, ok: true, ms: 0.1, details: {address: 127.0.0.1, port: 18443}}
        - {name: tls, ok: true, ms: 4.1, details: {protocol: TLSv1.3, cipher: TLS_AES_256_GCM_SHA384, server_certificate: {
            subject: CN=eeszt-lab.localhost, issuer: CN=EESZT Lab Server CA, not_after: "2027-01-01T00:00:00Z", sha256: 5d0c...}}}
        - {name: http, ok: true, ms: 1.3, details: {method: GET, path: /health, status: 200, reason_phrase: OK,
                                                   expect_status: 200}}
client_certificate:
  description: Public facts of the client certificate (none when it cannot be read).
  returned: when the check ran (not when the controller refused the options)
  type: dict
  contains:
    subject:
      description: Subject, RFC 4514.
      type: str
    issuer:
      description: Issuer, RFC 4514.
      type: str
    serial:
      description: Serial number, upper-case hexadecimal.
      type: str
    sha256:
      description: SHA-256 fingerprint of the DER certificate, lower-case hexadecimal.
      type: str
    not_before:
      description: Start of validity, UTC ISO 8601.
      type: str
    not_after:
      description: End of validity, UTC ISO 8601.
      type: str
    chain_length:
      description: Number of certificates in O(client_cert).
      type: int
started_at:
  description: Start of the check, UTC ISO 8601.
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: "2026-11-25T22:14:59Z"
finished_at:
  description: End of the check, UTC ISO 8601.
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: "2026-11-25T22:15:00Z"
proof_path:
  description: Path of the proof written; none in check mode or with O(write_proof=false).
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: /var/lib/eeszt/proofs/20261125T221500Z_123456_123456001.json
proof_sha256:
  description: SHA-256 of the proof file's bytes (the controller compares it after fetching); none when none was written.
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: 9f2c4e0a1b3d5f7e9f2c4e0a1b3d5f7e9f2c4e0a1b3d5f7e9f2c4e0a1b3d5f7e
proof_content:
  description:
    - The exact bytes of the proof written (RV(proof_path)), base64 encoded; none when none was written.
    - A proof holds public facts only (no key material, password or proxy credential). The C(eeszt.connect.proofs)
      role archives these bytes, checked against RV(proof_sha256) on the controller, without fetching the file.
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: eyJjbGllbnRfY2VydGlmaWNhdGUiOiB7fX0K
metrics_path:
  description: Path of the metrics file written; none without O(metrics_dir) or in check mode.
  returned: when the check ran (not when the controller refused the options)
  type: str
  sample: /var/lib/prometheus/node-exporter/eeszt_check_123456_123456001_test.prom
error:
  description:
    - Stable code of what failed the task (a failing connection does so only with O(fail_on_error=true)).
    - On the controller, before the site is touched, V(invalid_argument) (an option that does not fit the
      argument spec, or a pattern of O(identity_patterns) that is not a regular expression),
      V(proxy_password_too_short), V(identity_invalid).
    - On the site, V(check_config) an option value the check cannot work with, V(proof_write_failed),
      V(metrics_write_failed), V(module_failure) (the module stopped without a code).
    - V(check_failed) the check did not pass and O(fail_on_error=true); the result holds its outcome.
  returned: failure
  type: str
  sample: check_failed
msg:
  description: On failure, what failed; with V(check_failed), the one-line summary of the failed check.
  returned: failure
  type: str
  sample: "EESZT connection check failed on site02 (100002/10000200A), endpoint health, step http: [http_status] ..."
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.eeszt.connect.plugins.module_utils.check.runner import argument_spec, run


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    run(module)


if __name__ == "__main__":
    main()
