# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/proofs/ledger.py: the run records read back in the controller's order."""

import json
import os

import pytest

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.ledger import RUN_SCHEMA, ledger, load_runs, operator_ledger


def write_run(archive, name, **record):
    folder = archive / "runs"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(dict(record, schema=RUN_SCHEMA)))


def test_runs_in_the_controller_s_order_whatever_their_names(tmp_path):
    write_run(tmp_path, "b.json", finished_at="2026-12-08T10:00:00Z", sequence=1)
    write_run(tmp_path, "a.json", finished_at="2026-12-08T10:00:00Z", sequence=2)
    write_run(tmp_path, "c.json", finished_at="2026-12-08T09:00:00Z", sequence=True)
    (tmp_path / "runs" / "other.json").write_text(json.dumps({"schema": "something/else"}))
    (tmp_path / "runs" / ".hidden.json").write_text("not json")
    assert [run["_file"] for run in load_runs(str(tmp_path))] == ["c.json", "b.json", "a.json"]
    assert load_runs(str(tmp_path / "no-archive")) == []


def test_a_damaged_or_linked_run_record_is_refused(tmp_path):
    write_run(tmp_path, "r.json", outcomes=[{"archived": [{"path": 7}]}])
    with pytest.raises(ProofsError, match="is damaged .outcome 0: a archived entry's path is not text."):
        load_runs(str(tmp_path))
    os.unlink(str(tmp_path / "runs" / "r.json"))
    (tmp_path / "elsewhere.json").write_text("{}")
    (tmp_path / "runs" / "l.json").symlink_to(tmp_path / "elsewhere.json")
    with pytest.raises(ProofsError, match="is a symbolic link"):
        load_runs(str(tmp_path))


def test_what_each_recorded_file_held_when_it_was_archived():
    runs = [{"finished_at": "T1", "outcomes": [
        {"archived": [{"path": "1/2/p.json", "sha256": "aa"}, {"path": "1/2/q.json"}],
         "operator_files": [{"path": "1/2/operator/files/x", "sha256": "bb", "size": 3}]}]},
        {"finished_at": "T2", "outcomes": [{"archived": [{"path": "1/2/p.json", "sha256": "cc"}]}]}]
    assert ledger(runs) == {"1/2/p.json": "cc"}
    assert operator_ledger(runs) == {"1/2/operator/files/x": {"path": "1/2/operator/files/x", "sha256": "bb",
                                                              "size": 3, "run_finished_at": "T1"}}
