# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fleet's controller-side files and variable names, checked once for all sites before any stage.

Used by the action plugin ``eeszt.connect.fleet_preflight``:

* ``FileChecker`` checks the files a site's variables point to on the controller (the institution's
  PFX opens with its password, the CA files parse, the signing files exist and can be read). Every
  distinct file is opened once per run, however many sites share it: the result is cached by the
  file's real path and, for a PFX, its password (kept in memory only, never returned).
* ``unknown_variables`` finds ``eeszt_*`` variables that no part of the collection reads (a typo in a
  variable name passes silently otherwise) with the closest known name.

Problems are ``site_vars.Problem`` objects: the variable, its value as shown (never a secret's), what
is wrong and what to do.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
import re

from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.ca_bundle import CaBundleError, validate_bundle
from ansible_collections.eeszt.connect.plugins.module_utils.common.errors import EESZTConnectError
from ansible_collections.eeszt.connect.plugins.plugin_utils.pki.certificate import (
    PfxPasswordError,
    load_ca_file,
    load_pfx,
)
from ansible_collections.eeszt.connect.plugins.plugin_utils.common import controller_files
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.site_vars import Problem, show

NAME_RE = re.compile(r"\beeszt_[a-z0-9_]*[a-z0-9]\b")

# What each role reads on the controller: (variable, kind); a PFX's password variable is paired below.
PFX_PASSWORDS = {
    "eeszt_certificate_pfx_src": "eeszt_certificate_pfx_password",
    "eeszt_proofs_signing_pfx": "eeszt_proofs_signing_pfx_password",
}
ROLE_FILES = {
    "certificate": (("eeszt_certificate_pfx_src", "pfx"), ("eeszt_certificate_ca_file", "ca_file")),
    "tls_client": (("eeszt_tls_ca_bundle_src", "ca_bundle"),),
    "proofs": (("eeszt_proofs_signing_key", "readable"), ("eeszt_proofs_signing_cert", "readable"),
               ("eeszt_proofs_signing_chain", "readable"), ("eeszt_proofs_signing_pfx", "pfx"),
               ("eeszt_proofs_ca_file", "ca_file")),
}
WHAT = {"pfx": "PFX file", "ca_file": "CA file", "ca_bundle": "CA bundle", "readable": "file"}


def file_variables(roles):
    """(variable, kind) of the controller-side files the given roles read, without duplicates."""
    seen = []
    for role in roles:
        for entry in ROLE_FILES.get(role, ()):
            if entry not in seen:
                seen.append(entry)
    return seen


class FileChecker:
    """Checks controller-side files, each distinct (file, password) once per run."""

    def __init__(self, loader):
        self._loader = loader
        self._cache = {}
        self.opened = 0

    def problems(self, values, roles, task_vars, action=None):
        """Problems of the files that ``values`` (a host's templated variables) point to."""
        problems = []
        reported = set()
        for variable, kind in file_variables(roles):
            if variable == "eeszt_proofs_signing_pfx" and values.get("eeszt_proofs_signing_key"):
                continue  # a signing key replaces the PFX
            path = values.get(variable)
            if path in (None, ""):
                continue
            if not isinstance(path, str):
                problems.append(Problem(variable, show(path), "must be a path on the controller",
                                        "set the path of the file as text"))
                continue
            password_variable = PFX_PASSWORDS.get(variable)
            password = values.get(password_variable) if password_variable else None
            # The proofs' signing PFX is by default the certificate's: one problem, under the first name.
            given = (path, kind, password)
            if given in reported:
                continue
            try:
                found = controller_files.find(path, task_vars, action=action)
            except controller_files.ControllerFileNotFound as exc:
                reported.add(given)
                problems.append(Problem(variable, show(path), "was not found on the controller (looked in: %s)"
                                        % exc.where(), "set an absolute path, or a path relative to the "
                                        "directory of the inventory file that defines the host"))
                continue
            key = (os.path.realpath(found), kind, password)
            if key not in self._cache:
                self._cache[key] = self._check(found, kind, password, (variable, password_variable))
            failure = self._cache[key]
            if failure is not None:
                reported.add(given)
                culprit, message, remedy = failure
                if culprit == "password":
                    problems.append(Problem(password_variable, None, message, remedy))
                else:
                    problems.append(Problem(variable, show(path), message, remedy))
        return problems

    def _check(self, path, kind, password, variables):
        """None, or (culprit: 'file' or 'password', message, remedy) for one file.

        ``variables``: the file's and its password's variable names, for the loader's messages.
        """
        if os.path.isdir(path):
            return "file", "is a directory, not a file", "point it to the file itself"
        try:
            real = self._loader.get_real_file(path, decrypt=True)
        except Exception as exc:  # the loader raises several types for unreadable or bad vault files
            return "file", "cannot be read (%s)" % exc, "make the file readable by the user who runs Ansible"
        try:
            self.opened += 1
            if kind == "pfx":
                return self._check_pfx(real, password, path, variables)
            if kind == "ca_bundle":
                validate_bundle(real, warn_days=0)
            elif kind == "ca_file":
                load_ca_file(real, display_path=path)
            else:
                with open(real, "rb"):
                    pass
        except CaBundleError as exc:
            return "file", "is not a valid CA bundle: %s [%s]" % (exc, exc.code), \
                "give a PEM file of the CA certificates that EESZT's servers chain to"
        except EESZTConnectError as exc:
            return "file", "%s [%s]" % (exc, getattr(exc, "code", "error")), "replace the file"
        except (IOError, OSError) as exc:
            return "file", "cannot be read (%s)" % (exc.strerror or exc), \
                "make the file readable by the user who runs Ansible"
        finally:
            self._loader.cleanup_tmp_file(real)
        return None

    @staticmethod
    def _check_pfx(real, password, shown, variables):
        src_variable, password_variable = variables
        try:
            load_pfx(real, password, display_path=shown, src_variable=src_variable,
                     password_variable=password_variable)
        except PfxPasswordError as exc:  # wrong, missing, or given for a file that has none
            remedy = ("leave %s empty or unset for this file" % password_variable if exc.code == "pfx_has_no_password"
                      else "set the password that came with this PFX (by SMS), kept in Ansible Vault")
            return "password", "%s [%s]" % (exc, exc.code), remedy
        except EESZTConnectError as exc:
            return "file", "%s [%s]" % (exc, getattr(exc, "code", "pfx_error")), \
                "export the PFX again or ask the EESZT operator for a new one"
        return None


# --- variable names ----------------------------------------------------------------------------------------

def known_names(collection_root):
    """Every ``eeszt_*`` name that the collection's roles, playbooks and inventory plugins mention."""
    names = set()
    for folder, suffixes in (("roles", (".yml", ".yaml", ".j2")), ("playbooks", (".yml", ".yaml")),
                             (os.path.join("plugins", "inventory"), (".py",))):
        top = os.path.join(collection_root, folder)
        for directory, dummy, files in os.walk(top):
            for name in files:
                if name.endswith(suffixes):
                    with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                        names.update(NAME_RE.findall(handle.read()))
    return names


def unknown_variables(names_by_host, known, ignore=()):
    """[{variable, hosts, did_you_mean}] for the ``eeszt_*`` names no part of the collection reads.

    ``names_by_host`` maps a host to the names of its variables; ``ignore`` holds names or shell
    patterns (``eeszt_local_*``) of the user's own variables.
    """
    hosts_of = {}
    for host, names in names_by_host.items():
        for name in names:
            if not name.startswith("eeszt_") or name in known:
                continue
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in ignore or ()):
                continue
            hosts_of.setdefault(name, []).append(host)
    unknown = []
    for name in sorted(hosts_of):
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        unknown.append({"variable": name, "hosts": sorted(hosts_of[name]),
                        "did_you_mean": close[0] if close else None})
    return unknown


def unknown_problem(entry):
    """The problem (in site_preflight's shape) of a host that sets an entry of ``unknown_variables``, for
    ``eeszt_preflight_unknown_variables: fail``."""
    guess = "did you mean %s? Correct the name" % entry["did_you_mean"] if entry["did_you_mean"] else "correct the name"
    return {"variable": entry["variable"], "value": None,
            "message": "is set but nothing in eeszt.connect reads it (eeszt_preflight_unknown_variables is fail)",
            "remedy": "%s, or list your own variable in eeszt_preflight_ignore_unknown" % guess}


def unknown_warning(entry, shown_hosts=3):
    """One warning line for an entry of ``unknown_variables``."""
    hosts = entry["hosts"]
    listed = ", ".join(hosts[:shown_hosts]) + (" and %d more" % (len(hosts) - shown_hosts)
                                               if len(hosts) > shown_hosts else "")
    guess = "did you mean %s? " % entry["did_you_mean"] if entry["did_you_mean"] else ""
    return ("%s is set for %d host(s) (%s) but nothing in eeszt.connect reads it: %sIf it is your own "
            "variable, add it to eeszt_preflight_ignore_unknown." % (entry["variable"], len(hosts), listed, guess))
