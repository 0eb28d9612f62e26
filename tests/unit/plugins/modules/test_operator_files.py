# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.operator_files, run as Ansible runs it: its results and the stable error codes of its failures."""

import base64
import hashlib
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
MODULE = "ansible_collections.eeszt.connect.plugins.modules.operator_files"


def run(tmp_path, **args):
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=os.path.join(ROOT, ".cache", "collections"))
    proc = subprocess.run([sys.executable, "-m", MODULE, str(args_file)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    return json.loads(proc.stdout)


def operator_dir(tmp_path):
    operator = tmp_path / "operator"
    operator.mkdir()
    (operator / "igazolas.pdf").write_bytes(b"%PDF-1.7 igazolas")
    (tmp_path / "shadow").write_text("root:secret\n")
    os.symlink(str(tmp_path / "shadow"), str(operator / "shadow"))
    return operator


def test_read_returns_content_and_its_sha256(tmp_path):
    operator = operator_dir(tmp_path)
    result = run(tmp_path, patterns=[str(operator / "*")], read=str(operator / "igazolas.pdf"))
    assert not result.get("failed") and result["size"] == 17
    assert result["sha256"] == hashlib.sha256(b"%PDF-1.7 igazolas").hexdigest()
    assert base64.b64decode(result["content"]) == b"%PDF-1.7 igazolas"


def test_max_bytes_below_one_is_usage(tmp_path):
    result = run(tmp_path, patterns=[str(tmp_path / "*")], max_bytes=0)
    assert result["failed"] is True and result["error"] == "usage"
    assert result["msg"] == "max_bytes must be at least 1, got 0"


def test_a_refused_read_is_operator_file_refused(tmp_path):
    operator = operator_dir(tmp_path)
    result = run(tmp_path, patterns=[str(operator / "*")], read=str(operator / "shadow"))
    assert result["failed"] is True and result["error"] == "operator_file_refused"
    reason = "is a symbolic link to %s, outside %s: not followed (copy the file into that directory)" % (
        tmp_path / "shadow", operator)
    assert result["reason"] == reason
    assert result["msg"] == "%s %s" % (operator / "shadow", reason)
    assert "root:secret" not in json.dumps(result)
