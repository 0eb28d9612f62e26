# -*- coding: utf-8 -*-
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Text from a site (or an inventory) made safe for each output format that holds it.

What a site returns is untrusted (DESIGN.md, "Trust"): its text may carry control characters, lone
surrogates, noncharacters, markup or spreadsheet formulas. Every writer of a report file (``report.csv``,
``junit.xml``, ``report.html``, ``metrics.prom``, ``index.json``, the evidence bundles' notice) and the site's
own metrics file take such text through the helpers here, each defined once:

``clean_text``
    The base rule of every format: each character that the formats forbid or that a terminal or a
    spreadsheet acts on is **replaced by U+FFFD** (the replacement character), never dropped, so that the
    reader sees that something was there and two harmless halves never join into a new word. Replaced:
    the C0 controls except tab, line feed and carriage return (NUL, ESC, VT, FF, ...), DEL and the C1
    controls (U+0080..U+009F, CSI among them), lone surrogates (U+D800..U+DFFF, which UTF-8 cannot encode),
    and the noncharacters (U+FDD0..U+FDEF and U+xFFFE, U+xFFFF of every plane), which XML 1.0 and HTML
    forbid.
``csv_cell``
    ``clean_text``, then OWASP's rule against CSV (formula) injection: a cell that begins with ``=``,
    ``+``, ``-``, ``@``, tab or carriage return gets a leading single quote. For text from a site or an
    inventory only; numbers that the report computes are written as numbers (``csv_number``).
``xml_text``, ``xml_attr``
    ``clean_text``, then XML escaping for element text and for a double-quoted attribute value; tab, line
    feed and carriage return become character references where the parser would otherwise normalise them.
``html_text``
    ``clean_text``, then HTML escaping (``&``, ``<``, ``>``, ``"``), for text and double-quoted attributes.
``prom_label_value``, ``prom_help``
    ``clean_text`` (tab and carriage return replaced too), then the escaping of Prometheus' text
    exposition format: backslash, double quote (label values) and line feed.
``json_safe``
    A JSON document's tree for ``index.json``: lone surrogates in strings (and keys) replaced by U+FFFD,
    floats that JSON cannot write (NaN, infinities) made null. Everything else is kept as the site wrote it:
    JSON escapes control characters itself, so ``index.json`` keeps the site's exact words.

Standard library only: the site's metrics writer (``check/metrics.py``) uses it too.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import math
import re

REPLACEMENT = "\ufffd"
# Characters that start a formula in a spreadsheet (OWASP, "CSV Injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    "%s%s" % (chr(plane * 0x10000 + 0xfffe), chr(plane * 0x10000 + 0xffff)) for plane in range(17))
# Replaced everywhere: C0 controls but tab, LF, CR; DEL and C1; lone surrogates; noncharacters.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff%s]" % _NONCHARACTERS)
# Replaced in a Prometheus label value or HELP text besides: tab and CR (only LF has an escape there).
_FORBIDDEN_PROM = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff%s]" % _NONCHARACTERS)
_SURROGATE = re.compile("[\ud800-\udfff]")
_XML_TEXT = {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"}
_XML_ATTR = dict(_XML_TEXT, **{'"': "&quot;", "\n": "&#10;", "\t": "&#9;"})
_XML_TEXT_RE = re.compile("[&<>\r]")
_XML_ATTR_RE = re.compile("[&<>\r\"\n\t]")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}
_HTML_RE = re.compile('[&<>"]')


def _text(value):
    return "" if value is None else value if isinstance(value, str) else "%s" % (value,)


def clean_text(value):
    """``value`` as text (None: empty), each forbidden character replaced by U+FFFD (see the module)."""
    return _FORBIDDEN.sub(REPLACEMENT, _text(value))


def csv_cell(value):
    """A CSV cell of text from a site or an inventory: cleaned, and a formula prefix neutralised with ``'``."""
    text = clean_text(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_number(value):
    """A CSV cell of a number the report computes itself (None: empty): an integer is written as the number,
    never quoted (a negative one too: -3 days left stays -3); anything else is text (``csv_cell``)."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return csv_cell(value)


def xml_text(value):
    """Element text of an XML 1.0 document: cleaned and escaped (CR as ``&#13;`` so that it survives parsing)."""
    return _XML_TEXT_RE.sub(lambda match: _XML_TEXT[match.group()], clean_text(value))


def xml_attr(value):
    """A double-quoted XML attribute value, quotes included: cleaned, escaped, whitespace as references."""
    return '"%s"' % _XML_ATTR_RE.sub(lambda match: _XML_ATTR[match.group()], clean_text(value))


def html_text(value):
    """HTML text or a double-quoted attribute value's content: cleaned and escaped (None: empty)."""
    return _HTML_RE.sub(lambda match: _HTML[match.group()], clean_text(value))


def prom_label_value(value):
    """A label value of Prometheus' text format: controls but LF replaced, then ``\\``, ``"`` and LF escaped."""
    text = _FORBIDDEN_PROM.sub(REPLACEMENT, _text(value))
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def prom_help(value):
    """HELP text of Prometheus' text format: controls but LF replaced, then ``\\`` and LF escaped."""
    text = _FORBIDDEN_PROM.sub(REPLACEMENT, _text(value))
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def json_safe(value):
    """A copy of a JSON-like tree that ``json.dumps(...).encode("utf-8")`` always writes as valid JSON."""
    if isinstance(value, str):
        return _SURROGATE.sub(REPLACEMENT, value)
    if isinstance(value, dict):
        return dict((json_safe(key), json_safe(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value
