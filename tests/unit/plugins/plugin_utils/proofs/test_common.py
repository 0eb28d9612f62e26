# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The archive's writers are module_utils/common/files' with the archive's errors and messages."""

import os
import stat

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs import common
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.common import ArchiveConflictError, ProofsError


def test_write_new_creates_the_folder_and_the_file_with_the_archive_mode(tmp_path):
    path = str(tmp_path / "a" / "b" / "proof.json")
    assert common.write_new(path, b"one") is True
    assert open(path, "rb").read() == b"one"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o750
    assert common.write_new(path, b"one") is False
    assert os.listdir(os.path.dirname(path)) == ["proof.json"]


def test_write_new_never_replaces_other_content(tmp_path):
    path = str(tmp_path / "proof.json")
    common.write_new(path, b"one")
    with pytest.raises(ArchiveConflictError) as caught:
        common.write_new(path, b"two")
    assert str(caught.value) == ("%s is already in the archive with other content; an archived file is never "
                                 "overwritten: find out why the two differ" % path)
    assert open(path, "rb").read() == b"one"


def test_write_atomic_replaces_and_wraps_an_os_error(tmp_path):
    path = str(tmp_path / "index.json")
    common.write_atomic(path, b"old")
    common.write_atomic(path, b"new")
    assert open(path, "rb").read() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert common.write_if_changed(path, b"new") is False
    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(ProofsError) as caught:
        common.write_atomic(str(target), b"x")
    assert str(caught.value) == "cannot write %s: Is a directory" % target
    assert sorted(os.listdir(str(tmp_path))) == ["folder", "index.json"], "no temporary file is left"
