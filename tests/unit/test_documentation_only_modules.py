# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``plugins/modules/`` reads at a glance (issue 22): a module file without ``main()`` runs nowhere, its action
plugin does the work on the controller, and its first line says so and names that action's file."""

import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
PREFIX = "# Documentation only: "


def has_main(path):
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    return any(isinstance(node, ast.FunctionDef) and node.name == "main" for node in tree.body)


def first_line(path):
    with open(path) as handle:
        return handle.readline().rstrip("\n")


@pytest.mark.parametrize("path", MODULES, ids=[os.path.basename(path) for path in MODULES])
def test_a_module_without_main_says_so_in_its_first_line(path):
    name = os.path.basename(path)[:-3]
    line = first_line(path)
    if has_main(path):
        assert not line.startswith(PREFIX), "%s runs on a site: it is not documentation only" % path
        return
    expected = "%sthe action plugin eeszt.connect.%s (plugins/action/%s.py) does the work on the controller." % (
        PREFIX, name, name)
    assert line == expected
    assert os.path.isfile(os.path.join(ROOT, "plugins", "action", name + ".py"))


def test_both_kinds_are_there():
    kinds = set(has_main(path) for path in MODULES)
    assert kinds == {True, False}
