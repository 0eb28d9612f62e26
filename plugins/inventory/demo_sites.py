# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: demo_sites
short_description: N simulated EESZT sites on the controller, for the demo and the lab
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - Builds an inventory of O(count) simulated sites named C(site001), C(site002), ... in the group
    C(eeszt_sites), for rehearsing the whole flow on one machine (C(make demo)).
  - Sites are grouped into institutions of O(sites_per_institution) sites each, as the sites of a
    real institution share its institution ID; each site gets C(eeszt_institution_id) and
    C(eeszt_site_id) and a group C(institution_<id>).
  - Connection and file locations are not set here but in the inventory's C(group_vars), so the
    same settings can be reviewed and changed as YAML.
options:
  plugin:
    choices: [eeszt.connect.demo_sites]
  count:
    description:
      - Number of simulated sites, from 1 to 5000.
      - C(make demo SITES=N) sets it through the environment.
    type: int
    default: 5
    env:
      - name: EESZT_DEMO_SITES
  sites_per_institution:
    description: How many consecutive sites share one institution.
    type: int
    default: 3
  first_institution_id:
    description: The 6-digit institution ID of the first institution; the next ones count up.
    type: int
    default: 100001
extends_documentation_fragment:
  - eeszt.connect.inventory
"""

EXAMPLES = r"""
# inventories/demo/sites.eeszt_demo.yml
plugin: eeszt.connect.demo_sites
count: 5

# The number of sites from the environment:
#   EESZT_DEMO_SITES=200 ansible-playbook -i inventories/demo eeszt.connect.site
"""

from ansible.errors import AnsibleParserError

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.plugin_base import ConfigFileInventory

MAX_SITES = 5000


class InventoryModule(ConfigFileInventory):
    """Simulated sites on the controller."""

    NAME = "eeszt.connect.demo_sites"
    FILE_SUFFIX = "eeszt_demo"

    def parse(self, inventory, loader, path, cache=True):
        self._read_config(inventory, loader, path, cache)
        count = self._positive("count", MAX_SITES, path)
        per_institution = self._positive("sites_per_institution", MAX_SITES, path)
        first = self.get_option("first_institution_id")
        if not 100000 <= first <= 999999 - count // per_institution:
            raise AnsibleParserError(
                "%s: first_institution_id must be a 6-digit number that leaves room for %d institutions, got %r"
                % (path, count // per_institution + 1, first))

        self.inventory.add_group("eeszt_sites")
        for index in range(count):
            institution = str(first + index // per_institution)
            host = "site%03d" % (index + 1)
            group = "institution_%s" % institution
            self.inventory.add_group(group)
            self.inventory.add_child("eeszt_sites", group)
            self.inventory.add_host(host, group=group)
            self.inventory.set_variable(host, "eeszt_institution_id", institution)
            self.inventory.set_variable(host, "eeszt_site_id", "%s%03d" % (institution, index % per_institution + 1))

    def _positive(self, name, maximum, path):
        value = self.get_option(name)
        if not 1 <= value <= maximum:
            raise AnsibleParserError("%s: %s must be from 1 to %d, got %r" % (path, name, maximum, value))
        return value
