# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One bad file never stops a rebuild (issue 21, point 2).

An archive with honest proofs of three sites (one passed, one failed, one passed then failed) gets
arbitrary invalid files in its site folders: random bytes, valid JSON of the wrong types, and honest
proofs with one field broken (a value of another type, out of range, too long, a category the site
never writes), some of them in an honest site's folder, some sealed-looking (a ``.p7s`` beside).
``build_report`` must complete, name every bad file (index.json ``invalid_files``, junit.xml, report.html)
and give the honest sites exactly their rows. ``verify_archive`` names each bad file too. Settings:
``conftest.py`` next to this file. (Schema-valid proofs are fuzzed elsewhere.)
"""

import copy
import csv
import datetime
import hashlib
import io
import json
import os
import shutil
import tempfile
import xml.etree.ElementTree as ET

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.schema import validate
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import verify_archive
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run

NOW = datetime.datetime(2026, 11, 26, 12, 0, 0, tzinfo=datetime.timezone.utc)
FOLDERS = [("100001", "100001001"), ("100001", "100001002"), ("100002", "100002001"), ("100003", "100003001")]
LONG = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)


def examples(default):
    return LONG or default


def honest(institution, site, hour, passed):
    stamp = "2026-11-25T%02d:00:00Z" % hour
    failure = None if passed else {
        "category": "tcp_refused", "endpoint": "health", "step": "tcp", "message": "refused", "hint": "check",
        "reason": "refused"}
    return {
        "schema": "eeszt.connect/proof/v1", "institution_id": institution, "site_id": site, "host": "h" + site,
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "0A", "sha256": "00" * 32,
                               "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-11-25T00:00:00Z"},
        "endpoints": [{"name": "health", "url": "https://waf/health", "method": "GET", "expect_status": 200,
                       "passed": passed, "ms": 5.0, "steps": [{"name": "dns", "ok": True, "ms": 1.0,
                                                               "details": {"addresses": ["127.0.0.1"]}}],
                       "failure": failure}],
        "passed": passed, "failure": failure, "tool": {"name": "eeszt.connect.connection_check", "version": "0.1.0"}}


# (institution, site, hour, passed) of the honest proofs; the expected row of each site.
HONEST = [("100001", "100001001", 9, True), ("100001", "100001002", 9, False), ("100002", "100002001", 8, True),
          ("100002", "100002001", 10, False)]
EXPECTED = {("100001", "100001001"): ("passed", "100001/100001001/p09.json"),
            ("100001", "100001002"): ("failed", "100001/100001002/p09.json"),
            ("100002", "100002001"): ("failed", "100002/100002001/p10.json")}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    root = tmp_path_factory.mktemp("fuzz-report")
    archive = str(root / "archive")
    outcomes = {}
    for institution, site, hour, passed in HONEST:
        relative = "%s/%s/p%02d.json" % (institution, site, hour)
        data = serialize(honest(institution, site, hour, passed))
        os.makedirs(os.path.join(archive, institution, site), exist_ok=True)
        with open(os.path.join(archive, *relative.split("/")), "wb") as handle:
            handle.write(data)
        outcome = outcomes.setdefault((institution, site), {
            "host": "h" + site, "institution_id": institution, "site_id": site, "status": "collected",
            "archived": []})
        outcome["archived"].append({"path": relative, "sha256": hashlib.sha256(data).hexdigest()})
    record_run(archive, list(outcomes.values()), "controller", now=NOW - datetime.timedelta(hours=1))
    return {"archive": archive, "scratch": str(root)}


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
FIELDS = [("failure",), ("host",), ("finished_at",), ("started_at",), ("passed",), ("environment",),
          ("client_certificate",), ("client_certificate", "not_after"), ("client_certificate", "serial"),
          ("endpoints",), ("endpoints", 0, "steps"), ("endpoints", 0, "ms"), ("endpoints", 0, "failure"),
          ("tool",), ("tool", "version"), ("institution_id",), ("schema",)]
BROKEN_VALUES = JSON_VALUES | st.sampled_from([
    "boom", ["a", "b"], 1764064801, -1, "x" * 3000, {"category": "boom", "message": "m"}, "2099-13-45T99:99:99Z",
    {"category": "dns"}, float("1e308"), "\x1b[31m", "=HYPERLINK(\"x\")"])


@st.composite
def broken_proof(draw):
    """An honest proof of a folder's site with one field given a value that breaks the schema."""
    institution, site = draw(st.sampled_from(FOLDERS))
    document = copy.deepcopy(honest(institution, site, 11, draw(st.booleans())))
    path = draw(st.sampled_from(FIELDS))
    target = document
    for part in path[:-1]:
        target = target[part]
    if draw(st.booleans()) or path[-1] == 0:
        target[path[-1]] = draw(BROKEN_VALUES)
    else:
        del target[path[-1]]
    assume(validate(document) is not None)
    return json.dumps(document).encode("utf-8")


CONTENT = st.one_of(
    st.binary(max_size=300),                                               # random bytes
    JSON_VALUES.map(lambda value: json.dumps(value).encode("utf-8")),      # valid JSON of the wrong types
    broken_proof(),                                                        # a proof with a field broken
    st.sampled_from([b"", b"\xff\xfe{", b"[" * 5000 + b"]" * 5000, b'{"schema": "eeszt.connect/proof/v1"}',
                     b'{"a": NaN}']),
)
BAD_FILE = st.tuples(st.sampled_from(FOLDERS), st.from_regex(r"[a-z][a-z0-9_]{0,10}\.json", fullmatch=True),
                     CONTENT, st.booleans())


def rebuild(base, bad_files, fuzz):
    scratch = tempfile.mkdtemp(dir=base["scratch"])
    archive = os.path.join(scratch, "archive")
    try:
        shutil.copytree(base["archive"], archive)
        planted = set()
        for (institution, site), name, data, sealed in bad_files:
            relative = "%s/%s/%s" % (institution, site, name)
            if relative in planted or relative in [e[1] for e in EXPECTED.values()]:
                continue
            folder = os.path.join(archive, institution, site)
            os.makedirs(folder, exist_ok=True)
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
            if sealed:  # as an older archive may hold it: sealed (the seal itself is not looked at here)
                with open(os.path.join(folder, name + ".p7s"), "wb") as handle:
                    handle.write(b"0\x80")
            planted.add(relative)
        with fuzz.bounded():
            dummy, index = build_report(archive, now=NOW)
        named = dict((entry["path"], entry["reason"]) for entry in index["invalid_files"])
        assert set(named) == planted, (named, planted)
        assert all(isinstance(reason, str) and reason for reason in named.values())
        rows = dict(((s["institution_id"], s["site_id"]), s) for s in index["sites"])
        for key, (status, latest) in EXPECTED.items():
            assert (rows[key]["status"], rows[key]["latest"]) == (status, latest), rows[key]
        # A folder that holds only bad files is a site without a proof, never more.
        for key in set(rows) - set(EXPECTED):
            assert rows[key]["status"] == "no_proof" and rows[key]["latest"] is None, rows[key]
            assert any(path.startswith("%s/%s/" % key) for path in planted)
        junit = ET.parse(os.path.join(archive, "junit.xml")).getroot()
        names = set(case.get("name") for case in junit.iter("testcase") if case.get("classname") == "eeszt.archive")
        assert names == planted
        with open(os.path.join(archive, "report.csv"), newline="", encoding="utf-8") as handle:
            table = dict(((r["institution_id"], r["site_id"]), r) for r in csv.DictReader(io.StringIO(handle.read())))
        assert set(table) == set(rows)
        assert all(table[key]["status"] == status for key, (status, dummy) in EXPECTED.items())
        with open(os.path.join(archive, "report.html"), encoding="utf-8") as handle:
            html = handle.read()
        assert all(path in html for path in planted)
        with open(os.path.join(archive, "index.json"), encoding="utf-8") as handle:
            assert json.load(handle)["invalid_files"] == index["invalid_files"]
        with fuzz.bounded():
            verified = verify_archive(archive)
        unreadable = set(p["path"] for p in verified["problems"] if "unreadable" in p["kinds"])
        assert unreadable == planted
    finally:
        shutil.rmtree(scratch)


def test_invalid_files_beside_honest_proofs_never_stop_the_rebuild(base, fuzz):
    @settings(max_examples=examples(60))
    @given(bad_files=st.lists(BAD_FILE, min_size=1, max_size=4))
    @example(bad_files=[(FOLDERS[0], "boom.json", b'{"failure": "boom"}', True)])
    @example(bad_files=[(FOLDERS[2], "late.json",
                         json.dumps(dict(honest("100002", "100002001", 23, True), failure="boom")).encode(), True)])
    @example(bad_files=[(FOLDERS[1], "host.json", json.dumps(dict(honest("100001", "100001002", 23, True),
                                                                  host=["a"])).encode(), False),
                        (FOLDERS[1], "time.json", json.dumps(dict(honest("100001", "100001002", 23, True),
                                                                  finished_at=1764064801)).encode(), False)])
    def check(bad_files):
        rebuild(base, bad_files, fuzz)

    with fuzz.timed(fuzz.budget(60, 2)):
        check()
