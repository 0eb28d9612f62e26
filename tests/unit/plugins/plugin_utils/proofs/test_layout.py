# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/proofs/layout.py: the archive's folders, the names it accepts and where each file goes."""

import os

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import layout


@pytest.mark.parametrize("name", ["100001", "a", "a.b_c-d", "x" * 255])
def test_a_safe_name_is_accepted(name):
    assert layout.check_name(name, "site_id") == name


@pytest.mark.parametrize("name", ["", ".", "..", ".hidden", "a/b", "-a", "runs", "upload", "evidence", "signers",
                                  "quarantine", "a b"])
def test_a_name_that_could_leave_the_archive_or_take_a_reserved_folder_is_refused(name):
    with pytest.raises(ProofsError, match="cannot be used as a folder name in the proof archive"):
        layout.check_name(name, "site_id")


def test_operator_seal_and_file_paths_are_each_other_s():
    seal = layout.operator_seal_path("100001/100001001/operator/files/result.xml")
    assert seal == "100001/100001001/operator/seals/result.xml.p7s"
    assert layout.operator_file_path(seal) == "100001/100001001/operator/files/result.xml"
    assert layout.operator_file_path("100001/100001001/operator/seals/result.xml") is None
    assert layout.operator_file_path("100001/operator/seals/result.xml.p7s") is None


def test_the_site_folders_files_are_listed_links_apart(tmp_path):
    archive = tmp_path / "archive"
    site = archive / "100001" / "100001001"
    site.mkdir(parents=True)
    (site / "p.json").write_bytes(b"{}")
    (site / ".p.json.tmp-1").write_bytes(b"")
    (site / "link.json").symlink_to(site / "p.json")
    (archive / "runs").mkdir()
    (archive / "runs" / "r.json").write_bytes(b"{}")
    (archive / "100002").symlink_to(site.parent)
    assert list(layout.iter_archive_files(str(archive))) == [("100001", "100001001", "p.json")]
    assert list(layout.iter_archive_links(str(archive))) == ["100001/100001001/link.json", "100002"]
    assert list(layout.iter_archive_files(str(tmp_path / "missing"))) == []
    assert layout.site_dir(str(archive), "100001", "100001001") == os.path.join(str(archive), "100001", "100001001")
    assert layout.unsealed_path(str(archive), "100001/100001001/p.json") == os.path.join(
        str(archive), ".unsealed", "100001", "100001001", "p.json")
