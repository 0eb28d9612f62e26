# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The sites of the play as the run-once report step reads them: signing settings and collection outcomes.

The proofs role runs one task per site (``eeszt.connect.proofs_archive``, its result registered) and then
``eeszt.connect.proofs_report`` once. That step reads, for each host of the play, on the controller:

- its signing settings (the role's ``eeszt_proofs_signing_*``, its identity and ``inventory_dir``), templated
  in the host's own context, as a task of the role on that host would see them: the role's defaults, the
  inventory, the play's and the role's variables, facts and extra variables;
- the registered result of its ``proofs_archive`` task, from which its outcome is derived: ``collected``,
  ``unreachable`` (with the connection error) or ``error`` (with the error code and the message).

Passwords are read into memory only: no result, warning or message holds one; a setting that cannot be
templated is named by its variable, and the templating error of a password variable is not quoted.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from collections.abc import Mapping

from ansible.errors import AnsibleError
from ansible.vars.manager import VariableManager

from ansible_collections.eeszt.connect.plugins.plugin_utils.common.results import failure_reason

# signers[] option of proofs_report: the role variable each is read from.
SIGNING_VARIABLES = (
    ("signing_pfx", "eeszt_proofs_signing_pfx"),
    ("signing_pfx_password", "eeszt_proofs_signing_pfx_password"),
    ("signing_key", "eeszt_proofs_signing_key"),
    ("signing_cert", "eeszt_proofs_signing_cert"),
    ("signing_key_password", "eeszt_proofs_signing_key_password"),
    ("signing_chain", "eeszt_proofs_signing_chain"),
)
SECRET_VARIABLES = frozenset(("eeszt_proofs_signing_pfx_password", "eeszt_proofs_signing_key_password"))
IDENTITY_VARIABLES = ("eeszt_institution_id", "eeszt_site_id")
UNDEFINED = object()


class HostReader:
    """Reads the variables of other hosts of the play on the controller, in their own context."""

    def __init__(self, action, task_vars):
        self._action = action
        self._hostvars = (task_vars or {}).get("hostvars") or {}
        task = action._task
        manager, play = task.get_variable_manager(), task.get_play()
        # The variable manager gives a host's variables as its own task sees them (role defaults and play
        # variables included, which ``hostvars`` lacks); without one (a test), ``hostvars`` is read.
        self._manager = manager if isinstance(manager, VariableManager) and play is not None else None
        self._play = play

    def host(self, name):
        """A ``get(variable)`` for host ``name``: the templated value, UNDEFINED, or AnsibleError raised."""
        if self._manager is not None:
            inventory_host = self._manager._inventory.get_host(name)  # pylint: disable=protected-access
            if inventory_host is not None:
                variables = self._manager.get_vars(play=self._play, host=inventory_host, task=self._action._task)
                templar = self._action._templar.copy_with_new_env(available_variables=variables)

                def get(variable, template=True):
                    if variable not in variables:
                        return UNDEFINED
                    return templar.template(variables[variable]) if template else variables[variable]
                return get
        try:
            variables = self._hostvars[name]
        except (KeyError, AnsibleError):
            variables = {}

        def get_plain(variable, template=True):
            del template  # a host's hostvars template on access
            return variables[variable] if variable in variables else UNDEFINED
        return get_plain


def _text(value):
    return None if value is UNDEFINED or value is None else "%s" % (value,)


def read_host(get, name, archive_result=None):
    """What the report step needs of host ``name`` (``get`` from :meth:`HostReader.host`).

    Returns ``(signer, outcome, problem)``: the host's signing options (a ``signers[]`` entry) or None when the
    host has no identity; its outcome derived from its registered ``archive_result`` (None without
    ``archive_result``); and why a signing setting could not be read, or None.
    """
    identity = []
    for variable in IDENTITY_VARIABLES:
        try:
            identity.append(_text(get(variable)))
        except AnsibleError:
            identity.append(None)
    institution_id, site_id = identity
    outcome = None
    if archive_result:
        result = get(archive_result, template=False)
        outcome = archive_outcome(name, institution_id, site_id, result if isinstance(result, Mapping) else {})
    if not (institution_id and site_id):
        return None, outcome, None
    signer = dict(host=name, institution_id=institution_id, site_id=site_id)
    problem = None
    for option, variable in SIGNING_VARIABLES + (("inventory_dir", "inventory_dir"),):
        try:
            value = get(variable)
        except AnsibleError as exc:
            value = None
            if problem is None:
                problem = "the variable %s of host %s could not be templated%s" % (
                    variable, name, "" if variable in SECRET_VARIABLES else ": %s" % (exc.message,))
        signer[option] = None if value is UNDEFINED else value
    for option, dummy in SIGNING_VARIABLES:
        # As the role's set_fact did: ``| default(none, true)``, and the PFX only without a signing key.
        signer[option] = signer[option] or None
    if signer["signing_key"]:
        signer["signing_pfx"] = signer["signing_pfx_password"] = None
    return signer, outcome, problem


def archive_outcome(host, institution_id, site_id, result):
    """The collection outcome of a site from the registered result of its ``proofs_archive`` task.

    The same outcome the proofs role once recorded per site with a ``set_fact``: ``unreachable`` (stage ``proofs``, the
    connection error without Ansible's ``Task failed:`` prefix), ``error`` (stage ``proofs``, the result's
    error code or ``archive_failed``, its message or "the proofs could not be archived"), else ``collected``;
    with the files it archived and the operator files it archived or refused.
    """
    outcome = dict(host=host, institution_id=institution_id, site_id=site_id,
                   archived=result.get("archived", []), operator_files=result.get("operator_archived", []),
                   operator_refused=result.get("operator_refused", []))
    if result.get("unreachable"):
        outcome.update(status="unreachable", stage="proofs", reason=failure_reason(result.get("msg", "unreachable")))
    elif result.get("failed"):
        outcome.update(status="error", stage="proofs", error=result.get("error") or "archive_failed",
                       reason=result.get("msg", "the proofs could not be archived"))
    else:
        outcome.update(status="collected", stage=None, reason="")
    return outcome
