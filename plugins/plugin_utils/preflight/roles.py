# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's roles as the preflight actions read them on the controller: where they are, their
argument specs (parsed once per process) and defaults, and the problem of a host the site registry refused."""

from __future__ import annotations

import functools
import os

import yaml

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import site_vars

COLLECTION_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLES_DIR = os.path.join(COLLECTION_ROOT, "roles")
STAGE_ROLES = ("certificate", "tls_client", "connection_check", "proofs")
# A host the site registry refused (eeszt.connect.sites): eeszt.connect.site_preflight refuses it with that reason.
REGISTRY_REFUSAL = "eeszt_registry_refusal"


def registry_problem(refusal):
    """The problem of a host whose site registry row was refused (``eeszt_registry_refusal`` of eeszt.connect.sites:
    file, line, field, reason)."""
    reason = refusal.get("reason") if isinstance(refusal, dict) else None
    if not isinstance(reason, str) or not reason:
        reason = "the site registry refused this host's row"
    return site_vars.Problem(REGISTRY_REFUSAL, None, reason,
                             "correct the row in the site registry and run again (the inventory plugin "
                             "eeszt.connect.sites kept the host only to report it)")


def split_role(entry):
    """``certificate`` or ``certificate:rollback`` -> (role, entry point)."""
    role, dummy, entry_point = entry.partition(":")
    role = role.rpartition(".")[2]
    return role, entry_point or "main"


# libyaml's parser when PyYAML has it: a pure-Python parse of the roles' argument specs was a third of the
# site preflight's time per site (issue 14).
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=None)
def argument_specs(role):
    """A role's ``meta/argument_specs.yml``, parsed once per process (the collection's files do not change
    during a run)."""
    with open(os.path.join(ROLES_DIR, role, "meta", "argument_specs.yml"), "rb") as handle:
        return yaml.load(handle, Loader=SAFE_LOADER)  # nosec B506 - SafeLoader or CSafeLoader


def role_defaults(loader, role):
    """A role's own ``defaults/main.yml``, trusted as templates as Ansible trusts them when it runs the role."""
    path = os.path.join(ROLES_DIR, role, "defaults", "main.yml")
    if not os.path.isfile(path):
        return {}
    return loader.load_from_file(path, trusted_as_template=True) or {}
