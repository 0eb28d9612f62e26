# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the site registry (controller side): CSV and YAML into rows, and the problems found on the way.
:mod:`registry` validates the rows; both report through :class:`Problem` and :class:`RegistryError`."""

from __future__ import annotations

import csv
import io

import yaml

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

COLUMNS = ("host", "address", "user", "port", "connection", "become", "institution_id", "site_id",
           "environment", "pfx", "password_var", "tags")
REQUIRED = ("host", "institution_id", "site_id")
UNKNOWN_COLUMN = ("unknown column (known: %s; set extra_columns to ignore or hostvars to accept others)"
                  % ", ".join(COLUMNS))
# Deeper YAML nesting is no registry: refused before PyYAML, whose scanner
# slows down quadratically on deep flow nesting and whose composer recurses.
MAX_YAML_DEPTH = 64


class RegistryError(EESZTConnectError):
    """The registry cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("%d problem%s in the site registry:\n%s" % (
            len(self.problems), "" if len(self.problems) == 1 else "s",
            "\n".join("  - %s" % problem for problem in self.problems)))


class Problem:
    """One problem: file, row (``line 7`` / ``sites[3]`` / None for the whole file), field, message.

    ``row_level``: the problem is one row's only (the other rows can be used); False for a problem of the file
    (its header, its syntax), which no row can be trusted without.
    """

    __slots__ = ("path", "row", "field", "message", "row_level")

    def __init__(self, path, row, field, message, row_level=False):
        self.path = path
        self.row = row
        self.field = field if field is None or len(field) <= 60 else field[:60] + "..."
        self.message = message
        self.row_level = row_level

    def __str__(self):
        parts = [self.path]
        if self.row:
            parts.append(self.row)
        if self.field:
            parts.append("field %s" % self.field)
        return "%s: %s" % (", ".join(parts), self.message)

    def __repr__(self):
        return "Problem(%r, %r, %r, %r)" % (self.path, self.row, self.field, self.message)

    def __eq__(self, other):
        return isinstance(other, Problem) and str(self) == str(other)

    def __hash__(self):
        return hash(str(self))


def _delimiter(header_line):
    """``;`` for spreadsheets saved with a semicolon list separator (Hungarian locale), else ``,``."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def parse_csv(text, path, delimiter=None, extra_columns="error"):
    """Rows of a CSV registry: ([(location, {column: value})], problems).

    Unknown columns are reported once, on the header line, when ``extra_columns`` is ``error``.
    """
    problems = []
    lines = text.splitlines()
    first = next((line for line in lines if line.strip()), "")
    if not first:
        return [], [Problem(path, None, None, "the registry is empty: the first line must name the columns")]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter or _delimiter(first), strict=True)
    header = None
    rows = []
    try:
        for cells in reader:
            end = reader.line_num
            start = end - sum(cell.count("\n") for cell in cells)
            if not any(cell.strip() for cell in cells):
                continue
            if header is None:
                header, header_problems = _header(cells, path, "line %d" % start, extra_columns)
                problems.extend(header_problems)
                if header_problems:
                    return [], problems
                continue
            location = "line %d" % start
            if len(cells) > len(header):
                problems.append(Problem(path, location, None, "%d cells, but the header names only %d columns"
                                        % (len(cells), len(header)), row_level=True))
                continue
            cells = cells + [""] * (len(header) - len(cells))
            rows.append((location, dict(zip(header, (cell.strip() for cell in cells)))))
    except csv.Error as exc:
        problems.append(Problem(path, "line %d" % reader.line_num, None, "not valid CSV: %s" % exc))
    if header is None and not problems:
        problems.append(Problem(path, None, None, "the registry is empty: the first line must name the columns"))
    return rows, problems


def _header(cells, path, location, extra_columns):
    header = [cell.strip().lower() for cell in cells]
    problems = []
    seen = set()
    for name in header:
        if not name:
            problems.append(Problem(path, location, None, "a column has no name in the header"))
        elif name in seen:
            problems.append(Problem(path, location, name, "the column is named twice in the header"))
        elif name not in COLUMNS and extra_columns == "error":
            problems.append(Problem(path, location, name, UNKNOWN_COLUMN))
        seen.add(name)
    for name in REQUIRED:
        if name not in seen:
            problems.append(Problem(path, location, name, "required column missing from the header (columns: %s)"
                                    % ", ".join(COLUMNS)))
    return header, problems


class _DuplicateKeyError(yaml.constructor.ConstructorError):
    pass


class _RegistryLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping naming one key twice (PyYAML would keep the last)."""

    def construct_mapping(self, node, deep=False):
        if isinstance(node, yaml.MappingNode):
            self.flatten_mapping(node)
            seen = set()
            for key_node, dummy in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = (key_node.tag, key_node.value)
                    if key in seen:
                        raise _DuplicateKeyError(None, None, "the key %r is given twice in one mapping"
                                                 % short(key_node.value), key_node.start_mark)
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


def short(text, limit=60):
    return text if len(text) <= limit else text[:limit] + "..."


def quoted(value):
    """``repr`` of a value for a message, cut short: a huge cell must not make a huge message."""
    return repr(value) if len(value) <= 60 else repr(value[:60]) + "..."


def _flow_depth(text):
    """The deepest nesting of YAML flow collections ([ ], { }) outside quotes and comments."""
    depth = deepest = 0
    quote = None
    previous = "\n"
    for char in text:
        if quote:
            if char == quote:
                quote = None
        elif char in "'\"" and (previous in " \t\n[{,:" or depth):
            quote = char
        elif char == "#" and previous in " \t\n":
            quote = "\n"
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}" and depth:
            depth -= 1
        previous = char
    return deepest


def _load_yaml(text, path):
    """The YAML document in ``text``; (data, None) or (None, Problem)."""
    if _flow_depth(text) > MAX_YAML_DEPTH:
        return None, Problem(path, None, None, "not a site registry: YAML nested more than %d levels deep"
                             % MAX_YAML_DEPTH)
    try:
        return yaml.load(text, Loader=_RegistryLoader), None  # nosec B506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        location = "line %d" % (mark.line + 1) if mark is not None else None
        return None, Problem(path, location, None, "not valid YAML: %s" % getattr(exc, "problem", exc))
    except RecursionError:
        return None, Problem(path, None, None, "not a site registry: YAML nested too deeply")
    except ValueError as exc:  # such as an integer of more than 4300 digits
        return None, Problem(path, None, None, "not valid YAML: %s" % short("%s" % exc, 120))


def _key_text(key):
    if isinstance(key, int) and not isinstance(key, bool):
        return number_text(key)
    return ("%s" % (key,)).strip().lower()


def number_text(number):
    """``str(number)``, or a short marker for an integer too long to print (Python refuses > 4300 digits)."""
    try:
        return str(number)
    except ValueError:
        return "<an integer of %d bits>" % number.bit_length()


def parse_yaml(text, path):
    """Rows of a YAML registry (a list of sites, or a mapping with key ``sites``)."""
    data, problem = _load_yaml(text, path)
    if problem is not None:
        return [], [problem]
    prefix = ""
    if isinstance(data, dict):
        if set(data) != {"sites"}:
            return [], [Problem(path, None, None, "a YAML registry is a list of sites or a mapping with the single "
                                "key 'sites', got the keys %s" % ", ".join(sorted(short(_key_text(key))
                                                                                  for key in data)))]
        data = data["sites"]
        prefix = "sites"
    if data is None:
        return [], [Problem(path, None, None, "the registry lists no sites")]
    if not isinstance(data, list):
        return [], [Problem(path, None, None, "the sites must be a YAML list, got %s" % type(data).__name__)]
    rows = []
    problems = []
    for index, entry in enumerate(data):
        location = "%s[%d]" % (prefix, index)
        if not isinstance(entry, dict):
            problems.append(Problem(path, location, None, "a site must be a mapping, got %s" % type(entry).__name__,
                                    row_level=True))
            continue
        row = {}
        for key, value in entry.items():
            name = _key_text(key)
            if name in row:
                problems.append(Problem(path, location, short(name), "the field is given twice (its keys differ "
                                        "only in case or spaces)", row_level=True))
            row[name] = value
        rows.append((location, row))
    return rows, problems
