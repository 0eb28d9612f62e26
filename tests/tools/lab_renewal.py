# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A renewed lab WAF-SSL PFX for a site, to rehearse a certificate rotation.

A thin command line over the lab issuer's own renewal,
``plugins/plugin_utils/lab/pki.py: renew_site_pfx`` (same subject, new RSA key
and serial, signed by the lab's client issuing CA). Used by
tests/integration/test_rotation.py, test_vendor_path.py and the Molecule
``rotation`` scenario.

    python tests/tools/lab_renewal.py LAB_DIR INSTITUTION_ID SITE_ID TARGET.p12

reads the site's PFX and password from LAB_DIR/pki/sites/, writes TARGET.p12
and TARGET.password (a new random password, mode 0600; never printed) and
prints one JSON object: path, sha256 and sha1 fingerprints (hex), serial.
"""

import argparse
import json
import os
import sys

COLLECTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                           ".cache", "collections")
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)

from ansible_collections.eeszt.connect.plugins.plugin_utils.lab.pki import renew_site_pfx  # noqa: E402


def renew(pki, institution_id, site_id, target, password=None):
    """Write the renewed PFX at ``target`` (and its .password) for the lab whose PKI is ``pki``; returns its facts."""
    return renew_site_pfx(os.path.dirname(os.path.abspath(pki)), institution_id, site_id, target, password)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("lab_dir", help="the lab directory (its pki/ holds the CAs and the sites' PFX files)")
    parser.add_argument("institution_id")
    parser.add_argument("site_id")
    parser.add_argument("target", help="path of the renewed PFX; its password goes next to it (.password)")
    args = parser.parse_args(argv)
    facts = renew_site_pfx(args.lab_dir, args.institution_id, args.site_id, args.target)
    json.dump(facts, sys.stdout, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
