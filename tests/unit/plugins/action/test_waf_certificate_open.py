# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.waf_certificate_open: each distinct PFX (file, password) opened once per run of the stage,
and each host's validation of the opened contents the same as of a PFX it opened itself."""

from unittest import mock

import pytest

from ansible_collections.eeszt.connect.plugins.action import waf_certificate_open
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import pfx_once
from action_runner import run_action
from pfx_factory import PASSWORD, make_pfx


def hostvars(entries):
    return dict((host, {"eeszt_certificate_pfx_src": src, "eeszt_certificate_pfx_password": password,
                        "inventory_dir": "/nonexistent"}) for host, src, password in entries)


def run_open(entries):
    """The action's result for hosts (host, pfx, password), and how many times a PFX was opened."""
    with mock.patch.object(waf_certificate_open, "load_pfx", wraps=cert.load_pfx) as opened:
        result = run_action("waf_certificate_open", {}, task_vars={
            "ansible_play_hosts": [entry[0] for entry in entries], "hostvars": hostvars(entries)})
    assert not result.get("failed"), result
    return result, opened.call_count


def test_three_sites_of_one_institution_open_its_pfx_once(tmp_path):
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    result, openings = run_open([("site001", pfx, PASSWORD), ("site002", pfx, PASSWORD), ("site003", pfx, PASSWORD)])
    assert (openings, result["opened"]) == (1, 1)
    assert result["hosts"] == {"site001": "pfx0", "site002": "pfx0", "site003": "pfx0"}
    assert result["msg"] == "3 host(s): 1 distinct PFX file(s) opened"


def test_each_distinct_file_and_password_is_opened_once(tmp_path):
    one = make_pfx(tmp_path / "100001.pfx", "100001")
    two = make_pfx(tmp_path / "100002.pfx", "100002")
    result, openings = run_open([("a1", one, PASSWORD), ("b1", two, PASSWORD), ("a2", one, PASSWORD),
                                 ("a3", one, "wrong-password"), ("b2", two, PASSWORD)])
    assert (openings, result["opened"]) == (3, 3)
    hosts = result["hosts"]
    assert hosts["a1"] == hosts["a2"] != hosts["a3"] and hosts["b1"] == hosts["b2"] != hosts["a1"]


def test_a_refused_pfx_gives_each_of_its_hosts_the_code_and_message_of_opening_it_directly(tmp_path):
    pfx = make_pfx(tmp_path / "100001.pfx", "100001")
    with pytest.raises(cert.PfxError) as direct:
        cert.load_pfx(pfx, "wrong-password", display_path=pfx)
    result, openings = run_open([("site001", pfx, "wrong-password"), ("site002", pfx, "wrong-password")])
    assert openings == 1
    for host in ("site001", "site002"):
        entry = result["sources"][result["hosts"][host]]
        assert {k: entry[k] for k in ("error", "msg")} == {"error": direct.value.code, "msg": str(direct.value)}
        assert entry["found"] == pfx and "wrong-password" not in repr(entry)
        with pytest.raises(pfx_once.OpenedPfxError) as refused:
            pfx_once.from_material(entry)
        assert (refused.value.code, str(refused.value)) == (direct.value.code, str(direct.value))
    assert direct.value.code == "pfx_wrong_password"


def test_a_missing_pfx_is_named_per_host(tmp_path):
    missing = str(tmp_path / "none.pfx")
    result, openings = run_open([("site001", missing, PASSWORD)])
    assert openings == 0
    entry = result["sources"][result["hosts"]["site001"]]
    assert entry["error"] == "pfx_not_found"
    assert entry["msg"].startswith("the PFX file %s (pfx_src, eeszt_certificate_pfx_src in the role) was not found "
                                   "on the controller; looked in: %s" % (missing, missing))


def test_hosts_without_a_pfx_are_left_to_their_own_task(tmp_path):
    result, openings = run_open([("site001", None, None)])
    assert (openings, result["hosts"], result["sources"]) == (0, {}, {})


def test_validation_of_the_opened_contents_is_per_host_and_the_same_as_of_the_file(tmp_path):
    pfx = make_pfx(tmp_path / "100001.pfx", "100001", days=20)
    result, dummy = run_open([("site001", pfx, PASSWORD)])
    contents, shown = pfx_once.from_material(result["sources"]["pfx0"])
    assert shown == pfx
    direct = cert.load_pfx(pfx, PASSWORD, display_path=pfx)
    assert (cert.validate(contents, min_days=14).facts == cert.validate(direct, min_days=14).facts)
    errors = []
    for contents_ in (contents, direct):
        with pytest.raises(cert.PfxError) as refused:
            cert.validate(contents_, min_days=30, display_path=pfx)
        errors.append((refused.value.code, str(refused.value)))
    assert errors[0] == errors[1] and errors[0][0] == "certificate_expires_soon", errors


def test_a_source_is_used_only_by_a_task_given_the_same_file_and_password(tmp_path):
    # A task parameter (include_role vars, play vars) may give one host's task another PFX or password than
    # its inventory variables, which the run-once opening read: that task must open its own file.
    one = make_pfx(tmp_path / "100001.pfx", "100001")
    other = make_pfx(tmp_path / "100002.pfx", "100002")
    result, dummy = run_open([("site001", one, PASSWORD)])
    material = result["sources"][result["hosts"]["site001"]]
    assert pfx_once.matches(material, one, PASSWORD) is True
    assert pfx_once.matches(material, other, PASSWORD) is False
    assert pfx_once.matches(material, one, "another-password") is False
    assert pfx_once.matches(material, one, None) is False
    assert pfx_once.matches({"error": "pfx_not_found", "msg": "x"}, one, PASSWORD) is False
    assert PASSWORD not in repr(material)
