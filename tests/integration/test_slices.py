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

from ansible_collections.eeszt.connect.plugins.module_utils.proof import serialize
from ansible_collections.eeszt.connect.plugins.module_utils.proofs_archive import store_proof
from ansible_collections.eeszt.connect.plugins.module_utils.seal import Signer

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
