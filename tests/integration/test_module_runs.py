# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Module runs on a site during site.yml's certificate and tls stages (issue 14), counted.

Three demo sites (inventories/demo); each site's ansible_python_interpreter is a wrapper that appends
one line (the site and the module's name) per invocation to a log, then runs Python. The
certificate stage is one run per site (eeszt.connect.waf_certificate), the tls stage one
(eeszt.connect.tls_files: the files, the removal of a disabled gateway and hosts block, the site's clock);
disabled features add none, on a fresh site and on a re-run. An enabled feature keeps its own tasks.
"""

import collections
import os
import sys

HOSTS = ("site001", "site002", "site003")
# ansible.cfg pipelines: the module comes on stdin, its name in the line ansible_module='...'.
WRAPPER = """#!/bin/sh
payload=$(mktemp)
cat > "$payload"
module=$(sed -n "s/^ansible_module='\\(.*\\)',$/\\1/p" "$payload" | head -n 1)
echo "$(basename "$0") ${module:-${1:-unknown}}" >> "%s"
"%s" "$@" < "$payload"
rc=$?
rm -f "$payload"
exit $rc
"""
ONE_RUN_EACH = ["eeszt.connect.waf_certificate", "eeszt.connect.tls_files"]
HOSTS_BLOCK_BEGIN = "# BEGIN eeszt.connect tls_client: EESZT host names"


def test_certificate_and_tls_stages_take_one_module_run_each(tmp_path, run_playbook):
    lab_dir = tmp_path / "lab"
    env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_DEMO_SITES": str(len(HOSTS))}
    inventory = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                             "inventories", "demo")
    pki = run_playbook("lab.yml", inventory=inventory, extra_vars={"eeszt_lab_state": "present"}, env=env)
    assert pki.ok, pki.output

    wrappers = tmp_path / "python"
    wrappers.mkdir()
    log = tmp_path / "module-runs.log"
    for host in HOSTS:
        wrapper = wrappers / host
        wrapper.write_text(WRAPPER % (log, sys.executable))
        wrapper.chmod(0o755)

    def stages(**extra):
        if log.exists():
            log.unlink()
        extra_vars = {"ansible_python_interpreter": str(wrappers) + "/{{ inventory_hostname }}"}
        extra_vars.update(extra)
        result = run_playbook("site.yml", inventory=inventory, extra_vars=extra_vars,
                              args=("--tags", "certificate,tls"), env=env)
        assert result.ok, result.output
        runs = collections.defaultdict(list)
        for line in log.read_text().splitlines():
            host, module = line.split(" ", 1)
            runs[host].append(module)
        return result, dict(runs)

    expected = dict((host, ONE_RUN_EACH) for host in HOSTS)
    fresh, runs = stages()
    assert runs == expected, fresh.output
    assert all(fresh.changed(host) >= 2 for host in HOSTS), fresh.output

    again, runs = stages()
    assert runs == expected, again.output
    assert all(again.changed(host) == 0 for host in HOSTS), again.output

    # An enabled feature keeps its own tasks: the hosts entries (a stat and a blockinfile).
    entries = [{"ip": "127.0.0.1", "names": ["waf.eeszt.test"]}]
    with_hosts, runs = stages(eeszt_tls_hosts_entries=entries)
    assert runs == dict((host, ONE_RUN_EACH + ["ansible.builtin.stat", "ansible.builtin.blockinfile"])
                        for host in HOSTS), with_hosts.output
    hosts_file = lab_dir / "sites" / HOSTS[0] / "etc" / "hosts"
    assert HOSTS_BLOCK_BEGIN in hosts_file.read_text()

    # Switched off again: tls_files takes the block out in its one run.
    without, runs = stages()
    assert runs == expected, without.output
    assert HOSTS_BLOCK_BEGIN not in hosts_file.read_text()
    assert all(without.changed(host) == 1 for host in HOSTS), without.output
