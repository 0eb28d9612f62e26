# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site registry: a CSV or YAML list of sites, parsed and validated.

Controller-side only; used by the ``eeszt.connect.sites`` inventory plugin and
directly by tests. ``load_registry`` reads one file and either returns one
``dict`` per site or raises ``RegistryError`` carrying *every* problem found,
each naming the file, the row (``line N`` in CSV, ``sites[N]`` in YAML) and
the field.

A returned site has the keys ``host``, ``institution_id``, ``site_id``,
``environment``, ``tags`` (list) and ``vars`` (extra columns, see
``extra_columns``) always, and ``address``, ``user``, ``port`` (int),
``connection``, ``become`` (bool), ``pfx`` (absolute path) and
``password_var`` when the row sets them; ``location`` names the row.
"""

from __future__ import annotations

import csv
import io
import keyword
import os
import re

import yaml

from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError

DEFAULT_INSTITUTION_ID_PATTERN = r"^[0-9]{6}$"
DEFAULT_SITE_ID_PATTERN = r"^[0-9A-Za-z]{9}$"
DEFAULT_ENVIRONMENTS = ("test", "production")
DEFAULT_ENVIRONMENT = "test"

COLUMNS = ("host", "address", "user", "port", "connection", "become", "institution_id", "site_id",
           "environment", "pfx", "password_var", "tags")
REQUIRED = ("host", "institution_id", "site_id")
EXTRA_COLUMNS = ("error", "ignore", "hostvars")

HOST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
NO_SPACE_RE = re.compile(r"^[^\s,]+$")
CONNECTION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.]*$")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_]+$")
TAG_SPLIT_RE = re.compile(r"[;|]")
TEMPLATE_MARKERS = ("{{", "{%", "{#")
UNKNOWN_COLUMN = ("unknown column (known: %s; set extra_columns to ignore or hostvars to accept others)"
                  % ", ".join(COLUMNS))
PORT_RE = re.compile(r"^[0-9]{1,5}$")
# Deeper YAML nesting is no registry: refused before PyYAML, whose scanner
# slows down quadratically on deep flow nesting and whose composer recurses.
MAX_YAML_DEPTH = 64
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


class RegistryError(EESZTConnectError):
    """The registry cannot be used; ``problems`` lists every reason."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("%d problem%s in the site registry:\n%s" % (
            len(self.problems), "" if len(self.problems) == 1 else "s",
            "\n".join("  - %s" % problem for problem in self.problems)))


class Problem:
    """One problem: file, row (``line 7`` / ``sites[3]`` / None for the whole file), field, message."""

    __slots__ = ("path", "row", "field", "message")

    def __init__(self, path, row, field, message):
        self.path = path
        self.row = row
        self.field = field if field is None or len(field) <= 60 else field[:60] + "..."
        self.message = message

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


def registry_format(path, declared="auto"):
    """``csv`` or ``yaml``, from ``declared`` or else from the file name's extension."""
    if declared in ("csv", "yaml"):
        return declared
    extension = os.path.splitext(path)[1].lower()
    if extension in (".csv", ".txt"):
        return "csv"
    if extension in (".yml", ".yaml", ".json"):
        return "yaml"
    raise RegistryError([Problem(path, None, None,
                                 "cannot tell the format from the extension %r: name the file .csv, .yml or "
                                 ".yaml, or set the format option" % extension)])


def load_registry(path, fmt="auto", institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN,
                  site_id_pattern=DEFAULT_SITE_ID_PATTERN, environments=DEFAULT_ENVIRONMENTS,
                  default_environment=DEFAULT_ENVIRONMENT, check_pfx=True, extra_columns="error",
                  csv_delimiter=None):
    """Read and validate the registry at ``path``; a list of site dicts, or RegistryError."""
    path = os.path.abspath(path)
    fmt = registry_format(path, fmt)
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as exc:
        raise RegistryError([Problem(path, None, None, "cannot read the registry: %s" % (exc.strerror or exc))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RegistryError([Problem(path, None, None,
                                     "not UTF-8 text (byte %d); save the spreadsheet as CSV UTF-8" % exc.start)])
    validator = Validator(path, institution_id_pattern, site_id_pattern, environments, default_environment,
                          check_pfx, extra_columns)
    if fmt == "csv":
        rows, problems = parse_csv(text, path, csv_delimiter, extra_columns)
    else:
        rows, problems = parse_yaml(text, path)
    sites = validator.validate(rows)
    problems.extend(validator.problems)
    if problems:
        raise RegistryError(problems)
    return sites


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
                                        % (len(cells), len(header))))
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
                                                 % _short(key_node.value), key_node.start_mark)
                    seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _short(text, limit=60):
    return text if len(text) <= limit else text[:limit] + "..."


def _quoted(value):
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
        return None, Problem(path, None, None, "not valid YAML: %s" % _short("%s" % exc, 120))


def _key_text(key):
    if isinstance(key, int) and not isinstance(key, bool):
        return _number_text(key)
    return ("%s" % (key,)).strip().lower()


def _number_text(number):
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
                                "key 'sites', got the keys %s" % ", ".join(sorted(_short(_key_text(key))
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
            problems.append(Problem(path, location, None, "a site must be a mapping, got %s" % type(entry).__name__))
            continue
        row = {}
        for key, value in entry.items():
            name = _key_text(key)
            if name in row:
                problems.append(Problem(path, location, _short(name), "the field is given twice (its keys differ "
                                        "only in case or spaces)"))
            row[name] = value
        rows.append((location, row))
    return rows, problems


class Validator:
    """Validates parsed rows; collects every problem instead of stopping at the first."""

    def __init__(self, path, institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN,
                 site_id_pattern=DEFAULT_SITE_ID_PATTERN, environments=DEFAULT_ENVIRONMENTS,
                 default_environment=DEFAULT_ENVIRONMENT, check_pfx=True, extra_columns="error"):
        self.path = path
        self.base_dir = os.path.dirname(os.path.abspath(path))
        self.patterns = {}
        self.problems = []
        for field, pattern in (("institution_id", institution_id_pattern), ("site_id", site_id_pattern)):
            try:
                self.patterns[field] = re.compile(pattern)
            except re.error as exc:
                raise RegistryError([Problem(path, None, field, "the pattern %r is not a valid regular expression: %s"
                                             % (pattern, exc))])
        self.environments = list(environments)
        self.default_environment = default_environment
        self.check_pfx = check_pfx
        if extra_columns not in EXTRA_COLUMNS:
            raise ValueError("extra_columns must be one of %s" % ", ".join(EXTRA_COLUMNS))
        self.extra_columns = extra_columns

    def problem(self, location, field, message):
        self.problems.append(Problem(self.path, location, field, message))

    def validate(self, rows):
        """The valid sites of ``rows``; problems (this call's and earlier ones) in ``self.problems``."""
        sites = []
        hosts = {}
        pairs = {}
        for location, row in rows:
            site = self.site(location, row)
            if site is None:
                continue
            host = site["host"]
            if host in hosts:
                self.problem(location, "host", "duplicate host %s, first defined at %s" % (_quoted(host), hosts[host]))
                continue
            pair = (site["institution_id"], site["site_id"])
            if pair in pairs:
                self.problem(location, "site_id", "institution %s already has site %s at %s"
                             % (pair[0], pair[1], pairs[pair]))
                continue
            hosts[host] = location
            pairs[pair] = location
            sites.append(site)
        return sites

    def site(self, location, row):
        """One validated site dict, or None after recording its problems."""
        before = len(self.problems)
        values = {}
        unreadable = set()
        for field, raw in row.items():
            value = self._text(location, field, raw)
            if value is None:
                unreadable.add(field)
            elif value != "":
                values[field] = value
        site = {"location": location, "tags": [], "vars": {}}
        for field in REQUIRED:
            if field not in values and field not in unreadable:
                self.problem(location, field, "required, but empty")
        for field in sorted(values):
            handler = getattr(self, "_field_%s" % field, None)
            if handler is None:
                self._extra(location, field, values[field], site)
                continue
            result = handler(location, values[field], row.get(field))
            if result is not None:
                site[field] = result
        if "environment" not in values and "environment" not in unreadable:
            site["environment"] = self._environment(location, self.default_environment, None, default=True)
        return site if len(self.problems) == before else None

    def _text(self, location, field, raw, nested=False):
        """A cell as text (a flat list only for tags); None after recording a problem."""
        if raw is None:
            return ""
        if field == "tags" and isinstance(raw, list) and not nested:
            items = [self._text(location, field, item, nested=True) for item in raw]
            return None if None in items else items
        if isinstance(raw, bool):
            if field == "become":
                return "true" if raw else "false"
            self.problem(location, field, "expected text, got the boolean %s (quote it)" % str(raw).lower())
            return None
        if isinstance(raw, (int, float)):
            return _number_text(raw)
        if not isinstance(raw, str):
            self.problem(location, field, "expected %s, got %s" % ("a tag (text)" if nested else "text",
                                                                   type(raw).__name__))
            return None
        value = raw.strip()
        if any(marker in value for marker in TEMPLATE_MARKERS):
            self.problem(location, field, "must not contain a Jinja2 template ({{, {%, {#)")
            return None
        return value

    def _match(self, location, field, value, regex, what):
        if regex.match(value):
            return value
        self.problem(location, field, "%s is not %s" % (_quoted(value), what))
        return None

    def _identifier(self, location, field, value, raw):
        regex = self.patterns[field]
        if regex.search(value):
            return value
        message = "%s does not match %s" % (_quoted(value), regex.pattern)
        if not isinstance(raw, str) and raw is not None:
            message += " (write identifiers as quoted strings in YAML)"
        elif value.isdigit():
            padded = next((value.zfill(width) for width in range(len(value) + 1, len(value) + 4)
                           if regex.search(value.zfill(width))), None)
            if padded:
                message += " (a spreadsheet may have dropped leading zeros: %r?)" % padded
        self.problem(location, field, message)
        return None

    def _field_host(self, location, value, raw):
        return self._match(location, "host", value, HOST_RE,
                           "a valid inventory host name (letters, digits, '.', '-', '_')")

    def _field_address(self, location, value, raw):
        return self._match(location, "address", value, NO_SPACE_RE, "a host name or IP address")

    def _field_user(self, location, value, raw):
        return self._match(location, "user", value, NO_SPACE_RE, "a user name (no spaces or commas)")

    def _field_connection(self, location, value, raw):
        return self._match(location, "connection", value, CONNECTION_RE,
                           "a connection plugin name (such as ssh, local or ansible.builtin.ssh)")

    def _field_institution_id(self, location, value, raw):
        return self._identifier(location, "institution_id", value, raw)

    def _field_site_id(self, location, value, raw):
        return self._identifier(location, "site_id", value, raw)

    def _field_port(self, location, value, raw):
        if PORT_RE.match(value) and 1 <= int(value) <= 65535:
            return int(value)
        self.problem(location, "port", "%s is not a port number from 1 to 65535" % _quoted(value))
        return None

    def _field_become(self, location, value, raw):
        word = value.lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        self.problem(location, "become", "%s is not a boolean (true/false, yes/no)" % _quoted(value))
        return None

    def _field_environment(self, location, value, raw):
        return self._environment(location, value, raw)

    def _environment(self, location, value, raw, default=False):
        if value in self.environments:
            return value
        source = "default_environment " if default else ""
        self.problem(location, "environment", "%sunknown environment %s (known: %s)"
                     % (source, _quoted(value), ", ".join(self.environments)))
        return None

    def _field_pfx(self, location, value, raw):
        path = os.path.normpath(os.path.join(self.base_dir, os.path.expanduser(value)))
        if self.check_pfx and not os.path.isfile(path):
            self.problem(location, "pfx", "PFX file %s not found (paths are relative to the registry's directory)"
                         % path)
            return None
        return path

    def _field_password_var(self, location, value, raw):
        if VARIABLE_RE.match(value) and not keyword.iskeyword(value):
            return value
        self.problem(location, "password_var", "%s is not a variable name (letters, digits, '_')" % _quoted(value))
        return None

    def _field_tags(self, location, value, raw):
        items = value if isinstance(value, list) else TAG_SPLIT_RE.split(value)
        tags = []
        for item in items:
            item = item.strip()
            if not item:
                continue
            if not TAG_RE.match(item):
                self.problem(location, "tags", "tag %s may hold only letters, digits and '_' (separate tags with "
                             "';' or '|')" % _quoted(item))
                return None
            if item not in tags:
                tags.append(item)
        return tags

    def _extra(self, location, field, value, site):
        if self.extra_columns == "ignore":
            return
        if self.extra_columns == "error":
            self.problem(location, field, UNKNOWN_COLUMN)
        elif not VARIABLE_RE.match(field) or keyword.iskeyword(field):
            self.problem(location, field, "an extra column must be named like a variable to become a host variable")
        else:
            site["vars"][field] = value
