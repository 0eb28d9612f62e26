# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller-side paths (plugin_utils/controller_files.py) and the fleet's file and name checks
(plugin_utils/site_files.py), used by the preflight before any site is touched."""

import json
import os

import pytest
from ansible.parsing.dataloader import DataLoader
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.eeszt.connect.plugins.action.fleet_preflight import COLLECTION_ROOT
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_files

ALL_ROLES = ["certificate", "tls_client", "connection_check", "proofs"]


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": "100001", "site_id": "100001001"}])
    root = lab / "pki"
    site = json.loads((root / "manifest.json").read_text())["sites"][0]
    return {"root": root, "pfx": str(root / site["pfx"]),
            "password": (root / site["password_file"]).read_text().strip(),
            "ca_bundle": str(root / "eeszt-ca-bundle.pem"), "client_ca": str(root / "client-ca-bundle.pem")}


# --- where a relative path points --------------------------------------------------------------------------


def test_a_relative_path_is_found_beside_the_inventory(tmp_path):
    (tmp_path / "pfx").mkdir()
    (tmp_path / "pfx" / "123456.pfx").write_bytes(b"x")
    found = controller_files.find("pfx/123456.pfx", {"inventory_dir": str(tmp_path)})
    assert found == str(tmp_path / "pfx" / "123456.pfx")


def test_an_absolute_path_and_the_home_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "a.pem").write_text("x")
    assert controller_files.find(str(tmp_path / "a.pem"), {}) == str(tmp_path / "a.pem")
    assert controller_files.find("~/a.pem", {"inventory_dir": "/elsewhere"}) == str(tmp_path / "a.pem")


def test_a_missing_file_says_where_it_was_looked_for(tmp_path):
    with pytest.raises(controller_files.ControllerFileNotFound) as caught:
        controller_files.find("pfx/123456.pfx", {"inventory_dir": str(tmp_path)})
    assert caught.value.looked == [
        str(tmp_path / "pfx" / "123456.pfx") + " (relative to the inventory directory of the host)"]
    message = controller_files.not_found_message("PFX file", "eeszt_certificate_pfx_src", caught.value)
    assert message.startswith("the PFX file pfx/123456.pfx (eeszt_certificate_pfx_src) was not found on the "
                              "controller; looked in: %s/pfx/123456.pfx" % tmp_path)
    with pytest.raises(controller_files.ControllerFileNotFound) as caught:
        controller_files.find("ca.pem", {})
    assert caught.value.looked == ["no inventory directory (the host is not defined in an inventory file)"]


# --- files, each opened once ------------------------------------------------------------------------------


class CountingChecker(site_files.FileChecker):
    """Counts how often each file is really opened."""

    def __init__(self):
        super(CountingChecker, self).__init__(DataLoader())
        self.calls = []

    def _check(self, path, kind, password, variables):
        self.calls.append((os.path.basename(path), kind))
        return super(CountingChecker, self)._check(path, kind, password, variables)


def good_values(pki):
    return {"eeszt_certificate_pfx_src": pki["pfx"], "eeszt_certificate_pfx_password": pki["password"],
            "eeszt_certificate_ca_file": pki["client_ca"], "eeszt_tls_ca_bundle_src": pki["ca_bundle"],
            "eeszt_proofs_signing_pfx": pki["pfx"], "eeszt_proofs_signing_pfx_password": pki["password"],
            "eeszt_proofs_ca_file": pki["client_ca"]}


def test_good_files_of_many_sites_are_opened_once_each(pki):
    checker = CountingChecker()
    for dummy in range(50):
        assert checker.problems(good_values(pki), ALL_ROLES, {}) == []
    # The PFX (certificate and seal share it), the client CA file and the CA bundle: three distinct files.
    assert sorted(checker.calls) == sorted([(os.path.basename(pki["pfx"]), "pfx"),
                                            ("client-ca-bundle.pem", "ca_file"),
                                            ("eeszt-ca-bundle.pem", "ca_bundle")])
    assert checker.opened == 3


def test_a_wrong_password_is_the_password_variable_s_problem_once(pki):
    values = dict(good_values(pki), eeszt_certificate_pfx_password="not-the-password",
                  eeszt_proofs_signing_pfx_password="not-the-password")
    checker = CountingChecker()
    [problem] = checker.problems(values, ALL_ROLES, {})
    assert problem.variable == "eeszt_certificate_pfx_password"
    assert problem.shown is None  # a secret's value is never shown
    assert "[pfx_wrong_password]" in problem.message
    assert "not-the-password" not in str(problem)
    # The good password of another site does not reuse the failure: the cache key holds the password.
    assert checker.problems(good_values(pki), ALL_ROLES, {}) == []


@pytest.mark.parametrize("password, code", [(None, "pfx_password_missing"), ("", "pfx_password_missing")])
def test_a_missing_password_is_the_password_variable_s_problem(pki, password, code):
    values = dict(good_values(pki), eeszt_certificate_pfx_password=password, eeszt_proofs_signing_pfx_password=password)
    [problem] = site_files.FileChecker(DataLoader()).problems(values, ["certificate", "proofs"], {})
    assert problem.variable == "eeszt_certificate_pfx_password"
    assert "[%s]" % code in problem.message
    assert problem.remedy == "set the password that came with this PFX (by SMS), kept in Ansible Vault"


def test_the_seal_s_own_pfx_is_named_with_the_seal_s_variables(pki):
    values = {"eeszt_proofs_signing_pfx": pki["pfx"], "eeszt_proofs_signing_pfx_password": "not-the-password"}
    [problem] = site_files.FileChecker(DataLoader()).problems(values, ["proofs"], {})
    assert problem.variable == "eeszt_proofs_signing_pfx_password"
    assert "eeszt_proofs_signing_pfx_password" in problem.message


def test_only_the_files_of_the_roles_checked(pki):
    values = dict(good_values(pki), eeszt_tls_ca_bundle_src="/nonexistent/ca.pem")
    assert site_files.FileChecker(DataLoader()).problems(values, ["certificate", "connection_check"], {}) == []
    [problem] = site_files.FileChecker(DataLoader()).problems(values, ["tls_client"], {})
    assert problem.variable == "eeszt_tls_ca_bundle_src"
    assert problem.message == "was not found on the controller (looked in: /nonexistent/ca.pem)"


def test_a_ca_bundle_in_der_names_the_conversion(pki, tmp_path):
    der = tmp_path / "ca.cer"
    cert = x509.load_pem_x509_certificates(open(pki["ca_bundle"], "rb").read())[0]
    der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    [problem] = site_files.FileChecker(DataLoader()).problems(
        {"eeszt_tls_ca_bundle_src": "ca.cer"}, ["tls_client"], {"inventory_dir": str(tmp_path)})
    assert problem.variable == "eeszt_tls_ca_bundle_src"
    assert problem.shown == '"ca.cer"'
    assert "DER" in problem.message and "[not_pem]" in problem.message
    # The conversion is given once (issue 27: the message and the remedy both gave it).
    assert ("%s; %s" % (problem.message, problem.remedy)).count("openssl x509 -inform DER") == 1


def test_a_damaged_pfx_and_a_directory(pki, tmp_path):
    broken = tmp_path / "broken.pfx"
    broken.write_bytes(open(pki["pfx"], "rb").read()[:200])
    [problem] = site_files.FileChecker(DataLoader()).problems(
        {"eeszt_certificate_pfx_src": str(broken), "eeszt_certificate_pfx_password": pki["password"]},
        ["certificate"], {})
    assert problem.variable == "eeszt_certificate_pfx_src"
    assert "[pfx_corrupt]" in problem.message
    [problem] = site_files.FileChecker(DataLoader()).problems(
        {"eeszt_certificate_ca_file": str(tmp_path)}, ["certificate"], {})
    assert problem.message == "is a directory, not a file"


def test_a_signing_key_replaces_the_signing_pfx(pki, tmp_path):
    values = {"eeszt_proofs_signing_pfx": "/nonexistent.pfx", "eeszt_proofs_signing_key": str(tmp_path / "k.pem"),
              "eeszt_proofs_signing_cert": pki["client_ca"]}
    [problem] = site_files.FileChecker(DataLoader()).problems(values, ["proofs"], {})
    assert problem.variable == "eeszt_proofs_signing_key"


def test_the_loader_used_is_the_certificate_stage_s(pki):
    """The preflight opens the PFX with the very loader the certificate stage uses: same verdict."""
    assert site_files.load_pfx is certificate.load_pfx


# --- variable names ----------------------------------------------------------------------------------------


def test_every_documented_role_variable_is_known():
    known = site_files.known_names(COLLECTION_ROOT)
    for name in ("eeszt_institution_id", "eeszt_site_id", "eeszt_environment", "eeszt_endpoints",
                 "eeszt_certificate_pfx_src", "eeszt_check_timeout", "eeszt_tls_proxy", "eeszt_proofs_archive_dir",
                 "eeszt_check_endpoints_by_environment", "eeszt_hosts", "eeszt_rotate_serial",
                 "eeszt_preflight_ignore_unknown", "eeszt_lab_waf_port", "eeszt_lab_site_root"):
        assert name in known, name


@pytest.mark.parametrize("typo, meant", [
    ("eeszt_check_timout", "eeszt_check_timeout"),
    ("eeszt_certifcate_min_days", "eeszt_certificate_min_days"),
    ("eeszt_site_idd", "eeszt_site_id"),
    ("eeszt_tls_ca_bundle_scr", "eeszt_tls_ca_bundle_src"),
])
def test_a_typo_gets_the_closest_known_name(typo, meant):
    known = site_files.known_names(COLLECTION_ROOT)
    [entry] = site_files.unknown_variables({"a": [typo, "eeszt_check_timeout"], "b": [typo]}, known)
    assert entry == {"variable": typo, "hosts": ["a", "b"], "did_you_mean": meant}
    assert site_files.unknown_warning(entry) == (
        "%s is set for 2 host(s) (a, b) but nothing in eeszt.connect reads it: did you mean %s? If it is your "
        "own variable, add it to eeszt_preflight_ignore_unknown." % (typo, meant))


def test_unknown_names_far_from_any_and_ignored_ones():
    known = site_files.known_names(COLLECTION_ROOT)
    names = {"h%d" % index: ["eeszt_zzz_vendor_thing", "eeszt_local_x", "ansible_user", "vault_eeszt_x"]
             for index in range(5)}
    [entry] = site_files.unknown_variables(names, known, ignore=["eeszt_local_*"])
    assert entry["variable"] == "eeszt_zzz_vendor_thing" and entry["did_you_mean"] is None
    assert site_files.unknown_warning(entry).startswith(
        "eeszt_zzz_vendor_thing is set for 5 host(s) (h0, h1, h2 and 2 more) but nothing in eeszt.connect reads "
        "it: If it is your own variable")
