# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The OS-family code paths of the site roles, pinned without the OS (issue 25, point 4).

README "Supported sites" promises Debian (tested) and the Red Hat family (expected: EL 9). What differs
between them is chosen from role vars by ``ansible_facts.os_family``: the system trust store and its update
command, the stunnel package and program (tls_client), and root's group (certificate). These tests load
the roles' own defaults, vars and task files and template the tasks' own expressions, as Ansible does,
for os_family Debian, RedHat, an unknown family and no facts at all.
"""

import os

import pytest
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(ROOT, "roles")
LOADER = DataLoader()

DEBIAN = {
    "trust_dir": "/usr/local/share/ca-certificates",
    "trust_command": ["update-ca-certificates"],
    "packages": ["stunnel4"],
    "executable": "/usr/bin/stunnel4",
}
REDHAT = {
    "trust_dir": "/etc/pki/ca-trust/source/anchors",
    "trust_command": ["update-ca-trust", "extract"],
    "packages": ["stunnel"],
    "executable": "/usr/bin/stunnel",
}


def trusted(value):
    """Role files are trusted templates once Ansible loads them as part of a role; the same here."""
    if isinstance(value, str):
        return trust_as_template(value)
    if isinstance(value, dict):
        return dict((key, trusted(item)) for key, item in value.items())
    if isinstance(value, list):
        return [trusted(item) for item in value]
    return value


def load(role, kind, name="main.yml"):
    return trusted(LOADER.load_from_file(os.path.join(ROLES, role, kind, name)) or {})


def task(role, name, task_name):
    """The module arguments of the task named task_name in roles/<role>/tasks/<name>."""
    for entry in load(role, "tasks", name):
        if entry.get("name") == task_name:
            return dict((key, value) for key, value in entry.items() if "." in key), entry
    raise AssertionError("no task %r in roles/%s/tasks/%s" % (task_name, role, name))


def templar(role, facts, **extra):
    """Variables as a play sees them in the role: defaults, then vars, then facts and inventory."""
    variables = load(role, "defaults")
    variables.update(load(role, "vars"))
    if facts is not None:
        variables["ansible_facts"] = facts
    variables.update(extra)
    return Templar(loader=LOADER, variables=variables)


def tls_client_paths(facts, **extra):
    """What tasks/trust.yml and tasks/gateway.yml settle for these facts, through their own expressions."""
    tm = templar("tls_client", facts, **extra)
    trust, dummy = task("tls_client", "trust.yml", "Settle the system trust store's location")
    trust = tm.template(trust["ansible.builtin.set_fact"])
    gateway, dummy = task("tls_client", "gateway.yml", "Decide how the gateway runs")
    install, install_task = task("tls_client", "gateway.yml", "Install stunnel")
    return {
        "trust_dir": trust["__eeszt_tls_trust_dir"],
        "trust_command": trust["__eeszt_tls_trust_command"],
        "packages": tm.template(install["ansible.builtin.package"]["name"]),
        "install_when": tm.template(trusted("{{ %s }}" % " and ".join("(%s)" % c for c in install_task["when"]))),
        "executable": tm.template(gateway["ansible.builtin.set_fact"]["__eeszt_tls_gateway_executable"]),
        "service": tm.template(trusted("{{ eeszt_tls_gateway_service_name }}")),
    }


def assert_known(paths, expected):
    got = dict((key, paths[key]) for key in expected)
    assert got == expected
    assert paths["install_when"] is True
    assert paths["service"] == "eeszt-tls-gateway"


def test_debian_gets_ca_certificates_and_stunnel4():
    assert_known(tls_client_paths({"os_family": "Debian"}), DEBIAN)


def test_redhat_gets_p11_kit_anchors_and_stunnel():
    assert_known(tls_client_paths({"os_family": "RedHat"}), REDHAT)


def test_the_two_families_share_nothing_but_the_service_name():
    debian, redhat = tls_client_paths({"os_family": "Debian"}), tls_client_paths({"os_family": "RedHat"})
    for key in DEBIAN:
        assert debian[key] != redhat[key], key
    # The gateway is the collection's own unit (or daemon) on every family, never the distribution's stunnel service.
    assert debian["service"] == redhat["service"] == "eeszt-tls-gateway"


@pytest.mark.parametrize("facts", [{"os_family": "Windows"}, {"os_family": "Suse"}, {}, None],
                         ids=["windows", "suse", "facts-without-family", "no-facts"])
def test_an_unknown_family_gets_nothing_and_the_role_asks_for_the_variables(facts):
    paths = tls_client_paths(facts)
    assert paths["trust_dir"] is None and paths["trust_command"] is None and paths["executable"] is None
    assert paths["packages"] == [] and paths["install_when"] is False
    # The role's own asserts then fail, naming the variables to set (trust.yml, gateway.yml).
    trust_check, dummy = task("tls_client", "trust.yml", "Check that the system trust store is known")
    tm = templar("tls_client", facts, __eeszt_tls_trust_dir=paths["trust_dir"],
                 __eeszt_tls_trust_command=paths["trust_command"])
    assert [tm.template(trusted("{{ %s }}" % c)) for c in trust_check["ansible.builtin.assert"]["that"]] == [False, False]
    assert "eeszt_tls_system_trust_dir and eeszt_tls_system_trust_update_command" in \
        trust_check["ansible.builtin.assert"]["fail_msg"]
    gateway_check, dummy = task("tls_client", "gateway.yml", "Check that stunnel is known")
    tm = templar("tls_client", facts, __eeszt_tls_gateway_executable=paths["executable"])
    assert [tm.template(trusted("{{ %s }}" % c)) for c in gateway_check["ansible.builtin.assert"]["that"]] == [False]
    assert "set eeszt_tls_gateway_executable" in gateway_check["ansible.builtin.assert"]["fail_msg"]


@pytest.mark.parametrize("family", ["Debian", "RedHat", "Windows"])
def test_the_user_s_values_win_over_the_family_s(family):
    paths = tls_client_paths({"os_family": family}, eeszt_tls_system_trust_dir="/opt/trust",
                             eeszt_tls_system_trust_update_command=["/opt/bin/rehash"],
                             eeszt_tls_gateway_executable="/opt/bin/stunnel")
    assert (paths["trust_dir"], paths["trust_command"], paths["executable"]) == \
        ("/opt/trust", ["/opt/bin/rehash"], "/opt/bin/stunnel")


@pytest.mark.parametrize("facts, group", [
    ({"os_family": "Debian"}, "root"),
    ({"os_family": "RedHat"}, "root"),
    ({"os_family": "FreeBSD"}, "wheel"),
    ({"os_family": "Windows"}, None),
    (None, None),
], ids=["debian", "redhat", "freebsd", "unknown", "no-facts"])
def test_certificate_root_group_per_family(facts, group):
    tm = templar("certificate", facts)
    assert tm.template(trusted("{{ __eeszt_certificate_root_group }}")) == group


def test_the_families_in_vars_are_the_supported_ones():
    """A family added to the vars without a row in README's "Supported sites" (and a test here) is caught."""
    families = load("tls_client", "vars")["__eeszt_tls_os_families"]
    assert sorted(families) == ["Debian", "RedHat", "default"]
