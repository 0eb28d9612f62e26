# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Check the installed WAF-SSL certificate on every site container.

Shared by the Molecule scenarios `default` (after deploy and idempotence)
and `failures` (after every bad PFX was refused): on each site the files
are in place with their owner, group and mode, they hold exactly the
certificate of the site's lab PFX, the key belongs to the certificate and
the chain verifies it for TLS client use.

Each site is read once (one `docker exec` of a small Python program that
reports every file with symbolic links resolved); the openssl checks run
on the site itself, so the private key never leaves it except inside the
PKCS#12 exports, which are opened here with the lab's export password.
"""

import base64
import json
import os
import pathlib

import pytest
import testinfra.utils.ansible_runner
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID

RUNNER = testinfra.utils.ansible_runner.AnsibleRunner(os.environ["MOLECULE_INVENTORY_FILE"])
testinfra_hosts = RUNNER.get_hosts("eeszt_sites")

LAB = pathlib.Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "lab"
PUBLIC_FILES = ("cert.pem", "chain.pem", "fullchain.pem")
SECRET_FILES = ("key.pem", "client.p12", "keystore.p12")
FORMAT_FILES = {"pkcs12": "client.p12", "java": "keystore.p12"}

# Runs on the site with its python3: for each name, where <dir>/<name>
# really is (links resolved), its stat and its content (base64; not for the
# key, which stays on the site), plus the directories on the way to it.
READ_SITE = r"""
import base64, grp, json, os, pwd, stat, sys
base, names, secret = sys.argv[1], sys.argv[2].split(","), ("key.pem",)
def entry(path):
    st = os.stat(path)
    return {"path": path, "user": pwd.getpwuid(st.st_uid).pw_name,
            "group": grp.getgrgid(st.st_gid).gr_name, "mode": stat.S_IMODE(st.st_mode),
            "dir": stat.S_ISDIR(st.st_mode), "file": stat.S_ISREG(st.st_mode)}
out = {"files": {}, "dirs": {}}
for name in names:
    link = os.path.join(base, name)
    if not os.path.lexists(link):
        continue
    real = os.path.realpath(link)
    out["files"][name] = entry(real)
    if name not in secret and os.path.isfile(real):
        out["files"][name]["content"] = base64.b64encode(open(real, "rb").read()).decode()
    parent = os.path.dirname(real)
    while parent.startswith(base):
        out["dirs"][parent] = entry(parent)
        parent = os.path.dirname(parent)
json.dump(out, sys.stdout)
"""

_SITES = {}


class Site:
    """One site: what the inventory says it should have and what it has."""

    def __init__(self, host):
        self.host = host
        self.name = host.backend.get_hostname()
        variables = RUNNER.get_variables(self.name)
        self.institution_id = str(variables["eeszt_institution_id"])
        self.site_id = str(variables["eeszt_site_id"])
        self.dir = variables.get("eeszt_certificate_dir", "/etc/eeszt/tls")
        self.owner = variables.get("eeszt_certificate_owner") or "root"
        self.group = variables.get("eeszt_certificate_group") or "root"
        self.key_mode = 0o640 if variables.get("eeszt_certificate_group") else 0o600
        self.formats = variables.get("eeszt_certificate_formats", ["pem"])
        self.alias = variables.get("eeszt_certificate_keystore_alias", "eeszt-waf")
        stem = LAB / "pki" / "sites" / "{0}-{1}".format(self.institution_id, self.site_id)
        password = stem.with_suffix(".password").read_text().strip().encode()
        self.pfx = pkcs12.load_pkcs12(stem.with_suffix(".p12").read_bytes(), password)
        names = ",".join(PUBLIC_FILES + SECRET_FILES)
        state = json.loads(host.check_output("python3 -c %s %s %s", READ_SITE, self.dir, names))
        self.files, self.dirs = state["files"], state["dirs"]

    def file(self, name):
        assert name in self.files, "{0}/{1} is missing on {2}".format(self.dir, name, self.name)
        entry = self.files[name]
        assert entry["file"], "{0}/{1} is not a regular file".format(self.dir, name)
        assert entry["path"].startswith(self.dir + "/"), "{0} resolves outside {1}".format(name, self.dir)
        return entry

    def content(self, name):
        return base64.b64decode(self.file(name)["content"])

    def certificate(self):
        return x509.load_pem_x509_certificate(self.content("cert.pem"))

    def path(self, name):
        return "{0}/{1}".format(self.dir, name)


@pytest.fixture(name="site")
def fixture_site(host):
    name = host.backend.get_hostname()
    if name not in _SITES:
        _SITES[name] = Site(host)
    return _SITES[name]


def public_der(key):
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_directories_owner_group_mode(site):
    assert site.dir in site.dirs
    for path, entry in sorted(site.dirs.items()):
        assert entry["dir"], path
        assert (entry["user"], entry["group"], entry["mode"]) == (site.owner, site.group, 0o750), path


@pytest.mark.parametrize("name", PUBLIC_FILES)
def test_public_files_owner_group_mode(site, name):
    entry = site.file(name)
    assert (entry["user"], entry["group"]) == (site.owner, site.group)
    # Readable by whoever may enter the directory, writable by the owner only.
    assert entry["mode"] & 0o022 == 0, oct(entry["mode"])


def test_private_key_owner_group_mode(site):
    entry = site.file("key.pem")
    assert (entry["user"], entry["group"], entry["mode"]) == (site.owner, site.group, site.key_mode)


def test_certificate_is_the_sites_lab_certificate(site):
    cert = site.certificate()
    assert len(x509.load_pem_x509_certificates(site.content("cert.pem"))) == 1
    assert cert == site.pfx.cert.certificate
    assert site.institution_id in cert.subject.rfc4514_string()
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.CLIENT_AUTH in eku


def test_key_matches_certificate(site):
    # openssl reads the key on the site; only public keys travel back.
    cert_pub = site.host.check_output("openssl x509 -noout -pubkey -in %s", site.path("cert.pem"))
    key_pub = site.host.check_output("openssl pkey -pubout -in %s", site.path("key.pem"))
    assert cert_pub.startswith("-----BEGIN PUBLIC KEY-----")
    assert cert_pub == key_pub
    assert cert_pub.encode() == site.pfx.cert.certificate.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).strip()


def test_chain_verifies_certificate_for_client_auth(site):
    result = site.host.run(
        "openssl verify -partial_chain -purpose sslclient -CAfile %s %s",
        site.path("chain.pem"),
        site.path("cert.pem"),
    )
    assert result.rc == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "{0}: OK".format(site.path("cert.pem"))


def test_chain_and_fullchain_hold_the_pfx_chain(site):
    leaf = site.certificate()
    chain = x509.load_pem_x509_certificates(site.content("chain.pem"))
    fullchain = x509.load_pem_x509_certificates(site.content("fullchain.pem"))
    from_pfx = [c.certificate for c in site.pfx.additional_certs]
    intermediates = {c for c in from_pfx if c.issuer != c.subject}
    # Issuer first, every intermediate of the PFX kept, nothing foreign added.
    assert chain and chain[0].subject == leaf.issuer
    assert intermediates <= set(chain) <= set(from_pfx)
    assert fullchain == [leaf] + chain
    assert site.content("fullchain.pem") == site.content("cert.pem") + site.content("chain.pem")


@pytest.mark.parametrize("fmt", sorted(FORMAT_FILES))
def test_pkcs12_exports(site, fmt):
    name = FORMAT_FILES[fmt]
    if fmt not in site.formats:
        assert name not in site.files, "{0} written although {1} was not asked for".format(name, fmt)
        return
    entry = site.file(name)
    assert (entry["user"], entry["group"], entry["mode"]) == (site.owner, site.group, site.key_mode)
    password = (LAB / "export.password").read_text().strip().encode()
    bundle = pkcs12.load_pkcs12(site.content(name), password)
    assert bundle.cert.certificate == site.certificate()
    assert bundle.key is not None
    assert public_der(bundle.key) == public_der(site.pfx.key)
    if fmt == "java":
        # Java finds the key entry by its alias (the PKCS#12 friendlyName).
        assert bundle.cert.friendly_name == site.alias.encode()
