# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rollback of the certificate store: restore the newest usable backup atomically."""

import datetime
import os

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_rollback
from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_set
from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_store as store


def make_desired(name, formats=()):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=90)).sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode("ascii")
    facts = {"subject": "CN=" + name, "sha256": cert.fingerprint(hashes.SHA256()).hex()}
    pkcs12 = {"client.p12": b"p12-of-" + name.encode()} if "pkcs12" in formats else {}
    return store.DesiredSet(cert_pem, key_pem, [], facts, pkcs12=pkcs12,
                            export_password="pw" if pkcs12 else None)


def deploy(directory, desired):
    s = store.CertificateStore(str(directory))
    s.write(desired, s.plan(desired))
    return s


def live_fingerprint(directory):
    return cert_set.pem_der_sha256((directory / "cert.pem").read_text())


@pytest.fixture
def two_sets(tmp_path):
    a, b = make_desired("A"), make_desired("B")
    site = tmp_path / "tls"
    deploy(site, a)
    s = deploy(site, b)
    return site, s, a, b


def test_rollback_restores_previous_set_and_keeps_failed_one(two_sets):
    site, s, a, b = two_sets
    assert live_fingerprint(site) == b.fingerprint
    rollback = cert_rollback.Rollback(s)
    plan = rollback.plan()
    assert plan["needed"] is True
    assert plan["before"]["sha256"] == b.fingerprint
    assert plan["after"]["sha256"] == a.fingerprint
    kept = rollback.run(plan)
    assert live_fingerprint(site) == a.fingerprint
    assert (site / "key.pem").read_bytes() == a.files["key.pem"]
    assert os.readlink(str(site / "cert.pem")) == "current/cert.pem"
    # The refused set is kept for forensics, whole, under a name a later rollback skips.
    assert kept.endswith(cert_rollback.ROLLED_BACK_SUFFIX)
    assert cert_set.set_facts(kept)["sha256"] == b.fingerprint
    assert open(os.path.join(kept, "key.pem"), "rb").read() == b.files["key.pem"]
    assert s.list_backups() == [os.path.basename(kept)]
    assert rollback.candidates() == []
    with pytest.raises(store.NoBackupError, match="no backup set to roll back to"):
        rollback.plan()


def test_rollback_from_guard_makes_it_repeatable(two_sets):
    site, s, a, b = two_sets
    rollback = cert_rollback.Rollback(s)
    rollback.run(rollback.plan(only_from=b.fingerprint))
    again = rollback.plan(only_from=b.fingerprint)
    assert again["needed"] is False
    assert "not the one to roll back from" in again["reason"]
    assert live_fingerprint(site) == a.fingerprint


def test_rollback_colon_fingerprint_accepted(two_sets):
    site, s, a, b = two_sets
    colons = ":".join(b.fingerprint[i:i + 2] for i in range(0, 64, 2)).upper()
    assert cert_rollback.Rollback(s).plan(only_from=colons)["needed"] is True


def test_rollback_removes_links_of_files_the_restored_set_lacks(tmp_path):
    site = tmp_path / "tls"
    a, b = make_desired("A"), make_desired("B", formats=("pkcs12",))
    deploy(site, a)
    s = deploy(site, b)
    assert (site / "client.p12").read_bytes() == b"p12-of-B"
    rollback = cert_rollback.Rollback(s)
    rollback.run(rollback.plan())
    assert not os.path.lexists(str(site / "client.p12"))
    assert live_fingerprint(site) == a.fingerprint


def test_restore_by_name_and_bad_names(tmp_path):
    site = tmp_path / "tls"
    a, b, c = make_desired("A"), make_desired("B"), make_desired("C")
    deploy(site, a)
    deploy(site, b)
    s = deploy(site, c)
    oldest = s.list_backups()[0]
    rollback = cert_rollback.Rollback(s)
    plan = rollback.plan(restore=oldest)
    assert plan["after"]["sha256"] == a.fingerprint
    rollback.run(plan)
    assert live_fingerprint(site) == a.fingerprint
    for bad in ("../etc", "nope", ".hidden"):
        with pytest.raises(store.NoBackupError):
            rollback.plan(restore=bad)


def test_interrupted_rollback_is_repaired_by_next_write(two_sets):
    """Killed after moving the backup into sets/ but before the switch: B stays live, A returns to backup/."""
    site, s, a, b = two_sets
    plan = cert_rollback.Rollback(s).plan()
    moved = os.path.join(s.sets_dir, "20990101T000000000000Z-" + a.fingerprint[:12])
    os.rename(plan["source"], moved)
    assert live_fingerprint(site) == b.fingerprint
    c = make_desired("C")
    deploy(site, c)
    assert live_fingerprint(site) == c.fingerprint
    assert not os.path.exists(moved)
    fingerprints = {cert_set.set_facts(os.path.join(s.backup_dir, n)).get("sha256") for n in s.list_backups()}
    assert {a.fingerprint, b.fingerprint} <= fingerprints
