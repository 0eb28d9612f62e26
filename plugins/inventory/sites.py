# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: sites
short_description: EESZT sites from a site registry (CSV or YAML)
version_added: 0.1.0
author: eeszt.connect developers (@eeszt-connect)
description:
  - Builds the inventory of EESZT sites from a site registry, the list of sites an IT vendor keeps in a
    spreadsheet, one row per site, saved as CSV, or the same as a YAML list.
  - "Columns (CSV header names, or keys of each YAML entry; case does not matter): C(host) (inventory
    name, required), C(address) (sets C(ansible_host)), C(user) (C(ansible_user)), C(port)
    (C(ansible_port)), C(connection) (C(ansible_connection)), C(become) (C(ansible_become)),
    C(institution_id) (C(eeszt_institution_id), required), C(site_id) (C(eeszt_site_id), required),
    C(environment) (C(eeszt_environment), default O(default_environment)), C(pfx) (the institution's
    WAF-SSL PFX file on the controller, relative to the registry file; sets
    C(eeszt_certificate_pfx_src) to its absolute path), C(password_var) (the name of the vault variable
    that holds the PFX password) and C(tags)."
  - C(password_var) sets C(eeszt_certificate_pfx_password) to the template C({{ <password_var> }}), so the
    password itself is never in the registry or the inventory cache; the vault variable (for example in
    C(group_vars/eeszt_sites/vault.yml)) is resolved when a task uses it.
  - C(tags) are separated by C(;) or C(|) in CSV (quote the cell when the CSV delimiter is C(;)) and are
    a list in YAML. They are also set as the list C(eeszt_site_tags).
  - Every row is validated before anything is added to the inventory (required fields, identifier
    patterns, duplicate host names, duplicate institution and site pairs, missing PFX files, unknown
    environments, port numbers, booleans, tag characters, unknown columns, Jinja2 templates in cells,
    which are never evaluated). Each problem names the file, the row (C(line N) in CSV, C(sites[N]) or C([N]) in
    YAML) and the field.
  - "A bad row does not stop the fleet (O(bad_rows=refuse), the default): its host is kept in the inventory,
    refused, and the other rows become sites as usual. The refused host is in the group C(eeszt_registry_refused)
    (a child of C(eeszt_sites), so every playbook's preflight sees it) and in no other group; its only variable is
    C(eeszt_registry_refusal) (C(file), C(line), C(field) of its first problem, C(reason) with all its problems,
    C(problems), C(placeholder)); nothing else of the row is used (no identity, no address). The preflight
    (M(eeszt.connect.site_preflight)) refuses it with that reason before anything is done on it, and the fleet
    summary and the report list it as refused. A row whose host name cannot be used (empty, invalid, or the name
    of another host) is listed under a name made of the file and the row, such as C(registry_csv_line_3), and
    its C(reason) says so. One warning per bad row is shown when the inventory is read."
  - A problem of the whole file (an unreadable file, a missing or misspelt column in the header, a CSV or YAML
    syntax error) fails the inventory source, with every problem at once; so does any bad row with
    O(bad_rows=fail).
  - "Groups: C(eeszt_sites) (every site, through its institution group), C(institution_<id>), C(env_<environment>)
    and C(tag_<tag>); plus those from O(groups) and O(keyed_groups)."
  - CSV files may start with a UTF-8 byte order mark and use C(,) or C(;) as the delimiter (detected from
    the header line, or set by O(csv_delimiter)); spreadsheets with a Hungarian locale save with C(;).
options:
  plugin:
    choices: [eeszt.connect.sites]
  registry:
    description:
      - Path of the registry file, relative to the directory of this configuration file.
      - The format comes from the extension (C(.csv); C(.yml), C(.yaml) or C(.json)) unless O(format) is set.
    type: str
    required: true
  format:
    description: Format of the registry file; C(auto) decides by the extension.
    type: str
    default: auto
    choices: [auto, csv, yaml]
  csv_delimiter:
    description:
      - Cell delimiter of a CSV registry. By default C(;) if the header line holds more C(;) than C(,),
        else C(,).
    type: str
    choices: [',', ';', "\t"]
  institution_id_pattern:
    description:
      - Regular expression every C(institution_id) must match (searched, so anchor it).
      - The default is the 6-digit OTH code; pharmacies' OGYEI codes have the same form.
    type: str
    default: '^[0-9]{6}$'
  site_id_pattern:
    description: Regular expression every C(site_id) must match (the 9-character NNGYK code by default).
    type: str
    default: '^[0-9A-Za-z]{9}$'
  environments:
    description: The environments a row may name in C(environment).
    type: list
    elements: str
    default: [test, production]
  default_environment:
    description: The environment of rows that leave C(environment) empty; must be one of O(environments).
    type: str
    default: test
  check_pfx:
    description:
      - Whether every C(pfx) file must exist on the controller when the inventory is parsed.
      - Turn it off to list the inventory on a machine that does not hold the PFX files.
    type: bool
    default: true
  extra_columns:
    description:
      - What to do with columns (YAML keys) that are not listed above.
      - C(error) refuses them (catches misspelt column names), C(ignore) skips them (notes, contacts),
        C(hostvars) sets each non-empty one as a host variable of that name.
      - With C(hostvars), a column that could change how Ansible connects to a site or escalates on it, or that
        looks like a secret, is never set unless O(extra_columns_allow) names it. That is every column named
        C(ansible_*) (C(ansible_host), C(ansible_ssh_common_args), C(ansible_become_password), ...),
        C(become*) (C(become), C(become_user), ...) or C(vault_*), every column whose name holds C(password),
        C(passwd), C(secret), C(token) or C(private_key), and the collection's secret variables
        (C(eeszt_certificate_pfx_password), C(eeszt_certificate_export_password), C(eeszt_check_proxy_password),
        C(eeszt_tls_proxy_username), C(eeszt_tls_proxy_password), C(eeszt_tls_java_keystore_password),
        C(eeszt_tls_java_truststore_password), C(eeszt_proofs_signing_pfx_password),
        C(eeszt_proofs_signing_key_password)).
      - Such a column is dropped for the whole file, with one warning per column that names the registry file,
        the column and the rows (C(line N) in CSV, C(sites[N]) in YAML; the first 10, then how many more) where
        it held a value; the value is never shown. The other columns and the sites go on.
    type: str
    default: error
    choices: [error, ignore, hostvars]
  extra_columns_allow:
    description:
      - Names of extra columns that may become host variables with O(extra_columns=hostvars) although they are
        connection, become or secret variables (see O(extra_columns)). Case does not matter.
      - Each name is a decision that whoever edits the registry may set that variable on the controller's
        behalf; a cell of C(ansible_ssh_common_args), for example, can run a command on the controller
        (C(ProxyCommand)). Prefer the plugin's own columns (C(address), C(user), C(port), C(connection),
        C(become), C(password_var)) where one exists.
    type: list
    elements: str
    default: []
  bad_rows:
    description:
      - What a row with a problem does. C(refuse) keeps its host in the inventory, refused (group
        C(eeszt_registry_refused), variable C(eeszt_registry_refusal)), and the other rows run; C(fail) fails the
        whole inventory source, listing every problem (the behaviour before this option), for those who want
        a registry to be all right or not used at all.
      - Not named C(strict), which is the option of the C(constructed) features (O(compose), O(groups),
        O(keyed_groups)).
    type: str
    default: refuse
    choices: [refuse, fail]
    version_added: 0.2.0
extends_documentation_fragment:
  - eeszt.connect.inventory
  - constructed
  - inventory_cache
notes:
  - With O(cache) enabled, the validated registry is kept in the cache together with the registry file's
    SHA-256 and the validation options; it is used only while both are unchanged, so an edited
    spreadsheet is never served stale. The cache holds the PFX paths and the names of the password
    variables, never a password.
seealso:
  - name: Site registry
    description: The registry format, validation rules and examples (docs/registry.md in the collection).
    link: https://github.com/eeszt-connect/eeszt.connect/blob/main/docs/registry.md
"""

EXAMPLES = r"""
# inventories/example/sites.eeszt_sites.yml
plugin: eeszt.connect.sites
registry: registry.csv

# registry.csv (first lines):
#   host,address,user,port,connection,become,institution_id,site_id,environment,pfx,password_var,tags
#   rendelo-budapest-1,10.20.0.11,ansible,22,ssh,true,123456,123456001,test,pfx/123456.pfx,vault_eeszt_pfx_password_123456,budapest;gp

---
# A registry that must be all right or not used at all: any bad row fails the inventory (by default the bad
# row's host is refused by the preflight and the other sites run).
plugin: eeszt.connect.sites
registry: registry.csv
bad_rows: fail

---
# A YAML registry, production only, with a different site code pattern, cached for an hour,
# and a group per operating system column kept as a host variable:
plugin: eeszt.connect.sites
registry: /srv/eeszt/registry.yml
environments: [production]
default_environment: production
site_id_pattern: '^[0-9]{9}$'
# Extra columns (os, contact, ...) become host variables; columns named ansible_*, become*, vault_* or like a
# secret are dropped with a warning unless listed here (old sites with only python3.6, for example):
extra_columns: hostvars
extra_columns_allow: [ansible_python_interpreter]
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/eeszt-inventory
cache_timeout: 3600
keyed_groups:
  - key: os
    prefix: os
compose:
  eeszt_check_timeout: "30 if 'slow_link' in eeszt_site_tags else 10"
"""

import hashlib
import json
import os

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import Cacheable, Constructable
from ansible.utils.display import Display

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.plugin_base import ConfigFileInventory
from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.registry import RegistryError, load_registry

try:
    from ansible.template import trust_as_template
except ImportError:  # ansible-core < 2.19: inventory strings are templates already
    def trust_as_template(value):
        return value

CACHE_SCHEMA = "eeszt.connect/sites-cache/v2"
# The group and the host variable of a host whose registry row was refused (read by the preflight).
REFUSED_GROUP = "eeszt_registry_refused"
REFUSAL_VARIABLE = "eeszt_registry_refusal"

display = Display()

# registry field -> host variable
HOST_VARIABLES = (
    ("address", "ansible_host"),
    ("user", "ansible_user"),
    ("port", "ansible_port"),
    ("connection", "ansible_connection"),
    ("become", "ansible_become"),
    ("institution_id", "eeszt_institution_id"),
    ("site_id", "eeszt_site_id"),
    ("environment", "eeszt_environment"),
    ("pfx", "eeszt_certificate_pfx_src"),
    ("tags", "eeszt_site_tags"),
)

VALIDATION_OPTIONS = ("format", "csv_delimiter", "institution_id_pattern", "site_id_pattern", "environments",
                      "default_environment", "check_pfx", "extra_columns", "extra_columns_allow", "bad_rows")


class InventoryModule(ConfigFileInventory, Constructable, Cacheable):
    """EESZT sites from a CSV or YAML site registry."""

    NAME = "eeszt.connect.sites"
    FILE_SUFFIX = "eeszt_sites"

    def parse(self, inventory, loader, path, cache=True):
        self._read_config(inventory, loader, path, cache)
        registry = os.path.join(os.path.dirname(os.path.abspath(path)),
                                os.path.expanduser(self.get_option("registry")))
        settings = {name: self.get_option(name) for name in VALIDATION_OPTIONS}
        if settings["default_environment"] not in settings["environments"]:
            raise AnsibleParserError("%s: default_environment %r is not one of environments (%s)"
                                     % (path, settings["default_environment"], ", ".join(settings["environments"])))
        try:
            with open(registry, "rb") as handle:
                digest = hashlib.sha256(handle.read()).hexdigest()
        except OSError as exc:
            raise AnsibleParserError("%s: cannot read the registry %s: %s" % (path, registry, exc.strerror or exc))
        fingerprint = {"schema": CACHE_SCHEMA, "registry": registry, "sha256": digest,
                       "settings": json.dumps(settings, sort_keys=True)}

        cache_key = self.get_cache_key(path)
        use_cache = self.get_option("cache") and cache
        update_cache = self.get_option("cache") and not cache
        sites = None
        warnings = []
        refusals = []
        if use_cache:
            cached = self._cache.get(cache_key)
            if isinstance(cached, dict) and all(cached.get(key) == value for key, value in fingerprint.items()):
                sites = cached.get("sites")
                warnings = [item for item in cached.get("warnings") or [] if isinstance(item, str)]
                refusals = [item for item in cached.get("refusals") or [] if isinstance(item, dict)]
            else:
                update_cache = True
        if sites is None:
            sites = self._load(registry, settings, warnings, refusals)
        if update_cache:
            self._cache[cache_key] = dict(fingerprint, sites=sites, warnings=warnings, refusals=refusals)
        for message in warnings:
            display.warning(message)
        for refusal in refusals:
            display.warning("%s: the host %s is kept in the inventory, refused (group %s): the preflight refuses it "
                            "and the other sites go on (bad_rows: fail makes the whole inventory fail instead)"
                            % (refusal["reason"], refusal["host"], REFUSED_GROUP))
        self._populate(sites)
        self._populate_refused(refusals)

    def _load(self, registry, settings, warnings, refusals):
        try:
            return load_registry(
                registry, fmt=settings["format"], csv_delimiter=settings["csv_delimiter"],
                institution_id_pattern=settings["institution_id_pattern"],
                site_id_pattern=settings["site_id_pattern"], environments=settings["environments"],
                default_environment=settings["default_environment"], check_pfx=settings["check_pfx"],
                extra_columns=settings["extra_columns"], extra_columns_allow=settings["extra_columns_allow"],
                warnings=warnings, refusals=refusals if settings["bad_rows"] == "refuse" else None)
        except RegistryError as exc:
            raise AnsibleParserError(str(exc))

    def _populate(self, sites):
        strict = self.get_option("strict")
        self.inventory.add_group("eeszt_sites")
        for site in sites:
            host = site["host"]
            institution_group = self.inventory.add_group(self._sanitize_group_name("institution_%s"
                                                                                   % site["institution_id"]))
            self.inventory.add_child("eeszt_sites", institution_group)
            self.inventory.add_host(host, group=institution_group)
            groups = ["env_%s" % site["environment"]] + ["tag_%s" % tag for tag in site["tags"]]
            for name in groups:
                self.inventory.add_child(self.inventory.add_group(self._sanitize_group_name(name)), host)
            for field, variable in HOST_VARIABLES:
                if field in site:
                    self.inventory.set_variable(host, variable, site[field])
            if site.get("password_var"):
                # Validated as a plain variable name: the template only refers to that variable.
                self.inventory.set_variable(host, "eeszt_certificate_pfx_password",
                                            trust_as_template("{{ %s }}" % site["password_var"]))
            for variable, value in site["vars"].items():
                self.inventory.set_variable(host, variable, value)

            hostvars = self.inventory.get_host(host).get_vars()
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)

    def _populate_refused(self, refusals):
        """The hosts of the refused rows: in the group eeszt_registry_refused (under eeszt_sites) only, with the
        variable eeszt_registry_refusal that the preflight reads; nothing else of the row is set."""
        if not refusals:
            return
        self.inventory.add_group("eeszt_sites")
        self.inventory.add_group(REFUSED_GROUP)
        self.inventory.add_child("eeszt_sites", REFUSED_GROUP)
        for refusal in refusals:
            self.inventory.add_host(refusal["host"], group=REFUSED_GROUP)
            self.inventory.set_variable(refusal["host"], REFUSAL_VARIABLE,
                                        dict((key, value) for key, value in refusal.items() if key != "host"))
