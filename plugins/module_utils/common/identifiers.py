# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The identifiers of a site, once for the collection (standard library only).

The defaults follow the registries (``docs/registry.md``): the institution is a 6-digit OTH code (pharmacies:
their OGYEI code), the site a 9-character NNGYK code. Registries change, so every user of a pattern takes it
as an option (``eeszt_institution_id_pattern``, ``eeszt_site_id_pattern``) with these as defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type  # pragma: no mutate

import re

INSTITUTION_ID_PATTERN = r"^[0-9]{6}$"
SITE_ID_PATTERN = r"^[0-9A-Za-z]{9}$"


def matches(pattern, value):
    """Whether the text ``value`` matches ``pattern`` anywhere (``re.search``, as Jinja's ``regex`` test); None
    when ``pattern`` is no regular expression. The one identifier check of the collection."""
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return None


def identifier_problem(value, pattern, variable):
    """None when ``value`` (text) matches ``pattern``; otherwise what is wrong, naming ``variable``."""
    if not isinstance(value, str) or not value:
        return "%s must be a non-empty string, got %r" % (variable, value)
    try:
        re.compile(pattern)
    except re.error as exc:
        return "the pattern for %s, %r, is not a regular expression: %s" % (variable, pattern, exc)
    if not matches(pattern, value):
        return "%s %r does not match %s" % (variable, value, pattern)
    return None
