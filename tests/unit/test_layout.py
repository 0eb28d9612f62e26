# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests mirror the code (issue 22, point 7), so that the test of a file is found from its path.

The test of ``plugins/<dir>/<sub>/<file>.py`` is ``tests/unit/plugins/<dir>/<sub>/test_<file>.py``; more tests of the
same file sit beside it as ``test_<file>_<aspect>.py``. Tests about the whole tree (import tiers, documentation,
promises, role seams) live in ``tests/unit/`` itself, the fuzz tests of the parsers in ``tests/unit/fuzz/``.

``UNTESTED`` is the explicit set of the python files under ``plugins/`` that have no test file at their mirrored
path today (an empty file, such as most packages' ``__init__.py``, holds nothing to test and is left out). A new
plugin file without its test fails here; a listed file that gains its test, or is gone, fails too until it leaves
the set, so the set only shrinks.
"""

import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
UNIT = os.path.join(ROOT, "tests", "unit")

UNTESTED = frozenset([
    "plugins/action/fleet_preflight.py",
    "plugins/action/lab_waf.py",
    "plugins/action/proofs_verify.py",
    "plugins/doc_fragments/attributes.py",
    "plugins/doc_fragments/controller_pki.py",
    "plugins/doc_fragments/inventory.py",
    "plugins/inventory/demo_sites.py",
    "plugins/module_utils/check/endpoints.py",
    "plugins/module_utils/check/errors.py",
    "plugins/module_utils/check/messages.py",
    "plugins/module_utils/check/probe.py",
    "plugins/module_utils/check/runner.py",
    "plugins/module_utils/common/paths.py",
    "plugins/module_utils/pki/cert_set.py",
    "plugins/module_utils/pki/deploy.py",
    "plugins/module_utils/tls/files.py",
    "plugins/module_utils/tls/gateway.py",
    "plugins/modules/ca_bundle.py",
    "plugins/modules/fleet_preflight.py",
    "plugins/modules/lab_pki.py",
    "plugins/modules/lab_waf.py",
    "plugins/modules/proofs_archive.py",
    "plugins/modules/proofs_report.py",
    "plugins/modules/proofs_verify.py",
    "plugins/modules/site_preflight.py",
    "plugins/modules/tls_clock_skew.py",
    "plugins/modules/waf_certificate.py",
    "plugins/modules/waf_certificate_open.py",
    "plugins/plugin_utils/common/clock.py",
    "plugins/plugin_utils/common/controller_files.py",
    "plugins/plugin_utils/inventory/plugin_base.py",
    "plugins/plugin_utils/inventory/registry.py",
    "plugins/plugin_utils/inventory/registry_read.py",
    "plugins/plugin_utils/lab/_builder.py",
    "plugins/plugin_utils/lab/_cases.py",
    "plugins/plugin_utils/lab/_certs.py",
    "plugins/plugin_utils/lab/_pkcs12.py",
    "plugins/plugin_utils/lab/_waf_http.py",
    "plugins/plugin_utils/lab/waf_server.py",
    "plugins/plugin_utils/pki/__init__.py",
    "plugins/plugin_utils/pki/crypto.py",
    "plugins/plugin_utils/pki/errors.py",
    "plugins/plugin_utils/pki/kdf.py",
    "plugins/plugin_utils/pki/pfx_once.py",
    "plugins/plugin_utils/pki/pkcs12_der.py",
    "plugins/plugin_utils/pki/validation.py",
    "plugins/plugin_utils/proofs/play_hosts.py",
    "plugins/plugin_utils/proofs/quarantine.py",
    "plugins/plugin_utils/proofs/signing.py",
    "plugins/plugin_utils/proofs/unsealed.py",
    "plugins/plugin_utils/report/bundles.py",
    "plugins/plugin_utils/report/charts.py",
    "plugins/plugin_utils/report/fleet_metrics.py",
    "plugins/plugin_utils/report/html_text.py",
    "plugins/plugin_utils/report/index.py",
    "plugins/plugin_utils/report/runs.py",
    "plugins/plugin_utils/report/tables.py",
])


def plugin_files(root=ROOT):
    """Every non-empty python file under plugins/, as a path from the repository root with ``/``."""
    found = []
    for directory, subdirectories, names in os.walk(os.path.join(root, "plugins")):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        for name in sorted(names):
            path = os.path.join(directory, name)
            if name.endswith(".py") and os.path.getsize(path):
                found.append(os.path.relpath(path, root).replace(os.sep, "/"))
    return found


def mirrored_test(relative, root=ROOT):
    """``plugins/<dir>/<file>.py`` -> the path of ``tests/unit/plugins/<dir>/test_<file>.py``."""
    directory, name = relative.rsplit("/", 1)
    return os.path.join(root, "tests", "unit", *(directory.split("/") + ["test_" + name]))


def mirrored_file(test_path, root=ROOT):
    """The plugin file (from the root, with ``/``) that a test file under tests/unit/plugins/ mirrors, or None.

    ``test_<file>.py`` mirrors ``<file>.py`` of the same directory under plugins/; ``test_<file>_<aspect>.py``
    mirrors it only when ``test_<file>.py`` is there too.
    """
    directory, name = os.path.split(os.path.relpath(test_path, os.path.join(root, "tests", "unit")))
    parts = name[len("test_"):-len(".py")].split("_")
    for end in range(len(parts), 0, -1):
        candidate = "/".join(directory.split(os.sep) + ["_".join(parts[:end]) + ".py"])
        if os.path.isfile(os.path.join(root, candidate)) and (
                end == len(parts) or os.path.isfile(mirrored_test(candidate, root))):
            return candidate
    return None


def unit_plugin_tests(root=ROOT):
    """Every test_*.py under tests/unit/plugins/."""
    found = []
    for directory, subdirectories, names in os.walk(os.path.join(root, "tests", "unit", "plugins")):
        subdirectories[:] = sorted(name for name in subdirectories if name != "__pycache__")
        found.extend(os.path.join(directory, name) for name in sorted(names)
                     if name.startswith("test_") and name.endswith(".py"))
    return found


def untested_problems(untested, root=ROOT):
    """(every file without a test at its mirrored path, those of them not in ``untested``, the entries of
    ``untested`` that have their test or are gone)."""
    files = plugin_files(root)
    without = [path for path in files if not os.path.isfile(mirrored_test(path, root))]
    new = [path for path in without if path not in untested]
    stale = sorted(path for path in untested if path not in files or os.path.isfile(mirrored_test(path, root)))
    return without, new, stale


def listing(title, paths):
    return "%s (%d):\n  %s" % (title, len(paths), "\n  ".join(paths) or "(none)")


def test_every_plugin_file_has_a_test_at_its_mirrored_path_or_is_listed_as_untested():
    without, new, dummy = untested_problems(UNTESTED)
    assert not new, "\n".join([
        listing("python files under plugins/ without tests/unit/plugins/<same directory>/test_<file>.py: write "
                "the test (UNTESTED in tests/unit/test_layout.py lists only the files that had none in issue 22)",
                new),
        listing("every file without a test at its mirrored path", without)])


def test_a_listed_file_that_has_its_test_or_is_gone_leaves_the_untested_set():
    dummy, dummy, stale = untested_problems(UNTESTED)
    assert not stale, listing("take these out of UNTESTED in tests/unit/test_layout.py: each has its test now "
                              "or no longer exists", stale)


def test_every_test_file_under_tests_unit_plugins_mirrors_a_plugin_file():
    strays = [os.path.relpath(path, ROOT) for path in unit_plugin_tests() if mirrored_file(path) is None]
    assert not strays, listing(
        "test files under tests/unit/plugins/ that mirror no plugin file (name a test test_<file>.py, or "
        "test_<file>_<aspect>.py beside test_<file>.py, in the directory that mirrors the file's; a test of the "
        "whole tree belongs in tests/unit/)", strays)


def test_the_mirror_rule_on_a_tree_of_its_own(tmp_path):
    root = str(tmp_path)
    for relative in ("plugins/action/waf_certificate.py", "plugins/action/waf_certificate_open.py",
                     "plugins/plugin_utils/proofs/ledger.py", "plugins/plugin_utils/proofs/archive.py",
                     "tests/unit/plugins/action/test_waf_certificate.py",
                     "tests/unit/plugins/action/test_waf_certificate_published.py",
                     "tests/unit/plugins/action/test_waf_certificate_open.py",
                     "tests/unit/plugins/plugin_utils/proofs/test_archive_operator_files.py",
                     "tests/unit/plugins/plugin_utils/proofs/test_ledgers.py",
                     "tests/unit/plugins/plugin_utils/test_ledger.py"):
        path = os.path.join(root, *relative.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            handle.write("x = 1\n")
    open(os.path.join(root, "plugins", "plugin_utils", "proofs", "__init__.py"), "w").close()

    assert plugin_files(root) == ["plugins/action/waf_certificate.py", "plugins/action/waf_certificate_open.py",
                                  "plugins/plugin_utils/proofs/archive.py", "plugins/plugin_utils/proofs/ledger.py"]
    assert mirrored_test("plugins/plugin_utils/proofs/ledger.py", root) == os.path.join(
        root, "tests", "unit", "plugins", "plugin_utils", "proofs", "test_ledger.py")
    found = {os.path.relpath(path, root).replace(os.sep, "/"): mirrored_file(path, root)
             for path in unit_plugin_tests(root)}
    assert found == {
        "tests/unit/plugins/action/test_waf_certificate.py": "plugins/action/waf_certificate.py",
        "tests/unit/plugins/action/test_waf_certificate_published.py": "plugins/action/waf_certificate.py",
        "tests/unit/plugins/action/test_waf_certificate_open.py": "plugins/action/waf_certificate_open.py",
        # an aspect file needs its file's main test beside it: archive.py has no test_archive.py
        "tests/unit/plugins/plugin_utils/proofs/test_archive_operator_files.py": None,
        # not a prefix of a file name, and not the mirrored directory
        "tests/unit/plugins/plugin_utils/proofs/test_ledgers.py": None,
        "tests/unit/plugins/plugin_utils/test_ledger.py": None,
    }
    untested = {"plugins/action/waf_certificate_open.py", "plugins/plugin_utils/proofs/ledger.py",
                "plugins/plugin_utils/proofs/gone.py"}
    assert untested_problems(untested, root) == (
        ["plugins/plugin_utils/proofs/archive.py", "plugins/plugin_utils/proofs/ledger.py"],
        ["plugins/plugin_utils/proofs/archive.py"],  # a file without its test, not listed
        ["plugins/action/waf_certificate_open.py", "plugins/plugin_utils/proofs/gone.py"])  # tested, gone
