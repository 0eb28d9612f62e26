# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""common.files.remove_if_present: a missing file is no error, any other failure is."""

import errno
import os

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import remove_if_present


def test_removes_a_file_and_a_dangling_link_and_ignores_a_missing_one(tmp_path):
    target = tmp_path / "stunnel.pid"
    target.write_text("42\n")
    link = tmp_path / "dangling"
    os.symlink(str(tmp_path / "nowhere"), str(link))
    remove_if_present(str(target))
    remove_if_present(str(link))
    remove_if_present(str(target))  # again: already gone
    assert os.listdir(str(tmp_path)) == []


def test_other_failures_are_raised(tmp_path):
    (tmp_path / "dir").mkdir()
    with pytest.raises(OSError) as caught:
        remove_if_present(str(tmp_path / "dir"))
    assert caught.value.errno in (errno.EISDIR, errno.EPERM)
    assert (tmp_path / "dir").is_dir()
