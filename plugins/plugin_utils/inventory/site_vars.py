# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of a site's variables on the controller, before any site is touched.

Used by the action plugin ``eeszt.connect.site_preflight``. Two layers:

* ``validate_options`` runs a role's own ``meta/argument_specs.yml`` (types,
  choices, required) with Ansible's ``ArgumentSpecValidator``: the role's
  argument specs stay the single source of truth for what they can express.
* ``check_identity`` and ``check_values`` check what argument specs cannot
  express: identifier patterns (the rules of the site registry), ranges,
  URL shapes, absolute paths, relations between variables.

Every function returns a list of ``Problem`` (never raises for bad input);
a secret's value is never part of a problem.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.eeszt.connect.plugins.module_utils.proofs.operator_files import pattern_problem
from ansible_collections.eeszt.connect.plugins.module_utils.common.identifiers import (
    INSTITUTION_ID_PATTERN as DEFAULT_INSTITUTION_ID_PATTERN,
    SITE_ID_PATTERN as DEFAULT_SITE_ID_PATTERN,
)

HIDDEN = "(secret, not shown)"
MAX_SHOWN = 120
# An HTTP token (RFC 9110), as the connection check's probe accepts it (it sends the method upper-cased).
METHOD_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
PROXY_RE = re.compile(r"^https?://[^/@\s]+/?$")
KEY_MODE_RE = re.compile(r"^0?[0-7]{3}$")
CREDENTIALS_RE = re.compile(r"//[^/@]*@")

# Site-side paths: the modules write or read them on the site, relative paths would depend on the
# connecting user's working directory.
SITE_PATHS = (
    "eeszt_certificate_dir", "eeszt_tls_ca_bundle", "eeszt_tls_certificate_dir", "eeszt_tls_client_cert",
    "eeszt_tls_client_key", "eeszt_tls_config_dir", "eeszt_tls_java_keystore", "eeszt_tls_java_truststore",
    "eeszt_tls_hosts_file", "eeszt_tls_system_trust_dir", "eeszt_tls_gateway_config", "eeszt_tls_gateway_run_dir",
    "eeszt_check_client_cert", "eeszt_check_client_key", "eeszt_check_ca_bundle", "eeszt_check_proof_dir",
    "eeszt_check_metrics_dir", "eeszt_proofs_proof_dir",
)
# (variable, smallest allowed value, strictly greater?)
LOWER_BOUNDS = (
    ("eeszt_certificate_min_days", 0, False),
    ("eeszt_certificate_warn_days", 0, False),
    ("eeszt_certificate_backups", 0, False),
    ("eeszt_certificate_lock_timeout", 0, False),
    ("eeszt_tls_ca_warn_days", 0, False),
    ("eeszt_tls_clock_skew_max", 0, False),
    ("eeszt_tls_gateway_connect_timeout", 0, True),
    ("eeszt_check_timeout", 0, True),
    ("eeszt_proofs_warn_days", 0, False),
    ("eeszt_proofs_stale_hours", 0, True),
    ("eeszt_proofs_operator_files_max_bytes", 0, True),
    ("eeszt_proofs_lock_timeout", 0, False),
    ("eeszt_proofs_clock_tolerance", 0, False),
)
PROXIES = ("eeszt_tls_proxy", "eeszt_check_proxy")


class Problem:
    """One bad variable: its name, the value as shown (None: not shown), what is wrong and what to do."""

    __slots__ = ("variable", "shown", "message", "remedy")

    def __init__(self, variable, shown, message, remedy):
        self.variable = variable
        self.shown = shown
        self.message = message
        self.remedy = remedy

    def __str__(self):
        value = "" if self.shown is None else " = %s" % self.shown
        return "%s%s: %s; %s" % (self.variable, value, self.message, self.remedy)

    def __repr__(self):
        return "Problem(%r)" % str(self)

    def as_dict(self):
        return {"variable": self.variable, "value": self.shown, "message": self.message, "remedy": self.remedy}


def show(value, secret=False):
    """A value as it may appear in a message: JSON, shortened; secrets are never shown."""
    if secret:
        return HIDDEN
    try:
        text = json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    if isinstance(value, str):
        text = CREDENTIALS_RE.sub("//***@", text)
    return text if len(text) <= MAX_SHOWN else text[:MAX_SHOWN - 3] + "..."


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# --- identity ---------------------------------------------------------------------------------------------


def compile_pattern(variable, pattern, problems):
    """The compiled pattern, or None after recording why it cannot be used."""
    if not isinstance(pattern, str) or not pattern:
        problems.append(Problem(variable, show(pattern), "is not a regular expression",
                                "set it to a regular expression such as %s, or remove it for the default"
                                % show(DEFAULT_INSTITUTION_ID_PATTERN)))
        return None
    try:
        return re.compile(pattern)
    except re.error as exc:
        problems.append(Problem(variable, show(pattern), "is not a valid regular expression (%s)" % exc,
                                "correct the pattern, or remove it for the default"))
        return None


def identifier_problem(variable, value, regex, pattern_variable, site_id=None):
    """A Problem when ``value`` does not match ``regex`` (the site registry's rules), else None.

    Hints, as the registry gives them: an unquoted YAML number, or leading zeros a spreadsheet dropped. For an
    institution ID, ``site_id`` (the host's site ID, which begins with its institution's ID) is the better
    guess: its prefix is suggested when it matches the pattern and holds the value at its start or end.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return Problem(variable, None, "is required but not set",
                       "set it for this host in the inventory or the site registry")
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return Problem(variable, show(value), "must be text, not %s" % type(value).__name__,
                       "write identifiers as quoted strings")
    text = str(value).strip()
    if regex.search(text):
        return None
    remedy = "correct the value, or override the pattern with %s when the registry's format changed" % (
        pattern_variable)
    if not isinstance(value, str):
        remedy = "write identifiers as quoted strings in YAML (leading zeros are lost otherwise), or " + remedy
    prefix = site_id_prefix(text, regex, site_id)
    if prefix:
        remedy = "the site ID %s begins with %s: is that the institution ID?; or %s" % (
            show(str(site_id).strip()), show(prefix), remedy)
    elif text.isdigit():
        padded = next((text.zfill(width) for width in range(len(text) + 1, len(text) + 4)
                       if regex.search(text.zfill(width))), None)
        if padded:
            remedy = "a spreadsheet may have dropped leading zeros: %s?; or %s" % (show(padded), remedy)
    return Problem(variable, show(value), "does not match %s" % regex.pattern, remedy)


def site_id_prefix(text, regex, site_id):
    """The beginning of ``site_id`` that matches ``regex`` and holds ``text`` at its start or end (a digit
    lost at either end), else None."""
    if not isinstance(site_id, (str, int)) or isinstance(site_id, bool) or not text:
        return None
    site = str(site_id).strip()
    for width in range(len(text), len(text) + 4):
        prefix = site[:width]
        if len(prefix) == width and prefix != text and (prefix.startswith(text) or prefix.endswith(text)) \
                and regex.search(prefix):
            return prefix
    return None


def check_identity(values, environments, required=True):
    """Problems of the site's identity: institution and site IDs, environment.

    ``values`` holds the host's (templated) variables; the patterns come from
    ``eeszt_check_*_pattern``, else ``eeszt_*_pattern``, else the site registry's defaults.
    With ``required`` false (no role to check needs them), unset IDs are no problem.
    """
    problems = []
    for field, default in (("institution_id", DEFAULT_INSTITUTION_ID_PATTERN),
                           ("site_id", DEFAULT_SITE_ID_PATTERN)):
        if not required and values.get("eeszt_%s" % field) is None:
            continue
        pattern_variable = "eeszt_check_%s_pattern" % field
        if values.get(pattern_variable) is None:
            pattern_variable = "eeszt_%s_pattern" % field
        pattern = values.get(pattern_variable)
        regex = compile_pattern(pattern_variable, default if pattern is None else pattern, problems)
        if regex is not None:
            problem = identifier_problem("eeszt_%s" % field, values.get("eeszt_%s" % field), regex, pattern_variable,
                                         values.get("eeszt_site_id") if field == "institution_id" else None)
            if problem:
                problems.append(problem)
    environment = values.get("eeszt_environment")
    if environment is not None and environment not in environments:
        problems.append(Problem("eeszt_environment", show(environment),
                                "is not a known EESZT environment (known: %s)" % ", ".join(environments),
                                "set it to one of them (the default is test)"))
    return problems


# --- role argument specs ----------------------------------------------------------------------------------


def spec_options(spec_document, role, entry_point="main"):
    """The ``options`` of one entry point of a role's ``meta/argument_specs.yml`` document."""
    try:
        return spec_document["argument_specs"][entry_point].get("options") or {}
    except (KeyError, TypeError, AttributeError):
        raise ValueError("role %s has no argument spec entry point %r" % (role, entry_point))


def secret_options(options):
    """Names of the options marked no_log."""
    return frozenset(name for name, spec in options.items() if (spec or {}).get("no_log"))


def validate_options(options, values, role):
    """Validate ``values`` (name -> templated value) with a role's argument spec options.

    Returns (validated parameters, problems). None values count as not set,
    as Ansible's role argument validation treats a null default. Messages
    that would mention a secret option's value are replaced by one that only
    names it.
    """
    secrets = secret_options(options)
    provided = dict((name, value) for name, value in values.items() if name in options and value is not None)
    result = ArgumentSpecValidator(options).validate(provided, validate_role_argument_spec=True)
    problems = []
    remedy = "see ansible-doc -t role eeszt.connect.%s (its argument spec)" % role
    for message in result.error_messages:
        names = sorted((name for name in options if re.search(r"\b%s\b" % re.escape(name), message)),
                       key=message.find)
        variable = names[0] if names else "eeszt.connect.%s" % role
        if message.startswith("missing required arguments"):
            problems.extend(Problem(name, None, "is required but not set", "set it for this host in the inventory")
                            for name in names)
            continue
        if any(name in secrets for name in names):
            problems.append(Problem(variable, None, "is not valid for the argument spec of eeszt.connect.%s "
                                    "(a secret: the value and the validator's message are not shown)" % role,
                                    remedy))
            continue
        problems.append(Problem(variable, show(provided.get(variable)) if variable in provided else None,
                                message, remedy))
    return result.validated_parameters, problems


# --- what argument specs cannot express --------------------------------------------------------------------


def _lower_bound(values, variable, minimum, strict):
    value = values.get(variable)
    if value is None:
        return None
    if not is_number(value) or (value <= minimum if strict else value < minimum):
        return Problem(variable, show(value), "must be a number %s %s" % (">" if strict else ">=", minimum),
                       "set a %s number" % ("positive" if strict else "non-negative"))
    return None


def _port(value):
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535


def url_problems(variable, url):
    """Problems of an endpoint URL: https, a host, a valid port, no spaces or credentials."""
    if not isinstance(url, str) or not url.strip():
        return [Problem(variable, show(url), "must be an https:// URL", "set the URL from the connection documents")]
    remedy = "write it as https://host[:port]/path (from the EESZT connection documents)"
    if any(char.isspace() for char in url):
        return [Problem(variable, show(url), "must not contain spaces or line breaks", remedy)]
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return [Problem(variable, show(url), "is not a valid URL (%s)" % exc, remedy)]
    wrong = []
    if parts.scheme.lower() != "https":
        wrong.append("must use https:// (got scheme %s)" % show(parts.scheme or "none"))
    if not parts.hostname:
        wrong.append("has no host name")
    elif "change-me" in parts.hostname:
        wrong.append("still has the placeholder host of the quick start")
    if "@" in parts.netloc:
        wrong.append("must not contain credentials")
    if port is not None and not 1 <= port <= 65535:
        wrong.append("has port %d outside 1-65535" % port)
    elif port is None and parts.netloc.endswith(":"):
        wrong.append("has an empty port")
    return [Problem(variable, show(url), ", ".join(wrong), remedy)] if wrong else []


def endpoint_problems(variable, endpoints):
    """Problems of a list of endpoints (eeszt_endpoints or an entry of the per-environment table)."""
    if not isinstance(endpoints, list) or not endpoints:
        return [Problem(variable, show(endpoints), "must be a non-empty list of endpoints",
                        "list at least one endpoint with name and url")]
    problems = []
    names = {}
    for index, endpoint in enumerate(endpoints):
        where = "%s[%d]" % (variable, index)
        if not isinstance(endpoint, dict):
            problems.append(Problem(where, show(endpoint), "must be a mapping with name and url",
                                    "write the endpoint as {name: ..., url: https://...}"))
            continue
        name = endpoint.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(Problem(where + ".name", show(name), "must be a non-empty name",
                                    "give every endpoint a short name"))
        elif name in names:
            problems.append(Problem(where + ".name", show(name), "is used twice (also %s[%d])"
                                    % (variable, names[name]), "give every endpoint its own name"))
        else:
            names[name] = index
        problems.extend(url_problems(where + ".url", endpoint.get("url")))
        method = endpoint.get("method")
        if method is not None and not (isinstance(method, str) and METHOD_RE.match(method)):
            problems.append(Problem(where + ".method", show(method), "is not an HTTP method",
                                    "use an HTTP method such as GET or POST"))
        status = endpoint.get("expect_status")
        if status is not None and not (isinstance(status, int) and not isinstance(status, bool)
                                       and 100 <= status <= 599):
            problems.append(Problem(where + ".expect_status", show(status), "is not an HTTP status (100-599)",
                                    "set the status the endpoint answers with when it works (usually 200)"))
        timeout = endpoint.get("timeout")
        if timeout is not None and not (is_number(timeout) and timeout > 0):
            problems.append(Problem(where + ".timeout", show(timeout), "must be a number of seconds > 0",
                                    "set a positive timeout, or remove it for eeszt_check_timeout"))
        headers = endpoint.get("headers")
        if headers is not None:
            if not isinstance(headers, dict):
                problems.append(Problem(where + ".headers", show(headers), "must be a mapping",
                                        "write headers as {Name: value}"))
            elif any("\r" in str(key) + str(value) or "\n" in str(key) + str(value) for key, value in headers.items()):
                problems.append(Problem(where + ".headers", show(headers), "must not contain line breaks",
                                        "remove the line breaks"))
    return problems


NO_ENDPOINTS_REMEDY = (
    "the EESZT service URLs are not public: take them from the connection documents the EESZT operator sent "
    "to the institution, and list them under eeszt_check_endpoints_by_environment.%s (group_vars of "
    "eeszt_sites) or in eeszt_endpoints for this site")


def check_endpoints(values):
    """The endpoints the connection check will use: eeszt_endpoints, else the environment's list.

    The collection ships no endpoint (the real URLs come in the institution's connection documents), so
    a site whose environment has none is refused here, naming both variables.
    """
    if values.get("eeszt_endpoints") is not None:
        return endpoint_problems("eeszt_endpoints", values["eeszt_endpoints"])
    environment = values.get("eeszt_environment") or "test"
    if not isinstance(environment, str):
        return []  # reported with the identity
    table = values.get("eeszt_check_endpoints_by_environment")
    if table is not None and not isinstance(table, dict):
        return [Problem("eeszt_check_endpoints_by_environment", show(table),
                        "must be a mapping of environment to a list of endpoints",
                        "write it as {test: [...], production: [...]}, or set eeszt_endpoints")]
    if not (table or {}).get(environment):
        return [Problem("eeszt_endpoints", None,
                        "is not set and eeszt_check_endpoints_by_environment has no endpoints for the "
                        "environment %s, so there is nothing to check" % show(environment),
                        NO_ENDPOINTS_REMEDY % environment)]
    return endpoint_problems("eeszt_check_endpoints_by_environment.%s" % environment, table[environment])


def operator_pattern_problems(patterns):
    """eeszt_proofs_operator_files: absolute site paths or globs, without '..'."""
    problems = []
    for number, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        problem = pattern_problem(pattern)
        if problem:
            problems.append(Problem("eeszt_proofs_operator_files[%d]" % number, show(pattern), problem,
                                    "write the full path of the operator files on the site, e.g. "
                                    "/var/lib/eeszt/operator/*"))
    return problems


def check_values(values, skip=()):
    """Problems that argument specs cannot express, for the variables present in ``values``.

    ``values`` holds validated (type-converted) values; variables in ``skip``
    (already reported) are not checked again.
    """
    problems = []
    for variable, minimum, strict in LOWER_BOUNDS:
        problem = None if variable in skip else _lower_bound(values, variable, minimum, strict)
        if problem:
            problems.append(problem)
    bad = set(problem.variable for problem in problems) | set(skip)
    low, high = values.get("eeszt_certificate_min_days"), values.get("eeszt_certificate_warn_days")
    if is_number(low) and is_number(high) and not bad & {"eeszt_certificate_min_days", "eeszt_certificate_warn_days"} \
            and high < low:
        problems.append(Problem("eeszt_certificate_warn_days", show(high),
                                "is below eeszt_certificate_min_days (%s): the warning would never show" % show(low),
                                "set eeszt_certificate_warn_days >= eeszt_certificate_min_days"))
    for variable in PROXIES:
        proxy = values.get(variable)
        if variable != PROXIES[0] and proxy == values.get(PROXIES[0]):
            continue  # the default: the same value, reported once under its own name
        if variable not in skip and proxy not in (None, "") and not (isinstance(proxy, str) and PROXY_RE.match(proxy)):
            problems.append(Problem(variable, show(proxy), "is not a proxy URL like http://proxy.example.hu:3128",
                                    "write http(s)://host:port without path or credentials (credentials go into "
                                    "%s_username and %s_password)" % (variable, variable)))
        elif variable not in skip and isinstance(proxy, str) and proxy:
            try:
                urlsplit(proxy).port
            except ValueError as exc:
                problems.append(Problem(variable, show(proxy), "has an invalid port (%s)" % exc,
                                        "write http(s)://host:port with a port from 1 to 65535"))
    for variable in SITE_PATHS:
        path = values.get(variable)
        if variable not in skip and path not in (None, "") and not (isinstance(path, str) and path.startswith("/")):
            problems.append(Problem(variable, show(path), "must be an absolute path on the site",
                                    "write the full path, starting with /"))
    if "eeszt_proofs_operator_files" not in skip:
        problems.extend(operator_pattern_problems(values.get("eeszt_proofs_operator_files")))
    mode = values.get("eeszt_certificate_key_mode")
    if "eeszt_certificate_key_mode" not in skip and mode not in (None, "") and not (
            isinstance(mode, str) and KEY_MODE_RE.match(mode)):
        problems.append(Problem("eeszt_certificate_key_mode", show(mode), "is not an octal file mode",
                                "quote it as a string like \"0600\" or \"0640\""))
    port = values.get("eeszt_tls_gateway_base_port")
    if "eeszt_tls_gateway_base_port" not in skip and port is not None and not _port(port):
        problems.append(Problem("eeszt_tls_gateway_base_port", show(port), "is not a port from 1 to 65535",
                                "choose a free loopback port"))
    ports = values.get("eeszt_tls_gateway_ports")
    if "eeszt_tls_gateway_ports" not in skip and isinstance(ports, dict):
        for name, value in sorted(ports.items(), key=lambda item: str(item[0])):
            if not _port(value):
                problems.append(Problem("eeszt_tls_gateway_ports.%s" % name, show(value),
                                        "is not a port from 1 to 65535", "choose a free loopback port"))
    # The endpoints, when the connection check is among the roles checked (its defaults bring the table).
    if "eeszt_check_endpoints_by_environment" in values and "eeszt_endpoints" not in skip \
            and "eeszt_check_endpoints_by_environment" not in skip and "eeszt_environment" not in skip:
        problems.extend(check_endpoints(values))
    return problems
