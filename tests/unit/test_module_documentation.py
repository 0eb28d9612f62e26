# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's DOCUMENTATION, EXAMPLES and RETURN are YAML that parses, with the keys ansible-doc needs.

ansible-test sanity finds the same, minutes later; this finds it in the unit stage (a colon followed by a
space in a plain description line broke proofs_report's documentation twice).
"""

import glob
import importlib
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))


@pytest.mark.parametrize("name", MODULES)
def test_documentation_examples_and_return_parse(name):
    module = importlib.import_module("ansible_collections.eeszt.connect.plugins.modules." + name)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    assert documentation["module"] == name
    assert documentation["short_description"] and documentation["description"]
    for option, spec in (documentation.get("options") or {}).items():
        assert spec.get("description"), (name, option)
    examples = yaml.safe_load(module.EXAMPLES)
    assert isinstance(examples, list) and examples, name
    returned = yaml.safe_load(module.RETURN)
    assert returned is None or isinstance(returned, dict), name


def test_every_module_is_checked():
    assert {"waf_certificate", "connection_check", "proofs_report", "fleet_preflight", "operator_files"} <= set(MODULES)
