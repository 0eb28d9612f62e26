# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The daily run near the floor (issue 14): ``ansible-playbook check_connection.yml collect_proofs.yml``, and
``playbooks/daily.yml``, the same stages with one preflight and site.yml's verdict.

Three demo sites, each with ansible_python_interpreter set to its own wrapper script that appends a line to
a file per invocation: every module run on a site is counted. The check runs one module per site; the proofs
stage archives the proof the check returned and runs none. The proofs stage run alone still lists and fetches
the proofs on the site (find, then one slurp per new proof); operator files, when enabled, keep their run.
The second preflight of the daily run checks only the proofs role's variables of the sites that passed the first.
"""

import json
import os
import stat

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
PLAYBOOKS = os.path.join(ROOT, "playbooks")
SITES = 3
HOSTS = ["site%03d" % n for n in range(1, SITES + 1)]

pytestmark = pytest.mark.slow


class Daily:
    """The demo inventory against a private lab and archive, with counting interpreters."""

    def __init__(self, root, run_playbook, port):
        self.root = root
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.counts = root / "counts"
        self.counts.mkdir()
        self.port = port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(SITES)}
        self.variables = {"eeszt_proofs_archive_dir": str(self.archive), "eeszt_check_fail_on_error": False}
        for host in HOSTS:
            wrapper = self.counts / (host + ".sh")
            wrapper.write_text('#!/bin/sh\necho run >> "%s"\nexec "$EESZT_TEST_PYTHON" "$@"\n'
                               % (self.counts / (host + ".log")))
            wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)

    def play(self, *playbooks, counted=False, without=(), **extra):
        variables = dict((name, value) for name, value in self.variables.items() if name not in without)
        variables.update(extra)
        env = dict(self.env)
        if counted:
            for log in self.counts.glob("*.log"):
                log.unlink()
            # Templated per host: each site runs its modules through its own wrapper.
            variables["ansible_python_interpreter"] = str(self.counts) + "/{{ inventory_hostname }}.sh"
            env["EESZT_TEST_PYTHON"] = os.path.realpath(os.path.join(ROOT, ".venv", "bin", "python"))
        # Every playbook first: ansible-playbook takes its positional arguments together.
        others = [os.path.join(PLAYBOOKS, name) for name in playbooks[1:]]
        return self.run_playbook(playbooks[0], env=env, args=others + ["-e", json.dumps(variables), "-i", DEMO])

    def module_runs(self):
        """{host: number of module runs on it} of the last counted run."""
        counts = {}
        for host in HOSTS:
            log = self.counts / (host + ".log")
            counts[host] = len(log.read_text().splitlines()) if log.exists() else 0
        return counts

    def site_proofs(self, host):
        return sorted((self.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json"))

    def archived(self):
        return sorted(self.archive.glob("*/*/*.json"))


@pytest.fixture(scope="module")
def daily(tmp_path_factory, run_playbook, pick_port, stop_lab):
    daily = Daily(tmp_path_factory.mktemp("daily-run"), run_playbook, pick_port())
    result = daily.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=daily.port)
    assert result.ok, result.output
    for stage in ("deploy_certificate.yml", "configure_tls.yml"):
        result = daily.play(stage)
        assert result.ok, result.output
    yield daily
    result = stop_lab(daily.lab_dir, daily.port, env=daily.env, args=["-i", DEMO])
    assert result.ok, result.output


def test_the_daily_run_runs_one_module_per_site(daily):
    result = daily.play("check_connection.yml", "collect_proofs.yml", counted=True)
    assert result.ok, result.output
    # One module run per site: the check. The proofs stage archived the returned proof without any.
    assert daily.module_runs() == dict((host, 1) for host in HOSTS), result.output
    archived = daily.archived()
    assert len(archived) == SITES
    for host in HOSTS:
        on_site, = daily.site_proofs(host)
        copy, = [path for path in archived if path.name == on_site.name]
        assert copy.read_bytes() == on_site.read_bytes()
        assert os.path.isfile(str(copy) + ".p7s")
    # Each role's variables were checked once: the second preflight checked only the proofs role's.
    assert result.stdout.count("TASK [Check the variables of the stages to come, on the controller only]") == 2
    assert result.stdout.count("TASK [Check the controller-side files and variable names of every site, once]") == 2
    # No per-host task header for the hosts already checked (issue 27: a meta end_host printed one per host).
    assert "Skip the hosts" not in result.stdout
    # The connection_check role left the identifiers to the preflight; the report lists every site.
    assert "%d site(s): %d passed" % (SITES, SITES) in result.stdout


def test_the_proofs_stage_alone_still_fetches_what_it_lacks(daily):
    result = daily.play("check_connection.yml")
    assert result.ok, result.output
    before = len(daily.archived())
    result = daily.play("collect_proofs.yml", counted=True)
    assert result.ok, result.output
    # Per site: a find, then a slurp of the one proof the archive lacks.
    assert daily.module_runs() == dict((host, 2) for host in HOSTS), result.output
    assert len(daily.archived()) == before + SITES
    for host in HOSTS:
        assert set(path.name for path in daily.site_proofs(host)) <= set(path.name for path in daily.archived())


def test_operator_files_keep_their_module_run_when_enabled(daily):
    for host in HOSTS:
        folder = daily.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "operator"
        folder.mkdir(parents=True, exist_ok=True)
    result = daily.play("check_connection.yml", "collect_proofs.yml", counted=True,
                        eeszt_proofs_operator_files=["{{ eeszt_demo_root }}/var/lib/eeszt/operator/*"])
    assert result.ok, result.output
    # The check, and the listing of the (empty) operator folder.
    assert daily.module_runs() == dict((host, 2) for host in HOSTS), result.output


def test_the_role_alone_still_validates_the_identifiers_and_always_the_proxy_password(daily):
    # Without the preflight, the role checks the identifiers itself.
    result = daily.play("check_connection.yml", eeszt_preflight=False, eeszt_site_id="BAD", counted=True)
    assert result.returncode == 2, result.output
    assert ('eeszt_institution_id "100001" must match ^[0-9]{6}$ and eeszt_site_id "BAD" must match '
            '^[0-9A-Za-z]{9}$ (override the patterns with eeszt_check_institution_id_pattern / '
            'eeszt_check_site_id_pattern).') in result.stdout, result.output
    assert daily.module_runs() == dict((host, 0) for host in HOSTS)
    # The preflight does not check the length of the proxy password: the role does, after it.
    result = daily.play("check_connection.yml", eeszt_check_proxy="http://127.0.0.1:3128",
                        eeszt_check_proxy_password="short", counted=True)
    assert result.returncode == 2, result.output
    assert ("eeszt_check_proxy_password (default eeszt_tls_proxy_password) must have at least 8 characters: "
            "Ansible masks every occurrence of a secret in module output, so a shorter one would garble it "
            "(see docs/security.md).") in result.stdout, result.output
    assert daily.module_runs() == dict((host, 0) for host in HOSTS)


def test_the_daily_run_still_checks_the_proofs_variables(daily):
    # The first preflight checked the connection_check role's variables; the second checks the proofs role's.
    result = daily.play("check_connection.yml", "collect_proofs.yml", eeszt_proofs_warn_days=-1)
    assert not result.ok
    assert "eeszt_proofs_warn_days" in result.stdout
    assert "must not be negative" in result.stdout or "negative" in result.stdout


PREFLIGHT_TASK = "TASK [Check the variables of the stages to come, on the controller only]"
FLEET_PREFLIGHT_TASK = "TASK [Check the controller-side files and variable names of every site, once]"


def test_daily_yml_checks_both_stages_variables_in_one_preflight_and_runs_one_module_per_site(daily):
    before = len(daily.archived())
    result = daily.play("daily.yml", counted=True)
    assert result.ok, result.output
    assert daily.module_runs() == dict((host, 1) for host in HOSTS), result.output
    # One preflight play for both stages (check_connection.yml collect_proofs.yml runs two).
    assert result.stdout.count(PREFLIGHT_TASK) == 1 and result.stdout.count(FLEET_PREFLIGHT_TASK) == 1
    assert len(daily.archived()) == before + SITES
    assert "%d site(s): %d passed" % (SITES, SITES) in result.stdout
    # ... and it still refuses a bad variable of the proofs stage before the check runs on any site.
    result = daily.play("daily.yml", eeszt_proofs_warn_days=-1, counted=True)
    assert not result.ok and "eeszt_proofs_warn_days" in result.stdout
    assert daily.module_runs() == dict((host, 0) for host in HOSTS), result.output


def test_daily_yml_archives_a_failed_checks_proof_then_fails_the_site(daily, pick_port):
    closed = pick_port()
    before = len(daily.archived())
    result = daily.play("daily.yml", without=("eeszt_check_fail_on_error",), eeszt_endpoints=[
        {"name": "health", "url": "https://127.0.0.1:%d/health" % closed, "expect_status": 200}])
    assert result.returncode == 2, result.output
    # Every site's failed check has its proof archived and sealed, and the report lists the failures ...
    assert len(daily.archived()) == before + SITES
    assert "%d site(s): 0 passed, %d failed" % (SITES, SITES) in result.stdout, result.output
    # ... then the verdict fails each site with the check's category and the proof's path.
    for host in HOSTS:
        assert result.recap[host]["failed"] == 1, result.recap
        assert "EESZT connection check failed on %s (tcp_refused)" % host in result.stdout, result.output
    assert "TASK [Fail each site whose connection check failed, now that its proof is archived]" in result.stdout
