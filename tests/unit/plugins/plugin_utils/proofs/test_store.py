# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/proofs/store.py: the archive's folders made once (files.make_dirs), and its JSON bytes (the writers
through ``store`` are pinned with the archive's other writer tests)."""

import os
import stat

from ansible_collections.eeszt.connect.plugins.module_utils.common import files
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.store import canonical_json, ensure_dir


def test_a_folder_another_run_creates_meanwhile_is_no_error(tmp_path, monkeypatch):
    real_mkdir = os.mkdir
    raced = str(tmp_path / "archive" / "100001")

    def racing_mkdir(path, mode=0o777):
        if path == raced:
            real_mkdir(raced, 0o750)
        real_mkdir(path, mode)

    monkeypatch.setattr(files.os, "mkdir", racing_mkdir)
    assert ensure_dir(str(tmp_path / "archive" / "100001" / "100001001")) is True
    assert stat.S_IMODE(os.stat(str(tmp_path / "archive" / "100001" / "100001001")).st_mode) == 0o750
    assert ensure_dir(str(tmp_path / "archive" / "100001" / "100001001")) is False


def test_canonical_json_is_sorted_indented_utf8_with_a_final_newline():
    assert canonical_json({"b": 1, "a": "é"}) == '{\n  "a": "é",\n  "b": 1\n}\n'.encode("utf-8")
