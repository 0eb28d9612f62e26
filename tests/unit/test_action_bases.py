# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seam between controller and site has two bases and one rule (issue 22, docs/architecture.md).

- Every ``plugins/action/*.py`` derives its ``ActionModule`` from exactly one of the two bases of
  ``plugins/plugin_utils/common/action_module.py``: ``ControllerAction`` (the work is wholly on the controller)
  or ``SiteAction`` (prepared on the controller, then one or more modules run on the site).
- Only the bases run modules and validate argument specs: no other file under ``plugins/`` calls
  ``_execute_module`` or ``validate_argument_spec``.

Read from the source with ``ast``: nothing is imported or run.
"""

import ast
import glob
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(ROOT, "plugins")
ACTIONS = sorted(glob.glob(os.path.join(PLUGINS, "action", "*.py")))
BASES_FILE = os.path.join(PLUGINS, "plugin_utils", "common", "action_module.py")
BASES_MODULE = "ansible_collections.eeszt.connect.plugins.plugin_utils.common.action_module"
BASES = ("ControllerAction", "SiteAction")
RESERVED = ("_execute_module", "validate_argument_spec")


def parsed(path):
    with open(path) as handle:
        return ast.parse(handle.read(), path)


def called_name(call):
    """The name a call calls: ``f`` for ``f(...)``, ``m`` for ``x.y.m(...)``."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return None


def reserved_calls(path):
    """``name:line`` of each call of ``_execute_module`` or ``validate_argument_spec`` in ``path``."""
    return ["%s:%d" % (called_name(node), node.lineno) for node in ast.walk(parsed(path))
            if isinstance(node, ast.Call) and called_name(node) in RESERVED]


def test_there_are_action_plugins_to_check():
    names = set(os.path.basename(path)[:-3] for path in ACTIONS)
    assert {"waf_certificate", "connection_check", "tls_clock_skew", "proofs_archive", "site_preflight",
            "ca_bundle", "lab_waf"} <= names


@pytest.mark.parametrize("path", ACTIONS, ids=[os.path.basename(path) for path in ACTIONS])
def test_action_module_derives_from_exactly_one_of_the_two_bases(path):
    tree = parsed(path)
    classes = [node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "ActionModule"]
    assert len(classes) == 1, "%s: one class ActionModule at the top level" % path
    bases = classes[0].bases
    assert len(bases) == 1 and isinstance(bases[0], ast.Name) and bases[0].id in BASES, (
        "%s: ActionModule(%s), expected exactly one of %s" % (path, ", ".join(ast.dump(base) for base in bases), BASES))
    imported = dict((alias.asname or alias.name, node.module) for node in tree.body if isinstance(node, ast.ImportFrom)
                    for alias in node.names)
    assert imported.get(bases[0].id) == BASES_MODULE, "%s: %s must come from %s" % (path, bases[0].id, BASES_MODULE)


@pytest.mark.parametrize("path", ACTIONS, ids=[os.path.basename(path) for path in ACTIONS])
def test_an_action_neither_runs_a_module_nor_validates_a_spec_itself(path):
    assert reserved_calls(path) == [], "%s: only the bases (%s) may call %s" % (path, BASES_FILE, " or ".join(RESERVED))


def test_no_other_file_under_plugins_runs_a_module_or_validates_a_spec():
    others = [path for path in glob.glob(os.path.join(PLUGINS, "**", "*.py"), recursive=True)
              if os.path.abspath(path) != BASES_FILE]
    found = dict((os.path.relpath(path, ROOT), reserved_calls(path)) for path in others)
    assert dict((path, calls) for path, calls in found.items() if calls) == {}


def test_the_bases_are_where_those_calls_are():
    """The rule has a home: each base is defined there, and each reserved call is made there (not only banned)."""
    tree = parsed(BASES_FILE)
    assert set(BASES) <= set(node.name for node in tree.body if isinstance(node, ast.ClassDef))
    assert set(call.split(":")[0] for call in reserved_calls(BASES_FILE)) == set(RESERVED)
