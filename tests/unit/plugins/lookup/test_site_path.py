# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lookup eeszt.connect.site_path: the default site paths, once."""

import pytest

from ansible.errors import AnsibleLookupError

from ansible_collections.eeszt.connect.plugins.lookup.site_path import LookupModule


def test_each_path_and_the_order():
    assert LookupModule().run(["certificate_dir", "proof_dir", "ca_bundle", "config_dir"]) == [
        "/etc/eeszt/tls", "/var/lib/eeszt/proofs", "/etc/eeszt/tls/eeszt-ca.pem", "/etc/eeszt"]


def test_an_unknown_name_is_named():
    with pytest.raises(AnsibleLookupError, match="unknown path 'tls'; one of ca_bundle, certificate_dir"):
        LookupModule().run(["tls"])
