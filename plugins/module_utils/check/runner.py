# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""What the module eeszt.connect.connection_check does on a site: its argument spec and its run (options ->
check -> proof and metrics files). Standard library and ``ansible.module_utils`` only."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import socket

from ansible_collections.eeszt.connect.plugins.module_utils.common.paths import PROOF_DIR
from ansible_collections.eeszt.connect.plugins.module_utils.check.endpoints import parse_endpoint, parse_proxy
from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import CheckConfigError, CheckError
from ansible_collections.eeszt.connect.plugins.module_utils.check.metrics import write_metrics
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import (
    TOOL_NAME,
    TOOL_VERSION,
    Settings,
    run_check,
)
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import build_proof, serialize, write_proof
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import error_code
from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import (
    INSTITUTION_ID_PATTERN,
    SITE_ID_PATTERN,
)

ENDPOINT_SPEC = dict(
    name=dict(type="str", required=True),
    url=dict(type="str", required=True),
    method=dict(type="str", default="GET"),
    headers=dict(type="dict"),
    body=dict(type="str"),
    expect_status=dict(type="int", default=200),
    timeout=dict(type="float"),
)


IDENTITY_PATTERNS_SPEC = dict(
    institution_id=dict(type="str", default=INSTITUTION_ID_PATTERN),
    site_id=dict(type="str", default=SITE_ID_PATTERN),
)

# Read by the action plugin on the controller (plugins/action/connection_check.py) and never sent to the site;
# accepted by the module too, so that its argument spec is the whole documented one.
ACTION_OPTIONS_SPEC = dict(
    fail_on_error=dict(type="bool", default=False),
    validate_identity=dict(type="bool", default=False),
    identity_patterns=dict(type="dict", options=IDENTITY_PATTERNS_SPEC),
)


def argument_spec():
    """The options of eeszt.connect.connection_check (one spec for the action and the module)."""
    spec = dict(
        endpoints=dict(type="list", elements="dict", required=True, options=ENDPOINT_SPEC),
        client_cert=dict(type="path", required=True),
        client_key=dict(type="path", required=True, no_log=False),
        ca_bundle=dict(type="path", required=True),
        proxy=dict(type="str"),
        # A user name is not a secret; as a no_log value a short one (say "proxy") would be
        # masked wherever it occurs in the result (docs/security.md).
        proxy_username=dict(type="str", no_log=False),
        proxy_password=dict(type="str", no_log=True),
        no_proxy=dict(type="list", elements="str", default=[]),
        timeout=dict(type="float", default=10.0),
        language=dict(type="str", choices=["en", "hu"], default="en"),
        institution_id=dict(type="str", required=True),
        site_id=dict(type="str", required=True),
        environment=dict(type="str", choices=["test", "production"], default="test"),
        host=dict(type="str"),
        proof_dir=dict(type="path", default=PROOF_DIR),
        write_proof=dict(type="bool", default=True),
        metrics_dir=dict(type="path"),
    )
    spec.update(ACTION_OPTIONS_SPEC)
    return spec


def run(module):
    """Run the check with ``module.params``; ends the module (``exit_json`` / ``fail_json``)."""
    params = module.params
    result = None
    proof_path = proof_sha256 = proof_content = metrics_path = None
    try:
        if not params["endpoints"]:
            raise CheckConfigError("endpoints must list at least one endpoint")
        if params["timeout"] <= 0:
            raise CheckConfigError("timeout must be positive")
        endpoints = [parse_endpoint(spec, params["timeout"]) for spec in params["endpoints"]]
        proxy = parse_proxy(params["proxy"], params["proxy_username"], params["proxy_password"], params["no_proxy"])
        settings = Settings(params["client_cert"], params["client_key"], params["ca_bundle"], proxy,
                            params["language"])
        result = run_check(endpoints, settings)
        if params["write_proof"] and not module.check_mode:
            document = build_proof(result, params["institution_id"], params["site_id"],
                                   params["host"] or socket.gethostname(), params["environment"],
                                   TOOL_NAME, TOOL_VERSION)
            proof_path, proof_sha256 = write_proof(params["proof_dir"], document)
            # The bytes just written (public facts only): the controller archives them without fetching the file.
            proof_content = base64.b64encode(serialize(document)).decode("ascii")
        if params["metrics_dir"] and not module.check_mode:
            # Passed or failed: a failing site is what monitoring must see.
            metrics_path = write_metrics(params["metrics_dir"], result, params["institution_id"],
                                         params["site_id"], params["environment"])
    except CheckError as exc:
        # The check's outcome (and a proof written before the failure) stays in the result.
        outcome = dict(result, proof_path=proof_path, proof_sha256=proof_sha256,
                       proof_content=proof_content) if result else {}
        module.fail_json(msg=str(exc), error=error_code(exc), **outcome)
    module.exit_json(changed=proof_path is not None or metrics_path is not None, proof_path=proof_path,
                     proof_sha256=proof_sha256, proof_content=proof_content, metrics_path=metrics_path, **result)
