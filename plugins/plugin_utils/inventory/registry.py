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
Reading the files (CSV, YAML) is in ``registry_read``.

With ``extra_columns="hostvars"``, a column that could change how Ansible
connects or escalates, or that looks like a secret (:func:`protected_column`),
never becomes a host variable unless ``extra_columns_allow`` names it: it is
dropped for the whole file, and one warning per column names the file, the
column and the rows where it held a value (never the value).

With a ``refusals`` list, a problem of one row refuses that row only: the
valid rows are returned and each bad row is appended to ``refusals`` (see
:func:`refuse_rows`); a problem of the whole file still raises.
"""

from __future__ import annotations

import keyword
import os
import re

from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import (
    INSTITUTION_ID_PATTERN as DEFAULT_INSTITUTION_ID_PATTERN,
    SITE_ID_PATTERN as DEFAULT_SITE_ID_PATTERN,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.registry_read import (
    REQUIRED,
    UNKNOWN_COLUMN,
    Problem,
    RegistryError,
    number_text,
    parse_csv,
    parse_yaml,
    quoted,
    short,
)

DEFAULT_ENVIRONMENTS = ("test", "production")
DEFAULT_ENVIRONMENT = "test"

EXTRA_COLUMNS = ("error", "ignore", "hostvars")

# The collection's secret variables (every role option marked no_log; a unit test keeps this list complete).
SECRET_VARIABLES = (
    "eeszt_certificate_pfx_password", "eeszt_certificate_export_password", "eeszt_check_proxy_password",
    "eeszt_proofs_signing_pfx_password", "eeszt_proofs_signing_key_password", "eeszt_tls_java_keystore_password",
    "eeszt_tls_java_truststore_password", "eeszt_tls_proxy_username", "eeszt_tls_proxy_password",
)
# Connection, become and interpreter variables (ansible_*, including ansible_become*), the become keywords as
# variables (become, become_user, ...) and vault variables by convention (vault_*).
PROTECTED_PREFIXES = ("ansible_", "become", "vault_")
SECRET_WORDS = ("password", "passwd", "secret", "token", "private_key")
PROTECTED_RULE = ("columns named ansible_*, become* or like a secret (the collection's secret variables, vault_*, %s) "
                  "never become host variables" % ", ".join("*%s*" % word for word in SECRET_WORDS))
ROWS_NAMED = 10

HOST_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]*$")
NO_SPACE_RE = re.compile(r"^[^\s,]+$")
CONNECTION_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.]*$")
VARIABLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
TAG_RE = re.compile(r"^[A-Za-z0-9_]+$")
TAG_SPLIT_RE = re.compile(r"[;|]")
TEMPLATE_MARKERS = ("{{", "{%", "{#")
PORT_RE = re.compile(r"^[0-9]{1,5}$")
TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


def protected_column(name):
    """Whether an extra column ``name`` needs ``extra_columns_allow`` to become a host variable."""
    name = name.lower()
    return name in SECRET_VARIABLES or name.startswith(PROTECTED_PREFIXES) or any(word in name for word in SECRET_WORDS)


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
                  csv_delimiter=None, extra_columns_allow=(), warnings=None, refusals=None):
    """Read and validate the registry at ``path``; a list of site dicts, or RegistryError.

    ``warnings``, a list, receives one message per refused extra column (see :func:`protected_column`).
    ``refusals``, a list, receives one dict per bad row (:func:`refuse_rows`) instead of a RegistryError, when
    every problem is one row's; without it (or with a problem of the whole file) every problem is raised.
    """
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
                          check_pfx, extra_columns, extra_columns_allow)
    if fmt == "csv":
        rows, problems = parse_csv(text, path, csv_delimiter, extra_columns)
    else:
        rows, problems = parse_yaml(text, path)
    sites = validator.validate(rows)
    problems.extend(validator.problems)
    if warnings is not None:
        warnings.extend(validator.refusals())
    if problems:
        if refusals is None or not all(problem.row_level for problem in problems):
            raise RegistryError(problems)
        sites, refused = refuse_rows(path, rows, sites, problems)
        refusals.extend(refused)
    return sites


def placeholder_host(path, location, taken):
    """A safe inventory name for a row whose own host name cannot be used, made of the file and the row
    (``registry_csv_line_3``, ``registry_yml_sites_2``), unique among ``taken``."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", "%s %s" % (os.path.basename(path), location or "row")).strip("_")
    name, number = base, 1
    while name in taken:
        number += 1
        name = "%s_%d" % (base, number)
    return name


def refuse_rows(path, rows, sites, problems):
    """(the sites of the rows without a problem, one refusal per bad row), in the order of the file.

    A refusal is ``{host, file, line, field, reason, problems, placeholder}``: ``host`` is the row's own host
    name when it is a valid one that no kept site or earlier refusal uses, else :func:`placeholder_host`
    (``placeholder`` true, and ``reason`` says so); ``line`` is the row (``line 3``, ``sites[2]``), ``field`` the
    field of its first problem, ``reason`` all its problems as text. Nothing else of a bad row is used.
    """
    by_row = {}
    for problem in problems:
        by_row.setdefault(problem.row, []).append(problem)
    raw_rows = dict(rows)
    kept = [site for site in sites if site["location"] not in by_row]
    taken = set(site["host"] for site in kept)
    refused = []
    for location, found in by_row.items():
        candidate = (raw_rows.get(location) or {}).get("host")
        candidate = candidate.strip() if isinstance(candidate, str) else ""
        placeholder = not (candidate and len(candidate) <= 255 and HOST_RE.match(candidate)) or candidate in taken
        host = placeholder_host(path, location, taken) if placeholder else candidate
        taken.add(host)
        reasons = ["%s" % problem for problem in found]
        reason = "; ".join(reasons)
        if placeholder:
            reason += " (the row's host name cannot be used: it is listed as %s)" % host
        refused.append({"host": host, "file": path, "line": location, "field": found[0].field, "reason": reason,
                        "problems": reasons, "placeholder": placeholder})
    return kept, refused


class Validator:
    """Validates parsed rows; collects every problem instead of stopping at the first."""

    def __init__(self, path, institution_id_pattern=DEFAULT_INSTITUTION_ID_PATTERN,
                 site_id_pattern=DEFAULT_SITE_ID_PATTERN, environments=DEFAULT_ENVIRONMENTS,
                 default_environment=DEFAULT_ENVIRONMENT, check_pfx=True, extra_columns="error",
                 extra_columns_allow=()):
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
        self.allowed = frozenset(("%s" % name).strip().lower() for name in extra_columns_allow or ())
        self.refused = {}  # column -> locations of the rows where it held a value

    def problem(self, location, field, message):
        self.problems.append(Problem(self.path, location, field, message, row_level=location is not None))

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
                self.problem(location, "host", "duplicate host %s, first defined at %s" % (quoted(host), hosts[host]))
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
            return number_text(raw)
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
        self.problem(location, field, "%s is not %s" % (quoted(value), what))
        return None

    def _identifier(self, location, field, value, raw):
        regex = self.patterns[field]
        if regex.search(value):
            return value
        message = "%s does not match %s" % (quoted(value), regex.pattern)
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
        self.problem(location, "port", "%s is not a port number from 1 to 65535" % quoted(value))
        return None

    def _field_become(self, location, value, raw):
        word = value.lower()
        if word in TRUE_WORDS or word in FALSE_WORDS:
            return word in TRUE_WORDS
        self.problem(location, "become", "%s is not a boolean (true/false, yes/no)" % quoted(value))
        return None

    def _field_environment(self, location, value, raw):
        return self._environment(location, value, raw)

    def _environment(self, location, value, raw, default=False):
        if value in self.environments:
            return value
        source = "default_environment " if default else ""
        self.problem(location, "environment", "%sunknown environment %s (known: %s)"
                     % (source, quoted(value), ", ".join(self.environments)))
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
        self.problem(location, "password_var", "%s is not a variable name (letters, digits, '_')" % quoted(value))
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
                             "';' or '|')" % quoted(item))
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
        elif protected_column(field) and field not in self.allowed:
            self.refused.setdefault(field, []).append(location)
        else:
            site["vars"][field] = value

    def refusals(self):
        """One warning per extra column refused as a host variable: the file, the column, its rows."""
        messages = []
        for field, locations in self.refused.items():
            rows = ", ".join(locations[:ROWS_NAMED])
            if len(locations) > ROWS_NAMED:
                rows += " and %d more" % (len(locations) - ROWS_NAMED)
            messages.append("%s: the column %s is not set as a host variable (rows: %s): with extra_columns: hostvars, "
                            "%s; list it in extra_columns_allow if the registry may set it"
                            % (self.path, short(field), rows, PROTECTED_RULE))
        return messages
