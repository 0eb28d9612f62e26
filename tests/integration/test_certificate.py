# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/deploy_certificate.yml on localhost against temporary directories."""

import json
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki

INSTITUTION = "100001"
SITES = [(INSTITUTION, "100001001"), ("100002", "100002001")]
EXPORT_PASSWORD = "Export-Pw-7391"
BAD_CASES = {
    "expired": "expired on",
    "not-yet-valid": "not valid yet",
    "unknown-ca": "not in the CA file",
    "no-client-auth": "clientAuth",
    "key-mismatch": "belongs to none",
    "truncated": "damaged or truncated",
    "expiring-soon": "fewer than the required",
}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": i, "site_id": s} for i, s in SITES])
    return lab / "pki"


@pytest.fixture
def inventory(tmp_path):
    path = tmp_path / "hosts.ini"
    path.write_text("[eeszt_sites]\nsite01 ansible_connection=local ansible_python_interpreter=%s "
                    "eeszt_institution_id=%s\n" % (sys.executable, INSTITUTION))
    return path


def pfx_vars(pki, relative, site_dir, **extra):
    pfx = pki / relative
    variables = {
        "eeszt_certificate_pfx_src": str(pfx),
        "eeszt_certificate_pfx_password": (pki / (relative[:-4] + ".password")).read_text().strip(),
        "eeszt_certificate_dir": str(site_dir),
        "eeszt_certificate_ca_file": str(pki / "client-ca-bundle.pem"),
    }
    variables.update(extra)
    return variables


def site_pfx(index=0):
    return "sites/%s-%s.p12" % SITES[index]


def deploy(run_playbook, inventory, variables, *args):
    return run_playbook("deploy_certificate.yml", inventory=inventory, extra_vars=variables, args=args)


def snapshot(directory):
    """Every path under directory with its link target or content."""
    if not os.path.exists(directory):
        return None
    result = {}
    for root, dirs, files in os.walk(str(directory)):
        for name in dirs + files:
            path = os.path.join(root, name)
            if os.path.islink(path):
                result[path] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                with open(path, "rb") as handle:
                    result[path] = handle.read()
            else:
                result[path] = "dir"
    return result


def test_check_apply_rerun_and_renewal(run_playbook, inventory, pki, tmp_path):
    site_dir = tmp_path / "site" / "tls"
    variables = pfx_vars(pki, site_pfx(), site_dir, eeszt_certificate_match_institution=True)

    check = deploy(run_playbook, inventory, variables, "--check", "--diff")
    assert check.ok, check.output
    assert check.changed("site01") == 1
    assert "+sha256: " in check.stdout
    assert not (tmp_path / "site").exists()

    applied = deploy(run_playbook, inventory, variables)
    assert applied.ok, applied.output
    assert applied.changed("site01") == 1
    check_key = subprocess.run(["openssl", "x509", "-noout", "-pubkey", "-in", str(site_dir / "cert.pem")],
                               stdout=subprocess.PIPE, timeout=60, check=True).stdout
    key_pub = subprocess.run(["openssl", "pkey", "-pubout", "-in", str(site_dir / "key.pem")],
                             stdout=subprocess.PIPE, timeout=60, check=True).stdout
    assert check_key == key_pub
    assert oct(os.stat(site_dir / "key.pem").st_mode & 0o777) == "0o600"
    assert oct(os.stat(site_dir).st_mode & 0o777) == "0o750"

    again = deploy(run_playbook, inventory, variables)
    assert again.ok, again.output
    assert again.changed("site01") == 0

    recheck = deploy(run_playbook, inventory, variables, "--check", "--diff")
    assert recheck.ok and recheck.changed("site01") == 0, recheck.output

    renewed_vars = pfx_vars(pki, site_pfx(1), site_dir)
    before = (site_dir / "cert.pem").read_bytes()
    renewed = deploy(run_playbook, inventory, renewed_vars, "--diff")
    assert renewed.ok, renewed.output
    assert renewed.changed("site01") == 1
    backups = os.listdir(str(site_dir / "backup"))
    assert len(backups) == 1
    assert (site_dir / "backup" / backups[0] / "cert.pem").read_bytes() == before
    assert (site_dir / "cert.pem").read_bytes() != before


def test_institution_mismatch_is_refused(run_playbook, inventory, pki, tmp_path):
    site_dir = tmp_path / "tls"
    variables = pfx_vars(pki, site_pfx(1), site_dir, eeszt_certificate_match_institution=True)
    result = deploy(run_playbook, inventory, variables)
    assert not result.ok
    assert "does not carry institution ID %s" % INSTITUTION in result.stdout, result.output
    assert not site_dir.exists()


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_pfx_is_refused_and_nothing_is_written(run_playbook, inventory, pki, tmp_path, case):
    site_dir = tmp_path / "tls"
    good = deploy(run_playbook, inventory, pfx_vars(pki, site_pfx(), site_dir))
    assert good.ok, good.output
    before = snapshot(site_dir)
    variables = pfx_vars(pki, "cases/%s.p12" % case, site_dir)
    result = deploy(run_playbook, inventory, variables)
    assert not result.ok
    assert BAD_CASES[case] in result.stdout, result.output
    assert "cases/%s.p12" % case in result.stdout
    assert variables["eeszt_certificate_pfx_password"] not in result.stdout + result.stderr
    assert snapshot(site_dir) == before
    fresh = tmp_path / "fresh"
    result = deploy(run_playbook, inventory, pfx_vars(pki, "cases/%s.p12" % case, fresh))
    assert not result.ok and not fresh.exists()


def test_wrong_password_is_named(run_playbook, inventory, pki, tmp_path):
    variables = pfx_vars(pki, site_pfx(), tmp_path / "tls", eeszt_certificate_pfx_password="wrong-password")
    result = deploy(run_playbook, inventory, variables)
    assert not result.ok
    assert "password for the PFX file" in result.stdout and "is wrong" in result.stdout, result.output
    assert not (tmp_path / "tls").exists()


def passwordless_pfx(pki, directory):
    """The first site's PFX exported again without a password (as some vendors' tools do)."""
    loaded = pkcs12.load_pkcs12((pki / site_pfx()).read_bytes(),
                                (pki / (site_pfx()[:-4] + ".password")).read_text().strip().encode())
    path = directory / "no-password.p12"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"site", loaded.key, loaded.cert.certificate, [c.certificate for c in loaded.additional_certs],
        serialization.NoEncryption()))
    return path


@pytest.mark.parametrize("password", ["", None, "absent"], ids=["empty", "null", "absent"])
def test_pfx_without_password_deploys_with_empty_or_absent_password(run_playbook, inventory, pki, tmp_path,
                                                                    password):
    site_dir = tmp_path / "tls"
    variables = pfx_vars(pki, site_pfx(), site_dir, eeszt_certificate_pfx_src=str(passwordless_pfx(pki, tmp_path)),
                         eeszt_certificate_pfx_password=password)
    if password == "absent":
        del variables["eeszt_certificate_pfx_password"]
    result = deploy(run_playbook, inventory, variables)
    assert result.ok, result.output
    assert result.changed("site01") == 1
    assert (site_dir / "key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert (site_dir / "cert.pem").read_bytes() == pkcs12.load_pkcs12(
        (pki / site_pfx()).read_bytes(), (pki / (site_pfx()[:-4] + ".password")).read_text().strip().encode()
    ).cert.certificate.public_bytes(serialization.Encoding.PEM)


def test_password_for_pfx_without_one_is_named(run_playbook, inventory, pki, tmp_path):
    variables = pfx_vars(pki, site_pfx(), tmp_path / "tls", eeszt_certificate_pfx_src=str(passwordless_pfx(pki, tmp_path)),
                         eeszt_certificate_pfx_password="Not-Needed-4711")
    result = deploy(run_playbook, inventory, variables)
    assert not result.ok
    # Refused in the preflight, which opens every PFX before any site is touched.
    assert "Preflight: 1 bad variable for site01" in result.stdout, result.output
    assert "[pfx_has_no_password]; leave eeszt_certificate_pfx_password empty or unset" in result.stdout, \
        result.output
    assert "no-password.p12 has no password (it was exported without one)" in result.stdout, result.output
    assert "Not-Needed-4711" not in result.stdout + result.stderr
    assert not (tmp_path / "tls").exists()


@pytest.mark.parametrize("password,text", [("", "is empty or not set"), ("absent", "is empty or not set")])
def test_missing_password_is_named(run_playbook, inventory, pki, tmp_path, password, text):
    variables = pfx_vars(pki, site_pfx(), tmp_path / "tls", eeszt_certificate_pfx_password=password)
    if password == "absent":
        del variables["eeszt_certificate_pfx_password"]
    result = deploy(run_playbook, inventory, variables)
    assert not result.ok
    assert "pfx_password_missing" in result.stdout, result.output
    assert "is protected by a password, but eeszt_certificate_pfx_password %s" % text in result.stdout
    assert not (tmp_path / "tls").exists()


def test_password_with_a_trailing_line_break_is_named_never_shown(run_playbook, inventory, pki, tmp_path):
    """ansible-vault encrypt_string fed by echo keeps the line break in the secret (issue 11)."""
    variables = pfx_vars(pki, site_pfx(), tmp_path / "tls")
    password = variables["eeszt_certificate_pfx_password"]
    variables["eeszt_certificate_pfx_password"] = password + "\n"
    result = deploy(run_playbook, inventory, variables, "-vvv")
    assert not result.ok
    assert "pfx_wrong_password" in result.stdout, result.output
    assert ("the value of eeszt_certificate_pfx_password ends with a line break, and without it the password "
            "is right") in result.stdout, result.output
    assert "printf '%s' 'PASSWORD' | ansible-vault encrypt_string --stdin-name" in result.stdout
    assert password not in result.stdout + result.stderr
    assert not (tmp_path / "tls").exists()


@pytest.mark.parametrize("case", ["legacy-rc2", "des3", "ec"])
def test_legacy_and_ec_pfx_deploy(run_playbook, inventory, pki, tmp_path, case):
    variables = pfx_vars(pki, "cases/%s.p12" % case, tmp_path / "tls")
    result = deploy(run_playbook, inventory, variables)
    assert result.ok, result.output
    assert (tmp_path / "tls" / "key.pem").read_text().startswith("-----BEGIN PRIVATE KEY-----")


@pytest.mark.parametrize("level", ["modern", "compat"])
def test_pkcs12_and_keystore_no_secrets_in_verbose_diff(run_playbook, inventory, pki, tmp_path, level):
    site_dir = tmp_path / "tls"
    variables = pfx_vars(pki, site_pfx(), site_dir,
                         eeszt_certificate_formats=["pem", "pkcs12", "java"],
                         eeszt_certificate_export_password=EXPORT_PASSWORD,
                         eeszt_certificate_export_encryption=level,
                         eeszt_certificate_keystore_alias="eeszt-waf")
    result = deploy(run_playbook, inventory, variables, "--diff", "-vvv")
    assert result.ok, result.output
    output = result.stdout + result.stderr
    assert "PRIVATE KEY" not in output
    assert variables["eeszt_certificate_pfx_password"] not in output
    assert EXPORT_PASSWORD not in output

    for legacy in ([], ["-legacy"]) if level == "compat" else ([],):
        proc = subprocess.run(["openssl", "pkcs12", "-in", str(site_dir / "client.p12"), "-nokeys",
                               "-passin", "stdin"] + legacy,
                              input=(EXPORT_PASSWORD + "\n").encode(), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=60, check=False)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.count(b"BEGIN CERTIFICATE") == 3

    storepass = tmp_path / "storepass"
    storepass.write_text(EXPORT_PASSWORD + "\n")
    os.chmod(str(storepass), 0o600)
    proc = subprocess.run(["keytool", "-list", "-storetype", "PKCS12", "-keystore", str(site_dir / "keystore.p12"),
                           "-storepass:file", str(storepass)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert b"eeszt-waf, " in proc.stdout and b"PrivateKeyEntry" in proc.stdout

    again = deploy(run_playbook, inventory, variables)
    assert again.ok and again.changed("site01") == 0, again.output
    other = dict(variables, eeszt_certificate_export_password=EXPORT_PASSWORD + "-new")
    changed = deploy(run_playbook, inventory, other)
    assert changed.ok and changed.changed("site01") == 1, changed.output


def test_result_fact_for_later_roles(run_playbook, inventory, pki, tmp_path):
    playbook = tmp_path / "show.yml"
    playbook.write_text(
        "- hosts: eeszt_sites\n  gather_facts: false\n  roles:\n    - eeszt.connect.certificate\n"
        "  post_tasks:\n    - name: Write the fact\n      ansible.builtin.copy:\n"
        "        content: '{{ eeszt_certificate_result | to_json }}'\n        dest: %s\n        mode: '0600'\n"
        % (tmp_path / "fact.json"))
    result = run_playbook(str(playbook), inventory=inventory, extra_vars=pfx_vars(pki, site_pfx(), tmp_path / "tls"))
    assert result.ok, result.output
    fact = json.loads((tmp_path / "fact.json").read_text())
    assert fact["changed"] is True and fact["days_left"] > 300
    assert fact["cert_path"] == str(tmp_path / "tls" / "cert.pem")
    assert len(fact["fingerprint"]) == 64


HANDLER = "RUNNING HANDLER [eeszt.connect.certificate : Restart services that use the EESZT certificate]"


def test_services_restarted_only_when_named(run_playbook, inventory, pki, tmp_path):
    """eeszt_certificate_notify_services: a changed certificate runs the handler only when services are named
    (with none, nothing is notified: no handler task per site)."""
    plain = deploy(run_playbook, inventory, pfx_vars(pki, site_pfx(), tmp_path / "a"))
    assert plain.ok, plain.output
    assert plain.changed("site01") and HANDLER not in plain.stdout
    # A service that does not exist: the handler runs and fails on it, which shows that it was notified.
    named = deploy(run_playbook, inventory, pfx_vars(pki, site_pfx(), tmp_path / "b", eeszt_certificate_notify_services=[
        {"name": "eeszt-test-no-such-service.service", "state": "restarted"}]))
    assert HANDLER in named.stdout, named.output
    assert not named.ok and "eeszt-test-no-such-service" in named.output
    # Unchanged on the next run: not notified, even with services named.
    again = deploy(run_playbook, inventory, pfx_vars(pki, site_pfx(), tmp_path / "b", eeszt_certificate_notify_services=[
        "eeszt-test-no-such-service.service"]))
    assert again.ok and HANDLER not in again.stdout, again.output


def test_ansible_doc_renders():
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(os.path.dirname(__file__), "..", "..", "ansible.cfg"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "eeszt.connect.waf_certificate"],
                          cwd=os.path.join(os.path.dirname(__file__), "..", ".."), env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.decode()
    for word in ("pfx_password", "export_encryption", "RETURN VALUES", "fingerprint", "backup_path"):
        assert word in text
