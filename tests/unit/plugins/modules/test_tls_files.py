# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.tls_files, run as Ansible runs it: a Python process reading its arguments."""

import errno
import json
import os
import stat
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
COLLECTIONS = os.path.join(ROOT, ".cache", "collections")
MODULE = "ansible_collections.eeszt.connect.plugins.modules.tls_files"


def run(tmp_path, check=False, diff=False, path=None, **args):
    args.update(_ansible_check_mode=check, _ansible_diff=diff)
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=COLLECTIONS, PATH=path or os.environ["PATH"])
    proc = subprocess.run([sys.executable, "-m", MODULE, str(args_file)], capture_output=True, text=True,
                          env=env, timeout=60, check=False)
    return json.loads(proc.stdout)


def mode(path):
    return stat.S_IMODE(os.stat(str(path)).st_mode)


def test_writes_creates_directories_and_is_idempotent(tmp_path):
    conf = tmp_path / "etc" / "eeszt"
    files = [{"path": str(conf / "tls" / "ca.pem"), "content": "CA\n", "mode": "0644"},
             {"path": str(conf / "openssl.cnf"), "content": "[x]\n", "mode": "0644"}]
    secret = [{"path": str(conf / "curlrc"), "content": "proxy-user = \"u:Secr3t\"\n", "mode": "0600"}]
    first = run(tmp_path, files=files, secret_files=secret, diff=True)
    assert first["changed"] is True
    assert sorted(first["changed_files"]) == sorted(f["path"] for f in files + secret)
    assert first["created_directories"] == [str(conf.parent), str(conf), str(conf / "tls")]
    assert mode(conf) == 0o755 and mode(conf / "tls") == 0o755
    assert (conf / "tls" / "ca.pem").read_text() == "CA\n"
    assert mode(conf / "curlrc") == 0o600 and mode(conf / "openssl.cnf") == 0o644
    # The diff shows the public files and never the secret one.
    assert [d["after_header"] for d in first["diff"]] == [f["path"] for f in files]
    assert "Secr3t" not in json.dumps(first)
    again = run(tmp_path, files=files, secret_files=secret, diff=True)
    assert again["changed"] is False and again["changed_files"] == [] and "diff" not in again
    # Directories left as they are once they exist.
    os.chmod(str(conf), 0o750)
    run(tmp_path, files=files)
    assert mode(conf) == 0o750


def test_content_mode_and_removal(tmp_path):
    target = tmp_path / "eeszt.env"
    target.write_text("old\n")
    os.chmod(str(target), 0o666)
    stale = tmp_path / "java.properties"
    stale.write_text("keystore\n")
    entry = {"path": str(target), "content": "new\n", "mode": "0640"}
    result = run(tmp_path, files=[entry], absent=[str(stale), str(tmp_path / "missing")], diff=True)
    assert result["changed"] and result["changed_files"] == [str(target)] and result["removed"] == [str(stale)]
    assert target.read_text() == "new\n" and mode(target) == 0o640 and not stale.exists()
    assert result["diff"][0]["before"] == "old\n" and result["diff"][0]["after"] == "new\n"
    # Only the mode differs: changed, content untouched.
    os.chmod(str(target), 0o644)
    result = run(tmp_path, files=[entry])
    assert result["changed_files"] == [str(target)] and mode(target) == 0o640
    assert sorted(os.listdir(str(tmp_path))) == ["args.json", "eeszt.env"]  # no temporary files left


def test_check_mode_changes_nothing(tmp_path):
    target = tmp_path / "new" / "curlrc"
    keep = tmp_path / "keep"
    keep.write_text("x")
    result = run(tmp_path, check=True, files=[{"path": str(target), "content": "c\n", "mode": "0644"}],
                 absent=[str(keep)])
    assert result["changed"] and result["changed_files"] == [str(target)] and result["removed"] == [str(keep)]
    assert result["created_directories"] == [str(tmp_path / "new")]
    assert not target.parent.exists() and keep.exists()


@pytest.mark.parametrize("args, message", [
    ({"files": [{"path": "relative", "content": "", "mode": "0644"}]}, "relative: the path must be absolute"),
    ({"files": [{"path": "/tmp/x", "content": "", "mode": "rw-r--r--"}]},
     "the mode of /tmp/x must be an octal mode like 0644, got 'rw-r--r--'"),
    ({"files": [{"path": "/tmp/x", "content": "", "mode": "0644"}], "directory_mode": "17777"},
     "directory_mode must be an octal mode from 0000 to 7777, got '17777'"),
    ({"files": [{"path": "/tmp/x", "content": "", "mode": "0644"}], "absent": ["/tmp/x"]},
     "each path may appear only once in files, secret_files and absent: /tmp/x"),
    # The action plugin renders and takes out templates; the module cannot render them on the site.
    ({"templates": [{"src": "curlrc.j2", "path": "/tmp/x", "mode": "0644"}]},
     "templates are rendered on the controller by the action plugin eeszt.connect.tls_files; give this module "
     "their content in files or secret_files"),
])
def test_bad_arguments_are_refused(tmp_path, args, message):
    result = run(tmp_path, **args)
    assert result["failed"] is True
    assert result["msg"] == message
    assert result["error"] == "usage"


def test_directory_in_the_way_is_refused(tmp_path):
    (tmp_path / "openssl.cnf").mkdir()
    result = run(tmp_path, files=[{"path": str(tmp_path / "openssl.cnf"), "content": "", "mode": "0644"}])
    assert result["failed"] and result["msg"] == "%s is a directory, not a file" % (tmp_path / "openssl.cnf")
    assert result["error"] == "write_failed"
    result = run(tmp_path, absent=[str(tmp_path / "openssl.cnf")])
    assert result["failed"] and result["msg"] == "%s is a directory; only files are removed" % (tmp_path / "openssl.cnf")
    assert result["error"] == "write_failed"


def test_a_failed_write_is_write_failed_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    from ansible_collections.eeszt.connect.plugins.module_utils.tls import files as tls_files

    target = tmp_path / "eeszt.env"
    target.write_text("OLD=1\n")

    def refuse(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(tls_files.TlsFilesError) as caught:
        tls_files._write(str(target), b"NEW=1\n", 0o644)
    assert caught.value.code == "write_failed"
    assert str(caught.value) == "cannot write %s: [Errno 28] No space left on device" % target
    assert os.listdir(str(tmp_path)) == ["eeszt.env"] and target.read_text() == "OLD=1\n"


def test_secret_files_take_the_same_suboptions_and_hide_their_content(tmp_path):
    target = tmp_path / "java.properties"
    result = run(tmp_path, diff=True, secret_files=[{"path": str(target), "content": "pw=s3cret\n", "mode": "0640"}])
    assert result["changed_files"] == [str(target)] and "diff" not in result
    assert target.read_text() == "pw=s3cret\n" and mode(target) == 0o640
    assert "s3cret" not in json.dumps(result)


MARKER = "# {mark} eeszt.connect tls_client: EESZT host names"
HOSTS_BLOCK = ("# BEGIN eeszt.connect tls_client: EESZT host names\n127.0.0.1 waf.eeszt.test\n"
               "# END eeszt.connect tls_client: EESZT host names\n")


def test_absent_blocks_take_out_the_hosts_block_in_place(tmp_path):
    hosts = tmp_path / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + HOSTS_BLOCK + "10.0.0.1 other\n")
    inode = os.stat(str(hosts)).st_ino
    block = [{"path": str(hosts), "marker": MARKER}]
    preview = run(tmp_path, check=True, absent_blocks=block)
    assert preview["changed"] is True and preview["removed_blocks"] == [str(hosts)]
    assert HOSTS_BLOCK in hosts.read_text()
    result = run(tmp_path, absent_blocks=block)
    assert result["changed"] is True and result["removed_blocks"] == [str(hosts)]
    assert hosts.read_text() == "127.0.0.1 localhost\n10.0.0.1 other\n"
    assert os.stat(str(hosts)).st_ino == inode  # rewritten in place: a bind-mounted /etc/hosts stays
    again = run(tmp_path, absent_blocks=block + [{"path": str(tmp_path / "missing"), "marker": MARKER}])
    assert again["changed"] is False and again["removed_blocks"] == []
    assert not (tmp_path / "missing").exists()


def test_site_time_is_returned(tmp_path):
    import time
    before = int(time.time())
    result = run(tmp_path)
    assert result["changed"] is False and before <= result["site_time"] <= time.time()


FAKE_SYSTEMCTL = '#!/bin/sh\necho "$@" >> "%s"\n'


def test_absent_gateway_stops_and_removes_the_disabled_gateway(tmp_path):
    from ansible_collections.eeszt.connect.plugins.module_utils.common.process import pid_alive
    bindir = tmp_path / "bin"
    bindir.mkdir()
    calls = tmp_path / "systemctl.log"
    (bindir / "systemctl").write_text(FAKE_SYSTEMCTL % calls)
    (bindir / "systemctl").chmod(0o755)
    unit = tmp_path / "eeszt-tls-gateway.service"
    unit.write_text("[Service]\n")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    config = tmp_path / "stunnel-gateway.conf"
    config.write_text("pid = %s\n" % (run_dir / "stunnel.pid"))
    (run_dir / "stunnel.log").write_text("log\n")
    daemon = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", str(config)])
    (run_dir / "stunnel.pid").write_text("%d\n" % daemon.pid)
    gateway = {"config": str(config), "pid_file": str(run_dir / "stunnel.pid"),
               "log_file": str(run_dir / "stunnel.log"), "unit": str(unit)}
    env_path = "%s:%s" % (bindir, os.environ["PATH"])
    try:
        preview = run(tmp_path, path=env_path, check=True, absent_gateway=gateway)
        assert preview["changed"] is True and str(unit) in preview["gateway_removed"]
        assert unit.exists() and config.exists() and pid_alive(daemon.pid) and not calls.exists()
        result = run(tmp_path, path=env_path, absent_gateway=gateway)
        assert result["changed"] is True
        assert result["gateway_removed"] == [str(unit), str(config), str(run_dir / "stunnel.pid"),
                                             str(run_dir / "stunnel.log"), str(run_dir)]
        assert calls.read_text() == "disable --now eeszt-tls-gateway.service\ndaemon-reload\n"
        assert daemon.wait(timeout=10) is not None
        assert not unit.exists() and not config.exists() and not run_dir.exists()
        again = run(tmp_path, path=env_path, absent_gateway=gateway)
        assert again["changed"] is False and again["gateway_removed"] == []
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait()


def test_absent_gateway_names_a_failing_systemctl(tmp_path):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "systemctl").write_text("#!/bin/sh\necho 'Failed to connect to bus' >&2\nexit 1\n")
    (bindir / "systemctl").chmod(0o755)
    unit = tmp_path / "eeszt-tls-gateway.service"
    unit.write_text("[Service]\n")
    gateway = {"config": str(tmp_path / "none.conf"), "pid_file": str(tmp_path / "run" / "pid"), "unit": str(unit)}
    result = run(tmp_path, path="%s:%s" % (bindir, os.environ["PATH"]), absent_gateway=gateway)
    assert result["failed"] is True and result["error"] == "gateway_failed"
    assert result["msg"] == ("%s/systemctl disable --now eeszt-tls-gateway.service failed (exit code 1) while "
                             "removing the disabled gateway's unit %s: Failed to connect to bus" % (bindir, unit))
    assert unit.exists()
