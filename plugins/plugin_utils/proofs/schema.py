# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The proof schema (``eeszt.connect/proof/v1``): its one definition, a validator, the clock check.

``PROOF_JSON_SCHEMA`` is the definition the controller checks every proof against before anything is
stored, sealed or rendered (``parse_proof``); docs/proof-schema.md is generated from it
(``schema_markdown``, pinned by a unit test). It is a JSON Schema (draft 2020-12) that uses only the
keywords ``validate`` implements: ``type`` (one name or a list), ``properties``, ``required``,
``additionalProperties`` (false or a schema), ``maxProperties``, ``enum``, ``maxLength``, ``pattern``
(searched, as JSON Schema does; every pattern here is anchored at both ends), ``items``, ``maxItems``,
``minimum`` and ``maximum``. A unit test cross-checks ``validate`` against the ``jsonschema`` package.

The failure categories are those of the site's check (``module_utils/check/messages.py``: CATEGORIES),
imported, not copied. ``time_problem`` refuses a proof whose times lie in the controller's future beyond a
tolerance, or before the client certificate's validity.

Standard library only.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import json
import math
import re

from ansible_collections.eeszt.connect.plugins.module_utils.check.messages import CATEGORIES
from ansible_collections.eeszt.connect.plugins.module_utils.check.probe import STEPS
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.errors import ProofInvalidError

PROOF_SCHEMA_ID = "eeszt.connect/proof/v1"
# Where a failure happened: a step of an endpoint, or the preflight (the client certificate) before any.
FAILURE_STEPS = list(STEPS) + ["preflight"]
# Default of eeszt_proofs_clock_tolerance (seconds).
DEFAULT_CLOCK_TOLERANCE = 300
CLOCK_VARIABLE = "eeszt_proofs_clock_tolerance"

# End of the text: Python's "$" also matches before a final newline; "nothing follows" does not, in both
# Python's and ECMA-262's regular expressions.
_END = r"(?![\s\S])"
_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?Z" + _END
_NO_CONTROL = r"^[^\x00-\x1f\x7f]*" + _END
_NAME = r"^[0-9A-Za-z][0-9A-Za-z._-]*" + _END

TEXT_MAX = 2000  # a message, a hint, a reason
NAME_MAX = 255   # a host, an endpoint's name, a certificate's subject or issuer is longer: DN_MAX
DN_MAX = 1024
URL_MAX = 2048
MS_MAX = 86400000  # one day, in milliseconds


def _text(limit, pattern=None, null=False, description=None):
    schema = {"type": ["string", "null"] if null else "string", "maxLength": limit}
    if pattern:
        schema["pattern"] = pattern
    if description:
        schema["description"] = description
    return schema


def _time(description, null=False):
    return dict(_text(32, _TIME, null), description=description)


def _number(maximum, description, kind="number", null=False):
    return {"type": [kind, "null"] if null else kind, "minimum": 0, "maximum": maximum, "description": description}


_SCALAR = {"type": ["string", "number", "boolean", "null"], "maxLength": URL_MAX}
_SHORT_LIST = {"type": "array", "maxItems": 64, "items": _text(NAME_MAX),
               "description": "Texts of at most 255 characters each."}

FAILURE = {
    "type": ["object", "null"],
    "description": "The first failure, classified; null when the check passed.",
    "properties": {
        "category": {"enum": sorted(CATEGORIES), "description": "The failure category (DESIGN.md)."},
        "endpoint": _text(NAME_MAX, null=True, description="The endpoint's name; null in the preflight."),
        "step": {"enum": FAILURE_STEPS + [None], "description": "The step that failed."},
        "message": _text(TEXT_MAX, description="What failed, for a person."),
        "hint": _text(TEXT_MAX, null=True, description="What to do about it."),
        "reason": _text(TEXT_MAX, null=True, description="The technical reason."),
    },
    "required": ["category", "message"],
    "additionalProperties": False,
}

STEP = {
    "type": "object",
    "properties": {
        "name": {"enum": list(STEPS), "description": "dns, tcp, tls or http."},
        "ok": {"type": "boolean", "description": "Whether the step succeeded."},
        "ms": _number(MS_MAX, "The step's time in milliseconds."),
        "details": {
            "type": "object",
            "description": "What the step saw (addresses, protocol, status, the server certificate, ...).",
            "maxProperties": 32,
            "properties": {
                "addresses": _SHORT_LIST,
                "request_headers": _SHORT_LIST,
                "server_certificate": {
                    "type": "object",
                    "description": "Facts of the server's certificate (texts).",
                    "maxProperties": 8,
                    "additionalProperties": _text(DN_MAX),
                },
            },
            "additionalProperties": _SCALAR,
        },
    },
    "required": ["name", "ok"],
    "additionalProperties": False,
}

ENDPOINT = {
    "type": "object",
    "properties": {
        "name": _text(NAME_MAX, description="The endpoint's name."),
        "url": _text(URL_MAX, _NO_CONTROL, description="The URL checked."),
        "method": _text(32, r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+" + _END, null=True, description="The HTTP method."),
        "expect_status": {"type": ["integer", "null"], "minimum": 100, "maximum": 599,
                          "description": "The HTTP status expected."},
        "passed": {"type": "boolean", "description": "Whether every step passed."},
        "ms": _number(MS_MAX, "The endpoint's time in milliseconds.", null=True),
        "steps": {"type": "array", "maxItems": len(STEPS), "items": STEP, "description": "The steps that ran."},
        "failure": FAILURE,
        "proxy": _text(URL_MAX, r"^https?://[^\s/@]+" + _END,
                       description="The HTTP proxy the endpoint was checked through, its URL without credentials "
                                   "(optional: only when a proxy was used; proofs of earlier versions lack it)."),
    },
    "required": ["name", "url", "passed", "steps"],
    "additionalProperties": False,
}

PROOF_JSON_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://github.com/eeszt-connect/eeszt.connect/docs/proof-schema.md",
    "title": PROOF_SCHEMA_ID,
    "description": "The proof of one connection check, written by eeszt.connect.connection_check on the site.",
    "type": "object",
    "properties": {
        "schema": {"enum": [PROOF_SCHEMA_ID], "description": "The format and its version."},
        "institution_id": _text(64, _NAME, description="The institution's identifier (eeszt_institution_id)."),
        "site_id": _text(64, _NAME, description="The site's identifier (eeszt_site_id)."),
        "host": _text(NAME_MAX, _NO_CONTROL, description="The host the check ran on."),
        "environment": {"enum": ["test", "production"], "description": "The EESZT environment."},
        "started_at": _time("When the check started (UTC, ISO 8601, Z)."),
        "finished_at": _time("When the check finished (UTC, ISO 8601, Z)."),
        "client_certificate": {
            "type": "object",
            "description": "Public facts of the client certificate; every field null when it could not be read.",
            "properties": {
                "subject": _text(DN_MAX, null=True, description="Subject DN."),
                "issuer": _text(DN_MAX, null=True, description="Issuer DN."),
                "serial": _text(130, r"^-?[0-9A-Fa-f]+" + _END, null=True, description="Serial number, hex."),
                "sha256": _text(64, r"^[0-9a-f]{64}" + _END, null=True, description="SHA-256 of the DER, hex."),
                "not_before": _time("Start of validity; optional (proofs of earlier versions lack it).", null=True),
                "not_after": _time("End of validity.", null=True),
            },
            "required": ["subject", "issuer", "serial", "sha256", "not_after"],
            "additionalProperties": False,
        },
        "endpoints": {"type": "array", "maxItems": 64, "items": ENDPOINT,
                      "description": "Each endpoint checked, with its steps."},
        "passed": {"type": "boolean", "description": "True when every endpoint passed."},
        "failure": FAILURE,
        "tool": {
            "type": "object",
            "description": "The tool that wrote the proof.",
            "properties": {"name": _text(128, _NO_CONTROL, description="Its name."),
                           "version": _text(64, _NO_CONTROL, description="Its version.")},
            "required": ["name", "version"],
            "additionalProperties": False,
        },
    },
    "required": ["schema", "institution_id", "site_id", "host", "environment", "started_at", "finished_at",
                 "client_certificate", "endpoints", "passed", "failure", "tool"],
    "additionalProperties": False,
}


# --- the validator ------------------------------------------------------------------------

_TYPE_NAMES = {"object": "an object", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "a boolean", "null": "null"}


def json_type(value):
    """The JSON type name of a decoded value (an integral float is a number here, see ``_is``)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _is(value, kind):
    actual = json_type(value)
    if kind == "number":
        return actual in ("integer", "number") and (actual == "integer" or math.isfinite(value))
    if kind == "integer":
        # As JSON Schema: 2.0 is an integer.
        return actual == "integer" or (actual == "number" and math.isfinite(value) and value.is_integer())
    return actual == kind


def _where(path):
    return "".join(("[%d]" % part) if isinstance(part, int) else (".%s" % part) for part in path).lstrip(".") \
        or "(the document)"


def _shown(value, limit=40):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _enum_equal(value, allowed):
    """JSON equality: True is not 1, 1 is 1.0."""
    if value != allowed:
        return False
    kinds = set((json_type(value), json_type(allowed)))
    return len(kinds) == 1 or kinds <= set(("integer", "number"))


def validate(document, schema=None):
    """The first way ``document`` breaks ``schema`` (default the proof schema), as "path: reason"; None if it does not."""
    return _validate(document, PROOF_JSON_SCHEMA if schema is None else schema, [])


def _validate(value, schema, path):
    if schema is True:
        return None
    if schema is False:
        return "%s: not allowed here" % _where(path)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, kind) for kind in kinds):
            got = _TYPE_NAMES.get(json_type(value), json_type(value))
            if json_type(value) == "number" and not math.isfinite(value):
                got = "a number that is not finite"
            return "%s: expected %s, got %s" % (_where(path), " or ".join(_TYPE_NAMES[k] for k in kinds), got)
    if "enum" in schema and not any(_enum_equal(value, allowed) for allowed in schema["enum"]):
        return "%s: %s is not one of %s" % (_where(path), _shown(value), ", ".join(
            "null" if allowed is None else "%s" % allowed for allowed in schema["enum"]))
    if isinstance(value, str):
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            return "%s: %d characters, more than %d" % (_where(path), len(value), schema["maxLength"])
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return "%s: %s is not of the form %s" % (_where(path), _shown(value), schema["pattern"])
    if json_type(value) in ("integer", "number") and (json_type(value) == "integer" or math.isfinite(value)):
        if "minimum" in schema and value < schema["minimum"]:
            return "%s: %s is less than %s" % (_where(path), value, schema["minimum"])
        if "maximum" in schema and value > schema["maximum"]:
            return "%s: %s is more than %s" % (_where(path), value, schema["maximum"])
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            return "%s: %d items, more than %d" % (_where(path), len(value), schema["maxItems"])
        if "items" in schema:
            for number, item in enumerate(value):
                problem = _validate(item, schema["items"], path + [number])
                if problem:
                    return problem
    if isinstance(value, dict):
        return _validate_object(value, schema, path)
    return None


def _validate_object(value, schema, path):
    if "maxProperties" in schema and len(value) > schema["maxProperties"]:
        return "%s: %d fields, more than %d" % (_where(path), len(value), schema["maxProperties"])
    missing = [field for field in schema.get("required") or () if field not in value]
    if missing:
        return "%s: lacks the required field(s) %s" % (_where(path), ", ".join(missing))
    properties = schema.get("properties") or {}
    extra = schema.get("additionalProperties", True)
    for key in sorted(value, key=lambda k: (k not in properties, "%s" % k)):
        if key in properties:
            problem = _validate(value[key], properties[key], path + [key])
        elif extra is False:
            problem = "%s: the field %s is not part of the schema" % (_where(path), _shown(key))
        else:
            problem = _validate(value[key], extra, path + [key])
        if problem:
            return problem
    return None


# --- the clock -------------------------------------------------------------------------------

def parse_utc(text):
    """The moment of a schema-valid time ("2026-11-25T10:00:00Z", optional fraction), or None."""
    if not isinstance(text, str):
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S.%fZ"):
        try:
            return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return None


def time_problem(document, now, tolerance=DEFAULT_CLOCK_TOLERANCE):
    """Why the times of a schema-valid proof cannot be true, or None.

    ``now`` is the controller's clock. A ``started_at`` or ``finished_at`` more than ``tolerance`` seconds
    after it is from the future (the site's clock runs ahead, or the proof was forged); one more than
    ``tolerance`` seconds before the client certificate's ``not_before`` (when the proof holds it) cannot
    have been checked with that certificate. Exactly at the tolerance is accepted.
    """
    certificate = document.get("client_certificate") or {}
    not_before = parse_utc(certificate.get("not_before"))
    for field in ("started_at", "finished_at"):
        moment = parse_utc(document.get(field))
        if moment is None:
            return "%s: %r is not a time" % (field, document.get(field))
        ahead = (moment - now).total_seconds()
        if ahead > tolerance:
            return ("clock skew: %s %s is %d s ahead of the controller's clock (%s), more than the tolerance of "
                    "%d s (%s); correct the site's clock (NTP) and run the check again"
                    % (field, document[field], math.ceil(ahead), now.strftime("%Y-%m-%dT%H:%M:%SZ"), tolerance,
                       CLOCK_VARIABLE))
        if not_before is not None:
            before = (not_before - moment).total_seconds()
            if before > tolerance:
                return ("clock skew: %s %s is %d s before the client certificate's not_before %s, more than the "
                        "tolerance of %d s (%s): no check can have used that certificate then; correct the "
                        "site's clock (NTP) and run the check again"
                        % (field, document[field], math.ceil(before), certificate["not_before"], tolerance,
                           CLOCK_VARIABLE))
    return None


def _no_constant(name):
    raise ValueError("%s is not a JSON number" % name)


def parse_proof(data, shown):
    """The proof document in ``data``; ProofInvalidError when it is not a v1 proof that keeps the proof schema.

    The schema (``PROOF_JSON_SCHEMA``) gives every field its type and every text a length limit, so a
    document returned here can be rendered and sealed without further checks of its shape.
    """
    try:
        document = json.loads(data.decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ProofInvalidError(shown, "not a JSON proof document (%s)" % ("%s" % exc)[:200])
    if not isinstance(document, dict):
        raise ProofInvalidError(shown, "not a JSON object (a JSON %s)" % json_type(document))
    if document.get("schema") != PROOF_SCHEMA_ID:
        shown_schema = repr(document.get("schema"))
        raise ProofInvalidError(shown, "has schema %s, expected %r" % (
            shown_schema if len(shown_schema) <= 80 else shown_schema[:77] + "...", PROOF_SCHEMA_ID))
    problem = validate(document)
    if problem:
        raise ProofInvalidError(shown, problem)
    return document


# --- the documentation -----------------------------------------------------------------------

DOC_BEGIN = "<!-- BEGIN generated from plugins/plugin_utils/proofs/schema.py: do not edit -->"
DOC_END = "<!-- END generated -->"


def _describe_type(schema):
    if "enum" in schema:
        return "one of " + ", ".join("`null`" if v is None else "`%s`" % v for v in schema["enum"])
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else list(kinds or [])
    words = " or ".join(k for k in kinds)
    limits = []
    if "maxLength" in schema:
        limits.append("at most %d characters" % schema["maxLength"])
    if "pattern" in schema:
        pattern = schema["pattern"].replace("|", "\\|")
        limits.append(("pattern `` %s ``" if "`" in pattern else "pattern `%s`") % pattern)
    if "minimum" in schema or "maximum" in schema:
        limits.append("%s to %s" % (schema.get("minimum", "-"), schema.get("maximum", "-")))
    if "maxItems" in schema:
        limits.append("at most %d items" % schema["maxItems"])
    if "maxProperties" in schema:
        limits.append("at most %d fields" % schema["maxProperties"])
    if schema.get("additionalProperties") is False:
        limits.append("no other fields")
    return words + ("; " + "; ".join(limits) if limits else "")


def _rows(schema, prefix, required):
    rows = []
    for key, sub in (schema.get("properties") or {}).items():
        name = "%s%s" % (prefix, key)
        cells = (name, "yes" if key in required else "no", _describe_type(sub), sub.get("description", ""))
        rows.append("| `%s` | %s | %s | %s |" % cells)
        if sub.get("properties"):
            rows.extend(_rows(sub, name + ".", sub.get("required") or ()))
        items = sub.get("items")
        if isinstance(items, dict) and items.get("properties"):
            rows.extend(_rows(items, name + "[].", items.get("required") or ()))
        extra = sub.get("additionalProperties")
        if isinstance(extra, dict):
            rows.append("| `%s.*` | no | %s | any other field |" % (name, _describe_type(extra)))
    return rows


def schema_markdown():
    """The field table of docs/proof-schema.md, generated from PROOF_JSON_SCHEMA."""
    lines = [DOC_BEGIN, "", "| field | required | type and limits | meaning |", "| --- | --- | --- | --- |"]
    lines += _rows(PROOF_JSON_SCHEMA, "", PROOF_JSON_SCHEMA["required"])
    lines += ["", DOC_END]
    return "\n".join(lines) + "\n"
