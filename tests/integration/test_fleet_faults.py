# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 8, promise 5: unreachable and slow sites do not stall a fleet run.

One ``playbooks/site.yml`` run over a demo-like inventory (the demo's group_vars,
local sites, a private lab): five normal sites, and

* site006: local, but its endpoint is a loopback server that accepts TLS/TCP and
  never answers, with a 3 s endpoint timeout: the check fails as ``timeout``;
* site007: SSH to a loopback port nothing listens on (connection refused);
* site008: SSH to a host name that does not resolve (``.invalid``);
* site009: SSH to a loopback server that accepts the connection and never says
  a word; nothing in the inventory bounds it, only the project's fleet defaults
  (Ansible's connection ``timeout``, 10 s, which ssh gets as ConnectTimeout and
  also applies to the banner exchange).

The run must end within RUN_BOUND, the normal sites pass, and every problem site
is named with its reason in the fleet summary (text and JSON) and in the central
report (index.json, report.html, junit.xml).
"""

import json
import os
import re
import shutil
import signal
import socket
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.waf import LabWaf, WafPaths

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO_GROUP_VARS = os.path.join(ROOT, "inventories", "demo", "group_vars")
# The whole site.yml run: about 35 s on 2 idle cores, 60-80 s when other test suites share them;
# the hanging site alone is bounded by Ansible's 10 s connection timeout.
RUN_BOUND = 120
# The slow site's endpoint timeout, and what its check may take at most (one endpoint).
ENDPOINT_TIMEOUT = 3
# A silent server lives at most this long, whatever happens to the test.
SERVER_LIFETIME = 240

NORMAL = {"site001": ("100001", "100001001"), "site002": ("100001", "100001002"),
          "site003": ("100001", "100001003"), "site004": ("100002", "100002001"),
          "site005": ("100002", "100002002")}
SLOW = ("site006", "100002", "100002003")
REFUSED = ("site007", "100003", "100003001")
NO_DNS = ("site008", "100003", "100003002")
HANGING = ("site009", "100003", "100003003")
UNREACHABLE = (REFUSED, NO_DNS, HANGING)
SITES = len(NORMAL) + 1 + len(UNREACHABLE)
NO_DNS_NAME = "site008.eeszt-fleet.invalid"
KEY_MARKERS = ("PRIVATE KEY-----",)


class SilentServer:
    """Accepts TCP connections on a free loopback port and never sends a byte (no TLS, no SSH banner).

    One thread, bounded: it stops on stop() or after ``lifetime`` seconds, and closes every
    connection it accepted.
    """

    def __init__(self, lifetime=SERVER_LIFETIME):
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self.accepted = 0
        self._connections = []
        self._stopped = threading.Event()
        self._deadline = time.monotonic() + lifetime
        self._thread = threading.Thread(target=self._serve, name="silent-%d" % self.port, daemon=True)
        self._thread.start()

    def _serve(self):
        while not self._stopped.is_set() and time.monotonic() < self._deadline:
            try:
                connection, dummy = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self.accepted += 1
            self._connections.append(connection)

    def stop(self):
        self._stopped.set()
        self._thread.join(5)
        for connection in self._connections:
            connection.close()
        self._listener.close()
        assert not self._thread.is_alive()


class FaultyFleet:
    """The inventory, lab and results of one site.yml run."""

    def __init__(self, root, run_playbook, pick_port, ssh_server, tls_server):
        self.root = root
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.summary_json = root / "fleet-summary.json"
        self.inventory = root / "inventory"
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(pick_port()),
                    "EESZT_FLEET_SUMMARY_JSON": str(self.summary_json),
                    "ANSIBLE_CALLBACKS_ENABLED": "eeszt.connect.fleet_summary"}
        self.closed_port = pick_port()
        self.ssh_server = ssh_server
        self.tls_server = tls_server
        self.result = None
        self.elapsed = None
        self._write_inventory()

    def _write_inventory(self):
        shutil.copytree(DEMO_GROUP_VARS, str(self.inventory / "group_vars"))
        connections = {
            REFUSED[0]: "ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d" % self.closed_port,
            NO_DNS[0]: "ansible_connection=ssh ansible_host=%s" % NO_DNS_NAME,
            HANGING[0]: "ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d" % self.ssh_server.port,
        }
        lines = ["[eeszt_sites]"]
        sites = [(host, ids[0], ids[1]) for host, ids in sorted(NORMAL.items())] + [SLOW] + list(UNREACHABLE)
        for host, institution, site in sites:
            lines.append(('%s eeszt_institution_id="%s" eeszt_site_id="%s" %s'
                          % (host, institution, site, connections.get(host, ""))).rstrip())
        (self.inventory / "hosts.ini").write_text("\n".join(lines) + "\n")
        (self.inventory / "host_vars").mkdir()
        (self.inventory / "host_vars" / ("%s.yml" % SLOW[0])).write_text(
            "eeszt_endpoints:\n"
            "  - name: health\n"
            "    url: https://127.0.0.1:%d/health\n"
            "    expect_status: 200\n"
            "    timeout: %d\n" % (self.tls_server.port, ENDPOINT_TIMEOUT))

    def play(self, playbook, timeout=RUN_BOUND * 2, **extra_vars):
        return self.run_playbook(playbook, inventory=self.inventory, extra_vars=extra_vars or None, env=self.env,
                                 timeout=timeout)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, run_playbook, pick_port):
    ssh_server = SilentServer()
    tls_server = SilentServer()
    fleet = FaultyFleet(tmp_path_factory.mktemp("fleet-faults"), run_playbook, pick_port, ssh_server, tls_server)
    try:
        result = fleet.play("lab.yml", eeszt_lab_state="started")
        assert result.ok, result.output
        started = time.monotonic()
        fleet.result = fleet.play("site.yml")
        fleet.elapsed = time.monotonic() - started
        yield fleet
    finally:
        # The lab role's own stop (eeszt.connect.lab_waf), without another ansible-playbook run.
        waf = LabWaf(WafPaths(str(fleet.lab_dir)), "127.0.0.1", int(fleet.env["EESZT_LAB_WAF_PORT"]),
                     sys.executable, stop_timeout=10.0)
        pid = waf.running_pid()
        try:
            waf.stop()
        finally:
            if pid is not None and waf.running_pid() == pid:  # leave no WAF running, whatever happened
                os.kill(pid, signal.SIGKILL)
            ssh_server.stop()
            tls_server.stop()


def summary_rows(stdout):
    """{host: table row} of the fleet_summary output, and {host: reason} under its ``problems:`` heading."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("EESZT FLEET SUMMARY")) + 2
    end = next(i for i in range(start, len(lines)) if lines[i].startswith("sites: "))
    rows = dict((line.split()[2], line) for line in lines[start:end])
    problems = {}
    for line in lines[lines.index("problems:", end) + 1:]:
        if not line.startswith("  "):
            break
        host, dummy, why = line.strip().partition(": ")
        problems[host] = why
    return rows, problems


def test_the_run_ends_in_bounded_time_and_fails_for_the_problem_sites(fleet):
    result = fleet.result
    assert fleet.elapsed < RUN_BOUND, "site.yml took %.0f s: %s" % (fleet.elapsed, result.output)
    assert result.returncode == 4, result.output  # unreachable hosts (and a failed check)
    for host in NORMAL:
        counts = result.recap[host]
        assert (counts["failed"], counts["unreachable"]) == (0, 0), (host, result.output)
    for host, dummy, dummy2 in UNREACHABLE:
        assert result.recap[host]["unreachable"] == 1, (host, result.output)
    assert result.recap[SLOW[0]]["failed"] == 1 and result.recap[SLOW[0]]["unreachable"] == 0
    # The transport hang held ssh until its connection timeout, and the TLS hang the check.
    assert fleet.ssh_server.accepted >= 1 and fleet.tls_server.accepted >= 1


def test_the_slow_site_fails_its_check_as_timeout_within_its_bound(fleet):
    host, institution, site = SLOW
    proofs = list((fleet.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json"))
    assert len(proofs) == 1, proofs
    proof = json.loads(proofs[0].read_text())
    assert (proof["institution_id"], proof["site_id"], proof["passed"]) == (institution, site, False)
    assert proof["failure"]["category"] in ("timeout", "tcp_timeout"), proof["failure"]
    endpoint = proof["endpoints"][0]
    assert ENDPOINT_TIMEOUT * 1000 <= endpoint["ms"] < (ENDPOINT_TIMEOUT + 2) * 1000, endpoint
    assert [step["name"] for step in endpoint["steps"] if not step["ok"]] == [proof["failure"]["step"]]
    assert "connection check failed on %s (%s)" % (host, proof["failure"]["category"]) in fleet.result.stdout


def test_the_summary_names_every_problem_site_with_its_reason(fleet):
    rows, problems = summary_rows(fleet.result.stdout)
    for host in NORMAL:
        assert rows[host].split()[4] == "PASS", rows[host]
    assert " FAIL timeout " in rows[SLOW[0]] or " FAIL tcp_timeout " in rows[SLOW[0]], rows[SLOW[0]]
    for host, dummy, dummy2 in UNREACHABLE:
        assert rows[host].split()[4] == "UNREACHABLE", rows[host]
    assert sorted(problems) == sorted([SLOW[0]] + [site[0] for site in UNREACHABLE]), problems
    assert problems[SLOW[0]].startswith(("connection check failed: timeout: ", "connection check failed: tcp_timeout: "))
    assert problems[REFUSED[0]].startswith("unreachable: ") and "Connection refused" in problems[REFUSED[0]]
    assert "port %d" % fleet.closed_port in problems[REFUSED[0]]
    assert "Could not resolve hostname %s" % NO_DNS_NAME in problems[NO_DNS[0]]
    assert "timed out" in problems[HANGING[0]] and "port %d" % fleet.ssh_server.port in problems[HANGING[0]]

    document = json.loads(fleet.summary_json.read_text())
    sites = dict((s["host"], s) for s in document["sites"])
    assert sorted(sites) == sorted(list(NORMAL) + [SLOW[0]] + [site[0] for site in UNREACHABLE])
    for host in NORMAL:
        assert (sites[host]["result"], sites[host]["reason"]) == ("PASS", None)
    assert sites[SLOW[0]]["result"] == "FAIL" and sites[SLOW[0]]["failure_category"] in ("timeout", "tcp_timeout")
    for host, dummy, dummy2 in UNREACHABLE:
        assert sites[host]["result"] == "UNREACHABLE"
        assert sites[host]["reason"] == problems[host], sites[host]
    assert document["totals"]["unreachable"] == len(UNREACHABLE) and document["totals"]["passed"] == len(NORMAL)


def test_the_report_lists_every_problem_site_with_its_reason(fleet):
    index = json.loads((fleet.archive / "index.json").read_text())
    sites = dict((s["host"], s) for s in index["sites"])
    assert sorted(sites) == sorted(list(NORMAL) + [SLOW[0]] + [site[0] for site in UNREACHABLE]), sites
    for host, (institution, site) in NORMAL.items():
        row = sites[host]
        assert (row["institution_id"], row["site_id"], row["status"]) == (institution, site, "passed"), row
        assert row["collection"]["status"] == "collected"
    slow = sites[SLOW[0]]
    assert slow["status"] == "failed" and slow["failure"]["category"] in ("timeout", "tcp_timeout"), slow
    assert slow["failure"]["stage"] == "check" and slow["failure"]["message"], slow
    assert slow["collection"]["status"] == "collected"
    assert len(list((fleet.archive / SLOW[1] / SLOW[2]).glob("*.json.p7s"))) == 1  # its proof, sealed
    reasons = {}
    for host, institution, site in UNREACHABLE:
        row = sites[host]
        assert (row["institution_id"], row["site_id"], row["status"]) == (institution, site, "no_proof"), row
        assert row["collection"]["status"] == "unreachable", row
        reasons[host] = row["collection"]["message"]
    assert "Connection refused" in reasons[REFUSED[0]]
    assert "Could not resolve hostname %s" % NO_DNS_NAME in reasons[NO_DNS[0]]
    assert "timed out" in reasons[HANGING[0]] and "\n" not in reasons[HANGING[0]]
    summary = index["summary"]
    assert (summary["sites"], summary["passed"], summary["failed"], summary["unreachable"]) == (
        SITES, len(NORMAL), 1, len(UNREACHABLE)), summary

    suite = ET.parse(str(fleet.archive / "junit.xml")).getroot().find("testsuite")
    cases = dict((c.get("name").split()[0], c) for c in suite.findall("testcase"))
    assert cases[SLOW[2]].find("failure").get("type") in ("timeout", "tcp_timeout")
    for host, dummy, site in UNREACHABLE:
        error = cases[site].find("error")
        assert (error.get("type"), error.get("message")) == ("unreachable", reasons[host])
    for dummy, site in NORMAL.values():
        assert cases[site].find("failure") is None and cases[site].find("error") is None

    html = (fleet.archive / "report.html").read_text()
    for host, dummy, dummy2 in UNREACHABLE:
        assert reasons[host].replace('"', "&quot;") in html or reasons[host] in html, host
    stdout = fleet.result.stdout
    for host, institution, site in UNREACHABLE:
        # The run's Problem sites line names the site; its reason is said once, in the fleet summary.
        assert "%s/%s (%s)" % (institution, site, host) in stdout
        assert re.search(r"^  .*\b%s\b.*unreachable: " % re.escape(host), stdout, re.M), stdout


def test_the_reasons_carry_no_secret(fleet):
    """Reasons quote connection errors only: no PFX password, no key, in the output, summary or report."""
    secrets = [path.read_text().strip() for path in (fleet.lab_dir / "pki" / "sites").glob("*.password")]
    assert len(secrets) == SITES and all(len(secret) >= 8 for secret in secrets)
    texts = [fleet.result.stdout, fleet.result.stderr, fleet.summary_json.read_text()]
    texts += [path.read_text() for path in fleet.archive.rglob("*") if path.suffix in (".json", ".html", ".xml", ".csv")]
    for text in texts:
        assert not [secret for secret in secrets if secret in text]
        assert not [marker for marker in KEY_MARKERS if marker in text]
