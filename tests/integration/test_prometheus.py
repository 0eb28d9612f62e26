# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Monitoring, end to end (issue 16): the check's metrics reach a real Prometheus.

site.yml runs on three demo sites against a private lab with
``eeszt_check_metrics_dir`` set for every site (a node_exporter textfile
directory under each site's root); site002's endpoint is a port nobody
listens on. Every metrics file passes ``promtool check metrics``. Then one
real node_exporter per site (textfile collector only, pointed at that site's
directory) and a real Prometheus server scraping them every second, with the
alert rules of docs/monitoring/eeszt-alerts.yml (their ``for`` set to 0s),
all on loopback ports. Prometheus' HTTP API shows the passing sites up, the
failing site's category, step and endpoint, each site's certificate expiry
and step durations, and the alert EesztConnectionCheckFailing firing for the
failing site only. Next, site001's connection breaks: a second check turns it
down in Prometheus while its last-success time stays that of the first run.
The controller's fleet metrics (``metrics.prom`` in the proof archive,
through a fourth node_exporter) give every site's status, failure and
certificate expiry in one scrape. The alert rules themselves pass
``promtool check rules`` and their unit tests (``promtool test rules``).
"""

import json
import os
import stat
import subprocess

import pytest
import yaml
from cryptography import x509

import prom

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
MONITORING = os.path.join(ROOT, "docs", "monitoring")
HOSTS = ["site001", "site002", "site003"]
SITE_IDS = {"site001": "100001001", "site002": "100001002", "site003": "100001003"}
METRICS_DIR = "var/lib/prometheus/node-exporter"
METRICS_FILE = "eeszt_check_100001_%s_test.prom"
pytestmark = pytest.mark.slow


def overrides(path, port, *hosts):
    """A second inventory source: the hosts' only endpoint is a port nobody listens on."""
    lines = ["eeszt_sites:", "  hosts:"]
    for host in hosts:
        lines.append("    %s: %s" % (host, json.dumps({"eeszt_endpoints": [
            {"name": "health", "url": "https://127.0.0.1:%d/health" % port, "timeout": 5}]})))
    path.write_text("\n".join(lines) + "\n")
    return path


class Demo:
    def __init__(self, root, run_playbook, port, closed_port):
        self.root = root
        self.dir = root / "lab"
        self.port = port
        self.closed_port = closed_port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": "3",
                    "EESZT_FLEET_SUMMARY_JSON": str(root / "summary.json")}

    def play(self, playbook, *args, **extra_vars):
        extra_vars.setdefault("eeszt_check_metrics_dir", "{{ eeszt_demo_root }}/" + METRICS_DIR)
        return self.run_playbook(playbook, extra_vars=extra_vars, env=self.env, timeout=400,
                                 args=["-i", DEMO] + list(args))

    def metrics_dir(self, host):
        return self.dir / "sites" / host / METRICS_DIR

    def metrics_file(self, host):
        return self.metrics_dir(host) / (METRICS_FILE % SITE_IDS[host])

    def not_after(self, host):
        cert = self.dir / "sites" / host / "etc" / "eeszt" / "tls" / "cert.pem"
        facts = x509.load_pem_x509_certificate(cert.read_bytes())
        return int(facts.not_valid_after_utc.timestamp())


@pytest.fixture(scope="module")
def demo(tmp_path_factory, run_playbook, pick_port, stop_lab):
    prom.need("promtool", "prometheus", "prometheus-node-exporter")
    demo = Demo(tmp_path_factory.mktemp("prometheus"), run_playbook, pick_port(), pick_port())
    result = demo.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=demo.port)
    assert result.ok, result.output
    try:
        bad = overrides(demo.root / "site002.yml", demo.closed_port, "site002")
        result = demo.play("site.yml", "-i", str(bad))
        yield demo, result
    finally:
        result = stop_lab(demo.dir, demo.port, env=demo.env, args=["-i", DEMO])
        assert result.ok, result.output


@pytest.fixture(scope="module")
def monitoring(demo, pick_port):
    """One node_exporter per site and a Prometheus scraping them every second with the alert rules."""
    demo, _run = demo
    base = demo.root / "monitoring"
    base.mkdir()
    rules = yaml.safe_load(open(os.path.join(MONITORING, "eeszt-alerts.yml")))
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule["for"] = "0s"  # the test cannot wait the production delays
    (base / "rules.yml").write_text(yaml.safe_dump(rules))
    exporters = dict((host, prom.node_exporter(pick_port(), demo.metrics_dir(host), base / ("%s.log" % host)))
                     for host in HOSTS)
    # The controller: its node_exporter reads the fleet metrics (metrics.prom) in the proof archive.
    fleet = prom.node_exporter(pick_port(), demo.dir / "proofs", base / "fleet.log")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s", "scrape_timeout": "1s"},
        "rule_files": [str(base / "rules.yml")],
        "scrape_configs": [
            {"job_name": "eeszt-sites", "static_configs": [{"targets": [
                "%s:%d" % (prom.HOST, exporter.port) for exporter in exporters.values()]}]},
            {"job_name": "eeszt-fleet", "static_configs": [{"targets": ["%s:%d" % (prom.HOST, fleet.port)]}]}],
    }
    (base / "prometheus.yml").write_text(json.dumps(config))
    server = prom.prometheus(pick_port(), base / "prometheus.yml", base / "data", base / "prometheus.log")
    started = []
    try:
        for exporter in list(exporters.values()) + [fleet, server]:
            exporter.start()
            started.append(exporter)
        yield server, exporters
    finally:
        for process in reversed(started):
            process.stop()
        for process in list(exporters.values()) + [fleet, server]:
            assert process.process is None or process.process.poll() is not None, process.name


def by_site(data):
    return dict((sample["metric"]["site"], sample["value"][1]) for sample in data["result"])


def query(server, expression, expect_sites=3):
    """The instant vector of an expression once it holds ``expect_sites`` distinct sites."""
    def ask():
        data = prom.api(server, "query", query=expression)
        return data if len(set(s["metric"].get("site") for s in data["result"])) >= expect_sites else None
    return prom.wait_until("query %s" % expression, ask)


def test_demo_run_wrote_valid_metrics_for_every_site(demo):
    demo, result = demo
    assert result.returncode == 2, result.output  # site002's check failed, on purpose
    assert result.recap["site002"]["failed"] == 1, result.output
    for host in ("site001", "site003"):
        assert result.recap[host]["failed"] == 0, result.output
    secrets = [path.read_bytes().strip() for path in (demo.dir / "pki" / "sites").glob("*.password")]
    for host in HOSTS:
        path = demo.metrics_file(host)
        assert sorted(os.listdir(str(demo.metrics_dir(host)))) == [path.name], host
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert stat.S_IMODE(demo.metrics_dir(host).stat().st_mode) == 0o755
        prom.check_metrics(path)
        data = path.read_bytes()
        assert b"PRIVATE KEY" not in data and all(secret not in data for secret in secrets)
        labels = 'institution="100001",site="%s",environment="test"' % SITE_IDS[host]
        up = "0" if host == "site002" else "1"
        assert ("eeszt_check_up{%s} %s\n" % (labels, up)).encode() in data, data
    assert (b'eeszt_check_failure{institution="100001",site="100001002",environment="test",category="tcp_refused",'
            b'step="tcp",endpoint="health"} 1\n') in demo.metrics_file("site002").read_bytes()


def test_prometheus_sees_the_sites_the_failure_and_the_certificates(demo, monitoring):
    demo, _run = demo
    server, exporters = monitoring

    # Prometheus scrapes every node_exporter.
    def all_up():
        result = prom.api(server, "query", query='up{job="eeszt-sites"} == 1')["result"]
        return result if len(result) == 3 else None
    scrape = prom.wait_until("all three exporters up", all_up)
    assert sorted(s["metric"]["instance"] for s in scrape) == sorted(
        "127.0.0.1:%d" % e.port for e in exporters.values())

    assert by_site(query(server, "eeszt_check_up")) == {"100001001": "1", "100001002": "0", "100001003": "1"}
    failures = query(server, "eeszt_check_failure", expect_sites=1)["result"]
    assert len(failures) == 1
    labels = failures[0]["metric"]
    assert (labels["site"], labels["institution"], labels["environment"]) == ("100001002", "100001", "test")
    assert (labels["category"], labels["step"], labels["endpoint"]) == ("tcp_refused", "tcp", "health")

    endpoints = query(server, "eeszt_check_endpoint_up")["result"]
    assert sorted((s["metric"]["site"], s["metric"]["endpoint"], s["value"][1]) for s in endpoints) == [
        ("100001001", "health", "1"), ("100001001", "soap", "1"), ("100001002", "health", "0"),
        ("100001003", "health", "1"), ("100001003", "soap", "1")]

    expiry = by_site(query(server, "eeszt_check_client_certificate_not_after_timestamp_seconds"))
    assert expiry == dict((SITE_IDS[host], "%d" % demo.not_after(host)) for host in HOSTS)

    steps = query(server, 'eeszt_check_step_duration_seconds{site="100001001"}', expect_sites=1)["result"]
    assert sorted((s["metric"]["endpoint"], s["metric"]["step"]) for s in steps) == sorted(
        (endpoint, step) for endpoint in ("health", "soap") for step in ("dns", "tcp", "tls", "http"))
    assert all(0 <= float(s["value"][1]) < 10 for s in steps)
    # site002 stopped at tcp: no tls or http duration.
    failed_steps = query(server, 'eeszt_check_step_duration_seconds{site="100001002"}', expect_sites=1)["result"]
    assert sorted(s["metric"]["step"] for s in failed_steps) == ["dns", "tcp"]

    runs = by_site(query(server, "eeszt_check_last_run_timestamp_seconds"))
    successes = by_site(query(server, "eeszt_check_last_success_timestamp_seconds", expect_sites=2))
    assert successes == {"100001001": runs["100001001"], "100001003": runs["100001003"]}

    # The alert fires for the failing site, and for nothing else.
    def firing():
        alerts = [a for a in prom.api(server, "alerts")["alerts"] if a["state"] == "firing"]
        return alerts or None
    alerts = prom.wait_until("a firing alert", firing)
    assert [(a["labels"]["alertname"], a["labels"]["site"]) for a in alerts] == [
        ("EesztConnectionCheckFailing", "100001002")], alerts
    alert = alerts[0]
    assert alert["labels"]["category"] == "tcp_refused" and alert["labels"]["severity"] == "critical"
    assert alert["annotations"]["summary"] == \
        "EESZT connection check failing at site 100001002 (institution 100001, test)"
    assert "category tcp_refused, step tcp, endpoint health." in alert["annotations"]["description"]


def test_one_scrape_of_the_controller_covers_the_fleet(demo, monitoring):
    """metrics.prom beside index.json, rebuilt from the archive by the proofs stage (issue 16 part 2)."""
    demo, _run = demo
    server, _exporters = monitoring
    prom.check_metrics(demo.dir / "proofs" / "metrics.prom")
    prom.wait_until("the fleet exporter up", lambda: prom.api(server, "query", query='up{job="eeszt-fleet"} == 1')[
        "result"] or None)
    assert by_site(query(server, "eeszt_fleet_site_up")) == {"100001001": "1", "100001002": "0", "100001003": "1"}
    [failure] = query(server, "eeszt_fleet_site_failure", expect_sites=1)["result"]
    assert (failure["metric"]["site"], failure["metric"]["stage"], failure["metric"]["category"]) == (
        "100001002", "check", "tcp_refused")
    expiry = by_site(query(server, "eeszt_fleet_site_client_certificate_not_after_timestamp_seconds"))
    assert expiry == dict((SITE_IDS[host], "%d" % demo.not_after(host)) for host in HOSTS)
    statuses = dict((s["metric"]["status"], s["value"][1])
                    for s in prom.api(server, "query", query="eeszt_fleet_sites")["result"])
    assert statuses == {"passed": "2", "failed": "1", "error": "0", "no_proof": "0"}
    # Every site's latest proof is fresh: the no-recent-proof alert's expression holds nothing.
    assert len(query(server, "eeszt_fleet_site_last_proof_timestamp_seconds")["result"]) == 3
    assert prom.api(server, "query", query="time() - eeszt_fleet_site_last_proof_timestamp_seconds > 26 * 3600")[
        "result"] == []


def test_a_connection_that_breaks_later_keeps_its_last_success(demo, monitoring):
    demo, _run = demo
    server, _exporters = monitoring
    before = by_site(query(server, "eeszt_check_last_success_timestamp_seconds", expect_sites=2))["100001001"]
    broken = overrides(demo.root / "site001.yml", demo.closed_port, "site001")
    # The daily run of docs/monitoring/README.md: check, then collect the proofs, in one run.
    result = demo.play("daily.yml", "-i", str(broken), eeszt_hosts="site001")
    assert result.returncode == 2 and result.recap["site001"]["failed"] == 1, result.output
    tasks = [line for line in result.stdout.splitlines() if line.startswith("TASK [eeszt.connect.")
             and " : Validating arguments against arg spec " not in line]  # always run, whatever the tags
    assert not [task for task in tasks if task.startswith(("TASK [eeszt.connect.certificate :",
                                                           "TASK [eeszt.connect.tls_client :"))], tasks
    assert "TASK [eeszt.connect.connection_check : Check the connection to EESZT] " in "\n".join(tasks), tasks
    assert [task for task in tasks if task.startswith("TASK [eeszt.connect.proofs :")], tasks
    prom.check_metrics(demo.metrics_file("site001"))

    def site001_down():
        return by_site(prom.api(server, "query", query='eeszt_check_up{site="100001001"} == 0'))
    assert prom.wait_until("site001 down", site001_down) == {"100001001": "0"}
    runs = by_site(query(server, 'eeszt_check_last_run_timestamp_seconds{site="100001001"}', expect_sites=1))
    assert int(runs["100001001"]) > int(before)
    successes = by_site(query(server, "eeszt_check_last_success_timestamp_seconds", expect_sites=2))
    assert successes["100001001"] == before
    text = demo.metrics_file("site001").read_text()
    assert 'eeszt_check_last_success_timestamp_seconds{institution="100001",site="100001001",environment="test"} ' \
           '%s\n' % before in text


def dashboard_queries():
    """(panel title, PromQL) of every panel of the example Grafana dashboard, its variables set to All."""
    with open(os.path.join(MONITORING, "eeszt-dashboard.json")) as handle:
        dashboard = json.load(handle)
    found = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            expression = target["expr"]
            for name in ("institution", "site", "environment"):
                expression = expression.replace("$" + name, ".*")
            found.append((panel["title"], expression))
    variables = [v["definition"] for v in dashboard["templating"]["list"] if v["type"] == "query"]
    return found, variables


def test_the_example_dashboard_queries_work(demo, monitoring):
    server, _exporters = monitoring
    queries, variables = dashboard_queries()
    assert len(queries) == 9
    answers = {}
    query(server, "eeszt_check_up")  # scraped once at least
    for title, expression in queries:
        answers[title] = prom.api(server, "query", query=expression)["result"]
        assert answers[title], (title, expression)  # every panel shows something on the demo
    assert answers["Sites checked"][0]["value"][1] == "3"
    # Whatever ran before (site001 breaks in the test above): the sites whose file says down.
    failing = sorted(SITE_IDS[host] for host in HOSTS if any(
        line.startswith("eeszt_check_up{") and line.endswith("} 0")
        for line in demo[0].metrics_file(host).read_text().splitlines()))
    assert "100001002" in failing
    assert answers["Sites failing"][0]["value"][1] == "%d" % len(failing)
    assert sorted(s["metric"]["site"] for s in answers["Failing sites and their failure"]) == failing
    assert answers["Certificates expiring within 30 days"][0]["value"][1] == "0"
    assert len(answers["Client certificates: days left"]) == 3
    # Grafana's label_values(selector, label): the label's values among the selector's series.
    for definition in variables:
        selector, label = definition[len("label_values("):-1].rsplit(", ", 1)
        for name in ("institution", "site", "environment"):
            selector = selector.replace("$" + name, ".*")
        values = prom.api(server, "label/%s/values" % label, **{"match[]": selector})
        assert values, definition


def test_alert_rules_check_and_pass_their_unit_tests():
    prom.need("promtool")
    proc = subprocess.run([prom.PROMTOOL, "check", "rules", "eeszt-alerts.yml"], cwd=MONITORING,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60, check=False)
    assert proc.returncode == 0 and b"SUCCESS: 7 rules found" in proc.stdout, proc.stdout  # with EesztIncident
    proc = subprocess.run([prom.PROMTOOL, "test", "rules", "eeszt-alerts.test.yml"], cwd=MONITORING,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=120, check=False)
    assert proc.returncode == 0 and b"SUCCESS" in proc.stdout, proc.stdout
