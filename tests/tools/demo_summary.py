# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Print where `make demo` left its results.

    python tests/tools/demo_summary.py LAB_DIR
"""

import os
import sys


def files_under(path):
    found = []
    for root, _dirs, names in os.walk(path):
        found.extend(os.path.relpath(os.path.join(root, name), path) for name in names)
    return sorted(found)


def main(lab_dir):
    lab_dir = os.path.abspath(lab_dir)
    print("")
    print("== eeszt.connect demo results")
    print("lab directory:       %s" % lab_dir)
    print("lab PKI:             %s" % os.path.join(lab_dir, "pki"))
    print("lab WAF access log:  %s" % os.path.join(lab_dir, "waf", "access.log"))
    sites_dir = os.path.join(lab_dir, "sites")
    sites = sorted(os.listdir(sites_dir)) if os.path.isdir(sites_dir) else []
    print("simulated sites:     %s (%d)" % (sites_dir, len(sites)))
    for site in sites:
        root = os.path.join(sites_dir, site)
        files = files_under(root)
        shown = ", ".join(files[:6]) + (" ..." if len(files) > 6 else "")
        print("  %-10s %3d files  %s" % (site, len(files), shown))
    report = os.path.join(lab_dir, "proofs", "report.html")
    if os.path.exists(report):
        print("fleet report:        %s" % report)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: demo_summary.py LAB_DIR")
    sys.exit(main(sys.argv[1]))
