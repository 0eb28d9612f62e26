# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, attack 7: a seal belongs to its institution (the archive's signer register).

Two lab institutions, 100001 (two sites) and 100002 (one site), each site with its lab PFX (same lab CA):

- a proof of 100001 sealed with 100002's PFX is refused at sealing, naming the host, the institution and
  the variable; the proof waits unsealed and the site's own PFX seals it at the next run;
- a passing proof of 100001 planted in the archive with a valid CMS seal by 100002's certificate makes
  verify_proofs.yml fail, naming it;
- merging a foreign archive that holds such a proof is refused, named, and leaves the archive unchanged
  and verifying.
"""

import datetime
import json
import os
import re
import shutil

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer, sign_detached

from conftest import ROOT

DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 3  # two sites per institution: site001, site002 of 100001; site003 of 100002
A, SITE_A, HOST_A = "100001", "100001001", "site001"
B, SITE_B = "100002", "100002001"

pytestmark = pytest.mark.slow


class Lab:
    def __init__(self, root, run_playbook, port):
        self.root = root
        self.lab_dir = root / "lab"
        self.archive = root / "archive"
        self.port = port
        self.run_playbook = run_playbook
        self.inventory = root / "inventory"
        shutil.copytree(DEMO, str(self.inventory))
        demo = self.inventory / "sites.eeszt_demo.yml"
        demo.write_text(demo.read_text().replace("sites_per_institution: 3", "sites_per_institution: 2"))
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(SITES)}
        self.ca_file = self.lab_dir / "pki" / "client-ca-bundle.pem"
        self.variables = {"eeszt_proofs_archive_dir": str(self.archive), "eeszt_proofs_ca_file": str(self.ca_file)}

    def play(self, playbook, *args, **extra):
        variables = dict(self.variables)
        variables.update(extra)
        return self.run_playbook(playbook, extra_vars=variables, env=self.env,
                                 args=["-i", str(self.inventory)] + list(args))

    def pfx(self, institution, site):
        stem = self.lab_dir / "pki" / "sites" / ("%s-%s" % (institution, site))
        return str(stem) + ".p12", (stem.parent / (stem.name + ".password")).read_text().strip()

    def signer(self, institution, site):
        path, password = self.pfx(institution, site)
        with open(path, "rb") as handle:
            bundle = pkcs12.load_pkcs12(handle.read(), password.encode())
        return Signer(bundle.key, bundle.cert.certificate, [c.certificate for c in bundle.additional_certs])

    def snapshot(self, root=None):
        root = str(root or self.archive)
        found = {}
        for folder, dummy, names in os.walk(root):
            for name in names:
                if name != ".lock":
                    path = os.path.join(folder, name)
                    with open(path, "rb") as handle:
                        found[os.path.relpath(path, root)] = handle.read()
        return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    lab = Lab(tmp_path_factory.mktemp("untrusted-seals"), run_playbook, pick_port())
    result = lab.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=lab.port)
    assert result.ok, result.output
    try:
        result = lab.play("site.yml")
        assert result.ok, result.output
        yield lab
    finally:
        result = stop_lab(lab.lab_dir, lab.port, env=lab.env, args=["-i", str(lab.inventory)])
        assert result.ok, result.output


def one_line(text):
    return re.sub(r"\s+", " ", text)


def passing_proof_of_a(lab):
    """A passing proof of site 100001001, with a name and times of its own (now, by the controller's clock)."""
    latest = sorted((lab.archive / A / SITE_A).glob("*.json"))[-1]
    document = json.loads(latest.read_text())
    assert document["passed"] is True
    now = datetime.datetime.now(datetime.timezone.utc)
    document["started_at"] = document["finished_at"] = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    name = "%s_%s_%s.json" % (now.strftime("%Y%m%dT%H%M%S") + "9Z", A, SITE_A)
    return name, (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()


def test_a_pfx_of_another_institution_is_refused_at_sealing_naming_host_institution_and_variable(lab):
    result = lab.play("check_connection.yml", "--limit", HOST_A)
    assert result.ok, result.output
    before = set(p.name for p in (lab.archive / A / SITE_A).glob("*.json"))
    pfx, password = lab.pfx(B, SITE_B)
    result = lab.play("collect_proofs.yml", "--limit", HOST_A, eeszt_proofs_signing_pfx=pfx,
                      eeszt_proofs_signing_pfx_password=password)
    assert not result.ok, result.output
    assert result.recap[HOST_A]["failed"] == 1, result.output
    output = one_line(result.stdout + result.stderr)
    assert "the proofs of site %s/%s (host %s) could not be sealed" % (A, SITE_A, HOST_A) in output, result.output
    assert "is registered for institution %s in the archive's signer register (signers/%s.json" % (B, B) in output
    assert "it cannot seal the files of institution %s" % A in output
    assert ("set eeszt_proofs_signing_pfx (by default eeszt_certificate_pfx_src) of the sites of institution %s"
            % A) in output
    assert password not in result.stdout + result.stderr
    assert set(p.name for p in (lab.archive / A / SITE_A).glob("*.json")) == before, "nothing sealed with it"
    waiting = list((lab.archive / ".unsealed" / A / SITE_A).glob("*.json"))
    assert len(waiting) == 1
    # Each institution's register holds its own sites' certificates (site.yml registered them), never B's for A.
    assert sorted(p.name for p in (lab.archive / "signers").iterdir()) == ["%s.json" % A, "%s.json" % B]
    register = json.loads((lab.archive / "signers" / ("%s.json" % A)).read_text())
    assert sorted(e["subject"].split(",OU=")[1].split(",")[0] for e in register["signers"]) == [SITE_A, "100001002"]
    assert all(e["source"] == "sealed" and e["subject"].startswith("serialNumber=%s," % A) for e in register["signers"])
    # The site's own PFX seals it at the next run; the archive verifies.
    result = lab.play("collect_proofs.yml", "--limit", HOST_A)
    assert result.ok, result.output
    assert (lab.archive / A / SITE_A / waiting[0].name).is_file()
    result = lab.play("verify_proofs.yml")
    assert result.ok, result.output


def test_a_proof_planted_with_a_valid_seal_by_another_institution_fails_verify_proofs(lab):
    name, data = passing_proof_of_a(lab)
    proof = lab.archive / A / SITE_A / name
    seal = proof.parent / (name + ".p7s")
    seal.write_bytes(sign_detached(data, lab.signer(B, SITE_B)))
    proof.write_bytes(data)
    try:
        result = lab.play("verify_proofs.yml")
        assert not result.ok, result.output
        output = one_line(result.stdout + result.stderr)
        relative = "%s/%s/%s" % (A, SITE_A, name)
        assert "%s [foreign_signer]: sealed by serialNumber=%s,CN=%s" % (relative, B, B) in output, result.output
        assert "which is not in the signer register of institution %s (signers/%s.json)" % (A, A) in output
        assert "carries institution ID %s in its subject, not %s" % (B, A) in output
        assert "1 problem(s) in the proof archive" in output
    finally:
        proof.unlink()
        seal.unlink()
    result = lab.play("verify_proofs.yml")
    assert result.ok, result.output


def test_merging_a_foreign_archive_with_a_proof_sealed_by_the_other_institution_is_refused(lab):
    foreign = lab.root / "foreign"
    name, data = passing_proof_of_a(lab)
    folder = foreign / A / SITE_A
    folder.mkdir(parents=True)
    (folder / (name + ".p7s")).write_bytes(sign_detached(data, lab.signer(B, SITE_B)))
    (folder / name).write_bytes(data)
    before = lab.snapshot()
    result = lab.play("collect_proofs.yml", eeszt_proofs_merge_from=[str(foreign)])
    assert not result.ok, result.output
    output = one_line(result.stdout + result.stderr)
    assert "cannot merge %s into %s: nothing was copied; 1 refused" % (foreign, lab.archive) in output, result.output
    assert "%s/%s/%s: its signer serialNumber=%s,CN=%s" % (A, SITE_A, name, B, B) in output
    assert "is not in the signer register of institution %s" % A in output
    assert "is registered for institution %s in the archive's signer register" % B in output
    assert lab.snapshot() == before
    result = lab.play("verify_proofs.yml")
    assert result.ok, result.output
