# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The whole flow on the demo sites, then the central proofs.

Lab up (one site's certificate on the WAF's deny list, so that it fails),
deploy_certificate.yml, configure_tls.yml, check_connection.yml, then collect_proofs.yml on two
disjoint halves of the sites plus one unreachable site, with operator files on
one site (a copy of the operator program's output, collected; a symbolic link
to the site's private key, out of the operator folder, a copy of that key and
an oversized file, all refused); every seal checked with the OpenSSL command line; the
deprecated eeszt_proofs_bundles; verify_proofs.yml on the intact archive and
after each kind of tampering (a byte of a proof, of a seal or of an operator
file altered, a proof moved to another site's folder, a proof, a seal or an
operator file's seal removed); the HTML report in headless Chromium.
"""

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import pkcs12

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
SITES = 4  # institution 100001 with three sites, 100002 with one
HOSTS = ["site%03d" % n for n in range(1, SITES + 1)]
DENIED = "site002"
SCREENSHOT_DIR = os.path.join(ROOT, "tests", "output", "proofs")
OPERATOR_HOST = "site001"
OPERATOR_LIMIT = 65536
OPERATOR_PDF = b"%PDF-1.7 copy of the certificate that eesztConnect.exe issued at this site\n"
CHROMIUM_TIMEOUT = 90

pytestmark = pytest.mark.slow


class Flow:
    """The demo inventory against a private lab, archive and WAF port."""

    def __init__(self, root, run_playbook, port):
        self.root = root
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.port = port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(SITES)}
        self.variables = {"eeszt_proofs_archive_dir": str(self.archive),
                          "eeszt_proofs_ca_file": str(self.lab_dir / "pki" / "client-ca-bundle.pem"),
                          # Resolved per site: every demo site has its own root.
                          "eeszt_proofs_operator_files": ["{{ eeszt_demo_root }}/var/lib/eeszt/operator/*"],
                          "eeszt_proofs_operator_files_max_bytes": OPERATOR_LIMIT}
        # A site that cannot be reached: ssh to a loopback port nothing listens on.
        self.extra_inventory = root / "unreachable.ini"

    def play(self, playbook, *args, inventory=None, **extra):
        variables = dict(self.variables)
        variables.update(extra)
        argv = ["-i", DEMO]
        if inventory:
            argv += ["-i", str(inventory)]
        return self.run_playbook(playbook, extra_vars=variables, env=self.env, args=argv + list(args))

    def host_vars(self, host):
        number = int(host[4:])
        institution = 100001 + (number - 1) // 3
        return "%d" % institution, "%d%03d" % (institution, (number - 1) % 3 + 1)

    def proofs(self):
        return sorted(p for p in self.archive.glob("*/*/*.json"))

    def operator_dir(self, host):
        return self.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "operator"

    def operator_files(self):
        return sorted(self.archive.glob("*/*/operator/files/*"))


@pytest.fixture(scope="module")
def flow(tmp_path_factory, run_playbook, pick_port, stop_lab):
    flow = Flow(tmp_path_factory.mktemp("proofs-flow"), run_playbook, pick_port())
    dead_port = pick_port()
    result = flow.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=flow.port)
    assert result.ok, result.output
    # site900 is unreachable; its PFX (a lab PFX, so that the preflight, which opens every PFX, passes it)
    # is never sent anywhere.
    stem = flow.lab_dir / "pki" / "sites" / "100001-100001001"
    flow.extra_inventory.write_text(
        "[eeszt_sites]\nsite900 ansible_connection=ssh ansible_host=127.0.0.1 ansible_port=%d "
        "ansible_ssh_common_args='-o ConnectTimeout=5 -o BatchMode=yes' "
        "eeszt_institution_id=100009 eeszt_site_id=100009001 eeszt_certificate_pfx_src=%s.p12 "
        "eeszt_certificate_pfx_password=%s\n"
        % (dead_port, stem, (stem.parent / (stem.name + ".password")).read_text().strip()))
    institution, site = flow.host_vars(DENIED)
    base = flow.lab_dir / "pki" / "sites" / ("%s-%s" % (institution, site))
    bundle = pkcs12.load_pkcs12((base.parent / (base.name + ".p12")).read_bytes(),
                                (base.parent / (base.name + ".password")).read_text().strip().encode())
    denied = bundle.cert.certificate.fingerprint(hashes.SHA256()).hex()
    result = flow.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=flow.port,
                       eeszt_lab_waf_denied=[denied])
    assert result.ok, result.output
    yield flow
    result = stop_lab(flow.lab_dir, flow.port, env=flow.env, args=["-i", DEMO])
    assert result.ok, result.output


def openssl_verify(flow, proof, seal=None):
    return subprocess.run(
        ["openssl", "cms", "-verify", "-binary", "-purpose", "any", "-inform", "DER",
         "-CAfile", str(flow.lab_dir / "pki" / "client-ca-bundle.pem"), "-content", str(proof),
         "-in", str(seal or str(proof) + ".p7s"), "-out", os.devnull],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, timeout=30, check=False)


def test_certificates_tls_and_checks_on_the_demo_sites(flow):
    for stage in ("deploy_certificate.yml", "configure_tls.yml"):
        result = flow.play(stage)
        assert result.ok, result.output
    result = flow.play("check_connection.yml", eeszt_check_fail_on_error=False)
    assert result.ok, result.output
    for host in HOSTS:
        proofs = list((flow.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json"))
        assert len(proofs) == 1, (host, proofs)


def one_line(text):
    return re.sub(r"\s+", " ", text)


def test_two_halves_and_an_unreachable_site_make_one_report(flow):
    operator = flow.operator_dir(OPERATOR_HOST)
    operator.mkdir(parents=True)
    (operator / "igazolas.pdf").write_bytes(OPERATOR_PDF)
    key = flow.lab_dir / "sites" / OPERATOR_HOST / "etc" / "eeszt" / "tls" / "key.pem"
    assert key.is_file()
    os.symlink(str(key), str(operator / "key-link.pem"))  # out of the operator folder: never followed
    (operator / "big.bin").write_bytes(b"x" * (OPERATOR_LIMIT + 1))
    (operator / "key-copy.pem").write_bytes(key.read_bytes())  # a private key is never archived
    first = flow.play("collect_proofs.yml", "--limit", ",".join(HOSTS[:2]))
    assert first.ok, first.output
    assert first.recap[OPERATOR_HOST]["failed"] == 0
    output = one_line(first.stdout + first.stderr)
    assert ("operator file %s of site 100001/100001001 was not collected: it is a symbolic link to %s, outside %s: "
            "not followed (copy the file into that directory)" % (operator / "key-link.pem", key.resolve(),
                                                                  operator.resolve())) in output, first.output
    assert ("operator file %s of site 100001/100001001 was not collected: it is %d bytes, over the limit of %d "
            "bytes; copy a smaller file or raise eeszt_proofs_operator_files_max_bytes"
            % (operator / "big.bin", OPERATOR_LIMIT + 1, OPERATOR_LIMIT)) in output, first.output
    assert ("operator file %s of site 100001/100001001 was not collected: it holds a PEM private key block; a "
            "private key is never archived" % (operator / "key-copy.pem")) in output, first.output
    assert [p.name for p in flow.operator_files()] == ["igazolas.pdf"]
    assert (flow.archive / "100001" / "100001001" / "operator" / "files" / "igazolas.pdf").read_bytes() == OPERATOR_PDF
    assert sorted(p.name for p in flow.archive.glob("*/*/operator/seals/*")) == ["igazolas.pdf.p7s"]
    key_text = key.read_text().strip().splitlines()[1]
    assert not any(key_text in p.read_text(errors="replace") for p in flow.archive.rglob("*") if p.is_file())
    index = json.loads((flow.archive / "index.json").read_text())
    assert index["summary"]["sites"] == 2
    second = flow.play("collect_proofs.yml", "--limit", ",".join(HOSTS[2:] + ["site900"]),
                       inventory=flow.extra_inventory)
    assert second.ok, second.output
    assert second.recap["site900"]["failed"] == 0
    assert "was unreachable; it is listed in the report" in second.stdout

    index = json.loads((flow.archive / "index.json").read_text())
    summary = index["summary"]
    assert (summary["sites"], summary["passed"], summary["failed"], summary["no_proof"], summary["unreachable"]) \
        == (SITES + 1, SITES - 1, 1, 1, 1), summary
    assert len(flow.proofs()) == SITES
    sites = dict((s["host"], s) for s in index["sites"])
    assert sites[DENIED]["status"] == "failed"
    assert sites[DENIED]["failure"]["category"] == "tls_client_cert_rejected"
    assert sites[DENIED]["failure"]["hint"]
    assert sites["site900"]["collection"]["status"] == "unreachable"
    assert all(sites[h]["certificate_days_left"] > 0 for h in HOSTS)
    with open(str(flow.archive / "report.csv"), newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == SITES + 1 and rows[0]["host"] == DENIED
    suite = ET.parse(str(flow.archive / "junit.xml")).getroot().find("testsuite")
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == (str(SITES + 1), "1", "1")
    bundles = sorted(p.name for p in (flow.archive / "evidence").iterdir())
    assert bundles == ["100001_evidence.zip", "100002_evidence.zip"]
    assert not (flow.archive / "upload").exists()
    assert [(r["path"], r["size"], r["sha256"], r["status"]) for r in index["operator_files"]] == [
        ("100001/100001001/operator/files/igazolas.pdf", len(OPERATOR_PDF), hashlib.sha256(OPERATOR_PDF).hexdigest(),
         "present")]
    assert index["operator_files"][0]["collected_at"].startswith("20")
    assert index["operator_files"][0]["source"] == str(operator / "igazolas.pdf")
    assert sorted(os.path.basename(r["path"]) for r in index["operator_refused"]) == [
        "big.bin", "key-copy.pem", "key-link.pem"]
    html = (flow.archive / "report.html").read_text()
    assert '<h2 id="operator-files">Operator files</h2>' in html and ">igazolas.pdf</td>" in html
    assert "They are <strong>not</strong> the proof for eKapu" in html
    with zipfile.ZipFile(str(flow.archive / "evidence" / "100001_evidence.zip")) as bundle:
        names = bundle.namelist()
        assert "100001001/operator/files/igazolas.pdf" in names
        assert "100001001/operator/seals/igazolas.pdf.p7s" in names
        assert bundle.read("100001001/operator/files/igazolas.pdf") == OPERATOR_PDF
        assert "NOT the proof that the institution uploads to eKapu" in bundle.read("README.txt").decode()
        assert not any("key" in name for name in names)


def test_every_seal_verifies_with_openssl(flow):
    proofs = flow.proofs()
    assert len(proofs) == SITES
    for path in flow.operator_files():
        result = openssl_verify(flow, path, path.parent.parent / "seals" / (path.name + ".p7s"))
        assert result.returncode == 0, (path, result.stderr)
        assert "Verification successful" in result.stderr
    for proof in proofs:
        result = openssl_verify(flow, proof)
        assert result.returncode == 0, (proof, result.stderr)
        assert "Verification successful" in result.stderr
        institution, site = proof.parent.parent.name, proof.parent.name
        assert json.loads(proof.read_text())["site_id"] == site
        assert proof.name.endswith("_%s_%s.json" % (institution, site))


def test_collecting_again_changes_nothing(flow):
    before = dict((p, p.read_bytes()) for p in flow.archive.rglob("*") if p.is_file())
    result = flow.play("collect_proofs.yml")
    assert result.ok, result.output
    assert all(counts["changed"] == 0 for counts in result.recap.values()), result.output
    assert dict((p, p.read_bytes()) for p in flow.archive.rglob("*") if p.is_file()) == before


def test_the_deprecated_bundles_variable_still_works_with_a_warning(flow):
    evidence = flow.archive / "evidence"
    saved = dict((p, p.read_bytes()) for p in evidence.iterdir())
    shutil.rmtree(str(evidence))
    try:
        result = flow.play("collect_proofs.yml", eeszt_proofs_bundles=False)
        assert result.ok, result.output
        assert ("The option bundles of eeszt.connect.proofs_report (role variable eeszt_proofs_bundles) is "
                "deprecated: use evidence_bundles (eeszt_proofs_evidence_bundles)") in one_line(result.output), \
            result.output
        assert not evidence.exists()  # the old variable still switches the bundles off
        result = flow.play("collect_proofs.yml")
        assert result.ok, result.output
        assert "eeszt_proofs_bundles" not in result.output
        assert dict((p, p.read_bytes()) for p in evidence.iterdir()) == saved
    finally:
        evidence.mkdir(exist_ok=True)
        for path, data in saved.items():
            path.write_bytes(data)


def named_problems(result):
    """{(archive-relative path, kind)} that verify_proofs.yml named in its failure."""
    return set(re.findall(r"(\d{6}/\w{9}/(?:operator/(?:files|seals)/)?[\w.-]+) \[(\w+)\]", result.stdout))


def flip_last_byte(path):
    data = bytearray(path.read_bytes())
    data[-1] ^= 0x01
    path.write_bytes(bytes(data))


def tamper_proof(flow, target, other):
    flip_last_byte(target)
    return {(relative(target), "altered")}


def tamper_seal(flow, target, other):
    seal = target.parent / (target.name + ".p7s")
    flip_last_byte(seal)
    return {(relative(target), "seal_invalid")}


def tamper_move(flow, target, other):
    # The proof and its seal, moved into another site's folder of the same institution.
    for suffix in ("", ".p7s"):
        os.rename(str(target) + suffix, str(other / target.name) + suffix)
    return {(relative(other / target.name), "misplaced"), (relative(target), "missing")}


def tamper_remove(flow, target, other):
    for suffix in ("", ".p7s"):
        os.unlink(str(target) + suffix)
    return {(relative(target), "missing")}


def tamper_unseal(flow, target, other):
    os.unlink(str(target) + ".p7s")
    return {(relative(target), "unsigned")}


def operator_target(flow):
    return flow.operator_files()[0]


def tamper_operator_file(flow, target, other):
    path = operator_target(flow)
    flip_last_byte(path)
    return {("/".join(path.parts[-5:]), "altered")}


def tamper_operator_unseal(flow, target, other):
    path = operator_target(flow)
    os.unlink(str(path.parent.parent / "seals" / (path.name + ".p7s")))
    return {("/".join(path.parts[-5:]), "unsigned")}


def relative(path):
    return "/".join(path.parts[-3:])


TAMPERING = {"altered byte in the proof": tamper_proof, "altered byte in the seal": tamper_seal,
             "proof moved to another site": tamper_move, "proof removed": tamper_remove,
             "seal removed": tamper_unseal, "altered byte in an operator file": tamper_operator_file,
             "operator file's seal removed": tamper_operator_unseal}


def test_verify_proofs_passes_on_the_intact_archive(flow):
    result = flow.play("verify_proofs.yml")
    assert result.ok, result.output
    assert "%d of %d proof(s)" % (SITES, SITES) in result.stdout
    assert "1 of 1 operator file(s) verified" in one_line(result.stdout)


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_verify_proofs_names_exactly_the_tampered_proof(flow, how):
    institution, site = flow.host_vars("site003")
    target = [p for p in flow.proofs() if p.parent.name == site][0]
    other = flow.archive / institution / flow.host_vars("site001")[1]
    snapshot = dict((p, p.read_bytes()) for p in flow.archive.rglob("*") if p.is_file())
    try:
        expected = TAMPERING[how](flow, target, other)
        if how == "altered byte in the proof":
            assert openssl_verify(flow, target).returncode != 0
        result = flow.play("verify_proofs.yml")
        assert not result.ok, result.output
        assert named_problems(result) == expected, result.output
    finally:
        for path in [p for p in flow.archive.rglob("*") if p.is_file() and p not in snapshot]:
            path.unlink()
        for path, data in snapshot.items():
            path.write_bytes(data)
    assert flow.play("verify_proofs.yml").ok


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is needed for the report test: apt-get install chromium")


def run_chromium(profile, *args):
    argv = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run", "--user-data-dir=%s" % profile]
    return subprocess.run(argv + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=CHROMIUM_TIMEOUT, check=False)


def test_report_renders_in_headless_chromium(flow, tmp_path):
    url = "file://" + str(flow.archive / "report.html")
    dom = run_chromium(tmp_path / "profile-dom", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr
    html = dom.stdout
    rows = re.findall(r'<tr class="(passed|failed|no_proof)"', html)
    assert sorted(rows) == sorted(["failed"] + ["passed"] * (SITES - 1) + ["no_proof"])
    assert rows[0] == "failed"  # failed sites first
    assert re.search(r'<svg id="chart-status"[^>]*>.*<rect', html, re.S)
    assert re.search(r'<svg id="chart-days"[^>]*>.*<rect', html, re.S)
    assert "tls_client_cert_rejected" in html

    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    png = os.path.join(SCREENSHOT_DIR, "report.png")
    if os.path.exists(png):
        os.unlink(png)
    shot = run_chromium(tmp_path / "profile-shot", "--screenshot=%s" % png, "--window-size=1280,900",
                        "--hide-scrollbars", url)
    assert shot.returncode == 0, shot.stderr
    with open(png, "rb") as handle:
        header = handle.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(header[16:20], "big"), int.from_bytes(header[20:24], "big")) == (1280, 900)
    assert os.path.getsize(png) > 20000  # a rendered page, not a blank one


# --- issue 11 §4-5: the latest run at every stage, with its reason; issue 12 §4: Hungarian ----------------

BROKEN_TLS, BROKEN_CERT, REFUSED = "site003", "site004", "site901"


def test_sites_that_passed_and_then_fail_a_stage_are_failed_everywhere_with_the_reason(flow):
    """site003 (tls stage) and site004 (certificate stage) passed before; site901 is refused by the preflight.

    Both stage failures are ones that only the site can show (the preflight checks every variable and file on
    the controller first): a regular file where the site's TLS client settings directory, or its certificate
    directory, should be.
    """
    before = dict((s["host"], s["status"]) for s in json.loads((flow.archive / "index.json").read_text())["sites"])
    assert (before[BROKEN_TLS], before[BROKEN_CERT]) == ("passed", "passed"), before
    broken = flow.root / "broken.ini"
    broken.write_text(
        "[eeszt_sites]\n"
        "%s eeszt_tls_config_dir=%s\n"
        "%s eeszt_certificate_dir=%s\n"
        "%s ansible_connection=local eeszt_institution_id=100009 eeszt_site_id=65432l\n"
        % (BROKEN_TLS, flow.root / "tls-not-a-dir", BROKEN_CERT, flow.root / "cert-not-a-dir", REFUSED))
    for name in ("tls-not-a-dir", "cert-not-a-dir"):
        (flow.root / name).write_text("a file where the site has a directory\n")
    result = flow.play("site.yml", "--limit", ",".join(["site001", BROKEN_TLS, BROKEN_CERT, REFUSED]),
                       inventory=broken)
    assert not result.ok, result.output
    assert result.recap["site001"]["failed"] == 0, result.output

    index = json.loads((flow.archive / "index.json").read_text())
    sites = dict((s["host"], s) for s in index["sites"])
    tls, cert = sites[BROKEN_TLS], sites[BROKEN_CERT]
    assert (tls["status"], tls["latest_proof_status"], tls["failure"]["stage"], tls["failure"]["category"]) == (
        "failed", "passed", "tls", "write_failed"), tls
    assert "tls-not-a-dir" in tls["failure"]["message"], tls
    assert (cert["status"], cert["failure"]["stage"], cert["failure"]["category"]) == (
        "failed", "certificate", "write_failed"), cert
    assert "cert-not-a-dir" in cert["failure"]["message"], cert
    for site in (tls, cert):
        assert site["latest_passing"] and site["bundle_outdated"] is True and site["latest_passing_age_days"] == 0
    assert sites["site001"]["status"] == "passed"
    # The refused host: no row, no institution under its bad identifiers; a problem under its name.
    assert REFUSED not in sites and "65432l" not in json.dumps(index["sites"])
    assert [(r["host"], r["stage"], r["error"]) for r in index["refused"]] == [(REFUSED, "preflight", "bad_variables")]
    assert "eeszt_site_id" in index["refused"][0]["message"] and "65432l" in index["refused"][0]["message"]
    summary = index["summary"]
    assert (summary["passed"], summary["failed"], summary["refused"], summary["institutions"]) == (
        SITES - 3, 3, 1, 3), summary  # 100001, 100002 and site900's 100009

    with open(str(flow.archive / "report.csv"), newline="") as handle:
        rows = dict((r["host"], r) for r in csv.DictReader(handle))
    assert (rows[BROKEN_TLS]["status"], rows[BROKEN_TLS]["failure_stage"], rows[BROKEN_TLS]["failure_category"]) == (
        "failed", "tls", "write_failed")
    assert (rows[BROKEN_CERT]["failure_category"], rows[BROKEN_CERT]["bundle_outdated"]) == ("write_failed", "yes")
    assert rows[BROKEN_CERT]["environment"] == "test" and REFUSED not in rows
    suite = ET.parse(str(flow.archive / "junit.xml")).getroot().find("testsuite")
    cases = dict((c.get("name").split()[0], c) for c in suite.findall("testcase"))
    assert cases[flow.host_vars(BROKEN_CERT)[1]].find("failure").get("type") == "write_failed"
    assert cases[flow.host_vars(BROKEN_TLS)[1]].find("failure").get("type") == "write_failed"
    assert cases[REFUSED].find("error").get("type") == "bad_variables"
    html = (flow.archive / "report.html").read_text()
    assert '<div class="card ok"><b>%d</b>Passed</div>' % (SITES - 3) in html
    assert "write_<wbr>failed</span><div class=\"hint\">certificate stage</div>" in html
    assert '<section id="refused"><h2>Refused by the preflight</h2>' in html
    # The run's own lines: the fleet report's problem sites, with the code and the message.
    institution, site = flow.host_vars(BROKEN_CERT)
    assert "%s/%s (%s)" % (institution, site, BROKEN_CERT) in result.stdout  # named on the Problem sites line
    # The reason, once, in the fleet summary.
    assert re.search(r"^  .*\b%s\b.*write_failed: " % re.escape(BROKEN_CERT), result.stdout, re.M), result.stdout
    assert "%s: refused by the preflight: bad_variables: Preflight: " % REFUSED in result.stdout


def overflow_probe(html):
    """The report with a script that records whether the page is wider than the window."""
    probe = ("<script>window.addEventListener('load',function(){var d=document.documentElement;"
             "d.setAttribute('data-overflow',String(d.scrollWidth>window.innerWidth));});</script></body>")
    return html.replace("</body>", probe)


@pytest.mark.parametrize("language", ["hu", "en"])
def test_report_in_each_language_renders_without_overflow(flow, tmp_path, language):
    result = flow.play("collect_proofs.yml", eeszt_proofs_report_language=language)
    assert result.ok, result.output
    html = (flow.archive / "report.html").read_text()
    assert ('<html lang="%s">' % language) in html
    if language == "hu":
        for words in ("Sikeres", "Sikertelen", "Nem elérhető", "Telephely", "Intézmény", "Környezet", "Lejár",
                      "Az előellenőrzés elutasította", "<td>teszt</td>", "tanúsítvány-telepítés"):
            assert words in html, words
    page = tmp_path / "report.html"
    page.write_text(overflow_probe(html))
    url = "file://" + str(page)
    dom = run_chromium(tmp_path / "profile-dom", "--window-size=1400,1000", "--dump-dom", url)
    assert dom.returncode == 0, dom.stderr
    assert 'data-overflow="false"' in dom.stdout, "the report is wider than a 1400 px window"
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    png = os.path.join(SCREENSHOT_DIR, "report-%s.png" % language)
    if os.path.exists(png):
        os.unlink(png)
    shot = run_chromium(tmp_path / "profile-shot", "--screenshot=%s" % png, "--window-size=1400,1000",
                        "--hide-scrollbars", "file://" + str(flow.archive / "report.html"))
    assert shot.returncode == 0, shot.stderr
    assert os.path.getsize(png) > 20000


# Issue 27 §7: the tiles at a laptop's and a phone's width, the trend marks' size. The report is framed at each width
# (headless Chromium's own window is at least 500 px wide); a script in it reports to the frame's page.
LAYOUT_PROBE = """<script>window.addEventListener('load',function(){var d=document.documentElement,tops={};
Array.prototype.forEach.call(document.querySelectorAll('.cards > .card'),function(c){
var t=Math.round(c.getBoundingClientRect().top);tops[t]=(tops[t]||0)+1;});
var rows=Object.keys(tops).map(Number).sort(function(a,b){return a-b;}).map(function(t){return tops[t];});
function size(r){var b=r.getBoundingClientRect();return Math.round(b.width)+'x'+Math.round(b.height);}
parent.postMessage(JSON.stringify({width:window.innerWidth,rows:rows,overflow:d.scrollWidth>window.innerWidth,
passed:Array.prototype.map.call(document.querySelectorAll('.trend g.passed rect'),size),
failed:Array.prototype.map.call(document.querySelectorAll('.trend g.failed rect'),size)}),'*');});</script></body>"""
LAYOUT_FRAME = """<!DOCTYPE html><html><body style="margin:0"><iframe src="probe.html" width="%d" height="1600"
style="border:0"></iframe><script>window.addEventListener('message',function(e){
document.body.setAttribute('data-probe',e.data);});</script></body></html>"""
LAYOUT_WIDTHS = (1280, 390)


def layout_at(tmp_path, html, width):
    """What the report's layout probe measured with the report framed ``width`` px wide."""
    folder = tmp_path / ("layout-%d" % width)
    folder.mkdir()
    (folder / "probe.html").write_text(html.replace("</body>", LAYOUT_PROBE))
    (folder / "frame.html").write_text(LAYOUT_FRAME % width)
    dom = run_chromium(tmp_path / ("profile-layout-%d" % width), "--window-size=1400,1700", "--dump-dom",
                       "file://" + str(folder / "frame.html"))
    assert dom.returncode == 0, dom.stderr
    found = re.search(r'data-probe="([^"]*)"', dom.stdout)
    assert found, dom.stdout[-2000:]
    return json.loads(found.group(1).replace("&quot;", '"'))


@pytest.mark.parametrize("language", ["en", "hu"])
def test_report_tiles_and_trend_marks_fit_at_1280_and_390_px(flow, tmp_path, language):
    result = flow.play("collect_proofs.yml", eeszt_proofs_report_language=language)
    assert result.ok, result.output
    html = (flow.archive / "report.html").read_text()
    tiles = html.count('<div class="card')
    for width in LAYOUT_WIDTHS:
        layout = layout_at(tmp_path, html, width)
        assert layout["width"] == width, layout
        # Every tile on one row, or rows of two tiles or more, all full but the last: no tile alone (at 1280 px,
        # two rows of five; at 390 px, five rows of two).
        rows = layout["rows"]
        assert sum(rows) == tiles, layout
        assert len(rows) == 1 or (min(rows) >= 2 and len(set(rows[1:-1])) <= 1), layout
        if tiles == 10:
            assert rows == ([5, 5] if width == 1280 else [2] * 5), layout
        assert not layout["overflow"], "the report is wider than %d px: %s" % (width, layout)
        # The trend marks: one visible size for a pass and a failure, whatever the check's duration.
        assert layout["failed"] and layout["passed"], layout
        assert set(layout["passed"]) | set(layout["failed"]) == {"8x14"}, layout
    os.makedirs(SCREENSHOT_DIR, exist_ok=True)
    for width, height in ((1280, 1300), (390, 2600)):
        png = os.path.join(SCREENSHOT_DIR, "report-%s-%d.png" % (language, width))
        if os.path.exists(png):
            os.unlink(png)
        shot = run_chromium(tmp_path / ("profile-shot-%d" % width), "--screenshot=%s" % png,
                            "--window-size=%d,%d" % (width, height), "--hide-scrollbars",
                            "file://" + str(flow.archive / "report.html"))
        assert shot.returncode == 0, shot.stderr
        assert os.path.getsize(png) > 20000


@pytest.mark.parametrize("fail_on_error", [True, False])
def test_a_site_whose_proofs_cannot_be_archived_fails_after_the_report_with_the_archive_s_message(flow, fail_on_error):
    """Issue 14: the archive task's failure is ignored and recorded; one per-site task after the report fails the
    site with the archive's message (eeszt_proofs_fail_on_error), as the former rescue and fail tasks did."""
    host = HOSTS[1]
    path = "/var/lib/eeszt/proofs/broken.json"
    broken = {"proof_path": path, "proof_sha256": "0" * 64, "proof_content": "not base64!"}
    result = flow.play("collect_proofs.yml", "--limit", host, eeszt_check_result=broken,
                       eeszt_proofs_fail_on_error=fail_on_error)
    institution, site = flow.host_vars(host)
    message = ("1 proof file(s) of site %s/%s could not be archived: %s: reported_content "
               "(eeszt_check_result.proof_content) is not base64; run the check again" % (institution, site, path))
    counts = result.recap[host]
    assert (counts["failed"], counts["ignored"], counts["rescued"]) == ((1 if fail_on_error else 0), 1, 0), \
        result.output
    assert result.ok is not fail_on_error, result.output
    output = one_line(result.stdout)
    failing = "TASK [eeszt.connect.proofs : Fail this site when its proofs could not be archived or sealed, or warn " \
              "that it was unreachable]"
    assert failing in output
    after = output.split(failing)[1].split("PLAY RECAP")[0].lstrip(" *")
    if fail_on_error:
        assert after.endswith('fatal: [%s]: FAILED! => { "msg": "%s" } ' % (host, message)), result.output
    else:
        assert after == "skipping: [%s] " % host, result.output
    # Recorded as before (the second run's outcome is unchanged, so it writes no new record).
    runs = sorted((flow.archive / "runs").glob("*.json"))
    outcome = [o for o in json.loads(runs[-1].read_text())["outcomes"] if o["host"] == host]
    assert [(o["status"], o["stage"], o["error"], o["message"]) for o in outcome] == [
        ("error", "proofs", "archive_failed", message)], outcome


# --- issue 27 §8: one language variable, eeszt_language; the specific ones override it ------------------------

HU_MESSAGE, HU_HINT = "A szerver elutasította a kliens tanúsítványt", "A WAF nem fogadja el ezt a WAF-SSL tanúsítványt"
EN_MESSAGE, EN_HINT = "The server rejected the client certificate", "The WAF does not accept this WAF-SSL certificate"


def test_eeszt_language_sets_the_hints_the_report_and_the_summary_and_the_specific_variables_override_it(flow):
    """Last in this module: it adds a proof of the failing site (a new check)."""
    check = flow.play("check_connection.yml", "--limit", DENIED, eeszt_language="hu", eeszt_check_fail_on_error=False)
    assert check.ok, check.output
    # The check's warning (with the hint) is on stderr, the fleet summary on stdout.
    output = one_line(check.stdout + check.stderr)
    assert HU_MESSAGE in output and HU_HINT in output and EN_MESSAGE not in output, check.output
    # The fleet summary's problem line carries the check's message: Hungarian too.
    summary = one_line(check.stdout).split("EESZT FLEET SUMMARY")[1]
    assert "%s: connection check failed: tls_client_cert_rejected: %s" % (DENIED, HU_MESSAGE) in summary, check.output
    report = flow.play("collect_proofs.yml", eeszt_language="hu")
    assert report.ok, report.output
    html = (flow.archive / "report.html").read_text()
    failed = re.search(r'<tr class="failed">.*?</tr>', html, re.S).group(0)
    assert '<html lang="hu">' in html and "Sikertelen" in html
    assert HU_MESSAGE in failed and HU_HINT in failed and "végpont: health" in failed, failed
    # The report's own variable overrides the one language.
    report = flow.play("collect_proofs.yml", eeszt_language="hu", eeszt_proofs_report_language="en")
    assert report.ok, report.output
    html = (flow.archive / "report.html").read_text()
    assert '<html lang="en">' in html and "endpoint health" in html
    # And the check's own variable overrides it for the hints.
    check = flow.play("check_connection.yml", "--limit", DENIED, eeszt_language="hu", eeszt_check_language="en",
                      eeszt_check_fail_on_error=False)
    assert check.ok, check.output
    output = one_line(check.stdout + check.stderr)
    assert EN_MESSAGE in output and EN_HINT in output and HU_MESSAGE not in output, check.output
    # A wrong language is refused by the preflight, before the site is touched.
    wrong = flow.play("check_connection.yml", "--limit", DENIED, eeszt_language="de")
    assert not wrong.ok
    assert "eeszt_language" in one_line(wrong.output) and "en, hu" in one_line(wrong.output), wrong.output
