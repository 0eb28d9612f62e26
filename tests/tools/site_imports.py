# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Python file imports, read from its syntax tree: for the tests that keep site-side code on the
standard library (sites have no ``cryptography``)."""

import ast
import os


def imported_modules(path):
    """The modules a file imports (``import x`` and ``from x import y``), by their full names."""
    imported = set()
    with open(path) as handle:
        tree = ast.parse(handle.read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


def assert_standard_library_only(path, stdlib_allowed, own_allowed):
    """``path`` imports only the given standard modules and the collection's own ``own_allowed`` files, and
    those import nothing but ``__future__``."""
    imported = imported_modules(path)
    own = set(name for name in imported if name.startswith("ansible_collections."))
    assert own <= set(own_allowed), sorted(own - set(own_allowed))
    outside = set(name.split(".")[0] for name in imported - own) - set(stdlib_allowed)
    assert not outside, sorted(outside)
    for name in own:
        helper = os.path.join(os.path.dirname(path), name.rsplit(".", 1)[1] + ".py")
        assert set(module.split(".")[0] for module in imported_modules(helper)) <= {"__future__"}, helper
