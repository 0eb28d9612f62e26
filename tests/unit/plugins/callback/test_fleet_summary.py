# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The eeszt.connect.fleet_summary callback, fed with real Host, Group and AggregateStats objects."""

import json
import os
import re
import stat

import pytest

from ansible.executor.stats import AggregateStats
from ansible.inventory.group import Group
from ansible.inventory.host import Host
from ansible.plugins.loader import callback_loader
from ansible.utils import color

from ansible_collections.eeszt.connect.plugins.callback import fleet_summary
from ansible_collections.eeszt.connect.plugins.plugin_utils.report import fleet_summary as summary_logic
from plugin_loading import load_collection_plugins

SECRET = "pfx-password-from-sms"
ESCAPE = "\x1b["


@pytest.fixture(scope="module", autouse=True)
def collection_loader():
    """Load the callback through the plugin loader, as ansible-playbook does, so that its options
    come from its DOCUMENTATION (tests/tools/plugin_loading.py)."""
    load_collection_plugins()


@pytest.fixture(autouse=True)
def no_json_from_the_environment(monkeypatch):
    monkeypatch.delenv("EESZT_FLEET_SUMMARY_JSON", raising=False)


class FakeDisplay:
    """Collects what the callback prints."""

    verbosity = 0

    def __init__(self):
        self.lines = []
        self.warnings = []

    def banner(self, msg, color=None, cows=True):
        self.lines.append("== %s" % msg)

    def display(self, msg, color=None, stderr=False, screen_only=False, log_only=False, newline=True):
        self.lines.append(msg)

    def warning(self, msg, formatted=False):
        self.warnings.append(msg)

    def vvv(self, msg, host=None):
        pass


class Task:
    def __init__(self, name, register=None):
        self.name = name
        self.register = register

    def get_name(self, include_role_fqcn=True):
        return self.name


class Result:
    """The public shape of a callback task result: host, task, result."""

    def __init__(self, host, task, result, register=None):
        self.host = host
        self.task = Task(task, register)
        self.result = result


class Run:
    """Drives a callback through one playbook run."""

    def __init__(self, output_json=None):
        self.display = FakeDisplay()
        self.callback = callback_loader.get("eeszt.connect.fleet_summary", display=self.display)
        self.callback.set_options(direct={"output_json": output_json} if output_json else None)
        self.stats = AggregateStats()
        self.hosts = {}

    def host(self, name, institution=None, site=None, group_institution=None):
        host = Host(name)
        if institution:
            host.set_variable("eeszt_institution_id", institution)
        if site:
            host.set_variable("eeszt_site_id", site)
        if group_institution:
            group = Group("institution_%s" % group_institution)
            group.set_variable("eeszt_institution_id", group_institution)
            group.add_host(host)
        self.hosts[name] = host
        return host

    def ok(self, name, task="Do something", **result):
        self.stats.increment("ok", name)
        self.callback.v2_runner_on_ok(Result(self.hosts[name], task, result))

    def facts(self, name, task="Publish the facts", **facts):
        self.ok(name, task, ansible_facts=facts, changed=False)

    def registered(self, name, register, task="Run the stage's module", **result):
        """A task whose result is the public fact itself (``register: eeszt_check_result``)."""
        self.stats.increment("ok", name)
        self.callback.v2_runner_on_ok(Result(self.hosts[name], task, result, register))

    def failed(self, name, task, ignore_errors=False, register=None, **result):
        self.stats.increment("ignored" if ignore_errors else "failures", name)
        self.callback.v2_runner_on_failed(Result(self.hosts[name], task, dict(result, failed=True), register),
                                          ignore_errors=ignore_errors)

    def unreachable(self, name, task, msg="Task failed: ssh: connect refused", **result):
        self.stats.increment("dark", name)
        payload = dict(result, unreachable=True, msg=msg)
        self.callback.v2_runner_on_unreachable(Result(self.hosts[name], task, payload))

    def finish(self):
        self.callback.v2_playbook_on_stats(self.stats)
        return self.display.lines


def certificate(days):
    return {"days_left": days, "not_after": "2027-03-01T00:00:00Z", "fingerprint": "ab" * 32,
            "subject": "CN=%s" % SECRET, "changed": False}


def check(passed, category=None, proof="/var/lib/eeszt/proofs/p.json"):
    failure = None if passed else {"category": category, "message": "refused by waf.example:443", "hint": "open it"}
    return {"passed": passed, "failure": failure, "proof_path": proof, "proof_sha256": "cd" * 32,
            "endpoints": [{"name": "waf", "url": "https://waf.example/", "passed": passed}]}


@pytest.fixture
def no_color(monkeypatch):
    monkeypatch.setattr(color, "ANSIBLE_COLOR", False)


@pytest.fixture
def fleet(no_color):
    """Six hosts: five sites with every outcome, and localhost (not a site)."""
    run = Run()
    run.host("site-pass", "200002", "200002001")
    run.host("site-fail", "100001", "100001002")
    run.host("site-task", "100001", "100001001")
    run.host("site-down", "100001", "100001003")
    run.host("site-cert", site="200002002", group_institution="200002")
    run.host("localhost")
    run.ok("localhost", "Start the lab")
    for name in ("site-pass", "site-fail", "site-task", "site-cert"):
        run.facts(name, eeszt_certificate_result=certificate(364))
    run.unreachable("site-down", "Validate the WAF-SSL certificate and install it on the site")
    run.failed("site-task", "Install the CA bundle", msg="permission denied for %s" % SECRET)
    run.facts("site-pass", eeszt_check_result=check(True, proof="/var/lib/eeszt/proofs/200002-200002001.json"))
    run.facts("site-fail", eeszt_check_result=check(False, "tcp_refused",
                                                    proof="/var/lib/eeszt/proofs/100001-100001002.json"))
    return run


def test_every_site_once_sorted_with_its_result(fleet):
    lines = fleet.finish()

    assert lines == [
        "== EESZT FLEET SUMMARY",
        "INSTITUTION  SITE       HOST       CERT DAYS  RESULT            PROOF / FAILING TASK",
        "100001       100001001  site-task  364        FAILED            task: Install the CA bundle",
        "100001       100001002  site-fail  364        FAIL tcp_refused  /var/lib/eeszt/proofs/100001-100001002.json",
        "100001       100001003  site-down  -          UNREACHABLE       task: Validate the WAF-SSL certificate and "
        "install it on the site",
        "200002       200002001  site-pass  364        PASS              /var/lib/eeszt/proofs/200002-200002001.json",
        "200002       200002002  site-cert  364        OK                -",
        "sites: 5  passed: 1  check failed: 1  other stage failed: 1  unreachable: 1  not checked: 1",
        "failure categories: tcp_refused=1",
        "problems:",
        "  site-task: task failed: Install the CA bundle",
        "  site-fail: connection check failed: tcp_refused: refused by waf.example:443; hint: open it",
        "  site-down: unreachable: ssh: connect refused",
    ]


def test_never_prints_secrets_or_uncoded_task_messages(fleet):
    output = "\n".join(fleet.finish())
    assert SECRET not in output
    assert "permission denied" not in output
    assert output.count("ssh: connect refused") == 1


def test_connection_error_on_one_line_cut_and_hidden_under_no_log(no_color):
    run = Run()
    run.host("site-hang", "100001", "100001001")
    run.host("site-long", "100001", "100001002")
    run.host("site-quiet", "100001", "100001003")
    run.unreachable("site-hang", "Deploy", msg="Task failed: Data could not be sent to remote host \"127.0.0.1\". "
                    "Make sure this host can be reached over ssh: Connection timed out during banner exchange\r\n"
                    "Connection to 127.0.0.1 port 2222 timed out")
    run.unreachable("site-long", "Deploy", msg="x" * 1000)
    run.unreachable("site-quiet", "Deploy", msg="ssh: %s" % SECRET, _ansible_no_log=True)
    lines = run.finish()

    problems = lines[lines.index("problems:") + 1:]
    assert problems[0] == ("  site-hang: unreachable: Data could not be sent to remote host \"127.0.0.1\". Make sure "
                           "this host can be reached over ssh: Connection timed out during banner exchange "
                           "Connection to 127.0.0.1 port 2222 timed out")
    assert problems[1] == "  site-long: unreachable: " + "x" * (summary_logic.REASON_MAX - 3) + "..."
    assert problems[2] == "  site-quiet: unreachable: connection failed"
    assert SECRET not in "\n".join(lines)
    assert summary_logic.connection_reason("") == "connection failed"


def test_a_failed_result_with_an_error_code_gives_the_code_and_the_message(no_color, tmp_path):
    """Issue 11: the reason of a failed stage, e.g. pfx_wrong_password, not only the task's name."""
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    names = ("site-pfx", "site-pre", "site-free", "site-hidden", "site-plain")
    for number, name in enumerate(names, 1):
        run.host(name, "100001", "10000100%d" % number)
    deploy = "Validate the WAF-SSL certificate and install it on the site"
    run.failed("site-pfx", deploy, error="pfx_wrong_password",
               msg="Task failed: the password for the PFX file\n/srv/pfx/site.p12 is wrong: check the SMS")
    run.failed("site-pre", "Check the variables of the stages to come, on the controller only",
               error="bad_variables", msg="Preflight: 1 bad variable for site-pre: (1) eeszt_site_id \"65432l\"")
    run.failed("site-free", deploy, error="not a code %s" % SECRET, msg="for %s" % SECRET)
    run.failed("site-hidden", deploy, error="pfx_wrong_password", msg="for %s" % SECRET, _ansible_no_log=True)
    run.failed("site-plain", "Install the CA bundle", msg="cannot write for %s" % SECRET)
    lines = run.finish()

    problems = lines[lines.index("problems:") + 1:-1]
    assert problems == [
        "  site-pfx: pfx_wrong_password: the password for the PFX file /srv/pfx/site.p12 is wrong: check the SMS "
        "(task: %s)" % deploy,
        "  site-pre: refused by the preflight: bad_variables: Preflight: 1 bad variable for site-pre: (1) "
        "eeszt_site_id \"65432l\"",
        "  site-free: task failed: %s" % deploy,
        "  site-hidden: task failed: %s" % deploy,
        "  site-plain: task failed: Install the CA bundle",
    ]
    sites = dict((s["host"], s) for s in json.loads(target.read_text())["sites"])
    assert (sites["site-pfx"]["error"], sites["site-pfx"]["message"]) == (
        "pfx_wrong_password", "the password for the PFX file /srv/pfx/site.p12 is wrong: check the SMS")
    assert (sites["site-plain"]["error"], sites["site-plain"]["message"]) == (None, None)
    assert SECRET not in "\n".join(lines) and SECRET not in target.read_text()
    long = summary_logic.failed_error({"error": "x_y", "msg": "m" * 2000})
    assert long == ("x_y", "m" * (summary_logic.MESSAGE_MAX - 3) + "...")


def test_colour_only_on_the_result_and_alignment_kept(fleet, monkeypatch):
    monkeypatch.setattr(color, "ANSIBLE_COLOR", True)
    colored = fleet.finish()
    plain = [re.sub(r"\x1b\[[0-9;]*m", "", line) for line in colored]

    assert sum(ESCAPE in line for line in colored) == 5
    assert all(ESCAPE not in line for line in colored[:2] + colored[-2:])
    assert [line.index("PASS") for line in plain if "PASS" in line] == [plain[1].index("RESULT")]


def test_json_file_holds_the_same_rows(fleet, tmp_path):
    target = tmp_path / "reports" / "fleet-summary.json"
    fleet.callback.set_option("output_json", str(target))
    lines = fleet.finish()

    document = json.loads(target.read_text())
    assert document["schema"] == "eeszt.connect/fleet-summary/v1"
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", document["generated_at"])
    assert [(s["host"], s["result"], s["failure_category"], s["failed_task"]) for s in document["sites"]] == [
        ("site-task", "FAILED", None, "Install the CA bundle"),
        ("site-fail", "FAIL", "tcp_refused", None),
        ("site-down", "UNREACHABLE", None, "Validate the WAF-SSL certificate and install it on the site"),
        ("site-pass", "PASS", None, None),
        ("site-cert", "OK", None, None),
    ]
    assert document["sites"][3] == {
        "host": "site-pass", "institution_id": "200002", "site_id": "200002001", "environment": "test",
        "certificate_days_left": 364, "certificate_not_after": "2027-03-01T00:00:00Z", "result": "PASS",
        "failure_category": None, "failed_task": None, "proof_path": "/var/lib/eeszt/proofs/200002-200002001.json",
        "error": None, "message": None, "hint": None, "archive_path": None, "reason": None}
    assert [(s["error"], s["message"]) for s in document["sites"][:2]] == [
        (None, None), (None, "refused by waf.example:443")]
    assert [s["reason"] for s in document["sites"]] == [
        "task failed: Install the CA bundle", "connection check failed: tcp_refused: refused by waf.example:443; hint: open it",
        "unreachable: ssh: connect refused", None, None]
    assert document["totals"] == {"sites": 5, "passed": 1, "check_failed": 1, "failed": 1, "unreachable": 1,
                                  "not_checked": 1, "refused": 0, "failure_categories": {"tcp_refused": 1}}
    assert document["warnings"] == []
    assert stat.S_IMODE(os.stat(str(target)).st_mode) == 0o644
    assert os.listdir(str(target.parent)) == ["fleet-summary.json"]
    assert lines[-1] == "fleet summary written to %s" % target
    assert SECRET not in target.read_text()


def test_failed_check_shows_its_category_even_when_the_site_then_fails(no_color):
    """With eeszt_check_fail_on_error the role fails the site after publishing the result."""
    run = Run()
    run.host("site1", "100001", "100001001")
    run.facts("site1", eeszt_check_result=check(False, "tls_client_cert_rejected"))
    run.failed("site1", "Fail this site when its check failed")
    lines = run.finish()

    assert "FAIL tls_client_cert_rejected" in lines[2]
    assert "sites: 1  passed: 0  check failed: 1  other stage failed: 0" in lines[3]
    assert lines[-1] == "  site1: connection check failed: tls_client_cert_rejected: refused by waf.example:443; hint: open it"


def test_facts_registered_under_their_public_names(no_color):
    """The stage tasks register eeszt_certificate_result and eeszt_check_result directly (no set_fact)."""
    run = Run()
    run.host("site1", "100001", "100001001")
    run.host("site2", "100001", "100001002")
    run.host("site3", "100001", "100001003")
    for name in ("site1", "site2", "site3"):
        run.registered(name, "eeszt_certificate_result", **certificate(200))
    run.registered("site1", "eeszt_check_result", **check(True, proof="/p/1.json"))
    run.registered("site2", "eeszt_check_result", **check(False, "tcp_refused", proof="/p/2.json"))
    # eeszt_check_fail_on_error: the check's own task fails the site, with the failed check as its result
    run.failed("site3", "Check the connection to EESZT", register="eeszt_check_result", error="check_failed",
               msg="EESZT connection check failed", **check(False, "tls_client_cert_rejected", proof="/p/3.json"))
    # another registered name is not a public fact
    run.registered("site1", "__eeszt_private", passed=False, fingerprint="ff", days_left=1)
    lines = run.finish()

    assert lines[1:] == [
        "INSTITUTION  SITE       HOST   CERT DAYS  RESULT                         PROOF / FAILING TASK",
        "100001       100001001  site1  200        PASS                           /p/1.json",
        "100001       100001002  site2  200        FAIL tcp_refused               /p/2.json",
        "100001       100001003  site3  200        FAIL tls_client_cert_rejected  /p/3.json",
        "sites: 3  passed: 1  check failed: 2  other stage failed: 0  unreachable: 0  not checked: 0",
        "failure categories: tcp_refused=1, tls_client_cert_rejected=1",
        "problems:",
        "  site2: connection check failed: tcp_refused: refused by waf.example:443; hint: open it",
        "  site3: connection check failed: tls_client_cert_rejected: refused by waf.example:443; hint: open it",
    ]


def test_rescued_and_ignored_failures_do_not_fail_the_site(no_color):
    run = Run()
    run.host("site1", "100001", "100001001")
    run.host("site2", "100001", "100001002")
    run.failed("site1", "Try something", ignore_errors=True)
    run.stats.increment("failures", "site2")
    run.callback.v2_runner_on_failed(Result(run.hosts["site2"], "Try the fast way", {"failed": True}))
    run.stats.decrement("failures", "site2")
    run.stats.increment("rescued", "site2")
    for name in ("site1", "site2"):
        run.facts(name, eeszt_check_result=check(True))
    lines = run.finish()

    assert [line.split()[4] for line in lines[2:4]] == ["PASS", "PASS"]


def test_facts_from_looped_set_fact_and_string_values(no_color):
    run = Run()
    run.host("site1", "100001", "100001001")
    run.ok("site1", "Publish in a loop", results=[
        {"ansible_facts": {"eeszt_certificate_result": {"days_left": "12"}}},
        {"ansible_facts": {"eeszt_check_result": {"passed": "False", "failure": {"category": "dns"},
                                                  "proof_path": ""}}},
    ])
    lines = run.finish()

    assert lines[2].split() == ["100001", "100001001", "site1", "12", "FAIL", "dns", "-"]


def test_check_without_category_and_hosts_without_identity(no_color):
    run = Run()
    run.host("zz-site", "100001", "100001001")
    run.host("anonymous")
    run.facts("anonymous", eeszt_check_result={"passed": False, "failure": None})
    run.facts("zz-site", eeszt_check_result=check(True))
    lines = run.finish()

    assert [line.split()[:5] for line in lines[2:4]] == [
        ["100001", "100001001", "zz-site", "-", "PASS"],
        ["-", "-", "anonymous", "-", "FAIL"],
    ]
    assert "FAIL unknown" in lines[3]


def test_a_run_without_sites_prints_and_writes_nothing(no_color, tmp_path):
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    run.host("localhost")
    run.ok("localhost", "Start the lab WAF")
    assert run.finish() == []
    assert not target.exists()


def test_unwritable_json_is_a_warning_not_a_failure(no_color, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = Run(output_json=str(blocker / "summary.json"))
    run.host("site1", "100001", "100001001")
    run.facts("site1", eeszt_certificate_result=certificate(30))
    lines = run.finish()

    assert "OK" in lines[2]
    assert len(run.display.warnings) == 1 and "cannot write" in run.display.warnings[0]


def test_callback_declares_an_aggregate_plugin_that_must_be_enabled():
    assert fleet_summary.CallbackModule.CALLBACK_TYPE == "aggregate"
    assert fleet_summary.CallbackModule.CALLBACK_NEEDS_ENABLED is True
    assert fleet_summary.CallbackModule.CALLBACK_NAME == "eeszt.connect.fleet_summary"


class RunOnceTask(Task):
    """A task with run_once (the proofs role's report task): it runs once, on the play's first host."""

    run_once = True


def test_a_failed_run_once_task_is_the_runs_failure_not_the_first_sites(no_color, tmp_path):
    path = tmp_path / "summary.json"
    run = Run(output_json=str(path))
    for number in (1, 2, 3):
        run.host("site-0%d" % number, "123456", "12345670%d" % number)
        run.ok("site-0%d" % number, "Fetch, check and seal the proofs of this site")
    run.failed("site-02", "Fetch, check and seal the proofs of this site", error="archive_failed",
               msg="1 proof file(s) of site 123456/123456702 could not be archived: disk full")
    # Ansible counts the failure of a run_once task for the host it ran on only, and stops every host of the play.
    run.stats.increment("failures", "site-01")
    message = ("cannot merge /srv/node0/archive into /srv/merged: these files exist in both with different "
               "content: 123456/123456701/p.json")
    report = Result(run.hosts["site-01"], "Record the run and rebuild the fleet report from the archive",
                    {"failed": True, "error": "archive_conflict", "msg": message})
    report.task = RunOnceTask(report.task.name)
    run.callback.v2_runner_on_failed(report)
    lines = run.finish()
    assert lines == [
        "== EESZT FLEET SUMMARY",
        "INSTITUTION  SITE       HOST     CERT DAYS  RESULT  PROOF / FAILING TASK",
        "123456       123456701  site-01  -          OK      -",
        "123456       123456702  site-02  -          FAILED  task: Fetch, check and seal the proofs of this site",
        "123456       123456703  site-03  -          OK      -",
        "sites: 3  passed: 0  check failed: 0  other stage failed: 1  unreachable: 0  not checked: 2",
        "problems:",
        "  site-02: archive_failed: 1 proof file(s) of site 123456/123456702 could not be archived: disk full "
        "(task: Fetch, check and seal the proofs of this site)",
        "run problems (tasks that run once for the whole play; every site of that play stopped there):",
        "  archive_conflict: %s (task: Record the run and rebuild the fleet report from the archive, run on "
        "site-01's behalf)" % message,
        "fleet summary written to %s" % path,
    ]
    document = json.loads(path.read_text())
    assert document["totals"]["failed"] == 1
    assert document["run_failures"] == [{"task": "Record the run and rebuild the fleet report from the archive",
                                         "host": "site-01", "error": "archive_conflict", "message": message}]
    assert [row["result"] for row in document["sites"]] == ["OK", "FAILED", "OK"]


def test_a_site_that_sent_an_invalid_proof_is_error_with_the_reason(no_color, tmp_path):
    """Issue 21: the proofs stage's archive task (ignore_errors) quarantined a file: ERROR, whatever the check said."""
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    run.host("site1", "100001", "100001001")
    run.host("site2", "100001", "100001002")
    for name in ("site1", "site2"):
        run.facts(name, eeszt_check_result=check(True))
    archive = "Archive and check the proofs of this site"
    run.failed("site1", archive, ignore_errors=True, error="invalid_proof",
               msg="the site sent an invalid proof: bad.json: failure: expected an object or null, got a string",
               quarantined=[{"name": "bad.json", "reason": "failure: expected an object or null, got a string",
                             "path": "quarantine/100001/100001001/bad.json"},
                            {"name": "late.json", "reason": "clock skew: finished_at 2099-01-01T00:00:00Z is\n"
                                                            "2272654800 s ahead"}, "not a mapping"])
    run.ok("site2", archive, quarantined=[])
    run.failed("site1", "Fail this site when its proofs could not be archived or sealed, or warn that it was "
                        "unreachable", msg="the site sent an invalid proof")
    lines = run.finish()

    assert [line.split()[4] for line in lines[2:4]] == ["ERROR", "PASS"]
    assert lines[4] == "sites: 2  passed: 1  check failed: 0  other stage failed: 0  unreachable: 0  not checked: 0  error: 1"
    reason = ("the site sent an invalid proof: bad.json: failure: expected an object or null, got a string | "
              "late.json: clock skew: finished_at 2099-01-01T00:00:00Z is 2272654800 s ahead")
    assert lines[lines.index("problems:") + 1:-1] == ["  site1: %s" % reason]
    document = json.loads(target.read_text())
    site = dict((s["host"], s) for s in document["sites"])["site1"]
    assert (site["result"], site["error"], site["reason"]) == ("ERROR", "invalid_proof", reason)
    assert document["totals"]["error"] == 1


# --- issue 27: refused hosts, unknown-variable warnings, environment and certificate days ----------------

PREFLIGHT = "Check the variables of the stages to come, on the controller only"
FLEET_PREFLIGHT = "Check the controller-side files and variable names of every site, once"


def unknown(*entries):
    """A fleet_preflight result with its ``unknown`` list."""
    return {"changed": False, "hosts": {}, "files_opened": 2, "msg": "...",
            "unknown": [{"variable": variable, "hosts": list(hosts), "did_you_mean": meant}
                        for variable, hosts, meant in entries]}


def test_every_host_the_preflight_refused_is_refused_whatever_its_problem(no_color, tmp_path):
    """A wrong password, a bad ID, a registry row: all REFUSED, counted once as refused (not failed)."""
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    run.host("site-ok", "100001", "100001001")
    run.host("site-pfx", "100001", "100001002")
    run.host("site-id", "10000l", "100001003")
    run.host("registry_csv_line_4")  # a registry row without a usable identity: no identity variables at all
    run.registered("site-ok", "eeszt_check_result", **check(True))
    run.failed("site-pfx", PREFLIGHT, error="bad_variables",
               msg="Preflight: 1 bad variable for site-pfx, so nothing was done on this site: (1) "
                   "eeszt_certificate_pfx_password: the password is wrong [pfx_wrong_password]")
    run.failed("site-id", PREFLIGHT, error="bad_variables", msg="Preflight: 1 bad variable for site-id")
    run.failed("registry_csv_line_4", PREFLIGHT, error="bad_variables",
               msg="Preflight: 1 bad variable for registry_csv_line_4: (1) eeszt_registry_refusal: registry.csv, "
                   "line 4, field site_id")
    lines = run.finish()

    assert lines[1:6] == [
        "INSTITUTION  SITE       HOST                 CERT DAYS  RESULT   PROOF / FAILING TASK",
        "100001       100001001  site-ok              -          PASS     /var/lib/eeszt/proofs/p.json",
        "100001       100001002  site-pfx             -          REFUSED  task: %s" % PREFLIGHT,
        "10000l       100001003  site-id              -          REFUSED  task: %s" % PREFLIGHT,
        "-            -          registry_csv_line_4  -          REFUSED  task: %s" % PREFLIGHT,
    ]
    assert lines[6] == "sites: 4  passed: 1  check failed: 0  other stage failed: 0  unreachable: 0  not checked: 0  refused: 3"
    problems = lines[lines.index("problems:") + 1:-1]
    assert problems[0] == ("  site-pfx: refused by the preflight: bad_variables: Preflight: 1 bad variable for "
                           "site-pfx, so nothing was done on this site: (1) eeszt_certificate_pfx_password: the "
                           "password is wrong [pfx_wrong_password]")
    assert [line.split(":")[0].strip() for line in problems] == ["site-pfx", "site-id", "registry_csv_line_4"]
    document = json.loads(target.read_text())
    assert document["totals"]["refused"] == 3 and document["totals"]["failed"] == 0
    assert [(s["host"], s["result"], s["error"]) for s in document["sites"]] == [
        ("site-ok", "PASS", None), ("site-pfx", "REFUSED", "bad_variables"), ("site-id", "REFUSED", "bad_variables"),
        ("registry_csv_line_4", "REFUSED", "bad_variables")]


def test_no_refused_counter_when_nothing_was_refused(fleet):
    lines = fleet.finish()
    assert "refused" not in [line for line in lines if line.startswith("sites: ")][0]


def test_unknown_variables_are_listed_once_under_warnings(no_color, tmp_path):
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    for number in (1, 2, 3):
        run.host("site-0%d" % number, "100001", "10000100%d" % number)
    # A group variable's typo is set for all three sites; the preflight ran twice in this run (two playbooks).
    for dummy in range(2):
        run.ok("site-01", FLEET_PREFLIGHT, **unknown(("eeszt_check_timout", ["site-01", "site-02", "site-03"],
                                                      "eeszt_check_timeout"),
                                                     ("eeszt_foo", ["site-02"], None)))
    for number in (1, 2, 3):
        run.registered("site-0%d" % number, "eeszt_check_result", **check(True))
    lines = run.finish()

    start = lines.index("warnings:")
    assert lines[start:start + 3] == [
        "warnings:",
        "  eeszt_check_timout is set for 3 host(s) (site-01, site-02, site-03) but nothing in eeszt.connect reads "
        "it: did you mean eeszt_check_timeout? If it is your own variable, add it to eeszt_preflight_ignore_unknown.",
        "  eeszt_foo is set for 1 host(s) (site-02) but nothing in eeszt.connect reads it: If it is your own "
        "variable, add it to eeszt_preflight_ignore_unknown.",
    ]
    assert "\n".join(lines).count("eeszt_check_timout") == 1
    document = json.loads(target.read_text())
    assert document["warnings"] == [
        {"variable": "eeszt_check_timout", "hosts": ["site-01", "site-02", "site-03"],
         "did_you_mean": "eeszt_check_timeout", "message": lines[start + 1].strip()},
        {"variable": "eeszt_foo", "hosts": ["site-02"], "did_you_mean": None, "message": lines[start + 2].strip()}]


def test_environment_and_certificate_days_from_the_check(no_color, tmp_path, monkeypatch):
    """The daily run has no certificate stage: the days left come from the check's client certificate."""
    import datetime

    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    run.host("site-test", "100001", "100001001")
    run.host("site-prod", "100001", "100001002").set_variable("eeszt_environment", "production")
    run.host("site-both", "100001", "100001003")
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=100, hours=12)
    proof = dict(check(True), client_certificate={"not_after": later.strftime("%Y-%m-%dT%H:%M:%SZ")})
    run.registered("site-test", "eeszt_check_result", **proof)
    run.registered("site-prod", "eeszt_check_result", **dict(proof, environment="production"))
    # The certificate stage's own figure wins over the check's.
    run.facts("site-both", eeszt_certificate_result=certificate(364))
    run.registered("site-both", "eeszt_check_result", **proof)
    run.finish()

    sites = dict((s["host"], s) for s in json.loads(target.read_text())["sites"])
    assert [(sites[h]["environment"], sites[h]["certificate_days_left"]) for h in ("site-test", "site-prod", "site-both")] \
        == [("test", 100), ("production", 100), ("test", 364)]
    assert sites["site-test"]["certificate_not_after"] == later.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_problem_line_carries_the_hint_and_the_archived_proof(no_color):
    """Issue 27: ``problems:`` gave the message without the hint, and the proof's path on the site; the
    totals said ``check failed: 1  failed: 0``, which read as a contradiction."""
    run = Run()
    run.host("site1", "100001", "100001001")
    run.host("site2", "100001", "100001002")
    run.facts("site1", eeszt_check_result=check(True, proof="/site1/proofs/A_100001_100001001.json"))
    run.facts("site2", eeszt_check_result=check(False, "tcp_refused", proof="/site2/proofs/B_100001_100001002.json"))
    # The proofs stage's archive task: the site's folder in the archive and the names it stored.
    run.ok("site1", "Archive and check the proofs of this site", site_dir="/archive/100001/100001001",
           archived=[], skipped=["A_100001_100001001.json"])
    run.ok("site2", "Archive and check the proofs of this site", site_dir="/archive/100001/100001002",
           archived=[{"name": "B_100001_100001002.json", "path": "100001/100001002/B_100001_100001002.json"},
                     {"name": "../escape.json"}], skipped=[])
    lines = run.finish()

    assert lines[-4:] == [
        "sites: 2  passed: 1  check failed: 1  other stage failed: 0  unreachable: 0  not checked: 0",
        "failure categories: tcp_refused=1",
        "problems:",
        "  site2: connection check failed: tcp_refused: refused by waf.example:443; hint: open it; "
        "proof: /archive/100001/100001002/B_100001_100001002.json",
    ]
    assert not any(re.match(r"^\S.*\bfailed: \d", line) and "other stage failed" not in line
                   and "check failed" in line for line in lines)


def test_without_an_archive_the_problem_line_names_no_proof(no_color):
    run = Run()
    run.host("site2", "100001", "100001002")
    run.facts("site2", eeszt_check_result=check(False, "tcp_refused", proof="/site2/proofs/B.json"))
    lines = run.finish()
    assert lines[-1] == "  site2: connection check failed: tcp_refused: refused by waf.example:443; hint: open it"


def test_a_mistake_in_an_institutions_shared_settings_is_one_line_with_its_sites_counted(no_color):
    """Issue 27: a wrong PFX password in an institution's group variables printed one problem per site."""
    run = Run()
    for index, host in enumerate(("site1", "site2", "site3"), 1):
        run.host(host, "100001", "10000100%d" % index)
    run.host("site4", "200002", "200002001")
    for host in ("site1", "site2", "site3", "site4"):
        run.failed(host, "Check the variables of the stages to come", error="bad_variables",
                   msg="Preflight: 1 bad variable for %s: eeszt_certificate_pfx_password: the password for the "
                       "PFX file /pfx/inst.p12 is wrong" % host)
    lines = run.finish()

    assert lines[-3:] == [
        "problems:",
        "  institution 100001, 3 sites (site1, site2, site3): refused by the preflight: bad_variables: Preflight: 1 "
        "bad variable for each site: eeszt_certificate_pfx_password: the password for the PFX file /pfx/inst.p12 is "
        "wrong",
        # The same mistake at another institution is that institution's own line.
        "  site4: refused by the preflight: bad_variables: Preflight: 1 bad variable for site4: "
        "eeszt_certificate_pfx_password: the password for the PFX file /pfx/inst.p12 is wrong",
    ]


def test_no_full_stop_before_the_hint_or_the_proof(no_color):
    """Issue 27: "...refused the TCP connection.; hint: ..." read as a typo. The check's messages and hints end
    with a full stop; before "; hint:" and "; proof:" it is left out, at the end of the line it is kept."""
    run = Run()
    run.host("site1", "100001", "100001001")
    run.host("site2", "100001", "100001002")
    for name in ("site1", "site2"):
        result = check(False, "tcp_refused", proof="/%s/proofs/B_%s.json" % (name, name))
        result["failure"].update(message="127.0.0.1 port 1 refused the TCP connection.", hint="Check the port.")
        run.facts(name, eeszt_check_result=result)
    run.ok("site2", "Archive and check the proofs of this site", site_dir="/archive/100001/100001002",
           archived=[{"name": "B_site2.json"}], skipped=[])
    lines = run.finish()
    assert lines[-2:] == [
        "  site1: connection check failed: tcp_refused: 127.0.0.1 port 1 refused the TCP connection; hint: Check "
        "the port.",
        "  site2: connection check failed: tcp_refused: 127.0.0.1 port 1 refused the TCP connection; hint: Check "
        "the port; proof: /archive/100001/100001002/B_site2.json"]


class OwnTask(Task):
    """A task that runs one of the collection's modules or actions."""

    def __init__(self, name, action, no_log=False, run_once=False):
        super(OwnTask, self).__init__(name)
        self.resolved_action = action
        self.no_log = no_log
        self.run_once = run_once


def fail_with(run, name, task, **result):
    run.stats.increment("failures", name)
    failure = Result(run.hosts[name], task.name, dict(result, failed=True))
    failure.task = task
    run.callback.v2_runner_on_failed(failure)


def test_a_failure_of_the_collection_without_an_error_code_keeps_its_message(no_color, tmp_path):
    """Issue 22: bad options to the collection's actions (tls_clock_skew, site_preflight, fleet_preflight,
    proofs_archive) return no ``error`` code, and their message was lost in the summary: it is printed, code or
    not. Any other task's message without a code stays out (it may quote a secret), and so does what no_log hides."""
    target = tmp_path / "fleet-summary.json"
    run = Run(output_json=str(target))
    names = ("site-opts", "site-fail", "site-quiet", "site-nolog", "site-bare")
    for number, name in enumerate(names, 1):
        run.host(name, "100001", "10000100%d" % number)
    options = ("Unsupported parameters for (eeszt.connect.tls_clock_skew) module: max_skew. "
               "Supported parameters include: tolerance.")
    clock = "Compare the site's clock with the controller's"
    fail_with(run, "site-opts", OwnTask(clock, "eeszt.connect.tls_clock_skew"), msg="Task failed: %s" % options)
    fail_with(run, "site-fail", OwnTask("Stop when the site is not ready", "ansible.builtin.fail"),
              msg="not ready for %s" % SECRET)
    fail_with(run, "site-quiet", OwnTask("Deploy", "eeszt.connect.waf_certificate"), msg="for %s" % SECRET,
              _ansible_no_log=True)
    fail_with(run, "site-nolog", OwnTask("Deploy quietly", "eeszt.connect.waf_certificate", no_log=True),
              msg="for %s" % SECRET)
    fail_with(run, "site-bare", OwnTask("Install the CA bundle", "eeszt.connect.ca_bundle"))
    report = "Record the run and rebuild the fleet report from the archive"
    fail_with(run, "site-opts", OwnTask(report, "eeszt.connect.proofs_report", run_once=True),
              msg="Unsupported parameters for (eeszt.connect.proofs_report) module: x")
    lines = run.finish()

    assert lines[lines.index("problems:") + 1:-1] == [
        "  site-opts: %s (task: %s)" % (options, clock),
        "  site-fail: task failed: Stop when the site is not ready",
        "  site-quiet: task failed: Deploy",
        "  site-nolog: task failed: Deploy quietly",
        "  site-bare: task failed: Install the CA bundle",
        "run problems (tasks that run once for the whole play; every site of that play stopped there):",
        "  Unsupported parameters for (eeszt.connect.proofs_report) module: x (task: %s, run on site-opts's behalf)"
        % report,
    ]
    document = json.loads(target.read_text())
    sites = dict((s["host"], s) for s in document["sites"])
    assert (sites["site-opts"]["error"], sites["site-opts"]["message"]) == (None, options)
    assert [sites[name]["message"] for name in ("site-fail", "site-quiet", "site-nolog", "site-bare")] == [None] * 4
    assert document["run_failures"] == [{"task": report, "host": "site-opts", "error": None,
                                         "message": "Unsupported parameters for (eeszt.connect.proofs_report) module: x"}]
    assert SECRET not in "\n".join(lines) and SECRET not in target.read_text()


def test_only_the_collection_s_own_actions_count_as_its_own():
    assert summary_logic.own_action("eeszt.connect.tls_clock_skew")
    assert not summary_logic.own_action("eeszt.connectx.thing")
    assert not summary_logic.own_action("ansible.builtin.fail")
    assert not summary_logic.own_action(None)
    assert summary_logic.failed_error({"msg": "bad option"}, own=True) == (None, "bad option")
    assert summary_logic.failed_error({"msg": "bad option"}) == (None, None)
    assert summary_logic.failed_error({"msg": "x", "error": "pfx_wrong_password"}) == ("pfx_wrong_password", "x")
    assert summary_logic.failed_error({"msg": "x", "_ansible_no_log": True}, own=True) == (None, None)
