# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interrupted deploys lose nothing (issue 8, promise 2).

SIGKILL at random points, alternating between two certificates, first to the
whole ``ansible-playbook`` process group during playbooks/deploy_certificate.yml,
then (many more rounds, cheaply) to a process that only runs the site-side
writer. After every kill the site holds the complete old set or the complete
new set: every stable name resolves, the key matches the certificate,
``fullchain.pem`` is ``cert.pem`` + ``chain.pem``; the next run completes and
leaves no debris.
"""

import os
import random
import signal
import subprocess
import sys
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from conftest import BIN, ROOT, ansible_env  # noqa: E402 pylint: disable=wrong-import-position,import-error

SITES = [("100001", "100001001"), ("100002", "100002001")]
ROUNDS = 8
WRITER_ROUNDS = 40
KILL_WAIT = 20

WRITER = r"""
import sys
from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_store
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate
pfx, password, ca, directory = sys.argv[1:5]
valid = certificate.validate(certificate.load_pfx(pfx, password), ca_certs=certificate.load_ca_file(ca))
pem = valid.pem()
facts = dict(valid.facts)
facts.pop("days_left")
desired = cert_store.DesiredSet(pem["certificate"], pem["private_key"], pem["chain"], facts)
store = cert_store.CertificateStore(directory)
print("ready", flush=True)
sys.stdin.readline()
store.write(desired, store.plan(desired), backups=2)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": i, "site_id": s} for i, s in SITES])
    pki = lab / "pki"
    certs = []
    for institution_id, site_id in SITES:
        stem = pki / "sites" / ("%s-%s" % (institution_id, site_id))
        certs.append({"pfx": str(stem) + ".p12", "password": (stem.parent / (stem.name + ".password")).read_text().strip()})
    return pki, certs


def fingerprint_of(pem_bytes):
    return x509.load_pem_x509_certificate(pem_bytes).fingerprint(hashes.SHA256()).hex()


def pfx_fingerprint(entry):
    from cryptography.hazmat.primitives.serialization import pkcs12
    with open(entry["pfx"], "rb") as handle:
        cert = pkcs12.load_key_and_certificates(handle.read(), entry["password"].encode())[1]
    return cert.fingerprint(hashes.SHA256()).hex()


def assert_whole_set(site, allowed):
    """The live set is complete and consistent; returns its fingerprint."""
    names = ("cert.pem", "key.pem", "chain.pem", "fullchain.pem")
    data = {}
    for name in names:
        path = site / name
        assert path.is_symlink(), "%s is not a stable link" % path
        assert os.readlink(str(path)) == "current/" + name
        data[name] = path.read_bytes()
    fingerprint = fingerprint_of(data["cert.pem"])
    assert fingerprint in allowed, "unexpected certificate %s" % fingerprint
    key = serialization.load_pem_private_key(data["key.pem"], None)
    cert = x509.load_pem_x509_certificate(data["cert.pem"])
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    assert key.public_key().public_bytes(*spki) == cert.public_key().public_bytes(*spki), "key and cert differ"
    assert data["fullchain.pem"] == data["cert.pem"] + data["chain.pem"]
    assert x509.load_pem_x509_certificates(data["chain.pem"])
    return fingerprint


def deploy_argv(inventory, site, pki, entry):
    import json
    variables = {"eeszt_certificate_pfx_src": entry["pfx"], "eeszt_certificate_pfx_password": entry["password"],
                 "eeszt_certificate_dir": str(site), "eeszt_certificate_ca_file": str(pki / "client-ca-bundle.pem"),
                 "eeszt_certificate_backups": 2}
    return [os.path.join(BIN, "ansible-playbook"), os.path.join(ROOT, "playbooks", "deploy_certificate.yml"),
            "-i", str(inventory), "-e", json.dumps(variables)]


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait(timeout=KILL_WAIT)


def test_sigkill_during_playbook(tmp_path, pki):
    pki_dir, certs = pki
    allowed = [pfx_fingerprint(entry) for entry in certs]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[eeszt_sites]\nsite01 ansible_connection=local ansible_python_interpreter=%s\n"
                         % sys.executable)
    site = tmp_path / "site" / "tls"
    env = ansible_env()

    def run(entry, kill_after=None):
        proc = subprocess.Popen(deploy_argv(inventory, site, pki_dir, entry), cwd=ROOT, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                universal_newlines=True, start_new_session=True)
        if kill_after is None:
            out = proc.communicate(timeout=300)[0]
            return proc.returncode, out
        try:
            proc.wait(timeout=kill_after)
            return proc.returncode, proc.stdout.read()
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return None, None

    started = time.monotonic()
    code, out = run(certs[0])
    duration = time.monotonic() - started
    assert code == 0, out
    assert assert_whole_set(site, allowed) == allowed[0]

    rng = random.Random(int(os.environ.get("EESZT_TEST_SEED", "8")))
    outcomes = []
    for index in range(ROUNDS):
        target = certs[(index + 1) % 2]
        before = assert_whole_set(site, allowed)
        code, out = run(target, kill_after=rng.uniform(0.4, 1.05) * duration)
        live = assert_whole_set(site, allowed)
        if code is not None:
            assert code == 0, out
            assert live == allowed[(index + 1) % 2]
        outcomes.append("finished" if code is not None else ("new" if live != before else "old"))
    # The kills interrupted runs (not only finished ones).
    assert outcomes.count("finished") < ROUNDS, outcomes

    # The next run repairs whatever the kills left: completes, leaves one live set, is idempotent.
    code, out = run(certs[1])
    assert code == 0, out
    assert assert_whole_set(site, allowed) == allowed[1]
    code, out = run(certs[1])
    assert code == 0 and "changed=0" in out, out
    entries = os.listdir(str(site / "sets"))
    assert entries == [os.path.basename(os.path.realpath(str(site / "current")))], entries
    assert len(os.listdir(str(site / "backup"))) <= 2


def test_sigkill_during_site_writer(tmp_path, pki):
    pki_dir, certs = pki
    allowed = [pfx_fingerprint(entry) for entry in certs]
    site = tmp_path / "tls"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))

    def writer(entry):
        proc = subprocess.Popen([sys.executable, "-c", WRITER, entry["pfx"], entry["password"],
                                 str(pki_dir / "client-ca-bundle.pem"), str(site)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, universal_newlines=True, env=env)
        assert proc.stdout.readline().strip() == "ready"
        return proc

    proc = writer(certs[0])
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done"
    proc.wait(timeout=KILL_WAIT)

    rng = random.Random(int(os.environ.get("EESZT_TEST_SEED", "8")))
    interrupted = 0
    for index in range(WRITER_ROUNDS):
        proc = writer(certs[(index + 1) % 2])
        proc.stdin.write("go\n")
        proc.stdin.flush()
        # A full write takes a few milliseconds: kill somewhere inside it.
        time.sleep(rng.uniform(0, 0.03))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=KILL_WAIT)
        interrupted += proc.returncode == -signal.SIGKILL
        assert_whole_set(site, allowed)
    assert interrupted > WRITER_ROUNDS // 2

    proc = writer(certs[1])
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == "done"
    proc.wait(timeout=KILL_WAIT)
    assert assert_whole_set(site, allowed) == allowed[1]
    assert [e for e in os.listdir(str(site / "sets")) if e.startswith(".staging-")] == []
    assert len(os.listdir(str(site / "sets"))) == 1
