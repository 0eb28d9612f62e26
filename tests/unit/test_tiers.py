# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tiers, enforced (docs/architecture.md).

- Everything under ``plugins/module_utils/`` runs on a site, where there is no ``cryptography``: it imports the
  standard library, ``ansible.module_utils`` and the collection's own ``module_utils`` only, and every file
  imports in a fresh Python process in which ``cryptography`` (and ``plugin_utils``) cannot be imported.
- A module that runs on a site follows the same rule; a module whose action is the whole plugin holds only its
  documentation (no code to run on a site).
- The lab is apart: no production plugin imports ``plugin_utils.lab``.
"""

import ast
import os
import subprocess
import sys

import pytest

from ansible_collections.eeszt.connect import plugins
from source_imports import imported

PLUGINS = os.path.dirname(os.path.abspath(plugins.__file__)) if plugins.__file__ else list(plugins.__path__)[0]
OWN = "ansible_collections.eeszt.connect.plugins."
SITE_OWN = OWN + "module_utils"
LAB = OWN + "plugin_utils.lab"
# The modules whose action plugin is the whole plugin: their files are documentation only.
DOC_ONLY = ("ca_bundle", "fleet_preflight", "lab_pki", "lab_waf", "proofs_archive", "proofs_report",
            "proofs_verify", "site_preflight", "waf_certificate_open")


def python_files(*parts):
    top = os.path.join(PLUGINS, *parts)
    found = []
    for base, dummy, names in os.walk(top):
        found += [os.path.join(base, name) for name in names if name.endswith(".py")]
    return sorted(found)


def site_import_problem(name):
    top = name.split(".")[0]
    if name == "__future__" or top in sys.stdlib_module_names:
        return None
    if name == "ansible.module_utils" or name.startswith("ansible.module_utils."):
        return None
    if name == SITE_OWN or name.startswith(SITE_OWN + "."):
        return None
    return "imports %s, which a site does not have (standard library and ansible.module_utils only)" % name


def relative(path):
    return os.path.relpath(path, PLUGINS)


SITE_FILES = python_files("module_utils") + [
    path for path in python_files("modules") if os.path.basename(path)[:-3] not in DOC_ONLY]


@pytest.mark.parametrize("path", SITE_FILES, ids=relative)
def test_site_code_imports_the_standard_library_only(path):
    problems = [site_import_problem(name) for name in sorted(imported(path))]
    assert [p for p in problems if p] == []


def test_the_import_check_refuses_what_a_site_lacks():
    assert site_import_problem("cryptography.x509")
    assert site_import_problem("yaml")
    assert site_import_problem("ansible.plugins.action")
    assert site_import_problem(OWN + "plugin_utils.pki.certificate")
    assert site_import_problem("os") is None
    assert site_import_problem(SITE_OWN + ".pki.cert_store") is None


BLOCKER = r"""
import importlib, importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("cryptography", "yaml", "jinja2") or ".plugin_utils" in name:
            raise ImportError("blocked on a site: " + name)
        return None
sys.meta_path.insert(0, Block())
failed = []
for name in sys.argv[1:]:
    try:
        importlib.import_module(name)
    except Exception as exc:
        failed.append("%s: %r" % (name, exc))
print("\n".join(failed))
sys.exit(1 if failed else 0)
"""


def module_name(path):
    return OWN + relative(path)[:-3].replace(os.sep, ".").replace(".__init__", "")


def test_every_module_utils_file_imports_without_cryptography():
    names = [module_name(path) for path in python_files("module_utils")]
    assert len(names) > 10
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, "-c", BLOCKER] + names, capture_output=True, text=True, env=env,
                         timeout=120, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_the_blocker_would_catch_a_cryptography_import(tmp_path):
    # The same process with a file that needs cryptography: it must fail, or the check above proves nothing.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path))
    run = subprocess.run([sys.executable, "-c", BLOCKER, OWN + "plugin_utils.pki.certificate", "cryptography"],
                         capture_output=True, text=True, env=env, timeout=120, check=False)
    assert run.returncode == 1
    assert "cryptography" in run.stdout


@pytest.mark.parametrize("name", DOC_ONLY)
def test_a_whole_action_plugin_has_a_documentation_only_module(name):
    path = os.path.join(PLUGINS, "modules", name + ".py")
    with open(path) as handle:
        tree = ast.parse(handle.read(), path)
    kept = [node for node in tree.body if not (
        isinstance(node, ast.Assign) and node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN", "__metaclass__")
        or isinstance(node, ast.ImportFrom) and node.module == "__future__"
        or isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))]
    assert kept == [], "%s holds code: %s" % (relative(path), [ast.dump(node)[:80] for node in kept])
    assert os.path.isfile(os.path.join(PLUGINS, "action", name + ".py"))


LAB_PLUGINS = [os.path.join(kind, name) for kind in ("action", "modules") for name in ("lab_pki.py", "lab_waf.py")]
PRODUCTION = [path for path in python_files() if not (
    relative(path).startswith(os.path.join("plugin_utils", "lab") + os.sep) or relative(path) in LAB_PLUGINS)]


@pytest.mark.parametrize("path", PRODUCTION, ids=relative)
def test_no_production_plugin_imports_the_lab(path):
    assert [name for name in imported(path) if name == LAB or name.startswith(LAB + ".")] == []
