# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""plugin_utils/preflight/roles.py: the collection's roles as the preflight actions read them."""

import os
from unittest import mock

from ansible_collections.eeszt.connect.plugins.plugin_utils.preflight import roles


def test_the_roles_directory_is_the_collections():
    assert roles.ROLES_DIR == os.path.join(roles.COLLECTION_ROOT, "roles")
    assert os.path.isfile(os.path.join(roles.COLLECTION_ROOT, "galaxy.yml"))
    for role in roles.STAGE_ROLES:
        assert os.path.isfile(os.path.join(roles.ROLES_DIR, role, "meta", "argument_specs.yml"))


def test_split_role():
    assert roles.split_role("proofs") == ("proofs", "main")
    assert roles.split_role("eeszt.connect.certificate:rollback") == ("certificate", "rollback")
    assert roles.split_role("certificate:") == ("certificate", "main")


def test_a_refused_registry_row_keeps_its_reason_or_gets_one():
    problem = roles.registry_problem({"reason": "row 3: eeszt_site_id is empty"}).as_dict()
    assert problem["variable"] == roles.REGISTRY_REFUSAL and problem["message"] == "row 3: eeszt_site_id is empty"
    for refusal in (None, {}, {"reason": ""}, {"reason": 5}, "text"):
        assert roles.registry_problem(refusal).as_dict()["message"] == "the site registry refused this host's row"


def test_role_defaults_of_a_role_without_defaults_is_empty():
    loader = mock.Mock()
    assert roles.role_defaults(loader, "no_such_role") == {}
    loader.load_from_file.assert_not_called()
    loader.load_from_file.return_value = None
    assert roles.role_defaults(loader, "proofs") == {}
    loader.load_from_file.assert_called_once_with(os.path.join(roles.ROLES_DIR, "proofs", "defaults", "main.yml"),
                                                  trusted_as_template=True)
