# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Job slicing as AWX / Automation Platform does it, with ansible-playbook (issue 15).

- verify_proofs.yml (a controller-only play) finds the archive and the CA file where the user set them: for
  the sites (group_vars of eeszt_sites, host_vars), not only for localhost;
- three concurrent slices of site.yml into one shared archive, two rounds: the report lists every site each
  time, whatever the interleaving (the archive lock);
- three slices into three archives (separate execution nodes), then a collect_proofs.yml run that merges
  them: the same proofs are not sealed twice, every site once with its true status, every seal verifies.

A slice is what AWX runs: the hosts in name order, slice k of N gets every N-th host from the k-th
(awx/main/models/inventory.py, ``get_script_data``: ``hosts[offset::slice_count]``); here as ``--limit``.
"""

import datetime
import json
import os
import subprocess
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer

from conftest import ansible_env, run_ansible_playbook, PLAYBOOKS, BIN, ROOT

DEMO = os.path.join(ROOT, "inventories", "demo")


# --- verify_proofs.yml finds the user's settings ------------------------------------------------------------

def _signer_and_ca(path, name):
    now = datetime.datetime.now(datetime.timezone.utc)
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return Signer(key, cert)


def _proof(institution_id, site_id):
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id, "host": "x",
        "environment": "test", "started_at": "2026-11-25T10:00:00Z", "finished_at": "2026-11-25T10:00:01Z",
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_after": "2027-01-01T00:00:00Z"},
        "endpoints": [{"name": "health", "url": "https://127.0.0.1/health", "passed": True, "steps": []}],
        "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"},
    })


def test_verify_proofs_uses_the_archive_and_ca_file_set_for_the_sites(tmp_path):
    """The settings in group_vars/eeszt_sites (where a user sets the proofs role's variables) and in one
    site's host_vars: both archives are verified, each named, with the CA file set for the sites."""
    home = tmp_path / "home"
    home.mkdir()  # ~/eeszt-proofs (the role's default) does not exist
    shared, own = tmp_path / "srv" / "eeszt-proofs", tmp_path / "srv" / "site03-proofs"
    signer = _signer_and_ca(tmp_path / "seal-ca.pem", "vendor seal")
    _signer_and_ca(tmp_path / "other-ca.pem", "someone else")
    store_proof(str(shared), "123456", "123456701", "p1.json", _proof("123456", "123456701"), signer)
    store_proof(str(shared), "123456", "123456702", "p2.json", _proof("123456", "123456702"), signer)
    store_proof(str(own), "123456", "123456703", "p3.json", _proof("123456", "123456703"), signer)
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "host_vars").mkdir()
    (inventory / "hosts.ini").write_text(
        "[eeszt_sites]\n" + "".join("site0%d eeszt_institution_id=123456 eeszt_site_id=12345670%d\n" % (n, n)
                                    for n in (1, 2, 3)))
    (inventory / "group_vars" / "eeszt_sites.yml").write_text(
        "eeszt_proofs_archive_dir: %s\neeszt_proofs_ca_file: %s\n" % (shared, tmp_path / "seal-ca.pem"))
    (inventory / "host_vars" / "site03.yml").write_text("eeszt_proofs_archive_dir: %s\n" % own)
    env = {"HOME": str(home)}
    result = run_ansible_playbook("verify_proofs.yml", inventory=inventory, env=env)
    assert result.ok, result.output
    assert ("2 of 2 proof(s) in %s verified (seal, SHA-256, folder); 0 of 0 operator file(s) verified (seal, "
            "SHA-256); signers: CN=vendor seal; CA file: %s; the archive of site01, site02" % (shared, tmp_path / "seal-ca.pem")) \
        in result.stdout, result.output
    assert ("1 of 1 proof(s) in %s verified (seal, SHA-256, folder); 0 of 0 operator file(s) verified (seal, "
            "SHA-256); signers: CN=vendor seal; CA file: %s; the archive of site03" % (own, tmp_path / "seal-ca.pem")) \
        in result.stdout, result.output
    assert not (home / "eeszt-proofs").exists()

    # The CA file set for the sites is really used: another CA there makes every seal untrusted.
    (inventory / "group_vars" / "eeszt_sites.yml").write_text(
        "eeszt_proofs_archive_dir: %s\neeszt_proofs_ca_file: %s\n" % (shared, tmp_path / "other-ca.pem"))
    result = run_ansible_playbook("verify_proofs.yml", inventory=inventory, env=env)
    assert not result.ok, result.output
    assert "123456/123456701/p1.json [untrusted]" in result.stdout, result.output

    # Nothing set anywhere: the role's default, named with the remedy.
    (inventory / "group_vars" / "eeszt_sites.yml").unlink()
    (inventory / "host_vars" / "site03.yml").unlink()
    result = run_ansible_playbook("verify_proofs.yml", inventory=inventory, env=env)
    assert not result.ok, result.output
    assert ("the proof archive %s/eeszt-proofs does not exist (the archive of site01, site02, site03: "
            "eeszt_proofs_archive_dir is not set for them, the role's default); set eeszt_proofs_archive_dir where "
            "the sites' runs get it (group_vars of eeszt_sites or all), or pass -e eeszt_proofs_archive_dir=DIR"
            % home) in " ".join(result.stdout.split()), result.output


# --- sliced runs on the demo sites ----------------------------------------------------------------------------

SITES = 9
SLICES = 3
HOSTS = ["site%03d" % n for n in range(1, SITES + 1)]
JOB_TIMEOUT = 600


def awx_slices(hosts, count):
    """The hosts of each slice as AWX makes them: name order, slice k gets hosts[k::count]."""
    ordered = sorted(hosts)
    return [ordered[k::count] for k in range(count)]


class Slices:
    """The demo inventory of SITES sites against a private lab."""

    def __init__(self, root, port):
        self.root = root
        self.lab_dir = root / "lab"
        self.port = port
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(SITES)}
        self.ca_file = self.lab_dir / "pki" / "client-ca-bundle.pem"

    def command(self, playbook, variables, *args):
        return [os.path.join(BIN, "ansible-playbook"), os.path.join(PLAYBOOKS, playbook), "-i", DEMO,
                "-e", json.dumps(variables)] + list(args)

    def play(self, playbook, variables, *args):
        return run_ansible_playbook(playbook, extra_vars=variables, env=self.env, args=["-i", DEMO] + list(args),
                                    timeout=JOB_TIMEOUT)

    def concurrently(self, playbook, jobs):
        """Start one ansible-playbook per (variables, limit) at once; wait for all (bounded). -> [(rc, output)]"""
        procs = []
        for variables, hosts in jobs:
            procs.append(subprocess.Popen(self.command(playbook, variables, "--limit", ",".join(hosts)), cwd=ROOT,
                                          env=ansible_env(self.env), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True))
        deadline = time.monotonic() + JOB_TIMEOUT
        results = []
        try:
            for proc in procs:
                output = proc.communicate(timeout=max(deadline - time.monotonic(), 1))[0]
                results.append((proc.returncode, output))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
        return results


def site_key(host):
    number = int(host[4:])
    institution = 100001 + (number - 1) // 3
    return "%d" % institution, "%d%03d" % (institution, (number - 1) % 3 + 1)


def openssl_verify(ca_file, proof, seal):
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-purpose", "any", "-inform", "DER", "-CAfile", str(ca_file),
         "-content", str(proof), "-in", str(seal), "-out", os.devnull],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)


def assert_complete_report(archive, proofs_per_site):
    """index.json lists every site once, passed, with all its proofs; report.csv has one row per site."""
    index = json.loads((archive / "index.json").read_text())
    summary = index["summary"]
    assert (summary["sites"], summary["passed"], summary["failed"], summary["no_proof"]) == (SITES, SITES, 0, 0), \
        summary
    rows = dict(("%s/%s" % (s["institution_id"], s["site_id"]), s) for s in index["sites"])
    assert sorted(rows) == sorted("%s/%s" % site_key(h) for h in HOSTS)
    for host in HOSTS:
        row = rows["%s/%s" % site_key(host)]
        assert (row["host"], row["status"], row["proofs"], row["sealed"]) == (host, "passed", proofs_per_site, True)
    assert len((archive / "report.csv").read_text().strip().splitlines()) == SITES + 1
    assert len(list(archive.glob("*/*/*.json"))) == SITES * proofs_per_site
    return index


@pytest.fixture(scope="module")
def slices(tmp_path_factory, pick_port, stop_lab):
    flow = Slices(tmp_path_factory.mktemp("slices"), pick_port())
    result = flow.play("lab.yml", {"eeszt_lab_state": "started", "eeszt_lab_waf_port": flow.port})
    assert result.ok, result.output
    yield flow
    result = stop_lab(flow.lab_dir, flow.port, env=flow.env, args=["-i", DEMO])
    assert result.ok, result.output


@pytest.mark.slow
def test_three_concurrent_slices_into_one_archive_report_every_site_each_round(slices):
    """Part 1: the report rebuild and the ledger run under the archive lock: after all slices, complete."""
    archive = slices.root / "shared-archive"
    variables = {"eeszt_proofs_archive_dir": str(archive), "eeszt_proofs_ca_file": str(slices.ca_file)}
    parts = awx_slices(HOSTS, SLICES)
    assert parts == [["site001", "site004", "site007"], ["site002", "site005", "site008"],
                     ["site003", "site006", "site009"]]
    for round_number in (1, 2):
        results = slices.concurrently("site.yml", [(variables, hosts) for hosts in parts])
        for (returncode, output), hosts in zip(results, parts):
            assert returncode == 0, output
            # Each slice's own fleet summary lists its sites only.
            assert "sites: 3  passed: 3" in output, output
        assert_complete_report(archive, round_number)
        runs = sorted((archive / "runs").glob("*.json"))
        recorded = [o["host"] for r in runs for o in json.loads(r.read_text())["outcomes"]]
        assert sorted(recorded) == sorted(HOSTS * round_number), "each slice recorded its own sites, once a round"
        sequences = sorted(json.loads(r.read_text())["sequence"] for r in runs)
        assert sequences == list(range(1, len(runs) + 1)), "the ledger was written one run at a time"
        assert not list(archive.rglob(".*tmp-*"))
    result = slices.play("verify_proofs.yml", variables)
    assert result.ok, result.output
    assert "%d of %d proof(s) in %s verified" % (SITES * 2, SITES * 2, archive) in result.stdout, result.output


@pytest.mark.slow
def test_slices_into_separate_archives_merge_without_sealing_twice(slices):
    """Part 2: three slices on three 'nodes', each with its own archive; then one collect_proofs.yml run on every
    site into a fourth archive, merging the three: no conflict, the same seals, every site once and passed."""
    nodes = [slices.root / ("node%d" % k) / "archive" for k in range(SLICES)]
    parts = awx_slices(HOSTS, SLICES)
    results = slices.concurrently("site.yml", [
        ({"eeszt_proofs_archive_dir": str(node), "eeszt_proofs_ca_file": str(slices.ca_file)}, hosts)
        for node, hosts in zip(nodes, parts)])
    for returncode, output in results:
        assert returncode == 0, output
    merged = slices.root / "merged"
    variables = {"eeszt_proofs_archive_dir": str(merged), "eeszt_proofs_ca_file": str(slices.ca_file),
                 "eeszt_proofs_merge_from": [str(node) for node in nodes]}
    summary_json = slices.root / "merge-summary.json"
    result = run_ansible_playbook("collect_proofs.yml", extra_vars=variables, args=["-i", DEMO],
                                  env=dict(slices.env, EESZT_FLEET_SUMMARY_JSON=str(summary_json)),
                                  timeout=JOB_TIMEOUT)
    assert result.ok, result.output
    assert "run problems" not in result.stdout, result.output
    assert json.loads(summary_json.read_text())["run_failures"] == []
    # Each node's site.yml archived the proof its own check returned (issue 14: no listing of the site when the
    # check ran in the run): one a site. The collect_proofs.yml run alone lists every site, so the merged archive
    # also holds the proofs of part 1 still on the sites.
    for node in nodes:
        assert len(list(node.glob("*/*/*.json"))) == SITES // SLICES
    proofs_per_site = len(list((slices.lab_dir / "sites" / "site001" / "var" / "lib" / "eeszt" / "proofs")
                               .glob("*.json")))
    index = assert_complete_report(merged, proofs_per_site)
    assert index["summary"]["unsealed_proofs"] == 0
    # Not sealed twice: every proof a node sealed keeps that node's seal in the merged archive.
    node_seals = {}
    for node in nodes:
        for seal in node.glob("*/*/*.json.p7s"):
            node_seals[str(seal.relative_to(node))] = seal.read_bytes()
    merged_seals = dict((str(s.relative_to(merged)), s.read_bytes()) for s in merged.glob("*/*/*.json.p7s"))
    assert len(node_seals) == SITES
    assert dict((path, merged_seals.get(path)) for path in node_seals) == node_seals
    for proof in merged.glob("*/*/*.json"):
        check = openssl_verify(slices.ca_file, proof, str(proof) + ".p7s")
        assert check.returncode == 0, (proof, check.stderr)
    # Merging again (the nodes' archives and a re-collection) changes nothing.
    before = dict((p, p.read_bytes()) for p in merged.rglob("*") if p.is_file() and p.name != ".lock")
    again = run_ansible_playbook("collect_proofs.yml", extra_vars=variables, args=["-i", DEMO], env=slices.env,
                                 timeout=JOB_TIMEOUT)
    assert again.ok, again.output
    assert dict((p, p.read_bytes()) for p in merged.rglob("*") if p.is_file() and p.name != ".lock") == before
    result = slices.play("verify_proofs.yml", {"eeszt_proofs_archive_dir": str(merged),
                                               "eeszt_proofs_ca_file": str(slices.ca_file)})
    assert result.ok, result.output
