# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_summary
type: aggregate
short_description: One line per EESZT site at the end of a run, with totals
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - At the end of a playbook run, prints one line per site, sorted by institution and then site, with the
    institution ID, the site ID, the host, the days left on the WAF-SSL certificate, the result and the
    proof path or the failing task; then the totals, the count of each failure category and, under
    C(problems:), one line per site that did not pass with its reason. It is printed after the C(PLAY RECAP),
    as the run's last block.
  - "Sites of one institution with the same classified problem (an error code or a check's category) and the
    same reason but for their host names, such as a mistake in the institution's group variables, share one
    C(problems:) line that names and counts them (C(institution ID, N sites (HOSTS): REASON)); the JSON keeps
    one object per site."
  - "The totals: C(sites), C(passed), C(check failed) (the connection check ran and failed), C(other stage
    failed) (a task of another stage failed, the preflight included; C(failed) in the JSON totals),
    C(unreachable) and C(not checked)."
  - "The result is one of: C(PASS) (the connection check passed), C(FAIL <category>) (the check ran and
    failed, with its C(failure.category)), C(FAILED) (a task failed on the site; the line names it),
    C(UNREACHABLE) (the line names the task), C(ERROR) (the site sent a file that is no valid proof: the proofs
    stage kept it in the archive's quarantine; the line names the file), C(REFUSED) (the preflight refused the
    host before anything was done on it: a bad variable, a controller file, a misspelt variable with
    C(eeszt_preflight_unknown_variables=fail) or a refused site registry row; its reason is C(refused by the
    preflight: bad_variables: MESSAGE)), C(OK) (the run succeeded on the site without a connection check, for
    example C(deploy_certificate.yml) alone)."
  - "The totals add C(refused: N) when the preflight refused a host (C(refused) in the JSON totals, always there);
    a refused host counts there only, not under C(failed). A host refused with no identity (a refused site
    registry row) is listed too."
  - "The days left on the certificate come from the certificate stage's C(eeszt_certificate_result), else from the
    client certificate the connection check presented (C(eeszt_check_result.client_certificate.not_after)), so a
    daily run without the certificate stage shows them too. The environment is C(eeszt_environment), else the
    check's, else C(test) (the roles' default) for a site."
  - "Under C(warnings:), once each, the C(eeszt_*) variables that nothing in the collection reads, with the hosts
    that set them counted (from M(eeszt.connect.fleet_preflight); C(warnings) in the JSON, with C(variable),
    C(hosts), C(did_you_mean) and C(message))."
  - "C(ERROR) comes from the C(quarantined) list of the result of M(eeszt.connect.proofs_archive) (the proofs
    role's archive task), whether or not the task's failure is ignored; its reason is C(the site sent an invalid
    proof: NAME: REASON), on one line and cut at 500 characters. The totals then add C(error: N) (C(error) in the
    JSON totals), absent when no site sent an invalid proof."
  - It reads the facts C(eeszt_certificate_result) and C(eeszt_check_result) from the results of the
    tasks that register them (or set them with C(set_fact)) in the C(certificate) and C(connection_check)
    roles, the host statistics, and the
    identity variables C(eeszt_institution_id) and C(eeszt_site_id) of each host. Hosts with neither the
    identity variables nor those facts (such as C(localhost) in C(lab.yml)) are not sites and are left out;
    a run without sites prints nothing.
  - Aligned plain text, readable in a terminal and in a CI log; the result is coloured only when Ansible
    colours its output (a terminal, and neither C(ANSIBLE_NOCOLOR) nor C(NO_COLOR) set).
  - "The reason of a problem site is: for C(UNREACHABLE), the connection error (for example the ssh client's
    C(Connection timed out during banner exchange)), on one line and cut at 300 characters, or C(connection
    failed) alone when the task has C(no_log); for C(FAIL), the failure category, the check's message, its remedy
    hint (C(hint:)) and the path of the proof in the central archive (C(proof:), when the proofs stage archived it);
    for C(FAILED), the error code and message of the failed result (for example C(pfx_wrong_password: the
    password for the PFX file ... is wrong)), or its message alone when a task of the collection failed without
    an error code (for example bad options to one of its modules or actions), and the name of the failing task;
    the task's name alone otherwise."
  - "A failed task's message is printed when its result carries an error code (the C(error) return value of the
    collection's modules and actions, whose messages are written never to hold a secret), or when the task ran one
    of the collection's own modules or actions (C(eeszt.connect.*)) without one, and the task has no C(no_log);
    kept on one line and cut at 500 characters. The message of any other task without a code (a C(fail) or
    C(assert) task, another collection's module) may quote what it was given and is not shown; a C(error) that is
    not a code (a short word) is not shown either. Apart from that and the connection error of an unreachable
    site, it prints only the fields above, never a task's arguments or variables, so it cannot leak a password."
  - "A failed task that runs once for the whole play (C(run_once), such as the proofs role's report task,
    which records the run and rebuilds the report of the archive) is the run's failure, not a site's: Ansible
    counts it for the first host of the play and stops every host of the play there. It is listed under
    C(run problems:) with its error code and message (under the same conditions as a site's), the task and the
    host it ran for; the sites' lines keep what they did before."
  - "Incidents: when the run rebuilt the fleet report (the proofs role's task, M(eeszt.connect.proofs_report)),
    the incidents of its result (failing sites that share one cause: the whole fleet, one environment, one
    endpoint, one proxy or one institution; see the module's O(eeszt.connect.proofs_report#module:incident_min_sites))
    are printed once each under C(incidents:), before C(problems:): number, scope and key, category, how many sites
    and institutions, since when, the message, the one thing to do and the hosts (at most 10 named). The
    C(problems:) line of a site in an incident is shorter and points at it: C(connection check failed: CATEGORY
    (incident #N)) without the check's message, or the connection error of an unreachable site followed by
    C((incident #N)). A run without the proofs stage prints no incidents."
  - This is an aggregate callback, it runs next to the normal output and must be enabled, for example
    with C(callbacks_enabled = eeszt.connect.fleet_summary) in the C([defaults]) section of C(ansible.cfg),
    or C(ANSIBLE_CALLBACKS_ENABLED=eeszt.connect.fleet_summary).
options:
  output_json:
    description:
      - Also write the summary as JSON to this file (schema C(eeszt.connect/fleet-summary/v1)), replaced
        atomically at the end of each run that saw at least one site.
      - The object has C(schema), C(generated_at) (UTC, ISO 8601), C(sites) (one object per line, keys
        C(host), C(institution_id), C(site_id), C(environment), C(certificate_days_left),
        C(certificate_not_after), C(result), C(failure_category), C(failed_task), C(error), C(message),
        C(hint), C(proof_path), C(archive_path), C(reason)), C(totals), C(run_failures) (one object per failed task that runs
        once for the play, keys C(task), C(host), C(error), C(message)), C(warnings) and C(incidents) (those of the report,
        as M(eeszt.connect.proofs_report) returns them, in the order of their numbers; empty without one). C(reason) is
        null for sites that passed; C(error)
        and C(message) are the error code and message of a failed result (C(message) also without a code for the
        collection's own tasks; both null
        under C(no_log)), or of a failed
        check; C(hint) the failed check's remedy hint; C(proof_path) the proof's path on the site and
        C(archive_path) its path in the central archive (null when the proofs stage did not archive it).
    type: path
    env:
      - name: EESZT_FLEET_SUMMARY_JSON
    ini:
      - section: callback_fleet_summary
        key: output_json
requirements:
  - Enabled in C(callbacks_enabled).
"""

EXAMPLES = r"""
# ansible.cfg
# [defaults]
# callbacks_enabled = eeszt.connect.fleet_summary
# [callback_fleet_summary]
# output_json = ./fleet-summary.json

# Or for one run:
#   ANSIBLE_CALLBACKS_ENABLED=eeszt.connect.fleet_summary \
#   EESZT_FLEET_SUMMARY_JSON=fleet-summary.json ansible-playbook eeszt.connect.site
#
# Output:
#   EESZT FLEET SUMMARY ***********************************************************
#   INSTITUTION  SITE       HOST     CERT DAYS  RESULT           PROOF / FAILING TASK
#   100001       100001001  site001  364        PASS             /var/lib/eeszt/proofs/100001-100001001-20260301T101500Z.json
#   100001       100001002  site002  364        FAIL tcp_refused /var/lib/eeszt/proofs/100001-100001002-20260301T101501Z.json
#   100002       100002001  site003  -          UNREACHABLE      task: Validate the WAF-SSL certificate and install it on the site
#   sites: 3  passed: 1  check failed: 1  other stage failed: 0  unreachable: 1  not checked: 0
#   failure categories: tcp_refused=1
#   incidents:
#     #1 institution 100003: unreachable on 2 site(s) of 1 institution(s), since 2026-03-01T10:15:02Z
#        2 site(s) of 1 institution(s) (institution 100003) are unreachable over SSH: the vendor's own network ...
#        to do: Check the VPN or network path from the controller to these sites, then run the playbook again.
#        hosts: site005, site006
#   problems:
#     site002: connection check failed: tcp_refused: connection to waf.example:443 refused; hint: open port 443
#              towards EESZT in the firewall; proof: /srv/eeszt-proofs/100001/100001002/20260301T101501Z_...json
#     site003: unreachable: Data could not be sent to remote host "10.1.2.3". Make sure this host can be
#              reached over ssh: ssh: connect to host 10.1.2.3 port 22: Connection timed out
#     site004: pfx_wrong_password: the password for the PFX file site004.p12 is wrong ... (task: Validate the
#              WAF-SSL certificate and install it on the site)
"""

from ansible.inventory.helpers import get_group_vars
from ansible.plugins.callback import CallbackBase
from ansible.utils.vars import combine_vars

from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_summary import IDENTITY, Collector
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.fleet_summary_output import render, write_json


class CallbackModule(CallbackBase):
    """Fleet summary of an EESZT run: the Ansible hooks; what they collect and print is plugin_utils/report/'s
    (``fleet_summary.py``: the records, rows and totals; ``fleet_summary_output.py``: the text and the JSON)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "eeszt.connect.fleet_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, display=None):
        super().__init__(display=display)
        self._collector = Collector()
        self._play = None

    # --- events ---------------------------------------------------------------

    def v2_playbook_on_play_start(self, play):
        self._play = play

    def v2_runner_on_ok(self, result):
        host = self._host(result)
        self._collector.ok(host.get_name(), host, self._payload(result), getattr(self._task(result), "register", None))

    def v2_runner_on_failed(self, result, ignore_errors=False):
        host, task = self._host(result), self._task(result)
        self._collector.failed(host.get_name(), host, self._payload(result), task.get_name().strip(),
                               register=getattr(task, "register", None),
                               no_log=getattr(task, "no_log", False) is True,
                               run_once=getattr(task, "run_once", False) is True, ignore_errors=ignore_errors,
                               action=getattr(task, "resolved_action", None) or getattr(task, "action", None))

    def v2_runner_on_unreachable(self, result):
        host, task = self._host(result), self._task(result)
        self._collector.unreachable(host.get_name(), host, self._payload(result), task.get_name().strip(),
                                    no_log=getattr(task, "no_log", False) is True)

    def v2_playbook_on_stats(self, stats):
        counts = {name: stats.summarize(name) for name in stats.processed}
        identities = {name: self._identity(name) for name in set(self._collector.records) | set(counts)}
        rows, totals = self._collector.summarize(counts, identities)
        if not rows:
            return
        collector = self._collector
        unknown = collector.unknown()
        self._display.banner("EESZT FLEET SUMMARY")
        for line in render(rows, totals, run_failures=collector.run_failures, unknown=unknown,
                           incidents=collector.incidents):
            self._display.display(line)
        path = self.get_option("output_json")
        if path:
            try:
                write_json(path, rows, totals, collector.run_failures, unknown, collector.incidents)
            except OSError as exc:
                self._display.warning("fleet_summary: cannot write %s: %s" % (path, exc.strerror or exc))
            else:
                self._display.display("fleet summary written to %s" % path)

    # --- the result's parts (the public attributes, else the private ones of older ansible-core) ---------

    @staticmethod
    def _payload(result):
        payload = getattr(result, "result", None)
        if payload is None:
            payload = result._result
        return payload if isinstance(payload, dict) else {}

    @staticmethod
    def _host(result):
        host = getattr(result, "host", None)
        return host if host is not None else result._host

    @staticmethod
    def _task(result):
        task = getattr(result, "task", None)
        return task if task is not None else result._task

    def _identity(self, name):
        """The identity variables of a host: inventory host and group variables, else the play's view."""
        record = self._collector.records.get(name)
        values = {}
        if record is not None and record.host is not None:
            host = record.host
            values = combine_vars(get_group_vars(host.get_groups()), host.get_vars())
        identity = {key: values[key] for key in IDENTITY if key in values}
        if not all(key in identity for key in IDENTITY[:2]) and self._play is not None and record is not None:
            # group_vars/ and host_vars/ files are only visible through the variable manager.
            manager = self._play.get_variable_manager()
            if manager is not None:
                try:
                    variables = manager.get_vars(play=self._play, host=record.host, include_hostvars=False)
                except Exception as exc:  # pylint: disable=broad-exception-caught
                    self._display.vvv("fleet_summary: no variables for %s: %s" % (name, exc))
                else:
                    identity.update({key: variables[key] for key in IDENTITY
                                     if key not in identity and key in variables})
        return identity
