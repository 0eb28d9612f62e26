# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.proofs_archive's limits (issue 21, point 4): a proof over eeszt_proofs_max_proof_size is refused
by the size the site's listing gives, without being fetched; at most eeszt_proofs_max_new_per_site new proofs are
fetched per run, the oldest first; operator files over their limit are not fetched either.

The site is a folder of the test: ``find`` and ``slurp`` (and ``eeszt.connect.operator_files``) are answered from
it as the modules would, and every fetch is counted.
"""

import base64
import hashlib
import os
from unittest import mock

import pytest
from action_runner import run_action

from ansible_collections.eeszt.connect.plugins.action import proofs_archive
from ansible_collections.eeszt.connect.plugins.module_utils.check.proof import proof_filename, serialize
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.unsealed import iter_unsealed

INST = "100001"
SITE = "100001001"
LIMIT = 65536


def proof_bytes(hour, size=None):
    stamp = "2026-11-25T%02d:00:00Z" % hour
    data = serialize({
        "schema": "eeszt.connect/proof/v1", "institution_id": INST, "site_id": SITE, "host": "site01",
        "environment": "test", "started_at": stamp, "finished_at": stamp,
        "client_certificate": {"subject": "CN=x", "issuer": "CN=ca", "serial": "01", "sha256": "00" * 32,
                               "not_before": None, "not_after": "2027-06-01T00:00:00Z"},
        "endpoints": [], "passed": True, "failure": None, "tool": {"name": "eeszt.connect", "version": "0.1.0"}})
    if size is not None:
        assert size >= len(data)
        data = data[:-2] + b" " * (size - len(data)) + b"}\n"  # JSON whitespace: still a valid proof
        assert len(data) == size
    return data


def write_proof(folder, hour, size=None):
    name = proof_filename("2026-11-25T%02d:00:00Z" % hour, INST, SITE)
    (folder / name).write_bytes(proof_bytes(hour, size))
    return name


class Site:
    """The site's modules, answered from a folder; ``fetched`` lists every path read."""

    def __init__(self, proof_dir, operator_dir=None):
        self.proof_dir = proof_dir
        self.operator_dir = operator_dir
        self.fetched = []

    def __call__(self, module_name=None, module_args=None, task_vars=None):
        if module_name == "ansible.builtin.find":
            files = []
            for entry in sorted(os.listdir(str(self.proof_dir))):
                path = os.path.join(str(self.proof_dir), entry)
                with open(path, "rb") as handle:
                    digest = hashlib.sha256(handle.read()).hexdigest()
                files.append({"path": path, "size": os.path.getsize(path), "checksum": digest})
            return {"files": files, "skipped_paths": {}}
        if module_name == "ansible.builtin.slurp":
            self.fetched.append(module_args["src"])
            with open(module_args["src"], "rb") as handle:
                return {"content": base64.b64encode(handle.read()).decode("ascii")}
        if module_name == "eeszt.connect.operator_files":
            from ansible_collections.eeszt.connect.plugins.module_utils.proofs.operator_files import resolve
            if module_args.get("read"):
                self.fetched.append(module_args["read"])
                with open(module_args["read"], "rb") as handle:
                    return {"content": base64.b64encode(handle.read()).decode("ascii")}
            return resolve(module_args["patterns"], module_args["max_bytes"])
        raise AssertionError("unexpected module %s" % module_name)


@pytest.fixture
def site(tmp_path):
    folder = tmp_path / "site"
    folder.mkdir()
    answers = Site(folder)
    with mock.patch.object(proofs_archive.ActionModule, "_execute_module", side_effect=answers):
        yield answers


def collect(tmp_path, site, **extra):
    args = dict(archive_dir=str(tmp_path / "archive"), proof_dir=str(site.proof_dir), institution_id=INST,
                site_id=SITE)
    args.update(extra)
    return run_action("proofs_archive", args)


def staged(tmp_path):
    return sorted(os.path.basename(relative) for dummy, dummy, relative in
                  iter_unsealed(os.path.abspath(str(tmp_path / "archive"))))


def test_a_proof_exactly_at_the_size_limit_is_collected(tmp_path, site):
    name = write_proof(site.proof_dir, 10, size=LIMIT)
    result = collect(tmp_path, site)
    assert not result.get("failed"), result
    assert [item["name"] for item in result["archived"]] == [name]
    assert result["refused"] == [] and staged(tmp_path) == [name]


def test_a_proof_one_byte_over_the_limit_is_refused_without_being_fetched(tmp_path, site):
    ok = write_proof(site.proof_dir, 9)
    big = write_proof(site.proof_dir, 10, size=LIMIT + 1)
    result = collect(tmp_path, site)
    reason = ("it is %d bytes, over the limit of %d bytes (eeszt_proofs_max_proof_size), so it is not fetched; find "
              "out what wrote it, remove it from the site or raise eeszt_proofs_max_proof_size" % (LIMIT + 1, LIMIT))
    assert result["refused"] == [{"name": big, "path": str(site.proof_dir / big), "size": LIMIT + 1, "reason": reason}]
    assert site.fetched == [str(site.proof_dir / ok)]  # the big one was never read
    assert staged(tmp_path) == [ok]  # the others go on
    assert result["failed"] is True and result["errors"] == ["%s: %s" % (big, reason)]
    assert big in result["msg"] and "eeszt_proofs_max_proof_size" in result["msg"]
    assert "proof %s of site %s/%s was not collected: %s" % (site.proof_dir / big, INST, SITE, reason) \
        in result["warnings"]


def test_the_size_limit_is_a_setting(tmp_path, site):
    name = write_proof(site.proof_dir, 10)
    size = os.path.getsize(str(site.proof_dir / name))
    result = collect(tmp_path, site, max_proof_size=size - 1)
    assert result["refused"][0]["size"] == size and site.fetched == []
    result = collect(tmp_path, site, max_proof_size=size)
    assert [item["name"] for item in result["archived"]] == [name]
    result = collect(tmp_path, site, max_proof_size=0)
    assert result["failed"] is True
    assert result["errors"] == ["max_proof_size (eeszt_proofs_max_proof_size) must be at least 1, got 0"]


def test_a_proof_that_grew_after_the_listing_is_refused(tmp_path, site):
    name = write_proof(site.proof_dir, 10)
    real_find = site.__call__

    def grow(module_name=None, module_args=None, task_vars=None):
        answer = real_find(module_name, module_args, task_vars)
        if module_name == "ansible.builtin.find":
            (site.proof_dir / name).write_bytes(proof_bytes(10, size=LIMIT + 10))
        return answer

    with mock.patch.object(proofs_archive.ActionModule, "_execute_module", side_effect=grow):
        result = collect(tmp_path, site)
    assert result["failed"] is True and result["archived"] == [] and staged(tmp_path) == []
    assert "grew over the limit of 65536 bytes (eeszt_proofs_max_proof_size)" in result["msg"]


def test_a_listing_without_a_size_is_not_fetched(tmp_path, site):
    name = write_proof(site.proof_dir, 10)
    real = site.__call__

    def sizeless(module_name=None, module_args=None, task_vars=None):
        answer = real(module_name, module_args, task_vars)
        for item in answer.get("files", []) if module_name == "ansible.builtin.find" else []:
            item["size"] = "12"
        return answer

    with mock.patch.object(proofs_archive.ActionModule, "_execute_module", side_effect=sizeless):
        result = collect(tmp_path, site)
    assert site.fetched == [] and result["refused"][0]["name"] == name and result["refused"][0]["size"] is None


def test_a_returned_proof_over_the_limit_is_refused_before_it_is_decoded(tmp_path, site):
    data = proof_bytes(10, size=LIMIT + 1)
    name = proof_filename("2026-11-25T10:00:00Z", INST, SITE)
    result = collect(tmp_path, site, reported_path="/var/lib/eeszt/proofs/" + name,
                     reported_sha256=hashlib.sha256(data).hexdigest(),
                     reported_content=base64.b64encode(data).decode("ascii"))
    assert result["failed"] is True and result["archived"] == [] and staged(tmp_path) == []
    assert result["refused"][0]["name"] == name and "over the limit of 65536 bytes" in result["refused"][0]["reason"]
    at_limit = proof_bytes(10, size=LIMIT)
    result = collect(tmp_path, site, reported_path="/var/lib/eeszt/proofs/" + name,
                     reported_sha256=hashlib.sha256(at_limit).hexdigest(),
                     reported_content=base64.b64encode(at_limit).decode("ascii"))
    assert not result.get("failed"), result
    assert staged(tmp_path) == [name]


def test_at_most_the_limit_of_new_proofs_per_run_the_oldest_first(tmp_path, site):
    names = [write_proof(site.proof_dir, hour) for hour in range(5)]
    first = collect(tmp_path, site, max_new_per_site=4)
    assert [item["name"] for item in first["archived"]] == names[:4]
    assert first["left_on_site"] == names[4:]
    assert not first.get("failed"), first
    assert ("1 new proof(s) of site 100001/100001001 were left on the site: at most 4 are collected per run "
            "(eeszt_proofs_max_new_per_site), the oldest first (by name); the next run collects the next ones: %s"
            % names[4]) in first["warnings"]
    # The next run collects the next one.
    second = collect(tmp_path, site, max_new_per_site=4)
    assert [item["name"] for item in second["archived"]] == names[4:]
    assert second["left_on_site"] == [] and not second.get("warnings")
    assert sorted(second["skipped"]) == names[:4]


def test_exactly_the_limit_of_new_proofs_is_collected_with_no_warning(tmp_path, site):
    names = [write_proof(site.proof_dir, hour) for hour in range(4)]
    result = collect(tmp_path, site, max_new_per_site=4)
    assert [item["name"] for item in result["archived"]] == names
    assert result["left_on_site"] == [] and not result.get("warnings")


def test_the_default_limit_of_new_proofs_is_twenty(tmp_path, site):
    names = [write_proof(site.proof_dir, hour) for hour in range(21)]
    result = collect(tmp_path, site)
    assert [item["name"] for item in result["archived"]] == names[:20] and result["left_on_site"] == names[20:]
    assert len(site.fetched) == 20


def test_an_operator_file_over_its_limit_in_the_site_s_listing_is_not_fetched(tmp_path, site):
    operator = tmp_path / "operator"
    operator.mkdir()
    (operator / "big.pdf").write_bytes(b"%PDF" + b"x" * 96)
    (operator / "ok.pdf").write_bytes(b"%PDF" + b"x" * 95)
    real = site.__call__

    def lying(module_name=None, module_args=None, task_vars=None):
        # A site whose module does not refuse: the controller checks the sizes the listing gives.
        if module_name == "eeszt.connect.operator_files" and not module_args.get("read"):
            module_args = dict(module_args, max_bytes=10 ** 9)
        return real(module_name, module_args, task_vars)

    with mock.patch.object(proofs_archive.ActionModule, "_execute_module", side_effect=lying):
        result = collect(tmp_path, site, operator_files=[str(operator / "*")], operator_files_max_bytes=99)
    assert site.fetched == [str(operator / "ok.pdf")]
    assert result["operator_refused"] == [{"path": str(operator / "big.pdf"), "reason": (
        "is 100 bytes, over the limit of 99 bytes; copy a smaller file or raise eeszt_proofs_operator_files_max_bytes")}]
    assert [item["name"] for item in result["operator_archived"]] == ["ok.pdf"]
