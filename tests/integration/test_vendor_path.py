# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The vendor's path, exactly as README's "Quick start for a vendor" says it (issue 11).

The collection is built into a tarball, and README's quick start is taken from README itself: every
block marked ``<!-- vendor-test: NAME -->`` (commands) or ``<!-- vendor-file: PATH -->`` (a file of the
project) is run or written in README's order, in a fresh HOME, with a fresh virtual environment that
has only ``requirements.txt`` and the installed tarball (not this checkout, not the test environment).

What the test adds is only what a person does by hand between the commands, each named here:

* the EESZT operator's material: the PFX and CA bundle come from the lab (the lab's PFX of site
  123456001 stands for the institution's PFX, its password for the SMS), the quick start's placeholders
  ``PASSWORD-FROM-THE-SMS`` / ``NEW-PASSWORD-FROM-THE-SMS`` and the placeholder endpoint host are replaced
  with them, as README tells the vendor to;
* before the rehearsed rotation, the lab issues renewed certificates for the two sites (as the operator
  would issue a new WAF-SSL certificate);
* the commands of the real run target real sites that do not exist here, so they are run with
  ``--list-hosts`` (which proves the playbook, the groups and the patterns resolve).
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys

import pytest

from lab_renewal import renew

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
README = os.path.join(ROOT, "README.md")
BLOCK = re.compile(r"^<!-- vendor-(test|file): (\S+) -->\n```\w+\n(.*?)^```", re.S | re.M)
STEP_TIMEOUT = 600
INSTITUTION = "123456"
SITES = {"rendelo-budapest-1.example.internal": "123456001", "rendelo-budapest-2.example.internal": "123456002"}
pytestmark = pytest.mark.slow


def quick_start():
    """[(kind, name, text)] of README's marked blocks, in README's order."""
    with open(README, encoding="utf-8") as handle:
        return list(BLOCK.findall(handle.read()))


def commands(text):
    """The command lines of a console block (no comments, no blank lines)."""
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


class Vendor:
    """A person at a fresh controller: own HOME, own PATH, none of this checkout's settings."""

    def __init__(self, home, work, port):
        self.home, self.work, self.port = home, work, port
        self.project = os.path.join(work, "eeszt-project")
        self.venv = os.path.join(home, "eeszt-venv")
        ours = os.path.join(ROOT, ".venv", "bin")
        path = [entry for entry in os.environ.get("PATH", "").split(os.pathsep)
                if entry and os.path.realpath(entry) != os.path.realpath(ours)
                and os.path.realpath(entry) != os.path.dirname(os.path.realpath(sys.executable))]
        self.base_env = {"HOME": home, "PATH": os.pathsep.join(path), "LANG": "C.UTF-8",
                         "EESZT_LAB_WAF_PORT": str(port), "ANSIBLE_NOCOLOR": "1"}
        self.log = []      # what was typed and what it printed, for assertion messages
        self.printed = []  # what the commands printed
        self.secrets = []

    def env(self):
        env = dict(self.base_env)
        if os.path.isdir(self.venv):  # as `. ~/eeszt-venv/bin/activate` leaves it
            env["VIRTUAL_ENV"] = self.venv
            env["PATH"] = os.path.join(self.venv, "bin") + os.pathsep + env["PATH"]
        return env

    def run(self, script, cwd):
        proc = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=cwd, env=self.env(),
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=STEP_TIMEOUT, check=False)
        self.log.append("$ %s\n%s" % (script, proc.stdout))
        self.printed.append(proc.stdout)
        assert proc.returncode == 0, "\n".join(self.log[-3:])
        return proc.stdout

    def write(self, name, text):
        path = os.path.join(self.project, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write(text)


def lab_site(vendor, site_id):
    """(PFX path, password) of a site in the rehearsal lab."""
    stem = os.path.join(vendor.project, "lab", "pki", "sites", "%s-%s" % (INSTITUTION, site_id))
    with open(stem + ".password") as handle:
        return stem + ".p12", handle.read().strip()


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-galaxy"), "collection", "build",
                    "--output-path", str(out), ROOT], check=True, stdout=subprocess.DEVNULL, timeout=300)
    [built] = out.glob("eeszt-connect-*.tar.gz")
    return built


@pytest.fixture(scope="module")
def vendor(tmp_path_factory, tarball, pick_port):
    root = tmp_path_factory.mktemp("vendor")
    home, work = root / "home", root / "work"
    home.mkdir()
    work.mkdir()
    shutil.copy(str(tarball), str(work))
    person = Vendor(str(home), str(work), pick_port())
    yield person
    # Whatever happened, no lab WAF stays up.
    pid_file = os.path.join(person.project, "lab", "waf", "waf.pid")
    if os.path.exists(pid_file):
        try:
            with open(pid_file) as handle:
                os.kill(int(handle.read().strip()), signal.SIGTERM)
        except (OSError, ValueError):
            pass


def test_readme_quick_start_from_the_tarball(vendor):
    blocks = quick_start()
    names = [name for kind, name, text in blocks]
    assert names == ["controller", "ansible.cfg", "install", "hosts.yml", "group_vars/eeszt_sites.yml",
                     "group_vars/all.yml", "rehearse", "vault", "preflight", "real-run", "new-pfx"], names
    for kind, name, text in blocks:
        if kind == "file":
            vendor.write(name, text)
        elif name == "controller":
            # The whole block in one shell: it creates the venv and the project, and enters both.
            assert "~/eeszt-venv" in text and "cd eeszt-project" in text
            vendor.run(text, cwd=vendor.work)
            assert os.path.isfile(os.path.join(vendor.venv, "bin", "ansible-playbook"))
        else:
            globals()["step_" + name.replace("-", "_")](vendor, text)

    # README's ansible.cfg is the one the collection ships in inventories/example/.
    shipped = os.path.join(vendor.project, "collections", "ansible_collections", "eeszt", "connect",
                           "inventories", "example", "ansible.cfg")
    with open(shipped) as handle:
        settings = "".join(line for line in handle if not line.startswith("#"))
    assert settings == dict((name, text) for kind, name, text in blocks)["ansible.cfg"]

    # No secret in anything the commands printed.
    everything = "\n".join(vendor.printed)
    for secret in vendor.secrets:
        assert secret not in everything


def step_install(vendor, text):
    for line in commands(text):
        vendor.run(line, cwd=vendor.project)
    installed = os.path.join(vendor.project, "collections", "ansible_collections", "eeszt", "connect")
    assert os.path.isfile(os.path.join(installed, "MANIFEST.json"))
    # Only the tarball's collection and requirements.txt: no link into this checkout.
    assert not os.path.islink(installed) and ROOT not in os.path.realpath(installed)
    assert oct(os.stat(os.path.join(vendor.home, ".eeszt-vault-pass")).st_mode & 0o777) == "0o600"


def step_rehearse(vendor, text):
    lines = commands(text)
    for line in lines:
        if "rotate_certificate" in line:
            # The operator issues renewed certificates; the lab's rehearsal.yml points each site to its own.
            for site_id in SITES.values():
                pfx, dummy = lab_site(vendor, site_id)
                renew(os.path.join(vendor.project, "lab", "pki"), INSTITUTION, site_id, pfx)
        output = vendor.run(line, cwd=vendor.project)
        if "eeszt.connect.site " in line + " ":
            assert "sites: 2  passed: 2  check failed: 0  other stage failed: 0  unreachable: 0" in output, output
        if "verify_proofs" in line:
            assert "failed=0" in output and "Verify every seal and hash" in output, output
    archive = os.path.join(vendor.project, "lab", "proofs")
    assert os.path.isfile(os.path.join(archive, "report.html"))
    with open(os.path.join(archive, "index.json")) as handle:
        index = json.load(handle)
    assert "123456001" in json.dumps(index) and "123456002" in json.dumps(index)
    with open(os.path.join(archive, "rotation.jsonl")) as handle:
        rotations = [json.loads(line) for line in handle if line.strip()]
    assert sorted((entry["site_id"], entry["status"]) for entry in rotations) == [
        ("123456001", "rotated"), ("123456002", "rotated")], rotations
    # The rehearsal ran every site on this machine, under the lab: certificate files are there.
    for host in SITES:
        assert os.path.isfile(os.path.join(vendor.project, "lab", "sites", host, "etc", "eeszt", "tls", "cert.pem"))
    assert not os.path.exists(os.path.join(vendor.project, "lab", "waf", "waf.pid")), "the lab WAF is still up"


def step_vault(vendor, text):
    # The operator's material: the institution's PFX and the CA bundle, and the SMS password.
    pfx, password = lab_site(vendor, "123456001")
    os.makedirs(os.path.join(vendor.project, "pfx"))
    os.makedirs(os.path.join(vendor.project, "ca"))
    shutil.copy(pfx, os.path.join(vendor.project, "pfx", "123456.pfx"))
    shutil.copy(os.path.join(vendor.project, "lab", "pki", "eeszt-ca-bundle.pem"),
                os.path.join(vendor.project, "ca", "eeszt-ca.pem"))
    vendor.secrets.append(password)
    assert "'PASSWORD-FROM-THE-SMS'" in text
    for line in commands(text.replace("PASSWORD-FROM-THE-SMS", password)):
        vendor.run(line, cwd=vendor.project)
    with open(os.path.join(vendor.project, "group_vars", "institution_123456", "vault.yml")) as handle:
        vaulted = handle.read()
    assert vaulted.startswith("vault_eeszt_pfx_password_123456: !vault |") and password not in vaulted


def fill_in_endpoints(vendor):
    """What README asks: the placeholder host replaced with the URL from the connection documents."""
    path = os.path.join(vendor.project, "group_vars", "eeszt_sites.yml")
    with open(path) as handle:
        text = handle.read()
    assert "CHANGE-ME-FROM-THE-CONNECTION-DOCUMENTS" in text
    with open(path, "w") as handle:
        handle.write(text.replace("CHANGE-ME-FROM-THE-CONNECTION-DOCUMENTS", "127.0.0.1:%d" % vendor.port))


def step_preflight(vendor, text):
    [line] = commands(text)
    # With the placeholder host still in place the preflight refuses every site, naming the variable.
    proc = subprocess.run(["bash", "-c", line], cwd=vendor.project, env=vendor.env(), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          timeout=STEP_TIMEOUT, check=False)
    vendor.log.append(proc.stdout)
    vendor.printed.append(proc.stdout)
    assert proc.returncode == 2, proc.stdout
    assert "eeszt_check_endpoints_by_environment.test[0].url" in proc.stdout, proc.stdout
    assert "still has the placeholder host of the quick start" in proc.stdout, proc.stdout
    # README's ansible.cfg sets the collection's stdout callback: each refusal is said once, on one line, without
    # ansible-core's [ERROR] block that repeats it.
    for host in SITES:
        assert "fatal: [%s]: FAILED! bad_variables: " % host in proc.stdout, proc.stdout
    assert "[ERROR]" not in proc.stdout and "Origin:" not in proc.stdout, proc.stdout
    fill_in_endpoints(vendor)
    output = vendor.run(line, cwd=vendor.project)
    # The vaulted password opened the PFX found beside the inventory; nothing else was run.
    assert "ok=2" in output and "failed=0" in output, output
    assert "WARNING" not in output.replace("[WARNING]: Collection", ""), output


def step_real_run(vendor, text):
    for line in commands(text):
        output = vendor.run(line + " --list-hosts", cwd=vendor.project)
        for host in SITES:
            assert host in output, output


def step_new_pfx(vendor, text):
    downloads = os.path.join(vendor.home, "Downloads")
    os.makedirs(downloads)
    new = os.path.join(downloads, "123456-new.pfx")
    renew(os.path.join(vendor.project, "lab", "pki"), INSTITUTION, "123456001", new)
    with open(new + ".password") as handle:  # lab_renewal keeps a name that does not end in .p12
        password = handle.read().strip()
    vendor.secrets.append(password)
    assert "'NEW-PASSWORD-FROM-THE-SMS'" in text
    for line in commands(text.replace("NEW-PASSWORD-FROM-THE-SMS", password)):
        if "rotate_certificate" in line:
            output = vendor.run(line + " --list-hosts", cwd=vendor.project)
            assert all(host in output for host in SITES), output
            continue
        output = vendor.run(line, cwd=vendor.project)
        if "preflight" in line:
            assert "failed=0" in output, output
    with open(os.path.join(vendor.project, "pfx", "123456.pfx"), "rb") as handle, open(new, "rb") as renewed:
        assert handle.read() == renewed.read()
