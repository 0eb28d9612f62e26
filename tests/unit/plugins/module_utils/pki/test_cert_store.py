# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site side: idempotence decision, atomic set switch, backups."""

import base64
import os
import stat

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_set
from ansible_collections.eeszt.connect.plugins.module_utils.pki import cert_store as store
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki import certificate as cert
from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import build_lab_pki


@pytest.fixture(scope="module")
def validated(tmp_path_factory):
    lab = tmp_path_factory.mktemp("lab")
    build_lab_pki(str(lab), [{"institution_id": "100001", "site_id": "100001001"},
                             {"institution_id": "100002", "site_id": "100002001"}])
    anchors = cert.load_ca_file(str(lab / "pki" / "client-ca-bundle.pem"))
    result = []
    for name in ("100001-100001001", "100002-100002001"):
        path = str(lab / "pki" / "sites" / (name + ".p12"))
        password = (lab / "pki" / "sites" / (name + ".password")).read_text().strip()
        result.append(cert.validate(cert.load_pfx(path, password), ca_certs=anchors))
    return result


def desired_for(valid, formats=("pkcs12", "java"), password="export-pw", level="modern", alias="eeszt-waf"):
    pem = valid.pem()
    facts = dict(valid.facts)
    facts.pop("days_left")
    p12 = {}
    for fmt, name in (("pkcs12", "client.p12"), ("java", "keystore.p12")):
        if fmt in formats:
            p12[name] = cert.build_pkcs12(valid, password, level, alias)
    return store.DesiredSet(pem["certificate"], pem["private_key"], pem["chain"], facts, pkcs12=p12,
                            export_password=password, export_encryption=level, alias=alias)


def apply(directory, desired, **kwargs):
    s = store.CertificateStore(str(directory))
    plan = s.plan(desired)
    backup = s.write(desired, plan, **kwargs) if plan["content_changed"] else None
    return s, plan, backup


def test_first_write_creates_the_set(tmp_path, validated):
    directory = tmp_path / "tls"
    s, plan, backup = apply(directory, desired_for(validated[0]))
    assert plan["changed_files"] == ["cert.pem", "key.pem", "chain.pem", "fullchain.pem", "client.p12", "keystore.p12"]
    assert backup is None
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o750
    assert stat.S_IMODE(os.stat(directory / "key.pem").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory / "client.p12").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(directory / "cert.pem").st_mode) == 0o644
    state = os.path.join(s.current_set(), store.STATE_FILE)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    text = open(state).read()
    assert "export-pw" not in text and "PRIVATE" not in text
    fullchain = (directory / "fullchain.pem").read_text()
    assert fullchain.startswith((directory / "cert.pem").read_text())
    assert fullchain.endswith((directory / "chain.pem").read_text())
    assert (directory / "key.pem").read_text() == validated[0].pem()["private_key"]


def test_same_certificate_reexported_with_new_salt_is_no_change(tmp_path, validated):
    directory = tmp_path / "tls"
    first = desired_for(validated[0])
    apply(directory, first)
    again = desired_for(validated[0])
    assert again.pkcs12["client.p12"] != first.pkcs12["client.p12"]  # new random salt
    s, plan, dummy = apply(directory, again)
    assert plan["changed_files"] == [] and not plan["content_changed"] and not plan["attributes_changed"]


@pytest.mark.parametrize("change", [dict(password="another-pw"), dict(level="compat"), dict(alias="other")])
def test_export_settings_change_the_pkcs12_files(tmp_path, validated, change):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0]))
    s, plan, dummy = apply(directory, desired_for(validated[0], **change))
    assert plan["changed_files"] == ["client.p12", "keystore.p12"]
    s, plan, dummy = apply(directory, desired_for(validated[0], **change))
    assert plan["changed_files"] == []


@pytest.mark.parametrize("name", ["key.pem", "client.p12"])
def test_tampered_file_is_a_change(tmp_path, validated, name):
    directory = tmp_path / "tls"
    s, dummy, dummy2 = apply(directory, desired_for(validated[0]))
    real = os.path.join(s.current_set(), name)
    with open(real, "ab") as handle:
        handle.write(b"\n")
    dummy, plan, dummy2 = apply(directory, desired_for(validated[0]))
    assert plan["changed_files"] == [name]
    assert apply(directory, desired_for(validated[0]))[1]["changed_files"] == []


def test_mode_drift_is_fixed_in_place(tmp_path, validated):
    directory = tmp_path / "tls"
    s, dummy, dummy2 = apply(directory, desired_for(validated[0]))
    live = s.current_set()
    os.chmod(os.path.join(live, "key.pem"), 0o644)
    plan = s.plan(desired_for(validated[0]))
    assert not plan["content_changed"] and plan["attributes_changed"]
    s.fix_attributes(desired_for(validated[0]))
    assert stat.S_IMODE(os.stat(directory / "key.pem").st_mode) == 0o600
    assert s.current_set() == live


def test_group_makes_keys_0640(tmp_path, validated):
    import grp
    group = grp.getgrgid(os.getgid()).gr_name
    s = store.CertificateStore(str(tmp_path / "tls"), group=group)
    desired = desired_for(validated[0])
    s.write(desired, s.plan(desired))
    assert stat.S_IMODE(os.stat(tmp_path / "tls" / "key.pem").st_mode) == 0o640
    assert os.stat(tmp_path / "tls" / "key.pem").st_gid == os.getgid()


def test_renewal_backs_up_previous_set_and_rotates(tmp_path, validated):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0]))
    old_cert = (directory / "cert.pem").read_text()
    backups = []
    for index in range(4):
        dummy, plan, backup = apply(directory, desired_for(validated[(index + 1) % 2]), backup=True, backups=2)
        assert plan["content_changed"]
        if index == 0:
            assert open(os.path.join(backup, "cert.pem")).read() == old_cert
            assert stat.S_IMODE(os.stat(os.path.join(backup, "key.pem")).st_mode) == 0o600
        backups.append(backup)
    assert not os.path.exists(backups[0])
    s = store.CertificateStore(str(directory))
    assert [os.path.join(s.backup_dir, e) for e in s.list_backups()] == backups[-2:]
    assert len(os.listdir(s.sets_dir)) == 1  # only the live set remains


def test_without_backup_the_old_set_is_removed(tmp_path, validated):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0]))
    dummy, dummy2, backup = apply(directory, desired_for(validated[1]), backup=False)
    assert backup is None
    assert not (directory / "backup").exists()
    assert len(os.listdir(directory / "sets")) == 1


def test_dropping_a_format_removes_its_file(tmp_path, validated):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0]))
    dummy, plan, dummy2 = apply(directory, desired_for(validated[0], formats=("pkcs12",)))
    assert plan["removed_files"] == ["keystore.p12"]
    assert not os.path.lexists(directory / "keystore.p12")
    assert (directory / "client.p12").exists()


def test_hand_installed_files_are_backed_up_and_replaced(tmp_path, validated):
    directory = tmp_path / "tls"
    directory.mkdir()
    (directory / "cert.pem").write_text("old certificate\n")
    (directory / "eeszt-ca.pem").write_text("someone else's file\n")
    dummy, plan, backup = apply(directory, desired_for(validated[0], formats=()))
    assert open(os.path.join(backup, "cert.pem")).read() == "old certificate\n"
    assert os.path.islink(directory / "cert.pem")
    assert (directory / "eeszt-ca.pem").read_text() == "someone else's file\n"


def _sets_consistent(directory):
    cert_pem = (directory / "cert.pem").read_text()
    key_pem = (directory / "key.pem").read_text()
    return cert_pem, key_pem


def test_interrupted_write_leaves_the_old_set_live(tmp_path, validated, monkeypatch):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0], formats=()))
    before = _sets_consistent(directory)
    calls = {"n": 0}
    real_write = store.write_atomic

    def dying_write(path, data, mode):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        real_write(path, data, mode)

    monkeypatch.setattr(store, "write_atomic", dying_write)
    with pytest.raises(KeyboardInterrupt):
        apply(directory, desired_for(validated[1], formats=()))
    assert _sets_consistent(directory) == before
    monkeypatch.setattr(store, "write_atomic", real_write)
    # The next run cleans the staging leftovers and switches completely.
    dummy, plan, dummy2 = apply(directory, desired_for(validated[1], formats=()))
    assert _sets_consistent(directory) == (validated[1].pem()["certificate"], validated[1].pem()["private_key"])
    assert not [e for e in os.listdir(directory / "sets") if e.startswith(".staging")]


def test_interruption_after_switch_keeps_the_new_set(tmp_path, validated, monkeypatch):
    directory = tmp_path / "tls"
    apply(directory, desired_for(validated[0], formats=()))
    real_rename = os.rename

    def dying_rename(src, dst):
        if "backup" in dst:
            raise KeyboardInterrupt("killed while moving the old set")
        real_rename(src, dst)

    monkeypatch.setattr(store.os, "rename", dying_rename)
    with pytest.raises(KeyboardInterrupt):
        apply(directory, desired_for(validated[1], formats=()))
    monkeypatch.setattr(store.os, "rename", real_rename)
    new = (validated[1].pem()["certificate"], validated[1].pem()["private_key"])
    assert _sets_consistent(directory) == new
    # The orphaned old set becomes a backup on the next change.
    apply(directory, desired_for(validated[0], formats=()))
    assert len(store.CertificateStore(str(directory)).list_backups()) == 2


def test_password_digest_never_holds_the_password():
    record = store.password_digest("s3cret")
    assert "s3cret" not in repr(record)
    assert store.password_matches("s3cret", record)
    assert not store.password_matches("other", record)
    assert base64.b64decode(record["salt"]) != base64.b64decode(store.password_digest("s3cret")["salt"])


def test_facts_text_has_no_key_material(validated):
    facts = dict(validated[0].facts)
    text = cert_set.facts_text(facts, ["cert.pem", "key.pem"])
    assert "PRIVATE KEY" not in text and facts["sha256"] in text and "not_after" in text


def test_a_directory_made_by_a_concurrent_run_in_between_is_no_error(tmp_path, validated, monkeypatch):
    """Two runs that start together on a new site both see no directory, and both make it.

    The race is replayed: just before this run makes the directory, the other run makes it. This run
    must go on (CI saw "[Errno 17] File exists" here).
    """
    target = tmp_path / "tls"
    real_makedirs = os.makedirs

    def other_run_first(path, *args, **kwargs):
        if path == str(target) and not os.path.exists(path):
            os.mkdir(path, 0o750)  # the concurrent run wins the race
        return real_makedirs(path, *args, **kwargs)

    monkeypatch.setattr(store.os, "makedirs", other_run_first)
    dummy, plan, backup = apply(target, desired_for(validated[0]))
    assert plan["content_changed"] and backup is None
    assert (target / "cert.pem").read_text() == validated[0].pem()["certificate"]


def test_resolve_ids_names_numbers_and_unknown_names():
    import grp
    import pwd

    from ansible_collections.eeszt.connect.plugins.module_utils.pki.cert_store import CertStoreError, resolve_ids

    assert resolve_ids(None, "") == (-1, -1)
    assert resolve_ids("1234", 5678) == (1234, 5678)
    me, my_group = pwd.getpwuid(os.getuid()).pw_name, grp.getgrgid(os.getgid()).gr_name
    assert resolve_ids(me, my_group) == (os.getuid(), os.getgid())
    with pytest.raises(CertStoreError) as caught:
        resolve_ids("no-such-user-eeszt", None)
    assert str(caught.value) == ("owner 'no-such-user-eeszt' does not exist on this host: create the user or set "
                                 "another owner")
    assert caught.value.code == "write_failed"
    with pytest.raises(CertStoreError) as caught:
        resolve_ids(None, "no-such-group-eeszt")
    assert str(caught.value) == ("group 'no-such-group-eeszt' does not exist on this host: create the group or set "
                                 "another group")
