# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The archive's writers are module_utils/common/files' with the archive's errors and messages (proofs/store.py)."""

import os
import stat

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import write_if_changed, write_new
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ArchiveConflictError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import ensure_dir, store


def test_write_new_creates_the_folder_and_the_file_with_the_archive_mode(tmp_path):
    path = str(tmp_path / "a" / "b" / "proof.json")
    assert store(path, b"one", write_new) is True
    assert open(path, "rb").read() == b"one"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(os.path.dirname(path)).st_mode) == 0o750
    assert store(path, b"one", write_new) is False
    assert os.listdir(os.path.dirname(path)) == ["proof.json"]


def test_write_new_never_replaces_other_content(tmp_path):
    path = str(tmp_path / "proof.json")
    store(path, b"one", write_new)
    with pytest.raises(ArchiveConflictError) as caught:
        store(path, b"two", write_new)
    assert str(caught.value) == ("%s is already in the archive with other content; an archived file is never "
                                 "overwritten: find out why the two differ" % path)
    assert open(path, "rb").read() == b"one"


def test_write_atomic_replaces_and_wraps_an_os_error(tmp_path):
    path = str(tmp_path / "index.json")
    store(path, b"old")
    store(path, b"new")
    assert open(path, "rb").read() == b"new"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert store(path, b"new", write_if_changed) is False
    assert store(path, b"newer", write_if_changed) is True
    assert open(path, "rb").read() == b"newer"
    target = tmp_path / "folder"
    target.mkdir()
    with pytest.raises(ProofsError) as caught:
        store(str(target), b"x")
    assert str(caught.value) == "cannot write %s: Is a directory" % target
    assert sorted(os.listdir(str(tmp_path))) == ["folder", "index.json"], "no temporary file is left"


def test_a_folder_that_cannot_be_made_is_named_in_the_archive_s_error(tmp_path):
    (tmp_path / "runs").write_bytes(b"a file where the folder should be")
    with pytest.raises(ProofsError) as caught:
        ensure_dir(str(tmp_path / "runs" / "deeper"))
    assert str(caught.value) == "cannot create the directory %s: File exists" % (tmp_path / "runs")
