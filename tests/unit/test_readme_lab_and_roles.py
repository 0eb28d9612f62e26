# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 27 §9: README names the lab's port variable and its default, and its roles table lists every role."""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def readme():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        return handle.read()


def test_readme_names_the_lab_port_variable_and_its_default():
    with open(os.path.join(ROOT, "roles", "lab", "defaults", "main.yml"), encoding="utf-8") as handle:
        default = yaml.safe_load(handle)["eeszt_lab_waf_port"]
    port = re.search(r"'EESZT_LAB_WAF_PORT', default='(\d+)'", default).group(1)
    lab = readme().split("## The rehearsal lab")[1].split("\n## ")[0]
    assert "`EESZT_LAB_WAF_PORT`" in lab and "port `%s` by default" % port in lab


def test_readme_roles_table_lists_every_role():
    roles = sorted(name for name in os.listdir(os.path.join(ROOT, "roles"))
                   if os.path.isfile(os.path.join(ROOT, "roles", name, "meta", "argument_specs.yml")))
    table = readme().split("## Roles")[1].split("\n## ")[0]
    listed = sorted(re.findall(r"^\| `eeszt\.connect\.(\w+)` \| \[roles/\1/README\.md\]\(roles/\1/README\.md\) \|$",
                               table, re.M))
    assert listed == roles and "proofs" in roles
