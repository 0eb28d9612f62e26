# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The signer register through the actions (issue 21, point 7): proofs_report refuses a PFX registered for
another institution and names the host; a merge needs the CA file; proofs_verify adopts the signers of an
archive made before registers only when asked, with the CA file.

Named after plugins/action/proofs_report.py, which it mostly tests; it also runs proofs_verify and proofs_archive
(the shared certificate helpers make it no clean cut)."""

import base64
import datetime
import hashlib
import json
import os
import shutil

from action_runner import run_action
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12
from cryptography.x509.oid import NameOID
from proof_material import PASSWORD, proof

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import stage

NOW = datetime.datetime.now(datetime.timezone.utc)


def _ca(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Seal CA")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(1).not_valid_before(NOW - datetime.timedelta(days=1))
            .not_valid_after(NOW + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, str(path)


def _pfx(tmp_path, ca, institution):
    """A PFX of ``institution`` issued by the CA; its subject carries no institution ID (CN=WAF-SSL ...)."""
    ca_key, ca_cert, dummy = ca
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "WAF-SSL of %s" % institution)]))
            .issuer_name(ca_cert.subject).public_key(key.public_key()).serial_number(int(institution))
            .not_valid_before(NOW - datetime.timedelta(days=1)).not_valid_after(NOW + datetime.timedelta(days=30))
            .sign(ca_key, hashes.SHA256()))
    path = tmp_path / ("%s.pfx" % institution)
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"waf", key, cert, [ca_cert],
                                                           BestAvailableEncryption(PASSWORD.encode())))
    return str(path)


def _run(archive, institution, site, pfx, name, **args):
    data = proof(institution, site).replace(b"2026-11-25T10:00:00Z", name.encode())
    relative = stage(archive, institution, site, "%s.json" % name.replace(":", "").replace("-", ""), data)
    outcome = {"host": "h" + site, "institution_id": institution, "site_id": site, "status": "collected",
               "archived": [{"name": relative.rsplit("/", maxsplit=1)[-1], "path": relative, "seal": None,
                             "signer": None, "sha256": hashlib.sha256(data).hexdigest()}]}
    signer = {"host": "h" + site, "institution_id": institution, "site_id": site, "signing_pfx": pfx,
              "signing_pfx_password": PASSWORD}
    return run_action("proofs_report", dict(dict(archive_dir=archive, outcomes=[outcome], signers=[signer]), **args))


def test_a_pfx_registered_for_another_institution_fails_that_host_naming_the_variable(tmp_path):
    ca = _ca(tmp_path)
    archive = str(tmp_path / "archive")
    pfx_b = _pfx(tmp_path, ca, "100002")
    result = _run(archive, "100002", "100002001", pfx_b, "2026-11-25T10:00:00Z")
    assert result["sealed"] and not result["seal_errors"], result
    result = _run(archive, "100001", "100001001", pfx_b, "2026-11-25T11:00:00Z")
    [error] = result["seal_errors"]
    assert error["host"] == "h100001001" and error["institution_id"] == "100001"
    assert "is registered for institution 100002" in error["message"]
    assert "set eeszt_proofs_signing_pfx (by default eeszt_certificate_pfx_src) of the sites of institution 100001" \
        in error["message"]
    assert "the proofs of site 100001/100001001 (host h100001001) could not be sealed" in result["warnings"][0]
    assert result["unsealed"] == ["100001/100001001/20261125T110000Z.json"]
    assert not os.path.exists(os.path.join(archive, "signers", "100001.json"))


def test_a_merge_without_the_ca_file_is_refused_before_anything(tmp_path):
    archive = str(tmp_path / "archive")
    result = run_action("proofs_report", dict(archive_dir=archive, merge_from=[str(tmp_path / "other")]))
    assert result["failed"] and result["error"] == "merge_refused"
    assert "set ca_file (eeszt_proofs_ca_file)" in result["msg"]
    assert not os.path.exists(archive)


def test_a_refused_merge_fails_with_merge_refused(tmp_path):
    ca = _ca(tmp_path)
    archive, other = str(tmp_path / "archive"), str(tmp_path / "other")
    pfx_a, pfx_b = _pfx(tmp_path, ca, "100001"), _pfx(tmp_path, ca, "100002")
    _run(archive, "100001", "100001001", pfx_a, "2026-11-25T10:00:00Z")
    _run(archive, "100002", "100002001", pfx_b, "2026-11-25T10:00:00Z")
    # The other archive: A's proof sealed with B's PFX there (its register says B's certificate is A's).
    _run(other, "100001", "100001001", pfx_b, "2026-11-25T12:00:00Z")
    result = run_action("proofs_report", dict(archive_dir=archive, merge_from=[other], ca_file=ca[2]))
    assert result["failed"] and result["error"] == "merge_refused", result
    assert "100001/100001001/20261125T120000Z.json: its signer" in result["msg"]
    assert not os.path.exists(os.path.join(archive, "100001", "100001001", "20261125T120000Z.json"))


def test_verify_adopts_the_signers_of_an_old_archive_only_when_asked(tmp_path):
    ca = _ca(tmp_path)
    archive = str(tmp_path / "archive")
    _run(archive, "100001", "100001001", _pfx(tmp_path, ca, "100001"), "2026-11-25T10:00:00Z")
    shutil.rmtree(os.path.join(archive, "signers"))  # as made before registers existed
    result = run_action("proofs_verify", dict(archive_dir=archive, ca_file=ca[2]))
    assert result["failed"] and [p["kind"] for p in result["problems"]] == ["no_register"]
    result = run_action("proofs_verify", dict(archive_dir=archive, register_existing=True))
    assert result["failed"] and result["error"] == "register_failed" and "set eeszt_proofs_ca_file" in result["msg"]
    result = run_action("proofs_verify", dict(archive_dir=archive, ca_file=ca[2], register_existing=True))
    assert not result.get("failed"), result
    assert result["changed"] is True and [a["institution_id"] for a in result["adopted"]] == ["100001"]
    with open(os.path.join(archive, "signers", "100001.json")) as handle:
        assert json.load(handle)["signers"][0]["source"] == "adopted"
    result = run_action("proofs_verify", dict(archive_dir=archive, ca_file=ca[2], register_existing=True))
    assert not result.get("failed") and result["adopted"] == [] and result["changed"] is False


def _archive_args(archive, institution, site, pfx, stamp):
    """proofs_archive with this run's proof (no module run on the site) and signing options: it seals at once."""
    data = proof(institution, site).replace(b"2026-11-25T10:00:00Z", stamp.encode())
    name = "%s_%s_%s.json" % (stamp.replace("-", "").replace(":", ""), institution, site)
    return dict(archive_dir=archive, institution_id=institution, site_id=site, reported_path="/p/" + name,
                reported_sha256=hashlib.sha256(data).hexdigest(),
                reported_content=base64.b64encode(data).decode("ascii"), signing_pfx=pfx,
                signing_pfx_password=PASSWORD)


def test_proofs_archive_sealing_at_once_registers_and_refuses_the_same_way(tmp_path):
    ca = _ca(tmp_path)
    archive = str(tmp_path / "archive")
    pfx_a, pfx_b = _pfx(tmp_path, ca, "100001"), _pfx(tmp_path, ca, "100002")
    result = run_action("proofs_archive", _archive_args(archive, "100002", "100002001", pfx_b, "2026-11-25T10:00:00Z"))
    assert not result.get("failed") and result["archived"][0]["seal"], result
    assert os.path.isfile(os.path.join(archive, "signers", "100002.json"))
    result = run_action("proofs_archive", _archive_args(archive, "100001", "100001001", pfx_b, "2026-11-25T11:00:00Z"))
    assert result["failed"] and "is registered for institution 100002" in result["msg"], result
    assert result["archived"][0]["seal"] is None
    result = run_action("proofs_archive", _archive_args(archive, "100001", "100001001", pfx_a, "2026-11-25T12:00:00Z"))
    assert not result.get("failed"), result
    # The proof refused before waited unsealed: the site's own PFX seals it now, with the new one.
    assert sorted(item["seal"] for item in result["archived"]) == [
        "100001/100001001/20261125T%s0000Z_100001_100001001.json.p7s" % hour for hour in ("11", "12")], result
    assert not list(os.scandir(os.path.join(archive, ".unsealed", "100001", "100001001")))
    assert run_action("proofs_verify", dict(archive_dir=archive, ca_file=ca[2]))["problems"] == []
