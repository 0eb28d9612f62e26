# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one place that makes a site's text safe for each output format (module_utils/common/safe_text.py).

Boundaries: each edge of a replaced range and the character just outside it; each formula prefix and the
characters next to it; the numbers the report writes itself.
"""

import csv
import io
import json
import os
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.eeszt.connect.plugins.module_utils.common import safe_text
from ansible_collections.eeszt.connect.plugins.module_utils.common.safe_text import (
    clean_text,
    csv_cell,
    csv_number,
    html_text,
    json_safe,
    prom_help,
    prom_label_value,
    xml_attr,
    xml_text,
)

R = "\ufffd"

REPLACED = ["\x00", "\x08", "\x0b", "\x0c", "\x0e", "\x1b", "\x1f", "\x7f", "\x80", "\x9b", "\x9f", "\ud800", "\udbff",
            "\udc00", "\udfff", "\ufdd0", "\ufdef", "\ufffe", "\uffff", "\U0001fffe", "\U0001ffff", "\U0010fffe",
            "\U0010ffff"]
KEPT = ["\t", "\n", "\r", " ", "~", "\xa0", "\ud7ff", "\ue000", "\ufdcf", "\ufdf0", "\ufffd", "\ufffc", "\U00010000",
        "\U0001fffd", "\U00020000", "\U0010fffd", "é", "ő"]


@pytest.mark.parametrize("character", REPLACED, ids=lambda c: "U+%04X" % ord(c))
def test_each_edge_of_a_forbidden_range_is_replaced(character):
    assert clean_text("a" + character + "b") == "a" + R + "b"


@pytest.mark.parametrize("character", KEPT, ids=lambda c: "U+%04X" % ord(c))
def test_the_character_next_to_a_forbidden_range_is_kept(character):
    assert clean_text("a" + character + "b") == "a" + character + "b"


def test_replaced_not_dropped_so_no_new_word_or_formula_appears():
    assert clean_text("\x1b=cmd") == R + "=cmd"
    assert csv_cell("\x00=1+1") == R + "=1+1"
    assert clean_text(None) == "" and clean_text(42) == "42"


@pytest.mark.parametrize("prefix", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_starting_with_a_formula_character_gets_a_leading_quote(prefix):
    assert csv_cell(prefix + "HYPERLINK(\"x\")") == "'" + prefix + "HYPERLINK(\"x\")"
    assert csv_cell(prefix) == "'" + prefix


@pytest.mark.parametrize("value", ["", " =1", "a=1", "'=1", "1-2", "\n=1", "\uff1d1", "0", "#", "%"])
def test_a_cell_not_starting_with_one_is_unchanged(value):
    assert csv_cell(value) == value


def test_the_reports_own_numbers_stay_numbers():
    assert csv_number(-3) == -3
    assert csv_number(0) == 0
    assert csv_number(None) == ""
    # Anything that is not an integer the report computed is text, neutralised like a site's.
    assert csv_number("-3") == "'-3"
    assert csv_number(True) == "True"
    stream = io.StringIO()
    csv.writer(stream).writerow([csv_number(-3), csv_cell("-3")])
    assert stream.getvalue() == "-3,'-3\r\n"


def test_a_csv_cell_round_trips_through_the_csv_module():
    nasty = "=HYPERLINK(\"x\",\"y\")\r\n,;\"\x1b\x00"
    stream = io.StringIO()
    csv.writer(stream).writerow([csv_cell(nasty)])
    assert list(csv.reader(io.StringIO(stream.getvalue(), newline=""))) == [["'=HYPERLINK(\"x\",\"y\")\r\n,;\"" + R + R]]


def test_xml_text_and_attributes_always_parse_and_keep_whitespace():
    nasty = "<a>&\"'\x00\x1b\x0b\x0c\ud800\ufffe\uffff\t\n\r]]>"
    root = ET.fromstring("<r v=%s>%s</r>" % (xml_attr(nasty), xml_text(nasty)))
    cleaned = "<a>&\"'" + R * 7 + "\t\n\r]]>"
    assert root.get("v") == cleaned
    assert root.text == cleaned


def test_html_text_escapes_markup_and_replaces_what_html_forbids():
    assert html_text("</script><script>alert(1)</script>") == \
        "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;"
    assert html_text("a\"b&c\x00\x9b") == "a&quot;b&amp;c" + R + R
    assert html_text(None) == ""


def test_prometheus_label_values_and_help_escape_per_the_text_format():
    assert prom_label_value("a\\b\"c\nd") == "a\\\\b\\\"c\\nd"
    assert prom_label_value("\t\r\x00\x1b") == R * 4
    assert prom_label_value(None) == ""
    assert prom_help("x\\y\nz\"\x00") == "x\\\\y\\nz\"" + R


def test_json_safe_encodes_as_utf8_and_strict_json():
    tree = {"a\ud800": ["\udfff", float("nan"), float("inf"), float("-inf"), 1.5, 2, True, None, "\x1b"],
            "t": ("x",)}
    safe = json_safe(tree)
    data = json.dumps(safe, ensure_ascii=False).encode("utf-8")

    def refuse(name):
        raise ValueError(name)

    assert json.loads(data.decode("utf-8"), parse_constant=refuse) == {
        "a" + R: [R, None, None, None, 1.5, 2, True, None, "\x1b"], "t": ["x"]}


def test_each_helper_is_defined_once():
    """The report writers and the site's metrics use these helpers; none keeps its own copy (compared by where
    each is defined: other tests may load the modules anew)."""
    from ansible_collections.eeszt.connect.plugins.module_utils.check import metrics
    from ansible_collections.eeszt.connect.plugins.plugin_utils.report import charts, fleet_metrics, html_report, tables

    for function in (metrics.prom_label_value, metrics.prom_help, fleet_metrics.prom_label_value, fleet_metrics.prom_help,
                     html_report.html_escape, charts.html_escape, tables.csv_cell, tables.csv_number, tables.xml_text,
                     tables.xml_attr):
        assert function.__module__ == safe_text.__name__, function
    report = os.path.dirname(os.path.abspath(tables.__file__))
    for name in sorted(os.listdir(report)):
        if name.endswith(".py"):
            with open(os.path.join(report, name)) as handle:
                assert "saxutils" not in handle.read(), name
