# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No python file under plugins/ has more than 450 lines of code (issue 22, "Done when").

The rule: a line of code is a line of the file that holds part of a Python token other than a comment, and is
not blank, and does not lie within a module-level ``DOCUMENTATION``, ``EXAMPLES`` or ``RETURN`` string (Ansible's
documentation of a module or plugin, from its first line to its last). So blank lines, comment lines and those
three strings do not count; code, docstrings and every other string do (a blank line inside a docstring does not).

``OVER_THE_LIMIT`` is the explicit set of files allowed over the limit for now; a listed file that comes within the
limit, or is gone, fails until it leaves the set.
"""

import ast
import io
import os
import tokenize

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LIMIT = 450
DOC_STRINGS = ("DOCUMENTATION", "EXAMPLES", "RETURN")
NOT_CODE = (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER,
            tokenize.ENCODING)

OVER_THE_LIMIT = frozenset()


def documentation_lines(source):
    """The line numbers of the module-level DOCUMENTATION, EXAMPLES and RETURN strings."""
    lines = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant) and \
                isinstance(node.value.value, str) and \
                any(isinstance(target, ast.Name) and target.id in DOC_STRINGS for target in node.targets):
            lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def lines_of_code(source):
    """The number of lines of code in ``source`` by the rule of this module's docstring."""
    text = source.splitlines()
    code = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in NOT_CODE:
            code.update(range(token.start[0], token.end[0] + 1))
    return len([number for number in code - documentation_lines(source)
                if number <= len(text) and text[number - 1].strip()])


@pytest.fixture(scope="module")
def sizes():
    """Lines of code of every python file under plugins/, by its path from the repository root."""
    found = {}
    for directory, subdirectories, names in os.walk(os.path.join(ROOT, "plugins")):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                with open(path, encoding="utf-8") as handle:
                    found[os.path.relpath(path, ROOT).replace(os.sep, "/")] = lines_of_code(handle.read())
    return found


def test_no_plugin_file_has_more_than_450_lines_of_code(sizes):
    over = ["%s: %d lines of code" % (path, count) for path, count in sorted(sizes.items())
            if count > LIMIT and path not in OVER_THE_LIMIT]
    assert not over, "files under plugins/ over %d lines of code (blank lines, comments and DOCUMENTATION/EXAMPLES/" \
        "RETURN not counted); split them by what they hold:\n  %s" % (LIMIT, "\n  ".join(over))


def test_a_listed_file_within_the_limit_or_gone_leaves_the_set(sizes):
    stale = ["%s: %s" % (path, "%d lines of code" % sizes[path] if path in sizes else "gone")
             for path in sorted(OVER_THE_LIMIT) if sizes.get(path, 0) <= LIMIT]
    assert not stale, "take these out of OVER_THE_LIMIT in tests/unit/test_plugin_size.py:\n  %s" % "\n  ".join(stale)


def module(code_lines, blank=0, comments=0, documentation=0):
    """A module of exactly ``code_lines`` lines of code (a docstring of two lines, ``NAMES = (``, one name per line,
    ``)``), with ``blank`` blank lines, ``comments`` comment lines and DOCUMENTATION, EXAMPLES and RETURN strings
    of ``documentation`` + 8 lines, none of which count."""
    lines = ['"""A module', 'with a docstring of two lines."""', "# a comment"]
    lines += ["# comment %d" % number for number in range(comments)]
    lines += [("", "    ", "\t")[number % 3] for number in range(blank)]
    lines += ["DOCUMENTATION = r'''", "module: m"] + ["option_%d: x" % number for number in range(documentation)]
    lines += ["'''", "EXAMPLES = '''", "- m: {}", "'''", "RETURN = '''", "'''"]
    lines += ["NAMES = ("] + ["    'n%d',  # a comment after code is code" % number for number in range(code_lines - 4)]
    lines += [")"]
    return "\n".join(lines) + "\n"


def test_blank_lines_comments_and_the_documentation_strings_do_not_count():
    assert lines_of_code(module(10)) == 10
    assert lines_of_code(module(10, blank=7, comments=5, documentation=40)) == 10


def test_docstrings_and_other_strings_count_their_lines_but_not_their_blank_ones():
    source = '"""A docstring\n\nof three lines, one blank."""\nOTHER = """\nx\n"""\n  \t\n'
    assert lines_of_code(source) == 2 + 3
    assert lines_of_code("def f():\n    '''Doc.'''\n    DOCUMENTATION = '''\n    x\n    '''\n") == 2 + 3


@pytest.mark.parametrize("code_lines, over", [(LIMIT, False), (LIMIT + 1, True)])
def test_exactly_450_lines_of_code_pass_and_451_fail(code_lines, over):
    source = module(code_lines, blank=100, comments=100, documentation=300)
    assert lines_of_code(source) == code_lines
    assert (lines_of_code(source) > LIMIT) is over
