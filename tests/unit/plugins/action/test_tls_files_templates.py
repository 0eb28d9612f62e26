# Copyright: (c) 2026, eeszt.connect developers
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""eeszt.connect.tls_files' action renders the tls_client role's templates on the controller: each once, with the
text the template lookup gave, the secret ones into secret_files; a missing or broken template names itself."""

import json
import os
from unittest import mock

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.plugins.lookup import template as template_lookup
from ansible.template import Templar, trust_as_template

from ansible_collections.eeszt.connect.plugins.action.tls_files import ActionModule

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE = os.path.join(ROOT, "roles", "tls_client")
PROXY_PASSWORD = "Pr0xy/pa:ss@w\"rd'"
KEYSTORE_PASSWORD = "Keystore-Pw-5521"


def role_variables(**extra):
    """The role's defaults and vars, with the site paths that the site_path lookup would give, and ``extra``."""
    loader = DataLoader()
    variables = {}
    for name in ("defaults", "vars"):
        variables.update(loader.load_from_file(os.path.join(ROLE, name, "main.yml"), trusted_as_template=True))
    variables.update(
        eeszt_tls_ca_bundle="/etc/eeszt/tls/eeszt-ca.pem",
        eeszt_tls_config_dir="/etc/eeszt",
        eeszt_tls_certificate_dir="/etc/eeszt/tls",
        eeszt_endpoints=[{"name": "health", "url": "https://waf.example.hu/health"}],
        ansible_search_path=[ROLE],
    )
    variables.update(extra)
    return variables


class Run:
    """The action with the module mocked: what it sent to the module, and which files it read how often."""

    def __init__(self, args, variables):
        self.calls = []
        self.reads = []
        loader = DataLoader()
        read = loader.get_text_file_contents

        def counted(path, *a, **kw):
            self.reads.append(os.path.basename(path))
            return read(path, *a, **kw)

        def execute(action, module_name, module_args, task_vars):
            self.calls.append((module_name, module_args))
            return {"changed": False, "site_time": 0}

        task = mock.MagicMock()
        task.args = dict(args)
        task.async_val = 0
        task.check_mode = False
        task.diff = False
        task.get_search_path.return_value = [ROLE]
        connection = mock.MagicMock()
        connection._shell.tmpdir = None
        templar = Templar(loader=loader, variables=variables)
        action = ActionModule(task=task, connection=connection, play_context=PlayContext(), loader=loader,
                              templar=templar, shared_loader_obj=None)
        with mock.patch.object(loader, "get_text_file_contents", counted), \
                mock.patch.object(ActionModule, "_execute_module", execute):
            self.result = action.run(task_vars=variables)
        self.templar = templar

    @property
    def module_args(self):
        assert [name for name, dummy in self.calls] == ["eeszt.connect.tls_files"]
        return self.calls[0][1]


def role_templates(variables):
    templar = Templar(loader=DataLoader(), variables=variables)
    return (templar.template(trust_as_template("{{ __eeszt_tls_client_templates }}")),
            templar.template(trust_as_template("{{ __eeszt_tls_client_files_absent }}")))


def lookup_text(variables, name):
    """What the role wrote before: the text of lookup('ansible.builtin.template', name)."""
    loader = DataLoader()
    lookup = template_lookup.LookupModule(loader=loader, templar=Templar(loader=loader, variables=variables))
    # The lookup's own option defaults, as its documentation states them (no plugin loader in unit tests).
    defaults = dict((option, spec.get("default")) for option, spec in
                    yaml.safe_load(template_lookup.DOCUMENTATION)["options"].items() if not option.startswith("_"))
    defaults["template_vars"] = defaults["template_vars"] or {}
    with mock.patch.object(lookup, "set_options"), mock.patch.object(lookup, "get_option", defaults.get):
        texts = lookup.run([name], variables=variables)
    assert len(texts) == 1
    return texts[0]


def test_the_role_s_templates_are_rendered_once_each_as_the_template_lookup_rendered_them():
    variables = role_variables()
    templates, absent = role_templates(variables)
    assert templates == [
        {"src": "eeszt.env.j2", "path": "/etc/eeszt/eeszt.env", "mode": "0644", "secret": False},
        {"src": "openssl.cnf.j2", "path": "/etc/eeszt/openssl.cnf", "mode": "0644", "secret": False},
        {"src": "curlrc.j2", "path": "/etc/eeszt/curlrc", "mode": "0644", "secret": False},
    ]
    assert absent == ["/etc/eeszt/java.properties"]
    ca = {"path": "/etc/eeszt/tls/eeszt-ca.pem", "content": "PEM\n", "mode": "0644"}
    run = Run({"files": [ca], "templates": templates, "absent": absent}, variables)
    assert not run.result.get("failed"), run.result
    assert sorted(run.reads) == ["curlrc.j2", "eeszt.env.j2", "openssl.cnf.j2"]
    args = run.module_args
    assert set(args) == {"files", "absent"}  # no templates option reaches the site, no empty secret_files
    assert [f["path"] for f in args["files"]] == [ca["path"]] + [t["path"] for t in templates]
    assert args["files"][0] == ca
    for entry, template in zip(args["files"][1:], templates):
        assert entry["mode"] == "0644"
        assert entry["content"] == lookup_text(variables, template["src"]), template["src"]
    assert args["files"][1]["content"].endswith("EESZT_ENDPOINT_HEALTH='https://waf.example.hu/health'\n")
    assert args["files"][2]["content"].endswith("CipherString = HIGH:!aNULL:!eNULL:!MD5:!RC4:!3DES:!SHA1:@SECLEVEL=2\n")


def test_secret_kinds_go_to_secret_files_and_never_into_the_result():
    variables = role_variables(
        eeszt_tls_client_files=["env", "openssl", "curl", "java"],
        eeszt_tls_proxy="http://proxy.example.hu:3128", eeszt_tls_proxy_username="clinic",
        eeszt_tls_proxy_password=PROXY_PASSWORD, eeszt_tls_java_keystore_password=KEYSTORE_PASSWORD)
    templates, absent = role_templates(variables)
    assert [(t["src"], t["mode"], t["secret"]) for t in templates] == [
        ("eeszt.env.j2", "0640", True), ("openssl.cnf.j2", "0644", False), ("curlrc.j2", "0640", True),
        ("java.properties.j2", "0640", True)]
    assert absent == []
    run = Run({"templates": templates}, variables)
    assert sorted(run.reads) == ["curlrc.j2", "eeszt.env.j2", "java.properties.j2", "openssl.cnf.j2"]
    args = run.module_args
    assert [f["path"] for f in args["files"]] == ["/etc/eeszt/openssl.cnf"]
    assert [(f["path"], f["mode"]) for f in args["secret_files"]] == [
        ("/etc/eeszt/eeszt.env", "0640"), ("/etc/eeszt/curlrc", "0640"), ("/etc/eeszt/java.properties", "0640")]
    for entry, src in zip(args["secret_files"], ("eeszt.env.j2", "curlrc.j2", "java.properties.j2")):
        assert entry["content"] == lookup_text(variables, src), src
    assert "keyStorePassword=%s\n" % KEYSTORE_PASSWORD in args["secret_files"][2]["content"]
    assert 'proxy-user = "clinic:Pr0xy/pa:ss@w\\"rd\'"\n' in args["secret_files"][1]["content"]
    shown = json.dumps(run.result)
    assert PROXY_PASSWORD not in shown and "Pr0xy" not in shown and KEYSTORE_PASSWORD not in shown


def test_only_java_is_secret_without_proxy_credentials():
    variables = role_variables(eeszt_tls_client_files=["curl", "java"], eeszt_tls_java_keystore_password=KEYSTORE_PASSWORD,
                               eeszt_tls_secret_mode="0600")
    templates, absent = role_templates(variables)
    assert [(t["src"], t["mode"], t["secret"]) for t in templates] == [
        ("curlrc.j2", "0644", False), ("java.properties.j2", "0600", True)]
    assert absent == ["/etc/eeszt/eeszt.env", "/etc/eeszt/openssl.cnf"]
    args = Run({"templates": templates, "files": []}, variables).module_args
    assert [f["path"] for f in args["files"]] == ["/etc/eeszt/curlrc"]
    assert [f["path"] for f in args["secret_files"]] == ["/etc/eeszt/java.properties"]


def test_a_missing_template_is_named_and_the_site_is_not_touched():
    run = Run({"templates": [{"src": "curlrc.j2", "path": "/etc/eeszt/curlrc", "mode": "0644"},
                             {"src": "nowhere.j2", "path": "/etc/eeszt/x", "mode": "0644"}]}, role_variables())
    assert run.calls == []
    assert run.result["failed"] is True and run.result["error"] == "template_not_found"
    assert run.result["msg"].startswith("the template nowhere.j2 (templates[1]) was not found on the controller: ")


def test_a_template_that_cannot_be_rendered_is_named():
    variables = role_variables()
    del variables["eeszt_tls_min_protocol"]
    run = Run({"templates": [{"src": "openssl.cnf.j2", "path": "/etc/eeszt/openssl.cnf", "mode": "0644"}]},
              variables)
    assert run.calls == []
    assert run.result["failed"] is True and run.result["error"] == "template_failed"
    assert run.result["msg"].startswith("the template openssl.cnf.j2 (templates[0]) cannot be rendered: ")
    assert "eeszt_tls_min_protocol" in run.result["msg"]


@pytest.mark.parametrize("entry, message", [
    ({"src": "curlrc.j2", "mode": "0644"}, "missing required arguments: path found in templates"),
    ({"src": "curlrc.j2", "path": "/etc/eeszt/curlrc", "mode": "0644", "owner": "root"},
     "templates.owner. Supported parameters include: mode, path, secret, src."),
])
def test_a_wrong_templates_entry_is_refused(entry, message):
    # Checked against the module's spec on the controller (module_utils/tls/files.py), as every option is.
    run = Run({"templates": [entry]}, role_variables())
    assert run.calls == [] and run.result["error"] == "invalid_argument"
    assert run.result["msg"].endswith(message)
