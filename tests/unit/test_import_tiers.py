# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""No import runs "up" a tier inside ``plugins/module_utils`` and ``plugins/plugin_utils``.

Every folder of those two (``<top>/<area>``) has a tier; a lower tier never needs a higher one. Read as
"is imported by" (``a <- b``: ``b`` may import ``a``), derived from the code::

    module_utils/common <- module_utils/{pki, tls, proofs} <- module_utils/check
        <- plugin_utils/common <- plugin_utils/pki <- plugin_utils/{inventory, lab, proofs} <- plugin_utils/{preflight, report}

The rule, precisely: a file in folder ``A`` may import a module of folder ``B`` only when ``B`` is ``A`` or
``B``'s tier is lower than ``A``'s. Folders of one tier (``{...}`` above) are independent of each other: none
imports another. Every import counts, also one inside a function. What is above these two folders (actions,
modules, callbacks, inventory plugins) may import any of them.

So an error class or a helper that two tiers share lives in the lower one (or below both), never in its
user's folder: when ``module_utils/pki/x509.py`` raises an error, that error's class is not in
``module_utils/check``. A new folder gets its line in ``TIERS`` (the test below fails until it has one).
"""

import os

import pytest

from ansible_collections.eeszt.connect import plugins
from source_imports import imported

PLUGINS = os.path.dirname(os.path.abspath(plugins.__file__)) if plugins.__file__ else list(plugins.__path__)[0]
OWN = "ansible_collections.eeszt.connect.plugins."
TOPS = ("module_utils", "plugin_utils")
# Lowest first; the folders of one entry are one tier.
TIERS = (
    ("module_utils/common",),
    ("module_utils/pki", "module_utils/tls", "module_utils/proofs"),
    ("module_utils/check",),
    ("plugin_utils/common",),
    ("plugin_utils/pki",),
    ("plugin_utils/inventory", "plugin_utils/lab", "plugin_utils/proofs"),
    ("plugin_utils/preflight", "plugin_utils/report"),
)
RANK = dict((folder, rank) for rank, folders in enumerate(TIERS) for folder in folders)


def folder_of_module(name):
    """``module_utils/check`` for ``...plugins.module_utils.check.errors``; None outside the two tops."""
    if not name.startswith(OWN):
        return None
    parts = name[len(OWN):].split(".")
    if len(parts) < 2 or parts[0] not in TOPS:
        return None
    return "/".join(parts[:2])


def upward(source, name):
    """Why importing the module ``name`` from the folder ``source`` breaks the rule; None when it does not."""
    target = folder_of_module(name)
    if target is None or target == source:
        return None
    if target not in RANK:
        return "%s imports %s, a folder without a tier" % (source, name)
    if RANK[target] > RANK[source]:
        return "%s imports %s: up a tier (%s is above %s)" % (source, name, target, source)
    if RANK[target] == RANK[source]:
        return "%s imports %s: %s and %s are one tier and independent" % (source, name, source, target)
    return None


def folders():
    """Every folder ``<top>/<area>`` that holds Python files."""
    found = set()
    for top in TOPS:
        for base, dummy, names in os.walk(os.path.join(PLUGINS, top)):
            if any(name.endswith(".py") for name in names):
                found.add(os.path.relpath(base, PLUGINS).replace(os.sep, "/"))
    return found


def tiered_files():
    found = []
    for top in TOPS:
        for base, dummy, names in os.walk(os.path.join(PLUGINS, top)):
            found += [os.path.join(base, name) for name in names if name.endswith(".py")]
    return sorted(found)


def source_folder(path):
    return "/".join(os.path.relpath(path, PLUGINS).split(os.sep)[:2])


def relative(path):
    return os.path.relpath(path, PLUGINS)


def test_every_folder_has_a_tier():
    assert sorted(folders()) == sorted(RANK)


@pytest.mark.parametrize("path", tiered_files(), ids=relative)
def test_no_import_runs_up_a_tier(path):
    problems = [upward(source_folder(path), name) for name in sorted(imported(path))]
    assert [problem for problem in problems if problem] == []


def test_the_rule():
    # Down a tier, and within the folder: allowed.
    assert upward("module_utils/check", OWN + "module_utils.pki.x509") is None
    assert upward("module_utils/check", OWN + "module_utils.check.errors") is None
    assert upward("plugin_utils/report", OWN + "plugin_utils.proofs.quarantine") is None
    assert upward("plugin_utils/common", OWN + "module_utils.check.errors") is None
    assert upward("plugin_utils/proofs", "os.path") is None
    # Up a tier: refused, one tier and many, module_utils reaching into plugin_utils.
    assert "up a tier" in upward("module_utils/pki", OWN + "module_utils.check.errors")
    assert "up a tier" in upward("plugin_utils/pki", OWN + "plugin_utils.proofs.errors")
    assert "up a tier" in upward("plugin_utils/proofs", OWN + "plugin_utils.report.ledger")
    assert "up a tier" in upward("module_utils/common", OWN + "plugin_utils.common.errors")
    # Siblings of one tier: refused both ways.
    assert "independent" in upward("plugin_utils/proofs", OWN + "plugin_utils.lab.pki")
    assert "independent" in upward("module_utils/tls", OWN + "module_utils.pki.x509")
    # A folder nobody placed.
    assert "without a tier" in upward("plugin_utils/report", OWN + "plugin_utils.elsewhere.thing")
    # The `from <package> import <module>` form names the folder too.
    assert "up a tier" in upward("plugin_utils/pki", OWN + "plugin_utils.proofs")
