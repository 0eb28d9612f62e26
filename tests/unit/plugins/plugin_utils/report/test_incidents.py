# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 24: incidents. The grouping rule at its boundaries (exactly min_sites / min_share and one below), the
choice of the scope that explains the sites, and an archive's report: index.json, report.html (both languages),
metrics.prom; ``since`` from the ledger's order, the incident closing when the sites pass again."""

import datetime
import json
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import validate
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.incidents import IncidentRule, KEYS, group
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run

WAF = "https://waf.example:443/health"
OTHER = "https://other.example:443/health"
PROXY = "http://proxy.example:3128"


def site(host, institution, category=None, environment="test", urls=(WAF,), failed_url=WAF, proxies=(),
         failed_proxy=None):
    """One member of the rule, as incidents.member() makes it."""
    failing = category not in (None, "unreachable")
    return {"host": host, "institution": institution, "site": host, "environment": environment, "urls": set(urls),
            "proxies": set(proxies), "category": category, "failed_url": failed_url if failing else None,
            "failed_proxy": failed_proxy if failing else None, "since": None}


def fleet(failing, total, category="tls_client_cert_rejected", institution="100001", others=6):
    """``total`` sites of ``institution``, the first ``failing`` of them failing with ``category``, and ``others``
    passing sites of other institutions."""
    members = [site("a%d" % n, institution, category if n < failing else None) for n in range(total)]
    members += [site("z%d" % n, "20000%d" % (n % 3)) for n in range(others)]
    return members


def found(members, rule=None):
    return [(scope, key, category, sorted(m["host"] for m in sites))
            for scope, key, category, sites in group(members, rule)]


# --- the thresholds, at their boundaries --------------------------------------------------------

def test_exactly_the_least_share_is_an_incident_one_site_fewer_is_not():
    # 2 of 4 is 0.5: an incident of the institution; 2 of 5 is 0.4: two site problems.
    assert found(fleet(2, 4)) == [("institution", "100001", "tls_client_cert_rejected", ["a0", "a1"])]
    assert found(fleet(2, 5)) == []


def test_exactly_the_least_number_of_sites_is_an_incident_one_fewer_is_not():
    rule = IncidentRule(min_sites=3, min_share=0.5)
    assert found(fleet(3, 3), rule) == [("institution", "100001", "tls_client_cert_rejected", ["a0", "a1", "a2"])]
    assert found(fleet(2, 2), rule) == []
    assert found(fleet(2, 2)) == [("institution", "100001", "tls_client_cert_rejected", ["a0", "a1"])]


def test_a_lone_failing_site_is_no_incident_even_alone_in_its_institution():
    assert found([site("a", "100001", "tcp_refused"), site("b", "100002"), site("c", "100002")]) == []
    assert found([site("a", "100001", "tcp_refused")], IncidentRule(2, 1.0)) == []


@pytest.mark.parametrize("min_sites, min_share", [(1, 0.5), (0, 0.5), (2, 0), (2, 1.01), (2, -0.5), (True, 0.5),
                                                  ("2", 0.5)])
def test_the_rule_refuses_thresholds_that_would_make_a_lone_site_an_incident_or_none(min_sites, min_share):
    with pytest.raises(ValueError, match="eeszt_proofs_incident_min_s"):
        IncidentRule(min_sites, min_share)


def test_the_highest_share_is_allowed():
    rule = IncidentRule(2, 1)
    assert found(fleet(2, 2), rule) and not found(fleet(3, 4), rule)


# --- which scope explains them ------------------------------------------------------------------

def test_every_site_failing_alike_is_one_fleet_incident():
    members = [site("s%d" % n, "10000%d" % (n % 3), "tls_server_untrusted") for n in range(12)]
    assert found(members) == [("fleet", "all", "tls_server_untrusted", sorted("s%d" % n for n in range(12)))]


def test_an_environment_that_holds_the_same_sites_with_fewer_passing_ones_wins_over_the_fleet():
    members = [site("t%d" % n, "100001", "tcp_timeout", "test") for n in range(3)]
    members += [site("p%d" % n, "100002", None, "production") for n in range(3)]
    # The fleet qualifies too (3 of 6 is 0.5), but environment test explains the same 3 sites at 3 of 3.
    assert found(members) == [("environment", "test", "tcp_timeout", ["t0", "t1", "t2"])]


def test_an_endpoint_wins_over_an_institution_that_holds_the_same_sites():
    members = [site("a%d" % n, "100001", "tcp_refused", urls=(OTHER,), failed_url=OTHER) for n in range(2)]
    members += [site("b%d" % n, "100002") for n in range(4)]
    assert found(members) == [("endpoint", OTHER, "tcp_refused", ["a0", "a1"])]


def test_a_proxy_shared_by_two_institutions_explains_more_than_either_institution():
    behind = dict(proxies=(PROXY,), failed_proxy=PROXY)
    members = [site("a0", "100001", "proxy", **behind), site("a1", "100001")]
    members += [site("b%d" % n, "100002", "proxy", **behind) for n in range(2)]
    members += [site("c%d" % n, "100003") for n in range(3)]
    assert found(members) == [("proxy", PROXY, "proxy", ["a0", "b0", "b1"])]


def test_a_proxy_failure_is_the_proxys_even_where_an_endpoint_or_the_fleet_holds_the_same_sites():
    behind = dict(proxies=(PROXY,), failed_proxy=PROXY)
    members = [site("a%d" % n, "10000%d" % n, "proxy", **behind) for n in range(3)]
    assert found(members) == [("proxy", PROXY, "proxy", ["a0", "a1", "a2"])]
    members.append(site("b0", "100009", urls=(OTHER,)))
    assert found(members) == [("proxy", PROXY, "proxy", ["a0", "a1", "a2"])]


def test_two_causes_at_once_are_two_incidents_and_the_rest_stays_site_problems():
    members = [site("a%d" % n, "100001", "tls_client_cert_rejected") for n in range(2)]
    members += [site("b%d" % n, "100002", "proxy", proxies=(PROXY,), failed_proxy=PROXY) for n in range(2)]
    members += [site("c0", "100003", "http_status"), site("c1", "100003")]
    assert sorted(found(members)) == [("institution", "100001", "tls_client_cert_rejected", ["a0", "a1"]),
                                      ("proxy", PROXY, "proxy", ["b0", "b1"])]


def test_unreachable_sites_are_grouped_by_institution_or_fleet_only():
    members = [site("a%d" % n, "100001", "unreachable", urls=()) for n in range(2)]
    members += [site("b%d" % n, "100002") for n in range(4)]
    assert found(members) == [("institution", "100001", "unreachable", ["a0", "a1"])]
    members = [site("s%d" % n, "10000%d" % (n % 2), "unreachable", urls=()) for n in range(4)]
    assert found(members) == [("fleet", "all", "unreachable", ["s0", "s1", "s2", "s3"])]


# --- the report of an archive ---------------------------------------------------------------------

T0 = datetime.datetime(2026, 12, 8, 2, 0, 0, tzinfo=datetime.timezone.utc)
SITES = [("100001", "100001001"), ("100001", "100001002"), ("100002", "100002001"), ("100002", "100002002")]


@pytest.fixture(scope="module")
def signer():
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(T0 - datetime.timedelta(days=1))
            .not_valid_after(T0 + datetime.timedelta(days=2)).sign(key, hashes.SHA256()))
    return Signer(key, cert, vendor=True)


def proof(institution, site_id, finished_at, category=None, proxy=None):
    failure = None if category is None else {"category": category, "endpoint": "health", "step": "tls",
                                             "message": "failed: %s" % category, "hint": "fix it"}
    endpoint = {"name": "health", "url": WAF, "method": "GET", "expect_status": 200, "passed": category is None,
                "ms": 5.0, "steps": [], "failure": failure}
    if proxy:
        endpoint["proxy"] = proxy
    return {"schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site_id,
            "host": "site-" + site_id, "environment": "test", "started_at": finished_at, "finished_at": finished_at,
            "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                                   "not_after": "2027-12-01T00:00:00Z"},
            "endpoints": [endpoint], "passed": category is None, "failure": failure,
            "tool": {"name": "eeszt.connect", "version": "0.1.0"}}


def run(archive, signer, minutes, categories, site_clock=None, proxies=None):
    """One collection run ``minutes`` after T0 (the controller's clock); ``categories``: {site_id: category}; the
    sites' clock says ``site_clock`` (default: the controller's time); ``proxies``: {site_id: proxy URL}."""
    now = T0 + datetime.timedelta(minutes=minutes)
    stamp = (site_clock or now).strftime("%Y-%m-%dT%H:%M:%SZ")
    outcomes = []
    for institution, site_id in SITES:
        document = proof(institution, site_id, stamp, categories.get(site_id), (proxies or {}).get(site_id))
        assert validate(document) is None
        name = "%s_%s_%s.json" % (now.strftime("%Y%m%dT%H%M%SZ"), institution, site_id)
        stored = store_proof(archive, institution, site_id, name, serialize(document), signer)
        outcomes.append({"host": "site-" + site_id, "institution_id": institution, "site_id": site_id,
                         "status": "collected", "archived": [stored]})
    record_run(archive, outcomes, "controller", now=now)
    return build_report(archive, now=now, language="hu")[1]


def test_a_fleet_incident_from_the_archive_since_its_first_run_then_closed(tmp_path, signer):
    archive = str(tmp_path / "archive")
    assert run(archive, signer, 0, {})["incidents"] == []
    every = dict((site_id, "tls_server_untrusted") for dummy, site_id in SITES)
    # The sites' clocks run a day behind: since is the controller's time of the run that received the proofs.
    run(archive, signer, 10, every, site_clock=T0 - datetime.timedelta(days=1))
    index = run(archive, signer, 70, every)
    assert [sorted(i) for i in index["incidents"]] == [sorted(KEYS)]
    incident = index["incidents"][0]
    assert (incident["scope"], incident["key"], incident["category"], incident["sites"], incident["institutions"]) \
        == ("fleet", "all", "tls_server_untrusted", 4, 2)
    assert incident["hosts"] == ["site-100001001", "site-100001002", "site-100002001", "site-100002002"]
    assert incident["since"] == "2026-12-08T02:10:00Z"
    assert "EESZT server chain changed" in incident["message"] and "eeszt_tls_ca_bundle_src" in incident["hint"]
    stored = json.loads(open(os.path.join(archive, "index.json"), encoding="utf-8").read())
    assert stored["incidents"] == index["incidents"]

    # report.html opens with it, in the page's language (hu here).
    html = open(os.path.join(archive, "report.html"), encoding="utf-8").read()
    assert html.index('<section id="incidents">') < html.index('<section class="cards"')
    assert "Incidensek" in html and "megváltozott az EESZT szerver tanúsítványlánca" in html
    assert "2026-12-08 02:10\u00a0UTC óta" in html
    build_report(archive, now=T0 + datetime.timedelta(minutes=71), language="en")
    html = open(os.path.join(archive, "report.html"), encoding="utf-8").read()
    assert "Incidents: one cause, many sites" in html and "the EESZT server chain changed" in html

    metrics = open(os.path.join(archive, "metrics.prom"), encoding="utf-8").read()
    assert 'eeszt_fleet_incident{scope="fleet",key="all",category="tls_server_untrusted"} 4\n' in metrics
    assert metrics.count("eeszt_fleet_site_incident{") == 4
    assert ('eeszt_fleet_site_incident{institution="100001",site="100001001",environment="test",scope="fleet",'
            'key="all",category="tls_server_untrusted"} 1\n') in metrics

    # The sites pass again: the incident is closed, no series, no section.
    index = run(archive, signer, 130, {})
    assert index["incidents"] == []
    assert "eeszt_fleet_incident{" not in open(os.path.join(archive, "metrics.prom"), encoding="utf-8").read()
    assert 'id="incidents"' not in open(os.path.join(archive, "report.html"), encoding="utf-8").read()


def test_since_starts_again_with_a_new_category_and_a_proxy_is_read_from_the_proof(tmp_path, signer):
    archive = str(tmp_path / "archive")
    behind = dict((site_id, PROXY) for site_id in ("100001002", "100002001", "100002002"))
    index = run(archive, signer, 0, {"100002001": "tcp_refused", "100002002": "tcp_refused"}, proxies=behind)
    assert [(i["scope"], i["key"], i["category"], i["since"]) for i in index["incidents"]] == [
        ("institution", "100002", "tcp_refused", "2026-12-08T02:00:00Z")]
    # The proxy's three sites (of two institutions) fail: the proxy explains more sites than institution 100002.
    index = run(archive, signer, 30, dict((site_id, "proxy") for site_id in behind), proxies=behind)
    assert [(i["scope"], i["key"], i["category"], i["since"], i["institutions"]) for i in index["incidents"]] == [
        ("proxy", PROXY, "proxy", "2026-12-08T02:30:00Z", 2)]
    label = 'eeszt_fleet_incident{scope="proxy",key="%s",category="proxy"} 3\n' % PROXY
    assert label in open(os.path.join(archive, "metrics.prom"), encoding="utf-8").read()


def test_the_proof_schema_takes_a_proxy_without_credentials_only():
    document = proof("100001", "100001001", "2026-12-08T02:00:00Z", "proxy", PROXY)
    assert validate(document) is None
    document["endpoints"][0]["proxy"] = "http://user:secret@proxy.example:3128"
    assert "endpoints[0].proxy" in validate(document)
