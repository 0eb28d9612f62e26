#!/usr/bin/env python3
# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Demo inventory: N simulated EESZT sites on this machine.

Each site is a host with the local connection whose files live under its own
directory (<lab dir>/sites/<host>/...), so no root is needed. Three sites
share one institution, as the sites of a real institution share its WAF-SSL
certificate's institution ID.

    EESZT_DEMO_SITES   number of sites (default 5; `make demo SITES=N`)

Everything else about the demo sites is in group_vars/eeszt_sites.yml.
"""

import json
import os
import sys

SITES_PER_INSTITUTION = 3
FIRST_INSTITUTION = 100001
MAX_SITES = 5000


def site_count():
    raw = os.environ.get("EESZT_DEMO_SITES", "5").strip() or "5"
    try:
        count = int(raw)
    except ValueError:
        count = -1
    if not 1 <= count <= MAX_SITES:
        sys.stderr.write("EESZT_DEMO_SITES must be a whole number from 1 to %d, got %r\n" % (MAX_SITES, raw))
        sys.exit(2)
    return count


def inventory(count):
    hostvars = {}
    for index in range(count):
        institution = str(FIRST_INSTITUTION + index // SITES_PER_INSTITUTION)
        host = "site%03d" % (index + 1)
        hostvars[host] = {
            "eeszt_institution_id": institution,
            "eeszt_site_id": "%s%03d" % (institution, index % SITES_PER_INSTITUTION + 1),
        }
    return {
        "_meta": {"hostvars": hostvars},
        "all": {"children": ["eeszt_sites"]},
        "eeszt_sites": {"hosts": sorted(hostvars)},
    }


def main(argv):
    if len(argv) > 1 and argv[1] == "--host":
        print(json.dumps({}))
        return 0
    print(json.dumps(inventory(site_count()), indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
