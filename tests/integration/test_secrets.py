# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Promises 1 (secrets stay secret) and 8 (least privilege), on the demo.

site.yml runs three times on three demo sites against a private lab, with
every secret in play: the lab's PFX passwords, an export password (client.p12
and keystore.p12), proxy credentials and a Java truststore password:

1. ``--diff`` on fresh sites (every file is created, so every diff is shown);
2. ``-vvv`` (module arguments and results in full);
3. ``--check --diff -vvv`` with a new export and proxy password (check mode
   has something to compare and predicts changes).

Each run's stdout, stderr, ANSIBLE_LOG_PATH file and fleet summary JSON, the
proofs on the sites and in the archive, the Prometheus metrics files on the
sites (``eeszt_check_metrics_dir``), and every report (evidence bundles
unpacked) are scanned for each password and for private key material. The same
scanner is shown to find them in the files that must hold them. Then every file
and directory the runs wrote is checked against the narrowest mode that works.
Finally the ``no_log`` masking pitfall: a short password garbles a module's
output (shown with a real module), so the roles refuse one, naming the variable.
"""

import base64
import io
import json
import os
import re
import secrets
import stat
import sys
import zipfile

import pytest
from cryptography.hazmat.primitives.serialization import pkcs12

import prom

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
HOSTS = ["site001", "site002", "site003"]
SITE_IDS = {"site001": "100001001", "site002": "100001002", "site003": "100001003"}
PROXY_USER = "eeszt-proxy-user"
MIN_PASSWORD_LENGTH = 8
PRIVATE_KEY_BLOCK = re.compile(rb"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----")

# The narrowest modes that work, as the roles document them (README of each role):
# the key and the PKCS#12 exports 0600 (0640 only with eeszt_certificate_group),
# the certificate directory and each certificate set 0750, public certificates
# 0644, client settings files that hold a secret eeszt_tls_secret_mode (0640),
# the others 0644, proofs 0640 in 0750 directories; the per-site lock and the
# set's state 0600. Parent directories made on the way (etc, var/lib/eeszt)
# are ordinary 0755 ones that hold nothing secret.
METRICS_DIR = "var/lib/prometheus/node-exporter"  # eeszt_check_metrics_dir under each demo site
SITE_FILE_MODES = [
    (r"etc/eeszt/tls/sets/[^/]+/key\.pem", 0o600),
    (r"etc/eeszt/tls/sets/[^/]+/(client|keystore)\.p12", 0o600),
    (r"etc/eeszt/tls/sets/[^/]+/(cert|chain|fullchain)\.pem", 0o644),
    (r"etc/eeszt/tls/sets/[^/]+/state\.json", 0o600),
    (r"etc/eeszt/tls/\.lock", 0o600),
    (r"etc/eeszt/tls/eeszt-ca\.pem", 0o644),
    (r"etc/eeszt/(eeszt\.env|curlrc|java\.properties)", 0o640),  # proxy or keystore credentials
    (r"etc/eeszt/openssl\.cnf", 0o644),
    (r"var/lib/eeszt/proofs/[^/]+\.json", 0o640),
    (METRICS_DIR + r"/eeszt_check_100001_\d{9}_test\.prom", 0o644),  # node_exporter reads it
]
SITE_DIR_MODES = [
    (r"etc/eeszt/tls", 0o750),
    (r"etc/eeszt/tls/sets(/[^/]+)?", 0o750),
    (r"var/lib/eeszt/proofs", 0o750),
    (r"|etc|etc/eeszt|var|var/lib|var/lib/eeszt", 0o755),
    (r"var/lib/prometheus|" + METRICS_DIR, 0o755),
]
# Files the sites must hold a secret in: the scanner must find it there.
SITE_SECRET_FILES = r"etc/eeszt/(tls/sets/[^/]+/(key\.pem|client\.p12|keystore\.p12)|eeszt\.env|curlrc|java\.properties)"
# The central archive: root and site folders 0750, every file 0640.
ARCHIVE_FILE_MODE = 0o640
ARCHIVE_DIR_MODE = 0o750
ARCHIVE_LOCK_MODE = 0o600

pytestmark = pytest.mark.slow


def password(label):
    """A fresh password that cannot occur by chance anywhere (URL-safe, so it is written verbatim)."""
    return "%s-%s" % (label, secrets.token_urlsafe(18))


class Lab:
    """The demo inventory against a private lab directory and WAF port."""

    def __init__(self, root, run_playbook, port):
        self.root = root
        self.dir = root / "lab"
        self.archive = self.dir / "proofs"
        self.port = port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.dir), "EESZT_LAB_WAF_PORT": str(port), "EESZT_DEMO_SITES": "3"}

    def play(self, playbook, *args, env=None, **extra_vars):
        environment = dict(self.env, **(env or {}))
        return self.run_playbook(playbook, extra_vars=extra_vars, env=environment,
                                 args=["-i", DEMO] + list(args))

    def site(self, host):
        return self.dir / "sites" / host

    def pfx(self, host):
        return self.dir / "pki" / "sites" / ("100001-%s.p12" % SITE_IDS[host])


class Run:
    """One site.yml run and everything it printed or logged."""

    def __init__(self, name, result, log_path, summary_path):
        self.name = name
        self.result = result
        self.log_path = log_path
        self.summary_path = summary_path

    def outputs(self):
        """[(what, bytes)] of the run's own output."""
        found = [("%s stdout" % self.name, self.result.stdout.encode()),
                 ("%s stderr" % self.name, self.result.stderr.encode())]
        for path in (self.log_path, self.summary_path):
            found.append(("%s %s" % (self.name, path.name), path.read_bytes()))
        return found


def secret_variables(export_password, proxy_password, truststore_password, proxy_port):
    return {
        "eeszt_certificate_formats": ["pem", "pkcs12", "java"],
        "eeszt_certificate_export_password": export_password,
        # A proxy for the client settings files and the check; the lab WAF is on
        # 127.0.0.1, which eeszt_tls_no_proxy exempts, so the check still goes direct.
        "eeszt_tls_proxy": "http://127.0.0.1:%d" % proxy_port,
        "eeszt_tls_no_proxy": ["localhost", "127.0.0.1", "::1"],
        "eeszt_tls_proxy_username": PROXY_USER,
        "eeszt_tls_proxy_password": proxy_password,
        "eeszt_tls_java_truststore": "/etc/ssl/eeszt-truststore.p12",
        "eeszt_tls_java_truststore_password": truststore_password,
        "eeszt_check_metrics_dir": "{{ eeszt_demo_root }}/" + METRICS_DIR,
    }


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    lab = Lab(tmp_path_factory.mktemp("secrets"), run_playbook, pick_port())
    result = lab.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=lab.port)
    assert result.ok, result.output
    yield lab
    result = stop_lab(lab.dir, lab.port, env=lab.env, args=["-i", DEMO])
    assert result.ok, result.output


@pytest.fixture(scope="module")
def runs(lab, pick_port):
    """The three site.yml runs: {'diff': Run, 'vvv': Run, 'check': Run}; and the secrets in play."""
    passwords = {
        "export": password("export"),
        "proxy": password("proxy"),
        "truststore": password("truststore"),
        # New values for the check-mode run, so that it has changes to predict.
        "export (check run)": password("export2"),
        "proxy (check run)": password("proxy2"),
    }
    for host in HOSTS:
        pfx_password = lab.pfx(host).with_suffix(".password").read_text().strip()
        assert len(pfx_password) >= MIN_PASSWORD_LENGTH
        passwords["PFX password of %s" % host] = pfx_password
    proxy_port = pick_port()  # nothing listens there: nothing may try to use the proxy
    first = secret_variables(passwords["export"], passwords["proxy"], passwords["truststore"], proxy_port)
    second = secret_variables(passwords["export (check run)"], passwords["proxy (check run)"],
                              passwords["truststore"], proxy_port)
    done = {}
    for name, args, variables in (("diff", ["--diff"], first), ("vvv", ["-vvv"], first),
                                  ("check", ["--check", "--diff", "-vvv"], second)):
        log_path = lab.root / ("%s.log" % name)
        summary_path = lab.root / ("%s-summary.json" % name)
        result = lab.play("site.yml", *args, env={"ANSIBLE_LOG_PATH": str(log_path),
                                                  "EESZT_FLEET_SUMMARY_JSON": str(summary_path)}, **variables)
        assert result.ok, result.output
        done[name] = Run(name, result, log_path, summary_path)
    return done, passwords


def needles(lab, passwords):
    """{what: bytes} that must never appear outside the files meant to hold them."""
    found = dict(("password: %s" % name, value.encode()) for name, value in passwords.items())
    for host in HOSTS:
        # The start of the base64 text of the PFX and of the exports (one line at any wrapping width).
        pfx_b64 = base64.b64encode(lab.pfx(host).read_bytes())
        found["base64 of the PFX of %s" % host] = pfx_b64[:48]
        for path in lab.site(host).glob("etc/eeszt/tls/sets/*/*.p12"):
            found["base64 of %s" % path] = base64.b64encode(path.read_bytes())[:48]
        for path in lab.site(host).glob("etc/eeszt/tls/sets/*/key.pem"):
            body = [line for line in path.read_bytes().splitlines() if not line.startswith(b"-----")]
            found["first line of %s" % path] = body[0]
    return found


def scan(data, needles_by_name):
    """Names of the secrets in data (bytes): each needle, and any PEM private key block."""
    hits = [name for name, needle in needles_by_name.items() if needle in data]
    if PRIVATE_KEY_BLOCK.search(data):
        hits.append("PEM private key block")
    return hits


def unpacked(path):
    """[(what, bytes)]: the file, and each member of a zip archive."""
    data = path.read_bytes()
    found = [(str(path), data)]
    if zipfile.is_zipfile(io.BytesIO(data)):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                found.append(("%s!%s" % (path, member), archive.read(member)))
    return found


def walk(base):
    """[(relative path, os.lstat result)] of everything under base (base itself as '')."""
    found = [("", os.lstat(str(base)))]
    for dirpath, dirnames, filenames in os.walk(str(base)):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            found.append((os.path.relpath(path, str(base)).replace(os.sep, "/"), os.lstat(path)))
    return found


def expected_mode(path, table):
    modes = [mode for pattern, mode in table if re.fullmatch(pattern, path)]
    return modes[0] if modes else None


# --- the runs ran ------------------------------------------------------------------------------


STAGE_TASKS = (
    "eeszt.connect.certificate : Validate the WAF-SSL certificate and install it on the site",
    "eeszt.connect.tls_client : Install the CA bundle and write the client settings files",
    "eeszt.connect.connection_check : Check the connection to EESZT",
    "eeszt.connect.proofs : Archive and check the proofs of this site",
)


def test_each_run_ran_the_whole_flow_with_every_secret(lab, runs):
    done, passwords = runs
    for run in done.values():
        for host in HOSTS:
            counts = run.result.recap[host]
            assert counts["failed"] == counts["unreachable"] == 0, run.result.output
        for task in STAGE_TASKS:  # every stage ran (the recap's ok count shrinks as tasks are folded)
            assert "TASK [%s]" % task in run.result.stdout, (run.name, task)
        assert "sites: 3  passed: 3" in run.result.stdout, run.result.output
        assert json.loads(run.summary_path.read_text())["totals"]["sites"] == 3
        assert run.log_path.stat().st_size > 0
    # Fresh sites: the first run created everything and showed the diffs of the public files.
    assert all(done["diff"].result.recap[h]["changed"] >= 2 for h in HOSTS)
    assert "+++ after: %s" % (lab.site("site001") / "etc" / "eeszt" / "openssl.cnf") in done["diff"].result.stdout
    # -vvv shows module arguments and results in full.
    assert "<127.0.0.1> EXEC" in done["vvv"].result.stdout or "ESTABLISH LOCAL CONNECTION" in done["vvv"].result.stdout
    assert '"proof_sha256"' in done["vvv"].result.stdout
    # The check-mode run predicted the new PKCS#12 exports and the new proxy credentials.
    assert all(done["check"].result.recap[h]["changed"] >= 2 for h in HOSTS), done["check"].result.output
    # The secrets reached the sites (the runs wrote them where they belong).
    for host in HOSTS:
        tls = lab.site(host) / "etc" / "eeszt"
        for path in tls.glob("tls/sets/*/client.p12"):
            pkcs12.load_key_and_certificates(path.read_bytes(), passwords["export"].encode())
        assert passwords["proxy"] in (tls / "curlrc").read_text()
        assert passwords["truststore"] in (tls / "java.properties").read_text()


# --- promise 1: secrets stay secret --------------------------------------------------------------


def test_the_scanner_finds_the_secrets_where_they_must_be(lab, runs):
    done, passwords = runs
    wanted = needles(lab, passwords)
    for host in HOSTS:
        site = lab.site(host)
        assert "PEM private key block" in scan(
            next(site.glob("etc/eeszt/tls/sets/*/key.pem")).read_bytes(), wanted)
        assert "password: proxy" in scan((site / "etc" / "eeszt" / "eeszt.env").read_bytes(), wanted)
        assert "password: proxy" in scan((site / "etc" / "eeszt" / "curlrc").read_bytes(), wanted)
        java = scan((site / "etc" / "eeszt" / "java.properties").read_bytes(), wanted)
        assert "password: export" in java and "password: truststore" in java
        for name in ("client.p12", "keystore.p12"):
            path = next(site.glob("etc/eeszt/tls/sets/*/" + name))
            assert "base64 of %s" % path in scan(base64.b64encode(path.read_bytes()), wanted)
        assert "PFX password of %s" % host in " ".join(
            scan(lab.pfx(host).with_suffix(".password").read_bytes(), wanted))
        assert "base64 of the PFX of %s" % host in scan(base64.b64encode(lab.pfx(host).read_bytes()), wanted)


@pytest.mark.parametrize("name", ["diff", "vvv", "check"])
def test_no_secret_in_the_output_logs_or_summary_of_a_run(lab, runs, name):
    done, passwords = runs
    wanted = needles(lab, passwords)
    for what, data in done[name].outputs():
        assert data or what.endswith("stderr"), what
        assert scan(data, wanted) == [], what


def test_no_secret_in_proofs_reports_and_bundles(lab, runs):
    done, passwords = runs
    wanted = needles(lab, passwords)
    scanned = []
    for host in HOSTS:
        for path in lab.site(host).glob("var/lib/eeszt/proofs/*"):
            scanned += unpacked(path)
    for path in lab.archive.rglob("*"):
        if path.is_file():
            scanned += unpacked(path)
    kinds = set(os.path.basename(what.split("!", 1)[0]) for what, dummy in scanned)
    assert {"index.json", "report.csv", "report.html", "junit.xml", "metrics.prom", "100001_evidence.zip"} <= kinds, \
        kinds
    # Two real runs: two proofs per site, on the site and sealed in the archive (check mode writes none).
    assert len([what for what in kinds if re.match(r"\d{8}T\d{6}Z_100001_\d{9}\.json$", what)]) == 6, kinds
    assert len(list(lab.archive.glob("*/*/*.json.p7s"))) == 6
    assert any(what.endswith(".p7s") and "!" in what for what, dummy in scanned), "the evidence bundle was not unpacked"
    for what, data in scanned:
        assert scan(data, wanted) == [], what


def test_no_secret_in_metrics_files(lab, runs):
    done, passwords = runs
    wanted = needles(lab, passwords)
    for host in HOSTS:
        files = list(lab.site(host).glob(METRICS_DIR + "/*"))
        assert [path.name for path in files] == ["eeszt_check_100001_%s_test.prom" % SITE_IDS[host]], files
        data = files[0].read_bytes()
        assert b"eeszt_check_up{" in data and b"eeszt_check_client_certificate_info{" in data
        assert scan(data, wanted) == [], files[0]
        # Neither the proxy (its user name) nor any endpoint URL is in it.
        assert PROXY_USER.encode() not in data and b"https://" not in data
        prom.check_metrics(files[0])


# --- promise 8: least privilege ------------------------------------------------------------------


def test_site_files_and_directories_have_the_narrowest_modes(lab, runs):
    done, passwords = runs
    wanted = needles(lab, passwords)
    for host in HOSTS:
        site = lab.site(host)
        entries = walk(site)
        assert len(entries) > 20
        for path, info in entries:
            mode = stat.S_IMODE(info.st_mode)
            if stat.S_ISLNK(info.st_mode):  # cert.pem -> current/..., current -> sets/<id>
                target = os.path.realpath(str(site / path))
                assert target.startswith(str(site) + os.sep), (host, path, target)
                continue
            assert info.st_uid == os.getuid(), (host, path)
            assert not mode & 0o002, "world-writable: %s %s %o" % (host, path, mode)
            if stat.S_ISDIR(info.st_mode):
                assert expected_mode(path, SITE_DIR_MODES) == mode, (host, path, oct(mode))
                continue
            assert expected_mode(path, SITE_FILE_MODES) == mode, (host, path, oct(mode))
            if re.fullmatch(SITE_SECRET_FILES, path):
                assert not mode & 0o007, (host, path, oct(mode))
            else:
                assert scan((site / path).read_bytes(), wanted) == [], (host, path)


def test_archive_files_and_directories_have_the_narrowest_modes(lab, runs):
    entries = walk(lab.archive)
    assert len(entries) > 10
    for path, info in entries:
        mode = stat.S_IMODE(info.st_mode)
        assert not stat.S_ISLNK(info.st_mode), path
        if stat.S_ISDIR(info.st_mode):
            # Institution folders too, although they are made on the way to their sites' folders.
            assert mode == ARCHIVE_DIR_MODE, (path, oct(mode))
        elif path == ".lock":
            # The archive lock (who holds it: pid, host, time) is the controller's own business.
            assert mode == ARCHIVE_LOCK_MODE, (path, oct(mode))
        else:
            assert mode == ARCHIVE_FILE_MODE, (path, oct(mode))


def test_controller_lab_pki_keeps_its_secrets_private(lab, runs):
    pki = lab.dir / "pki"
    for path, info in walk(pki):
        mode = stat.S_IMODE(info.st_mode)
        assert not mode & 0o022, (path, oct(mode))
        if stat.S_ISDIR(info.st_mode):
            assert mode == 0o700, (path, oct(mode))
        elif path.endswith((".password", ".key", ".p12")):
            assert mode == 0o600, (path, oct(mode))
        else:
            assert path.endswith((".pem", ".json")) and mode == 0o644, (path, oct(mode))
            assert not PRIVATE_KEY_BLOCK.search((pki / path).read_bytes()), path
    assert len(list(pki.glob("sites/*.password"))) == 3


# --- short passwords and no_log masking ------------------------------------------------------------

MASKING_TASK = """
    - name: Check with a %(what)s proxy password
      eeszt.connect.connection_check:
        endpoints: [{name: health, url: "https://127.0.0.1:%(port)d/health", expect_status: 200}]
        client_cert: %(tls)s/cert.pem
        client_key: %(tls)s/key.pem
        ca_bundle: %(tls)s/eeszt-ca.pem
        proxy: http://127.0.0.1:%(proxy_port)d
        proxy_username: %(user)s
        proxy_password: "%(password)s"
        no_proxy: [127.0.0.1]
        institution_id: "100001"
        site_id: "100001001"
        proof_dir: %(root)s/proofs-%(what)s
      register: check_%(what)s
      ignore_errors: true

    - name: Keep what Ansible handed back for the %(what)s password
      ansible.builtin.copy:
        content: "{{ check_%(what)s | to_json }}"
        dest: %(root)s/%(what)s.json
        mode: "0600"
"""


def run_module_on_this_machine(capsys, args):
    """The module eeszt.connect.connection_check itself, as it runs on a site (no action plugin before it)."""
    from ansible.module_utils.testing import patch_module_args
    from ansible_collections.eeszt.connect.plugins.modules import connection_check

    capsys.readouterr()
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            connection_check.main()
    return json.loads(capsys.readouterr().out)


def test_ansible_masks_every_occurrence_of_a_short_no_log_value(lab, runs, run_playbook, pick_port, tmp_path, capsys):
    # Ansible (module_utils.common.parameters.remove_values) replaces each occurrence of a
    # no_log value in a module's result with ********, and a number that contains it with
    # VALUE_SPECIFIED_IN_NO_LOG_PARAMETER. A 6-digit proxy password that happens to be the
    # institution ID garbles the proof path the module returns, so the proof could not be
    # fetched; an 8+ character password leaves the result intact.
    tls = lab.site("site001") / "etc" / "eeszt" / "tls"
    short = run_module_on_this_machine(capsys, {
        "endpoints": [{"name": "health", "url": "https://127.0.0.1:%d/health" % lab.port}],
        "client_cert": str(tls / "cert.pem"), "client_key": str(tls / "key.pem"),
        "ca_bundle": str(tls / "eeszt-ca.pem"), "proxy": "http://127.0.0.1:%d" % pick_port(),
        "proxy_username": PROXY_USER, "proxy_password": "100001", "no_proxy": ["127.0.0.1"],
        "institution_id": "100001", "site_id": "100001001", "proof_dir": str(tmp_path / "proofs-module")})
    assert short["passed"], short
    written = [str(p) for p in (tmp_path / "proofs-module").glob("*.json")]
    assert len(written) == 1
    assert short["proof_path"] != written[0]
    assert short["proof_path"] == written[0].replace("100001", "********")
    # Through a task, the action plugin refuses the short one on the controller, before the module runs.
    long_password = password("proxy")
    playbook = "- name: The connection check with a short and with a long proxy password\n" \
        "  hosts: localhost\n  gather_facts: false\n  tasks:\n"
    for what, value in (("short", "100001"), ("long", long_password)):
        playbook += MASKING_TASK % dict(
            what=what, password=value, port=lab.port, proxy_port=pick_port(), user=PROXY_USER, root=tmp_path,
            tls=tls)
    (tmp_path / "masking.yml").write_text(playbook)
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n"
                                        % sys.executable)
    result = run_playbook(str(tmp_path / "masking.yml"), inventory=tmp_path / "hosts.ini", args=["-v"],
                          env={"EESZT_FLEET_SUMMARY_JSON": str(tmp_path / "summary.json")}, timeout=120)
    assert result.ok, result.output
    refused, long = (json.loads((tmp_path / (what + ".json")).read_text()) for what in ("short", "long"))
    assert (refused["failed"], refused["error"]) == (True, "proxy_password_too_short"), refused
    assert refused["msg"].startswith("eeszt_check_proxy_password (default eeszt_tls_proxy_password) must have "
                                     "at least 8 characters: ")
    assert not (tmp_path / "proofs-short").exists()
    assert long["passed"], long
    assert long["proof_path"] == str(next((tmp_path / "proofs-long").glob("*.json")))
    assert "********" not in json.dumps(long)
    assert long_password not in result.stdout + result.stderr


SHORT_PASSWORD_PLAYBOOK = """
- name: Each role with a short password, one role per site
  hosts: site001,site002,site003
  gather_facts: false
  tasks:
    - name: Run the role under test
      ansible.builtin.include_role:
        name: "{{ role_under_test }}"
"""

# Host variables (an inventory beside the demo's), so that each site runs one role.
SHORT_PASSWORD_INVENTORY = """
eeszt_sites:
  hosts:
    site001:
      role_under_test: eeszt.connect.certificate
      eeszt_certificate_formats: [pem, pkcs12]
      eeszt_certificate_export_password: word
    site002:
      role_under_test: eeszt.connect.tls_client
      eeszt_tls_proxy: http://127.0.0.1:3128
      eeszt_tls_proxy_username: %(user)s
      eeszt_tls_proxy_password: word
    site003:
      role_under_test: eeszt.connect.connection_check
      eeszt_check_proxy: http://127.0.0.1:3128
      eeszt_check_proxy_username: %(user)s
      eeszt_check_proxy_password: word
"""


def test_short_passwords_are_refused_before_the_site_is_touched(lab, runs, tmp_path):
    # "word" occurs in each message: were the message masked, it would read "pass********".
    (tmp_path / "short.yml").write_text(SHORT_PASSWORD_PLAYBOOK)
    (tmp_path / "short-hosts.yml").write_text(SHORT_PASSWORD_INVENTORY % dict(user=PROXY_USER))
    fresh = tmp_path / "sites"
    result = lab.play(str(tmp_path / "short.yml"), "-i", str(tmp_path / "short-hosts.yml"),
                      env={"EESZT_FLEET_SUMMARY_JSON": str(tmp_path / "s.json")},
                      eeszt_demo_root="%s/{{ inventory_hostname }}" % fresh)
    assert result.returncode == 2, result.output
    for host in HOSTS:
        assert result.recap[host]["failed"] == 1, result.output
    output = result.stdout + result.stderr
    assert "export_password (eeszt_certificate_export_password) must have at least 8 characters" in output
    assert "eeszt_tls_proxy_password must have at least 8 characters" in output
    assert "eeszt_check_proxy_password (default eeszt_tls_proxy_password) must have at least 8 characters" in output
    assert "pass********" not in output
    assert not fresh.exists(), sorted(str(p) for p in fresh.rglob("*"))
