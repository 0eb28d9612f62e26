# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the collection's inventory plugins share: a configuration file recognised by the end of its name."""

from __future__ import annotations

from ansible.plugins.inventory import BaseInventoryPlugin


class ConfigFileInventory(BaseInventoryPlugin):
    """An inventory plugin configured by a YAML file whose name ends with ``FILE_SUFFIX`` (.yml or .yaml)."""

    FILE_SUFFIX = None

    def verify_file(self, path):
        return super().verify_file(path) and path.endswith((self.FILE_SUFFIX + ".yml", self.FILE_SUFFIX + ".yaml"))

    def _read_config(self, inventory, loader, path, cache=True):
        """Start a parse: the base class's set-up, then the configuration file's options."""
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
