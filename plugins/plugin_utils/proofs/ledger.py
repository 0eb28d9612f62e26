# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The run ledger: the archive's collection run records (``<archive>/runs/<run id>.json``) read back.

``load_runs`` reads and checks them in the controller's order; ``ledger`` and ``operator_ledger`` say what
each recorded file held when it was archived. ``report/runs.py`` writes the records; ``report/ledger.py``
orders the proofs by them.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

from ansible_collections.eeszt.connect.plugins.module_utils.common.files import read_bytes
from ansible_collections.eeszt.connect.plugins.plugin_utils.common.errors import ProofsError
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.layout import RUNS_DIR

RUN_SCHEMA = "eeszt.connect/proof-run/v1"


def _damaged_run(name, why):
    return ProofsError("the run record %s is damaged (%s); restore it from a backup" % (name, why))


def _check_run(record, shown):
    """Refuse a run record whose outcomes are not of the shape record_run writes."""
    outcomes = record.get("outcomes")
    if outcomes is None:
        return
    if not isinstance(outcomes, list):
        raise _damaged_run(shown, "outcomes is not a list")
    for number, outcome in enumerate(outcomes):
        if not isinstance(outcome, dict):
            raise _damaged_run(shown, "outcome %d is not a mapping" % number)
        for key in ("archived", "operator_files"):
            _check_run_items(outcome.get(key), key, number, shown)


def _check_run_items(items, key, number, shown):
    if items is None:
        return
    if not isinstance(items, list):
        raise _damaged_run(shown, "outcome %d: %s is not a list" % (number, key))
    for item in items:
        if not isinstance(item, dict):
            raise _damaged_run(shown, "outcome %d: an entry of %s is not a mapping" % (number, key))
        for field in ("path", "sha256"):
            if item.get(field) is not None and not isinstance(item[field], str):
                raise _damaged_run(shown, "outcome %d: a %s entry's %s is not text" % (number, key, field))


def load_runs(archive):
    """Every collection run record of the archive, oldest first."""
    folder = os.path.join(archive, RUNS_DIR)
    runs = []
    if not os.path.isdir(folder):
        return runs
    for name in sorted(os.listdir(folder)):
        if not name.endswith(".json") or name.startswith("."):
            continue
        path = os.path.join(folder, name)
        if os.path.islink(path):
            raise ProofsError("the run record %s is a symbolic link, not a file of the archive; it is not "
                              "followed: restore the record from a backup" % path)
        try:
            record = json.loads(read_bytes(path).decode("utf-8"))
        except (IOError, OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ProofsError("the run record %s cannot be read (%s); restore it from a backup" % (path, exc))
        if isinstance(record, dict) and record.get("schema") == RUN_SCHEMA:
            _check_run(record, path)
            record["_file"] = name
            runs.append(record)
    runs.sort(key=_run_order)
    return runs


def _run_order(record):
    sequence = record.get("sequence")
    if isinstance(sequence, bool) or not isinstance(sequence, int):
        sequence = 0
    return ("%s" % (record.get("finished_at") or ""), sequence, record["_file"])


def _recorded(runs, field):
    """(run, relative path, entry) of every entry of the outcomes' ``field`` with a path and a SHA-256, oldest first."""
    for run in runs:
        for outcome in run.get("outcomes") or []:
            for item in outcome.get(field) or []:
                if item.get("path") and item.get("sha256"):
                    yield run, item["path"].replace(os.sep, "/"), item


def ledger(runs):
    """{relative path: sha256 at archive time} from the run records."""
    return dict((path, item["sha256"]) for dummy, path, item in _recorded(runs, "archived"))


def operator_ledger(runs):
    """{relative path: the run record's entry (with the run's finished_at)} of every operator file archived."""
    return dict((path, dict(item, run_finished_at=run.get("finished_at")))
                for run, path, item in _recorded(runs, "operator_files"))
