# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fuzz the proof verifier (verify_proofs.yml's eeszt.connect.proofs_verify) with damaged archives.

Starting from an intact sealed archive, each example damages proofs, seals,
index.json and run records (random bytes, truncation, bit flips, JSON of the
wrong shape, paths with ``..``, symbolic links out of the archive, removed
and huge files). ``verify_archive`` must return a clean list of findings or
raise ``ProofsError``; never another exception, never a hang, and it must
never open a file outside the archive. Settings: ``conftest.py`` next to this file.
"""

import datetime
import json
import os
import shutil
import sys
import tempfile

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.archive import store_operator_file, store_proof
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import RUN_SCHEMA
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.verify import KIND_ORDER, verify_archive
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.report import build_report
from ansible_collections.eeszt.connect.plugins.plugin_utils.report.runs import record_run
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.seal import Signer

LONG = int(os.environ.get("EESZT_FUZZ_EXAMPLES") or 0)
SITES = [("100001", "100001001"), ("100002", "100002001")]


def examples(default):
    return LONG or default


class OpenWatch:
    """Records every file opened (audit hook) while armed; an audit hook cannot be removed, so it idles."""

    def __init__(self):
        self.armed = False
        self.opened = []
        sys.addaudithook(self.hook)

    def hook(self, event, args):
        if self.armed and event == "open" and isinstance(args[0], (str, bytes)):
            self.opened.append(os.path.realpath(args[0]))


@pytest.fixture(scope="module")
def watch():
    return OpenWatch()


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    """An intact archive (two sites, two sealed proofs and a sealed operator file each, a run record, the
    report) and an outside secret."""
    root = tmp_path_factory.mktemp("fuzz-proofs")
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Vendor seal")])
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(1).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=2))
                   .sign(key, hashes.SHA256()))
    archive = str(root / "archive")
    outcomes = []
    for institution_id, site_id in SITES:
        archived = []
        for hour in (9, 10):
            stamp = "2026-11-25T%02d:00:00Z" % hour
            document = {
                "schema": "eeszt.connect/proof/v1", "institution_id": institution_id, "site_id": site_id,
                "host": "site-" + site_id, "environment": "test", "started_at": stamp, "finished_at": stamp,
                "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                                       "not_after": "2027-01-01T00:00:00Z"},
                "endpoints": [], "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "1"}}
            archived.append(store_proof(archive, institution_id, site_id,
                                        "20261125T%02d0000Z_%s_%s.json" % (hour, institution_id, site_id),
                                        serialize(document), Signer(key, certificate, vendor=True)))
        operator = [store_operator_file(archive, institution_id, site_id, "igazolas.pdf",
                                        b"%PDF-1.7 operator file of " + site_id.encode(), Signer(key, certificate, vendor=True),
                                        {"source": "/var/lib/eeszt/operator/igazolas.pdf"})]
        outcomes.append({"host": site_id, "institution_id": institution_id, "site_id": site_id,
                         "status": "collected", "archived": archived, "operator_files": operator})
    record_run(archive, outcomes, "controller-a")
    build_report(archive)
    secret = root / "outside"
    secret.mkdir()
    (secret / "secret.json").write_text(json.dumps({"schema": "eeszt.connect/proof/v1", "secret": "s3cr3t"}))
    files = sorted(os.path.relpath(os.path.join(d, f), archive) for d, dummy, fs in os.walk(archive) for f in fs)
    assert verify_archive(archive, [certificate])["problems"] == []
    return {"archive": archive, "secret": str(secret), "files": files, "anchors": [certificate],
            "scratch": str(root)}


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12),
              st.sampled_from(["../../outside/secret.json", "/etc/passwd", "100001/../../x.json",
                               "100001/100001001/../../../outside/secret.json", RUN_SCHEMA, "0" * 64])),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(
        st.sampled_from(["proofs", "path", "sha256", "schema", "outcomes", "archived", "finished_at", "sequence",
                         "institution_id", "site_id", "operator_files"]) | st.text(max_size=6), inner, max_size=5)),
    max_leaves=15)
ACTION = st.one_of(
    st.tuples(st.just("bytes"), st.integers(0), st.binary(max_size=300)),
    st.tuples(st.just("truncate"), st.integers(0), st.integers(0)),
    st.tuples(st.just("flip"), st.integers(0), st.lists(st.integers(0), min_size=1, max_size=4)),
    st.tuples(st.just("json"), st.integers(0), JSON),
    st.tuples(st.just("index"), st.just(0), st.lists(JSON, max_size=4)),
    st.tuples(st.just("run"), st.just(0), JSON),
    st.tuples(st.just("delete"), st.integers(0), st.none()),
    st.tuples(st.just("symlink"), st.integers(0), st.sampled_from(["file", "dir", "replace", "index", "run",
                                                                   "operator", "operator_dir"])),
    st.tuples(st.just("huge"), st.integers(0), st.none()),
)


def damage(archive, secret, files, action):
    kind, index, payload = action
    target = os.path.join(archive, files[index % len(files)])
    if kind in ("bytes", "truncate", "flip", "json", "delete", "huge") and not os.path.isfile(target):
        return
    if kind == "bytes":
        data = payload
    elif kind == "truncate":
        data = open(target, "rb").read()
        data = data[:payload % (len(data) + 1)]
    elif kind == "flip":
        data = bytearray(open(target, "rb").read())
        for position in payload:
            if data:
                data[position % len(data)] ^= 1 << (position % 8)
        data = bytes(data)
    elif kind == "json":
        data = json.dumps(payload).encode("utf-8")
    elif kind == "index":
        target = os.path.join(archive, "index.json")
        data = json.dumps({"schema": "eeszt.connect/proof-index/v1", "proofs": payload}).encode("utf-8")
    elif kind == "run":
        target = os.path.join(archive, "runs", "99999999T999999Z-fuzz.json")
        data = json.dumps({"schema": RUN_SCHEMA, "run_id": "fuzz", "outcomes": payload}).encode("utf-8")
    elif kind == "delete":
        os.unlink(target)
        return
    elif kind == "huge":
        data = b"{" + b" " * (4 * 1024 * 1024) + b"}"
    else:
        outside = os.path.join(secret, "secret.json")
        links = {
            "file": (os.path.join(archive, "100001", "100001001", "stolen.json"), outside),
            "dir": (os.path.join(archive, "100003"), secret),
            "replace": (target, outside),
            "index": (os.path.join(archive, "index.json"), outside),
            "run": (os.path.join(archive, "runs", "stolen.json"), outside),
            "operator": (os.path.join(archive, "100001", "100001001", "operator", "files", "stolen.pdf"), outside),
            "operator_dir": (os.path.join(archive, "100002", "100002001", "operator", "files"), secret),
        }
        link, pointee = links[payload]
        if os.path.lexists(link):
            os.unlink(link) if not os.path.isdir(link) or os.path.islink(link) else shutil.rmtree(link)
        os.symlink(pointee, link)
        return
    if os.path.islink(target):
        os.unlink(target)
    with open(target, "wb") as handle:
        handle.write(data)


def verify(base, watch, actions, fuzz):
    scratch = tempfile.mkdtemp(dir=base["scratch"])
    archive = os.path.join(scratch, "archive")
    try:
        shutil.copytree(base["archive"], archive, symlinks=True)
        for action in actions:
            damage(archive, base["secret"], base["files"], action)
        watch.opened = []
        watch.armed = True
        try:
            with fuzz.bounded():
                result = verify_archive(archive, base["anchors"])
        except EESZTConnectError as exc:
            assert isinstance(exc, ProofsError) and str(exc), exc
            result = None
        finally:
            watch.armed = False
        leaked = [path for path in watch.opened if path.startswith(base["secret"] + os.sep)]
        assert not leaked, "read outside the archive: %s" % leaked
        if result is not None:
            assert set(result) == {"checked", "verified", "problems", "signers", "records", "operator_checked", "quarantined",
                                   "operator_verified", "operator_records"}
            for problem in result["problems"]:
                assert set(problem) == {"path", "kind", "kinds", "message"}
                assert isinstance(problem["path"], str) and problem["kind"] in KIND_ORDER and problem["message"]
            if not actions:
                assert result["problems"] == []
        return result
    finally:
        shutil.rmtree(scratch)


def test_damaged_archives(base, watch, fuzz):
    @settings(max_examples=examples(120))
    @given(actions=st.lists(ACTION, min_size=1, max_size=4))
    @example(actions=[("index", 0, [{"path": ["a"], "sha256": "x"}])])
    @example(actions=[("index", 0, [{"path": 1, "sha256": "x"}, {"path": "a", "sha256": "y"}])])
    @example(actions=[("json", 0, [])])  # files[0] is index.json
    @example(actions=[("run", 0, [1])])
    @example(actions=[("run", 0, [{"archived": [{"path": 7, "sha256": "x"}]}])])
    @example(actions=[("symlink", 0, "file")])
    @example(actions=[("symlink", 0, "dir")])
    @example(actions=[("symlink", 1, "replace")])
    @example(actions=[("symlink", 0, "index")])
    @example(actions=[("symlink", 0, "operator")])
    @example(actions=[("symlink", 0, "operator_dir")])
    @example(actions=[("run", 0, [{"operator_files": [{"path": 7, "sha256": "x"}]}])])
    @example(actions=[("run", 0, [{"operator_files": "x"}])])
    @example(actions=[("index", 0, [])])
    def check(actions):
        verify(base, watch, actions, fuzz)

    with fuzz.timed(fuzz.budget(120, 1)):
        check()


def test_symlinks_out_of_the_archive_are_reported_not_followed(base, watch, fuzz):
    """Regression: a proof that is a symbolic link to a file outside the archive was read and checked."""
    for how in ("file", "dir", "replace", "operator", "operator_dir"):
        result = verify(base, watch, [("symlink", 1, how)], fuzz)
        assert any("symbolic link" in p["message"] for p in result["problems"]), (how, result["problems"])


def test_intact_archive_has_no_findings(base, watch, fuzz):
    result = verify(base, watch, [], fuzz)
    assert result["checked"] == result["verified"] == 4
    assert result["operator_checked"] == result["operator_verified"] == result["operator_records"] == 2
