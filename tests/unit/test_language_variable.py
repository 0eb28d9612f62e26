# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Issue 27 §8: one language variable, ``eeszt_language`` (en, hu), for the check's hints and the report; the
specific ``eeszt_check_language`` and ``eeszt_proofs_report_language`` default to it and override it. It is a
variable of the collection, so the preflight does not take it for a typo."""

import os

import jinja2
import pytest
import yaml

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_files

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SPECIFIC = {"connection_check": "eeszt_check_language", "proofs": "eeszt_proofs_report_language"}


def load(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.mark.parametrize("role", sorted(SPECIFIC))
@pytest.mark.parametrize("given, expected", [({}, "en"), ({"eeszt_language": "hu"}, "hu"), ({"eeszt_language": "en"}, "en")])
def test_the_specific_variable_defaults_to_eeszt_language_else_en(role, given, expected):
    """The role's default of the specific variable (a variable the user sets overrides it: run in
    tests/integration/test_proofs.py)."""
    default = load("roles", role, "defaults", "main.yml")[SPECIFIC[role]]
    assert jinja2.Environment().from_string(default).render(**given) == expected


@pytest.mark.parametrize("role", sorted(SPECIFIC))
def test_argument_specs_know_eeszt_language_and_its_choices(role):
    options = load("roles", role, "meta", "argument_specs.yml")["argument_specs"]["main"]["options"]
    for name in ("eeszt_language", SPECIFIC[role]):
        assert (options[name]["type"], options[name]["choices"], options[name]["default"]) == ("str", ["en", "hu"], "en")
    description = options[SPECIFIC[role]]["description"]
    assert "eeszt_language" in (" ".join(description) if isinstance(description, list) else description)


def test_the_preflight_does_not_take_eeszt_language_for_an_unknown_variable():
    known = site_files.known_names(ROOT)
    assert "eeszt_language" in known
    assert site_files.unknown_variables({"site01": ["eeszt_language", "eeszt_langauge"]}, known) == [
        {"variable": "eeszt_langauge", "hosts": ["site01"], "did_you_mean": "eeszt_language"}]


@pytest.mark.parametrize("readme", ["README.md", "roles/connection_check/README.md", "roles/proofs/README.md"])
def test_readmes_name_eeszt_language(readme):
    with open(os.path.join(ROOT, readme), encoding="utf-8") as handle:
        assert "`eeszt_language`" in handle.read()
