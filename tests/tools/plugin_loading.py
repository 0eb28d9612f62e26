# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Let the plugin loader find eeszt.connect.* in a unit test, as ansible-playbook does (one helper for the tests
that load an inventory or callback plugin through it, so that its options come from its DOCUMENTATION)."""

import os
import sys

from ansible.plugins.loader import init_plugin_loader
from ansible.utils.collection_loader import AnsibleCollectionConfig


def load_collection_plugins():
    """Install ansible's collection finder once per process.

    The collection finder must import the collection itself: packages that pytest already imported as plain
    namespace packages are dropped from sys.modules first (test modules keep the objects they hold), and each
    collection directory is left on sys.path once (pytest.ini and conftest.py both add .cache/collections, spelt
    differently).
    """
    if AnsibleCollectionConfig.collection_finder:
        return
    seen = set()
    for entry in list(sys.path):
        real = os.path.realpath(entry)
        if real in seen:
            sys.path.remove(entry)
        seen.add(real)
    for name in [name for name in sys.modules if name == "ansible_collections" or name.startswith("ansible_collections.")]:
        del sys.modules[name]
    init_plugin_loader([])
