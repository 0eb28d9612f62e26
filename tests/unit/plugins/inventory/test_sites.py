# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site registry (plugin_utils.registry) and the eeszt.connect.sites inventory plugin."""

import csv
import json
import os
import shutil
import socket
import sys

import pytest

from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import inventory_loader
from ansible.template import Templar
from ansible.vars.manager import VariableManager

from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory.registry import RegistryError, load_registry
from plugin_loading import load_collection_plugins

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
EXAMPLE = os.path.join(ROOT, "inventories", "example")
HEADER = ["host", "address", "user", "port", "connection", "become", "institution_id", "site_id", "environment",
          "pfx", "password_var", "tags"]
SITE_ID_PATTERN = "^[0-9A-Za-z]{9}$"


@pytest.fixture(scope="module", autouse=True)
def collection_loader():
    """Let the plugin loader find eeszt.connect.* as ansible-playbook does (tests/tools/plugin_loading.py)."""
    load_collection_plugins()


def fleet_rows(count=50, per_institution=5):
    """``count`` valid registry rows, ``per_institution`` sites per institution."""
    rows = []
    for index in range(count):
        institution = "%06d" % (100001 + index // per_institution)
        rows.append({
            "host": "site%03d" % (index + 1),
            "address": "10.0.%d.%d" % (index // 200, index % 200 + 1),
            "user": "ansible",
            "port": "22",
            "connection": "ssh",
            "become": "true",
            "institution_id": institution,
            "site_id": "%s%03d" % (institution, index % per_institution + 1),
            "environment": "production" if index % 10 == 9 else "test",
            "pfx": "pfx/%s.pfx" % institution,
            "password_var": "vault_pfx_password_%s" % institution,
            "tags": "gp;budapest" if index % 2 == 0 else "pharmacy|szeged",
        })
    return rows


def write_csv(path, rows, header=None, delimiter=","):
    with open(str(path), "w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header or HEADER, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def make_pfx(directory, rows):
    """Empty placeholder PFX files for every row (the plugin checks existence, not content)."""
    for row in rows:
        target = os.path.join(str(directory), row["pfx"])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        open(target, "ab").close()


def write_config(directory, registry="registry.csv", **options):
    config = dict({"plugin": "eeszt.connect.sites", "registry": registry}, **options)
    path = os.path.join(str(directory), "fleet.eeszt_sites.yml")
    with open(path, "w") as handle:
        json.dump(config, handle)  # JSON is YAML
    return path


def inventory_of(config):
    """A real InventoryManager over one plugin configuration (parse errors become AnsibleParserError)."""
    return InventoryManager(loader=DataLoader(), sources=[config], parse=True)


def parse_with_plugin(config):
    """Run the plugin directly, so that its AnsibleParserError reaches the test."""
    plugin = inventory_loader.get("eeszt.connect.sites")
    assert plugin.verify_file(config)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), config, cache=False)
    return inventory


def read_cache(path):
    """A jsonfile cache entry (ansible-core 2.19 wraps it in a serialised ``__payload__``)."""
    content = json.loads(path.read_text())
    return json.loads(content["__payload__"]) if "__payload__" in content else content


def host_names(inventory, group):
    return sorted(host.name for host in inventory.groups[group].get_hosts())


@pytest.fixture
def fleet(tmp_path):
    """A valid 50-site CSV registry with its PFX files, and its plugin configuration."""
    rows = fleet_rows()
    make_pfx(tmp_path, rows)
    registry = write_csv(tmp_path / "registry.csv", rows)
    return rows, registry, write_config(tmp_path)


# --- the done-when case: 50 sites, three invalid rows, three precise errors -----------------------

def test_fifty_sites_with_three_invalid_rows_give_exactly_three_errors(tmp_path):
    rows = fleet_rows()
    make_pfx(tmp_path, rows)
    rows[11]["site_id"] = "12345"        # line 13: identifier pattern
    rows[29]["port"] = "70000"           # line 31: port out of range
    rows[44]["host"] = rows[2]["host"]   # line 46: host name already used on line 4
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)

    assert [str(problem) for problem in caught.value.problems] == [
        "%s, line 13, field site_id: '12345' does not match %s" % (registry, SITE_ID_PATTERN),
        "%s, line 31, field port: '70000' is not a port number from 1 to 65535" % registry,
        "%s, line 46, field host: duplicate host 'site003', first defined at line 4" % registry,
    ]
    assert [(p.row, p.field) for p in caught.value.problems] == [
        ("line 13", "site_id"), ("line 31", "port"), ("line 46", "host")]


def test_plugin_refuses_the_registry_and_reports_all_three_errors(tmp_path):
    rows = fleet_rows()
    make_pfx(tmp_path, rows)
    rows[11]["site_id"] = "12345"
    rows[29]["port"] = "70000"
    rows[44]["host"] = rows[2]["host"]
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(AnsibleParserError) as caught:
        parse_with_plugin(write_config(tmp_path, bad_rows="fail"))

    message = str(caught.value)
    assert "3 problems in the site registry" in message
    for line, field in (("13", "site_id"), ("31", "port"), ("46", "host")):
        assert "%s, line %s, field %s: " % (registry, line, field) in message


# --- the valid registry -------------------------------------------------------------------------

def test_valid_registry_builds_the_expected_groups(fleet):
    rows, dummy, config = fleet
    inventory = inventory_of(config)

    assert host_names(inventory, "eeszt_sites") == sorted(row["host"] for row in rows)
    institutions = sorted(name for name in inventory.groups if name.startswith("institution_"))
    assert institutions == ["institution_%06d" % (100001 + i) for i in range(10)]
    assert host_names(inventory, "institution_100003") == ["site011", "site012", "site013", "site014", "site015"]
    assert sorted(child.name for child in inventory.groups["eeszt_sites"].child_groups) == institutions
    assert host_names(inventory, "env_production") == ["site%03d" % n for n in range(10, 51, 10)]
    assert len(host_names(inventory, "env_test")) == 45
    assert len(host_names(inventory, "tag_gp")) == 25
    assert host_names(inventory, "tag_gp") == host_names(inventory, "tag_budapest")
    assert host_names(inventory, "tag_pharmacy") == ["site%03d" % n for n in range(2, 51, 2)]


def test_valid_registry_sets_the_host_variables(fleet, tmp_path):
    dummy, dummy2, config = fleet
    hostvars = inventory_of(config).get_host("site012").get_vars()

    assert hostvars["ansible_host"] == "10.0.0.12"
    assert hostvars["ansible_user"] == "ansible"
    assert hostvars["ansible_port"] == 22
    assert hostvars["ansible_connection"] == "ssh"
    assert hostvars["ansible_become"] is True
    assert hostvars["eeszt_institution_id"] == "100003"
    assert hostvars["eeszt_site_id"] == "100003002"
    assert hostvars["eeszt_environment"] == "test"
    assert hostvars["eeszt_certificate_pfx_src"] == str(tmp_path / "pfx" / "100003.pfx")
    assert hostvars["eeszt_certificate_pfx_password"] == "{{ vault_pfx_password_100003 }}"
    assert hostvars["eeszt_site_tags"] == ["pharmacy", "szeged"]


def test_password_variable_is_resolved_at_run_time(fleet):
    dummy, dummy2, config = fleet
    # Where a vendor keeps the vault variables: group_vars next to the inventory source.
    group_vars = os.path.join(os.path.dirname(config), "group_vars")
    os.mkdir(group_vars)
    with open(os.path.join(group_vars, "eeszt_sites.yml"), "w") as handle:
        handle.write("vault_pfx_password_100003: from-the-vault\n")
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[config])
    manager = VariableManager(loader=loader, inventory=inventory)
    variables = manager.get_vars(host=inventory.get_host("site012"))
    templar = Templar(loader=loader, variables=variables)

    assert templar.template(variables["eeszt_certificate_pfx_password"]) == "from-the-vault"


def test_registry_cells_are_never_templated(tmp_path):
    rows = fleet_rows(2)
    make_pfx(tmp_path, rows)
    rows[1]["user"] = "{{ lookup('ansible.builtin.pipe', 'id') }}"
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [str(p) for p in caught.value.problems] == [
        "%s, line 3, field user: must not contain a Jinja2 template ({{, {%%, {#)" % registry]


# --- every validation rule, each reported with its row and field ----------------------------------

@pytest.mark.parametrize("field, value, message", [
    ("institution_id", "", "required, but empty"),
    ("institution_id", "12345", "'12345' does not match ^[0-9]{6}$ (a spreadsheet may have dropped leading "
                                "zeros: '012345'?)"),
    ("site_id", "10000100", "'10000100' does not match ^[0-9A-Za-z]{9}$ (a spreadsheet may have dropped "
                            "leading zeros: '010000100'?)"),
    ("host", "bad host", "'bad host' is not a valid inventory host name (letters, digits, '.', '-', '_')"),
    ("address", "10.0.0.1,10.0.0.2", "'10.0.0.1,10.0.0.2' is not a host name or IP address"),
    ("port", "0", "'0' is not a port number from 1 to 65535"),
    ("port", "ssh", "'ssh' is not a port number from 1 to 65535"),
    ("become", "maybe", "'maybe' is not a boolean (true/false, yes/no)"),
    ("environment", "prod", "unknown environment 'prod' (known: test, production)"),
    ("connection", "ssh -v", "'ssh -v' is not a connection plugin name (such as ssh, local or ansible.builtin.ssh)"),
    ("password_var", "vault-pw", "'vault-pw' is not a variable name (letters, digits, '_')"),
    ("tags", "gp;szeged-dél", "tag 'szeged-dél' may hold only letters, digits and '_' (separate tags with ';' "
                              "or '|')"),
])
def test_each_rule_names_file_row_and_field(tmp_path, field, value, message):
    rows = fleet_rows(3)
    make_pfx(tmp_path, rows)
    rows[1][field] = value
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [str(p) for p in caught.value.problems] == ["%s, line 3, field %s: %s" % (registry, field, message)]


def test_missing_pfx_is_reported_unless_the_check_is_off(tmp_path):
    rows = fleet_rows(3)
    registry = write_csv(tmp_path / "registry.csv", rows)
    missing = str(tmp_path / "pfx" / "100001.pfx")

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [str(p) for p in caught.value.problems] == [
        "%s, line %d, field pfx: PFX file %s not found (paths are relative to the registry's directory)"
        % (registry, line, missing) for line in (2, 3, 4)]

    sites = load_registry(registry, check_pfx=False)
    assert [site["pfx"] for site in sites] == [missing] * 3


def test_duplicate_institution_and_site_pair(tmp_path):
    rows = fleet_rows(4)
    make_pfx(tmp_path, rows)
    rows[3]["site_id"] = rows[1]["site_id"]
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [str(p) for p in caught.value.problems] == [
        "%s, line 5, field site_id: institution 100001 already has site 100001002 at line 3" % registry]


def test_all_problems_of_one_row_and_of_the_file_at_once(tmp_path):
    rows = fleet_rows(5)
    make_pfx(tmp_path, rows)
    rows[0].update(port="99999", environment="staging")
    rows[4].update(site_id="x", become="sometimes")
    registry = write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [(p.row, p.field) for p in caught.value.problems] == [
        ("line 2", "environment"), ("line 2", "port"), ("line 6", "become"), ("line 6", "site_id")]


def test_patterns_and_environments_are_options(tmp_path):
    rows = fleet_rows(2)
    make_pfx(tmp_path, rows)
    rows[0].update(site_id="ABC", environment="staging")
    rows[1].update(site_id="DEF", environment="")
    registry = write_csv(tmp_path / "registry.csv", rows)

    sites = load_registry(registry, site_id_pattern="^[A-Z]{3}$", environments=["staging", "production"],
                          default_environment="production")
    assert [(s["site_id"], s["environment"]) for s in sites] == [("ABC", "staging"), ("DEF", "production")]


# --- CSV dialects and columns -------------------------------------------------------------------

def test_semicolon_csv_with_byte_order_mark_and_blank_lines(tmp_path):
    """What a spreadsheet with a Hungarian locale saves as "CSV UTF-8"."""
    rows = fleet_rows(2)
    make_pfx(tmp_path, rows)
    rows[0]["tags"] = "gp|budapest"
    path = tmp_path / "registry.csv"
    write_csv(path, rows, delimiter=";")
    text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    path.write_bytes(b"\xef\xbb\xbf" + (text + "\n;;;;;;;;;;;\n\n").encode("utf-8"))

    sites = load_registry(str(path))
    assert [s["host"] for s in sites] == ["site001", "site002"]
    assert sites[0]["tags"] == ["gp", "budapest"]


def test_unknown_column_is_reported_once_on_the_header(tmp_path):
    rows = fleet_rows(3)
    make_pfx(tmp_path, rows)
    for row in rows:
        row["contact"] = "Dr. Kovács"
    registry = write_csv(tmp_path / "registry.csv", rows, header=HEADER + ["contact"])

    with pytest.raises(RegistryError) as caught:
        load_registry(registry)
    assert [(p.row, p.field) for p in caught.value.problems] == [("line 1", "contact")]
    assert [s["vars"] for s in load_registry(registry, extra_columns="ignore")] == [{}, {}, {}]
    assert [s["vars"] for s in load_registry(registry, extra_columns="hostvars")] == [{"contact": "Dr. Kovács"}] * 3


def test_misspelt_required_column(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("host,instituion_id,site_id\nsite001,100001,100001001\n")

    with pytest.raises(RegistryError) as caught:
        load_registry(str(registry))
    assert [(p.row, p.field) for p in caught.value.problems] == [
        ("line 1", "instituion_id"), ("line 1", "institution_id")]


def test_row_with_more_cells_than_columns(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("host,institution_id,site_id\nsite001,100001,100001001,extra\n")

    with pytest.raises(RegistryError) as caught:
        load_registry(str(registry))
    assert [str(p) for p in caught.value.problems] == [
        "%s, line 2: 4 cells, but the header names only 3 columns" % registry]


def test_multi_line_cell_keeps_line_numbers(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text('host,institution_id,site_id,tags\nsite001,100001,100001001,"gp;\nbudapest"\n'
                        'site002,100001,bad,\n')

    with pytest.raises(RegistryError) as caught:
        load_registry(str(registry))
    assert [(p.row, p.field) for p in caught.value.problems] == [("line 4", "site_id")]


def test_minimal_registry_uses_the_default_environment(tmp_path):
    registry = tmp_path / "registry.csv"
    registry.write_text("host,institution_id,site_id\nsite001,100001,100001001\n")

    assert load_registry(str(registry)) == [{
        "location": "line 2", "host": "site001", "institution_id": "100001", "site_id": "100001001",
        "environment": "test", "tags": [], "vars": {}}]


# --- YAML -----------------------------------------------------------------------------------------

def test_yaml_registry_gives_the_same_sites_as_csv(tmp_path):
    rows = fleet_rows(6)
    make_pfx(tmp_path, rows)
    csv_sites = load_registry(write_csv(tmp_path / "registry.csv", rows))
    entries = []
    for row in rows:
        entry = dict(row, port=int(row["port"]), become=True, tags=row["tags"].replace("|", ";").split(";"))
        entries.append(entry)
    (tmp_path / "registry.yml").write_text(json.dumps({"sites": entries}))

    yaml_sites = load_registry(str(tmp_path / "registry.yml"))
    assert [s.pop("location") for s in yaml_sites] == ["sites[%d]" % i for i in range(6)]
    for site in csv_sites:
        site.pop("location")
    assert yaml_sites == csv_sites


def test_yaml_errors_name_the_index_and_unquoted_identifiers(tmp_path):
    registry = tmp_path / "registry.yml"
    registry.write_text("- {host: a, institution_id: '100001', site_id: '100001001'}\n"
                        "- {host: b, institution_id: 012345, site_id: '100001002', tags: [ok, 'not ok']}\n"
                        "- just a string\n")

    with pytest.raises(RegistryError) as caught:
        load_registry(str(registry))
    assert [str(p) for p in caught.value.problems] == [
        "%s, [2]: a site must be a mapping, got str" % registry,
        "%s, [1], field institution_id: '5349' does not match ^[0-9]{6}$ (write identifiers as quoted "
        "strings in YAML)" % registry,
        "%s, [1], field tags: tag 'not ok' may hold only letters, digits and '_' (separate tags with ';' or '|')"
        % registry,
    ]


def test_example_registries_are_valid_and_agree():
    csv_sites = load_registry(os.path.join(EXAMPLE, "registry.csv"), check_pfx=False)
    yaml_sites = load_registry(os.path.join(EXAMPLE, "registry.yml"), check_pfx=False)
    for site in csv_sites + yaml_sites:
        site.pop("location")
    assert csv_sites == yaml_sites
    assert len(csv_sites) == 3


def test_example_inventory_configuration(tmp_path):
    """The shipped sites.eeszt_sites.yml, with placeholder PFX files where a vendor puts the real ones."""
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, str(target))
    make_pfx(target, [{"pfx": "pfx/123456.pfx"}, {"pfx": "pfx/654321.pfx"}])
    inventory = inventory_of(str(target / "sites.eeszt_sites.yml"))

    assert host_names(inventory, "institution_123456") == [
        "rendelo-budapest-1.example.internal", "rendelo-budapest-2.example.internal"]
    assert host_names(inventory, "tag_pharmacy") == ["patika-szeged.example.internal"]
    slow = inventory.get_host("rendelo-budapest-2.example.internal").get_vars()
    assert slow["eeszt_check_timeout"] == 30
    assert inventory.get_host("patika-szeged.example.internal").get_vars()["eeszt_check_timeout"] == 10


# --- constructed features and the cache ------------------------------------------------------------

def test_compose_groups_and_keyed_groups(tmp_path):
    rows = fleet_rows(4)
    make_pfx(tmp_path, rows)
    write_csv(tmp_path / "registry.csv", rows)
    config = write_config(tmp_path, compose={"eeszt_check_timeout": "30 if 'pharmacy' in eeszt_site_tags else 10"},
                          groups={"odd_sites": "eeszt_site_id[-1] | int is odd"},
                          keyed_groups=[{"key": "eeszt_environment ~ '_' ~ eeszt_institution_id", "prefix": "run"}])
    inventory = inventory_of(config)

    assert [inventory.get_host(h).get_vars()["eeszt_check_timeout"] for h in ("site001", "site002")] == [10, 30]
    assert host_names(inventory, "odd_sites") == ["site001", "site003"]
    assert host_names(inventory, "run_test_100001") == ["site001", "site002", "site003", "site004"]


def test_cache_round_trip(fleet, tmp_path):
    rows, registry, dummy = fleet
    cache_dir = tmp_path / "cache"
    config = write_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(cache_dir), cache_timeout=3600)

    first = inventory_of(config)
    assert len(host_names(first, "eeszt_sites")) == 50
    cached = list(cache_dir.iterdir())
    assert len(cached) == 1
    content = read_cache(cached[0])
    assert content["sha256"] and len(content["sites"]) == 50
    assert content["sites"][6]["password_var"] == "vault_pfx_password_100002"

    # Served from the cache: the PFX files are gone, but the registry is unchanged.
    shutil.rmtree(str(tmp_path / "pfx"))
    second = inventory_of(config)
    assert len(host_names(second, "eeszt_sites")) == 50
    assert second.get_host("site007").get_vars() == first.get_host("site007").get_vars()

    # An edited registry is never served stale: it is read and validated again.
    make_pfx(tmp_path, rows)
    rows[6]["site_id"] = "100002999"
    write_csv(registry, rows)
    third = inventory_of(config)
    assert third.get_host("site007").get_vars()["eeszt_site_id"] == "100002999"
    assert read_cache(cached[0])["sites"][6]["site_id"] == "100002999"


def test_documented_identifier_defaults_are_the_shared_constants():
    """The inventory plugin's documentation states the defaults literally; they must stay the ones of
    module_utils/common/identifiers.py that the registry, the preflight and the checks use."""
    import yaml

    from ansible_collections.eeszt.connect.plugins.inventory import sites
    from ansible_collections.eeszt.connect.plugins.module_utils.common import identifiers
    from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import registry, site_vars

    options = yaml.safe_load(sites.DOCUMENTATION)["options"]
    assert options["institution_id_pattern"]["default"] == identifiers.INSTITUTION_ID_PATTERN == r"^[0-9]{6}$"
    assert options["site_id_pattern"]["default"] == identifiers.SITE_ID_PATTERN == r"^[0-9A-Za-z]{9}$"
    assert registry.DEFAULT_INSTITUTION_ID_PATTERN is identifiers.INSTITUTION_ID_PATTERN
    assert registry.DEFAULT_SITE_ID_PATTERN is identifiers.SITE_ID_PATTERN
    assert site_vars.DEFAULT_INSTITUTION_ID_PATTERN is identifiers.INSTITUTION_ID_PATTERN
    assert site_vars.DEFAULT_SITE_ID_PATTERN is identifiers.SITE_ID_PATTERN


# --- issue 21, point 8: extra_columns: hostvars sets no connection or secret variable by accident -------

PWNED_COLUMN = "ansible_ssh_common_args"
REFUSED_COLUMNS = (PWNED_COLUMN, "ansible_host", "become_user", "ansible_become_password",
                   "eeszt_certificate_pfx_password")


def registry_with_columns(tmp_path, extra, count=3):
    """A valid registry of ``count`` rows with the extra columns ``extra`` ({column: value per row})."""
    rows = fleet_rows(count)
    make_pfx(tmp_path, rows)
    for index, row in enumerate(rows):
        for column, value in extra.items():
            row[column] = value(index) if callable(value) else value
    header = HEADER + [column for column in extra if column not in HEADER]
    return write_csv(tmp_path / "registry.csv", rows, header=header), rows


def run_ansible(command, *args, cwd=None):
    """Run an Ansible command line (``ansible-inventory``, ``ansible``) of this virtual environment."""
    import subprocess

    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".cache", "collections"), PYTHONDONTWRITEBYTECODE="1",
               ANSIBLE_TIMEOUT="5")
    return subprocess.run([os.path.join(os.path.dirname(sys.executable), command)] + list(args), cwd=str(cwd),
                          env=env, capture_output=True, text=True, timeout=120, check=False)


def ansible_inventory_list(config, cwd):
    """``ansible-inventory --list`` over one plugin configuration, as a user runs it: (json, stderr)."""
    proc = run_ansible("ansible-inventory", "-i", config, "--list", cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def plain(value):
    """A value of ``ansible-inventory --list``: some ansible-core versions wrap inventory strings as unsafe."""
    return value["__ansible_unsafe"] if isinstance(value, dict) and set(value) == {"__ansible_unsafe"} else value


def test_attack_8_a_registry_column_cannot_set_ssh_arguments(tmp_path):
    """A ProxyCommand in a registry cell must not become ansible_ssh_common_args: it would run on the controller
    as soon as Ansible connects to the site."""
    marker = tmp_path / "pwned_21"
    payload = "-o 'ProxyCommand=touch %s'" % marker
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, never listening: ssh without the ProxyCommand is refused at once
    port = closed.getsockname()[1]
    registry, rows = registry_with_columns(tmp_path, {PWNED_COLUMN: payload, "os": "debian", "address": "127.0.0.1",
                                                      "port": str(port)})
    config = write_config(tmp_path, extra_columns="hostvars")

    try:
        proc = run_ansible("ansible", "site001", "-i", config, "-m", "ansible.builtin.ping", cwd=tmp_path)
    finally:
        closed.close()
    assert "UNREACHABLE" in proc.stdout, proc.stdout + proc.stderr
    assert not marker.exists(), "the registry cell ran a command on the controller: " + proc.stdout

    hostvars = inventory_of(config).get_host("site001").get_vars()
    assert PWNED_COLUMN not in hostvars
    assert hostvars["os"] == "debian"  # an ordinary extra column still becomes a host variable

    listed, stderr = ansible_inventory_list(config, tmp_path)
    assert plain(listed["_meta"]["hostvars"]["site002"]["os"]) == "debian"
    assert all(PWNED_COLUMN not in variables for variables in listed["_meta"]["hostvars"].values())
    assert "ProxyCommand" not in json.dumps(listed)
    warning = one_line(stderr)
    assert ("%s: the column %s is not set as a host variable (rows: line 2, line 3, line 4)" % (registry, PWNED_COLUMN)
            in warning), stderr
    assert "ProxyCommand" not in stderr  # the refused value is never shown: it may be a secret


def test_attack_8_the_allow_list_lets_a_named_column_through(tmp_path):
    payload = "-o ProxyJump=bastion.example.internal"
    registry_with_columns(tmp_path, {PWNED_COLUMN: payload, "become_user": "root"})
    config = write_config(tmp_path, extra_columns="hostvars", extra_columns_allow=[PWNED_COLUMN])

    hostvars = inventory_of(config).get_host("site003").get_vars()
    assert hostvars[PWNED_COLUMN] == payload
    assert "become_user" not in hostvars  # only the names listed
    listed, stderr = ansible_inventory_list(config, tmp_path)
    assert plain(listed["_meta"]["hostvars"]["site001"][PWNED_COLUMN]) == payload
    assert "column become_user is not set" in one_line(stderr)
    assert "column %s is not set" % PWNED_COLUMN not in one_line(stderr)


@pytest.mark.parametrize("column", REFUSED_COLUMNS + (
    "ansible_connection", "ansible_python_interpreter", "ansible_become_exe", "become_flags", "become_method",
    "eeszt_certificate_export_password", "eeszt_tls_proxy_password", "eeszt_tls_proxy_username",
    "eeszt_check_proxy_password", "eeszt_tls_java_keystore_password", "eeszt_tls_java_truststore_password",
    "eeszt_proofs_signing_pfx_password", "eeszt_proofs_signing_key_password", "vault_eeszt_pfx_password_100001",
    "smtp_passwd", "api_token", "client_secret", "deploy_private_key"))
def test_connection_become_and_secret_columns_are_refused(tmp_path, column):
    registry, dummy = registry_with_columns(tmp_path, {column: "value-of-%s" % column, "contact": "Dr. Kovács"})
    warnings = []
    sites = load_registry(registry, extra_columns="hostvars", warnings=warnings)
    assert [site["vars"] for site in sites] == [{"contact": "Dr. Kovács"}] * 3
    assert len(warnings) == 1 and warnings[0].startswith("%s: the column %s is not set as a host variable" %
                                                         (registry, column)), warnings
    assert "value-of-" not in warnings[0]
    allowed = load_registry(registry, extra_columns="hostvars", extra_columns_allow=[column], warnings=[])
    assert [site["vars"][column] for site in allowed] == ["value-of-%s" % column] * 3


def test_ordinary_extra_columns_are_not_refused(tmp_path):
    columns = {"contact": "Dr. Kovács", "os": "debian", "eeszt_tls_proxy": "http://proxy.example:3128",
               "eeszt_check_timeout": "30", "site_name": "Rendelő 1", "key_holder": "Dr. Nagy", "unbecoming": "x"}
    registry, dummy = registry_with_columns(tmp_path, columns)
    warnings = []
    sites = load_registry(registry, extra_columns="hostvars", warnings=warnings)
    assert warnings == []
    assert sites[0]["vars"] == columns


def test_a_refused_column_is_named_once_for_the_file_with_the_rows_that_fill_it(tmp_path):
    """One warning per refused column, for the whole file; it names the rows where the column holds a value
    (at most 10, then how many more), never the value."""
    registry, dummy = registry_with_columns(
        tmp_path, {"ansible_host": lambda index: "10.9.9.%d" % index if index % 2 == 0 else ""}, count=25)
    warnings = []
    load_registry(registry, extra_columns="hostvars", warnings=warnings)
    rows = ", ".join("line %d" % (index + 2) for index in range(0, 20, 2))
    assert warnings == [
        "%s: the column ansible_host is not set as a host variable (rows: %s and 3 more): with extra_columns: "
        "hostvars, columns named ansible_*, become* or like a secret (the collection's secret variables, vault_*, "
        "*password*, *passwd*, *secret*, *token*, *private_key*) never become host variables; list it in "
        "extra_columns_allow if the registry may set it" % (registry, rows)]
    ten = tmp_path / "ten"
    ten.mkdir()
    registry, dummy = registry_with_columns(ten, {"ansible_host": "10.9.9.9"}, count=10)
    warnings = []
    load_registry(registry, extra_columns="hostvars", warnings=warnings)
    assert "(rows: %s):" % ", ".join("line %d" % n for n in range(2, 12)) in warnings[0]


def test_refused_yaml_keys_name_their_entries(tmp_path):
    rows = fleet_rows(2)
    make_pfx(tmp_path, rows)
    for row in rows:
        row["ansible_user"] = "root"
    registry = tmp_path / "registry.yml"
    registry.write_text(json.dumps({"sites": rows}))
    warnings = []
    sites = load_registry(str(registry), extra_columns="hostvars", warnings=warnings)
    assert [site["vars"] for site in sites] == [{}, {}]
    assert warnings[0].startswith("%s: the column ansible_user is not set as a host variable (rows: sites[0], "
                                  "sites[1])" % registry)


def test_other_modes_are_unchanged_by_the_allow_list(tmp_path):
    registry, dummy = registry_with_columns(tmp_path, {"ansible_host": "10.9.9.9"})
    with pytest.raises(RegistryError) as caught:
        load_registry(registry, extra_columns_allow=["ansible_host"])
    assert [(p.row, p.field) for p in caught.value.problems] == [("line 1", "ansible_host")]
    assert [s["vars"] for s in load_registry(registry, extra_columns="ignore", warnings=[])] == [{}, {}, {}]


def test_the_allow_list_invalidates_the_cache(tmp_path):
    registry_with_columns(tmp_path, {"ansible_user": "operator"})
    cache_dir = tmp_path / "cache"
    options = dict(extra_columns="hostvars", cache=True, cache_plugin="ansible.builtin.jsonfile",
                   cache_connection=str(cache_dir), cache_timeout=3600)
    first = inventory_of(write_config(tmp_path, **options))
    assert first.get_host("site001").get_vars()["ansible_user"] == "ansible"  # from the user column
    second = inventory_of(write_config(tmp_path, extra_columns_allow=["ansible_user"], **options))
    assert second.get_host("site001").get_vars()["ansible_user"] == "operator"


def test_every_secret_variable_of_the_roles_is_refused():
    """The refusal list covers every role option marked no_log: a new secret variable cannot be forgotten."""
    import glob

    import yaml

    from ansible_collections.eeszt.connect.plugins.plugin_utils.inventory import registry

    secrets = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "meta", "argument_specs.yml")):
        with open(path) as handle:
            document = yaml.safe_load(handle)
        for entry in document["argument_specs"].values():
            secrets.update(name for name, spec in (entry.get("options") or {}).items() if spec.get("no_log"))
    assert "eeszt_certificate_pfx_password" in secrets and len(secrets) >= 9
    assert secrets <= set(registry.SECRET_VARIABLES)
    assert all(registry.protected_column(name) for name in secrets)


def test_the_allow_list_option_is_documented():
    import yaml

    from ansible_collections.eeszt.connect.plugins.inventory import sites

    option = yaml.safe_load(sites.DOCUMENTATION)["options"]["extra_columns_allow"]
    assert option["type"] == "list" and option["elements"] == "str" and option["default"] == []
    assert "extra_columns_allow" in sites.EXAMPLES


def one_line(text):
    return " ".join(text.split())


# --- issue 27: one bad row does not stop the fleet ------------------------------------------------------

def test_a_bad_row_is_kept_as_a_refused_host_and_the_others_run(tmp_path):
    """Default (bad_rows: refuse): the bad rows' hosts are in the inventory, refused with the reason."""
    rows = fleet_rows(6)
    make_pfx(tmp_path, rows)
    rows[1]["institution_id"] = "10000l"   # line 3: the institution ID has a letter
    rows[3]["port"] = "70000"              # line 5: port out of range
    registry = write_csv(tmp_path / "registry.csv", rows)

    inventory = parse_with_plugin(write_config(tmp_path))

    assert host_names(inventory, "eeszt_registry_refused") == ["site002", "site004"]
    # Refused hosts are sites of the fleet (the preflight of every playbook sees them) in no other group.
    assert host_names(inventory, "eeszt_sites") == ["site%03d" % n for n in range(1, 7)]
    assert "eeszt_registry_refused" in [group.name for group in inventory.groups["eeszt_sites"].child_groups]
    assert set(group.name for group in inventory.get_host("site002").get_groups()) - {"all", "ungrouped"} == {
        "eeszt_sites", "eeszt_registry_refused"}
    refusal = inventory.get_host("site002").get_vars()["eeszt_registry_refusal"]
    assert refusal == {
        "file": str(registry), "line": "line 3", "field": "institution_id",
        "reason": "%s, line 3, field institution_id: '10000l' does not match ^[0-9]{6}$" % registry,
        "problems": ["%s, line 3, field institution_id: '10000l' does not match ^[0-9]{6}$" % registry],
        "placeholder": False}
    variables = inventory.get_host("site002").get_vars()
    # Nothing of a refused row is used: no identity, no address, no connection settings.
    assert not [name for name in variables if name.startswith("ansible_") or name in (
        "eeszt_institution_id", "eeszt_site_id", "eeszt_certificate_pfx_src")]
    assert inventory.get_host("site004").get_vars()["eeszt_registry_refusal"]["field"] == "port"
    # The good rows are as before.
    assert inventory.get_host("site003").get_vars()["eeszt_site_id"] == rows[2]["site_id"]
    assert "eeszt_registry_refusal" not in inventory.get_host("site003").get_vars()


def test_a_row_without_a_usable_host_name_gets_a_placeholder_from_file_and_line(tmp_path):
    rows = fleet_rows(4)
    make_pfx(tmp_path, rows)
    rows[1]["host"] = "bad host name"          # line 3: not an inventory name
    rows[2]["host"] = rows[0]["host"]          # line 4: the name of line 2's (good) host
    rows[2]["site_id"] = "12345"
    rows[3]["host"] = ""                       # line 5: no name at all
    write_csv(tmp_path / "registry.csv", rows)

    inventory = parse_with_plugin(write_config(tmp_path))

    assert host_names(inventory, "eeszt_registry_refused") == [
        "registry_csv_line_3", "registry_csv_line_4", "registry_csv_line_5"]
    assert host_names(inventory, "eeszt_sites") == [
        "registry_csv_line_3", "registry_csv_line_4", "registry_csv_line_5", "site001"]
    # The good host keeps its own variables: the bad row under its name changes nothing of it.
    assert inventory.get_host("site001").get_vars()["eeszt_site_id"] == rows[0]["site_id"]
    third = inventory.get_host("registry_csv_line_3").get_vars()["eeszt_registry_refusal"]
    assert third["placeholder"] is True and third["line"] == "line 3" and third["field"] == "host"
    assert third["reason"].endswith("(the row's host name cannot be used: it is listed as registry_csv_line_3)")
    fourth = inventory.get_host("registry_csv_line_4").get_vars()["eeszt_registry_refusal"]
    assert fourth["field"] == "site_id" and fourth["placeholder"] is True
    assert inventory.get_host("registry_csv_line_5").get_vars()["eeszt_registry_refusal"]["field"] == "host"


def test_yaml_rows_that_are_no_mapping_are_refused_by_index(tmp_path):
    rows = fleet_rows(2)
    make_pfx(tmp_path, rows)
    registry = tmp_path / "registry.yml"
    registry.write_text(json.dumps({"sites": [rows[0], "not a site", dict(rows[1], site_id="12")]}))

    inventory = parse_with_plugin(write_config(tmp_path, registry="registry.yml"))

    assert host_names(inventory, "eeszt_registry_refused") == ["registry_yml_sites_1", "site002"]
    assert host_names(inventory, "institution_100001") == ["site001"]
    assert inventory.get_host("registry_yml_sites_1").get_vars()["eeszt_registry_refusal"]["line"] == "sites[1]"


def test_bad_rows_fail_keeps_the_whole_inventory_strict(tmp_path):
    rows = fleet_rows(3)
    make_pfx(tmp_path, rows)
    rows[1]["institution_id"] = "10000l"
    write_csv(tmp_path / "registry.csv", rows)

    with pytest.raises(AnsibleParserError, match="line 3, field institution_id"):
        parse_with_plugin(write_config(tmp_path, bad_rows="fail"))


def test_a_problem_of_the_whole_file_still_fails_the_inventory(tmp_path):
    """No row can be trusted when the header is wrong: nothing to keep."""
    registry = tmp_path / "registry.csv"
    registry.write_text("host,instituion_id,site_id\nsite001,100001,100001001\n")

    with pytest.raises(AnsibleParserError, match="instituion_id"):
        parse_with_plugin(write_config(tmp_path))


def test_refused_rows_are_cached_and_warned_about(tmp_path, monkeypatch):
    from ansible_collections.eeszt.connect.plugins.inventory import sites

    warned = []
    monkeypatch.setattr(sites.display, "warning", lambda message, *args, **kwargs: warned.append(message))
    rows = fleet_rows(3)
    make_pfx(tmp_path, rows)
    rows[2]["site_id"] = "12345"
    registry = write_csv(tmp_path / "registry.csv", rows)
    cache_dir = tmp_path / "cache"
    config = write_config(tmp_path, cache=True, cache_plugin="ansible.builtin.jsonfile",
                          cache_connection=str(cache_dir), cache_timeout=3600)

    first = inventory_of(config)
    second = inventory_of(config)  # from the cache
    for inventory in (first, second):
        assert host_names(inventory, "eeszt_registry_refused") == ["site003"]
        assert inventory.get_host("site003").get_vars()["eeszt_registry_refusal"]["field"] == "site_id"
    assert len(warned) == 2
    assert warned[0] == (
        "%s, line 4, field site_id: '12345' does not match ^[0-9A-Za-z]{9}$: the host site003 is kept in the "
        "inventory, refused (group eeszt_registry_refused): the preflight refuses it and the other sites go on "
        "(bad_rows: fail makes the whole inventory fail instead)" % registry)


def test_the_bad_rows_option_is_documented():
    import yaml

    from ansible_collections.eeszt.connect.plugins.inventory import sites

    option = yaml.safe_load(sites.DOCUMENTATION)["options"]["bad_rows"]
    assert option["choices"] == ["refuse", "fail"] and option["default"] == "refuse"
    assert "bad_rows: fail" in sites.EXAMPLES
