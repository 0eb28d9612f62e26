# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one set of file primitives (module_utils/common/files.py): what each promises."""

import errno
import hashlib
import os
import stat

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import files


def leftovers(directory):
    return sorted(name for name in os.listdir(str(directory)) if ".tmp-" in name)


def mode(path):
    return stat.S_IMODE(os.lstat(str(path)).st_mode)


def test_hashes():
    assert files.sha256_hex(b"abc") == hashlib.sha256(b"abc").hexdigest()


@pytest.mark.parametrize("size", [0, 1, files.CHUNK - 1, files.CHUNK, files.CHUNK + 1])
def test_file_sha256_at_the_chunk_boundary(tmp_path, size):
    path = tmp_path / "f"
    data = os.urandom(size)
    path.write_bytes(data)
    assert files.file_sha256(str(path)) == hashlib.sha256(data).hexdigest()


def test_write_atomic_replaces_with_the_mode_whatever_the_umask(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    old_umask = os.umask(0o077)
    try:
        files.write_atomic(str(path), b"new", 0o644)
    finally:
        os.umask(old_umask)
    assert path.read_bytes() == b"new"
    assert mode(path) == 0o644
    assert leftovers(tmp_path) == []


def test_write_atomic_takes_text_as_utf8(tmp_path):
    path = tmp_path / "f"
    files.write_atomic(str(path), u"\u00e1rv\u00edzt\u0171r\u0151", 0o600)
    assert path.read_bytes() == u"\u00e1rv\u00edzt\u0171r\u0151".encode("utf-8")
    assert mode(path) == 0o600


@pytest.mark.parametrize("step", ["os.open", "os.write", "os.fsync", "os.replace"])
def test_a_fault_at_any_step_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch, step):
    path = tmp_path / "f"
    path.write_bytes(b"old")
    module, name = step.split(".")
    real = getattr(os, name)
    calls = []

    def broken(*args, **kwargs):
        calls.append(args)
        raise OSError(errno.EIO, "injected")

    monkeypatch.setattr(files.os, name, broken)
    with pytest.raises(OSError):
        files.write_atomic(str(path), b"new")
    monkeypatch.setattr(files.os, name, real)
    assert calls
    assert path.read_bytes() == b"old"
    assert leftovers(tmp_path) == []


def test_write_if_changed(tmp_path):
    path = tmp_path / "f"
    assert files.write_if_changed(str(path), b"a") is True
    before = os.stat(str(path)).st_ino
    assert files.write_if_changed(str(path), b"a") is False
    assert os.stat(str(path)).st_ino == before
    assert files.write_if_changed(str(path), b"b") is True
    assert path.read_bytes() == b"b"


def test_write_new_creates_once_and_refuses_other_content(tmp_path):
    path = tmp_path / "f"
    assert files.write_new(str(path), b"a", 0o640) is True
    assert mode(path) == 0o640
    assert files.write_new(str(path), b"a") is False
    with pytest.raises(FileExistsError):
        files.write_new(str(path), b"b")
    assert path.read_bytes() == b"a"
    assert leftovers(tmp_path) == []


def test_write_new_never_follows_or_replaces_a_symlink(tmp_path):
    target = tmp_path / "target"
    target.write_bytes(b"a")
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(FileExistsError):
        files.write_new(str(link), b"a")
    assert os.path.islink(str(link))


def test_write_new_when_another_writer_wins_the_race(tmp_path, monkeypatch):
    path = tmp_path / "f"
    real_link = os.link

    def racing(source, destination):
        # The other writer creates the file between our check and our link.
        with open(destination, "wb") as handle:
            handle.write(other)
        return real_link(source, destination)

    other = b"same"
    monkeypatch.setattr(files.os, "link", racing)
    assert files.write_new(str(path), b"same") is False
    path.unlink()
    other = b"different"
    with pytest.raises(FileExistsError):
        files.write_new(str(path), b"mine")
    assert path.read_bytes() == b"different"
    assert leftovers(tmp_path) == []


def test_replace_symlink_switches_in_one_rename(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    link = tmp_path / "current"
    files.replace_symlink("a", str(link))
    assert os.readlink(str(link)) == "a"
    seen = []
    real_replace = os.replace

    def watching(source, destination):
        seen.append(os.readlink(str(link)))  # the old link is still there until the rename
        return real_replace(source, destination)

    monkeypatch.setattr(files.os, "replace", watching)
    files.replace_symlink("b", str(link))
    assert seen == ["a"]
    assert os.readlink(str(link)) == "b"
    assert leftovers(tmp_path) == []


def test_replace_symlink_fault_keeps_the_old_link(tmp_path, monkeypatch):
    link = tmp_path / "current"
    files.replace_symlink("a", str(link))

    def broken(*args):
        raise OSError(errno.EIO, "injected")

    monkeypatch.setattr(files.os, "replace", broken)
    with pytest.raises(OSError):
        files.replace_symlink("b", str(link))
    assert os.readlink(str(link)) == "a"
    assert leftovers(tmp_path) == []


def test_defaults_and_text_for_every_writer(tmp_path):
    for writer in (files.write_atomic, files.write_if_changed, files.write_new):
        path = tmp_path / writer.__name__
        writer(str(path), u"sz\u00f6veg")
        assert path.read_bytes() == u"sz\u00f6veg".encode("utf-8")
        assert mode(path) == 0o644


def test_a_bare_file_name_is_written_in_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    synced = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    files.write_atomic("a", b"1")
    files.write_new("b", b"2")
    files.replace_symlink("a", "c")
    assert (tmp_path / "a").read_bytes() == b"1"
    assert (tmp_path / "b").read_bytes() == b"2"
    assert os.readlink(str(tmp_path / "c")) == "a"
    assert synced == [".", ".", "."]
    assert leftovers(tmp_path) == []


def test_each_writer_syncs_the_file_s_directory(tmp_path, monkeypatch):
    synced = []
    monkeypatch.setattr(files, "fsync_dir", synced.append)
    files.write_atomic(str(tmp_path / "a"), b"1")
    files.write_new(str(tmp_path / "b"), b"1")
    files.replace_symlink("a", str(tmp_path / "c"))
    assert synced == [str(tmp_path)] * 3


def test_temp_path_is_hidden_beside_the_file(tmp_path):
    temp = files.temp_path(str(tmp_path / "cert.pem"))
    assert os.path.dirname(temp) == str(tmp_path)
    assert os.path.basename(temp).startswith(".cert.pem.tmp-")
    assert files.temp_path("cert.pem").startswith("./.cert.pem.tmp-")
    assert files.temp_path(str(tmp_path / "x")) != files.temp_path(str(tmp_path / "x"))


def test_remove_ignores_a_missing_file_only(tmp_path):
    files.remove_if_present(str(tmp_path / "missing"))
    (tmp_path / "dir").mkdir()
    with pytest.raises(OSError):
        files.remove_if_present(str(tmp_path / "dir"))


def test_write_new_gives_up_after_two_lost_races(tmp_path, monkeypatch):
    path = tmp_path / "f"
    attempts = []

    def always_taken(source, destination):
        attempts.append(destination)
        raise OSError(errno.EEXIST, "taken")  # and then gone again: the name is never there when looked at

    monkeypatch.setattr(files.os, "link", always_taken)
    with pytest.raises(FileExistsError) as caught:
        files.write_new(str(path), b"x")
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.EEXIST, "exists with other content", str(path))
    assert len(attempts) == 2
    assert leftovers(tmp_path) == []


def test_write_new_names_the_conflict(tmp_path):
    path = tmp_path / "f"
    path.write_bytes(b"a")
    with pytest.raises(FileExistsError) as caught:
        files.write_new(str(path), b"b")
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.EEXIST, "exists with other content", str(path))


def test_write_new_without_hard_links_renames(tmp_path, monkeypatch):
    def no_links(source, destination):
        raise OSError(errno.EPERM, "no hard links here")

    monkeypatch.setattr(files.os, "link", no_links)
    assert files.write_new(str(tmp_path / "f"), b"x") is True
    assert (tmp_path / "f").read_bytes() == b"x"
    assert leftovers(tmp_path) == []


def test_fsync_dir_of_a_missing_directory_is_let_be(tmp_path):
    files.fsync_dir(str(tmp_path / "missing"))
    files.fsync_dir(str(tmp_path))


# --- make_dirs: a directory with its mode, a concurrent creator tolerated ------------------------------------

def test_make_dirs_gives_every_missing_level_parents_mode_whatever_the_umask(tmp_path):
    path = tmp_path / "a" / "b" / "c"
    old_umask = os.umask(0o077)
    try:
        created = files.make_dirs(str(path), 0o750, parents_mode=0o755)
    finally:
        os.umask(old_umask)
    assert created == [str(tmp_path / "a"), str(tmp_path / "a" / "b"), str(path)]
    assert [mode(directory) for directory in created] == [0o755, 0o755, 0o750]


def test_make_dirs_without_parents_mode_makes_the_parents_as_makedirs_does(tmp_path):
    """The site's /var/lib/eeszt above the 0o750 proof folder stays 0o755 under the usual umask 022, as
    os.makedirs made it before make_dirs (tests/integration/test_secrets.py checks the site's modes)."""
    path = tmp_path / "var" / "lib" / "eeszt" / "proofs"
    old_umask = os.umask(0o022)
    try:
        created = files.make_dirs(str(path), 0o750)
    finally:
        os.umask(old_umask)
    assert [mode(directory) for directory in created] == [0o755, 0o755, 0o755, 0o750]


def test_make_dirs_leaves_what_exists_alone(tmp_path):
    existing = tmp_path / "kept"
    existing.mkdir()
    os.chmod(str(existing), 0o711)
    assert files.make_dirs(str(existing), 0o750) == []
    assert mode(existing) == 0o711
    assert files.make_dirs(str(existing / "new"), 0o750) == [str(existing / "new")]
    assert mode(existing) == 0o711
    assert mode(existing / "new") == 0o750


def test_make_dirs_tolerates_a_concurrent_creator(tmp_path, monkeypatch):
    # Another process creates "b" (with its own mode) between make_dirs' look and its mkdir.
    real_mkdir = os.mkdir
    raced = str(tmp_path / "a" / "b")
    calls = []

    def racing_mkdir(path, dir_mode=0o777):
        calls.append(path)
        if path == raced:
            real_mkdir(raced, 0o700)
            os.chmod(raced, 0o700)
        real_mkdir(path, dir_mode)

    monkeypatch.setattr(files.os, "mkdir", racing_mkdir)
    created = files.make_dirs(str(tmp_path / "a" / "b" / "c"), 0o750, parents_mode=0o750)
    assert calls == [str(tmp_path / "a"), raced, str(tmp_path / "a" / "b" / "c")], "b was missing when looked at"
    assert created == [str(tmp_path / "a"), str(tmp_path / "a" / "b" / "c")], "the other creator's level is not ours"
    assert mode(tmp_path / "a") == 0o750
    assert mode(raced) == 0o700, "left as its creator made it"
    assert mode(tmp_path / "a" / "b" / "c") == 0o750


def test_make_dirs_refuses_a_file_a_concurrent_creator_put_there(tmp_path, monkeypatch):
    real_mkdir = os.mkdir
    blocked = str(tmp_path / "m" / "f")

    def file_appears(path, dir_mode=0o777):
        if path == blocked:
            with open(path, "wb"):
                pass
        real_mkdir(path, dir_mode)

    monkeypatch.setattr(files.os, "mkdir", file_appears)
    created = []
    with pytest.raises(OSError) as caught:
        files.make_dirs(os.path.join(blocked, "g"), 0o750, created)
    assert caught.value.errno == errno.EEXIST
    assert caught.value.filename == blocked
    assert created == [str(tmp_path / "m")], "what was made before the failure is listed"


def test_make_dirs_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "file").write_bytes(b"x")
    with pytest.raises(OSError) as caught:
        files.make_dirs(str(tmp_path / "file" / "sub"), 0o750)
    assert caught.value.errno == errno.EEXIST
    assert caught.value.filename == str(tmp_path / "file")


def test_missing_dirs_lists_the_missing_levels_top_first(tmp_path):
    assert files.missing_dirs(str(tmp_path)) == []
    assert files.missing_dirs(str(tmp_path / "x" / "y")) == [str(tmp_path / "x"), str(tmp_path / "x" / "y")]
    assert files.missing_dirs(str(tmp_path / "x" / "y") + os.sep) == [str(tmp_path / "x"), str(tmp_path / "x" / "y")]
    assert files.missing_dirs("") == []


def test_make_dirs_of_a_relative_path_stops_at_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(str(tmp_path))
    relative = os.path.join("x", "y")
    assert files.missing_dirs(relative) == ["x", relative]
    assert files.make_dirs(relative, 0o700) == ["x", relative]
    assert mode(tmp_path / "x" / "y") == 0o700
