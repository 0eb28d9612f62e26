# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 24: incidents against the lab. One lab, six local sites of three institutions (demo group_vars), four
``playbooks/site.yml`` runs on one archive:

1. every site passes (no incident);
2. the sites trust another CA than the one the lab WAF's server certificate chains to (as when EESZT's server
   moved to a new chain): one ``fleet`` incident, ``tls_server_untrusted``, 6 sites of 3 institutions;
3. at once: institution 100001's sites pointed at an endpoint where nothing listens (``tcp_refused``: one
   ``endpoint`` incident), a shared proxy that refuses (407) in front of three sites of two institutions (one
   ``proxy`` incident), and one lone site failing with ``http_status`` (no incident);
4. every site passes again: the incidents are closed.

Each run is checked in the fleet summary (``incidents:`` before ``problems:``, shorter per-site lines), in
index.json, report.html and metrics.prom.
"""

import json
import os
import shutil
import signal
import sys

import pytest

import peers
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf import LabWaf, WafPaths

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_GROUP_VARS = os.path.join(ROOT, "inventories", "demo", "group_vars")
RUN_TIMEOUT = 400

SITES = [("site01", "100001", "100001001"), ("site02", "100001", "100001002"),
         ("site03", "100002", "100002001"), ("site04", "100002", "100002002"),
         ("site05", "100003", "100003001"), ("site06", "100003", "100003002")]
HOSTS = [host for host, dummy, dummy2 in SITES]
DEAD = ("site01", "site02")               # run 3: an endpoint where nothing listens
BEHIND_PROXY = ("site03", "site04", "site05")  # run 3: a proxy that refuses
LONE = "site06"                           # run 3: a path the WAF does not serve


class Fleet:
    """The inventory, the lab and the outputs of the runs."""

    def __init__(self, root, run_playbook, pick_port):
        self.root = root
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.inventory = root / "inventory"
        self.summary_json = root / "fleet-summary.json"
        self.run_playbook = run_playbook
        self.port = pick_port()
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(self.port),
                    "EESZT_FLEET_SUMMARY_JSON": str(self.summary_json),
                    "ANSIBLE_CALLBACKS_ENABLED": "eeszt.connect.fleet_summary"}
        shutil.copytree(DEMO_GROUP_VARS, str(self.inventory / "group_vars"))
        lines = ["[eeszt_sites]"] + ['%s eeszt_institution_id="%s" eeszt_site_id="%s"' % site for site in SITES]
        (self.inventory / "hosts.ini").write_text("\n".join(lines) + "\n")
        (self.inventory / "host_vars").mkdir()
        self.runs = {}

    def host_vars(self, host, text):
        (self.inventory / "host_vars" / ("%s.yml" % host)).write_text(text)

    def clear_host_vars(self):
        for path in (self.inventory / "host_vars").glob("*.yml"):
            path.unlink()

    def play(self, name, playbook="site.yml", **extra_vars):
        result = self.run_playbook(playbook, inventory=self.inventory, extra_vars=extra_vars or None, env=self.env,
                                   timeout=RUN_TIMEOUT)
        index = json.loads((self.archive / "index.json").read_text()) if playbook == "site.yml" else None
        self.runs[name] = {"result": result, "index": index,
                           "summary": json.loads(self.summary_json.read_text()) if playbook == "site.yml" else None,
                           "html": (self.archive / "report.html").read_text() if index else None,
                           "metrics": (self.archive / "metrics.prom").read_text() if index else None}
        return self.runs[name]


def endpoint(url):
    return "eeszt_endpoints:\n  - name: health\n    url: %s\n    expect_status: 200\n    timeout: 5\n" % url


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, run_playbook, pick_port):
    fleet = Fleet(tmp_path_factory.mktemp("incidents"), run_playbook, pick_port)
    try:
        result = fleet.play("lab", "lab.yml", eeszt_lab_state="started")["result"]
        assert result.ok, result.output
        fleet.play("baseline")
        # The sites get a CA bundle of another CA (the lab's client CA): the WAF's server chain is not in it.
        fleet.play("fleet", eeszt_tls_ca_bundle_src=str(fleet.lab_dir / "pki" / "client-ca-bundle.pem"))
        with peers.Proxy(status=407) as proxy:
            fleet.proxy_url = "http://127.0.0.1:%d" % proxy.port
            fleet.dead_url = "https://127.0.0.1:%d/health" % peers.closed_port()
            for host in DEAD:
                fleet.host_vars(host, endpoint(fleet.dead_url))
            for host in BEHIND_PROXY:
                fleet.host_vars(host, "eeszt_tls_proxy: %s\neeszt_tls_no_proxy: []\n" % fleet.proxy_url)
            fleet.host_vars(LONE, endpoint("https://127.0.0.1:%d/no-such-path" % fleet.port))
            fleet.play("mixed")
            fleet.proxy_requests = list(proxy.requests)
        fleet.clear_host_vars()
        fleet.play("closed")
        yield fleet
    finally:
        waf = LabWaf(WafPaths(str(fleet.lab_dir)), "127.0.0.1", fleet.port, sys.executable, stop_timeout=10.0)
        pid = waf.running_pid()
        try:
            waf.stop()
        finally:
            if pid is not None and waf.running_pid() == pid:  # leave no WAF running, whatever happened
                os.kill(pid, signal.SIGKILL)


def summary_block(stdout, heading):
    """The lines under ``heading`` (``incidents:``, ``problems:``) of the fleet summary, indented ones only."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("EESZT FLEET SUMMARY"))
    if heading not in lines[start:]:
        return None
    block = []
    for line in lines[lines.index(heading, start) + 1:]:
        if not line.startswith("  "):
            break
        block.append(line)
    return block


def run_time(fleet, name):
    """The controller's time of the run record that run ``name`` wrote (the newest one then)."""
    return fleet.runs[name]["index"]["sites"][0]["collection"]["at"]


def test_every_site_passing_is_no_incident(fleet):
    run = fleet.runs["baseline"]
    assert run["result"].ok, run["result"].output
    assert run["index"]["summary"]["passed"] == len(SITES)
    assert run["index"]["incidents"] == [] and run["summary"]["incidents"] == []
    assert summary_block(run["result"].stdout, "incidents:") is None
    assert 'id="incidents"' not in run["html"] and "eeszt_fleet_incident{" not in run["metrics"]


def test_a_server_certificate_from_another_ca_is_one_fleet_incident(fleet):
    run = fleet.runs["fleet"]
    assert run["index"]["summary"]["failed"] == len(SITES), run["result"].output
    assert [sorted(incident) for incident in run["index"]["incidents"]] == [
        sorted(["scope", "key", "category", "sites", "institutions", "hosts", "since", "message", "hint"])]
    incident = run["index"]["incidents"][0]
    assert (incident["scope"], incident["key"], incident["category"], incident["sites"], incident["institutions"],
            incident["hosts"]) == ("fleet", "all", "tls_server_untrusted", 6, 3, HOSTS)
    assert incident["since"] == run_time(fleet, "fleet")
    assert "eeszt_tls_ca_bundle_src" in incident["hint"]

    stdout = run["result"].stdout
    block = summary_block(stdout, "incidents:")
    assert block[0] == "  #1 fleet: tls_server_untrusted on 6 site(s) of 3 institution(s), since %s" % incident["since"]
    assert block[1].strip() == incident["message"] and block[2].strip() == "to do: " + incident["hint"]
    assert block[3].strip() == "hosts: " + ", ".join(HOSTS)
    lines = stdout.splitlines()
    assert lines.index("incidents:") < lines.index("problems:")
    assert summary_block(stdout, "problems:") == [
        "  %s: connection check failed: tls_server_untrusted (incident #1)" % host for host in HOSTS]
    assert "is not trusted" not in "\n".join(lines[lines.index("incidents:"):])
    assert run["summary"]["incidents"] == run["index"]["incidents"]

    html = run["html"]
    assert html.index('<section id="incidents">') < html.index('<section class="cards"')
    assert "the EESZT server chain changed" in html
    assert 'eeszt_fleet_incident{scope="fleet",key="all",category="tls_server_untrusted"} 6\n' in run["metrics"]
    assert run["metrics"].count("eeszt_fleet_site_incident{") == len(SITES)


def test_an_endpoint_and_a_proxy_are_two_incidents_and_a_lone_site_is_none(fleet):
    run = fleet.runs["mixed"]
    index = run["index"]
    sites = dict((s["host"], s) for s in index["sites"])
    assert [sites[host]["failure"]["category"] for host in DEAD] == ["tcp_refused"] * 2, run["result"].output
    assert [sites[host]["failure"]["category"] for host in BEHIND_PROXY] == ["proxy"] * 3
    assert sites[LONE]["failure"]["category"] == "http_status"
    assert fleet.proxy_requests and all(r.startswith("CONNECT ") for r in fleet.proxy_requests)

    found = dict((incident["category"], incident) for incident in index["incidents"])
    assert sorted(found) == ["proxy", "tcp_refused"]
    proxy = found["proxy"]
    assert (proxy["scope"], proxy["key"], proxy["sites"], proxy["institutions"], proxy["hosts"]) == (
        "proxy", fleet.proxy_url, 3, 2, list(BEHIND_PROXY))
    dead = found["tcp_refused"]
    # The endpoint holds the same two sites as their institution: the wider scope, the endpoint, explains them.
    assert (dead["scope"], dead["key"], dead["sites"], dead["institutions"], dead["hosts"]) == (
        "endpoint", fleet.dead_url, 2, 1, list(DEAD))
    # Both started with this run (the sites failed otherwise before), not with the fleet incident of run 2.
    assert proxy["since"] == dead["since"] == run_time(fleet, "mixed") != run_time(fleet, "fleet")
    assert all(LONE not in incident["hosts"] for incident in index["incidents"])

    # The proof names the proxy, without credentials, so that the controller can group its sites.
    proof = json.loads((fleet.archive / sites["site03"]["latest"]).read_text())
    assert proof["endpoints"][0]["proxy"] == fleet.proxy_url

    problems = dict(line.strip().split(": ", 1) for line in summary_block(run["result"].stdout, "problems:"))
    numbers = dict((incident["category"], number) for number, incident in enumerate(run["summary"]["incidents"], 1))
    for host in BEHIND_PROXY:
        assert problems[host] == "connection check failed: proxy (incident #%d)" % numbers["proxy"]
    for host in DEAD:
        assert problems[host] == "connection check failed: tcp_refused (incident #%d)" % numbers["tcp_refused"]
    assert problems[LONE].startswith("connection check failed: http_status: ") and "(incident #" not in problems[LONE]
    block = "\n".join(summary_block(run["result"].stdout, "incidents:"))
    assert "proxy %s: proxy on 3 site(s) of 2 institution(s)" % fleet.proxy_url in block
    assert "endpoint %s: tcp_refused on 2 site(s) of 1 institution(s)" % dead["key"] in block
    assert ('eeszt_fleet_incident{scope="proxy",key="%s",category="proxy"} 3\n' % fleet.proxy_url) in run["metrics"]


def test_the_incidents_close_when_the_sites_pass_again(fleet):
    run = fleet.runs["closed"]
    assert run["result"].ok, run["result"].output
    assert run["index"]["summary"]["passed"] == len(SITES)
    assert run["index"]["incidents"] == [] and run["summary"]["incidents"] == []
    assert summary_block(run["result"].stdout, "incidents:") is None
    assert 'id="incidents"' not in run["html"] and "eeszt_fleet_incident{" not in run["metrics"]
