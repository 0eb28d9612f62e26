# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a Python file imports, read from its source (the tier tests: tests/unit/test_tiers.py,
tests/unit/test_import_tiers.py)."""

import ast


def imported(path):
    """Every module a file imports, by its full name (anywhere in the file); a relative import fails."""
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, "%s: relative import" % path
            names.add(node.module)
    return names
