# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Roles talk only through public facts and documented variables: no role names another role's private
(``__``) variables, and the default paths of the site are stated once (docs/architecture.md)."""

import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = os.path.join(ROOT, "roles")
# Each role's private prefix.
PRIVATE = {"certificate": "__eeszt_certificate_", "tls_client": "__eeszt_tls_", "connection_check": "__eeszt_check_",
           "proofs": "__eeszt_proofs_", "lab": "__eeszt_lab_"}
NAME = re.compile(r"__eeszt_[a-z0-9_]+")


def role_texts(role):
    for base, dummy, names in os.walk(os.path.join(ROLES, role)):
        for name in names:
            if name.endswith((".yml", ".yaml", ".j2")):
                path = os.path.join(base, name)
                with open(path, encoding="utf-8") as handle:
                    yield os.path.relpath(path, ROOT), handle.read()


@pytest.mark.parametrize("role", sorted(PRIVATE))
def test_no_role_names_another_role_s_private_variables(role):
    foreign = []
    for path, text in role_texts(role):
        for name in sorted(set(NAME.findall(text))):
            if not name.startswith(PRIVATE[role]):
                foreign.append("%s: %s" % (path, name))
    assert foreign == []


def test_the_check_would_see_a_foreign_name():
    assert NAME.findall("{{ __eeszt_check.passed }}") == ["__eeszt_check"]
    assert not "__eeszt_check".startswith(PRIVATE["proofs"])


def test_the_default_site_paths_are_stated_once():
    from ansible_collections.eeszt.connect.plugins.module_utils.common.paths import SITE_PATHS
    stated = []
    for role in PRIVATE:
        for path, text in role_texts(role):
            if "/defaults/" in path or "/vars/" in path:
                for line in text.splitlines():
                    if not line.lstrip().startswith("#") and any(value in line for value in SITE_PATHS.values()):
                        stated.append("%s: %s" % (path, line.strip()))
    for base, dummy, names in os.walk(os.path.join(ROOT, "plugins")):
        for name in names:
            if name.endswith(".py") and name != "paths.py":
                with open(os.path.join(base, name), encoding="utf-8") as handle:
                    for line in handle:
                        if re.search(r"default=[\"'](%s)[\"']" % "|".join(map(re.escape, SITE_PATHS.values())), line):
                            stated.append("%s: %s" % (name, line.strip()))
    assert stated == []
    assert SITE_PATHS["certificate_dir"] == "/etc/eeszt/tls"  # DESIGN.md's default of eeszt_certificate_dir
