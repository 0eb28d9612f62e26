# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The proof document and its atomic, never-overwriting write."""

import errno
import hashlib
import json
import os
import stat

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.check.errors import ProofError
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import (
    PROOF_SCHEMA,
    REQUIRED_FIELDS,
    build_proof,
    proof_filename,
    serialize,
    write_proof,
)

RESULT = {
    "passed": False,
    "started_at": "2026-11-25T22:14:59Z",
    "finished_at": "2026-11-25T22:15:00Z",
    "client_certificate": {"subject": "CN=123456", "issuer": "CN=CA", "serial": "1F", "sha256": "ab" * 32,
                           "not_before": "2026-01-01T00:00:00Z", "not_after": "2027-01-01T00:00:00Z",
                           "chain_length": 1},
    "endpoints": [{"name": "health", "url": "https://eeszt.test/health", "method": "GET", "expect_status": 200,
                   "passed": False, "ms": 3.2, "failure": {"category": "http_status"},
                   "steps": [{"name": "dns", "ok": True, "ms": 0.1, "details": {}}]}],
    "failure": {"category": "http_status", "endpoint": "health", "step": "http", "message": "m", "hint": "h",
                "reason": "HTTP 404"},
}


def proof():
    return build_proof(RESULT, "123456", "123456001", "site01", "test", "eeszt.connect.connection_check", "0.1.0")


def test_document_has_every_required_field():
    document = proof()
    assert set(REQUIRED_FIELDS) <= set(document)
    assert document["schema"] == PROOF_SCHEMA == "eeszt.connect/proof/v1"
    assert document["client_certificate"] == {key: RESULT["client_certificate"][key] for key in
                                              ("subject", "issuer", "serial", "sha256", "not_before", "not_after")}
    assert document["endpoints"][0]["steps"] == RESULT["endpoints"][0]["steps"]
    assert document["tool"] == {"name": "eeszt.connect.connection_check", "version": "0.1.0"}
    assert (document["passed"], document["failure"]["category"]) == (False, "http_status")


def test_unreadable_certificate_keeps_the_fields():
    document = build_proof(dict(RESULT, client_certificate=None), "1", "2", "h", "test", "t", "v")
    assert document["client_certificate"]["sha256"] is None
    assert set(document["client_certificate"]) >= {"subject", "issuer", "serial", "sha256", "not_after"}


def test_file_names_sort_by_time_and_name_the_site():
    assert proof_filename("2026-11-25T22:15:00Z", "123456", "123456001") == "20261125T221500Z_123456_123456001.json"
    assert proof_filename("2026-11-25T22:15:00Z", "12/34", "../x", 2) == "20261125T221500Z_12_34_.._x_2.json"
    stamps = ("2026-11-25T09:00:00Z", "2026-11-25T10:00:00Z", "2027-01-01T00:00:00Z")
    names = [proof_filename(stamp, "1", "2") for stamp in stamps]
    assert names == sorted(names)


def test_write_is_atomic_0640_and_never_overwrites(tmp_path):
    directory = tmp_path / "var" / "lib" / "eeszt" / "proofs"
    old_umask = os.umask(0o077)
    try:
        first, digest = write_proof(str(directory), proof())
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(directory.stat().st_mode) == 0o750
    assert os.path.basename(first) == "20261125T221500Z_123456_123456001.json"
    data = open(first, "rb").read()
    assert stat.S_IMODE(os.stat(first).st_mode) == 0o640
    assert hashlib.sha256(data).hexdigest() == digest
    assert data == serialize(proof()) and json.loads(data) == proof()
    second, _digest = write_proof(str(directory), proof())
    assert os.path.basename(second) == "20261125T221500Z_123456_123456001_1.json"
    assert open(first, "rb").read() == data
    assert sorted(os.listdir(str(directory))) == sorted(os.path.basename(p) for p in (first, second))


def test_unwritable_place_is_a_proof_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(ProofError, match="cannot create the proof directory"):
        write_proof(str(blocker / "proofs"), proof())


def test_a_name_taken_by_other_bytes_moves_on_and_keeps_the_other_file(tmp_path):
    taken = tmp_path / "20261125T221500Z_123456_123456001.json"
    taken.write_bytes(b"someone else's proof\n")
    path, digest = write_proof(str(tmp_path), proof())
    assert os.path.basename(path) == "20261125T221500Z_123456_123456001_1.json"
    assert taken.read_bytes() == b"someone else's proof\n"
    assert digest == hashlib.sha256(serialize(proof())).hexdigest()


@pytest.mark.parametrize("number, message", [
    (errno.EACCES, "cannot write in the proof directory %s: Permission denied"),
    (errno.EIO, "cannot write the proof in %s: Input/output error"),
])
def test_write_failures_name_the_directory_and_leave_no_temporary_file(tmp_path, monkeypatch, number, message):
    def refuse(*args, **kwargs):
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(os, "open", refuse)  # the complete temporary file cannot be made
    with pytest.raises(ProofError) as caught:
        write_proof(str(tmp_path), proof())
    assert str(caught.value) == message % tmp_path
    assert caught.value.code == "proof_write_failed"
    assert os.listdir(str(tmp_path)) == []


def test_a_failed_link_and_rename_leave_no_temporary_file(tmp_path, monkeypatch):
    def refuse(src, dst):
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, "link", refuse)
    monkeypatch.setattr(os, "rename", refuse)
    with pytest.raises(ProofError) as caught:
        write_proof(str(tmp_path), proof())
    assert str(caught.value) == "cannot write the proof in %s: Input/output error" % tmp_path
    assert os.listdir(str(tmp_path)) == []
