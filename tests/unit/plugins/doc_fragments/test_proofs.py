# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The doc fragment eeszt.connect.proofs documents options once for several modules: its options are the specs'
own (name, type, default), and the modules that use it do not write those options again (issue 22, point 2)."""

import importlib

import pytest
import yaml

from ansible_collections.eeszt.connect.plugins.action import proofs_archive, proofs_report, proofs_verify
from ansible_collections.eeszt.connect.plugins.doc_fragments.proofs import ModuleDocFragment
from ansible_collections.eeszt.connect.plugins.plugin_utils.proofs.signing import signing_spec


def documented(section):
    return yaml.safe_load(getattr(ModuleDocFragment, section))["options"] or {}


def module_options(name):
    module = importlib.import_module("ansible_collections.eeszt.connect.plugins.modules." + name)
    documentation = yaml.safe_load(module.DOCUMENTATION)
    return documentation["options"], documentation["extends_documentation_fragment"]


@pytest.mark.parametrize("section, specs", [
    ("SIGNING", [signing_spec(), proofs_archive.argument_spec()]),
    ("ARCHIVE", [proofs_report.ARGUMENT_SPEC, proofs_verify.ARGUMENT_SPEC]),
])
def test_the_fragments_options_are_the_specs(section, specs):
    options = documented(section)
    assert options
    for spec in specs:
        for name, doc in options.items():
            assert spec[name]["type"] == doc["type"], (section, name)
            assert spec[name].get("default") == doc.get("default"), (section, name)
            assert doc["description"]


@pytest.mark.parametrize("name, fragments", [
    ("proofs_archive", ["eeszt.connect.proofs", "eeszt.connect.proofs.signing"]),
    ("proofs_report", ["eeszt.connect.proofs", "eeszt.connect.proofs.archive"]),
    ("proofs_verify", ["eeszt.connect.proofs", "eeszt.connect.proofs.archive"]),
])
def test_each_user_takes_the_fragment_and_writes_none_of_its_options_again(name, fragments):
    options, extends = module_options(name)
    assert set(fragments) <= set(extends)
    for fragment in fragments[1:]:
        assert not set(documented(fragment.rpartition(".")[2].upper())) & set(options), name


def test_the_quarantine_note_is_there():
    notes = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)["notes"]
    assert len(notes) == 1 and notes[0].startswith("The archive's quarantine (C(quarantine/INSTITUTION/SITE/NAME)")


def test_the_signers_entries_are_documented_from_the_fragment_as_their_spec_has_them():
    entry_spec = proofs_report.ARGUMENT_SPEC["signers"]["options"]
    documented_entry = documented("SIGNERS")["signers"]["suboptions"]
    assert set(documented_entry) == set(entry_spec)
    for name, doc in documented_entry.items():
        assert entry_spec[name]["type"] == doc["type"], name
        assert bool(entry_spec[name].get("required")) == bool(doc.get("required")), name
        assert doc["description"]
    options, extends = module_options("proofs_report")
    assert "eeszt.connect.proofs.signers" in extends
    assert "suboptions" not in options["signers"] and options["signers"]["description"]


def test_the_signing_options_are_written_once_and_the_signers_entries_refer_to_them():
    """proofs_archive's options hold the signing options' text; each proofs_report signers entry names the same
    option there, with the same type (ansible-test reads a fragment as one literal string: no text is built)."""
    top = documented("SIGNING")
    entry = documented("SIGNERS")["signers"]["suboptions"]
    assert set(top) == set(signing_spec())
    for name, doc in top.items():
        assert entry[name]["type"] == doc["type"], name
        assert "O(eeszt.connect.proofs_archive#module:%s)" % name in entry[name]["description"], name
    assert "O(signing_key)" in top["signing_pfx"]["description"][1]
