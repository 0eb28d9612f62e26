# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection driven through ansible-runner, the engine AWX and Automation Platform run every job with
(issue 15, part 4).

A project laid out as docs/awx.md describes it: the collection under ``collections/ansible_collections``,
thin wrapper playbooks under ``playbooks/``, the inventory source and its ``group_vars/eeszt_sites/main.yml``
(where the proofs role's variables are set for the sites: the archive on a shared volume and the CA file),
the project's ``ansible.cfg`` with the fleet summary. A job template with job slicing 3 runs as three jobs at
once, each with its own private data directory and the slice's hosts (AWX: the hosts in name order, slice k
gets every 3rd host from the k-th, awx/main/models/inventory.py ``get_script_data``); then the workflow's next
node, a verify_proofs job on the whole inventory. The merged report lists every site as passed, and every seal
verifies with ``openssl cms``.
"""

import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import BIN, ROOT, run_ansible_playbook

ansible_runner = pytest.importorskip("ansible_runner")

DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 6
SLICES = 3
HOSTS = ["site%03d" % n for n in range(1, SITES + 1)]
JOB_TIMEOUT = 600

pytestmark = pytest.mark.slow

ANSIBLE_CFG = """\
[defaults]
collections_path = ./collections
inventory = inventory
forks = 20
pipelining = True
gathering = explicit
host_key_checking = False
interpreter_python = auto_silent
retry_files_enabled = False
callbacks_enabled = eeszt.connect.fleet_summary
timeout = 10
task_timeout = 600

[inventory]
any_unparsed_is_failed = True
"""

GROUP_ALL = """\
---
eeszt_lab_waf_port: "{{ lookup('ansible.builtin.env', 'EESZT_LAB_WAF_PORT') | int }}"
eeszt_demo_lab_base: "{{ lookup('ansible.builtin.env', 'EESZT_LAB_DIR') }}"
eeszt_lab_dir: "{{ eeszt_demo_lab_base }}"
eeszt_preflight_ignore_unknown: ["eeszt_demo_*"]
"""


def copy_collection(target):
    """The collection as the project ships it: the files git knows of this checkout (tracked and new)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            stdout=subprocess.PIPE, check=True, timeout=60).stdout.decode().split("\0")
    for relative in listed:
        if not relative or not relative.startswith(("plugins/", "roles/", "playbooks/", "meta/", "galaxy.yml")):
            continue
        source = os.path.join(ROOT, relative)
        if not os.path.isfile(source):
            continue
        destination = os.path.join(str(target), relative)
        os.makedirs(os.path.dirname(destination), exist_ok=True)
        shutil.copy2(source, destination)


def make_project(root, archive, ca_file):
    project = root / "project"
    copy_collection(project / "collections" / "ansible_collections" / "eeszt" / "connect")
    (project / "ansible.cfg").write_text(ANSIBLE_CFG)
    (project / "playbooks").mkdir()
    for name in ("site", "collect_proofs", "verify_proofs"):
        (project / "playbooks" / ("%s.yml" % name)).write_text(
            "---\n- name: The collection's %s playbook\n  ansible.builtin.import_playbook: eeszt.connect.%s\n"
            % (name, name))
    inventory = project / "inventory"
    (inventory / "group_vars" / "eeszt_sites").mkdir(parents=True)
    (inventory / "sites.eeszt_demo.yml").write_text(
        "---\nplugin: eeszt.connect.demo_sites\nsites_per_institution: 3\n")
    (inventory / "group_vars" / "all.yml").write_text(GROUP_ALL)
    # The demo sites' own settings, then what the vendor sets for the sites: the shared archive and the CA file.
    with open(os.path.join(DEMO, "group_vars", "eeszt_sites.yml")) as handle:
        sites = handle.read()
    sites += ("\n# The proof archive on the volume every execution node mounts at the same path.\n"
              "eeszt_proofs_archive_dir: %s\neeszt_proofs_ca_file: %s\n" % (archive, ca_file))
    (inventory / "group_vars" / "eeszt_sites" / "main.yml").write_text(sites)
    return project


def awx_slices(hosts, count):
    ordered = sorted(hosts)
    return [ordered[k::count] for k in range(count)]


class Jobs:
    def __init__(self, root, project, env):
        self.root = root
        self.project = project
        self.env = env
        self.count = 0

    def start(self, playbook, limit=None, **extra):
        """One job: its own private data directory (as AWX gives each job), the project, the inventory."""
        self.count += 1
        private = self.root / ("job-%d" % self.count)
        private.mkdir()
        envvars = dict(self.env)
        envvars["EESZT_FLEET_SUMMARY_JSON"] = str(private / "fleet-summary.json")
        thread, runner = ansible_runner.run_async(
            private_data_dir=str(private), project_dir=str(self.project), playbook=playbook,
            inventory=str(self.project / "inventory"), limit=limit, envvars=envvars, quiet=True,
            timeout=JOB_TIMEOUT, **extra)
        return thread, runner, private

    @staticmethod
    def wait(jobs):
        deadline = time.monotonic() + JOB_TIMEOUT + 60
        for thread, runner, dummy in jobs:
            thread.join(max(deadline - time.monotonic(), 1))
            assert not thread.is_alive(), "a job did not finish in time"
        return [(runner, runner.stdout.read(), private) for dummy, runner, private in jobs]


@pytest.fixture(scope="module")
def awx(tmp_path_factory, pick_port, stop_lab):
    root = tmp_path_factory.mktemp("awx")
    lab_dir, port = root / "lab", pick_port()
    lab_env = {"EESZT_LAB_DIR": str(lab_dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": str(SITES)}
    result = run_ansible_playbook("lab.yml", extra_vars={"eeszt_lab_state": "started", "eeszt_lab_waf_port": port},
                                  env=lab_env, args=["-i", DEMO])
    assert result.ok, result.output
    archive = root / "shared-volume" / "eeszt-proofs"
    ca_file = lab_dir / "pki" / "client-ca-bundle.pem"
    project = make_project(root, archive, ca_file)
    env = dict(lab_env)
    # What the execution environment has: the project's ansible.cfg and collections, nothing of this checkout.
    env.update({"ANSIBLE_CONFIG": str(project / "ansible.cfg"),
                "ANSIBLE_COLLECTIONS_PATH": str(project / "collections"),
                "ANSIBLE_NOCOLOR": "1", "PATH": BIN + os.pathsep + os.environ.get("PATH", "")})
    yield Jobs(root, project, env), archive, ca_file
    result = stop_lab(lab_dir, port, env=lab_env, args=["-i", DEMO])
    assert result.ok, result.output


def test_three_sliced_jobs_then_verify_proofs_as_the_next_workflow_node(awx):
    jobs, archive, ca_file = awx
    parts = awx_slices(HOSTS, SLICES)
    assert parts == [["site001", "site004"], ["site002", "site005"], ["site003", "site006"]]
    started = [jobs.start("playbooks/site.yml", limit=",".join(hosts)) for hosts in parts]
    finished = jobs.wait(started)
    for (runner, output, private), hosts in zip(finished, parts):
        assert (runner.status, runner.rc) == ("successful", 0), output
        # The collection ran from the project, not from this checkout.
        paths = set(e["event_data"]["task_path"].rsplit(":", 1)[0] for e in runner.events
                    if e.get("event_data", {}).get("task_path"))
        collection = str(jobs.project / "collections" / "ansible_collections" / "eeszt" / "connect")
        assert collection + "/roles/proofs/tasks/stage.yml" in paths, sorted(paths)
        assert not [p for p in paths if p.startswith(ROOT + os.sep)], sorted(paths)
        summary = json.loads((private / "fleet-summary.json").read_text())
        assert sorted(row["host"] for row in summary["sites"]) == hosts, "each slice reports its own sites"
        assert [row["result"] for row in summary["sites"]] == ["PASS"] * len(hosts)
        assert summary["run_failures"] == []
        stats = runner.stats
        assert set(hosts) <= set(stats["ok"]), stats
        assert not stats["failures"] and not stats["dark"], stats

    # The workflow's next node: verify_proofs on the whole inventory, with the settings made for the sites.
    (runner, output, dummy), = jobs.wait([jobs.start("playbooks/verify_proofs.yml")])
    assert (runner.status, runner.rc) == ("successful", 0), output
    assert ("%d of %d proof(s) in %s verified (seal, SHA-256, folder)" % (SITES, SITES, archive)) in output, output
    assert "CA file: %s; the archive of %s" % (ca_file, ", ".join(HOSTS)) in " ".join(output.split()), output

    index = json.loads((archive / "index.json").read_text())
    summary = index["summary"]
    assert (summary["sites"], summary["passed"], summary["failed"], summary["no_proof"]) == (SITES, SITES, 0, 0)
    assert sorted(site["host"] for site in index["sites"]) == HOSTS
    assert all(site["status"] == "passed" and site["sealed"] for site in index["sites"])
    proofs = sorted(archive.glob("*/*/*.json"))
    assert len(proofs) == SITES
    openssl_verify_all(proofs, ca_file)


def openssl_verify_all(proofs, ca_file):
    for proof in proofs:
        check = subprocess.run(
            ["openssl", "cms", "-verify", "-binary", "-purpose", "any", "-inform", "DER", "-CAfile", str(ca_file),
             "-content", str(proof), "-in", str(proof) + ".p7s", "-out", os.devnull],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)
        assert check.returncode == 0, (proof, check.stderr)
        assert "Verification successful" in check.stderr


def test_one_archive_per_node_then_a_merge_job_then_verify_proofs(awx):
    """The other storage choice of docs/awx.md: each execution node keeps its own archive (here: the slice's
    job gets its node's path), a collect_proofs job merges them (eeszt_proofs_merge_from), verify_proofs checks
    the merged archive."""
    jobs, dummy, ca_file = awx
    nodes = [jobs.root / ("node%d" % k) / "eeszt-proofs" for k in range(SLICES)]
    started = [jobs.start("playbooks/site.yml", limit=",".join(hosts),
                          extravars={"eeszt_proofs_archive_dir": str(node)})
               for node, hosts in zip(nodes, awx_slices(HOSTS, SLICES))]
    for runner, output, dummy in jobs.wait(started):
        assert (runner.status, runner.rc) == ("successful", 0), output
    merged = jobs.root / "merged" / "eeszt-proofs"
    variables = {"eeszt_proofs_archive_dir": str(merged), "eeszt_proofs_merge_from": [str(n) for n in nodes]}
    (runner, output, private), = jobs.wait([jobs.start("playbooks/collect_proofs.yml", extravars=variables)])
    assert (runner.status, runner.rc) == ("successful", 0), output
    assert json.loads((private / "fleet-summary.json").read_text())["run_failures"] == []
    (runner, output, dummy), = jobs.wait([jobs.start("playbooks/verify_proofs.yml",
                                                     extravars={"eeszt_proofs_archive_dir": str(merged)})])
    assert (runner.status, runner.rc) == ("successful", 0), output
    index = json.loads((merged / "index.json").read_text())
    assert sorted((s["host"], s["status"]) for s in index["sites"]) == [(h, "passed") for h in HOSTS]
    node_seals = dict((str(s.relative_to(n)), s.read_bytes()) for n in nodes for s in n.glob("*/*/*.json.p7s"))
    merged_seals = dict((str(s.relative_to(merged)), s.read_bytes()) for s in merged.glob("*/*/*.json.p7s"))
    # Each node archived its run's proofs (the check returned them); the merge job keeps every node seal byte for
    # byte and, running alone (no check in its run), also collects the older proofs still on the sites.
    assert node_seals and {name: merged_seals.get(name) for name in node_seals} == node_seals
    assert len(merged_seals) == len(list(merged.glob("*/*/*.json")))
    assert "%d of %d proof(s) in %s verified" % (len(merged_seals), len(merged_seals), merged) in output, output
    openssl_verify_all(sorted(merged.glob("*/*/*.json")), ca_file)
