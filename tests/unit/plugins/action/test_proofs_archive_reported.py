# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_archive with reported_content (issue 14): the proof this run's check returned is
archived from the check's result, with no module run on the site, under the archive's rules (SHA-256 checked
on the controller, a proof of this site, create-only, staged until sealed)."""

import base64
import hashlib
import os
from unittest import mock

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import proofs_archive
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed

INST = "100001"
SITE = "100001001"
NAME = "20261125T100000Z_100001_100001001.json"
REPORTED = "/var/lib/eeszt/proofs/" + NAME


def proof_bytes(site_id=SITE):
    stamp = "2026-11-25T10:00:00Z"
    return serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": INST, "site_id": site_id, "host": "site01",
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_before": None, "not_after": "2027-06-01T00:00:00Z"},
        "endpoints": [], "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})


@pytest.fixture
def site_calls():
    """Every module the action would run on the site (none may run)."""
    with mock.patch.object(proofs_archive.ActionModule, "_execute_module") as execute:
        execute.side_effect = AssertionError("a module ran on the site")
        yield execute


def archive_args(archive, data, sha256=None, **extra):
    args = dict(archive_dir=str(archive), institution_id=INST, site_id=SITE, reported_path=REPORTED,
                reported_sha256=sha256 or hashlib.sha256(data).hexdigest(),
                reported_content=base64.b64encode(data).decode("ascii"))
    args.update(extra)
    return args


def test_the_returned_proof_is_archived_without_a_module_run(tmp_path, site_calls):
    data = proof_bytes()
    result = run_action("proofs_archive", archive_args(tmp_path / "archive", data))
    assert not result.get("failed"), result
    assert site_calls.call_count == 0
    assert result["source"] == "check_result" and result["listed"] == 0 and result["changed"] is True
    assert [item["name"] for item in result["archived"]] == [NAME]
    assert result["archived"][0]["sha256"] == hashlib.sha256(data).hexdigest()
    staged = list(iter_unsealed(os.path.abspath(str(tmp_path / "archive"))))
    assert len(staged) == 1
    # The second run with the same proof skips it (create-only), still without a module run.
    again = run_action("proofs_archive", archive_args(tmp_path / "archive", data))
    assert again["skipped"] == [NAME] and again["archived"] == [] and again["changed"] is False
    assert site_calls.call_count == 0


def test_a_content_that_does_not_match_the_reported_sha256_is_refused(tmp_path, site_calls):
    data = proof_bytes()
    result = run_action("proofs_archive", archive_args(tmp_path / "archive", data, sha256="ab" * 32))
    assert result["failed"] is True and result["archived"] == []
    assert result["errors"] == ["%s: SHA-256 of the fetched file is %s but the connection check reported %s; the "
                                "file changed on the site or in transit: run the check again"
                                % (NAME, hashlib.sha256(data).hexdigest(), "ab" * 32)]
    assert site_calls.call_count == 0


def test_a_proof_of_another_site_is_refused(tmp_path, site_calls):
    data = proof_bytes(site_id="100001002")
    result = run_action("proofs_archive", archive_args(tmp_path / "archive", data))
    assert result["failed"] is True and result["archived"] == []
    assert "the proof is for institution 100001 site 100001002, but this host is institution 100001 site " \
           "100001001" in result["errors"][0]


def test_a_content_that_is_not_base64_is_an_error_naming_the_fact(tmp_path, site_calls):
    args = archive_args(tmp_path / "archive", proof_bytes(), reported_content="not base64!")
    result = run_action("proofs_archive", args)
    assert result["failed"] is True
    assert result["errors"] == ["%s: reported_content (eeszt_check_result.proof_content) is not base64; run the "
                                "check again" % REPORTED]


def test_content_without_its_path_and_sha256_is_an_error(tmp_path, site_calls):
    args = archive_args(tmp_path / "archive", proof_bytes())
    del args["reported_sha256"]
    result = run_action("proofs_archive", args)
    assert result["errors"] == ["reported_content needs reported_path and reported_sha256 "
                                "(eeszt_check_result.proof_path and proof_sha256 of the same check)"]


def test_an_archived_proof_of_the_same_name_with_other_bytes_is_never_overwritten(tmp_path, site_calls):
    data = proof_bytes()
    first = run_action("proofs_archive", archive_args(tmp_path / "archive", data))
    assert first["archived"]
    other = data.replace(b'"passed": true', b'"passed": false')
    result = run_action("proofs_archive", archive_args(tmp_path / "archive", other))
    assert result["failed"] is True and result["archived"] == []
    assert "an archived proof is never overwritten" in result["errors"][0]


def test_without_content_the_site_is_listed_as_before(tmp_path, site_calls):
    site_calls.side_effect = None
    site_calls.return_value = {"files": [], "skipped_paths": {}}
    result = run_action("proofs_archive", dict(archive_dir=str(tmp_path / "archive"), institution_id=INST,
                                               site_id=SITE))
    assert result["source"] == "site" and result["listed"] == 0 and not result.get("failed")
    assert [call.kwargs["module_name"] for call in site_calls.call_args_list] == ["ansible.builtin.find"]
