# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent runs on one site (issue 8, promise 4): the per-site lock.

Two playbooks/deploy_certificate.yml runs started at once on the same site,
with different certificates: both finish (the second waits for the lock) and
the site holds one complete set. A run that meets a lock held longer than
eeszt_certificate_lock_timeout fails with a message naming the holder, and
changes nothing.
"""

import json
import os
import subprocess
import sys

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki
from ansible_collections.eeszt.connect.plugins.module_utils.common.locks import SiteLock

from conftest import BIN, ROOT, ansible_env, parse_recap  # noqa: E402 pylint: disable=wrong-import-position,import-error

SITES = [("100001", "100001001"), ("100002", "100002001")]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": i, "site_id": s} for i, s in SITES])
    return lab / "pki"


def argv(tmp_path, pki, index, site, **extra):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[eeszt_sites]\nsite01 ansible_connection=local ansible_python_interpreter=%s\n"
                         % sys.executable)
    stem = pki / "sites" / ("%s-%s" % SITES[index])
    variables = {"eeszt_certificate_pfx_src": str(stem) + ".p12",
                 "eeszt_certificate_pfx_password": (pki / "sites" / (stem.name + ".password")).read_text().strip(),
                 "eeszt_certificate_dir": str(site), "eeszt_certificate_ca_file": str(pki / "client-ca-bundle.pem")}
    variables.update(extra)
    return [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "deploy_certificate.yml"),
            "-i", str(inventory), "-e", json.dumps(variables)]


def start(command):
    return subprocess.Popen(command, cwd=ROOT, env=ansible_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def live(site):
    cert = x509.load_pem_x509_certificate((site / "cert.pem").read_bytes())
    key = serialization.load_pem_private_key((site / "key.pem").read_bytes(), None)
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert cert.public_key().public_bytes(*spki) == key.public_key().public_bytes(*spki)
    assert (site / "fullchain.pem").read_bytes() == (site / "cert.pem").read_bytes() + (site / "chain.pem").read_bytes()
    return cert.fingerprint(hashes.SHA256()).hex()


def test_two_runs_at_once(tmp_path, pki):
    site = tmp_path / "tls"
    first = start(argv(tmp_path, pki, 0, site))
    second = start(argv(tmp_path, pki, 1, site))
    outputs = [proc.communicate(timeout=300)[0] for proc in (first, second)]
    for proc, out in zip((first, second), outputs):
        assert proc.returncode == 0, out
        assert parse_recap(out)["site01"]["failed"] == 0, out
    fingerprint = live(site)
    # One set is live, the other one is its backup: nothing lost, nothing mixed.
    sets = os.listdir(str(site / "sets"))
    assert sets == [os.path.basename(os.path.realpath(str(site / "current")))]
    backups = os.listdir(str(site / "backup"))
    assert len(backups) == 1
    backup_cert = x509.load_pem_x509_certificate((site / "backup" / backups[0] / "cert.pem").read_bytes())
    assert backup_cert.fingerprint(hashes.SHA256()).hex() != fingerprint


def test_held_lock_gives_a_clear_message_and_changes_nothing(tmp_path, pki):
    site = tmp_path / "tls"
    proc = start(argv(tmp_path, pki, 0, site))
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    before = live(site)
    owner = {"controller": "other-controller", "controller_pid": 31337, "operation": "deploy (test)"}
    with SiteLock(str(site), timeout=0, owner=owner):
        proc = start(argv(tmp_path, pki, 1, site, eeszt_certificate_lock_timeout=2))
        out = proc.communicate(timeout=300)[0]
    assert proc.returncode != 0, out
    assert "another eeszt.connect run holds the lock on %s since " % site in out
    assert "pid %d" % os.getpid() in out and "controller other-controller pid 31337" in out
    assert '"error": "locked"' in out
    assert live(site) == before
    # Once the lock is free the same run goes through.
    proc = start(argv(tmp_path, pki, 1, site, eeszt_certificate_lock_timeout=2))
    out = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, out
    assert live(site) != before
