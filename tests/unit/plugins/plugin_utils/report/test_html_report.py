# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 27 §7, the report's details: the failing endpoint named (report.html, report.csv, junit.xml), trend marks
of one size whatever the check's duration, one notation of time across the page in both languages, no footer
note on what the page does not hold, tile columns that leave no tile alone on a row.

Named after report/html_report.py, which it mostly tests; the endpoint check also reads report.csv and junit.xml
(report/tables.py) from the same archive (no clean cut)."""

import csv
import datetime
import html.parser
import io
import re
import xml.etree.ElementTree as ET

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_operator_file, store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.report import html_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run

NOW = datetime.datetime(2026, 12, 7, 14, 2, 0, tzinfo=datetime.timezone.utc)
INSTITUTION = "100001"
FAILURE = {"category": "tls_client_cert_rejected", "endpoint": "soap-ping", "step": "tls",
           "message": "The server rejected the client certificate.", "hint": "Ask the operator to enable it."}
# (site, day before NOW, passed, milliseconds): site 002 fails fast (12 ms) after slow passes (up to 9 s).
CHECKS = [("100001001", day, True, 300.0 + 100 * day) for day in range(1, 4)] + \
         [("100001002", 5, True, 9000.0), ("100001002", 4, True, 4000.0), ("100001002", 3, False, 12.0),
          ("100001002", 2, False, 12.5)]


@pytest.fixture(scope="module")
def signer():
    from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "seal")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(7).not_valid_before(NOW - datetime.timedelta(days=30))
            .not_valid_after(NOW + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    return Signer(key, cert, vendor=True)


def stamp(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (moment.microsecond // 1000)


def proof(site, finished, passed, ms):
    started = finished - datetime.timedelta(milliseconds=ms)
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": INSTITUTION, "site_id": site, "host": "site" + site[-3:],
        "environment": "test", "started_at": stamp(started), "finished_at": stamp(finished),
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                               "not_after": "2027-12-07T00:00:00Z"},
        "endpoints": [{"name": "health", "url": "https://waf.example/health", "passed": True, "ms": ms, "steps": []},
                      {"name": FAILURE["endpoint"], "url": "https://waf.example/soap", "passed": passed, "ms": 0.0,
                       "steps": []}],
        "passed": passed, "failure": None if passed else FAILURE, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


def archive_of(tmp_path, signer, operator_file=False):
    archive = str(tmp_path / "archive")
    outcomes = {}
    for site, days, passed, ms in CHECKS:
        finished = NOW - datetime.timedelta(days=days)
        name = "%s_%s_%s.json" % (finished.strftime("%Y%m%dT%H%M%SZ"), INSTITUTION, site)
        outcome = outcomes.setdefault(site, {"host": "site" + site[-3:], "institution_id": INSTITUTION,
                                             "site_id": site, "status": "collected", "archived": []})
        outcome["archived"].append(store_proof(archive, INSTITUTION, site, name, proof(site, finished, passed, ms),
                                               signer))
    if operator_file:
        outcomes["100001001"]["operator_files"] = [store_operator_file(
            archive, INSTITUTION, "100001001", "igazolas.pdf", b"%PDF-1.7 operator\n", signer,
            {"source": "/var/lib/eeszt/operator/igazolas.pdf", "source_name": "igazolas.pdf",
             "collected_at": "2026-12-07T13:55:00Z"})]
    record_run(archive, list(outcomes.values()), "controller", now=NOW)
    return archive


def page(archive, language="en", **options):
    build_report(archive, now=NOW, language=language, **options)
    with open(archive + "/report.html", encoding="utf-8") as handle:
        return handle.read()


class VisibleText(html.parser.HTMLParser):
    """The text a reader sees (and the tooltips: SVG titles), without scripts and styles."""

    def __init__(self):
        super().__init__()
        self.parts, self.skip = [], 0

    def handle_starttag(self, tag, attrs):
        self.skip += tag in ("script", "style")

    def handle_endtag(self, tag):
        self.skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def visible_text(text):
    parser = VisibleText()
    parser.feed(text)
    return "".join(parser.parts)


def test_the_failing_endpoint_is_named_in_the_report_the_csv_and_junit(tmp_path, signer):
    archive = archive_of(tmp_path, signer)
    for language, words in (("en", "endpoint soap-ping"), ("hu", "végpont: soap-ping")):
        text = page(archive, language)
        failing = re.search(r'<tr class="failed">.*?</tr>', text, re.S).group(0)
        assert '<div class="hint endpoint">%s</div>' % words in failing, failing
        assert text.count('class="hint endpoint"') == 1  # only the failed site's row
    with open(archive + "/report.csv", newline="", encoding="utf-8") as handle:
        rows = dict((row["site_id"], row) for row in csv.DictReader(handle))
    assert (rows["100001002"]["failure_endpoint"], rows["100001001"]["failure_endpoint"]) == ("soap-ping", "")
    with open(archive + "/junit.xml", "rb") as handle:
        suite = ET.parse(io.BytesIO(handle.read())).getroot().find("testsuite")
    failure = [case for case in suite.findall("testcase") if case.get("name").startswith("100001002")][0].find("failure")
    assert "endpoint: soap-ping" in failure.text.splitlines()


def test_trend_marks_have_one_visible_size_and_the_duration_in_their_title(tmp_path, signer):
    text = page(archive_of(tmp_path, signer))
    row = re.search(r'<tr class="failed">.*?</tr>', text, re.S).group(0)
    assert "<td>100001002</td>" in row
    svg = re.search(r'<div class="trend">(<svg .*?</svg>)</div>', row, re.S).group(1)
    marks = re.findall(r'<g class="(passed|failed)"><title>([^<]*)</title><rect x="\d+" y="0" width="(\d+)" '
                       r'height="(\d+)"', svg)
    assert [outcome for outcome, dummy, dummy2, dummy3 in marks] == ["passed", "passed", "failed", "failed"]
    # A 12 ms failure is as big as a 9 s pass, and big enough to see.
    assert {(width, height) for dummy, dummy2, width, height in marks} == {("8", "14")}
    titles = [title for dummy, title, dummy2, dummy3 in marks]
    assert titles == ["2026-12-02 14:02\u00a0UTC: passed, 9000 ms", "2026-12-03 14:02\u00a0UTC: passed, 4000 ms",
                      "2026-12-04 14:02\u00a0UTC: failed, 12 ms", "2026-12-05 14:02\u00a0UTC: failed, 12 ms"]
    assert re.search(r'<svg role="img" aria-label="[^"]*" width="41" height="14"', svg)


TIME = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z?(?:[\s\u00a0]*UTC)?")


@pytest.mark.parametrize("language", ["en", "hu"])
def test_every_time_on_the_page_has_one_notation(tmp_path, signer, language):
    text = page(archive_of(tmp_path, signer, operator_file=True), language)
    seen = TIME.findall(visible_text(text))
    assert len(seen) > 10
    assert set(seen) <= set(re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}\u00a0UTC", visible_text(text))), sorted(set(seen))
    # The header names the report's time once, in that notation (not "...Z UTC").
    header = re.search(r'<div class="meta">(.*?)</div>', text).group(1)
    assert "2026-12-07 14:02\u00a0UTC" in header and "Z UTC" not in text and "(UTC)" not in text


def test_the_note_on_operator_files_only_when_the_page_lists_some(tmp_path, signer):
    without = page(archive_of(tmp_path / "a", signer))
    assert "listed above" not in without and 'id="operator-files"' not in without
    assert "They are <strong>not</strong> the proof for eKapu" in without  # the rest of the note stays
    assert "A fent felsorolt" not in page(str(tmp_path / "a" / "archive"), "hu")
    with_files = page(archive_of(tmp_path / "b", signer, operator_file=True))
    assert 'id="operator-files"' in with_files
    assert "Operator files listed above are archived, sealed copies of files found on the sites." in with_files
    assert "A fent felsorolt üzemeltetői fájlok" in page(str(tmp_path / "b" / "archive"), "hu")


def test_the_footer_names_evidence_bundles_only_when_they_are_built(tmp_path, signer):
    archive = archive_of(tmp_path, signer)
    assert "institution evidence bundles are in <code>evidence/</code>" in page(archive)
    text = page(archive, bundles=False)
    assert "evidence/" not in text and "bundles" not in visible_text(text)


@pytest.mark.parametrize("count, layouts", [
    (1, [(1, 1)]), (2, [(2, 1)]), (3, [(3, 1)]), (4, [(2, 1), (4, 1)]), (5, [(3, 1), (5, 1)]),
    (7, [(3, 2), (4, 1), (7, 1)]), (10, [(2, 1), (3, 2), (4, 1), (5, 1), (10, 1)]),
    (11, [(3, 1), (4, 1), (6, 1), (11, 1)]), (13, [(3, 2), (4, 2), (5, 1), (7, 1), (13, 1)])])
def test_tile_layouts_never_leave_a_tile_alone_on_a_row(count, layouts):
    assert html_report.tile_columns(count) == layouts
    for columns, span in layouts:
        slots = count + span - 1  # the first tile takes ``span`` columns
        rows = [min(columns, slots - start) for start in range(0, slots, columns)]
        assert all(row == columns for row in rows[:-1]), (count, columns, rows)
        # Every row holds two tiles or more: a last row of one slot is never left, and the first row holds the
        # spanning tile and at least one more.
        assert rows[-1] >= 2 or len(rows) == 1, (count, columns, rows)
        assert span == 1 or columns - span >= 1


def test_tiles_css_gives_each_layout_its_width(tmp_path, signer):
    css = html_report.tiles_css(10)
    # 2 columns to start; then 3 (the first tile over two), 4, 5 and 10 from where that many tiles of 124 px fit
    # (gap 10 px, padding 2 x 28 px and a scroll bar of 20 px): two rows of five at 1280 px, all ten on one row from
    # 1406 px, two a row at 390 px.
    assert css.splitlines() == [
        ".cards{--tile-columns:2;--first-tile-span:1}",
        "@media (min-width:468px){.cards{--tile-columns:3;--first-tile-span:2}}",
        "@media (min-width:602px){.cards{--tile-columns:4;--first-tile-span:1}}",
        "@media (min-width:736px){.cards{--tile-columns:5;--first-tile-span:1}}",
        "@media (min-width:1406px){.cards{--tile-columns:10;--first-tile-span:1}}"]
    text = page(archive_of(tmp_path, signer))
    assert text.count('<div class="card') == 10 and css in text
