# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Operator files on the site (plugins/module_utils/proofs/operator_files.py): globs resolved on the site, symbolic
links out of a pattern's directory and oversized files refused with their reason, the others collected."""

import hashlib
import os

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.proofs.operator_files import (
    OperatorFileRefused,
    name_problem,
    pattern_dir,
    pattern_problem,
    read_limited,
    read_listed,
    resolve,
)

LIMIT = 1000


@pytest.fixture
def site(tmp_path):
    """A site with an operator folder: two good files, a link out, a link inside, an oversized file, a hidden file."""
    operator = tmp_path / "var" / "lib" / "eeszt" / "operator"
    operator.mkdir(parents=True)
    outside = tmp_path / "etc"
    outside.mkdir()
    (outside / "shadow").write_text("root:secret\n")
    (operator / "igazolas.pdf").write_bytes(b"%PDF-1.7 igazolas")
    (operator / "eesztConnect.log").write_text("run ok\n")
    (operator / "big.bin").write_bytes(b"x" * (LIMIT + 1))
    (operator / ".hidden").write_text("not matched by *")
    os.symlink(str(outside / "shadow"), str(operator / "shadow"))
    os.symlink("igazolas.pdf", str(operator / "latest.pdf"))
    return tmp_path, operator, outside


def by_name(listing):
    return dict((entry["name"], entry) for entry in listing["files"])


def reasons(listing):
    return dict((os.path.basename(entry["path"]), entry["reason"]) for entry in listing["refused"])


def test_globs_are_resolved_on_the_site_with_size_and_sha256(site):
    dummy, operator, dummy2 = site
    listing = resolve([str(operator / "*")], LIMIT)
    files = by_name(listing)
    assert sorted(files) == ["eesztConnect.log", "igazolas.pdf", "latest.pdf"]
    assert files["igazolas.pdf"]["sha256"] == hashlib.sha256(b"%PDF-1.7 igazolas").hexdigest()
    assert files["igazolas.pdf"]["size"] == len(b"%PDF-1.7 igazolas")
    assert files["igazolas.pdf"]["path"] == str(operator / "igazolas.pdf")
    assert files["igazolas.pdf"]["pattern"] == str(operator / "*")
    assert files["igazolas.pdf"]["modified_at"].endswith("Z")
    # A link that stays inside the pattern's directory is followed.
    assert files["latest.pdf"]["real_path"] == str(operator / "igazolas.pdf")
    assert listing["unmatched"] == []


def test_a_symbolic_link_out_of_the_directory_is_refused_not_followed(site):
    dummy, operator, outside = site
    listing = resolve([str(operator / "*")], LIMIT)
    assert "shadow" not in by_name(listing)
    assert reasons(listing)["shadow"] == (
        "is a symbolic link to %s, outside %s: not followed (copy the file into that directory)"
        % (outside / "shadow", operator))
    assert all(entry.get("sha256") != hashlib.sha256(b"root:secret\n").hexdigest() for entry in listing["files"])


def test_a_path_through_a_linked_directory_out_is_refused(site):
    root, operator, outside = site
    os.symlink(str(outside), str(operator / "sub"))
    listing = resolve([str(operator / "*" / "shadow")], LIMIT)
    assert listing["files"] == []
    assert reasons(listing)["shadow"] == (
        "is reached through a symbolic link to %s, outside %s: not followed (copy the file into that directory)"
        % (outside / "shadow", operator))


def test_an_oversized_file_is_refused_and_one_at_the_limit_is_not(site):
    dummy, operator, dummy2 = site
    listing = resolve([str(operator / "big.bin")], LIMIT)
    assert listing["files"] == []
    assert reasons(listing)["big.bin"] == (
        "is %d bytes, over the limit of %d bytes; copy a smaller file or raise eeszt_proofs_operator_files_max_bytes"
        % (LIMIT + 1, LIMIT))
    assert [e["name"] for e in resolve([str(operator / "big.bin")], LIMIT + 1)["files"]] == ["big.bin"]


def test_hidden_files_directories_and_unmatched_patterns(site):
    root, operator, dummy = site
    (operator / "subdir").mkdir()
    listing = resolve([str(operator / "*"), str(root / "nowhere" / "*.pdf"), str(operator / ".hidden")], LIMIT)
    assert ".hidden" not in by_name(listing) and "subdir" not in by_name(listing)
    assert reasons(listing)[".hidden"] == "is a hidden file (its name starts with '.')"
    assert listing["unmatched"] == [str(root / "nowhere" / "*.pdf")]


def test_a_second_file_of_the_same_name_is_refused(site):
    root, operator, dummy = site
    other = root / "other"
    other.mkdir()
    (other / "igazolas.pdf").write_bytes(b"another")
    listing = resolve([str(operator / "igazolas.pdf"), str(other / "igazolas.pdf"), str(operator / "*.pdf")], LIMIT)
    assert [e["path"] for e in listing["files"]] == [str(operator / "igazolas.pdf"), str(operator / "latest.pdf")]
    assert listing["refused"] == [{
        "pattern": str(other / "igazolas.pdf"), "path": str(other / "igazolas.pdf"),
        "reason": "has the same name as %s, which is collected; rename one of them or narrow "
                  "eeszt_proofs_operator_files" % (operator / "igazolas.pdf")}]


def test_a_fifo_is_not_a_regular_file(site):
    dummy, operator, dummy2 = site
    os.mkfifo(str(operator / "pipe"))
    assert reasons(resolve([str(operator / "pipe")], LIMIT))["pipe"] == "is not a regular file"


def test_bad_patterns_are_refused(site):
    listing = resolve(["relative/*.pdf", "/var/lib/../etc/*", ""], LIMIT)
    assert [e["reason"] for e in listing["refused"]] == [
        "is not an absolute path on the site", "contains '..'", "is empty"]
    assert pattern_problem("/var/lib/eeszt/operator/*") is None


def test_pattern_directories():
    assert pattern_dir("/var/lib/eeszt/operator/*.pdf") == "/var/lib/eeszt/operator"
    assert pattern_dir("/srv/*/result.xml") == "/srv"
    assert pattern_dir("/srv/eeszt/out[0-9].xml") == "/srv/eeszt"
    assert pattern_dir("/srv/eeszt/igazolas.pdf") == "/srv/eeszt"
    assert pattern_dir("/*.pdf") == "/"


def test_names():
    assert name_problem("igazolás 2026.pdf") is None
    assert name_problem("a\nb") == "has a name with a path separator or a control character"
    assert name_problem("x" * 201) == "has a name longer than 200 characters"
    assert name_problem("bad\udcff") == "has a name that is not valid UTF-8"


def test_read_listed_reads_only_files_the_patterns_accept(site):
    dummy, operator, outside = site
    patterns = [str(operator / "*")]
    entry, data = read_listed(patterns, str(operator / "latest.pdf"), LIMIT)
    assert data == b"%PDF-1.7 igazolas" and entry["name"] == "latest.pdf"
    with pytest.raises(OperatorFileRefused, match="^is a symbolic link to .*: not followed"):
        read_listed(patterns, str(operator / "shadow"), LIMIT)
    with pytest.raises(OperatorFileRefused, match="^is 1001 bytes, over the limit of 1000 bytes"):
        read_listed(patterns, str(operator / "big.bin"), LIMIT)
    with pytest.raises(OperatorFileRefused, match="^is no longer among the files of eeszt_proofs_operator_files"):
        read_listed(patterns, str(outside / "shadow"), LIMIT)


def test_read_limited_never_follows_a_swapped_link_nor_reads_past_the_limit(site):
    dummy, operator, outside = site
    target = operator / "igazolas.pdf"
    target.unlink()
    os.symlink(str(outside / "shadow"), str(target))
    with pytest.raises(OperatorFileRefused, match="^became a symbolic link while it was collected: not followed$"):
        read_limited(str(target), LIMIT)
    with pytest.raises(OperatorFileRefused, match="^grew over the limit of 10 bytes while it was collected"):
        read_limited(str(operator / "big.bin"), 10)
