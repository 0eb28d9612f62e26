# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight's validation logic (plugin_utils/site_vars.py) and the pure parts of its action plugin."""

import os

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight import roles
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_vars
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.site_vars import (
    HIDDEN,
    Problem,
    check_endpoints,
    check_identity,
    check_values,
    endpoint_problems,
    secret_options,
    spec_options,
    url_problems,
    validate_options,
)

ENVIRONMENTS = ["test", "production"]
GOOD_IDENTITY = {"eeszt_institution_id": "123456", "eeszt_site_id": "123456001", "eeszt_environment": "test"}


def by_variable(problems):
    return dict((problem.variable, problem) for problem in problems)


def role_options(role, entry_point="main"):
    path = os.path.join(roles.ROLES_DIR, role, "meta", "argument_specs.yml")
    with open(path) as handle:
        return spec_options(yaml.safe_load(handle), role, entry_point)


# --- identity -----------------------------------------------------------------------------------------


def test_a_good_identity_has_no_problem():
    assert check_identity(GOOD_IDENTITY, ENVIRONMENTS) == []
    # Numbers from an INI inventory are accepted when they match, as the roles' "| string" does.
    assert check_identity(dict(GOOD_IDENTITY, eeszt_institution_id=123456), ENVIRONMENTS) == []


def test_unknown_environment_is_named_with_its_value():
    problems = check_identity(dict(GOOD_IDENTITY, eeszt_environment="staging"), ENVIRONMENTS)
    assert [str(problem) for problem in problems] == [
        'eeszt_environment = "staging": is not a known EESZT environment (known: test, production); '
        "set it to one of them (the default is test)"]


def test_missing_identifiers_are_required():
    problems = by_variable(check_identity({}, ENVIRONMENTS))
    assert sorted(problems) == ["eeszt_institution_id", "eeszt_site_id"]
    assert problems["eeszt_site_id"].message == "is required but not set"
    assert problems["eeszt_site_id"].shown is None


def test_identifiers_are_optional_when_no_role_requires_them():
    assert check_identity({"eeszt_environment": "test"}, ENVIRONMENTS, required=False) == []
    problems = check_identity({"eeszt_site_id": "1"}, ENVIRONMENTS, required=False)
    assert [p.variable for p in problems] == ["eeszt_site_id"]


def test_dropped_leading_zeros_get_the_registry_hint():
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id=12345, eeszt_site_id="999999001"),
                             ENVIRONMENTS)[0]
    assert problem.variable == "eeszt_institution_id"
    assert problem.shown == "12345"
    assert '"012345"?' in problem.remedy
    assert "quoted strings" in problem.remedy


def test_a_short_institution_id_gets_the_site_ids_prefix_not_a_guessed_zero():
    # Issue 27: "12345" with the site ID "123456001" suggested "012345"; the site ID says "123456".
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id="12345"), ENVIRONMENTS)[0]
    assert problem.remedy.startswith('the site ID "123456001" begins with "123456": is that the institution ID?')
    assert "012345" not in problem.remedy
    # Without a site ID that fits (it does not hold the value at its start or end), the zeros hint stays.
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id="12345", eeszt_site_id="999999001"),
                             ENVIRONMENTS)[0]
    assert '"012345"?' in problem.remedy and "begins with" not in problem.remedy
    # A digit lost at the start: "23456" in site "123456001".
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id="23456"), ENVIRONMENTS)[0]
    assert 'begins with "123456"' in problem.remedy
    # The same value as the prefix (the pattern itself is wrong) is no suggestion.
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id="1234560"), ENVIRONMENTS)[0]
    assert "begins with" not in problem.remedy


def test_patterns_are_overridable_and_the_check_role_wins():
    values = dict(GOOD_IDENTITY, eeszt_site_id="AB-1", eeszt_site_id_pattern="^[A-Z]{2}-[0-9]$")
    assert check_identity(values, ENVIRONMENTS) == []
    values["eeszt_check_site_id_pattern"] = "^[0-9]+$"
    problem = check_identity(values, ENVIRONMENTS)[0]
    assert (problem.variable, problem.message) == ("eeszt_site_id", "does not match ^[0-9]+$")
    assert "eeszt_check_site_id_pattern" in problem.remedy


def test_a_broken_pattern_is_reported_as_the_pattern_variable():
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_institution_id_pattern="^[0-9"), ENVIRONMENTS)[0]
    assert problem.variable == "eeszt_institution_id_pattern"
    assert "not a valid regular expression" in problem.message


def test_identifiers_must_be_text():
    problem = check_identity(dict(GOOD_IDENTITY, eeszt_site_id=["123456001"]), ENVIRONMENTS)[0]
    assert (problem.variable, problem.message) == ("eeszt_site_id", "must be text, not list")


# --- endpoints ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["https://waf.example.hu/", "https://127.0.0.1:8443/health",
                                 "HTTPS://[::1]:443/soap?x=1"])
def test_good_urls(url):
    assert url_problems("u", url) == []


@pytest.mark.parametrize("url, message", [
    ("http://waf.example/", 'must use https:// (got scheme "http")'),
    ("https//waf.example/", 'must use https:// (got scheme "none"), has no host name'),
    ("https:///path", "has no host name"),
    ("https://waf.example:0/", "has port 0 outside 1-65535"),
    ("https://waf.example:/", "has an empty port"),
    ("https://user:pw@waf.example/", "must not contain credentials"),
    ("https://waf example/", "must not contain spaces or line breaks"),
    ("https://waf.example:70000/", "is not a valid URL (Port out of range 0-65535)"),
    ("https://waf.example:8x/", "is not a valid URL"),
    ("", "must be an https:// URL"),
    (None, "must be an https:// URL"),
])
def test_bad_urls_name_what_is_wrong(url, message):
    problems = url_problems("eeszt_endpoints[0].url", url)
    assert len(problems) == 1
    assert problems[0].variable == "eeszt_endpoints[0].url"
    assert problems[0].message.startswith(message)


def test_url_credentials_are_masked_in_the_shown_value():
    problem = url_problems("u", "https://user:hunter2@waf.example/")[0]
    assert "hunter2" not in str(problem)
    assert '"https://***@waf.example/"' in str(problem)


def test_endpoint_fields():
    problems = by_variable(endpoint_problems("eeszt_endpoints", [
        {"name": "waf", "url": "https://a.example/", "method": "GE T", "expect_status": 99, "timeout": 0},
        {"name": "waf", "url": "https://b.example/", "headers": {"X-A": "1\r\nX-B: 2"}},
        "https://c.example/",
        {"url": "https://d.example/", "expect_status": True, "timeout": -1.5},
    ]))
    assert sorted(problems) == [
        "eeszt_endpoints[0].expect_status", "eeszt_endpoints[0].method", "eeszt_endpoints[0].timeout",
        "eeszt_endpoints[1].headers", "eeszt_endpoints[1].name", "eeszt_endpoints[2]",
        "eeszt_endpoints[3].expect_status", "eeszt_endpoints[3].name", "eeszt_endpoints[3].timeout"]
    assert problems["eeszt_endpoints[1].name"].message == "is used twice (also eeszt_endpoints[0])"
    assert problems["eeszt_endpoints[0].timeout"].message == "must be a number of seconds > 0"


def test_no_endpoints_is_a_problem():
    assert [p.message for p in endpoint_problems("eeszt_endpoints", [])] == ["must be a non-empty list of endpoints"]
    assert [p.message for p in endpoint_problems("eeszt_endpoints", {"name": "x"})] == [
        "must be a non-empty list of endpoints"]


def test_default_endpoints_come_from_the_environment_table():
    table = {"test": [{"name": "waf", "url": "http://teszt.example/"}], "production": []}
    problems = check_endpoints({"eeszt_environment": "test", "eeszt_check_endpoints_by_environment": table})
    assert [p.variable for p in problems] == ["eeszt_check_endpoints_by_environment.test[0].url"]
    # eeszt_endpoints, when set, replaces the table.
    assert check_endpoints({"eeszt_endpoints": [{"name": "a", "url": "https://a.example/"}],
                            "eeszt_check_endpoints_by_environment": table}) == []


def test_the_quick_start_placeholder_is_refused():
    [problem] = url_problems("eeszt_check_endpoints_by_environment.test[0].url",
                             "https://CHANGE-ME-FROM-THE-CONNECTION-DOCUMENTS/")
    assert problem.message == "still has the placeholder host of the quick start"
    assert "connection documents" in problem.remedy


@pytest.mark.parametrize("table", [
    {"test": [{"name": "waf", "url": "https://teszt.example/"}], "production": []},  # the shipped shape, empty
    {"test": [{"name": "waf", "url": "https://teszt.example/"}]},                    # the environment missing
    {"test": [], "production": None},
    {},
    None,                                                                             # no table at all
])
def test_no_endpoints_for_the_environment_refuses_the_site(table):
    values = {"eeszt_environment": "production"}
    if table is not None:
        values["eeszt_check_endpoints_by_environment"] = table
    [problem] = check_endpoints(values)
    assert problem.variable == "eeszt_endpoints"
    assert problem.message == ('is not set and eeszt_check_endpoints_by_environment has no endpoints for the '
                               'environment "production", so there is nothing to check')
    assert "connection documents the EESZT operator sent" in problem.remedy
    assert "eeszt_check_endpoints_by_environment.production" in problem.remedy


def test_the_shipped_defaults_name_no_endpoint():
    """No guessed host name: the vendor fills the table from the connection documents."""
    defaults = yaml.safe_load(open(os.path.join(roles.ROLES_DIR, "connection_check", "defaults", "main.yml")))
    assert defaults["eeszt_check_endpoints_by_environment"] == {"test": [], "production": []}


def test_an_environment_table_that_is_no_mapping():
    [problem] = check_endpoints({"eeszt_check_endpoints_by_environment": ["https://a.example/"]})
    assert problem.variable == "eeszt_check_endpoints_by_environment"
    assert problem.message == "must be a mapping of environment to a list of endpoints"


# --- ranges and shapes --------------------------------------------------------------------------------


def test_negative_days_and_non_positive_timeouts():
    problems = by_variable(check_values({
        "eeszt_certificate_min_days": -3, "eeszt_certificate_warn_days": 30, "eeszt_tls_ca_warn_days": -1,
        "eeszt_proofs_warn_days": 0, "eeszt_check_timeout": 0, "eeszt_tls_gateway_connect_timeout": 5,
        "eeszt_certificate_backups": -1, "eeszt_certificate_lock_timeout": 0, "eeszt_tls_clock_skew_max": 0}))
    assert sorted(problems) == ["eeszt_certificate_backups", "eeszt_certificate_min_days", "eeszt_check_timeout",
                                "eeszt_tls_ca_warn_days"]
    assert str(problems["eeszt_certificate_min_days"]) == (
        "eeszt_certificate_min_days = -3: must be a number >= 0; set a non-negative number")
    assert problems["eeszt_check_timeout"].message == "must be a number > 0"


def test_warn_days_must_not_be_below_min_days():
    problem = check_values({"eeszt_certificate_min_days": 30, "eeszt_certificate_warn_days": 14})[0]
    assert problem.variable == "eeszt_certificate_warn_days"
    assert "below eeszt_certificate_min_days (30)" in problem.message
    assert check_values({"eeszt_certificate_min_days": 14, "eeszt_certificate_warn_days": 14}) == []
    # A negative min_days is reported once, not also as a relation.
    assert [p.variable for p in check_values({"eeszt_certificate_min_days": -1,
                                              "eeszt_certificate_warn_days": -2})] == [
        "eeszt_certificate_min_days", "eeszt_certificate_warn_days"]


def test_proxy_shape_and_masked_credentials():
    assert check_values({"eeszt_tls_proxy": "http://proxy.example.hu:3128",
                         "eeszt_check_proxy": "http://proxy.example.hu:3128"}) == []
    problems = check_values({"eeszt_tls_proxy": "http://u:hunter2@proxy:3128",
                             "eeszt_check_proxy": "http://u:hunter2@proxy:3128"})
    assert [p.variable for p in problems] == ["eeszt_tls_proxy"]  # the check role's default, reported once
    assert "hunter2" not in str(problems[0])
    problems = check_values({"eeszt_check_proxy": "proxy.example.hu:3128"})
    assert [p.variable for p in problems] == ["eeszt_check_proxy"]
    assert [p.message for p in check_values({"eeszt_tls_proxy": "http://proxy:99999"})] == [
        "has an invalid port (Port out of range 0-65535)"]


def test_site_paths_must_be_absolute():
    problems = check_values({"eeszt_certificate_dir": "etc/eeszt/tls", "eeszt_check_proof_dir": "/var/lib/x",
                             "eeszt_tls_java_truststore": None, "eeszt_tls_config_dir": ""})
    assert [(p.variable, p.message) for p in problems] == [
        ("eeszt_certificate_dir", "must be an absolute path on the site")]


def test_operator_file_patterns_and_size_limit():
    assert check_values({"eeszt_proofs_operator_files": ["/var/lib/eeszt/operator/*"],
                         "eeszt_proofs_operator_files_max_bytes": 1}) == []
    problems = check_values({"eeszt_proofs_operator_files": ["/ok/*", "operator/*.pdf", "/var/../etc/*"],
                             "eeszt_proofs_operator_files_max_bytes": 0})
    assert [str(p) for p in problems] == [
        "eeszt_proofs_operator_files_max_bytes = 0: must be a number > 0; set a positive number",
        "eeszt_proofs_operator_files[1] = \"operator/*.pdf\": is not an absolute path on the site; write the full path "
        "of the operator files on the site, e.g. /var/lib/eeszt/operator/*",
        "eeszt_proofs_operator_files[2] = \"/var/../etc/*\": contains '..'; write the full path of the operator files "
        "on the site, e.g. /var/lib/eeszt/operator/*"]


def test_metrics_dir_must_be_absolute_when_set():
    problems = check_values({"eeszt_check_metrics_dir": "var/lib/prometheus/node-exporter"})
    assert [(p.variable, p.message, p.remedy) for p in problems] == [
        ("eeszt_check_metrics_dir", "must be an absolute path on the site", "write the full path, starting with /")]
    assert check_values({"eeszt_check_metrics_dir": None}) == []
    assert check_values({"eeszt_check_metrics_dir": "/var/lib/prometheus/node-exporter"}) == []


def test_key_mode_and_gateway_ports():
    problems = by_variable(check_values({"eeszt_certificate_key_mode": "600x", "eeszt_tls_gateway_base_port": 0,
                                         "eeszt_tls_gateway_ports": {"waf": 70000, "soap": 18081}}))
    assert sorted(problems) == ["eeszt_certificate_key_mode", "eeszt_tls_gateway_base_port",
                                "eeszt_tls_gateway_ports.waf"]
    assert check_values({"eeszt_certificate_key_mode": "0640"}) == []


def test_skip_leaves_reported_variables_alone():
    assert check_values({"eeszt_certificate_min_days": -1}, skip={"eeszt_certificate_min_days"}) == []
    assert check_values({"eeszt_endpoints": []}, skip={"eeszt_endpoints"}) == []


# --- the roles' argument specs -------------------------------------------------------------------------


def test_the_role_specs_catch_types_choices_and_required():
    options = role_options("certificate")
    validated, problems = validate_options(options, {
        "eeszt_certificate_pfx_password": "pw", "eeszt_certificate_min_days": "abc",
        "eeszt_certificate_formats": ["pem", "der"], "eeszt_certificate_warn_days": "45",
        "eeszt_certificate_owner": None}, "certificate")
    problems = by_variable(problems)
    assert sorted(problems) == ["eeszt_certificate_formats", "eeszt_certificate_min_days",
                                "eeszt_certificate_pfx_src"]
    assert problems["eeszt_certificate_pfx_src"].message == "is required but not set"
    assert problems["eeszt_certificate_min_days"].shown == '"abc"'
    assert "unable to convert to int" in problems["eeszt_certificate_min_days"].message
    assert "ansible-doc -t role eeszt.connect.certificate" in problems["eeszt_certificate_formats"].remedy
    assert validated["eeszt_certificate_warn_days"] == 45  # converted, as the role will see it


def test_the_environment_choice_comes_from_the_check_role():
    options = role_options("connection_check")
    assert options["eeszt_environment"]["choices"] == ENVIRONMENTS
    dummy, problems = validate_options(options, dict(GOOD_IDENTITY, eeszt_environment="staging"), "connection_check")
    assert [p.variable for p in problems] == ["eeszt_environment"]


def test_secret_options_are_named_never_shown():
    options = {"token": {"type": "int", "no_log": True}, "port": {"type": "int"}}
    assert secret_options(options) == frozenset(["token"])
    dummy, problems = validate_options(options, {"token": "hunter2-not-a-number", "port": 1}, "example")
    assert len(problems) == 1
    assert problems[0].variable == "token"
    assert problems[0].shown is None
    assert "hunter2" not in str(problems[0])
    certificate_secrets = secret_options(role_options("certificate"))
    assert certificate_secrets >= {"eeszt_certificate_pfx_password", "eeszt_certificate_export_password"}


def test_every_stage_role_has_a_readable_spec():
    for role in roles.STAGE_ROLES:
        assert role_options(role)
    assert role_options("certificate", "rollback")
    with pytest.raises(ValueError, match="no argument spec entry point 'nope'"):
        spec_options({"argument_specs": {}}, "certificate", "nope")


def test_split_role():
    assert roles.split_role("certificate") == ("certificate", "main")
    assert roles.split_role("eeszt.connect.certificate:rollback") == ("certificate", "rollback")


def test_show_shortens_and_hides():
    assert site_vars.show("x" * 500).endswith("...")
    assert len(site_vars.show("x" * 500)) == site_vars.MAX_SHOWN
    assert site_vars.show("secret", secret=True) == HIDDEN
    assert str(Problem("v", None, "is required but not set", "set it")) == "v: is required but not set; set it"


# --- nothing crashes, whatever the inventory holds -----------------------------------------------------

JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
VARIABLES = ["eeszt_endpoints", "eeszt_environment", "eeszt_certificate_min_days", "eeszt_certificate_warn_days",
             "eeszt_tls_proxy", "eeszt_check_proxy", "eeszt_certificate_dir", "eeszt_certificate_key_mode",
             "eeszt_tls_gateway_ports", "eeszt_tls_gateway_base_port", "eeszt_check_timeout",
             "eeszt_check_endpoints_by_environment", "eeszt_institution_id", "eeszt_site_id",
             "eeszt_institution_id_pattern"]


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(VARIABLES), JSONISH))
def test_any_values_give_problems_not_tracebacks(values):
    problems = check_identity(values, ENVIRONMENTS) + check_values(values)
    for problem in problems:
        assert isinstance(problem, Problem)
        assert problem.variable and problem.message and problem.remedy
        assert len(problem.shown or "") <= site_vars.MAX_SHOWN


@settings(max_examples=50, deadline=None)
@given(st.text(min_size=6, max_size=30).filter(lambda text: text.strip() == text and not text.isdigit()))
def test_a_secret_never_appears_in_a_problem(secret):
    options = role_options("tls_client")
    dummy, problems = validate_options(options, {"eeszt_tls_ca_bundle_src": "/ca.pem",
                                                 "eeszt_tls_proxy_password": secret,
                                                 "eeszt_tls_java_keystore_password": [secret],
                                                 "eeszt_tls_min_protocol": "SSLv3"}, "tls_client")
    assert [p.variable for p in problems] == ["eeszt_tls_min_protocol"]
    assert all(secret not in str(problem) for problem in problems)
