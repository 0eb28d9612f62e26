# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The proof schema (issue 21, point 1): honest proofs keep it, every field's type and limit is enforced with
a readable path and reason, the validator agrees with the jsonschema package, docs/proof-schema.md is the
generated table, the clock check's boundaries, and the quarantine."""

import copy
import datetime
import json
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.module_utils.check.messages import CATEGORIES
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import make_failure
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import build_proof, serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import quarantine
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import accept_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ProofInvalidError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import check_name
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import (
    DOC_BEGIN,
    DOC_END,
    PROOF_JSON_SCHEMA,
    parse_proof,
    schema_markdown,
    time_problem,
    validate,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))))
NOW = datetime.datetime(2026, 11, 25, 12, 0, 0, tzinfo=datetime.timezone.utc)
INST, SITE = "100001", "100001001"
CERT = {"subject": "CN=100001 Rendelo Kft,O=100001", "issuer": "CN=EESZT Lab CA", "serial": "5F3A9C",
        "sha256": "ab" * 32, "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z"}


def steps_passed():
    return [
        {"name": "dns", "ok": True, "ms": 0.4, "details": {"host": "127.0.0.1", "addresses": ["127.0.0.1"]}},
        {"name": "tcp", "ok": True, "ms": 0.3, "details": {"address": "127.0.0.1", "port": 8443}},
        {"name": "tls", "ok": True, "ms": 9.1, "details": {
            "protocol": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384",
            "server_certificate": {"subject": "CN=waf.lab", "issuer": "CN=EESZT Lab CA",
                                   "not_after": "2027-01-01T00:00:00Z", "sha256": "cd" * 32}}},
        {"name": "http", "ok": True, "ms": 2.2, "details": {
            "method": "GET", "path": "/health", "expect_status": 200, "request_headers": ["accept"],
            "request_bytes": 120, "status": 200, "reason_phrase": "OK", "server": "eeszt-lab-waf"}},
    ]


def result(passed=True, failure=None, endpoints=None, certificate=None):
    certificate = dict(CERT) if certificate is None else certificate
    if endpoints is None:
        endpoints = [{"name": "health", "url": "https://127.0.0.1:8443/health", "method": "GET",
                      "expect_status": 200, "passed": passed, "ms": 12.0, "steps": steps_passed(),
                      "failure": failure}]
    return {"passed": passed, "started_at": "2026-11-25T10:00:00Z", "finished_at": "2026-11-25T10:00:01Z",
            "client_certificate": certificate, "endpoints": endpoints, "failure": failure}


def honest_documents():
    """Proofs as the site's check writes them: passed, failed at each kind of step, failed in the preflight."""
    documents = [build_proof(result(), INST, SITE, "site001", "test", "eeszt.connect.connection_check", "0.1.0")]
    for category in sorted(CATEGORIES):
        failure = make_failure(category, "hu", {"host": "waf.example", "port": 443, "reason": "x" * 300,
                                                "timeout": 10.0, "proxy": "http://proxy:3128",
                                                "url": "https://waf.example/"}, "health", "tls")
        steps = steps_passed()[:3]
        details = {"error": "no", "category": category, "proxy": "http://proxy:3128", "proxy_auth": True,
                   "proxy_status": 407}
        steps[-1] = {"name": "tls", "ok": False, "ms": 10.0, "details": details}
        endpoint = {"name": "health", "url": "https://waf.example/", "method": "POST", "expect_status": 200,
                    "passed": False, "ms": 10.0, "steps": steps, "failure": failure}
        documents.append(build_proof(result(False, failure, [endpoint]), INST, SITE, "site001", "production",
                                     "eeszt.connect.connection_check", "0.1.0"))
    # The certificate could not be read: every fact is null, no step ran.
    failure = make_failure("client_cert_invalid", "en", {"reason": "cannot read /etc/eeszt/tls/cert.pem"},
                           step="preflight")
    endpoint = {"name": "health", "url": "https://waf.example/", "method": "GET", "expect_status": 200,
                "passed": False, "steps": [], "failure": failure, "ms": 0.0}
    documents.append(build_proof(result(False, failure, [endpoint], None), INST, SITE, "site001", "test",
                                 "eeszt.connect.connection_check", "0.1.0"))
    # As the controller reads them: the bytes the site writes, decoded.
    return [json.loads(serialize(document).decode("utf-8")) for document in documents]


def proof_material():
    import proof_material as material  # tests/tools, on the path of the unit tests
    return json.loads(material.proof(INST, SITE).decode("utf-8"))


def test_every_honest_proof_keeps_the_schema():
    documents = honest_documents() + [proof_material()]
    # A proof of an earlier version without not_before.
    older = copy.deepcopy(documents[0])
    del older["client_certificate"]["not_before"]
    documents.append(older)
    for document in documents:
        assert validate(document) is None, document
        assert parse_proof(serialize(document), "p.json") == document


def test_the_failure_categories_are_the_site_codes():
    assert PROOF_JSON_SCHEMA["properties"]["failure"]["properties"]["category"]["enum"] == sorted(CATEGORIES)


@pytest.mark.parametrize("path, value, problem", [
    (("failure",), "boom", "failure: expected an object or null, got a string"),
    (("host",), ["a", "b"], "host: expected a string, got a list"),
    (("finished_at",), 1764064801, "finished_at: expected a string, got an integer"),
    (("finished_at",), "2026-11-25T10:00:01Z\n", "finished_at: '2026-11-25T10:00:01Z\\n' is not of the form"),
    (("started_at",), "٢٠٢٦-11-25T10:00:00Z", "started_at: "),
    (("passed",), 1, "passed: expected a boolean, got an integer"),
    (("environment",), "staging", "environment: 'staging' is not one of test, production"),
    (("institution_id",), "../100002", "institution_id: '../100002' is not of the form"),
    (("client_certificate", "sha256"), "AB" * 32, "client_certificate.sha256: "),
    (("client_certificate", "private_key"), "-----BEGIN", "client_certificate: the field 'private_key' is not part"),
    (("endpoints", 0, "steps", 0, "ms"), -1, "endpoints[0].steps[0].ms: -1 is less than 0"),
    (("endpoints", 0, "expect_status"), True, "endpoints[0].expect_status: expected an integer or null, got a boolean"),
    (("endpoints", 0, "steps", 0, "name"), "ping", "endpoints[0].steps[0].name: 'ping' is not one of dns, tcp, tls"),
    (("endpoints", 0, "steps", 2, "details", "server_certificate"), "x",
     "endpoints[0].steps[2].details.server_certificate: expected an object, got a string"),
    (("tool",), {"name": "x"}, "tool: lacks the required field(s) version"),
])
def test_a_broken_field_is_named_with_its_path_and_reason(path, value, problem):
    document = honest_documents()[0]
    target = document
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    found = validate(document)
    assert found is not None and found.startswith(problem), found
    with pytest.raises(ProofInvalidError) as raised:
        parse_proof(json.dumps(document).encode("utf-8"), "p.json")
    assert raised.value.reason == found and str(raised.value) == "p.json: %s" % found


def test_a_failure_category_not_of_the_site_is_refused():
    document = honest_documents()[1]
    document["failure"]["category"] = "boom"
    assert validate(document).startswith("failure.category: 'boom' is not one of client_cert_invalid, ")


@pytest.mark.parametrize("path, shown, limit", [
    (("host",), "host", 255), (("failure", "message"), "failure.message", 2000),
    (("failure", "hint"), "failure.hint", 2000), (("institution_id",), "institution_id", 64),
    (("client_certificate", "subject"), "client_certificate.subject", 1024),
    (("endpoints", 0, "url"), "endpoints[0].url", 2048), (("tool", "version"), "tool.version", 64),
    (("endpoints", 0, "name"), "endpoints[0].name", 255),
    (("endpoints", 0, "failure", "reason"), "endpoints[0].failure.reason", 2000),
])
def test_every_text_has_a_limit_exactly_at_it_is_kept_one_past_it_refused(path, shown, limit):
    document = honest_documents()[1]
    target = document
    for part in path[:-1]:
        target = target[part]
    fill = "https://" if path[-1] == "url" else ""
    target[path[-1]] = fill + "1" * (limit - len(fill))
    assert validate(document) is None
    target[path[-1]] += "1"
    assert validate(document) == "%s: %d characters, more than %d" % (shown, limit + 1, limit)


def test_lists_have_a_limit():
    document = honest_documents()[0]
    document["endpoints"] = document["endpoints"] * 64
    assert validate(document) is None
    document["endpoints"].append(document["endpoints"][0])
    assert validate(document) == "endpoints: 65 items, more than 64"


def test_nan_and_infinity_are_no_json_numbers():
    document = honest_documents()[0]
    document["endpoints"][0]["steps"][0]["ms"] = float("inf")
    assert validate(document) == "endpoints[0].steps[0].ms: expected a number, got a number that is not finite"
    data = serialize(honest_documents()[0]).replace(b'"ms": 0.4', b'"ms": NaN')
    with pytest.raises(ProofInvalidError, match="NaN is not a JSON number"):
        parse_proof(data, "p.json")


def test_deep_nesting_is_refused_not_a_crash():
    with pytest.raises(ProofInvalidError, match="not a JSON proof document"):
        parse_proof(b"[" * 100000 + b"]" * 100000, "p.json")


# --- the clock ----------------------------------------------------------------------------------

def timed(started, finished, not_before="2026-01-01T00:00:00Z"):
    document = honest_documents()[0]
    document.update(started_at=started, finished_at=finished)
    document["client_certificate"]["not_before"] = not_before
    return document


def test_a_proof_exactly_at_the_tolerance_is_accepted_one_second_more_is_clock_skew():
    assert time_problem(timed("2026-11-25T12:00:00Z", "2026-11-25T12:05:00Z"), NOW, 300) is None
    problem = time_problem(timed("2026-11-25T12:00:00Z", "2026-11-25T12:05:01Z"), NOW, 300)
    assert problem == ("clock skew: finished_at 2026-11-25T12:05:01Z is 301 s ahead of the controller's clock "
                       "(2026-11-25T12:00:00Z), more than the tolerance of 300 s (eeszt_proofs_clock_tolerance); "
                       "correct the site's clock (NTP) and run the check again")
    assert time_problem(timed("2026-11-25T12:00:01Z", "2026-11-25T12:00:01Z"), NOW, 0).startswith(
        "clock skew: started_at 2026-11-25T12:00:01Z is 1 s ahead")
    assert "2099-01-01T00:00:00Z is 2275300800 s ahead" in time_problem(timed("2099-01-01T00:00:00Z", "2099-01-01T00:00:00Z"), NOW)


def test_a_check_before_the_certificate_was_valid_is_clock_skew():
    assert time_problem(timed("2025-12-31T23:55:00Z", "2025-12-31T23:55:00Z"), NOW, 300) is None
    problem = time_problem(timed("2025-12-31T23:54:59Z", "2025-12-31T23:55:00Z"), NOW, 300)
    assert problem.startswith("clock skew: started_at 2025-12-31T23:54:59Z is 301 s before the client "
                              "certificate's not_before 2026-01-01T00:00:00Z, more than the tolerance of 300 s "
                              "(eeszt_proofs_clock_tolerance)")
    # Proofs of earlier versions have no not_before: only the future is checked.
    assert time_problem(timed("2020-01-01T00:00:00Z", "2020-01-01T00:00:00Z", None), NOW, 300) is None


def test_accept_proof_refuses_the_future_as_an_invalid_proof():
    data = serialize(timed("2099-01-01T00:00:00Z", "2099-01-01T00:00:01Z"))
    with pytest.raises(ProofInvalidError, match="clock skew: started_at 2099") as raised:
        accept_proof(data, "p.json", INST, SITE, now=NOW, clock_tolerance=300)
    assert raised.value.data == data
    assert accept_proof(serialize(timed("2026-11-25T12:04:00Z", "2026-11-25T12:05:00Z")), "p.json", INST, SITE,
                        now=NOW)["passed"] is True


# --- the quarantine -----------------------------------------------------------------------------

def test_quarantine_keeps_the_bytes_and_why_once_and_is_a_reserved_name(tmp_path):
    archive = str(tmp_path)
    record = quarantine.quarantine(archive, INST, SITE, "bad.json", b'{"failure": "boom"}', "failure: no",
                                   host="site001", now=NOW)
    assert record["path"] == "quarantine/100001/100001001/bad.json"
    folder = tmp_path / "quarantine" / INST / SITE
    assert (folder / "bad.json").read_bytes() == b'{"failure": "boom"}'
    reason = json.loads((folder / "bad.json.reason.json").read_text())
    assert (reason["reason"], reason["host"]) == ("failure: no", "site001")
    assert reason["quarantined_at"] == "2026-11-25T12:00:00Z"
    assert quarantine.find(archive, INST, SITE, "bad.json", record["sha256"]) == record
    assert quarantine.find(archive, INST, SITE, "bad.json", "00" * 32) is None
    # The same bytes again: the first record stays.
    assert quarantine.quarantine(archive, INST, SITE, "bad.json", b'{"failure": "boom"}', "other") == record
    # Other bytes under the same name: kept beside, never over it.
    other = quarantine.quarantine(archive, INST, SITE, "bad.json", b"[]", "not an object", now=NOW)
    assert other["path"] == "quarantine/100001/100001001/bad_%s.json" % other["sha256"][:12]
    assert [(e["path"], e["reason"], e["host"]) for e in quarantine.scan(archive)] == [
        (record["path"], "failure: no", "site001"), (other["path"], "not an object", None)]
    with pytest.raises(ProofsError, match="cannot be used as a folder name"):
        check_name("quarantine", "institution_id")


# --- the validator against jsonschema, and the documentation -------------------------------------

def reference_validator():
    """jsonschema's draft 2020-12 validator (ansible-lint depends on the package); skipped without it."""
    jsonschema = pytest.importorskip("jsonschema")
    return jsonschema.Draft202012Validator


JSON_SCALARS = st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | \
    st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=40)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=4), max_leaves=12)
FIELD_VALUES = JSON_VALUES | st.sampled_from([
    "2026-11-25T10:00:00Z", "2026-11-25T10:00:00.5Z", "2026-11-25T10:00:00Z\n", "test", "production", "GET",
    "dns", "preflight", "tcp_refused", "boom", "ab" * 32, "AB" * 32, "x" * 256, "x" * 2001, 100, 599, 600, 2.0,
    -0.5, 86400001, "https://waf/\x00", "eeszt.connect/proof/v1"])


def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for key in value:
            yield from _paths(value[key], prefix + (key,))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _paths(item, prefix + (number,))


@st.composite
def mutated_proofs(draw):
    """An honest proof with a few fields replaced, removed or added at any depth."""
    document = copy.deepcopy(draw(st.sampled_from(honest_documents())))
    for dummy in range(draw(st.integers(0, 3))):
        paths = [p for p in _paths(document) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = document
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "remove" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=10))] = draw(FIELD_VALUES)
        else:
            parent[path[-1]] = draw(FIELD_VALUES)
    return document


@settings(max_examples=400, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(mutated_proofs(), JSON_VALUES))
def test_the_validator_agrees_with_jsonschema(document):
    reference = reference_validator()(PROOF_JSON_SCHEMA)
    assert (validate(document) is None) == reference.is_valid(document), (validate(document), document)


def test_the_schema_is_a_valid_draft_2020_12_schema():
    validator = reference_validator()
    validator.check_schema(PROOF_JSON_SCHEMA)
    for document in honest_documents():
        validator(PROOF_JSON_SCHEMA).validate(document)


def test_docs_proof_schema_holds_the_generated_table():
    with open(os.path.join(ROOT, "docs", "proof-schema.md"), encoding="utf-8") as handle:
        text = handle.read()
    start, end = text.index(DOC_BEGIN), text.index(DOC_END) + len(DOC_END) + 1
    assert text[start:end] == schema_markdown(), "regenerate: python -c 'from ...schema import schema_markdown'"
